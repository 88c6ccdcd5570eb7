"""The one place where panels keep views: a bounded cache, look-ahead in the background, one worker pool."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Hashable

__all__ = ["ViewCache", "page_worker"]


def page_worker() -> ThreadPoolExecutor:
    """One worker thread of a page's own, for a read the page starts and collects later (the network page's open
    loops and gaps while Python cuts out its window); every thread a panel starts is made here."""
    return ThreadPoolExecutor(1, thread_name_prefix="kimtools-page")


class ViewCache:
    """Views by key, at most ``kept`` of them: the least recently used goes first, so that a long meeting clicking
    through every district and quarter does not fill the kernel's memory. Every panel keeps its views here.

    >>> cache = ViewCache(kept=2)
    >>> [cache.get(k, lambda: k * 10) for k in (1, 2, 1, 3)]
    [10, 20, 10, 30]
    >>> 2 in cache, 1 in cache, len(cache)
    (False, True, 2)
    """

    def __init__(self, kept: int = 64):
        self.kept = kept
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], object]) -> object:
        """The views kept for ``key``, or ``compute()`` kept for it."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.kept:
                self._items.popitem(last=False)
        return value

    def __getitem__(self, key: Hashable) -> object:
        """The views kept for ``key`` (``KeyError`` if none are)."""
        return self._items[key]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class _LookAhead:
    """Views prepared in a background thread during a pause, by key: what a viewer is likely to ask for next
    (:meth:`FilterBar.neighbours`). Only views are prepared, never widgets; at most ``kept`` are kept."""

    def __init__(self, kept: int = 32):
        self.kept = kept
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kimtools-ahead")
        self._futures: dict[tuple, Future] = {}

    def take(self, key: tuple) -> object | None:
        """The views prepared for ``key`` (waiting for them if under way), or None. Guesses not yet started are
        dropped: the viewer's choice goes first, and the guesses follow from it."""
        for guess, future in list(self._futures.items()):
            if future.cancel():
                del self._futures[guess]
        future = self._futures.pop(key, None)
        return None if future is None or future.exception() else future.result()

    def prepare(self, jobs: dict[tuple, Callable[[], object]]) -> None:
        """Run ``jobs`` (key: views) not yet prepared, after half a second in which the browser draws the page."""
        self._pool.submit(time.sleep, 0.5)
        for key, job in jobs.items():
            if key not in self._futures:
                self._futures[key] = self._pool.submit(job)
        for key in list(self._futures)[:-self.kept]:   # the oldest go: a long meeting must not fill the memory
            self._futures.pop(key).cancel()

    def clear(self) -> None:
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
