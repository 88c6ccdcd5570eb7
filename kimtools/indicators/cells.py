"""The cells route of the indicator table: small integer tables written at import, summed in numpy.

The importer writes :data:`CELL_TABLES` into the store with every import (:func:`kimtools.ingest.importer.derive_tables`);
:func:`cell_counts` and :func:`cell_referrals` answer the indicator table's two passes from them where they hold
all a call needs, and return ``None`` otherwise, so that the SQL route of :mod:`kimtools.indicators.table`
answers. Tests compare both routes on the demo store.
"""

from __future__ import annotations

import hashlib
import json
from typing import Mapping

import numpy as np
import pandas as pd

from ..contract.catalogue import Count
from ..contract.outcomes import wait_sql
from ..errors import StoreError
from ..store import SPAN_TABLE, has_derived, reader_memo, run_read
from .counting import EVENT_BASES, Needs, cell_columns, condition, needs
from .stats import km_medians

__all__ = ["CELL_TABLES", "CELLS_VERSION", "VERSION_TABLE", "GROUP_COLUMNS", "answered_by_cells", "cells_current", "cell_counts",
           "cell_referrals", "write_cells"]

#: the columns cases are grouped and filtered by in the cells (``fallgruppen``)
GROUP_COLUMNS = ("kommune", "stadtbezirk", "traeger", "zielgruppe")
_GROUPS = ", ".join(GROUP_COLUMNS)

#: cases with the number of their cell group (``gid``, from ``fallgruppen``)
_GROUPED_CASES = """(SELECT g.gid, f.* FROM faelle f
    JOIN fallgruppen g ON g.kommune = f.kommune AND g.stadtbezirk IS NOT DISTINCT FROM f.stadtbezirk
         AND g.traeger IS NOT DISTINCT FROM f.traeger AND g.zielgruppe IS NOT DISTINCT FROM f.zielgruppe)"""
_MONTH = "CAST(year({d}) * 12 + month({d}) - 1 AS INTEGER)"
_WAIT_DAYS, _WAIT_COHORT = wait_sql("v", "s.d1")
#: every declared count of the catalogue (shipped and the installation's own), as the cells hold them
_HELD: Needs = cell_columns()


def _span_flag(count: Count) -> str:
    """The column of the case spans that says whether a case meets ``count``'s filters."""
    return f"in_{count.filter_key}"


def _event_flags(kind: str) -> str:
    """Per declared count of cases begun/ended or of consultations: 0/1 for an event of ``kind``."""
    own = "b" if kind == "beratungen" else None
    return ", ".join(f"CAST({condition(c, 'c', own)} AS INTEGER) AS {c.column}" if c.zaehlt == kind else f"0 AS {c.column}"
                     for c in (*_HELD.events, *_HELD.consultations))


