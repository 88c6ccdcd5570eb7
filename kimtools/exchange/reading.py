"""A comparison bundle read and checked (``shared/comparison-bundle-format.md``, version 1; ``kimtools compare``):
format and version, every member streamed with a size cap and hashed on the way, the SHA-256 of every file, every
field against what it may hold, and the disclosure audit on its published counts. A bundle comes from elsewhere and
its checksums are inside it, so none of these checks trusts another (docs/vergleichspaket.md, "Reading a bundle").
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..contract.codes import CODE_LISTS
from ..contract.reference import load_reference
from ..errors import BundleError
from ..i18n import fmt_number
from ..indicators.disclosure import DEFAULT_MINIMUM, audit
from ..periods import YEAR_OR_QUARTER
from .content import (
    BUNDLE_KENNZAHLEN,
    BUNDLE_RATES,
    CODE_LIST_OF,
    COUNT_COLUMNS,
    FORMAT,
    GESAMT,
    KEINS,
    RATE_COLUMNS,
    REFERENCE_COLUMNS,
    RENAMED,
    VERSION,
    Cells,
    event_kennzahlen,
)

__all__ = ["FILES", "MAX_MEMBER", "Bundle", "read_bundle", "field_problems", "audit_problems"]


FILES = {"zaehlungen.csv": COUNT_COLUMNS, "kennzahlen.csv": RATE_COLUMNS, "bezirke.csv": REFERENCE_COLUMNS}
_READ = {*FILES, "metadaten.json"}


@dataclass
class Bundle:
    """One bundle as read and checked: its metadata and its three tables."""

    source: str
    metadaten: dict
    zaehlungen: pd.DataFrame
    kennzahlen: pd.DataFrame
    bezirke: pd.DataFrame

    @property
    def kommune(self) -> str:
        return self.metadaten["kommune"]


#: the largest file a bundle may hold: the count table of the largest demo city (Dortmund, 12 districts, 11 quarters
#: and 2 years) is 0.3 MB, so 16 MB leaves room for a Kreis of many Gemeinden over many years; a member declared or
#: found larger is refused before (or while) it is read, so a "zip bomb" cannot fill the memory
MAX_MEMBER = 16 * 1024 * 1024
#: the files a bundle may hold besides its tables: the contract's human-friendly XLSX copy (checked, not read)
_COPY = re.compile(r"^[\w\-.]{1,120}\.xlsx$")
_CHUNK = 1 << 20


def _member_name(name: str) -> str | None:
    """The file name of a ZIP member ``name`` as a bundle may hold it (flat, or under one top folder), or ``None``
    for a path (absolute, ``..``, backslashes, deeper folders)."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ":" in parts[0] or len(parts) > 2 or any(p in ("", ".", "..") for p in parts):
        return None
    return parts[-1]


def _stream(fh, size_hint: int, where: str, problems: list[str], keep: bool) -> tuple[bytes, str] | None:
    """Read ``fh`` in chunks up to :data:`MAX_MEMBER`, hashing as it goes: (content, SHA-256) — content empty unless
    ``keep`` — or ``None`` (and a problem) once it is larger."""
    if size_hint > MAX_MEMBER:
        problems.append(f"{where}: {fmt_number(size_hint, lang='de')} Bytes angegeben, ein Paket hält höchstens "
                        f"{fmt_number(MAX_MEMBER, lang='de')} Bytes je Datei; nicht gelesen")
        return None
    digest, parts, total = hashlib.sha256(), [], 0
    while chunk := fh.read(_CHUNK):
        total += len(chunk)
        if total > MAX_MEMBER:
            problems.append(f"{where}: größer als {fmt_number(MAX_MEMBER, lang='de')} Bytes (mehr als angegeben); "
                            "nicht weiter gelesen")
            return None
        digest.update(chunk)
        if keep:
            parts.append(chunk)
    return b"".join(parts), digest.hexdigest()


