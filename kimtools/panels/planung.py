"""The panel of ``dashboards/planung.ipynb``: pathways, forecasts, staffing scenarios, need index."""

from __future__ import annotations

import html
from typing import Iterable, Iterator

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..analysis.pathways import opportunity_expiry, opportunity_outcomes
from ..analysis.planning import need_index, staffing
from ..indicators.disclosure import count_text
from ..i18n import fmt_date, fmt_number, fmt_percent, tr
from ..present import figures as F
from ..present.figures import DEFAULT_BAND
from ..present.labels import with_units
from ..present.markup import error_html, html_table, tile, tiles
from ..present.steering import population_note
from ..store import Store
from ..views.planung import forecast_of, planning_views
from .base import _built, _FilteredPanel, sections
from .cache import ViewCache


class PlanungPanel(_FilteredPanel):
    """Looking forward, for one kommune and (optionally) one district: residence-status pathways and the
    § 104c permits that are running out, forecasts of intake and open cases with prediction intervals, a
    staffing scenario (target load, change of intake, posts per district) and a need index per district.

    Counts from 1 to ``minimum - 1`` are not shown. The kommune's data and forecasts are computed once; a
    scenario change only re-draws the staffing figure and table.
    """

    fields = ("kommune", "stadtbezirk")
    depends = {"staffing": ("kommune",), "need": ("kommune",)}

    def __init__(self, store: Store | None = None, minimum: int = 3, horizon: int = 8):

        self.horizon = horizon
        self._views_cache = ViewCache(kept=1)   # one kommune at a time: forecasts are cheap to redo, memory is not
        style = {"description_width": "initial"}
        self.target = widgets.FloatSlider(value=sum(DEFAULT_BAND) / 2, min=10, max=80, step=1, style=style,
                                          description=tr({"de": "Ziel: Fälle je Vollzeitstelle", "en": "target: cases per FTE"}),
                                          layout=widgets.Layout(width="420px"))
        self.growth = widgets.IntSlider(value=0, min=-30, max=50, step=5, style=style,
                                        description=tr({"de": "Neuzugänge gegenüber Prognose (%)",
                                                        "en": "intake against forecast (%)"}),
                                        layout=widgets.Layout(width="420px"))
        self.quarter = widgets.Dropdown(description=tr({"de": "geplant für", "en": "planned for"}), style=style)
        self.posts = widgets.GridBox(layout=widgets.Layout(grid_template_columns="repeat(3, 300px)"))
        self.pathway_tiles, self.staffing_table, self.need_table = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.forecast_note = widgets.HTML()
        self._quiet = False
        if not self._start(store, minimum):
            return
        for w in (self.target, self.growth, self.quarter):
            w.observe(self._scenario_changed, names="value")
        f = self.figures
        scenario = widgets.HBox([self.target, self.growth, self.quarter], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([self.filters.widget, self.message, *sections(
            "planung", self.filters.value["kommune"], status=(self.pathway_tiles, f["status"], f["expiry"]),
            forecast=(widgets.HBox([f["intake"], f["open"]]), self.forecast_note),
            staffing=(scenario, self.posts, f["staffing"], self.staffing_table),
            need=(f["need"], self.need_table))])
        self._show_tables(self.filters.value)

    def _views(self, kommune: str) -> dict[str, object]:

        if kommune not in self._views_cache:   # a new kommune: its forecasts, and the scenario's fields for them
            self._prepare_scenario(self._views_cache.get(kommune, lambda: planning_views(self.store, kommune, self.horizon)))
        return self._views_cache[kommune]

    def _prepare_scenario(self, d: dict) -> None:
        """Quarters to plan for and one posts field per district, filled with the posts held today."""
        fc = d["forecasts"].get(("faelle_offen", None))
        self._quiet = True
        try:
            self.quarter.options = [] if fc is None else list(fc["zeitraum"])
            if fc is not None:
                self.quarter.value = fc["zeitraum"].iloc[min(3, len(fc) - 1)]   # a year ahead
            held = {(None if pd.isna(r.stadtbezirk) else r.stadtbezirk): float(r.vzae) for r in d["posts"].itertuples()}
            names = sorted(d["bezirke"]["stadtbezirk"]) + [None]
            fields = []
            for name in names:
                w = widgets.BoundedFloatText(value=held.get(name, 0.0), min=0, max=500, step=0.5,
                                             description=name or with_units({"de": "{weit}", "en": "{wide}"}, d["kommune"]),
                                             style={"description_width": "150px"}, layout=widgets.Layout(width="290px"))
                w.stadtbezirk = name
                w.observe(self._scenario_changed, names="value")
                fields.append(w)
            self.posts.children = fields
        finally:
            self._quiet = False

    @staticmethod
    def _spells(d: dict, district: str | None) -> pd.DataFrame:
        return d["spells"] if district is None else d["spells"].loc[d["spells"]["stadtbezirk"] == district]

    def _plan(self, d: dict) -> pd.DataFrame | None:

        q = self.quarter.value
        rows = []
        for name in sorted(d["bezirke"]["stadtbezirk"]):
            fc = forecast_of(d, "faelle_offen", name)
            if fc is not None and q in set(fc["zeitraum"]):
                rows.append(fc.loc[fc["zeitraum"] == q].assign(stadtbezirk=name))
        if not rows:
            return None
        posts = pd.DataFrame({"stadtbezirk": [w.stadtbezirk for w in self.posts.children],
                              "vzae": [float(w.value) for w in self.posts.children]})
        return staffing(pd.concat(rows), posts, self.target.value, self.growth.value / 100)

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:

        d, district = self._views(v["kommune"]), v["stadtbezirk"]
        where = ", ".join(x for x in (v["kommune"], district) if x)
        spells = self._spells(d, district)

        def prognosis(kennzahl: str, de: str, en: str) -> go.Figure:
            fc = forecast_of(d, kennzahl, district)
            y = d["history"].get((kennzahl, district))
            if fc is None or y is None:
                return F.apply_style(go.Figure().update_layout(title=tr(
                    {"de": f"{where}: zu wenige vollständige Quartale für eine Prognose",
                     "en": f"{where}: too few complete quarters for a forecast"}), height=380))
            history = pd.Series(y.to_numpy(), index=[f"{p.year}-Q{p.quarter}" for p in y.index])
            return F.forecast_figure(history, fc, kennzahl, minimum=self.minimum,
                                     title=tr({"de": f"{where}: {de}", "en": f"{where}: {en}"}))

        def staffing_figure() -> go.Figure:
            plan = self._plan(d)
            if plan is None:
                return F.apply_style(go.Figure().update_layout(title=with_units(
                    {"de": "Keine Prognose der offenen Fälle je {Bezirk} möglich",
                     "en": "No forecast of open cases per {district} possible"}, v["kommune"]), height=380))
            return F.staffing_figure(plan, self.target.value, title=tr(
                {"de": f"{v['kommune']}: Stellen heute und nötig am Ende von {self.quarter.value}",
                 "en": f"{v['kommune']}: posts today and needed at the end of {self.quarter.value}"}))

        builders = {
            "status": lambda: F.status_sankey(d["transitions"].get(district, d["transitions"][None]), minimum=self.minimum,
                                              title=tr({"de": f"{where}: Wechsel des Aufenthaltsstatus seit Beginn der Daten",
                                                        "en": f"{where}: changes of residence status since the data begin"})),
            "expiry": lambda: F.expiry_figure(opportunity_expiry(spells), minimum=self.minimum, title=tr(
                {"de": f"{where}: Personen mit § 104c in offenen Fällen – wann die 18 Monate enden",
                 "en": f"{where}: persons holding § 104c in open cases – when the 18 months end"})),
            "intake": lambda: prognosis("neuzugaenge", "Neuzugänge je Quartal und Prognose",
                                        "new cases per quarter and forecast"),
            "open": lambda: prognosis("faelle_offen", "offene Fälle am Quartalsende und Prognose",
                                      "open cases at the end of the quarter and forecast"),
            "staffing": staffing_figure,
            "need": lambda: F.need_index_figure(need_index(d["bezirke"], d["reach"], d["gaps"]), title=with_units(
                {"de": f"{v['kommune']}: Bedarfsindex je {{Bezirk}}", "en": f"{v['kommune']}: need index per {{district}}"},
                v["kommune"])),
        }
        return _built(builders, names)

    def _show_tables(self, v: dict) -> None:

        d, district = self._views(v["kommune"]), v["stadtbezirk"]
        spells = self._spells(d, district)
        o = opportunity_outcomes(spells)
        if o.empty:
            self.pathway_tiles.value = f"<p class='kim-note'>{html.escape(tr({'de': 'Keine Personen mit § 104c dokumentiert.', 'en': 'No persons holding § 104c documented.'}))}</p>"
        else:
            r = o.iloc[0]
            moved_ok = r["zu_25a_25b"] >= self.minimum and r["personen"] - r["zu_25a_25b"] >= self.minimum
            items = [
                tile(tr({"de": "Personen mit § 104c", "en": "persons holding § 104c"}), count_text(r["personen"], self.minimum),
                     tr({"de": "seit Beginn der Daten", "en": "since the data begin"}),
                     tr({"de": "Personen, die das Chancen-Aufenthaltsrecht hatten (bei Aufnahme oder durch Wechsel).",
                         "en": "Persons who held the opportunity residence right (at intake or by a change)."})),
                tile(tr({"de": "zu § 25a/§ 25b gewechselt", "en": "moved to § 25a/§ 25b"}),
                     count_text(r["zu_25a_25b"], self.minimum),
                     tr({"de": f"{fmt_percent(r['anteil'])} der Personen", "en": f"{fmt_percent(r['anteil'])} of the persons"})
                     if moved_ok else "–",
                     tr({"de": "Personen, deren § 104c in eine Aufenthaltserlaubnis nach § 25a oder § 25b überging.",
                         "en": "Persons whose § 104c turned into a residence permit under § 25a or § 25b."})),
                tile(tr({"de": "binnen 18 Monaten (geschätzt)", "en": "within 18 months (estimated)"}),
                     fmt_percent(r["anteil_18_monate"]) if moved_ok else "–",
                     tr({"de": "Kaplan–Meier; noch Wartende zählen bis heute mit", "en": "Kaplan–Meier; those still waiting count until today"}),
                     tr({"de": "Geschätzter Anteil, der innerhalb von 18 Monaten zu § 25a/§ 25b wechselt; laufende und "
                               "anders endende Zeiten gehen bis zu ihrem Ende ein (zensiert).",
                         "en": "Estimated share moving to § 25a/§ 25b within 18 months; running spells and spells ending "
                               "otherwise count until their end (censored)."})),
                tile(tr({"de": "§ 104c läuft noch", "en": "§ 104c still running"}), count_text(r["laufend"], self.minimum),
                     tr({"de": f"offene Fälle, Stand {fmt_date(d['daten_bis'])}", "en": f"open cases as of {fmt_date(d['daten_bis'])}"}),
                     tr({"de": "Personen in offenen Fällen, deren letzter dokumentierter Status § 104c ist.",
                         "en": "Persons in open cases whose last documented status is § 104c."})),
            ]
            self.pathway_tiles.value = tiles(items)
        self.forecast_note.value = f"<p class='kim-note'>{html.escape(self._backtest_text(d))}</p>"
        self._show_staffing_table(d)
        need = need_index(d["bezirke"], d["reach"], d["gaps"])
        need = need.assign(luecken=[count_text(n, self.minimum) for n in need["luecken"]])
        note = population_note(self.store, v["kommune"])   # the footnote to the rates per 1,000
        self.need_table.value = html_table(need, ["stadtbezirk", "auslaender", "reichweite_je_1000", "luecken", "bedarfsindex"],
                                           {"reichweite_je_1000": lambda x: fmt_number(x, 2),
                                            "bedarfsindex": lambda x: fmt_number(x, 2)}, kommune=v["kommune"]) + (
            f"<p class='kim-note'>{html.escape(note)}</p>" if note else "")

    @staticmethod
    def _backtest_text(d: dict) -> str:
        parts = []
        for kennzahl, de, en in (("neuzugaenge", "Neuzugänge", "New cases"), ("faelle_offen", "Offene Fälle", "Open cases")):
            s = d["backtest"].get(kennzahl)
            if s is None:
                continue
            r = s.set_index("schritt").loc["alle"]
            better = r["verhaeltnis"] < 1
            parts.append(tr({
                "de": f"{de}: im Rückblick auf die letzten Quartale im Mittel {fmt_number(r['mae_modell'], 0)} daneben, "
                      f"die einfache Vorjahresquartals-Prognose {fmt_number(r['mae_naiv'], 0)} – das Modell ist "
                      + ("genauer." if better else "hier nicht genauer; die Vorjahreswerte sind die bessere Richtschnur."),
                "en": f"{en}: looking back over the last quarters, off by {fmt_number(r['mae_modell'], 0)} on average, the "
                      f"simple same-quarter-last-year forecast by {fmt_number(r['mae_naiv'], 0)} – the model is "
                      + ("more accurate." if better else "not more accurate here; last year's values are the better guide.")}))
        return " ".join(parts) + " " + tr({"de": "Die Bänder zeigen das 95-%-Prognoseintervall.",
                                            "en": "The bands show the 95 % prediction interval."})

    def _show_staffing_table(self, d: dict) -> None:
        plan = self._plan(d)
        if plan is None:
            self.staffing_table.value = ""
            return
        plan = plan.assign(stadtbezirk=plan["stadtbezirk"].fillna(with_units({"de": "gesamt (mit {weit}en Stellen)",
                                                                               "en": "total (with {wide} posts)"},
                                                                              d["kommune"])),
                           faelle_prognose=plan["faelle"].round())
        one = lambda x: fmt_number(x, 1)  # noqa: E731
        self.staffing_table.value = html_table(
            plan, ["stadtbezirk", "faelle_prognose", "vzae", "vzae_noetig", "vzae_noetig_oben", "luecke_vzae"],
            {"vzae": one, "vzae_noetig": one, "vzae_noetig_oben": one, "luecke_vzae": one,
             "faelle_prognose": lambda x: fmt_number(x, 0)}, kommune=d["kommune"])

    def _scenario_changed(self, _change=None) -> None:
        if self._quiet:
            return
        try:
            d = self._views(self.filters.value["kommune"])
            self.figures["staffing"].show(self._figures(self.filters.value, ["staffing"])["staffing"])
            self._show_staffing_table(d)
            self.message.value = ""
        except Exception as exc:  # noqa: BLE001 - a callback must never fail silently
            self.message.value = error_html(exc)
