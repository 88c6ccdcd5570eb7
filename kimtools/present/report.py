"""The per-city report: ``notebooks/05-bericht.ipynb`` run by papermill, rendered by nbconvert to one HTML file.

The report is built from the city's comparison bundle (:func:`kimtools.exchange.bundle.build_bundle`): only
protected counts and rates derived from them, so it can go to another city or the Lenkungskreis as it
is. The HTML holds no code, embeds plotly.js once (it opens offline) and loads nothing from the net.
"""

from __future__ import annotations

import html as H
import re
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from ..errors import InputError, KimtoolsError, UsageError
from ..indicators.disclosure import HIDDEN
from ..i18n import current_lang, fmt_date, fmt_number, tr
from ..paths import NOTEBOOKS, slug
from ..periods import period_label
from ..progress import progress
from ..store import SPAN_TABLE, Store
from ..store.meetings import Meeting, freeze, remove
from ..views.steering import meeting_commentary, steering_views
from .steering import data_state, explain, key_figure_tiles, no_status_changes, since_start_tile, steering_figures
from .figures.maps import is_map
from .labels import column_label, kennzahl_label
from .beschluesse import decisions_html, decisions_summary_html
from .markup import Html, comment_slot, gaps_html, outliers_html, tiles
from .pages import section_title
from .printing import chromium, figure_images, print_pdf, svg_image

__all__ = ["start", "show", "table", "render_report", "render_reports", "TEMPLATE", "lenkungskreis_html",
           "write_lenkungskreis", "lenkungskreis_name", "last_quarter", "figure_images", "svg_image", "print_pdf",
           "write_meeting_views", "freeze_meeting"]

TEMPLATE = NOTEBOOKS / "05-bericht.ipynb"
_CONFIG = {"displaylogo": False, "responsive": True}


def start() -> Html:
    """Put plotly.js (the copy bundled with plotly, no CDN) into the report once, before any figure."""

    return Html(f'<script type="text/javascript">{get_plotlyjs()}</script>')


def show(fig: go.Figure) -> Html:
    """A figure as HTML that draws with the plotly.js of :func:`start` (and as plotly JSON for JupyterLab)."""
    html = fig.to_html(full_html=False, include_plotlyjs=False, config=_CONFIG)
    return Html(html, {"application/vnd.plotly.v1+json": fig.to_plotly_json()})


def table(frame: pd.DataFrame) -> Html:
    """A small table as plain HTML (already formatted strings), without the index."""
    return Html(frame.to_html(index=False, escape=True, border=0, classes="kim-tabelle"))


_STYLE = """<style>
.kim-tabelle { border-collapse: collapse; font-size: 0.9em; }
.kim-tabelle th, .kim-tabelle td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
.kim-tabelle th:first-child, .kim-tabelle td:first-child { text-align: left; }
</style>"""


