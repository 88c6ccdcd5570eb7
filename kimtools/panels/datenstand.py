"""The panel of ``dashboards/datenstand.ipynb``: what the store holds per kommune."""

from __future__ import annotations

import functools
import html

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..errors import KimtoolsError
from ..indicators.disclosure import mask_small
from ..i18n import fmt_date, fmt_number, fmt_percent, tr
from ..indicators import indicator_table
from ..ingest.quality import stored_quality
from ..present.figures import counts_over_time
from ..present.markup import error_html, html_table
from ..store.zugriffe import current_person, log_access
from ..store import Store
from ..store.deliveries import complete_until
from .base import _small
from .filterbar import kommune_dropdown
from .plotview import PlotlyView


class DatenstandPanel:
    """What the store holds per kommune: counts, data-quality summary, import log and intake over time.

    Everything shown is aggregated; counts from 1 to 2 are shown as "< 3". The data-quality summary is the one
    recorded at each kommune's import (:func:`~kimtools.ingest.quality.stored_quality`): the page never reads every case of the
    state (that took a gigabyte).
    """

    def __init__(self, store: Store | None = None, minimum: int = 3):
        self.store = store or Store()
        self.minimum = minimum
        self.message = widgets.HTML()
        self._quality: dict[str, pd.DataFrame] = {}
        try:
            with self.store.snapshot():
                self.info = self.store.info()
                self.log = self.store.import_log()
                self.deliveries = self.store.delivery_state()
                self.indicators = indicator_table(self.store, by="kommune", period="quarter",
                                                  kennzahlen=["neuzugaenge", "faelle_offen"])  # all the figure draws
        except KimtoolsError as exc:
            self.info = pd.DataFrame(columns=["kommune"])
            self.deliveries = pd.DataFrame(columns=["kommune"])
            self.message.value = error_html(exc)
        kommunen = self.info["kommune"].tolist()
        self.dropdown = kommune_dropdown(kommunen)
        self.summary = widgets.HTML()
        self.quality_html = widgets.HTML()
        self.log_html = widgets.HTML()
        self.deliveries_html = widgets.HTML()
        self.figure = PlotlyView(self._figure(kommunen[0]) if kommunen else None)
        self.dropdown.observe(lambda change: self.show(change["new"]), names="value")
        log_access(self.store.path, current_person(), "datenstand", kommunen[0] if kommunen else None)
        self.widget = widgets.VBox([
            self.message, self.dropdown,
            widgets.HTML(f"<h3>{tr({'de': 'Was der Datenbestand enthält', 'en': 'What the store holds'})}</h3>"),
            self.summary, self.figure,
            widgets.HTML(f"<h3>{tr({'de': 'Lieferungen je Träger', 'en': 'Deliveries per provider'})}</h3>"),
            self.deliveries_html,
            widgets.HTML(f"<h3>{tr({'de': 'Datenqualität', 'en': 'Data quality'})}</h3>"), self.quality_html,
            widgets.HTML(f"<h3>{tr({'de': 'Importprotokoll', 'en': 'Import log'})}</h3>"), self.log_html,
        ])
        if kommunen:
            self.show(kommunen[0])

    def show(self, kommune: str) -> None:
        log_access(self.store.path, current_person(), "datenstand", kommune)
        try:
            self._show(kommune)
            self.message.value = ""
        except Exception as exc:  # noqa: BLE001 - a callback must never fail silently
            self.message.value = error_html(exc)

    def _show(self, kommune: str) -> None:
        info = self.info.loc[self.info["kommune"] == kommune]
        self.summary.value = html_table(info, ["faelle", "beratungen", "vermittlungen", "partner", "vzae_aktuell", "daten_von",
                                               "daten_bis", "letzter_import", "quelle"])
        if kommune not in self._quality:
            self._quality[kommune] = stored_quality(self.store, kommune)
        q = self._quality[kommune].copy()
        counts = ["ohne_beratung", "vermittlungen_offen_30", "doku_luecken_monate", "parallele_faelle"]
        for c in counts:
            q[c] = mask_small(q[c], self.minimum)
        pct = functools.partial(fmt_percent, decimals=1)
        self.quality_html.value = html_table(q, ["stichtag", *counts, "vollstaendigkeit"],
                                             {**{c: _small for c in counts}, "vollstaendigkeit": pct})
        self.deliveries_html.value = self._deliveries_html(kommune)
        log = self.log.loc[self.log["kommune"] == kommune].head(10)
        self.log_html.value = html_table(log, ["zeitpunkt", "quelle", "datenstand", "n_faelle", "n_beratungen",
                                               "n_vermittlungen", "kimtools_version"],
                                         {c: lambda v: fmt_number(int(v)) for c in ("n_faelle", "n_beratungen", "n_vermittlungen")})
        self.figure.show(self._figure(kommune))

    def _deliveries_html(self, kommune: str) -> str:
        """Per provider the last delivery covering it, its data end and its rows; a note when the kommune's data are
        not yet complete for every provider (the periods after that day are marked on every page)."""
        state = self.deliveries.loc[self.deliveries["kommune"] == kommune].copy()
        if state.empty:
            return ""
        counts = ["faelle", "beratungen", "vermittlungen"]   # of persons' cases; posts are no one's secret
        for c in counts:
            state[c] = mask_small(state[c], self.minimum)
        state["umfang"] = state["umfang"].map(
            lambda u: u if isinstance(u, str) and u else tr({"de": "ganze Kommune", "en": "whole kommune"}))
        table = html_table(state, ["traeger", "name", "letzte_lieferung", "umfang", "datenende", *counts, "stellen"],
                           {c: _small for c in counts})
        until = complete_until(state)
        if until.empty or not (until["vollstaendig_bis"] < until["datenende"]).any():
            return table
        u = until.iloc[0]
        note = tr({"de": f"Von allen Trägern geliefert bis {fmt_date(u['vollstaendig_bis'])}; noch ausstehend: "
                         f"{u['nachzuegler']}. Zeiträume danach sind unvollständig und überall markiert.",
                   "en": f"Delivered by every provider up to {fmt_date(u['vollstaendig_bis'])}; outstanding: "
                         f"{u['nachzuegler']}. Periods after that are incomplete and marked everywhere."})
        return table + f"<p class='kim-note'>{html.escape(note)}</p>"

    def _figure(self, kommune: str) -> go.Figure:
        rows = self.indicators.loc[self.indicators["kommune"] == kommune]
        title = tr({"de": f"{kommune}: Neuzugänge und offene Fälle je Quartal",
                    "en": f"{kommune}: new and open cases per quarter"})
        fig = counts_over_time(rows, title=title, minimum=self.minimum)
        fig.update_layout(height=420)
        return fig
