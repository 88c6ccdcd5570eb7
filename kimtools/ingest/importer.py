"""Import = read and check an export, then replace its kommunen in the store as one whole."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import DeliveryRefused, KimtoolsError, StoreError, from_os_error
from ..i18n import current_lang, fmt_number, tr
from ..indicators.cells import cells_current, write_cells
from ..paths import slug
from ..spreadsheet import excel_writer, write_csv
from ..store import DATA_SPAN_SQL, SCHEMA, SPAN_TABLE, Derive, Store, has_table, owner_only
from ..store.tables import log_import, row_counts
from .best_figures import stored_figures, with_official
from .delivery import (
    FINDING_COLUMNS,
    delivery_findings,
    delivery_overview,
    delivery_profile,
    export_profile,
    findings_text,
    overview_text,
)
from .profile import Profile, find_profile, load_profile
from .providers import (
    COMPARED,
    PERSONS_SHARED_SQL,
    apply_map,
    delivery_notes,
    map_partners,
    merge_rows,
    qualify_ids,
    uncovered_providers,
)
from .pseudonym import ensure_key, key_location, key_mismatch_text
from .quality import QUALITY_TABLES, quality_summary, stichtage
from .read import PROBLEM_COLUMNS, Export, read_export

__all__ = ["import_export", "replace_kommunen", "derive_tables", "derived_current", "bring_derived_up_to_date", "ImportResult", "write_problem_report",
           "private_report_path", "REPORTS_FOLDER", "REPORT_DAYS"]


def derive_tables(con: duckdb.DuckDBPyConnection, kommunen: tuple[str, ...]) -> None:
    """Write the tables derived from the data into the store's copy ``con`` after ``kommunen`` changed (what an
    import or a deletion hands :meth:`Store.replace` and :meth:`Store.remove`): the data-quality summary
    of ``kommunen`` (what the data-state page shows without reading every case), every kommune's data span
    (:data:`~kimtools.store.SPAN_TABLE`) and the cells of the indicator table
    (:func:`~kimtools.indicators.cells.write_cells`, with their version)."""
    _record_quality(con, kommunen)
    con.execute(f"CREATE OR REPLACE TABLE {SPAN_TABLE} AS {DATA_SPAN_SQL}")
    write_cells(con)


def derived_current(store) -> bool:
    """Whether the store's derived tables are those this version writes (the cells' version: the engine's and the
    catalogue's); a store written by an earlier release, or under another catalogue, is answered by the pass over
    every case until they are brought up to date."""
    with store.snapshot() as con:
        return cells_current(con)


def bring_derived_up_to_date(store) -> bool:
    """Write the store's derived tables anew where they are not this version's (:func:`derived_current`), as one
    whole, under the writer lock; the data stay as they are. Returns whether anything was written."""
    if not store.exists() or derived_current(store):
        return False
    with store.writing():
        if derived_current(store):   # another process did it while we waited for the lock
            return False
        store.update(tuple(store.kommunen()), lambda con: None, derive_tables)
    return True


def _record_quality(con: duckdb.DuckDBPyConnection, kommunen: tuple[str, ...]) -> None:
    """Replace the quality summary of ``kommunen`` by one computed from what was just stored, one kommune at a time."""

    con.execute("DELETE FROM datenqualitaet WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])
    for k in kommunen:
        tables = {t: con.execute(f"SELECT * FROM {t} WHERE kommune = ?", [k]).df() for t in QUALITY_TABLES}
        if tables["faelle"].empty:
            continue
        con.register("summary", quality_summary(tables))
        con.execute("""INSERT INTO datenqualitaet SELECT kommune, stichtag, faelle, ohne_beratung, vermittlungen_offen_30,
                       doku_luecken_monate, parallele_faelle, vollstaendigkeit FROM summary""")
        con.unregister("summary")


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``dry_run``, would do): per kommune the row counts, or ``unchanged``.

    ``findings`` are the reasons to look before replacing (:func:`~kimtools.ingest.delivery.delivery_findings`; an import
    with findings went through only when forced), ``overview`` what changes per kommune and table
    (:func:`~kimtools.ingest.delivery.delivery_overview`), ``leftovers`` the temporary copies of killed imports that
    were removed.
    """

    kommunen: tuple[str, ...]
    unchanged: bool
    counts: pd.DataFrame  # kommune × table row counts
    findings: pd.DataFrame | None = None
    overview: pd.DataFrame | None = None
    dry_run: bool = False
    leftovers: tuple[str, ...] = ()
    key_created: str | None = None   # the key file the import created (a first import without a key)
    providers: tuple[str, ...] | None = None   # a provider delivery's providers; None: its kommunen as wholes
    contradictions: pd.DataFrame | None = None   # partner and district rows that contradict the stored ones
    register: pd.DataFrame | None = None   # which register partner each delivered partner ID is (provider deliveries)
    profile: str | None = None   # the import profile the source was read with (its path)
    lookups: tuple[str, ...] = ()   # the lookup tables that profile read

    @property
    def refused(self) -> bool:
        """A dry run whose import would be refused (its findings; ``--erzwingen`` would take it)."""
        return self.dry_run and not self.unchanged and self.findings is not None and len(self.findings) > 0

    def summary(self, lang: str | None = None) -> str:
        """What the import did, or with ``dry_run`` would do, as a person reads it; the one text the command, notebook
        01 and the import assistant show: the profile and lookup tables read; then "unchanged", or what changes per
        kommune and table (stored → new), the findings (a dry run: why it would be refused; a forced import: what it
        went through despite), a provider delivery's contradictions and partner register, and the rows stored."""
        lang = lang or current_lang()
        say = lambda de, en: tr((de, en), lang)  # noqa: E731
        lines = []
        if self.profile:
            lines.append(say(f"Gelesen mit dem Importprofil {self.profile}.", f"Read with the import profile {self.profile}."))
            lines += [say(f"  Nachschlagetabelle: {lookup}", f"  lookup table: {lookup}") for lookup in self.lookups]
        names = ", ".join(self.kommunen)
        if self.unchanged:
            return "\n".join(lines + [say(f"Unverändert: dieser Export ist bereits der gespeicherte Stand für {names}. Nichts "
                                           "wurde geändert.", f"Unchanged: this export already is the stored state for "
                                           f"{names}. Nothing was changed.")])
        lines.append(say("Probelauf – nichts wurde gespeichert. Der Import würde ändern (gespeichert → neu):",
                         "Dry run – nothing was stored. The import would change (stored → new):") if self.dry_run else
                     say("Geändert (gespeichert → neu):", "Changed (stored → new):"))
        if self.overview is not None:
            lines.append(overview_text(self.overview, lang))
        if self.findings is not None and len(self.findings):
            lines.append(say("Der Import würde abgelehnt (mit --erzwingen ginge er durch), denn:",
                             "The import would be refused (it would go through with --force), because:") if self.dry_run
                         else say("Trotz dieser Auffälligkeiten importiert (--erzwingen, im Importprotokoll vermerkt):",
                                  "Imported despite these findings (--force, recorded in the import log):"))
            lines.append(findings_text(self.findings, lang))
        elif self.dry_run:
            lines.append(say("Keine Auffälligkeiten: der Import ginge so durch.",
                             "Nothing stands out: the import would go through."))
        notes = delivery_notes(self.contradictions, self.register, lang)
        if notes:
            lines.append(notes)
        if not self.dry_run:
            scope = say(f" (Träger {', '.join(self.providers)})", f" (providers {', '.join(self.providers)})") \
                if self.providers else ""
            for k, row in self.counts.iterrows():
                n = {c: fmt_number(row[c], lang=lang) for c in ("faelle", "beratungen", "vermittlungen", "partner")}
                lines.append(say(f"Importiert {k}{scope}: {n['faelle']} Fälle, {n['beratungen']} Beratungen, "
                                 f"{n['vermittlungen']} Vermittlungen, {n['partner']} Partner",
                                 f"Imported {k}{scope}: {n['faelle']} cases, {n['beratungen']} consultations, "
                                 f"{n['vermittlungen']} referrals, {n['partner']} partners"))
        return "\n".join(lines)


