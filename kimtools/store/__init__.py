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
import errno
import os
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import duckdb
import pandas as pd
from filelock import FileLock

from .. import __version__
from ..errors import DeliveryRefused, StoreError, from_os_error
from ..i18n import fmt_number
from ..ingest.delivery import (
    PROFILE_SQL,
    PROFILE_TABLES,
    UNCONSULTED_SQL,
    delivery_findings,
    delivery_overview,
    findings_text,
)
from ..ingest.pseudonym import key_file, key_location
from ..ingest.quality import QUALITY_TABLES, quality_summary, stichtage
from ..paths import DATA

__all__ = ["Store", "ImportResult", "default_db_path", "owner_only", "connect_file", "unreadable", "is_damage", "SCHEMA", "DATA_TABLES", "DATA_SPAN_SQL", "SPAN_TABLE", "Derive", "has_derived", "reader_memo", "in_parallel",
           "run_read", "memory_cursor", "scope_params", "where_sql", "scope_sql"]

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
#: what an import or a deletion hands the store to write the tables derived from the data (data quality, data
#: span, cells) into its copy, for the kommunen it changed: the store knows tables, not indicators
Derive = Callable[[duckdb.DuckDBPyConnection, tuple[str, ...]], None]



_LOG_COUNTS = ("faelle", "beratungen", "vermittlungen", "partner", "stellen", "statuswechsel", "bezirke")

_LOG_DDL = """
CREATE TABLE IF NOT EXISTS import_log (
    import_id INTEGER, zeitpunkt TIMESTAMP, quelle VARCHAR, sha256 VARCHAR, kommune VARCHAR,
    datenstand DATE, kimtools_version VARCHAR,
    """ + ", ".join(f"n_{t} BIGINT" for t in _LOG_COUNTS) + ")"
#: columns the import log gained later (added to older stores at their next import): the fingerprint of the
#: pseudonymisation key (:func:`~kimtools.ingest.pseudonym.key_fingerprint`, never the key), whether the import started
#: over with a new key on purpose, and whether it was forced past the look before replacing
_LOG_LATER = {"schluessel": "VARCHAR", "neuer_schluessel": "BOOLEAN", "erzwungen": "BOOLEAN"}
#: DuckDB would download an extension to open, say, a SQLite file given as the store: never
_DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
#: the errors of a full disk or an exhausted quota (Windows has no EDQUOT)
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
#: room an import needs beside a copy of the store and its growth (write-ahead log, checkpoint)
_SPARE_BYTES = 32 * 2**20


#: the data-quality summary of each kommune, computed from its stored tables at its import (what a dashboard shows
#: without reading every case; :func:`~kimtools.ingest.quality.quality_summary`)
_QUALITY_DDL = """
CREATE TABLE IF NOT EXISTS datenqualitaet (
    kommune VARCHAR, stichtag DATE, faelle BIGINT, ohne_beratung BIGINT, vermittlungen_offen_30 BIGINT,
    doku_luecken_monate BIGINT, parallele_faelle BIGINT, vollstaendigkeit DOUBLE)"""


