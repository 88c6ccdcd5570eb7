"""Import profiles: a foreign export (another system's, or an Excel list kept by hand) mapped onto the contract.

Longer than 500 lines on purpose: the profile format, its checks (every fault at once) and how it is applied stand
together, so that each entry of the format is read and applied in one module.

A profile is a TOML file a coordinator can read and edit (:data:`EXAMPLE`). For each contract table it names the
file or sheet (``quelle``) and its header row (``kopfzeile``) and, for each contract column, where its values come
from:

- a column of the foreign file: ``beginn = "Fallbeginn"``;
- a constant: ``kommune = { wert = "Herne" }``;
- a column looked up in a table the city supplies: ``stadtbezirk = { spalte = "PLZ", nachschlagen = "plz.csv" }``
  (first column the key, second the value; the path relative to the profile);
- tick-mark columns turned into one multi-valued column:
  ``handlungsfelder = { angekreuzt = { "Arbeit/Beruf" = "arbeit", "Sprache" = "sprache" } }``;
- repeated column groups turned into rows: ``datum = "Beratung {n} Datum"`` reads "Beratung 1 Datum",
  "Beratung 2 Datum", … each as its own row (a consultation of the case in that row); an ID the group does not
  have is made of the case's ID and the number (``"F17-2"``);
- a multi-valued column with another separator: ``handlungsfelder = { spalte = "Bedarfe", trennzeichen = ";" }``.

``[TABLE.werte.COLUMN]`` maps foreign values onto codes (``"Duldung (§ 60a)" = "duldung"``; ``""`` for "empty");
values not listed go to the reader unchanged (a code or its German label is accepted there as always). A table
can be declared absent (``fehlt = true``): it is read as empty and the indicators that need it show "keine Daten".
``[profil]`` holds a name, the date format (``datumsformat = "TT.MM.JJ"``) and the number format
(``zahlen = "1.234,5"`` for thousands points).

Every entry a person still has to decide holds ``"?"``; a profile with such an entry is refused with the list of
them. Applying a profile produces the contract's tables as raw strings, rows numbered as in the foreign file; the
ordinary reader then checks them, and its problems name the foreign columns (:attr:`Profiled.aliases`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import tomlkit
from tomlkit.exceptions import ParseError

from ..contract import codes
from ..contract.schema import TABLE_ORDER, TABLES
from ..errors import InputError, from_os_error
from ..paths import config_dir, safe_name
from .files import source_parts, table_frame
from .names import name_key
from .problems import ROW, Problems

__all__ = ["read_profile_toml", "UNTICKED", "group_pattern", "UNDECIDED", "ABSENT_ALLOWED", "PROFILE_NAME", "Profile", "Profiled", "load_profile", "find_profile",
           "apply_profile", "profile_dir", "date_format",
           "parse_profile", "CASE_TABLES"]

#: what an entry a person still has to decide holds
UNDECIDED = "?"
#: tables a profile may declare absent (cases and partners carry every other table)
ABSENT_ALLOWED = ("beratungen", "vermittlungen", "stellen", "statuswechsel", "bezirke")
#: a profile beside an export under this name is used without ``--profil``
PROFILE_NAME = "kimtools-profil.toml"
#: cell values that leave a tick-mark column unticked
UNTICKED = {"", "nein", "n", "0", "false", "falsch", "-", "–", "no"}
_GENERATED_ID = {"beratungen": "beratung_id", "vermittlungen": "vermittlung_id"}
_GROUP = "\x00"   # prefix of a repeated group's values in the long frame (no header holds it)
#: the entries of ``[profil]``, and the number formats ``zahlen`` may name
_PROFILE_KEYS = ("name", "datumsformat", "zahlen")
_NUMBER_FORMATS = ("1.234,5", "1234,5")
_TABLE_KEYS = {"quelle", "kopfzeile", "fehlt", "spalten", "werte"}
_RULE_KEYS = {"spalte", "wert", "nachschlagen", "angekreuzt", "trennzeichen", "datumsformat"}
_DATE_TOKENS = (("JJJJ", "%Y"), ("JJ", "%y"), ("MM", "%m"), ("TT", "%d"))


def profile_dir() -> Path:
    """The user's folder of import profiles (``<configuration folder>/profile``)."""
    return config_dir() / "profile"


