"""The export's files as raw tables: folders of CSV files (UTF-8, Windows-1252, UTF-16/32 with a byte-order mark;
``;``, ``,`` or tab) or one XLSX workbook, every cell a stripped string, rows numbered as a person sees them.
Whatever cannot be read (a binary file, mixed encodings, an over-long field, a file cut off) is a problem, not a
guess.

Longer than 500 lines on purpose: every form a delivery arrives in (encodings, delimiters, workbooks, title rows
above the header, decomposed umlauts) is handled here, so that the reader above sees one kind of raw table."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
import warnings as pywarnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.schema import TABLES
from ..errors import InputError, KimtoolsError, from_os_error
from ..spreadsheet import write_csv
from .names import closest, name_key
from .problems import HIDDEN, ROW, SECRET_COLUMNS, Problems, RawTable

__all__ = ["MAX_FIELD_LEN", "source_parts", "source_files", "table_frame", "csv_frame", "sheet_frame", "head_rows",
           "header_row", "normalise_columns"]

def source_parts(source: Path) -> tuple[list[tuple[str, str, object]], str, int]:
    """Every table a source holds, whatever its name: ``(name, display name, loader payload)`` for each CSV file of a
    folder (name: the file's stem), each sheet of an XLSX workbook (name: the sheet's title) or a single CSV file;
    also the SHA-256 and the size in bytes."""
    try:
        return _read_parts(source)
    except OSError as exc:
        raise from_os_error(exc, source, "die Quelle lesen", "read the source") from None


def _read_parts(source: Path) -> tuple[list[tuple[str, str, object]], str, int]:
    if not source.exists():
        raise InputError(f"Quelle {source} gibt es nicht. Erwartet: ein Ordner mit CSV-Dateien oder eine .xlsx-Arbeitsmappe.",
                         f"Source {source} does not exist. Expected a folder of CSV files or an .xlsx workbook.")
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not files:
            raise InputError(f"Im Ordner {source} liegt keine CSV-Datei.", f"The folder {source} holds no CSV file.")
        digest = hashlib.sha256()
        parts, size = [], 0
        for p in files:
            data = p.read_bytes()
            size += len(data)
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(data).digest())
            parts.append((p.stem.strip(), p.name, data))
        return parts, digest.hexdigest(), size
    if source.suffix.lower() == ".csv":
        data = source.read_bytes()
        return [(source.stem.strip(), source.name, data)], hashlib.sha256(data).hexdigest(), len(data)
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
        parts = [(ws.title.strip(), f"{source.name} [{ws.title}]", ws) for ws in wb.worksheets]
        return parts, hashlib.sha256(data).hexdigest(), len(data)
    raise InputError(f"{source.name}: erwartet wird ein Ordner mit CSV-Dateien oder eine .xlsx-Datei.",
                     f"{source.name}: expected a folder of CSV files or an .xlsx file.")


def source_files(source: Path) -> tuple[dict[str, tuple[str, object]], list[str], str, int]:
    """Map table name → (display file name, loader payload) for a source in the contract's form (a folder of CSV files
    named as the tables, or a workbook with sheets so named); also unknown names, the SHA-256 and the size in bytes."""
    if source.is_file() and source.suffix.lower() == ".csv":
        raise InputError(f"{source.name}: erwartet wird ein Ordner mit CSV-Dateien oder eine .xlsx-Datei. Eine einzelne "
                         "Datei in anderem Aufbau lässt sich mit einem Importprofil lesen (profil).",
                         f"{source.name}: expected a folder of CSV files or an .xlsx file. A single file of another "
                         "layout can be read with an import profile (profil).")
    parts, sha, size = source_parts(source)
    found: dict[str, tuple[str, object]] = {}
    unknown: list[str] = []
    dupes: list[str] = []
    for name, display, payload in parts:
        key = name.lower()
        if key in TABLES:
            if key in found:
                dupes.append(display)
            found[key] = (display, payload)
        else:
            unknown.append(display)
    if dupes:
        raise InputError(f"Tabelle doppelt in der Quelle: {', '.join(dupes)}. Bitte nur eine Datei oder ein Blatt je "
                         "Tabelle.", f"Table given twice in the source: {', '.join(dupes)}. Keep one file or sheet per "
                         "table.")
    return found, unknown, sha, size


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


def _decode(file: str, data: bytes, problems: "Problems", table: str) -> str | None:
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


#: the combining marks (U+0300–U+036F) of decomposed letters
_COMBINING = re.compile("[\u0300-\u036f]")


def _text_or_refuse(file: str, text: str, problems: "Problems", table: str) -> str | None:
    """``text``, unless control characters show that the file is not text at all (one in a thousand is enough)."""
    controls = len(_CONTROL.findall(text))
    if controls and controls * 1000 >= len(text):
        first = _CONTROL.search(text).start()
        problems.add(file, table, [text.count("\n", 0, first) + 1], "", [""],
                     f"Die Datei enthält {controls} Steuerzeichen: sie ist keine Textdatei im CSV-Format.",
                     f"The file holds {controls} control characters: it is not a text file in CSV format.")
        return None
    return _composed(text)


def _composed(text: str) -> str:
    """``text`` with umlauts composed (NFC): macOS and some exports write "ü" as "u" and a combining mark, which
    looks the same and would be another name, ID or code. Only text holding a combining mark is normalised."""
    return unicodedata.normalize("NFC", text) if _COMBINING.search(text) else text


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
        if name in SECRET_COLUMNS:
            hidden.update(range(min(i, i + shift), max(i, i + shift) + 1))
    return sep.join(HIDDEN if i in hidden else v for i, v in enumerate(record))


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


def csv_frame(file: str, data: bytes, problems: Problems, table: str) -> pd.DataFrame | None:
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
        frame.insert(0, ROW, np.arange(2, len(frame) + 2))
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
    frame.insert(0, ROW, np.asarray(rows, dtype="int64"))
    return _refuse_long_fields(file, frame, problems, table)


def _refuse_long_fields(file: str, frame: pd.DataFrame, problems: Problems, table: str) -> pd.DataFrame:
    """Report fields longer than :data:`MAX_FIELD_LEN` (their length, never their text) and drop their rows."""
    long_rows = pd.Series(False, index=frame.index)
    for i, col in enumerate(frame.columns[1:], start=1):   # by position: a duplicate header is reported later
        lengths = frame.iloc[:, i].astype(str).str.len()
        hit = lengths > MAX_FIELD_LEN
        if hit.any():
            long_rows |= hit
            problems.add(file, table, frame.loc[hit, ROW], str(col).strip().lower(),
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
    return _composed(str(value))


def sheet_frame(file: str, ws, problems: Problems, table: str, header_row: int | None = None) -> pd.DataFrame | None:
    """A worksheet's frame, or ``None`` with a problem where the workbook's parts cannot be read. The header is the
    first row with content, or row ``header_row``."""
    try:
        frame = _xlsx_frame(ws, header_row)
    except Exception:  # noqa: BLE001 - a damaged workbook fails in zipfile, XML or openpyxl in many ways
        problems.add(file, table, [0], "", [""],
                     "Das Tabellenblatt lässt sich nicht lesen: die Arbeitsmappe ist beschädigt oder unvollständig "
                     "kopiert. Bitte in Excel öffnen und neu speichern.",
                     "The sheet cannot be read: the workbook is damaged or incompletely copied. Please open it in "
                     "Excel and save it again.")
        return None
    return _refuse_long_fields(file, frame, problems, table)


def _xlsx_frame(ws, header_row: int | None = None) -> pd.DataFrame:
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(ws.iter_rows(min_row=header_row or 1, values_only=True), start=header_row or 1):
        cells = [_cell_text(v) for v in values]
        if header is None:
            if header_row or any(c.strip() for c in cells):
                header = cells
            continue
        rows.append(cells)
        numbers.append(number)
    if header is None:
        return pd.DataFrame({ROW: pd.Series(dtype="int64")})
    width = len(header)
    rows = [(r + [""] * width)[:width] for r in rows]
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame.insert(0, ROW, np.asarray(numbers, dtype="int64"))
    return frame


def table_frame(file: str, payload: object, problems: Problems, table: str, header_row: int = 1) -> pd.DataFrame | None:
    """A CSV file's (bytes) or worksheet's frame whose header is row ``header_row``; rows keep their numbers in the
    file. The rows above the header (a title, a date) are skipped; a CSV file's lines are counted as lines."""
    if not isinstance(payload, bytes):
        return sheet_frame(file, payload, problems, table, header_row)
    if header_row <= 1:
        return csv_frame(file, payload, problems, table)
    text = _decode(file, payload, problems, table)
    if text is None:
        return None
    rest = "".join(text.splitlines(keepends=True)[header_row - 1:])
    found = Problems()
    frame = csv_frame(file, rest.encode("utf-8"), found, table)
    problems.extend(found, row_offset=header_row - 1)
    if frame is not None:
        frame[ROW] += header_row - 1
    return frame


