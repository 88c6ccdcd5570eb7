"""The steering committee's decisions drawn: the list as a person reads it (``kimtools beschluesse liste``, the
page, the printout), and a small figure per implemented decision (its indicator per quarter, the decision and its
implementation marked, the two windows with their intervals). The frames come from :mod:`kimtools.views.beschluesse`.

The words say what changed, never why: a verdict is "besser", "schlechter" or "keine klare Veränderung" only.
"""

from __future__ import annotations

import html
from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.beschluesse import VERDICTS
from ..contract import codes
from ..contract.catalogue import CATALOGUE
from ..i18n import current_lang, fmt_date, fmt_number, fmt_percent, plotly_separators, tr
from ..periods import quarter_label
from ..indicators.disclosure import DEFAULT_MINIMUM
from .figures.style import PALETTE, TEMPLATE
from .labels import column_label, is_share, kennzahl_label
from .markup import CSS
from .pages import section_title

__all__ = ["LIST_COLUMNS", "DATE_COLUMNS", "decision_list", "decisions_html", "decisions_summary_html", "decisions_figure",
           "value_text", "NO_LIST"]

#: the list's columns as ``kimtools beschluesse liste`` writes them: key → (German, English)
LIST_COLUMNS: dict[str, tuple[str, str]] = {
    "beschluss_id": ("Beschluss", "decision"), "titel": ("Titel", "title"), "gremium": ("Gremium", "body"),
    "datum": ("beschlossen am", "decided on"), "zustaendig": ("zuständig", "responsible"),
    "status": ("Status", "status"), "frist": ("Frist", "due"), "ueberfaellig": ("überfällig", "overdue"),
    "umgesetzt_am": ("umgesetzt am", "implemented on"), "kennzahl": ("Kennzahl", "indicator"),
    "bereich": ("Bereich", "scope"), "richtung": ("besser, wenn sie", "better when it"),
    "zielwert": ("Zielwert", "target"),
    "vorher": ("vorher", "before"), "vorher_unten": ("vorher, untere Grenze", "before, lower bound"),
    "vorher_oben": ("vorher, obere Grenze", "before, upper bound"),
    "vorher_zeitraum": ("vorher: Quartale", "before: quarters"),
    "nachher": ("nachher", "after"), "nachher_unten": ("nachher, untere Grenze", "after, lower bound"),
    "nachher_oben": ("nachher, obere Grenze", "after, upper bound"),
    "nachher_zeitraum": ("nachher: Quartale", "after: quarters"),
    "urteil": ("Veränderung (95-%-Intervalle)", "change (95 % intervals)"),
}
#: the list's columns that hold a date
DATE_COLUMNS = ("datum", "frist", "umgesetzt_am")
#: what a page says where no list has been read
NO_LIST = {"de": "Noch keine Beschlussliste eingelesen: „kimtools beschluesse einlesen DATEI“ oder Notebook 07.",
           "en": "No list of decisions read yet: 'kimtools beschluesse einlesen FILE' or notebook 07."}


def value_text(kennzahl: str, value: float, lang: str | None = None) -> str:
    """A value of ``kennzahl`` as a person reads it: a share in per cent, anything else with one decimal.

    >>> value_text("annahmequote", 0.625).replace("\xa0", " "), value_text("neuzugaenge", 4.5)   # the space does not break
    ('62,5 %', '4,5')
    """
    if value is None or pd.isna(value):
        return "–"
    return fmt_percent(value, 1, lang) if is_share(kennzahl) else fmt_number(value, 1, lang)


def _window_text(d, name: str, lang: str | None = None) -> str:
    """``4,5 je Quartal (2,7–7,1)``, or why there is no value."""
    if d[f"{name}_quartale"] == 0 or pd.isna(d[f"{name}_quartale"]):
        return "–"
    if d[f"{name}_geschuetzt"]:
        return tr({"de": "zu wenige, nicht gezeigt", "en": "too few, not shown"}, lang)
    k = d["kennzahl"]
    text = value_text(k, d[name], lang)
    if CATALOGUE[k].is_count:
        text += tr({"de": " je Quartal", "en": " per quarter"}, lang)
    if not pd.isna(d[f"{name}_unten"]):
        text += f" ({value_text(k, d[f'{name}_unten'], lang)}–{value_text(k, d[f'{name}_oben'], lang)})"
    return text


def _quarters_text(d, name: str) -> str:
    n = d[f"{name}_quartale"]
    if pd.isna(n) or n == 0:
        return ""
    return f"{d[f'{name}_von']} – {d[f'{name}_bis']} ({int(n)})"


