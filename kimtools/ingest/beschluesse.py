"""Read and check the Beschlussliste (``docs/beschlussliste.md``): one CSV file or one XLSX sheet, or the rows a
notebook's table widget holds, through the same checks; every problem at once (row, column, value, reason, German and
English); a list with a problem changes nothing, a list without one replaces the decisions of every kommune it covers.

The columns' own rules are those of :data:`kimtools.contract.beschluesse.BESCHLUSSLISTE` (checked by
:func:`kimtools.ingest.read.check_column`, as an export's); here are the rules between columns and against the store:
a kommune of the store, a ``beschluss_id`` once per kommune, a ``zustaendig`` partner and a ``stadtbezirk`` of that
kommune, a ``kennzahl`` of the catalogue with a breakdown its table has and a value of that breakdown, ``richtung``
iff ``kennzahl``, ``umgesetzt_am`` iff ``status = umgesetzt`` and not before ``datum``, a ``frist`` not before
``datum``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import codes
from ..contract.beschluesse import BESCHLUSSLISTE, COLUMNS, DONE
from ..contract.catalogue import CATALOGUE
from ..errors import DecisionListError, InputError
from ..indicators.catalogue import pass_of
from ..indicators.posts import POST_AUSP, POST_ONLY
from ..indicators.table import ALTERSGRUPPEN, MERKMALE, REFERRAL_ONLY
from ..spreadsheet import write_csv   # defuses every text of a CSV file; a workbook's texts stay string cells
from ..store import Store
from ..store.beschluesse import replace_decisions
from .names import closest
from .files import csv_frame, normalise_columns, sheet_frame, source_parts
from .problems import ROW, Problems, RawTable
from .read import check_column

__all__ = ["DecisionList", "read_decisions", "check_decisions", "import_decisions", "breakdown_values", "SHEET_NAMES",
           "list_frame", "write_list", "append_to_list"]

#: the sheet a workbook's list is taken from when it has several (compared in lower case), else its first
SHEET_NAMES = ("beschluesse", "beschlüsse", "beschlussliste")
#: breakdowns whose values are a code list's codes, with the values the engine adds for "none" (an open case, a
#: referral without a gap …)
_CODED = {"zielgruppe": ("zielgruppe", ()), "handlungsfeld": ("handlungsfeld", ()),
          "aufenthaltsstatus": ("aufenthaltsstatus", ()), "geschlecht": ("geschlecht", ("ohne_angabe",)),
          "abschlussgrund": ("abschlussgrund", ("offen",)), "luecke": ("luecke", ("keine",)),
          "partner_typ": ("partnertyp", ()), "rechtskreis": ("rechtskreis", ("ohne",)),
          "baustein": ("baustein", ()), "funktion": ("funktion", ("ohne_angabe",)), "foerderung": ("foerderung", ())}


@dataclass
class DecisionList:
    """A checked list: its decisions (the contract's columns typed, ``zeile`` the row in the file), the kommunen it
    covers, and its warnings (problems that do not stop it)."""

    source: str
    decisions: pd.DataFrame
    kommunen: tuple[str, ...]
    warnings: pd.DataFrame


@dataclass(frozen=True)
class _Facts:
    """What the checks need from the store: its kommunen, each one's partners and districts."""

    kommunen: tuple[str, ...]
    partners: dict[str, set[str]]
    districts: dict[str, set[str]]

    @classmethod
    def of(cls, store: Store) -> "_Facts":
        kommunen = tuple(store.kommunen())   # a clear message where there is no store
        p = store.query("SELECT kommune, partner_id FROM partner")
        d = store.query("SELECT DISTINCT kommune, stadtbezirk FROM faelle WHERE stadtbezirk IS NOT NULL "
                        "UNION SELECT kommune, stadtbezirk FROM bezirke")
        return cls(kommunen, p.groupby("kommune")["partner_id"].agg(set).to_dict(),
                   d.groupby("kommune")["stadtbezirk"].agg(set).to_dict())


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def breakdown_values(merkmal: str, partners: set[str] = frozenset(), districts: set[str] = frozenset()) -> dict[str, str]:
    """The values a breakdown takes, by their lower-case spelling (a code, its German label, a partner ID, a
    district) → the value as the indicator table writes it.

    >>> breakdown_values("luecke")["wartezeit"], breakdown_values("luecke")["kein angebot"]
    ('wartezeit', 'kein_angebot')
    """
    if merkmal in _CODED:
        name, extra = _CODED[merkmal]
        out = {v: v for v in extra}
        for code, (de, en) in codes.CODE_LISTS[name].items():
            out.update({_key(code): code, _key(de): code, _key(en): code})
        return out
    if merkmal == "altersgruppe":
        return {**{_key(k): k for k in ALTERSGRUPPEN}, **{_key(de): k for k, (de, _en) in ALTERSGRUPPEN.items()}}
    if merkmal in ("traeger", "an_partner"):
        return {_key(p): p for p in partners}
    if merkmal == "stadtbezirk":
        return {**{_key(d): d for d in districts}, "stadtweit": "stadtweit"}
    return {}


def _fits(merkmal: str, kennzahl: str) -> bool:
    """Whether the indicator table has ``kennzahl`` broken down by ``merkmal`` (posts by their own attributes only,
    cases not by the receiving partner of a referral)."""
    passes = pass_of(CATALOGUE[kennzahl])
    if merkmal in POST_ONLY:
        return passes == {"stellen"}
    if passes == {"stellen"}:
        return merkmal in POST_AUSP
    if merkmal in REFERRAL_ONLY:
        return "vermittlungen" in passes
    return True


def _check(raw: RawTable, facts: _Facts, today: dt.date, problems: Problems) -> pd.DataFrame:
    """Every rule of the list on ``raw``; the decisions typed (rows with a problem as they came)."""
    f = raw.frame
    parsed = {c.name: check_column(raw, c, problems, today) for c in BESCHLUSSLISTE.columns}
    add = problems.add_masked
    text = {c: f[c] for c in COLUMNS}
    given = {c: text[c] != "" for c in COLUMNS}

    # the kommune: one of the store's, written as it likes
    known = {_key(k): k for k in facts.kommunen}
    kommune = text["kommune"].map(lambda v: known.get(_key(v)))
    add(raw, given["kommune"] & kommune.isna(), "kommune",
        f"Diese Kommune ist nicht im Datenbestand; dort sind: {', '.join(facts.kommunen)}.",
        f"This kommune is not in the store; it holds: {', '.join(facts.kommunen)}.")
    ids = pd.DataFrame({"k": kommune, "i": text["beschluss_id"], "row": f[ROW]})
    twice = kommune.notna() & given["beschluss_id"] & ids.duplicated(["k", "i"], keep=False)
    first = ids.groupby(["k", "i"])["row"].transform("min").astype("Int64").astype(str)
    add(raw, twice, "beschluss_id", "Die Beschluss-ID steht für diese Kommune mehrfach in der Liste (zuerst in Zeile "
        + first + "); jede nur einmal.", "The decision ID appears more than once for this kommune (first in row "
        + first + "); each only once.")

    # the partner responsible and the district of the indicator: of that kommune
    def of_kommune(column: str, known_by: dict[str, set[str]], what: tuple[str, str]) -> pd.Series:
        lookup = {k: {_key(v): v for v in vals} for k, vals in known_by.items()}
        found = pd.Series([lookup.get(k, {}).get(_key(v)) if isinstance(k, str) else None
                           for k, v in zip(kommune, text[column])], index=f.index, dtype=object)
        bad = given[column] & kommune.notna() & found.isna()
        listed = {k: ", ".join(sorted(v)[:15]) + (" …" if len(v) > 15 else "") for k, v in known_by.items()}
        add(raw, bad, column,
            pd.Series([f"{what[0]} von {k} unbekannt; bekannt sind: {listed.get(k, 'keine')}." for k in kommune], index=f.index),
            pd.Series([f"{what[1]} of {k} unknown; known are: {listed.get(k, 'none')}." for k in kommune], index=f.index))
        return found

    zustaendig = of_kommune("zustaendig", facts.partners, ("Partner-ID", "partner ID"))
    bezirk = of_kommune("stadtbezirk", facts.districts, ("Bezirk", "district"))

    # the indicator, its breakdown and its direction
    kennzahl = text["kennzahl"].where(given["kennzahl"])
    unknown = given["kennzahl"] & ~kennzahl.isin(list(CATALOGUE))
    meant = kennzahl.map(lambda v: closest(v, list(CATALOGUE)) if isinstance(v, str) else None)
    add(raw, unknown, "kennzahl", "Keine Kennzahl des Katalogs (docs/kennzahlen.md oder der eigene Katalog)"
        + meant.map(lambda m: f"; gemeint ist wohl {m}?" if isinstance(m, str) else ".").where(unknown, ""),
        "Not an indicator of the catalogue (docs/kennzahlen.en.md or the installation's own)"
        + meant.map(lambda m: f"; probably {m} is meant?" if isinstance(m, str) else ".").where(unknown, ""))
    ok_kennzahl = given["kennzahl"] & ~unknown
    add(raw, given["richtung"] & ~given["kennzahl"], "richtung", "Eine Richtung gibt es nur mit einer Kennzahl.",
        "A direction is given only with an indicator.")
    add(raw, given["kennzahl"] & ~given["richtung"], "richtung",
        "Zur Kennzahl fehlt die Richtung: steigen oder sinken (welche Richtung besser ist).",
        "The indicator needs its direction: steigen or sinken (which way is better).")
    add(raw, (given["stadtbezirk"] | given["merkmal"] | given["zielwert"]) & ~given["kennzahl"], "kennzahl",
        "Bezirk, Merkmal oder Zielwert gelten einer Kennzahl; hier fehlt sie.",
        "District, breakdown or target value belong to an indicator; it is missing here.")
    for column, other in (("auspraegung", "merkmal"), ("merkmal", "auspraegung")):
        add(raw, given[other] & ~given[column], column, "Merkmal und Ausprägung gehören zusammen: beide oder keines.",
            "Breakdown and value belong together: both or neither.")
    merkmal = text["merkmal"].str.lower().where(given["merkmal"])
    bad_m = given["merkmal"] & ~merkmal.isin(MERKMALE)
    add(raw, bad_m, "merkmal", f"Unbekanntes Merkmal; erlaubt sind: {', '.join(MERKMALE)}.",
        f"Unknown breakdown; allowed are: {', '.join(MERKMALE)}.")
    ausp = pd.Series(None, index=f.index, dtype=object)
    for i in f.index[given["merkmal"] & ~bad_m & given["auspraegung"]]:
        k, m = kommune[i], merkmal[i]
        values = breakdown_values(m, facts.partners.get(k, set()), facts.districts.get(k, set()))
        ausp[i] = values.get(_key(text["auspraegung"][i]))
        if ausp[i] is None and isinstance(k, str):
            shown = ", ".join(sorted(set(values.values()))[:15])
            add(raw, f.index == i, "auspraegung", f"Keine Ausprägung des Merkmals {m}; möglich sind: {shown}.",
                f"Not a value of the breakdown {m}; possible are: {shown}.")
        if ok_kennzahl[i] and not _fits(m, kennzahl[i]):
            add(raw, f.index == i, "merkmal", f"Die Kennzahl {kennzahl[i]} lässt sich nicht nach {m} aufschlüsseln.",
                f"The indicator {kennzahl[i]} cannot be broken down by {m}.")

    # dates and status
    datum, frist, done_on = parsed["datum"], parsed["frist"], parsed["umgesetzt_am"]
    status = parsed["status"]
    add(raw, (status == DONE) & ~given["umgesetzt_am"], "umgesetzt_am",
        "Status umgesetzt: das Datum der Umsetzung fehlt.", "Status umgesetzt: the date of implementation is missing.")
    add(raw, status.notna() & (status != DONE) & given["umgesetzt_am"], "umgesetzt_am",
        "Ein Umsetzungsdatum gibt es nur mit Status umgesetzt; Status oder Datum korrigieren.",
        "A date of implementation is given only with status umgesetzt; correct the status or the date.")
    add(raw, (done_on < datum).fillna(False), "umgesetzt_am", "Umgesetzt vor dem Beschluss (datum)?",
        "Implemented before the decision (datum)?")
    add(raw, (frist < datum).fillna(False), "frist", "Die Frist liegt vor dem Beschluss (datum).",
        "The due date lies before the decision (datum).")

    out = pd.DataFrame({c: parsed[c] for c in COLUMNS})
    out["kommune"], out["zustaendig"], out["stadtbezirk"] = kommune, zustaendig, bezirk
    out["merkmal"], out["auspraegung"], out["kennzahl"] = merkmal, ausp, kennzahl
    for c in ("datum", "frist", "umgesetzt_am"):
        out[c] = pd.to_datetime(out[c])
    out["zielwert"] = out["zielwert"].astype("float64")
    out["zeile"] = f[ROW].to_numpy()
    return out.astype({c: object for c in ("beschluss_id", "titel", "beschreibung")})


def _raw(file: str, frame: pd.DataFrame, problems: Problems, warnings: Problems) -> RawTable | None:
    raw = RawTable(BESCHLUSSLISTE, file, frame)
    return raw if normalise_columns(raw, problems, warnings) else None


def _checked(source_name: str, raw: RawTable | None, store: Store, today: dt.date | None, problems: Problems,
             warnings: Problems) -> DecisionList:
    facts = _Facts.of(store)
    decisions = _check(raw, facts, today or dt.date.today(), problems) if raw is not None else None
    if problems:
        raise DecisionListError(problems.frame(), source_name)
    kommunen = tuple(sorted(decisions["kommune"].unique()))
    return DecisionList(source_name, decisions.reset_index(drop=True), kommunen, warnings.frame())


def read_decisions(source: str | Path, store: Store, today: dt.date | None = None) -> DecisionList:
    """Read and check the list in ``source`` (a CSV file, or a workbook: its sheet named ``Beschluesse`` or
    ``Beschlussliste``, else its first); a :class:`~kimtools.errors.DecisionListError` names every problem.
    ``today``: the day against which no date may lie in the future (default: today)."""
    source = Path(source)
    if source.is_dir():
        raise InputError(f"{source} ist ein Ordner; erwartet wird die Beschlussliste als eine CSV- oder XLSX-Datei.",
                         f"{source} is a folder; the list of decisions is expected as one CSV or XLSX file.")
    if not source.exists():
        raise InputError(f"Die Beschlussliste {source} gibt es nicht; bitte den Pfad prüfen.",
                         f"The list of decisions {source} does not exist; please check the path.")
    if source.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise InputError(f"{source.name}: die Beschlussliste ist eine .csv- oder .xlsx-Datei (in Excel „Speichern unter“ "
                         "als Excel-Arbeitsmappe oder CSV).", f"{source.name}: the list of decisions is a .csv or .xlsx file "
                         "(in Excel 'Save as' an Excel workbook or CSV).")
    parts, _sha, _size = source_parts(source)
    problems, warnings = Problems(), Problems()
    chosen = next((p for p in parts if p[0].lower() in SHEET_NAMES), parts[0]) if parts else None
    if chosen is None:
        raise InputError(f"{source} enthält kein Tabellenblatt.", f"{source} holds no sheet.")
    others = [p[1] for p in parts if p is not chosen]
    if others:
        warnings.add(chosen[1], "beschluesse", [0], "", [""],
                     f"Gelesen wird nur dieses Blatt; nicht gelesen: {', '.join(others)}.",
                     f"Only this sheet is read; not read: {', '.join(others)}.")
    name, file, payload = chosen
    frame = (csv_frame(file, payload, problems, "beschluesse") if isinstance(payload, bytes) else
             sheet_frame(file, payload, problems, "beschluesse"))
    raw = _raw(file, frame, problems, warnings) if frame is not None else None
    return _checked(source.name, raw, store, today, problems, warnings)


def check_decisions(rows: pd.DataFrame, store: Store, today: dt.date | None = None,
                    name: str = "Tabelle") -> DecisionList:
    """Check the list's rows as a table widget holds them (the contract's columns, text cells; row 2 is the first,
    as in a file with its header) by the same rules as a file."""
    problems, warnings = Problems(), Problems()
    frame = rows.astype(object).where(rows.notna(), "").astype(str)
    frame.insert(0, ROW, np.arange(2, len(frame) + 2))
    raw = _raw(name, frame.reset_index(drop=True), problems, warnings)
    return _checked(name, raw, store, today, problems, warnings)


def import_decisions(source: str | Path | pd.DataFrame, db: str | Path | Store | None = None, dry_run: bool = False,
                     today: dt.date | None = None) -> DecisionList:
    """Read ``source`` (a file, or the rows of a table widget) and, unless ``dry_run``, put its decisions in place of
    those of every kommune it covers, as one whole. A list with a problem changes nothing."""
    store = db if isinstance(db, Store) else Store(db)
    checked = (check_decisions(source, store, today) if isinstance(source, pd.DataFrame) else
               read_decisions(source, store, today))
    if not dry_run:
        replace_decisions(store, checked.decisions, checked.kommunen, checked.source)
    return checked



def list_frame(decisions: pd.DataFrame) -> pd.DataFrame:
    """Decisions (as stored, or as :func:`~kimtools.analysis.beschluesse.draft_rows` makes them) as the list's text
    cells, in the contract's columns: dates ``TT.MM.JJJJ``, numbers with a decimal comma, nothing as an empty cell.
    What a table widget edits and a list file holds."""
    out = pd.DataFrame(index=decisions.index)
    for c in COLUMNS:
        values = decisions[c] if c in decisions.columns else pd.Series(None, index=decisions.index, dtype=object)
        if c in ("datum", "frist", "umgesetzt_am"):
            out[c] = [v.strftime("%d.%m.%Y") if not pd.isna(v) else "" for v in pd.to_datetime(values)]
        elif c == "zielwert":
            out[c] = [("" if pd.isna(v) or v == "" else f"{float(v):g}".replace(".", ",")) for v in values]
        else:
            out[c] = ["" if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else str(v) for v in values]
    return out.reset_index(drop=True)


def _file_rows(path: Path) -> tuple[pd.DataFrame, str | None]:
    """The rows of the list file ``path`` as text cells in the contract's columns (none for a file that does not
    exist yet), and the name of its sheet (a workbook's)."""
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS)), None
    parts, _sha, _size = source_parts(path)
    problems = Problems()
    name, file, payload = next((p for p in parts if p[0].lower() in SHEET_NAMES), parts[0])
    frame = (csv_frame(file, payload, problems, "beschluesse") if isinstance(payload, bytes) else
             sheet_frame(file, payload, problems, "beschluesse"))
    raw = _raw(file, frame, problems, Problems()) if frame is not None else None
    if problems or raw is None:
        raise DecisionListError(problems.frame(), path.name)
    return raw.frame[list(COLUMNS)], (None if isinstance(payload, bytes) else name)


