"""The cells route of the indicator table: small integer tables written at import, summed in numpy.

The importer writes :data:`CELL_TABLES` into the store with every import (:func:`kimtools.ingest.importer.derive_tables`);
:func:`cell_counts` and :func:`cell_referrals` answer the indicator table's two passes from them where they hold
all a call needs, and return ``None`` otherwise, so that the SQL route of :mod:`kimtools.indicators.table`
answers. Tests compare both routes on the demo store.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..contract.codes import VERMITTLUNGSSTATUS
from ..contract.outcomes import OUTCOMES, wait_sql
from ..errors import StoreError
from ..store import SPAN_TABLE, has_derived, reader_memo, run_read
from .catalogue import REFERRAL_KENNZAHLEN
from .stats import km_medians

__all__ = ["CELL_TABLES", "GROUP_COLUMNS", "cell_counts", "cell_referrals"]

#: the columns cases are grouped and filtered by in the cells (``fallgruppen``)
GROUP_COLUMNS = ("kommune", "stadtbezirk", "traeger", "zielgruppe")
_GROUPS = ", ".join(GROUP_COLUMNS)

#: cases with the number of their cell group (``gid``, from ``fallgruppen``)
_GROUPED_CASES = """(SELECT g.gid, f.* FROM faelle f
    JOIN fallgruppen g ON g.kommune = f.kommune AND g.stadtbezirk IS NOT DISTINCT FROM f.stadtbezirk
         AND g.traeger IS NOT DISTINCT FROM f.traeger AND g.zielgruppe IS NOT DISTINCT FROM f.zielgruppe)"""
_MONTH = "CAST(year({d}) * 12 + month({d}) - 1 AS INTEGER)"
_WAIT_DAYS, _WAIT_COHORT = wait_sql("v", "s.d1")
#: cells, written at every import for what views ask for most (the indicator table reads them instead of every case
#: or referral when they hold all it needs). ``fallgruppen`` numbers each combination of the dimensions cases are
#: grouped and filtered by; the cells have per group (``gid``, of the case) and calendar month (``monat``: year × 12
#: + month − 1) their counts, and no row where all would be 0:
#:
#: * ``fallzellen``: the cases begun (``neu``), ended (``ab``), ended with their goal reached (``ziel``) and the
#:   consultations held (``beratungen``) in the month;
#: * ``vermittlungszellen``: the referrals made in the month, one column per status (the codes of
#:   :data:`~kimtools.contract.codes.VERMITTLUNGSSTATUS`), and those of them marking a gap (``luecken``);
#: * ``wartezellen``: the referrals made in the month that belong to the waiting cohort (:func:`~kimtools.contract.outcomes.wait_sql`) by days
#:   waited (``tage``): how many (``n``) and how many of them have had their first appointment (``beendet``; the
#:   others are censored at the data end);
#: * ``fallspannen``: per case the month it began (``monat``), the last month it is open (``bis``: the month it
#:   ended, or the data end's), and its person (``person``, a number standing for the pseudonym).
CELL_TABLES = {
    "fallgruppen": f"""SELECT CAST(row_number() OVER (ORDER BY {_GROUPS}) AS INTEGER) AS gid, {_GROUPS}
                      FROM (SELECT DISTINCT {_GROUPS} FROM faelle)""",
    "fallzellen": f"""
        WITH c AS {_GROUPED_CASES},
        ev AS (SELECT gid, beginn AS d, 1 AS neu, 0 AS ab, 0 AS ziel, 0 AS ber FROM c
               UNION ALL SELECT gid, ende, 0, 1, CASE WHEN abschlussgrund = 'ziel_erreicht' THEN 1 ELSE 0 END, 0
                         FROM c WHERE ende IS NOT NULL
               UNION ALL SELECT c.gid, b.datum, 0, 0, 0, 1 FROM beratungen b JOIN c USING (kommune, fall_id))
        SELECT gid, {_MONTH.format(d="d")} AS monat, CAST(sum(neu) AS INTEGER) AS neu,
               CAST(sum(ab) AS INTEGER) AS ab, CAST(sum(ziel) AS INTEGER) AS ziel, CAST(sum(ber) AS INTEGER) AS beratungen
        FROM ev WHERE d IS NOT NULL GROUP BY ALL ORDER BY ALL""",
    "vermittlungszellen": f"""
        SELECT c.gid, {_MONTH.format(d="v.datum")} AS monat,
               {", ".join(f"CAST(count(*) FILTER (WHERE v.status = '{code}') AS INTEGER) AS {code}"
                          for code in VERMITTLUNGSSTATUS)},
               CAST(count(v.luecke) AS INTEGER) AS luecken
        FROM vermittlungen v JOIN {_GROUPED_CASES} c USING (kommune, fall_id) GROUP BY ALL ORDER BY ALL""",
    "wartezellen": f"""
        SELECT c.gid, {_MONTH.format(d="v.datum")} AS monat, CAST({_WAIT_DAYS} AS INTEGER) AS tage,
               CAST(count(v.erstkontakt) AS INTEGER) AS beendet, CAST(count(*) AS INTEGER) AS n
        FROM vermittlungen v JOIN {_GROUPED_CASES} c USING (kommune, fall_id) JOIN {SPAN_TABLE} s ON s.kommune = v.kommune
        WHERE {_WAIT_COHORT} GROUP BY ALL ORDER BY ALL""",
    "fallspannen": f"""
        SELECT c.gid, {_MONTH.format(d="c.beginn")} AS monat, {_MONTH.format(d="coalesce(c.ende, s.d1)")} AS bis,
               CAST(dense_rank() OVER (ORDER BY c.person_pseudonym) AS INTEGER) AS person
        FROM {_GROUPED_CASES} c JOIN {SPAN_TABLE} s ON s.kommune = c.kommune ORDER BY ALL""",
}


#: what the cells (:data:`CELL_TABLES`) hold: the count-pass parts beyond new cases,
#: the referral indicators (open loops need days, not months), and the breakdowns (each a dimension of the cells;
#: filters always are)
_CELL_PARTS = {"ab", "open", "ber", "stock"}
_CELL_REFERRALS = set(REFERRAL_KENNZAHLEN) - {"offene_schleifen"}
_CELL_MERKMALE = (None, "stadtbezirk", "traeger", "zielgruppe")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


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
                                                       for table in CELL_TABLES if table != "fallgruppen"), [])
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
        if not all(has_derived(con, name) for name in CELL_TABLES):
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


def cell_counts(source, by: str, period: str, merkmal: str | None, kommune: str | None,
                filters: dict[str, str], need: set[str]) -> pd.DataFrame | None:
    """The count pass (the frame :func:`~kimtools.indicators.table._wide_sql` gives, with the parts ``need``) from the case cells and case spans stored at import, or
    ``None`` where they do not hold all it needs (other parts or breakdowns, frames instead of a store, a store
    written before).

    The cells (integers only) are summed here into the grid of every group in every period of its kommune, laid
    out from the groups, which are read once per state of the store; so is the running sum of open cases, and the
    cases and persons open in a period come from the spans (``_open_in_period``). That makes the counts views
    ask for most cost a fraction of a pass over every case.
    """
    if isinstance(source, Mapping) or merkmal not in _CELL_MERKMALE or not need <= _CELL_PARTS:
        return None
    columns = {"neu": "neuzugaenge", **({"ab": "abschluesse", "ziel": "ziel"} if "ab" in need else {}),
               **({"beratungen": "beratungen"} if "ber" in need else {})}
    tables = {"fallzellen": ["monat", *columns], **({"fallspannen": ["monat", "bis", "person"]} if "stock" in need else {})}
    got = _read_cells(source, by, merkmal, kommune, filters, tables)
    if got is None:
        return None
    layout, cells = got
    grid = _grid(layout, cells["chosen"]["code"], _MONTHS[period])   # every group of the scope has a case
    wide = {**grid["keys"], **_sums(grid, cells["fallzellen"], columns)}
    if "open" in need:   # begun minus ended up to each period, within each group
        change = wide["neuzugaenge"] - wide["abschluesse"]
        running = np.cumsum(change)
        start = grid["start"]
        wide["faelle_offen"] = running - np.repeat(running[start] - change[start], grid["n"])
    if "stock" in need:
        wide["aktiv"], wide["personen_erreicht"] = _open_in_period(grid, cells["fallspannen"])
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
                   filters: dict[str, str], wanted: Iterable[str], counts: Iterable[str]) -> pd.DataFrame | None:
    """The referral pass (the frame :func:`~kimtools.indicators.table._referral_sql` gives, with the outcome
    ``counts`` and the median wait) from the referral and waiting cells stored at import, or ``None`` where they do not hold all it needs
    (open loops, other breakdowns, frames instead of a store, a store written before)."""
    wanted = set(wanted) & set(REFERRAL_KENNZAHLEN)
    if isinstance(source, Mapping) or merkmal not in _CELL_MERKMALE or not wanted <= _CELL_REFERRALS:
        return None
    tables = {"vermittlungszellen": ["monat", *VERMITTLUNGSSTATUS, *(["luecken"] if "luecken" in counts else [])]}
    if "wartezeit_median_tage" in wanted:
        tables["wartezellen"] = ["monat", "tage", "beendet", "n"]
    got = _read_cells(source, by, merkmal, kommune, filters, tables)
    if got is None:
        return None
    layout, cells = got
    referrals = cells["vermittlungszellen"]
    grid = _grid(layout, referrals["code"], _MONTHS[period])   # every group with a referral
    sums = _sums(grid, referrals, {c: c for c in tables["vermittlungszellen"][1:]})
    wide = {**grid["keys"], "vermittlungen": sum(sums[code] for code in VERMITTLUNGSSTATUS)}
    for name in counts:
        wide[name] = sums[name] if name == "luecken" else sum(sums[code] for code in OUTCOMES[name])
    wide["offene_schleifen"] = np.zeros(grid["rows"], dtype=np.int64)
    if "wartezellen" in cells:
        waits = cells["wartezellen"]
        wide["warte_n"], wide["warte_events"], wide["warte_median"] = km_medians(
            grid["place"](waits["code"], waits["monat"]), waits["tage"], waits["beendet"].astype(np.int64), grid["rows"],
            waits["n"])
    return pd.DataFrame(wide)