def _open_files(path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """The files of a bundle folder or ``.zip`` (flat or with one top folder) by file name, and the SHA-256 of each
    (computed while streaming). Refused, listing every problem: a member with a path, an unexpected name, one top
    folder and another, a member larger than :data:`MAX_MEMBER` (before it is read whole)."""
    problems: list[str] = []
    files: dict[str, bytes] = {}
    sums: dict[str, str] = {}

    def take(name: str, where: str, size: int, opener) -> None:
        if name not in _READ and not _COPY.match(name):
            problems.append(f"{where}: unerwartete Datei (ein Paket hält {', '.join(sorted(_READ))} und "
                            "XLSX-Kopien davon)")
            return
        if name in sums:
            problems.append(f"{where}: {name} steht zweimal im Paket")
            return
        with opener() as fh:
            got = _stream(fh, size, where, problems, keep=name in _READ)
        if got is not None:
            files[name], sums[name] = got

    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.is_symlink() or not p.is_file():
                problems.append(f"{p.name}: {'Verknüpfung' if p.is_symlink() else 'Ordner'} im Paketordner; nicht gelesen")
                continue
            take(p.name, p.name, p.stat().st_size, lambda p=p: p.open("rb"))
    else:
        try:
            with zipfile.ZipFile(path) as z:
                tops = set()
                for info in z.infolist():
                    if info.is_dir():
                        continue
                    name = _member_name(info.filename)
                    if name is None:
                        problems.append(f"{info.filename!r}: ein Pfad statt eines Dateinamens; nicht gelesen")
                        continue
                    tops.add(info.filename.rsplit("/", 1)[0] if "/" in info.filename else "")
                    take(name, info.filename, info.file_size, lambda info=info: z.open(info))
                if len(tops) > 1:
                    problems.append(f"mehrere Ordner im Paket ({', '.join(sorted(repr(t) for t in tops))}); erwartet: "
                                    "alle Dateien in einem Ordner oder ohne Ordner")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as e:
            raise BundleError(f"{path} ist weder ein Paketordner noch eine lesbare ZIP-Datei ({e}).",
                              f"{path} is neither a bundle folder nor a readable ZIP file ({e}).") from None
    if problems:
        _refuse(path, problems)
    return files, sums


def audit_problems(counts: pd.DataFrame, meta: dict) -> list[str]:
    """What the audit finds in a bundle's counts, as German text (empty when safe)."""
    schutz, summen = meta.get("schutz", {}), meta.get("summen", {})
    minimum = int(schutz.get("mindestanzahl", DEFAULT_MINIMUM))
    per_merkmal = {k: int(v) for k, v in (schutz.get("mindestanzahl_je_merkmal") or {}).items()}
    problems = []
    small = counts["anzahl"].notna() & (counts["anzahl"] > 0) & (
        counts["anzahl"] < counts["merkmal"].map(per_merkmal).fillna(minimum))
    for r in counts.loc[small].head(10).itertuples():
        problems.append(f"Zeile {r.Index + 2}: veröffentlichte kleine Zahl {r.anzahl} "
                        f"({r.kennzahl}/{r.stadtbezirk}/{r.zeitraum}/{r.merkmal}={r.auspraegung})")
    c = Cells(counts, minimum, per_merkmal, summen.get("einwertige_merkmale", CODE_LIST_OF),
               summen.get("quartale_ergeben_jahr", event_kennzahlen()))
    status = counts.groupby(c.ids.to_numpy())["anzahl"].agg(lambda s: s.isna().nunique() > 1)
    if status.any():
        problems.append(f"{int(status.sum())} Zellen stehen doppelt, einmal geschützt und einmal veröffentlicht")
    protected = c.values.isna().to_numpy()
    v = c.values.fillna(0).to_numpy(dtype=float)
    for s in c.sums:
        if not protected[list(s.cells)].any() and v[s.total] != v[list(s.parts)].sum():
            problems.append(f"Summe geht nicht auf: {c.names[s.total]} = {v[s.total]:g}, Teile ergeben "
                            f"{v[list(s.parts)].sum():g}")
            break
    result = audit(v, protected, c.sums, c.minimums)
    bad = result.loc[result["offengelegt"]]
    for r in bad.head(5).itertuples():
        problems.append(f"geschützte Zelle {c.names[r.zelle]}: " + (
            "die veröffentlichten Zahlen widersprechen den Summen" if pd.isna(r.unten)
            else f"lässt sich auf {r.unten:g} bis {r.oben:g} eingrenzen"))
    if len(bad) > 5:
        problems.append(f"und {len(bad) - 5} weitere geschützte Zellen")
    return problems


def _read_csv(data: bytes, name: str, columns: list[str], problems: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        problems.append(f"{name}: nicht lesbar als UTF-8-CSV ({e})")
        return pd.DataFrame(columns=columns)
    if list(frame.columns) != columns:
        problems.append(f"{name}: Spalten {', '.join(frame.columns)}; erwartet {', '.join(columns)}")
        return pd.DataFrame(columns=columns)
    return frame


def _numbers(frame: pd.DataFrame, columns: Sequence[str], name: str, problems: list[str], integer: bool = False) -> None:
    for col in columns:
        raw = frame[col]
        values = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        bad = raw.ne("") & (values.isna() | (values < 0) | ((values % 1 != 0) if integer else False))
        for i in np.flatnonzero(bad.to_numpy())[:5]:
            problems.append(f"{name}, Zeile {i + 2}, Spalte {col}: {raw.iloc[i]!r} ist keine "
                            + ("ganze Zahl ≥ 0" if integer else "Zahl ≥ 0"))
        frame[col] = values.astype("Int64") if integer and not bad.any() else values


#: a name of a kommune or district that no spreadsheet takes for a formula and no file system for a path: a letter or
#: digit first, then letters, digits, blanks and . , ( ) - / (as in "Mülheim an der Ruhr", "Hilden (Stadt)"), at most 80
_NAME = re.compile(r"^[^\W_][\w .,()/\-]{0,79}$")


#: a source text of reference figures: no formula start, no control character, at most 300 characters
_TEXT = re.compile(r"^(?![=+\-@])[^\x00-\x1f\x7f]{0,300}$")


_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})?$")


