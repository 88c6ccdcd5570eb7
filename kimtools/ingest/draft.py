"""Drafting an import profile (``kimtools profil SOURCE --out FILE``): what a foreign export most likely means.

Longer than 500 lines on purpose: one decision procedure over tables, columns, groups and code labels, each step
reading what the earlier ones assigned.

The draft decides only what has one clear answer and marks everything else ``"?"`` for a person:

- **tables** by the sheet's or file's name (``Fälle``, ``Einrichtungen``: ``contract/synonyme.csv``) and by how
  many of the table's columns its header names; the header row as the first row with the most filled cells;
- **columns** by name (:func:`~kimtools.ingest.names.closest`: case, umlauts, hyphens, synonyms, containment,
  similarity) where the values agree (dates are dates); else by content: values of a code list (``Stand`` holding
  "angenommen", "abgelehnt" …), IDs that repeat across tables (a partner sheet's ``Nr.`` holding every provider
  ID of the cases), tick-mark columns named after needs areas, repeated column groups ("Beratung 1 Datum" …), a
  date format of the reader's own (``TT.MM.JJ``), the kommune named in a title row or the file's name; a postcode
  column where the district is missing is proposed with a lookup table still to name;
- **code values** the reader would not take as they are, by label and similarity (``Umzug/Wegzug`` → ``wegzug``).

Decided by name or content means: exactly one candidate; where two are equally good the entry stays open with
the candidates listed in its comment. :class:`Draft` holds the entries (for the import assistant's dropdowns) and
writes the profile as commented TOML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd
import tomlkit

from ..contract import codes
from ..contract.reference import load_reference
from ..contract.schema import TABLE_ORDER, TABLES
from ..errors import InputError
from .files import head_rows, header_row, source_parts, table_frame
from .names import closest, closest_in, name_key, name_words
from .problems import Problems
from .profile import CASE_TABLES, UNDECIDED, UNTICKED, Profile, group_pattern, parse_profile

__all__ = ["Entry", "Draft", "draft_profile", "decisions"]

#: at least this share of a column's distinct values must belong to a code list to take the column as that code
CONTENT_SHARE = 0.6
_DATE_FORMATS = ((r"\d{1,2}\.\d{1,2}\.\d{2}", "TT.MM.JJ"), (r"\d{1,2}-\d{1,2}-\d{4}", "TT-MM-JJJJ"),
                 (r"\d{8}", "JJJJMMTT"))
_NATIVE_DATE = re.compile(r"^(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/\d{4}$")
_GROUP = re.compile(r"^\s*(\D*?)[\s_\-:.]*(\d+)[\s_\-:.]*(.*?)\s*$")
_GROUP_NAMES = {"beratungen": ("beratung", "kontakt", "termin"), "vermittlungen": ("vermittlung", "weiterleitung")}
_POSTCODE = ("plz", "postleitzahl")


@dataclass
class Entry:
    """One entry of a draft: ``table`` and ``section`` (``quelle``, ``kopfzeile``, ``spalten``, ``werte``), ``key``
    (the contract column; for ``werte`` the column and the foreign value), the ``value`` (``"?"`` while open), how it
    was decided or why not (``note``, German) and what a person may choose from (``choices``)."""

    table: str
    section: str
    key: tuple[str, ...]
    value: object
    note: str = ""
    choices: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        """No part of the value is still ``"?"`` (a lookup's table may be open while its column is clear)."""
        return self.value != UNDECIDED and not (isinstance(self.value, dict) and UNDECIDED in self.value.values())

    @property
    def path(self) -> str:
        """As a profile's refusal names it: ``faelle.spalten.ende``, ``faelle.werte.geschlecht."k. A."``."""
        key = (self.key[0], f'"{self.key[1]}"') if self.section == "werte" else self.key
        return ".".join((self.table, self.section, *key))


@dataclass
class _Sheet:
    name: str
    display: str
    header_row: int
    title: str
    frame: pd.DataFrame

    @property
    def headers(self) -> list[str]:
        return [str(c) for c in self.frame.columns[1:] if str(c).strip()]

    def values(self, header: str) -> pd.Series:
        """A column's values as stripped text; for a group pattern (``"Beratung {n} Datum"``) those of every group."""
        if "{n}" in header:
            pattern = group_pattern(header)
            return pd.concat([self.values(h) for h in self.headers if pattern.match(h)], ignore_index=True)
        s = self.frame[header]
        s = s.iloc[:, 0] if isinstance(s, pd.DataFrame) else s
        return s.astype(str).str.strip()


@dataclass
class Draft:
    """A drafted profile: its entries, and the profile written out (:meth:`text`)."""

    source: Path
    entries: list[Entry]
    sheets: list[str]
    meta: dict[str, str] = field(default_factory=dict)   # profile-wide settings found (``zahlen = "1.234,5"``)

    def undecided(self) -> list[Entry]:
        return [e for e in self.entries if not e.decided]

    def find(self, path: str) -> Entry:
        return next(e for e in self.entries if e.path == path)

    def set(self, path: str, value: object) -> None:
        """Decide (or change) an entry: ``draft.set("faelle.spalten.ende", "Fallende")``."""
        entry = self.find(path)
        entry.value, entry.note = value, "von Hand entschieden"

    def document(self) -> tomlkit.TOMLDocument:
        doc = tomlkit.document()
        doc.add(tomlkit.comment(f"Importprofil für kimtools, entworfen aus {self.source.name}."))
        doc.add(tomlkit.comment(f"Einträge mit \"{UNDECIDED}\" sind zu entscheiden (der Kommentar nennt, was in Frage "
                                "kommt);"))
        doc.add(tomlkit.comment("solange einer offen ist, wird nicht importiert. Aufbau: kimtools/ingest/profile.py."))
        doc.add(tomlkit.nl())
        doc["profil"] = {"name": f"Entwurf für {self.source.name}", **self.meta}
        for table in TABLE_ORDER:
            mine = [e for e in self.entries if e.table == table]
            if not mine:
                continue
            section = tomlkit.table()
            for e in (e for e in mine if e.section in ("quelle", "kopfzeile", "fehlt")):
                section.add(e.section, e.value)
                _comment(section, e.section, e)
            columns = tomlkit.table()
            for e in (e for e in mine if e.section == "spalten"):
                value = e.value
                if isinstance(value, dict) and "angekreuzt" in value:   # one line per tick-mark column
                    ticks = tomlkit.table()
                    ticks.update(value["angekreuzt"])
                    value = tomlkit.table(is_super_table=True)
                    value.add("angekreuzt", ticks)
                    ticks.comment(e.note)
                    columns.add(e.key[0], value)
                    continue
                if isinstance(value, dict):
                    inline = tomlkit.inline_table()
                    inline.update(value)
                    value = inline
                columns.add(e.key[0], value)
                _comment(columns, e.key[0], e)
            if len(columns):
                section.add("spalten", columns)
            values: dict[str, tomlkit.items.Table] = {}
            for e in (e for e in mine if e.section == "werte"):
                values.setdefault(e.key[0], tomlkit.table()).add(e.key[1], e.value)
                _comment(values[e.key[0]], e.key[1], e)
            if values:
                werte = tomlkit.table()
                for column, t in values.items():
                    werte.add(column, t)
                section.add("werte", werte)
            doc.add(table, section)
        return doc

    def text(self) -> str:
        return tomlkit.dumps(self.document())

    def profile(self, needed: tuple[str, ...] = CASE_TABLES) -> Profile:
        """The draft as a profile (refused with the list of open entries while any is open)."""
        return parse_profile(self.text(), self.source.parent / "entwurf.toml", needed=needed)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.text(), encoding="utf-8")
        return path


