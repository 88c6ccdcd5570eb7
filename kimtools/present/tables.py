"""Tables as a person reads them, in a notebook and in its export (``kim.tabelle``).

A tidy frame holds codes and raw numbers (``faelle_je_vzae``, ``kommunales_integrationszentrum``, ``0.08``,
``<NA>``, ``[aufenthg, sgb12]``); the table shows the catalogue's and the code lists' labels, numbers and percentages
in the language's format (:mod:`kimtools.i18n`), "–" for a missing value, "ja"/"nein", lists as words, a value's
95 % interval beside it, and a table wider than an A4 page split into parts that each repeat the first columns.
A table without rows says why (``leer``), never shows an empty grid.

>>> t = pd.DataFrame({"typ": ["jobcenter", "kommunales_integrationszentrum"], "annahmequote": [0.813, pd.NA],
...                   "rechtskreise": [["aufenthg", "sgb12"], []], "bruecke": [True, False]})
>>> print(cells(t).to_string(index=False).replace("\xa0", " "))   # the per cent sign's space does not break
                           Art Annahmequote      Rechtskreise Brücke
                     Jobcenter       81,3 % AufenthG, SGB XII     ja
Kommunales Integrationszentrum            –                 –   nein
"""

from __future__ import annotations

import html
from typing import Iterable

import numpy as np
import pandas as pd

from ..contract.catalogue import CATALOGUE
from ..contract.codes import CODE_LISTS, label
from ..i18n import fmt_date, fmt_number, fmt_percent, tr
from ..periods import period_bounds
from .labels import COLUMNS, FINDING_WORDS, VERDICT_WORDS, column_label, is_share, kennzahl_label
from .markup import CSS, Html

__all__ = ["tabelle", "cells", "kennzahl_value", "POSITIONS_TEXT"]

#: a column whose values are codes of a code list (the list's name)
_CODE_COLUMNS = {"typ": "partnertyp", "partner_typ": "partnertyp", "partnertyp": "partnertyp", "status": "vermittlungsstatus",
                 "rechtskreis": "rechtskreis", "rechtskreise": "rechtskreis", "zielgruppe": "zielgruppe",
                 "handlungsfeld": "handlungsfeld", "handlungsfelder": "handlungsfeld",
                 "aufenthaltsstatus": "aufenthaltsstatus", "geschlecht": "geschlecht", "abschlussgrund": "abschlussgrund",
                 "luecke": "luecke", "vermittlungsstatus": "vermittlungsstatus", "rechtskreis_von": "rechtskreis",
                 "rechtskreis_nach": "rechtskreis"}

#: the funnel's verdicts (``lage``), the findings of the partner comparison, and how a link or a gap changed, as words
POSITIONS_TEXT = {
    **VERDICT_WORDS, **FINDING_WORDS,
    "neu": ("neu", "new"), "weggefallen": ("weggefallen", "dropped"), "mehr": ("mehr", "more"),
    "weniger": ("weniger", "fewer"), "gleich": ("gleich", "same"), "steigend": ("steigend", "rising"),
    "fallend": ("fallend", "falling"), "aus": ("an den Partner", "to the partner"), "ein": ("vom Partner", "from the partner"),
}
#: verdict codes no free text uses: named wherever they stand (a pivot of ``lage`` loses the column's name)
_VERDICTS = ("ueber_99,8", "ueber_95", "innerhalb", "unter_95", "unter_99,8", "unauffaellig", "zu_wenige")
_POSITION_COLUMNS = ("lage", "annahme_befund", "wartezeit_befund", "veraenderung", "trend", "richtung")

#: numbers that are shares of one (shown in per cent) by their column's name, besides the catalogue's shares
_SHARE_WORDS = ("quote", "anteil", "vermittlerrolle", "annahme_uebrige", "annahme_ki")