def date_format(pattern: str) -> str:
    """``"TT.MM.JJ"`` → ``"%d.%m.%y"`` (a coordinator's date pattern as :func:`datetime.strptime` reads it)."""
    out = pattern
    for token, code in _DATE_TOKENS:
        out = out.replace(token, code)
    return out


@dataclass
class Rule:
    """Where one contract column's values come from."""

    target: str
    column: str | None = None          # a foreign column, or a pattern with {n}
    constant: str | None = None
    lookup: Path | None = None
    ticks: dict[str, str] | None = None
    separator: str | None = None
    date_format: str | None = None

    @property
    def repeated(self) -> bool:
        return self.column is not None and "{n}" in self.column


@dataclass
class TableRule:
    name: str
    source: str | None = None
    header_row: int = 1
    absent: bool = False
    rules: dict[str, Rule] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)   # contract column → foreign value key → code

    @property
    def repeated(self) -> bool:
        return any(r.repeated for r in self.rules.values())


@dataclass
class Profile:
    path: Path
    name: str
    tables: dict[str, TableRule]
    date_format: str | None = None
    german_numbers: bool = False
    sha256: str = ""   # of the profile's text: a source read through a changed profile is another delivery

    @property
    def absent(self) -> tuple[str, ...]:
        return tuple(t for t in TABLE_ORDER if t in self.tables and self.tables[t].absent)

    @property
    def lookups(self) -> tuple[Path, ...]:
        """The lookup tables the profile reads (each once), as resolved: what an import names."""
        return tuple(dict.fromkeys(r.lookup for t in self.tables.values() for r in t.rules.values() if r.lookup))


@dataclass
class Profiled:
    """A foreign source in the contract's shape: per table its display name and raw frame; ``aliases`` names, per
    (display name, table), the foreign column behind each contract column."""

    found: dict[str, tuple[str, pd.DataFrame]]
    aliases: dict[tuple[str, str], dict[str, str]]
    absent: tuple[str, ...]
    sha256: str
    size: int


# --------------------------------------------------------------------------- loading
def find_profile(given: str | None, source: Path) -> Path | None:
    """The profile to use: ``given`` as a path, else as a name in :func:`profile_dir`; without one, a
    :data:`PROFILE_NAME` beside the export (in its folder, or next to the workbook). ``None``: the contract form."""
    if given:
        path = Path(given).expanduser()
        if path.is_file():
            return path
        if path.exists():
            raise InputError(f"Importprofil {given} ist ein Ordner; erwartet wird eine TOML-Datei.",
                             f"Import profile {given} is a folder; a TOML file is expected.")
        stem = given[:-5] if given.endswith(".toml") else given
        if "/" in given or "\\" in given:   # meant as a path, which does not exist
            named = path
        else:   # a name in the profiles folder, never a path out of it
            named = profile_dir() / f"{safe_name(stem, ('Profilname', 'profile name'), 'fachverfahren')}.toml"
        if named.is_file():
            return named
        raise InputError(f"Importprofil {given} gibt es nicht (weder als Datei noch in {profile_dir()}).",
                         f"Import profile {given} does not exist (neither as a file nor in {profile_dir()}).")
    beside = (source if source.is_dir() else source.parent) / PROFILE_NAME
    return beside if beside.exists() else None


#: the tables a profile of a case export must place (the first two read, the others read or declared absent)
CASE_TABLES = ("faelle", "partner", "beratungen", "vermittlungen")


def load_profile(path: str | Path, allow_undecided: bool = False, needed: tuple[str, ...] = CASE_TABLES) -> Profile:
    """Read and check a profile; raise :class:`InputError` listing every fault at once (an undecided entry among
    them, unless ``allow_undecided``). ``needed``: the tables it must place (``("bezirke",)`` for district figures)."""
    path = Path(path)
    return parse_profile(_profile_text(path), path, allow_undecided, needed)


