"""Plotly figure builders: tidy frame in, ``go.Figure`` out, German labels by default.

All figures share one template (:data:`TEMPLATE`): a palette safe for
colour-blind readers (Okabe–Ito), German separators (``1.234,5``) unless
English is selected.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..analysis.comparison import LEVELS, comparable_indicators, funnel_limits, funnel_table, level_name, rate_text
from ..contract import codes
from ..exchange.disclosure import HIDDEN, count_text, mask_small, shown_cell, suppress_table
from ..i18n import current_lang, fmt_number, tr
from ..indicators.stats import km_curve
from .labels import column_label, kennzahl_label

__all__ = ["TEMPLATE", "PALETTE", "apply_style", "counts_over_time", "completeness_heatmap", "load_per_post",
           "reach_by_district", "needs_heatmap", "survival_curve", "closure_reasons", "DEFAULT_BAND", "network_figure",
           "sankey", "referral_sankey", "status_sankey", "domain_heatmap", "referral_funnel", "waiting_curves", "funnel_plot",
           "forecast_figure", "expiry_figure", "staffing_figure", "need_index_figure"]

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


def _separators(lang: str | None = None) -> str:
    return ",." if (lang or current_lang()) == "de" else ".,"


def apply_style(fig: go.Figure, lang: str | None = None) -> go.Figure:
    """The shared template and number separators of the selected language."""
    fig.update_layout(template=TEMPLATE, separators=_separators(lang))
    return fig


def _figure(data: list, **layout) -> go.Figure:
    """A figure with the shared template and separators, built in one go: plotly checks a constructor's traces
    and layout about twice as fast as the same properties added trace by trace and set by ``update_layout``,
    and the dashboards build several figures on every filter change."""
    return go.Figure(data=data, layout={**layout, "template": TEMPLATE, "separators": _separators()})


def counts_over_time(table: pd.DataFrame, bars: str | tuple[str, ...] = "neuzugaenge", line: str = "faelle_offen",
                     title: str | None = None, minimum: int = 3) -> go.Figure:
    """Bars of one or more counts and a line of another over ``zeitraum`` (rows of the indicator table).

    ``table`` holds the rows of one group (e.g. one kommune); counts from 1 to
    ``minimum - 1`` are not drawn (a gap instead of a bar).
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
    return _figure(traces, title=title, xaxis_title=column_label("zeitraum"),
                   yaxis_title=tr({"de": "Anzahl", "en": "count"}), xaxis_type="category", barmode="group")


