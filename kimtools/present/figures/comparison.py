"""Figures that compare districts and cities: the funnel plot, small multiples (a heatmap beyond 16 units) and the
bundle's trends and breakdowns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ...analysis.comparison import LEVELS, comparable_indicators, funnel_limits, funnel_table, level_name, rate_text
from ...contract import codes
from ...indicators.disclosure import HIDDEN
from ...indicators.rows import pick
from ...i18n import tr
from ..labels import column_label, kennzahl_label, nenner_label
from .style import PALETTE, apply_style


def funnel_plot(table: pd.DataFrame, unit: str, kind: str | None = None, scale: float | None = None,
                title: str | None = None, value_label: str | None = None, denominator_label: str | None = None,
                use_overdispersion: bool = False, kennzahl: str | None = None, zeitraum: str | None = None) -> go.Figure:
    """A funnel plot from :func:`kimtools.analysis.comparison.funnel_table` input (``unit``, ``zaehler``, ``nenner``):
    each unit's rate against its denominator, the pooled rate, and the 95 % and 99.8 % limits drawn over
    the whole range of denominators. Points outside a limit are coloured; nobody is ranked.

    With ``kennzahl`` the rows are picked from an indicator table (that indicator in ``zeitraum``, default the
    latest period), and the kind of limits, the scale and the value's label come from the catalogue.

    >>> import kimtools as kim
    >>> fig = kim.funnel_plot(kim.kennzahlen("Herne", nach="stadtbezirk", quartal="2026-Q2"), "stadtbezirk",
    ...                       kennzahl="reichweite_je_1000")
    >>> fig.layout.xaxis.title.text, fig.layout.yaxis.title.text   # denominator and value from the catalogue
    ('Einwohner', 'Reichweite je 1.000 Einwohner')
    """

    if kennzahl is not None:   # the units compared, without a total row among them
        table = pick(table, kennzahl, zeitraum, strict=False)
        table = table.loc[table[unit] != "Gesamt"]
        kind_of, factor = comparable_indicators().get(kennzahl, ("poisson", 1.0))
        kind, scale = kind or kind_of, scale or factor
        value_label = value_label or kennzahl_label(kennzahl)
        denominator_label = denominator_label or nenner_label(kennzahl)
    kind, scale = kind or "poisson", scale or 1.0
    t = funnel_table(table, unit, kind, LEVELS, use_overdispersion, scale)
    fig = go.Figure()
    if len(t):
        grid = np.geomspace(max(t["nenner"].min() * 0.8, 1), t["nenner"].max() * 1.2, 120)
        target = t["ziel"].iloc[0] / scale
        lim = funnel_limits(target, grid, kind, LEVELS, t["phi"].iloc[0] if t["phi"].iloc[0] > 1 else 1.0)
        for level, dash in ((LEVELS[1], "dot"), (LEVELS[0], "dash")):
            name = level_name(level)
            for side in ("unten", "oben"):
                fig.add_scatter(x=grid, y=lim[f"{side}_{name}"] * scale, mode="lines", line=dict(color="#777", dash=dash,
                                width=1), name=tr({"de": f"Kontrollgrenze {name} %", "en": f"control limit {name} %"}),
                                legendgroup=name, showlegend=side == "oben", hoverinfo="skip")
        fig.add_scatter(x=[grid[0], grid[-1]], y=[t["ziel"].iloc[0]] * 2, mode="lines", line=dict(color="#000", width=1),
                        name=tr({"de": "Gesamtwert", "en": "overall rate"}), hoverinfo="skip")
    colours = {"innerhalb": PALETTE[0], "ueber_95": PALETTE[1], "unter_95": PALETTE[1],
               "ueber_99,8": PALETTE[3], "unter_99,8": PALETTE[3]}
    # only units outside a limit are labelled; every unit names itself on hover
    fig.add_scatter(x=t["nenner"], y=t["wert"], mode="markers+text", customdata=t[unit],
                    text=[u if lage != "innerhalb" else "" for u, lage in zip(t[unit], t["lage"])], textposition="top center",
                    marker=dict(size=10, color=[colours[x] for x in t["lage"]], line=dict(color="white", width=1)),
                    name=tr({"de": "Einheiten", "en": "units"}),
                    hovertemplate="%{customdata}<br>%{y:,.2f}<br>" + tr({"de": "Nenner", "en": "denominator"})
                                  + ": %{x:,.0f}<extra></extra>")
    fig.update_layout(title=title or tr({"de": "Trichterdiagramm", "en": "funnel plot"}), height=520,
                      xaxis=dict(type="log", tickformat=",d", title=denominator_label or tr({"de": "Nenner", "en": "denominator"})),
                      yaxis_title=value_label or tr({"de": "Wert", "en": "value"}))
    return apply_style(fig)


def _bundle_code_label(merkmal: str, code: str) -> str:

    if code == "ohne_angabe":
        return tr({"de": "ohne Angabe", "en": "not given"})
    return codes.label(merkmal, code) if merkmal in codes.CODE_LISTS else str(code)


def bundle_trend(counts: pd.DataFrame, kennzahlen: tuple[str, ...] = ("faelle_neu", "faelle_abgeschlossen", "faelle_offen"),
                 stadtbezirk: str = "Gesamt", title: str | None = None) -> go.Figure:
    """Counts of a comparison bundle (``zaehlungen``) by quarter, one line per kennzahl. A protected
    quarter is a gap in the line: the bundle does not say its value."""
    rows = counts.loc[(counts["merkmal"] == "keins") & (counts["stadtbezirk"] == stadtbezirk)
                      & (counts["zeitraum"].str.len() == 7) & counts["kennzahl"].isin(kennzahlen)]
    fig = go.Figure()
    for i, k in enumerate(kennzahlen):
        r = rows.loc[rows["kennzahl"] == k].sort_values("zeitraum")
        fig.add_scatter(x=r["zeitraum"], y=r["anzahl"].astype("Float64").astype(float), mode="lines+markers",
                        name=kennzahl_label(k), line=dict(color=PALETTE[i % len(PALETTE)]), connectgaps=False,
                        hovertemplate="%{x}: %{y:,.0f}<extra>" + kennzahl_label(k) + "</extra>")
    fig.update_layout(title=title or tr({"de": "Fallzahlen je Quartal", "en": "cases by quarter"}),
                      yaxis_title=tr({"de": "Anzahl", "en": "count"}), xaxis_type="category")
    return apply_style(fig)


def bundle_breakdown(counts: pd.DataFrame, kennzahl: str, merkmal: str, zeitraum: str, stadtbezirk: str = "Gesamt",
                     title: str | None = None) -> go.Figure:
    """One breakdown of a bundle count as horizontal bars. Protected categories get no bar but the
    letter ``x`` (as in official tables), so that a reader sees that something is there."""
    rows = counts.loc[(counts["kennzahl"] == kennzahl) & (counts["merkmal"] == merkmal) & (counts["zeitraum"] == zeitraum)
                      & (counts["stadtbezirk"] == stadtbezirk) & (counts["auspraegung"] != "Gesamt")]
    values = rows["anzahl"].astype("Float64").astype(float)
    names = [_bundle_code_label(merkmal, c) for c in rows["auspraegung"]]
    fig = go.Figure(go.Bar(y=names, x=values, orientation="h", marker_color=PALETTE[0],
                           text=[HIDDEN if np.isnan(v) else "" for v in values], textposition="outside",
                           hovertemplate="%{y}: %{x:,.0f}<extra></extra>"))
    fig.update_layout(title=title or f"{kennzahl_label(kennzahl)} – {column_label(merkmal)}, {zeitraum}",
                      xaxis_title=tr({"de": "Anzahl", "en": "count"}), yaxis=dict(autorange="reversed"),
                      height=max(300, 28 * len(rows) + 120), showlegend=False)
    return apply_style(fig)


def small_multiples(rates: pd.DataFrame, unit: str, kennzahl: str, title: str | None = None, columns: int = 4,
                    max_panels: int = 16) -> go.Figure:
    """One small panel per unit (district or city): the rate over time with its 95 % interval, on a
    shared scale, so that trends can be compared without ranking anybody. More than ``max_panels`` units
    (all KIM municipalities of the state) would be a wall of panels, slow to draw and to read: then one
    heatmap, a row per unit in alphabetical order, the value and its interval on hover. Built by hand: plotly
    express's facets cost a dashboard a tenth of a second on every change.

    ``rates``: a bundle's rates (``unten``/``oben``) or an indicator table (``ki_unten``/``ki_oben``).

    >>> import kimtools as kim
    >>> fig = kim.small_multiples(kim.kennzahlen(nach="kommune", kennzahl="reichweite_je_1000", zeitraum="jahr"),
    ...                           "kommune", "reichweite_je_1000")
    >>> fig.layout.title.text, len(fig.data) > 0
    ('Reichweite je 1.000 Einwohner', True)
    """
    rates = rates.rename(columns={"ki_unten": "unten", "ki_oben": "oben"})
    rows = rates.loc[rates["kennzahl"] == kennzahl].sort_values([unit, "zeitraum"])
    label = kennzahl_label(kennzahl)
    if rows[unit].nunique() > max_panels:
        return _rate_heatmap(rows, unit, kennzahl, title or label)

    share = comparable_indicators().get(kennzahl, ("",))[0] == "binomial"
    fmt = ".1%" if share else ",.1f"   # shares in per cent, as in the peer table
    units, periods = list(dict.fromkeys(rows[unit])), sorted(rows["zeitraum"].unique())
    n_rows = max(1, -(-len(units) // columns))
    height = 220 * n_rows + 120
    gap_x, gap_y, title_room = 0.03, 30 / height, 22 / height   # between panels; room for each panel's name
    layout = {"title": title or label, "height": height, "showlegend": False, "annotations": []}
    traces = []
    for i, (name, part) in enumerate(rows.groupby(unit, sort=False)):
        r, c = divmod(i, columns)
        x_dom = [c / columns + gap_x / 2, (c + 1) / columns - gap_x / 2]
        top = 1 - r / n_rows - title_room
        y_dom = [max(0.0, 1 - (r + 1) / n_rows + gap_y), top]
        suffix = "" if i == 0 else str(i + 1)
        layout[f"xaxis{suffix}"] = dict(domain=x_dom, anchor=f"y{suffix}", type="category", categoryorder="array",
                                        categoryarray=periods, matches=None if i == 0 else "x",
                                        showticklabels=i + columns >= len(units))   # labels under each column's last
        layout[f"yaxis{suffix}"] = dict(domain=y_dom, anchor=f"x{suffix}", matches=None if i == 0 else "y",
                                        showticklabels=c == 0, title=label if c == 0 and r == n_rows // 2 else None,
                                        tickformat=".0%" if share else None)
        layout["annotations"].append(dict(text=str(name), x=sum(x_dom) / 2, y=top, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False))
        bounds = np.c_[part["unten"], part["oben"]]
        traces.append(go.Scatter(
            x=part["zeitraum"], y=part["wert"], xaxis=f"x{suffix}", yaxis=f"y{suffix}", mode="lines+markers",
            line_color=PALETTE[0], marker_color=PALETTE[0], customdata=bounds,
            error_y=dict(type="data", array=part["oben"] - part["wert"], arrayminus=part["wert"] - part["unten"]),
            hovertemplate=f"{name} · %{{x}}<br>{label}: %{{y:{fmt}}} (%{{customdata[0]:{fmt}}}–%{{customdata[1]:{fmt}}})"
                          "<extra></extra>"))
    return apply_style(go.Figure(traces, layout))


def _rate_heatmap(rows: pd.DataFrame, unit: str, kennzahl: str, title: str) -> go.Figure:
    """Units × quarters, coloured by the rate; hover: unit, quarter, value and 95 % interval (no value: empty)."""

    def text(r) -> str:
        if pd.isna(r.wert):
            return ""
        if pd.isna(r.unten) or pd.isna(r.oben):
            return rate_text(r.wert, kennzahl)
        lo = rate_text(r.unten, kennzahl, unit=False)   # "20,1–31,0 %": the unit once
        return f"{rate_text(r.wert, kennzahl)} ({lo}–{rate_text(r.oben, kennzahl)})"

    rows = rows.assign(_text=[text(r) for r in rows.itertuples(index=False)])
    units, periods = sorted(rows[unit].unique()), sorted(rows["zeitraum"].unique())
    z = rows.pivot(index=unit, columns="zeitraum", values="wert").reindex(index=units, columns=periods)
    hover = rows.pivot(index=unit, columns="zeitraum", values="_text").reindex(index=units, columns=periods).fillna("")
    fig = go.Figure(go.Heatmap(z=z.to_numpy(dtype=float, na_value=np.nan), x=periods, y=units, text=hover.to_numpy(),
                               colorscale="Cividis", colorbar=dict(title=kennzahl_label(kennzahl)), xgap=1, ygap=1,
                               hovertemplate="%{y} · %{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title, height=160 + 18 * len(units), yaxis_autorange="reversed", xaxis_type="category",
                      xaxis_title=column_label("zeitraum"))
    return apply_style(fig)