def import_export(source: str | Path, db: str | Path | Store | None = None, force: bool = False,
                  key: bytes | None = None, show_progress: bool = True, dry_run: bool = False,
                  new_key: bool = False, providers: tuple[str, ...] | None = None,
                  shared_person_keys: bool = False, profile: str | Path | Profile | None = None) -> tuple[ImportResult, pd.DataFrame]:
    """Import ``source`` into the store; return the result and the warnings.

    ``profile`` names an import profile (a path, or a name in the user's profile folder) for a source of another
    layout; without one, a ``kimtools-profil.toml`` beside the source is used (:func:`~kimtools.ingest.profile.find_profile`).

    With ``providers`` the source is a provider delivery (:mod:`kimtools.ingest.providers`): it replaces only
    those providers' slice; ``shared_person_keys`` says that its person keys are the kommune's shared ones.

    Raises :class:`~kimtools.errors.ImportValidationError` (every problem at once),
    :class:`~kimtools.errors.DeliveryRefused` (the delivery would make stored figures shrink sharply or looks
    cut off; ``force`` imports it all the same) or :class:`~kimtools.errors.StoreError`; in each case the store is
    exactly as it was. With ``dry_run`` nothing is stored: the result says what would change. A store
    pseudonymised under another key is refused unless ``new_key``; a missing key file is then not created.

    >>> import tempfile, kimtools as kim
    >>> from kimtools.ingest.demo import write_demo
    >>> folder = tempfile.mkdtemp()
    >>> store = kim.Store(f"{folder}/kim.duckdb")
    >>> result, warnings = kim.import_export(write_demo(folder, kommunen=["Herne"], show_progress=False), store,
    ...                                      show_progress=False)
    >>> result.kommunen, store.kommunen()
    (('Herne',), ['Herne'])
    """
    store = db if isinstance(db, Store) else Store(db)
    store.check_writable()
    created = None
    if key is None:
        stored = store.key_fingerprint()
        key, made = ensure_key(create=not dry_run and (stored is None or new_key))
        if key is None and (stored is None or new_key):   # a dry run without a key file: a key made only for it
            key = secrets.token_hex(32).encode()
        elif key is None:
            raise StoreError(key_mismatch_text("de", store.path, stored, None),
                             key_mismatch_text("en", store.path, stored, None))
        created = key_location() if made else None
    try:
        if isinstance(profile, Profile):   # a profile not (yet) saved, such as the import assistant's
            path, loaded = profile.path, profile
        else:
            path = find_profile(str(profile) if profile else None, Path(source))
            loaded = load_profile(path) if path is not None else None
        export = read_export(source, key=key, show_progress=show_progress, providers=providers,
                             shared_person_keys=shared_person_keys, profile=loaded)
        result = replace_kommunen(store, export, force=force, new_key=new_key, dry_run=dry_run)
    except KimtoolsError as exc:   # the key file stays (it is this store's key from now on): say so all the same
        exc.key_created = created
        raise
    return dataclasses.replace(result, key_created=created, profile=str(path) if path else None,
                               lookups=tuple(map(str, loaded.lookups)) if loaded else ()), export.warnings


