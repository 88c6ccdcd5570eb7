"""HTML pieces shared by dashboards and printed reports: tables, tiles, messages.

Numbers and dates in German format (English with ``KIMTOOLS_LANG=en``), every
cell escaped, small counts already masked by the caller or by the formatters here.
"""

from __future__ import annotations

import html
import re
from typing import Callable, Iterable

import pandas as pd

from ..contract import codes
from ..errors import KimtoolsError
from ..indicators.disclosure import count_text
from ..i18n import current_lang, fmt_date, fmt_datetime, fmt_number, fmt_percent, tr
from .labels import FINDING_WORDS, column_label

__all__ = ["Html", "CSS", "TILE_CSS", "html_table", "error_html", "tile", "tiles", "gaps_html", "outliers_html",
           "commentary_html", "comment_slot", "fill_comments"]

CSS = """<style>
.kim-table {border-collapse: collapse; font-size: 14px; margin: 4px 0 12px 0}
.kim-table th {text-align: left; border-bottom: 2px solid #555; padding: 4px 10px}
.kim-table td {border-bottom: 1px solid #ddd; padding: 4px 10px}
.kim-table td.num {text-align: right; font-variant-numeric: tabular-nums}
.jp-RenderedHTMLCommon .kim-table th, .jp-RenderedHTMLCommon .kim-table td {text-align: left}
.jp-RenderedHTMLCommon .kim-table td.num, .kim-table th.num {text-align: right}
@media print {.kim-table {width: 100%} .kim-table th, .kim-table td {overflow-wrap: break-word}}
.kim-error {color: #8a1c1c; background: #fdecea; padding: 8px 12px; border-left: 4px solid #D55E00; white-space: pre-line}
.kim-note {color: #555; font-size: 13px}
.kim-comment {border-left: 4px solid #555; background: #f2f2f2; padding: 6px 12px; margin: 6px 0 12px 0; font-size: 14px}
</style>"""


class Html:
    """A piece of HTML that a notebook shows as such (and a report keeps): ``extra`` adds further mime types,
    e.g. a figure's JSON beside its HTML.

    >>> Html("<b>x</b>")._repr_mimebundle_()
    {'text/html': '<b>x</b>'}
    """

    def __init__(self, html: str, extra: dict | None = None):
        self.html, self.extra = html, extra or {}

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/html": self.html, **self.extra}


def _cell(value) -> tuple[str, bool]:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "–", True
    if isinstance(value, pd.Timestamp):
        return (fmt_date(value.date()) if value == value.normalize() else fmt_datetime(value)), False
    if isinstance(value, bool):
        return tr({"de": "ja", "en": "yes"}) if value else tr({"de": "nein", "en": "no"}), False
    if isinstance(value, int) or (hasattr(value, "dtype") and "int" in str(getattr(value, "dtype", ""))):
        return fmt_number(int(value)), True
    if isinstance(value, float):
        return fmt_number(value, 0 if value.is_integer() else 1), True
    return str(value), False


def html_table(frame: pd.DataFrame, columns: Iterable[str] | None = None,
               formatters: dict[str, Callable[[object], str]] | None = None, kommune: str | None = None) -> str:
    """An HTML table with German labels and number/date formats; cells are escaped. With ``kommune`` a column
    ``stadtbezirk`` is named as that kommune names its sub-units (a Kreis: "Gemeinde")."""
    columns = list(columns or frame.columns)
    formatters = formatters or {}
    head = "".join(f"<th>{html.escape(column_label(c, kommune=kommune))}</th>" for c in columns)
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
    return f"{CSS}<table class='kim-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def error_html(exc: Exception) -> str:
    """A message for the viewer: the kimtools message, or a generic one (a traceback could show data)."""
    if isinstance(exc, KimtoolsError):
        text = exc.message()
    else:
        text = tr({"de": "Die Ansicht konnte nicht aktualisiert werden. Bitte die Auswahl ändern oder die Seite neu laden; "
                         "besteht der Fehler, die KIM-Koordination informieren.",
                   "en": "The view could not be updated. Change the selection or reload the page; if the error persists, "
                         "tell the KIM coordination."})
    return f"{CSS}<div class='kim-error'>{html.escape(text)}</div>"


TILE_CSS = """<style>
.kim-tiles {display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0 16px 0}
.kim-tile {border: 1px solid #ccc; border-top: 4px solid #0072B2; padding: 10px 14px; min-width: 220px; max-width: 320px; background: #fafafa}
.kim-tile-value {font-size: 30px; font-weight: 600; font-variant-numeric: tabular-nums}
.kim-tile-label {font-size: 15px; color: #222}
.kim-tile-note {font-size: 13px; color: #555}
.kim-tile.over {border-top-color: #D55E00}
</style>"""


def tile(label: str, value: str, note: str | list[str], definition: str, over: bool = False) -> str:
    """One key figure: value, label, a note (its period) below and the definition on hover."""
    cls = "kim-tile over" if over else "kim-tile"
    return (f"<div class='{cls}' title='{html.escape(definition, quote=True)}'><div class='kim-tile-value'>{html.escape(value)}</div>"
            f"<div class='kim-tile-label'>{html.escape(label)}</div><div class='kim-tile-note'>"
            f"{'<br>'.join(map(html.escape, [note] if isinstance(note, str) else note))}</div></div>")


def tiles(items: Iterable[str]) -> str:
    """Tiles from :func:`tile` in one row that wraps."""
    return TILE_CSS + "<div class='kim-tiles'>" + "".join(items) + "</div>"



