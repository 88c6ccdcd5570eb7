"""The comparison bundle as files (``shared/comparison-bundle-format.md``, version 1): write one per city (a
folder and a ZIP with checksums), merge many, and what the comparison page compares. What it holds:
:mod:`kimtools.exchange.content`; how one is read and checked: :mod:`kimtools.exchange.reading`.

Examples
--------
>>> parse_period("2024-Q2")
(Timestamp('2024-04-01 00:00:00'), Timestamp('2024-06-30 00:00:00'))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from .._version import __version__
from ..contract.catalogue import CATALOGUE, CATALOGUE_VERSION
from ..contract.reference import load_reference
from ..errors import BundleError, DisclosureError, InputError, KimtoolsError, UsageError
from ..i18n import fmt_date, fmt_percent
from ..indicators.disclosure import DEFAULT_MINIMUM
from ..paths import DATA
from ..periods import parse_period
from ..progress import progress
from ..spreadsheet import write_csv
from ..store import SPAN_TABLE, Store
from ..store.kept import kept, kommune_state
from .content import (
    BUNDLE_KENNZAHLEN,
    BUNDLE_RATES,
    CODE_LIST_OF,
    COUNT_COLUMNS,
    FORMAT,
    MAX_SHARE_PROTECTED,
    RATE_COLUMNS,
    REFERENCE_COLUMNS,
    VERSION,
    bundle_counts,
    bundle_name,
    bundle_periods,
    bundle_rates,
    bundle_reference,
    bundle_sums,
    default_range,
    event_kennzahlen,
    local_rates,
    protect_counts,
)
from .reading import FILES, MAX_MEMBER, Bundle, audit_problems, field_problems, read_bundle

__all__ = ["BUNDLE_KENNZAHLEN", "BUNDLE_RATES", "COUNT_COLUMNS", "RATE_COLUMNS", "REFERENCE_COLUMNS",
           "Bundle", "checked_request", "parse_period", "bundle_name", "bundle_counts", "bundle_sums", "protect_counts",
           "bundle_rates", "bundle_reference", "build_bundle", "export_bundle", "export_bundles", "read_bundle",
           "shared_local_rates",
           "merge_bundles", "write_merged", "read_merged", "field_problems", "MAX_MEMBER", "default_comparison_dir", "own_comparison", "OWN_SOURCE"]


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
        raise UsageError(f"Der erste Zeitraum ({first}) liegt nach dem letzten ({last}); bitte den früheren zuerst angeben.",
                         f"The first period ({first}) lies after the last ({last}); please give the earlier one first.")
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
                         f"bis {default_last}. Bitte Zeiträume innerhalb der Daten wählen.",
                         f"The period {first} to {last} is empty: the complete data of {kommune} reach {default_last}. "
                         "Please choose periods within the data.")
    span = store.query(f"SELECT d0, d1 FROM {SPAN_TABLE} WHERE kommune = ?", [kommune]).iloc[0]
    if parse_period(first)[0] > span["d1"] or parse_period(last)[1] < span["d0"]:
        d0, d1 = fmt_date(pd.Timestamp(span["d0"]).date()), fmt_date(pd.Timestamp(span["d1"]).date())
        raise InputError(f"Der Zeitraum {first} bis {last} liegt außerhalb der Daten von {kommune} ({d0} bis {d1}). "
                         "Bitte Zeiträume innerhalb der Daten wählen.",
                         f"The period {first} to {last} lies outside the data of {kommune} ({d0} to {d1}). Please "
                         "choose periods within the data.")
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
    own, fingerprints, _left = local_rates()
    rates = bundle_rates(counts, reference, {**BUNDLE_RATES, **own})

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
        # the installation's own rates in kennzahlen.csv, each with the fingerprint of its declaration: a merge keeps
        # one only where every bundle carrying its code declares the same (kimtools.exchange.bundle.merge_bundles)
        "eigene_kennzahlen": {k: {"fingerabdruck": fingerprints[k], "de": CATALOGUE[k].texts["de"],
                                  "en": CATALOGUE[k].texts["en"]} for k in own},
    }
    meta["schutz"]["anteil_geschuetzt"] = round(meta["schutz"]["geschuetzt"] / max(meta["schutz"]["zellen"], 1), 4)
    problems = audit_problems(counts, meta)
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
        meta["dateien"] = {f: _sha256(folder / f) for f in FILES}
        (folder / "metadaten.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        with zipfile.ZipFile(tmp / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for f in ["metadaten.json", *FILES]:
                z.write(folder / f, f"{name}/{f}")
        final, final_zip = out / name, out / f"{name}.zip"
        if final.exists():
            shutil.rmtree(final)
        os.replace(folder, final)
        os.replace(tmp / f"{name}.zip", final_zip)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(final, final_zip, meta["schutz"]["zellen"], meta["schutz"]["geschuetzt"])


# ----------------------------------------------------------------------------- merging
@dataclass
class Merged:
    """Several cities' bundles side by side: the three tables with every city's rows, an overview, and per own
    indicator of a city left out of the comparison why (German, English; :func:`shared_local_rates`)."""

    zaehlungen: pd.DataFrame
    kennzahlen: pd.DataFrame
    bezirke: pd.DataFrame
    pakete: pd.DataFrame
    nicht_verglichen: tuple[tuple[str, str], ...] = ()


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
    shared, dropped = shared_local_rates(bundles)
    rates = pd.concat([b.kennzahlen for b in bundles], ignore_index=True)
    rates = rates.loc[rates["kennzahl"].isin(BUNDLE_RATES) | rates["kennzahl"].isin(shared)].reset_index(drop=True)
    return Merged(pd.concat([b.zaehlungen for b in bundles], ignore_index=True), rates,
                  pd.concat([b.bezirke for b in bundles], ignore_index=True), overview, tuple(dropped.values()))


def shared_local_rates(bundles: list) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """The cities' own rates a merge keeps: those that every bundle carrying the code declares with the same
    fingerprint (the same base counts, filters, factor and interval), and that at least two bundles carry – one
    city's rate compares with nothing. Returns the codes kept and, per code dropped, why (German, English)."""
    declared: dict[str, dict[str, str]] = {}
    for b in bundles:
        for code, spec in (b.metadaten.get("eigene_kennzahlen") or {}).items():
            declared.setdefault(code, {})[b.kommune] = str(spec.get("fingerabdruck", "")) if isinstance(spec, dict) else ""
    kept, dropped = set(), {}
    for code, by_city in declared.items():
        if len(set(by_city.values())) > 1:
            dropped[code] = (f"{code}: verschieden definiert ({', '.join(sorted(by_city))})",
                             f"{code}: defined differently ({', '.join(sorted(by_city))})")
        elif len(by_city) < 2:
            dropped[code] = (f"{code}: nur {next(iter(by_city))} hat diese eigene Kennzahl",
                             f"{code}: only {next(iter(by_city))} has this own indicator")
        else:
            kept.add(code)
    return kept, dropped


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
                         "'kimtools vergleichen PAKET... --ausgabe ORDNER' ausführen.",
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
        content = kept(store, "vergleich", k, f"{kommune_state(store, k)}:{DEFAULT_MINIMUM}:{CATALOGUE_VERSION}",
                       lambda: _own(store, k))
        if "fehler" in content:
            refused[k] = tuple(content["fehler"])
            continue
        rates.append(pd.DataFrame(content["kennzahlen"], columns=RATE_COLUMNS))
        reference.append(pd.DataFrame(content["bezirke"], columns=REFERENCE_COLUMNS))
        overview.append(content["paket"])
    frame = lambda parts, columns: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)  # noqa: E731
    return Merged(pd.DataFrame(columns=COUNT_COLUMNS), frame(rates, RATE_COLUMNS), frame(reference, REFERENCE_COLUMNS),
                  pd.DataFrame(overview, columns=_OVERVIEW)), refused


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