_CELL_EVENTS = [c.column for c in (*_HELD.events, *_HELD.consultations)]
#: cells, written at every import for what views ask for most (the indicator table reads them instead of every case
#: or referral when they hold all it needs), generated from the catalogue's declared counts (a column each, named
#: by :attr:`~kimtools.contract.catalogue.Count.column`). ``fallgruppen`` numbers each combination of the dimensions
#: cases are grouped and filtered by; the cells have per group (``gid``, of the case) and calendar month (``monat``:
#: year × 12 + month − 1) their counts, and no row where all would be 0:
#:
#: * ``fallzellen``: per declared count of cases begun, cases ended and consultations, how many in the month;
#: * ``vermittlungszellen``: per declared count of referrals, how many were made in the month;
#: * ``wartezellen``: the referrals made in the month that belong to the waiting cohort (:func:`~kimtools.contract.outcomes.wait_sql`) by days
#:   waited (``tage``): how many (``n``) and how many of them have had their first appointment (``beendet``; the
#:   others are censored at the data end);
#: * ``fallspannen``: per case the month it began (``monat``), the last month it is open (``bis``: the month it
#:   ended, or the data end's), its person (``person``, a number standing for the pseudonym), and per filter of a
#:   declared count of open cases or persons whether the case meets it (``in_…``).
CELL_TABLES = {
    "fallgruppen": f"""SELECT CAST(row_number() OVER (ORDER BY {_GROUPS}) AS INTEGER) AS gid, {_GROUPS}
                      FROM (SELECT DISTINCT {_GROUPS} FROM faelle)""",
    "fallzellen": f"""
        WITH c AS {_GROUPED_CASES},
        ev AS (SELECT c.gid, c.beginn AS d, {_event_flags("neuzugaenge")} FROM c
               UNION ALL SELECT c.gid, c.ende, {_event_flags("abschluesse")} FROM c WHERE c.ende IS NOT NULL
               UNION ALL SELECT c.gid, b.datum, {_event_flags("beratungen")} FROM beratungen b JOIN c USING (kommune, fall_id))
        SELECT gid, {_MONTH.format(d="d")} AS monat, {", ".join(f"CAST(sum({c}) AS INTEGER) AS {c}" for c in _CELL_EVENTS)}
        FROM ev WHERE d IS NOT NULL GROUP BY ALL ORDER BY ALL""",
    "vermittlungszellen": f"""
        SELECT c.gid, {_MONTH.format(d="v.datum")} AS monat,
               {", ".join(f"CAST(count(*) FILTER (WHERE {condition(k, 'c', 'v')}) AS INTEGER) AS {k.column}"
                          for k in _HELD.referrals)}
        FROM vermittlungen v JOIN {_GROUPED_CASES} c USING (kommune, fall_id) GROUP BY ALL ORDER BY ALL""",
    "wartezellen": f"""
        SELECT c.gid, {_MONTH.format(d="v.datum")} AS monat, CAST({_WAIT_DAYS} AS INTEGER) AS tage,
               CAST(count(v.erstkontakt) AS INTEGER) AS beendet, CAST(count(*) AS INTEGER) AS n
        FROM vermittlungen v JOIN {_GROUPED_CASES} c USING (kommune, fall_id) JOIN {SPAN_TABLE} s ON s.kommune = v.kommune
        WHERE {_WAIT_COHORT} GROUP BY ALL ORDER BY ALL""",
    "fallspannen": f"""
        SELECT c.gid, {_MONTH.format(d="c.beginn")} AS monat, {_MONTH.format(d="coalesce(c.ende, s.d1)")} AS bis,
               CAST(dense_rank() OVER (ORDER BY c.person_pseudonym) AS INTEGER) AS person
               {"".join(f", {condition(k, 'c')} AS {flag}" for flag, k in
                        {_span_flag(k): k for k in _HELD.stocks if k.filters}.items())}
        FROM {_GROUPED_CASES} c JOIN {SPAN_TABLE} s ON s.kommune = c.kommune ORDER BY ALL""",
}
#: the version of the cells: a digest of the SQL that derives them (so of the engine and of every declared count).
#: A store whose cells have another version (an earlier release, another catalogue) is answered by the pass over
#: every case until ``kimtools vorbereiten`` (or the next import) writes them anew (:func:`write_cells`)
CELLS_VERSION = hashlib.sha256(json.dumps(CELL_TABLES, sort_keys=True).encode()).hexdigest()[:16]
#: the table holding the version of the store's cells
VERSION_TABLE = "zellen_stand"


def write_cells(con) -> None:
    """Write the cells (:data:`CELL_TABLES`) and their version into the store's copy ``con``."""
    for name, sql in CELL_TABLES.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
    con.execute(f"CREATE OR REPLACE TABLE {VERSION_TABLE} AS SELECT ? AS version", [CELLS_VERSION])


def cells_current(con) -> bool:
    """Whether the store read by ``con`` has cells of this version (read once per state of the store)."""
    memo = reader_memo(con)
    if "cells_current" not in memo:
        memo["cells_current"] = (all(has_derived(con, name) for name in (*CELL_TABLES, VERSION_TABLE))
                                 and run_read(con, f"SELECT version FROM {VERSION_TABLE}", [])["version"].tolist()
                                 == [CELLS_VERSION])
    return memo["cells_current"]


#: months per period the cells sum (the whole span, ``total``, is answered by the pass over every case)
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
#: the breakdowns the cells hold (each a dimension of the cells; filters always are)
_CELL_MERKMALE = (None, "stadtbezirk", "traeger", "zielgruppe")


