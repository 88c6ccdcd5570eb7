"""The indicator table: one SQL pass for every count, rates and intervals assembled from them.

Longer than 500 lines on purpose: the SQL route, the assembly of rates and intervals and the argument checks of
:func:`indicator_table` belong together (the cells route is :mod:`.cells`, the statistics :mod:`.stats`).

All count-based quantities of a (kommune, group, characteristic, period) come
from one DuckDB query, run either on the store or on frames in an in-memory
database (so the function has no side effects either way). Rates keep their
numerator and denominator; the Kaplan–Meier median comes from a second query
over the same definitions. Definitions: :data:`~kimtools.indicators.catalogue.KENNZAHLEN`.

A store also holds cells written at import (:data:`~kimtools.indicators.cells.CELL_TABLES`):
where they hold everything a call asks for (the counts views ask for most), the
same frames come from them in numpy instead (:func:`~kimtools.indicators.cells.cell_counts`,
:func:`~kimtools.indicators.cells.cell_referrals`); tests compare both routes.

With a breakdown (``merkmal``) every case is counted under its characteristic;
multi-valued needs areas count once per case **and** area, so the areas of a
period add up to more than its cases.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..contract.outcomes import OPEN_LOOP_DAYS, REFERRAL_RATES, SENT, outcomes_sql, wait_sql
from ..errors import UsageError
from ..periods import PERIOD_CHOICES, period_label
from ..store import SPAN_TABLE, scope_params, where_sql
from ..store.deliveries import absent_tables, incomplete_rows
from ..store.queries import run_query
from .catalogue import COUNTS, KENNZAHLEN, NEEDS, REFERRAL_KENNZAHLEN
from .cells import GROUP_COLUMNS, cell_counts, cell_referrals
from .stats import HALF, poisson_interval, share

__all__ = ["indicator_table", "run_query", "BY_CHOICES", "PERIOD_CHOICES", "MERKMALE", "REFERRAL_MERKMALE", "FILTERS", "period_label", "ALTERSGRUPPEN", "case_durations"]

BY_CHOICES = ("kommune", "stadtbezirk", "traeger")
MERKMALE = ("zielgruppe", "handlungsfeld", "aufenthaltsstatus", "geschlecht", "altersgruppe", "abschlussgrund", "traeger",
            "stadtbezirk", "an_partner", "partner_typ", "rechtskreis", "luecke")
#: breakdowns of a referral by its own attributes (receiving partner, its type and legal domain, needs area, gap);
#: the first four exist only for referral indicators
REFERRAL_MERKMALE = {"handlungsfeld": "v.handlungsfeld", "an_partner": "v.an_partner", "partner_typ": "p.typ",
                     "rechtskreis": "coalesce(p.rechtskreis, 'ohne')", "luecke": "coalesce(v.luecke, 'keine')"}
REFERRAL_ONLY = ("an_partner", "partner_typ", "rechtskreis", "luecke")
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


FILTERS = GROUP_COLUMNS[1:]


def _ctes(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str],
          readmissions: bool = True) -> str:
    """Cases of the scope (``base``, with ``wieder`` only if ``readmissions``: it costs a self-join), their
    group and characteristic (``f``), the data span per kommune and its periods."""
    unit = period
    grp = "c.kommune" if by == "kommune" else f"c.{by}"
    join_h = "JOIN fall_handlungsfelder h USING (kommune, fall_id)" if merkmal == "handlungsfeld" else ""
    where = where_sql("c", [*(["kommune"] if kommune_filter else []), *filters])
    wieder = ("""EXISTS (SELECT 1 FROM faelle o WHERE o.kommune = c.kommune AND o.person_pseudonym = c.person_pseudonym
                         AND o.fall_id <> c.fall_id AND o.ende IS NOT NULL AND o.ende <= c.beginn)"""
              if readmissions else "false")
    return f"""
    WITH base AS (
        SELECT c.*, {wieder} AS wieder
        FROM faelle c {where}),
    f AS (SELECT c.kommune, {grp} AS grp, {_AUSP[merkmal]} AS ausp, c.fall_id, c.person_pseudonym, c.beginn, c.ende,
                 c.abschlussgrund, c.wieder
          FROM base c {join_h}),
    span AS (   -- the kommune's data, whatever the filters: one data end for censoring, one period grid
        SELECT * FROM {SPAN_TABLE} {where_sql(None, ["kommune"] if kommune_filter else [])}),
    periods AS (
        SELECT kommune, CAST(ps AS DATE) AS ps, CAST(ps + INTERVAL 1 {unit} - INTERVAL 1 day AS DATE) AS pe
        FROM span, LATERAL (SELECT unnest(generate_series(date_trunc('{unit}', d0), date_trunc('{unit}', d1),
                                                          INTERVAL 1 {unit})) AS ps))"""


#: the parts of the wide pass beyond new cases (closures, the running sum of open cases, …), and the indicators that
#: need each
_PARTS = {
    "ab": {"abschluesse", "abschluesse_ziel_erreicht_quote", "faelle_offen", "inaktive_faelle", "faelle_je_vzae"},
    "open": {"faelle_offen", "inaktive_faelle", "faelle_je_vzae"},
    "wieder": {"wiederaufnahmen"},
    "ber": {"beratungen", "beratungen_je_fall"},
    "stock": {"personen_erreicht", "beratungen_je_fall", "reichweite_je_1000", "reichweite_je_1000_auslaender"},
    "act": {"inaktive_faelle"},
    "posts": {"faelle_je_vzae"},
    "pop": {"reichweite_je_1000", "reichweite_je_1000_auslaender"},
}


def _same(alias: str) -> str:
    """``alias`` is the spine row ``s``'s cell: same kommune, group, characteristic (either may be NULL) and period."""
    return (f"{alias}.kommune = s.kommune AND {alias}.grp IS NOT DISTINCT FROM s.grp "
            f"AND {alias}.ausp IS NOT DISTINCT FROM s.ausp AND {alias}.ps = s.ps")


