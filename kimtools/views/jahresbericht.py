"""What the annual report (Sachbericht, council Vorlage) shows for one kommune and year, as protected tables.

Each table is tidy: a row per line of the report (``zeile``: a code, ``text``: its label) and a column per figure,
with its definition for the footnote. Vorlagen are public documents, so every count is protected as a comparison
bundle is (:func:`kimtools.indicators.disclosure.protect`): counts from 1 to ``minimum − 1`` and, where a table
states how its lines add up (a total and its parts, since the start = closed + still open), the cells that would
let a hidden one be recomputed. Posts (VZÄ) are no persons and are shown as they are. Rates and shares are worked
out from the shown counts only.

Examples
--------
The 1 is small; the 10 hides with it, else 11 − 10 would give it away:

>>> t = ReportTable("x", ("X", "X"), ("", ""), pd.DataFrame({"zeile": ["a", "b", "gesamt"], "text": ["a", "b", "Gesamt"],
...                 "jahr": [10, 1, 11]}), [("jahr", ("Jahr", "year"))], total="gesamt")
>>> protected(t, 3).shown["jahr"].tolist()
['x', '< 3', '11']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..contract import codes
from ..contract.catalogue import CATALOGUE
from ..contract.outcomes import STATUSES
from ..errors import InputError
from ..i18n import fmt_number, tr
from ..indicators import indicator_table
from ..indicators.disclosure import DEFAULT_MINIMUM, HIDDEN, Sum, protect
from ..store import Store, in_parallel
from .karten import district_shapes

__all__ = ["ReportTable", "annual_views", "protected", "protect_tables", "cells_and_sums"]


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: ``rows`` (``zeile``, ``text`` and a column per figure of ``columns``, each
    ``(key, (German, English))``), its title and footnote (German, English); ``total``: the ``zeile`` that is the sum
    of the others in every column; ``sums``: further sums between cells, each ``((zeile, column), [(zeile, column),
    …])``; ``posts``: VZÄ, not counts; ``shown``: the cells as the report prints them (after :func:`protected`)."""

    key: str
    title: tuple[str, str]
    note: tuple[str, str]
    rows: pd.DataFrame
    columns: list[tuple[str, tuple[str, str]]]
    total: str | None = None
    sums: list[tuple[tuple[str, str], list[tuple[str, str]]]] = field(default_factory=list)
    posts: bool = False
    shown: pd.DataFrame | None = None


def protected(table: ReportTable, minimum: int = DEFAULT_MINIMUM) -> ReportTable:
    """``table`` with ``shown``: its counts with the small ones and their complements protected ("< minimum",
    :data:`~kimtools.indicators.disclosure.HIDDEN`), posts with one decimal, missing values as "–"."""
    return protect_tables([table], [], minimum)[0]


def cells_and_sums(tables: list[ReportTable], same: list[list[tuple[str, str, str]]]):
    """Every count cell of ``tables`` in one vector (values, whether known, labels, each table's offset) and every sum
    an attacker knows: each table's total and its further sums, and ``same``: groups of cells (table key, line,
    column) that are one figure printed in several places (each a sum of one part)."""
    values, known, labels, at = [], [], [], {}
    for table in tables:
        if table.posts:
            continue
        keys = [k for k, _ in table.columns]
        frame = table.rows[keys].apply(pd.to_numeric, errors="coerce")
        for z, row in zip(table.rows["zeile"], frame.itertuples(index=False)):
            for k, v in zip(keys, row):
                at[(table.key, z, k)] = len(values)
                values.append(0 if pd.isna(v) else int(v))
                known.append(not pd.isna(v))
                labels.append(f"{table.key}/{z}/{k}")
    sums = []
    for table in tables:
        if table.posts:
            continue
        cell = lambda z, k, t=table: at[(t.key, z, k)]  # noqa: E731
        if table.total is not None:
            parts = [z for z in table.rows["zeile"] if z != table.total]
            sums += [Sum(cell(table.total, k), tuple(cell(z, k) for z in parts)) for k, _ in table.columns]
        sums += [Sum(cell(*total), tuple(cell(*p) for p in parts)) for total, parts in table.sums]
    for group in same:
        present = [at[c] for c in group if c in at]
        sums += [Sum(present[0], (other,)) for other in present[1:]]
    sums = [s for s in sums if all(known[c] for c in s.cells)]
    return np.array(values, dtype="int64"), np.array(known, dtype=bool), labels, at, sums


