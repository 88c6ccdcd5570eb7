"""``kimtools report`` and ``sitzung``: the city's report, the steering committee's printout, frozen meeting states."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from ..errors import KimtoolsError, UsageError
from ..hub.gast import guest_path
from ..i18n import current_lang, fmt_date, fmt_datetime, tr
from ..present.notebook_report import notebook_parameters, parse_parameters, render_notebook, report_notebook
from ..present.pages import MEETING_PATH
from ..present.report import (chromium, freeze_meeting, lenkungskreis_name, render_report, render_reports,
                              write_lenkungskreis)
from ..periods import QUARTER
from ..progress import progress
from ..store import Store
from ..store.gastlinks import GUEST_PATH, revoke, sign
from ..store.meetings import meeting, meetings, meetings_folder, remove
from .common import batch_summary, day_option, kommune_of, out_dir, out_file, say
from .parser import SITZUNG_ACTIONS

__all__ = ["cmd_report", "cmd_sitzung"]


def cmd_report(args) -> int:
    if args.notebook is not None:
        return _notebook_report(args)
    if args.parameters:
        raise UsageError("-p/--parameter gilt für --notebook.", "-p/--parameter is for --notebook.")
    store = Store(args.db)
    if args.meeting is not None:
        if not args.lenkungskreis:
            raise UsageError("--sitzung gilt für die Lenkungskreis-Seite: bitte mit --lenkungskreis.",
                             "--meeting is for the steering committee's page: please add --lenkungskreis.")
        store, args = _meeting_store(store, args)
    if args.lenkungskreis:
        return _lenkungskreis(store, args)
    first, last = (args.period, args.period) if args.period else (args.first, args.last)
    lang = current_lang()
    if args.all:
        out_dir(args.out)
    else:
        out_file(args.out)
    if args.all:
        result = render_reports(store.path, store.kommunen(), args.out, first, last, lang)
        return batch_summary(result, ("Bericht", "report"), ("Berichten", "reports"), args.out)
    kommune = kommune_of(store, args.kommune)
    path = render_report(store.path, kommune, args.out, first, last, lang)
    say(f"Bericht {kommune} geschrieben: {path} (öffnet ohne Internet in jedem Browser)",
        f"Report {kommune} written: {path} (opens offline in any browser)")
    return 0


def _notebook_report(args) -> int:
    """``bericht --notebook NAME``: the notebook run with its parameters, written without code (.html or .pdf)."""
    given = [name for name, value in (("--alle", args.all), ("--lenkungskreis", args.lenkungskreis),
                                      ("--sitzung", args.meeting), ("--bezirk", args.bezirk),
                                      ("--von", args.first), ("--bis", args.last)) if value]
    if given:
        raise UsageError(f"{', '.join(given)} gilt nicht mit --notebook; Parameter des Notebooks mit -p NAME=WERT.",
                         f"{', '.join(given)} does not go with --notebook; the notebook's parameters with -p NAME=VALUE.")
    path = report_notebook(args.notebook)
    known = notebook_parameters(path)
    parameters = parse_parameters(args.parameters, known)
    store = Store(args.db)
    if "KOMMUNE" in known:
        parameters.setdefault("KOMMUNE", kommune_of(store, args.kommune))
    if args.period:   # the notebook's quarter (02, 04) or the quarter its twelve months end with (03)
        slot = next((n for n in ("QUARTAL", "BIS_QUARTAL") if n in known), None)
        if slot is None:
            raise UsageError(f"{path.name} hat keinen Zeitraum; --zeitraum weglassen.",
                             f"{path.name} has no period; leave out --period.")
        parameters.setdefault(slot, args.period)
    out = out_file(args.out)
    written = render_notebook(path.name, out, parameters, db=store.path)
    say(f"Bericht {path.stem} geschrieben: {written} (ohne Code; öffnet ohne Internet)",
        f"Report {path.stem} written: {written} (without code; opens offline)")
    return 0


def _meeting_store(store, args):
    """The frozen copy of a meeting state, with its kommune and quarter as defaults."""
    found = meeting(store, args.meeting)
    if getattr(args, "kommune", None) is None:
        args.kommune = found.kommune
    if getattr(args, "period", None) is None:
        args.period = found.quartal
    return found.store, args


def cmd_sitzung(args) -> int:
    args.action = SITZUNG_ACTIONS.get(args.action, args.action)   # create, list, remove
    store = Store(args.db)
    if args.action == "liste":
        found = meetings(store)
        if not found:
            say("Keine Sitzungsstände.", "No meeting states.")
        for m in found:
            what = ", ".join(x for x in (m.kommune, m.quartal) if x)
            end = fmt_date(m.datenende) if m.datenende else "–"
            print(f"{m.name}: {tr(('eingefroren am', 'frozen on'))} {fmt_datetime(m.frozen)}, "
                  f"{tr(('Daten bis', 'data up to'))} {end}" + (f" ({what})" if what else "") + f" – {m.folder}")
        return 0
    if args.action == "link" and args.revoke:
        revoke(meetings_folder(store), args.revoke)
        say(f"Gastlink {args.revoke} widerrufen: er öffnet nichts mehr.", f"Guest link {args.revoke} revoked: it opens nothing.")
        return 0
    if not args.name:
        raise UsageError(f"kimtools sitzung {args.action} braucht einen NAMEN.", f"kimtools sitzung {args.action} needs a NAME.")
    if args.action == "link":
        return _guest_link(store, args)
    if args.action == "entfernen":
        found = remove(store, args.name)
        say(f"Sitzungsstand {found.name} entfernt.", f"Meeting state {found.name} removed.")
        return 0
    found = freeze_meeting(store, args.name, args.kommune, args.quartal)
    say(f"Sitzungsstand {found.name} eingefroren: {found.folder}\n"
        f"Zeigen: kimtools zeigen --sitzung {found.name}; drucken: kimtools bericht --lenkungskreis --sitzung "
        f"{found.name} --ausgabe DATEI.html. Einschätzung der Koordination: {found.commentary_path}\n"
        f"Für die Einladung: die Sitzungsansicht (öffnet sofort, auch für alle zugleich) unter "
        f"/{MEETING_PATH} des Servers.",
        f"Meeting state {found.name} frozen: {found.folder}\n"
        f"Show: kimtools serve --meeting {found.name}; print: kimtools report --steering --meeting "
        f"{found.name} --out FILE.html. The coordinators' assessment: {found.commentary_path}\n"
        f"For the invitation: the meeting view (opens at once, for everyone together) at /{MEETING_PATH} of "
        f"the server.")
    return 0


def _guest_link(store, args) -> int:
    """A signed link to the meeting's view, for a guest without an account, until ``--gueltig-bis``."""
    found = meeting(store, args.name)
    if not args.until:
        raise UsageError("kimtools sitzung link braucht --gueltig-bis TT.MM.JJJJ (den letzten Tag, an dem er öffnet).",
                         "kimtools meeting link needs --valid-until DD.MM.YYYY (the last day it opens).")
    until = day_option(args.until, "--gueltig-bis", "--valid-until")
    if until < dt.date.today():
        raise UsageError(f"--gueltig-bis {fmt_date(until)} liegt in der Vergangenheit.",
                         f"--valid-until {fmt_date(until, 'en')} lies in the past.")
    token, ident = sign(meetings_folder(store), found.name, until)
    served, hub = f"/{GUEST_PATH}/{token}", f"{guest_path()}{token}"
    say(f"Gastlink zur Sitzungsansicht {found.name}, gültig bis {fmt_date(until)} (ID {ident}, zum Widerrufen: "
        f"kimtools sitzung link --widerrufen {ident}):\n  mit kimtools serve:  {served}\n  im Team-Modus (kimtools hub): "
        f"{hub}\n(vor den Pfad gehört die Adresse des Servers, etwa https://kim.stadt.example)",
        f"Guest link to the meeting view {found.name}, valid until {fmt_date(until, 'en')} (ID {ident}, to revoke it: "
        f"kimtools meeting link --revoke {ident}):\n  with kimtools serve:  {served}\n  in team mode (kimtools hub): "
        f"{hub}\n(put the server's address in front, e.g. https://kim.stadt.example)")
    return 0