_REPORT_HEADERS = {
    "de": {"datei": "Datei", "tabelle": "Tabelle", "zeile": "Zeile", "spalte": "Spalte", "wert": "Wert",
           "grund_de": "Grund", "grund_en": "Reason (English)"},
    "en": {"datei": "File", "tabelle": "Table", "zeile": "Row", "spalte": "Column", "wert": "Value",
           "grund_en": "Reason", "grund_de": "Grund (Deutsch)"},
}


#: where a long problem list goes when no file was named: a folder beside the store, readable by its owner only
REPORTS_FOLDER = "fehlerberichte"
#: reports in that folder older than this many days are deleted when the next one is written there
REPORT_DAYS = 30


def private_report_path(store: Store, source: str | Path, now: dt.datetime | None = None) -> Path:
    """Where a refused import's full problem list goes when the person named no file: ``fehlerberichte/`` beside the
    store (mode 700), ``fehlerbericht_<source>_<stamp>.xlsx`` — never the working folder, which may be synced, shared
    or under git. Reports there older than :data:`REPORT_DAYS` days are deleted first."""
    folder = store.path.parent / REPORTS_FOLDER
    now = now or dt.datetime.now()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        for old in folder.glob("fehlerbericht_*"):
            if now.timestamp() - old.stat().st_mtime > REPORT_DAYS * 86400:
                old.unlink(missing_ok=True)
    except OSError as exc:
        raise from_os_error(exc, folder, "den Ordner für Fehlerberichte anlegen", "create the folder of problem reports") \
            from None
    stem = slug(Path(source).stem).strip("-")[:60] or "export"
    return folder / f"fehlerbericht_{stem}_{now:%Y%m%d-%H%M%S}.xlsx"