def protect_tables(tables: list[ReportTable], same: list[list[tuple[str, str, str]]],
                   minimum: int = DEFAULT_MINIMUM) -> list[ReportTable]:
    """``tables`` with ``shown``, protected together: a figure printed in two tables is hidden in both or in
    neither (``same``, as :func:`cells_and_sums`), so no table's total gives another's hidden cell away."""
    values, known, labels, at, sums = cells_and_sums(tables, same)
    mask = protect(values, sums, minimum, labels) if len(values) else np.zeros(0, dtype=bool)
    out = []
    for table in tables:
        keys = [k for k, _ in table.columns]
        shown = table.rows[["zeile", "text"]].copy()
        for k in keys:
            if table.posts:
                shown[k] = [("–" if pd.isna(v) else fmt_number(float(v), 1)) for v in table.rows[k]]
                continue
            cells = [at[(table.key, z, k)] for z in table.rows["zeile"]]
            shown[k] = [("–" if not known[c] else (f"< {minimum}" if 0 < values[c] < minimum else HIDDEN) if mask[c]
                         else fmt_number(int(values[c]))) for c in cells]
        out.append(replace(table, shown=shown))
    return out


def _cell(t: pd.DataFrame, kennzahl: str, column: str, **where) -> float:
    """``column`` (``zaehler`` or ``wert``) of the row of ``kennzahl`` with the values ``where``; NaN without one."""
    rows = t.loc[t["kennzahl"] == kennzahl]
    for col, val in where.items():
        rows = rows.loc[rows[col] == val]
    return float(rows[column].iloc[0]) if len(rows) and pd.notna(rows[column].iloc[0]) else np.nan


def _count(t: pd.DataFrame, kennzahl: str, **where) -> float:
    return _cell(t, kennzahl, "zaehler", **where)


def _value(t: pd.DataFrame, kennzahl: str, **where) -> float:
    return _cell(t, kennzahl, "wert", **where)


def _definition(kennzahl: str) -> tuple[str, str]:
    texts = CATALOGUE[kennzahl].texts
    return f"{texts['de']}: {texts['definition_de']}", f"{texts['en']}: {texts['definition_en']}"


def _breakdown(year: pd.DataFrame, total: float, code_list: str, key: str, title: tuple[str, str],
               note: tuple[str, str], partition: bool = True) -> ReportTable:
    """New cases of the year by a characteristic (rows in code-list order, those with cases), with the total."""
    rows = year.loc[(year["kennzahl"] == "neuzugaenge") & (year["zaehler"].fillna(0) > 0)]
    order = {c: i for i, c in enumerate(codes.CODE_LISTS[code_list])}
    rows = rows.assign(o=rows["auspraegung"].map(order).fillna(len(order))).sort_values("o")
    frame = pd.DataFrame({"zeile": rows["auspraegung"].tolist() + ["gesamt"],
                          "text": [codes.label(code_list, c) for c in rows["auspraegung"]] + [tr({"de": "Gesamt", "en": "Total"})],
                          "neu": rows["zaehler"].astype(float).tolist() + [total]})
    return ReportTable(key, title, note, frame, [("neu", ("Neuzugänge", "new cases"))],
                       total="gesamt" if partition else None)


