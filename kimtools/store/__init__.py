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
import errno
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb
import pandas as pd
from filelock import FileLock, Timeout

from ..contract.catalogue import CASELOAD_POSTS
from ..errors import AccessError, StoreError, from_os_error
from ..i18n import fmt_number
from .files import DUCKDB_CONFIG, connect_file, default_db_path, is_damage, owner_only, scope_from_env, unreadable
from .queries import (
    has_derived,
    has_column,
    has_table,
    in_parallel,
    memory_cursor,
    open_reader,
    pin,
    reader_memo,
    run_read,
    scope_params,
    scope_sql,
    unpin,
    where_sql,
)
from .deliveries import delivery_state
from .tables import DATA_SPAN_SQL, DATA_TABLES, LATER_COLUMNS, LOG_COUNTS, SCHEMA, SPAN_TABLE, Derive, ensure_schema, log_import

__all__ = ["Store", "default_db_path", "owner_only", "connect_file", "unreadable", "is_damage", "SCHEMA", "DATA_TABLES", "DATA_SPAN_SQL", "SPAN_TABLE", "Derive", "has_derived", "reader_memo", "in_parallel",
           "run_read", "memory_cursor", "scope_params", "where_sql", "scope_sql", "PROVIDER_SLICE"]

#: the errors of a full disk or an exhausted quota (Windows has no EDQUOT)
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
#: room an import needs beside a copy of the store and its growth (write-ahead log, checkpoint)
_SPARE_BYTES = 32 * 2**20