def __getattr__(name: str):
    """Names that moved out of the store, still importable from here for code written against earlier releases:
    the cells are the indicator table's (:mod:`kimtools.indicators.cells`), the wait is a contract definition."""
    if name == "CELL_TABLES":
        from ..indicators.cells import CELL_TABLES

        return CELL_TABLES
    if name == "wait_sql":
        from ..contract.outcomes import wait_sql

        return wait_sql
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_db_path() -> Path:
    env = os.environ.get("KIMTOOLS_DB")
    return Path(env) if env else DATA / "kim.duckdb"


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``dry_run``, would do): per kommune the row counts, or ``unchanged``.

    ``findings`` are the reasons to look before replacing (:func:`~kimtools.ingest.delivery.delivery_findings`; an import
    with findings went through only when forced), ``overview`` what changes per kommune and table
    (:func:`~kimtools.ingest.delivery.delivery_overview`), ``leftovers`` the temporary copies of killed imports that
    were removed.
    """

    kommunen: tuple[str, ...]
    unchanged: bool
    counts: pd.DataFrame  # kommune × table row counts
    findings: pd.DataFrame | None = None
    overview: pd.DataFrame | None = None
    dry_run: bool = False
    leftovers: tuple[str, ...] = ()
    key_created: str | None = None   # the key file the import created (a first import without a key)


@contextlib.contextmanager
def owner_only() -> Iterator[None]:
    """Files created inside the block are readable by their owner only (umask 077), then the umask is restored."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def unreadable(path: Path, exc: Exception) -> StoreError:
    """Why the file at ``path`` cannot be opened as a store, and what to do."""
    fix_de = ("Nichts wurde geändert. Abhilfe: die letzte Sicherung des Datenbestands zurückspielen, oder die Datei "
              "beiseitelegen (umbenennen) und die Exporte neu importieren.")
    fix_en = ("Nothing was changed. To fix it: restore the last backup of the store, or move the file aside (rename "
              "it) and import the exports again.")
    if path.is_dir():
        return StoreError(f"{path} ist ein Ordner; als Datenbestand wird eine Datei erwartet, z. B. {path / 'kim.duckdb'}.",
                          f"{path} is a folder; the store must be a file, e.g. {path / 'kim.duckdb'}.")
    if path.exists() and path.stat().st_size == 0:
        return StoreError(f"Der Datenbestand {path} ist leer (0 Bytes), vermutlich ein abgebrochenes Kopieren. {fix_de}",
                          f"The store {path} is empty (0 bytes), probably an interrupted copy. {fix_en}")
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        if fh.read(16) == b"SQLite format 3\0":
            return StoreError(f"{path} ist eine SQLite-Datenbank, kein kimtools-Datenbestand. Nichts wurde geändert. "
                              "Bitte --db auf den Datenbestand (.duckdb) richten.",
                              f"{path} is a SQLite database, not a kimtools store. Nothing was changed. Point --db at "
                              "the store (.duckdb).")
    if "not a valid DuckDB database" in str(exc):
        return StoreError(f"{path} ist keine DuckDB-Datei und damit kein kimtools-Datenbestand (oder sie ist beschädigt). {fix_de}",
                          f"{path} is no DuckDB file and so no kimtools store (or it is damaged). {fix_en}")
    return StoreError(f"Der Datenbestand {path} lässt sich nicht lesen: er ist beschädigt oder unvollständig kopiert. {fix_de}",
                      f"The store {path} cannot be read: it is damaged or incompletely copied. {fix_en}")


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says that the file cannot be read (damaged, cut off, not a database), as opposed to
    a query that is wrong. DuckDB raises its bare ``Error`` for a block whose checksum does not match."""
    return isinstance(exc, (duckdb.IOException, duckdb.InternalException, duckdb.SerializationException,
                            duckdb.FatalException)) or type(exc) is duckdb.Error or "corrupt" in str(exc).lower()


def connect_file(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``path`` that loads no extension, or a :class:`StoreError` saying why not."""
    if path.is_dir():
        raise unreadable(path, IsADirectoryError(str(path)))
    try:
        return duckdb.connect(str(path), read_only=read_only, config=_DUCKDB_CONFIG)
    except duckdb.Error as exc:
        raise unreadable(path, exc) from None


