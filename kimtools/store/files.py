"""The store's file: where it lies, how it is opened (never loading an extension), and what to tell a person
when it cannot be: a folder, an empty, foreign, SQLite or damaged file. Files are created owner-only."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

import duckdb

from ..errors import StoreError
from ..paths import DATA

__all__ = ["default_db_path", "scope_from_env", "SCOPE_ENV", "owner_only", "unreadable", "is_damage", "connect_file", "DUCKDB_CONFIG"]

#: DuckDB would download an extension to open, say, a SQLite file given as the store: never
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


#: the environment variable holding the kommunen a process may read (a JSON list; set by the hub for each login's
#: servers, :mod:`kimtools.hub`); unset: all
SCOPE_ENV = "KIMTOOLS_KOMMUNEN"


def scope_from_env() -> list[str] | None:
    """The kommunen the environment allows (:data:`SCOPE_ENV`), or ``None`` for all. A value that is not a JSON list
    of names allows none: a broken setting must not open every kommune."""
    raw = os.environ.get(SCOPE_ENV)
    if raw is None:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return []
    return [k for k in found if isinstance(k, str)] if isinstance(found, list) else []


def default_db_path() -> Path:
    """The store when none is named: ``KIMTOOLS_DB``, else ``data/kim.duckdb`` of the checkout kimtools runs from
    (where ``make`` builds the demo). An installed package has no such folder of its own: there the store must be
    named, never a path inside the package's installation."""
    env = os.environ.get("KIMTOOLS_DB")
    if env:
        return Path(env)
    if not (DATA.parent / "pyproject.toml").exists():
        raise StoreError("Kein Datenbestand angegeben: bitte KIMTOOLS_DB setzen (in der Umgebung oder im Notebook "
                         "os.environ['KIMTOOLS_DB'] = '/pfad/kim.duckdb') oder den Pfad nennen: Store('/pfad/kim.duckdb').",
                         "No store named: please set KIMTOOLS_DB (in the environment, or in the notebook "
                         "os.environ['KIMTOOLS_DB'] = '/path/kim.duckdb') or give its path: Store('/path/kim.duckdb').")
    return DATA / "kim.duckdb"


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
                              "Bitte den Pfad des Datenbestands (.duckdb) angeben.",
                              f"{path} is a SQLite database, not a kimtools store. Nothing was changed. Give the path "
                              "of the store (.duckdb).")
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
        return duckdb.connect(str(path), read_only=read_only, config=DUCKDB_CONFIG)
    except duckdb.Error as exc:
        raise unreadable(path, exc) from None