def write_problem_report(problems: pd.DataFrame, path: str | Path, lang: str = "de") -> Path:
    """Write the problem list for the provider who made the export (XLSX, or CSV for huge lists).

    The first reason column is in ``lang``, the other language follows.
    Rows above Excel's limit go to CSV (``;``, UTF-8 with BOM, opens in Excel).
    """
    path = Path(path)
    try:
        with owner_only():
            return _write_problem_report(problems, path, lang)
    except OSError as exc:
        raise from_os_error(exc, path, "den Fehlerbericht schreiben", "write the problem report") from None


def _write_problem_report(problems: pd.DataFrame, path: Path, lang: str) -> Path:
    first, second = ("grund_en", "grund_de") if lang == "en" else ("grund_de", "grund_en")
    frame = problems[[c for c in PROBLEM_COLUMNS if c not in ("grund_de", "grund_en")] + [first, second]]
    frame = frame.rename(columns=_REPORT_HEADERS[lang])
    if path.suffix.lower() == ".xlsx" and len(frame) < 1_000_000:
        with excel_writer(path) as writer:
            sheet = "Fehler" if lang == "de" else "Problems"
            frame.to_excel(writer, index=False, sheet_name=sheet)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = ws.dimensions
            for col, width in zip("ABCDEFG", (22, 14, 8, 18, 30, 70, 70)):
                ws.column_dimensions[col].width = width
        return path
    path = path.with_suffix(".csv")
    write_csv(frame, path, sep=";", index=False, encoding="utf-8-sig")
    return path


def replace_kommunen(store: Store, export: Export, derive: Derive | None = None, force: bool = False, new_key: bool = False,
                     dry_run: bool = False) -> ImportResult:
    """Store a validated :class:`~kimtools.ingest.read.Export`, replacing each of its kommunen as one whole — or,
    for a provider delivery (``export.providers``), only those providers' slice of it, its partner and district
    rows merged into the stored ones (:mod:`kimtools.ingest.providers`).

    Importing the same source again (same SHA-256 as the last import of every kommune in it, of the same scope)
    changes nothing. Before replacing, the store looks at what would change (:mod:`kimtools.ingest.delivery`;
    for a provider delivery, in its providers' slice): a delivery that would make stored figures shrink sharply,
    or that looks cut off, is refused with :class:`~kimtools.errors.DeliveryRefused` unless ``force``, as is an
    export of the whole kommune whose cases cover only some of its stored providers. A delivery pseudonymised
    under another key than the store's is refused unless ``new_key`` (the start of a new key, logged). With
    ``dry_run`` nothing is written: the result says what the import would change and find. ``derive`` writes
    the tables derived from the data into the store's copy before it is swapped in (default :func:`derive_tables`).
    """
    kommunen, providers = tuple(export.kommunen), export.providers
    store.check_writable()
    derive = derive or derive_tables
    with store.writing(keep_leftovers=dry_run) as leftovers:
        tables, mapping = export.tables, None
        if providers is not None:   # partner IDs as the register knows them, then IDs kept apart by provider
            mapping = _register_map(store, export, kommunen)
            tables = qualify_ids(apply_map(export.tables, mapping))
            providers = _registered(providers, mapping)
        counts = row_counts(export.tables, kommunen)   # as delivered (the register may know some partners already)
        stored_sha = store.stored_sha(kommunen, providers)
        if kommunen and all(stored_sha.get(k) == export.sha256 for k in kommunen):
            return ImportResult(kommunen, True, counts, dry_run=dry_run, leftovers=tuple(map(str, leftovers)),
                                providers=providers)
        _check_key(store, export, new_key)
        stored = delivery_profile(store.query, list(kommunen), providers) if store.exists() else None
        incoming = export_profile(tables, list(kommunen), providers)
        findings = delivery_findings(stored, incoming)
        if export.absent:   # a table the profile declares not delivered is not a file cut off
            declared = findings["tabelle"].isin(export.absent) & findings["art"].isin(["leer", "ohne_beratung"])
            findings = findings.loc[~declared].reset_index(drop=True)
        partial = _partial_findings(store, tables, kommunen) if providers is None and store.exists() else None
        if partial is not None and len(partial):
            findings = pd.concat([partial, findings], ignore_index=True)
        clashes = None
        if providers is not None:
            tables, clashes = _merged(store, tables, kommunen, force)
            tables["partner_zuordnung"] = _merged_map(store, mapping, kommunen)
        tables = with_official(tables, stored_figures(store, kommunen))   # the statistics office's figures stay
        result = ImportResult(kommunen, False, counts, findings, delivery_overview(stored, incoming), dry_run,
                              tuple(map(str, leftovers)), providers=providers, contradictions=clashes,
                              register=mapping)
        if dry_run:
            return result
        if len(findings) and not force:
            raise DeliveryRefused(findings, *_refusal(findings, export.location or export.source))
        stand = {k: v.date() for k, v in stichtage(export.tables).items()}
        store.check_room(export.size_bytes)
        forced = force and bool(len(findings))

        def log(con: duckdb.DuckDBPyConnection) -> None:
            log_import(con, kommunen, export.source, export.sha256, stand, counts, export.key_fingerprint, new_key,
                       forced, _delivery_log(con, export, kommunen, providers))

        store.replace(kommunen, tables, derive, log, export.size_bytes, providers=providers)
    return result


