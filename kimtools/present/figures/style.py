"""The shared look of every figure: the template (Okabe–Ito palette, safe for colour-blind readers), the number
separators of the language, and one constructor that applies both."""

from __future__ import annotations

import plotly.graph_objects as go

from ...i18n import plotly_separators

#: default target band of cases per full-time post
DEFAULT_BAND = (30.0, 40.0)

#: Okabe–Ito, distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]

TEMPLATE = go.layout.Template(layout=dict(
    colorway=PALETTE, font=dict(family="Arial, Helvetica, sans-serif", size=14),
    plot_bgcolor="white", paper_bgcolor="white",
    xaxis=dict(gridcolor="#e5e5e5", linecolor="#999", automargin=True),
    yaxis=dict(gridcolor="#e5e5e5", linecolor="#999", rangemode="tozero", automargin=True),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    margin=dict(l=60, r=20, t=80, b=50),
))


def apply_style(fig: go.Figure, lang: str | None = None) -> go.Figure:
    """The shared template and number separators of the selected language."""
    fig.update_layout(template=TEMPLATE, separators=plotly_separators(lang))
    return fig


def _figure(data: list, **layout) -> go.Figure:
    """A figure with the shared template and separators, built in one go: plotly checks a constructor's traces
    and layout about twice as fast as the same properties added trace by trace and set by ``update_layout``,
    and the dashboards build several figures on every filter change."""
    return go.Figure(data=data, layout={**layout, "template": TEMPLATE, "separators": plotly_separators()})
