"""The panel of ``dashboards/fallzahlen.ipynb``: whom KIM reaches, where, with which needs, at what load."""

from __future__ import annotations

import html
from typing import Iterable, Iterator

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..contract import codes
from ..indicators.disclosure import count_text
from ..i18n import fmt_number, tr
from ..present import figures as F
from ..present.figures import DEFAULT_BAND
from ..present.labels import kennzahl_definition, kennzahl_label, with_units
from ..present.markup import tile, tiles
from ..store import Store
from ..views.fallzahlen import caseload_base, caseload_district, provider_views
from ..present.steering import explain, population_note
from .base import _built, _FilteredPanel
from .cache import ViewCache

#: the filter values each caseload figure depends on
_DEPENDS = {
    "trend": ("kommune", "stadtbezirk", "traeger", "zielgruppe"),
    "load": ("kommune", "stadtbezirk", "zielgruppe", "zeitraum"),
    "posts": ("kommune", "traeger", "zielgruppe"),
    "employers": ("kommune", "traeger", "zielgruppe", "zeitraum"),
    "reach": ("kommune", "traeger", "zielgruppe", "zeitraum"),
    "needs": ("kommune", "traeger", "zielgruppe", "zeitraum"),
    "survival": ("kommune", "stadtbezirk", "traeger", "zielgruppe"),
    "closures": ("kommune", "stadtbezirk", "traeger", "zielgruppe", "zeitraum"),
}


def _posts_note() -> str:
    return tr({"de": "Stellen aller drei Bausteine aus der Tabelle stellen: je Zeitraum das Mittel über seine Monate. "
                     "Liegt die gepunktete Linie (landesgefördert) über den besetzten Stellen, sind geförderte Stellen "
                     "unbesetzt. Fälle je Vollzeitstelle (oben) zählen nur besetzte Stellen in Baustein 2. Der Filter "
                     "Bezirk gilt hier nicht (eine Stelle dient einem Bezirk oder der ganzen Kommune); eine Zielgruppe "
                     "hat keine Stellen.",
               "en": "Posts of all three Bausteine from the table stellen: per period the mean over its months. Where "
                     "the dotted line (Land-funded) lies above the filled posts, funded posts are vacant. Cases per "
                     "full-time post (above) count filled Baustein-2 posts only. The district filter does not apply "
                     "here (a post serves a district or the whole kommune); a target group has no posts."})