def _profile_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise from_os_error(exc, path, "das Importprofil lesen", "read the import profile") from None
    except UnicodeDecodeError:
        raise InputError(f"Das Importprofil {path.name} ist keine UTF-8-Textdatei.",
                         f"The import profile {path.name} is not a UTF-8 text file.") from None


def _profile_doc(text: str, path: Path) -> dict:
    try:
        return tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise InputError(f"Das Importprofil {path.name} ist kein gültiges TOML: {exc}. Bitte die Stelle korrigieren.",
                         f"The import profile {path.name} is not valid TOML: {exc}. Please fix that place.") from None


def read_profile_toml(path: str | Path) -> dict:
    """A profile file as it stands, undecided entries and all (to be completed by a draft)."""
    path = Path(path)
    return _profile_doc(_profile_text(path), path)


def parse_profile(text: str, path: Path, allow_undecided: bool = False,
                  needed: tuple[str, ...] = CASE_TABLES) -> Profile:
    """A profile from its text (``path``: its name in messages; lookup tables are found beside it)."""
    doc = _profile_doc(text, path)
    faults: list[tuple[str, str]] = []
    undecided: list[str] = []
    meta = doc.pop("profil", {})
    if not isinstance(meta, dict):
        meta = {}
        faults.append(("profil: erwartet ein Abschnitt [profil] mit name, datumsformat und zahlen.",
                       "profil: expected a section [profil] with name, datumsformat and zahlen."))
    for key in sorted(set(meta) - set(_PROFILE_KEYS)):
        faults.append((f"[profil] {key}: unbekannter Eintrag (erlaubt: {', '.join(_PROFILE_KEYS)}); Tippfehler?",
                       f"[profil] {key}: unknown entry (allowed: {', '.join(_PROFILE_KEYS)}); a typo?"))
    if meta.get("zahlen", _NUMBER_FORMATS[0]) not in _NUMBER_FORMATS:
        faults.append((f"[profil] zahlen = {meta['zahlen']!r}: erlaubt sind {' oder '.join(map(repr, _NUMBER_FORMATS))} "
                       "(mit oder ohne Tausenderpunkte).", f"[profil] zahlen = {meta['zahlen']!r}: allowed are "
                       f"{' or '.join(map(repr, _NUMBER_FORMATS))} (with or without thousands points)."))
    fmt = _checked_date_format(meta.get("datumsformat"), "profil.datumsformat", faults)
    tables: dict[str, TableRule] = {}
    for name, spec in doc.items():
        if name not in TABLES:
            faults.append((f"[{name}]: keine Tabelle des Exportformats (erlaubt: {', '.join(TABLE_ORDER)}).",
                           f"[{name}]: not a table of the export format (allowed: {', '.join(TABLE_ORDER)})."))
            continue
        tables[name] = _table_rule(name, spec, path.parent, faults, undecided)
    for name in needed:
        if name in tables:
            continue
        if name in ABSENT_ALLOWED:
            faults.append((f"Abschnitt [{name}] fehlt: die Quelle angeben oder die Tabelle als fehlend erklären "
                           "(fehlt = true).", f"Section [{name}] is missing: name its source or declare the table "
                           "absent (fehlt = true)."))
        else:
            faults.append((f"Das Profil sagt nicht, wo die Tabelle {name} steht (Abschnitt [{name}] fehlt).",
                           f"The profile does not say where the table {name} is (section [{name}] is missing)."))
    if undecided and not allow_undecided:
        listed = "".join(f"\n    {u}" for u in undecided)
        faults.append((f"{len(undecided)} Einträge sind noch nicht entschieden (Wert \"{UNDECIDED}\"); bitte im Profil "
                       f"eintragen, was gemeint ist, dann erneut importieren:{listed}",
                       f"{len(undecided)} entries are not decided yet (value \"{UNDECIDED}\"); please enter in the "
                       f"profile what is meant, then import again:{listed}"))
    if faults:
        raise InputError(f"Importprofil {path.name}:\n- " + "\n- ".join(de for de, _ in faults),
                         f"Import profile {path.name}:\n- " + "\n- ".join(en for _, en in faults))
    return Profile(path, str(meta.get("name", path.stem)), tables, fmt,
                   meta.get("zahlen", "") == "1.234,5", hashlib.sha256(text.encode()).hexdigest())


