"""Small counts in what leadership sees.

:func:`mask_small` is the display rule of dashboards: a count from 1 to
``minimum - 1`` is not shown. :func:`suppress_table` protects a whole
two-way table whose row and column totals are known elsewhere: after the
small cells it hides further cells so that no hidden cell can be recomputed
from a total.

>>> import pandas as pd
>>> mask_small(pd.Series([0, 1, 2, 3, 40])).tolist()
[0, <NA>, <NA>, 3, 40]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .i18n import fmt_number

__all__ = ["mask_small", "suppress_table", "shown_cell", "count_text", "HIDDEN", "DEFAULT_MINIMUM"]

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


def mask_small(values: pd.Series, minimum: int = DEFAULT_MINIMUM) -> pd.Series:
    """Counts with ``0 < n < minimum`` become missing; zeros and larger counts stay."""
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
