"""Read a KIM case export (folder of CSV files or one XLSX workbook) into normalised frames.

Longer than 500 lines on purpose: every rule of the contract in one place, so that a reader of the code sees each
rule next to the message it gives (file handling is in :mod:`.files`, the problem list in :mod:`.problems`).

Every rule of ``docs/exportformat.md`` is checked, and every violation
is collected before anything fails: :func:`read_export` raises one
:class:`~kimtools.errors.ImportValidationError` whose ``problems`` frame names
file, table, row (header = row 1), column, value and reason (German and
English). Unknown columns and districts that cannot be checked are warnings.

Raw ``person_id`` values are replaced by keyed pseudonyms inside
:func:`read_export`; they are never part of a result, a problem or a warning.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..contract import codes
from ..contract.reference import Reference, load_reference, match_key
from ..contract.schema import TABLE_ORDER, TABLES, Column
from ..errors import ImportValidationError
from ..progress import progress
from .files import csv_frame, normalise_columns, sheet_frame, source_files
from .problems import PROBLEM_COLUMNS, ROW, SECRET_COLUMNS, Problems, RawTable, problems_text
from .names import closest
from .profile import Profile, apply_profile
from .providers import check_scope
from .pseudonym import key_fingerprint, load_key, pseudonymise

__all__ = ["Export", "read_export", "check_column", "kommune_of", "PROBLEM_COLUMNS", "problems_text"]


@dataclass
class Export:
    """A validated export: normalised frames per table, ready for the store.

    ``tables`` holds ``faelle`` (with ``person_pseudonym`` instead of
    ``person_id``), ``fall_handlungsfelder`` (one row per case and needs area),
    ``beratungen``, ``vermittlungen``, ``partner``, ``stellen``,
    ``statuswechsel`` and ``bezirke`` (the export's own district figures, or
    the shipped ones), each with a ``kommune`` column.

    >>> import tempfile, kimtools as kim
    >>> from kimtools.ingest.demo import write_demo
    >>> export = kim.read_export(write_demo(tempfile.mkdtemp(), kommunen=["Herne"], show_progress=False), show_progress=False)
    >>> sorted(export.tables)[:4], "person_id" in export.tables["faelle"]   # pseudonymised on reading
    (['beratungen', 'bezirke', 'faelle', 'fall_handlungsfelder'], False)
    """

    source: str
    sha256: str
    tables: dict[str, pd.DataFrame]
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    size_bytes: int = 0   # of the source files: what an import needs on disk beside a copy of the store
    key_fingerprint: str | None = None   # of the key the pseudonyms were made with (never the key)
    providers: tuple[str, ...] | None = None   # a provider delivery's providers; None: its kommunen as a whole
    shared_person_keys: bool = False   # a provider delivery whose person keys are the kommune's shared ones
    location: str = ""   # the source as the user named it (for a command to repeat in a message)
    absent: tuple[str, ...] = ()   # tables the import profile declares not delivered (their indicators: no data)
    profile: str | None = None   # the name of the import profile the source was read with

    @property
    def kommunen(self) -> list[str]:
        """The kommunen the export is of: those of its cases, and for a provider delivery also those of its posts
        (the coordination or the Ausländerbehörde delivers its posts of Bausteine 1 and 3 without cases)."""
        found = set(self.tables["faelle"]["kommune"].dropna())
        if self.providers is not None:
            found |= set(self.tables["stellen"]["kommune"].dropna())
        return sorted(found)

    def row_counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables.items()}


# --------------------------------------------------------------------------- column checks
_CODE_LOOKUP: dict[str, dict[str, str]] = {}


def _code_lookup(code_list: str) -> dict[str, str]:
    if code_list not in _CODE_LOOKUP:
        lookup = {}
        for code, (de, _en) in codes.CODE_LISTS[code_list].items():
            lookup[code.lower()] = code
            lookup[de.lower()] = code
            lookup.setdefault(de.split(" (")[0].lower(), code)   # "Baustein 1" for "Baustein 1 (strategisches …)"
        _CODE_LOOKUP[code_list] = lookup
    return _CODE_LOOKUP[code_list]


def _allowed(code_list: str) -> str:
    return ", ".join(codes.CODE_LISTS[code_list])


_DE_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_TIME_SUFFIX = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"


def _parse_dates(s: pd.Series) -> pd.Series:
    """Dates as TT.MM.JJJJ or JJJJ-MM-TT; a time of day after the date is dropped (DECISION)."""
    s = s.str.replace(_TIME_SUFFIX, "", regex=True)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[s]")
    de = s.str.match(_DE_DATE)
    iso = s.str.match(_ISO_DATE)
    if de.any():
        out[de] = pd.to_datetime(s[de], format="%d.%m.%Y", errors="coerce")
    if iso.any():
        out[iso] = pd.to_datetime(s[iso], format="%Y-%m-%d", errors="coerce")
    return out


def check_column(raw: RawTable, column: Column, problems: Problems, today: dt.date) -> pd.Series:
    """Parse one column; report what breaks its own rules. Returns the parsed values (NA where empty or bad)."""
    s = raw.frame[column.name]
    empty = s == ""
    if column.required:
        problems.add_masked(raw, empty, column.name, "Pflichtfeld ist leer.", "Required value is empty.")
    if column.kind in ("id", "text"):
        if column.max_length is not None:
            problems.add_masked(raw, s.str.len() > column.max_length, column.name,
                                f"Text ist länger als {column.max_length} Zeichen ("
                                + s.str.len().astype(str) + "); bitte kürzen.",
                                f"Text is longer than {column.max_length} characters ("
                                + s.str.len().astype(str) + "); please shorten it.")
        return s.where(~empty, None)
    if column.kind == "date":
        parsed = _parse_dates(s)
        bad = ~empty & parsed.isna()
        problems.add_masked(raw, bad, column.name,
                            "Kein gültiges Datum; erwartet TT.MM.JJJJ oder JJJJ-MM-TT.",
                            "Not a valid date; expected DD.MM.YYYY or YYYY-MM-DD.")
        if column.not_future:
            future = parsed > pd.Timestamp(today)
            problems.add_masked(raw, future, column.name, "Datum liegt in der Zukunft.", "Date lies in the future.")
        return parsed
    if column.kind in ("int", "decimal"):
        text = s.str.replace(",", ".", regex=False)
        if column.kind == "int":
            ok_form = text.str.fullmatch(r"[+-]?\d+(\.0+)?")
            what_de, what_en = "keine ganze Zahl", "not a whole number"
        else:
            ok_form = text.str.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)")
            what_de, what_en = "keine Zahl (Dezimalkomma oder -punkt)", "not a number (decimal comma or point)"
        nums = pd.to_numeric(text.where(ok_form & ~empty), errors="coerce")
        bad = ~empty & nums.isna()
        problems.add_masked(raw, bad, column.name, f"Wert ist {what_de}.", f"Value is {what_en}.")
        maximum = today.year if column.maximum == "current_year" else column.maximum
        low = (nums <= column.minimum) if column.min_exclusive else (nums < column.minimum) \
            if column.minimum is not None else pd.Series(False, index=s.index)
        high = nums > maximum if maximum is not None else pd.Series(False, index=s.index)
        rng_de = ("größer als " if column.min_exclusive else "mindestens ") + _num(column.minimum) \
            if column.minimum is not None else ""
        rng_en = ("greater than " if column.min_exclusive else "at least ") + _num(column.minimum, ".") \
            if column.minimum is not None else ""
        if maximum is not None:
            rng_de += (" und " if rng_de else "") + f"höchstens {_num(maximum)}"
            rng_en += (" and " if rng_en else "") + f"at most {_num(maximum, '.')}"
        problems.add_masked(raw, (low | high).fillna(False), column.name,
                            f"Wert außerhalb des erlaubten Bereichs; erlaubt: {rng_de}.",
                            f"Value out of range; allowed: {rng_en}.")
        nums = nums.where(~(low | high).fillna(False))
        return nums.round().astype("Int64") if column.kind == "int" else nums.astype("Float64")
    lookup = _code_lookup(column.code_list)
    if column.kind == "code":
        mapped = s.str.lower().map(lookup)
        bad = ~empty & mapped.isna()
        problems.add_masked(raw, bad, column.name,
                            f"Unbekannter Code; erlaubt sind: {_allowed(column.code_list)}.",
                            f"Unknown code; allowed are: {_allowed(column.code_list)}.")
        return mapped.where(~empty, None)
    # codes: several values separated by , or |
    parts = s.where(~empty).str.lower().str.split(r"\s*[,|]\s*", regex=True).explode()
    parts = parts[parts.notna()]
    mapped = parts.map(lookup)
    bad_parts = parts[mapped.isna() & (parts != "")]
    if len(bad_parts):
        bad_idx = bad_parts.index.unique()
        first_bad = bad_parts.groupby(level=0).agg(lambda v: ", ".join(v))
        rows = raw.frame.loc[bad_idx]
        de = "Unbekannter Code '" + first_bad.loc[bad_idx] + f"'; erlaubt sind: {_allowed(column.code_list)}."
        en = "Unknown code '" + first_bad.loc[bad_idx] + f"'; allowed are: {_allowed(column.code_list)}."
        problems.add(raw.file, raw.table.name, rows[ROW], column.name, rows[column.name], de, en)
    ok = mapped.dropna()
    order = {c: i for i, c in enumerate(codes.CODE_LISTS[column.code_list])}
    joined = ok.groupby(level=0).agg(lambda v: "|".join(sorted(set(v), key=order.get)))
    return joined.reindex(s.index)


def _num(value: float | None, sep: str = ",") -> str:
    text = f"{value:g}"
    return text.replace(".", sep)


# --------------------------------------------------------------------------- the whole export
def read_export(source: str | Path, key: bytes | None = None, today: dt.date | None = None,
                reference: Reference | None = None, show_progress: bool = True,
                providers: tuple[str, ...] | None = None, shared_person_keys: bool = False,
                profile: Profile | None = None) -> Export:
    """Read, check and normalise an export; raise :class:`ImportValidationError` listing every problem.

    Parameters
    ----------
    source
        A folder of CSV files or an ``.xlsx`` workbook.
    key
        The pseudonymisation key (default: :func:`kimtools.ingest.pseudonym.load_key`).
    today
        The date against which "not in the future" is checked (default: today).
    reference
        District and municipality reference data (default: the shipped data).
    providers
        For a provider delivery (contract 1.1, *Deliveries*): the providers (``traeger``) it covers. A case or
        post of another provider is a problem. ``None``: the export is its kommunen as a whole.
    shared_person_keys
        Only for a provider delivery: its ``person_id`` is the key the kommune's other providers use too
        (the same documentation system), so that a person with cases at several providers is one person.
        Without it each provider's person keys are its own: the pseudonym is made of kommune, provider and
        ``person_id`` (:func:`~kimtools.ingest.pseudonym.pseudonymise`).
    profile
        An import profile (:mod:`kimtools.ingest.profile`) that maps a source of another layout onto the contract;
        problems then name the foreign file's columns, rows as numbered there.

    Examples
    --------
    The demo export of one city, read and checked (nothing stored):

    >>> import tempfile, kimtools as kim
    >>> from kimtools.ingest.demo import write_demo
    >>> folder = write_demo(tempfile.mkdtemp(), kommunen=["Herne"], show_progress=False)
    >>> export = kim.read_export(folder, show_progress=False)
    >>> export.tables["faelle"]["kommune"].unique().tolist()
    ['Herne']

    A folder that is not there is named, not a traceback:

    >>> kim.read_export("/nirgends/export", show_progress=False)
    Traceback (most recent call last):
    kimtools.errors.InputError: ...
    """
    source = Path(source)
    today = today or dt.date.today()
    ref = reference or load_reference()
    problems, warnings = Problems(), Problems()
    aliases: dict[tuple[str, str], dict[str, str]] = {}
    if profile is not None:
        profiled = apply_profile(profile, source, problems, warnings)
        found, sha, size, aliases = profiled.found, profiled.sha256, profiled.size, profiled.aliases
    else:
        found, unknown, sha, size = source_files(source)
        for name in unknown:
            warnings.add(name, "", [0], "", [""], "Unbekannte Tabelle wird ignoriert.", "Unknown table is ignored.")
        for name in TABLE_ORDER:
            if TABLES[name].required and name not in found:
                where, de, en = _missing_table_text(source, name, unknown)
                problems.add(where, name, [0], "", [""], de, en)

    raws: dict[str, RawTable] = {}
    parsed: dict[str, dict[str, pd.Series]] = {}
    for name in progress([n for n in TABLE_ORDER if n in found], desc="Prüfen", disable=not show_progress):
        file, payload = found[name]
        if isinstance(payload, pd.DataFrame):   # mapped by the profile
            frame = payload
        elif isinstance(payload, bytes):
            frame = csv_frame(file, payload, problems, name)
        else:
            frame = sheet_frame(file, payload, problems, name)
        if frame is None:
            continue
        raw = RawTable(TABLES[name], file, frame)
        if not normalise_columns(raw, problems, warnings):
            continue
        for column in SECRET_COLUMNS & set(raw.frame.columns):
            problems.secrets |= set(raw.frame[column].unique()) - {""}
        raws[name] = raw
        parsed[name] = {c.name: check_column(raw, c, problems, today) for c in raw.table.all_columns}

    tables = _check_relations(raws, parsed, problems, warnings, ref) if "faelle" in raws and "partner" in raws else {}
    if providers is not None:
        check_scope(raws, providers, problems)
    warnings.secrets = problems.secrets
    if problems:
        raise ImportValidationError(_foreign_names(problems.frame(), aliases), source.name)
    key = key if key is not None else load_key()
    faelle = tables["faelle"]
    own_keys = providers is not None and not shared_person_keys
    space = faelle["kommune"] + "\x1f" + faelle["traeger"] if own_keys else faelle["kommune"]
    faelle.insert(2, "person_pseudonym", pseudonymise(faelle.pop("person_id"), space, key))
    return Export(source.name, sha, tables, _foreign_names(warnings.frame(), aliases), size, key_fingerprint(key),
                  tuple(providers) if providers is not None else None, providers is not None and shared_person_keys,
                  str(source), profile.absent if profile is not None else (),
                  profile.name if profile is not None else None)


def _foreign_names(problems: pd.DataFrame, aliases: dict[tuple[str, str], dict[str, str]]) -> pd.DataFrame:
    """Problems with the columns named as in the foreign file a profile mapped (``Fallbeginn (beginn)``)."""
    if not aliases or problems.empty:
        return problems
    out = problems.copy()
    for (file, table), names in aliases.items():
        at = (out["datei"] == file) & (out["tabelle"] == table)
        out.loc[at, "spalte"] = out.loc[at, "spalte"].map(lambda c: names.get(c, c))
    return out


def _missing_table_text(source: Path, name: str, unknown: list[str]) -> tuple[str, str, str]:
    """Where a required table is missing, and why, naming the sheets or files found instead and the closest match."""
    book = source.suffix.lower() in (".xlsx", ".xlsm")
    others = [u.split(" [", 1)[1][:-1] if book and " [" in u else u for u in unknown]
    meant = [o for o in others if closest(Path(o).stem if not book else o, TABLE_ORDER) == name]
    kind_de, kind_en = ("Tabellenblatt", "sheet") if book else ("Datei", "file")
    expected = name if book else f"{name}.csv"
    listed = ", ".join(f"'{o}'" for o in others[:12]) + (" …" if len(others) > 12 else "")
    found_de = f"; gefunden: {listed}" if others else ""
    found_en = f"; found: {listed}" if others else ""
    hint_de = f" – gemeint ist wohl '{meant[0]}'? Dann in '{expected}' umbenennen." if len(meant) == 1 else "."
    hint_en = f" – probably '{meant[0]}' is meant? Then rename it '{expected}'." if len(meant) == 1 else "."
    return (source.name if book else expected,
            f"Pflichttabelle '{name}' fehlt: kein {kind_de} '{expected}'{found_de}{hint_de}",
            f"Required table '{name}' is missing: no {kind_en} '{expected}'{found_en}{hint_en}")


def kommune_of(raw: RawTable, values: pd.Series, problems: Problems, ref: Reference) -> pd.Series:
    given = values.dropna().unique()
    resolved = {v: ref.resolve_kommune(v) for v in given}
    out = values.map(resolved)
    bad = values.notna() & out.isna()
    problems.add_masked(raw, bad, "kommune",
                        "Unbekannte Kommune; erwartet wird eine KIM-Kommune in NRW, z. B. Herne, Oberhausen, Düsseldorf.",
                        "Unknown municipality; expected a KIM municipality of NRW, e.g. Herne, Oberhausen, Düsseldorf.")
    return out


def _duplicates(raw: RawTable, keys: pd.DataFrame, column: str, problems: Problems) -> pd.Series:
    valid = keys.notna().all(axis=1)
    dup = keys.duplicated(keep=False) & valid
    if dup.any():
        rows = raw.frame[ROW]
        first = rows[dup].groupby([keys[c][dup] for c in keys.columns]).transform("min")
        msg_de = "Kommt mehrfach vor (erstmals in Zeile " + first.astype(str) + "); IDs müssen je Kommune eindeutig sein."
        msg_en = "Appears more than once (first in row " + first.astype(str) + "); IDs must be unique within a kommune."
        later = dup & (rows != first.reindex(rows.index))
        problems.add_masked(raw, later, column, msg_de.reindex(rows.index), msg_en.reindex(rows.index))
    return dup


def _district_resolver(bezirke_export: pd.DataFrame | None, ref: Reference):
    """Return f(kommune, names) → canonical names (None where unknown) and the set of kommunen without figures."""
    export_keys: dict[str, dict[str, str]] = {}
    if bezirke_export is not None:
        for k, name in zip(bezirke_export["kommune"], bezirke_export["stadtbezirk"]):
            if k is not None and name is not None:
                export_keys.setdefault(k, {})[match_key(name)] = name

    def keys_for(kommune: str) -> dict[str, str] | None:
        return export_keys.get(kommune) or ref.district_keys(kommune)

    return keys_for


def _check_districts(raw: RawTable, kommune: pd.Series, names: pd.Series, keys_for, problems: Problems,
                     unchecked: set[str]) -> pd.Series:
    out = pd.Series(None, index=names.index, dtype=object)
    frame = pd.DataFrame({"k": kommune, "n": names}).dropna()
    for k, group in frame.groupby("k", sort=False):
        keys = keys_for(k)
        if keys is None:
            unchecked.add(k)
            out[group.index] = group["n"]
            continue
        mapped = group["n"].map(match_key).map(keys)
        out[group.index] = mapped
        bad = pd.Series(False, index=names.index)
        bad[mapped.index[mapped.isna()]] = True
        allowed = ", ".join(sorted(keys.values()))
        problems.add_masked(raw, bad, "stadtbezirk",
                            f"Unbekannter Stadtbezirk von {k}; bekannt sind: {allowed}.",
                            f"Unknown district of {k}; known are: {allowed}.")
    return out


def _fmt_dates(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%d.%m.%Y")


#: the stored columns of a post, in the store's order
POST_COLUMNS = ("kommune", "traeger", "baustein", "funktion", "stadtbezirk", "vzae", "besetzt", "foerderung", "von", "bis")


def _check_relations(raws, parsed, problems: Problems, warnings: Problems, ref: Reference) -> dict[str, pd.DataFrame]:
    """The rules that need more than one column or table; returns the normalised frames."""
    unchecked: set[str] = set()
    out: dict[str, pd.DataFrame] = {}

    # bezirke first: they define the districts of their kommune
    bezirke = None
    if "bezirke" in raws:
        raw, p = raws["bezirke"], parsed["bezirke"]
        p["kommune"] = kommune_of(raw, p["kommune"], problems, ref)
        keys = pd.DataFrame({"k": p["kommune"], "b": p["stadtbezirk"].map(match_key, na_action="ignore")})
        _duplicates(raw, keys, "stadtbezirk", problems)
        too_many = (p["auslaender"] > p["einwohner"]).fillna(False)
        problems.add_masked(raw, too_many.astype(bool), "auslaender",
                            "Mehr Ausländerinnen und Ausländer als Einwohner.", "More foreign nationals than inhabitants.")
        bezirke = pd.DataFrame({c: p[c] for c in ["kommune", "stadtbezirk", "einwohner", "auslaender", "stand", "quelle"]})
        bezirke["herkunft"] = "export"
    keys_for = _district_resolver(bezirke, ref)

    # partner
    raw, p = raws["partner"], parsed["partner"]
    p["kommune"] = kommune_of(raw, p["kommune"], problems, ref)
    _duplicates(raw, pd.DataFrame({"k": p["kommune"], "id": p["partner_id"]}), "partner_id", problems)
    p["stadtbezirk"] = _check_districts(raw, p["kommune"], p["stadtbezirk"], keys_for, problems, unchecked)
    partner = pd.DataFrame({c: p[c] for c in ["kommune", "partner_id", "name", "typ", "rechtskreis", "stadtbezirk"]})
    partner["case_management"] = p["case_management"] == "ja"
    partner = partner.loc[:, ["kommune", "partner_id", "name", "typ", "rechtskreis", "case_management", "stadtbezirk"]]
    pkeys = partner.dropna(subset=["kommune", "partner_id"]).drop_duplicates(["kommune", "partner_id"])
    out["partner"] = partner

    def partner_check(raw, kommune, ids, column, need_cm: bool | pd.Series, what_de: str, what_en: str,
                      not_cm_de: str = "Der Partner ist kein Case-Management-Träger (partner.case_management = nein).",
                      not_cm_en: str = "The partner is not a case-management provider (partner.case_management = nein)."):
        """Each of ``ids`` is a partner of its kommune; where ``need_cm`` (for every row, or a mask of rows) one
        with case management."""
        look = pd.DataFrame({"kommune": kommune, "partner_id": ids}).merge(
            pkeys[["kommune", "partner_id", "case_management"]], how="left", on=["kommune", "partner_id"], indicator=True)
        look.index = ids.index
        checkable = ids.notna() & kommune.notna()
        missing = checkable & (look["_merge"] == "left_only")
        problems.add_masked(raw, missing, column,
                            f"Kein Partner mit dieser partner_id in {what_de} (Tabelle partner).",
                            f"No partner with this partner_id in {what_en} (table partner).")
        if need_cm is not False:
            not_cm = checkable & (look["_merge"] == "both") & ~look["case_management"].fillna(False).astype(bool)
            problems.add_masked(raw, not_cm & need_cm, column, not_cm_de, not_cm_en)

    # faelle
    raw, p = raws["faelle"], parsed["faelle"]
    p["kommune"] = kommune_of(raw, p["kommune"], problems, ref)
    _duplicates(raw, pd.DataFrame({"k": p["kommune"], "id": p["fall_id"]}), "fall_id", problems)
    p["stadtbezirk"] = _check_districts(raw, p["kommune"], p["stadtbezirk"], keys_for, problems, unchecked)
    partner_check(raw, p["kommune"], p["traeger"], "traeger", True, "der Kommune des Falls", "the case's kommune")
    partner_check(raw, p["kommune"], p["zugang_ueber"], "zugang_ueber", False, "der Kommune des Falls", "the case's kommune")
    before = p["ende"] < p["beginn"]
    problems.add_masked(raw, before.fillna(False), "ende",
                        "Ende liegt vor dem Beginn (" + _fmt_dates(p["beginn"]) + ").",
                        "End lies before the start (" + _fmt_dates(p["beginn"]) + ").")
    has_end = raw.frame["ende"] != ""
    has_reason = raw.frame["abschlussgrund"] != ""
    problems.add_masked(raw, has_end & ~has_reason, "abschlussgrund",
                        "Abschlussgrund fehlt, obwohl der Fall ein Ende hat.", "Closure reason missing although the case has an end.")
    problems.add_masked(raw, ~has_end & has_reason, "abschlussgrund",
                        "Abschlussgrund ohne Ende: bei offenen Fällen leer lassen oder ende eintragen.",
                        "Closure reason without an end: leave it empty for open cases or fill in ende.")
    household = (p["mitberatene"] >= p["haushalt_personen"]).fillna(False).astype(bool)
    problems.add_masked(raw, household, "mitberatene",
                        "Mehr mitberatene Angehörige als der Haushalt Personen neben der beratenen hat "
                        "(mitberatene muss kleiner sein als haushalt_personen, " + p["haushalt_personen"].astype(str) + ").",
                        "More household members counselled alongside than the household has besides the person "
                        "counselled (mitberatene must be less than haushalt_personen, " + p["haushalt_personen"].astype(str) + ").")
    faelle = pd.DataFrame({c: p[c] for c in [
        "kommune", "fall_id", "person_id", "stadtbezirk", "traeger", "beginn", "ende", "abschlussgrund",
        "zielgruppe", "handlungsfelder", "aufenthaltsstatus", "zugang_ueber", "geschlecht", "geburtsjahr",
        "haushalt_personen", "mitberatene"]})
    out["faelle"] = faelle
    hf = faelle[["kommune", "fall_id", "handlungsfelder"]].dropna()
    hf = hf.assign(handlungsfeld=hf["handlungsfelder"].str.split("|")).explode("handlungsfeld")
    out["fall_handlungsfelder"] = hf[["kommune", "fall_id", "handlungsfeld"]].reset_index(drop=True)

    cases = faelle.loc[faelle["kommune"].notna() & faelle["fall_id"].notna(), ["kommune", "fall_id", "beginn", "ende"]]
    cases = cases.drop_duplicates(["kommune", "fall_id"])
    per_id = cases.groupby("fall_id")["kommune"].agg(["nunique", "first"])

    def resolve_case(raw, p, id_col="fall_id"):
        """Give each row of a dependent table its kommune and its case's dates."""
        given = kommune_of(raw, p["kommune"], problems, ref) if (raw.frame["kommune"] != "").any() \
            else pd.Series(None, index=raw.frame.index, dtype=object)
        ids = p[id_col]
        hit = per_id.reindex(ids.to_numpy())
        hit.index = ids.index
        ambiguous = given.isna() & (hit["nunique"] > 1).fillna(False)
        problems.add_masked(raw, ambiguous, id_col,
                            "Diese fall_id gibt es in mehreren Kommunen; bitte die Spalte kommune ergänzen.",
                            "This fall_id exists in several kommunen; add the column kommune.")
        kommune = given.where(given.notna(), hit["first"].where(hit["nunique"] == 1))
        look = pd.DataFrame({"kommune": kommune, "fall_id": ids}).merge(cases, how="left", on=["kommune", "fall_id"], indicator=True)
        look.index = ids.index
        missing = ids.notna() & ~ambiguous & (raw.frame["kommune"].eq("") | given.notna()) & (look["_merge"] != "both")
        problems.add_masked(raw, missing, id_col,
                            "Kein Fall mit dieser fall_id (Tabelle faelle).", "No case with this fall_id (table faelle).")
        return kommune, look["beginn"], look["ende"]

    def within_case(raw, date, beginn, ende, column, upper: bool):
        early = (date < beginn).fillna(False)
        problems.add_masked(raw, early, column,
                            "Datum liegt vor dem Fallbeginn (" + _fmt_dates(beginn) + ").",
                            "Date lies before the case start (" + _fmt_dates(beginn) + ").")
        if upper:
            late = (date > ende).fillna(False)
            problems.add_masked(raw, late, column,
                                "Datum liegt nach dem Fallende (" + _fmt_dates(ende) + ").",
                                "Date lies after the case end (" + _fmt_dates(ende) + ").")

    # beratungen
    raw, p = raws.get("beratungen"), parsed.get("beratungen")
    if raw is not None:
        kommune, beginn, ende = resolve_case(raw, p)
        _duplicates(raw, pd.DataFrame({"k": kommune, "id": p["beratung_id"]}), "beratung_id", problems)
        within_case(raw, p["datum"], beginn, ende, "datum", upper=True)
        out["beratungen"] = pd.DataFrame({"kommune": kommune, **{c: p[c] for c in [
            "beratung_id", "fall_id", "datum", "dauer_min", "form", "handlungsfeld"]}})

    raw, p = raws.get("vermittlungen"), parsed.get("vermittlungen")
    if raw is not None:
        kommune, beginn, ende = resolve_case(raw, p)
        _duplicates(raw, pd.DataFrame({"k": kommune, "id": p["vermittlung_id"]}), "vermittlung_id", problems)
        within_case(raw, p["datum"], beginn, ende, "datum", upper=False)
        partner_check(raw, kommune, p["an_partner"], "an_partner", False, "der Kommune des Falls", "the case's kommune")
        early = (p["erstkontakt"] < p["datum"]).fillna(False)
        problems.add_masked(raw, early, "erstkontakt",
                            "Erstkontakt liegt vor dem Vermittlungsdatum (" + _fmt_dates(p["datum"]) + ").",
                            "First appointment lies before the referral date (" + _fmt_dates(p["datum"]) + ").")
        out["vermittlungen"] = pd.DataFrame({"kommune": kommune, **{c: p[c] for c in [
            "vermittlung_id", "fall_id", "datum", "an_partner", "handlungsfeld", "status", "erstkontakt", "luecke"]}})

    raw, p = raws.get("statuswechsel"), parsed.get("statuswechsel")
    if raw is not None:
        kommune, beginn, ende = resolve_case(raw, p)
        within_case(raw, p["datum"], beginn, ende, "datum", upper=True)
        out["statuswechsel"] = pd.DataFrame({"kommune": kommune, "fall_id": p["fall_id"], "datum": p["datum"],
                                             "nach_status": p["nach_status"]})
    else:
        out["statuswechsel"] = pd.DataFrame(columns=["kommune", "fall_id", "datum", "nach_status"])

    raw, p = raws.get("stellen"), parsed.get("stellen")
    if raw is not None:
        given = kommune_of(raw, p["kommune"], problems, ref)
        per_partner = pkeys.groupby("partner_id")["kommune"].agg(["nunique", "first"])
        hit = per_partner.reindex(p["traeger"].to_numpy())
        hit.index = p["traeger"].index
        ambiguous = given.isna() & (hit["nunique"] > 1).fillna(False)
        problems.add_masked(raw, ambiguous, "traeger",
                            "Diese Träger-ID gibt es in mehreren Kommunen; bitte die Spalte kommune ergänzen.",
                            "This provider ID exists in several kommunen; add the column kommune.")
        kommune = given.where(given.notna(), hit["first"].where(hit["nunique"] == 1))
        nowhere = p["traeger"].notna() & given.isna() & (raw.frame["kommune"] == "") & hit["nunique"].isna()
        problems.add_masked(raw, nowhere, "traeger", "Kein Partner mit dieser partner_id (Tabelle partner).",
                            "No partner with this partner_id (table partner).")
        # (1.2) empty = Baustein 2; only Baustein 2 (case management on site) needs a case-management provider
        p["baustein"] = p["baustein"].where(raw.frame["baustein"] != "", "2")
        partner_check(raw, kommune.where(~ambiguous), p["traeger"].where(~ambiguous), "traeger",
                      (p["baustein"] == "2").fillna(False).astype(bool), "der Kommune", "the kommune",
                      "Der Partner ist kein Case-Management-Träger (partner.case_management = nein), eine Stelle in "
                      "Baustein 2 (Case Management vor Ort) gehört aber zu einem; Stellen der Koordination (Baustein 1) "
                      "oder der Ausländer- und Einbürgerungsbehörde (Baustein 3) in der Spalte baustein so kennzeichnen.",
                      "The partner is not a case-management provider (partner.case_management = nein), but a post in "
                      "Baustein 2 (case management on site) belongs to one; mark posts of the coordination (Baustein 1) "
                      "or of the immigration and naturalisation offices (Baustein 3) as such in the column baustein.")
        p["stadtbezirk"] = _check_districts(raw, kommune, p["stadtbezirk"], keys_for, problems, unchecked)
        early = (p["bis"] < p["von"]).fillna(False)
        problems.add_masked(raw, early, "bis", "Bis liegt vor Von (" + _fmt_dates(p["von"]) + ").",
                            "Until lies before from (" + _fmt_dates(p["von"]) + ").")
        posts = pd.DataFrame({"kommune": kommune, **{c: p[c] for c in POST_COLUMNS[1:]}})
        # what an empty cell means (contract 1.2): filled, Land-funded; a Baustein-2 post without a function is a
        # case-management post (as every post of a 1.1 export), the function of other posts stays unknown
        posts["besetzt"] = p["besetzt"].map({"ja": True, "nein": False}).where(raw.frame["besetzt"] != "", True)
        posts["foerderung"] = p["foerderung"].where(raw.frame["foerderung"] != "", "land")
        posts["funktion"] = p["funktion"].where((raw.frame["funktion"] != "") | (p["baustein"] != "2"), "case_management")
        out["stellen"] = posts
    else:
        out["stellen"] = pd.DataFrame(columns=list(POST_COLUMNS))

    # district figures: the export's own for a kommune, else the shipped ones
    kommunen = set(faelle["kommune"].dropna())
    shipped = ref.bezirke.loc[ref.bezirke["kommune"].isin(kommunen)].drop(columns="geschaetzt").assign(herkunft="mitgeliefert")
    if bezirke is not None:
        own = set(bezirke["kommune"].dropna())
        shipped = shipped.loc[~shipped["kommune"].isin(own)]
        bezirke_all = pd.concat([bezirke.loc[bezirke["kommune"].isin(kommunen)], shipped], ignore_index=True)
    else:
        bezirke_all = shipped.reset_index(drop=True)
    bezirke_all["stand"] = pd.to_datetime(bezirke_all["stand"])
    out["bezirke"] = bezirke_all

    for k in sorted(unchecked):
        warnings.add("", "bezirke", [0], "stadtbezirk", [k],
                     f"Für {k} gibt es keine Bezirks-Referenzdaten: Stadtbezirke werden nicht geprüft, "
                     "Raten je 1.000 Einwohner sind nicht möglich. Tabelle bezirke ergänzen.",
                     f"No district reference figures for {k}: districts are not checked and rates per 1,000 "
                     "inhabitants are impossible. Add a bezirke table.")
    return out
