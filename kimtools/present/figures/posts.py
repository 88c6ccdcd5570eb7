"""Figures of the programme's posts (contract 1.2): filled and vacant full-time equivalents per Baustein over time,
and per employer in one period, against what the Land funds.

Posts are no persons: their values are shown as they are (no small-count protection), with one decimal; every
trace carries ``meta = "vzae"`` to say so (a check for small counts of persons passes them by).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ...contract import codes
from ...i18n import tr
from ...indicators.rows import pick
from ..labels import column_label, kennzahl_label
from .style import PALETTE, _figure

#: the mark of a trace whose values are full-time equivalents, not counts of persons
FTE = "vzae"
_EMPTY = {"de": "Keine Stellen im Datenbestand (Tabelle stellen) für diese Auswahl.",
          "en": "No posts in the store (table stellen) for this selection."}


def _no_posts(fig: go.Figure) -> go.Figure:
    return fig.add_annotation(text=tr(_EMPTY), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")


def posts_over_time(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Filled and vacant posts (VZÄ, mean over each period) per Baustein, stacked per period, and the Land-funded
    posts as a line: the indicator table broken down by ``baustein`` with ``vzae_besetzt``, ``vzae_unbesetzt`` and
    ``vzae_land``. Where the line lies above the filled bars, funded posts are not filled."""
    rows = pick(table, ["vzae_besetzt", "vzae_unbesetzt", "vzae_land"], "alle", strict=False)
    traces = []
    for i, baustein in enumerate(codes.CODE_LISTS["baustein"]):
        mine = rows.loc[rows["auspraegung"] == baustein] if len(rows) else rows
        if mine.empty:
            continue
        name = codes.label("baustein", baustein).split(" (")[0]
        for kennzahl, opacity, pattern in (("vzae_besetzt", 1.0, ""), ("vzae_unbesetzt", 0.45, "/")):
            r = mine.loc[mine["kennzahl"] == kennzahl]
            what = tr({"de": "besetzt", "en": "filled"}) if kennzahl == "vzae_besetzt" else tr({"de": "unbesetzt",
                                                                                                  "en": "vacant"})
            traces.append(go.Bar(x=r["zeitraum"], y=r["wert"].astype(float), name=f"{name}, {what}", meta=FTE,
                                 marker=dict(color=PALETTE[i % len(PALETTE)], opacity=opacity, pattern_shape=pattern),
                                 hovertemplate=f"%{{x}}<br>{name}, {what}: %{{y:.1f}} VZÄ<extra></extra>"))
    land = rows.loc[rows["kennzahl"] == "vzae_land"].groupby("zeitraum", sort=True)["wert"].sum() if len(rows) else None
    if land is not None and len(land):
        traces.append(go.Scatter(x=land.index, y=land.astype(float).to_numpy(), mode="lines+markers", meta=FTE,
                                 name=kennzahl_label("vzae_land"), line=dict(color="#333333", dash="dot"),
                                 hovertemplate="%{x}<br>" + kennzahl_label("vzae_land") + ": %{y:.1f}<extra></extra>"))
    fig = _figure(traces, title=title or tr({"de": "Stellen je Baustein (VZÄ, Mittel im Zeitraum)",
                                             "en": "posts per Baustein (FTE, mean in the period)"}),
                  xaxis_title=column_label("zeitraum"), yaxis_title=tr({"de": "VZÄ", "en": "FTE"}),
                  xaxis_type="category", barmode="stack", height=460,
                  legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0))
    return fig if traces else _no_posts(fig)


def posts_by_employer(table: pd.DataFrame, names: dict[str, str] | None = None, zeitraum: str | None = None,
                      title: str | None = None) -> go.Figure:
    """Filled and vacant posts per employer in ``zeitraum`` (default: the latest period): the indicator table by
    ``traeger`` with ``vzae_besetzt`` and ``vzae_unbesetzt``, the employers with most posts on top."""
    rows = pick(table, ["vzae_besetzt", "vzae_unbesetzt"], zeitraum, strict=False)
    names = names or {}
    wide = rows.pivot_table(index="traeger", columns="kennzahl", values="wert", aggfunc="sum") if len(rows) else None
    traces = []
    if wide is not None and len(wide):
        wide = wide.reindex(columns=["vzae_besetzt", "vzae_unbesetzt"]).fillna(0).astype(float)
        wide = wide.loc[wide.sum(axis=1) > 0]
        wide = wide.loc[wide.sum(axis=1).sort_values().index]
        label = [names.get(t, t) for t in wide.index]
        for kennzahl, opacity, pattern in (("vzae_besetzt", 1.0, ""), ("vzae_unbesetzt", 0.45, "/")):
            traces.append(go.Bar(x=wide[kennzahl], y=label, orientation="h", name=kennzahl_label(kennzahl), meta=FTE,
                                 marker=dict(color=PALETTE[0], opacity=opacity, pattern_shape=pattern),
                                 hovertemplate="%{y}<br>" + kennzahl_label(kennzahl) + ": %{x:.1f}<extra></extra>"))
    fig = _figure(traces, title=title or tr({"de": "Stellen je Arbeitgeber (VZÄ)", "en": "posts per employer (FTE)"}),
                  xaxis_title=tr({"de": "VZÄ, Mittel im Zeitraum", "en": "FTE, mean in the period"}), barmode="stack",
                  height=180 + 30 * (len(traces[0].y) if traces else 1))
    return fig if traces else _no_posts(fig)