def _scope(d, partners: Mapping[str, str], lang: str | None = None) -> str:
    """Where the indicator is followed: the kommune or a district, and a breakdown's value by its label."""
    parts = [d["stadtbezirk"] if isinstance(d["stadtbezirk"], str) else tr({"de": "ganze Kommune", "en": "whole kommune"}, lang)]
    m, a = d["merkmal"], d["auspraegung"]
    if isinstance(m, str):
        lists = {"partner_typ": "partnertyp"}
        name = lists.get(m, m)
        shown = (partners.get(a, a) if m in ("an_partner", "traeger") else
                 codes.label(name, a, lang) if name in codes.CODE_LISTS and a in codes.CODE_LISTS[name] else a)
        parts.append(f"{column_label(m, lang)}: {shown}")
    return "; ".join(parts)


def decision_list(decisions: pd.DataFrame, partners: Mapping[str, str] | None = None, typed: bool = False,
                  lang: str | None = None) -> pd.DataFrame:
    """The decisions (rows of :func:`kimtools.views.beschluesse.decision_views`) with the columns of
    :data:`LIST_COLUMNS` under their German (or English) names: codes as labels, dates and numbers as a person reads
    them, or, ``typed``, as numbers and dates a spreadsheet can compute with."""
    partners = partners or {}
    lang = lang or current_lang()
    yes, no = tr({"de": "ja", "en": "yes"}, lang), tr({"de": "nein", "en": "no"}, lang)
    rows = []
    for d in decisions.to_dict("records"):
        followed = isinstance(d["kennzahl"], str)
        date = (lambda v: None if pd.isna(v) else pd.Timestamp(v).date()) if typed else \
            (lambda v: "" if pd.isna(v) else fmt_date(pd.Timestamp(v).date(), lang))
        row = {"beschluss_id": d["beschluss_id"], "titel": d["titel"],
               "gremium": codes.label("gremium", d["gremium"], lang), "datum": date(d["datum"]),
               "zustaendig": partners.get(d["zustaendig"], d["zustaendig"]) if isinstance(d["zustaendig"], str) else "",
               "status": codes.label("beschluss_status", d["status"], lang), "frist": date(d["frist"]),
               "ueberfaellig": yes if d["ueberfaellig"] else no, "umgesetzt_am": date(d["umgesetzt_am"]),
               "kennzahl": kennzahl_label(d["kennzahl"], lang) if followed else "",
               "bereich": _scope(d, partners, lang) if followed else "",
               "richtung": codes.label("richtung", d["richtung"], lang) if followed else "",
               "zielwert": (d["zielwert"] if typed else value_text(d["kennzahl"], d["zielwert"], lang))
               if followed and not pd.isna(d["zielwert"]) else ("" if not typed else None)}
        for name in ("vorher", "nachher"):
            if typed:
                hidden = not followed or d[f"{name}_geschuetzt"] is True
                row.update({k: None if hidden or pd.isna(d[k]) else round(float(d[k]), 4)
                            for k in (name, f"{name}_unten", f"{name}_oben")})
            else:
                row[name] = _window_text(d, name, lang) if followed else ""
            row[f"{name}_zeitraum"] = _quarters_text(d, name) if followed else ""
        row["urteil"] = tr(VERDICTS[d["urteil"]], lang) if followed and isinstance(d["urteil"], str) else ""
        rows.append(row)
    keys = [k for k in LIST_COLUMNS if typed or not k.endswith(("_unten", "_oben"))]
    out = pd.DataFrame(rows, columns=keys)
    return out.rename(columns={k: tr(LIST_COLUMNS[k], lang) for k in keys})


_GROUP_TITLES = {"ueberfaellig": ("Überfällig", "Overdue"), "laufend": ("Offen oder in Umsetzung", "Open or being implemented"),
                 "umgesetzt": ("Umgesetzt: vorher und nachher", "Implemented: before and after")}
_GROUP_COLUMNS = {"ueberfaellig": ["beschluss_id", "titel", "frist", "status", "zustaendig", "kennzahl"],
                  "laufend": ["beschluss_id", "titel", "frist", "status", "zustaendig", "kennzahl"],
                  "umgesetzt": ["beschluss_id", "titel", "umgesetzt_am", "kennzahl", "bereich", "vorher", "nachher", "urteil"]}


