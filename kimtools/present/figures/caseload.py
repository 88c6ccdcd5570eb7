"""Figures of the caseload: intake and open cases over time, load per post, reach by district, needs, how long
cases stay open, why they close, the completeness of the data."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ...contract import codes
from ...indicators.disclosure import mask_small
from ...i18n import tr
from ...indicators.rows import pick
from ...indicators.stats import km_curve
from ..labels import column_label, kennzahl_label
from .maps import district_map
from .style import DEFAULT_BAND, PALETTE, _figure, apply_style


def counts_over_time(table: pd.DataFrame, bars: str | tuple[str, ...] = "neuzugaenge", line: str = "faelle_offen",
                     title: str | None = None, minimum: int = 3) -> go.Figure:
    """Bars of one or more counts and a line of another over ``zeitraum`` (rows of the indicator table).

    ``table`` holds the rows of one group (e.g. one kommune); counts from 1 to
    ``minimum - 1`` are not drawn (a gap instead of a bar).

    >>> import kimtools as kim
    >>> fig = kim.counts_over_time(kim.kennzahlen("Herne"), bars=("neuzugaenge", "abschluesse"))
    >>> [trace.name for trace in fig.data]
    ['Neuzugänge', 'Abschlüsse', 'Offene Fälle']
    """
    traces = []
    bars = (bars,) if isinstance(bars, str) else bars
    for kennzahl, kind in [*((b, "bar") for b in bars), (line, "line")]:
        rows = table.loc[table["kennzahl"] == kennzahl]
        y = mask_small(rows["zaehler"], minimum).astype("float")
        name = kennzahl_label(kennzahl)
        hover = f"%{{x}}<br>{name}: %{{y:,.0f}}<extra></extra>"
        if kind == "bar":
            traces.append(go.Bar(x=rows["zeitraum"], y=y, name=name, hovertemplate=hover))
        else:
            traces.append(go.Scatter(x=rows["zeitraum"], y=y, name=name, mode="lines+markers", hovertemplate=hover))
    fig = _figure(traces, title=title, xaxis_title=column_label("zeitraum"),
                  yaxis_title=tr({"de": "Anzahl", "en": "count"}), xaxis_type="category", barmode="group")
    return mark_incomplete(fig, table)


def mark_incomplete(fig: go.Figure, table: pd.DataFrame) -> go.Figure:
    """Shade the periods of ``table`` (rows of the indicator table, x = ``zeitraum`` as categories) that are not
    yet complete for every provider (``unvollstaendig``), each labelled as such."""
    if "unvollstaendig" not in table.columns or not table["unvollstaendig"].any():
        return fig
    periods = list(dict.fromkeys(table["zeitraum"]))
    marked = set(table.loc[table["unvollstaendig"].astype(bool), "zeitraum"])
    text = tr({"de": "unvollständig", "en": "incomplete"})
    for i, p in enumerate(periods):
        if p in marked:
            fig.add_vrect(x0=i - 0.5, x1=i + 0.5, fillcolor="#999999", opacity=0.18, line_width=0, layer="below",
                          annotation_text=text, annotation_position="top", annotation_font_size=11)
    return fig


def _shown_rates(rows: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Rates whose numerator is a small count (1 … minimum − 1) or whose value is missing are not shown."""
    z = rows["zaehler"].astype("Float64")
    return rows.loc[rows["wert"].notna() & ~((z > 0) & (z < minimum))]


def load_per_post(table: pd.DataFrame, names: dict[str, str] | None = None, band: tuple[float, float] = DEFAULT_BAND,
                  title: str | None = None, minimum: int = 3, zeitraum: str | None = None,
                  kennzahl: str = "faelle_je_vzae") -> go.Figure:
    """Open cases per full-time post per provider against the target band: the indicator table by ``traeger``,
    of it ``kennzahl`` in ``zeitraum`` (default: its latest period).

    >>> import kimtools as kim
    >>> fig = kim.load_per_post(kim.kennzahlen("Herne", nach="traeger", kennzahl="faelle_je_vzae", quartal="2026-Q2"))
    >>> fig.layout.title.text, fig.data[0].orientation   # a bar per provider
    ('Fälle je Vollzeitstelle', 'h')
    """
    rows = _shown_rates(pick(table, kennzahl, zeitraum, strict=False), minimum).sort_values("wert")
    names = names or {}
    label = [names.get(t, t) for t in rows["traeger"]]
    colour = [PALETTE[3] if v > band[1] else PALETTE[0] if v < band[0] else PALETTE[2] for v in rows["wert"]]
    fig = _figure([go.Bar(
        x=rows["wert"].astype(float), y=label, orientation="h", marker_color=colour,
        customdata=list(zip(rows["zaehler"].astype(int), rows["nenner"].astype(float))),
        hovertemplate="%{y}<br>%{x:.1f} " + tr({"de": "Fälle je VZÄ", "en": "cases per FTE"})
                      + "<br>%{customdata[0]} / %{customdata[1]:.1f}<extra></extra>")],
        title=title or tr({"de": "Fälle je Vollzeitstelle", "en": "cases per full-time post"}),
        xaxis_title=tr({"de": "offene Fälle je VZÄ", "en": "open cases per FTE"}),
        height=160 + 32 * max(len(rows), 1), showlegend=False)
    fig.add_vrect(x0=band[0], x1=band[1], fillcolor=PALETTE[2], opacity=0.12, line_width=0)
    # the band's name above the plot, over the band's left edge: inside, it lay over the longest bar
    return fig.add_annotation(x=band[0], xref="x", y=1, yref="paper", yanchor="bottom", xanchor="left",
                              showarrow=False, font=dict(size=12, color="#444"),
                              text=tr({"de": "Zielkorridor (grün hinterlegt)", "en": "target band (green)"}))