def _comment(container, key: str, e: Entry) -> None:
    note = e.note if e.decided else "ENTSCHEIDEN: " + e.note + (
        f" In Frage kommen: {', '.join(repr(c) for c in e.choices[:15])}" + (" …" if len(e.choices) > 15 else "")
        if e.choices else "")
    if note:
        container[key].comment(note)


# --------------------------------------------------------------------------- reading the source
def _sheets(source: Path) -> list[_Sheet]:
    parts, _sha, _size = source_parts(source)
    out = []
    for name, display, payload in parts:
        rows = head_rows(display, payload)
        row = header_row(rows)
        frame = table_frame(display, payload, Problems(), "", row)
        if frame is None:
            continue
        title = "\n".join(" ".join(c for c in r if str(c).strip()) for r in rows[:row - 1])
        if frame.columns.duplicated().any():
            frame = frame.loc[:, ~frame.columns.duplicated()]
        out.append(_Sheet(name, display, row, title, frame))
    return out


def _columns_by_name(sheet: _Sheet, table: str) -> dict[str, list[str]]:
    """Contract column → the sheet's headers that name it."""
    names = [c.name for c in TABLES[table].all_columns]
    out: dict[str, list[str]] = {}
    for h in sheet.headers:
        hit = closest(h, names)
        if hit:
            out.setdefault(hit, []).append(h)
    return out


