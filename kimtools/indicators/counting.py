"""From the catalogue's declarations to what the engine counts: the SQL condition of each count and the counts,
computations and reference figures a call needs.

Both routes of the indicator table use these: the pass over every case or referral (:mod:`.table`) and the cells
written at import (:mod:`.cells`), so that a declared count means the same on either. Counts are named by their
column (:attr:`~kimtools.contract.catalogue.Count.column`); no indicator's name appears here.

Examples
--------
>>> from kimtools.contract.catalogue import Count
>>> condition(Count("abschluesse", (("abschlussgrund", ("abbruch",)),)), case="f")
"coalesce((f.abschlussgrund IN ('abbruch')), false)"
>>> condition(Count("neuzugaenge", (("alter", (18, 27)),)), case="c")
'coalesce((year(c.beginn) - c.geburtsjahr BETWEEN 18 AND 27), false)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from ..contract.catalogue import CATALOGUE, FILTERS, OUTCOMES, REFERENCES, Count, Entry
from ..periods import TOTAL_START
from ..store import SPAN_TABLE, where_sql
from .stats import poisson_interval, share

__all__ = ["condition", "Needs", "needs", "rate", "EVENT_BASES", "STOCK_BASES", "HOUSEHOLD_BASES", "POST_BASES",
           "KM_COMPUTATIONS", "TOTAL_UNITS", "WINDOW", "BEFORE_WINDOW", "cell_columns", "period_grid_sql", "period_start_sql"]

#: counts of events on a day of P: cases begun, cases ended (the open cases are their running difference)
EVENT_BASES = ("neuzugaenge", "abschluesse")
#: counts over the cases open at some time in P: the cases, their distinct persons
STOCK_BASES = ("faelle_aktiv", "personen_erreicht")
#: computations that are Kaplan–Meier medians, with the prefix of their columns in the wide frames
KM_COMPUTATIONS = {"falldauer_median": "dauer", "wartezeit_median": "warte"}
#: counts of cases open in P that sum a quantity of theirs (household members), not rows
HOUSEHOLD_BASES = ("mitberatene", "personen_mit_angehoerigen")
#: counts of posts (full-time equivalents over the months of P)
POST_BASES = ("vzae_mittel", "vzae_monate")
#: the columns of a filter in its table (filters of the table counted, not the case's)
_OWN_COLUMN = {"beratung_handlungsfeld": "handlungsfeld", "ergebnis": "status"}
#: filters on true/false columns, declared with the codes ja/nein
_BOOLEAN = {"besetzt": {"ja": "true", "nein": "false"}}


#: the engine's units of the whole span: to the data end, and to the parameter ``$bis`` (since the start as it stood
#: on a day, e.g. at the end of a quarter a page shows)
TOTAL_UNITS = ("total", "total_bis")
#: the engine's unit of a time window, the days ``$von`` to ``$bis`` (a year, the last twelve months, from/to): one
#: period, pooled, and before it one period holding everything earlier, so that the running sums of open cases see
#: every case begun before the window (the engine drops that period from the table, :data:`BEFORE_WINDOW`)
WINDOW = "window"
#: where the period before a window starts in the engine's frames (never shown)
BEFORE_WINDOW = TOTAL_START


def period_grid_sql(unit: str, kommune_filter: bool) -> str:
    """The CTEs ``span`` (each kommune's data span, whatever the filters: one data end for censoring) and
    ``periods`` (``kommune, ps, pe``: every ``unit`` from the one holding its first date to the one holding its last;
    for ``total`` one period from :data:`~kimtools.periods.TOTAL_START` to the data end) that every pass of the
    engine counts in."""
    span = f"""span AS (
        SELECT * FROM {SPAN_TABLE} {where_sql(None, ["kommune"] if kommune_filter else [])})"""
    if unit == WINDOW:   # everything before the window, then the window (cut at the data end)
        return span + f""",
    periods AS (SELECT kommune, DATE '{BEFORE_WINDOW.isoformat()}' AS ps, CAST($von AS DATE) - 1 AS pe FROM span
                UNION ALL
                SELECT kommune, CAST($von AS DATE) AS ps, CAST(least(d1, $bis) AS DATE) AS pe FROM span)"""
    if unit in TOTAL_UNITS:   # up to the data end, or to the day ``$bis`` where it comes first
        end = "least(d1, $bis)" if unit == "total_bis" else "d1"
        return span + f""",
    periods AS (SELECT kommune, DATE '{TOTAL_START.isoformat()}' AS ps, CAST({end} AS DATE) AS pe FROM span)"""
    return span + f""",
    periods AS (
        SELECT kommune, CAST(ps AS DATE) AS ps, CAST(ps + INTERVAL 1 {unit} - INTERVAL 1 day AS DATE) AS pe
        FROM span, LATERAL (SELECT unnest(generate_series(date_trunc('{unit}', d0), date_trunc('{unit}', d1),
                                                          INTERVAL 1 {unit})) AS ps))"""


def period_start_sql(unit: str, day: str) -> str:
    """The start of the period (``unit``) holding the date ``day`` (SQL): what the engine buckets events by (NULL,
    in no period, for a day after ``$bis`` of ``total_bis``)."""
    if unit == "total":
        return f"DATE '{TOTAL_START.isoformat()}'"
    if unit == "total_bis":
        return f"CASE WHEN {day} <= $bis THEN DATE '{TOTAL_START.isoformat()}' END"
    if unit == WINDOW:
        return (f"CASE WHEN {day} < $von THEN DATE '{BEFORE_WINDOW.isoformat()}' "
                f"WHEN {day} <= $bis THEN CAST($von AS DATE) END")
    return f"CAST(date_trunc('{unit}', {day}) AS DATE)"


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def condition(count: Count, case: str, own: str | None = None) -> str:
    """The SQL condition a row must meet to be counted by ``count`` (never NULL): ``case`` is the alias of the
    case's row, ``own`` that of the consultation or referral counted (for their own columns)."""
    parts = []
    for column, values in count.filters:
        table = FILTERS[column][0]
        alias = case if table == "faelle" else own
        name = _OWN_COLUMN.get(column, column)
        if column == "alter":
            parts.append(f"year({case}.beginn) - {case}.geburtsjahr BETWEEN {values[0]} AND {values[1]}")
        elif column == "handlungsfelder":
            parts.append(f"EXISTS (SELECT 1 FROM fall_handlungsfelder hf WHERE hf.kommune = {case}.kommune "
                         f"AND hf.fall_id = {case}.fall_id AND hf.handlungsfeld IN ({', '.join(map(_quote, values))}))")
        elif values == (True,):
            parts.append(f"{alias}.{name} IS NOT NULL")
        elif column in _BOOLEAN:   # stored as true/false, declared as ja/nein
            parts.append(f"{alias}.{name} IN ({', '.join(sorted({_BOOLEAN[column][v] for v in values}))})")
        else:
            codes = [s for v in values for s in OUTCOMES[v]] if column == "ergebnis" else values
            parts.append(f"{alias}.{name} IN ({', '.join(map(_quote, dict.fromkeys(codes)))})")
    return f"coalesce(({') AND ('.join(parts)}), false)" if parts else "true"


@dataclass(frozen=True)
class Needs:
    """What a call of the indicator table computes: per pass the declared counts (the open cases' events
    included), the computations and the reference figures available for this breakdown and these filters."""

    events: tuple[Count, ...]         # cases begun / ended with their filters (always the unfiltered begun)
    opens: tuple[Count, ...]          # open cases on the last day, each the running sum of its events
    stocks: tuple[Count, ...]         # cases open in P, their persons
    once: tuple[Count, ...]           # persons open in P, each once (in the group of their case begun last)
    consultations: tuple[Count, ...]  # consultations
    referrals: tuple[Count, ...]      # referrals
    computations: frozenset[str]
    references: frozenset[str]
    households: tuple[Count, ...] = ()   # household members of the cases open in P (with their persons)
    posts: tuple[Count, ...] = ()        # full-time equivalents of posts


def _ordered(counts: Iterable[Count]) -> tuple[Count, ...]:
    return tuple(sorted(set(counts), key=lambda c: (c.zaehlt, c.filters != (), c.column)))


def needs(entries: Iterable[Entry], by: str, merkmal: str | None, filters: Mapping[str, str],
          post_merkmale: Iterable[str | None]) -> Needs:
    """The counts, computations and reference figures ``entries`` need, for grouping ``by``, breakdown ``merkmal``
    and case ``filters``: posts only for breakdowns posts are attributed to (``post_merkmale``) and without a
    target-group filter, population not by provider nor with a provider filter."""
    counts: set[Count] = set()
    computations: set[str] = set()
    references: set[str] = set()
    for entry in entries:
        if entry.berechnung:
            computations.add(entry.berechnung)
        for count in entry.counts:
            if count.zaehlt in REFERENCES:
                references.add(count.zaehlt)
            else:
                counts.add(count)
    if merkmal not in post_merkmale or "zielgruppe" in filters:
        references.discard("vzae")
    if by == "traeger" or "traeger" in filters:
        references -= {"einwohner", "auslaender"}
    if "ohne_beratung_90_tage" in computations:   # the open cases minus those with a consultation in 90 days
        counts.add(Count("faelle_offen"))
    opens = [c for c in counts if c.zaehlt == "faelle_offen"]
    events = {c for c in counts if c.zaehlt in EVENT_BASES} | {Count("neuzugaenge")}
    events |= {Count(base, c.filters) for c in opens for base in EVENT_BASES}
    return Needs(_ordered(events), _ordered(opens), _ordered(c for c in counts if c.zaehlt in STOCK_BASES),
                 _ordered(c for c in counts if c.zaehlt == "personen_einmal"),
                 _ordered(c for c in counts if c.zaehlt == "beratungen"),
                 _ordered(c for c in counts if c.zaehlt == "vermittlungen"),
                 frozenset(computations), frozenset(references),
                 _ordered(c for c in counts if c.zaehlt in HOUSEHOLD_BASES),
                 _ordered(c for c in counts if c.zaehlt in POST_BASES))


def cell_columns(entries: Iterable[Entry] = CATALOGUE.values()) -> Needs:
    """Every count the catalogue declares, as the cells written at import hold them (one column each)."""
    return needs(entries, "kommune", None, {}, (None,))



def rate(kennzahl: str | Entry, zaehler, nenner) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rate's value and 95 % interval from its counts, as its catalogue entry declares them: ``faktor`` ×
    ``zaehler`` / ``nenner`` (none where ``nenner`` is 0 or missing), the interval its ``intervall`` names (Wilson for
    shares, exact Poisson for rates per reference figure, none otherwise). Every place that shows a rate of the
    catalogue computes it here: the indicator table, the referral network, the pages.

    >>> wert, lo, hi = rate("annahmequote", [2], [4])
    >>> float(wert[0]), round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.5, 0.15, 0.85)
    """
    entry = CATALOGUE[kennzahl] if isinstance(kennzahl, str) else kennzahl
    z, n = np.asarray(zaehler, dtype=float), np.asarray(nenner, dtype=float)
    scale = entry.faktor / np.where(n > 0, n, np.nan)
    if entry.texts["intervall"] == "wilson":
        wert, lo, hi = share(z, n)
        return wert * entry.faktor, lo * entry.faktor, hi * entry.faktor
    if entry.texts["intervall"] == "poisson":
        lo, hi = poisson_interval(z)
        return z * scale, lo * scale, hi * scale
    nan = np.full(z.shape, np.nan)
    return z * scale, nan, nan
