"""The comparison bundle as files (``shared/comparison-bundle-format.md``, version 1): write one per city (a
folder and a ZIP with checksums), read and check one, merge many. What it holds: :mod:`kimtools.exchange.content`.

Examples
--------
>>> parse_period("2024-Q2")
(Timestamp('2024-04-01 00:00:00'), Timestamp('2024-06-30 00:00:00'))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from ..contract.codes import CODE_LISTS
from ..contract.reference import load_reference
from ..errors import BundleError, DisclosureError, InputError, KimtoolsError, UsageError
from ..i18n import fmt_date, fmt_number, fmt_percent, tr
from ..paths import DATA
from ..periods import YEAR_OR_QUARTER, parse_period
from ..progress import progress
from ..spreadsheet import write_csv
from ..store import SPAN_TABLE, Store
from ..store.kept import kept, kommune_state
from .content import (
    BUNDLE_KENNZAHLEN,
    BUNDLE_RATES,
    CODE_LIST_OF,
    GESAMT,
    KEINS,
    COUNT_COLUMNS,
    FORMAT,
    MAX_SHARE_PROTECTED,
    RATE_COLUMNS,
    REFERENCE_COLUMNS,
    VERSION,
    Cells,
    bundle_counts,
    bundle_name,
    bundle_periods,
    bundle_rates,
    bundle_reference,
    bundle_sums,
    default_range,
    event_kennzahlen,
    protect_counts,
)
from .disclosure import DEFAULT_MINIMUM, audit

__all__ = ["BUNDLE_KENNZAHLEN", "BUNDLE_RATES", "COUNT_COLUMNS", "RATE_COLUMNS", "REFERENCE_COLUMNS",
           "Bundle", "checked_request", "parse_period", "bundle_name", "bundle_counts", "bundle_sums", "protect_counts",
           "bundle_rates", "bundle_reference", "build_bundle", "export_bundle", "export_bundles", "read_bundle",
           "merge_bundles", "write_merged", "read_merged", "field_problems", "MAX_MEMBER", "default_comparison_dir", "own_comparison", "comparison_data", "OWN_SOURCE"]

_FILES = {"zaehlungen.csv": COUNT_COLUMNS, "kennzahlen.csv": RATE_COLUMNS, "bezirke.csv": REFERENCE_COLUMNS}
_READ = {*_FILES, "metadaten.json"}


# ----------------------------------------------------------------------------- writing
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_csv(frame, path, index=False, encoding="utf-8", float_format="%.6g", lineterminator="\n")


@dataclass
class ExportResult:
    folder: Path
    zip: Path
    zellen: int
    geschuetzt: int

    @property
    def anteil_geschuetzt(self) -> float:
        return self.geschuetzt / self.zellen if self.zellen else 0.0


def checked_request(store: Store, kommune: str | None, first: str | None = None, last: str | None = None,
                    minimum: int = DEFAULT_MINIMUM) -> tuple[str | None, str | None]:
    """Refuse, before anything is written, a bundle request that cannot be answered: a minimum below 2, a first
    period after the last (:class:`UsageError`), a kommune the store does not hold, or (for ``kommune``) a range
    outside its data (:class:`InputError`). Returns the range, for ``kommune`` with the defaults filled in."""
    if minimum < 2:
        raise UsageError(f"Die Mindestanzahl muss mindestens 2 sein, nicht {minimum}.",
                         f"The minimum count must be at least 2, not {minimum}.")
    if first and last and parse_period(first)[0] > parse_period(last)[1]:
        raise UsageError(f"--from {first} liegt nach --to {last}; bitte den früheren Zeitraum zuerst angeben.",
                         f"--from {first} lies after --to {last}; please give the earlier period first.")
    for given in (first, last):
        if given:
            parse_period(given)
    if kommune is None:
        return first, last
    kommunen = store.kommunen()
    if kommune not in kommunen:
        raise InputError(f"Die Kommune {kommune!r} ist nicht im Datenbestand; vorhanden: {', '.join(kommunen)}.",
                         f"The kommune {kommune!r} is not in the store; present: {', '.join(kommunen)}.")
    default_first, default_last = default_range(store, kommune)
    first, last = first or default_first, last or default_last
    if parse_period(first)[0] > parse_period(last)[1]:
        raise InputError(f"Der Zeitraum {first} bis {last} ist leer: die vollständigen Daten von {kommune} reichen "
                         f"bis {default_last}. Bitte --from und --to innerhalb der Daten wählen.",
                         f"The period {first} to {last} is empty: the complete data of {kommune} reach {default_last}. "
                         "Please choose --from and --to within the data.")
    span = store.query(f"SELECT d0, d1 FROM {SPAN_TABLE} WHERE kommune = ?", [kommune]).iloc[0]
    if parse_period(first)[0] > span["d1"] or parse_period(last)[1] < span["d0"]:
        d0, d1 = fmt_date(pd.Timestamp(span["d0"]).date()), fmt_date(pd.Timestamp(span["d1"]).date())
        raise InputError(f"Der Zeitraum {first} bis {last} liegt außerhalb der Daten von {kommune} ({d0} bis {d1}). "
                         "Bitte --from und --to innerhalb der Daten wählen.",
                         f"The period {first} to {last} lies outside the data of {kommune} ({d0} to {d1}). Please "
                         "choose --from and --to within the data.")
    return first, last


def build_bundle(store: Store, kommune: str, first: str | None = None, last: str | None = None,
                 minimum: int = DEFAULT_MINIMUM, per_merkmal: dict[str, int] | None = None) -> "Bundle":
    """The bundle of ``kommune`` in memory: protected counts (:func:`protect_counts`), rates, reference
    figures and metadata, checked once more with the audit a reader runs. Safe to show anywhere.

    Raises :class:`~kimtools.errors.DisclosureError` when more than :data:`MAX_SHARE_PROTECTED` of the
    non-zero cells would have to be protected."""
    first, last = checked_request(store, kommune, first, last, minimum)
    periods = bundle_periods(parse_period(first)[0], parse_period(last)[1])
    first_label, last_label = periods["zeitraum"].iloc[0], periods.loc[periods["art"] == "quartal", "zeitraum"].iloc[-1]
    true = bundle_counts(store, kommune, first, last)
    counts = protect_counts(true, minimum, per_merkmal)
    positive = int((true["anzahl"] > 0).sum())
    share = (counts["geschuetzt"] == "ja").sum() / max(positive, 1)
    if share > MAX_SHARE_PROTECTED:
        raise DisclosureError(
            f"Das Vergleichspaket {kommune} {first} bis {last} wird nicht geschrieben: {fmt_percent(share, 0, 'de')} der "
            f"Zellen mit Fällen müssten geschützt werden (höchstens {fmt_percent(MAX_SHARE_PROTECTED, 0, 'de')}), zu "
            "wenige Fälle für eine sichere und aussagekräftige Weitergabe. Wählen Sie einen längeren Zeitraum (ganze Jahre).",
            f"The comparison bundle {kommune} {first} to {last} is not written: {fmt_percent(share, 0, 'en')} of the "
            f"cells with cases would have to be protected (at most {fmt_percent(MAX_SHARE_PROTECTED, 0, 'en')}), too few cases for a safe "
            "and meaningful exchange. Choose a longer period (whole years).")
    reference = bundle_reference(store, kommune, periods)
    rates = bundle_rates(counts, reference)

    meta = {
        "format": FORMAT, "version": VERSION, "kommune": kommune, "ags": load_reference().ags(kommune) or "",
        "zeitraeume": {"von": first_label, "bis": last_label, "liste": periods["zeitraum"].tolist()},
        "erstellt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "kimtools_version": __version__,
        "schutz": {
            "mindestanzahl": minimum, "mindestanzahl_je_merkmal": dict(per_merkmal or {}),
            "verfahren": ("primäre Sperrung 1 bis Mindestanzahl − 1, sekundäre Sperrung, geprüft mit ganzzahliger "
                          "linearer Optimierung (HiGHS): jede geschützte Zelle bleibt im Bereich mindestens 2 breit "
                          "und reicht bis zur Mindestanzahl"),
            "zellen": int(len(counts)), "geschuetzt": int((counts["geschuetzt"] == "ja").sum()),
        },
        "summen": {"stadtbezirke_ergeben_gesamt": True, "einwertige_merkmale": sorted(CODE_LIST_OF),
                   "quartale_ergeben_jahr": event_kennzahlen()},
        "kennzahlen": {k: {"ereignis": v["ereignis"], "merkmale": list(v["merkmale"])}
                       for k, v in BUNDLE_KENNZAHLEN.items()},
    }
    meta["schutz"]["anteil_geschuetzt"] = round(meta["schutz"]["geschuetzt"] / max(meta["schutz"]["zellen"], 1), 4)
    problems = _audit_problems(counts, meta)
    if problems:   # protect() guarantees this; a failure here is a bug, and nothing is written
        raise BundleError("Die Prüfung des fertigen Pakets schlägt fehl: " + "; ".join(problems[:5]),
                          "The audit of the finished bundle fails: " + "; ".join(problems[:5]))
    return Bundle("", meta, counts, rates, reference)


def export_bundle(store: Store, kommune: str, out: str | Path, first: str | None = None, last: str | None = None,
                  minimum: int = DEFAULT_MINIMUM, per_merkmal: dict[str, int] | None = None) -> ExportResult:
    """Write the bundle of ``kommune`` (:func:`build_bundle`) into ``out`` as a folder and the same
    folder as ``.zip``. Nothing is written when a step fails; an existing bundle of the same name is
    replaced only once the new one is complete."""
    bundle = build_bundle(store, kommune, first, last, minimum, per_merkmal)
    meta, counts, rates, reference = bundle.metadaten, bundle.zaehlungen, bundle.kennzahlen, bundle.bezirke
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = bundle_name(kommune, meta["zeitraeume"]["von"], meta["zeitraeume"]["bis"])
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        folder = tmp / name
        folder.mkdir()
        _write_csv(counts, folder / "zaehlungen.csv")
        _write_csv(rates, folder / "kennzahlen.csv")
        _write_csv(reference, folder / "bezirke.csv")
        meta["dateien"] = {f: _sha256(folder / f) for f in _FILES}
        (folder / "metadaten.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        with zipfile.ZipFile(tmp / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for f in ["metadaten.json", *_FILES]:
                z.write(folder / f, f"{name}/{f}")
        final, final_zip = out / name, out / f"{name}.zip"
        if final.exists():
            shutil.rmtree(final)
        os.replace(folder, final)
        os.replace(tmp / f"{name}.zip", final_zip)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(final, final_zip, meta["schutz"]["zellen"], meta["schutz"]["geschuetzt"])


# ----------------------------------------------------------------------------- reading
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
            problems.append(f"{where}: unerwartete Datei (ein Paket hält {', '.join(sorted(_READ))} und höchstens eine "
                            "XLSX-Kopie)")
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


def _audit_problems(counts: pd.DataFrame, meta: dict) -> list[str]:
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
    check(rates, "kennzahlen.csv", "kennzahl", lambda v: v in BUNDLE_RATES, "keine Kennzahl des Pakets")
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
    for name in _FILES:
        if name not in files:
            problems.append(f"{name} fehlt")
        elif name not in listed:
            problems.append(f"{name} hat keine Prüfsumme in metadaten.json")
        elif sums[name] != listed[name]:
            problems.append(f"{name}: SHA-256 stimmt nicht mit metadaten.json überein (Datei verändert oder beschädigt)")
    for name in sorted(set(sums) - set(_FILES) - {"metadaten.json"}):
        if sums[name] != listed.get(name):
            problems.append(f"{name}: keine oder eine andere SHA-256 in metadaten.json")
    if problems:
        _refuse(path, problems)
    counts = _read_csv(files["zaehlungen.csv"], "zaehlungen.csv", COUNT_COLUMNS, problems)
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
        problems += _audit_problems(counts, meta)
    if problems:
        _refuse(path, problems)
    return Bundle(str(path), meta, counts, rates, reference)


def _refuse(path: Path, problems: list[str]) -> None:
    text = "\n  - ".join(problems[:20])
    more = f"\n  - … und {len(problems) - 20} weitere" if len(problems) > 20 else ""
    raise BundleError(f"Das Vergleichspaket {path} wird nicht verwendet:\n  - {text}{more}",
                      f"The comparison bundle {path} is not used (details in German):\n  - {text}{more}")


# ----------------------------------------------------------------------------- merging
@dataclass
class Merged:
    """Several cities' bundles side by side: the three tables with every city's rows, and an overview."""

    zaehlungen: pd.DataFrame
    kennzahlen: pd.DataFrame
    bezirke: pd.DataFrame
    pakete: pd.DataFrame


def merge_bundles(paths: Iterable[str | Path]) -> Merged:
    """Read and check every bundle, then stack them. Refuses two bundles of the same kommune."""
    bundles = [read_bundle(p) for p in paths]
    if not bundles:
        raise UsageError("Keine Vergleichspakete angegeben.", "No comparison bundles given.")
    seen: dict[str, str] = {}
    for b in bundles:
        if b.kommune in seen:
            raise BundleError(f"Zwei Pakete derselben Kommune {b.kommune}: {seen[b.kommune]} und {b.source}. "
                              "Bitte nur eines angeben.",
                              f"Two bundles of the same kommune {b.kommune}: {seen[b.kommune]} and {b.source}. "
                              "Give only one.")
        seen[b.kommune] = b.source
    overview = pd.DataFrame([{
        "kommune": b.kommune, "von": b.metadaten["zeitraeume"]["von"], "bis": b.metadaten["zeitraeume"]["bis"],
        "zellen": len(b.zaehlungen), "geschuetzt": int((b.zaehlungen["geschuetzt"] == "ja").sum()),
        "mindestanzahl": b.metadaten["schutz"]["mindestanzahl"], "erstellt": b.metadaten.get("erstellt", ""),
        "quelle": b.source} for b in bundles])
    overview["anteil_geschuetzt"] = overview["geschuetzt"] / overview["zellen"].clip(lower=1)
    return Merged(pd.concat([b.zaehlungen for b in bundles], ignore_index=True),
                  pd.concat([b.kennzahlen for b in bundles], ignore_index=True),
                  pd.concat([b.bezirke for b in bundles], ignore_index=True), overview)


def write_merged(merged: Merged, out: str | Path) -> Path:
    """The merged tables as CSV in ``out`` (``vergleich_*.csv``) for notebooks and dashboards."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("zaehlungen", "kennzahlen", "bezirke", "pakete"):
        _write_csv(getattr(merged, name), out / f"vergleich_{name}.csv")
    return out


