"""Import = read and check an export, then replace its kommunen in the store as one whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .read import PROBLEM_COLUMNS, read_export
from .store import ImportResult, Store

__all__ = ["import_export", "write_problem_report"]


def import_export(source: str | Path, db: str | Path | Store | None = None, force: bool = False,
                  key: bytes | None = None, show_progress: bool = True) -> tuple[ImportResult, pd.DataFrame]:
    """Import ``source`` into the store; return the result and the warnings.

    Raises :class:`~kimtools.errors.ImportValidationError` (every problem at
    once) or :class:`~kimtools.errors.StoreError`; in both cases the store is
    exactly as it was.
    """
    store = db if isinstance(db, Store) else Store(db)
    export = read_export(source, key=key, show_progress=show_progress)
    return store.replace_kommunen(export, force=force), export.warnings


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
