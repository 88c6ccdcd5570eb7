"""Read a KIM case export (folder of CSV files or one XLSX workbook) into normalised frames.

Every rule of ``shared/case-export-format.md`` is checked, and every violation
is collected before anything fails: :func:`read_export` raises one
:class:`~kimtools.errors.ImportValidationError` whose ``problems`` frame names
file, table, row (header = row 1), column, value and reason (German and
English). Unknown columns and districts that cannot be checked are warnings.

Raw ``person_id`` values are replaced by keyed pseudonyms inside
:func:`read_export`; they are never part of a result, a problem or a warning.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import warnings as pywarnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import codes
from ..errors import ImportValidationError, KimtoolsError, UsageError, from_os_error
from ..i18n import tr
from ..progress import progress
from .pseudonym import key_fingerprint, load_key, pseudonymise
from ..contract.reference import Reference, load_reference, match_key
from ..contract.schema import TABLE_ORDER, TABLES, Column, Table

__all__ = ["Export", "read_export", "PROBLEM_COLUMNS", "problems_text"]

PROBLEM_COLUMNS = ["datei", "tabelle", "zeile", "spalte", "wert", "grund_de", "grund_en"]
_ROW = "_zeile"
_MAX_VALUE_LEN = 60
_SECRET_COLUMNS = {"person_id"}  # never echoed into a problem
_HIDDEN = "(nicht angezeigt)"
#: where a value echoed in a problem is cut into the pieces compared with the raw person identifiers
_TOKEN_SPLIT = r"[\s;,|\t\"']+"


@dataclass
class Export:
    """A validated export: normalised frames per table, ready for the store.

    ``tables`` holds ``faelle`` (with ``person_pseudonym`` instead of
    ``person_id``), ``fall_handlungsfelder`` (one row per case and needs area),
    ``beratungen``, ``vermittlungen``, ``partner``, ``stellen``,
    ``statuswechsel`` and ``bezirke`` (the export's own district figures, or
    the shipped ones), each with a ``kommune`` column.
    """

    source: str
    sha256: str
    tables: dict[str, pd.DataFrame]
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    size_bytes: int = 0   # of the source files: what an import needs on disk beside a copy of the store
    key_fingerprint: str | None = None   # of the key the pseudonyms were made with (never the key)

    @property
    def kommunen(self) -> list[str]:
        return sorted(self.tables["faelle"]["kommune"].unique().tolist())

    def row_counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables.items()}


# --------------------------------------------------------------------------- problems
class _Problems:
    """Collects problems as small frames; concatenated once at the end.

    Values are kept whole until :meth:`frame`, which hides every value holding a raw person identifier of the
    export (``secrets``: a row echoed because it could not be parsed may carry one in any of its fields) and
    only then shortens long values, so that no part of an identifier is shown either.
    """

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self.secrets: set[str] = set()

    def add(self, file: str, table: str, rows, column: str, values, de, en) -> None:
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        if column in _SECRET_COLUMNS:
            values = [_HIDDEN] * len(rows)
        values = pd.Series(np.asarray(values, dtype=object)).astype(str)
        self._parts.append(pd.DataFrame({
            "datei": file, "tabelle": table, "zeile": rows.astype("int64"), "spalte": column,
            "wert": values.to_numpy(),
            "grund_de": de if not isinstance(de, pd.Series) else de.to_numpy(),
            "grund_en": en if not isinstance(en, pd.Series) else en.to_numpy(),
        }))

    def add_masked(self, raw: "_RawTable", mask: pd.Series, column: str, de, en, values=None) -> None:
        if not mask.any():
            return
        sel = raw.frame.loc[mask]
        vals = sel[column] if values is None else values[mask]
        if isinstance(de, pd.Series):
            de, en = de[mask], en[mask]
        self.add(raw.file, raw.table.name, sel[_ROW], column, vals, de, en)

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame(columns=PROBLEM_COLUMNS)
        out = pd.concat(self._parts, ignore_index=True)
        values = out["wert"]
        if self.secrets:
            tokens = values.str.split(_TOKEN_SPLIT, regex=True).explode()
            leaking = tokens.isin(self.secrets).groupby(level=0).any() | values.isin(self.secrets)
            values = values.where(~leaking, _HIDDEN)
        out["wert"] = values.where(values.str.len() <= _MAX_VALUE_LEN, values.str.slice(0, _MAX_VALUE_LEN) + "…")
        order = {name: i for i, name in enumerate(TABLE_ORDER)}
        out["_t"] = out["tabelle"].map(order).fillna(-1)
        return out.sort_values(["_t", "datei", "zeile", "spalte"], kind="stable").drop(columns="_t").reset_index(drop=True)

    def __bool__(self) -> bool:
        return bool(self._parts)


def problems_text(problems: pd.DataFrame, lang: str = "de", limit: int | None = 50) -> str:
    """Problems as readable lines: ``faelle.csv, Zeile 4, Spalte beginn, Wert '31.02.2024': …``."""
    row_w, col_w, val_w, reason = (tr(pair, lang) for pair in (("Zeile", "row"), ("Spalte", "column"), ("Wert", "value"),
                                                               ("grund_de", "grund_en")))
    shown = problems if limit is None else problems.head(limit)
    lines = []
    for p in shown.itertuples(index=False):
        where = [p.datei]
        if p.zeile and int(p.zeile) > 0:
            where.append(f"{row_w} {int(p.zeile)}")
        if p.spalte:
            where.append(f"{col_w} {p.spalte}")
        if p.wert != "":
            where.append(f"{val_w} '{p.wert}'")
        lines.append(", ".join(where) + ": " + getattr(p, reason))
    if limit is not None and len(problems) > limit:
        rest = len(problems) - limit
        lines.append(f"… und {rest} weitere" if lang != "en" else f"… and {rest} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------- raw reading
@dataclass
class _RawTable:
    table: Table
    file: str
    frame: pd.DataFrame  # all cells stripped strings; column _zeile = row as seen in the file


def _source_files(source: Path) -> tuple[dict[str, tuple[str, object]], list[str], str, int]:
    """Map table name → (display file name, loader payload); also unknown names, the SHA-256 and the size in bytes."""
    try:
        return _read_source_files(source)
    except OSError as exc:
        raise from_os_error(exc, source, "die Quelle lesen", "read the source") from None


def _read_source_files(source: Path) -> tuple[dict[str, tuple[str, object]], list[str], str, int]:
    if not source.exists():
        raise UsageError(f"Quelle {source} gibt es nicht. Erwartet: ein Ordner mit CSV-Dateien oder eine .xlsx-Arbeitsmappe.",
                         f"Source {source} does not exist. Expected a folder of CSV files or an .xlsx workbook.")
    found: dict[str, tuple[str, object]] = {}
    unknown: list[str] = []
    dupes: list[str] = []
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not files:
            raise UsageError(f"Im Ordner {source} liegt keine CSV-Datei.", f"The folder {source} holds no CSV file.")
        digest = hashlib.sha256()
        size = 0
        for p in files:
            data = p.read_bytes()
            size += len(data)
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(data).digest())
            name = p.stem.strip().lower()
            if name in TABLES:
                if name in found:
                    dupes.append(p.name)
                found[name] = (p.name, data)
            else:
                unknown.append(p.name)
        if dupes:
            raise UsageError(f"Tabelle doppelt im Ordner: {', '.join(dupes)}. Bitte nur eine Datei je Tabelle.",
                             f"Table given twice in the folder: {', '.join(dupes)}. Keep one file per table.")
        return found, unknown, digest.hexdigest(), size
    if source.suffix.lower() in (".xlsx", ".xlsm"):
        data = source.read_bytes()
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any unreadable workbook
            raise KimtoolsError(
                f"{source} ist keine lesbare XLSX-Arbeitsmappe: unvollständig kopiert, beschädigt oder eine Datei "
                "anderen Formats mit der Endung .xlsx. Nichts wurde gespeichert. Bitte in Excel öffnen und als "
                "„Excel-Arbeitsmappe (.xlsx)“ neu speichern, oder die Tabellen als CSV liefern.",
                f"{source} is not a readable XLSX workbook: incompletely copied, damaged, or a file of another format "
                "named .xlsx. Nothing was stored. Please open it in Excel and save it again as 'Excel Workbook "
                "(.xlsx)', or deliver the tables as CSV.") from None
        for ws in wb.worksheets:
            name = ws.title.strip().lower()
            if name in TABLES:
                if name in found:
                    dupes.append(ws.title)
                found[name] = (f"{source.name} [{ws.title}]", ws)
            else:
                unknown.append(f"{source.name} [{ws.title}]")
        if dupes:
            raise UsageError(f"Tabellenblatt doppelt: {', '.join(dupes)}.", f"Sheet given twice: {', '.join(dupes)}.")
        return found, unknown, hashlib.sha256(data).hexdigest(), len(data)
    raise UsageError(f"{source.name}: erwartet wird ein Ordner mit CSV-Dateien oder eine .xlsx-Datei.",
                     f"{source.name}: expected a folder of CSV files or an .xlsx file.")


#: byte-order marks, longest first (UTF-32 LE begins with UTF-16 LE's)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"))
_SHOWN_BYTES = 10   # bad byte positions listed per file
#: a field longer than this is refused: no value of the contract comes near, and a quote left open swallows the
#: rest of the file into one field
MAX_FIELD_LEN = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _bad_bytes(data: bytes, encoding: str) -> list[int]:
    """Offsets of the first bytes that ``encoding`` cannot decode."""
    bad, pos = [], 0
    decoder = codecs.getincrementaldecoder(encoding)()
    while pos < len(data) and len(bad) < _SHOWN_BYTES:
        try:
            decoder.decode(data[pos:], final=True)
            break
        except UnicodeDecodeError as exc:
            bad.append(pos + exc.start)
            pos += exc.end
            decoder.reset()
    return bad


def _decode(file: str, data: bytes, problems: "_Problems", table: str) -> str | None:
    """The text of a CSV file: UTF-8, UTF-16 or UTF-32 with byte-order mark, UTF-8 without, else Windows-1252.

    A file that is not text, or that mixes UTF-8 with single bytes of another encoding, is reported (with line
    and byte) instead of guessed: decoding a mixed file as Windows-1252 would turn every "ä" into "Ã¤".
    """
    def refuse(de: str, en: str, row: int = 0, value: str = "") -> None:
        problems.add(file, table, [row], "", [value], de, en)

    if data.startswith(b"PK\x03\x04"):
        refuse("Die Datei ist eine Excel-Arbeitsmappe (XLSX) oder ein ZIP-Archiv, keine CSV-Datei. Eine Arbeitsmappe "
               "bitte selbst als Quelle angeben ('kimtools import mappe.xlsx') oder in Excel als CSV speichern.",
               "The file is an Excel workbook (XLSX) or a ZIP archive, not a CSV file. Give a workbook itself as the "
               "source ('kimtools import workbook.xlsx') or save it as CSV from Excel.")
        return None
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                text = body.decode(encoding)
            except UnicodeDecodeError:
                offsets = ", ".join(str(len(bom) + b) for b in _bad_bytes(body, encoding))
                refuse(f"Die Datei ist als {label} gekennzeichnet, enthält aber Bytes, die in {label} ungültig sind "
                       f"(ab Byte {offsets}). Bitte erneut exportieren, am besten als CSV UTF-8.",
                       f"The file is marked as {label} but holds bytes that are invalid in {label} (from byte "
                       f"{offsets}). Please export it again, preferably as CSV UTF-8.")
                return None
            return _text_or_refuse(file, text, problems, table)
    if b"\x00" in data:
        refuse("Die Datei enthält Null-Bytes: sie ist keine Textdatei (CSV), sondern eine Binärdatei, oder UTF-16 "
               "ohne Kennung (BOM). Bitte in Excel als „CSV UTF-8“ oder „Unicode-Text“ speichern.",
               "The file holds NUL bytes: it is not a text (CSV) file but a binary one, or UTF-16 without a byte-order "
               "mark. Please save it from Excel as 'CSV UTF-8' or 'Unicode Text'.")
        return None
    try:
        return _text_or_refuse(file, data.decode("utf-8"), problems, table)
    except UnicodeDecodeError:
        pass
    loose = data.decode("utf-8", errors="replace")
    if re.search(r"[^\x00-\x7f\ufffd]", loose):   # real UTF-8 characters beside the bytes that are not
        for offset in _bad_bytes(data, "utf-8"):
            line = data.count(b"\n", 0, offset) + 1
            refuse(f"Byte {offset} (0x{data[offset]:02X}) ist kein gültiges UTF-8, die übrige Datei aber ist UTF-8: "
                   "gemischte Kodierung (z. B. eine Zeile aus einem anderen Programm eingefügt). Bitte die Datei "
                   "einheitlich als UTF-8 speichern; kimtools rät hier nicht.",
                   f"Byte {offset} (0x{data[offset]:02X}) is not valid UTF-8 while the rest of the file is UTF-8: mixed "
                   "encodings (e.g. a line pasted from another program). Please save the file as UTF-8 throughout; "
                   "kimtools does not guess here.", row=line, value=f"0x{data[offset]:02X}")
        return None
    try:
        return _text_or_refuse(file, data.decode("cp1252"), problems, table)
    except UnicodeDecodeError:
        offsets = ", ".join(str(b) for b in _bad_bytes(data, "cp1252"))
        refuse(f"Die Datei ist weder UTF-8 noch Windows-1252 (ungültige Bytes ab {offsets}). Bitte als CSV UTF-8 speichern.",
               f"The file is neither UTF-8 nor Windows-1252 (invalid bytes from {offsets}). Please save it as CSV UTF-8.")
        return None


def _text_or_refuse(file: str, text: str, problems: "_Problems", table: str) -> str | None:
    """``text``, unless control characters show that the file is not text at all (one in a thousand is enough)."""
    controls = len(_CONTROL.findall(text))
    if controls and controls * 1000 >= len(text):
        first = _CONTROL.search(text).start()
        problems.add(file, table, [text.count("\n", 0, first) + 1], "", [""],
                     f"Die Datei enthält {controls} Steuerzeichen: sie ist keine Textdatei im CSV-Format.",
                     f"The file holds {controls} control characters: it is not a text file in CSV format.")
        return None
    return text


def _delimiter(first_line: str) -> str:
    """``;``, ``,`` or a tab (Excel's "Unicode-Text"), whichever the header uses most; ``;`` on a tie."""
    return max((";", ",", "\t"), key=lambda d: (first_line.count(d), d == ";"))


def _echo(record: list[str], header: list[str], sep: str) -> str:
    """A record as it stood in the file, for a problem about the whole row: the fields where a secret column's
    value can stand are hidden (a record with ``k`` extra fields may have shifted it up to ``k`` places right,
    one with ``k`` missing fields up to ``k`` places left)."""
    names = [h.strip().lower() for h in header]
    shift = len(record) - len(header)
    hidden = set()
    for i, name in enumerate(names):
        if name in _SECRET_COLUMNS:
            hidden.update(range(min(i, i + shift), max(i, i + shift) + 1))
    return sep.join(_HIDDEN if i in hidden else v for i, v in enumerate(record))


def _records(text: str, sep: str) -> list[list[str]] | None:
    """Every record of the file (header first) as the csv module reads it, or ``None`` where it cannot."""
    try:
        return list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error:
        return None


def _field_counts(text: str, sep: str, n_rows: int) -> np.ndarray | None:
    """Fields per data row where no quote can hide a delimiter or line end (else ``None``): the delimiters of
    each line, counted without parsing the file a second time."""
    if '"' in text:
        return None
    lines = pd.Series(text.split("\n")[1:1 + n_rows])
    if len(lines) != n_rows:
        return None
    counts = lines.str.count(re.escape(sep)).to_numpy() + 1
    counts[lines.str.strip().to_numpy() == ""] = 0   # an empty line is no row with too few fields
    return counts


def _csv_frame(file: str, data: bytes, problems: _Problems, table: str) -> pd.DataFrame | None:
    text = _decode(file, data, problems, table)
    if text is None:
        return None
    if not text.strip():
        problems.add(file, table, [1], "", [""], "Die Datei ist leer; erwartet wird mindestens eine Kopfzeile.",
                     "The file is empty; at least a header row is expected.")
        return None
    first = text.split("\n", 1)[0]
    sep = _delimiter(first)
    frame, counts = None, None
    try:
        with pywarnings.catch_warnings():   # rows with extra fields are found below, by their count of fields
            pywarnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False,
                                skip_blank_lines=False, quotechar='"', engine="c").fillna("")
        header = next(csv.reader(io.StringIO(first), delimiter=sep))
        if len(header) == len(frame.columns):
            frame.columns = header  # pandas renames duplicates to "x.1"; keep them visible
        frame.insert(0, _ROW, np.arange(2, len(frame) + 2))
        counts = _field_counts(text, sep, len(frame))
        if counts is None or ((counts != 0) & (counts != len(frame.columns) - 1)).any():
            frame = None   # rows with missing or extra fields, or quotes: look at each record
    except (pd.errors.ParserError, ValueError):
        frame = None
    if frame is not None:
        return _refuse_long_fields(file, frame, problems, table)
    records = _records(text, sep)
    if records is None:
        problems.add(file, table, [0], "", [""],
                     "Die Datei lässt sich nicht als CSV lesen (Anführungszeichen prüfen).",
                     "The file cannot be read as CSV (check the quotes).")
        return None
    header = records[0]
    names = [h.strip().lower() for h in header]
    required = {c.name for c in TABLES[table].columns if c.required} if table in TABLES else set()
    good, rows = [], []
    for i, rec in enumerate(records[1:], start=2):
        if len(rec) > len(header) and not "".join(rec[len(header):]).strip():
            rec = rec[:len(header)]   # delimiters at the end of a data row (not of the header): empty fields
        if len(rec) > len(header):
            problems.add(file, table, [i], "", [_echo(rec, header, sep)],
                         f"Die Zeile hat {len(rec)} Felder, die Kopfzeile nur {len(header)} (Trennzeichen oder Anführungszeichen prüfen).",
                         f"The row has {len(rec)} fields, the header only {len(header)} (check delimiters and quotes).")
        elif rec and len(rec) < len(header) and required & set(names[len(rec):]):
            cut = i == len(records) and not text.endswith(("\n", "\r"))
            problems.add(file, table, [i], "", [_echo(rec, header, sep)],
                         f"Die Zeile hat nur {len(rec)} Felder, die Kopfzeile {len(header)}: es fehlen Pflichtspalten "
                         + ("– die letzte Zeile endet mitten im Satz: Datei abgeschnitten?" if cut else
                            "(Trennzeichen oder Anführungszeichen prüfen)."),
                         f"The row has only {len(rec)} fields, the header {len(header)}: required columns are missing "
                         + ("– the last line ends mid-record: file cut off?" if cut else "(check delimiters and quotes)."))
        else:
            good.append(rec + [""] * (len(header) - len(rec)))
            rows.append(i)
    frame = pd.DataFrame(good, columns=header, dtype=str)
    frame.insert(0, _ROW, np.asarray(rows, dtype="int64"))
    return _refuse_long_fields(file, frame, problems, table)


