"""``kimtools beschluesse einlesen`` and ``liste``: the steering committee's list of decisions in and out."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import DecisionListError, InputError, UsageError
from ..i18n import current_lang, fmt_date, tr
from ..ingest.beschluesse import import_decisions
from ..ingest.problems import problems_text
from ..present.beschluesse import DATE_COLUMNS, LIST_COLUMNS, decision_list
from ..spreadsheet import excel_writer, write_csv
from ..store import Store
from ..store.beschluesse import stored_decisions
from ..views.beschluesse import decision_views
from .common import kommune_of, out_file, say
from .importing import say_problems
from .parser import BESCHLUESSE_ACTIONS

__all__ = ["cmd_beschluesse"]

#: the columns of the terminal table (the files hold every column of the list)
_TABLE = ("beschluss_id", "titel", "status", "frist", "ueberfaellig", "kennzahl", "bereich", "vorher", "vorher_zeitraum",
          "nachher", "nachher_zeitraum", "urteil")
_TITLE_WIDTH = 40


def cmd_beschluesse(args) -> int:
    action = BESCHLUESSE_ACTIONS.get(args.action, args.action)
    store = Store(args.db)
    if action == "einlesen":
        return _read(args, store)
    return _list(args, store)


def _read(args, store: Store) -> int:
    if not args.source:
        raise UsageError("Welche Datei? 'kimtools beschluesse einlesen DATEI' (CSV oder XLSX).",
                         "Which file? 'kimtools beschluesse einlesen FILE' (CSV or XLSX).")
    before = stored_decisions(store) if store.exists() else None
    try:
        checked = import_decisions(args.source, store, dry_run=args.dry_run)
    except DecisionListError as exc:
        say_problems(exc)
        return 1
    if len(checked.warnings):
        print(problems_text(checked.warnings, lang=current_lang(), limit=20), file=sys.stderr)
    for kommune in checked.kommunen:
        new = int((checked.decisions["kommune"] == kommune).sum())
        old = int((before["kommune"] == kommune).sum()) if before is not None else 0
        if args.dry_run:
            say(f"Probelauf: {kommune}: {new} Beschlüsse würden die bisherigen {old} ersetzen; nichts gespeichert.",
                f"Dry run: {kommune}: {new} decisions would replace the {old} stored; nothing stored.")
        else:
            say(f"Beschlussliste {kommune}: {new} Beschlüsse gespeichert (ersetzt: {old}).",
                f"List of decisions {kommune}: {new} decisions stored (replaced: {old}).")
    return 0


def _list(args, store: Store) -> int:
    if args.source:
        raise UsageError(f"'liste' liest keine Datei ({args.source}); zum Einlesen: 'kimtools beschluesse einlesen "
                         f"{args.source}'.", f"'liste' reads no file ({args.source}); to read it: 'kimtools beschluesse "
                         f"einlesen {args.source}'.")
    kommune = kommune_of(store, args.kommune)
    if args.format == "xlsx" and not args.out:
        raise UsageError("Für --format xlsx bitte --ausgabe DATEI.xlsx angeben.", "--format xlsx needs --out FILE.xlsx.")
    suffix = {"xlsx": ".xlsx", "csv": ".csv", "table": ".txt"}[args.format]
    if args.out and Path(args.out).suffix.lower() != suffix:
        raise InputError(f"--ausgabe {args.out} passt nicht zu --format {args.format}; bitte die Endung {suffix}.",
                         f"--out {args.out} does not fit --format {args.format}; please use the ending {suffix}.")
    views = decision_views(store, kommune)
    if views["decisions"].empty:
        say(f"Für {kommune} ist keine Beschlussliste gespeichert ('kimtools beschluesse einlesen DATEI').",
            f"No list of decisions is stored for {kommune} ('kimtools beschluesse einlesen FILE').", file=sys.stderr)
        return 0
    out = out_file(args.out) if args.out else None
    if args.format in ("csv", "xlsx"):
        frame = decision_list(views["decisions"], views["partners"], typed=True)
        dates = [tr(LIST_COLUMNS[k]) for k in DATE_COLUMNS]
        german = current_lang() == "de"
        if args.format == "xlsx":
            with excel_writer(out) as xl:
                frame.to_excel(xl, index=False, sheet_name="Beschluesse")
                sheet = xl.sheets["Beschluesse"]
                for i, column in enumerate(frame.columns, start=1):
                    if column in dates:   # a date cell, shown as the language writes dates
                        for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                            cell.number_format = "DD.MM.YYYY" if german else "YYYY-MM-DD"
        else:   # German: ; and decimal comma, dates TT.MM.JJJJ, as Excel in German opens it
            for column in dates:
                frame[column] = frame[column].map(lambda v: "" if v is None or v != v else
                                                  v.strftime("%d.%m.%Y" if german else "%Y-%m-%d"))
            write_csv(frame, out or sys.stdout, index=False, sep=";" if german else ",", decimal="," if german else ".",
                      encoding="utf-8-sig" if out else None)
    else:
        shown = decision_list(views["decisions"], views["partners"])
        shown = shown[[tr(LIST_COLUMNS[k]) for k in _TABLE]]
        title = tr(LIST_COLUMNS["titel"])
        shown[title] = shown[title].map(lambda t: t if len(t) <= _TITLE_WIDTH else t[:_TITLE_WIDTH - 1] + "…")
        text = shown.to_string(index=False)
        head = {"de": f"Beschlüsse {kommune}, Stand {fmt_date(views['today'])}", "en": f"Decisions {kommune}, as of "
                f"{fmt_date(views['today'], 'en')}"}
        text = tr(head) + "\n" + text
        if out:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
    if out:
        say(f"Geschrieben: {out}", f"Written: {out}")
    return 0
