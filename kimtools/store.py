"""The store: one DuckDB file that notebooks and dashboards read.

How an import stays atomic while others read
--------------------------------------------
DuckDB lets one process write a file *or* several read it, not both. An
import therefore never writes the live file: under a writer lock it copies
the store to a temporary file, replaces the imported kommunen there in one
transaction, checkpoints, and renames the copy over the live file
(``os.replace``, atomic on POSIX). A reader that opened the old file keeps
reading the complete old state; the next query after the swap reopens and
sees the complete new state. A failed import deletes its copy: the live file
is untouched. Readers open the file read-only.

The default path is ``data/kim.duckdb`` in the project; ``KIMTOOLS_DB`` or an
explicit path overrides it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pandas as pd

from . import __version__
from .codes import VERMITTLUNGSSTATUS
from .errors import StoreError
from .i18n import fmt_date
from .quality import stichtage

__all__ = ["Store", "ImportResult", "default_db_path", "SCHEMA", "DATA_TABLES", "DATA_SPAN_SQL", "SPAN_TABLE", "CELL_TABLES", "wait_sql", "has_derived", "reader_memo", "in_parallel",
           "run_read", "memory_cursor"]

#: Column types of every stored table. ``kommune`` leads every data table.
SCHEMA: dict[str, dict[str, str]] = {
    "faelle": {
        "kommune": "VARCHAR", "fall_id": "VARCHAR", "person_pseudonym": "VARCHAR", "stadtbezirk": "VARCHAR",
        "traeger": "VARCHAR", "beginn": "DATE", "ende": "DATE", "abschlussgrund": "VARCHAR",
        "zielgruppe": "VARCHAR", "handlungsfelder": "VARCHAR", "aufenthaltsstatus": "VARCHAR",
        "zugang_ueber": "VARCHAR", "geschlecht": "VARCHAR", "geburtsjahr": "INTEGER", "haushalt_personen": "INTEGER",
    },
    "fall_handlungsfelder": {"kommune": "VARCHAR", "fall_id": "VARCHAR", "handlungsfeld": "VARCHAR"},
    "beratungen": {
        "kommune": "VARCHAR", "beratung_id": "VARCHAR", "fall_id": "VARCHAR", "datum": "DATE",
        "dauer_min": "INTEGER", "form": "VARCHAR", "handlungsfeld": "VARCHAR",
    },
    "vermittlungen": {
        "kommune": "VARCHAR", "vermittlung_id": "VARCHAR", "fall_id": "VARCHAR", "datum": "DATE",
        "an_partner": "VARCHAR", "handlungsfeld": "VARCHAR", "status": "VARCHAR", "erstkontakt": "DATE",
        "luecke": "VARCHAR",
    },
    "partner": {
        "kommune": "VARCHAR", "partner_id": "VARCHAR", "name": "VARCHAR", "typ": "VARCHAR",
        "rechtskreis": "VARCHAR", "case_management": "BOOLEAN", "stadtbezirk": "VARCHAR",
    },
    "stellen": {
        "kommune": "VARCHAR", "traeger": "VARCHAR", "stadtbezirk": "VARCHAR", "vzae": "DOUBLE",
        "von": "DATE", "bis": "DATE",
    },
    "statuswechsel": {"kommune": "VARCHAR", "fall_id": "VARCHAR", "datum": "DATE", "nach_status": "VARCHAR"},
    "bezirke": {
        "kommune": "VARCHAR", "stadtbezirk": "VARCHAR", "einwohner": "BIGINT", "auslaender": "BIGINT",
        "stand": "DATE", "quelle": "VARCHAR", "herkunft": "VARCHAR",
    },
}
DATA_TABLES = tuple(SCHEMA)
#: per kommune the first and the last date in its data (``kommune, d0, d1``): case starts and ends,
#: consultations, referrals. ``d1`` is the data end, where open cases and waits are censored.
DATA_SPAN_SQL = """SELECT kommune, min(d) AS d0, max(d) AS d1 FROM (
    SELECT kommune, beginn AS d FROM faelle UNION ALL SELECT kommune, ende FROM faelle
    UNION ALL SELECT kommune, datum FROM beratungen UNION ALL SELECT kommune, datum FROM vermittlungen)
    GROUP BY kommune"""
#: the table holding :data:`DATA_SPAN_SQL`, written at every import (queries name it instead of scanning all four
#: tables each time); :func:`run_read` puts the query in its place for a store written before it existed
SPAN_TABLE = "datenspanne"
_SPAN_NAME = re.compile(rf"\b{SPAN_TABLE}\b")


def wait_sql(alias: str, data_end: str) -> tuple[str, str]:
    """Days waited for a first appointment and the condition of belonging to the waiting cohort, as the
    catalogue defines them, for referrals ``alias`` (with ``datum``, ``erstkontakt``, ``status``): with a
    first appointment the days until it; still waiting ('vermittelt', 'warteliste', 'angenommen' without
    one) the days until ``data_end`` (censored); refused, not taken up and completed without a date are out."""
    days = f"date_diff('day', {alias}.datum, coalesce({alias}.erstkontakt, greatest({data_end}, {alias}.datum)))"
    cohort = f"({alias}.erstkontakt IS NOT NULL OR {alias}.status IN ('vermittelt', 'warteliste', 'angenommen'))"
    return days, cohort


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
#:   :data:`~kimtools.codes.VERMITTLUNGSSTATUS`), and those of them marking a gap (``luecken``);
#: * ``wartezellen``: the referrals made in the month that belong to the waiting cohort (:func:`wait_sql`) by days
#:   waited (``tage``): how many (``n``) and how many of them have had their first appointment (``beendet``; the
#:   others are censored at the data end);
#: * ``fallspannen``: per case the month it began (``monat``), the last month it is open (``bis``: the month it
#:   ended, or the data end's), and its person (``person``, a number standing for the pseudonym).
CELL_TABLES = {
    "fallgruppen": """SELECT CAST(row_number() OVER (ORDER BY kommune, stadtbezirk, traeger, zielgruppe) AS INTEGER) AS gid,
                             kommune, stadtbezirk, traeger, zielgruppe
                      FROM (SELECT DISTINCT kommune, stadtbezirk, traeger, zielgruppe FROM faelle)""",
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
#: tables derived from the data at import, which stores written by earlier versions may lack
_DERIVED = (SPAN_TABLE, *CELL_TABLES)

_LOG_COUNTS = ("faelle", "beratungen", "vermittlungen", "partner", "stellen", "statuswechsel", "bezirke")

_LOG_DDL = """
CREATE TABLE IF NOT EXISTS import_log (
    import_id INTEGER, zeitpunkt TIMESTAMP, quelle VARCHAR, sha256 VARCHAR, kommune VARCHAR,
    datenstand DATE, kimtools_version VARCHAR,
    """ + ", ".join(f"n_{t} BIGINT" for t in _LOG_COUNTS) + ")"


#: the data-quality summary of each kommune, computed from its stored tables at its import (what a dashboard shows
#: without reading every case; :func:`~kimtools.quality.quality_summary`)
_QUALITY_DDL = """
CREATE TABLE IF NOT EXISTS datenqualitaet (
    kommune VARCHAR, stichtag DATE, faelle BIGINT, ohne_beratung BIGINT, vermittlungen_offen_30 BIGINT,
    doku_luecken_monate BIGINT, parallele_faelle BIGINT, vollstaendigkeit DOUBLE)"""
_QUALITY_TABLES = ("faelle", "beratungen", "vermittlungen")


def default_db_path() -> Path:
    env = os.environ.get("KIMTOOLS_DB")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data" / "kim.duckdb"


@dataclass(frozen=True)
class ImportResult:
    """What an import did: per kommune the stored row counts, or ``unchanged``."""

    kommunen: tuple[str, ...]
    unchanged: bool
    counts: pd.DataFrame  # kommune × table row counts


# One read-only connection per file and process, reopened when the file was swapped.
_READERS: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}
_READERS_LOCK = threading.Lock()
#: connections some snapshot is reading (by id, with the number of snapshots): not closed under it
_PINNED: dict[int, int] = {}
#: open readers (by id) of stores written before some derived tables existed: the ones they lack
_MISSING: dict[int, frozenset[str]] = {}
#: per open reader (by id): what :func:`reader_memo` keeps for it
_MEMO: dict[int, dict] = {}


def _file_id(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns)


class Store:
    """The DuckDB store at ``path`` (default :func:`default_db_path`).

    Examples
    --------
    >>> store = Store("/nonexistent/kim.duckdb")
    >>> store.exists()
    False
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()

    # ------------------------------------------------------------------ reading
    def exists(self) -> bool:
        return self.path.exists()

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the current state of the store (inside :meth:`snapshot`: to its state)."""
        pinned = getattr(self, "_pinned", None)
        if pinned is not None:
            return pinned
        if not self.exists():
            raise StoreError(
                f"Unter {self.path} gibt es noch keinen Datenbestand. Erst einen Export importieren "
                "('kimtools import ORDNER') oder die Demodaten bauen ('make demo').",
                f"There is no store at {self.path} yet. Import an export first ('kimtools import FOLDER') "
                "or build the demo store ('make demo').")
        key = str(self.path.resolve())
        with _READERS_LOCK:
            for _ in range(5):  # the file may be swapped between stat and open
                ident = _file_id(self.path)
                cached = _READERS.get(key)
                if cached and cached[0] == ident:
                    return cached[1]
                if cached and id(cached[1]) in _PINNED:   # a snapshot still reads the old state: so do we, until it ends
                    return cached[1]
                if cached:   # closed, or DuckDB's instance cache would hand the old file out again
                    _MISSING.pop(id(cached[1]), None)
                    _MEMO.pop(id(cached[1]), None)
                    cached[1].close()
                    del _READERS[key]
                con = duckdb.connect(key, read_only=True)
                con.execute("SET enable_progress_bar = false")   # no bars in notebooks and terminals
                present = run_read(con, "SELECT table_name FROM information_schema.tables WHERE table_name IN "
                                        f"({', '.join('?' for _ in _DERIVED)})", list(_DERIVED))["table_name"]
                missing = frozenset(_DERIVED) - set(present)
                if missing:
                    _MISSING[id(con)] = missing
                if _file_id(self.path) == ident:
                    _READERS[key] = (ident, con)
                    return con
                _MISSING.pop(id(con), None)
                con.close()
        raise StoreError(f"Der Datenbestand {self.path} ändert sich gerade ständig; bitte erneut versuchen.",
                         f"The store {self.path} keeps changing; please try again.")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One state of the store for several queries, also from worker threads (:func:`in_parallel`): until the
        block ends every query reads the state it began with, even if an import swaps the file meanwhile."""
        if getattr(self, "_pinned", None) is not None:   # nested: the outer block's state
            yield self._pinned
            return
        con = self.connect()
        with _READERS_LOCK:
            _PINNED[id(con)] = _PINNED.get(id(con), 0) + 1
        self._pinned = con
        try:
            yield con
        finally:
            self._pinned = None
            with _READERS_LOCK:
                _PINNED[id(con)] -= 1
                if not _PINNED[id(con)]:
                    del _PINNED[id(con)]

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a read-only query; widget values go in ``params``, never into the SQL text. Safe from several
        threads at once (each query has its own cursor)."""
        return run_read(self.connect(), sql, params or [])

    def table(self, name: str, kommune: str | None = None) -> pd.DataFrame:
        if name not in SCHEMA and name != "import_log":
            raise StoreError(f"Unbekannte Tabelle {name!r}; bekannt: {', '.join(SCHEMA)}.",
                             f"Unknown table {name!r}; known: {', '.join(SCHEMA)}.")
        if kommune is None:
            return self.query(f"SELECT * FROM {name}")
        return self.query(f"SELECT * FROM {name} WHERE kommune = ?", [kommune])

    def load(self, kommune: str | None = None,
             tables: tuple[str, ...] = ("faelle", "beratungen", "vermittlungen", "partner")) -> dict[str, pd.DataFrame]:
        """Several tables from one consistent state of the store."""
        with self.snapshot():
            return {name: self.table(name, kommune) for name in tables}

    def quality(self, kommune: str) -> pd.DataFrame:
        """The data-quality summary of ``kommune`` as recorded at its import; computed from its stored tables for a
        store imported before kimtools recorded it."""
        from .quality import quality_summary

        with self.snapshot():
            if _has_table(self.connect(), "datenqualitaet"):
                rows = self.query("SELECT * FROM datenqualitaet WHERE kommune = ?", [kommune])
                if len(rows):
                    return rows
            return quality_summary(self.load(kommune, _QUALITY_TABLES))

    def kommunen(self) -> list[str]:
        return self.query("SELECT DISTINCT kommune FROM faelle ORDER BY kommune")["kommune"].tolist()

    def import_log(self) -> pd.DataFrame:
        return self.query("SELECT * FROM import_log ORDER BY import_id DESC, kommune")

    def info(self) -> pd.DataFrame:
        """Per kommune: row counts, posts (full-time equivalents) active at the data end, date range, last import."""
        return self.query(f"""
            WITH span AS (SELECT kommune, d0 AS daten_von, d1 AS daten_bis FROM {SPAN_TABLE}),
            last AS (SELECT kommune, arg_max(zeitpunkt, import_id) AS letzter_import,
                            arg_max(quelle, import_id) AS quelle FROM import_log GROUP BY kommune)
            SELECT k.kommune,
                   {", ".join(f"(SELECT count(*) FROM {t} x WHERE x.kommune = k.kommune) AS {t}" for t in _LOG_COUNTS if t != "bezirke")},
                   (SELECT coalesce(sum(s.vzae), 0) FROM stellen s WHERE s.kommune = k.kommune AND s.von <= span.daten_bis
                      AND (s.bis IS NULL OR s.bis >= span.daten_bis)) AS vzae_aktuell,
                   span.daten_von, span.daten_bis, last.letzter_import, last.quelle
            FROM (SELECT DISTINCT kommune FROM faelle) k
            LEFT JOIN span USING (kommune) LEFT JOIN last USING (kommune)
            ORDER BY k.kommune""")

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        with open(lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def replace_kommunen(self, export, force: bool = False) -> ImportResult:
        """Store a validated :class:`~kimtools.read.Export`, replacing each of its kommunen as one whole.

        Importing the same source again (same SHA-256 as the last import of
        every kommune in it) changes nothing. A source whose data end earlier
        than what is stored for a kommune is refused unless ``force``.
        """
        kommunen = tuple(export.kommunen)
        counts = _counts(export.tables, kommunen)
        with self._writer_lock():
            stored = self._stored_state(kommunen)
            if kommunen and all(stored.get(k, (None, None))[0] == export.sha256 for k in kommunen):
                return ImportResult(kommunen, True, counts)
            stand = {k: v.date() for k, v in stichtage(export.tables).items()}
            if not force:
                older = [(k, stand[k], stored[k][1]) for k in kommunen
                         if k in stored and stored[k][1] is not None and stand.get(k) and stand[k] < stored[k][1]]
                if older:
                    lines_de = "; ".join(f"{k}: Export bis {fmt_date(a, 'de')}, gespeichert bis {fmt_date(b, 'de')}" for k, a, b in older)
                    lines_en = "; ".join(f"{k}: export up to {fmt_date(a, 'en')}, stored up to {fmt_date(b, 'en')}" for k, a, b in older)
                    raise StoreError(
                        f"Der Export ist älter als der gespeicherte Stand ({lines_de}) und würde neuere Daten ersetzen. "
                        "Nichts wurde geändert. Wenn das gewollt ist: mit --erzwingen importieren.",
                        f"The export is older than the stored data ({lines_en}) and would replace newer data. "
                        "Nothing was changed. If intended, import with --force.")
            self._swap_in(export, kommunen, counts, stand)
        return ImportResult(kommunen, False, counts)

    def _stored_state(self, kommunen: tuple[str, ...]) -> dict[str, tuple[str, dt.date | None]]:
        if not self.exists():
            return {}
        rows = self.query("""SELECT kommune, arg_max(sha256, import_id) AS sha, arg_max(datenstand, import_id) AS stand
                             FROM import_log GROUP BY kommune""")
        return {r.kommune: (r.sha, None if pd.isna(r.stand) else pd.Timestamp(r.stand).date())
                for r in rows.itertuples() if r.kommune in kommunen}

    def _swap_in(self, export, kommunen, counts: pd.DataFrame, stand: dict) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            if self.exists():
                shutil.copyfile(self.path, tmp)
            con = duckdb.connect(str(tmp))
            try:
                _ensure_schema(con)
                con.execute("BEGIN TRANSACTION")
                for name, columns in SCHEMA.items():
                    con.execute(f"DELETE FROM {name} WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])
                    frame = export.tables.get(name)
                    if frame is None or frame.empty:
                        continue
                    con.register("incoming", frame)
                    select = ", ".join(f"CAST(incoming.{c} AS {t})" for c, t in columns.items())
                    con.execute(f"INSERT INTO {name} SELECT {select} FROM incoming")
                    con.unregister("incoming")
                next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM import_log").fetchone()[0]
                now = dt.datetime.now().replace(microsecond=0)
                for k in kommunen:
                    row = counts.loc[k]
                    con.execute(
                        f"INSERT INTO import_log VALUES (?, ?, ?, ?, ?, ?, ?, {', '.join('?' for _ in _LOG_COUNTS)})",
                        [next_id, now, export.source, export.sha256, k, stand.get(k), __version__,
                         *[int(row[t]) for t in _LOG_COUNTS]])
                _record_quality(con, kommunen)
                con.execute(f"CREATE OR REPLACE TABLE {SPAN_TABLE} AS {DATA_SPAN_SQL}")
                for name, sql in CELL_TABLES.items():
                    con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)


def run_read(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict, numpy: bool = False) -> pd.DataFrame | dict:
    """A query on its own cursor of ``con``: cursors of one connection may run at the same time. A frame, or with
    ``numpy`` a dict of arrays by column (no frame to build: for results that are only computed with)."""
    if SPAN_TABLE in _MISSING.get(id(con), ()):
        sql = _SPAN_NAME.sub(f"({DATA_SPAN_SQL})", sql)
    cursor = con.cursor()
    try:
        result = cursor.execute(sql, params)
        return result.fetchnumpy() if numpy else result.df()
    finally:
        cursor.close()


_MEMORY: list[duckdb.DuckDBPyConnection] = []
_MEMORY_LOCK = threading.Lock()


@contextlib.contextmanager
def memory_cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection of its own to one in-memory database shared by the process, for queries over frames.

    Opening an in-memory database costs about 25 ms, a cursor of an open one nothing; frames registered and
    ``TEMP`` tables created on the cursor are its own and go with it, so calls at the same time do not meet.
    Create only temporary objects on it.
    """
    with _MEMORY_LOCK:
        if not _MEMORY:
            _MEMORY.append(duckdb.connect(":memory:"))
            _MEMORY[0].execute("SET enable_progress_bar = false")
        cursor = _MEMORY[0].cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def reader_memo(con: duckdb.DuckDBPyConnection) -> dict:
    """A dict living as long as the reader ``con`` (from :meth:`Store.connect`), which reads one state of the store:
    for small tables derived at import that a view would otherwise read again at every change of a filter."""
    return _MEMO.setdefault(id(con), {})


def has_derived(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store read by ``con`` (from :meth:`Store.connect`) has the derived table ``name``."""
    return name not in _MISSING.get(id(con), ())


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (tables added by later versions are missing in older stores)."""
    return not run_read(con, "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).empty


def in_parallel(jobs: dict[str, Callable[[], object]], workers: int = 2) -> dict[str, object]:
    """Independent reads at the same time (DuckDB runs a query without holding Python's lock): the results by
    name, or the first job's error. Call inside :meth:`Store.snapshot` so that all jobs read one state."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in SCHEMA.items():
        cols = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    con.execute(_LOG_DDL)
    con.execute(_QUALITY_DDL)


def _record_quality(con: duckdb.DuckDBPyConnection, kommunen: tuple[str, ...]) -> None:
    """Replace the quality summary of ``kommunen`` by one computed from what was just stored, one kommune at a time."""
    from .quality import quality_summary

    con.execute("DELETE FROM datenqualitaet WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])
    for k in kommunen:
        tables = {t: con.execute(f"SELECT * FROM {t} WHERE kommune = ?", [k]).df() for t in _QUALITY_TABLES}
        if tables["faelle"].empty:
            continue
        con.register("summary", quality_summary(tables))
        con.execute("""INSERT INTO datenqualitaet SELECT kommune, stichtag, faelle, ohne_beratung, vermittlungen_offen_30,
                       doku_luecken_monate, parallele_faelle, vollstaendigkeit FROM summary""")
        con.unregister("summary")


def _counts(tables: dict[str, pd.DataFrame], kommunen: tuple[str, ...]) -> pd.DataFrame:
    data = {t: tables[t]["kommune"].value_counts().reindex(list(kommunen), fill_value=0) for t in _LOG_COUNTS}
    return pd.DataFrame(data, index=list(kommunen)).astype("int64")