def _plain(frame: pd.DataFrame, keys: list[str]) -> str:
    """A table of display strings with the list's headings."""
    shown = frame[[tr(LIST_COLUMNS[k]) for k in keys]]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    nowrap = " style='white-space:nowrap'"   # an ID stays on one line
    body = "".join("<tr>" + "".join(f"<td{nowrap if i == 0 else ''}>{html.escape(str(v))}</td>" for i, v in enumerate(r))
                   + "</tr>" for r in shown.itertuples(index=False))
    return f"{CSS}<table class='kim-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def decisions_html(views: Mapping[str, object], partners: Mapping[str, str] | None = None) -> str:
    """The part "Beschlüsse und ihre Wirkung": the overdue decisions, then those open or being implemented, then the
    implemented with their indicator before and after, then how many were rejected; the day overdue is judged on."""
    d: pd.DataFrame = views["decisions"]
    note = lambda text: f"<p class='kim-note'>{html.escape(text)}</p>"  # noqa: E731
    if d.empty:
        return note(tr(NO_LIST))
    shown = decision_list(d, partners)
    parts = []
    for group, (de, en) in _GROUP_TITLES.items():
        mine = (d["gruppe"] == group).to_numpy()
        if mine.any():
            parts.append(f"<p class='kim-caption'><b>{html.escape(tr((de, en)))} ({int(mine.sum())})</b></p>"
                         + _plain(shown.loc[mine], _GROUP_COLUMNS[group]))
    rejected = int((d["gruppe"] == "verworfen").sum())
    today = fmt_date(views["today"])
    parts.append(note(tr({
        "de": f"Verworfen: {rejected}. Überfällig: Frist vor dem {today}, weder umgesetzt noch verworfen. Vorher: die "
              "vier vollständigen Quartale vor dem Beschluss; nachher: bis zu vier vollständige Quartale nach der "
              "Umsetzung; Anzahlen als Mittel je Quartal, Quoten über den Zeitraum zusammengefasst, jeweils mit "
              "95-%-Intervall. „Besser“ oder „schlechter“ nur, wo sich die Intervalle nicht überschneiden – das sagt, "
              "dass sich die Kennzahl verändert hat, nicht, dass der Beschluss es bewirkt hat.",
        "en": f"Rejected: {rejected}. Overdue: due before {today}, neither implemented nor rejected. Before: the four "
              "complete quarters before the decision; after: up to four complete quarters after its implementation; "
              "counts as the mean per quarter, rates pooled over the period, each with its 95 % interval. 'Better' or "
              "'worse' only where the intervals do not overlap – that says the indicator changed, not that the "
              "decision caused it."})))
    return "".join(parts)


def decisions_summary_html(views: Mapping[str, object], limit: int = 3) -> str:
    """The part in one line, for the printout's two pages: how many decisions stand how, the overdue ones by ID (at
    most ``limit``, the most overdue first), and where the list is (the annex)."""
    d: pd.DataFrame = views["decisions"]
    n = d["gruppe"].value_counts()
    late = d.loc[d["gruppe"] == "ueberfaellig"].sort_values("frist")
    named = ", ".join(f"{r.beschluss_id} ({fmt_date(pd.Timestamp(r.frist).date())})" for r in late.head(limit).itertuples())
    more = " …" if len(late) > limit else ""
    line = tr({"de": f"{len(d)} Beschlüsse: {n.get('ueberfaellig', 0)} überfällig{f' – {named}{more}' if named else ''}; "
                     f"{n.get('laufend', 0)} offen oder in Umsetzung, {n.get('umgesetzt', 0)} umgesetzt, "
                     f"{n.get('verworfen', 0)} verworfen. Die Liste mit Vorher und Nachher steht in der Anlage.",
               "en": f"{len(d)} decisions: {n.get('ueberfaellig', 0)} overdue{f' – {named}{more}' if named else ''}; "
                     f"{n.get('laufend', 0)} open or being implemented, {n.get('umgesetzt', 0)} implemented, "
                     f"{n.get('verworfen', 0)} rejected. The list with before and after is in the annex."})
    if d.empty:
        line = tr(NO_LIST)
    heading = section_title("lenkungskreis", "decisions")
    return f"<p class='kim-note'><b>{html.escape(heading)}:</b> {html.escape(line)}</p>"


def _masked(rows: pd.DataFrame, minimum: int) -> pd.Series:
    """The quarterly values to draw: a value resting on a small count (1 … minimum − 1) is left out."""
    z = rows["zaehler"].astype("Float64")
    return rows["wert"].astype("Float64").mask((z > 0) & (z < minimum)).astype(float)