def write_list(path: str | Path, rows: pd.DataFrame) -> Path:
    """Write ``rows`` (the list's text cells, :func:`list_frame`) as the list file ``path``: a workbook's list sheet
    (its other sheets kept) or a CSV file (``;``, UTF-8 with BOM, as Excel writes it in German), in place of what it
    held, by way of a copy so that a failed write leaves the file as it was."""
    import openpyxl   # only when a workbook is written

    path = Path(path)
    rows = rows[list(COLUMNS)].fillna("")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if path.suffix.lower() == ".csv":
            write_csv(rows, tmp, sep=";", index=False, encoding="utf-8-sig")
        elif path.suffix.lower() == ".xlsx":
            _rows, sheet = _file_rows(path)
            book = openpyxl.load_workbook(path) if path.exists() else openpyxl.Workbook()
            if not path.exists():
                book.active.title = "Beschlussliste"
            ws = book[sheet] if sheet else book.active
            ws.delete_rows(1, ws.max_row)
            ws.append(list(COLUMNS))
            for r in rows.itertuples(index=False):
                ws.append([str(v) for v in r])
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":   # a text beginning with "=" stays text
                        cell.data_type = "s"
            book.save(tmp)
        else:
            raise InputError(f"{path.name}: die Beschlussliste ist eine .xlsx- oder .csv-Datei.",
                             f"{path.name}: the list of decisions is an .xlsx or .csv file.")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def append_to_list(path: str | Path, rows: pd.DataFrame) -> Path:
    """Add ``rows`` (text cells or typed, e.g. draft rows) at the end of the list file ``path`` (created with its
    header if it does not exist), the rows it holds kept as they are."""
    path = Path(path)
    held, _sheet = _file_rows(path)
    return write_list(path, pd.concat([held, list_frame(rows)], ignore_index=True))
