"""The indicator table: one SQL pass for every count, rates and intervals assembled from them.

All count-based quantities of a (kommune, group, characteristic, period) come
from one DuckDB query, run either on the store or on frames in an in-memory
database (so the function has no side effects either way). Rates keep their
numerator and denominator; the Kaplan–Meier median comes from a second query
over the same definitions. Definitions: :data:`~kimtools.indicators.catalogue.KENNZAHLEN`.

With a breakdown (``merkmal``) every case is counted under its characteristic;
multi-valued needs areas count once per case **and** area, so the areas of a
period add up to more than its cases.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import duckdb
import numpy as np
import pandas as pd

from ..errors import UsageError
from .catalogue import COUNTS, KENNZAHLEN
from .stats import km_median, poisson_interval, wilson_interval

__all__ = ["indicator_table", "BY_CHOICES", "PERIOD_CHOICES", "MERKMALE", "FILTERS", "period_label", "ALTERSGRUPPEN", "case_durations"]

BY_CHOICES = ("kommune", "stadtbezirk", "traeger")
PERIOD_CHOICES = ("month", "quarter", "year")
MERKMALE = ("zielgruppe", "handlungsfeld", "aufenthaltsstatus", "geschlecht", "altersgruppe", "abschlussgrund", "traeger",
            "stadtbezirk")
#: breakdowns posts can be attributed to: with these, cases per post keep their denominator
POST_MERKMALE = {None: "'Gesamt'", "traeger": "st.traeger", "stadtbezirk": "st.stadtbezirk"}
#: age at the start of the case
ALTERSGRUPPEN = {"unter_25": ("unter 25", "under 25"), "25_44": ("25–44", "25–44"), "45_64": ("45–64", "45–64"),
                 "65_plus": ("65 und älter", "65 and older"), "unbekannt": ("unbekannt", "unknown")}

_AUSP = {
    None: "'Gesamt'",
    "zielgruppe": "c.zielgruppe",
    "aufenthaltsstatus": "c.aufenthaltsstatus",
    "traeger": "c.traeger",
    "stadtbezirk": "c.stadtbezirk",
    "handlungsfeld": "h.handlungsfeld",
    "geschlecht": "coalesce(c.geschlecht, 'ohne_angabe')",
    "abschlussgrund": "coalesce(c.abschlussgrund, 'offen')",
    "altersgruppe": """CASE WHEN c.geburtsjahr IS NULL THEN 'unbekannt'
                            WHEN year(c.beginn) - c.geburtsjahr < 25 THEN 'unter_25'
                            WHEN year(c.beginn) - c.geburtsjahr < 45 THEN '25_44'
                            WHEN year(c.beginn) - c.geburtsjahr < 65 THEN '45_64' ELSE '65_plus' END""",
}


def period_label(start: pd.Timestamp, period: str) -> str:
    """``2024-03``, ``2024-Q1`` or ``2024`` for the period starting at ``start``.

    >>> period_label(pd.Timestamp("2024-04-01"), "quarter")
    '2024-Q2'
    """
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


FILTERS = ("stadtbezirk", "traeger", "zielgruppe")


def _where(kommune_filter: bool, filters: dict[str, str], alias: str = "c") -> str:
    clauses = [f"{alias}.kommune = $kommune"] if kommune_filter else []
    clauses += [f"{alias}.{col} = ${col}" for col in filters]
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def _ctes(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    unit = period
    grp = "c.kommune" if by == "kommune" else f"c.{by}"
    join_h = "JOIN fall_handlungsfelder h USING (kommune, fall_id)" if merkmal == "handlungsfeld" else ""
    where = _where(kommune_filter, filters)
    return f"""
    WITH base AS (
        SELECT c.*, EXISTS (SELECT 1 FROM faelle o WHERE o.kommune = c.kommune AND o.person_pseudonym = c.person_pseudonym
                            AND o.fall_id <> c.fall_id AND o.ende IS NOT NULL AND o.ende <= c.beginn) AS wieder
        FROM faelle c {where}),
    f AS (SELECT c.kommune, {grp} AS grp, {_AUSP[merkmal]} AS ausp, c.fall_id, c.person_pseudonym, c.beginn, c.ende,
                 c.abschlussgrund, c.wieder
          FROM base c {join_h}),
    span AS (
        SELECT kommune, min(d) AS d0, max(d) AS d1 FROM (
            SELECT kommune, beginn AS d FROM f UNION ALL SELECT kommune, ende FROM f
            UNION ALL SELECT b.kommune, b.datum FROM beratungen b SEMI JOIN f USING (kommune, fall_id)
            UNION ALL SELECT v.kommune, v.datum FROM vermittlungen v SEMI JOIN f USING (kommune, fall_id))
        GROUP BY kommune),
    periods AS (
        SELECT kommune, CAST(ps AS DATE) AS ps, CAST(ps + INTERVAL 1 {unit} - INTERVAL 1 day AS DATE) AS pe
        FROM span, LATERAL (SELECT unnest(generate_series(date_trunc('{unit}', d0), date_trunc('{unit}', d1),
                                                          INTERVAL 1 {unit})) AS ps)),
    spine AS (SELECT g.kommune, g.grp, g.ausp, p.ps, p.pe FROM (SELECT DISTINCT kommune, grp, ausp FROM f) g
              JOIN periods p USING (kommune))"""


def _wide_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    unit = period
    post_grp = {"kommune": "st.kommune", "stadtbezirk": "st.stadtbezirk", "traeger": "st.traeger"}[by]
    post_filter = "".join(f" AND st.{col} = ${col}" for col in filters)
    no_posts = merkmal not in POST_MERKMALE or "zielgruppe" in filters
    posts = ("SELECT NULL::VARCHAR AS kommune, NULL::VARCHAR AS grp, NULL::VARCHAR AS ausp, NULL::DATE AS ps, "
             "NULL::DOUBLE AS vzae WHERE false"
             if no_posts else
             f"""SELECT p.kommune, {post_grp} AS grp, {POST_MERKMALE[merkmal]} AS ausp, p.ps, sum(st.vzae) AS vzae
                 FROM periods p
                 JOIN stellen st ON st.kommune = p.kommune AND st.von <= p.pe AND (st.bis IS NULL OR st.bis >= p.pe)
                                    {post_filter}
                 GROUP BY ALL""")
    pop_filter = " AND stadtbezirk = $stadtbezirk" if "stadtbezirk" in filters else ""
    # population belongs to a district: with the district as breakdown each row gets its own, else the group's
    pop_ausp = "stadtbezirk" if merkmal == "stadtbezirk" else "NULL::VARCHAR"
    no_pop = by == "traeger" or "traeger" in filters
    pop = ("SELECT NULL::VARCHAR AS kommune, NULL::VARCHAR AS grp, NULL::VARCHAR AS ausp, NULL::BIGINT AS einwohner, "
           "NULL::BIGINT AS auslaender WHERE false"
           if no_pop else
           f"SELECT kommune, {'kommune' if by == 'kommune' else 'stadtbezirk'} AS grp, {pop_ausp} AS ausp, "
           f"sum(einwohner) AS einwohner, CASE WHEN count(auslaender) = count(*) THEN sum(auslaender) END AS auslaender "
           f"FROM bezirke WHERE true {pop_filter} GROUP BY ALL")
    same = "x.kommune = s.kommune AND x.grp IS NOT DISTINCT FROM s.grp AND x.ausp IS NOT DISTINCT FROM s.ausp AND x.ps = s.ps"
    return _ctes(by, period, merkmal, kommune_filter, filters) + f""",
    ev AS (
        SELECT kommune, grp, ausp, beginn AS d, 1 AS neu, 0 AS ab, 0 AS ziel, CAST(wieder AS INTEGER) AS wieder, 0 AS ber, 0 AS ver FROM f
        UNION ALL SELECT kommune, grp, ausp, ende, 0, 1, CAST(abschlussgrund = 'ziel_erreicht' AS INTEGER), 0, 0, 0 FROM f WHERE ende IS NOT NULL
        UNION ALL SELECT f.kommune, f.grp, f.ausp, b.datum, 0, 0, 0, 0, 1, 0 FROM beratungen b JOIN f USING (kommune, fall_id)
        UNION ALL SELECT f.kommune, f.grp, f.ausp, v.datum, 0, 0, 0, 0, 0, 1 FROM vermittlungen v JOIN f USING (kommune, fall_id)),
    ev_counts AS (
        SELECT kommune, grp, ausp, CAST(date_trunc('{unit}', d) AS DATE) AS ps, sum(neu) AS neu, sum(ab) AS ab,
               sum(ziel) AS ziel, sum(wieder) AS wieder, sum(ber) AS ber, sum(ver) AS ver
        FROM ev GROUP BY ALL),
    stock AS (
        SELECT s.kommune, s.grp, s.ausp, s.ps,
               count(f.fall_id) FILTER (WHERE f.ende IS NULL OR f.ende > s.pe) AS offen,
               count(f.fall_id) FILTER (WHERE f.ende IS NULL OR f.ende >= s.ps) AS aktiv,
               count(DISTINCT f.person_pseudonym) FILTER (WHERE f.ende IS NULL OR f.ende >= s.ps) AS personen
        FROM spine s LEFT JOIN f ON f.kommune = s.kommune AND f.grp IS NOT DISTINCT FROM s.grp
                                 AND f.ausp IS NOT DISTINCT FROM s.ausp AND f.beginn <= s.pe
        GROUP BY ALL),
    act AS (
        SELECT f.kommune, f.grp, f.ausp, p.ps, count(DISTINCT f.fall_id) AS n
        FROM beratungen b JOIN f USING (kommune, fall_id)
        JOIN periods p ON p.kommune = f.kommune AND b.datum >= p.pe - 89 AND b.datum <= p.pe
        WHERE f.beginn <= p.pe AND (f.ende IS NULL OR f.ende > p.pe)
        GROUP BY ALL),
    posts AS ({posts}),
    pop AS ({pop})
    SELECT s.kommune, s.grp, s.ausp, s.ps,
           coalesce(e.neu, 0) AS neuzugaenge, coalesce(e.ab, 0) AS abschluesse, coalesce(e.ziel, 0) AS ziel,
           coalesce(e.wieder, 0) AS wiederaufnahmen, coalesce(e.ber, 0) AS beratungen, coalesce(e.ver, 0) AS vermittlungen,
           st.offen AS faelle_offen, st.aktiv AS aktiv, st.personen AS personen_erreicht,
           st.offen - coalesce(a.n, 0) AS inaktive_faelle, po.vzae, pp.einwohner, pp.auslaender
    FROM spine s
    LEFT JOIN ev_counts e ON {same.replace('x.', 'e.')}
    LEFT JOIN stock st ON {same.replace('x.', 'st.')}
    LEFT JOIN act a ON {same.replace('x.', 'a.')}
    LEFT JOIN posts po ON {same.replace('x.', 'po.')}
    LEFT JOIN pop pp ON pp.kommune = s.kommune AND pp.grp IS NOT DISTINCT FROM s.grp
                        AND (pp.ausp IS NULL OR pp.ausp = s.ausp)
    """


def _duration_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    return _ctes(by, period, merkmal, kommune_filter, filters) + f"""
    SELECT f.kommune, f.grp, f.ausp, CAST(date_trunc('{period}', f.beginn) AS DATE) AS ps,
           date_diff('day', f.beginn, coalesce(f.ende, span.d1)) AS dauer, f.ende IS NOT NULL AS beendet
    FROM f JOIN span USING (kommune)"""


_EMPTY = {"stellen", "bezirke", "fall_handlungsfelder"}


def _run(source, sql: str, params: dict) -> pd.DataFrame:
    if not isinstance(source, Mapping):
        return source.connect().execute(sql, params).df()
    from ..store import SCHEMA

    con = duckdb.connect()
    try:
        for name in ("faelle", "beratungen", "vermittlungen", *_EMPTY):
            frame = source.get(name)
            if frame is None:
                cols = ", ".join(f"{c} {t}" for c, t in SCHEMA[name].items())
                con.execute(f"CREATE TABLE {name} ({cols})")
            else:
                con.register(f"_{name}", frame)
                select = ", ".join(f"CAST(\"{c}\" AS {t}) AS {c}" for c, t in SCHEMA[name].items() if c in frame.columns)
                con.execute(f"CREATE TABLE {name} AS SELECT {select} FROM _{name}")
        return con.execute(sql, params).df()
    finally:
        con.close()


def case_durations(source, kommune: str | None = None, merkmal: str | None = None,
                   filters: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per case: ``kommune, stadtbezirk, auspraegung, ps`` (quarter begun), ``dauer`` (days) and ``beendet``.

    Open cases are censored at the data end.

    The input of survival curves; case-level, so for notebooks and for
    aggregation only, never to be shown as it is.
    """
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    params = {**({"kommune": kommune} if kommune is not None else {}), **filters}
    out = _run(source, _duration_sql("stadtbezirk", "quarter", merkmal, kommune is not None, filters), params)
    out = out.rename(columns={"ausp": "auspraegung", "grp": "stadtbezirk"})
    return out[["kommune", "stadtbezirk", "auspraegung", "ps", "dauer", "beendet"]]