# One read-only connection per file and process, reopened when the file was swapped.
_READERS: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}
_READERS_LOCK = threading.Lock()
#: connections some snapshot is reading (by id, with the number of snapshots): not closed under it
_PINNED: dict[int, int] = {}
#: per open reader (by id): the tables its store has (stores written by earlier versions lack some derived ones)
_PRESENT: dict[int, frozenset[str]] = {}
#: per open reader (by id): what :func:`reader_memo` keeps for it
_MEMO: dict[int, dict] = {}
#: per open reader (by id): the store's path, for messages
_PATHS: dict[int, Path] = {}


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
                    _PRESENT.pop(id(cached[1]), None)
                    _MEMO.pop(id(cached[1]), None)
                    _PATHS.pop(id(cached[1]), None)
                    cached[1].close()
                    del _READERS[key]
                con = connect_file(Path(key))
                try:
                    con.execute("SET enable_progress_bar = false")   # no bars in notebooks and terminals
                    present = frozenset(con.execute("SELECT table_name FROM information_schema.tables").df()["table_name"])
                except duckdb.Error as exc:
                    con.close()
                    raise unreadable(self.path, exc) from None
                if not {"faelle", "import_log"} <= present:
                    con.close()
                    raise StoreError(
                        f"{self.path} ist eine DuckDB-Datenbank, aber kein kimtools-Datenbestand (es fehlen die Tabellen "
                        "faelle und import_log). Nichts wurde geändert. Bitte --db auf den Datenbestand richten "
                        "oder einen neuen Dateinamen wählen.",
                        f"{self.path} is a DuckDB database but no kimtools store (the tables faelle and import_log are "
                        "missing). Nothing was changed. Point --db at the store or choose a new file name.")
                _PATHS[id(con)] = self.path
                _PRESENT[id(con)] = present
                if _file_id(self.path) == ident:
                    _READERS[key] = (ident, con)
                    return con
                _PRESENT.pop(id(con), None)
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

        with self.snapshot():
            if _has_table(self.connect(), "datenqualitaet"):
                rows = self.query("SELECT * FROM datenqualitaet WHERE kommune = ?", [kommune])
                if len(rows):
                    return rows
            return quality_summary(self.load(kommune, QUALITY_TABLES))

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
    def check_writable(self) -> None:
        """Refuse, before any work, a store that an import could not or should not replace: a folder, a file or
        folder marked read-only (by its mode bits, which also bind root), a damaged or foreign file."""
        path, parent = self.path, self.path.parent
        if path.is_dir():
            raise unreadable(path, IsADirectoryError(str(path)))
        if parent.exists() and not parent.is_dir():
            raise StoreError(f"{parent} ist kein Ordner; der Datenbestand {path} kann dort nicht liegen.",
                             f"{parent} is not a folder; the store {path} cannot lie there.")
        if path.exists() and not path.stat().st_mode & 0o200:
            mode = path.stat().st_mode & 0o777
            raise StoreError(
                f"Der Datenbestand {path} ist schreibgeschützt (Modus {mode:o}); ein Import ersetzt ihn nicht. Nichts "
                f"wurde geändert. Wenn er geändert werden soll: 'chmod u+w {path}'.",
                f"The store {path} is marked read-only (mode {mode:o}); an import does not replace it. Nothing was "
                f"changed. If it is to change: 'chmod u+w {path}'.")
        if parent.exists() and (not parent.stat().st_mode & 0o200 or not os.access(parent, os.W_OK | os.X_OK)):
            raise StoreError(
                f"Der Ordner {parent} ist schreibgeschützt; ein Import legt dort seine Kopie des Datenbestands an. "
                "Nichts wurde geändert. Schreibrechte geben oder --db auf einen anderen Ordner richten.",
                f"The folder {parent} is read-only; an import writes its copy of the store there. Nothing was changed. "
                "Grant write access or point --db at another folder.")
        if path.exists():
            self.connect()   # a damaged or foreign file is refused here

    def key_fingerprint(self) -> str | None:
        """The fingerprint of the pseudonymisation key of the store's latest import (``None``: no store, or
        none recorded yet)."""
        if not self.exists():
            return None
        with self.snapshot() as con:
            if run_read(con, "SELECT 1 FROM information_schema.columns WHERE table_name = 'import_log' "
                             "AND column_name = 'schluessel'", []).empty:
                return None
            row = self.query("SELECT arg_max(schluessel, import_id) AS fp FROM import_log WHERE schluessel IS NOT NULL")
        return None if row.empty or pd.isna(row["fp"].iloc[0]) else str(row["fp"].iloc[0])

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time, across processes, on Linux, macOS and Windows (``filelock``: ``flock`` or
        ``msvcrt.locking`` on a file beside the store)."""
        lock = FileLock(self.path.with_name(f".{self.path.name}.lock"), mode=0o600)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except OSError as exc:
            raise from_os_error(exc, self.path.parent, "den Datenbestand anlegen", "create the store") from None
        try:
            yield
        finally:
            lock.release()

    def _leftovers(self) -> list[Path]:
        """Temporary copies of the store left by imports that were killed (only an import holds the writer lock,
        so under it every such file is a leftover)."""
        return sorted(self.path.parent.glob(f".{self.path.name}.*.tmp*"))   # the copy and its write-ahead log

    def replace_kommunen(self, export, *, derive: Derive, force: bool = False, new_key: bool = False,
                         dry_run: bool = False) -> ImportResult:
        """Store a validated :class:`~kimtools.ingest.read.Export`, replacing each of its kommunen as one whole.

        Importing the same source again (same SHA-256 as the last import of every kommune in it) changes
        nothing. Before replacing, the store looks at what would change (:mod:`kimtools.ingest.delivery`): a delivery
        that would make stored figures shrink sharply, or that looks cut off, is refused with
        :class:`~kimtools.errors.DeliveryRefused` unless ``force``. A delivery pseudonymised under another key
        than the store's is refused unless ``new_key`` (the start of a new key, logged). With ``dry_run``
        nothing is written: the result says what the import would change and find. ``derive`` writes the tables
        derived from the data (:func:`kimtools.ingest.importer.derive_tables`) into the copy before it is swapped in.
        """
        kommunen = tuple(export.kommunen)
        counts = _counts(export.tables, kommunen)
        self.check_writable()
        with owner_only(), self._writer_lock():
            leftovers = self._leftovers()
            if not dry_run:
                for leftover in leftovers:
                    leftover.unlink(missing_ok=True)
            stored_sha = self._stored_sha(kommunen)
            if kommunen and all(stored_sha.get(k) == export.sha256 for k in kommunen):
                return ImportResult(kommunen, True, counts, dry_run=dry_run, leftovers=tuple(map(str, leftovers)))
            self._check_key(export, new_key)
            stored = self._profile(kommunen) if self.exists() else None
            incoming = _export_profile(export.tables, list(kommunen))
            findings = delivery_findings(stored, incoming)
            result = ImportResult(kommunen, False, counts, findings, delivery_overview(stored, incoming), dry_run,
                                  tuple(map(str, leftovers)))
            if dry_run:
                return result
            if len(findings) and not force:
                raise DeliveryRefused(
                    findings,
                    "Der Export würde gespeicherte Zahlen stark verringern oder sieht unvollständig aus; nichts wurde "
                    "gespeichert:\n" + findings_text(findings, "de") + "\nWenn das so gewollt ist (z. B. eine Löschung "
                    "nach Aufbewahrungsfrist): mit --erzwingen importieren. Alles ansehen, ohne zu speichern: --probelauf.",
                    "The export would make stored figures shrink sharply or looks incomplete; nothing was stored:\n"
                    + findings_text(findings, "en") + "\nIf this is intended (e.g. a deletion after the retention "
                    "period): import with --force. To see everything without storing: --dry-run.")
            stand = {k: v.date() for k, v in stichtage(export.tables).items()}
            self._check_room(export.size_bytes)
            self._swap_in(export, kommunen, counts, stand, derive, force=force and bool(len(findings)), new_key=new_key)
        return result

    def _stored_sha(self, kommunen: tuple[str, ...]) -> dict[str, str]:
        if not self.exists():
            return {}
        rows = self.query("SELECT kommune, arg_max(sha256, import_id) AS sha FROM import_log GROUP BY kommune")
        return {r.kommune: r.sha for r in rows.itertuples() if r.kommune in kommunen}

    def _check_key(self, export, new_key: bool) -> None:
        stored = self.key_fingerprint()
        mine = export.key_fingerprint
        if stored is None or mine is None or stored == mine or new_key:
            return
        raise StoreError(key_mismatch_text("de", self.path, stored, mine), key_mismatch_text("en", self.path, stored, mine))

    def _profile(self, kommunen: tuple[str, ...]) -> pd.DataFrame:
        return _profile_from(self.query, list(kommunen))

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

    def _check_room(self, extra: int = 0) -> None:
        free = shutil.disk_usage(self.path.parent).free
        if free < self._need_bytes(extra):
            raise self._room_error(extra, free)

    def _swap_in(self, export, kommunen, counts: pd.DataFrame, stand: dict, derive: Derive, force: bool = False,
                 new_key: bool = False) -> None:
        """Replace ``kommunen`` by the export's rows and log the import."""
        def change(con: duckdb.DuckDBPyConnection) -> None:
            for name, columns in SCHEMA.items():
                con.execute(f"DELETE FROM {name} WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])
                frame = export.tables.get(name)
                if frame is None or frame.empty:
                    continue
                con.register("incoming", frame)
                select = ", ".join(f"CAST(incoming.{c} AS {t})" for c, t in columns.items())
                con.execute(f"INSERT INTO {name} SELECT {select} FROM incoming")
                con.unregister("incoming")
            _log(con, kommunen, export.source, export.sha256, stand, counts, export.key_fingerprint, new_key, force)

        self._swap(change, derive, kommunen, export.size_bytes)

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
        con = duckdb.connect(str(tmp), config=_DUCKDB_CONFIG)
        os.chmod(tmp, mode)
        try:
            _ensure_schema(con)
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
        where, params = _removal_where(kommune, traeger)
        return self.query(" UNION ALL ".join(f"SELECT '{t}' AS tabelle, count(*) AS zeilen FROM {t} WHERE {where[t]}"
                                             for t in where), params)

    def remove(self, kommune: str, traeger: str | None = None, *, derive: Derive) -> pd.DataFrame:
        """Delete a kommune's data (or one provider's: its cases with their consultations, referrals and status
        changes, and its posts) from the store, as one whole, and log the deletion; the import log keeps the
        fact and the counts, no case data; ``derive`` writes the derived tables anew. Returns what was deleted
        (:meth:`removal_counts`)."""
        where, params = _removal_where(kommune, traeger)
        self.check_writable()
        with owner_only(), self._writer_lock():
            deleted = self.removal_counts(kommune, traeger)
            if traeger is not None and deleted.set_index("tabelle").loc["faelle", "zeilen"] == 0 and \
                    deleted.set_index("tabelle").loc["stellen", "zeilen"] == 0:
                raise StoreError(f"{kommune} hat keine Fälle und Stellen des Trägers {traeger}.",
                                 f"{kommune} has no cases and posts of provider {traeger}.")
            self._check_room()

            def change(con: duckdb.DuckDBPyConnection) -> None:
                for table in where:   # dependent tables first: they find their cases through faelle
                    con.execute(f"DELETE FROM {table} WHERE {where[table]}", params)
                left = {t: con.execute(f"SELECT count(*) FROM {t} WHERE kommune = ?", [kommune]).fetchone()[0]
                        for t in _LOG_COUNTS}
                what = f"Löschung Träger {traeger}" if traeger else "Löschung"
                _log(con, (kommune,), what, None, {}, pd.DataFrame(left, index=[kommune]), None, False, False)

            self._swap(change, derive, (kommune,))
        return deleted


def _removal_where(kommune: str, traeger: str | None) -> tuple[dict[str, str], list]:
    """Per table the condition of the rows a removal deletes (dependent tables first) and its parameters."""
    if traeger is None:
        return {t: "kommune = $1" for t in reversed(SCHEMA)}, [kommune]
    dependent = "kommune = $1 AND fall_id IN (SELECT fall_id FROM faelle WHERE kommune = $1 AND traeger = $2)"
    own = "kommune = $1 AND traeger = $2"
    return {"beratungen": dependent, "vermittlungen": dependent, "statuswechsel": dependent,
            "fall_handlungsfelder": dependent, "faelle": own, "stellen": own}, [kommune, traeger]


def _log(con: duckdb.DuckDBPyConnection, kommunen, source: str, sha256: str | None, stand: dict, counts: pd.DataFrame,
         fingerprint: str | None, new_key: bool, force: bool) -> None:
    """One entry of the import log per kommune (``counts``: rows per table and kommune)."""
    next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM import_log").fetchone()[0]
    now = dt.datetime.now().replace(microsecond=0)
    columns = ["import_id", "zeitpunkt", "quelle", "sha256", "kommune", "datenstand", "kimtools_version",
               *[f"n_{t}" for t in _LOG_COUNTS], *_LOG_LATER]
    for k in kommunen:
        row = counts.loc[k]
        con.execute(f"INSERT INTO import_log ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                    [next_id, now, source, sha256, k, stand.get(k), __version__, *[int(row[t]) for t in _LOG_COUNTS],
                     fingerprint, new_key, force])