def _refuse_long_fields(file: str, frame: pd.DataFrame, problems: _Problems, table: str) -> pd.DataFrame:
    """Report fields longer than :data:`MAX_FIELD_LEN` (their length, never their text) and drop their rows."""
    long_rows = pd.Series(False, index=frame.index)
    for i, col in enumerate(frame.columns[1:], start=1):   # by position: a duplicate header is reported later
        lengths = frame.iloc[:, i].astype(str).str.len()
        hit = lengths > MAX_FIELD_LEN
        if hit.any():
            long_rows |= hit
            problems.add(file, table, frame.loc[hit, _ROW], str(col).strip().lower(),
                         "(" + lengths[hit].astype(str) + " Zeichen)",
                         f"Das Feld ist länger als {MAX_FIELD_LEN:,} Zeichen".replace(",", ".")
                         + " – meist ein nicht geschlossenes Anführungszeichen, das die folgenden Zeilen verschluckt.",
                         f"The field is longer than {MAX_FIELD_LEN:,} characters – usually an unclosed quote that "
                         "swallows the following lines.")
    return frame.loc[~long_rows].reset_index(drop=True) if long_rows.any() else frame


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _sheet_frame(file: str, ws, problems: _Problems, table: str) -> pd.DataFrame | None:
    """A worksheet's frame, or ``None`` with a problem where the workbook's parts cannot be read."""
    try:
        frame = _xlsx_frame(ws)
    except Exception:  # noqa: BLE001 - a damaged workbook fails in zipfile, XML or openpyxl in many ways
        problems.add(file, table, [0], "", [""],
                     "Das Tabellenblatt lässt sich nicht lesen: die Arbeitsmappe ist beschädigt oder unvollständig "
                     "kopiert. Bitte in Excel öffnen und neu speichern.",
                     "The sheet cannot be read: the workbook is damaged or incompletely copied. Please open it in "
                     "Excel and save it again.")
        return None
    return _refuse_long_fields(file, frame, problems, table)


