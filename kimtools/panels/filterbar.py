"""The filter bar every filtered dashboard shares (kommune, district, provider, quarter, target group)."""

from __future__ import annotations

from typing import Callable, Iterable

import ipywidgets as widgets

from ..contract import codes
from ..i18n import tr
from ..periods import quarter_labels
from ..present.labels import column_label
from ..store import Store


def kommune_dropdown(kommunen: list[str], value: str | None = None) -> widgets.Dropdown:
    return widgets.Dropdown(options=kommunen, value=value or (kommunen[0] if kommunen else None),
                            description=column_label("kommune"), style={"description_width": "initial"},
                            layout=widgets.Layout(width="360px"))


def _alle() -> str:
    return tr({"de": "alle", "en": "all"})


class FilterBar:
    """Kommune, district, provider, quarter and target group: one bar for notebooks and dashboards.

    ``value`` is a dict with ``kommune``, ``stadtbezirk``, ``traeger``, ``zeitraum``,
    ``zielgruppe`` (``None`` = all; always ``None`` for a field left out of ``fields``). Callbacks registered with :meth:`observe`
    get that dict once per change, also when a new kommune resets the others.
    """

    FIELDS = ("kommune", "stadtbezirk", "traeger", "zeitraum", "zielgruppe")

    def __init__(self, store: Store, kommunen: list[str] | None = None, fields: Iterable[str] = FIELDS):

        self.store = store
        self._callbacks: list[Callable[[dict], None]] = []
        self._quiet = False
        style = {"description_width": "initial"}
        kommunen = kommunen if kommunen is not None else store.kommunen()
        self.kommune = widgets.Dropdown(options=kommunen, description=column_label("kommune"), style=style)
        self.stadtbezirk = widgets.Dropdown(description=column_label("stadtbezirk"), style=style)
        self.traeger = widgets.Dropdown(description=column_label("traeger"), style=style,
                                        layout=widgets.Layout(width="340px"))
        self.zeitraum = widgets.Dropdown(description=tr({"de": "Quartal", "en": "quarter"}), style=style,
                                         layout=widgets.Layout(width="200px"))
        self.zielgruppe = widgets.Dropdown(
            options=[(_alle(), None)] + [(codes.label("zielgruppe", c), c) for c in codes.ZIELGRUPPE],
            description=tr({"de": "Zielgruppe", "en": "target group"}), style=style, index=0)
        self.fields = tuple(f for f in self.FIELDS if f in set(fields) | {"kommune"})
        self.widget = widgets.HBox([getattr(self, f) for f in self.fields], layout=widgets.Layout(flex_flow="row wrap"))
        self._refresh_options()
        self.kommune.observe(self._on_kommune, names="value")
        for w in (self.stadtbezirk, self.traeger, self.zeitraum, self.zielgruppe):
            w.observe(self._fire, names="value")

    @property
    def value(self) -> dict:
        return {f: getattr(self, f).value if f in self.fields else None for f in self.FIELDS}

    def start_at(self, kommune: str | None = None, zeitraum: str | None = None) -> None:
        """Select ``kommune`` and ``zeitraum`` where offered (a frozen meeting state's), telling no one: call it
        before the page is built."""
        if kommune in self.kommune.options and kommune != self.kommune.value:
            self.kommune.value = kommune   # refreshes the districts and quarters
        if zeitraum in self.zeitraum.options:
            self._quiet = True
            try:
                self.zeitraum.value = zeitraum
            finally:
                self._quiet = False

    def observe(self, callback: Callable[[dict], None]) -> None:
        self._callbacks.append(callback)

    def neighbours(self, v: dict) -> list[dict]:
        """The filter values a viewer is likely to choose next after ``v``: each other district in the same quarter,
        and the same district in the quarters just before and after (those a viewer steps through)."""
        quarters = list(self.zeitraum.options)
        i = quarters.index(v["zeitraum"]) if v["zeitraum"] in quarters else 0
        return [{**v, "stadtbezirk": d} for _, d in self.stadtbezirk.options if d != v["stadtbezirk"]] + \
               [{**v, "zeitraum": q} for q in quarters[max(i - 1, 0):i + 2] if q != v["zeitraum"]]

    def _refresh_options(self) -> None:
        k = self.kommune.value
        if k is None:
            return
        with self.store.snapshot():
            districts = self.store.query("SELECT DISTINCT stadtbezirk FROM faelle WHERE kommune = ? ORDER BY 1", [k])
            providers = self.store.query("""SELECT DISTINCT p.partner_id, p.name FROM partner p JOIN faelle f
                                            ON f.kommune = p.kommune AND f.traeger = p.partner_id
                                            WHERE p.kommune = ? ORDER BY p.name""", [k])
            span = self.store.query("SELECT min(beginn) a, greatest(max(beginn), max(ende)) b FROM faelle WHERE kommune = ?", [k])
        labels = quarter_labels(span["a"][0], span["b"][0])[::-1]
        self._quiet = True
        try:
            self.stadtbezirk.options = [(_alle(), None)] + [(d, d) for d in districts["stadtbezirk"]]
            self.stadtbezirk.index = 0   # value None would clear the selection, not pick "alle"
            self.stadtbezirk.description = column_label("stadtbezirk", kommune=k)   # a Kreis: "Gemeinde"
            self.traeger.options = [(_alle(), None)] + list(zip(providers["name"], providers["partner_id"]))
            self.traeger.index = 0
            self.zeitraum.options = labels
            self.zeitraum.value = labels[0] if labels else None
        finally:
            self._quiet = False

    def _on_kommune(self, change) -> None:
        self._refresh_options()
        self._fire(change)

    def _fire(self, _change=None) -> None:
        if self._quiet:
            return
        for callback in self._callbacks:
            callback(self.value)
