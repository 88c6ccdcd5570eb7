"""The panel of ``dashboards/lenkungskreis.ipynb``: one page for the steering committee."""

from __future__ import annotations

import functools
import html
from typing import Iterable, Iterator

import ipywidgets as widgets
import plotly.graph_objects as go

from ..i18n import tr
from ..present.beschluesse import decisions_html
from ..present.markup import commentary_html, gaps_html, outliers_html, tiles
from ..present.report import lenkungskreis_html, lenkungskreis_name
from ..store import Store
from ..present.steering import (data_state, explain, key_figure_tiles, no_status_changes, since_start_tile,
                                steering_figures)
from ..views.steering import kommune_views, meeting_commentary, select_district, window_views
from .base import _FilteredPanel
from .cache import ViewCache, _LookAhead
from .plotview import DownloadButton


class LenkungskreisPanel(_FilteredPanel):
    """One page for the steering committee: key figures against the previous quarter and the previous year,
    reach in the districts, the referral funnel and where referrals stall, the top service gaps and the
    residence-status changes, for one kommune, quarter and (optionally) district; and a printable version.

    Counts from 1 to ``minimum - 1`` are not shown. The kommune's indicator tables and monthly referrals are
    loaded once; a district or quarter change asks the database only for the gaps and status changes of the
    twelve-month window, and each window once. After each change, once the page is drawn, the windows of the
    other districts and the neighbouring quarters are prepared in the background.
    """

    fields = ("kommune", "stadtbezirk", "zeitraum")
    depends = {"reach": ("kommune", "zeitraum"), "decisions": ("kommune",)}   # every district on one view; the
    # decisions have their own dates

    def __init__(self, store: Store | None = None, minimum: int = 3):

        self._base = ViewCache(kept=16)
        self._state: dict[str, str] = {}
        self._windows = ViewCache()
        self._ahead = _LookAhead()
        self.stalls_html, self.gaps_html, self.status_note = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.decisions_html = widgets.HTML()
        self.footer = widgets.HTML()
        if not self._start(store, minimum):
            return
        self.printable = DownloadButton(tr({"de": "Druckfassung (A4, HTML) herunterladen",
                                            "en": "download printable version (A4, HTML)"}), self._printable)
        self.annual = DownloadButton(tr({"de": "Jahresbericht des Quartalsjahres (Word) herunterladen",
                                         "en": "download the annual report of the quarter's year (Word)"}), self._annual)
        f = self.figures
        self.commentary = meeting_commentary(self.store)   # a frozen meeting state's assessment, per part
        self.explained = {k: widgets.HTML() for k in ("trend", "reach", "funnel", "stalls", "gaps")}   # _show_tables
        explained = {k: (w, self.explained[k], widgets.HTML(commentary_html(self.commentary.get(k, ""))))
                     for k, w in (("trend", f["trend"]), ("reach", f["reach"]),
                                                             ("funnel", f["funnel"]), ("stalls", self.stalls_html),
                                                             ("gaps", self.gaps_html))}
        decisions = (self.decisions_html, f["decisions"], widgets.HTML(commentary_html(self.commentary.get("decisions", ""))))
        self.widget = self._page("lenkungskreis", **explained, decisions=decisions, status=(
                                     f["status"], self.status_note,
                                     widgets.HTML(commentary_html(self.commentary.get("status", "")))),
                                 end=(self.printable, self.annual, self.footer))
        self._show_tables(self.filters.value)
        self._show_below(self.filters.value)

    def _views(self, v: dict) -> dict[str, object]:

        k = v["kommune"]
        base = self._base.get(k, lambda: kommune_views(self.store, k))
        key = (k, v["zeitraum"], v["stadtbezirk"])

        def window() -> dict:
            prepared = self._ahead.take(key)
            return prepared if prepared is not None else window_views(
                self.store, k, v["zeitraum"], v["stadtbezirk"], self._monthly_referrals(k))

        return {**self._windows.get(key, window), "kommune": k, "zeitraum": v["zeitraum"], "stadtbezirk": v["stadtbezirk"],
                "main": select_district(base, v["stadtbezirk"]), "districts": base["districts"],
                "shapes": base["shapes"], "beschluesse": base["beschluesse"]}

    def _show_below(self, v: dict) -> None:
        """Once the page is drawn, prepare the windows of the neighbouring districts and quarters."""

        k, months = v["kommune"], self._monthly_referrals(v["kommune"])
        self._ahead.prepare({key: functools.partial(window_views, self.store, *key, months)
                             for key in ((k, g["zeitraum"], g["stadtbezirk"]) for g in self.filters.neighbours(v))
                             if key not in self._windows})

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:

        return steering_figures(self._views(v), self.minimum, names).items()

    def _show_tables(self, v: dict) -> None:

        d = self._views(v)
        self.tiles.value = tiles([*key_figure_tiles(d["main"], v["zeitraum"], self.minimum),
                                  since_start_tile(d["since"], d["end"], self.minimum)])
        self.stalls_html.value = outliers_html(d["outliers"], stalls_only=True)
        self.gaps_html.value = gaps_html(d["gaps"], self.minimum, kommune=v["kommune"])
        self.decisions_html.value = decisions_html(d["beschluesse"], d["beschluesse"]["partners"])
        for part, w in getattr(self, "explained", {}).items():   # the kommune's sub-units; the map's own line
            w.value = f"<p class='kim-note'>{html.escape(explain(part, v['kommune'], mapped=len(d['shapes']) > 0))}</p>"
        self.status_note.value = f"<p class='kim-note'>{html.escape(explain('status') if len(d['transitions']) else no_status_changes())}</p>"
        if v["kommune"] not in self._state:   # changes only with an import, which a dashboard does not make
            self._state[v["kommune"]] = data_state(self.store, [v["kommune"]])
        self.footer.value = f"<p class='kim-note'>{html.escape(self._state[v['kommune']])}</p>"

    def _annual(self) -> tuple[str, str, bytes]:
        """The annual report (Word) of the kommune for the year of the chosen quarter."""
        from ..present.jahresbericht import annual_report_bytes, report_name

        v = self.filters.value
        year = int(v["zeitraum"][:4])
        return (report_name(v["kommune"], year),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                annual_report_bytes(self.store, v["kommune"], year, self.minimum))

    def _printable(self) -> tuple[str, str, str]:

        v = self.filters.value
        page = lenkungskreis_html(self.store, v["kommune"], v["zeitraum"], v["stadtbezirk"], self.minimum)
        return lenkungskreis_name(v["kommune"], v["zeitraum"], v["stadtbezirk"]) + ".html", "text/html", page
