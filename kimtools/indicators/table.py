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

import datetime as dt
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..contract.catalogue import CASELOAD_POSTS, CATALOGUE, QUANTITIES, REFERENCES, Count, check
from ..contract.outcomes import OPEN_LOOP_DAYS, SENT, wait_sql
from ..errors import UsageError
from ..periods import PERIOD_CHOICES, period_label, window_label
from ..store import scope_params, where_sql
from ..store.deliveries import absent_tables, incomplete_rows
from ..store.queries import check_access, run_query
from .catalogue import KENNZAHLEN, NEEDS, pass_of
from .cells import GROUP_COLUMNS, cell_counts, cell_referrals
from .counting import BEFORE_WINDOW, EVENT_BASES, KM_COMPUTATIONS, WINDOW, Needs, condition, needs, period_grid_sql, period_start_sql, rate
from .posts import POST_AUSP, POST_ONLY, post_sql
from .stats import HALF

__all__ = ["indicator_table", "run_query", "BY_CHOICES", "PERIOD_CHOICES", "MERKMALE", "REFERRAL_MERKMALE", "FILTERS", "period_label", "ALTERSGRUPPEN", "case_durations"]

BY_CHOICES = ("kommune", "stadtbezirk", "traeger")
MERKMALE = ("zielgruppe", "handlungsfeld", "aufenthaltsstatus", "geschlecht", "altersgruppe", "abschlussgrund", "traeger",
            "stadtbezirk", "an_partner", "partner_typ", "rechtskreis", "luecke", *POST_ONLY)
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
    f AS (SELECT c.*, {grp} AS grp, {_AUSP[merkmal]} AS ausp   -- every column: the declared counts filter by them
          FROM base c {join_h}),
    {period_grid_sql(unit, kommune_filter)}"""


def _same(alias: str) -> str:
    """``alias`` is the spine row ``s``'s cell: same kommune, group, characteristic (either may be NULL) and period."""
    return (f"{alias}.kommune = s.kommune AND {alias}.grp IS NOT DISTINCT FROM s.grp "
            f"AND {alias}.ausp IS NOT DISTINCT FROM s.ausp AND {alias}.ps = s.ps")


def _needs(by: str, merkmal: str | None, filters: Mapping[str, str], wanted: Iterable[str]) -> Needs:
    """What the ``wanted`` indicators need for this breakdown and these filters (:func:`~.counting.needs`)."""
    return needs((CATALOGUE[k] for k in wanted), by, merkmal, filters, POST_MERKMALE)


