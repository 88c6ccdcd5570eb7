"""The planning page's views (``dashboards/planung.ipynb``, notebook 06): for one kommune the quarterly series, their
forecasts (fitted once per data state and kept beside the store: :func:`kimtools.analysis.planning.fitted`), the
back-test, posts, population, reach, gaps, § 104c spells and status changes; and the preparation that fits the
forecasts of every kommune before a visitor comes (``kimtools vorbereiten``)."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..analysis.gaps import gap_table
from ..analysis.pathways import opportunity_spells, status_transitions
from ..analysis.planning import MIN_QUARTERS, current_posts, fitted, forecast, series
from ..indicators import indicator_table
from ..periods import quarter
from ..progress import progress
from ..store.deliveries import completeness

__all__ = ["planning_views", "forecast_of", "warm_forecasts"]


def planning_views(store, kommune: str, horizon: int = 8, recent: int = 4) -> dict[str, object]:
    """What the planning page needs for one kommune (aggregates, and § 104c spells only as input of counts):
    quarterly series of intake and open cases for the kommune and each district with forecasts of both for the
    kommune and of open cases for each district (``forecast_of`` adds any other), a short
    back-test of the kommune's forecasts (the last ``recent`` origins), posts held, the districts' population,
    reach and gaps for the need index, and the § 104c spells and status changes. Series end with the last quarter
    complete in the data and for every provider (:mod:`kimtools.store.deliveries`)."""

    with store.snapshot():
        end = store.info().set_index("kommune")["daten_bis"].get(kommune)
        main = indicator_table(store, kommune, kennzahlen=["neuzugaenge", "faelle_offen"])
        districts = indicator_table(store, kommune, by="stadtbezirk",
                                    kennzahlen=["neuzugaenge", "faelle_offen", "reichweite_je_1000"])
        posts = current_posts(store, kommune)
        bezirke = store.table("bezirke", kommune)
        gaps = gap_table(store, kommune)
        spells = opportunity_spells(store, kommune)
        transitions = {None: status_transitions(store, kommune)}
        each = status_transitions(store, kommune, by="stadtbezirk")   # every district in one query
        for d in sorted(districts["stadtbezirk"].dropna().unique()):
            transitions[d] = each.loc[each["stadtbezirk"] == d].drop(columns="stadtbezirk").reset_index(drop=True)
        until = completeness(store.connect()).set_index("kommune")
    # a quarter some provider has not yet delivered in full is no history to forecast from
    complete = min(pd.Timestamp(end), until.loc[kommune, "vollstaendig_bis"]) \
        if end is not None and kommune in until.index else end
    history = {}
    for kennzahl in ("neuzugaenge", "faelle_offen"):
        for (_k, *rest), y in [*series(main, kennzahl, data_end=complete).items(),
                               *series(districts, kennzahl, by="stadtbezirk", data_end=complete).items()]:
            history[(kennzahl, rest[0] if rest else None)] = y
    forecasts, checks = fitted(store, kommune, history, horizon, recent)
    last = sorted(districts["zeitraum"].unique())
    last_quarters = [z for z in last if quarter(z).end_time.normalize() <= pd.Timestamp(complete)][-recent:] \
        if complete is not None else []
    reach = districts.loc[(districts["kennzahl"] == "reichweite_je_1000") & (districts["zeitraum"] == last_quarters[-1])] \
        if last_quarters else districts.iloc[:0]
    return {"kommune": kommune, "daten_bis": end, "horizon": horizon, "history": history, "forecasts": forecasts,
            "backtest": checks,
            "posts": posts, "bezirke": bezirke, "reach": reach,
            "gaps": gaps.loc[gaps["zeitraum"].isin(last_quarters)], "quarters": last_quarters,
            "spells": spells, "transitions": transitions}


def warm_forecasts(store, kommunen: Iterable[str] | None = None, horizon: int = 8, show_progress: bool = True) -> None:
    """Fit the kept forecasts of ``kommunen`` (default: all) where their data state is new, so that no visitor of
    the planning page waits for them (``kimtools vorbereiten``; ``kimtools serve`` starts it in the background)."""
    for k in progress(list(kommunen) if kommunen is not None else store.kommunen(), desc="Prognosen",
                      disable=not show_progress):
        planning_views(store, k, horizon)


def forecast_of(views: dict[str, object], kennzahl: str, stadtbezirk: str | None = None) -> pd.DataFrame | None:
    """The forecast of ``kennzahl`` for the kommune or one district out of :func:`planning_views` (computed once
    when first asked for); ``None`` where the history is too short."""
    key = (kennzahl, stadtbezirk)
    if key not in views["forecasts"]:
        y = views["history"].get(key)
        if y is None or len(y.dropna()) < MIN_QUARTERS:
            return None
        views["forecasts"][key] = forecast(y, views["horizon"])
    return views["forecasts"][key]