def _needed_parts(by: str, merkmal: str | None, filters: dict[str, str], wanted: Iterable[str]) -> set[str]:
    """The parts of the count pass (:data:`_PARTS`) that the ``wanted`` indicators need and that exist for this
    breakdown and these filters."""
    need = {part for part, kennzahlen in _PARTS.items() if kennzahlen & set(wanted)}
    if merkmal not in POST_MERKMALE or "zielgruppe" in filters:
        need.discard("posts")
    if by == "traeger" or "traeger" in filters:
        need.discard("pop")
    return need


def _wide_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str],
              wanted: Iterable[str] = KENNZAHLEN) -> str:
    """The count pass. A part no ``wanted`` indicator needs is neither computed nor joined, and its columns are
    left out of the result."""
    unit = period
    need = _needed_parts(by, merkmal, filters, wanted)
    post_grp = {"kommune": "st.kommune", "stadtbezirk": "st.stadtbezirk", "traeger": "st.traeger"}[by]
    post_filter = "".join(f" AND st.{col} = ${col}" for col in filters)
    pop_filter = " AND stadtbezirk = $stadtbezirk" if "stadtbezirk" in filters else ""
    # population belongs to a district: with the district as breakdown each row gets its own, else the group's
    pop_ausp = "stadtbezirk" if merkmal == "stadtbezirk" else "NULL::VARCHAR"
    parts = {   # name: (its relation, its alias)
        "ber": (f"""SELECT f.kommune, f.grp, f.ausp, CAST(date_trunc('{unit}', b.datum) AS DATE) AS ps, count(*) AS n
                    FROM beratungen b JOIN f USING (kommune, fall_id) GROUP BY ALL""", "b"),
        # each case in every period it is open at some time
        "stock": ("""SELECT f.kommune, f.grp, f.ausp, p.ps, count(*) AS aktiv, count(DISTINCT f.person_pseudonym) AS personen
                     FROM f JOIN periods p ON p.kommune = f.kommune AND f.beginn <= p.pe AND (f.ende IS NULL OR f.ende >= p.ps)
                     GROUP BY ALL""", "st"),
        "act": ("""SELECT f.kommune, f.grp, f.ausp, p.ps, count(DISTINCT f.fall_id) AS n
                   FROM beratungen b JOIN f USING (kommune, fall_id)
                   JOIN periods p ON p.kommune = f.kommune AND b.datum >= p.pe - 89 AND b.datum <= p.pe
                   WHERE f.beginn <= p.pe AND (f.ende IS NULL OR f.ende > p.pe)
                   GROUP BY ALL""", "a"),
        "posts": (f"""SELECT p.kommune, {post_grp} AS grp, {POST_MERKMALE[merkmal] if merkmal in POST_MERKMALE else "NULL"} AS ausp,
                            p.ps, sum(st.vzae) AS vzae
                     FROM periods p
                     JOIN stellen st ON st.kommune = p.kommune AND st.von <= p.pe AND (st.bis IS NULL OR st.bis >= p.pe)
                                        {post_filter}
                     GROUP BY ALL""", "po"),
        "pop": (f"""SELECT kommune, {'kommune' if by == 'kommune' else 'stadtbezirk'} AS grp, {pop_ausp} AS ausp,
                          sum(einwohner) AS einwohner, CASE WHEN count(auslaender) = count(*) THEN sum(auslaender) END AS auslaender
                   FROM bezirke WHERE true {pop_filter} GROUP BY ALL""", "pp"),
    }
    joins = {"pop": "LEFT JOIN pop pp ON pp.kommune = s.kommune AND pp.grp IS NOT DISTINCT FROM s.grp "
                    "AND (pp.ausp IS NULL OR pp.ausp = s.ausp)"}
    used = [name for name in parts if name in need]
    ctes = "".join(f",\n    {name} AS ({parts[name][0]})" for name in used)
    join_sql = "\n    ".join(joins.get(name, f"LEFT JOIN {name} {parts[name][1]} ON {_same(parts[name][1])}")
                              for name in used)
    # open on the last day of a period: begun by then minus ended by then (a case ended that day no longer counts);
    # the spine runs from the kommune's first date, so the running sums see every case
    open_ = ("CAST(sum(coalesce(e.neu, 0) - coalesce(e.ab, 0)) OVER (PARTITION BY s.kommune, s.grp, s.ausp "
             "ORDER BY s.ps) AS BIGINT)")
    # the output: new cases always, every other column only with its part (a column costs its conversion to pandas)
    columns = ["coalesce(e.neu, 0) AS neuzugaenge"] + [column for part, part_columns in (
        ("ab", ["coalesce(e.ab, 0) AS abschluesse", "coalesce(e.ziel, 0) AS ziel"]),
        ("wieder", ["coalesce(e.wieder, 0) AS wiederaufnahmen"]),
        ("ber", ["coalesce(b.n, 0) AS beratungen"]),
        ("open", [f"{open_} AS faelle_offen"]),
        ("stock", ["coalesce(st.aktiv, 0) AS aktiv", "coalesce(st.personen, 0) AS personen_erreicht"]),
        ("act", [f"{open_} - coalesce(a.n, 0) AS inaktive_faelle"]),
        ("posts", ["po.vzae"]),
        ("pop", ["pp.einwohner", "pp.auslaender"])) if part in need for column in part_columns]
    if "ab" in need:   # the events are starts and ends of cases
        closures = ("UNION ALL SELECT kommune, grp, ausp, ende, 0, 1, CAST(abschlussgrund = 'ziel_erreicht' AS INTEGER), 0 "
                    "FROM f WHERE ende IS NOT NULL")
        sums = "sum(neu) AS neu, sum(ab) AS ab, sum(ziel) AS ziel, sum(wieder) AS wieder"
    else:   # only starts
        closures, sums = "", "count(*) AS neu, sum(wieder) AS wieder" if "wieder" in need else "count(*) AS neu"
    return _ctes(by, period, merkmal, kommune_filter, filters, readmissions="wieder" in need) + f""",
    ev AS (
        SELECT kommune, grp, ausp, beginn AS d, 1 AS neu, 0 AS ab, 0 AS ziel, CAST(wieder AS INTEGER) AS wieder FROM f
        {closures}),
    ev_counts AS (
        SELECT kommune, grp, ausp, CAST(date_trunc('{unit}', d) AS DATE) AS ps, {sums}
        FROM ev GROUP BY ALL),
    -- every group with a case (each case has its start among the events) in every period of its kommune
    spine AS (SELECT g.kommune, g.grp, g.ausp, p.ps, p.pe FROM (SELECT DISTINCT kommune, grp, ausp FROM ev_counts) g
              JOIN periods p USING (kommune)){ctes}
    SELECT s.kommune, s.grp, s.ausp, s.ps, {", ".join(columns)}
    FROM spine s
    LEFT JOIN ev_counts e ON {_same("e")}
    {join_sql}
    ORDER BY s.kommune, s.grp, s.ausp, s.ps"""


