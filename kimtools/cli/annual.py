"""``kimtools jahresbericht``: the annual report in Word, with its tables as a workbook beside it."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, UsageError
from ..present.jahresbericht import write_annual_report
from ..store import Store
from .common import kommune_of, out_file, say

__all__ = ["cmd_jahresbericht"]


def cmd_jahresbericht(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".docx":
        raise UsageError(f"--ausgabe {out}: bitte eine Word-Datei .docx angeben.",
                         f"--out {out}: please give a Word file .docx.")
    if args.minimum < 1:
        raise UsageError("--minimum muss mindestens 1 sein.", "--minimum must be at least 1.")
    template = Path(args.template) if args.template else None
    if template is not None and not template.is_file():
        raise InputError(f"Die Vorlage {template} gibt es nicht.", f"The template {template} does not exist.")
    store = Store(args.db)
    kommune = kommune_of(store, args.kommune)
    docx, xlsx = write_annual_report(store, kommune, args.year, out_file(out), template, args.minimum)
    say(f"Jahresbericht {kommune} {args.year} geschrieben: {docx} (Tabellen auch in {xlsx})",
        f"Annual report {kommune} {args.year} written: {docx} (tables also in {xlsx})")
    return 0
