"""Fair comparison of districts and cities: funnel plots instead of league tables.

A funnel plot puts each unit's rate against its denominator, with control
limits around the group's overall rate that narrow as the denominator grows
(Spiegelhalter 2005, *Funnel plots for comparing institutional performance*).
A small district with an extreme rate then lies inside the wide part of the
funnel instead of at the top of a ranking. Limits are exact for small counts
(Poisson for rates per inhabitant, binomial for shares), interpolated so that
they are smooth; with ``overdispersion=True`` they widen by the multiplicative
factor estimated from winsorised z-scores, for when units differ by more than
chance.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from ..contract.catalogue import CATALOGUE
from ..i18n import fmt_number, fmt_percent

__all__ = ["funnel_limits", "overdispersion", "funnel_table", "comparable_indicators", "rate_text", "peer_table", "bundle_units", "against_own_city",
           "level_name", "LEVELS"]

#: the two control levels of a funnel plot: about 2 and 3 standard deviations
LEVELS = (0.95, 0.998)


def level_name(level: float) -> str:
    """The suffix of a level's limit columns, as Germans write it: ``95``, ``99,8``."""
    return f"{100 * level:g}".replace(".", ",")


def _exact_limit(p: float, target: float, n: np.ndarray, kind: str) -> np.ndarray:
    """The p-quantile of the count under the target, interpolated (Spiegelhalter 2005, appendix A.1.1),
    on the rate scale: (r_p − α) / n with α = (F(r_p) − p) / (F(r_p) − F(r_p − 1))."""
    n = np.asarray(n, dtype=float)
    dist = stats.poisson(target * n) if kind == "poisson" else stats.binom(np.round(n).astype(int), target)
    r = dist.ppf(p)
    f_r, f_below = dist.cdf(r), dist.cdf(r - 1)
    alpha = np.where(f_r > f_below, (f_r - p) / np.where(f_r > f_below, f_r - f_below, 1), 0)
    return np.clip(r - alpha, 0, None) / n


def funnel_limits(target: float, denominators: Iterable[float], kind: str = "poisson",
                  levels: Iterable[float] = LEVELS, phi: float = 1.0) -> pd.DataFrame:
    """Control limits around ``target`` for each denominator, on the rate scale.

    ``kind`` is ``poisson`` (events per unit of the denominator, e.g. per inhabitant) or ``binomial``
    (a share of the denominator). With ``phi`` > 1 (over-dispersion) the limits are the normal ones
    widened by √phi: target ± z·√(phi·V/n). Columns: ``nenner`` and ``unten_XX``/``oben_XX`` per level
    (``XX`` = 95, 99.8).

    >>> funnel_limits(0.5, [10], kind="binomial", levels=[0.95])["oben_95"].round(4).tolist()
    [0.7676]
    """
    if kind not in ("poisson", "binomial"):
        raise ValueError("kind must be 'poisson' or 'binomial'")
    n = np.asarray(list(denominators), dtype=float)
    out = pd.DataFrame({"nenner": n})
    variance = target if kind == "poisson" else target * (1 - target)
    for level in levels:
        name = level_name(level)
        tail = (1 - level) / 2
        if phi > 1:
            z = stats.norm.ppf(1 - tail)
            half = z * np.sqrt(phi * variance / n)
            lo, hi = np.clip(target - half, 0, None), target + half
            if kind == "binomial":
                hi = np.clip(hi, None, 1)
        else:
            lo, hi = _exact_limit(tail, target, n, kind), _exact_limit(1 - tail, target, n, kind)
        out[f"unten_{name}"], out[f"oben_{name}"] = lo, hi
    return out


def overdispersion(counts: Iterable[float], denominators: Iterable[float], target: float, kind: str = "poisson",
                   winsor: float = 0.1) -> float:
    """Multiplicative over-dispersion φ: the mean squared z-score after winsorising the most extreme
    ``winsor`` share at each end (Spiegelhalter 2005, section 3.4.2). Below 1 there is none."""
    y, n = np.asarray(list(counts), dtype=float), np.asarray(list(denominators), dtype=float)
    variance = target if kind == "poisson" else target * (1 - target)
    z = (y / n - target) / np.sqrt(variance / n)
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    return float(np.mean(np.clip(z, lo, hi) ** 2))