def _xlsx_frame(ws) -> pd.DataFrame:
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if header is None:
            if any(c.strip() for c in cells):
                header = cells
            continue
        rows.append(cells)
        numbers.append(number)
    if header is None:
        return pd.DataFrame({_ROW: pd.Series(dtype="int64")})
    width = len(header)
    rows = [(r + [""] * width)[:width] for r in rows]
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame.insert(0, _ROW, np.asarray(numbers, dtype="int64"))
    return frame


def _normalise_columns(raw: _RawTable, problems: _Problems, warnings: _Problems) -> bool:
    """Trim and lower the header, drop wholly empty rows; report missing/duplicate/unknown columns."""
    frame = raw.frame
    names = [_ROW] + [str(c).strip().lower() for c in frame.columns[1:]]
    counts = pd.Series(names[1:]).value_counts()
    for name in counts[counts > 1].index:
        problems.add(raw.file, raw.table.name, [1], name, [name],
                     "Die Spalte steht mehrfach in der Kopfzeile; bitte nur einmal aufführen.",
                     "The column appears more than once in the header; keep only one.")
    if (counts > 1).any():
        return False
    frame.columns = names
    for col in names[1:]:
        frame[col] = frame[col].astype(str).str.strip()
    cells = frame.drop(columns=_ROW)
    frame = frame.loc[(cells != "").any(axis=1)] if len(cells.columns) else frame.iloc[0:0]
    known = {c.name for c in raw.table.all_columns}
    for col in names[1:]:
        if col not in known:
            if col == "" or col.startswith("unnamed:"):
                if (frame[col] != "").any():
                    warnings.add(raw.file, raw.table.name, [1], col, [""],
                                 "Spalte ohne Überschrift mit Inhalt wird ignoriert.",
                                 "A column without a header but with content is ignored.")
            else:
                warnings.add(raw.file, raw.table.name, [1], col, [col],
                             f"Unbekannte Spalte wird ignoriert (erwartet: {', '.join(c.name for c in raw.table.columns)}).",
                             f"Unknown column is ignored (expected: {', '.join(c.name for c in raw.table.columns)}).")
            frame = frame.drop(columns=col)
    ok = True
    for column in raw.table.columns:
        if column.required and column.name not in frame.columns:
            problems.add(raw.file, raw.table.name, [1], column.name, [""],
                         "Pflichtspalte fehlt in der Kopfzeile.", "Required column is missing from the header.")
            ok = False
    for column in raw.table.all_columns:
        if column.name not in frame.columns:
            frame[column.name] = ""
    raw.frame = frame.reset_index(drop=True)
    return ok