def _lenkungskreis(store, args) -> int:
    if args.first or args.last:
        raise UsageError("Die Lenkungskreis-Seite gilt für ein Quartal: --zeitraum JJJJ-Qn statt --von/--bis.",
                         "The steering committee's page covers one quarter: --period YYYY-Qn instead of --from/--to.")
    if args.period and not QUARTER.match(args.period):
        raise UsageError(f"--zeitraum {args.period!r}: die Lenkungskreis-Seite braucht ein Quartal wie 2025-Q3.",
                         f"--period {args.period!r}: the steering committee's page needs a quarter such as 2025-Q3.")
    pdf = not args.no_pdf
    if args.all:
        out_dir(args.out)
    else:
        out_file(args.out)
    if pdf and chromium() is None:
        say("Hinweis: kein chromium gefunden, daher nur HTML (im Browser mit Strg+P als PDF druckbar).",
            "Note: no chromium found, so HTML only (printable to PDF from a browser with Ctrl+P).", file=sys.stderr)
    if not args.all:
        written = write_lenkungskreis(store, kommune_of(store, args.kommune), args.out, args.period, args.bezirk, pdf=pdf)
        say(f"Lenkungskreis-Seite geschrieben: {', '.join(map(str, written))}",
            f"Steering committee page written: {', '.join(map(str, written))}")
        return 0


    rows = []
    for kommune in progress(store.kommunen(), tr({"de": "Lenkungskreis-Seiten", "en": "steering pages"})):
        target = Path(args.out) / (lenkungskreis_name(kommune, args.period or "aktuell") + ".html")
        try:
            written = write_lenkungskreis(store, kommune, target, args.period, args.bezirk, pdf=pdf)
            rows.append((kommune, ", ".join(map(str, written)), ""))
        except KimtoolsError as e:
            rows.append((kommune, "", e.message()))
    return batch_summary(pd.DataFrame(rows, columns=["kommune", "datei", "fehler"]), ("Bericht", "page"), ("Berichte", "pages"),
                         args.out)