def read_merged(folder: str | Path) -> Merged:
    """Merged tables written by :func:`write_merged` (``kimtools compare --out``)."""
    folder = Path(folder)
    missing = [n for n in ("zaehlungen", "kennzahlen", "bezirke", "pakete") if not (folder / f"vergleich_{n}.csv").exists()]
    if missing:
        raise UsageError(f"In {folder} fehlen zusammengeführte Tabellen ({', '.join(missing)}); erst "
                         "'kimtools compare PAKET... --out ORDNER' ausführen.",
                         f"{folder} lacks merged tables ({', '.join(missing)}); run "
                         "'kimtools compare BUNDLE... --out FOLDER' first.")
    frames = {n: pd.read_csv(folder / f"vergleich_{n}.csv", keep_default_na=False, na_values={"anzahl": [""],
              "wert": [""], "unten": [""], "oben": [""], "zaehler": [""], "nenner": [""]})
              for n in ("zaehlungen", "kennzahlen", "bezirke", "pakete")}
    frames["zaehlungen"]["anzahl"] = frames["zaehlungen"]["anzahl"].astype("Int64")
    return Merged(**frames)


#: the overview's ``quelle`` of a kommune compared from the store's own data (no bundle file behind it)
OWN_SOURCE = "Datenbestand"
#: the overview's columns (``Merged.pakete``)
_OVERVIEW = ["kommune", "von", "bis", "zellen", "geschuetzt", "mindestanzahl", "erstellt", "quelle", "anteil_geschuetzt"]


