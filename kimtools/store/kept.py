"""Results computed once per data state and kept beside the store, for every later reader: each dashboard visitor has a
kernel of their own, and what one of them computed the next one reads (the planning page's forecasts, a kommune's
comparison as its bundle would show it).

A kept result is one JSON file per kommune in a hidden folder beside the store (``.kim.duckdb.<what>/``), holding the
data state it was computed for; a reader whose state differs computes anew and replaces it, whole or not at all. A
folder that cannot be read or written is no error: the result is then computed for the caller alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from .._version import __version__

__all__ = ["kept_folder", "kept", "kommune_state"]


def kept_folder(store, what: str) -> Path:
    """The folder beside the store where results of the kind ``what`` are kept (hidden, like the store's lock)."""
    return store.path.parent / f".{store.path.name}.{what}"


def _file(store, what: str, kommune: str) -> Path:
    return kept_folder(store, what) / f"{hashlib.sha256(kommune.encode()).hexdigest()[:16]}.json"   # any name


def kept(store, what: str, kommune: str, state: str, compute: Callable[[], dict]) -> dict:
    """The result ``compute()`` (a JSON-able dict) for ``kommune`` in data state ``state`` (a string; the kimtools version
    is added): read from its file when it was computed for the same state, else computed and kept."""
    state = f"{__version__}:{state}"
    path = _file(store, what, kommune)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        if content.get("stand") == state:
            return content["inhalt"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    result = compute()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)   # readable by the store's owner only, like the store
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"stand": state, "kommune": kommune, "inhalt": result}, fh)
        os.replace(tmp, path)   # whole or not at all: two visitors computing at once leave one complete file
    except OSError:   # a full disk, a read-only folder: nothing kept, nothing left behind
        tmp.unlink(missing_ok=True)
    return result


def kommune_state(store, kommune: str) -> str:
    """A kommune's data state: a hash of its import log entries and of the district figures its rates use (what an
    import, a provider delivery, a deletion or ``kimtools bezirke`` changes)."""
    h = hashlib.sha256(kommune.encode())
    for sql in ("SELECT import_id, zeitpunkt, sha256 FROM import_log WHERE kommune = ? ORDER BY ALL",
                "SELECT * FROM bezirke WHERE kommune = ? ORDER BY ALL"):
        h.update(json.dumps(store.query(sql, [kommune]).astype(str).values.tolist()).encode())
    return h.hexdigest()
