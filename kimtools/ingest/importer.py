"""Import = read and check an export, then replace its kommunen in the store as one whole."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import KimtoolsError, StoreError, from_os_error
from ..indicators.cells import CELL_TABLES
from ..store import DATA_SPAN_SQL, SPAN_TABLE, ImportResult, Store, key_mismatch_text, owner_only
from .pseudonym import ensure_key, key_location
from .quality import QUALITY_TABLES, quality_summary
from .read import PROBLEM_COLUMNS, read_export

__all__ = ["import_export", "derive_tables", "write_problem_report"]


def derive_tables(con: duckdb.DuckDBPyConnection, kommunen: tuple[str, ...]) -> None:
    """Write the tables derived from the data into the store's copy ``con`` after ``kommunen`` changed (what an
    import or a deletion hands :meth:`Store.replace_kommunen` and :meth:`Store.remove`): the data-quality summary
    of ``kommunen`` (what the data-state page shows without reading every case), every kommune's data span
    (:data:`~kimtools.store.SPAN_TABLE`) and the cells of the indicator table
    (:data:`~kimtools.indicators.cells.CELL_TABLES`)."""
    _record_quality(con, kommunen)
    con.execute(f"CREATE OR REPLACE TABLE {SPAN_TABLE} AS {DATA_SPAN_SQL}")
    for name, sql in CELL_TABLES.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")


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


def import_export(source: str | Path, db: str | Path | Store | None = None, force: bool = False,
                  key: bytes | None = None, show_progress: bool = True, dry_run: bool = False,
                  new_key: bool = False) -> tuple[ImportResult, pd.DataFrame]:
    """Import ``source`` into the store; return the result and the warnings.

    Raises :class:`~kimtools.errors.ImportValidationError` (every problem at once),
    :class:`~kimtools.errors.DeliveryRefused` (the delivery would make stored figures shrink sharply or looks
    cut off; ``force`` imports it all the same) or :class:`~kimtools.errors.StoreError`; in each case the store is
    exactly as it was. With ``dry_run`` nothing is stored: the result says what would change. A store
    pseudonymised under another key is refused unless ``new_key``; a missing key file is then not created.
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
        export = read_export(source, key=key, show_progress=show_progress)
        result = store.replace_kommunen(export, derive=derive_tables, force=force, new_key=new_key, dry_run=dry_run)
    except KimtoolsError as exc:   # the key file stays (it is this store's key from now on): say so all the same
        exc.key_created = created
        raise
    return dataclasses.replace(result, key_created=created), export.warnings


_REPORT_HEADERS = {
    "de": {"datei": "Datei", "tabelle": "Tabelle", "zeile": "Zeile", "spalte": "Spalte", "wert": "Wert",
           "grund_de": "Grund", "grund_en": "Reason (English)"},
    "en": {"datei": "File", "tabelle": "Table", "zeile": "Row", "spalte": "Column", "wert": "Value",
           "grund_en": "Reason", "grund_de": "Grund (Deutsch)"},
}


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
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            sheet = "Fehler" if lang == "de" else "Problems"
            frame.to_excel(writer, index=False, sheet_name=sheet)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = ws.dimensions
            for col, width in zip("ABCDEFG", (22, 14, 8, 18, 30, 70, 70)):
                ws.column_dimensions[col].width = width
        return path
    path = path.with_suffix(".csv")
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return path