# --------------------------------------------------------------------------- column checks
_CODE_LOOKUP: dict[str, dict[str, str]] = {}


def _code_lookup(code_list: str) -> dict[str, str]:
    if code_list not in _CODE_LOOKUP:
        lookup = {}
        for code, (de, _en) in codes.CODE_LISTS[code_list].items():
            lookup[code.lower()] = code
            lookup[de.lower()] = code
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


def _check_column(raw: _RawTable, column: Column, problems: _Problems, today: dt.date) -> pd.Series:
    """Parse one column; report what breaks its own rules. Returns the parsed values (NA where empty or bad)."""
    s = raw.frame[column.name]
    empty = s == ""
    if column.required:
        problems.add_masked(raw, empty, column.name, "Pflichtfeld ist leer.", "Required value is empty.")
    if column.kind in ("id", "text"):
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
        problems.add(raw.file, raw.table.name, rows[_ROW], column.name, rows[column.name], de, en)
    ok = mapped.dropna()
    order = {c: i for i, c in enumerate(codes.CODE_LISTS[column.code_list])}
    joined = ok.groupby(level=0).agg(lambda v: "|".join(sorted(set(v), key=order.get)))
    return joined.reindex(s.index)


def _num(value: float | None, sep: str = ",") -> str:
    text = f"{value:g}"
    return text.replace(".", sep)