def _score(sheet: _Sheet, table: str) -> int:
    by_name = _columns_by_name(sheet, table)
    named = closest(sheet.name, TABLE_ORDER) == table
    return len(by_name) + (3 if named else 0)


def _assign_tables(sheets: list[_Sheet]) -> dict[str, tuple[_Sheet | None, list[_Sheet]]]:
    """Table → (the sheet decided for it, the candidates when undecided)."""
    scores = {(t, s.display): _score(s, t) for t in TABLE_ORDER for s in sheets}
    # each table's best sheet where one stands out: a tie with a sheet some other table prefers does not claim it
    first = {t: next((s.display for s in sheets if scores[(t, s.display)] > max(
        (scores[(t, o.display)] for o in sheets if o is not s), default=-1)), None) for t in TABLE_ORDER}
    out: dict[str, tuple[_Sheet | None, list[_Sheet]]] = {}
    for table in TABLE_ORDER:
        ranked = sorted(sheets, key=lambda s: -scores[(table, s.display)])
        if not ranked or scores[(table, ranked[0].display)] < 3:
            out[table] = (None, [])
            continue
        best = scores[(table, ranked[0].display)]
        tops = [s for s in ranked if scores[(table, s.display)] == best]
        # a sheet is the table it scores best for: another table scoring it higher takes it; of the sheets tied at
        # the top, the one no other table claims is this table's (a referral sheet's "Status" column makes it a
        # candidate for status changes too, but it is the referrals')
        mine = [s for s in tops if not any(scores[(t, s.display)] > best or
                                           (scores[(t, s.display)] == best and s.display == first[t])
                                           for t in TABLE_ORDER if t != table)]
        out[table] = (mine[0], []) if len(mine) == 1 else (None, tops)
    return out


# --------------------------------------------------------------------------- content
def _code_options(code_list: str) -> dict[str, str]:
    return {**{de: code for code, (de, _en) in codes.CODE_LISTS[code_list].items()},
            **{code: code for code in codes.CODE_LISTS[code_list]}}


def _accepted(value: str, code_list: str) -> bool:
    """Whether the reader takes ``value`` as it is (a code or its German label)."""
    v = value.strip().lower()
    return any(v in (code, de.lower()) for code, (de, _en) in codes.CODE_LISTS[code_list].items())


def _code_share(values: pd.Series, code_list: str) -> float:
    distinct = [v for v in values.unique() if v]
    if not distinct:
        return 0.0
    options = _code_options(code_list)
    return sum(_accepted(v, code_list) or closest_in(v, options) is not None for v in distinct) / len(distinct)


def _date_format(values: pd.Series) -> tuple[bool, str | None]:
    """Whether the values are dates, and the pattern the profile needs for them (``None``: the reader's own)."""
    filled = values[values != ""]
    if filled.empty:
        return True, None
    if filled.str.match(_NATIVE_DATE).mean() >= 0.95:
        return True, None
    for pattern, fmt in _DATE_FORMATS:
        if filled.str.fullmatch(pattern).mean() >= 0.95:
            return True, fmt
    slash = filled.str.extract(_SLASH_DATE).dropna().astype(int)
    if len(slash) >= 0.95 * len(filled) and len(slash):
        if (slash[0] > 12).any() and not (slash[1] > 12).any():
            return True, "TT/MM/JJJJ"
        if (slash[1] > 12).any() and not (slash[0] > 12).any():
            return True, "MM/TT/JJJJ"
        return True, UNDECIDED
    return False, None


#: separators of several values in one cell besides the reader's own (``,`` and ``|``): Excel lists use these
_SEPARATORS = (";", "\n", "/", "+")