def _cell_counts(source, by: str, period: str, merkmal: str | None, kommune: str | None, filters: dict[str, str],
                 wanted: Iterable[str]) -> pd.DataFrame | None:
    """The count pass for the ``wanted`` indicators from the cells (:func:`~kimtools.indicators.cells.cell_counts`),
    or ``None`` where they do not hold all it needs."""
    return cell_counts(source, by, period, merkmal, kommune, filters, _needed_parts(by, merkmal, filters, wanted))


def _cell_referrals(source, by: str, period: str, merkmal: str | None, kommune: str | None, filters: dict[str, str],
                    wanted: Iterable[str]) -> pd.DataFrame | None:
    """The referral pass for the ``wanted`` indicators from the cells
    (:func:`~kimtools.indicators.cells.cell_referrals`), or ``None`` where they do not hold all it needs."""
    return cell_referrals(source, by, period, merkmal, kommune, filters, wanted, _referral_counts(wanted))


def _duration_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    return _ctes(by, period, merkmal, kommune_filter, filters, readmissions=False) + f"""
    SELECT f.kommune, f.grp, f.ausp, CAST(date_trunc('{period}', f.beginn) AS DATE) AS ps,
           date_diff('day', f.beginn, coalesce(f.ende, span.d1)) AS dauer, f.ende IS NOT NULL AS beendet
    FROM f JOIN span USING (kommune)"""


