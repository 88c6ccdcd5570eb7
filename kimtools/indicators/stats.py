"""Statistics the indicators need: intervals and the Kaplan–Meier median, vectorised over groups.

Examples
--------
>>> import pandas as pd
>>> lo, hi = wilson_interval(pd.Series([5]), pd.Series([10]))
>>> float(round(lo[0], 3)), float(round(hi[0], 3))
(0.237, 0.763)
>>> lo, hi = poisson_interval(pd.Series([0]))
>>> float(lo[0]), float(round(hi[0], 3))
(0.0, 3.689)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["wilson_interval", "poisson_interval", "km_curve", "km_median"]


def wilson_interval(successes: pd.Series, trials: pd.Series, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion; NaN where ``trials`` is 0."""
    from statsmodels.stats.proportion import proportion_confint

    n = np.asarray(trials, dtype=float)
    k = np.asarray(successes, dtype=float)
    ok = n > 0
    lo, hi = np.full(len(n), np.nan), np.full(len(n), np.nan)
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(k[ok], n[ok], alpha=1 - level, method="wilson")
    return lo, hi


def poisson_interval(counts: pd.Series, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson count, from the chi-square distribution."""
    k = np.asarray(counts, dtype=float)
    a = (1 - level) / 2
    lo = np.where(k > 0, stats.chi2.ppf(a, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a, 2 * k + 2) / 2
    return lo, hi


def km_curve(frame: pd.DataFrame, keys: list[str], time: str = "dauer", event: str = "beendet") -> pd.DataFrame:
    """Kaplan–Meier survival per group at each distinct time: ``keys + [time, d, c, at_risk, s]``.

    ``d`` ends and ``c`` cases at that time; ``event`` False means censored
    (a case censored at t is still at risk at t).
    """
    g = (frame.assign(_e=frame[event].astype(int))
         .groupby([*keys, time], dropna=False, sort=True)["_e"].agg(d="sum", c="size").reset_index())
    by = g.groupby(keys, dropna=False, sort=False)
    g["at_risk"] = by["c"].transform("sum") - by["c"].cumsum() + g["c"]
    g["s"] = (1 - g["d"] / g["at_risk"]).groupby([g[k] for k in keys], dropna=False, sort=False).cumprod()
    return g


def km_median(frame: pd.DataFrame, keys: list[str], time: str = "dauer", event: str = "beendet") -> pd.DataFrame:
    """Kaplan–Meier median of ``time`` per group, with ``event`` False meaning censored.

    The median is the smallest time at which the estimated survival is ≤ 0.5;
    NaN where it never falls that low (too few cases have ended yet).
    Returns ``keys + [median, n, events]``.
    """
    if frame.empty:   # keep the key dtypes so that callers can merge on them
        return frame[keys].iloc[:0].assign(median=pd.Series(dtype=float), n=pd.Series(dtype="int64"),
                                            events=pd.Series(dtype="int64"))
    g = km_curve(frame, keys, time, event)
    median = g.loc[g["s"] <= 0.5].groupby(keys, dropna=False)[time].min().rename("median")
    sizes = g.groupby(keys, dropna=False).agg(n=("c", "sum"), events=("d", "sum"))
    return sizes.join(median).reset_index()
