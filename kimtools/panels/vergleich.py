"""The panel of ``dashboards/vergleich.ipynb``: cities and districts compared from merged bundles."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from ..analysis.comparison import (
    bundle_units,
    comparable_indicators,
    peer_table,
    rate_text,
)
from ..errors import KimtoolsError
from ..exchange.bundle import default_comparison_dir, read_merged
from ..i18n import fmt_percent, tr
from ..indicators import KENNZAHLEN
from ..present.figures import funnel_plot, small_multiples
from ..present.labels import column_label, kennzahl_label
from ..present.markup import error_html, html_table
from .base import sections
from .plotview import PlotlyView


class VergleichPanel:
    """Cities, or all their districts, compared from merged comparison bundles (never from another city's
    cases): a funnel plot for one indicator and period, small multiples over the quarters and the peer
    table of all comparable indicators with deviations marked only where they are clear.
    ``folder``: merged tables of ``kimtools compare --out`` (default :func:`~kimtools.exchange.bundle.default_comparison_dir`).
    """

    def __init__(self, folder: str | Path | None = None):

        self.message = widgets.HTML()
        try:
            self.data = read_merged(folder or default_comparison_dir())
        except KimtoolsError as exc:
            self.message.value = error_html(exc)
            self.widget = widgets.VBox([self.message])
            return
        rates = self.data.kennzahlen
        present = [k for k in comparable_indicators() if k in set(rates["kennzahl"])]
        periods = sorted(set(rates["zeitraum"]), key=lambda p: (p[:4], len(p) == 4, p), reverse=True)
        years = [p for p in periods if len(p) == 4]
        style, wide = {"description_width": "initial"}, widgets.Layout(width="380px")
        self.level = widgets.Dropdown(options=[(tr({"de": "Kommunen", "en": "municipalities"}), "kommune"),
                                               (tr({"de": "Stadtbezirke aller Kommunen", "en": "districts of all municipalities"}),
                                                "stadtbezirk")], description=tr({"de": "Vergleich", "en": "compare"}), style=style)
        self.kennzahl = widgets.Dropdown(options=[(kennzahl_label(k), k) for k in present], style=style, layout=wide,
                                         value="reichweite_je_1000" if "reichweite_je_1000" in present else present[0],
                                         description=column_label("kennzahl"))
        self.zeitraum = widgets.Dropdown(options=periods, value=(years or periods)[0], style=style,
                                         description=column_label("zeitraum"))
        self.overdispersion = widgets.Checkbox(value=True, indent=False, description=tr(
            {"de": "Grenzen bei Überstreuung weiten", "en": "widen limits for over-dispersion"}))
        self.funnel, self.multiples = PlotlyView(), PlotlyView()
        self.table = widgets.HTML()
        self.bundles = widgets.HTML(self._bundles_html())
        for w in (self.level, self.kennzahl, self.zeitraum, self.overdispersion):
            w.observe(self.show, names="value")
        self.show()
        controls = widgets.HBox([self.level, self.kennzahl, self.zeitraum, self.overdispersion],
                                layout=widgets.Layout(flex_flow="row wrap", gap="8px"))
        self.widget = widgets.VBox([
            controls, self.message, self.funnel,
            *sections("vergleich", time=self.multiples, table=self.table, bundles=self.bundles)])

    def _bundles_html(self) -> str:
        p = self.data.pakete.assign(anteil=lambda f: f["anteil_geschuetzt"].map(lambda v: fmt_percent(v, 1)))
        return html_table(p, ["kommune", "von", "bis", "zellen", "geschuetzt", "anteil"])

    def show(self, _change=None) -> None:

        try:
            k, period, level = self.kennzahl.value, self.zeitraum.value, self.level.value
            kind, scale = comparable_indicators()[k]
            rates = self.data.kennzahlen
            rows = bundle_units(rates.loc[(rates["kennzahl"] == k) & (rates["zeitraum"] == period)], level)
            name = tr({"de": "Kommunen", "en": "municipalities"}) if level == "kommune" else tr(
                {"de": "Stadtbezirke", "en": "districts"})
            self.funnel.show(funnel_plot(rows, "einheit", kind=kind, scale=scale,
                                         use_overdispersion=self.overdispersion.value,
                                         title=f"{kennzahl_label(k)}: {name}, {period}", value_label=kennzahl_label(k),
                                         denominator_label=tr({"de": KENNZAHLEN[k]["nenner_de"], "en": KENNZAHLEN[k]["nenner_en"]})))
            over_time = bundle_units(rates.loc[(rates["kennzahl"] == k) & (rates["zeitraum"].str.len() == 7)], "kommune")
            self.multiples.show(small_multiples(over_time, "einheit", k,
                                                title=f"{kennzahl_label(k)} {tr({'de': 'je Quartal', 'en': 'by quarter'})}"))
            peers = (period, level, self.overdispersion.value)   # all indicators: the same whichever is chosen
            if getattr(self, "_peers", None) != peers:
                self.table.value = self._peer_html(bundle_units(rates.loc[rates["zeitraum"] == period], level))
                self._peers = peers
            self.message.value = ""
        except Exception as exc:   # Voilà shows no traceback; a traceback could show data
            self.message.value = error_html(exc)

    def _peer_html(self, rows: pd.DataFrame) -> str:

        t = peer_table(rows, "einheit", use_overdispersion=self.overdispersion.value)
        if t.empty:
            return ""
        marks = {"ueber_99,8": " ▲▲", "ueber_95": " ▲", "unter_95": " ▼", "unter_99,8": " ▼▼", "innerhalb": ""}
        num = rate_text   # shares in per cent, rates with one decimal
        wide = t.assign(text=[num(r.wert, r.kennzahl) + marks[r.lage] for r in t.itertuples()]).pivot(
            index="einheit", columns="kennzahl", values="text")
        spread = t.groupby("kennzahl")[["median", "q1", "q3"]].first()
        wide.loc[tr({"de": "Median (Quartile)", "en": "median (quartiles)"})] = {
            k: f"{num(r['median'], k)} ({num(r['q1'], k)}–{num(r['q3'], k)})" for k, r in spread.iterrows()}
        wide = wide.reset_index().rename(columns={"einheit": tr({"de": "Einheit", "en": "unit"})})
        wide.columns = [kennzahl_label(c) for c in wide.columns]
        note = tr({"de": "▲/▼ außerhalb der 95-%-Grenzen, ▲▲/▼▼ außerhalb der 99,8-%-Grenzen; sonst kein klarer Unterschied.",
                   "en": "▲/▼ outside the 95 % limits, ▲▲/▼▼ outside the 99.8 % limits; otherwise no clear difference."})
        return html_table(wide, formatters={c: str for c in wide.columns[1:]}) + f"<p>{html.escape(note)}</p>"