def _table_rule(name: str, spec: dict, folder: Path, faults: list, undecided: list[str]) -> TableRule:
    table = TABLES[name]
    out = TableRule(name)
    for key in set(spec) - _TABLE_KEYS:
        faults.append((f"[{name}] {key}: unbekannter Eintrag (erlaubt: {', '.join(sorted(_TABLE_KEYS))}).",
                       f"[{name}] {key}: unknown entry (allowed: {', '.join(sorted(_TABLE_KEYS))})."))
    if spec.get("fehlt"):
        if name not in ABSENT_ALLOWED:
            faults.append((f"[{name}] kann nicht fehlen: ohne sie gibt es keine Fälle oder Träger.",
                           f"[{name}] cannot be absent: without it there are no cases or providers."))
        out.absent = True
        return out
    out.source = spec.get("quelle")
    if out.source == UNDECIDED:
        undecided.append(f"{name}.quelle")
    elif not out.source:
        faults.append((f"[{name}] quelle fehlt: der Name des Tabellenblatts oder der Datei.",
                       f"[{name}] quelle is missing: the name of the sheet or file."))
    header = spec.get("kopfzeile", 1)
    if header == UNDECIDED:
        undecided.append(f"{name}.kopfzeile")
    elif not isinstance(header, int) or header < 1:
        faults.append((f"[{name}] kopfzeile muss eine Zeilennummer ab 1 sein, nicht {header!r}.",
                       f"[{name}] kopfzeile must be a row number from 1, not {header!r}."))
    else:
        out.header_row = header
    known = {c.name for c in table.all_columns}
    for target, given in spec.get("spalten", {}).items():
        where = f"{name}.spalten.{target}"
        if target not in known:
            faults.append((f"{where}: keine Spalte der Tabelle {name} (erlaubt: {', '.join(sorted(known))}).",
                           f"{where}: not a column of the table {name} (allowed: {', '.join(sorted(known))})."))
            continue
        rule = _rule(target, given, where, folder, faults, undecided, table.column(target).kind)
        if rule is not None:
            out.rules[target] = rule
    for target, mapping in spec.get("werte", {}).items():
        where = f"{name}.werte.{target}"
        column = table.column(target) if target in known else None
        if column is None or column.code_list is None:
            faults.append((f"{where}: Werte lassen sich nur Code-Spalten zuordnen.",
                           f"{where}: values can only be mapped for code columns."))
            continue
        allowed = codes.CODE_LISTS[column.code_list]
        labels = {de.lower(): code for code, (de, _en) in allowed.items()}
        out.values[target] = {}
        for foreign, code in mapping.items():
            if code == UNDECIDED:
                undecided.append(f"{where}.\"{foreign}\"")
                continue
            code = code if code in allowed or code == "" else labels.get(str(code).lower())
            if code is None:
                faults.append((f"{where}.\"{foreign}\": {mapping[foreign]!r} ist kein Code der Liste {column.code_list} "
                               f"(erlaubt: {', '.join(allowed)}).", f"{where}.\"{foreign}\": {mapping[foreign]!r} is "
                               f"not a code of the list {column.code_list} (allowed: {', '.join(allowed)})."))
                continue
            out.values[target][str(foreign).strip().lower()] = code
    ids: dict[str, list[str]] = {}
    for target, rule in out.rules.items():
        if target.endswith("_id") and rule.column:
            ids.setdefault(rule.column, []).append(target)
    for foreign, targets in ids.items():
        if len(targets) > 1:
            faults.append((f"{name}.spalten: {' und '.join(targets)} kommen beide aus der Spalte {foreign!r}; jede Nummer "
                           "braucht ihre eigene Spalte (sonst wäre z. B. jede Person ein eigener Fall).",
                           f"{name}.spalten: {' and '.join(targets)} both come from the column {foreign!r}; each ID "
                           "needs its own column (otherwise e.g. every person would be a case of its own)."))
    repeated = out.repeated
    generated = _GENERATED_ID.get(name) if repeated else None
    for column in (table.columns if out.source != UNDECIDED else ()):   # the sheet first, then its columns
        if column.required and column.name not in out.rules and column.name != generated \
                and not any(u.startswith(f"{name}.spalten.{column.name}") for u in undecided):
            faults.append((f"{name}.spalten.{column.name}: Pflichtspalte ohne Zuordnung.",
                           f"{name}.spalten.{column.name}: required column without a mapping."))
    if repeated and "fall_id" in out.rules and out.rules["fall_id"].repeated:
        faults.append((f"{name}.spalten.fall_id: die Fallnummer steht einmal je Zeile, nicht je Gruppe ({{n}}).",
                       f"{name}.spalten.fall_id: the case ID stands once per row, not per group ({{n}})."))
    return out