def key_mismatch_text(lang: str, path: Path, stored: str, mine: str | None) -> str:
    """Why an import under another pseudonymisation key is refused, and how to restore the key."""

    where = key_location()
    env = where == "KIMTOOLS_KEY"
    if lang == "en":
        restore = ("set KIMTOOLS_KEY to the old key, or unset it to use the key file " + str(key_file()) if env else
                   f"copy the backup of the key file to {where} (mode 600) or set KIMTOOLS_KEY to the old key")
        return (f"The store {path} was pseudonymised with another key (fingerprint {stored}) than the one in force "
                f"now ({where}{', fingerprint ' + mine if mine else ', missing'}). Imported like this, every person would "
                f"get a new pseudonym and nobody would notice. Nothing was changed. Restore the key: {restore}. To start "
                "over on purpose (every kommune imported from now on gets new pseudonyms; logged): --new-key.")
    restore = ("KIMTOOLS_KEY auf den alten Schlüssel setzen, oder die Variable entfernen, um die Schlüsseldatei "
               f"{key_file()} zu verwenden" if env else
               f"die Sicherung der Schlüsseldatei nach {where} kopieren (Modus 600) oder KIMTOOLS_KEY auf den alten "
               "Schlüssel setzen")
    return (f"Der Datenbestand {path} wurde mit einem anderen Pseudonymisierungsschlüssel angelegt (Fingerabdruck "
            f"{stored}) als dem jetzt gültigen ({where}{', Fingerabdruck ' + mine if mine else ', fehlt'}). So importiert "
            f"bekäme jede Person unbemerkt ein neues Pseudonym. Nichts wurde geändert. Schlüssel wiederherstellen: "
            f"{restore}. Bewusst neu beginnen (jede ab jetzt importierte Kommune erhält neue Pseudonyme; wird "
            "protokolliert): --neuer-schluessel.")


