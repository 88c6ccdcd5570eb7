"""ipywidgets panels and helpers shared by notebooks and dashboards.

Patterns that hold up under Voilà and nbclient (see ``shared/jupyter-stack-notes.md``):
figures are ``go.FigureWidget`` objects updated in place inside
``batch_update``; every callback catches :class:`~kimtools.errors.KimtoolsError`
and shows its message (Voilà hides tracebacks, and a traceback could show data);
data are loaded once when a panel is built, callbacks only filter.
"""

from __future__ import annotations

import html
from typing import Callable, Iterable

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from .disclosure import mask_small
from .errors import KimtoolsError
from .figures import counts_over_time
from .i18n import current_lang, fmt_date, fmt_number, tr
from .indicators import indicator_table
from .labels import column_label
from .quality import quality_summary
from .store import Store

__all__ = ["html_table", "update_figure_widget", "error_html", "kommune_dropdown", "DatenstandPanel"]

_CSS = """<style>
.kim-table {border-collapse: collapse; font-size: 14px; margin: 4px 0 12px 0}
.kim-table th {text-align: left; border-bottom: 2px solid #555; padding: 4px 10px}
.kim-table td {border-bottom: 1px solid #ddd; padding: 4px 10px}
.kim-table td.num {text-align: right; font-variant-numeric: tabular-nums}
.kim-error {color: #8a1c1c; background: #fdecea; padding: 8px 12px; border-left: 4px solid #D55E00}
.kim-note {color: #555; font-size: 13px}
</style>"""


def _cell(value) -> tuple[str, bool]:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "–", True
    if isinstance(value, pd.Timestamp):
        return (fmt_date(value.date()) if value == value.normalize() else f"{fmt_date(value.date())} {value:%H:%M}"), False
    if isinstance(value, bool):
        return tr({"de": "ja", "en": "yes"}) if value else tr({"de": "nein", "en": "no"}), False
    if isinstance(value, int) or (hasattr(value, "dtype") and "int" in str(getattr(value, "dtype", ""))):
        return fmt_number(int(value)), True
    if isinstance(value, float):
        return fmt_number(value, 0 if value.is_integer() else 1), True
    return str(value), False


def html_table(frame: pd.DataFrame, columns: Iterable[str] | None = None,
               formatters: dict[str, Callable[[object], str]] | None = None) -> str:
    """An HTML table with German labels and number/date formats; cells are escaped."""
    columns = list(columns or frame.columns)
    formatters = formatters or {}
    head = "".join(f"<th>{html.escape(column_label(c))}</th>" for c in columns)
    rows = []
    for record in frame[columns].itertuples(index=False):
        cells = []
        for c, v in zip(columns, record):
            if c in formatters:
                text, num = formatters[c](v), True
            else:
                text, num = _cell(v)
            cells.append(f"<td class='num'>{html.escape(text)}</td>" if num else f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"{_CSS}<table class='kim-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def error_html(exc: KimtoolsError) -> str:
    return f"{_CSS}<div class='kim-error'>{html.escape(exc.message())}</div>"


def update_figure_widget(fw: go.FigureWidget, fig: go.Figure) -> None:
    """Copy ``fig`` into ``fw`` in place, in one message to the browser.

    Both must have the same traces in the same order (build ``fw`` from a first
    figure of the same builder); only their values change.
    """
    if [t.type for t in fw.data] != [t.type for t in fig.data]:
        raise ValueError("update_figure_widget needs figures with the same traces; build the FigureWidget from the first figure")
    with fw.batch_update():
        for target, source in zip(fw.data, fig.data):
            target.update(source.to_plotly_json(), overwrite=True)
        fw.layout.update(fig.layout.to_plotly_json(), overwrite=True)


def kommune_dropdown(kommunen: list[str], value: str | None = None) -> widgets.Dropdown:
    return widgets.Dropdown(options=kommunen, value=value or (kommunen[0] if kommunen else None),
                            description=column_label("kommune"), style={"description_width": "initial"},
                            layout=widgets.Layout(width="360px"))


def _small(value) -> str:
    return "< 3" if value is pd.NA or value is None else fmt_number(int(value))


class DatenstandPanel:
    """What the store holds per kommune: counts, data-quality summary, import log and intake over time.

    Everything shown is aggregated; counts from 1 to 2 are shown as "< 3".
    """

    def __init__(self, store: Store | None = None, minimum: int = 3):
        self.store = store or Store()
        self.minimum = minimum
        self.message = widgets.HTML()
        try:
            with self.store.snapshot():
                self.info = self.store.info()
                self.log = self.store.import_log()
                tables = self.store.load(tables=("faelle", "beratungen", "vermittlungen"))
                self.indicators = indicator_table(self.store, by="kommune", period="quarter")
            self.quality = quality_summary(tables)
        except KimtoolsError as exc:
            self.info = pd.DataFrame(columns=["kommune"])
            self.message.value = error_html(exc)
        kommunen = self.info["kommune"].tolist()
        self.dropdown = kommune_dropdown(kommunen)
        self.summary = widgets.HTML()
        self.quality_html = widgets.HTML()
        self.log_html = widgets.HTML()
        self.figure = go.FigureWidget(self._figure(kommunen[0]) if kommunen else None)
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
        except KimtoolsError as exc:
            self.message.value = error_html(exc)

    def _show(self, kommune: str) -> None:
        info = self.info.loc[self.info["kommune"] == kommune]
        self.summary.value = html_table(info, ["faelle", "beratungen", "vermittlungen", "partner", "vzae_aktuell", "daten_von",
                                               "daten_bis", "letzter_import", "quelle"])
        q = self.quality.loc[self.quality["kommune"] == kommune].copy()
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
        update_figure_widget(self.figure, self._figure(kommune))

    def _figure(self, kommune: str) -> go.Figure:
        rows = self.indicators.loc[self.indicators["kommune"] == kommune]
        title = tr({"de": f"{kommune}: Neuzugänge und offene Fälle je Quartal",
                    "en": f"{kommune}: new and open cases per quarter"})
        fig = counts_over_time(rows, title=title, minimum=self.minimum)
        fig.update_layout(height=420)
        return fig