def _rule(target: str, given, where: str, folder: Path, faults: list, undecided: list[str], kind: str) -> Rule | None:
    if isinstance(given, str):
        given = {"spalte": given}
    if not isinstance(given, dict):
        faults.append((f"{where}: erwartet ein Spaltenname in Anführungszeichen oder {{ spalte = … }}.",
                       f"{where}: expected a column name in quotes or {{ spalte = … }}."))
        return None
    for key in set(given) - _RULE_KEYS:
        faults.append((f"{where}: unbekannter Eintrag {key} (erlaubt: {', '.join(sorted(_RULE_KEYS))}).",
                       f"{where}: unknown entry {key} (allowed: {', '.join(sorted(_RULE_KEYS))})."))
    open_ = [k for k, v in given.items() if v == UNDECIDED] + \
        [f"angekreuzt.\"{k}\"" for k, v in (given.get("angekreuzt") or {}).items() if v == UNDECIDED]
    if open_:
        undecided.extend(where if k == "spalte" else f"{where}.{k}" for k in open_)
        return None
    rule = Rule(target, column=given.get("spalte"), constant=given.get("wert"), separator=given.get("trennzeichen"),
                date_format=_checked_date_format(given.get("datumsformat"), f"{where}.datumsformat", faults))
    if given.get("angekreuzt") is not None:
        if kind != "codes" or not isinstance(given["angekreuzt"], dict):
            faults.append((f"{where}: angekreuzt (Spalten mit Häkchen) gibt es nur für Spalten mit mehreren Codes "
                           "(z. B. handlungsfelder), als { \"Spalte\" = \"code\", … }.",
                           f"{where}: angekreuzt (tick-mark columns) exists only for columns of several codes "
                           "(e.g. handlungsfelder), as { \"column\" = \"code\", … }."))
            return None
        rule.ticks = {str(k): str(v) for k, v in given["angekreuzt"].items()}
    sources = sum(x is not None for x in (rule.column, rule.constant, rule.ticks))
    if sources != 1:
        faults.append((f"{where}: genau eines von spalte, wert oder angekreuzt angeben.",
                       f"{where}: give exactly one of spalte, wert or angekreuzt."))
        return None
    if given.get("nachschlagen"):
        named = Path(str(given["nachschlagen"])).expanduser()
        rule.lookup = (folder / named).resolve()
        if not named.is_absolute() and not rule.lookup.is_relative_to(folder.resolve()):
            faults.append((f"{where}: Nachschlagetabelle {given['nachschlagen']} liegt außerhalb des Ordners des Profils "
                           f"({folder}). Eine Tabelle dort ablegen, oder mit Absicht einen absoluten Pfad angeben.",
                           f"{where}: lookup table {given['nachschlagen']} lies outside the profile's folder ({folder}). "
                           "Put the table there, or give an absolute path on purpose."))
            rule.lookup = None
        elif not rule.lookup.is_file():
            faults.append((f"{where}: Nachschlagetabelle {given['nachschlagen']} gibt es nicht (gesucht in {folder}).",
                           f"{where}: lookup table {given['nachschlagen']} does not exist (looked in {folder})."))
    return rule


