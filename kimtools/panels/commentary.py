"""The coordinators' assessment of a frozen meeting state, written in a notebook (``notebooks/07-sitzung.ipynb``)
instead of in ``kommentar.toml``: a text field per part of the Lenkungskreis page with its count of characters,
and a button that keeps the texts with the state. The meeting view, the dashboards of the state and the printout
show them from then on (dashboards stay read-only; this panel is for the notebook alone).
"""

from __future__ import annotations

import html
from datetime import datetime

import ipywidgets as widgets

from ..errors import KimtoolsError
from ..i18n import fmt_datetime, tr
from ..present.markup import error_html
from ..present.pages import section_title
from ..store.meetings import COMMENT_LIMIT, PARTS, Meeting, commentary, write_commentary

__all__ = ["CommentaryEditor"]


class CommentaryEditor:
    """``CommentaryEditor(meeting).widget``: edit and save the commentary of ``meeting``
    (:func:`kimtools.store.meetings.meeting`)."""

    def __init__(self, meeting: Meeting):
        self.meeting = meeting
        self.message = widgets.HTML()
        try:
            said = commentary(meeting)
        except KimtoolsError as exc:   # a file edited by hand that cannot be read: say so, start from empty fields
            said = {}
            self.message.value = error_html(exc)
        self.fields: dict[str, widgets.Textarea] = {}
        self.counts: dict[str, widgets.HTML] = {}
        rows = []
        for key, (part, _heading) in PARTS.items():   # headed as on the page, naming the kommune's sub-units
            field = widgets.Textarea(value=said.get(part, ""), description=section_title("lenkungskreis", part, meeting.kommune),
                                     rows=3,
                                     style={"description_width": "140px"}, layout=widgets.Layout(width="760px"))
            count = widgets.HTML()
            field.observe(lambda _change, key=key: self._count(key), names="value")
            self.fields[key], self.counts[key] = field, count
            self._count(key)
            rows.append(widgets.VBox([field, count]))
        self.save = widgets.Button(description=tr({"de": "Einschätzung speichern", "en": "save the assessment"}),
                                   button_style="primary", icon="save", layout=widgets.Layout(width="240px"))
        self.save.on_click(self._save)
        self.widget = widgets.VBox([*rows, self.save, self.message])

    def _count(self, key: str) -> None:
        n = len(self.fields[key].value.strip())
        over = n > COMMENT_LIMIT
        text = tr({"de": f"{n} von höchstens {COMMENT_LIMIT} Zeichen", "en": f"{n} of at most {COMMENT_LIMIT} characters"})
        if over:
            text += tr({"de": " – bitte kürzen, sonst passt der Ausdruck nicht auf ein Blatt",
                        "en": " – please shorten, else the printout does not fit on one sheet"})
        colour = "#8a1c1c" if over else "#555"
        self.counts[key].value = f"<p style='margin:0 0 8px 144px;color:{colour};font-size:13px'>{html.escape(text)}</p>"

    def _save(self, _button=None) -> None:
        try:
            write_commentary(self.meeting, {key: field.value for key, field in self.fields.items()})
        except KimtoolsError as exc:
            self.message.value = error_html(exc)
            return
        self.message.value = "<p class='kim-note'>" + html.escape(tr({
            "de": f"Gespeichert am {fmt_datetime(datetime.now())} in {self.meeting.commentary_path}: die Sitzungsansicht "
                  "zeigt die Texte beim nächsten Öffnen, ebenso das Dashboard und der Ausdruck.",
            "en": f"Saved on {fmt_datetime(datetime.now())} in {self.meeting.commentary_path}: the meeting view shows "
                  "the texts when next opened, as do the dashboard and the printout."})) + "</p>"
