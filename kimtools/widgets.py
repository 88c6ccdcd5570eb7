"""ipywidgets panels and helpers shared by notebooks and dashboards.

Patterns that hold up under Voilà and nbclient (see ``shared/jupyter-stack-notes.md``):
figures are :class:`PlotlyView` widgets whose figure is replaced as a whole (no
``clear_output``/``display``, which can freeze executors); every callback catches :class:`~kimtools.errors.KimtoolsError`
and shows its message (Voilà hides tracebacks, and a traceback could show data);
data are loaded once when a panel is built, callbacks only filter.
"""

from __future__ import annotations

import functools
import html
import json
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

import anywidget
import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import traitlets

from .disclosure import count_text, mask_small
from .errors import KimtoolsError
from .figures import counts_over_time
from .i18n import current_lang, fmt_date, fmt_number, tr
from .indicators import indicator_table
from .labels import column_label, kennzahl_label
from .markup import error_html, gaps_html, html_table, outliers_html, tile, tiles
from .store import Store, in_parallel

__all__ = ["html_table", "PlotlyView", "error_html", "kommune_dropdown", "DatenstandPanel", "FilterBar",
           "CaseloadPanel", "caseload_views", "NetworkPanel", "network_views", "network_fixed", "LenkungskreisPanel", "VergleichPanel",
           "PlanungPanel",
           "DownloadButton"]


@functools.cache
def plotly_source() -> str:
    """plotly.js as bundled with the plotly package (what exports embed and the dashboard server hands out)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


class PlotlyView(anywidget.AnyWidget):
    """A plotly figure in a notebook or dashboard, redrawn with ``Plotly.react`` whenever :meth:`show` gets a new one.

    Unlike ``go.FigureWidget`` it does not carry its own 5 MB copy of plotly.js: under
    ``kimtools serve`` (``KIMTOOLS_PLOTLY_PATH`` set) the first view on a page loads the
    server's copy, which the browser keeps; elsewhere (JupyterLab) it asks the kernel
    for plotly's bundled copy, once per page. It syncs nothing back to the kernel and
    takes any change of traces. Setting an equal figure sends nothing.
    """

    _esm = Path(__file__).parent / "static" / "plotly_view.js"
    figure = traitlets.Dict().tag(sync=True)
    plotly_path = traitlets.Unicode(os.environ.get("KIMTOOLS_PLOTLY_PATH", "")).tag(sync=True)

    def __init__(self, fig: go.Figure | None = None, **kwargs):
        super().__init__(**kwargs)
        self.on_msg(self._on_message)
        if fig is not None:
            self.show(fig)

    def show(self, fig: go.Figure) -> None:
        self.figure = json.loads(fig.to_json())

    def _on_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("kind") == "need-plotly":
            self.send({"kind": "plotly-source", "source": plotly_source()})


class DownloadButton(anywidget.AnyWidget):
    """A button that builds a file in the kernel when clicked (``make`` returns name, MIME type and text)
    and hands it to the browser as a download. Errors show as their message beside the button."""

    _esm = Path(__file__).parent / "static" / "download.js"
    label = traitlets.Unicode().tag(sync=True)
    busy = traitlets.Unicode().tag(sync=True)

    def __init__(self, label: str, make: Callable[[], tuple[str, str, str]], **kwargs):
        super().__init__(label=label, busy=tr({"de": "wird erstellt …", "en": "being prepared …"}), **kwargs)
        self.make = make
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        if not (isinstance(content, dict) and content.get("kind") == "make"):
            return
        try:
            name, mime, text = self.make()
        except Exception as exc:  # noqa: BLE001 - the viewer gets the message, never a traceback
            self.send({"kind": "error", "text": exc.message() if isinstance(exc, KimtoolsError) else tr(
                {"de": "Die Datei konnte nicht erstellt werden.", "en": "The file could not be prepared."})})
            return
        self.send({"kind": "file", "name": name, "mime": mime, "content": text,
                   "done": tr({"de": f"{name} heruntergeladen", "en": f"{name} downloaded"})})


def kommune_dropdown(kommunen: list[str], value: str | None = None) -> widgets.Dropdown:
    return widgets.Dropdown(options=kommunen, value=value or (kommunen[0] if kommunen else None),
                            description=column_label("kommune"), style={"description_width": "initial"},
                            layout=widgets.Layout(width="360px"))


def _small(value) -> str:
    return "< 3" if value is pd.NA or value is None else fmt_number(int(value))


class DatenstandPanel:
    """What the store holds per kommune: counts, data-quality summary, import log and intake over time.

    Everything shown is aggregated; counts from 1 to 2 are shown as "< 3". The data-quality summary is the one
    recorded at each kommune's import (:meth:`~kimtools.Store.quality`): the page never reads every case of the
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
                self.indicators = indicator_table(self.store, by="kommune", period="quarter",
                                                  kennzahlen=["neuzugaenge", "faelle_offen"])  # all the figure draws
        except KimtoolsError as exc:
            self.info = pd.DataFrame(columns=["kommune"])
            self.message.value = error_html(exc)
        kommunen = self.info["kommune"].tolist()
        self.dropdown = kommune_dropdown(kommunen)
        self.summary = widgets.HTML()
        self.quality_html = widgets.HTML()
        self.log_html = widgets.HTML()
        self.figure = PlotlyView(self._figure(kommunen[0]) if kommunen else None)
        self.dropdown.observe(lambda change: self.show(change["new"]), names="value")
        self.widget = widgets.VBox([
            self.message, self.dropdown,
            widgets.HTML(f"<h3>{tr({'de': 'Was der Datenbestand enthält', 'en': 'What the store holds'})}</h3>"),
            self.summary, self.figure,
            widgets.HTML(f"<h3>{tr({'de': 'Datenqualität', 'en': 'Data quality'})}</h3>"), self.quality_html,
            widgets.HTML(f"<h3>{tr({'de': 'Importprotokoll', 'en': 'Import log'})}</h3>"), self.log_html,
        ])
        if kommunen:
            self.show(kommunen[0])

    def show(self, kommune: str) -> None:
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
            self._quality[kommune] = self.store.quality(kommune)
        q = self._quality[kommune].copy()
        counts = ["ohne_beratung", "vermittlungen_offen_30", "doku_luecken_monate", "parallele_faelle"]
        for c in counts:
            q[c] = mask_small(q[c], self.minimum)
        pct = {"de": lambda v: fmt_number(100 * v, 1) + " %", "en": lambda v: fmt_number(100 * v, 1) + " %"}[current_lang()]
        self.quality_html.value = html_table(q, ["stichtag", *counts, "vollstaendigkeit"],
                                             {**{c: _small for c in counts}, "vollstaendigkeit": pct})
        log = self.log.loc[self.log["kommune"] == kommune].head(10)
        self.log_html.value = html_table(log, ["zeitpunkt", "quelle", "datenstand", "n_faelle", "n_beratungen",
                                               "n_vermittlungen", "kimtools_version"],
                                         {c: lambda v: fmt_number(int(v)) for c in ("n_faelle", "n_beratungen", "n_vermittlungen")})
        self.figure.show(self._figure(kommune))

    def _figure(self, kommune: str) -> go.Figure:
        rows = self.indicators.loc[self.indicators["kommune"] == kommune]
        title = tr({"de": f"{kommune}: Neuzugänge und offene Fälle je Quartal",
                    "en": f"{kommune}: new and open cases per quarter"})
        fig = counts_over_time(rows, title=title, minimum=self.minimum)
        fig.update_layout(height=420)
        return fig