def _checked_date_format(pattern, where: str, faults: list) -> str | None:
    """A date pattern of the profile (``TT.MM.JJJJ``) as :func:`datetime.strptime` reads it; a fault for one that
    does not name day, month and year once each or that holds other letters or ``%``."""
    if pattern is None:
        return None
    fmt = date_format(str(pattern)) if isinstance(pattern, str) else ""
    rest = re.sub(r"%[dmYy]", "", fmt)
    tokens = re.findall(r"%[dmYy]", fmt)
    if not fmt or re.search(r"[%A-Za-z]", rest) or sorted(t.lower() for t in tokens) != ["%d", "%m", "%y"]:
        faults.append((f"{where} = {pattern!r}: erwartet Tag, Monat und Jahr je einmal mit Trennzeichen, z. B. "
                       "\"TT.MM.JJJJ\" oder \"JJJJ-MM-TT\" (JJ für ein zweistelliges Jahr).",
                       f"{where} = {pattern!r}: expected day, month and year once each with separators, e.g. "
                       "\"TT.MM.JJJJ\" or \"JJJJ-MM-TT\" (JJ for a two-digit year)."))
        return None
    return fmt


# --------------------------------------------------------------------------- applying
def apply_profile(profile: Profile, source: Path, problems: Problems, warnings: Problems | None = None) -> Profiled:
    """The contract's tables from ``source`` as ``profile`` maps them; whatever cannot be mapped is a problem (file,
    row and column as in the foreign file); every column of a mapped sheet that the profile maps to nothing is a
    warning in ``warnings`` (a post's end date dropped that way would make every later caseload per post wrong)."""
    parts, sha, size = source_parts(source)
    by_name = {}
    for name, display, payload in parts:
        by_name.setdefault(name.lower(), (display, payload))
        by_name.setdefault(display.lower(), (display, payload))
    found: dict[str, tuple[str, pd.DataFrame]] = {}
    aliases: dict[tuple[str, str], dict[str, str]] = {}
    lookups: dict[Path, dict[str, str]] = {}
    for name in TABLE_ORDER:
        rule = profile.tables.get(name)
        if rule is None:
            continue
        if rule.absent:
            empty = pd.DataFrame({ROW: pd.Series(dtype="int64"),
                                  **{c.name: pd.Series(dtype=str) for c in TABLES[name].columns}})
            found[name] = (f"({name}: laut Profil nicht geliefert)", empty)
            continue
        hit = by_name.get(rule.source.strip().lower()) or by_name.get(Path(rule.source).stem.strip().lower())
        if hit is None:
            listed = ", ".join(f"'{n}'" for n, _, _ in parts)
            problems.add(source.name, name, [0], "", [rule.source],
                         f"Das Profil nennt als Quelle der Tabelle {name} '{rule.source}'; das gibt es in der Quelle "
                         f"nicht (gefunden: {listed}).", f"The profile names '{rule.source}' as the source of the table "
                         f"{name}; the source has no such part (found: {listed}).")
            continue
        display, payload = hit
        frame = table_frame(display, payload, problems, name, rule.header_row)
        if frame is None:
            continue
        mapped, alias = _map_table(profile, rule, display, frame, problems, lookups)
        if mapped is not None:
            found[name] = (display, mapped)
            aliases[(display, name)] = alias
            if warnings is not None:
                _unmapped(rule, display, frame, warnings)
    sha = hashlib.sha256(f"{sha}\0{profile.sha256}".encode()).hexdigest()
    return Profiled(found, aliases, profile.absent, sha, size)


def _used(rule: TableRule, header: list[str]) -> set[str]:
    """The columns of ``header`` that ``rule`` reads: named, ticked, numbered in groups, or the ID of a group's rows."""
    used: set[str] = set()
    for r in rule.rules.values():
        if r.ticks is not None:
            used |= {c for foreign in r.ticks if (c := _resolve(header, foreign)) is not None}
        elif r.column is not None and r.repeated:
            pattern = group_pattern(r.column)
            used |= {h for h in header if pattern.match(h)}
        elif r.column is not None and (c := _resolve(header, r.column)) is not None:
            used.add(c)
    return used