def _cell_layout(con, by: str, merkmal: str | None) -> dict:
    """The groups of the cells for this grouping and breakdown, read once per state of the store (which is checked
    then: every cell in its kommune's data span): per cell group number (``gid``) its group number in key order
    (``code``) and its dimensions (for filters), and per group number ``kommune, grp, ausp`` and the months of its
    kommune's data span (``m0``, ``m1``)."""
    memo = reader_memo(con)
    if "fallgruppen" not in memo:
        outside = run_read(con, " UNION ALL ".join(f"""
            SELECT count(*) AS n FROM {table} z JOIN fallgruppen g USING (gid) JOIN {SPAN_TABLE} s USING (kommune)
            WHERE z.monat < year(s.d0) * 12 + month(s.d0) - 1 OR z.monat > year(s.d1) * 12 + month(s.d1) - 1"""
                                                       for table in CELL_TABLES if table not in ("fallgruppen",)), [])
        if outside["n"].any():
            raise StoreError("Der Datenbestand ist uneinheitlich (Zellen außerhalb der Datenspanne): den Export "
                             "erneut importieren.", "The store is inconsistent (cells outside the data span): "
                             "import the export again.")
        memo["fallgruppen"] = run_read(con, f"""
            SELECT g.*, year(s.d0) * 12 + month(s.d0) - 1 AS m0, year(s.d1) * 12 + month(s.d1) - 1 AS m1
            FROM fallgruppen g JOIN {SPAN_TABLE} s USING (kommune) WHERE s.d0 IS NOT NULL ORDER BY g.gid""", [])
    key = ("cells", by, merkmal)
    if key not in memo:
        g = memo["fallgruppen"]
        keys = pd.DataFrame({"kommune": g["kommune"], "grp": g[by], "ausp": "Gesamt" if merkmal is None else g[merkmal]})
        order = keys.sort_values(["kommune", "grp", "ausp"], na_position="last", kind="stable").index.to_numpy()
        first = ~keys.iloc[order].duplicated().to_numpy()
        gid = g["gid"].to_numpy()
        code = np.full(int(gid.max()) + 1 if len(gid) else 1, -1, dtype=np.int64)   # by cell group number
        code[gid[order]] = np.cumsum(first) - 1
        dims = {c: np.full(len(code), None, dtype=object) for c in GROUP_COLUMNS}
        for c, values in dims.items():
            values[gid] = g[c].to_numpy()
        heads = order[first]
        memo[key] = {"code": code, "dims": dims, "rows": {c: keys[c].array.take(heads) for c in ("kommune", "grp", "ausp")},
                     "m0": g["m0"].to_numpy(dtype=np.int64)[heads], "m1": g["m1"].to_numpy(dtype=np.int64)[heads]}
    return memo[key]


def _read_cells(source, by: str, merkmal: str | None, kommune: str | None, filters: dict[str, str],
                tables: dict[str, list[str]]) -> tuple[dict, dict[str, dict]] | None:
    """The cell layout (:func:`_cell_layout`) and, per cell table named in ``tables``, the listed columns and the
    group number (``code``) of its cells in the scope (kommune and filters); ``None`` for a store written before
    the cells existed."""
    with source.snapshot() as con:
        if not cells_current(con):
            return None
        layout = _cell_layout(con, by, merkmal)
        chosen = layout["code"] >= 0
        for col, value in {**({"kommune": kommune} if kommune is not None else {}), **filters}.items():
            chosen &= layout["dims"][col] == value
        gids = np.flatnonzero(chosen)
        # a kommune's cell groups are numbered one after another: read only its range; the cells are summed into
        # the grid (:func:`_grid`), faster than grouping them in the database first
        bounds = {"lo": int(gids.min()) if len(gids) else 0, "hi": int(gids.max()) if len(gids) else -1}
        read = {name: run_read(con, f"SELECT gid, {', '.join(columns)} FROM {name} WHERE gid BETWEEN $lo AND $hi",
                               bounds, numpy=True) for name, columns in tables.items()}
    cells = {}
    for name, columns in read.items():
        gid = np.asarray(columns.pop("gid"))
        inside = chosen[gid]
        if not inside.all():   # groups in the range that the filters leave out
            gid, columns = gid[inside], {c: np.asarray(v)[inside] for c, v in columns.items()}
        cells[name] = {**{c: np.asarray(v) for c, v in columns.items()}, "code": layout["code"][gid]}
    return layout, {**cells, "chosen": {"code": layout["code"][gids]}}