#: the referral counts beyond the number of referrals, and the indicators that need each
_REFERRAL_COUNTS = {"beantwortet": {"annahmequote", "abschlussquote", "ablehnungsquote", "nicht_wahrgenommen_quote"},
                    "angenommen": {"annahmequote"}, "abgeschlossen": {"abschlussquote"},
                    "abgelehnt": {"ablehnungsquote"}, "nicht_wahrgenommen": {"nicht_wahrgenommen_quote"},
                    "luecken": {"luecken"}}


def _referral_counts(wanted: Iterable[str]) -> list[str]:
    """The referral counts (:data:`_REFERRAL_COUNTS`) some ``wanted`` indicator needs."""
    wanted = set(wanted)
    return [name for name, kennzahlen in _REFERRAL_COUNTS.items() if kennzahlen & wanted]


def _referral_ctes(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    """Referrals with the group of their case and the characteristic of the referral (or of its case)."""
    own = merkmal in REFERRAL_MERKMALE
    ausp = REFERRAL_MERKMALE[merkmal] if own else "f.ausp"
    partner_join = ("LEFT JOIN partner p ON p.kommune = v.kommune AND p.partner_id = v.an_partner"
                    if merkmal in ("partner_typ", "rechtskreis") else "")
    return _ctes(by, period, None if own else merkmal, kommune_filter, filters, readmissions=False) + f""",
    r AS (SELECT f.kommune, f.grp, {ausp} AS ausp, v.datum, v.status, v.erstkontakt, v.luecke
          FROM vermittlungen v JOIN f USING (kommune, fall_id) {partner_join})"""


def _referral_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str],
                  wanted: Iterable[str] = KENNZAHLEN) -> str:
    """The referral counts; of the outcomes, gaps and open loops (a range join over the periods) only those some
    ``wanted`` indicator needs."""
    loops = ""
    if "offene_schleifen" in wanted:
        loops = f""",
    loops AS (SELECT s.kommune, s.grp, s.ausp, s.ps, count(*) AS n FROM rspine s
              JOIN r ON r.kommune = s.kommune AND r.grp IS NOT DISTINCT FROM s.grp AND r.ausp IS NOT DISTINCT FROM s.ausp
                     AND r.status = '{SENT}' AND r.datum < s.pe - {OPEN_LOOP_DAYS}
              GROUP BY ALL)"""
    partners = ""
    if merkmal == "an_partner":   # partners never referred to still get their (empty) rows
        partners = """UNION SELECT DISTINCT f.kommune, f.grp, p.partner_id FROM (SELECT DISTINCT kommune, grp FROM f) f
                       JOIN partner p ON p.kommune = f.kommune AND NOT p.case_management"""
    counts = _referral_counts(wanted)
    outcomes = outcomes_sql(only=counts)
    return _referral_ctes(by, period, merkmal, kommune_filter, filters) + f""",
    rc AS (SELECT kommune, grp, ausp, CAST(date_trunc('{period}', datum) AS DATE) AS ps, count(*) AS vermittlungen
                  {", " + outcomes if outcomes else ""} {", count(luecke) AS luecken" if "luecken" in counts else ""}
           FROM r GROUP BY ALL),
    -- every group with a referral in every period of its kommune
    rspine AS (SELECT g.kommune, g.grp, g.ausp, p.ps, p.pe
               FROM (SELECT DISTINCT kommune, grp, ausp FROM rc {partners}) g JOIN periods p USING (kommune)){loops}
    SELECT s.kommune, s.grp, s.ausp, s.ps, coalesce(c.vermittlungen, 0) AS vermittlungen,
           {"".join(f"coalesce(c.{name}, 0) AS {name}, " for name in counts)}
           {"coalesce(l.n, 0)" if loops else "0"} AS offene_schleifen
    FROM rspine s LEFT JOIN rc c ON {_same('c')} {f"LEFT JOIN loops l ON {_same('l')}" if loops else ""}
    ORDER BY s.kommune, s.grp, s.ausp, s.ps"""