def _separator(values: pd.Series, code_list: str) -> str | None:
    """How several codes in one cell are separated, where not as the reader expects: ``None`` (the reader's own),
    one of :data:`_SEPARATORS` (the only one that splits the cells into known values), or ``"?"``."""
    options = _code_options(code_list)
    known = lambda parts: bool(len(parts)) and all(  # noqa: E731
        _accepted(v, code_list) or closest_in(v, options) is not None for v in parts)
    distinct = lambda s: [v for v in s.explode().str.strip().unique() if v]  # noqa: E731
    filled = values[values != ""]
    if filled.empty or known(distinct(filled.str.split(r"[,|]"))):
        return None
    fits = [sep for sep in _SEPARATORS if filled.str.contains(sep, regex=False).any()
            and known(distinct(filled.str.split(sep, regex=False)))]
    return fits[0] if len(fits) == 1 else UNDECIDED if fits else None


def _ticked(values: pd.Series) -> bool:
    return values.str.lower().isin(UNTICKED | {"x", "ja", "1", "j", "✓", "wahr", "true", "yes"}).all()


def _kommune_in(text: str) -> str | None:
    """The one KIM kommune a title or file name names (a whole word, in any case; ``bottrop-liste``), or ``None``."""
    ref = load_reference()
    words = set(name_words(text))
    hits = {k for k in ref.kommunen["kommune"]
            if (" ".join(name_words(k)) in " ".join(name_words(text))) if len(name_words(k)) > 1 or name_key(k) in words}
    return hits.pop() if len(hits) == 1 else None


# --------------------------------------------------------------------------- the draft
def decisions(profile: Mapping) -> dict[str, object]:
    """The decided entries of a profile's TOML (read), by their draft path (``faelle.quelle``,
    ``faelle.spalten.ende``, ``faelle.werte.geschlecht."k. A."``); entries still ``"?"`` are left out."""
    out: dict[str, object] = {}
    for table, spec in profile.items():
        if table not in TABLES or not isinstance(spec, Mapping):
            continue
        for section, value in spec.items():
            if section == "spalten" and isinstance(value, Mapping):
                out.update({f"{table}.spalten.{k}": v for k, v in value.items()})
            elif section == "werte" and isinstance(value, Mapping):
                out.update({f'{table}.werte.{col}."{k}"': v for col, codes_ in value.items()
                            if isinstance(codes_, Mapping) for k, v in codes_.items()})
            else:
                out[f"{table}.{section}"] = value
    return {k: v for k, v in out.items() if v != UNDECIDED and not (isinstance(v, Mapping) and UNDECIDED in v.values())}


def _entry_of(path: str, value: object) -> Entry:
    """The draft entry for a profile's ``path`` (as :func:`decisions` names it)."""
    table, section, *rest = path.split(".", 2)
    key: tuple[str, ...] = ()
    if section == "spalten":
        key = (rest[0],)
    elif section == "werte":
        column, foreign = rest[0].split(".", 1)
        key = (column, foreign[1:-1])
    return Entry(table, section, key, value, "aus dem Profil übernommen")