def _grid(layout: dict, codes: np.ndarray, step: int) -> dict:
    """Every group of ``codes`` (group numbers) in every period of ``step`` months of its kommune's data span:
    ``kommune, grp, ausp, ps`` by row (groups in key order, periods in time order), each group's first row
    (``start``) and number of rows (``n``), and ``place(code, monat)``: the row of cells."""
    groups = np.unique(codes)
    renumber = np.full(len(layout["m0"]), -1)
    renumber[groups] = np.arange(len(groups))
    p0, p1 = layout["m0"][groups] // step, layout["m1"][groups] // step
    n = p1 - p0 + 1
    start = np.cumsum(n) - n
    group_of_row = np.repeat(np.arange(len(groups)), n)
    p = p0[group_of_row] + np.arange(int(n.sum())) - start[group_of_row]
    base = start - p0   # per group the row of period 0 (its cells lie in its kommune's data span: checked per state)
    take = groups[group_of_row]
    return {"keys": {**{c: layout["rows"][c].take(take) for c in ("kommune", "grp", "ausp")},
                     "ps": (p * step - 1970 * 12).astype("datetime64[M]").astype("datetime64[us]")},
            "start": start, "n": n, "rows": len(p),
            "place": lambda code, monat: base[renumber[code]] + monat.astype(np.int64) // step}


def _sums(grid: dict, cells: dict, columns: dict[str, str]) -> dict[str, np.ndarray]:
    """The cells' ``columns`` (name in the cells: name in the result) summed per row of ``grid``."""
    rows = grid["place"](cells["code"], cells["monat"])
    return {name: np.bincount(rows, weights=cells[c], minlength=grid["rows"]).astype(np.int64)
            for c, name in columns.items()}


#: every count the cells answer
_HELD_COUNTS = frozenset((*_HELD.events, *_HELD.opens, *_HELD.stocks, *_HELD.consultations, *_HELD.referrals))


def _cases_held(need: Needs) -> bool:
    """Whether the case cells and spans hold what the count pass needs: declared counts only (no reference figure,
    no persons counted once, no household members, no computation of the case pass)."""
    return (not (need.references or need.once or need.households
                 or need.computations - {"wartezeit_median", "offen_ueber_30_tage"})
            and {*need.events, *need.opens, *need.stocks, *need.consultations} <= _HELD_COUNTS)


def _referrals_held(need: Needs) -> bool:
    """Whether the referral and waiting cells hold what the referral pass needs (open loops need days)."""
    return "offen_ueber_30_tage" not in need.computations and set(need.referrals) <= _HELD_COUNTS


def answered_by_cells(entry) -> bool:
    """Whether the cells can answer a catalogue entry alone (asked for without the others, by a breakdown of
    theirs): what :func:`cell_counts` and :func:`cell_referrals` check, for this entry's needs."""
    need = needs([entry], "kommune", None, {}, (None,))
    return _cases_held(need) and _referrals_held(need)


def cell_counts(source, by: str, period: str, merkmal: str | None, kommune: str | None,
                filters: dict[str, str], need: Needs) -> pd.DataFrame | None:
    """The count pass (the frame :func:`~kimtools.indicators.table._wide_sql` gives for ``need``) from the case
    cells and case spans stored at import, or ``None`` where they do not hold all it needs (computations, reference
    figures, other breakdowns, frames instead of a store, a store whose cells are missing or of another version).

    The cells (integers only) are summed here into the grid of every group in every period of its kommune, laid
    out from the groups, which are read once per state of the store; so is the running sum of open cases, and the
    cases and persons open in a period come from the spans (``_open_in_period``). That makes the counts views
    ask for most cost a fraction of a pass over every case.
    """
    if isinstance(source, Mapping) or period not in _MONTHS or merkmal not in _CELL_MERKMALE or not _cases_held(need):
        return None
    columns = [c.column for c in (*need.events, *need.consultations)]
    flags = list(dict.fromkeys(_span_flag(c) for c in need.stocks if c.filters))
    tables = {"fallzellen": ["monat", *columns], **({"fallspannen": ["monat", "bis", "person", *flags]} if need.stocks else {})}
    got = _read_cells(source, by, merkmal, kommune, filters, tables)
    if got is None:
        return None
    layout, cells = got
    grid = _grid(layout, cells["chosen"]["code"], _MONTHS[period])   # every group of the scope has a case
    wide = {**grid["keys"], **_sums(grid, cells["fallzellen"], {c: c for c in columns})}
    for count in need.opens:   # begun minus ended up to each period, within each group
        begun, ended = (Count(base, count.filters).column for base in EVENT_BASES)
        change = wide[begun] - wide[ended]
        running = np.cumsum(change)
        start = grid["start"]
        wide[count.column] = running - np.repeat(running[start] - change[start], grid["n"])
    for count in need.stocks:
        spans = cells["fallspannen"]
        if count.filters:
            keep = np.asarray(spans[_span_flag(count)], dtype=bool)
            spans = {k: v[keep] for k, v in spans.items()}
        cases, persons = _open_in_period(grid, spans)
        wide[count.column] = cases if count.zaehlt == "faelle_aktiv" else persons
    return pd.DataFrame(wide)


def _open_in_period(grid: dict, spans: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``grid``: the cases open at some time in its period, and their distinct persons, from the cases'
    spans (``fallspannen``: month begun, last month open, person).

    A case covers the rows from its first period to its last; the count per row is a running sum of +1 where
    spans begin and −1 after they end. Persons: the spans of one person in one group are first merged where they
    overlap, so that each person covers each row at most once and the same running sum counts them."""
    rows = grid["rows"]
    first, last = grid["place"](spans["code"], spans["monat"]), grid["place"](spans["code"], spans["bis"])

    def covered(begins: np.ndarray, ends: np.ndarray) -> np.ndarray:
        change = np.bincount(begins, minlength=rows + 1) - np.bincount(ends + 1, minlength=rows + 1)
        return np.cumsum(change)[:rows]

    # by person, then by first row: a group's rows are one range, so each person's spans in one group come together
    person = spans["person"].astype(np.int64)
    order = np.argsort(person * (rows + 1) + first)
    person, b, e = person[order], first[order], last[order]
    group = np.searchsorted(grid["start"], b, side="right") - 1
    same = np.r_[False, (group[1:] == group[:-1]) & (person[1:] == person[:-1])]
    owner = np.cumsum(~same)                        # 1, 2, … per (group, person), increasing
    reach = np.maximum.accumulate(owner * (rows + 1) + e) - owner * (rows + 1)   # the furthest end so far, per owner
    starts = ~same | np.r_[True, b[1:] > reach[:-1]]   # a span not overlapping the ones before begins a merged one
    at = np.flatnonzero(starts)
    return covered(first, last), covered(b[at], reach[np.r_[at[1:] - 1, len(b) - 1]])


def cell_referrals(source, by: str, period: str, merkmal: str | None, kommune: str | None,
                   filters: dict[str, str], need: Needs) -> pd.DataFrame | None:
    """The referral pass (the frame :func:`~kimtools.indicators.table._referral_sql` gives for ``need``, with the
    median wait) from the referral and waiting cells stored at import, or ``None`` where they do not hold all it
    needs (open loops, other breakdowns, frames instead of a store, a store whose cells are missing or of another
    version)."""
    if isinstance(source, Mapping) or period not in _MONTHS or merkmal not in _CELL_MERKMALE or not _referrals_held(need):
        return None
    columns = list(dict.fromkeys(["vermittlungen", *(c.column for c in need.referrals)]))
    tables = {"vermittlungszellen": ["monat", *columns]}
    if "wartezeit_median" in need.computations:
        tables["wartezellen"] = ["monat", "tage", "beendet", "n"]
    got = _read_cells(source, by, merkmal, kommune, filters, tables)
    if got is None:
        return None
    layout, cells = got
    referrals = cells["vermittlungszellen"]
    grid = _grid(layout, referrals["code"], _MONTHS[period])   # every group with a referral
    wide = {**grid["keys"], **_sums(grid, referrals, {c: c for c in columns})}
    wide["offen_ueber_30_tage"] = np.zeros(grid["rows"], dtype=np.int64)
    if "wartezellen" in cells:
        waits = cells["wartezellen"]
        wide["warte_n"], wide["warte_events"], wide["warte_median"] = km_medians(
            grid["place"](waits["code"], waits["monat"]), waits["tage"], waits["beendet"].astype(np.int64), grid["rows"],
            waits["n"])
    return pd.DataFrame(wide)