#: the form of a code (``ohne_angabe`` and codes a later contract adds are not in this one's lists)
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


_REFERENCE_KINDS = {"einwohner", "auslaender", "vzae"}


def field_problems(meta: dict, counts: pd.DataFrame, rates: pd.DataFrame, reference: pd.DataFrame) -> list[str]:
    """Every field of a bundle checked against what it may hold, not only its checksum (a bundle's checksums are
    in the bundle, so whoever altered it could recompute them): names of kommune and districts against the reference
    data or :data:`_NAME`, codes against the contract, periods, dates and source texts by their form. German, at most
    five per column."""
    problems: list[str] = []
    kommune = meta.get("kommune")
    ref = load_reference()
    if not isinstance(kommune, str) or not (ref.resolve_kommune(kommune) == kommune or _NAME.match(kommune)):
        problems.append(f"metadaten.json, kommune: {kommune!r} ist kein Name einer Kommune")
    ags = meta.get("ags", "")
    if not isinstance(ags, str) or not re.fullmatch(r"\d{0,12}", ags):
        problems.append(f"metadaten.json, ags: {ags!r} ist kein Gemeindeschlüssel (nur Ziffern)")
    periods = meta.get("zeitraeume")
    if not isinstance(periods, dict) or not all(isinstance(periods.get(k), str) and YEAR_OR_QUARTER.match(periods[k])
                                                for k in ("von", "bis")):
        problems.append(f"metadaten.json, zeitraeume: {periods!r} nennt nicht von und bis als JJJJ oder JJJJ-Qn")
    schutz = meta.get("schutz")
    if not isinstance(schutz, dict) or not isinstance(schutz.get("mindestanzahl"), int) or schutz["mindestanzahl"] < 2:
        problems.append("metadaten.json, schutz.mindestanzahl: fehlt oder ist keine ganze Zahl ≥ 2")
    elif not all(isinstance(v, int) and v >= schutz["mindestanzahl"]
                 for v in (schutz.get("mindestanzahl_je_merkmal") or {}).values()):
        problems.append("metadaten.json, schutz.mindestanzahl_je_merkmal: nur ganze Zahlen ≥ mindestanzahl")
    districts = set(ref.district_keys(kommune).values()) if isinstance(kommune, str) and ref.district_keys(kommune) else set()

    def check(frame: pd.DataFrame, file: str, column: str, ok, expected: str) -> None:
        values = frame[column]
        good = {v: bool(ok(v)) for v in values.unique()}
        bad = values.map(good).eq(False).to_numpy()
        for i in np.flatnonzero(bad)[:5]:
            problems.append(f"{file}, Zeile {i + 2}, Spalte {column}: {values.iloc[i]!r} ist {expected}")

    place = lambda v: v == GESAMT or v in districts or bool(_NAME.match(v))  # noqa: E731
    merkmale = {k: set(v["merkmale"]) for k, v in BUNDLE_KENNZAHLEN.items()}
    codes_of = {m: set(CODE_LISTS[lst]) for m, lst in CODE_LIST_OF.items()}
    for frame, file in ((counts, "zaehlungen.csv"), (rates, "kennzahlen.csv"), (reference, "bezirke.csv")):
        check(frame, file, "stadtbezirk", place, "kein Bezirksname (Buchstaben zuerst, keine Formel, kein Pfad)")
    check(counts, "zaehlungen.csv", "kennzahl", lambda v: v in BUNDLE_KENNZAHLEN, "keine Kennzahl des Pakets")
    pairs = counts["kennzahl"] + "\x1f" + counts["merkmal"] + "\x1f" + counts["auspraegung"]

    def known_cell(v: str) -> bool:
        kennzahl, merkmal, code = v.split("\x1f")
        if merkmal == KEINS:
            return code == GESAMT
        return merkmal in merkmale.get(kennzahl, ()) and (code == GESAMT or code in codes_of.get(merkmal, ())
                                                           or bool(_CODE.match(code)))   # ohne_angabe, a code of later
    check(counts.assign(zelle=pairs), "zaehlungen.csv", "zelle", known_cell,
          "keine Aufschlüsselung des Pakets (kennzahl/merkmal/auspraegung)")
    own = meta.get("eigene_kennzahlen") if isinstance(meta.get("eigene_kennzahlen"), dict) else {}
    for code in own:
        if not (isinstance(code, str) and _CODE.match(code)) or code in BUNDLE_RATES:
            problems.append(f"metadaten.json, eigene_kennzahlen: {code!r} ist kein Name einer eigenen Kennzahl")
    check(rates, "kennzahlen.csv", "kennzahl", lambda v: v in BUNDLE_RATES or v in own,
          "keine Kennzahl des Pakets (auch keine eigene aus metadaten.json)")
    check(rates, "kennzahlen.csv", "zeitraum", lambda v: bool(YEAR_OR_QUARTER.match(v)), "weder JJJJ noch JJJJ-Qn")
    check(reference, "bezirke.csv", "bezugsgroesse", lambda v: v in _REFERENCE_KINDS,
          f"keine Bezugsgröße ({', '.join(sorted(_REFERENCE_KINDS))})")
    check(reference, "bezirke.csv", "zeitraum", lambda v: v == "" or bool(YEAR_OR_QUARTER.match(v)),
          "weder leer noch JJJJ oder JJJJ-Qn")
    check(reference, "bezirke.csv", "stand", lambda v: bool(_DATE.match(v)), "kein Datum JJJJ-MM-TT")
    check(reference, "bezirke.csv", "quelle", lambda v: bool(_TEXT.match(v)),
          "keine Quellenangabe (beginnt mit = + - @, enthält Steuerzeichen oder ist länger als 300 Zeichen)")
    for frame, file in ((rates, "kennzahlen.csv"), (reference, "bezirke.csv")):
        if (frame["kommune"] != kommune).any():
            problems.append(f"{file} nennt eine andere Kommune als metadaten.json ({kommune})")
    return problems