def _profile_from(query: Callable[[str, dict], pd.DataFrame], kommunen: list[str]) -> pd.DataFrame:
    """The delivery profile (:data:`~kimtools.ingest.delivery.PROFILE_SQL` and the cases without consultation) of
    ``kommunen``, asked through ``query``: of a store, or of a cursor with a delivery's frames registered."""
    cells = query(PROFILE_SQL, {"kommunen": kommunen})
    unconsulted = query(UNCONSULTED_SQL, {"kommunen": kommunen})
    out = pd.concat([cells.assign(nenner=float("nan")), unconsulted], ignore_index=True)
    out["n"] = out["n"].astype("int64")
    for c in ("d0", "d1"):
        out[c] = pd.to_datetime(out[c])
    return out


def _export_profile(tables: dict[str, pd.DataFrame], kommunen: list[str]) -> pd.DataFrame:
    """The delivery profile of a delivery's frames, by the same SQL the store answers it with."""
    with memory_cursor() as cur:
        for name in PROFILE_TABLES:
            cur.register(name, tables[name])
        return _profile_from(lambda sql, params: cur.execute(sql, params).df(), kommunen)


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


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (tables added by later versions are missing in older stores)."""
    return not run_read(con, "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).empty


def in_parallel(jobs: dict[str, Callable[[], object]], workers: int = 2) -> dict[str, object]:
    """Independent reads at the same time (DuckDB runs a query without holding Python's lock): the results by
    name, or the first job's error. Call inside :meth:`Store.snapshot` so that all jobs read one state."""

    with ThreadPoolExecutor(workers) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in SCHEMA.items():
        cols = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    con.execute(_LOG_DDL)
    for column, kind in _LOG_LATER.items():
        con.execute(f"ALTER TABLE import_log ADD COLUMN IF NOT EXISTS {column} {kind}")
    con.execute(_QUALITY_DDL)


def _counts(tables: dict[str, pd.DataFrame], kommunen: tuple[str, ...]) -> pd.DataFrame:
    data = {t: tables[t]["kommune"].value_counts().reindex(list(kommunen), fill_value=0) for t in _LOG_COUNTS}
    return pd.DataFrame(data, index=list(kommunen)).astype("int64")