class FallzahlenPanel(_FilteredPanel):
    """Whom KIM reaches, where, with which needs, at what load: tiles and six figures under one filter bar.

    Counts from 1 to ``minimum - 1`` are shown as "< minimum"; rates resting on
    such counts are not shown. ``band`` is the target band of cases per post.
    A filter change recomputes and re-sends only the figures that depend on it;
    a district change needs no database query (the by-district tables hold it).
    """

    depends = _DEPENDS

    def __init__(self, store: Store | None = None, minimum: int = 3, band: tuple[float, float] | None = None):

        self.band = band or DEFAULT_BAND
        self._cache = ViewCache()
        if not self._start(store, minimum):
            return
        f = self.figures
        self.reach_note = widgets.HTML()   # which district figures are official, which estimates
        self.posts_note = widgets.HTML(f"<p class='kim-note'>{html.escape(_posts_note())}</p>")
        self.widget = self._page("fallzahlen", trend=f["trend"], load=f["load"],
                                 posts=(f["posts"], f["employers"], self.posts_note), reach=(f["reach"], self.reach_note),
                                 needs=f["needs"], survival=widgets.HBox([f["survival"], f["closures"]]))
        self._show_tables(self.filters.value)

    def _views(self, v: dict) -> dict[str, pd.DataFrame]:
        return self._cache.get(("views", v["kommune"], v["stadtbezirk"], v["traeger"], v["zielgruppe"]),
                               lambda: self._select(v))

    def _select(self, v: dict) -> dict[str, pd.DataFrame]:
        base = self._cache.get(("base", v["kommune"], v["traeger"], v["zielgruppe"]),
                               lambda: caseload_base(self.store, v["kommune"], v["traeger"], v["zielgruppe"]))
        providers = self._cache.get(("providers", v["kommune"], v["zielgruppe"]),
                                    lambda: provider_views(self.store, v["kommune"], v["zielgruppe"]))
        return caseload_district(base, providers, v["stadtbezirk"])

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:

        d, q = self._views(v), v["zeitraum"]
        scope = ", ".join(x for x in (v["kommune"], v["stadtbezirk"]) if x)
        where = f", {v['stadtbezirk']}" if v["stadtbezirk"] else ""
        year = q[:4] if q else ""

        def survival():
            return F.survival_curve(d["durations"], groups=list(codes.ZIELGRUPPE), height=420)

        def closures():
            fig = F.closure_reasons(d["closures"], zeitraum=year or "alle", title=tr({"de": f"Abschlüsse nach Grund {year}", "en": f"closures by reason {year}"}),
                                    minimum=self.minimum)
            return fig.update_layout(height=420)

        builders = {
            "trend": lambda: F.counts_over_time(
                d["main"], bars=("neuzugaenge", "abschluesse"), minimum=self.minimum,
                title=tr({"de": f"{scope}: Neuzugänge, Abschlüsse und offene Fälle je Quartal",
                          "en": f"{scope}: new, closed and open cases per quarter"})),
            "load": lambda: F.load_per_post(
                d["providers"], dict(zip(d["partner"]["partner_id"], d["partner"]["name"])),
                self.band, minimum=self.minimum, zeitraum=q,
                title=tr({"de": f"Fälle je Vollzeitstelle am Ende von {q}{where}",
                          "en": f"cases per full-time post at the end of {q}{where}"})),
            "reach": lambda: F.reach_by_district(
                d["districts"], minimum=self.minimum, shapes=d["shapes"], zeitraum=q,
                title=tr({"de": f"Erreichte Personen je 1.000 Einwohner, {q} (95-%-Intervall)",
                          "en": f"persons reached per 1,000 inhabitants, {q} (95 % interval)"})),
            "needs": lambda: F.needs_heatmap(
                d["needs"], minimum=self.minimum, zeitraum=q,
                title=with_units({"de": f"Offene Fälle je Handlungsfeld und {{Bezirk}} am Ende von {q}",
                                  "en": f"open cases per needs area and {{district}} at the end of {q}"}, v["kommune"])),
            "survival": survival,
            "closures": closures,
            "posts": lambda: F.posts_over_time(d["posts"], title=tr(
                {"de": f"{v['kommune']}: Stellen je Baustein, besetzt und unbesetzt, und landesgeförderte Stellen (VZÄ)",
                 "en": f"{v['kommune']}: posts per Baustein, filled and vacant, and Land-funded posts (FTE)"})),
            "employers": lambda: F.posts_by_employer(
                d["employers"], dict(zip(d["partner"]["partner_id"], d["partner"]["name"])), zeitraum=q,
                title=tr({"de": f"Stellen je Arbeitgeber, {q} (VZÄ im Mittel)",
                          "en": f"posts per employer, {q} (FTE, mean)"})),
        }
        return _built(builders, names)

    def _show_tables(self, v: dict) -> None:

        notes = [explain("reach", v["kommune"], mapped=True) if len(self._views(v)["shapes"]) else "",   # the map
                 population_note(self.store, v["kommune"])]
        self.reach_note.value = "".join(f"<p class='kim-note'>{html.escape(n)}</p>" for n in notes if n)
        main, q = self._views(v)["main"], v["zeitraum"]
        periods = sorted(main["zeitraum"].unique())
        prev = periods[periods.index(q) - 1] if q in periods and periods.index(q) > 0 else None
        rows = {(r.kennzahl, r.zeitraum): r for r in main.loc[main["zeitraum"].isin([q, prev])].itertuples(index=False)}

        def get(k, period):
            r = rows.get((k, period))
            return None if r is None else {"zaehler": r.zaehler, "wert": r.wert}

        def count(k, period):
            row = get(k, period)
            if row is None:
                return "–"
            return count_text(row["zaehler"], self.minimum)

        items = []
        for k, note in (("personen_erreicht", tr({"de": f"im {q}", "en": f"in {q}"})),
                        ("faelle_offen", tr({"de": f"am Ende von {q}", "en": f"at the end of {q}"})),
                        ("neuzugaenge", tr({"de": f"im {q}; Vorquartal {count('neuzugaenge', prev)}",
                                            "en": f"in {q}; previous quarter {count('neuzugaenge', prev)}"}))):
            items.append(tile(kennzahl_label(k), count(k, q), note, kennzahl_definition(k)))
        load = get("faelle_je_vzae", q)
        shown = load is not None and pd.notna(load["wert"]) and int(load["zaehler"]) >= self.minimum
        items.append(tile(kennzahl_label("faelle_je_vzae"), fmt_number(float(load["wert"]), 1) if shown else "–",
                           tr({"de": f"Zielkorridor {fmt_number(self.band[0])}–{fmt_number(self.band[1])}",
                               "en": f"target band {fmt_number(self.band[0])}–{fmt_number(self.band[1])}"}),
                           kennzahl_definition("faelle_je_vzae"),
                           over=shown and float(load["wert"]) > self.band[1]))
        self.tiles.value = tiles(items)
