"""One progress bar for terminals and notebooks (tqdm picks the right one)."""

from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm.auto import tqdm

__all__ = ["progress"]

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, disable: bool = False, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """Wrap ``items`` in a progress bar labelled ``desc`` (German by default)."""
    return tqdm(items, desc=desc, disable=disable, total=total, unit=unit, leave=False, dynamic_ncols=True)