# ----------------------------------------------------------------------------- caseload
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
        from . import codes

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
        quarters = pd.period_range(span["a"][0], span["b"][0], freq="Q")
        labels = [f"{q.year}-Q{q.quarter}" for q in quarters][::-1]
        self._quiet = True
        try:
            self.stadtbezirk.options = [(_alle(), None)] + [(d, d) for d in districts["stadtbezirk"]]
            self.stadtbezirk.index = 0   # value None would clear the selection, not pick "alle"
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


#: the indicators the caseload views draw (tiles, trend, reach); the table computes nothing else for them
_CASELOAD_KENNZAHLEN = ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "faelle_je_vzae",
                        "reichweite_je_1000")


def caseload_views(store: Store, kommune: str, stadtbezirk: str | None = None, traeger: str | None = None,
                   zielgruppe: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables one caseload view needs, for one kommune and filter combination (aggregates only)."""
    return _select_district(_kommune_views(store, kommune, traeger, zielgruppe),
                            _provider_views(store, kommune, zielgruppe), stadtbezirk)


def _kommune_views(store: Store, kommune: str, traeger: str | None, zielgruppe: str | None) -> dict[str, pd.DataFrame]:
    """Everything that does not depend on the district filter: by-district tables hold each district's view."""
    from .indicators import case_durations

    f = {"traeger": traeger, "zielgruppe": zielgruppe}
    with store.snapshot():
        return in_parallel({
            "main": lambda: indicator_table(store, kommune, filters=f, kennzahlen=_CASELOAD_KENNZAHLEN),
            "districts": lambda: indicator_table(store, kommune, by="stadtbezirk", filters=f,
                                                 kennzahlen=_CASELOAD_KENNZAHLEN),
            "needs": lambda: indicator_table(store, kommune, by="stadtbezirk", merkmal="handlungsfeld", filters=f,
                                             kennzahlen=["faelle_offen"]),
            "closures": lambda: indicator_table(store, kommune, merkmal="abschlussgrund", filters=f,
                                                kennzahlen=["abschluesse"]),
            "closures_by_district": lambda: indicator_table(store, kommune, by="stadtbezirk", merkmal="abschlussgrund",
                                                            filters=f, kennzahlen=["abschluesse"]),
            "durations": lambda: case_durations(store, kommune, merkmal="zielgruppe", filters=f),
            "partner": lambda: store.query("SELECT partner_id, name FROM partner WHERE kommune = ?", [kommune]),
        })


def _provider_views(store: Store, kommune: str, zielgruppe: str | None) -> dict[str, pd.DataFrame]:
    """Load per post of every provider, overall and in each district (never filtered by provider)."""
    f = {"zielgruppe": zielgruppe}
    with store.snapshot():
        return in_parallel({
            "providers": lambda: indicator_table(store, kommune, by="traeger", filters=f, kennzahlen=["faelle_je_vzae"]),
            "providers_by_district": lambda: indicator_table(store, kommune, by="traeger", merkmal="stadtbezirk",
                                                             filters=f, kennzahlen=["faelle_je_vzae"])})


def _select_district(base: dict[str, pd.DataFrame], providers: dict[str, pd.DataFrame],
                     stadtbezirk: str | None) -> dict[str, pd.DataFrame]:
    """A district's view out of the by-district tables, without asking the database again.

    Filtering cases to a district restricts population and posts to it, exactly
    as grouping (or breaking down) by district does, so the district's rows of
    the by-district tables equal the tables filtered to that district.
    """
    views = dict(base, providers=providers["providers"])
    if stadtbezirk is not None:
        d = base["districts"]
        views["main"] = d.loc[d["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk")
        c = base["closures_by_district"]
        views["closures"] = c.loc[c["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk")
        views["durations"] = base["durations"].loc[base["durations"]["stadtbezirk"] == stadtbezirk]
        p = providers["providers_by_district"]
        views["providers"] = p.loc[p["auspraegung"] == stadtbezirk].drop(columns=["merkmal", "auspraegung"])
    return views


#: the filter values each caseload figure depends on
_DEPENDS = {
    "trend": ("kommune", "stadtbezirk", "traeger", "zielgruppe"),
    "load": ("kommune", "stadtbezirk", "zielgruppe", "zeitraum"),
    "reach": ("kommune", "traeger", "zielgruppe", "zeitraum"),
    "needs": ("kommune", "traeger", "zielgruppe", "zeitraum"),
    "survival": ("kommune", "stadtbezirk", "traeger", "zielgruppe"),
    "closures": ("kommune", "stadtbezirk", "traeger", "zielgruppe", "zeitraum"),
}


def _heading(de: str, en: str) -> widgets.HTML:
    return widgets.HTML(f"<h3>{html.escape(tr({'de': de, 'en': en}))}</h3>")


class _LookAhead:
    """Views prepared in a background thread during a pause, by key: what a viewer is likely to ask for next
    (:meth:`FilterBar.neighbours`). Only views are prepared, never widgets; at most ``kept`` are kept."""

    def __init__(self, kept: int = 32):
        self.kept = kept
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kimtools-ahead")
        self._futures: dict[tuple, Future] = {}

    def take(self, key: tuple) -> object | None:
        """The views prepared for ``key`` (waiting for them if under way), or None. Guesses not yet started are
        dropped: the viewer's choice goes first, and the guesses follow from it."""
        for guess, future in list(self._futures.items()):
            if future.cancel():
                del self._futures[guess]
        future = self._futures.pop(key, None)
        return None if future is None or future.exception() else future.result()

    def prepare(self, jobs: dict[tuple, Callable[[], object]]) -> None:
        """Run ``jobs`` (key: views) not yet prepared, after half a second in which the browser draws the page."""
        self._pool.submit(time.sleep, 0.5)
        for key, job in jobs.items():
            if key not in self._futures:
                self._futures[key] = self._pool.submit(job)
        for key in list(self._futures)[:-self.kept]:   # the oldest go: a long meeting must not fill the memory
            self._futures.pop(key).cancel()

    def clear(self) -> None:
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()


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
            figures = self._figures(self.filters.value)
        except KimtoolsError as exc:
            self.message.value = error_html(exc)
            self.widget = widgets.VBox([self.message])
            return False
        self.figures = {name: PlotlyView(fig) for name, fig in figures.items()}
        self._shown = self._keys(self.filters.value)
        self.filters.observe(self.show)
        return True

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
        """The kommune's referrals by month (:func:`~kimtools.network.referral_months`), read once per kommune:
        every window and filter of the referral pages is cut from them."""
        from .network import referral_months

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
            for name, fig in self._iter_figures(v, stale):
                self._shown.pop(name, None)   # counted as shown again only once the update went through
                self.figures[name].show(fig)
                self._shown[name] = keys[name]
            self._show_below(v)
            self.message.value = ""
        except Exception as exc:  # noqa: BLE001 - a callback must never fail silently
            self.message.value = error_html(exc)


def _built(builders: dict[str, Callable[[], go.Figure]], names: Iterable[str] | None) -> Iterator[tuple[str, go.Figure]]:
    for name in (builders if names is None else names):
        yield name, builders[name]()


class CaseloadPanel(_FilteredPanel):
    """Whom KIM reaches, where, with which needs, at what load: tiles and six figures under one filter bar.

    Counts from 1 to ``minimum - 1`` are shown as "< minimum"; rates resting on
    such counts are not shown. ``band`` is the target band of cases per post.
    A filter change recomputes and re-sends only the figures that depend on it;
    a district change needs no database query (the by-district tables hold it).
    """

    depends = _DEPENDS

    def __init__(self, store: Store | None = None, minimum: int = 3, band: tuple[float, float] | None = None):
        from .figures import DEFAULT_BAND

        self.band = band or DEFAULT_BAND
        self._cache: dict[tuple, object] = {}
        if not self._start(store, minimum):
            return
        heading, f = _heading, self.figures
        self.widget = widgets.VBox([
            self.filters.widget, self.message, self.tiles,
            heading("Verlauf", "Trend"), f["trend"],
            heading("Belastung der Träger", "Load of the providers"), f["load"],
            heading("Reichweite in den Bezirken", "Reach in the districts"), f["reach"],
            heading("Bedarfe", "Needs"), f["needs"],
            heading("Verweildauer und Abschlüsse", "Duration and closures"), widgets.HBox([f["survival"], f["closures"]]),
        ])
        self._show_tables(self.filters.value)

    def _views(self, v: dict) -> dict[str, pd.DataFrame]:
        key = ("views", v["kommune"], v["stadtbezirk"], v["traeger"], v["zielgruppe"])
        if key not in self._cache:
            self._cache[key] = self._select(v)
        return self._cache[key]

    def _select(self, v: dict) -> dict[str, pd.DataFrame]:
        base_key = ("base", v["kommune"], v["traeger"], v["zielgruppe"])
        if base_key not in self._cache:
            self._cache[base_key] = _kommune_views(self.store, v["kommune"], v["traeger"], v["zielgruppe"])
        prov_key = ("providers", v["kommune"], v["zielgruppe"])
        if prov_key not in self._cache:
            self._cache[prov_key] = _provider_views(self.store, v["kommune"], v["zielgruppe"])
        return _select_district(self._cache[base_key], self._cache[prov_key], v["stadtbezirk"])

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:
        from . import codes
        from . import figures as F

        d, q = self._views(v), v["zeitraum"]
        pick = lambda t, k: t.loc[(t["kennzahl"] == k) & (t["zeitraum"] == q)]  # noqa: E731
        scope = ", ".join(x for x in (v["kommune"], v["stadtbezirk"]) if x)
        where = f", {v['stadtbezirk']}" if v["stadtbezirk"] else ""
        year = q[:4] if q else ""

        def survival():
            return F.survival_curve(d["durations"], groups=list(codes.ZIELGRUPPE), height=420)

        def closures():
            c = d["closures"]
            c = c.loc[(c["kennzahl"] == "abschluesse") & c["zeitraum"].str.startswith(year)]
            fig = F.closure_reasons(c, title=tr({"de": f"Abschlüsse nach Grund {year}", "en": f"closures by reason {year}"}),
                                    minimum=self.minimum)
            return fig.update_layout(height=420)

        builders = {
            "trend": lambda: F.counts_over_time(
                d["main"], bars=("neuzugaenge", "abschluesse"), minimum=self.minimum,
                title=tr({"de": f"{scope}: Neuzugänge, Abschlüsse und offene Fälle je Quartal",
                          "en": f"{scope}: new, closed and open cases per quarter"})),
            "load": lambda: F.load_per_post(
                pick(d["providers"], "faelle_je_vzae"), dict(zip(d["partner"]["partner_id"], d["partner"]["name"])),
                self.band, minimum=self.minimum,
                title=tr({"de": f"Fälle je Vollzeitstelle am Ende von {q}{where}",
                          "en": f"cases per full-time post at the end of {q}{where}"})),
            "reach": lambda: F.reach_by_district(
                pick(d["districts"], "reichweite_je_1000"), minimum=self.minimum,
                title=tr({"de": f"Erreichte Personen je 1.000 Einwohner, {q} (95-%-Intervall)",
                          "en": f"persons reached per 1,000 inhabitants, {q} (95 % interval)"})),
            "needs": lambda: F.needs_heatmap(
                pick(d["needs"], "faelle_offen"), minimum=self.minimum,
                title=tr({"de": f"Offene Fälle je Handlungsfeld und Bezirk am Ende von {q}",
                          "en": f"open cases per needs area and district at the end of {q}"})),
            "survival": survival,
            "closures": closures,
        }
        return _built(builders, names)

    def _show_tables(self, v: dict) -> None:
        from .indicators import KENNZAHLEN

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

        lang = current_lang()
        items = []
        for k, note in (("personen_erreicht", tr({"de": f"im {q}", "en": f"in {q}"})),
                        ("faelle_offen", tr({"de": f"am Ende von {q}", "en": f"at the end of {q}"})),
                        ("neuzugaenge", tr({"de": f"im {q}; Vorquartal {count('neuzugaenge', prev)}",
                                            "en": f"in {q}; previous quarter {count('neuzugaenge', prev)}"}))):
            items.append(tile(KENNZAHLEN[k][lang], count(k, q), note, KENNZAHLEN[k]["definition_" + lang]))
        load = get("faelle_je_vzae", q)
        shown = load is not None and pd.notna(load["wert"]) and int(load["zaehler"]) >= self.minimum
        items.append(tile(KENNZAHLEN["faelle_je_vzae"][lang], fmt_number(float(load["wert"]), 1) if shown else "–",
                           tr({"de": f"Zielkorridor {fmt_number(self.band[0])}–{fmt_number(self.band[1])}",
                               "en": f"target band {fmt_number(self.band[0])}–{fmt_number(self.band[1])}"}),
                           KENNZAHLEN["faelle_je_vzae"]["definition_" + lang],
                           over=shown and float(load["wert"]) > self.band[1]))
        self.tiles.value = tiles(items)


# ----------------------------------------------------------------------------- referral network
def network_views(store: Store, kommune: str, zeitraum: str, stadtbezirk: str | None = None, traeger: str | None = None,
                  zielgruppe: str | None = None, months: dict[str, pd.DataFrame] | None = None,
                  fixed: dict[str, object] | None = None, outliers: bool = True) -> dict[str, object]:
    """What the network view needs for the twelve months up to the end of quarter ``zeitraum`` (aggregates,
    and the waits only as input of curves and intervals). ``months`` (:func:`~kimtools.network.referral_months`
    of the kommune) and ``fixed`` (:func:`network_fixed` of the kommune and filters) are read here when not given;
    of ``fixed`` only the partners are needed here (the rest is passed through). ``outliers``: also the partner
    verdicts (:func:`~kimtools.network.partner_outliers`)."""
    from . import network as N

    start, end = N.twelve_months(zeitraum)
    f = {"stadtbezirk": stadtbezirk, "traeger": traeger, "zielgruppe": zielgruppe}
    window = N.referral_window(months if months is not None else N.referral_months(store, kommune), start, end, f)
    fixed = fixed if fixed is not None else network_fixed(store, kommune, f)
    edges, partners, waits = window["edges"], fixed["partners"], window["waits"]
    views = {**fixed, "start": start, "end": end, "edges": edges, "waits": waits, "sankey": window["sankey"],
             "domains": window["domains"], "graph": N.referral_graph(edges, partners)}
    if outliers:
        views["outliers"] = N.partner_outliers(edges, waits, partners)
    return views


def network_fixed(store: Store, kommune: str, filters: dict[str, str | None]) -> dict[str, object]:
    """What the network view shows independently of the quarter: partners, open loops of every quarter, top gaps."""
    from . import network as N
    from .gaps import gap_table, top_gaps

    with store.snapshot():
        return in_parallel({"partners": lambda: N.partner_table(store, kommune),
                            "loops": lambda: indicator_table(store, kommune, filters=filters, kennzahlen=["offene_schleifen"]),
                            "gaps": lambda: top_gaps(gap_table(store, kommune, filters=filters))})


def _network_key(v: dict) -> tuple:
    return tuple(v[k] for k in ("kommune", "zeitraum", "stadtbezirk", "traeger", "zielgruppe"))


def _network_window(store: Store, v: dict, months: dict[str, pd.DataFrame], partners: pd.DataFrame,
                    fixed: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, object]:
    """The network page's views for filter values ``v``: the window cut from ``months``, then the quarter-independent
    part ``fixed()`` (asked for last: it may still be under way in another thread)."""
    f = {c: v[c] for c in ("stadtbezirk", "traeger", "zielgruppe")}
    window = network_views(store, v["kommune"], v["zeitraum"], **f, months=months, fixed={"partners": partners},
                           outliers=False)
    return {"partners": partners, **fixed(), **window}


def _network_base(store: Store, kommune: str, filters: dict[str, str | None]) -> dict[str, pd.DataFrame]:
    """The kommune's open loops, overall and by district, and its gap table with the districts, under the
    provider and target-group ``filters``: every district's share of :func:`network_fixed` is cut from these."""
    from .gaps import gap_table

    with store.snapshot():
        return in_parallel({
            "loops": lambda: indicator_table(store, kommune, filters=filters, kennzahlen=["offene_schleifen"]),
            "loops_by_district": lambda: indicator_table(store, kommune, by="stadtbezirk", filters=filters,
                                                         kennzahlen=["offene_schleifen"]),
            "gaps": lambda: gap_table(store, kommune, filters=filters)})


def _district_fixed(base: dict[str, pd.DataFrame], stadtbezirk: str | None) -> dict[str, pd.DataFrame]:
    """Open loops and top gaps of one district (or the whole kommune) out of :func:`_network_base`, without
    asking the database: filtering cases to a district equals grouping them by district."""
    from .gaps import top_gaps

    loops, gaps = base["loops"], base["gaps"]
    if stadtbezirk is not None:
        by = base["loops_by_district"]
        loops = by.loc[by["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk").reset_index(drop=True)
        gaps = gaps.loc[gaps["stadtbezirk"] == stadtbezirk].reset_index(drop=True)
    return {"loops": loops, "gaps": top_gaps(gaps)}


class NetworkPanel(_FilteredPanel):
    """Who refers to whom and what becomes of it: tiles, network, funnel, gaps, partners that stand out,
    flows, legal domains and waiting times, for the twelve months up to the chosen quarter.

    Counts from 1 to ``minimum - 1`` are not shown; links under ``minimum`` are not drawn. The kommune's
    referrals are read once by month (:func:`~kimtools.network.referral_months`); a quarter or filter change
    cuts its window out of them. Open loops and gaps are read for the kommune and all its districts at once, per
    provider and target group; a district change asks the database nothing. After each change, once the page is
    drawn, the other districts and the neighbouring quarters are prepared in the background (:meth:`_look_ahead`),
    so that stepping through them only sends figures.
    """

    def __init__(self, store: Store | None = None, minimum: int = 3):
        self._bases: dict[tuple, Future] = {}   # open loops and gaps of every district, per kommune and filters
        self._fixed: dict[tuple, Future] = {}   # quarter-independent views per filter combination
        self._partners: dict[str, pd.DataFrame] = {}
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="kimtools-network")
        self._ahead = _LookAhead()
        self.gaps_html = widgets.HTML()
        self.outliers_html = widgets.HTML()
        if not self._start(store, minimum):
            return
        heading, f = _heading, self.figures
        self.widget = widgets.VBox([
            self.filters.widget, self.message, self.tiles,
            heading("Netz der Vermittlungen", "Referral network"), f["network"],
            heading("Was aus Vermittlungen wird", "What becomes of referrals"), f["funnel"],
            heading("Angebotslücken", "Service gaps"), self.gaps_html,
            heading("Partner, die sich abheben", "Partners that stand out"), self.outliers_html,
            heading("Wege der Vermittlungen", "Referral paths"), f["sankey"],
            heading("Rechtskreise und Handlungsfelder", "Legal domains and needs areas"), f["domains"],
            heading("Wartezeit bis zum Ersttermin", "Wait for a first appointment"), f["waits"],
        ])
        self._show_tables(self.filters.value)
        self._show_below(self.filters.value)

    def _views(self, v: dict) -> dict[str, object]:
        key = _network_key(v)
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
                    _network_base, self.store, k, {"traeger": f["traeger"], "zielgruppe": f["zielgruppe"]})
            if fixed_key not in self._fixed:   # after the base in the same single worker, so it is there
                base = self._bases[base_key]
                self._fixed[fixed_key] = self._reader.submit(lambda: _district_fixed(base.result(), f["stadtbezirk"]))
            if k not in self._partners:
                from .network import partner_table

                self._partners[k] = partner_table(self.store, k)
            self._data = _network_window(self.store, v, self._monthly_referrals(k), self._partners[k],
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
        self._ahead.prepare({_network_key(g): functools.partial(
            _network_window, self.store, g, months, partners,
            functools.partial(_district_fixed, base.result(), g["stadtbezirk"])) for g in self.filters.neighbours(v)})

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:
        from . import figures as F
        from . import network as N

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
        from .indicators import KENNZAHLEN
        from .indicators.stats import km_median, wilson_interval

        d, lang = self._views(v), current_lang()
        out = d["edges"].loc[d["edges"]["richtung"] == "aus"]
        sent, answered, accepted = (int(out[c].sum()) for c in ("n", "beantwortet", "angenommen"))
        items = [tile(tr({"de": "Vermittlungen", "en": "referrals"}), self._count(sent),
                       tr({"de": "in 12 Monaten", "en": "in 12 months"}), KENNZAHLEN["vermittlungen"]["definition_" + lang])]
        if answered >= self.minimum and accepted >= self.minimum and answered - accepted >= self.minimum:
            lo, hi = wilson_interval(pd.Series([accepted]), pd.Series([answered]))
            rate = fmt_number(100 * accepted / answered, 0) + " %"
            note = tr({"de": f"95 %: {fmt_number(100 * lo[0], 0)}–{fmt_number(100 * hi[0], 0)} %",
                       "en": f"95 %: {fmt_number(100 * lo[0], 0)}–{fmt_number(100 * hi[0], 0)} %"})
        else:
            rate, note = "–", tr({"de": "zu wenige beantwortete", "en": "too few answered"})
        items.append(tile(KENNZAHLEN["annahmequote"][lang], rate, note, KENNZAHLEN["annahmequote"]["definition_" + lang]))
        loops = d["loops"].loc[d["loops"]["zeitraum"] == v["zeitraum"], "zaehler"]
        items.append(tile(KENNZAHLEN["offene_schleifen"][lang], self._count(loops.iloc[0]) if len(loops) else "–",
                           tr({"de": f"am Ende von {v['zeitraum']}", "en": f"at the end of {v['zeitraum']}"}),
                           KENNZAHLEN["offene_schleifen"]["definition_" + lang]))
        med = km_median(d["waits"].assign(_all=0), ["_all"])["median"].iloc[0] if len(d["waits"]) >= 20 else float("nan")
        items.append(tile(KENNZAHLEN["wartezeit_median_tage"][lang], "–" if pd.isna(med) else fmt_number(med, 0),
                           tr({"de": "Tage, Kaplan–Meier", "en": "days, Kaplan–Meier"}),
                           KENNZAHLEN["wartezeit_median_tage"]["definition_" + lang]))
        self.tiles.value = tiles(items)

    def _show_below(self, v: dict) -> None:
        from .network import partner_outliers

        d = self._views(v)
        self.gaps_html.value = gaps_html(d["gaps"].head(8), self.minimum)
        if "outliers" not in d:   # below the figures: computed while the browser draws them
            d["outliers"] = partner_outliers(d["edges"], d["waits"], d["partners"])
        self.outliers_html.value = outliers_html(d["outliers"])
        self._look_ahead(v)


def _note(text: str) -> widgets.HTML:
    return widgets.HTML(f"<p class='kim-note'>{html.escape(text)}</p>")


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
    depends = {"reach": ("kommune", "zeitraum")}   # every district on one view

    def __init__(self, store: Store | None = None, minimum: int = 3):
        from .steering import explain

        self._base: dict[str, dict] = {}
        self._state: dict[str, str] = {}
        self._windows: dict[tuple, dict] = {}
        self._ahead = _LookAhead()
        self.stalls_html, self.gaps_html, self.status_note = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.footer = widgets.HTML()
        if not self._start(store, minimum):
            return
        self.printable = DownloadButton(tr({"de": "Druckfassung (A4, HTML) herunterladen",
                                            "en": "download printable version (A4, HTML)"}), self._printable)
        heading, f = _heading, self.figures
        self.widget = widgets.VBox([
            self.filters.widget, self.message, self.tiles,
            heading("Verlauf", "Trend"), f["trend"], _note(explain("trend")),
            heading("Die Stadtbezirke", "The districts"), f["reach"], _note(explain("reach")),
            heading("Vermittlungen", "Referrals"), f["funnel"], _note(explain("funnel")),
            heading("Partner, bei denen Vermittlungen stocken", "Partners where referrals stall"), self.stalls_html,
            _note(explain("stalls")),
            heading("Die größten Angebotslücken", "The largest service gaps"), self.gaps_html, _note(explain("gaps")),
            heading("Aufenthaltsstatus", "Residence status"), f["status"], self.status_note,
            self.printable, self.footer,
        ])
        self._show_tables(self.filters.value)
        self._show_below(self.filters.value)

    def _views(self, v: dict) -> dict[str, object]:
        from .steering import kommune_views, select_district, window_views

        k = v["kommune"]
        if k not in self._base:
            self._base[k] = kommune_views(self.store, k)
        key = (k, v["zeitraum"], v["stadtbezirk"])
        if key not in self._windows:
            if len(self._windows) >= 64:   # a long meeting must not fill the memory
                self._windows.pop(next(iter(self._windows)))
            prepared = self._ahead.take(key)
            self._windows[key] = prepared if prepared is not None else window_views(
                self.store, k, v["zeitraum"], v["stadtbezirk"], self._monthly_referrals(k))
        base = self._base[k]
        return {**self._windows[key], "kommune": k, "zeitraum": v["zeitraum"], "stadtbezirk": v["stadtbezirk"],
                "main": select_district(base, v["stadtbezirk"]), "districts": base["districts"]}

    def _show_below(self, v: dict) -> None:
        """Once the page is drawn, prepare the windows of the neighbouring districts and quarters."""
        from .steering import window_views

        k, months = v["kommune"], self._monthly_referrals(v["kommune"])
        self._ahead.prepare({key: functools.partial(window_views, self.store, *key, months)
                             for key in ((k, g["zeitraum"], g["stadtbezirk"]) for g in self.filters.neighbours(v))
                             if key not in self._windows})

    def _iter_figures(self, v: dict, names: Iterable[str] | None = None) -> Iterator[tuple[str, go.Figure]]:
        from .steering import steering_figures

        return steering_figures(self._views(v), self.minimum, names).items()

    def _show_tables(self, v: dict) -> None:
        from .steering import data_state, explain, key_figure_tiles, no_status_changes

        d = self._views(v)
        self.tiles.value = tiles(key_figure_tiles(d["main"], v["zeitraum"], self.minimum))
        self.stalls_html.value = outliers_html(d["outliers"], stalls_only=True)
        self.gaps_html.value = gaps_html(d["gaps"], self.minimum)
        self.status_note.value = f"<p class='kim-note'>{html.escape(explain('status') if len(d['transitions']) else no_status_changes())}</p>"
        if v["kommune"] not in self._state:   # changes only with an import, which a dashboard does not make
            self._state[v["kommune"]] = data_state(self.store, [v["kommune"]])
        self.footer.value = f"<p class='kim-note'>{html.escape(self._state[v['kommune']])}</p>"

    def _printable(self) -> tuple[str, str, str]:
        from .report import lenkungskreis_html, lenkungskreis_name

        v = self.filters.value
        page = lenkungskreis_html(self.store, v["kommune"], v["zeitraum"], v["stadtbezirk"], self.minimum)
        return lenkungskreis_name(v["kommune"], v["zeitraum"], v["stadtbezirk"]) + ".html", "text/html", page


class VergleichPanel:
    """Cities, or all their districts, compared from merged comparison bundles (never from another city's
    cases): a funnel plot for one indicator and period, small multiples over the quarters and the peer
    table of all comparable indicators with deviations marked only where they are clear.
    ``folder``: merged tables of ``kimtools compare --out`` (default :func:`~kimtools.exchange.default_comparison_dir`).
    """

    def __init__(self, folder: str | Path | None = None):
        from .comparison import comparable_indicators
        from .exchange import default_comparison_dir, read_merged

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
            _heading("Über die Zeit", "Over time"), self.multiples,
            _heading("Alle vergleichbaren Kennzahlen", "All comparable indicators"), self.table,
            _heading("Verglichene Pakete", "Bundles compared"), self.bundles])

    def _bundles_html(self) -> str:
        p = self.data.pakete.assign(anteil=lambda f: f["anteil_geschuetzt"].map(lambda v: f"{fmt_number(100 * v, 1)} %"))
        return html_table(p, ["kommune", "von", "bis", "zellen", "geschuetzt", "anteil"])

    def show(self, _change=None) -> None:
        from .comparison import bundle_units, comparable_indicators
        from .figures import funnel_plot, small_multiples
        from .indicators import KENNZAHLEN

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
        from .comparison import peer_table, rate_text

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


# ----------------------------------------------------------------------------- planning
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
        from .figures import DEFAULT_BAND

        self.horizon = horizon
        self._views_cache: dict[str, dict] = {}
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
        heading, f = _heading, self.figures
        self.widget = widgets.VBox([
            self.filters.widget, self.message,
            heading("Aufenthaltsstatus", "Residence status"), self.pathway_tiles, f["status"], f["expiry"],
            heading("Prognose", "Forecast"), widgets.HBox([f["intake"], f["open"]]), self.forecast_note,
            heading("Stellenplanung", "Staffing"), widgets.HBox([self.target, self.growth, self.quarter],
                                                               layout=widgets.Layout(flex_flow="row wrap")),
            self.posts, f["staffing"], self.staffing_table,
            heading("Bedarfsindex der Stadtbezirke", "Need index of the districts"), f["need"], self.need_table,
        ])
        self._show_tables(self.filters.value)

    def _views(self, kommune: str) -> dict[str, object]:
        from .planning import planning_views

        if kommune not in self._views_cache:
            self._views_cache.clear()   # one kommune at a time: forecasts are cheap to redo, memory is not
            self._views_cache[kommune] = planning_views(self.store, kommune, self.horizon)
            self._prepare_scenario(self._views_cache[kommune])
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
                                             description=name or tr({"de": "stadtweit", "en": "city-wide"}),
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
        from .planning import forecast_of, staffing

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
        from . import figures as F
        from .pathways import opportunity_expiry
        from .planning import forecast_of, need_index

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
                return F.apply_style(go.Figure().update_layout(title=tr(
                    {"de": "Keine Prognose der offenen Fälle je Stadtbezirk möglich",
                     "en": "No forecast of open cases per district possible"}), height=380))
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
            "need": lambda: F.need_index_figure(need_index(d["bezirke"], d["reach"], d["gaps"]), title=tr(
                {"de": f"{v['kommune']}: Bedarfsindex je Stadtbezirk", "en": f"{v['kommune']}: need index per district"})),
        }
        return _built(builders, names)

    def _show_tables(self, v: dict) -> None:
        from .pathways import opportunity_outcomes
        from .planning import need_index

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
                     tr({"de": f"{fmt_number(100 * r['anteil'], 0)} % der Personen", "en": f"{fmt_number(100 * r['anteil'], 0)} % of the persons"})
                     if moved_ok else "–",
                     tr({"de": "Personen, deren § 104c in eine Aufenthaltserlaubnis nach § 25a oder § 25b überging.",
                         "en": "Persons whose § 104c turned into a residence permit under § 25a or § 25b."})),
                tile(tr({"de": "binnen 18 Monaten (geschätzt)", "en": "within 18 months (estimated)"}),
                     fmt_number(100 * r["anteil_18_monate"], 0) + " %" if moved_ok else "–",
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
        self.need_table.value = html_table(need, ["stadtbezirk", "auslaender", "reichweite_je_1000", "luecken", "bedarfsindex"],
                                           {"reichweite_je_1000": lambda x: fmt_number(x, 2),
                                            "bedarfsindex": lambda x: fmt_number(x, 2)})

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
        plan = plan.assign(stadtbezirk=plan["stadtbezirk"].fillna(tr({"de": "gesamt (mit stadtweiten Stellen)",
                                                                       "en": "total (with city-wide posts)"})),
                           faelle_prognose=plan["faelle"].round())
        one = lambda x: fmt_number(x, 1)  # noqa: E731
        self.staffing_table.value = html_table(
            plan, ["stadtbezirk", "faelle_prognose", "vzae", "vzae_noetig", "vzae_noetig_oben", "luecke_vzae"],
            {"vzae": one, "vzae_noetig": one, "vzae_noetig_oben": one, "luecke_vzae": one,
             "faelle_prognose": lambda x: fmt_number(x, 0)})

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