def read_bundle(path: str | Path) -> Bundle:
    """Read and check one bundle (folder or ``.zip``): format and version, the SHA-256 of every file,
    the columns and values of every table, and the disclosure audit on its published counts.
    Raises :class:`~kimtools.errors.BundleError` listing every problem found."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path} gibt es nicht.", f"{path} does not exist.")
    files, sums = _open_files(path)
    problems: list[str] = []
    try:
        meta = json.loads(files["metadaten.json"].decode("utf-8"))
    except KeyError:
        raise BundleError(f"{path}: metadaten.json fehlt; das ist kein Vergleichspaket.",
                          f"{path}: metadaten.json is missing; this is not a comparison bundle.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: metadaten.json ist kein gültiges JSON ({e}).",
                          f"{path}: metadaten.json is not valid JSON ({e}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        meta = meta if isinstance(meta, dict) else {}
        raise BundleError(f"{path}: Format {meta.get('format')!r} Version {meta.get('version')!r}; erwartet "
                          f"{FORMAT!r} Version {VERSION}.",
                          f"{path}: format {meta.get('format')!r} version {meta.get('version')!r}; expected "
                          f"{FORMAT!r} version {VERSION}.")
    listed = meta.get("dateien") if isinstance(meta.get("dateien"), dict) else {}
    for name in FILES:
        if name not in files:
            problems.append(f"{name} fehlt")
        elif name not in listed:
            problems.append(f"{name} hat keine Prüfsumme in metadaten.json")
        elif sums[name] != listed[name]:
            problems.append(f"{name}: SHA-256 stimmt nicht mit metadaten.json überein (Datei verändert oder beschädigt)")
    for name in sorted(set(sums) - set(FILES) - {"metadaten.json"}):
        if sums[name] != listed.get(name):
            problems.append(f"{name}: keine oder eine andere SHA-256 in metadaten.json")
    if problems:
        _refuse(path, problems)
    counts = _read_csv(files["zaehlungen.csv"], "zaehlungen.csv", COUNT_COLUMNS, problems)
    counts["kennzahl"] = counts["kennzahl"].replace(RENAMED)   # a bundle of an earlier kimtools: the same meaning
    rates = _read_csv(files["kennzahlen.csv"], "kennzahlen.csv", RATE_COLUMNS, problems)
    reference = _read_csv(files["bezirke.csv"], "bezirke.csv", REFERENCE_COLUMNS, problems)
    _numbers(counts, ["anzahl"], "zaehlungen.csv", problems, integer=True)
    _numbers(rates, ["zaehler", "nenner", "wert", "unten", "oben"], "rates", problems)
    _numbers(reference, ["wert"], "bezirke.csv", problems)
    bad_period = ~counts["zeitraum"].str.match(YEAR_OR_QUARTER)
    for i in np.flatnonzero(bad_period.to_numpy())[:5]:
        problems.append(f"zaehlungen.csv, Zeile {i + 2}, Spalte zeitraum: {counts['zeitraum'].iloc[i]!r} ist weder JJJJ noch JJJJ-Qn")
    flag = counts["geschuetzt"]
    inconsistent = ~(((flag == "ja") & counts["anzahl"].isna()) | ((flag == "") & counts["anzahl"].notna()))
    for i in np.flatnonzero(inconsistent.to_numpy())[:5]:
        problems.append(f"zaehlungen.csv, Zeile {i + 2}: geschuetzt={flag.iloc[i]!r} passt nicht zu anzahl")
    if (counts["kommune"] != meta.get("kommune")).any():
        problems.append(f"zaehlungen.csv nennt eine andere Kommune als metadaten.json ({meta.get('kommune')})")
    problems += field_problems(meta, counts, rates, reference)
    if not problems:
        problems += audit_problems(counts, meta)
    if problems:
        _refuse(path, problems)
    return Bundle(str(path), meta, counts, rates, reference)


def _refuse(path: Path, problems: list[str]) -> None:
    text = "\n  - ".join(problems[:20])
    more = f"\n  - … und {len(problems) - 20} weitere" if len(problems) > 20 else ""
    raise BundleError(f"Das Vergleichspaket {path} wird nicht verwendet:\n  - {text}{more}",
                      f"The comparison bundle {path} is not used (details in German):\n  - {text}{more}")
