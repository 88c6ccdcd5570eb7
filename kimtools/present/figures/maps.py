"""District maps: each district's outline filled by where its rate lies in the funnel around the kommune's rate.

Drawn as filled ``go.Scatter`` polygons (longitude across, latitude up, at the true aspect of the latitude): plain SVG
that needs neither tiles nor a map library, so it works offline, in the printout and as an image. The colour says
only what the funnel plot says — clearly above, within or clearly below the kommune's rate (95 % and 99.8 % limits) —
never a ranking; the rate and its 95 % interval are on hover. A district whose count is small (1 to ``minimum − 1``)
shows neither value nor colour, as every other figure; the map's source is named under it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ...analysis.comparison import LEVELS, comparable_indicators, funnel_table, rate_text
from ...contract.reference import match_key
from ...i18n import tr
from ..labels import VERDICT_WORDS, kennzahl_label
from .style import _figure

__all__ = ["MAP", "POSITIONS", "district_positions", "district_map", "is_map"]

#: a district map says so in its layout's ``meta`` (a printout sizes it as a map, not as rows of districts)
MAP = "karte"

#: the funnel's verdict per district → (colour, German, English) as the hover says it, in the legend's order
#: (Okabe–Ito, diverging)
POSITIONS = {
    "ueber_99,8": ("#D55E00", "deutlich über dem Gesamtwert (99,8 %)", "clearly above the overall rate (99.8 %)"),
    "ueber_95": ("#E69F00", "über dem Gesamtwert (95 %)", "above the overall rate (95 %)"),
    "innerhalb": ("#D9D9D9", "im Rahmen des Gesamtwerts", "within the overall rate"),
    "unter_95": ("#56B4E9", "unter dem Gesamtwert (95 %)", "below the overall rate (95 %)"),
    "unter_99,8": ("#0072B2", "deutlich unter dem Gesamtwert (99,8 %)", "clearly below the overall rate (99.8 %)"),
    "geschuetzt": ("#FFFFFF", "zu wenige Fälle: nicht gezeigt", "too few cases: not shown"),
    "keine_daten": ("#FFFFFF", "keine Daten", "no data"),
}


def district_positions(rates: pd.DataFrame, kennzahl: str, minimum: int = 3, target: float | None = None) -> pd.DataFrame:
    """Per district of ``rates`` (indicator-table or bundle rows of one indicator and period: ``stadtbezirk, zaehler,
    nenner, wert`` and the 95 % interval ``ki_unten, ki_oben`` or ``unten, oben``) its place in the funnel
    (:func:`~kimtools.analysis.comparison.funnel_table`) around the pooled rate of all of them (small counts included,
    as in the kommune's own rate), or ``target`` (on the rate scale: where a bundle protects counts, its kommune's
    rate): ``lage`` one of :data:`POSITIONS`. A small numerator (1 … ``minimum − 1``) or one a bundle protects
    (missing) is ``geschuetzt`` and loses its value and interval.

    >>> r = pd.DataFrame({"stadtbezirk": ["A", "B", "C"], "zaehler": [50, 2, 500], "nenner": [1000, 1000, 1000],
    ...                   "wert": [50.0, 2.0, 500.0]})
    >>> district_positions(r, "reichweite_je_1000")[["stadtbezirk", "lage"]].values.tolist()
    [['A', 'unter_99,8'], ['B', 'geschuetzt'], ['C', 'ueber_99,8']]
    """
    kind, scale = comparable_indicators()[kennzahl]
    rates = rates.rename(columns={"ki_unten": "unten", "ki_oben": "oben"})
    out = rates[["stadtbezirk"]].drop_duplicates().reset_index(drop=True)
    z = rates["zaehler"].astype(float)
    hidden = z.isna() | ((z >= 1) & (z < minimum))
    counted = rates["nenner"].astype(float) > 0
    if target is None and (counted & z.notna()).any():   # the overall rate counts the small counts it does not show
        target = z[counted].sum() / rates.loc[counted & z.notna(), "nenner"].astype(float).sum()
    rows = rates.loc[counted & ~hidden]
    if rows.empty:
        out = out.assign(wert=np.nan, unten=np.nan, oben=np.nan, ziel=np.nan, lage="keine_daten")
    else:
        placed = funnel_table(rows, "stadtbezirk", kind, LEVELS, False, scale, target)
        bounds = rows.set_index("stadtbezirk").reindex(placed["stadtbezirk"])
        for side in ("unten", "oben"):
            placed[side] = bounds[side].to_numpy(dtype=float) if side in bounds else np.nan
        out = out.merge(placed[["stadtbezirk", "wert", "unten", "oben", "ziel", "lage"]], on="stadtbezirk", how="left")
    out.loc[out["stadtbezirk"].isin(rates.loc[hidden & counted, "stadtbezirk"]), "lage"] = "geschuetzt"
    out["lage"] = out["lage"].fillna("keine_daten")
    return out


def _rings(geometry: str) -> list[list[list[float]]]:
    """The outer and inner rings of a GeoJSON polygon or multipolygon."""
    g = json.loads(geometry)
    polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"] if g["type"] == "MultiPolygon" else []
    return [ring for polygon in polygons for ring in polygon]


def _hover(name: str, row, kennzahl: str) -> str:
    lage = "keine_daten" if row is None else row.lage
    _, de, en = POSITIONS[lage]
    if lage in ("keine_daten", "geschuetzt"):   # no value to say
        return f"<b>{name}</b><br>{tr({'de': de, 'en': en})}"
    interval = ""
    if pd.notna(row.unten) and pd.notna(row.oben):
        interval = (f" ({tr({'de': '95-%-Intervall', 'en': '95 % interval'})} {rate_text(row.unten, kennzahl, unit=False)}"
                    f"–{rate_text(row.oben, kennzahl)})")
    overall = tr({"de": "Gesamtwert", "en": "overall rate"})
    return (f"<b>{name}</b><br>{kennzahl_label(kennzahl)}: {rate_text(row.wert, kennzahl)}{interval}<br>{tr({'de': de, 'en': en})}"
            f" ({overall} {rate_text(row.ziel, kennzahl)})")


def district_map(shapes: pd.DataFrame, rates: pd.DataFrame, kennzahl: str, minimum: int = 3,
                 title: str | None = None, target: float | None = None) -> go.Figure:
    """The districts of ``shapes`` (``stadtbezirk, geometrie`` as GeoJSON in WGS 84, ``lon, lat`` where its name
    goes, ``quelle``: :func:`~kimtools.views.karten.district_shapes`) filled by :func:`district_positions` of ``rates``
    (matched by name as the reader matches names: case, blanks and hyphens ignored), every district named, the rate
    and its interval on hover, the map's source (for OpenStreetMap data its attribution) at the bottom.

    >>> import kimtools as kim
    >>> from kimtools.views.karten import district_shapes
    >>> shapes = district_shapes(kim.Store(), "Duisburg")   # boundaries shipped for Duisburg
    >>> fig = kim.district_map(shapes, kim.kennzahlen("Duisburg", nach="stadtbezirk", kennzahl="reichweite_je_1000",
    ...                                              quartal="2026-Q2"), "reichweite_je_1000")
    >>> len(shapes), len(fig.data) > 0
    (7, True)
    """
    placed = district_positions(rates, kennzahl, minimum, target) if len(rates) else pd.DataFrame(columns=["stadtbezirk"])
    placed = placed.set_index(placed["stadtbezirk"].map(match_key))
    traces, labels, used = [], [], set()
    lats = []
    for shape in shapes.itertuples(index=False):
        key = match_key(shape.stadtbezirk)
        row = placed.loc[key] if key in placed.index else None
        shown = row.stadtbezirk if row is not None else shape.stadtbezirk   # as the data spell it
        lage = row.lage if row is not None else "keine_daten"
        used.add(lage)
        xs, ys = [], []
        for ring in _rings(shape.geometrie):
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
        lats += [y for y in ys if y is not None]
        hover = _hover(shown, row, kennzahl)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=POSITIONS[lage][0],
                                 line=dict(color="#4D4D4D", width=1), hoveron="fills", name=hover, hoverinfo="name",
                                 showlegend=False))
        name = shown.replace("/", "/<br>") if len(shown) > 14 else shown
        labels.append((shape.lon, shape.lat, name, hover))   # the name inside the district, with the same hover
    traces.append(go.Scatter(x=[v[0] for v in labels], y=[v[1] for v in labels], text=[v[2] for v in labels],
                             customdata=[v[3] for v in labels], mode="text", textfont=dict(size=12, color="#1A1A1A"),
                             hovertemplate="%{customdata}<extra></extra>", showlegend=False))
    for lage, (colour, _de, _en) in POSITIONS.items():   # the legend: only what the map shows
        if lage in used:
            traces.append(go.Scatter(x=[None], y=[None], mode="markers", name=tr(VERDICT_WORDS[lage]),
                                     marker=dict(symbol="square", size=14, color=colour, line=dict(color="#4D4D4D", width=1))))
    ratio = 1 / math.cos(math.radians(float(np.mean(lats)))) if lats else 1.0
    source = "; ".join(dict.fromkeys(q for q in shapes.get("quelle", pd.Series(dtype=str)).fillna("") if q))
    return _figure(
        traces, title=title or kennzahl_label(kennzahl), height=520, meta={"kim": MAP}, hovermode="closest",
        hoverlabel=dict(namelength=-1),
        xaxis=dict(visible=False, rangemode="normal"),
        yaxis=dict(visible=False, rangemode="normal", scaleanchor="x", scaleratio=ratio),
        legend=dict(orientation="v", x=1.0, xanchor="left", y=1.0, yanchor="top",
                    title=dict(text=tr({"de": "Gegenüber dem Gesamtwert:", "en": "Against the overall rate:"}))),
        margin=dict(l=10, r=10, t=80, b=40),
        annotations=[dict(text=tr({"de": "Karte: ", "en": "Map: "}) + source, showarrow=False, xref="paper",
                          yref="paper", x=0, y=0, xanchor="left", yanchor="top", yshift=-4,
                          font=dict(size=11, color="#4D4D4D"))] if source else [])


def is_map(fig: go.Figure) -> bool:
    """Whether ``fig`` is a district map of :func:`district_map`."""
    meta = fig.layout.meta
    return isinstance(meta, dict) and meta.get("kim") == MAP