def head_rows(file: str, payload: object, n: int = 15) -> list[list[str]]:
    """The first ``n`` rows of a CSV file (bytes) or worksheet as text cells (an unreadable file: no rows)."""
    if isinstance(payload, bytes):
        text = _decode(file, payload, Problems(), "")
        if not text:
            return []
        lines = text.splitlines()[:n]
        sep = max((";", ",", "\t"), key=lambda d: sum(line.count(d) for line in lines))
        return [next(csv.reader([line], delimiter=sep), []) for line in lines]
    try:
        return [[_cell_text(v) for v in row] for row in payload.iter_rows(max_row=n, values_only=True)]
    except Exception:  # noqa: BLE001 - a damaged workbook: the reader reports it
        return []


def header_row(rows: list[list[str]]) -> int:
    """The row (from 1) most likely to be the header among a file's first rows: the first with the most filled cells
    (a title above it fills one or two)."""
    counts = [sum(bool(str(c).strip()) for c in row) for row in rows]
    return counts.index(max(counts)) + 1 if counts and max(counts) > 0 else 1


def _header_further_down(frame: pd.DataFrame, table) -> tuple[int, str] | None:
    """When the first row is not the header but a row a little further down is (a title above it, as Excel lists
    have): that row's number and the first row's text."""
    wanted = {name_key(c.name) for c in table.columns if c.required}
    if len({name_key(c) for c in frame.columns[1:]} & wanted) * 2 >= len(wanted):
        return None
    for _, row in frame.head(10).iterrows():
        if len({name_key(v) for v in row.iloc[1:]} & wanted) * 2 > len(wanted):
            title = " ".join(str(c) for c in frame.columns[1:] if str(c).strip() and not str(c).startswith("Unnamed"))
            return int(row[ROW]), title[:80]
    return None