def annual_views(store: Store, kommune: str, jahr: int) -> dict[str, object]:
    """Every table of the annual report of ``kommune`` for the year ``jahr`` (not yet protected), the district
    shapes for a map, and the data state. A year the data do not reach is an :class:`InputError`."""
    label, end = str(jahr), dt.date(jahr, 12, 31)
    with store.snapshot():
        span = store.query("SELECT d0, d1 FROM datenspanne WHERE kommune = ?", [kommune])
        if span.empty:
            raise InputError(f"Für {kommune} gibt es keine Daten im Datenbestand.",
                             f"There are no data for {kommune} in the store.")
        d0, d1 = (pd.Timestamp(x).date() for x in span.iloc[0])
        if not d0.year <= jahr <= d1.year:
            raise InputError(f"Das Jahr {jahr} liegt außerhalb der Daten von {kommune} ({d0.year}–{d1.year}).",
                             f"The year {jahr} lies outside {kommune}'s data ({d0.year}–{d1.year}).")
        since_end = min(end, d1)
        t = in_parallel({
            "year": lambda: indicator_table(store, kommune, period="year"),
            "since": lambda: indicator_table(store, kommune, period="total", bis=since_end),
            "posts": lambda: indicator_table(store, kommune, period="year", merkmal="baustein",
                                             kennzahlen=["vzae_land", "vzae_besetzt", "vzae_unbesetzt", "vakanzmonate"]),
            "employers": lambda: indicator_table(store, kommune, period="year", by="traeger",
                                                 kennzahlen=["vzae_land", "vzae_besetzt", "vzae_unbesetzt"]),
            "groups": lambda: indicator_table(store, kommune, period="year", merkmal="zielgruppe", kennzahlen=["neuzugaenge"]),
            "areas": lambda: indicator_table(store, kommune, period="year", merkmal="handlungsfeld", kennzahlen=["neuzugaenge"]),
            "status": lambda: indicator_table(store, kommune, period="year", merkmal="aufenthaltsstatus",
                                              kennzahlen=["neuzugaenge"]),
            "gaps": lambda: indicator_table(store, kommune, period="year", merkmal="luecke", kennzahlen=["luecken"]),
            "districts": lambda: indicator_table(store, kommune, period="year", by="stadtbezirk",
                                                 kennzahlen=["personen_einmal", "neuzugaenge", "reichweite_je_1000"]),
            "partner": lambda: store.query("SELECT partner_id, name FROM partner WHERE kommune = ?", [kommune]),
            "shapes": lambda: district_shapes(store, kommune)})
    pick = lambda name: t[name].loc[t[name]["zeitraum"] == label]  # noqa: E731
    year, since = pick("year"), t["since"]
    tables = [_posts_table(pick("posts")), _employer_table(pick("employers"), t["partner"]),
              _reach_table(year, since, jahr, since_end)]
    new = _count(year, "neuzugaenge")
    tables.append(_breakdown(pick("groups"), new, "zielgruppe", "zielgruppen",
                             ("Neuzugänge nach Zielgruppe", "new cases by target group"), _definition("neuzugaenge")))
    tables.append(_breakdown(pick("status"), new, "aufenthaltsstatus", "aufenthalt",
                             ("Neuzugänge nach Aufenthaltsstatus bei Aufnahme", "new cases by residence status at intake"),
                             _definition("neuzugaenge")))
    tables.append(_breakdown(pick("areas"), new, "handlungsfeld", "handlungsfelder",
                             ("Neuzugänge nach Handlungsfeld", "new cases by field of action"),
                             tuple(d + s for d, s in zip(_definition("neuzugaenge"), (
                                 " Ein Fall zählt in jedem seiner Handlungsfelder; die Zeilen ergeben mehr als die Summe.",
                                 " A case counts in each of its fields; the lines add up to more than the total."))),
                             partition=False))
    tables += [_referral_table(year), _gap_table(pick("gaps"), _count(year, "luecken")),
               _district_table(pick("districts"), _count(year, "personen_einmal"))]
    # the figures printed in several tables: the new cases of the year, the persons reached in it
    same = [[("reichweite", "neuzugaenge", "jahr"), *((k, "gesamt", "neu") for k in
                                                       ("zielgruppen", "aufenthalt", "handlungsfelder", "bezirke"))],
            [("reichweite", "personen_erreicht", "jahr"), ("bezirke", "gesamt", "personen")]]
    return {"kommune": kommune, "jahr": jahr, "tables": tables, "same": same, "shapes": t["shapes"],
            "daten": (d0, d1), "seit_beginn_bis": since_end, "districts": pick("districts")}