def _own(store: Store, kommune: str) -> dict:
    """One kommune's comparison as its bundle would show it (:func:`build_bundle`, default periods and minimum): its
    rates, reference figures and overview row; or why no safe bundle can be made."""
    try:
        b = build_bundle(store, kommune)
    except KimtoolsError as exc:
        return {"fehler": [exc.message_de, exc.message_en]}
    schutz = b.metadaten["schutz"]
    row = {"kommune": kommune, "von": b.metadaten["zeitraeume"]["von"], "bis": b.metadaten["zeitraeume"]["bis"],
           "zellen": schutz["zellen"], "geschuetzt": schutz["geschuetzt"], "mindestanzahl": schutz["mindestanzahl"],
           "erstellt": b.metadaten["erstellt"], "quelle": OWN_SOURCE, "anteil_geschuetzt": schutz["anteil_geschuetzt"]}
    return {"kennzahlen": b.kennzahlen.to_dict("records"), "bezirke": b.bezirke.to_dict("records"), "paket": row}


def own_comparison(store: Store, kommunen: Sequence[str] | None = None, show_progress: bool = False) -> tuple[Merged, dict]:
    """The store's kommunen compared from their own data, protected exactly as each one's bundle would be
    (:func:`build_bundle`): computed once per kommune and data state and kept beside the store
    (:func:`~kimtools.store.kept.kept`, folder ``vergleich``; ``kimtools vorbereiten`` and ``kimtools serve`` do it
    ahead), never per page view. Returns the merged tables (rates, reference figures and overview; no counts) and,
    per kommune that cannot be made safe, the reason (German, English)."""
    rates, reference, overview, refused = [], [], [], {}
    names = list(kommunen) if kommunen is not None else store.kommunen()
    for k in progress(names, "Vergleich der eigenen Daten", disable=not show_progress, unit="Kommune"):
        content = kept(store, "vergleich", k, f"{kommune_state(store, k)}:{DEFAULT_MINIMUM}", lambda: _own(store, k))
        if "fehler" in content:
            refused[k] = tuple(content["fehler"])
            continue
        rates.append(pd.DataFrame(content["kennzahlen"], columns=RATE_COLUMNS))
        reference.append(pd.DataFrame(content["bezirke"], columns=REFERENCE_COLUMNS))
        overview.append(content["paket"])
    frame = lambda parts, columns: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)  # noqa: E731
    return Merged(pd.DataFrame(columns=COUNT_COLUMNS), frame(rates, RATE_COLUMNS), frame(reference, REFERENCE_COLUMNS),
                  pd.DataFrame(overview, columns=_OVERVIEW)), refused


