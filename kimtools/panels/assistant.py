"""The import assistant of ``notebooks/01-daten-einlesen.ipynb``: a coordinator's way from a foreign export to an
import profile, in JupyterLab (dashboards stay read-only; this panel is for the notebook alone).

Choose a file (a path, or upload it: the upload is written to a private temporary folder, never into the checkout),
*Prüfen* reads it as the contract says and shows every problem as a table; where the file is in another layout the
drafted profile (:func:`~kimtools.ingest.draft.draft_profile`) appears as dropdowns, the open entries first and
marked. *Probelauf* shows what the import would change, *Importieren* stores it, *Profil speichern* writes the
profile beside the export (``kimtools-profil.toml``), so that the next delivery imports with one command.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from ..contract import codes
from ..contract.schema import TABLES
from ..errors import ImportValidationError, KimtoolsError
from ..i18n import current_lang, fmt_number, tr
from ..ingest.draft import Draft, Entry, draft_profile
from ..ingest.importer import import_export
from ..ingest.problems import problems_text
from ..ingest.profile import PROFILE_NAME, UNDECIDED, Profile, parse_profile
from ..present.markup import error_html, html_table
from ..store import Store

__all__ = ["ImportAssistant"]

_SHOWN_PROBLEMS = 50


class ImportAssistant:
    """Choose, check, map, try, import, save: ``ImportAssistant(store, source).widget``."""

    def __init__(self, store: Store | None = None, source: str | Path | None = None):
        self.store = store if isinstance(store, Store) else Store(store)
        self.draft: Draft | None = None
        self.controls: dict[str, widgets.Widget] = {}
        self.path = widgets.Text(value=str(source or ""), description=tr(("Datei", "File")),
                                 placeholder=tr(("Pfad zum Export (Ordner, .xlsx oder .csv)",
                                                 "path of the export (folder, .xlsx or .csv)")),
                                 layout=widgets.Layout(width="70%"))
        self.upload = widgets.FileUpload(accept=".xlsx,.csv", multiple=True,
                                         description=tr(("Hochladen", "Upload")))
        self.check_button = widgets.Button(description=tr(("Prüfen", "Check")), button_style="primary")
        self.dry_button = widgets.Button(description=tr(("Probelauf", "Dry run")), disabled=True)
        self.import_button = widgets.Button(description=tr(("Importieren", "Import")), button_style="warning",
                                            disabled=True)
        self.save_path = widgets.Text(description=tr(("Profil", "Profile")), layout=widgets.Layout(width="70%"))
        self.save_button = widgets.Button(description=tr(("Profil speichern", "Save profile")), disabled=True)
        self.status = widgets.HTML()
        self.problems = widgets.HTML()
        self.mapping = widgets.VBox()
        self.outcome = widgets.HTML()
        self.check_button.on_click(lambda _: self.check())
        self.dry_button.on_click(lambda _: self.run(dry_run=True))
        self.import_button.on_click(lambda _: self.run(dry_run=False))
        self.save_button.on_click(lambda _: self.save())
        self.upload.observe(self._uploaded, names="value")
        heading = lambda de, en: widgets.HTML(f"<h4>{html.escape(tr((de, en)))}</h4>")  # noqa: E731
        self.widget = widgets.VBox([
            heading("1. Datei wählen", "1. Choose a file"), widgets.HBox([self.path, self.upload]),
            self.check_button, self.status,
            heading("2. Probleme", "2. Problems"), self.problems,
            heading("3. Zuordnung (Importprofil)", "3. Mapping (import profile)"), self.mapping,
            heading("4. Probelauf, Import, Profil", "4. Dry run, import, profile"),
            widgets.HBox([self.dry_button, self.import_button]), widgets.HBox([self.save_path, self.save_button]),
            self.outcome])

    # ------------------------------------------------------------------ choosing
    def _uploaded(self, change) -> None:
        files = change["new"]
        if not files:
            return
        folder = Path(tempfile.mkdtemp(prefix="kimtools-upload-"))
        os.chmod(folder, 0o700)
        for f in files:
            (folder / Path(f["name"]).name).write_bytes(bytes(f["content"]))
        book = [f for f in folder.iterdir() if f.suffix.lower() in (".xlsx", ".xlsm")]
        self.path.value = str(book[0] if len(book) == 1 and len(files) == 1 else folder)
        self.check()

    # ------------------------------------------------------------------ checking
    def check(self) -> None:
        """Read the file as the contract says; where that fails, show the problems and the drafted mapping."""
        self.outcome.value, self.mapping.children, self.draft = "", (), None
        source = Path(self.path.value.strip()).expanduser()
        try:
            import_export(source, self.store, dry_run=True, show_progress=False)
        except ImportValidationError as exc:
            self._show_problems(exc)
            self._draft(source)
            return
        except KimtoolsError as exc:
            self.status.value, self.problems.value = error_html(exc), ""
            if source.exists() and not source.is_dir() or source.suffix.lower() == ".csv":
                self._draft(source)
            return
        except Exception as exc:  # noqa: BLE001 - a notebook widget shows a message, never a traceback
            self.status.value = error_html(exc)
            return
        self.status.value = _note(tr(("Die Datei entspricht dem Exportformat; ein Importprofil ist nicht nötig.",
                                      "The file follows the export format; no import profile is needed.")))
        self.problems.value = ""
        self._enable(True)

    def _show_problems(self, exc: ImportValidationError) -> None:
        p = exc.problems
        shown = pd.DataFrame({
            tr(("Datei", "File")): p["datei"],
            tr(("Zeile", "Row")): p["zeile"].map(lambda z: fmt_number(z) if z and z > 0 else "–"),
            tr(("Spalte", "Column")): p["spalte"], tr(("Wert", "Value")): p["wert"],
            tr(("Grund", "Reason")): p[tr(("grund_de", "grund_en"))]})
        self.status.value = _note(exc.message())
        more = len(p) - _SHOWN_PROBLEMS
        self.problems.value = html_table(shown.head(_SHOWN_PROBLEMS)) + (
            _note(tr((f"… und {more} weitere", f"… and {more} more"))) if more > 0 else "")

    def _draft(self, source: Path) -> None:
        try:
            self.draft = draft_profile(source)
        except Exception as exc:  # noqa: BLE001
            self.mapping.children = (widgets.HTML(error_html(exc)),)
            return
        folder = source if source.is_dir() else source.parent
        self.save_path.value = str(folder / PROFILE_NAME)
        self._show_mapping()
        self._enable(True)

    # ------------------------------------------------------------------ mapping
    def _show_mapping(self) -> None:
        draft = self.draft
        open_ = draft.undecided()
        intro = _note(tr((f"Entwurf eines Importprofils: {len(draft.entries) - len(open_)} Einträge erkannt, {len(open_)} "
                          "offen (⚠, oben). Offene Einträge wählen, erkannte prüfen; dann Probelauf.",
                          f"Draft import profile: {len(draft.entries) - len(open_)} entries recognised, {len(open_)} open "
                          "(⚠, on top). Choose the open entries, check the recognised ones; then a dry run.")))
        self.controls = {}
        rows = [widgets.HTML(intro)]
        for entry in sorted(draft.entries, key=lambda e: e.decided):
            control = self._control(entry)
            if control is None:
                continue
            self.controls[entry.path] = control
            mark = "" if entry.decided else "⚠ "
            label = widgets.HTML(f"<code>{html.escape(mark + entry.path)}</code>",
                                 layout=widgets.Layout(width="45%"))
            note = widgets.HTML(f"<span class='kim-note'>{html.escape(entry.note)}</span>",
                                layout=widgets.Layout(width="25%"))
            rows.append(widgets.HBox([label, control, note]))
        self.mapping.children = tuple(rows)

    def _control(self, entry: Entry) -> widgets.Widget | None:
        """A dropdown for a column, a code or a sheet; a text field for a constant; ``None`` for what is shown
        only in the saved file (tick-mark columns)."""
        value = entry.value
        if isinstance(value, dict):
            if "wert" in value:
                return widgets.Text(value=str(value["wert"]), layout=widgets.Layout(width="30%"))
            if "nachschlagen" in value:
                return widgets.Text(value="" if value["nachschlagen"] == UNDECIDED else value["nachschlagen"],
                                    placeholder=tr(("Nachschlagetabelle (CSV)", "lookup table (CSV)")),
                                    layout=widgets.Layout(width="30%"))
            if "spalte" in value:
                value = value["spalte"]
            else:
                return None
        if entry.section == "werte":   # a code with its label: "Kontaktverlust (kontaktverlust)"
            column = TABLES[entry.table].column(entry.key[0])
            listed = codes.CODE_LISTS[column.code_list]
            choices = [(tr(("– bitte wählen –", "– please choose –")), UNDECIDED)] + [
                (f"{codes.label(column.code_list, c)} ({c})", c) for c in listed]
            return widgets.Dropdown(options=choices, value=value if value in listed else UNDECIDED,
                                    layout=widgets.Layout(width="30%"))
        if entry.section == "quelle":
            options = list(self.draft.sheets)
        elif entry.section == "kopfzeile":
            return widgets.BoundedIntText(value=int(value) if value != UNDECIDED else 1, min=1, max=50,
                                          layout=widgets.Layout(width="30%"))
        else:
            options = list(dict.fromkeys([*entry.choices, *([value] if value != UNDECIDED else [])]))
            options += [h for h in self._headers(entry.table) if h not in options]
        choices = [(tr(("– bitte wählen –", "– please choose –")), UNDECIDED)] + [(str(o), o) for o in options]
        return widgets.Dropdown(options=choices, value=value if value in options else UNDECIDED,
                                layout=widgets.Layout(width="30%"))

    def _headers(self, table: str) -> list[str]:
        """The headers of the sheet the draft takes ``table`` from (for the column dropdowns)."""
        values = [e.value for e in self.draft.entries if e.table == table and e.section == "spalten"]
        return sorted({v if isinstance(v, str) else v.get("spalte", "") for v in values
                       if v != UNDECIDED and (isinstance(v, str) or isinstance(v, dict) and "spalte" in v)} - {""})

    def _apply(self) -> None:
        """The choices made in the widgets into the draft."""
        for entry in self.draft.entries:
            control = self.controls.get(entry.path)
            if control is None:
                continue
            chosen = control.value
            if isinstance(entry.value, dict):
                if "wert" in entry.value:
                    chosen = {"wert": chosen} if str(chosen).strip() else UNDECIDED
                elif "nachschlagen" in entry.value:
                    chosen = {**entry.value, "nachschlagen": chosen or UNDECIDED}
                else:
                    chosen = {**entry.value, "spalte": chosen}
            if chosen != entry.value:
                self.draft.set(entry.path, chosen)

    # ------------------------------------------------------------------ trying and importing
    def _profile(self) -> Profile | None:
        """The mapping as chosen, as the profile it will be saved as (lookup tables are found beside that place);
        ``None`` without a draft (a file in the contract's form)."""
        if self.draft is None:
            return None
        self._apply()
        return parse_profile(self.draft.text(), Path(self.save_path.value).expanduser())

    def run(self, dry_run: bool) -> None:
        """A dry run or the import, through the mapping as chosen."""
        source = Path(self.path.value.strip()).expanduser()
        try:
            result, warnings = import_export(source, self.store, dry_run=dry_run, show_progress=False,
                                             profile=self._profile())
        except ImportValidationError as exc:
            self._show_problems(exc)
            self.outcome.value = _note(exc.message())
            return
        except KimtoolsError as exc:
            self.outcome.value = error_html(exc)
            return
        except Exception as exc:  # noqa: BLE001
            self.outcome.value = error_html(exc)
            return
        self.problems.value = ""
        notes = (tr(("Hinweise", "Warnings")) + ":\n" + problems_text(warnings, lang=current_lang(), limit=20) + "\n\n") if len(warnings) else ""
        self.outcome.value = f"<pre class='kim-note'>{html.escape(notes + result.summary())}</pre>"

    def save(self) -> Path | None:
        """Write the profile (open entries stay marked ``"?"``)."""
        if self.draft is None:
            return None
        self._apply()
        try:
            target = self.draft.write(Path(self.save_path.value).expanduser())
        except OSError as exc:
            self.outcome.value = error_html(KimtoolsError(f"Profil nicht gespeichert: {exc}", f"Profile not saved: {exc}"))
            return None
        open_ = len(self.draft.undecided())
        self.outcome.value = _note(tr((f"Profil gespeichert: {target}" + (f" ({open_} Einträge noch offen)." if open_ else "."),
                                       f"Profile saved: {target}" + (f" ({open_} entries still open)." if open_ else "."))))
        return target

    def _enable(self, on: bool) -> None:
        self.dry_button.disabled = self.import_button.disabled = not on
        self.save_button.disabled = not on or self.draft is None


def _note(text: str) -> str:
    return f"<p class='kim-note'>{html.escape(text)}</p>"
