"""``kimtools indicators`` and ``luecken``: the indicator table and the gap register as files."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from ..analysis.gaps import write_gap_register
from ..errors import InputError, UsageError
from ..i18n import current_lang, fmt_number
from ..indicators import indicator_table
from ..indicators.catalogue import catalogue_markdown
from ..spreadsheet import excel_writer, write_csv
from ..store import Store
from .common import kommune_of, out_file, say

__all__ = ["cmd_indicators", "cmd_luecken"]


def cmd_indicators(args) -> int:
    if args.katalog:   # the catalogue needs no store
        print(catalogue_markdown(current_lang()))
        return 0
    store = Store(args.db)
    if args.kommune is not None:
        kommune_of(store, args.kommune)
    if args.format == "xlsx" and not args.out:
        raise UsageError("Für --format xlsx bitte --ausgabe DATEI.xlsx angeben.", "--format xlsx needs --out FILE.xlsx.")
    suffix = {"xlsx": ".xlsx", "csv": ".csv", "table": ".txt"}[args.format]
    if args.out and Path(args.out).suffix.lower() in (".xlsx", ".csv", ".txt") and Path(args.out).suffix.lower() != suffix:
        raise InputError(f"--ausgabe {args.out} passt nicht zu --format {args.format} (das schreibt {suffix}-Dateien); "
                         f"bitte die Endung {suffix} verwenden oder --format passend wählen.",
                         f"--out {args.out} does not fit --format {args.format} (which writes {suffix} files); please use "
                         f"the ending {suffix} or choose --format to fit.")
    table = indicator_table(store, kommune=args.kommune, by=args.by, period=args.period, merkmal=args.merkmal)
    if args.out:
        args.out = out_file(args.out)
    if args.format == "xlsx":
        with excel_writer(args.out) as writer:
            table.to_excel(writer, index=False, sheet_name="Kennzahlen")
    elif args.format == "csv":
        write_csv(table, args.out or sys.stdout, index=False)
    else:
        shown = table.copy()
        for col in ("nenner", "wert", "ki_unten", "ki_oben"):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else fmt_number(v, 0 if float(v).is_integer() else 2))
        text = shown.to_string(index=False)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
    return 0


def cmd_luecken(args) -> int:
    store = Store(args.db)
    kommune = kommune_of(store, args.kommune)
    if args.minimum < 1:
        raise UsageError("--minimum muss mindestens 1 sein.", "--minimum must be at least 1.")
    if not str(args.out).lower().endswith(".xlsx"):
        raise UsageError("--ausgabe muss auf .xlsx enden.", "--out must end in .xlsx.")
    path = write_gap_register(out_file(args.out), store, kommune, minimum=args.minimum)
    say(f"Lückenregister {kommune} geschrieben: {path}", f"Gap register {kommune} written: {path}")
    return 0