class Store:
    """The DuckDB store at ``path`` (default :func:`default_db_path`).

    Examples
    --------
    >>> store = Store("/nonexistent/kim.duckdb")
    >>> store.exists()
    False
    """

    def __init__(self, path: str | Path | None = None, scope: Iterable[str] | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        given = scope if scope is not None else scope_from_env()
        #: the kommunen this store may read and write (``None``: all): a login's scope (:mod:`kimtools.store.scope`)
        self.scope: frozenset[str] | None = None if given is None else frozenset(given)

    def __repr__(self) -> str:
        """Which file this store is (a notebook shows it when ``Store()`` is the cell's last line), and its scope."""
        scope = "" if self.scope is None else f", scope={sorted(self.scope)}"
        return f"Store({str(self.path)!r}{scope})"

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
        return open_reader(self.path, self.scope)

    def check_scope(self, kommunen: Iterable[str]) -> None:
        """Refuse (:class:`~kimtools.errors.AccessError`) a change of kommunen outside this store's scope."""
        if self.scope is None:
            return
        outside = sorted(set(kommunen) - self.scope)
        if outside:
            raise AccessError(
                f"Kein Zugriff auf die Daten von {', '.join(outside)}: Ihre Anmeldung gilt für "
                f"{', '.join(sorted(self.scope)) or 'keine Kommune'}. Nichts wurde geändert.",
                f"No access to the data of {', '.join(outside)}: your login holds "
                f"{', '.join(sorted(self.scope)) or 'no kommune'}. Nothing was changed.")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One state of the store for several queries, also from worker threads (:func:`in_parallel`): until the
        block ends every query reads the state it began with, even if an import swaps the file meanwhile."""
        if getattr(self, "_pinned", None) is not None:   # nested: the outer block's state
            yield self._pinned
            return
        con = self.connect()
        pin(con)
        self._pinned = con
        try:
            yield con
        finally:
            self._pinned = None
            unpin(con)

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

    def kommunen(self) -> list[str]:
        return self.query("SELECT DISTINCT kommune FROM faelle ORDER BY kommune")["kommune"].tolist()

    def delivery_state(self, kommune: str | None = None) -> pd.DataFrame:
        """Per kommune and provider: the last delivery that covered it, its data end and the rows stored
        (:func:`~kimtools.store.deliveries.delivery_state`)."""
        with self.snapshot() as con:
            return delivery_state(con, kommune)

    def import_log(self) -> pd.DataFrame:
        return self.query("SELECT * FROM import_log ORDER BY import_id DESC, kommune")

    def info(self) -> pd.DataFrame:
        """Per kommune: row counts, the posts that carry cases (full-time equivalents of filled Baustein-2 posts) at the
        data end, date range, last import."""
        return self.query(f"""
            WITH span AS (SELECT kommune, d0 AS daten_von, d1 AS daten_bis FROM {SPAN_TABLE}),
            last AS (SELECT kommune, arg_max(zeitpunkt, import_id) AS letzter_import,
                            arg_max(quelle, import_id) AS quelle FROM import_log GROUP BY kommune)
            SELECT k.kommune,
                   {", ".join(f"(SELECT count(*) FROM {t} x WHERE x.kommune = k.kommune) AS {t}" for t in LOG_COUNTS if t != "bezirke")},
                   (SELECT coalesce(sum(s.vzae), 0) FROM stellen s WHERE s.kommune = k.kommune AND s.von <= span.daten_bis
                      AND (s.bis IS NULL OR s.bis >= span.daten_bis) AND {CASELOAD_POSTS.format(st="s")}) AS vzae_aktuell,
                   span.daten_von, span.daten_bis, last.letzter_import, last.quelle
            FROM (SELECT DISTINCT kommune FROM faelle) k
            LEFT JOIN span USING (kommune) LEFT JOIN last USING (kommune)
            ORDER BY k.kommune""")

    # ------------------------------------------------------------------ writing
    def check_writable(self, doing: tuple[str, str] = ("ein Import", "an import")) -> None:
        """Refuse, before any work, a store that an import could not or should not replace: a folder, a file or
        folder marked read-only (by its mode bits, which also bind root), a damaged or foreign file. ``doing``: who
        writes, in German and English (a deletion, reading district figures), as the message names it."""
        path, parent = self.path, self.path.parent
        if path.is_dir():
            raise unreadable(path, IsADirectoryError(str(path)))
        if parent.exists() and not parent.is_dir():
            raise StoreError(f"{parent} ist kein Ordner; der Datenbestand {path} kann dort nicht liegen.",
                             f"{parent} is not a folder; the store {path} cannot lie there.")
        if path.exists() and not path.stat().st_mode & 0o200:
            mode = path.stat().st_mode & 0o777
            raise StoreError(
                f"Der Datenbestand {path} ist schreibgeschützt (Modus {mode:o}); {doing[0]} ändert ihn nicht. "
                f"Nichts wurde geändert. Wenn er geändert werden soll: 'chmod u+w {path}'.",
                f"The store {path} is marked read-only (mode {mode:o}); {doing[1]} does not change it. Nothing was "
                f"changed. If it is to change: 'chmod u+w {path}'.")
        self.check_folder(doing, ("legt dort seine Kopie des Datenbestands an", "writes its copy of the store there"))
        if path.exists():
            self.connect()   # a damaged or foreign file is refused here

    def key_fingerprint(self) -> str | None:
        """The fingerprint of the pseudonymisation key of the store's latest import (``None``: no store, or
        none recorded yet)."""
        if not self.exists():
            return None
        with self.snapshot() as con:
            if not has_column(con, "import_log", "schluessel"):
                return None
            row = self.query("SELECT arg_max(schluessel, import_id) AS fp FROM import_log WHERE schluessel IS NOT NULL")
        return None if row.empty or pd.isna(row["fp"].iloc[0]) else str(row["fp"].iloc[0])

    def check_folder(self, doing: tuple[str, str], why: tuple[str, str]) -> None:
        """Refuse, before any work, a store whose folder cannot be written: ``doing`` (German, English) ``why``."""
        parent = self.path.parent
        if parent.exists() and (not parent.stat().st_mode & 0o200 or not os.access(parent, os.W_OK | os.X_OK)):
            raise StoreError(
                f"Der Ordner {parent} ist schreibgeschützt; {doing[0]} {why[0]}. Nichts wurde geändert. Schreibrechte "
                "geben oder einen Datenbestand in einem anderen Ordner wählen.",
                f"The folder {parent} is read-only; {doing[1]} {why[1]}. Nothing was changed. Grant write access or "
                "choose a store in another folder.")

    def _lock(self) -> FileLock:
        return FileLock(self.path.with_name(f".{self.path.name}.lock"), mode=0o600)

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time, across processes, on Linux, macOS and Windows (``filelock``: ``flock`` or
        ``msvcrt.locking`` on a file beside the store)."""
        lock = self._lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except OSError as exc:
            raise from_os_error(exc, self.path.parent, "den Datenbestand anlegen", "create the store") from None
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def writing(self, keep_leftovers: bool = False) -> Iterator[list[Path]]:
        """The store's writer: files created owner-only, the writer lock held (one writer at a time, across
        processes). Yields the temporary copies that killed imports left behind, removed unless
        ``keep_leftovers`` (a dry run only reports them)."""
        with owner_only(), self._writer_lock():
            leftovers = self._leftovers()
            if not keep_leftovers:
                for leftover in leftovers:
                    leftover.unlink(missing_ok=True)
            yield leftovers

    def clear_leftovers(self) -> list[Path]:
        """Remove the temporary copies that killed imports left beside the store, if no writer is at work (the lock
        is tried, not waited for); returns those removed. What any command does first, so that a killed import's
        copy (as large as the store) does not wait for the next import."""
        if not self.path.parent.is_dir() or not self._leftovers():
            return []
        lock = self._lock()
        try:
            lock.acquire(timeout=0)
        except (Timeout, OSError):   # a writer at work (its copy is no leftover), or a folder we cannot write
            return []
        try:
            removed = []
            for leftover in self._leftovers():
                try:
                    leftover.unlink()
                    removed.append(leftover)
                except OSError:
                    pass
            return removed
        finally:
            lock.release()

    def leftovers(self) -> list[Path]:
        """The temporary copies of killed imports still beside the store (for ``kimtools info``)."""
        return self._leftovers() if self.path.parent.is_dir() else []

    def _leftovers(self) -> list[Path]:
        """Temporary copies of the store left by imports that were killed (only an import holds the writer lock,
        so under it every such file is a leftover)."""
        return sorted(self.path.parent.glob(f".{self.path.name}.*.tmp*"))   # the copy and its write-ahead log

    def stored_sha(self, kommunen: tuple[str, ...], providers: tuple[str, ...] | None = None) -> dict[str, str]:
        """The SHA-256 of the source of each of ``kommunen``'s last import — with ``providers``, of its last import
        that touched their slice, if that was a delivery of exactly these providers (otherwise none)."""
        if not self.exists():
            return {}
        with self.snapshot() as con:
            scope = "traeger" if has_column(con, "import_log", "traeger") else "NULL"
            rows = self.query(f"SELECT kommune, sha256 AS sha, {scope} AS traeger FROM import_log "
                              "ORDER BY kommune, import_id DESC")
        out = {}
        mine = None if providers is None else sorted(providers)
        for k, log in rows.groupby("kommune", sort=False):
            if k not in kommunen:
                continue
            for r in log.itertuples():
                theirs = None if pd.isna(r.traeger) or not r.traeger else sorted(r.traeger.split(","))
                if mine is None or theirs is None or set(theirs) & set(mine):
                    if theirs == mine:
                        out[k] = r.sha
                    break
        return out

    def _need_bytes(self, extra: int = 0) -> int:
        return (self.path.stat().st_size if self.exists() else 0) + extra + _SPARE_BYTES

    def _room_error(self, extra: int = 0, free: int | None = None) -> StoreError:
        need, store = self._need_bytes(extra), self._need_bytes() - _SPARE_BYTES

        def mb(n: int, lang: str) -> str:
            return fmt_number(n / 2**20, 0, lang)

        free_de = f"frei sind {mb(free, 'de')} MB, " if free is not None else ""
        free_en = f"{mb(free, 'en')} MB are free, " if free is not None else ""
        return StoreError(
            f"Zu wenig Platz auf dem Datenträger von {self.path.parent}: {free_de}kimtools braucht dafür etwa "
            f"{mb(need, 'de')} MB (eine Kopie des Datenbestands, {mb(store, 'de')} MB, dazu die neuen Daten und Reserve). "
            "Nichts wurde geändert. Platz schaffen oder den Datenbestand auf einen anderen Datenträger legen (--db).",
            f"Not enough room on the disk of {self.path.parent}: {free_en}kimtools needs about {mb(need, 'en')} MB (a "
            f"copy of the store, {mb(store, 'en')} MB, plus the new data and a reserve). Nothing was changed. Free some "
            "space or put the store on another disk (--db).")

    def check_room(self, extra: int = 0) -> None:
        """Refuse, before writing, when the disk lacks room for a copy of the store, ``extra`` bytes and a reserve."""
        free = shutil.disk_usage(self.path.parent).free
        if free < self._need_bytes(extra):
            raise self._room_error(extra, free)

    def replace(self, kommunen: tuple[str, ...], tables: dict[str, pd.DataFrame], derive: Derive,
                log: Callable[[duckdb.DuckDBPyConnection], None], extra: int = 0,
                providers: tuple[str, ...] | None = None) -> None:
        """Replace every row of ``kommunen`` by those of ``tables`` (frames by stored table; a missing table is
        emptied for them), ``log`` the change and ``derive`` the derived tables, as one whole: on any failure the
        store is as it was. With ``providers`` only those providers' slice is replaced (their cases with what
        hangs on them, and their posts: :data:`PROVIDER_SLICE`); the other tables are replaced as wholes by
        ``tables``. Call inside :meth:`writing`."""
        self.check_scope(kommunen)

        def change(con: duckdb.DuckDBPyConnection) -> None:
            for k in kommunen:
                where, params = _removal_where(k, providers)
                for name in where:   # dependent tables first: they find their cases through faelle
                    con.execute(f"DELETE FROM {name} WHERE {where[name]}", params)
                for name in (t for t in SCHEMA if t not in where):   # replaced as wholes (provider deliveries)
                    con.execute(f"DELETE FROM {name} WHERE kommune = $1", [k])
            for name, columns in SCHEMA.items():
                frame = tables.get(name)
                if frame is None or frame.empty:
                    continue
                con.register("incoming", frame)
                later = LATER_COLUMNS.get(name, {})
                select = ", ".join(f"CAST(incoming.{c} AS {t})" if c in frame.columns else
                                   f"CAST({later.get(c, 'NULL')} AS {t})" for c, t in columns.items())
                # by name: a store written by an earlier version has its later columns at the end
                con.execute(f"INSERT INTO {name} ({', '.join(columns)}) SELECT {select} FROM incoming")
                con.unregister("incoming")
            log(con)

        self._swap(change, derive, kommunen, extra)

    def update(self, kommunen: tuple[str, ...], change: Callable[[duckdb.DuckDBPyConnection], None],
               derive: Derive) -> None:
        """Apply ``change`` and write the derived tables of ``kommunen`` anew, as one whole (for a change that is not
        a delivery, such as the statistics office's district figures). Call inside :meth:`writing`."""
        self.check_scope(kommunen)
        self._swap(change, derive, kommunen)

    def _swap(self, change: Callable[[duckdb.DuckDBPyConnection], None], derive: Derive, kommunen,
              extra: int = 0) -> None:
        """Apply ``change`` to a copy of the store in one transaction, ``derive`` the tables of ``kommunen`` anew and
        put the copy in place of the store (mode kept). On any failure the store is as it was and the copy gone."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        mode = (self.path.stat().st_mode & 0o777) if self.exists() else 0o600
        try:
            try:
                self._write_copy(tmp, mode, change, derive, kommunen)
                os.replace(tmp, self.path)
                if os.name == "posix":   # the rename itself made durable; Windows cannot open a folder for it
                    dir_fd = os.open(self.path.parent, os.O_RDONLY)
                    try:
                        os.fsync(dir_fd)
                    finally:
                        os.close(dir_fd)
            except OSError as exc:
                if exc.errno in _DISK_FULL:
                    raise self._room_error(extra) from None
                raise from_os_error(exc, self.path, "den Datenbestand speichern", "store the data") from None
            except duckdb.Error as exc:
                if "space" in str(exc).lower() or "full" in str(exc).lower():
                    raise self._room_error(extra) from None
                if not is_damage(exc):
                    raise
                raise unreadable(self.path, exc) from None   # the copy of the store could not be read: it is damaged
        finally:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)

    def _write_copy(self, tmp: Path, mode: int, change: Callable[[duckdb.DuckDBPyConnection], None], derive: Derive,
                    kommunen) -> None:
        """The store after ``change``, with the derived tables written anew, at ``tmp`` (mode ``mode``), synced."""
        tmp.unlink(missing_ok=True)
        if self.exists():
            shutil.copyfile(self.path, tmp)
        con = duckdb.connect(str(tmp), config=DUCKDB_CONFIG)
        os.chmod(tmp, mode)
        try:
            ensure_schema(con)
            con.execute("BEGIN TRANSACTION")
            change(con)
            derive(con, tuple(kommunen))
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())

    # ------------------------------------------------------------------ deleting
    def removal_counts(self, kommune: str, traeger: str | None = None) -> pd.DataFrame:
        """What :meth:`remove` would delete: rows per table (``tabelle``, ``zeilen``)."""
        if kommune not in self.kommunen():
            raise StoreError(f"{kommune} ist nicht im Datenbestand {self.path}; dort sind: {', '.join(self.kommunen())}.",
                             f"{kommune} is not in the store {self.path}; it holds: {', '.join(self.kommunen())}.")
        where, params = _removal_where(kommune, None if traeger is None else (traeger,))
        return self.query(" UNION ALL ".join(f"SELECT '{t}' AS tabelle, count(*) AS zeilen FROM {t} WHERE {where[t]}"
                                             for t in where), params)

    def remove(self, kommune: str, traeger: str | None = None, *, derive: Derive) -> pd.DataFrame:
        """Delete a kommune's data (or one provider's: its cases with their consultations, referrals and status
        changes, and its posts) from the store, as one whole, and log the deletion; the import log keeps the
        fact and the counts, no case data; ``derive`` writes the derived tables anew. Returns what was deleted
        (:meth:`removal_counts`)."""
        self.check_scope((kommune,))
        where, params = _removal_where(kommune, None if traeger is None else (traeger,))
        self.check_writable(("eine Löschung", "a deletion"))
        with self.writing(keep_leftovers=True):   # a deletion leaves the next import to report them
            deleted = self.removal_counts(kommune, traeger)
            if traeger is not None and deleted.set_index("tabelle").loc["faelle", "zeilen"] == 0 and \
                    deleted.set_index("tabelle").loc["stellen", "zeilen"] == 0:
                raise StoreError(f"{kommune} hat keine Fälle und Stellen des Trägers {traeger}.",
                                 f"{kommune} has no cases and posts of provider {traeger}.")
            self.check_room()

            def change(con: duckdb.DuckDBPyConnection) -> None:
                for table in where:   # dependent tables first: they find their cases through faelle
                    con.execute(f"DELETE FROM {table} WHERE {where[table]}", params)
                left = {t: con.execute(f"SELECT count(*) FROM {t} WHERE kommune = ?", [kommune]).fetchone()[0]
                        for t in LOG_COUNTS}
                what = f"Löschung Träger {traeger}" if traeger else "Löschung"
                log_import(con, (kommune,), what, None, {}, pd.DataFrame(left, index=[kommune]), None, False, False,
                           {kommune: {"traeger": traeger}})

            self._swap(change, derive, (kommune,))
        return deleted


#: a provider's slice of a kommune: its cases, what hangs on them, and its posts (contract 1.1, *Deliveries*)
PROVIDER_SLICE = ("beratungen", "vermittlungen", "statuswechsel", "fall_handlungsfelder", "faelle", "stellen")


def _removal_where(kommune: str, providers: tuple[str, ...] | None) -> tuple[dict[str, str], list]:
    """Per table the condition of the rows a removal deletes (dependent tables first) and its parameters:
    the kommune's rows, or only the slice of ``providers`` (:data:`PROVIDER_SLICE`)."""
    if providers is None:
        return {t: "kommune = $1" for t in reversed(SCHEMA)}, [kommune]
    dependent = ("kommune = $1 AND fall_id IN (SELECT fall_id FROM faelle WHERE kommune = $1 "
                 "AND traeger IN (SELECT unnest($2)))")
    own = "kommune = $1 AND traeger IN (SELECT unnest($2))"
    return {t: own if t in ("faelle", "stellen") else dependent for t in PROVIDER_SLICE}, [kommune, list(providers)]
