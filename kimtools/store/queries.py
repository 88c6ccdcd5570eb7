"""Reading the store: one read-only connection per file and process (reopened after a swap, kept while a snapshot
reads it), queries on cursors of their own, one in-memory database for queries over frames, the WHERE builder,
and independent reads at the same time."""

from __future__ import annotations

import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import duckdb
import pandas as pd

from ..errors import AccessError, StoreError
from .files import DUCKDB_CONFIG, connect_file, is_damage, unreadable
from .tables import DATA_SPAN_SQL, LATER_COLUMNS, SCHEMA, SPAN_TABLE

__all__ = ["open_reader", "scope_of", "check_access", "pin", "unpin", "run_read", "memory_cursor", "reader_memo", "has_derived", "has_table", "has_column",
           "in_parallel", "scope_params", "where_sql", "scope_sql", "run_query"]

_SPAN_NAME = re.compile(rf"\b{SPAN_TABLE}\b")

# One read-only connection per file and process, reopened when the file was swapped.
_READERS: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}
_READERS_LOCK = threading.Lock()
#: connections some snapshot is reading (by id, with the number of snapshots): not closed under it
_PINNED: dict[int, int] = {}
#: per open reader (by id): the tables its store has (stores written by earlier versions lack some derived ones)
_PRESENT: dict[int, frozenset[str]] = {}
#: per open reader (by id): the columns of :data:`~kimtools.store.tables.LATER_COLUMNS` its store still lacks (written
#: by an earlier version and not written since), by table
_LACKING: dict[int, dict[str, dict[str, str]]] = {}
#: per open reader (by id): what :func:`reader_memo` keeps for it
_MEMO: dict[int, dict] = {}
#: per open reader (by id): the store's path, for messages
_PATHS: dict[int, Path] = {}
#: per scoped reader (by id): the kommunen it may read, and the store's other kommunen, which a query may not name
_SCOPES: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _file_id(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns)


def open_reader(path: Path, scope: frozenset[str] | None = None) -> duckdb.DuckDBPyConnection:
    """The process's read-only connection to the store at ``path`` as it is now: opened once and kept, reopened
    when an import has swapped the file, unless a snapshot still reads the old state. With ``scope`` (a set of
    kommunen) the connection sees only their rows (:func:`_scoped_connection`) and refuses a query that names another
    kommune of the store (:func:`run_read`)."""
    key = str(path.resolve()) + ("" if scope is None else "\x1f" + "\x1f".join(sorted(scope)))
    with _READERS_LOCK:
        for _ in range(5):  # the file may be swapped between stat and open
            ident = _file_id(path)
            cached = _READERS.get(key)
            if cached and cached[0] == ident:
                return cached[1]
            if cached and id(cached[1]) in _PINNED:   # a snapshot still reads the old state: so do we, until it ends
                return cached[1]
            if cached:   # closed, or DuckDB's instance cache would hand the old file out again
                _PRESENT.pop(id(cached[1]), None)
                _LACKING.pop(id(cached[1]), None)
                _MEMO.pop(id(cached[1]), None)
                _PATHS.pop(id(cached[1]), None)
                _SCOPES.pop(id(cached[1]), None)
                cached[1].close()
                del _READERS[key]
            con = connect_file(path.resolve()) if scope is None else _scoped_connection(path.resolve(), scope)
            try:
                con.execute("SET enable_progress_bar = false")   # no bars in notebooks and terminals
                present = frozenset(con.execute("SELECT table_name FROM information_schema.tables").df()["table_name"])
                held = set(con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall())
            except duckdb.Error as exc:
                con.close()
                raise unreadable(path, exc) from None
            if not {"faelle", "import_log"} <= present:
                con.close()
                raise StoreError(
                    f"{path} ist eine DuckDB-Datenbank, aber kein kimtools-Datenbestand (es fehlen die Tabellen "
                    "faelle und import_log). Nichts wurde geändert. Bitte den Pfad des Datenbestands angeben "
                    "oder einen neuen Dateinamen wählen.",
                    f"{path} is a DuckDB database but no kimtools store (the tables faelle and import_log are "
                    "missing). Nothing was changed. Give the path of the store or choose a new file name.")
            _PATHS[id(con)] = path
            _PRESENT[id(con)] = present
            lacking = {t: {c: v for c, v in cols.items() if (t, c) not in held} for t, cols in LATER_COLUMNS.items()}
            _LACKING[id(con)] = {t: cols for t, cols in lacking.items() if cols and t in present}
            if _file_id(path) == ident:
                _READERS[key] = (ident, con)
                return con
            _PRESENT.pop(id(con), None)
            _LACKING.pop(id(con), None)
            _SCOPES.pop(id(con), None)
            con.close()
    raise StoreError(f"Der Datenbestand {path} ändert sich gerade ständig; bitte erneut versuchen.",
                     f"The store {path} keeps changing; please try again.")