def _unmapped(rule: TableRule, file: str, frame: pd.DataFrame, warnings: Problems) -> None:
    """A warning for every column with a heading and content that ``rule`` maps to nothing."""
    header = [str(c) for c in frame.columns[1:]]
    used = _used(rule, header)
    for column in header:
        if column in used or column.startswith("unnamed:") or not column.strip() or not (frame[column] != "").any():
            continue
        warnings.add(file, rule.name, [rule.header_row], column, [column],
                     f"Die Spalte '{column}' ist im Importprofil keiner Spalte des Exportformats zugeordnet und wird "
                     f"nicht übernommen. Gehört sie dazu (etwa ein Enddatum), im Profil unter [{rule.name}.spalten] "
                     "eintragen; sonst kann dieser Hinweis bleiben.",
                     f"The column '{column}' is mapped to no column of the export format by the import profile and is "
                     f"not taken over. If it belongs (an end date, say), enter it in the profile under "
                     f"[{rule.name}.spalten]; otherwise this note may stay.")


def _resolve(header: list[str], wanted: str) -> str | None:
    """The header's column meant by ``wanted``: the same text, else the same ignoring case, else the same key."""
    for same in (lambda h: h.strip() == wanted.strip(), lambda h: h.strip().lower() == wanted.strip().lower(),
                 lambda h: name_key(h) == name_key(wanted) and name_key(h) != ""):
        hits = [h for h in header if same(h)]
        if len(hits) == 1:
            return hits[0]
    return None


def group_pattern(wanted: str) -> re.Pattern:
    """``"Beratung {n} Datum"`` → a pattern matching "Beratung 1 Datum", "beratung 12 - datum", "Beratung_3_Datum"."""
    pieces = [re.escape(p.strip()) for p in wanted.split("{n}")]
    return re.compile(r"^\s*" + r"[\s_\-:.]*(\d+)[\s_\-:.]*".join(pieces) + r"\s*$", re.IGNORECASE)


def _map_table(profile: Profile, rule: TableRule, file: str, frame: pd.DataFrame, problems: Problems,
               lookups: dict) -> tuple[pd.DataFrame | None, dict[str, str]]:
    header = [str(c) for c in frame.columns[1:]]
    name = rule.name
    missing = []
    where: dict[str, object] = {}     # contract column → foreign column, or {n: foreign column} for a group
    for target, r in rule.rules.items():
        if r.ticks is not None:
            cols = {}
            for foreign, code in r.ticks.items():
                col = _resolve(header, foreign)
                if col is None:
                    missing.append(foreign)
                cols[col] = code
            where[target] = cols
        elif r.column is not None and r.repeated:
            pattern = group_pattern(r.column)
            groups = {int(m.group(1)): h for h in header if (m := pattern.match(h))}
            if not groups:
                missing.append(r.column)
            where[target] = groups
        elif r.column is not None:
            col = _resolve(header, r.column)
            if col is None:
                missing.append(r.column)
            where[target] = col
    if missing:
        listed = ", ".join(f"'{h}'" for h in header[:30]) + (" …" if len(header) > 30 else "")
        for foreign in missing:
            problems.add(file, name, [rule.header_row], foreign, [foreign],
                         f"Die Spalte '{foreign}' aus dem Importprofil steht nicht in der Kopfzeile (Zeile "
                         f"{rule.header_row}); dort stehen: {listed}. Profil oder Kopfzeile anpassen.",
                         f"The column '{foreign}' of the import profile is not in the header (row {rule.header_row}); "
                         f"it holds: {listed}. Adjust the profile or the header.")
        return None, {}
    if rule.repeated:
        frame, where = _long(rule, frame, where)
    out = pd.DataFrame({ROW: frame[ROW].to_numpy()})
    alias: dict[str, str] = {}
    generated = _GENERATED_ID.get(name) if rule.repeated and _GENERATED_ID.get(name) not in rule.rules else None
    if generated:
        out[generated] = (frame[where["fall_id"]].astype(str).str.strip() + "-" + frame["_n"].astype(str)).to_numpy()
        alias[generated] = f"{generated} (Fallnummer-{{n}})"
    for target, r in rule.rules.items():
        column = TABLES[name].column(target)
        if r.constant is not None:
            out[target] = str(r.constant)
            alias[target] = f"{target} (Profil: {r.constant})"
            continue
        if r.ticks is not None:
            ticked = [(code, frame[col].str.strip().str.lower().map(lambda v: v not in UNTICKED))
                      for col, code in where[target].items()]
            out[target] = [("|".join(c for c, t in zip((c for c, _ in ticked), flags) if t))
                           for flags in zip(*(t.to_numpy() for _, t in ticked))] if ticked else ""
            alias[target] = _short(", ".join(where[target]))
            continue
        values = frame[where[target]].astype(str).str.strip()
        alias[target] = f"{r.column if r.repeated else where[target]} ({target})"
        if r.lookup is not None:
            table = lookups.setdefault(r.lookup, _lookup_table(r.lookup))
            keys = values.str.lower()
            mapped = keys.map(table)
            unknown = (values != "") & mapped.isna()
            if unknown.any():
                problems.add(file, name, frame.loc[unknown, ROW], alias[target], values[unknown],
                             f"Der Wert steht nicht in der Nachschlagetabelle {r.lookup.name}; dort ergänzen.",
                             f"The value is not in the lookup table {r.lookup.name}; add it there.")
            values = mapped.fillna("")
        if column.code_list is not None:
            values = _codes(values, rule.values.get(target, {}), r.separator if column.kind == "codes" else None)
        elif column.kind == "date" and (r.date_format or profile.date_format):
            values = _dates(values, r.date_format or profile.date_format)
        elif column.kind in ("int", "decimal") and profile.german_numbers:   # "61.234" → "61234"; "2.5" stays
            grouped = values.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")
            values = values.where(~grouped, values.str.replace(".", "", regex=False))
        out[target] = values.to_numpy()
    return out, alias