def _wide_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str],
              wanted: Iterable[str] = KENNZAHLEN) -> str:
    """The count pass over every case: a column per declared count the ``wanted`` indicators need (named by
    :attr:`~kimtools.contract.catalogue.Count.column`), and per computation of theirs; nothing else is computed
    or joined."""
    unit = period
    need = _needs(by, merkmal, filters, wanted)
    post_grp = {"kommune": "st.kommune", "stadtbezirk": "st.stadtbezirk", "traeger": "st.traeger"}[by]
    post_filter = "".join(f" AND st.{col} = ${col}" for col in filters)
    pop_filter = " AND stadtbezirk = $stadtbezirk" if "stadtbezirk" in filters else ""
    # population belongs to a district: with the district as breakdown each row gets its own, else the group's
    pop_ausp = "stadtbezirk" if merkmal == "stadtbezirk" else "NULL::VARCHAR"
    stock = [f"count(*) FILTER (WHERE {condition(c, 'f')}) AS {c.column}" if c.zaehlt == "faelle_aktiv" else
             f"count(DISTINCT f.person_pseudonym) FILTER (WHERE {condition(c, 'f')}) AS {c.column}" for c in need.stocks]
    consultations = [f"count(*) FILTER (WHERE {condition(c, 'f', 'b')}) AS {c.column}" for c in need.consultations]
    # each person once per period: in the group (and characteristic) of the case begun last among those open in it
    # that meet the count's filters; with a multi-valued characteristic once per person and value
    per_value = ", f.ausp" if merkmal == "handlungsfeld" else ""
    once = " UNION ALL ".join(
        f"""SELECT f.kommune, p.ps, {i} AS k, max(struct_pack(b := f.beginn, i := f.fall_id, g := f.grp, a := f.ausp)) AS latest
            FROM f JOIN periods p ON p.kommune = f.kommune AND f.beginn <= p.pe AND (f.ende IS NULL OR f.ende >= p.ps)
            WHERE {condition(c, 'f')} GROUP BY f.kommune, p.ps, f.person_pseudonym{per_value}"""
        for i, c in enumerate(need.once))
    per_person, household = [], []
    for i, c in enumerate(need.households):
        per_person += [f"bool_or({condition(c, 'f')}) AS in_{i}",
                       f"max(f.mitberatene) FILTER (WHERE {condition(c, 'f')}) AS m_{i}",
                       f"sum(f.mitberatene) FILTER (WHERE {condition(c, 'f')}) AS s_{i}"]
        household.append(f"sum(s_{i}) AS {c.column}" if c.zaehlt == "mitberatene" else
                         f"count(*) FILTER (WHERE in_{i}) + coalesce(sum(m_{i}), 0) AS {c.column}")
    parts = {   # name: (its relation, its alias, whether it is needed)
        "ber": (f"""SELECT f.kommune, f.grp, f.ausp, {period_start_sql(unit, 'b.datum')} AS ps, {", ".join(consultations)}
                    FROM beratungen b JOIN f USING (kommune, fall_id) GROUP BY ALL""", "b", bool(consultations)),
        # each case in every period it is open at some time
        "stock": (f"""SELECT f.kommune, f.grp, f.ausp, p.ps, {", ".join(stock)}
                      FROM f JOIN periods p ON p.kommune = f.kommune AND f.beginn <= p.pe AND (f.ende IS NULL OR f.ende >= p.ps)
                      GROUP BY ALL""", "st", bool(stock)),
        "once": (f"""SELECT kommune, latest.g AS grp, latest.a AS ausp, ps,
                            {", ".join(f"count(*) FILTER (WHERE k = {i}) AS {c.column}" for i, c in enumerate(need.once))}
                     FROM ({once}) GROUP BY ALL""", "o", bool(need.once)),
        "act": ("""SELECT f.kommune, f.grp, f.ausp, p.ps, count(DISTINCT f.fall_id) AS n
                   FROM beratungen b JOIN f USING (kommune, fall_id)
                   JOIN periods p ON p.kommune = f.kommune AND b.datum >= p.pe - 89 AND b.datum <= p.pe
                   WHERE f.beginn <= p.pe AND (f.ende IS NULL OR f.ende > p.pe)
                   GROUP BY ALL""", "a", "ohne_beratung_90_tage" in need.computations),
        # per person open in P: her household members (the largest number among her cases, and their sum)
        "house": (f"""SELECT kommune, grp, ausp, ps, {", ".join(household)}
                      FROM (SELECT f.kommune, f.grp, f.ausp, p.ps, f.person_pseudonym, {", ".join(per_person)}
                            FROM f JOIN periods p ON p.kommune = f.kommune AND f.beginn <= p.pe
                                                     AND (f.ende IS NULL OR f.ende >= p.ps)
                            GROUP BY ALL)
                      GROUP BY ALL""", "h", bool(need.households)),
        # the posts that carry cases, on the last day of P
        "posts": (f"""SELECT p.kommune, {post_grp} AS grp, {POST_MERKMALE[merkmal] if merkmal in POST_MERKMALE else "NULL"} AS ausp,
                            p.ps, sum(st.vzae) AS vzae
                     FROM periods p
                     JOIN stellen st ON st.kommune = p.kommune AND st.von <= p.pe AND (st.bis IS NULL OR st.bis >= p.pe)
                                        AND {CASELOAD_POSTS.format(st="st")} {post_filter}
                     GROUP BY ALL""", "po", "vzae" in need.references),
        "pop": (f"""SELECT kommune, {'kommune' if by == 'kommune' else 'stadtbezirk'} AS grp, {pop_ausp} AS ausp,
                          sum(einwohner) AS einwohner, CASE WHEN count(auslaender) = count(*) THEN sum(auslaender) END AS auslaender
                   FROM bezirke WHERE true {pop_filter} GROUP BY ALL""", "pp", bool(need.references & {"einwohner", "auslaender"})),
    }
    joins = {"pop": "LEFT JOIN pop pp ON pp.kommune = s.kommune AND pp.grp IS NOT DISTINCT FROM s.grp "
                    "AND (pp.ausp IS NULL OR pp.ausp = s.ausp)"}
    used = [name for name, (_sql, _alias, needed) in parts.items() if needed]
    ctes = "".join(f",\n    {name} AS ({parts[name][0]})" for name in used)
    join_sql = "\n    ".join(joins.get(name, f"LEFT JOIN {name} {parts[name][1]} ON {_same(parts[name][1])}")
                              for name in used)

    # open on the last day of a period: begun by then minus ended by then (a case ended that day no longer counts);
    # the spine runs from the kommune's first date, so the running sums see every case
    def open_(count: Count) -> str:
        begun, ended = (Count(base, count.filters).column for base in EVENT_BASES)
        return (f"CAST(sum(coalesce(e.{begun}, 0) - coalesce(e.{ended}, 0)) OVER (PARTITION BY s.kommune, s.grp, s.ausp "
                "ORDER BY s.ps) AS BIGINT)")

    wieder = "wiederaufnahme" in need.computations
    # the output: every declared count the call needs, then the computations and reference figures (a column costs
    # its conversion to pandas)
    columns = ([f"coalesce(e.{c.column}, 0) AS {c.column}" for c in need.events]
               + [f"{open_(c)} AS {c.column}" for c in need.opens]
               + [f"coalesce(b.{c.column}, 0) AS {c.column}" for c in need.consultations]
               + [f"coalesce(st.{c.column}, 0) AS {c.column}" for c in need.stocks]
               + [f"coalesce(o.{c.column}, 0) AS {c.column}" for c in need.once]
               # household members: unknown (NULL) for a kommune none of whose cases records them
               + [f"CASE WHEN s.kommune IN (SELECT kommune FROM faelle WHERE mitberatene IS NOT NULL) "
                  f"THEN coalesce(h.{c.column}, 0) END AS {c.column}" for c in need.households]
               + (["coalesce(e.wiederaufnahme, 0) AS wiederaufnahme"] if wieder else [])
               + ([f"{open_(Count('faelle_offen'))} - coalesce(a.n, 0) AS ohne_beratung_90_tage"] if "act" in used else [])
               + (["po.vzae"] if "posts" in used else []) + (["pp.einwohner", "pp.auslaender"] if "pop" in used else []))
    # the events are the starts and ends of cases: each a row with a 0/1 per declared count of its kind
    def flags(kind: str) -> str:
        return ", ".join(f"CAST({condition(c, 'f')} AS INTEGER) AS {c.column}" if c.zaehlt == kind else f"0 AS {c.column}"
                         for c in need.events)
    closures = (f"UNION ALL SELECT kommune, grp, ausp, ende, {flags('abschluesse')}, 0 FROM f WHERE ende IS NOT NULL"
                if any(c.zaehlt == "abschluesse" for c in need.events) else "")
    sums = ", ".join([f"sum({c.column}) AS {c.column}" for c in need.events] + (["sum(wieder) AS wiederaufnahme"] if wieder else []))
    return _ctes(by, period, merkmal, kommune_filter, filters, readmissions=wieder) + f""",
    ev AS (
        SELECT kommune, grp, ausp, beginn AS d, {flags('neuzugaenge')}, CAST(wieder AS INTEGER) AS wieder FROM f
        {closures}),
    ev_counts AS (
        SELECT kommune, grp, ausp, {period_start_sql(unit, 'd')} AS ps, {sums}
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
    return cell_counts(source, by, period, merkmal, kommune, filters, _needs(by, merkmal, filters, wanted))


def _cell_referrals(source, by: str, period: str, merkmal: str | None, kommune: str | None, filters: dict[str, str],
                    wanted: Iterable[str]) -> pd.DataFrame | None:
    """The referral pass for the ``wanted`` indicators from the cells
    (:func:`~kimtools.indicators.cells.cell_referrals`), or ``None`` where they do not hold all it needs."""
    return cell_referrals(source, by, period, merkmal, kommune, filters, _needs(by, merkmal, filters, wanted))


def _duration_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    return _ctes(by, period, merkmal, kommune_filter, filters, readmissions=False) + f"""
    SELECT f.kommune, f.grp, f.ausp, {period_start_sql(period, 'f.beginn')} AS ps,
           date_diff('day', f.beginn, coalesce(f.ende, span.d1)) AS dauer, f.ende IS NOT NULL AS beendet
    FROM f JOIN span USING (kommune)"""


def _referral_ctes(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str],
                   counts: Iterable[Count] = ()) -> str:
    """Referrals with the group of their case and the characteristic of the referral (or of its case), and per
    declared count in ``counts`` whether the referral is one of it (a column named by the count)."""
    own = merkmal in REFERRAL_MERKMALE
    ausp = REFERRAL_MERKMALE[merkmal] if own else "f.ausp"
    partner_join = ("LEFT JOIN partner p ON p.kommune = v.kommune AND p.partner_id = v.an_partner"
                    if merkmal in ("partner_typ", "rechtskreis") else "")
    flags = "".join(f", {condition(c, 'f', 'v')} AS {c.column}" for c in counts if c.filters)
    return _ctes(by, period, None if own else merkmal, kommune_filter, filters, readmissions=False) + f""",
    r AS (SELECT f.kommune, f.grp, {ausp} AS ausp, v.datum, v.status, v.erstkontakt, v.luecke{flags}
          FROM vermittlungen v JOIN f USING (kommune, fall_id) {partner_join})"""


def _referral_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str],
                  wanted: Iterable[str] = KENNZAHLEN) -> str:
    """The referral pass: a column per declared count of referrals the ``wanted`` indicators need (the number of
    referrals always), and the open loops (a range join over the periods) only where wanted."""
    need = _needs(by, merkmal, filters, wanted)
    loops = ""
    if "offen_ueber_30_tage" in need.computations:
        loops = f""",
    loops AS (SELECT s.kommune, s.grp, s.ausp, s.ps, count(*) AS n FROM rspine s
              JOIN r ON r.kommune = s.kommune AND r.grp IS NOT DISTINCT FROM s.grp AND r.ausp IS NOT DISTINCT FROM s.ausp
                     AND r.status = '{SENT}' AND r.datum < s.pe - {OPEN_LOOP_DAYS}
              GROUP BY ALL)"""
    partners = ""
    if merkmal == "an_partner":   # partners never referred to still get their (empty) rows
        partners = """UNION SELECT DISTINCT f.kommune, f.grp, p.partner_id FROM (SELECT DISTINCT kommune, grp FROM f) f
                       JOIN partner p ON p.kommune = f.kommune AND NOT p.case_management"""
    counts = [c for c in need.referrals if c.filters]
    return _referral_ctes(by, period, merkmal, kommune_filter, filters, counts) + f""",
    rc AS (SELECT kommune, grp, ausp, {period_start_sql(period, 'datum')} AS ps, count(*) AS vermittlungen
                  {"".join(f", count(*) FILTER (WHERE {c.column}) AS {c.column}" for c in counts)}
           FROM r GROUP BY ALL),
    -- every group with a referral in every period of its kommune
    rspine AS (SELECT g.kommune, g.grp, g.ausp, p.ps, p.pe
               FROM (SELECT DISTINCT kommune, grp, ausp FROM rc {partners}) g JOIN periods p USING (kommune)){loops}
    SELECT s.kommune, s.grp, s.ausp, s.ps, coalesce(c.vermittlungen, 0) AS vermittlungen,
           {"".join(f"coalesce(c.{c.column}, 0) AS {c.column}, " for c in counts)}
           {"coalesce(l.n, 0)" if loops else "0"} AS offen_ueber_30_tage
    FROM rspine s LEFT JOIN rc c ON {_same('c')} {f"LEFT JOIN loops l ON {_same('l')}" if loops else ""}
    ORDER BY s.kommune, s.grp, s.ausp, s.ps"""


def _waiting_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: dict[str, str]) -> str:
    """Per referral with a first appointment or still waiting: days waited (until the data end if still waiting)."""
    days, cohort = wait_sql("r", "span.d1")
    return _referral_ctes(by, period, merkmal, kommune_filter, filters) + f"""
    SELECT r.kommune, r.grp, r.ausp, {period_start_sql(period, 'r.datum')} AS ps,
           {days} AS dauer, r.erstkontakt IS NOT NULL AS beendet
    FROM r JOIN span USING (kommune)
    WHERE {cohort}"""


#: the durations behind each Kaplan–Meier median computation
_MEDIAN_SQL = {"falldauer_median": _duration_sql, "wartezeit_median": _waiting_sql}


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

    >>> import kimtools as kim
    >>> d = case_durations(kim.Store(), "Herne", merkmal="zielgruppe")
    >>> d.columns.tolist(), bool((d["dauer"] >= 0).all())
    (['kommune', 'stadtbezirk', 'auspraegung', 'ps', 'dauer', 'beendet'], True)
    """
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    params = scope_params(kommune, filters)
    out = run_query(source, _duration_sql("stadtbezirk", "quarter", merkmal, kommune is not None, filters), params)
    out = out.rename(columns={"ausp": "auspraegung", "grp": "stadtbezirk"})
    return out[["kommune", "stadtbezirk", "auspraegung", "ps", "dauer", "beendet"]]