def kennzahl_value(kennzahl: str, value: object, lang: str | None = None) -> str:
    """A value of ``kennzahl`` as a person reads it: a share in per cent with one decimal, a count as a whole number,
    a median of days without decimals, any other rate with one decimal; "–" where there is none.

    >>> [kennzahl_value(k, v) for k, v in (("annahmequote", 0.0812), ("neuzugaenge", 80.0), ("faelle_je_vzae", 24.272727))]
    ['8,1\xa0%', '80', '24,3']
    """
    if _missing(value):
        return "–"
    entry = CATALOGUE.get(kennzahl)
    if is_share(kennzahl):
        return fmt_percent(float(value), 1, lang)
    if entry is not None and (entry.is_count or entry.berechnung in ("falldauer_median", "wartezeit_median")):
        return fmt_number(float(value), 0 if float(value).is_integer() or entry.berechnung else 1, lang)
    return fmt_number(float(value), 1, lang)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(np.isnan(value)) if isinstance(value, (float, np.floating)) else False
    except TypeError:
        return False


def _word(column: str, lang: str | None, kommune: str | None) -> str:
    if column in CATALOGUE:   # an indicator by the catalogue's name (the pages' short names mean other windows)
        return kennzahl_label(column, lang)
    if column in COLUMNS:
        return column_label(column, lang, kommune)
    words = column.replace("_", " ")
    return words[:1].upper() + words[1:]


def _text(value: object, column: str, code_list: str | None, lang: str | None) -> str:
    """One cell as words."""
    if isinstance(value, (list, tuple, np.ndarray, set)):
        items = [_text(v, column, code_list, lang) for v in value]
        return ", ".join(items) if items else "–"
    if _missing(value):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return tr({"de": "ja", "en": "yes"}, lang) if value else tr({"de": "nein", "en": "no"}, lang)
    if isinstance(value, pd.Timestamp):
        return fmt_date(value.date(), lang)
    if str(value) in POSITIONS_TEXT and (column in _POSITION_COLUMNS or str(value) in _VERDICTS):
        return tr(POSITIONS_TEXT[str(value)], lang)
    if column == "kennzahl":
        return kennzahl_label(str(value), lang)
    if column == "zeitraum" and "/" in str(value):   # a window: its first and last day
        first, last = period_bounds(str(value))
        return f"{fmt_date(first, lang)}–{fmt_date(last, lang)}"
    if code_list is not None:
        return label(code_list, str(value), lang)
    if column in CATALOGUE and isinstance(value, (int, float, np.number)):
        return kennzahl_value(column, value, lang)
    if isinstance(value, (int, np.integer)):
        return fmt_number(int(value), 0, lang)
    if isinstance(value, (float, np.floating)):
        if any(w in column for w in _SHARE_WORDS):
            return fmt_percent(float(value), 1, lang)
        return fmt_number(float(value), 0 if float(value).is_integer() else 1, lang)
    return str(value)


