"""Figures that look forward: forecasts with intervals, permits ending by month, posts needed, the need index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ...indicators.disclosure import mask_small
from ...i18n import fmt_number, tr
from ..labels import column_label, kennzahl_label
from .style import PALETTE, apply_style


def forecast_figure(history: pd.Series, forecast: pd.DataFrame, kennzahl: str, title: str | None = None,
                    minimum: int = 3) -> go.Figure:
    """A quarterly series (``history``: values by quarter label) and its forecast with the prediction interval as a
    band. Counts of the history from 1 to ``minimum - 1`` are not drawn; forecasts are rounded to whole cases."""
    name = kennzahl_label(kennzahl)
    past = mask_small(history.round().astype("Int64"), minimum).astype(float)
    fig = go.Figure()
    x_band = [*forecast["zeitraum"], *forecast["zeitraum"][::-1]]
    fig.add_scatter(x=x_band, y=[*forecast["oben"].round(), *forecast["unten"].round()[::-1]], fill="toself",
                    fillcolor="rgba(230,159,0,0.2)", line=dict(width=0), hoverinfo="skip", mode="lines",
                    name=tr({"de": "95-%-Prognoseintervall", "en": "95 % prediction interval"}))
    fig.add_scatter(x=list(history.index), y=past, mode="lines+markers", name=name, line=dict(color=PALETTE[0]),
                    hovertemplate=f"%{{x}}<br>{name}: %{{y:,.0f}}<extra></extra>")
    fig.add_scatter(x=forecast["zeitraum"], y=forecast["prognose"].round(), mode="lines+markers",
                    line=dict(color=PALETTE[1], dash="dash"), name=tr({"de": "Prognose", "en": "forecast"}),
                    customdata=np.c_[forecast["unten"].round(), forecast["oben"].round()],
                    hovertemplate="%{x}<br>" + tr({"de": "Prognose", "en": "forecast"})
                                  + ": %{y:,.0f} (%{customdata[0]:,.0f}–%{customdata[1]:,.0f})<extra></extra>")
    fig.update_layout(title=title, xaxis_title=column_label("zeitraum"), yaxis_title=name, xaxis_type="category",
                      xaxis_categoryorder="array", xaxis_categoryarray=[*history.index, *forecast["zeitraum"]],
                      height=380)
    return apply_style(fig)


def expiry_figure(expiry: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """Persons whose § 104c permit ends, by month (rows of :func:`kimtools.analysis.pathways.opportunity_expiry` for one
    group); months already past in another colour. Counts from 1 to ``minimum - 1`` are not drawn."""
    y = mask_small(expiry["personen"], minimum).astype(float)
    month = [pd.Timestamp(m).strftime("%m.%Y") for m in expiry["monat"]]
    past = expiry["abgelaufen"].astype(bool).to_numpy()
    fig = go.Figure()
    for mask, colour, label in ((past, PALETTE[3], tr({"de": "abgelaufen ohne dokumentierten Wechsel",
                                                       "en": "run out without a documented change"})),
                                (~past, PALETTE[0], tr({"de": "läuft noch", "en": "still running"}))):
        fig.add_bar(x=np.array(month)[mask], y=y[mask], name=label, marker_color=colour,
                    hovertemplate="%{x}: %{y:,.0f}<extra></extra>")
    fig.update_layout(title=title, xaxis_title=tr({"de": "Monat, in dem die 18 Monate enden",
                                                   "en": "month in which the 18 months end"}),
                      yaxis_title=tr({"de": "Personen", "en": "persons"}), xaxis_type="category", height=340,
                      barmode="overlay")
    return apply_style(fig)


def staffing_figure(plan: pd.DataFrame, target_load: float, title: str | None = None) -> go.Figure:
    """Posts held and posts needed per district (rows of :func:`kimtools.analysis.planning.staffing` without the total),
    the needed posts with the range up to the interval's upper end."""
    rows = plan.loc[plan["stadtbezirk"].notna()].iloc[::-1]   # first district on top
    fig = go.Figure()
    fig.add_bar(y=rows["stadtbezirk"], x=rows["vzae"], orientation="h", marker_color=PALETTE[0],
                name=tr({"de": "Stellen heute (VZÄ)", "en": "posts today (FTE)"}),
                hovertemplate="%{y}: %{x:,.1f}<extra></extra>")
    fig.add_bar(y=rows["stadtbezirk"], x=rows["vzae_noetig"].round(1), orientation="h", marker_color=PALETTE[1],
                name=tr({"de": f"Stellen nötig bei {fmt_number(target_load, 1)} Fällen je VZÄ",
                         "en": f"posts needed at {fmt_number(target_load, 1)} cases per FTE"}),
                error_x=dict(type="data", symmetric=False, array=(rows["vzae_noetig_oben"] - rows["vzae_noetig"]),
                             arrayminus=np.zeros(len(rows)), color="#555"),
                hovertemplate="%{y}: %{x:,.1f}<extra></extra>")
    fig.update_layout(title=title, barmode="group", xaxis_title=tr({"de": "Vollzeitstellen", "en": "full-time posts"}),
                      height=200 + 44 * max(len(rows), 1))
    return apply_style(fig)


def need_index_figure(need: pd.DataFrame, title: str | None = None) -> go.Figure:
    """The need index per district (rows of :func:`kimtools.analysis.planning.need_index`), its components on hover."""
    rows = need.sort_values("bedarfsindex")
    parts = np.c_[rows["z_auslaender"], rows["z_reichweite"], rows["z_luecken"]].round(2)
    fig = go.Figure(go.Bar(
        x=rows["bedarfsindex"].round(2), y=rows["stadtbezirk"], orientation="h", customdata=parts,
        marker_color=[PALETTE[3] if v > 0 else PALETTE[4] for v in rows["bedarfsindex"]],
        hovertemplate="%{y}: %{x:.2f}<br>" + tr({
            "de": "Ausländer %{customdata[0]:.2f} · Reichweite (umgekehrt) %{customdata[1]:.2f} · Lücken %{customdata[2]:.2f}",
            "en": "foreign nationals %{customdata[0]:.2f} · reach (reversed) %{customdata[1]:.2f} · gaps %{customdata[2]:.2f}"})
                      + "<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=tr({"de": "Bedarfsindex (Mittel der z-Werte)",
                                                   "en": "need index (mean of z-scores)"}),
                      height=160 + 32 * max(len(rows), 1), showlegend=False)
    return apply_style(fig)