def _waiting_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    """Per referral with a first appointment or still waiting: days waited (until the data end if still waiting)."""
    days, cohort = wait_sql("r", "span.d1")
    return _referral_ctes(by, period, merkmal, kommune_filter, filters) + f"""
    SELECT r.kommune, r.grp, r.ausp, CAST(date_trunc('{period}', r.datum) AS DATE) AS ps,
           {days} AS dauer, r.erstkontakt IS NOT NULL AS beendet
    FROM r JOIN span USING (kommune)
    WHERE {cohort}"""


def _km_median_sql(durations_sql: str) -> str:
    """Kaplan–Meier median per group inside the database (as :func:`~kimtools.indicators.stats.km_median`):
    ``kommune, grp, ausp, ps, median, n, events`` from rows ``dauer``/``beendet``, without moving them to Python."""
    keys = "kommune, grp, ausp, ps"
    return f"""
    WITH d AS ({durations_sql}),
    t AS (SELECT {keys}, dauer, sum(CAST(beendet AS INTEGER)) AS e, count(*) AS c FROM d GROUP BY ALL),
    r AS (SELECT *, sum(c) OVER (PARTITION BY {keys} ORDER BY dauer DESC ROWS UNBOUNDED PRECEDING) AS at_risk FROM t),
    s AS (SELECT *, product(1 - e / at_risk) OVER (PARTITION BY {keys} ORDER BY dauer ROWS UNBOUNDED PRECEDING) AS s FROM r)
    SELECT {keys}, min(dauer) FILTER (WHERE s <= {HALF}) AS median, sum(c) AS n, sum(e) AS events FROM s GROUP BY ALL"""