def cells(frame: pd.DataFrame, columns: Iterable[str] | None = None, kommune: str | None = None,
          lang: str | None = None) -> pd.DataFrame:
    """``frame`` with every cell as the words a person reads and the columns named for people (a named index becomes
    the first columns). An indicator table's ``wert`` is formatted by its row's indicator, its ``ki_unten``/``ki_oben``
    become one column "95-%-Intervall", ``unvollstaendig`` stays only where a period is incomplete, and
    ``auspraegung`` is named in the code list of its row's ``merkmal``."""
    named = [n for n in frame.index.names if n is not None]
    full = frame.reset_index() if named else frame
    frame = full[list(columns)] if columns is not None else full
    frame = frame.loc[:, [c for c in frame.columns if not (c == "unvollstaendig" and not frame[c].fillna(False).any())]]
    out: dict[str, list[str]] = {}
    # each row's indicator and breakdown, also where the columns shown leave them out
    per_row = "kennzahl" in full.columns
    kennzahlen = full["kennzahl"].astype(str).tolist() if per_row else []
    merkmale = full["merkmal"].astype(str).tolist() if "merkmal" in full.columns else []
    for column in frame.columns:
        values = frame[column].tolist()
        if column == "ki_oben" and per_row and "ki_unten" in frame.columns:   # shown with ki_unten
            continue
        if column == "ki_unten" and per_row and "ki_oben" in frame.columns:
            highs = frame["ki_oben"].tolist()
            out[_word("intervall", lang, kommune)] = [
                "–" if _missing(lo) or _missing(hi) else f"{kennzahl_value(k, lo, lang)} – {kennzahl_value(k, hi, lang)}"
                for k, lo, hi in zip(kennzahlen, values, highs)]
            continue
        if column == "wert" and per_row:
            out[_word(column, lang, kommune)] = [kennzahl_value(k, v, lang) for k, v in zip(kennzahlen, values)]
            continue
        if column == "auspraegung" and merkmale:
            out[_word(column, lang, kommune)] = [
                "–" if _missing(v) else label(m, str(v), lang) if m in CODE_LISTS else str(v)
                for m, v in zip(merkmale, values)]
            continue
        code_list = _CODE_COLUMNS.get(column)
        out[_word(column, lang, kommune)] = [_text(v, column, code_list, lang) for v in values]
    shown = pd.DataFrame(out)
    shown.attrs["keys"] = [_word(n, lang, kommune) for n in named if n in frame.columns] or (
        [shown.columns[0]] if len(shown.columns) and not shown.iloc[:, 0].map(_numeric).all() else [])
    return shown


def tabelle(frame: pd.DataFrame, spalten: Iterable[str] | None = None, *, leer: str | None = None,
            kommune: str | None = None, breite: int = 6, lang: str | None = None) -> Html:
    """``frame`` as a table a person reads (:func:`cells`), as HTML that a notebook shows and its export keeps.

    ``spalten``: only these columns, in this order; ``leer``: what the reader is told where there are no rows (why
    there are none); ``kommune``: how it names its sub-units (a Kreis: "Gemeinde"); ``breite``: at most so many
    columns side by side (A4 upright), further ones in a second table below that repeats the first column(s).

    >>> t = pd.DataFrame({"stadtbezirk": ["Nord"], "zeitraum": ["2025"], "kennzahl": ["annahmequote"],
    ...                   "zaehler": [13], "nenner": [16.0], "wert": [0.813], "ki_unten": [0.57], "ki_oben": [0.93]})
    >>> html = tabelle(t).html
    >>> "81,3\xa0%" in html and "57,0\xa0% – 93,0\xa0%" in html and "Annahmequote" in html
    True
    >>> print(tabelle(t.iloc[0:0], leer="Keine Vermittlungen in diesen zwölf Monaten.").html)
    <p class='kim-note'>Keine Vermittlungen in diesen zwölf Monaten.</p>
    """
    if frame is None or len(frame) == 0:
        why = leer or tr({"de": "Keine Zeilen.", "en": "No rows."}, lang)
        return Html(f"<p class='kim-note'>{html.escape(why)}</p>")
    shown = cells(frame, spalten, kommune, lang)
    keys = shown.attrs["keys"]
    rest = [c for c in shown.columns if c not in keys]
    step = max(breite - len(keys), 1)
    parts = [keys + rest[i:i + step] for i in range(0, max(len(rest), 1), step)]
    tables = []
    for part in parts:
        head = "".join(f"<th class='num'>{html.escape(str(c))}</th>" if shown[c].map(_numeric).all() else
                       f"<th>{html.escape(str(c))}</th>" for c in part)
        rows = "".join("<tr>" + "".join(
            f"<td class='num'>{html.escape(v)}</td>" if _numeric(v) else f"<td>{html.escape(v)}</td>"
            for v in record) + "</tr>" for record in shown[part].itertuples(index=False))
        tables.append(f"<table class='kim-table'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return Html(CSS + "".join(tables))


def _numeric(text: str) -> bool:
    """Whether a cell's words are a number (right-aligned): digits, separators, per cent, an interval, "–"."""
    return bool(text) and all(ch.isdigit() or ch in ".,–- %\xa0+<" for ch in text) and any(ch.isdigit() for ch in text)