# --------------------------------------------------------------------------- the whole export
def read_export(source: str | Path, key: bytes | None = None, today: dt.date | None = None,
                reference: Reference | None = None, show_progress: bool = True) -> Export:
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
    """
    source = Path(source)
    today = today or dt.date.today()
    ref = reference or load_reference()
    problems, warnings = _Problems(), _Problems()
    found, unknown, sha, size = _source_files(source)
    for name in unknown:
        warnings.add(name, "", [0], "", [""], "Unbekannte Tabelle wird ignoriert.", "Unknown table is ignored.")
    for name in TABLE_ORDER:
        if TABLES[name].required and name not in found:
            problems.add(f"{name}.csv", name, [0], "", [""],
                         f"Pflichttabelle '{name}' fehlt (als Datei {name}.csv oder Tabellenblatt {name}).",
                         f"Required table '{name}' is missing (as file {name}.csv or sheet {name}).")

    raws: dict[str, _RawTable] = {}
    parsed: dict[str, dict[str, pd.Series]] = {}
    for name in progress([n for n in TABLE_ORDER if n in found], desc="Prüfen", disable=not show_progress):
        file, payload = found[name]
        if isinstance(payload, bytes):
            frame = _csv_frame(file, payload, problems, name)
        else:
            frame = _sheet_frame(file, payload, problems, name)
        if frame is None:
            continue
        raw = _RawTable(TABLES[name], file, frame)
        if not _normalise_columns(raw, problems, warnings):
            continue
        for column in _SECRET_COLUMNS & set(raw.frame.columns):
            problems.secrets |= set(raw.frame[column].unique()) - {""}
        raws[name] = raw
        parsed[name] = {c.name: _check_column(raw, c, problems, today) for c in raw.table.all_columns}

    tables = _check_relations(raws, parsed, problems, warnings, ref) if "faelle" in raws and "partner" in raws else {}
    warnings.secrets = problems.secrets
    if problems:
        raise ImportValidationError(problems.frame(), source.name)
    key = key if key is not None else load_key()
    faelle = tables["faelle"]
    faelle.insert(2, "person_pseudonym", pseudonymise(faelle.pop("person_id"), faelle["kommune"], key))
    return Export(source.name, sha, tables, warnings.frame(), size, key_fingerprint(key))


def _kommune_of(raw: _RawTable, values: pd.Series, problems: _Problems, ref: Reference) -> pd.Series:
    given = values.dropna().unique()
    resolved = {v: ref.resolve_kommune(v) for v in given}
    out = values.map(resolved)
    bad = values.notna() & out.isna()
    problems.add_masked(raw, bad, "kommune",
                        "Unbekannte Kommune; erwartet wird eine KIM-Kommune in NRW, z. B. Herne, Oberhausen, Düsseldorf.",
                        "Unknown municipality; expected a KIM municipality of NRW, e.g. Herne, Oberhausen, Düsseldorf.")
    return out


def _duplicates(raw: _RawTable, keys: pd.DataFrame, column: str, problems: _Problems) -> pd.Series:
    valid = keys.notna().all(axis=1)
    dup = keys.duplicated(keep=False) & valid
    if dup.any():
        rows = raw.frame[_ROW]
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


def _check_districts(raw: _RawTable, kommune: pd.Series, names: pd.Series, keys_for, problems: _Problems,
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


def _check_relations(raws, parsed, problems: _Problems, warnings: _Problems, ref: Reference) -> dict[str, pd.DataFrame]:
    """The rules that need more than one column or table; returns the normalised frames."""
    unchecked: set[str] = set()
    out: dict[str, pd.DataFrame] = {}

    # bezirke first: they define the districts of their kommune
    bezirke = None
    if "bezirke" in raws:
        raw, p = raws["bezirke"], parsed["bezirke"]
        p["kommune"] = _kommune_of(raw, p["kommune"], problems, ref)
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
    p["kommune"] = _kommune_of(raw, p["kommune"], problems, ref)
    _duplicates(raw, pd.DataFrame({"k": p["kommune"], "id": p["partner_id"]}), "partner_id", problems)
    p["stadtbezirk"] = _check_districts(raw, p["kommune"], p["stadtbezirk"], keys_for, problems, unchecked)
    partner = pd.DataFrame({c: p[c] for c in ["kommune", "partner_id", "name", "typ", "rechtskreis", "stadtbezirk"]})
    partner["case_management"] = p["case_management"] == "ja"
    partner = partner.loc[:, ["kommune", "partner_id", "name", "typ", "rechtskreis", "case_management", "stadtbezirk"]]
    pkeys = partner.dropna(subset=["kommune", "partner_id"]).drop_duplicates(["kommune", "partner_id"])
    out["partner"] = partner

    def partner_check(raw, kommune, ids, column, need_cm: bool, what_de: str, what_en: str):
        look = pd.DataFrame({"kommune": kommune, "partner_id": ids}).merge(
            pkeys[["kommune", "partner_id", "case_management"]], how="left", on=["kommune", "partner_id"], indicator=True)
        look.index = ids.index
        checkable = ids.notna() & kommune.notna()
        missing = checkable & (look["_merge"] == "left_only")
        problems.add_masked(raw, missing, column,
                            f"Kein Partner mit dieser partner_id in {what_de} (Tabelle partner).",
                            f"No partner with this partner_id in {what_en} (table partner).")
        if need_cm:
            not_cm = checkable & (look["_merge"] == "both") & ~look["case_management"].fillna(False).astype(bool)
            problems.add_masked(raw, not_cm, column,
                                "Der Partner ist kein Case-Management-Träger (partner.case_management = nein).",
                                "The partner is not a case-management provider (partner.case_management = nein).")

    # faelle
    raw, p = raws["faelle"], parsed["faelle"]
    p["kommune"] = _kommune_of(raw, p["kommune"], problems, ref)
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
    faelle = pd.DataFrame({c: p[c] for c in [
        "kommune", "fall_id", "person_id", "stadtbezirk", "traeger", "beginn", "ende", "abschlussgrund",
        "zielgruppe", "handlungsfelder", "aufenthaltsstatus", "zugang_ueber", "geschlecht", "geburtsjahr",
        "haushalt_personen"]})
    out["faelle"] = faelle
    hf = faelle[["kommune", "fall_id", "handlungsfelder"]].dropna()
    hf = hf.assign(handlungsfeld=hf["handlungsfelder"].str.split("|")).explode("handlungsfeld")
    out["fall_handlungsfelder"] = hf[["kommune", "fall_id", "handlungsfeld"]].reset_index(drop=True)

    cases = faelle.loc[faelle["kommune"].notna() & faelle["fall_id"].notna(), ["kommune", "fall_id", "beginn", "ende"]]
    cases = cases.drop_duplicates(["kommune", "fall_id"])
    per_id = cases.groupby("fall_id")["kommune"].agg(["nunique", "first"])

    def resolve_case(raw, p, id_col="fall_id"):
        """Give each row of a dependent table its kommune and its case's dates."""
        given = _kommune_of(raw, p["kommune"], problems, ref) if (raw.frame["kommune"] != "").any() \
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
        given = _kommune_of(raw, p["kommune"], problems, ref)
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
        partner_check(raw, kommune.where(~ambiguous), p["traeger"].where(~ambiguous), "traeger", True,
                      "der Kommune", "the kommune")
        p["stadtbezirk"] = _check_districts(raw, kommune, p["stadtbezirk"], keys_for, problems, unchecked)
        early = (p["bis"] < p["von"]).fillna(False)
        problems.add_masked(raw, early, "bis", "Bis liegt vor Von (" + _fmt_dates(p["von"]) + ").",
                            "Until lies before from (" + _fmt_dates(p["von"]) + ").")
        out["stellen"] = pd.DataFrame({"kommune": kommune, **{c: p[c] for c in ["traeger", "stadtbezirk", "vzae", "von", "bis"]}})
    else:
        out["stellen"] = pd.DataFrame(columns=["kommune", "traeger", "stadtbezirk", "vzae", "von", "bis"])

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
