"""Looking forward: forecasts of intake and open cases, staffing scenarios and a need index per district.

* :func:`forecast` — a damped-trend, seasonal exponential-smoothing model (ETS(A,Ad,A),
  statsmodels) per series of quarters, 4 to 8 quarters ahead with 95 % prediction
  intervals. :func:`backtest` re-fits it on the history up to each past quarter and
  compares its errors with the naive seasonal forecast (the same quarter one year
  before), which a model has to beat to be worth its complexity.
* :func:`staffing` — posts needed per district from the forecast of open cases, a
  target load per post and an assumed change of intake; by Little's law open cases
  grow in proportion to intake when case durations stay as they are.
* :func:`need_index` — where need is largest: foreign nationals, reach and documented
  service gaps per district, each standardised across the districts of the kommune.

Series come from the indicator table (:func:`series`); only complete quarters are used.
Compute functions take frames and return tidy frames.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
import numpy as np
import pandas as pd

from ..errors import UsageError
from ..indicators.table import run_query
from ..periods import period_label
from ..store import SPAN_TABLE
from ..store.kept import kept

__all__ = ["MIN_QUARTERS", "fitted", "series", "forecast",
           "seasonal_naive", "backtest", "backtest_summary", "current_posts", "staffing", "need_index"]

#: quarters of history a seasonal model needs at least (two full years)
MIN_QUARTERS = 8
_SEASON = 4


def series(table: pd.DataFrame, kennzahl: str, by: str | None = None, data_end=None) -> dict[tuple, pd.Series]:
    """Quarterly series of one indicator out of an indicator table (``kommune``, ``by`` if given, ``zeitraum``,
    ``kennzahl``, ``wert``): one float series with a quarterly ``PeriodIndex`` per kommune (and ``by`` value).
    Quarters ending after ``data_end`` (a date, or a mapping kommune → date) are incomplete and left out."""
    keys = ["kommune", *([by] if by else [])]
    rows = table.loc[table["kennzahl"] == kennzahl]
    out = {}
    for key, part in rows.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        index = pd.PeriodIndex(part["zeitraum"].str.replace("-", "", regex=False), freq="Q")   # as periods.quarter
        s = pd.Series(part["wert"].astype(float).to_numpy(), index=index).sort_index()
        end = data_end.get(key[0]) if isinstance(data_end, dict) else data_end
        if end is not None:
            s = s.loc[s.index.end_time.normalize() <= pd.Timestamp(end)]
        out[key] = s.asfreq("Q") if len(s) else s
    return out


def _fit(y: pd.Series):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")   # convergence chatter of small series is not the user's business
        return ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add",
                        seasonal_periods=_SEASON).fit(disp=False)


def forecast(y: pd.Series, horizon: int = 8, level: float = 0.95) -> pd.DataFrame:
    """``horizon`` quarters after the end of ``y``: ``zeitraum``, ``prognose`` and the prediction interval
    ``unten``–``oben`` at ``level``, counts not below zero. Needs :data:`MIN_QUARTERS` quarters."""
    if not 1 <= horizon <= 12:
        raise UsageError(f"Prognosehorizont {horizon} Quartale: erlaubt sind 1 bis 12.",
                         f"Forecast horizon {horizon} quarters: 1 to 12 are allowed.")
    y = y.dropna()
    if len(y) < MIN_QUARTERS:
        raise UsageError(f"Für eine Prognose sind mindestens {MIN_QUARTERS} vollständige Quartale nötig, vorhanden sind "
                         f"{len(y)}.", f"A forecast needs at least {MIN_QUARTERS} complete quarters; there are {len(y)}.")
    fit = _fit(y)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        frame = fit.get_prediction(start=len(y), end=len(y) + horizon - 1).summary_frame(alpha=1 - level)
    quarters = pd.period_range(y.index[-1] + 1, periods=horizon, freq="Q")
    return pd.DataFrame({"zeitraum": [period_label(q.start_time, "quarter") for q in quarters],
                         "prognose": frame["mean"].clip(lower=0).to_numpy(),
                         "unten": frame["pi_lower"].clip(lower=0).to_numpy(),
                         "oben": frame["pi_upper"].clip(lower=0).to_numpy()})


def seasonal_naive(y: pd.Series, horizon: int) -> np.ndarray:
    """The naive seasonal forecast: each future quarter equals the same quarter in the last observed year."""
    return np.array([y.iloc[len(y) - _SEASON + (h % _SEASON)] for h in range(horizon)], dtype=float)


def backtest(y: pd.Series, horizon: int = 4, min_train: int = MIN_QUARTERS) -> pd.DataFrame:
    """Rolling-origin back-test: fit on the first ``t`` quarters for every ``t`` from ``min_train`` on, forecast
    up to ``horizon`` quarters that are already known, and record both errors. One row per origin and step:
    ``ursprung`` (last quarter used), ``schritt`` (1 = next quarter), ``ist``, ``modell``, ``naiv``."""
    rows = []
    y = y.dropna()
    for t in range(min_train, len(y)):
        steps = min(horizon, len(y) - t)
        train = y.iloc[:t]
        model = forecast(train, steps)["prognose"].to_numpy()
        naive = seasonal_naive(train, steps)
        for h in range(steps):
            rows.append((period_label(train.index[-1].start_time, "quarter"), h + 1, float(y.iloc[t + h]),
                         float(model[h]), float(naive[h])))
    return pd.DataFrame(rows, columns=["ursprung", "schritt", "ist", "modell", "naiv"])


def backtest_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute error of the model and of the naive seasonal forecast per step ahead and overall
    (``schritt`` "alle"), with ``verhaeltnis`` = model / naive (below 1: the model is better) and ``n`` forecasts."""
    r = results.assign(f_modell=(results["modell"] - results["ist"]).abs(), f_naiv=(results["naiv"] - results["ist"]).abs())
    by_step = r.groupby("schritt").agg(n=("ist", "size"), mae_modell=("f_modell", "mean"), mae_naiv=("f_naiv", "mean"))
    by_step.index = by_step.index.astype(str)
    total = pd.DataFrame({"n": [len(r)], "mae_modell": [r["f_modell"].mean()], "mae_naiv": [r["f_naiv"].mean()]},
                         index=pd.Index(["alle"], name="schritt"))
    out = pd.concat([by_step, total])
    out["verhaeltnis"] = out["mae_modell"] / out["mae_naiv"]
    return out.reset_index(names="schritt")


