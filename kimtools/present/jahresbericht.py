"""The annual report in Word (and its tables as a workbook beside it): what a coordinator pastes into the Sachbericht
or the council's Vorlage, instead of copying tables by hand out of Excel.

The tables are :mod:`kimtools.views.jahresbericht`'s, protected as a comparison bundle is (Vorlagen are public);
each with its definition and the data state in a note below it. A city may give its own Word file as a template
(``--vorlage``): its styles (fonts, headings, the table style ``Table Grid`` where it has one) are used, its own
text stays in front.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from ..contract.reference import with_units
from ..errors import InputError
from ..i18n import fmt_date, tr
from ..indicators.disclosure import DEFAULT_MINIMUM, HIDDEN
from ..paths import slug
from ..spreadsheet import excel_writer
from ..store import Store
from ..views.jahresbericht import ReportTable, annual_views, protect_tables
from . import figures as F
from .steering import data_state

__all__ = ["write_annual_report", "annual_report_bytes", "report_name"]


def write_annual_report(store: Store, kommune: str, jahr: int, out: Path, template: Path | None = None,
                        minimum: int = DEFAULT_MINIMUM) -> tuple[Path, Path]:
    """Write ``out`` (.docx) and its tables as ``out`` with ``.xlsx``; return both paths."""
    doc, tables, note = _report(store, kommune, jahr, template, minimum)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    sheets = out.with_suffix(".xlsx")
    _write_workbook(tables, sheets, note, kommune)
    return out, sheets


def annual_report_bytes(store: Store, kommune: str, jahr: int, minimum: int = DEFAULT_MINIMUM) -> bytes:
    """The Word file of :func:`write_annual_report` as bytes (a page's download: nothing written on the server)."""
    buffer = io.BytesIO()
    _report(store, kommune, jahr, None, minimum)[0].save(buffer)
    return buffer.getvalue()


def _report(store: Store, kommune: str, jahr: int, template: Path | None, minimum: int):
    """The document, its protected tables and the data-state line each table's note ends with."""
    views = annual_views(store, kommune, jahr)
    tables = protect_tables(views["tables"], views["same"], minimum)
    state = data_state(store, [kommune])
    note = tr({"de": f"Datenstand: Daten bis {fmt_date(views['daten'][1])}.",
               "en": f"Data state: data up to {fmt_date(views['daten'][1])}."})
    doc = _document(template)
    doc.add_heading(tr({"de": f"KIM {kommune}: Jahresbericht {jahr}", "en": f"KIM {kommune}: annual report {jahr}"}), 0)
    d0, _ = views["daten"]
    doc.add_paragraph(tr({
        "de": f"Kommunales Integrationsmanagement {kommune}, Zahlen des Jahres {jahr} und seit Beginn der Daten "
              f"({fmt_date(d0)}) bis {fmt_date(views['seit_beginn_bis'])}. Alle Zahlen sind zusammengefasst; "
              f"Zahlen von 1 bis {minimum - 1} erscheinen als „< {minimum}“, „{HIDDEN}“ steht für eine Zahl, die "
              "verdeckt bleibt, damit sich keine kleine Zahl aus einer Summe zurückrechnen lässt. Stellen (VZÄ) sind "
              "Jahresmittel. " + state,
        "en": f"Kommunales Integrationsmanagement {kommune}, figures of {jahr} and since the start of the data "
              f"({fmt_date(d0)}) to {fmt_date(views['seit_beginn_bis'])}. All figures are aggregated; counts from 1 "
              f"to {minimum - 1} appear as '< {minimum}', '{HIDDEN}' stands for a figure kept hidden so that no "
              "small count can be worked out from a total. Posts (FTE) are yearly means. " + state}))
    for table in tables:
        _add_table(doc, table, note, kommune)
        if table.key == "bezirke" and len(views["shapes"]):
            _add_map(doc, views, minimum)
    return doc, tables, note


def _document(template: Path | None) -> Document:
    if template is None:
        doc = Document()
        doc.styles["Normal"].font.name = "Arial"
        doc.styles["Normal"].font.size = Pt(10)
        return doc
    try:
        return Document(str(template))
    except Exception as exc:   # noqa: BLE001 - python-docx raises several kinds for a file that is no Word file
        raise InputError(f"Die Vorlage {template} ist keine lesbare Word-Datei (.docx): {exc}",
                         f"The template {template} is no readable Word file (.docx): {exc}") from None


def _columns(table: ReportTable) -> list[tuple[str, str]]:
    return [("text", ""), *((k, tr({"de": de, "en": en})) for k, (de, en) in table.columns)]


def _title(table: ReportTable, kommune: str) -> str:
    """The table's title, with the words ``kommune`` has for its sub-units (a Kreis's Gemeinden)."""
    return with_units({"de": table.title[0], "en": table.title[1]}, kommune)


def _add_table(doc: Document, table: ReportTable, state: str, kommune: str) -> None:
    doc.add_heading(_title(table, kommune), 1)
    shown = table.shown
    if shown is None or shown.empty:
        doc.add_paragraph(tr({"de": "Keine Daten für dieses Jahr.", "en": "No data for this year."}))
        return
    columns = _columns(table)
    grid = doc.add_table(rows=1 + len(shown), cols=len(columns))
    if "Table Grid" in [s.name for s in doc.styles]:
        grid.style = "Table Grid"
    grid.autofit = False   # the line's text wide, the figures narrow: 16 cm in all, as an A4 page with margins holds
    widths = [Cm(7.0)] + [Cm(9.0 / (len(columns) - 1))] * (len(columns) - 1)
    for column, width in zip(grid.columns, widths):   # the grid for LibreOffice, each cell for Word
        column.width = width
    for row in grid.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
    for j, (_, label) in enumerate(columns):
        cell = grid.rows[0].cells[j]
        cell.text = label
        cell.paragraphs[0].runs[0].bold = True if label else False
    for i, row in enumerate(shown.itertuples(index=False), start=1):
        values = row._asdict()
        for j, (key, _) in enumerate(columns):
            cell = grid.rows[i].cells[j]
            cell.text = str(values[key])
            if j:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if values["zeile"] == "gesamt" and cell.paragraphs[0].runs:
                cell.paragraphs[0].runs[0].bold = True
    note = doc.add_paragraph()
    run = note.add_run(tr({"de": table.note[0], "en": table.note[1]}) + " " + state)
    run.font.size = Pt(8)


def _add_map(doc: Document, views: dict, minimum: int) -> None:
    """The district map (where the boundaries are known) as a picture, coloured as the pages colour it."""
    figure = F.reach_by_district(views["districts"], minimum=minimum, shapes=views["shapes"], zeitraum=str(views["jahr"]),
                                 title=tr({"de": f"Erreichte Personen je 1.000 Einwohner {views['jahr']}",
                                           "en": f"persons reached per 1,000 inhabitants {views['jahr']}"}))
    png = figure.to_image(format="png", width=900, height=650, scale=2)
    doc.add_picture(io.BytesIO(png), width=Cm(15))


def _write_workbook(tables: list[ReportTable], path: Path, state: str, kommune: str) -> None:
    """The report's tables as shown, one sheet each, with its title above and its note below."""
    with excel_writer(path) as writer:
        for table in tables:
            frame = table.shown.drop(columns="zeile").rename(columns=dict(_columns(table)) | {"text": ""})
            sheet = table.key[:31]
            frame.to_excel(writer, sheet_name=sheet, index=False, startrow=2)
            ws = writer.sheets[sheet]
            ws.cell(row=1, column=1, value=_title(table, kommune))
            ws.cell(row=len(frame) + 5, column=1, value=tr({"de": table.note[0], "en": table.note[1]}) + " " + state)


def report_name(kommune: str, jahr: int) -> str:
    """A file name for the annual report: ``jahresbericht_<kommune>_<jahr>.docx``."""
    return f"{tr({'de': 'jahresbericht', 'en': 'annual-report'})}_{slug(kommune)}_{jahr}.docx"