#: the catalogue a scoped reader attaches the store file as
_ATTACHED = "kim"
#: the table naming each cell group's kommune (the cells themselves hold only the group's number, ``gid``)
GROUP_TABLE = "fallgruppen"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _scoped_connection(path: Path, scope: frozenset[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the store at ``path`` attached read-only, in which every table of the store is a
    view under its own name (in the in-memory database, so that every cursor sees them), those with a ``kommune``
    column of their rows of ``scope`` only, the cells (a ``gid``) of the groups of ``scope``
    (:data:`GROUP_TABLE`): every query, the engine's included, reads only the kommunen in scope. The
    store's other kommunen are noted, so that a query naming one of them is refused (:func:`run_read`) instead of
    answered with nothing."""
    if path.is_dir() or not path.exists():
        return connect_file(path)   # the unscoped opener's message for a folder or a missing file
    con = duckdb.connect(":memory:", config=DUCKDB_CONFIG)
    try:
        con.execute(f"ATTACH {_quoted(str(path))} AS {_ATTACHED} (READ_ONLY)")
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = ?",
                              [_ATTACHED]).fetchall()
        tables = sorted({t for t, c in columns if c == "kommune"})
        grouped = {t for t, c in columns if c == "gid"} - set(tables)   # the cells: by the group of their kommune
        allowed = ", ".join(_quoted(k) for k in sorted(scope)) or "NULL"
        for table in sorted({t for t, _c in columns}):
            rows = (f" WHERE kommune IN ({allowed})" if table in tables else
                    f" WHERE gid IN (SELECT gid FROM {_ATTACHED}.main.{GROUP_TABLE} WHERE kommune IN ({allowed}))"
                    if table in grouped and GROUP_TABLE in tables else "")
            con.execute(f'CREATE VIEW memory.main."{table}" AS SELECT * FROM {_ATTACHED}.main."{table}"{rows}')
        known = {r[0] for r in con.execute(
            f"SELECT DISTINCT kommune FROM {_ATTACHED}.main.faelle UNION SELECT DISTINCT kommune FROM "
            f"{_ATTACHED}.main.import_log").fetchall() if r[0] is not None} if {"faelle", "import_log"} <= set(tables) else set()
    except duckdb.Error as exc:
        con.close()
        raise unreadable(path, exc) from None
    _SCOPES[id(con)] = (frozenset(scope), frozenset(known) - frozenset(scope))
    return con


def scope_of(con: duckdb.DuckDBPyConnection) -> frozenset[str] | None:
    """The kommunen the reader ``con`` may read (``None``: all)."""
    found = _SCOPES.get(id(con))
    return None if found is None else found[0]


def check_access(con: duckdb.DuckDBPyConnection, kommunen: Iterable[object]) -> None:
    """Refuse (:class:`~kimtools.errors.AccessError`, nothing read) when any of ``kommunen`` is a kommune of the store
    that the reader ``con`` may not read."""
    found = _SCOPES.get(id(con))
    if found is None:
        return
    allowed, others = found
    values = [v for k in kommunen for v in (k if isinstance(k, (list, tuple, set, frozenset)) else (k,))]
    asked = sorted({k for k in values if isinstance(k, str) and k in others})
    if asked:
        mine = ", ".join(sorted(allowed)) or "keine"
        raise AccessError(
            f"Kein Zugriff auf die Daten von {', '.join(asked)}: Ihre Anmeldung gilt für {mine}. Nichts wurde gelesen. "
            "Zugriff auf weitere Kommunen vergibt die Stelle, die kimtools betreibt (zugriff.toml).",
            f"No access to the data of {', '.join(asked)}: your login holds {mine if allowed else 'none'}. Nothing was "
            "read. Access to further kommunen is granted by whoever runs kimtools (zugriff.toml).")


def pin(con: duckdb.DuckDBPyConnection) -> None:
    """A snapshot reads ``con``: it is not closed under it, even when the file is swapped."""
    with _READERS_LOCK:
        _PINNED[id(con)] = _PINNED.get(id(con), 0) + 1


def unpin(con: duckdb.DuckDBPyConnection) -> None:
    """A snapshot of ``con`` ended."""
    with _READERS_LOCK:
        _PINNED[id(con)] -= 1
        if not _PINNED[id(con)]:
            del _PINNED[id(con)]


def scope_params(kommune: str | None, filters: Mapping[str, str | None] | None = None) -> dict:
    """The parameters of a scope: the kommune (``None``: all) and the filters that are set (``None``: not set)."""
    return {**({"kommune": kommune} if kommune is not None else {}),
            **{c: v for c, v in (filters or {}).items() if v is not None}}


def where_sql(alias: str | None, columns: Iterable[str], conditions: Iterable[str] = ()) -> str:
    """``WHERE`` each of ``columns`` (of the table ``alias``) equals the parameter of its name, and every further
    condition; empty where there is nothing to require. Values travel as parameters, never in the SQL text.

    >>> where_sql("f", ["kommune", "stadtbezirk"], ["v.datum >= $von"])
    'WHERE f.kommune = $kommune AND f.stadtbezirk = $stadtbezirk AND v.datum >= $von'
    """
    clauses = [f"{alias + '.' if alias else ''}{c} = ${c}" for c in columns] + list(conditions)
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def scope_sql(alias: str | None, kommune: str | None, filters: Mapping[str, str | None] | None = None,
              conditions: Iterable[str] = ()) -> tuple[str, dict]:
    """The ``WHERE`` clause of a kommune (or all) and filters (:func:`where_sql`) with its parameters
    (:func:`scope_params`).

    >>> scope_sql("f", "Herne", {"stadtbezirk": "Sodingen", "traeger": None})
    ('WHERE f.kommune = $kommune AND f.stadtbezirk = $stadtbezirk', {'kommune': 'Herne', 'stadtbezirk': 'Sodingen'})
    """
    params = scope_params(kommune, filters)
    return where_sql(alias, params, conditions), params


def run_read(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict, numpy: bool = False) -> pd.DataFrame | dict:
    """A query on its own cursor of ``con``: cursors of one connection may run at the same time. A frame, or with
    ``numpy`` a dict of arrays by column (no frame to build: for results that are only computed with)."""
    if SPAN_TABLE not in _PRESENT.get(id(con), (SPAN_TABLE,)):
        sql = _SPAN_NAME.sub(f"({DATA_SPAN_SQL})", sql)
    for table, columns in _LACKING.get(id(con), {}).items():
        sql = with_later_columns(sql, table, columns)
    if id(con) in _SCOPES:   # a scoped reader: every value a query is given is checked against its kommunen
        check_access(con, params.values() if isinstance(params, Mapping) else params)
    cursor = con.cursor()
    try:
        result = cursor.execute(sql, params)
        return result.fetchnumpy() if numpy else result.df()
    except duckdb.Error as exc:
        path = _PATHS.get(id(con))
        if path is None or not is_damage(exc):
            raise
        raise unreadable(path, exc) from None
    finally:
        cursor.close()


#: what may follow a table's name in FROM or JOIN without being its alias
_NOT_ALIAS = ("where", "join", "left", "right", "inner", "full", "cross", "natural", "on", "using", "group", "order",
              "limit", "union", "except", "intersect", "window", "qualify", "having", "positional", "asof", "anti", "semi")


def with_later_columns(sql: str, table: str, columns: Mapping[str, str]) -> str:
    """``sql`` reading ``table`` of a store written before ``columns`` existed: each ``FROM``/``JOIN`` of the table
    reads it with those columns added as their values (:data:`~kimtools.store.tables.LATER_COLUMNS`), under its
    alias or its own name.

    >>> with_later_columns("SELECT sum(vzae) FROM stellen st WHERE st.besetzt", "stellen", {"besetzt": "true"})
    'SELECT sum(vzae) FROM (SELECT *, true AS besetzt FROM stellen) AS st WHERE st.besetzt'
    """
    added = ", ".join(f"{value} AS {column}" for column, value in columns.items())

    keyword = "|".join(_NOT_ALIAS)
    pattern = rf"\b(FROM|JOIN)\s+{table}\b(?!\s*\.)(?:\s+(?:AS\s+)?(?!(?:{keyword})\b)([A-Za-z_]\w*))?"
    return re.sub(pattern, lambda m: f"{m.group(1)} (SELECT *, {added} FROM {table}) AS {m.group(2) or table}", sql,
                  flags=re.IGNORECASE)


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
    return name in _PRESENT.get(id(con), (name,))


def has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether the store's ``table`` has ``column`` (columns added by later versions are missing in older stores)."""
    return not run_read(con, "SELECT 1 FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
                        [table, column]).empty


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (tables added by later versions are missing in older stores)."""
    return not run_read(con, "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).empty


#: the process's worker threads for independent reads, created once: two, as many as the cores a dashboard server
#: is sized for (DuckDB parallelises each query on its own)
_WORKERS = ThreadPoolExecutor(2, thread_name_prefix="kimtools-read")
_IN_WORKER = threading.local()


def in_parallel(jobs: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Independent reads at the same time (DuckDB runs a query without holding Python's lock): the results by
    name, or the first job's error. Call inside :meth:`Store.snapshot` so that all jobs read one state.

    The jobs run on the process's two shared worker threads; a job that itself calls :func:`in_parallel` runs its
    jobs one after another in its own thread, so that no worker waits for a place in its own pool.

    >>> in_parallel({"a": lambda: 1, "b": lambda: in_parallel({"c": lambda: 2, "d": lambda: 3})})
    {'a': 1, 'b': {'c': 2, 'd': 3}}
    """
    if getattr(_IN_WORKER, "active", False) or len(jobs) < 2:
        return {name: job() for name, job in jobs.items()}
    futures = {name: _WORKERS.submit(_as_worker, job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def _as_worker(job: Callable[[], object]) -> object:
    _IN_WORKER.active = True
    try:
        return job()
    finally:
        _IN_WORKER.active = False


#: the tables an export may lack: empty when a query runs on frames without them
_OPTIONAL = {"stellen", "bezirke", "fall_handlungsfelder", "statuswechsel"}


def run_query(source, sql: str, params: dict) -> pd.DataFrame:
    """Run ``sql`` on a :class:`~kimtools.Store`, or on a mapping of frames loaded into an in-memory
    database with the store's column types (missing optional tables are empty)."""
    if not isinstance(source, Mapping):
        return run_read(source.connect(), sql, params)

    with memory_cursor() as con:
        for name in ("faelle", "beratungen", "vermittlungen", "partner", *_OPTIONAL):
            frame = source.get(name)
            if frame is None:
                cols = ", ".join(f"{c} {t}" for c, t in SCHEMA[name].items())
                con.execute(f"CREATE TEMP TABLE {name} ({cols})")
            else:
                con.register(f"_{name}", frame)
                later = LATER_COLUMNS.get(name, {})   # frames of an earlier layout: as an older store reads
                select = ", ".join(f"CAST(\"{c}\" AS {t}) AS {c}" if c in frame.columns else
                                   f"CAST({later[c]} AS {t}) AS {c}" for c, t in SCHEMA[name].items()
                                   if c in frame.columns or c in later)
                con.execute(f"CREATE TEMP TABLE {name} AS SELECT {select} FROM _{name}")
        con.execute(f"CREATE TEMP VIEW {SPAN_TABLE} AS {DATA_SPAN_SQL}")
        return con.execute(sql, params).df()