def render_report(db: str | Path, kommune: str, out: str | Path, first: str | None = None, last: str | None = None,
                  lang: str = "de") -> Path:
    """Run the report notebook for ``kommune`` and write the HTML to ``out``."""
    import papermill as pm

    out = Path(out)
    if out.suffix.lower() != ".html":
        raise UsageError(f"Die Ausgabedatei {out.name} muss auf .html enden.", f"The output file {out.name} must end in .html.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / "bericht.ipynb"
        try:
            nb = pm.execute_notebook(str(TEMPLATE), str(executed), kernel_name="python3", progress_bar=False,
                                     parameters={"KOMMUNE": kommune, "VON": first, "BIS": last,
                                                 "DB": str(Path(db).resolve()), "SPRACHE": lang},
                                     cwd=str(TEMPLATE.parent))
        except pm.PapermillExecutionError as e:
            raise KimtoolsError(f"Der Bericht für {kommune} ließ sich nicht erstellen: {e.evalue}",
                                f"The report for {kommune} could not be made: {e.evalue}") from None
    from .notebook_report import report_html   # nbconvert: only when a report is written

    out.write_text(report_html(nb).replace("</head>", _STYLE + "</head>", 1), encoding="utf-8")
    return out


def render_reports(db: str | Path, kommunen: Iterable[str], folder: str | Path, first: str | None = None,
                   last: str | None = None, lang: str = "de", show_progress: bool = True) -> pd.DataFrame:
    """Batch mode: one report per kommune into ``folder`` (``bericht_<kommune>.html``). A kommune whose
    report fails (e.g. too few cases to protect) is listed with the reason; the others are written."""

    folder = Path(folder)
    rows = []
    kommunen = list(kommunen)
    for kommune in progress(kommunen, tr({"de": "Berichte", "en": "reports"}), disable=not show_progress,
                            unit=tr({"de": "Kommune", "en": "kommune"})):
        target = folder / f"bericht_{slug(kommune)}.html"
        try:
            render_report(db, kommune, target, first, last, lang)
            rows.append((kommune, str(target), ""))
        except KimtoolsError as e:
            rows.append((kommune, "", e.message()))
    return pd.DataFrame(rows, columns=["kommune", "datei", "fehler"])


# ----------------------------------------------------------------------------- building blocks of 05-bericht
def latest_period(bundle) -> str:
    """The last whole year of a bundle, else its last quarter."""
    periods = bundle.metadaten["zeitraeume"]["liste"]
    years = [p for p in periods if len(p) == 4]
    return years[-1] if years else periods[-1]


def header(bundle) -> str:
    """The report's title block (Markdown): kommune, periods, protection."""

    m, s = bundle.metadaten, bundle.metadaten["schutz"]
    created = fmt_date(pd.Timestamp(m["erstellt"]).date())
    share = fmt_number(100 * s["geschuetzt"] / max(s["zellen"], 1), 1)
    return tr({
        "de": f"# KIM-Bericht {m['kommune']}\n\n**Zeitraum** {m['zeitraeume']['von']} bis {m['zeitraeume']['bis']} · "
              f"**erstellt** {created} mit kimtools {m['kimtools_version']}\n\n"
              f"Alle Zahlen stammen aus dem Vergleichspaket der Kommune: Zahlen von 1 bis {s['mindestanzahl'] - 1} und "
              f"Zellen, aus denen sie sich berechnen ließen, sind geschützt ({share} % der Zellen, im Text als „x“, in "
              "Diagrammen als Lücke). Der Bericht kann so an andere Kommunen und den Lenkungskreis gehen.",
        "en": f"# KIM report {m['kommune']}\n\n**Period** {m['zeitraeume']['von']} to {m['zeitraeume']['bis']} · "
              f"**created** {created} with kimtools {m['kimtools_version']}\n\n"
              f"All figures come from the kommune's comparison bundle: counts from 1 to {s['mindestanzahl'] - 1} and "
              f"cells they could be computed from are protected ({share} % of cells, shown as 'x' in tables and as gaps "
              "in charts). The report can go to other kommunen and the steering committee as it is.",
    })


def district_table(bundle, zeitraum: str) -> pd.DataFrame:
    """Districts × the bundle's counts (and reach per 1,000 inhabitants) for one period, formatted for
    reading: German numbers, ``x`` where protected."""

    c = bundle.zaehlungen
    rows = c.loc[(c["merkmal"] == "keins") & (c["zeitraum"] == zeitraum)]
    wide = rows.pivot(index="stadtbezirk", columns="kennzahl", values="anzahl")
    order = [k for k in ("faelle_neu", "faelle_abgeschlossen", "faelle_offen", "personen_einmal", "beratungen",
                         "vermittlungen") if k in wide.columns]
    shown = wide[order].apply(lambda col: col.map(lambda v: HIDDEN if pd.isna(v) else fmt_number(v)))
    shown.columns = [kennzahl_label(k) for k in order]
    rates = bundle.kennzahlen
    reach = rates.loc[(rates["kennzahl"] == "reichweite_je_1000") & (rates["zeitraum"] == zeitraum)]
    shown[kennzahl_label("reichweite_je_1000")] = reach.set_index("stadtbezirk")["wert"].reindex(shown.index).map(
        lambda v: HIDDEN if pd.isna(v) else fmt_number(v, 1))
    districts = sorted(i for i in shown.index if i != "Gesamt") + (["Gesamt"] if "Gesamt" in shown.index else [])
    shown = shown.loc[districts].reset_index().rename(
        columns={"stadtbezirk": column_label("stadtbezirk", kommune=bundle.kommune)})   # a Kreis: "Gemeinde"
    return shown


# ----------------------------------------------------------------------------- the steering committee's page
#: each printed figure's size in px (width, height; ``None``: by its rows), drawn for A4 with 12 mm margins (700 px
#: across); the district and referral figures stand side by side, so that the page fits on two sheets
_PRINT_SIZE = {"trend": (700, 190), "reach": (340, None), "funnel": (340, 250), "status": (700, 170),
               "decisions": (700, None)}

#: at most so many partners in the printed table of stalling referrals (the rest are named as a number): the page
#: stays on two sheets for a city with many partners
_PRINT_PARTNERS = 6
#: … and at most so many districts named per service gap (the most affected; the rest counted)
_PRINT_DISTRICTS = 4

_PRINT_CSS = """<style>
@page { size: A4; margin: 10mm 12mm 9mm 12mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; max-width: 186mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 1mm 0; }
h2 { font-size: 12pt; margin: 3mm 0 1mm 0; border-bottom: 1px solid #999; }
.kim-block { break-inside: avoid; page-break-inside: avoid; }
.kim-pair { display: grid; grid-template-columns: 1fr 1fr; gap: 6mm; }
.kim-caption { font-size: 9.5pt; font-weight: bold; margin: 1mm 0 0 0; }
.kim-note { color: #333; font-size: 8.5pt; margin: 1mm 0 1.5mm 0; }
.kim-comment { font-size: 8.5pt !important; margin: 1mm 0 2mm 0 !important; padding: 1.5mm 3mm !important;
               border-left: 4px solid #222 !important; background: #eee !important;
               -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.kim-figure { display: block; max-width: 100%; height: auto; }
.kim-tiles { gap: 2mm !important; flex-wrap: nowrap !important; margin: 1mm 0 1mm 0 !important; }
.kim-tile { min-width: 0 !important; width: 25%; padding: 1.5mm 2mm !important; border-top: 3px solid #222 !important; }
.kim-tile-value { font-size: 15pt !important; }
.kim-tile-label { font-size: 9pt !important; }
.kim-tile-note { font-size: 7.5pt !important; }
.kim-table { font-size: 8pt !important; margin: 0 !important; }
.kim-table th, .kim-table td { padding: 1px 4px !important; }
.kim-table td { line-height: 1.15; }
table.kim-page { border-collapse: collapse; width: 100%; }
table.kim-page > tbody > tr > td, table.kim-page > tfoot > tr > td { padding: 0; }
.kim-footer { font-size: 7.5pt; color: #333; border-top: 1px solid #999; padding-top: 1mm; text-align: left; }
.kim-annex { break-before: page; page-break-before: always; }
.kim-annex h1 { font-size: 13pt; }
@media screen { body { margin: 10mm auto; } .kim-footer { padding-top: 4mm; } }
</style>"""


def lenkungskreis_name(kommune: str, zeitraum: str, stadtbezirk: str | None = None) -> str:
    """File name stem: ``lenkungskreis_<kommune>[_<bezirk>]_<quartal>``."""
    parts = [kommune, *([stadtbezirk] if stadtbezirk else []), zeitraum]
    return "lenkungskreis_" + "_".join(slug(p) for p in parts)


def lenkungskreis_html(store, kommune: str, zeitraum: str | None = None, stadtbezirk: str | None = None,
                       minimum: int = 3, images: bool = False) -> str:
    """The steering committee's page as one printable HTML document (A4, plotly.js embedded once, no code,
    nothing from the net), dated, with the data state of the kommune in the footer of every printed page.
    ``zeitraum`` defaults to the last quarter with data.
    ``images``: each figure as an SVG image drawn by kaleido (no script in the page: about 85 kB that any browser
    shows at once and prints without waiting; :func:`figure_images`), else drawn by the plotly.js embedded once."""


    store = store if isinstance(store, Store) else Store(store)
    if kommune not in store.kommunen():
        raise InputError(f"Die Kommune {kommune!r} ist nicht im Datenbestand.", f"Kommune {kommune!r} is not in the store.")
    zeitraum = zeitraum or last_quarter(store, kommune)
    views = steering_views(store, kommune, zeitraum, stadtbezirk)
    figures = steering_figures(views, minimum)
    where = kommune + (f", {stadtbezirk}" if stadtbezirk else "")
    created = fmt_date(pd.Timestamp.now().date())

    scripted: list[str] = []   # the figures drawn by plotly.js in the page

    def figure(name: str) -> str:
        """The figure at its printed size, its title as a caption above it (a caption wraps, a plotly title at half
        width would be cut off; as an image's text for screen readers too)."""
        fig = figures[name]
        width, height = _PRINT_SIZE[name]
        margin = dict(t=28, b=10)
        if is_map(fig):   # half a page wide: a small legend beside the map, its source under it
            height, margin = 300, dict(l=2, r=2, t=28, b=22)
            fig.update_layout(legend=dict(font_size=9, title_font_size=9, itemwidth=30, tracegroupgap=0))
            for label in fig.data:
                if label.mode == "text":
                    label.textfont.size = 8
        elif name == "decisions":   # a small figure per implemented decision, as tall as they need
            height = int(fig.layout.height or 200)
        elif height is None:   # a row per district, each named (plotly would leave out names that crowd)
            rows = list(fig.data[0].y) if fig.data and fig.data[0].y is not None else []
            height = 80 + 18 * max(len(rows), 1)
            fig.update_yaxes(tickmode="array", tickvals=rows, tickfont_size=11)
        if name == "trend":   # each quarter on two short lines ("Q3", "2026"), not slanted: the plot keeps its height
            quarters = list(dict.fromkeys(q for trace in fig.data for q in (trace.x if trace.x is not None else ())))
            fig.update_xaxes(tickangle=0, tickfont_size=9, title=None, tickmode="array", tickvals=quarters,
                             ticktext=[f"{q[5:]}<br>{q[:4]}" if re.fullmatch(r"\d{4}-Q\d", str(q)) else q for q in quarters])
        caption = fig.layout.title.text or ""
        fig.update_layout(title=None, width=width, height=height, margin=margin)
        svg = svg_image(fig) if images else None
        if svg:
            drawn = (f"<img class='kim-figure' src='data:image/svg+xml;base64,{svg}' width='{width}' "
                     f"height='{height}' alt='{H.escape(caption, quote=True)}'>")
        else:
            scripted.append(name)
            drawn = fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "staticPlot": True})
        return f"<p class='kim-caption'>{H.escape(caption)}</p>{drawn}"

    def block(section: str, *parts: str) -> str:
        return (f"<section class='kim-block'><h2>{H.escape(section_title('lenkungskreis', section, kommune))}</h2>"
                f"{''.join(parts)}</section>")

    note = lambda text: f"<p class='kim-note'>{H.escape(text)}</p>"  # noqa: E731
    decided = views["beschluesse"]
    said = meeting_commentary(store)   # a frozen meeting state's assessment, per part
    comment = lambda part: comment_slot(part, said.get(part, ""))  # noqa: E731
    status = (figure("status") + note(explain("status", kommune))) if len(views["transitions"]) else note(no_status_changes())
    status += comment("status")
    drawn = {k: block(k, figure(k), note(explain(k, kommune, mapped=len(views["shapes"]) > 0)), comment(k))
             for k in ("trend", "reach", "funnel")}
    body = "".join([
        f"<h1>{H.escape(tr({'de': f'KIM-Lenkungskreis: {where}, {zeitraum}', 'en': f'KIM steering committee: {where}, {zeitraum}'}))}</h1>",
        note(tr({"de": f"Stand {created}. Alle Zahlen sind zusammengefasst; Zahlen von 1 bis {minimum - 1} erscheinen als "
                       f"„< {minimum}“. Vermittlungen, Lücken und Statuswechsel: zwölf Monate bis zum Ende von {zeitraum}.",
                 "en": f"As of {created}. All figures are aggregated; counts from 1 to {minimum - 1} appear as "
                       f"'< {minimum}'. Referrals, gaps and status changes: twelve months up to the end of {zeitraum}."})),
        tiles([*key_figure_tiles(views["main"], zeitraum, minimum), since_start_tile(views["since"], views["end"], minimum)]),
        drawn["trend"],
        f"<div class='kim-pair'>{drawn['reach']}{drawn['funnel']}</div>",
        block("stalls", outliers_html(views["outliers"], stalls_only=True, limit=_PRINT_PARTNERS),
              note(explain("stalls", kommune))),
        block("gaps", gaps_html(views["gaps"], minimum, districts=_PRINT_DISTRICTS, kommune=kommune),
              note(explain("gaps", kommune)), comment("gaps")),
        block("status", status),
        *((decisions_summary_html(decided), _annex(decided, figure, kommune, comment("decisions")))
          if len(decided["decisions"]) or said.get("decisions") else ()),
    ])
    footer = tr({"de": f"KIM-Lenkungskreis {where}, {zeitraum} · erstellt am {created} · ",
                 "en": f"KIM steering committee {where}, {zeitraum} · created {created} · "}) + data_state(store, [kommune])
    title = tr({"de": f"KIM-Lenkungskreis {where} {zeitraum}", "en": f"KIM steering committee {where} {zeitraum}"})
    return (f"<!DOCTYPE html><html lang='{current_lang()}'><head><meta charset='utf-8'>"
            f"<title>{H.escape(title)}</title>{start().html if scripted else ''}{_PRINT_CSS}</head><body>"
            # a table's footer is repeated on every printed page: the date and data state on each sheet
            f"<table class='kim-page'><tfoot><tr><td class='kim-footer'>{H.escape(footer)}</td></tr></tfoot>"
            f"<tbody><tr><td>{body}</td></tr></tbody></table></body></html>")


