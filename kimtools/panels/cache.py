"""The one place where panels keep views: a bounded cache, look-ahead in the background, one worker pool."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable


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
