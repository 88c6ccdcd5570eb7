"""Small counts in what leadership sees and in what leaves the city, and the audit that proves it.

:func:`mask_small` is the display rule of dashboards: a count from 1 to
``minimum - 1`` is not shown. :func:`suppress_table` protects a whole
two-way table whose row and column totals are known elsewhere: after the
small cells it hides further cells so that no hidden cell can be recomputed
from a total.

For linked tables that leave the city (the comparison bundle) the rule is
stronger: :func:`protect` chooses the protected cells and :func:`audit`
proves them safe against an attacker who knows every published count, every
sum that holds (:class:`Sum`), that counts are whole numbers and that a
protected cell is at least 1. For each protected cell the audit solves two
integer programs (HiGHS via :func:`scipy.optimize.milp`): the smallest and the
largest value the cell can take. A cell is exposed when that range lies below
the minimum, or is narrower than 2 and reaches below the minimum.

>>> import pandas as pd
>>> mask_small(pd.Series([0, 1, 2, 3, 40])).tolist()
[0, <NA>, <NA>, 3, 40]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from ..errors import DisclosureError
from ..i18n import fmt_number

__all__ = ["mask_small", "suppress_table", "shown_cell", "count_text", "HIDDEN", "DEFAULT_MINIMUM",
           "Sum", "audit", "exposed", "protect"]

DEFAULT_MINIMUM = 3

#: how a cell hidden only to protect a small one appears (as in official statistics)
HIDDEN = "x"


def shown_cell(shown, original, minimum: int = DEFAULT_MINIMUM) -> int | str:
    """What to show for one cell of a protected table: the count, "< minimum" for a small one, or
    :data:`HIDDEN` for a cell hidden as its complement (``shown`` is missing for both)."""
    if not pd.isna(shown):
        return int(shown)
    return f"< {minimum}" if 0 < original < minimum else HIDDEN


def count_text(n, minimum: int = DEFAULT_MINIMUM) -> str:
    """A count for leadership: "< minimum" from 1 to ``minimum - 1``, else in the language's number format.

    >>> count_text(2), count_text(1234)
    ('< 3', '1.234')
    """
    n = int(n)
    return f"< {minimum}" if 0 < n < minimum else fmt_number(n)


def mask_small(values: pd.Series | pd.DataFrame, minimum: int = DEFAULT_MINIMUM) -> pd.Series | pd.DataFrame:
    """Counts with ``0 < n < minimum`` become missing (cell by cell in a frame); zeros and larger counts stay."""
    values = values.astype("Int64")
    return values.mask((values > 0) & (values < minimum))


def suppress_table(table: pd.DataFrame, minimum: int = DEFAULT_MINIMUM) -> pd.DataFrame:
    """A two-way count table with small cells and their complements hidden (``<NA>``).

    Primary: cells with ``0 < n < minimum``. Secondary: while a row or column
    has exactly one hidden cell, one more of its visible positive cells is
    hidden, so that no hidden value follows from a total minus the visible
    cells. The complement is taken where it closes a rectangle (its cross line
    already has a hidden cell), else the smallest. Zeros stay visible.

    Here the 1 hides, then 8 (its column), then 5 and 7 (their rows, 7 closing
    the rectangle): with all totals known each hidden cell can still be anything
    from 0 to 8.

    >>> t = pd.DataFrame({"a": [8, 1], "b": [5, 7], "c": [9, 4]})
    >>> print(suppress_table(t))
          a     b  c
    0  <NA>  <NA>  9
    1  <NA>  <NA>  4
    """
    values = table.astype("Int64")
    v = values.fillna(0).to_numpy(dtype="int64")
    hidden = (v > 0) & (v < minimum)
    changed = True
    while changed:
        changed = False
        for by_column in (True, False):
            n_lines = v.shape[1] if by_column else v.shape[0]
            for i in range(n_lines):
                line = hidden[:, i] if by_column else hidden[i, :]
                data = v[:, i] if by_column else v[i, :]
                if line.sum() != 1:
                    continue
                candidates = np.flatnonzero(~line & (data > 0))
                if len(candidates) == 0:
                    continue
                cross = hidden[candidates, :].sum(axis=1) if by_column else hidden[:, candidates].sum(axis=0)
                j = candidates[np.lexsort((data[candidates], cross == 0))[0]]
                if by_column:
                    hidden[j, i] = True
                else:
                    hidden[i, j] = True
                changed = True
    return values.mask(pd.DataFrame(hidden, index=values.index, columns=values.columns))


@dataclass(frozen=True)
class Sum:
    """A sum that holds between cells: ``values[total] == sum(values[parts])`` (cell positions)."""

    total: int
    parts: tuple[int, ...]

    @property
    def cells(self) -> tuple[int, ...]:
        return (self.total, *self.parts)


#: an upper bound no count reaches; a cell whose largest value hits it is unbounded
_UNBOUNDED = 1e9


def _components(n: int, protected: np.ndarray, sums: Sequence[Sum]) -> dict[int, list[int]]:
    """Protected cells grouped by the sums that link them (union–find): ``root → cells``."""
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for s in sums:
        hidden = [c for c in s.cells if protected[c]]
        for c in hidden[1:]:
            a, b = find(hidden[0]), find(c)
            if a != b:
                parent[b] = a
    groups: dict[int, list[int]] = {}
    for c in np.flatnonzero(protected):
        groups.setdefault(find(int(c)), []).append(int(c))
    return groups


def _ranges(cells: list[int], values: np.ndarray, protected: np.ndarray, sums: Sequence[Sum]) -> np.ndarray:
    """Smallest and largest whole value of each of ``cells`` (one component) under the sums: ``(n, 2)``.

    Returns ``nan`` rows when the published numbers contradict the sums (no solution).
    """
    index = {c: i for i, c in enumerate(cells)}
    rows, cols, coef, rhs = [], [], [], []
    for s in sums:
        if not any(c in index for c in s.cells):
            continue
        known = 0.0
        r = len(rhs)
        for c, sign in ((s.total, 1.0), *((p, -1.0) for p in s.parts)):
            if c in index:
                rows.append(r), cols.append(index[c]), coef.append(sign)
            else:
                known += sign * values[c]
        rhs.append(-known)
    n = len(cells)
    a = csr_array((coef, (rows, cols)), shape=(len(rhs), n))
    constraint = LinearConstraint(a, rhs, rhs)
    bounds, integral = Bounds(np.ones(n), np.full(n, _UNBOUNDED)), np.ones(n)
    out = np.full((n, 2), np.nan)
    for i in range(n):
        for j, sign in ((0, 1.0), (1, -1.0)):
            objective = np.zeros(n)
            objective[i] = sign
            res = milp(objective, constraints=constraint, integrality=integral, bounds=bounds)
            if res.status != 0:
                return np.full((n, 2), np.nan)
            out[i, j] = round(res.x[i])
    return out


def exposed(low: np.ndarray, high: np.ndarray, minimum: np.ndarray | int) -> np.ndarray:
    """Whether an attacker who knows a protected cell lies in ``[low, high]`` learns too much:
    the range lies wholly below ``minimum``, or is narrower than 2 and reaches below it.

    >>> exposed(np.array([1, 1, 1, 48]), np.array([2, 3, 2, 49]), 3).tolist()
    [True, False, True, False]
    """
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return (high < minimum) | ((high - low < 2) & (low < minimum))


def audit(values: Sequence[float], protected: Sequence[bool], sums: Sequence[Sum],
          minimum: np.ndarray | int = DEFAULT_MINIMUM, _cache: dict | None = None) -> pd.DataFrame:
    """The range an attacker can narrow each protected cell to, and whether that exposes it.

    ``values`` needs only the published cells (protected ones are ignored), so a reader of a bundle
    runs the same audit as its writer. Returns one row per protected cell: ``zelle`` (position),
    ``unten``, ``oben`` (``oben`` ≥ 10⁹ means unbounded) and ``offengelegt``. A contradiction between
    published numbers and sums gives ``unten``/``oben`` missing and ``offengelegt`` True.

    Here the 1 and the 2 are protected, but the row total 3 gives their sum and both are at least 1:
    each lies in [1, 2], below the minimum 3 — exposed.

    >>> sums = [Sum(0, (1, 2, 3))]           # 10 = 7 + 1 + 2
    >>> audit([10, 7, 1, 2], [False, False, True, True], sums)[["zelle", "unten", "oben", "offengelegt"]].values.tolist()
    [[2, 1.0, 2.0, True], [3, 1.0, 2.0, True]]
    """
    values = np.nan_to_num(np.asarray(values, dtype=float))
    protected = np.asarray(protected, dtype=bool)
    minimum = np.broadcast_to(np.asarray(minimum), protected.shape)
    cache = {} if _cache is None else _cache
    by_cell: dict[int, list[Sum]] = {}
    for s in sums:
        for c in s.cells:
            by_cell.setdefault(c, []).append(s)
    parts = []
    for cells in _components(len(values), protected, sums).values():
        key = tuple(sorted(cells))
        if key not in cache:
            touching = list({id(s): s for c in cells for s in by_cell.get(c, [])}.values())
            cache[key] = _ranges(list(key), values, protected, touching)
        parts.append(pd.DataFrame({"zelle": key, "unten": cache[key][:, 0], "oben": cache[key][:, 1]}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"zelle": [], "unten": [], "oben": []})
    out = out.sort_values("zelle", ignore_index=True).astype({"zelle": "int64"})
    out["offengelegt"] = out["unten"].isna() | exposed(out["unten"], out["oben"], minimum[out["zelle"].to_numpy()])
    return out


def _at_risk(s: Sum, v: np.ndarray, protected: np.ndarray, minimum: np.ndarray) -> bool:
    """Whether one sum alone narrows its protected parts: a single protected cell follows exactly;
    with a published total, k protected parts summing to S each lie in [1, S − k + 1]."""
    hidden = [c for c in s.cells if protected[c]]
    if len(hidden) == 1:
        return True
    if not hidden or protected[s.total]:
        return False
    m = max(int(minimum[c]) for c in hidden)
    return int(v[hidden].sum()) - len(hidden) < max(m - 1, 2)


def _partner(s: Sum, v: np.ndarray, protected: np.ndarray, minimum: np.ndarray,
             by_cell: dict[int, list[Sum]]) -> int | None:
    """The published cell of ``s`` to protect next: a part before the total, one that makes the sum
    safe, one that leaves the fewest other sums with a single protected cell, the smallest."""
    hidden = [c for c in s.cells if protected[c]]
    hidden_sum = int(v[[c for c in hidden if c != s.total]].sum())
    m = max([int(minimum[c]) for c in hidden] or [DEFAULT_MINIMUM])
    best, best_key = None, None
    for c in s.cells:
        if protected[c] or v[c] <= 0:
            continue
        is_total = c == s.total
        enough = is_total or hidden_sum + int(v[c]) - (len(hidden) + 1) >= max(m - 1, 2)
        opened = sum(1 for other in by_cell[c] if not any(protected[x] for x in other.cells))
        key = (is_total, not enough, opened, int(v[c]), c)
        if best_key is None or key < best_key:
            best, best_key = c, key
    return best


def _opened(c: int, protected: np.ndarray, by_cell: dict[int, list[Sum]]) -> int:
    """How many sums of cell ``c`` have no protected cell yet (each would need a second one)."""
    return sum(1 for s in by_cell[c] if not any(protected[x] for x in s.cells))


def _protect_one(cell: int, component: Sequence[int], v: np.ndarray, protected: np.ndarray,
                     by_cell: dict[int, list[Sum]]) -> bool:
    """Protect one more cell for an exposed ``cell``; False when there is none left.

    An exposed cell needs a cycle of protected cells through it along which values can shift while
    every sum holds. Best is a published cell whose every sum already holds a protected cell (it
    closes a cycle): first one in the cell's own sums, then one in the sums of its component.
    Otherwise the cell of its own sums (else of its component's) that opens the fewest new sums,
    parts before totals, smallest. There is always one: were every count in the component's sums
    protected, all its sums would be homogeneous, any multiple of the true values would satisfy
    them and no cell would have an upper bound.
    """
    def candidates(cells: Iterable[int]) -> list[tuple]:
        seen = {x for c in cells for s in by_cell[c] for x in s.cells if not protected[x] and v[x] > 0}
        return sorted((_opened(x, protected, by_cell), any(s.total == x for s in by_cell[x]), int(v[x]), x)
                      for x in seen)

    local, around = candidates([cell]), candidates(component)
    for pool in (local, around):
        if pool and pool[0][0] == 0:
            protected[pool[0][-1]] = True
            return True
    for pool in (local, around):
        if pool:
            protected[pool[0][-1]] = True
            return True
    return False


def protect(values: Sequence[int], sums: Sequence[Sum], minimum: np.ndarray | int = DEFAULT_MINIMUM,
            labels: Sequence[str] | None = None) -> np.ndarray:
    """Which cells to protect so that :func:`audit` finds nothing: a boolean mask.

    Primary: every count from 1 to ``minimum − 1``. Secondary, first by single sums (no sum may leave
    one protected cell alone, nor protected parts too small to hide a small one), then by the audit:
    while it finds an exposed cell, one more published cell of the sum with the fewest protected cells
    around it is protected. Zeros stay published (a protected cell is known to be at least 1).
    :class:`DisclosureError` (naming the cells by ``labels``) would mean no cell is left to protect an
    exposed one, which cannot happen (see :func:`_protect_one`); it guards against a defect.

    >>> sums = [Sum(0, (1, 2, 3))]           # 20 = 10 + 1 + 9
    >>> protect([20, 10, 1, 9], sums).tolist()
    [False, False, True, True]
    """
    v = np.asarray(values, dtype="int64")
    minimum = np.broadcast_to(np.asarray(minimum), v.shape)
    protected = (v > 0) & (v < minimum)
    by_cell: dict[int, list[Sum]] = {c: [] for c in range(len(v))}
    for s in sums:
        for c in s.cells:
            by_cell[c].append(s)
    changed = True
    while changed:
        changed = False
        for s in sums:
            if _at_risk(s, v, protected, minimum):
                c = _partner(s, v, protected, minimum, by_cell)
                if c is not None:
                    protected[c] = changed = True
    cache: dict = {}
    while True:
        result = audit(v, protected, sums, minimum, cache)
        bad = result.loc[result["offengelegt"], "zelle"].tolist()
        if not bad:
            return protected
        added = False
        components = {c: cells for cells in _components(len(v), protected, sums).values() for c in cells}
        done: set[int] = set()
        for cell in bad:   # one more cell per component and round: the next audit shows whether it sufficed
            component = components.get(cell, [cell])
            if component[0] not in done and _protect_one(cell, component, v, protected, by_cell):
                added = True
                done.add(component[0])
        if not added:
            names = ", ".join(labels[c] if labels is not None else str(c) for c in bad[:5])
            raise DisclosureError(
                f"Diese Zählungen lassen sich nicht sicher veröffentlichen: {names}. Es bleibt keine Zelle, "
                "die sie verdecken könnte. Exportieren Sie ganze Jahre statt Quartale oder einen längeren Zeitraum.",
                f"These counts cannot be published safely: {names}. No cell is left to hide them. "
                "Export whole years instead of quarters, or a longer period.")