def current_posts(source, kommune: str) -> pd.DataFrame:
    """Posts (full-time equivalents) held at the data end per ``stadtbezirk`` of the posts; posts that serve
    the whole kommune have ``stadtbezirk`` missing."""

    sql = f"""WITH span AS (SELECT * FROM {SPAN_TABLE})
              SELECT s.stadtbezirk, sum(s.vzae) AS vzae FROM stellen s JOIN span USING (kommune)
              WHERE s.kommune = $kommune AND s.von <= span.d1 AND (s.bis IS NULL OR s.bis >= span.d1)
              GROUP BY ALL ORDER BY 1 NULLS LAST"""
    return run_query(source, sql, {"kommune": kommune})


def staffing(open_cases: pd.DataFrame, posts: pd.DataFrame, target_load: float, growth: float = 0.0) -> pd.DataFrame:
    """Posts needed and the gap per district.

    ``open_cases``: forecast open cases per ``stadtbezirk`` (``prognose``, ``unten``, ``oben``) for the quarter
    planned for; ``posts``: ``stadtbezirk``, ``vzae`` (a row with ``stadtbezirk`` missing: posts for the
    whole kommune, counted only in the total); ``target_load``: cases per full-time post; ``growth``: change of
    intake against the forecast (0.1 = 10 % more), which changes open cases in proportion (Little's law, case
    durations unchanged). Returns ``stadtbezirk, faelle, faelle_oben, vzae_noetig, vzae_noetig_oben,
    vzae, luecke_vzae`` (needed − held; positive: posts missing) and a last row ``stadtbezirk`` = None for the
    kommune as a whole.
    """
    if not target_load > 0:
        raise UsageError("Die Ziel-Fallzahl je Vollzeitstelle muss größer als 0 sein.", "The target load per post must be above 0.")
    if growth <= -1:
        raise UsageError("Die Veränderung der Neuzugänge muss über −100 % liegen.", "The change of intake must be above −100 %.")
    factor = 1.0 + growth
    d = open_cases[["stadtbezirk", "prognose", "oben"]].merge(posts.loc[posts["stadtbezirk"].notna()],
                                                              on="stadtbezirk", how="outer")
    d = d.loc[d["prognose"].notna()].fillna({"vzae": 0.0})
    out = pd.DataFrame({"stadtbezirk": d["stadtbezirk"], "faelle": d["prognose"] * factor,
                        "faelle_oben": d["oben"] * factor})
    out["vzae_noetig"] = out["faelle"] / target_load
    out["vzae_noetig_oben"] = out["faelle_oben"] / target_load
    out["vzae"] = d["vzae"].astype(float).to_numpy()
    total = out.drop(columns="stadtbezirk").sum().to_frame().T.assign(stadtbezirk=None)
    total["vzae"] = float(posts["vzae"].sum())   # posts for the whole kommune included
    out = pd.concat([out.sort_values("stadtbezirk"), total[out.columns]], ignore_index=True)
    out["luecke_vzae"] = out["vzae_noetig"] - out["vzae"]
    return out


