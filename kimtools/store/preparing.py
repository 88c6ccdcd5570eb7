"""Work prepared once per data state in the background (``kimtools vorbereiten``): one at a time per store, given up
when a newer import makes it stale, never outliving its store, and visible to ``kimtools info``.

A preparation holds a lock beside the store (``.<store>.vorbereitung.lock``) and says in a file beside it
(``.<store>.vorbereitung.json``) who it is, since when, for which data state and what it is doing. A second one
on the same store waits for the first (it then finds the results kept and is quickly done) while the store
exists; the one at work asks :meth:`Preparation.stale` between its steps and ends when the store was changed or
removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from ..errors import StoreError

__all__ = ["Preparation", "preparing", "preparation_status", "store_state"]


def _files(store) -> tuple[Path, Path]:
    base = f".{store.path.name}.vorbereitung"
    return store.path.with_name(f"{base}.lock"), store.path.with_name(f"{base}.json")


def store_state(store) -> str | None:
    """The store's data state as a preparation sees it: the file's identity and time of change (an import,
    a deletion or ``kimtools bezirke`` replaces the file), or None when there is no store."""
    try:
        st = store.path.stat()
    except OSError:
        return None
    return f"{st.st_ino}:{st.st_mtime_ns}"


class Preparation:
    """A preparation at work on one store: :meth:`step` says what it does now, :meth:`stale` whether to stop."""

    def __init__(self, store, info: Path):
        self.store, self._info = store, info
        self.state = store_state(store)
        self._record = {"pid": os.getpid(), "seit": dt.datetime.now().isoformat(timespec="seconds"), "schritt": "",
                        "step": ""}

    def step(self, what: tuple[str, str]) -> None:
        """Record what the preparation does now, German and English (for ``kimtools info``)."""
        self._record["schritt"], self._record["step"] = what
        with contextlib.suppress(OSError):
            self._info.write_text(json.dumps(self._record), encoding="utf-8")

    def renew(self) -> None:
        """The preparation itself changed the store (it brought its derived tables up to date): its new state is the
        one to compare with."""
        self.state = store_state(self.store)

    def stale(self) -> bool:
        """Whether the store was changed (a newer import) or removed since the preparation began: what it would
        compute now belongs to a state that no longer is."""
        return store_state(self.store) != self.state


@contextlib.contextmanager
def preparing(store, waiting: Callable[[dict], None] = lambda who: None, poll: float = 1.0) -> Iterator[Preparation]:
    """Hold the store's preparation lock while the block runs; a preparation already at work is waited for
    (``waiting`` is told who it is, once) while the store exists. Raises :class:`~kimtools.errors.StoreError` when
    the store is gone before the turn came."""
    lock_path, info = _files(store)
    lock = FileLock(lock_path, mode=0o600)
    told = False
    while True:
        if not store.path.exists():
            raise StoreError(f"Der Datenbestand {store.path} ist nicht mehr da; die Vorbereitung endet.",
                             f"The store {store.path} is gone; the preparation ends.")
        try:
            lock.acquire(timeout=poll)
            break
        except Timeout:
            if not told:
                waiting(preparation_status(store) or {})
                told = True
    try:
        work = Preparation(store, info)
        work.step(("beginnt", "starting"))
        yield work
    finally:
        with contextlib.suppress(OSError):
            info.unlink(missing_ok=True)
        lock.release()
        with contextlib.suppress(OSError):
            if not store.path.exists():   # nothing is left beside a store that was removed
                lock_path.unlink(missing_ok=True)


def preparation_status(store) -> dict | None:
    """The preparation at work on ``store`` (``pid``, ``seit``, ``schritt``/``step``: what it does, German and
    English), or None when none is."""
    lock_path, info = _files(store)
    if not lock_path.exists():
        return None
    probe = FileLock(lock_path, mode=0o600)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        try:
            return json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"pid": None, "seit": None, "schritt": "", "step": ""}
    except OSError:
        return None
    probe.release()
    return None
