"""The access log: who opened which page for which kommune when, and each use of a guest link. A data protection
officer asks for it; staff user names are personal data too, so it is kept owner-only and only for a set time.

One JSON line per open in ``protokoll/zugriffe.jsonl`` beside the store (``zeit``, ``person``, ``seite``,
``kommune``); lines older than :data:`KEEP_DAYS` days (``KIMTOOLS_PROTOKOLL_TAGE``) are dropped when the log is
written on a new day. Every page's servers append to the same file (one line per write, under a lock).

>>> import tempfile
>>> store = Path(tempfile.mkdtemp()) / "kim.duckdb"
>>> log_access(store, "mueller", "lenkungskreis", "Herne", now=dt.datetime(2026, 12, 6, 9, 30))
>>> read_access_log(store)[["person", "seite", "kommune"]].values.tolist()
[['mueller', 'lenkungskreis', 'Herne']]
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

import pandas as pd
from filelock import FileLock

from ..errors import InputError

__all__ = ["KEEP_DAYS", "LOG_FOLDER", "log_access", "read_access_log", "log_path", "current_person"]

KEEP_DAYS = 90
LOG_FOLDER = "protokoll"
_COLUMNS = ["zeit", "person", "seite", "kommune"]


def log_path(store: Path) -> Path:
    return Path(store).resolve().parent / LOG_FOLDER / "zugriffe.jsonl"


def _keep_days() -> int:
    try:
        return max(1, int(os.environ.get("KIMTOOLS_PROTOKOLL_TAGE", KEEP_DAYS)))
    except ValueError:
        return KEEP_DAYS


def current_person() -> str:
    """Who a page's server serves: the hub's login (``JUPYTERHUB_USER``), else the single desk of ``kimtools serve``."""
    return os.environ.get("JUPYTERHUB_USER") or "arbeitsplatz"


def log_access(store: Path, person: str, page: str, kommune: str | None, now: dt.datetime | None = None) -> None:
    """Append one open to the log of ``store`` (created owner-only); on the first write of a day, drop what is older
    than the time the log is kept. A log that cannot be written does not stop the page (it is said in the server's
    own log)."""
    now = (now or dt.datetime.now()).replace(microsecond=0)
    path = log_path(store)
    line = json.dumps({"zeit": now.isoformat(), "person": person, "seite": page, "kommune": kommune},
                      ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock", mode=0o600):
            fresh = not path.exists() or dt.date.fromtimestamp(path.stat().st_mtime) < now.date()
            if fresh and path.exists():
                _drop_old(path, now - dt.timedelta(days=_keep_days()))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
    except OSError as exc:   # a full disk or a read-only folder must not take the page down
        logging.getLogger("kimtools").warning("Zugriffsprotokoll nicht geschrieben (%s): %s", path, exc)


def _drop_old(path: Path, before: dt.datetime) -> None:
    kept = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.strip() and json.loads(line)["zeit"] >= before.isoformat()]
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(kept)
    tmp.replace(path)


def read_access_log(store: Path) -> pd.DataFrame:
    """The log of ``store`` as a frame (``zeit``, ``person``, ``seite``, ``kommune``), oldest first."""
    path = log_path(store)
    if not path.exists():
        return pd.DataFrame(columns=_COLUMNS)
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: das Zugriffsprotokoll ist nicht lesbar ({exc}).",
                         f"{path}: the access log cannot be read ({exc}).") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError
        except ValueError:   # the log is evidence: a damaged line is named, never skipped silently
            raise InputError(f"{path}, Zeile {number}: kein Eintrag des Zugriffsprotokolls ({line[:60]!r}). Die Datei "
                             "wurde außerhalb von kimtools verändert oder ist beschädigt; aus der Sicherung holen.",
                             f"{path}, line {number}: not an entry of the access log ({line[:60]!r}). The file was "
                             "changed outside kimtools or is damaged; restore it from the backup.") from None
        rows.append(row)
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out["zeit"] = pd.to_datetime(out["zeit"])
    return out