def case_durations(source, kommune: str | None = None, merkmal: str | None = None,
                   filters: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per case: ``kommune, stadtbezirk, auspraegung, ps`` (quarter begun), ``dauer`` (days) and ``beendet``.

    Open cases are censored at the data end.

    The input of survival curves; case-level, so for notebooks and for
    aggregation only, never to be shown as it is.
    """
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    params = scope_params(kommune, filters)
    out = run_query(source, _duration_sql("stadtbezirk", "quarter", merkmal, kommune is not None, filters), params)
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
    (95 % interval where the indicator has one), ``unvollstaendig`` (the period is not yet complete for every
    provider of the kommune: :mod:`kimtools.store.deliveries`). Counts have no denominator.
    """
    if by not in BY_CHOICES:
        raise UsageError(f"--nach (by) muss eines von {', '.join(BY_CHOICES)} sein, nicht {by!r}.",
                         f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    if period not in PERIOD_CHOICES:
        raise UsageError(f"--zeitraum (period) muss eines von {', '.join(PERIOD_CHOICES)} sein, nicht {period!r}.",
                         f"--period must be one of {', '.join(PERIOD_CHOICES)}, not {period!r}.")
    if merkmal is not None and merkmal not in MERKMALE:
        raise UsageError(f"--merkmal muss eines von {', '.join(MERKMALE)} sein, nicht {merkmal!r}.",
                         f"--merkmal must be one of {', '.join(MERKMALE)}, not {merkmal!r}.")
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise UsageError(f"Unbekannter Filter {sorted(unknown)}; erlaubt: {', '.join(FILTERS)}.",
                         f"Unknown filter {sorted(unknown)}; allowed: {', '.join(FILTERS)}.")
    params = scope_params(kommune, filters)
    wanted = list(KENNZAHLEN) if kennzahlen is None else list(kennzahlen)
    unknown_k = set(wanted) - set(KENNZAHLEN)
    if unknown_k:
        raise UsageError(f"Unbekannte Kennzahl {sorted(unknown_k)}; siehe docs/kennzahlen.md.",
                         f"Unknown indicator {sorted(unknown_k)}; see docs/kennzahlen.en.md.")
    keys = ["kommune", "grp", "ausp", "ps"]
    args = (by, period, merkmal, kommune is not None, filters)

    def with_km(wide: pd.DataFrame, sql: str, prefix: str) -> pd.DataFrame:
        km = run_query(source, _km_median_sql(sql), params).astype({"median": float})
        return wide.merge(km.rename(columns={"median": f"{prefix}_median", "n": f"{prefix}_n", "events": f"{prefix}_events"}),
                          on=keys, how="left")

    def one_pass(cells, sql, median: tuple[str, object, str], cells_hold_median: bool) -> pd.DataFrame:
        """A pass from the cells where they answer it, else from its SQL; with its Kaplan–Meier median if wanted
        (the referral cells hold the median wait, the case cells no durations)."""
        wide = cells(source, by, period, merkmal, kommune, filters, wanted)
        from_cells = wide is not None
        if not from_cells:
            wide = run_query(source, sql(*args, wanted=wanted), params)
        kennzahl, median_sql, prefix = median
        if kennzahl in wanted and not (from_cells and cells_hold_median):
            wide = with_km(wide, median_sql(*args), prefix)
        return wide

    wides = []
    if merkmal not in REFERRAL_ONLY and any(k not in REFERRAL_KENNZAHLEN for k in wanted):
        wides.append(one_pass(_cell_counts, _wide_sql, ("verweildauer_median_tage", _duration_sql, "dauer"), False))
    if any(k in REFERRAL_KENNZAHLEN for k in wanted):
        wides.append(one_pass(_cell_referrals, _referral_sql, ("wartezeit_median_tage", _waiting_sql, "warte"), True))
    if len(wides) == 2:   # rows only one pass has (e.g. a needs area only referrals have) count zero in the other
        a, b = wides
        wide = a.merge(b, on=keys, how="outer")
        not_counts = {*keys, "vzae", "einwohner", "auslaender"}
        counts = [c for c in wide.columns if c not in not_counts and not c.endswith(("_median", "_n", "_events"))]
        wide[counts] = wide[counts].fillna(0)
        wide = wide.sort_values(keys, kind="stable").reset_index(drop=True)
    else:   # in key order from the query (nulls last, as pandas sorts)
        wide = wides[0]
    table = _assemble(wide, by, period, merkmal, filters, set(wanted))
    table["unvollstaendig"] = (np.zeros(len(table), dtype=bool) if isinstance(source, Mapping) else
                               incomplete_rows(source.connect(), table))
    if not isinstance(source, Mapping):
        no_data(table, absent_tables(source.connect()))
    return table


def no_data(table: pd.DataFrame, absent: Mapping[str, set[str]]) -> None:
    """Blank (in place) the indicators of each kommune that need a table its import declared not delivered
    (:data:`~kimtools.indicators.catalogue.NEEDS`): "keine Daten", not a count of zero."""
    for kommune, tables in absent.items():
        hit = (table["kommune"] == kommune).to_numpy() & table["kennzahl"].map(
            lambda k: bool(set(NEEDS[k]) & tables)).to_numpy(dtype=bool)
        if hit.any():
            table.loc[hit, ["zaehler", "nenner", "wert", "ki_unten", "ki_oben"]] = pd.NA


def _assemble(wide: pd.DataFrame, by: str, period: str, merkmal: str | None, filters: dict[str, str],
              wanted: set[str]) -> pd.DataFrame:
    """The indicator table from the wide counts: for each wide row its indicators in catalogue order.

    An indicator whose inputs the wide frame lacks (the other pass did not run) is left out.
    """
    values: dict[str, tuple] = {}
    f = lambda col: wide[col].to_numpy(dtype=float, na_value=np.nan)  # noqa: E731
    has = lambda *cols: all(c in wide.columns for c in cols)  # noqa: E731

    def add(kennzahl: str, z, n=None, wert=None, lo=None, hi=None):
        if kennzahl not in wanted:
            return
        nan = np.full(len(wide), np.nan)
        z = np.asarray(z, dtype=float)
        n = nan if n is None else np.asarray(n, dtype=float)
        if wert is None:
            wert = z if kennzahl in COUNTS else z / np.where(n > 0, n, np.nan)
        values[kennzahl] = (z, n, np.asarray(wert, dtype=float), nan if lo is None else lo, nan if hi is None else hi)

    def share_of(kennzahl: str, part: str, whole: str):
        if kennzahl not in wanted:
            return
        wert, lo, hi = share(f(part), f(whole))
        add(kennzahl, f(part), f(whole), wert, lo, hi)

    def km(kennzahl: str, prefix: str):
        if f"{prefix}_median" in wide.columns:
            add(kennzahl, np.nan_to_num(f(f"{prefix}_events")), np.nan_to_num(f(f"{prefix}_n")), f(f"{prefix}_median"))

    want = wanted.__contains__   # the count pass has the columns of the wanted indicators only
    if has("neuzugaenge"):   # the count pass ran
        for k in ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "beratungen"):
            if want(k):
                add(k, f(k))
    if has("vermittlungen") and want("vermittlungen"):
        add("vermittlungen", f("vermittlungen"))
    if has("neuzugaenge"):
        if want("beratungen_je_fall"):
            add("beratungen_je_fall", f("beratungen"), f("aktiv"))
        if want("faelle_je_vzae") and merkmal in POST_MERKMALE and "zielgruppe" not in filters:
            add("faelle_je_vzae", f("faelle_offen"), f("vzae"))
        if by != "traeger" and "traeger" not in filters and wanted & {"reichweite_je_1000", "reichweite_je_1000_auslaender"}:
            reached = f("personen_erreicht")
            lo, hi = poisson_interval(reached)
            for k, denom in (("reichweite_je_1000", "einwohner"), ("reichweite_je_1000_auslaender", "auslaender")):
                n = f(denom)
                scale = 1000 / np.where(n > 0, n, np.nan)
                add(k, reached, n, reached * scale, lo * scale, hi * scale)
        km("verweildauer_median_tage", "dauer")
        share_of("abschluesse_ziel_erreicht_quote", "ziel", "abschluesse")
        for k in ("inaktive_faelle", "wiederaufnahmen"):
            if want(k):
                add(k, f(k))
    if has("vermittlungen"):
        for kennzahl, (part, whole) in REFERRAL_RATES.items():
            share_of(kennzahl, part, whole)
        add("offene_schleifen", f("offene_schleifen"))
        km("wartezeit_median_tage", "warte")
        if want("luecken"):
            add("luecken", f("luecken"))

    names = [k for k in KENNZAHLEN if k in values]
    # rows × indicators, flattened row by row: each wide row's indicators stay together, in catalogue order
    stack = lambda i: np.column_stack([values[k][i] for k in names]).ravel() if names else np.empty(0)  # noqa: E731
    idx = np.repeat(np.arange(len(wide)), len(names))
    take = lambda col: wide[col].array.take(idx)  # noqa: E731
    starts, period_of_row = np.unique(wide["ps"].to_numpy(), return_inverse=True)
    # text columns as takes from their few distinct values (converting thousands of Python strings costs more)
    labels = pd.array([period_label(pd.Timestamp(p), period) for p in starts], dtype="str")
    long = {"kommune": take("kommune"), **({by: take("grp")} if by != "kommune" else {}),
            **({"merkmal": pd.array([merkmal], dtype="str").take(np.zeros(len(idx), dtype=np.intp)),
                "auspraegung": take("ausp")} if merkmal else {}),
            "zeitraum": labels.take(period_of_row.reshape(-1)[idx]),
            "kennzahl": pd.array(names, dtype="str").take(np.tile(np.arange(len(names)), len(wide))),
            "zaehler": pd.array(stack(0), dtype="Float64").round().astype("Int64")}
    for i, col in enumerate(("nenner", "wert", "ki_unten", "ki_oben"), start=1):
        long[col] = pd.array(stack(i), dtype="Float64")
    return pd.DataFrame(long)
