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

__all__ = ["wilson_interval", "poisson_interval", "km_curve", "km_median", "km_median_others", "curve_median", "HALF"]

#: survival at or below this counts as "half have ended": 0.5 plus a margin for the rounding of the running
#: product (12 of 24 ended gives 0.5000000000000001 in floating point, which must count as 0.5)
HALF = 0.5 + 1e-9


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
    return _km_steps(_counts(frame, keys, time, event), keys)


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One integer per row for its group, in sorted key order (the keys are factorised once; NaN is a group)."""
    if not keys:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(keys, dropna=False, sort=True).ngroup().to_numpy()


def _counts(frame: pd.DataFrame, keys: list[str], time: str, event: str) -> pd.DataFrame:
    """Ends ``d`` and cases ``c`` per group and distinct time, sorted by group and time (in numpy: the
    dashboards call this on every filter change, and pandas' grouping by text keys costs more than the sums)."""
    gid = _group_ids(frame, keys)
    t = frame[time].to_numpy()
    e = frame[event].astype(int).to_numpy()
    order = np.lexsort((t, gid))
    gid, t, e = gid[order], t[order], e[order]
    first = np.flatnonzero(np.r_[True, (gid[1:] != gid[:-1]) | (t[1:] != t[:-1])]) if len(t) else np.zeros(0, int)
    out = frame[keys].iloc[order[first]].reset_index(drop=True)
    out[time] = t[first]
    out["d"] = np.add.reduceat(e, first) if len(first) else np.zeros(0, np.int64)
    out["c"] = np.diff(np.r_[first, len(t)]).astype(np.int64)
    return out


def _km_steps(g: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add ``at_risk`` and the survival ``s`` to counts sorted by group and time (each group's rows together)."""
    gid = _group_ids(g, keys)
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]]) if len(g) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(g)].astype(int)
    c, d = g["c"].to_numpy(np.int64), g["d"].to_numpy(float)
    running = np.cumsum(c)
    before = np.repeat(running[starts] - c[starts], ends - starts)          # cases of the group before this time
    totals = np.repeat(np.add.reduceat(c, starts) if len(starts) else c, ends - starts)
    at_risk = totals - (running - before) + c
    factor = 1 - d / at_risk
    s = np.empty(len(g))
    for a, b in zip(starts, ends):
        s[a:b] = np.cumprod(factor[a:b])
    g["at_risk"], g["s"] = at_risk, s
    return g


def curve_median(g: pd.DataFrame, keys: list[str], time: str = "dauer") -> pd.Series:
    """The median per group from a :func:`km_curve`: the first time survival is at most one half (NaN if never)."""
    return g.loc[g["s"] <= HALF].groupby(keys, dropna=False)[time].min().rename("median")


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
    sizes = g.groupby(keys, dropna=False)[["c", "d"]].sum().rename(columns={"c": "n", "d": "events"})
    return sizes.join(curve_median(g, keys, time)).reset_index()


def km_median_others(frame: pd.DataFrame, keys: list[str], group: str, time: str = "dauer",
                     event: str = "beendet") -> pd.DataFrame:
    """For each ``group`` value within ``keys``, the Kaplan–Meier median of all *other* rows with the same keys
    (e.g. the median wait at every partner of the kommune except this one), in one pass instead of one
    estimate per group: the others' counts at each time are the totals minus the group's own.
    Returns ``keys + [group, median]``; NaN where the others' survival never falls to 0.5 or there are none.
    """
    own = _counts(frame, [*keys, group], time, event)
    total = _counts(frame, keys, time, event)
    groups = own[[*keys, group]].drop_duplicates()
    g = (groups.merge(total, on=keys).merge(own, on=[*keys, group, time], how="left", suffixes=("", "_own"))
         .fillna({"d_own": 0, "c_own": 0}))
    g["d"] -= g["d_own"].astype(int)
    g["c"] -= g["c_own"].astype(int)
    g = g.loc[g["c"] > 0].sort_values([*keys, group, time], ignore_index=True)
    median = curve_median(_km_steps(g, [*keys, group]), [*keys, group], time)
    return groups.merge(median.reset_index(), on=[*keys, group], how="left").reset_index(drop=True)