def decisions_figure(views: Mapping[str, object], minimum: int = DEFAULT_MINIMUM) -> go.Figure:
    """A small figure per implemented decision with an indicator: its value per quarter (dots and a line, small counts
    left out), the quarter of the decision and of its implementation marked, and each window's value as a bar across
    its quarters with its 95 % interval as a band."""
    d: pd.DataFrame = views["decisions"]
    done = d.loc[(d["gruppe"] == "umgesetzt") & d["kennzahl"].notna()]
    if done.empty:
        fig = go.Figure(layout={"template": TEMPLATE, "height": 120, "xaxis_visible": False, "yaxis_visible": False})
        fig.add_annotation(text=tr({"de": "Noch kein umgesetzter Beschluss mit Kennzahl.",
                                    "en": "No implemented decision with an indicator yet."}),
                           showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        return fig
    series: pd.DataFrame = views["series"]
    titles = [f"{r.beschluss_id}: {kennzahl_label(r.kennzahl)} – {r.titel}"[:90] for r in done.itertuples()]
    fig = make_subplots(rows=len(done), cols=1, subplot_titles=titles, vertical_spacing=0.5 / max(len(done), 1) if len(done) > 1 else 0.1)
    for title in fig.layout.annotations:   # the subplots' titles, smaller than a figure's
        title.font.size = 12
    before, after = tr({"de": "vorher", "en": "before"}), tr({"de": "nachher", "en": "after"})
    for i, r in enumerate(done.to_dict("records"), start=1):
        rows = series.loc[series["beschluss_id"] == r["beschluss_id"]]
        quarters = rows["zeitraum"].tolist()
        y = _masked(rows, minimum)
        pct = 100 if is_share(r["kennzahl"]) else 1
        fig.add_trace(go.Scatter(x=quarters, y=y * pct, mode="lines+markers", line=dict(color=PALETTE[0], width=1.5),
                                 marker=dict(size=4), name=kennzahl_label(r["kennzahl"]), showlegend=False,
                                 hovertemplate="%{x}: %{y:.1f}" + (" %" if pct == 100 else "") + "<extra></extra>"),
                      row=i, col=1)
        for name, colour, label in (("vorher", PALETTE[1], before), ("nachher", PALETTE[2], after)):
            if not r[f"{name}_quartale"] or r[f"{name}_geschuetzt"] or pd.isna(r[name]):
                continue
            span = [r[f"{name}_von"], r[f"{name}_bis"]]
            if not pd.isna(r[f"{name}_unten"]):
                fig.add_trace(go.Scatter(x=span + span[::-1], y=np.array([r[f"{name}_oben"]] * 2 + [r[f"{name}_unten"]] * 2) * pct,
                                         mode="lines", fill="toself", fillcolor=colour, opacity=0.25, line=dict(width=0),
                                         hoverinfo="skip", showlegend=False), row=i, col=1)
            fig.add_trace(go.Scatter(x=span, y=[r[name] * pct] * 2, mode="lines+text", line=dict(color=colour, width=3),
                                     text=[label, ""], textposition="top right", showlegend=False,
                                     hovertemplate=f"{label}: %{{y:.1f}}<extra></extra>"), row=i, col=1)
        decided, done_in = (quarter_label(pd.Timestamp(w).to_period("Q")) for w in (r["datum"], r["umgesetzt_am"]))
        marks = ([(decided, tr({"de": "Beschluss und Umsetzung", "en": "decided and implemented"}), "top left")]
                 if decided == done_in else [(decided, tr({"de": "Beschluss", "en": "decision"}), "top left"),
                                             (done_in, tr({"de": "umgesetzt", "en": "implemented"}), "top right")])
        for label, text, where in marks:   # the decision's label left of its line, the implementation's right of its
            if label in quarters:
                fig.add_vline(x=quarters.index(label), line_dash="dot", line_color="#555", row=i, col=1,
                              annotation_text=text, annotation_position=where, annotation_font_size=10)
        fig.update_xaxes(type="category", tickangle=0, tickfont_size=9, row=i, col=1,
                         tickvals=[q for q in quarters if q.endswith("Q1")])
        fig.update_yaxes(title_text="%" if pct == 100 else None, rangemode="tozero", row=i, col=1)
    fig.update_layout(template=TEMPLATE, separators=plotly_separators(), height=90 + 200 * len(done),
                      margin=dict(t=90, b=20), showlegend=False)
    return fig