def comparison_data(store: Store | None = None, folder: str | Path | None = None,
                    show_progress: bool = False) -> tuple[Merged, list[str]]:
    """What the comparison page compares: the merged bundles in ``folder`` (default :func:`default_comparison_dir`)
    where there are any, and every kommune of ``store`` that no bundle covers, from its own data
    (:func:`own_comparison`). Returns the tables and notes for the page (German first, no server path in them).
    Raises :class:`~kimtools.errors.UsageError` when there is neither."""
    notes, parts = [], []
    try:
        parts.append(read_merged(folder or default_comparison_dir()))
    except (UsageError, OSError):   # no bundles merged (yet): the store's own data alone
        notes.append(tr(("Noch keine Vergleichspakete anderer Kommunen zusammengeführt: verglichen werden die "
                         "Stadtbezirke (eines Kreises: die Gemeinden) aus dem eigenen Datenbestand, geschützt wie im "
                         "eigenen Vergleichspaket. Andere Kommunen kommen hinzu, sobald ihre Pakete mit "
                         "'kimtools compare' zusammengeführt sind.",
                         "No other kommunen's comparison bundles merged yet: compared are the districts (of a county: "
                         "its municipalities) of the own store, protected as in the own comparison bundle. Other "
                         "kommunen join once their bundles are merged with 'kimtools compare'.")))
    present = set(parts[0].pakete["kommune"]) if parts else set()
    mine = [k for k in _kommunen_of(store) if k not in present]
    if mine:
        own, refused = own_comparison(store, mine, show_progress)
        parts.append(own)
        for k, (de, en) in refused.items():
            notes.append(tr((f"{k}: {de}", f"{k}: {en}")))
    if not parts or all(p.kennzahlen.empty for p in parts):
        raise UsageError("Es gibt noch nichts zu vergleichen: weder zusammengeführte Vergleichspakete noch einen eigenen "
                         "Datenbestand mit genug Daten. Erst Daten importieren (kimtools import) oder Pakete "
                         "zusammenführen (kimtools compare).",
                         "There is nothing to compare yet: neither merged comparison bundles nor an own store with "
                         "enough data. Import data first (kimtools import) or merge bundles (kimtools compare).")
    merged = Merged(*(pd.concat([getattr(p, n) for p in parts], ignore_index=True)
                      for n in ("zaehlungen", "kennzahlen", "bezirke", "pakete")))
    return merged, notes


