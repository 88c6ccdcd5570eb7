"""Figures of the referrals: the network, the Sankey diagrams, legal domains × needs areas, the referral funnel
and the wait for a first appointment."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ...contract import codes
from ...contract.outcomes import outcome
from ...indicators.disclosure import count_text, mask_small, shown_cell, suppress_table
from ...i18n import tr
from .caseload import survival_curve
from .style import PALETTE, _figure


def _rk_label(code: str) -> str:

    return tr({"de": "ohne Rechtskreis", "en": "no legal domain"}) if code == "ohne" else codes.label("rechtskreis", code)


#: node colours by legal domain, apart from the edge colours
_RK_COLOURS = {"sgb2": "#F0E442", "sgb3": "#000000", "sgb8": "#56B4E9", "sgb12": "#CC79A7", "asylblg": "#8C564B",
               "aufenthg": "#332288", "stag": "#882255", "ohne": "#BBBBBB"}

#: acceptance classes of the network picture: upper bound (exclusive), colour, German and English label
_ACCEPTANCE = [(0.5, "#D55E00", "unter 50 %", "below 50 %"), (0.7, "#E69F00", "50–70 %", "50–70 %"),
               (1.01, "#009E73", "70 % und mehr", "70 % and more")]


def _wrapped(name: str, width: int = 26) -> str:
    """A partner's name on two lines where it is long (at the blank nearest its middle), so that a label beside the
    ring stays inside an A4 page's figure.

    >>> _wrapped("Netzwerk Migrantenselbstorganisationen Herne")
    'Netzwerk<br>Migrantenselbstorganisationen Herne'
    >>> _wrapped("Jobcenter Herne")
    'Jobcenter Herne'
    """
    if len(name) <= width or " " not in name:
        return name
    blanks = [i for i, ch in enumerate(name) if ch == " "]
    cut = min(blanks, key=lambda i: abs(i - len(name) / 2))
    return name[:cut] + "<br>" + name[cut + 1:]


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
    rates = [outcome(d, "angenommen") / outcome(d, "beantwortet") if outcome(d, "beantwortet") else None
             for _, _, d in edges]
    acceptance_class = [len(_ACCEPTANCE) if rate is None else next(i for i, a in enumerate(_ACCEPTANCE) if rate < a[0])
                        for rate in rates]
    for cls, (upper, colour, de, en) in enumerate(_ACCEPTANCE + [(None, "#999999", "in das Case-Management / offen",
                                                                  "into case management / open")]):
        named = False   # the class's first drawn line carries its legend entry (plotly shows none for an empty trace)
        for w in range(4):
            xs, ys = [], []
            for (u, v, _), wc, k in zip(edges, width_class, acceptance_class):
                if k != cls or wc != w:
                    continue
                xs += [pos[u][0], pos[v][0], None]
                ys += [pos[u][1], pos[v][1], None]
            if not xs:
                continue
            traces.append(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=1 + 2.5 * w),
                                     hoverinfo="skip", opacity=0.75,
                                     name=tr({"de": f"Annahme {de}", "en": f"acceptance {en}"}) if upper else
                                     tr({"de": de, "en": en}), legendgroup=str(cls), showlegend=not named))
            named = True
    # nodes: one trace per legal domain so that the legend explains the sectors
    domains = sorted({a["rechtskreis"] for _, a in nodes}, key=lambda r: (r == "ohne", r))
    for i, rk in enumerate(domains):
        members = [n for n, a in nodes if a["rechtskreis"] == rk and not a["case_management"]]
        traces.append(go.Scatter(
            x=[pos[n][0] for n in members], y=[pos[n][1] for n in members], mode="markers+text",
            marker=dict(size=[10 + 3 * np.sqrt(g.degree(n, weight="n")) ** 0.5 for n in members],
                        color=_RK_COLOURS.get(rk, "#777777"), line=dict(color="#555", width=1)),
            text=[_wrapped(g.nodes[n]["name"]) for n in members], textposition=[side(n) for n in members],
            textfont=dict(size=10), customdata=[[g.nodes[n]["name"], codes.label("partnertyp", g.nodes[n]["typ"])]
                                                for n in members],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>", name=_rk_label(rk)))
    # the providers in the middle by number, named in the legend: their names among the links ran into each other
    for number, n in enumerate(sorted(centre, key=lambda n: g.nodes[n]["name"]), start=1):
        traces.append(go.Scatter(x=[pos[n][0]], y=[pos[n][1]], mode="markers+text",
                                 marker=dict(size=26, color="#0072B2", symbol="diamond", line=dict(color="white", width=1)),
                                 text=[str(number)], textposition="middle center", textfont=dict(size=11, color="white"),
                                 customdata=[g.nodes[n]["name"]], hovertemplate="%{customdata}<extra></extra>",
                                 name=f"{number} {g.nodes[n]['name']}", legendgroup="traeger",
                                 legendgrouptitle_text=tr({"de": "Case-Management-Träger", "en": "case-management providers"})))
    return _figure(traces, title=title or tr({"de": "Vermittlungsnetz", "en": "referral network"}), height=height,
                   xaxis=dict(visible=False, range=[-2.4, 2.4]), yaxis=dict(visible=False, range=[-1.2, 1.2]),
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
    if not links:   # plotly.js cannot draw a Sankey without links (the figure stayed blank, or kept the last one)
        return _figure([], title=title, height=min(height, 220), xaxis_visible=False, yaxis_visible=False,
                       annotations=[dict(text=tr({"de": f"Keine Verbindung mit mindestens {minimum} Fällen.",
                                                  "en": f"No link with at least {minimum} cases."}),
                                         xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False)])
    src, dst, val = (list(x) for x in zip(*links))
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