def _posts_table(posts: pd.DataFrame) -> ReportTable:
    rows = []
    for b in codes.CODE_LISTS["baustein"]:
        rows.append({"zeile": b, "text": codes.label("baustein", b),
                     **{k: _value(posts, k, auspraegung=b) for k in ("vzae_land", "vzae_besetzt", "vzae_unbesetzt",
                                                                      "vakanzmonate")}})
    frame = pd.DataFrame(rows)
    if frame[["vzae_land", "vzae_besetzt", "vzae_unbesetzt", "vakanzmonate"]].notna().any().any():
        frame = frame.fillna(0.0)   # a Baustein without posts has none; a kommune without any: no data ("–")
    total = {"zeile": "gesamt", "text": tr({"de": "Gesamt", "en": "Total"}),
             **{k: frame[k].sum() for k in ("vzae_land", "vzae_besetzt", "vzae_unbesetzt", "vakanzmonate")}}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    note = tuple(" ".join(_definition(k)[i] for k in ("vzae_besetzt", "vzae_land", "vakanzmonate")) for i in (0, 1))
    return ReportTable("stellen", ("Stellen je Baustein (VZÄ im Jahresmittel)", "posts per Baustein (FTE, yearly mean)"),
                       note, frame, [("vzae_land", ("landesgefördert", "Land-funded")), ("vzae_besetzt", ("besetzt", "filled")),
                                     ("vzae_unbesetzt", ("unbesetzt", "vacant")),
                                     ("vakanzmonate", ("Vakanzmonate", "vacancy months"))], posts=True)


def _employer_table(employers: pd.DataFrame, partner: pd.DataFrame) -> ReportTable:
    names = dict(zip(partner["partner_id"], partner["name"]))
    ids = sorted(set(employers["traeger"]), key=lambda p: names.get(p, p))
    frame = pd.DataFrame([{"zeile": p, "text": names.get(p, p),
                           **{k: _value(employers, k, traeger=p) for k in ("vzae_land", "vzae_besetzt", "vzae_unbesetzt")}}
                          for p in ids], columns=["zeile", "text", "vzae_land", "vzae_besetzt", "vzae_unbesetzt"])
    frame = frame.loc[frame[["vzae_land", "vzae_besetzt", "vzae_unbesetzt"]].fillna(0).sum(axis=1) > 0]
    return ReportTable("arbeitgeber", ("Stellen je Arbeitgeber (VZÄ im Jahresmittel)", "posts per employer (FTE, yearly mean)"),
                       ("Arbeitgeber: der Träger der Stelle (Tabelle stellen, Spalte traeger).",
                        "Employer: the post's provider (table stellen, column traeger)."), frame.reset_index(drop=True),
                       [("vzae_land", ("landesgefördert", "Land-funded")), ("vzae_besetzt", ("besetzt", "filled")),
                        ("vzae_unbesetzt", ("unbesetzt", "vacant"))], posts=True)


def _reach_table(year: pd.DataFrame, since: pd.DataFrame, jahr: int, since_end: dt.date) -> ReportTable:
    lines = [("personen_erreicht", ("Erreichte Personen", "persons reached")),
             ("personen_mit_angehoerigen", ("… mit mitberatenen Angehörigen", "… with household members counselled alongside")),
             ("mitberatene", ("mitberatene Angehörige", "household members counselled alongside")),
             ("neuzugaenge", ("Neue Fälle", "new cases")), ("abschluesse", ("Abgeschlossene Fälle", "closed cases")),
             ("faelle_offen", ("Offene Fälle am Ende", "cases open at the end")),
             ("beratungen", ("Beratungen", "consultations"))]
    frame = pd.DataFrame({"zeile": [k for k, _ in lines], "text": [tr(t) for _, t in lines],
                          "jahr": [_count(year, k) for k, _ in lines], "seit": [_count(since, k) for k, _ in lines]})
    note = tuple(" ".join(_definition(k)[i] for k in ("personen_erreicht", "personen_mit_angehoerigen", "faelle_offen"))
                 + (f" Seit Beginn: vom ersten Datum der Daten bis {since_end:%d.%m.%Y}." if i == 0 else
                    f" Since the start: from the first date of the data to {since_end:%Y-%m-%d}.") for i in (0, 1))
    # since the start, every case begun is closed or still open at the end: new = closed + open; and the cases open
    # at the end are one number in both columns (a figure hidden in one must be hidden in the other)
    sums = [(("neuzugaenge", "seit"), [("abschluesse", "seit"), ("faelle_offen", "seit")]),
            (("faelle_offen", "jahr"), [("faelle_offen", "seit")])]
    return ReportTable("reichweite", (f"Reichweite {jahr} und seit Beginn", f"reach in {jahr} and since the start"),
                       note, frame, [("jahr", (str(jahr), str(jahr))), ("seit", ("seit Beginn", "since the start"))],
                       sums=sums)