def funnel_table(rows: pd.DataFrame, unit: str, kind: str = "poisson", levels: Iterable[float] = LEVELS,
                 use_overdispersion: bool = False, scale: float = 1.0, target: float | None = None) -> pd.DataFrame:
    """Where each unit lies in the funnel.

    ``rows`` has one row per unit with ``unit``, ``zaehler`` and ``nenner`` (e.g. the indicator table
    for one indicator and period). The target is the pooled rate Σ zaehler / Σ nenner, or ``target`` (on the
    rate scale, e.g. the whole city's rate where some districts' counts are protected). Returns the
    unit, ``zaehler``, ``nenner``, ``wert`` and the limits (times ``scale``, e.g. 1000 for per 1,000),
    ``phi`` and ``lage``: ``ueber_99,8``/``ueber_95``/``innerhalb``/``unter_95``/``unter_99,8`` — a
    deviation is named only where the unit lies outside a limit.
    """
    levels = sorted(levels)
    rows = rows.loc[rows["nenner"].astype(float) > 0]
    z, n = rows["zaehler"].astype(float).to_numpy(), rows["nenner"].astype(float).to_numpy()
    if target is None:
        target = z.sum() / n.sum() if n.sum() > 0 else np.nan
    phi = overdispersion(z, n, target, kind) if use_overdispersion and len(rows) > 2 else 1.0
    limits = funnel_limits(target, n, kind, levels, phi if phi > 1 else 1.0)
    out = pd.DataFrame({unit: rows[unit].to_numpy(), "zaehler": z, "nenner": n, "wert": z / n * scale,
                        "ziel": target * scale, "phi": phi})
    lage = np.full(len(out), "innerhalb", dtype=object)
    for level in levels:   # the wider limit last, so that it wins
        name = level_name(level)
        lo, hi = limits[f"unten_{name}"].to_numpy(), limits[f"oben_{name}"].to_numpy()
        out[f"unten_{name}"], out[f"oben_{name}"] = lo * scale, hi * scale
        lage = np.where(z / n > hi, f"ueber_{name}", np.where(z / n < lo, f"unter_{name}", lage))
    out["lage"] = lage
    return out


def comparable_indicators() -> dict[str, tuple[str, float]]:
    """Rate indicators that can be compared in a funnel: kind of limits and display scale (from the catalogue).

    Shares with a Wilson interval are binomial; every other rate with a denominator is treated as
    events per unit of it (Poisson), shown at its factor (per 1,000 for rates per 1,000). Counts and
    computed values (medians) are not rates and are left out.
    """

    return {k: ("binomial" if e.texts["intervall"] == "wilson" else "poisson", e.faktor)
            for k, e in CATALOGUE.items() if not e.is_count and not e.berechnung}


def rate_text(value: float, kennzahl: str, unit: bool = True) -> str:
    """A compared rate as the viewer reads it: shares in per cent, other rates with one decimal (German format
    by default); without the ``unit`` a share is the number of per cent alone (the lower end of a range).

    >>> rate_text(0.256, "annahmequote"), rate_text(12.34, "reichweite_je_1000")
    ('25,6\xa0%', '12,3')
    >>> rate_text(0.201, "annahmequote", unit=False)
    '20,1'
    """

    if comparable_indicators().get(kennzahl, ("",))[0] == "binomial":
        return fmt_percent(value, 1) if unit else fmt_number(100 * value, 1)
    return fmt_number(value, 1)


