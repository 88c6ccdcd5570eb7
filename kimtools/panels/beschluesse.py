"""The steering committee's list of decisions in the coordinators' notebook (``notebooks/07-sitzung.ipynb``): edited in
a table, read from the coordination's file, and drafted from the gap register, every way through the checks of
:mod:`kimtools.ingest.beschluesse` (dashboards stay read-only; these widgets are for the notebook alone).
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from ..analysis.beschluesse import draft_rows
from ..analysis.gaps import gap_table, top_gaps
from ..contract import codes
from ..contract.beschluesse import COLUMNS
from ..errors import ImportValidationError, KimtoolsError
from ..i18n import fmt_number, tr
from ..ingest.beschluesse import append_to_list, import_decisions, list_frame, write_list
from ..ingest.problems import problems_text
from ..present.markup import error_html
from ..store import Store
from ..store.beschluesse import stored_decisions

__all__ = ["DecisionEditor", "GapDrafts"]


def _problems_html(exc: KimtoolsError) -> str:
    """A refused list: what was refused and every problem with row, column, value and reason."""
    if not isinstance(exc, ImportValidationError):
        return error_html(exc)
    lines = problems_text(exc.problems, lang=None, limit=None).splitlines()
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<div class='kim-error'><b>{html.escape(exc.message())}</b><ul>{items}</ul></div>"


class DecisionEditor:
    """``DecisionEditor(store, kommune, datei).widget``: the kommune's decisions in an editable table.

    *Prüfen und speichern* checks the table as a file is checked and, without a problem, puts it in place of the
    kommune's decisions (the table holds all of them); with ``datei`` (the coordination's list, XLSX or CSV) the file
    is written with the table too, so that file and store agree. *Datei einlesen* reads ``datei`` the same way.
    """

    def __init__(self, store: Store | None = None, kommune: str = "", datei: str | Path | None = None):
        from ipydatagrid import DataGrid   # loaded by the notebook that edits, not by every dashboard

        self.store = store or Store()
        self.kommune = kommune
        self.datei = Path(datei).expanduser() if datei else None
        self.message = widgets.HTML()
        self.grid = DataGrid(self._rows(), editable=True, base_column_size=110, base_row_size=26,
                             layout=widgets.Layout(height="320px"))
        add = widgets.Button(description=tr({"de": "Zeile hinzufügen", "en": "add a row"}), icon="plus")
        save = widgets.Button(description=tr({"de": "Prüfen und speichern", "en": "check and save"}), icon="check",
                              button_style="primary")
        read = widgets.Button(description=tr({"de": "Datei einlesen", "en": "read the file"}), icon="upload",
                              disabled=self.datei is None)
        for b in (add, save, read):
            b.layout.width = "auto"   # the whole label, not cut off
        add.on_click(lambda _b: self.add_rows(pd.DataFrame([{"kommune": self.kommune}])))
        save.on_click(lambda _b: self.save())
        read.on_click(lambda _b: self.read_file())
        where = (tr({"de": f"Datei der Koordination: {self.datei}", "en": f"the coordination's file: {self.datei}"})
                 if self.datei else tr({"de": "Keine Datei angegeben: die Liste lebt im Datenbestand.",
                                        "en": "No file given: the list lives in the store."}))
        self.widget = widgets.VBox([widgets.HTML(f"<p class='kim-note'>{html.escape(where)}</p>"), self.grid,
                                    widgets.HBox([add, save, read]), self.message])
        self._say_stored()

    def _rows(self) -> pd.DataFrame:
        stored = stored_decisions(self.store, self.kommune) if self.store.exists() else pd.DataFrame()
        rows = list_frame(stored) if len(stored) else pd.DataFrame(columns=list(COLUMNS))
        return rows.reset_index(drop=True)

    def _say_stored(self) -> None:
        n = len(self.grid.data)
        self.message.value = "<p class='kim-note'>" + html.escape(tr({
            "de": f"{fmt_number(n)} Beschlüsse von {self.kommune} im Datenbestand." if n else
                  f"Für {self.kommune} sind noch keine Beschlüsse gespeichert: Zeilen hinzufügen oder die Datei einlesen.",
            "en": f"{fmt_number(n)} decisions of {self.kommune} in the store." if n else
                  f"No decisions of {self.kommune} stored yet: add rows or read the file."})) + "</p>"

    @property
    def rows(self) -> pd.DataFrame:
        """The table as it stands (text cells in the list's columns), rows left wholly empty dropped."""
        rows = self.grid.data.reset_index(drop=True)[list(COLUMNS)].fillna("").astype(str)
        return rows.loc[(rows.apply(lambda c: c.str.strip()) != "").any(axis=1)].reset_index(drop=True)

    def add_rows(self, rows: pd.DataFrame) -> None:
        """Put ``rows`` (text cells or typed, e.g. draft rows) at the end of the table (not yet saved)."""
        self.grid.data = pd.concat([self.grid.data.reset_index(drop=True), list_frame(rows)], ignore_index=True)

    def save(self, today: dt.date | None = None) -> bool:
        """Check the table and, without a problem, store it (and write the file, if one is given); the problems
        otherwise, nothing changed. Returns whether it was saved."""
        rows = self.rows
        try:
            checked = import_decisions(rows, self.store, today=today)
            if self.datei is not None:
                write_list(self.datei, rows)
        except KimtoolsError as exc:
            self.message.value = _problems_html(exc)
            return False
        self.grid.data = self._rows()
        written = tr({"de": f" und in {self.datei.name} geschrieben", "en": f" and written to {self.datei.name}"}) \
            if self.datei else ""
        self.message.value = "<p class='kim-note'>" + html.escape(tr({
            "de": f"Geprüft und gespeichert{written}: {len(checked.decisions)} Beschlüsse ({', '.join(checked.kommunen)}).",
            "en": f"Checked and saved{written}: {len(checked.decisions)} decisions ({', '.join(checked.kommunen)})."})) + "</p>"
        return True

    def read_file(self, today: dt.date | None = None) -> bool:
        """Read the coordination's file through the same checks and show what it holds."""
        try:
            checked = import_decisions(self.datei, self.store, today=today)
        except (KimtoolsError, OSError) as exc:
            self.message.value = _problems_html(exc) if isinstance(exc, KimtoolsError) else error_html(exc)
            return False
        self.grid.data = self._rows()
        self.message.value = "<p class='kim-note'>" + html.escape(tr({
            "de": f"{self.datei.name} gelesen und gespeichert: {len(checked.decisions)} Beschlüsse.",
            "en": f"{self.datei.name} read and saved: {len(checked.decisions)} decisions."})) + "</p>"
        return True


class GapDrafts:
    """``GapDrafts(store, kommune, editor).widget``: the gaps of the gap register (most referrals first), of which the
    coordinator picks some and, optionally, a district; *Als Entwurf übernehmen* makes a draft row per gap (to follow
    ``luecken`` by that gap, direction ``sinken``, open, for the Planungskonferenz), adds them to the editor's table
    and, where the editor has a file, writes them into it at once."""

    def __init__(self, store: Store, kommune: str, editor: DecisionEditor):
        self.store, self.kommune, self.editor = store, kommune, editor
        self.message = widgets.HTML()
        self.gaps = top_gaps(gap_table(store, kommune))
        options = [(f"{codes.label('handlungsfeld', g.handlungsfeld)} – {codes.label('luecke', g.luecke)} "
                    f"({fmt_number(g.vermittlungen)} {tr({'de': 'Vermittlungen', 'en': 'referrals'})}; "
                    f"{', '.join(g.bezirke[:3])}{' …' if len(g.bezirke) > 3 else ''})", i)
                   for i, g in enumerate(self.gaps.itertuples())]
        self.choice = widgets.SelectMultiple(options=options, rows=min(max(len(options), 2), 8),
                                             layout=widgets.Layout(width="720px"),
                                             description=tr({"de": "Lücken", "en": "gaps"}))
        districts = sorted({d for b in self.gaps["bezirke"] for d in b})
        self.district = widgets.Dropdown(options=[(tr({"de": "ganze Kommune", "en": "whole kommune"}), "")] +
                                         [(d, d) for d in districts], description=tr({"de": "Bezirk", "en": "district"}))
        button = widgets.Button(description=tr({"de": "Als Entwurf übernehmen", "en": "take as draft"}), icon="pencil",
                                layout=widgets.Layout(width="auto"))
        button.on_click(lambda _b: self.take())
        self.widget = widgets.VBox([self.choice, widgets.HBox([self.district, button]), self.message])

    def take(self, today: dt.date | None = None) -> pd.DataFrame:
        """Draft rows for the chosen gaps, added to the editor's table (and its file); returns them."""
        chosen = self.gaps.iloc[list(self.choice.value)]
        if chosen.empty:
            self.message.value = "<p class='kim-note'>" + html.escape(tr({
                "de": "Bitte zuerst eine oder mehrere Lücken wählen.", "en": "Please choose one or more gaps first."})) + "</p>"
            return chosen
        taken = set(self.editor.rows["beschluss_id"])
        drafts = draft_rows(chosen, today or dt.date.today(), self.district.value or None, taken)
        try:
            if self.editor.datei is not None:
                append_to_list(self.editor.datei, drafts)
        except KimtoolsError as exc:
            self.message.value = _problems_html(exc)
            return drafts.iloc[:0]
        self.editor.add_rows(drafts)
        where = tr({"de": f" und in {self.editor.datei.name} eingetragen", "en": f" and entered in {self.editor.datei.name}"}) \
            if self.editor.datei else ""
        self.message.value = "<p class='kim-note'>" + html.escape(tr({
            "de": f"{len(drafts)} Entwürfe in die Tabelle übernommen{where} ({', '.join(drafts['beschluss_id'])}). Titel, "
                  "Zuständigkeit und Frist ergänzen, dann „Prüfen und speichern“.",
            "en": f"{len(drafts)} drafts taken into the table{where} ({', '.join(drafts['beschluss_id'])}). Complete title, "
                  "responsibility and due date, then 'check and save'."})) + "</p>"
        return drafts
