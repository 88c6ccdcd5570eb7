"""Plotly figure builders: tidy frame in, ``go.Figure`` out, German labels by default.

All figures share one template (:data:`TEMPLATE`): a palette safe for
colour-blind readers (Okabe–Ito), German separators (``1.234,5``) unless
English is selected.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .disclosure import mask_small
from .i18n import current_lang, tr
from .labels import column_label, kennzahl_label

__all__ = ["TEMPLATE", "PALETTE", "apply_style", "counts_over_time", "completeness_heatmap"]

#: Okabe–Ito, distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]

TEMPLATE = go.layout.Template(layout=dict(
    colorway=PALETTE, font=dict(family="Arial, Helvetica, sans-serif", size=14),
    plot_bgcolor="white", paper_bgcolor="white",
    xaxis=dict(gridcolor="#e5e5e5", linecolor="#999"), yaxis=dict(gridcolor="#e5e5e5", linecolor="#999", rangemode="tozero"),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    margin=dict(l=60, r=20, t=80, b=50),
))


def apply_style(fig: go.Figure, lang: str | None = None) -> go.Figure:
    """The shared template and number separators of the selected language."""
    fig.update_layout(template=TEMPLATE, separators=",." if (lang or current_lang()) == "de" else ".,")
    return fig


def counts_over_time(table: pd.DataFrame, bars: str = "neuzugaenge", line: str = "faelle_offen",
                     title: str | None = None, minimum: int = 3) -> go.Figure:
    """Bars of one count and a line of another over ``zeitraum`` (rows of the indicator table).

    ``table`` holds the rows of one group (e.g. one kommune); counts from 1 to
    ``minimum - 1`` are not drawn (a gap instead of a bar).
    """
    fig = go.Figure()
    for kennzahl, kind in ((bars, "bar"), (line, "line")):
        rows = table.loc[table["kennzahl"] == kennzahl]
        y = mask_small(rows["zaehler"], minimum).astype("float")
        name = kennzahl_label(kennzahl)
        hover = f"%{{x}}<br>{name}: %{{y:,.0f}}<extra></extra>"
        if kind == "bar":
            fig.add_bar(x=rows["zeitraum"], y=y, name=name, hovertemplate=hover)
        else:
            fig.add_scatter(x=rows["zeitraum"], y=y, name=name, mode="lines+markers", hovertemplate=hover)
    fig.update_layout(title=title, xaxis_title=column_label("zeitraum"),
                      yaxis_title=tr({"de": "Anzahl", "en": "count"}), xaxis_type="category")
    return apply_style(fig)


def completeness_heatmap(frame: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Provider × column heat map of the share of filled values (rows of :func:`kimtools.quality.completeness`)."""
    frame = frame.assign(feld=frame["tabelle"] + "." + frame["spalte"])
    grid = frame.pivot_table(index="traeger", columns="feld", values="anteil")
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy() * 100, x=grid.columns.tolist(), y=grid.index.tolist(), zmin=50, zmax=100,
        colorscale="Cividis", colorbar=dict(title="%"),
        hovertemplate="%{y}<br>%{x}: %{z:.0f} %<extra></extra>",
        text=[[f"{v:.0f}" for v in row] for row in grid.to_numpy() * 100], texttemplate="%{text}"))
    fig.update_layout(title=title or tr({"de": "Ausgefüllte Angaben in %", "en": "Filled values in %"}),
                      height=120 + 40 * len(grid), yaxis_autorange="reversed")
    return apply_style(fig)