def _partial_findings(store: Store, tables: dict[str, pd.DataFrame], kommunen: tuple[str, ...]) -> pd.DataFrame:
    """Findings for each kommune whose whole-kommune export covers only some of its stored providers."""
    stored = store.query("SELECT DISTINCT kommune, traeger FROM faelle WHERE kommune IN (SELECT unnest(?))",
                         [list(kommunen)])
    rows = []
    for k, (given, missing) in uncovered_providers(stored, tables["faelle"]).items():
        rows.append(dict(kommune=k, tabelle="faelle", traeger=",".join(given), art="teilweise",
                         vorher=len(given) + len(missing), nachher=len(given),
                         grund_de=f"nur Fälle der Träger {', '.join(given)}; gespeichert sind auch {', '.join(missing)}",
                         grund_en=f"only cases of the providers {', '.join(given)}; also stored are {', '.join(missing)}"))
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def _refusal(findings: pd.DataFrame, source: str) -> tuple[str, str]:
    """Why a delivery is refused and what to do, German and English."""
    de = ("Der Export würde gespeicherte Zahlen stark verringern oder sieht unvollständig aus; nichts wurde "
          "gespeichert:\n" + findings_text(findings, "de"))
    en = ("The export would make stored figures shrink sharply or looks incomplete; nothing was stored:\n"
          + findings_text(findings, "en"))
    partial = findings.loc[findings["art"] == "teilweise"]
    if len(partial):
        scope = ",".join(sorted({t for ts in partial["traeger"] for t in ts.split(",")}))
        de += (f"\nDas sieht nach der Lieferung einzelner Träger aus. Dann nur deren Teil ersetzen: "
               f"kimtools import {shlex.quote(source)} --traeger {scope}")
        en += (f"\nThis looks like a delivery of some providers. Then replace only their part: "
               f"kimtools import {shlex.quote(source)} --traeger {scope}")
    de += ("\nWenn das so gewollt ist (z. B. eine Löschung nach Aufbewahrungsfrist): mit --erzwingen importieren. "
           "Alles ansehen, ohne zu speichern: --probelauf.")
    en += ("\nIf this is intended (e.g. a deletion after the retention period): import with --force. To see "
           "everything without storing: --dry-run.")
    return de, en