def gaps_html(gaps: pd.DataFrame, minimum: int = 3, districts: int | None = None, kommune: str | None = None) -> str:
    """Service gaps with their evidence (rows of :func:`kimtools.analysis.gaps.top_gaps`); small counts as "< minimum".
    ``districts``: name at most that many districts per gap (the most affected) and count the others; ``kommune``:
    whose sub-units they are (a Kreis's are Gemeinden)."""

    if gaps.empty:
        return f"<p class='kim-note'>{tr({'de': 'Keine Lücken dokumentiert.', 'en': 'No gaps documented.'})}</p>"
    count = lambda n: count_text(n, minimum)  # noqa: E731
    gaps = gaps.copy()
    gaps["handlungsfeld"] = gaps["handlungsfeld"].map(lambda c: codes.label("handlungsfeld", c))
    gaps["luecke"] = gaps["luecke"].map(lambda c: codes.label("luecke", c))
    more = lambda rest: tr({"de": f" und {len(rest)} weitere", "en": f" and {len(rest)} more"}) if rest else ""  # noqa: E731
    gaps["bezirke"] = [", ".join(b[:districts]) + more(b[districts:]) if districts else ", ".join(b) for b in gaps["bezirke"]]
    gaps["trend"] = [f"{count(a)} / {count(b)}" for a, b in zip(gaps["letzte"], gaps["davor"])]
    return html_table(gaps, ["handlungsfeld", "luecke", "vermittlungen", "faelle", "bezirke", "seit", "trend"],
                      {"vermittlungen": count, "faelle": count}, kommune=kommune)


def outliers_html(outliers: pd.DataFrame, stalls_only: bool = False, limit: int | None = None) -> str:
    """Partners whose acceptance or waiting time differs clearly (rows of :func:`kimtools.analysis.network.partner_outliers`);
    partners without a clear difference are left out, and there is no ranking. ``stalls_only``: only partners
    where referrals stall (acceptance lower or wait longer than at the others). ``limit``: at most that many
    partners, those with most referrals (in their order as given), and a line naming how many more there are."""

    lang = current_lang()
    o = outliers
    if stalls_only:
        o = o.loc[(o["annahme_befund"] == "niedriger") | (o["wartezeit_befund"] == "laenger")].copy()
    else:
        o = o.loc[~o["annahme_befund"].isin(["unauffaellig", "zu_wenige"])
                  | ~o["wartezeit_befund"].isin(["unauffaellig", "zu_wenige"])].copy()
    if o.empty:
        return "<p class='kim-note'>" + tr({
            "de": "Kein Partner weicht bei Annahme oder Wartezeit deutlich (95-%-Intervall) von den übrigen ab.",
            "en": "No partner differs clearly (95 % interval) from the others in acceptance or waiting time."}) + "</p>"
    pct = fmt_percent
    days = lambda x: "–" if pd.isna(x) else fmt_number(x, 0)  # noqa: E731
    o["typ"] = o["typ"].map(lambda c: codes.label("partnertyp", c))
    o["annahme"] = [f"{pct(r)} ({pct(a)}–{pct(b)})" for r, a, b in zip(o["annahmequote"], o["annahme_ki_unten"], o["annahme_ki_oben"])]
    o["annahme_uebrige"] = o["annahme_uebrige"].map(pct)
    o["wartezeit"] = [f"{days(m)} ({days(a)}–{days(b)})" for m, a, b in
                      zip(o["wartezeit_median"], o["wartezeit_ki_unten"], o["wartezeit_ki_oben"])]
    o["wartezeit_uebrige"] = o["wartezeit_uebrige"].map(days)
    for c in ("annahme_befund", "wartezeit_befund"):
        o[c] = o[c].map(lambda b: FINDING_WORDS[b][0 if lang == "de" else 1])
    more = ""
    if limit is not None and len(o) > limit:
        more = "<p class='kim-note'>" + tr({
            "de": f"… und {len(o) - limit} weitere Partner (hier die {limit} mit den meisten Vermittlungen; alle im Dashboard).",
            "en": f"… and {len(o) - limit} more partners (here the {limit} with most referrals; all in the dashboard)."}) + "</p>"
        o = o.loc[o.index.isin(o["n"].nlargest(limit, keep="first").index)]
    return html_table(o, ["name", "typ", "annahme", "annahme_uebrige", "annahme_befund", "wartezeit", "wartezeit_uebrige",
                          "wartezeit_befund"]) + more


def commentary_html(text: str) -> str:
    """The coordinators' assessment under a part of the steering committee's page, marked as theirs (grey, a bar;
    legible in black-and-white print); empty without a text."""
    if not text:
        return ""
    label = tr({"de": "Einschätzung der KIM-Koordination", "en": "Assessment of the KIM coordination"})
    return f"<div class='kim-comment'><b>{html.escape(label)}:</b> {html.escape(text)}</div>"


#: a part's commentary on a finished page, between two HTML comments (see :func:`comment_slot`)
_SLOT = re.compile(r"<!--kim-kommentar:(\w+)-->.*?<!--/kim-kommentar-->", re.S)


def comment_slot(part: str, text: str) -> str:
    """:func:`commentary_html` of ``part`` between markers, so that a page built once (a meeting's first view) can
    show the coordinators' texts as they are when it is opened (:func:`fill_comments`)."""
    return f"<!--kim-kommentar:{part}-->{commentary_html(text)}<!--/kim-kommentar-->"


def fill_comments(page: str, said: dict[str, str]) -> str:
    """``page`` with each part's commentary replaced by ``said[part]`` (empty where ``said`` has none)."""
    return _SLOT.sub(lambda m: comment_slot(m.group(1), said.get(m.group(1), "")), page)