def indicator_table(source, kommune: str | None = None, by: str = "kommune", period: str = "quarter",
                    merkmal: str | None = None, filters: Mapping[str, str] | None = None,
                    kennzahlen: Iterable[str] | None = None, bis: dt.date | str | None = None,
                    von: dt.date | str | None = None) -> pd.DataFrame:
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
    bis
        With ``period="total"`` only: the span from the first date up to this day (since the start as it stood at
        the end of a quarter, say), not to the data end. Cases, consultations and referrals after it do not count;
        the Kaplan–Meier medians are left out (a case ended after the day would need censoring there).
    von
        With ``period="total"`` and ``bis``: a time window, the days ``von`` to ``bis`` (a year, the last twelve
        months, any from/to), one period labelled ``2025-10-01/2026-09-30`` (:func:`~kimtools.periods.window_label`),
        its counts and intervals pooled over the window as those of a quarter are over the quarter: events in the
        window, cases open at some time in it, open cases on its last day (or the data end, where that comes first),
        a Kaplan–Meier median over the cases begun in it.

    Returns
    -------
    DataFrame with ``kommune``, the ``by`` column (unless ``kommune``),
    ``merkmal`` and ``auspraegung`` (with a breakdown), ``zeitraum``,
    ``kennzahl``, ``zaehler``, ``nenner``, ``wert``, ``ki_unten``, ``ki_oben``
    (95 % interval where the indicator has one), ``unvollstaendig`` (the period is not yet complete for every
    provider of the kommune: :mod:`kimtools.store.deliveries`). Counts have no denominator.

    Examples
    --------
    >>> import kimtools as kim
    >>> t = indicator_table(kim.Store(), "Herne", by="stadtbezirk", period="year", kennzahlen=["annahmequote"])
    >>> t.columns.tolist()
    ['kommune', 'stadtbezirk', 'zeitraum', 'kennzahl', 'zaehler', 'nenner', 'wert', 'ki_unten', 'ki_oben', 'unvollstaendig']
    >>> window = indicator_table(kim.Store(), "Herne", period="total", von="2025-01-01", bis="2025-12-31",
    ...                          kennzahlen=["neuzugaenge"])
    >>> window["zeitraum"].tolist()
    ['2025-01-01/2025-12-31']
    """
    # the parameters as a notebook names them (the command line checks its own options before calling this)
    if by not in BY_CHOICES:
        raise UsageError(f"by muss eines von {', '.join(BY_CHOICES)} sein, nicht {by!r}.",
                         f"by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    if period not in PERIOD_CHOICES:
        raise UsageError(f"period muss eines von {', '.join(PERIOD_CHOICES)} sein, nicht {period!r}.",
                         f"period must be one of {', '.join(PERIOD_CHOICES)}, not {period!r}.")
    if merkmal is not None and merkmal not in MERKMALE:
        raise UsageError(f"merkmal muss eines von {', '.join(MERKMALE)} sein, nicht {merkmal!r}.",
                         f"merkmal must be one of {', '.join(MERKMALE)}, not {merkmal!r}.")
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise UsageError(f"Unbekannter Filter {sorted(unknown)}; erlaubt: {', '.join(FILTERS)}.",
                         f"Unknown filter {sorted(unknown)}; allowed: {', '.join(FILTERS)}.")
    if (bis is not None or von is not None) and period != "total":
        raise UsageError(f"von und bis gelten nur für den Zeitraum total (seit Beginn), nicht für {period!r}.",
                         f"von and bis apply to the period total (since the start) only, not to {period!r}.")
    if von is not None and bis is None:
        raise UsageError("Ein Zeitfenster braucht von und bis.", "A window needs von and bis.")
    if von is not None and pd.Timestamp(von) > pd.Timestamp(bis):
        raise UsageError(f"von ({von}) liegt nach bis ({bis}).", f"von ({von}) is after bis ({bis}).")
    check()
    if not isinstance(source, Mapping) and kommune is not None:   # the cells route reads arrays, not by parameter
        check_access(source.connect(), [kommune])
    params = scope_params(kommune, filters)
    wanted = list(KENNZAHLEN) if kennzahlen is None else list(kennzahlen)
    if von is not None:   # a window: the engine's unit window, its days parameters
        period, params["von"], params["bis"] = WINDOW, pd.Timestamp(von).date(), pd.Timestamp(bis).date()
    elif bis is not None:   # the whole span up to a day: the engine's unit total_bis, its end a parameter
        period, params["bis"] = "total_bis", pd.Timestamp(bis).date()
        wanted = [k for k in wanted if CATALOGUE[k].berechnung not in KM_COMPUTATIONS]
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

    def one_pass(cells, sql, computation: str, cells_hold_median: bool) -> pd.DataFrame:
        """A pass from the cells where they answer it, else from its SQL; with its Kaplan–Meier median if wanted
        (the referral cells hold the median wait, the case cells no durations)."""
        wide = cells(source, by, period, merkmal, kommune, filters, wanted)
        from_cells = wide is not None
        if not from_cells:
            wide = run_query(source, sql(*args, wanted=wanted), params)
        if any(CATALOGUE[k].berechnung == computation for k in wanted) and not (from_cells and cells_hold_median):
            wide = with_km(wide, _MEDIAN_SQL[computation](*args), KM_COMPUTATIONS[computation])
        return wide

    passes = set().union(*(pass_of(CATALOGUE[k]) for k in wanted)) if wanted else set()
    wides = []
    if merkmal not in (*REFERRAL_ONLY, *POST_ONLY) and "faelle" in passes:
        wides.append(one_pass(_cell_counts, _wide_sql, "falldauer_median", False))
    if "vermittlungen" in passes and merkmal not in POST_ONLY:
        wides.append(one_pass(_cell_referrals, _referral_sql, "wartezeit_median", True))
    posts = None
    if "stellen" in passes and merkmal in POST_AUSP and "zielgruppe" not in filters:
        posts = run_query(source, post_sql(*args, _needs(by, merkmal, filters, wanted).posts), params)
        wides.append(posts)
    if not wides:   # e.g. only case indicators, by a characteristic only referrals have: no rows
        wides.append(pd.DataFrame({k: pd.Series(dtype="datetime64[us]" if k == "ps" else object) for k in keys}))
    wide = wides[0]   # in key order from the query (nulls last, as pandas sorts)
    post_only = np.zeros(len(wide), dtype=bool)
    for other in wides[1:]:   # rows only one pass has (e.g. a needs area only referrals have) count zero in the other
        counted = {"left_only": _counted(other), "right_only": _counted(wide)}
        wide = wide.merge(other.assign(_posts=other is posts), on=keys, how="outer", indicator=True)
        for side, columns in counted.items():
            rows = (wide["_merge"] == side).to_numpy()
            wide.loc[rows, columns] = wide.loc[rows, columns].fillna(0)
        # a group only posts have (an employer without cases, the city-wide posts): the posts' indicators only
        wide["_posts"] = (wide["_merge"] == "right_only") & wide["_posts"].fillna(False).astype(bool)
        wide = wide.drop(columns="_merge").sort_values(keys, kind="stable").reset_index(drop=True)
        post_only = wide.pop("_posts").to_numpy(dtype=bool)
    if period == WINDOW:   # the period before the window only fed the running sums
        inside = (wide["ps"] != pd.Timestamp(BEFORE_WINDOW)).to_numpy()
        wide, post_only = wide.loc[inside].reset_index(drop=True), post_only[inside]
    table = _assemble(wide, by, period, merkmal, set(wanted), post_only)
    if period == WINDOW:
        table["zeitraum"] = window_label(params["von"], params["bis"])
    table["unvollstaendig"] = (np.zeros(len(table), dtype=bool) if isinstance(source, Mapping) else
                               incomplete_rows(source.connect(), table, params.get("bis")))
    if not isinstance(source, Mapping):
        no_data(table, absent_tables(source.connect()))
    return table


def _counted(wide: pd.DataFrame) -> list[str]:
    """The columns of a pass's wide frame that are counts (a group the pass has no row for counts 0 in them), not
    keys, reference figures or the parts of a median."""
    return [c for c in wide.columns if c not in ("kommune", "grp", "ausp", "ps", *REFERENCES)
            and not c.endswith(("_median", "_n", "_events"))]


def no_data(table: pd.DataFrame, absent: Mapping[str, set[str]]) -> None:
    """Blank (in place) the indicators of each kommune that need a table its import declared not delivered
    (:data:`~kimtools.indicators.catalogue.NEEDS`): "keine Daten", not a count of zero."""
    for kommune, tables in absent.items():
        hit = (table["kommune"] == kommune).to_numpy() & table["kennzahl"].map(
            lambda k: bool(set(NEEDS[k]) & tables)).to_numpy(dtype=bool)
        if hit.any():
            table.loc[hit, ["zaehler", "nenner", "wert", "ki_unten", "ki_oben"]] = pd.NA


def _assemble(wide: pd.DataFrame, by: str, period: str, merkmal: str | None, wanted: set[str],
              post_only: np.ndarray | None = None) -> pd.DataFrame:
    """The indicator table from the wide counts: for each wide row its indicators in catalogue order, each from
    its declaration (numerator and denominator columns, factor, interval) or its computation.

    An indicator whose inputs the wide frame lacks (the other pass did not run, a reference figure not available
    for this breakdown) is left out.
    """
    values: dict[str, tuple] = {}
    f = lambda col: wide[col].to_numpy(dtype=float, na_value=np.nan)  # noqa: E731
    nan = np.full(len(wide), np.nan)
    for code in wanted:
        entry = CATALOGUE[code]
        if entry.berechnung in KM_COMPUTATIONS:
            prefix = KM_COMPUTATIONS[entry.berechnung]
            if f"{prefix}_median" in wide.columns:
                values[code] = (np.nan_to_num(f(f"{prefix}_events")), np.nan_to_num(f(f"{prefix}_n")),
                                f(f"{prefix}_median"), nan, nan)
            continue
        if entry.berechnung:   # a count the engine computes its own way, in a column of its name
            if entry.berechnung in wide.columns:
                z = f(entry.berechnung)
                values[code] = (z, nan, z, nan, nan)
            continue
        if entry.zaehler.column not in wide.columns or (entry.nenner and entry.nenner.column not in wide.columns):
            continue
        z = f(entry.zaehler.column)
        if entry.nenner is None:   # an amount of posts is no whole number: its value only
            values[code] = (nan if entry.zaehler.zaehlt in QUANTITIES else z, nan, z, nan, nan)
            continue
        n = f(entry.nenner.column)
        wert, lo, hi = rate(entry, z, n)
        values[code] = (z, n, np.asarray(wert, dtype=float), lo, hi)

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
    out = pd.DataFrame(long)
    if post_only is not None and post_only.any():   # rows of groups only posts have: the posts' indicators alone
        of_posts = np.array([pass_of(CATALOGUE[k]) == {"stellen"} for k in names], dtype=bool)
        out = out.loc[~(np.repeat(post_only, len(names)) & np.tile(~of_posts, len(wide)))].reset_index(drop=True)
    return out