def indicator_table(source, kommune: str | None = None, by: str = "kommune", period: str = "quarter",
                    merkmal: str | None = None, filters: Mapping[str, str] | None = None,
                    kennzahlen: Iterable[str] | None = None) -> pd.DataFrame:
    """The indicator table, long and tidy.

    Parameters
    ----------
    source
        A :class:`kimtools.Store`, or a mapping of frames with the store's
        tables (at least ``faelle``, ``beratungen``, ``vermittlungen``;
        ``stellen``, ``bezirke``, ``fall_handlungsfelder`` where available).
    kommune
        Only this kommune (default: all).
    by
        ``kommune``, ``stadtbezirk`` or ``traeger``.
    period
        ``month``, ``quarter`` or ``year``.
    merkmal
        A breakdown: one of :data:`MERKMALE`; adds the columns ``merkmal`` and ``auspraegung``.
    filters
        Only cases with these values of ``stadtbezirk``, ``traeger`` or
        ``zielgruppe``. Denominators follow: a district filter restricts
        population and posts to the district, a provider filter its posts
        (and gives no population rates), a target-group filter gives no
        load per post.
    kennzahlen
        Only these indicators (default: all of :data:`KENNZAHLEN`).

    Returns
    -------
    DataFrame with ``kommune``, the ``by`` column (unless ``kommune``),
    ``merkmal`` and ``auspraegung`` (with a breakdown), ``zeitraum``,
    ``kennzahl``, ``zaehler``, ``nenner``, ``wert``, ``ki_unten``, ``ki_oben``
    (95 % interval where the indicator has one). Counts have no denominator.
    """
    if by not in BY_CHOICES:
        raise UsageError(f"--by muss eines von {', '.join(BY_CHOICES)} sein, nicht {by!r}.",
                         f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    if period not in PERIOD_CHOICES:
        raise UsageError(f"--period muss eines von {', '.join(PERIOD_CHOICES)} sein, nicht {period!r}.",
                         f"--period must be one of {', '.join(PERIOD_CHOICES)}, not {period!r}.")
    if merkmal is not None and merkmal not in MERKMALE:
        raise UsageError(f"--merkmal muss eines von {', '.join(MERKMALE)} sein, nicht {merkmal!r}.",
                         f"--merkmal must be one of {', '.join(MERKMALE)}, not {merkmal!r}.")
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise UsageError(f"Unbekannter Filter {sorted(unknown)}; erlaubt: {', '.join(FILTERS)}.",
                         f"Unknown filter {sorted(unknown)}; allowed: {', '.join(FILTERS)}.")
    params = {**({"kommune": kommune} if kommune is not None else {}), **filters}
    wanted = list(KENNZAHLEN) if kennzahlen is None else list(kennzahlen)
    unknown_k = set(wanted) - set(KENNZAHLEN)
    if unknown_k:
        raise UsageError(f"Unbekannte Kennzahl {sorted(unknown_k)}; siehe docs/kennzahlen.md.",
                         f"Unknown indicator {sorted(unknown_k)}; see docs/kennzahlen.en.md.")
    wide = _run(source, _wide_sql(by, period, merkmal, kommune is not None, filters), params)
    keys = ["kommune", "grp", "ausp", "ps"]
    if "verweildauer_median_tage" in wanted:
        durations = _run(source, _duration_sql(by, period, merkmal, kommune is not None, filters), params)
        km = km_median(durations, keys).rename(columns={"median": "dauer_median", "n": "kohorte", "events": "kohorte_beendet"})
        wide = wide.merge(km, on=keys, how="left")
    else:
        wide = wide.assign(dauer_median=np.nan, kohorte=np.nan, kohorte_beendet=np.nan)
    wide = wide.sort_values(keys, kind="stable").reset_index(drop=True)
    long = _assemble(wide, by, merkmal, filters, set(wanted))
    labels = {p: period_label(p, period) for p in pd.to_datetime(wide["ps"].drop_duplicates())}
    long["zeitraum"] = pd.to_datetime(long.pop("ps")).map(labels)
    cols = ["kommune"] + ([by] if by != "kommune" else []) + (["merkmal", "auspraegung"] if merkmal else []) + \
        ["zeitraum", "kennzahl", "zaehler", "nenner", "wert", "ki_unten", "ki_oben"]
    long = long.rename(columns={"grp": by} if by != "kommune" else {}).rename(columns={"ausp": "auspraegung"})
    if merkmal:
        long["merkmal"] = merkmal
    return long[cols]


def _assemble(wide: pd.DataFrame, by: str, merkmal: str | None, filters: dict[str, str], wanted: set[str]) -> pd.DataFrame:
    """Long rows from the wide counts: for each wide row its indicators in catalogue order."""
    values: dict[str, tuple] = {}
    f = lambda col: wide[col].to_numpy(dtype=float, na_value=np.nan)  # noqa: E731

    def add(kennzahl: str, z, n=None, wert=None, lo=None, hi=None):
        if kennzahl not in wanted:
            return
        nan = np.full(len(wide), np.nan)
        z = np.asarray(z, dtype=float)
        n = nan if n is None else np.asarray(n, dtype=float)
        if wert is None:
            wert = z if kennzahl in COUNTS else z / np.where(n > 0, n, np.nan)
        values[kennzahl] = (z, n, np.asarray(wert, dtype=float), nan if lo is None else lo, nan if hi is None else hi)

    for k in ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "beratungen", "vermittlungen"):
        add(k, f(k))
    add("beratungen_je_fall", f("beratungen"), f("aktiv"))
    if merkmal in POST_MERKMALE and "zielgruppe" not in filters:
        add("faelle_je_vzae", f("faelle_offen"), f("vzae"))
    if by != "traeger" and "traeger" not in filters:
        reached = f("personen_erreicht")
        lo, hi = poisson_interval(reached)
        for k, denom in (("reichweite_je_1000", "einwohner"), ("reichweite_je_1000_auslaender", "auslaender")):
            n = f(denom)
            scale = 1000 / np.where(n > 0, n, np.nan)
            add(k, reached, n, reached * scale, lo * scale, hi * scale)
    add("verweildauer_median_tage", np.nan_to_num(f("kohorte_beendet")), np.nan_to_num(f("kohorte")), f("dauer_median"))
    lo, hi = wilson_interval(wide["ziel"], wide["abschluesse"])
    add("abschluesse_ziel_erreicht_quote", f("ziel"), f("abschluesse"), lo=lo, hi=hi)
    add("inaktive_faelle", f("inaktive_faelle"))
    add("wiederaufnahmen", f("wiederaufnahmen"))

    names = [k for k in KENNZAHLEN if k in values]
    # rows × indicators, flattened row by row: each wide row's indicators stay together, in catalogue order
    stack = lambda i: np.column_stack([values[k][i] for k in names]).ravel() if names else np.empty(0)  # noqa: E731
    idx = np.repeat(np.arange(len(wide)), len(names))
    long = wide[["kommune", "grp", "ausp", "ps"]].iloc[idx].reset_index(drop=True)
    long["kennzahl"] = np.tile(np.array(names, dtype=object), len(wide))
    long["zaehler"] = pd.array(stack(0), dtype="Float64").round().astype("Int64")
    for i, col in enumerate(("nenner", "wert", "ki_unten", "ki_oben"), start=1):
        long[col] = pd.array(stack(i), dtype="Float64")
    return long
