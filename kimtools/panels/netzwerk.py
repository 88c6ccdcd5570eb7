"""The panel of ``dashboards/netzwerk.ipynb``: who refers to whom and what becomes of it."""

from __future__ import annotations

import functools
from concurrent.futures import Future
from typing import Iterable, Iterator

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..analysis import network as N
from ..analysis.network import partner_outliers, partner_table
from ..indicators.disclosure import count_text
from ..i18n import fmt_date, fmt_number, fmt_percent, tr
from ..present import figures as F
from ..present.labels import kennzahl_definition, kennzahl_label
from ..present.markup import gaps_html, outliers_html, tile, tiles
from ..store import Store
from ..views.netzwerk import district_fixed, network_base, network_key, network_key_figures, network_window
from .base import _built, _FilteredPanel
from .cache import _LookAhead, page_worker


class NetzwerkPanel(_FilteredPanel):
    """Who refers to whom and what becomes of it: tiles, network, funnel, gaps, partners that stand out,
    flows, legal domains and waiting times, for the twelve months up to the chosen quarter.

    Counts from 1 to ``minimum - 1`` are not shown; links under ``minimum`` are not drawn. The kommune's
    referrals are read once by month (:func:`~kimtools.analysis.network.referral_months`); a quarter or filter change
    cuts its window out of them. Open loops and gaps are read for the kommune and all its districts at once, per
    provider and target group; a district change asks the database nothing. After each change, once the page is
    drawn, the other districts and the neighbouring quarters are prepared in the background (:meth:`_look_ahead`),
    so that stepping through them only sends figures.
    """

    def __init__(self, store: Store | None = None, minimum: int = 3):
        self._bases: dict[tuple, Future] = {}   # open loops and gaps of every district, per kommune and filters
        self._fixed: dict[tuple, Future] = {}   # quarter-independent views per filter combination
        self._partners: dict[str, pd.DataFrame] = {}
        self._reader = page_worker()
        self._ahead = _LookAhead()
        self.gaps_html = widgets.HTML()
        self.outliers_html = widgets.HTML()
        if not self._start(store, minimum):
            return
        f = self.figures
        self.widget = self._page("netzwerk", network=f["network"], funnel=f["funnel"], gaps=self.gaps_html,
                                 outliers=self.outliers_html, sankey=f["sankey"], domains=f["domains"], waits=f["waits"])
        self._show_tables(self.filters.value)
        self._show_below(self.filters.value)

    def _views(self, v: dict) -> dict[str, object]:
        key = network_key(v)
        if getattr(self, "_key", None) != key:
            k, f = v["kommune"], {c: v[c] for c in ("stadtbezirk", "traeger", "zielgruppe")}
            if self._fixed and next(iter(self._fixed))[0] != k:   # kept for one kommune at a time
                self._fixed.clear()
                self._bases.clear()
                self._partners.clear()
                self._ahead.clear()
            prepared = self._ahead.take(key)
            if prepared is not None:
                self._data, self._key = prepared, key
                return self._data
            fixed_key, base_key = (k, *f.values()), (k, f["traeger"], f["zielgruppe"])
            if base_key not in self._bases:   # the database works on these while Python cuts out the window
                self._bases[base_key] = self._reader.submit(
                    network_base, self.store, k, {"traeger": f["traeger"], "zielgruppe": f["zielgruppe"]})
            if fixed_key not in self._fixed:   # after the base in the same single worker, so it is there
                base = self._bases[base_key]
                self._fixed[fixed_key] = self._reader.submit(lambda: district_fixed(base.result(), f["stadtbezirk"]))
            if k not in self._partners:

                self._partners[k] = partner_table(self.store, k)
            self._data = network_window(self.store, v, self._monthly_referrals(k), self._partners[k],
                                         self._fixed[fixed_key].result)
            self._key = key
        return self._data

    def _look_ahead(self, v: dict) -> None:
        """Prepare the views of the neighbouring filter values in the background (with this page's loops and gaps)."""
        k = v["kommune"]
        base = self._bases.get((k, v["traeger"], v["zielgruppe"]))
        if base is None or not base.done() or base.exception():
            return
        months, partners = self._monthly_referrals(k), self._partners[k]
        self._ahead.prepare({network_key(g): functools.partial(
            network_window, self.store, g, months, partners,
            functools.partial(district_fixed, base.result(), g["stadtbezirk"])) for g in self.filters.neighbours(v)})

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:

        d = self._views(v)
        window = tr({"de": f"{fmt_date(d['start'])} bis {fmt_date(d['end'])}", "en": f"{fmt_date(d['start'])} to {fmt_date(d['end'])}"})
        scope = ", ".join(x for x in (v["kommune"], v["stadtbezirk"]) if x)
        partner_names = dict(zip(d["partners"]["partner_id"], d["partners"]["name"]))
        return _built({
            "network": lambda: F.network_figure(d["graph"], minimum=self.minimum,
                                                title=tr({"de": f"{scope}: Vermittlungsnetz, {window}",
                                                          "en": f"{scope}: referral network, {window}"})),
            "funnel": lambda: F.referral_funnel(N.funnel(d["edges"]), minimum=self.minimum,
                                                title=tr({"de": f"Was aus Vermittlungen wird, {window}",
                                                          "en": f"what becomes of referrals, {window}"})),
            "sankey": lambda: F.referral_sankey(d["sankey"], partner_names, minimum=self.minimum),
            "domains": lambda: F.domain_heatmap(d["domains"], minimum=self.minimum),
            "waits": lambda: F.waiting_curves(d["waits"]),
        }, names)

    def _count(self, n) -> str:
        return count_text(n, self.minimum)

    def _show_tables(self, v: dict) -> None:

        d = self._views(v)
        k = network_key_figures(d, v["zeitraum"]).set_index("kennzahl")
        items = [tile(tr({"de": "Vermittlungen", "en": "referrals"}), self._count(k.loc["vermittlungen", "zaehler"]),
                      tr({"de": "in 12 Monaten", "en": "in 12 months"}), kennzahl_definition("vermittlungen"))]
        accepted, answered = k.loc["annahmequote", "zaehler"], k.loc["annahmequote", "nenner"]
        if answered >= self.minimum and accepted >= self.minimum and answered - accepted >= self.minimum:
            rate = fmt_percent(k.loc["annahmequote", "wert"])   # the unit once: 74–78 %
            note = f"95 %: {fmt_number(100 * k.loc['annahmequote', 'ki_unten'], 0)}–{fmt_percent(k.loc['annahmequote', 'ki_oben'])}"
        else:
            rate, note = "–", tr({"de": "zu wenige beantwortete", "en": "too few answered"})
        items.append(tile(kennzahl_label("annahmequote"), rate, note, kennzahl_definition("annahmequote")))
        loops = k.loc["offene_schleifen", "zaehler"]
        items.append(tile(kennzahl_label("offene_schleifen"), "–" if pd.isna(loops) else self._count(loops),
                          tr({"de": f"am Ende von {v['zeitraum']}", "en": f"at the end of {v['zeitraum']}"}),
                          kennzahl_definition("offene_schleifen")))
        med = k.loc["wartezeit_median_tage", "wert"]
        items.append(tile(kennzahl_label("wartezeit_median_tage"), "–" if pd.isna(med) else fmt_number(med, 0),
                          tr({"de": "Tage, Kaplan–Meier", "en": "days, Kaplan–Meier"}),
                          kennzahl_definition("wartezeit_median_tage")))
        self.tiles.value = tiles(items)

    def _show_below(self, v: dict) -> None:

        d = self._views(v)
        self.gaps_html.value = gaps_html(d["gaps"].head(8), self.minimum, kommune=v["kommune"])
        if "outliers" not in d:   # below the figures: computed while the browser draws them
            d["outliers"] = partner_outliers(d["edges"], d["waits"], d["partners"])
        self.outliers_html.value = outliers_html(d["outliers"])
        self._look_ahead(v)