def _referral_table(year: pd.DataFrame) -> ReportTable:
    """Referrals of the year by their status today, each once (they add up to the referrals), from the catalogue's
    counts: answered, accepted (with completed), completed, refused, no-show."""
    total = _count(year, "vermittlungen")
    accepted, done = _count(year, "annahmequote"), _count(year, "abschlussquote")
    refused, absent = _count(year, "ablehnungsquote"), _count(year, "nicht_wahrgenommen_quote")
    rows = year.loc[year["kennzahl"] == "annahmequote", "nenner"]
    answered = float(rows.iloc[0]) if len(rows) and pd.notna(rows.iloc[0]) else np.nan
    values = {"vermittelt": total - answered, "warteliste": answered - accepted - refused - absent,
              "angenommen": accepted - done, "abgeschlossen": done, "abgelehnt": refused, "nicht_wahrgenommen": absent}
    frame = pd.DataFrame({"zeile": [*STATUSES, "gesamt"],
                          "text": [codes.label("vermittlungsstatus", s) for s in STATUSES]
                          + [tr({"de": "Vermittlungen gesamt", "en": "referrals in total"})],
                          "anzahl": [values[s] for s in STATUSES] + [total]})
    return ReportTable("vermittlungen", ("Vermittlungen und was aus ihnen wurde", "referrals and what became of them"),
                       ("Vermittlungen mit Datum im Jahr, nach ihrem heutigen Status (angenommen: ohne die schon "
                        "abgeschlossenen). " + _definition("annahmequote")[0],
                        "Referrals dated in the year, by their status today (accepted: without those already "
                        "completed). " + _definition("annahmequote")[1]),
                       frame, [("anzahl", ("Anzahl", "number"))], total="gesamt")


def _gap_table(gaps: pd.DataFrame, total: float) -> ReportTable:
    rows = gaps.loc[(gaps["kennzahl"] == "luecken") & (gaps["auspraegung"] != "keine") & (gaps["zaehler"].fillna(0) > 0)]
    rows = rows.sort_values("zaehler", ascending=False, kind="stable")
    frame = pd.DataFrame({"zeile": rows["auspraegung"].tolist() + ["gesamt"],
                          "text": [codes.label("luecke", c) for c in rows["auspraegung"]]
                          + [tr({"de": "Lücken gesamt", "en": "gaps in total"})],
                          "anzahl": rows["zaehler"].astype(float).tolist() + [total]})
    return ReportTable("luecken", ("Die größten Angebotslücken", "the largest gaps in provision"), _definition("luecken"),
                       frame, [("anzahl", ("Vermittlungen mit Lücke", "referrals with a gap"))], total="gesamt")


def _district_table(districts: pd.DataFrame, persons: float) -> ReportTable:
    names = sorted(set(districts["stadtbezirk"].dropna()))
    frame = pd.DataFrame({"zeile": names + ["gesamt"], "text": names + [tr({"de": "Gesamt", "en": "Total"})],
                          "personen": [_count(districts, "personen_einmal", stadtbezirk=d) for d in names] + [persons],
                          "neu": [_count(districts, "neuzugaenge", stadtbezirk=d) for d in names]
                          + [districts.loc[districts["kennzahl"] == "neuzugaenge", "zaehler"].sum()]})
    return ReportTable("bezirke", ("Die {Bezirke}", "the {districts}"),
                       tuple(f"{a} {b}" for a, b in zip(_definition("personen_einmal"), _definition("neuzugaenge"))),
                       frame, [("personen", ("erreichte Personen", "persons reached")), ("neu", ("Neuzugänge", "new cases"))],
                       total="gesamt")
