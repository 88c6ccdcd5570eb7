"""What the filtered dashboard panels share: headings, notes, the figure/update cycle."""

from __future__ import annotations

import html
from typing import Callable, Iterable, Iterator

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..analysis.network import referral_months
from ..errors import KimtoolsError
from ..i18n import fmt_number
from ..present.markup import error_html
from ..present.pages import SECTIONS, section_title
from ..store import Store
from ..store.meetings import meeting_of
from ..store.zugriffe import current_person, log_access
from ..present.steering import incomplete_note, meeting_note
from .filterbar import FilterBar
from .plotview import PlotlyView


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<h3>{html.escape(text)}</h3>")


def sections(dashboard: str, kommune: str | None = None,
             **content: widgets.Widget | tuple[widgets.Widget, ...]) -> list[widgets.Widget]:
    """The dashboard's sections in the order of :data:`~kimtools.present.pages.SECTIONS`, each under its
    heading (with the words ``kommune`` has for its sub-units; :func:`name_units` changes them): the widget (or
    widgets) given for its key. Every section needs its content, and nothing else is taken."""
    keys = SECTIONS[dashboard]
    if set(content) != set(keys):
        raise ValueError(f"sections of {dashboard}: expected {sorted(keys)}, got {sorted(content)}")
    children: list[widgets.Widget] = []
    for key in keys:
        part, heading = content[key], _heading(section_title(dashboard, key, kommune))
        heading.kim_section = (dashboard, key)
        children += [heading, *(part if isinstance(part, tuple) else (part,))]
    return children


def name_units(page: widgets.Box, kommune: str | None) -> None:
    """Let the section headings of ``page`` (from :func:`sections`) name ``kommune``'s sub-units: a city's Stadtbezirke,
    a Kreis's Gemeinden."""
    for w in page.children:
        if hasattr(w, "kim_section"):
            text = f"<h3>{html.escape(section_title(*w.kim_section, kommune))}</h3>"
            if w.value != text:
                w.value = text


def _built(builders: dict[str, Callable[[], go.Figure]], names: Iterable[str] | None) -> Iterator[tuple[str, go.Figure]]:
    for name in (builders if names is None else names):
        yield name, builders[name]()


def _small(value) -> str:
    return "< 3" if value is pd.NA or value is None else fmt_number(int(value))


class _FilteredPanel:
    """What the dashboard panels share: a filter bar over the store, a message line, tiles, and the
    panel's figures (from its ``_iter_figures``) as :class:`PlotlyView` widgets, brought up to date by
    ``show`` on every filter change. ``depends`` names, per figure, the filter values it depends on
    (default: all of ``fields``); a change of any other leaves the figure as it is, unbuilt and unsent."""

    fields: tuple[str, ...] = FilterBar.FIELDS
    depends: dict[str, tuple[str, ...]] = {}

    def _start(self, store: Store | None, minimum: int) -> bool:
        """Build the filter bar and the first figures; on a store problem show its message and return False."""
        self.store = store or Store()
        self.minimum = minimum
        self.message = widgets.HTML()
        self.tiles = widgets.HTML()
        try:
            self.filters = FilterBar(self.store, fields=self.fields)
            frozen = meeting_of(self.store)
            if frozen:   # a meeting state opens at the kommune and quarter it was frozen for
                self.filters.start_at(frozen.kommune, frozen.quartal)
            figures = self._figures(self.filters.value)
        except KimtoolsError as exc:
            self.message.value = error_html(exc)
            self.widget = widgets.VBox([self.message])
            return False
        self.figures = {name: PlotlyView(fig) for name, fig in figures.items()}
        self.message.value = self._notice(self.filters.value)
        self._shown = self._keys(self.filters.value)
        self.filters.observe(self.show)
        return True

    def _page(self, dashboard: str, end: tuple[widgets.Widget, ...] = (), **content) -> widgets.VBox:
        """The page: filter bar, message line and tiles, then the dashboard's :func:`sections`, then ``end``. Its
        opening is logged (:meth:`_log_open`)."""
        self.dashboard = dashboard
        self._log_open(self.filters.value)
        return widgets.VBox([self.filters.widget, self.message, self.tiles,
                             *sections(dashboard, self.filters.value["kommune"], **content), *end])

    def _log_open(self, v: dict) -> None:
        """Note in the access log who opened this page for which kommune (once per kommune shown)."""
        kommune = v.get("kommune")
        if kommune != getattr(self, "_logged", object()) and getattr(self, "dashboard", None):
            self._logged = kommune
            log_access(self.store.path, current_person(), self.dashboard, kommune)

    def _keys(self, v: dict) -> dict[str, tuple]:
        return {name: tuple(v[k] for k in self.depends.get(name, self.fields)) for name in self.figures}

    def _figures(self, v: dict, names: Iterable[str] | None = None) -> dict[str, go.Figure]:
        """The figures ``names`` (default: all) for the filter values ``v``."""
        return dict(self._iter_figures(v, names))

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:
        """The figures one by one, so that each can be sent while the next is built."""
        raise NotImplementedError

    def _show_tables(self, v: dict) -> None:
        """Tiles and tables for the filter values ``v``."""

    def _show_below(self, v: dict) -> None:
        """Tables further down the page, brought up to date after the figures (the browser draws those while
        the kernel works on these)."""

    def _monthly_referrals(self, kommune: str) -> dict[str, pd.DataFrame]:
        """The kommune's referrals by month (:func:`~kimtools.analysis.network.referral_months`), read once per kommune:
        every window and filter of the referral pages is cut from them."""

        if getattr(self, "_months_of", None) != kommune:
            self._months, self._months_of = referral_months(self.store, kommune), kommune
        return self._months

    def show(self, v: dict) -> None:
        """Bring the panel to the filter values ``v``: the top of the page first, then only the figures whose
        inputs changed are rebuilt and sent, then the tables below them."""
        try:
            keys = self._keys(v)
            stale = [name for name in keys if keys[name] != self._shown.get(name)]
            self._show_tables(v)
            name_units(self.widget, v["kommune"])
            for name, fig in self._iter_figures(v, stale):
                self._shown.pop(name, None)   # counted as shown again only once the update went through
                self.figures[name].show(fig)
                self._shown[name] = keys[name]
            self._show_below(v)
            self.message.value = self._notice(v)
            self._log_open(v)
        except Exception as exc:  # noqa: BLE001 - a callback must never fail silently
            self.message.value = error_html(exc)

    def _notice(self, v: dict) -> str:
        """The page's message line when all went well: whether the chosen period (or, on a page without one, the
        kommune's latest data) is not yet complete for every provider."""
        text = incomplete_note(self.store, v["kommune"], v.get("zeitraum")) if v.get("kommune") else ""
        if not hasattr(self, "_frozen"):   # a meeting state stays what it is while the page is open
            self._frozen = meeting_note(self.store)
        text = " ".join(t for t in (self._frozen, text) if t)
        return f"<p class='kim-note'><b>{html.escape(text)}</b></p>" if text else ""