def _long(rule: TableRule, frame: pd.DataFrame, where: dict) -> tuple[pd.DataFrame, dict]:
    """Repeated column groups as rows: one row per source row and group number with a value in any of its columns.
    The other columns repeat on each row; a group's values stand in a column named after its contract column, and
    ``_n`` holds the number."""
    numbers = sorted({n for target, r in rule.rules.items() if r.repeated for n in where[target]})
    repeated = [t for t, r in rule.rules.items() if r.repeated]
    plain = sorted({c for t, r in rule.rules.items() if not r.repeated
                    for c in (where[t] if isinstance(where.get(t), dict) else [where.get(t)]) if c is not None})
    pieces = []
    for n in numbers:
        part = frame[[ROW, *plain]].copy()
        filled = pd.Series(False, index=frame.index)
        for target in repeated:
            col = where[target].get(n)
            part[_GROUP + target] = frame[col].astype(str) if col is not None else ""
            filled |= part[_GROUP + target].str.strip() != ""
        part["_n"] = n
        pieces.append(part.loc[filled])
    long = pd.concat(pieces).sort_values([ROW, "_n"], kind="stable").reset_index(drop=True) if pieces else \
        pd.DataFrame(columns=[ROW, *plain, *(_GROUP + t for t in repeated), "_n"]).astype({ROW: "int64"})
    return long, {**where, **{t: _GROUP + t for t in repeated}}


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _codes(values: pd.Series, mapping: dict[str, str], separator: str | None) -> pd.Series:
    """Foreign values as codes where the profile maps them (each part of a multi-valued cell); others unchanged."""
    if not mapping and not separator:
        return values
    def one(v: str) -> str:
        return mapping.get(v.strip().lower(), v.strip())
    if separator is None:
        return values.map(one)
    return values.map(lambda cell: "|".join(c for c in (one(p) for p in cell.split(separator)) if c))


def _dates(values: pd.Series, fmt: str) -> pd.Series:
    """Dates in the profile's format as JJJJ-MM-TT; values in another form go to the reader unchanged."""
    parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    return values.where(parsed.isna(), parsed.dt.strftime("%Y-%m-%d"))


def _lookup_table(path: Path) -> dict[str, str]:
    """A lookup table: first column the key (compared ignoring case), second the value; ``;`` or ``,``."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Nachschlagetabelle {path} lässt sich nicht lesen ({exc}); bitte als CSV UTF-8 speichern.",
                         f"Lookup table {path} cannot be read ({exc}); please save it as CSV UTF-8.") from None
    first = text.split("\n", 1)[0]
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ","))
    return {r[0].strip().lower(): r[1].strip() for r in rows[1:] if len(r) >= 2 and r[0].strip()}