def draft_profile(source: str | Path, tables: tuple[str, ...] = TABLE_ORDER, given: Mapping | None = None) -> Draft:
    """Draft a profile for ``source`` (a workbook, a folder of CSV files or one CSV file), for ``tables`` only
    (``("bezirke",)`` for a statistics office's district figures). ``given``: a partly decided profile (its TOML,
    read): every decision in it stays as it is, a sheet decided there is the table's (and its columns are drafted
    from it), and only what it leaves open is drafted."""
    source = Path(source)
    kept = decisions(given or {})
    sheets = [s for s in _sheets(source) if len(s.frame.columns)]
    if not sheets:
        raise InputError(f"{source.name} enthält keine Tabelle mit Überschriften und Zeilen (leer?); ein Entwurf wäre "
                         "leer. Bitte die Datei prüfen oder die Arbeitsmappe mit den Daten angeben.",
                         f"{source.name} holds no table with headings and rows (empty?); a draft would be empty. Please "
                         "check the file or give the workbook holding the data.")
    assigned = {t: v for t, v in _assign_tables(sheets).items() if t in tables}
    for table in assigned:   # a sheet decided by a person is the table's, whatever the scores say
        chosen = kept.get(f"{table}.quelle")
        hit = [s for s in sheets if isinstance(chosen, str) and chosen.strip().lower() in (s.name.lower(), s.display.lower())]
        if hit:
            assigned[table] = (hit[0], [])
    entries: list[Entry] = []
    meta: dict[str, str] = {}
    used: dict[str, dict[str, str]] = {}   # table → contract column → header
    faelle_sheet = assigned.get("faelle", (None, []))[0]
    for table in (t for t in TABLE_ORDER if t in tables):
        sheet, tops = assigned[table]
        groups = None
        if sheet is None and table in _GROUP_NAMES and faelle_sheet is not None:
            groups = _groups(faelle_sheet, table)
            if groups:
                sheet = faelle_sheet
        if sheet is None:
            if TABLES[table].required:
                entries.append(Entry(table, "quelle", (), UNDECIDED,
                                     "kein Tabellenblatt erkannt: Namen eintragen oder die Zeile durch 'fehlt = true' "
                                     "ersetzen, wenn es diese Tabelle nicht gibt.", [s.name for s in tops or sheets]))
            else:   # an optional table: open only where a sheet no other table takes fits it
                taken = {v[0].display for v in assigned.values() if v[0] is not None}
                free = [s for s in tops if s.display not in taken]
                if free:
                    entries.append(Entry(table, "quelle", (), UNDECIDED, "mehrere Blätter passen gleich gut.",
                                         [s.name for s in free]))
            continue
        how = "am Namen und den Spalten erkannt" if closest(sheet.name, TABLE_ORDER) == table else \
            "an den Spalten erkannt"
        if groups:
            how = "Spaltengruppen im Blatt der Fälle"
        entries.append(Entry(table, "quelle", (), sheet.name, how))
        entries.append(Entry(table, "kopfzeile", (), sheet.header_row,
                             "darüber Titelzeile(n)" if sheet.header_row > 1 else ""))
        used[table] = _draft_columns(table, sheet, groups, entries, used, sheets, assigned, source, meta)
    if kept:   # the person's decisions over the draft's, and those the draft did not make added
        by_path = {e.path: e for e in entries}
        for path, value in kept.items():
            if path.split(".", 1)[0] not in tables:
                continue
            if path in by_path:
                by_path[path].value, by_path[path].note, by_path[path].choices = value, "aus dem Profil übernommen", []
            else:
                entries.append(_entry_of(path, value))
        meta.update({k: v for k, v in (given or {}).get("profil", {}).items() if k != "name"})
    return Draft(source, entries, [s.name for s in sheets], meta)


def _groups(sheet: _Sheet, table: str) -> dict[str, str] | None:
    """Repeated column groups of ``table`` in the cases sheet: contract column → pattern with ``{n}``."""
    found: dict[str, set[int]] = {}
    for h in sheet.headers:
        m = _GROUP.match(h)
        if m and name_key(m.group(1)).startswith(_GROUP_NAMES[table]):
            found.setdefault(f"{m.group(1).strip()} {{n}} {m.group(3)}".strip(), set()).add(int(m.group(2)))
    names = [c.name for c in TABLES[table].all_columns if c.name not in ("fall_id", "kommune")]
    out: dict[str, str] = {}
    for pattern, numbers in found.items():
        if len(numbers) < 2:
            continue
        field_name = pattern.split("{n}", 1)[1].strip()
        hit = closest(field_name, names) if field_name else "datum"
        if hit and hit not in out:
            out[hit] = pattern
    return out if "datum" in out else None


def _by_name(column, h: str, values: pd.Series) -> tuple[object, str]:
    """The entry for ``column`` taken from the header ``h`` that names it, with its note; ``(None, why)`` where the
    values disagree with the name or leave a setting open (a date format, a separator)."""
    distinct = [v for v in values.unique() if v]
    setting = None   # (profile key, value, how it was found) beside the column's name
    if column.kind == "date":
        ok, fmt = _date_format(values)
        if not ok:
            return None, f"'{h}' passt dem Namen nach, enthält aber keine Daten (Datumsangaben)."
        if fmt == UNDECIDED:
            return None, (f"'{h}': Tag und Monat lassen sich nicht unterscheiden "
                          "(datumsformat = \"TT/MM/JJJJ\" oder \"MM/TT/JJJJ\").")
        setting = ("datumsformat", fmt, f"Datumsformat {fmt} am Inhalt erkannt") if fmt else None
    elif column.kind == "code" and len(distinct) >= 3 and _code_share(values, column.code_list) < 0.5:
        return None, f"'{h}' passt dem Namen nach, die Werte aber kaum zur Liste {column.code_list}."
    elif column.kind in ("int", "decimal") and distinct and \
            values[values != ""].str.fullmatch(r"[+-]?[\d.,]+").mean() < 0.9:
        return None, f"'{h}' passt dem Namen nach, enthält aber keine Zahlen."
    elif column.kind == "codes":
        sep = _separator(values, column.code_list)
        if sep == UNDECIDED:
            return None, (f"'{h}' passt dem Namen nach; wie die Werte einer Zelle getrennt sind, ist nicht zu "
                          "erkennen (trennzeichen).")
        setting = ("trennzeichen", sep, f"mehrere Werte je Zelle, getrennt durch {sep!r}") if sep else None
    if setting:
        key, value, how = setting
        return {"spalte": h, key: value}, f"Name; {how}"
    return h, "Spaltengruppe, je Nummer eine Zeile" if "{n}" in h else "Name"