def _shown_rates(rows: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Rates whose numerator is a small count (1 … minimum − 1) or whose value is missing are not shown."""
    z = rows["zaehler"].astype("Float64")
    return rows.loc[rows["wert"].notna() & ~((z > 0) & (z < minimum))]


def load_per_post(rows: pd.DataFrame, names: dict[str, str] | None = None, band: tuple[float, float] = DEFAULT_BAND,
                  title: str | None = None, minimum: int = 3) -> go.Figure:
    """Open cases per full-time post per provider against the target band (rows of ``faelle_je_vzae`` by ``traeger``)."""
    rows = _shown_rates(rows, minimum).sort_values("wert")
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
    return fig.add_vrect(x0=band[0], x1=band[1], fillcolor=PALETTE[2], opacity=0.12, line_width=0,
                         annotation_text=tr({"de": "Zielkorridor", "en": "target band"}), annotation_position="top left")


def reach_by_district(rows: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """Persons reached per 1,000 inhabitants by district with 95 % intervals (rows of ``reichweite_je_1000``)."""
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


def needs_heatmap(rows: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """District × needs area: open cases per area (rows by ``stadtbezirk`` with ``merkmal = handlungsfeld``)."""

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


def closure_reasons(rows: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """Closures by reason (rows of ``abschluesse`` with ``merkmal = abschlussgrund``), small counts not drawn."""

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


# ----------------------------------------------------------------------------- referrals
def _rk_label(code: str) -> str:

    return tr({"de": "ohne Rechtskreis", "en": "no legal domain"}) if code == "ohne" else codes.label("rechtskreis", code)


#: node colours by legal domain, apart from the edge colours
_RK_COLOURS = {"sgb2": "#F0E442", "sgb3": "#000000", "sgb8": "#56B4E9", "sgb12": "#CC79A7", "asylblg": "#8C564B",
               "aufenthg": "#332288", "stag": "#882255", "ohne": "#BBBBBB"}

#: acceptance classes of the network picture: upper bound (exclusive), colour, German and English label
_ACCEPTANCE = [(0.5, "#D55E00", "unter 50 %", "below 50 %"), (0.7, "#E69F00", "50–70 %", "50–70 %"),
               (1.01, "#009E73", "70 % und mehr", "70 % and more")]


def network_figure(g, title: str | None = None, minimum: int = 3, height: int = 720) -> go.Figure:
    """The referral network, legible with 60 partners.

    Case-management providers sit in the centre; the other partners on a ring,
    grouped by legal domain (sectors labelled) and within it by type. Edge width
    follows volume (four classes), colour the acceptance rate of the referrals
    on the edge (three classes; grey for referrals into case management or
    without answers). Edges with fewer than ``minimum`` referrals are not drawn.
    """

    nodes = list(g.nodes(data=True))
    centre = [n for n, a in nodes if a["case_management"]]
    ring = sorted((n for n, a in nodes if not a["case_management"]),
                  key=lambda n: (g.nodes[n]["rechtskreis"] == "ohne", g.nodes[n]["rechtskreis"], g.nodes[n]["typ"],
                                 g.nodes[n]["name"]))
    pos = {}
    for i, n in enumerate(centre):
        angle = 2 * np.pi * i / max(len(centre), 1)
        r = 0.0 if len(centre) == 1 else 0.28
        pos[n] = (r * np.cos(angle), r * np.sin(angle))
    for i, n in enumerate(ring):   # an ellipse wider than high leaves room for the labels at top and bottom
        angle = np.pi / 2 - 2 * np.pi * i / max(len(ring), 1)
        pos[n] = (1.3 * np.cos(angle), np.sin(angle))
    # labels point away from the centre, so they do not run into the links
    side = lambda n: "middle right" if pos[n][0] > 0.05 else "middle left" if pos[n][0] < -0.05 else (  # noqa: E731
        "top center" if pos[n][1] > 0 else "bottom center")
    edges = [(u, v, d) for u, v, d in g.edges(data=True) if d["n"] >= minimum]
    traces = []
    width_class = np.zeros(0, int)
    if edges:
        volumes = np.array([d["n"] for _, _, d in edges], dtype=float)
        bounds = np.unique(np.quantile(volumes, [0.5, 0.8, 0.95]))
        width_class = np.searchsorted(bounds, volumes, side="right")
    rates = [d["angenommen"] / d["beantwortet"] if d.get("beantwortet") else None for _, _, d in edges]
    acceptance_class = [len(_ACCEPTANCE) if rate is None else next(i for i, a in enumerate(_ACCEPTANCE) if rate < a[0])
                        for rate in rates]
    for cls, (upper, colour, de, en) in enumerate(_ACCEPTANCE + [(None, "#999999", "in das Case-Management / offen",
                                                                  "into case management / open")]):
        for w in range(4):
            xs, ys = [], []
            for (u, v, _), wc, k in zip(edges, width_class, acceptance_class):
                if k != cls or wc != w:
                    continue
                xs += [pos[u][0], pos[v][0], None]
                ys += [pos[u][1], pos[v][1], None]
            if w and not xs:   # the thinnest line of each class carries its legend entry, the others only edges
                continue
            traces.append(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=1 + 2.5 * w),
                                     hoverinfo="skip", opacity=0.75,
                                     name=tr({"de": f"Annahme {de}", "en": f"acceptance {en}"}) if upper else
                                     tr({"de": de, "en": en}), legendgroup=str(cls), showlegend=w == 0))
    # nodes: one trace per legal domain so that the legend explains the sectors
    domains = sorted({a["rechtskreis"] for _, a in nodes}, key=lambda r: (r == "ohne", r))
    for i, rk in enumerate(domains):
        members = [n for n, a in nodes if a["rechtskreis"] == rk and not a["case_management"]]
        traces.append(go.Scatter(
            x=[pos[n][0] for n in members], y=[pos[n][1] for n in members], mode="markers+text",
            marker=dict(size=[10 + 3 * np.sqrt(g.degree(n, weight="n")) ** 0.5 for n in members],
                        color=_RK_COLOURS.get(rk, "#777777"), line=dict(color="#555", width=1)),
            text=[g.nodes[n]["name"] for n in members], textposition=[side(n) for n in members], textfont=dict(size=10),
            customdata=[codes.label("partnertyp", g.nodes[n]["typ"]) for n in members],
            hovertemplate="%{text}<br>%{customdata}<extra></extra>", name=_rk_label(rk)))
    traces.append(go.Scatter(x=[pos[n][0] for n in centre], y=[pos[n][1] for n in centre], mode="markers+text",
                             marker=dict(size=22, color="#0072B2", symbol="diamond", line=dict(color="white", width=1)),
                             text=[g.nodes[n]["name"] for n in centre], textposition="bottom center",
                             textfont=dict(size=11), hovertemplate="%{text}<extra></extra>",
                             name=tr({"de": "Case-Management-Träger", "en": "case-management providers"})))
    return _figure(traces, title=title or tr({"de": "Vermittlungsnetz", "en": "referral network"}), height=height,
                   xaxis=dict(visible=False, range=[-2.4, 2.4]), yaxis=dict(visible=False, range=[-1.12, 1.12]),
                   legend=dict(orientation="h", x=0.5, y=-0.02, xanchor="center", yanchor="top"),
                   margin=dict(l=10, r=10, t=60, b=90))


def sankey(flows: pd.DataFrame, stages: list[tuple[str, Callable[[str], str]]], title: str, minimum: int = 3,
           height: int = 560) -> go.Figure:
    """Flows through ``stages`` (columns of ``flows`` with their label functions; counts in ``n``), one
    node per stage and code. Links with fewer than ``minimum`` are left out, so nodes show only what is drawn."""
    labels, index, links = [], {}, []
    for (a, fa), (b, fb) in zip(stages, stages[1:]):
        pair = flows.groupby([a, b], as_index=False)["n"].sum()
        pair = pair.loc[pair["n"] >= minimum]
        for row in pair.itertuples(index=False):
            for stage, code, fn in ((a, getattr(row, a), fa), (b, getattr(row, b), fb)):
                if (stage, code) not in index:
                    index[(stage, code)] = len(labels)
                    labels.append(fn(code))
            links.append((index[(a, getattr(row, a))], index[(b, getattr(row, b))], int(row.n)))
    src, dst, val = (list(x) for x in zip(*links)) if links else ([], [], [])
    return _figure([go.Sankey(node=dict(label=labels, pad=12, thickness=14, color="#56B4E9"),
                              link=dict(source=src, target=dst, value=val, color="rgba(0,114,178,0.25)"),
                              valueformat=",d")], title=title, height=height)


def referral_sankey(flows: pd.DataFrame, names: dict[str, str] | None = None, title: str | None = None,
                    minimum: int = 3) -> go.Figure:
    """Provider → needs area → receiving partner type → outcome, from :func:`kimtools.analysis.network.sankey_flows`.
    Links with fewer than ``minimum`` referrals are left out."""

    names = names or {}
    stages = [("traeger", lambda c: names.get(c, c)), ("handlungsfeld", lambda c: codes.label("handlungsfeld", c)),
              ("partner_typ", lambda c: codes.label("partnertyp", c)),
              ("status", lambda c: codes.label("vermittlungsstatus", c))]
    return sankey(flows, stages, title or tr({"de": "Vom Träger über das Handlungsfeld zum Partner und zum Ergebnis",
                                              "en": "from provider via needs area to partner and outcome"}), minimum)


def status_sankey(transitions: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """Residence-status changes from the status held before to the new one (from
    :func:`kimtools.analysis.pathways.status_transitions`); links with fewer than ``minimum`` changes are left out."""

    label = lambda c: codes.label("aufenthaltsstatus", c)  # noqa: E731
    return sankey(transitions, [("von_status", label), ("nach_status", label)],
                  title or tr({"de": "Statuswechsel: vom bisherigen zum neuen Aufenthaltsstatus",
                               "en": "status changes: from the previous to the new residence status"}),
                  minimum, height=420)


def domain_heatmap(matrix: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """Legal domain × needs area of referrals (from :func:`kimtools.analysis.network.domain_matrix`).

    Small cells show as "< minimum"; cells hidden so that a small one cannot be recomputed from the
    total show as "x"."""

    grid = matrix.pivot_table(index="rechtskreis", columns="handlungsfeld", values="n", aggfunc="sum", fill_value=0)
    grid = grid.reindex(columns=[c for c in codes.HANDLUNGSFELD if c in grid.columns])
    # the total is on the same page (tiles, funnel): hide complements too, so no small cell follows from it
    values = suppress_table(grid, minimum).astype("Float64")
    text = [[str(shown_cell(v, o, minimum)) for v, o in zip(row, orig)]
            for row, orig in zip(values.to_numpy(), grid.to_numpy())]
    return _figure([go.Heatmap(
        z=values.to_numpy(dtype=float, na_value=np.nan), x=[codes.label("handlungsfeld", c) for c in grid.columns],
        y=[_rk_label(r) for r in grid.index], colorscale="Cividis", text=text, texttemplate="%{text}",
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>", colorbar=dict(title=tr({"de": "Vermittl.", "en": "referrals"})))],
        title=title or tr({"de": "Vermittlungen nach Rechtskreis und Handlungsfeld",
                           "en": "referrals by legal domain and needs area"}),
        height=160 + 36 * max(len(grid), 1), yaxis_autorange="reversed")


_FUNNEL = {"vermittelt": ("vermittelt", "sent"), "beantwortet": ("beantwortet", "answered"),
           "angenommen": ("angenommen", "accepted"), "erstkontakt": ("Ersttermin", "first appointment"),
           "abgeschlossen": ("abgeschlossen", "completed")}


def referral_funnel(steps: pd.DataFrame, title: str | None = None, minimum: int = 3) -> go.Figure:
    """The referral funnel (from :func:`kimtools.analysis.network.funnel`); steps below ``minimum`` show as "< minimum"."""
    n = mask_small(steps["n"], minimum)
    return _figure([go.Funnel(
        y=[tr({"de": _FUNNEL[s][0], "en": _FUNNEL[s][1]}) for s in steps["stufe"]],
        x=n.astype("Float64").fillna(0).to_numpy(dtype=float),
        text=[count_text(v, minimum) for v in steps["n"]], textinfo="text+percent initial", marker=dict(color=PALETTE[0]))],
        title=title or tr({"de": "Was aus Vermittlungen wird", "en": "what becomes of referrals"}), height=380)


def waiting_curves(waits: pd.DataFrame, title: str | None = None, minimum_cases: int = 20) -> go.Figure:
    """Share of referrals still waiting for a first appointment by days, one line per partner type (Kaplan–Meier);
    the eight types with most referrals, each with at least ``minimum_cases``."""

    counts = waits["partner_typ"].value_counts()
    top = set(counts.index[:len(PALETTE)])   # the types with most referrals, one colour each
    groups = [t for t in codes.PARTNERTYP if t in top]
    return survival_curve(
        waits, group="partner_typ", groups=groups, minimum_cases=minimum_cases, max_days=180,
        title=title or tr({"de": "Wie lange Vermittelte auf den Ersttermin warten (Kaplan–Meier)",
                           "en": "how long referred persons wait for a first appointment (Kaplan–Meier)"}),
        label=lambda code: codes.label("partnertyp", code),
        xaxis_title=tr({"de": "Tage seit der Vermittlung", "en": "days since referral"}),
        yaxis_title=tr({"de": "wartet noch, in %", "en": "still waiting, in %"}), height=520,
        legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0), margin_b=170)


# ----------------------------------------------------------------------------- comparison
def funnel_plot(table: pd.DataFrame, unit: str, kind: str = "poisson", scale: float = 1.0,
                title: str | None = None, value_label: str | None = None, denominator_label: str | None = None,
                use_overdispersion: bool = False) -> go.Figure:
    """A funnel plot from :func:`kimtools.analysis.comparison.funnel_table` input (``unit``, ``zaehler``, ``nenner``):
    each unit's rate against its denominator, the pooled rate, and the 95 % and 99.8 % limits drawn over
    the whole range of denominators. Points outside a limit are coloured; nobody is ranked."""

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
    express's facets cost a dashboard a tenth of a second on every change."""
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


# ----------------------------------------------------------------------------- planning
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