def peer_table(rows: pd.DataFrame, unit: str, kennzahlen: Iterable[str] | None = None,
               use_overdispersion: bool = False) -> pd.DataFrame:
    """Units × indicators for one period, each value with its place in the funnel and the peers' spread.

    ``rows``: indicator-table rows of one period with a ``unit`` column. Returns per unit and
    indicator ``wert``, ``lage`` (see :func:`funnel_table`) and the peers' ``median``, ``q1``, ``q3``
    (unweighted, over the units with a value) — a table that marks a deviation only where it is clear.
    """
    kinds = comparable_indicators()
    wanted = [k for k in (kennzahlen or kinds) if k in kinds]
    parts = []
    for k in wanted:
        sel = rows.loc[(rows["kennzahl"] == k) & rows["nenner"].notna()]
        if sel.empty:
            continue
        kind, scale = kinds[k]
        t = funnel_table(sel, unit, kind, LEVELS, use_overdispersion, scale)
        values = t["wert"]
        parts.append(t[[unit, "wert", "lage"]].assign(kennzahl=k, median=values.median(), q1=values.quantile(0.25),
                                                      q3=values.quantile(0.75)))
    cols = [unit, "kennzahl", "wert", "lage", "median", "q1", "q3"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def against_own_city(districts: pd.DataFrame, cities: pd.DataFrame, kennzahl: str,
                     use_overdispersion: bool = False) -> pd.DataFrame:
    """Each district against its own city: its value with interval, the city's value, and ``lage`` in the funnel
    around the city's rate (:func:`funnel_table`; ``ueber_95``/``ueber_99,8``: clearly above its city), highest first.

    ``districts``: indicator-table rows by ``stadtbezirk`` of one period (per kommune), ``cities`` the same by
    kommune. Districts without a denominator are left out.

    >>> d = pd.DataFrame({"kommune": ["A", "A"], "stadtbezirk": ["Nord", "Süd"], "zeitraum": ["2025", "2025"],
    ...                   "kennzahl": "reichweite_je_1000", "zaehler": [90, 10], "nenner": [10000, 10000],
    ...                   "wert": [9.0, 1.0], "ki_unten": [7.2, 0.5], "ki_oben": [11.1, 1.8]})
    >>> c = d.groupby(["kommune", "zeitraum", "kennzahl"], as_index=False)[["zaehler", "nenner"]].sum()
    >>> c["wert"] = 1000 * c["zaehler"] / c["nenner"]
    >>> against_own_city(d, c, "reichweite_je_1000")[["stadtbezirk", "wert", "kommune_wert", "lage"]]
      stadtbezirk  wert  kommune_wert        lage
    0        Nord   9.0           5.0  ueber_99,8
    1         Süd   1.0           5.0  unter_99,8
    """
    kind, scale = comparable_indicators()[kennzahl]
    rows = districts.loc[(districts["kennzahl"] == kennzahl) & districts["nenner"].notna()
                         & (districts["nenner"].astype(float) > 0)]
    city = cities.loc[cities["kennzahl"] == kennzahl].set_index(["kommune", "zeitraum"])["wert"].astype(float)
    parts = []
    for (kommune, zeitraum), own in rows.groupby(["kommune", "zeitraum"], sort=True):
        target = city.get((kommune, zeitraum), np.nan)
        placed = funnel_table(own, "stadtbezirk", kind, LEVELS, use_overdispersion, scale, target / scale)
        parts.append(own[["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert", "ki_unten",
                          "ki_oben"]].assign(kommune_wert=target, lage=placed["lage"].to_numpy()))
    cols = ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert", "ki_unten", "ki_oben",
            "kommune_wert", "lage"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    return out.sort_values(["wert", "kommune", "stadtbezirk"], ascending=[False, True, True], kind="stable",
                           ignore_index=True)


def bundle_units(rates: pd.DataFrame, level: str = "kommune") -> pd.DataFrame:
    """Rows of merged bundles' ``kennzahlen`` as units of comparison, with a column ``einheit``:
    ``level='kommune'`` the cities (their ``Gesamt`` rows), ``'stadtbezirk'`` every district of every
    city (``"Kommune: Bezirk"``).

    >>> r = pd.DataFrame({"kommune": ["A", "A", "B"], "stadtbezirk": ["Gesamt", "Nord", "Gesamt"]})
    >>> bundle_units(r, "stadtbezirk")["einheit"].tolist()
    ['A: Nord']
    """
    if level == "kommune":
        rows = rates.loc[rates["stadtbezirk"] == "Gesamt"]
        return rows.assign(einheit=rows["kommune"])
    rows = rates.loc[rates["stadtbezirk"] != "Gesamt"]
    return rows.assign(einheit=rows["kommune"] + ": " + rows["stadtbezirk"])