def _kommunen_of(store: Store | None) -> list[str]:
    if store is None:
        return []
    try:
        return store.kommunen()
    except KimtoolsError:   # no store (yet), or one that cannot be read: the bundles alone
        return []


def default_comparison_dir() -> Path:
    """Where notebooks and dashboards find merged bundles: ``KIMTOOLS_VERGLEICH`` or ``data/vergleich``."""
    env = os.environ.get("KIMTOOLS_VERGLEICH")
    return Path(env) if env else DATA / "vergleich"


def export_bundles(store: Store, out: str | Path, kommunen: Sequence[str] | None = None, first: str | None = None,
                   last: str | None = None, minimum: int = DEFAULT_MINIMUM, per_merkmal: dict[str, int] | None = None,
                   show_progress: bool = True) -> pd.DataFrame:
    """One bundle per kommune (all of the store by default), for a state-level or demo comparison:
    ``kommune, zip, zellen, geschuetzt, fehler`` — a kommune that cannot be made safe is listed, not written."""

    checked_request(store, None, first, last, minimum)
    rows = []
    for kommune in progress(kommunen or store.kommunen(), "Vergleichspakete", disable=not show_progress, unit="Kommune"):
        try:
            r = export_bundle(store, kommune, out, first, last, minimum, per_merkmal)
            rows.append((kommune, str(r.zip), r.zellen, r.geschuetzt, ""))
        except KimtoolsError as e:
            rows.append((kommune, "", 0, 0, e.message()))
    return pd.DataFrame(rows, columns=["kommune", "zip", "zellen", "geschuetzt", "fehler"])