def _draft_columns(table: str, sheet: _Sheet, groups: dict[str, str] | None, entries: list[Entry],
                   used: dict, sheets: list[_Sheet], assigned: dict, source: Path, meta: dict) -> dict[str, str]:
    spec = TABLES[table]
    by_name = {} if groups else _columns_by_name(sheet, table)
    decided: dict[str, str] = {}
    notes: dict[str, str] = {}
    open_: dict[str, tuple[str, list[str]]] = {}
    for column in spec.all_columns:
        hits = by_name.get(column.name, [])
        if groups and column.name in groups:
            hits = [groups[column.name]]
        elif groups and column.name == "fall_id":
            hits = _columns_by_name(sheet, "faelle").get("fall_id", [])
        if len(hits) > 1:
            open_[column.name] = ("mehrere Spalten passen dem Namen nach.", hits)
            continue
        if len(hits) == 1:
            value, note = _by_name(column, hits[0], sheet.values(hits[0]))
            if value is None:
                open_[column.name] = (note, hits)
            else:
                decided[column.name], notes[column.name] = value, note
    taken = {h for v in decided.values() for h in ([v] if isinstance(v, str) else [v.get("spalte")])}
    taken |= {h for _, hs in open_.values() for h in hs}
    grouped = {h for h in sheet.headers if (m := _GROUP.match(h)) and m.group(1).strip()
               and name_key(m.group(1)).startswith(sum(_GROUP_NAMES.values(), ()))}
    free = [h for h in sheet.headers if h not in taken and h not in grouped] if not groups else []
    # by content: code lists
    for column in spec.all_columns:
        if column.name in decided or column.name in open_ or column.code_list is None or column.kind == "codes":
            continue
        shares = {h: _code_share(sheet.values(h), column.code_list) for h in free}
        good = [h for h, v in shares.items() if v >= CONTENT_SHARE]
        best = max(shares.values(), default=0)
        tops = [h for h in good if shares[h] == best]
        rivals = [c for c in spec.all_columns if c.code_list and c.code_list != column.code_list
                  and tops and _code_share(sheet.values(tops[0]), c.code_list) >= shares[tops[0]]]
        if len(tops) == 1 and not rivals:
            decided[column.name], notes[column.name] = tops[0], f"am Inhalt erkannt (Werte der Liste {column.code_list})"
            free.remove(tops[0])
    # needs areas as tick-mark columns
    if "handlungsfelder" in {c.name for c in spec.columns} and "handlungsfelder" not in decided:
        options = _code_options("handlungsfeld")
        ticks = {h: closest_in(h, options) for h in free if _ticked(sheet.values(h))}
        ticks = {h: code for h, code in ticks.items() if code}
        if len(ticks) >= 2 and len(set(ticks.values())) == len(ticks):
            decided["handlungsfelder"] = {"angekreuzt": ticks}
            notes["handlungsfelder"] = "Ankreuzspalten je Handlungsfeld"
            free = [h for h in free if h not in ticks]
    # IDs that repeat across tables
    for column, other, other_column in (("partner_id", "faelle", "traeger"), ("fall_id", "faelle", "fall_id")):
        if table == other or column not in {c.name for c in spec.columns} or column in decided:
            continue
        ref_sheet = assigned[other][0]
        ref_header = used.get(other, {}).get(other_column)
        if ref_sheet is None or not isinstance(ref_header, str):
            continue
        ref_values = set(ref_sheet.values(ref_header)) - {""}
        fits = [h for h in free if ref_values and (
            ref_values <= set(sheet.values(h)) if column == "partner_id" else set(sheet.values(h)) - {""} <= ref_values)]
        if len(fits) == 1:
            decided[column], notes[column] = fits[0], f"am Inhalt erkannt (dieselben IDs wie {other}.{other_column})"
            free.remove(fits[0])
    # the kommune from a title row or the file's name
    if "kommune" in {c.name for c in spec.columns} and "kommune" not in decided and "kommune" not in open_:
        found = _kommune_in(f"{sheet.title} {source.stem}") or _kommune_in(" ".join(s.title for s in sheets))
        if found:
            decided["kommune"], notes["kommune"] = {"wert": found}, "aus Titelzeile oder Dateiname"
    # a reference date and a source named in the title rows ("Stand 31.12.2025", "Quelle: Stadt Herne, Statistik")
    named = {c.name for c in spec.columns}
    if "stand" in named and "stand" not in decided:
        dates = set(re.findall(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b", sheet.title))
        if len(dates) == 1:
            decided["stand"], notes["stand"] = {"wert": dates.pop()}, "aus der Titelzeile"
    if "quelle" in named and "quelle" not in decided:
        m = re.search(r"Quelle:\s*(.+?)\s*$", sheet.title, re.MULTILINE)
        if m:
            decided["quelle"], notes["quelle"] = {"wert": m.group(1)}, "aus der Titelzeile"
    # thousands points ("60.123"), as statistics offices write whole numbers
    for column in spec.columns:
        where = decided.get(column.name)
        if column.kind in ("int", "decimal") and isinstance(where, str) and "{n}" not in where:
            values = sheet.values(where)
            values = values[values != ""]
            if len(values) and values.str.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d{1,3}(,\d+)?").all() \
                    and values.str.contains(".", regex=False).any():
                meta["zahlen"] = "1.234,5"
    # a postcode where the district is missing
    if "stadtbezirk" in {c.name for c in spec.columns if c.required} and "stadtbezirk" not in decided:
        plz = [h for h in free if name_key(h) in _POSTCODE]
        if len(plz) == 1:
            entries.append(Entry(table, "spalten", ("stadtbezirk",), {"spalte": plz[0], "nachschlagen": UNDECIDED},
                                 f"Stadtbezirk über die Postleitzahl '{plz[0]}': Nachschlagetabelle (PLZ;Stadtbezirk, "
                                 "CSV) angeben.", []))
            open_.pop("stadtbezirk", None)
            decided["stadtbezirk"] = "(offen)"
    for column in spec.all_columns:
        name = column.name
        if name in decided:
            if decided[name] != "(offen)":
                entries.append(Entry(table, "spalten", (name,), decided[name], notes[name]))
        elif name in open_:
            why, choices = open_[name]
            entries.append(Entry(table, "spalten", (name,), UNDECIDED, why, choices))
        elif column.required and not (groups and name == {"beratungen": "beratung_id",
                                                          "vermittlungen": "vermittlung_id"}.get(table)):
            entries.append(Entry(table, "spalten", (name,), UNDECIDED, "Pflichtspalte: keine Spalte erkannt.", free))
    _draft_values(table, sheet, decided, entries)
    return {k: v for k, v in decided.items() if isinstance(v, str)}


def _draft_values(table: str, sheet: _Sheet, decided: dict[str, object], entries: list[Entry]) -> None:
    """An entry for each value of a code column that the reader would not take as it is."""
    for name, where in decided.items():
        column = TABLES[table].column(name)
        if column.code_list is None or not isinstance(where, str) or where == "(offen)":
            continue
        values = sheet.values(where)
        if column.kind == "codes":
            values = values.str.split(r"\s*[,|;]\s*", regex=True).explode().fillna("")
        options = _code_options(column.code_list)
        # (a group's cells stay empty where a case has fewer groups: no question there)
        if column.required and "{n}" not in where and (values == "").any() and (values != "").any():
            entries.append(Entry(table, "werte", (name, ""), UNDECIDED,
                                 "leere Zellen in einer Pflichtspalte: welcher Code ist gemeint?",
                                 list(codes.CODE_LISTS[column.code_list])))
        for value in sorted(v for v in values.unique() if v and not _accepted(v, column.code_list)):
            hit = closest_in(value, options)
            entries.append(Entry(table, "werte", (name, value), hit, "ähnlicher Name") if hit else
                           Entry(table, "werte", (name, value), UNDECIDED, "kein Code erkannt.",
                                 list(codes.CODE_LISTS[column.code_list])))
