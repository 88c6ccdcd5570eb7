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
from scipy import special

from ..errors import UsageError

__all__ = ["share", "wilson_interval", "poisson_interval", "km_curve", "km_median", "km_medians", "km_median_others", "curve_median", "group_ids",
           "HALF"]

#: survival at or below this counts as "half have ended": 0.5 plus a margin for the rounding of the running
#: product (12 of 24 ended gives 0.5000000000000001 in floating point, which must count as 0.5)
HALF = 0.5 + 1e-9


def share(part, whole, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rate of ``part`` in ``whole`` (NaN where ``whole`` is 0 or missing) with its Wilson interval. A part above
    its whole or below zero is refused: no share of it exists (adding counts of which one contains the other gives
    that).

    >>> rate, lo, hi = share([5, 0, 1], [10, 0, np.nan])
    >>> float(rate[0]), bool(np.isnan(rate[1:]).all()), round(float(lo[0]), 3), bool(np.isnan(lo[1:]).all())
    (0.5, True, 0.237, True)
    >>> share([12], [10])
    Traceback (most recent call last):
    kimtools.errors.UsageError: share: part 12 ist größer als whole 10 (an Stelle 0); ein Anteil braucht 0 ≤ part ≤ whole.
    """
    k, n = np.broadcast_arrays(np.asarray(part, dtype=float), np.asarray(whole, dtype=float))
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(((k > n) | (k < 0)).ravel())
    if bad.size:
        i = int(bad[0])
        kk, nn = k.ravel()[i], n.ravel()[i]
        word = ("kleiner als 0", "below 0") if kk < 0 else (f"größer als whole {nn:g}", f"above whole {nn:g}")
        raise UsageError(f"share: part {kk:g} ist {word[0]} (an Stelle {i}); ein Anteil braucht 0 ≤ part ≤ whole.",
                         f"share: part {kk:g} is {word[1]} (at position {i}); a share needs 0 ≤ part ≤ whole.")
    lo, hi = wilson_interval(k, n)
    return k / np.where(n > 0, n, np.nan), lo, hi


def wilson_interval(successes: pd.Series, trials: pd.Series, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion; NaN where ``trials`` is 0.

    The closed formula (as in statsmodels' ``proportion_confint(method="wilson")``, against which it is tested)
    with the normal quantile from :mod:`scipy.special`: a dashboard kernel computes intervals on every page and
    so need not import statsmodels and scipy.stats (about 30 MB each kernel)."""
    n = np.asarray(trials, dtype=float)
    k = np.asarray(successes, dtype=float)
    z = special.ndtri(1 - (1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        ok = n > 0
        # none (k = 0) gives 0 and all (k = n) gives 1 exactly, as the formula does on paper; in floating point
        # they came out as ±1e-18 (a bundle's validator rejects a negative bound)
        lo = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
        hi = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
        return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def poisson_interval(counts: pd.Series, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson count: the chi-square quantiles with 2k and 2k + 2 degrees of freedom,
    halved, which are the gamma quantiles with shape k and k + 1 (:func:`scipy.special.gammaincinv`)."""
    k = np.asarray(counts, dtype=float)
    a = (1 - level) / 2
    lo = np.where(k > 0, special.gammaincinv(np.where(k > 0, k, 1), a), 0.0)
    hi = special.gammaincinv(k + 1, 1 - a)
    return lo, hi


def km_curve(frame: pd.DataFrame, keys: list[str], time: str = "dauer", event: str = "beendet") -> pd.DataFrame:
    """Kaplan–Meier survival per group at each distinct time: ``keys + [time, d, c, at_risk, s]``.

    ``d`` ends and ``c`` cases at that time; ``event`` False means censored
    (a case censored at t is still at risk at t).
    """
    gid = group_ids(frame, keys)
    sg, st, d, c, rows = _steps(gid, frame[time].to_numpy(), frame[event].to_numpy(dtype=np.int64))
    out = frame[keys].iloc[rows].reset_index(drop=True)
    out[time], out["d"], out["c"] = st, d, c
    out["at_risk"], out["s"] = _survival(sg, d, c)
    return out


# The estimates below work on integer group ids and numpy arrays and build one frame at the end: the dashboards
# call them on every filter change, where pandas' grouping and merging of a few thousand rows costs more than the
# arithmetic.

def group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One integer per row for its group, 0, 1, … in sorted key order (NaN is a group, sorted last)."""
    if not keys:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(keys, dropna=False, sort=True).ngroup().to_numpy()


def _first_rows(gid: np.ndarray) -> np.ndarray:
    """The first row of each group id 0, 1, …: where to read the group's key values."""
    return np.unique(gid, return_index=True)[1]


def _by_group_and_time(gid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The order of rows by group, then time. For integer times one sort of a combined key (rows of the same group
    and time may come in any order: they make one step), else a sort by both."""
    if len(t) and np.issubdtype(t.dtype, np.integer):
        t0, width = int(t.min()), int(t.max()) - int(t.min()) + 1
        if (int(gid.max()) + 1) * width < 2 ** 62:
            return np.argsort(gid.astype(np.int64) * width + (t.astype(np.int64) - t0))
    return np.lexsort((t, gid))


def _steps(gid: np.ndarray, t: np.ndarray, e: np.ndarray, weights: np.ndarray | None = None):
    """Per group and distinct time, sorted by group and time: group id, time, ends ``d``, cases ``c``, and the
    first input row of each step. With ``weights`` each input row stands for that many cases (``e`` of them ended)."""
    order = _by_group_and_time(gid, t)
    gid, t, e = gid[order], t[order], e[order]
    first = np.flatnonzero(np.r_[True, (gid[1:] != gid[:-1]) | (t[1:] != t[:-1])]) if len(t) else np.zeros(0, int)
    d = np.add.reduceat(e, first) if len(first) else np.zeros(0, np.int64)
    if weights is None:
        c = np.diff(np.r_[first, len(t)]).astype(np.int64)
    else:
        c = np.add.reduceat(weights[order].astype(np.int64), first) if len(first) else np.zeros(0, np.int64)
    return gid[first], t[first], d, c, order[first]


def _survival(sg: np.ndarray, d: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At risk and survival at each step of :func:`_steps` (each group's steps together, in time order)."""
    starts = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]]) if len(sg) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(sg)].astype(int)
    running = np.cumsum(c)
    before = np.repeat(running[starts] - c[starts], ends - starts)          # cases of the group before this time
    totals = np.repeat(np.add.reduceat(c, starts) if len(starts) else c, ends - starts)
    at_risk = totals - (running - before) + c
    # the running product of each group (the same numbers as one product per group, in one pass)
    s = pd.Series(1 - d / at_risk).groupby(sg, sort=False).cumprod().to_numpy()
    return at_risk, s


def _first_below_half(sg: np.ndarray, st: np.ndarray, s: np.ndarray, groups: int) -> np.ndarray:
    """Per group id the first time its survival is at most one half; NaN if never."""
    median = np.full(groups, np.nan)
    below = np.flatnonzero(s <= HALF)
    ids, first = np.unique(sg[below], return_index=True)
    median[ids] = st[below[first]]
    return median


def _own(gid: np.ndarray, t: np.ndarray, e: np.ndarray, groups: int, weights: np.ndarray | None = None):
    """Each group's own estimate: its steps (:func:`_steps`), ``n``, ``events`` and median per group id."""
    steps = _steps(gid, t, e, weights)
    sg, st, d, c, _ = steps
    n = np.bincount(gid, weights=weights, minlength=groups).astype(np.int64)
    events = np.bincount(gid, weights=e, minlength=groups).astype(np.int64)
    return steps, n, events, _first_below_half(sg, st, _survival(sg, d, c)[1], groups)


def km_medians(gid: np.ndarray, t: np.ndarray, e: np.ndarray, groups: int,
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n``, ``events`` and the Kaplan–Meier median (as :func:`km_median`) for each group id ``0 … groups − 1``
    (0, 0 and NaN for a group without rows), from rows of group id ``gid``, time ``t`` and ``e`` ended; with
    ``weights`` each row stands for that many (``e`` of them ended, the others censored)."""
    _, n, events, median = _own(gid, t, e, groups, weights)
    return n, events, median


def curve_median(g: pd.DataFrame, keys: list[str], time: str = "dauer") -> pd.Series:
    """The median per group from a :func:`km_curve`: the first time survival is at most one half (NaN if never)."""
    return g.loc[g["s"] <= HALF].groupby(keys, dropna=False)[time].min().rename("median")


def km_median(frame: pd.DataFrame, keys: list[str], time: str = "dauer", event: str = "beendet") -> pd.DataFrame:
    """Kaplan–Meier median of ``time`` per group, with ``event`` False meaning censored.

    The median is the smallest time at which the estimated survival is ≤ 0.5;
    NaN where it never falls that low (too few cases have ended yet).
    Returns ``keys + [n, events, median]``.
    """
    gid = group_ids(frame, keys)
    groups = int(gid.max()) + 1 if len(gid) else 0
    out = frame[keys].iloc[_first_rows(gid)].reset_index(drop=True)
    out["n"], out["events"], out["median"] = km_medians(gid, frame[time].to_numpy(), frame[event].to_numpy(dtype=np.int64),
                                                        groups)
    return out


def km_median_others(frame: pd.DataFrame, keys: list[str], group: str, time: str = "dauer",
                     event: str = "beendet") -> pd.DataFrame:
    """For each ``group`` value within ``keys``, the Kaplan–Meier median of all *other* rows with the same keys
    (e.g. the median wait at every partner of the kommune except this one), in one pass instead of one
    estimate per group: the others' counts at each time are the totals minus the group's own.
    Returns ``keys + [group, median]``; NaN where the others' survival never falls to 0.5 or there are none;
    and the group's own ``eigen_median``, ``eigen_n``, ``eigen_events`` (as :func:`km_median` gives them).
    """
    t, e = frame[time].to_numpy(), frame[event].to_numpy(dtype=np.int64)
    kid, gid = group_ids(frame, keys), group_ids(frame, [*keys, group])
    rep = _first_rows(gid)
    out = frame[[*keys, group]].iloc[rep].reset_index(drop=True)
    if not len(frame):
        return out.assign(median=pd.Series(dtype=float), eigen_median=pd.Series(dtype=float),
                          eigen_n=pd.Series(dtype="int64"), eigen_events=pd.Series(dtype="int64"))
    ks, kt, kd, kc, _ = _steps(kid, t, e)          # all rows of the keys, by time
    (gs, gt, gd, gc, _), out["eigen_n"], out["eigen_events"], out["eigen_median"] = _own(gid, t, e, len(rep))
    kstart = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    klen = np.diff(np.r_[kstart, len(ks)])
    kof = kid[rep]                                 # the keys' id of each group
    # every group gets the time steps of its keys: the totals, from which its own counts are taken away
    length = klen[kof]
    offset = np.r_[0, np.cumsum(length)[:-1]]
    idx = np.arange(length.sum()) + np.repeat(kstart[kof] - offset, length)
    og, ot, od, oc = np.repeat(np.arange(len(rep)), length), kt[idx], kd[idx].copy(), kc[idx].copy()
    times, rank = np.unique(kt, return_inverse=True)
    step_key = ks * len(times) + rank              # increasing: steps are sorted by keys, then time
    at = np.searchsorted(step_key, kof[gs] * len(times) + np.searchsorted(times, gt))
    at = offset[gs] + at - kstart[kof[gs]]
    np.subtract.at(od, at, gd)
    np.subtract.at(oc, at, gc)
    keep = oc > 0
    og, ot, od, oc = og[keep], ot[keep], od[keep], oc[keep]
    out.insert(len(keys) + 1, "median", _first_below_half(og, ot, _survival(og, od, oc)[1], len(rep)))
    return out