def _annex(decided: dict, figure, kommune: str, comment: str) -> str:
    """The annex page of the printout: the part "Beschlüsse und ihre Wirkung" in full (the decisions, each implemented
    one's small figure, the coordinators' comment); on a page of its own, so that the two pages before it stay two
    however long the list is (they name it in one line, :func:`~kimtools.present.beschluesse.decisions_summary_html`)."""
    title = tr({"de": "Anlage: ", "en": "Annex: "}) + section_title("lenkungskreis", "decisions", kommune)
    done = ((decided["decisions"]["gruppe"] == "umgesetzt") & decided["decisions"]["kennzahl"].notna()).any()
    return (f"<section class='kim-annex'><h1>{H.escape(title)}</h1>{comment}"
            f"{decisions_html(decided, decided['partners'])}{figure('decisions') if done else ''}</section>")


def last_quarter(store, kommune: str) -> str:
    """The last quarter of the kommune's data (as offered first by the dashboards' quarter filter)."""

    end = store.query(f"SELECT d1 FROM {SPAN_TABLE} WHERE kommune = ?", [kommune])["d1"][0]
    return period_label(pd.Timestamp(end), "quarter")


def write_lenkungskreis(store, kommune: str, out: str | Path, zeitraum: str | None = None, stadtbezirk: str | None = None,
                        minimum: int = 3, pdf: bool = True) -> list[Path]:
    """Write the page to ``out`` (.html) and, where chromium is installed and ``pdf``, the same page as PDF beside it
    (printed by headless chromium with the print styles): at most two A4 pages, one sheet printed on both sides.
    Where chromium is installed the HTML file has its figures as images (:func:`figure_images`), else plotly.js.
    Returns the files written."""

    out = Path(out)
    if out.suffix.lower() != ".html":
        raise UsageError(f"Die Ausgabedatei {out.name} muss auf .html enden.", f"The output file {out.name} must end in .html.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with figure_images() as images:   # a small file to send round, printed without waiting for scripts
        page = lenkungskreis_html(store, kommune, zeitraum, stadtbezirk, minimum, images=images)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    written = [out]
    if pdf and chromium():
        written.append(print_pdf(out, out.with_suffix(".pdf")))
    return written


def write_meeting_views(found: Meeting, show_progress: bool = True) -> list[Path]:
    """The first view of a frozen meeting state (:class:`kimtools.store.meetings.Meeting`): the Lenkungskreis page of
    its kommune (or of each kommune in it) for its quarter (or the last), drawn once with its figures as images, in
    ``<meeting>/ansicht/``. ``kimtools serve --sitzung`` hands these pages out at once, with the commentary as it is
    when a page is opened (the commentary's places are marked, :func:`kimtools.present.markup.fill_comments`);
    a committee of fifteen opening the page together sees its figures within seconds, where each interactive page
    needs its own kernel and 10 MB of scripts (docs/performance.md). Returns the files written."""

    store = found.store
    kommunen = [found.kommune] if found.kommune else store.kommunen()
    found.views_folder.mkdir(exist_ok=True)
    written = []
    with figure_images() as images:
        for kommune in progress(kommunen, tr({"de": "Sitzungsansicht", "en": "meeting view"}), disable=not show_progress):
            zeitraum = found.quartal or last_quarter(store, kommune)
            target = found.views_folder / f"{lenkungskreis_name(kommune, zeitraum)}.html"
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(lenkungskreis_html(store, kommune, zeitraum, images=images), encoding="utf-8")
            written.append(tmp.replace(target))
    return written


def freeze_meeting(store: Store, name: str, kommune: str | None = None, quartal: str | None = None,
                   show_progress: bool = True) -> Meeting:
    """Freeze ``store`` as the meeting state ``name`` (:func:`kimtools.store.meetings.freeze`) and draw its meeting
    view (:func:`write_meeting_views`): the view belongs to the state, so a view that cannot be written leaves no
    state behind. What ``kimtools sitzung anlegen`` and notebook 07 do."""
    found = freeze(store, name, kommune, quartal)
    try:
        write_meeting_views(found, show_progress)
    except BaseException:
        remove(store, found.name)
        raise
    return found
