"""Small counts in what leadership sees.

:func:`mask_small` is the display rule of dashboards: a count from 1 to
``minimum - 1`` is not shown. (The exchange bundle's full protection with
secondary suppression and its audit comes with the comparison bundle.)

>>> import pandas as pd
>>> mask_small(pd.Series([0, 1, 2, 3, 40])).tolist()
[0, <NA>, <NA>, 3, 40]
"""

from __future__ import annotations

import pandas as pd

__all__ = ["mask_small", "DEFAULT_MINIMUM"]

DEFAULT_MINIMUM = 3


def mask_small(values: pd.Series, minimum: int = DEFAULT_MINIMUM) -> pd.Series:
    """Counts with ``0 < n < minimum`` become missing; zeros and larger counts stay."""
    values = values.astype("Int64")
    return values.mask((values > 0) & (values < minimum))