def _missing_column_text(name: str, others: list[str], columns: list[str]) -> tuple[str, str]:
    """Why a required column is missing, naming what the header holds instead and the closest match."""
    meant = [o for o in others if closest(o, columns) == name]
    if meant:
        return (f"Pflichtspalte fehlt in der Kopfzeile; gefunden: '{meant[0]}' – gemeint ist wohl '{name}'? Dann die "
                "Spalte so umbenennen.",
                f"Required column is missing from the header; found: '{meant[0]}' – probably '{name}' is meant? Then "
                "rename the column.")
    listed = ", ".join(f"'{o}'" for o in others[:12]) + (" …" if len(others) > 12 else "")
    return ((f"Pflichtspalte fehlt in der Kopfzeile (dort stehen außerdem: {listed})." if others else
             "Pflichtspalte fehlt in der Kopfzeile."),
            (f"Required column is missing from the header (it also holds: {listed})." if others else
             "Required column is missing from the header."))


def normalise_columns(raw: RawTable, problems: Problems, warnings: Problems) -> bool:
    """Trim and lower the header, drop wholly empty rows; report missing/duplicate/unknown columns."""
    frame = raw.frame
    original = [str(c).strip() for c in frame.columns[1:]]
    names = [ROW] + [c.lower() for c in original]
    further = _header_further_down(frame, raw.table)
    if further is not None:
        row, title = further
        problems.add(raw.file, raw.table.name, [1], "", [title],
                     f"Über der Kopfzeile steht eine Titelzeile: die Spaltennamen stehen erst in Zeile {row}. Die Zeilen "
                     "darüber löschen – die Kopfzeile muss die erste Zeile sein.",
                     f"A title row stands above the header: the column names follow only in row {row}. Delete the rows "
                     "above it – the header must be the first row.")
        return False
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
    cells = frame.drop(columns=ROW)
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
    others = [c for c in original if c and c.lower() not in known and not c.lower().startswith("unnamed:")]
    for column in raw.table.columns:
        if column.required and column.name not in frame.columns:
            de, en = _missing_column_text(column.name, others, [c.name for c in raw.table.all_columns])
            problems.add(raw.file, raw.table.name, [1], column.name, [""], de, en)
            ok = False
    for column in raw.table.all_columns:
        if column.name not in frame.columns:
            frame[column.name] = ""
    raw.frame = frame.reset_index(drop=True)
    return ok


def export_form(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as TT.MM.JJJJ, empty where missing: the way a German office writes CSV."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s) or (s.dtype == object and len(s) and isinstance(s.dropna().iloc[0] if s.notna().any() else None, dt.date)):
            out[col] = pd.to_datetime(s).dt.strftime("%d.%m.%Y").fillna("")
    return out


def write_export_csv(frame: pd.DataFrame, path: Path) -> None:
    """One table of an export as a German office writes it: ``;``-separated UTF-8 with BOM, dates as TT.MM.JJJJ."""
    write_csv(export_form(frame), path, sep=";", index=False, encoding="utf-8-sig")
