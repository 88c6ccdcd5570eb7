"""The panel of ``dashboards/vergleich.ipynb``: cities and districts compared from merged bundles, and a city's own
districts from its store (protected as its bundle would be) where no bundle covers it."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..analysis.comparison import bundle_units, comparable_indicators, peer_table, rate_text
from ..errors import KimtoolsError
from ..exchange.bundle import OWN_SOURCE
from ..i18n import fmt_percent, tr
from ..indicators import KENNZAHLEN
from ..present.figures import district_map, funnel_plot, small_multiples
from ..present.labels import column_label, kennzahl_label, with_units
from ..present.markup import error_html, html_table
from ..store.zugriffe import current_person, log_access
from ..store import Store
from ..views.karten import district_shapes
from ..views.vergleich import comparison_data
from .base import name_units, sections
from .plotview import PlotlyView


class VergleichPanel:
    """Cities, or all their districts, compared from merged comparison bundles (never from another city's
    cases) and, for each kommune of the store that no bundle covers, from its own data protected exactly as its
    bundle would be (:func:`~kimtools.views.vergleich.comparison_data`): a funnel plot for one indicator and period,
    a map of one kommune's districts where their boundaries are known, small multiples over the quarters and the peer
    table of all comparable indicators with deviations marked only where they are clear.
    ``folder``: merged tables of ``kimtools compare --out`` (default :func:`~kimtools.exchange.bundle.default_comparison_dir`);
    ``store``: the own store (default: the configured one).
    """

    def __init__(self, folder: str | Path | None = None, store: Store | None = None):

        self.message, self.notes = widgets.HTML(), widgets.HTML()
        self.store = store if store is not None else Store()
        log_access(self.store.path, current_person(), "vergleich", None)   # the page shows bundles and own kommunen
        try:
            self.data, notes = comparison_data(self.store, folder, show_progress=True)
        except KimtoolsError as exc:
            self.message.value = error_html(exc)
            self.widget = widgets.VBox([self.message])
            return
        self.notes.value = "".join(f"<p class='kim-note'><b>{html.escape(n)}</b></p>" for n in notes)
        rates = self.data.kennzahlen
        self.single = rates["kommune"].nunique() == 1
        present = [k for k in comparable_indicators() if k in set(rates["kennzahl"])]
        periods = sorted(set(rates["zeitraum"]), key=lambda p: (p[:4], len(p) == 4, p), reverse=True)
        years = [p for p in periods if len(p) == 4]
        style, wide = {"description_width": "initial"}, widgets.Layout(width="380px")
        self.parts = self._parts_word(sorted(set(rates["kommune"])))
        districts = tr({"de": f"{self.parts} aller Kommunen", "en": f"{self.parts} of all municipalities"})
        if self.single:   # one kommune: its districts (a Kreis: its Gemeinden) are what there is to compare
            districts = tr({"de": f"{self.parts} von {rates['kommune'].iloc[0]}", "en": f"{self.parts} of {rates['kommune'].iloc[0]}"})
        levels = [(districts, "stadtbezirk")] if self.single else [
            (tr({"de": "Kommunen", "en": "municipalities"}), "kommune"), (districts, "stadtbezirk")]
        self.level = widgets.Dropdown(options=levels, description=tr({"de": "Vergleich", "en": "compare"}), style=style)
        self.kennzahl = widgets.Dropdown(options=[(kennzahl_label(k), k) for k in present], style=style, layout=wide,
                                         value="reichweite_je_1000" if "reichweite_je_1000" in present else present[0],
                                         description=column_label("kennzahl"))
        self.zeitraum = widgets.Dropdown(options=periods, value=(years or periods)[0], style=style,
                                         description=column_label("zeitraum"))
        self.overdispersion = widgets.Checkbox(value=True, indent=False, description=tr(
            {"de": "Grenzen bei Überstreuung weiten", "en": "widen limits for over-dispersion"}))
        own = set(self.data.pakete.loc[self.data.pakete["quelle"] == OWN_SOURCE, "kommune"])   # maybe own boundaries
        self.shapes = {k: s for k in sorted(set(rates["kommune"]))
                       if len(s := district_shapes(self.store if k in own else None, k))}
        self.map_of = widgets.Dropdown(options=list(self.shapes), style=style,
                                       description=tr({"de": "Karte von", "en": "map of"}))
        self.funnel, self.multiples, self.map = PlotlyView(), PlotlyView(), PlotlyView()
        no_map = tr({"de": "Für keine der verglichenen Kommunen sind Bezirksgrenzen hinterlegt (kimtools bezirke --karte DATEI).",
                     "en": "No boundaries are known for any municipality compared (kimtools bezirke --map FILE)."})
        self.map_note = widgets.HTML("" if self.shapes else f"<p class='kim-note'>{html.escape(no_map)}</p>")
        self.table = widgets.HTML()
        self.bundles = widgets.HTML(self._bundles_html())
        for w in (self.level, self.kennzahl, self.zeitraum, self.overdispersion, self.map_of):
            w.observe(self.show, names="value")
        self.show()
        controls = widgets.HBox([self.level, self.kennzahl, self.zeitraum, self.overdispersion],
                                layout=widgets.Layout(flex_flow="row wrap", gap="8px"))
        self.widget = widgets.VBox([
            controls, self.notes, self.message, self.funnel,
            *sections("vergleich", self.map_of.value, map=(self.map_of, self.map, self.map_note) if self.shapes else self.map_note,
                      time=self.multiples, table=self.table, bundles=self.bundles)])

    @staticmethod
    def _parts_word(kommunen: list[str]) -> str:
        """What the compared kommunen's sub-units are called: Stadtbezirke, Gemeinden (of Kreise) or both."""
        words = list(dict.fromkeys(with_units({"de": "{Bezirke}", "en": "{districts}"}, k) for k in kommunen))
        return tr({"de": " und ", "en": " and "}).join(words)

    def _bundles_html(self) -> str:
        p = self.data.pakete.assign(anteil=lambda f: f["anteil_geschuetzt"].map(lambda v: fmt_percent(v, 1)))
        return html_table(p, ["kommune", "von", "bis", "zellen", "geschuetzt", "anteil"])

    def show(self, _change=None) -> None:

        try:
            k, period, level = self.kennzahl.value, self.zeitraum.value, self.level.value
            kind, scale = comparable_indicators()[k]
            rates = self.data.kennzahlen
            chosen = rates.loc[(rates["kennzahl"] == k) & (rates["zeitraum"] == period)]
            rows = bundle_units(chosen, level)
            name = tr({"de": "Kommunen", "en": "municipalities"}) if level == "kommune" else self.parts
            self.funnel.show(funnel_plot(rows, "einheit", kind=kind, scale=scale,
                                         use_overdispersion=self.overdispersion.value,
                                         title=f"{kennzahl_label(k)}: {name}, {period}", value_label=kennzahl_label(k),
                                         denominator_label=tr({"de": KENNZAHLEN[k]["nenner_de"], "en": KENNZAHLEN[k]["nenner_en"]})))
            if self.shapes:
                self.map.show(self._map(chosen, k, period, scale))
                if hasattr(self, "widget"):
                    name_units(self.widget, self.map_of.value)
            over_time = bundle_units(rates.loc[(rates["kennzahl"] == k) & (rates["zeitraum"].str.len() == 7)],
                                     "stadtbezirk" if self.single else "kommune")
            self.multiples.show(small_multiples(over_time, "einheit", k,
                                                title=f"{kennzahl_label(k)} {tr({'de': 'je Quartal', 'en': 'by quarter'})}"))
            peers = (period, level, self.overdispersion.value)   # all indicators: the same whichever is chosen
            if getattr(self, "_peers", None) != peers:
                self.table.value = self._peer_html(bundle_units(rates.loc[rates["zeitraum"] == period], level))
                self._peers = peers
            self.message.value = ""
        except Exception as exc:   # Voilà shows no traceback; a traceback could show data
            self.message.value = error_html(exc)

    def _map(self, chosen: pd.DataFrame, kennzahl: str, period: str, scale: float) -> go.Figure:
        """The chosen kommune's districts by their place in the funnel around the kommune's own rate (its ``Gesamt``
        row: districts whose counts the bundle protects still count in it)."""
        kommune = self.map_of.value
        mine = chosen.loc[chosen["kommune"] == kommune]
        whole = mine.loc[mine["stadtbezirk"] == "Gesamt", "wert"]
        target = float(whole.iloc[0]) / scale if len(whole) and pd.notna(whole.iloc[0]) else None
        return district_map(self.shapes[kommune], mine.loc[mine["stadtbezirk"] != "Gesamt"], kennzahl,
                            target=target, title=with_units(
                                {"de": f"{kommune}: {kennzahl_label(kennzahl)} je {{Bezirk}}, {period}",
                                 "en": f"{kommune}: {kennzahl_label(kennzahl)} by {{district}}, {period}"}, kommune))

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