def reach_by_district(table: pd.DataFrame, title: str | None = None, minimum: int = 3,
                      shapes: pd.DataFrame | None = None, zeitraum: str | None = None,
                      kennzahl: str = "reichweite_je_1000") -> go.Figure:
    """Persons reached per 1,000 inhabitants by district (the indicator table by ``stadtbezirk``, of it ``kennzahl``
    in ``zeitraum``, default its latest period): a map where the district
    ``shapes`` are known (:func:`~kimtools.present.figures.maps.district_map`: each district by its place in the funnel,
    the rate with its 95 % interval on hover), else each rate with its 95 % interval as a dot.

    >>> import kimtools as kim
    >>> fig = kim.reach_by_district(kim.kennzahlen("Herne", nach="stadtbezirk", kennzahl="reichweite_je_1000",
    ...                                             quartal="2026-Q2"))
    >>> sorted(fig.data[0].y)   # Herne's four districts
    ['Eickel', 'Herne-Mitte', 'Sodingen', 'Wanne']
    """
    rows = pick(table, kennzahl, zeitraum, strict=False)
    if shapes is not None and len(shapes):
        return district_map(shapes, rows, kennzahl, minimum, title)
    rows = _shown_rates(rows, minimum).sort_values("wert")
    return _figure([go.Scatter(
        x=rows["wert"].astype(float), y=rows["stadtbezirk"], mode="markers", marker=dict(size=10, color=PALETTE[0]),
        error_x=dict(type="data", symmetric=False, array=(rows["ki_oben"] - rows["wert"]).astype(float),
                     arrayminus=(rows["wert"] - rows["ki_unten"]).astype(float), color=PALETTE[0]),
        hovertemplate="%{y}: %{x:.2f}<extra></extra>")],
        title=title or tr({"de": "Erreichte Personen je 1.000 Einwohner (95-%-Intervall)",
                           "en": "persons reached per 1,000 inhabitants (95 % interval)"}),
        xaxis_title=tr({"de": "je 1.000 Einwohner", "en": "per 1,000 inhabitants"}),
        height=160 + 32 * max(len(rows), 1), showlegend=False)