def need_index(bezirke: pd.DataFrame, reach: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """A need index per district to discuss where an office or more posts should go.

    ``bezirke``: ``stadtbezirk, einwohner, auslaender``; ``reach``: ``stadtbezirk, wert`` (persons reached per
    1,000 inhabitants in the last quarter); ``gaps``: ``stadtbezirk, vermittlungen`` (referrals with a documented
    gap in the last four quarters). Components, each standardised across the districts (z-score): foreign
    nationals (more → more need), reach (lower → more need) and gaps per 1,000 inhabitants (more → more need);
    the index is their mean, over the components available. Sorted by the index, largest need first; a
    discussion aid, not a ranking to be published.
    """
    d = bezirke[["stadtbezirk", "einwohner", "auslaender"]].merge(
        reach[["stadtbezirk", "wert"]].rename(columns={"wert": "reichweite_je_1000"}), on="stadtbezirk", how="left")
    g = gaps.groupby("stadtbezirk", as_index=False)["vermittlungen"].sum().rename(columns={"vermittlungen": "luecken"})
    d = d.merge(g, on="stadtbezirk", how="left").fillna({"luecken": 0})
    d["luecken_je_1000"] = 1000 * d["luecken"] / d["einwohner"]

    def z(values: pd.Series) -> pd.Series:
        sd = values.std(ddof=0)
        return (values - values.mean()) / sd if sd and not math.isnan(sd) else values * 0.0

    d["z_auslaender"] = z(d["auslaender"].astype(float))
    d["z_reichweite"] = -z(d["reichweite_je_1000"].astype(float))
    d["z_luecken"] = z(d["luecken_je_1000"].astype(float))
    d["bedarfsindex"] = d[["z_auslaender", "z_reichweite", "z_luecken"]].mean(axis=1, skipna=True)
    return d.sort_values(["bedarfsindex", "stadtbezirk"], ascending=[False, True], ignore_index=True)


def _fit_all(history: dict[tuple, pd.Series], horizon: int, recent: int) -> tuple[dict, dict]:
    """Every forecast a planning page can ask for (each series with enough history) and the back-test of the
    kommune's two series over the last ``recent`` origins."""
    forecasts = {key: forecast(y, horizon) for key, y in history.items() if len(y.dropna()) >= MIN_QUARTERS}
    checks = {}
    for kennzahl in ("neuzugaenge", "faelle_offen"):
        y = history.get((kennzahl, None))
        if y is not None and len(y.dropna()) >= MIN_QUARTERS + 1:
            checks[kennzahl] = backtest_summary(backtest(y, min_train=max(MIN_QUARTERS, len(y.dropna()) - recent)))
    return forecasts, checks


def _data_state(history: dict[tuple, pd.Series], horizon: int, recent: int) -> str:
    """What the fitted forecasts depend on, as a hash: the series themselves (so any import that changes them, and
    only such, is a new data state), the horizon and the back-test's length."""
    h = hashlib.sha256(json.dumps([horizon, recent, MIN_QUARTERS]).encode())
    for (kennzahl, district), y in sorted(history.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        h.update(json.dumps([kennzahl, district, [str(p) for p in y.index], y.round(9).tolist()]).encode())
    return h.hexdigest()


def fitted(store, kommune: str, history: dict[tuple, pd.Series], horizon: int = 8,
           recent: int = 4) -> tuple[dict[tuple, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The forecasts of every series in ``history`` and the kommune's back-test, fitted once per kommune and data
    state and kept beside the store (:func:`~kimtools.store.kept.kept`, folder ``prognosen``): every later caller
    reads them as long as the series are the same."""

    def fit() -> dict:
        forecasts, checks = _fit_all(history, horizon, recent)
        return {"prognosen": [[k, d, f.to_dict("records")] for (k, d), f in forecasts.items()],
                "rueckblick": {k: f.to_dict("records") for k, f in checks.items()}}

    content = kept(store, "prognosen", kommune, _data_state(history, horizon, recent), fit)
    return ({(k, d): pd.DataFrame(rows) for k, d, rows in content["prognosen"]},
            {k: pd.DataFrame(rows) for k, rows in content["rueckblick"].items()})