def _merged(store: Store, tables: dict[str, pd.DataFrame], kommunen: tuple[str, ...],
            force: bool) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The delivery's frames with its partner and district rows merged into the stored ones, and the
    contradictions found."""
    out, clashes = dict(tables), []
    for table in COMPARED:
        stored = _stored(store, table, kommunen, tables[table].iloc[0:0])
        parts = []
        for k in kommunen:
            rows, found = merge_rows(table, stored.loc[stored["kommune"] == k],
                                     tables[table].loc[tables[table]["kommune"] == k], force)
            parts.append(rows)
            clashes.append(found)
        out[table] = pd.concat(parts, ignore_index=True)
    found = pd.concat(clashes, ignore_index=True).astype(object)
    return out, found.where(found.notna(), None)


def _stored(store: Store, table: str, kommunen: tuple[str, ...], empty: pd.DataFrame) -> pd.DataFrame:
    """The stored rows of ``kommunen`` in ``table`` (``empty`` in a store without it)."""
    if not store.exists() or not has_table(store.connect(), table):
        return empty
    return store.query(f"SELECT * FROM {table} WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])


_NO_MAP = pd.DataFrame(columns=list(SCHEMA["partner_zuordnung"]))


def _register_map(store: Store, export: Export, kommunen: tuple[str, ...]) -> pd.DataFrame:
    """Which register partner each partner ID of a provider delivery is, per kommune (:func:`map_partners`)."""
    register = _stored(store, "partner", kommunen, export.tables["partner"].iloc[0:0])
    known = _stored(store, "partner_zuordnung", kommunen, _NO_MAP)
    delivered = export.tables["partner"]
    parts = [map_partners(register.loc[register["kommune"] == k], known.loc[known["kommune"] == k],
                          delivered.loc[delivered["kommune"] == k], export.providers) for k in kommunen]
    return pd.concat(parts, ignore_index=True) if parts else _NO_MAP


def _registered(providers: tuple[str, ...], mapping: pd.DataFrame) -> tuple[str, ...]:
    """The declared providers under their register IDs."""
    ids = dict(zip(mapping["partner_id_traeger"], mapping["partner_id"]))
    return tuple(dict.fromkeys(ids.get(p, p) for p in providers))


def _merged_map(store: Store, mapping: pd.DataFrame, kommunen: tuple[str, ...]) -> pd.DataFrame:
    """The kommunen's stored partner map with this delivery's entries in place of the provider's earlier ones."""
    known = _stored(store, "partner_zuordnung", kommunen, _NO_MAP)
    mine = set(zip(mapping["kommune"], mapping["traeger"]))
    keep = known.loc[[(k, t) not in mine for k, t in zip(known["kommune"], known["traeger"])]]
    return pd.concat([keep, mapping], ignore_index=True)


def _delivery_log(con: duckdb.DuckDBPyConnection, export: Export, kommunen: tuple[str, ...],
                  providers: tuple[str, ...] | None) -> dict[str, dict]:
    """Per kommune what the import log records of a delivery's scope (``providers``, as the register knows them)
    and person keys."""
    read = {"profil": export.profile, "fehlende_tabellen": ",".join(export.absent) or None}
    if providers is None:
        return {k: {"personenschluessel": "kommune", **read} for k in kommunen}
    persons = con.execute(PERSONS_SHARED_SQL, {"kommunen": list(kommunen), "traeger": list(providers)}).df()
    persons = persons.set_index("kommune")
    keys = "gemeinsam" if export.shared_person_keys else "eigen"
    return {k: {"traeger": ",".join(providers), "personenschluessel": keys, **read,
                "personen": int(persons["personen"].get(k, 0)), "personen_geteilt": int(persons["personen_geteilt"].get(k, 0))}
            for k in kommunen}


def _check_key(store: Store, export: Export, new_key: bool) -> None:
    """Refuse a delivery pseudonymised under another key than the store's, unless ``new_key``."""
    stored = store.key_fingerprint()
    mine = export.key_fingerprint
    if stored is None or mine is None or stored == mine or new_key:
        return
    raise StoreError(key_mismatch_text("de", store.path, stored, mine), key_mismatch_text("en", store.path, stored, mine))