def needs_heatmap(table: pd.DataFrame, title: str | None = None, minimum: int = 3, zeitraum: str | None = None,
                  kennzahl: str = "faelle_offen") -> go.Figure:
    """District × needs area: open cases per area (the indicator table by ``stadtbezirk`` with ``merkmal =
    handlungsfeld``, of it ``kennzahl`` in ``zeitraum``, default its latest period).

    >>> import kimtools as kim
    >>> fig = kim.needs_heatmap(kim.kennzahlen("Herne", nach="stadtbezirk", merkmal="handlungsfeld",
    ...                                         kennzahl="faelle_offen", quartal="2026-Q2"))
    >>> fig.data[0].type, "Wohnen" in fig.data[0].x
    ('heatmap', True)
    """

    rows = pick(table, kennzahl, zeitraum, strict=False)
    grid = rows.pivot_table(index="stadtbezirk", columns="auspraegung", values="zaehler", aggfunc="sum")
    grid = grid.reindex(columns=[c for c in codes.HANDLUNGSFELD if c in grid.columns])
    values = mask_small(grid, minimum).astype("Float64")   # cell by cell: the whole grid at once
    text = [["" if pd.isna(v) and pd.isna(o) else f"< {minimum}" if pd.isna(v) else f"{int(v)}"
             for v, o in zip(r_masked, r_orig)] for r_masked, r_orig in zip(values.to_numpy(), grid.to_numpy())]
    return _figure([go.Heatmap(
        z=values.to_numpy(dtype=float, na_value=np.nan), x=[codes.label("handlungsfeld", c) for c in grid.columns],
        y=grid.index.tolist(), colorscale="Cividis", text=text, texttemplate="%{text}",
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>", colorbar=dict(title=tr({"de": "Fälle", "en": "cases"})))],
        title=title or tr({"de": "Bedarfe: offene Fälle je Handlungsfeld und Bezirk",
                           "en": "needs: open cases per needs area and district"}),
        height=160 + 36 * max(len(grid), 1), yaxis_autorange="reversed")


def survival_curve(durations: pd.DataFrame, group: str = "auspraegung", groups: list[str] | None = None,
                   title: str | None = None, minimum_cases: int = 20, max_days: int = 730,
                   label: Callable[[str], str] | None = None, **layout) -> go.Figure:
    """Share of cases still open by days since start (Kaplan–Meier), one line per group.

    There is one trace per entry of ``groups`` (default: the groups in the
    data), so that a figure widget can be updated in place; a group with fewer
    than ``minimum_cases`` cases gets a hidden trace. ``label`` names a group (default: target groups by
    their label, ``Gesamt`` as all cases); ``layout`` replaces layout settings (axis titles, legend, …).

    >>> import kimtools as kim
    >>> fig = kim.survival_curve(kim.case_durations(kim.Store(), "Herne", merkmal="zielgruppe"))
    >>> "Pflegesetting" in [trace.name for trace in fig.data]   # a curve per target group
    True
    """

    groups = groups if groups is not None else sorted(durations[group].dropna().unique())
    sizes = durations.groupby(group).size()
    keep = sizes[sizes >= minimum_cases].index
    curve = km_curve(durations.loc[durations[group].isin(keep)], [group])
    label = label or (lambda value: _group_label(group, value))
    traces = []
    of, days, still = curve[group].to_numpy(dtype=object), curve["dauer"].to_numpy(), curve["s"].to_numpy()
    for i, name in enumerate(groups):
        part = of == name
        x = np.r_[0, days[part]] if part.any() else np.array([])
        y = np.r_[1.0, still[part]] * 100 if part.any() else np.array([])
        shown = x <= max_days
        # one trace per group whatever the filter: colours and legend order stay put when groups come and go
        traces.append(go.Scatter(x=x[shown], y=y[shown], mode="lines", line_shape="hv", name=label(name),
                                 visible=bool(part.any()), line_color=PALETTE[i % len(PALETTE)],
                                 hovertemplate=f"{label(name)}<br>%{{x}} " + tr({"de": "Tage", "en": "days"})
                                               + ": %{y:.0f} %<extra></extra>"))
    return _figure(traces, **{
        "title": title or tr({"de": "Wie lange Fälle offen bleiben (Kaplan–Meier)",
                              "en": "how long cases stay open (Kaplan–Meier)"}),
        "xaxis_title": tr({"de": "Tage seit Fallbeginn", "en": "days since case start"}),
        "yaxis_title": tr({"de": "noch offen in %", "en": "still open in %"}), "yaxis_range": [0, 100],
        # five groups wrap in a half-width figure: below the axis they cannot cover the title
        "legend": dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0), "margin_b": 110, **layout})


def _group_label(group: str, value: str) -> str:

    if group in ("auspraegung", "zielgruppe") and value in codes.ZIELGRUPPE:
        return codes.label("zielgruppe", value)
    return tr({"de": "alle Fälle", "en": "all cases"}) if value == "Gesamt" else str(value)


def closure_reasons(table: pd.DataFrame, title: str | None = None, minimum: int = 3, zeitraum: str | None = None,
                    kennzahl: str = "abschluesse") -> go.Figure:
    """Closures by reason (the indicator table with ``merkmal = abschlussgrund``, of it ``kennzahl`` in ``zeitraum``:
    a period, or a year, whose periods are added up; default the latest period), small counts not drawn.

    >>> import kimtools as kim
    >>> fig = kim.closure_reasons(kim.kennzahlen("Herne", merkmal="abschlussgrund", kennzahl="abschluesse", jahr=2025))
    >>> fig.layout.title.text, fig.data[0].type
    ('Abschlüsse nach Grund', 'bar')
    """

    if zeitraum is not None and len(zeitraum) == 4:   # a year: its months or quarters add up (closures are events)
        table = table.loc[table["zeitraum"].str.startswith(zeitraum)]
        zeitraum = "alle"
    rows = pick(table, kennzahl, zeitraum, strict=False)
    rows = rows.loc[rows["auspraegung"] != "offen"].groupby("auspraegung")["zaehler"].sum()
    rows = rows.reindex([c for c in codes.ABSCHLUSSGRUND if c in rows.index])
    y = mask_small(rows.astype("Int64"), minimum).astype(float)
    return _figure([go.Bar(x=[codes.label("abschlussgrund", c) for c in rows.index], y=y, marker_color=PALETTE[0],
                           hovertemplate="%{x}: %{y:,.0f}<extra></extra>")],
                   title=title or tr({"de": "Abschlüsse nach Grund", "en": "closures by reason"}),
                   yaxis_title=tr({"de": "Anzahl", "en": "count"}), showlegend=False)


def completeness_heatmap(frame: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Provider × column heat map of the share of filled values (rows of :func:`kimtools.ingest.quality.completeness`)."""
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
