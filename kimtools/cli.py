"""The ``kimtools`` command: import, info, loeschen, demo, indicators, luecken, export, compare, report, serve.

Help and messages are German (argparse's own too); ``--lang en`` or ``KIMTOOLS_LANG=en`` switches
to English. Exit status: 0 done; 1 bad input (:class:`~kimtools.errors.InputError` and every other refusal: a
value or file that does not fit; nothing stored changed); 2 the command line's form
(:class:`~kimtools.errors.UsageError` and argparse). Every argument is NFC-normalised before it is parsed.

Longer than the 500 lines a module keeps to, on purpose: the parser (about 130 lines) and one short function per
subcommand, which imports its stage only when it runs. Split, a subcommand's options would stand apart from what
it does. The words of the help, German and English, are data in ``cli_help.toml``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import duckdb

from . import __version__
from .errors import ImportValidationError, InputError, KimtoolsError, UsageError, from_os_error
from .i18n import current_lang, fmt_date, fmt_datetime, fmt_number, fmt_percent, set_lang, tr
from .paths import DASHBOARDS
from .indicators.table import MERKMALE

__all__ = ["main", "build_parser"]

#: every subcommand's and option's help, German and English, from ``cli_help.toml``
_T: dict[str, tuple[str, str]] = {key: tuple(words) for key, words in tomllib.loads(
    (Path(__file__).parent / "cli_help.toml").read_text(encoding="utf-8")).items()}


def _t(key: str) -> str:
    return tr(_T[key])


#: argparse's own messages (English whatever the locale) in German: pattern → replacement
_ARGPARSE_DE = [
    (r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", r"Angabe \1: ungültige Wahl: \2 (möglich: \3)"),
    (r"argument (\S+): invalid (\w+) value: (.+)", r"Angabe \1: \3 ist keine gültige Angabe (erwartet: \2)"),
    (r"argument (\S+): expected one argument", r"Angabe \1: erwartet einen Wert"),
    (r"argument (\S+): expected at least one argument", r"Angabe \1: erwartet mindestens einen Wert"),
    (r"argument (\S+): ignored explicit argument (.+)", r"Angabe \1: \2 wird hier nicht erwartet"),
    (r"argument (\S+): not allowed with argument (.+)", r"Angabe \1: nicht zusammen mit \2"),
    (r"the following arguments are required: (.+)", r"diese Angaben fehlen: \1"),
    (r"unrecognized arguments: (.+)", r"unbekannte Angaben: \1"),
    (r"ambiguous option: (\S+) could match (.+)", r"mehrdeutige Option \1, passt zu \2"),
    (r"\bint\b", "ganze Zahl"),
]


def _german(message: str) -> str:
    """An argparse message in German (unknown ones stay as they are).

    >>> _german("argument --by: invalid choice: 'foo' (choose from 'kommune', 'stadtbezirk')")
    "Angabe --by: ungültige Wahl: 'foo' (möglich: 'kommune', 'stadtbezirk')"
    >>> _german("argument --port: invalid int value: 'x'")
    "Angabe --port: 'x' ist keine gültige Angabe (erwartet: ganze Zahl)"
    """
    for pattern, replacement in _ARGPARSE_DE:
        message = re.sub(pattern, replacement, message)
    return message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # German, exit 2 as argparse does
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {_t('error')}: {_german(message) if current_lang() == 'de' else message}\n")


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, _t("usage") if prefix is None else prefix)


def _parser(*args, **kw) -> _Parser:
    p = _Parser(*args, formatter_class=_Formatter, add_help=False, **kw)
    p._positionals.title = _t("pos")
    p._optionals.title = _t("opt")
    p.add_argument("-h", "--help", action="help", help=_t("help"))
    p.add_argument("--lang", choices=["de", "en"], help=_t("lang"))
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _parser(prog="kimtools", description=_t("prog"))
    parser.add_argument("--version", action="version", version=f"kimtools {__version__}", help=_t("version"))
    sub = parser.add_subparsers(dest="command", title=_t("cmds"), metavar="BEFEHL" if current_lang() == "de" else "COMMAND",
                                parser_class=_Parser)
    sub.required = True

    def command(name: str) -> _Parser:
        p = sub.add_parser(name, help=_t(name), description=_t(name), formatter_class=_Formatter, add_help=False)
        p._positionals.title, p._optionals.title = _t("pos"), _t("opt")
        p.add_argument("-h", "--help", action="help", help=_t("help"))
        p.add_argument("--lang", choices=["de", "en"], help=_t("lang"))
        return p

    p = command("import")
    p.add_argument("source", metavar="QUELLE", help=_t("source"))
    p.add_argument("--db", help=_t("db"))
    p.add_argument("--erzwingen", "--force", dest="force", action="store_true", help=_t("force"))
    p.add_argument("--probelauf", "--dry-run", dest="dry_run", action="store_true", help=_t("dry_run"))
    p.add_argument("--neuer-schluessel", "--new-key", dest="new_key", action="store_true", help=_t("new_key"))
    p.add_argument("--fehlerbericht", "--report", dest="report", help=_t("problem_report"))
    p.add_argument("--traeger", "--providers", dest="providers", metavar="ID[,ID]", help=_t("import_traeger"))
    p.add_argument("--gemeinsame-personenschluessel", "--shared-person-keys", dest="shared_person_keys",
                   action="store_true", help=_t("shared_person_keys"))
    p.add_argument("--profil", "--profile", dest="profile", metavar="DATEI", help=_t("import_profil"))

    p = command("profil")
    p.add_argument("source", metavar="QUELLE", help=_t("profil_source"))
    p.add_argument("--out", required=True, help=_t("profil_out"))
    p.add_argument("--erzwingen", "--force", dest="force", action="store_true", help=_t("profil_force"))

    p = command("bezirke")
    p.add_argument("source", metavar="QUELLE", nargs="?", help=_t("bezirke_source"))
    p.add_argument("--karte", "--map", dest="map", metavar="DATEI", help=_t("bezirke_karte"))
    p.add_argument("--profil", "--profile", dest="profile", metavar="DATEI", help=_t("bezirke_profil"))
    p.add_argument("--kommune", help=_t("bezirke_kommune"))
    p.add_argument("--stand", help=_t("bezirke_stand"))
    p.add_argument("--quelle", help=_t("bezirke_quelle"))
    p.add_argument("--probelauf", "--dry-run", dest="dry_run", action="store_true", help=_t("dry_run"))
    p.add_argument("--db", help=_t("db"))

    p = command("info")
    p.add_argument("--db", help=_t("db"))

    p = command("loeschen")
    p.add_argument("--kommune", required=True, help=_t("loeschen_kommune"))
    p.add_argument("--traeger", help=_t("loeschen_traeger"))
    p.add_argument("--ja", "--yes", dest="yes", action="store_true", help=_t("loeschen_ja"))
    p.add_argument("--db", help=_t("db"))

    p = command("demo")
    p.add_argument("--out", required=True, help=_t("out_dir"))
    p.add_argument("--seed", type=int, default=2024, help=_t("seed"))
    p.add_argument("--scale", choices=["city", "state"], default="city", help=_t("scale"))
    p.add_argument("--xlsx", action="store_true", help=_t("xlsx"))
    p.add_argument("--je-traeger", "--per-provider", dest="per_provider", action="store_true", help=_t("per_provider"))
    p.add_argument("--fremdformat", "--foreign-layout", dest="foreign", action="store_true", help=_t("fremdformat"))

    p = command("indicators")
    p.add_argument("--db", help=_t("db"))
    p.add_argument("--kommune", help=_t("kommune"))
    p.add_argument("--by", choices=["kommune", "stadtbezirk", "traeger"], default="kommune", help=_t("by"))
    p.add_argument("--period", choices=["month", "quarter", "year"], default="quarter", help=_t("period"))
    p.add_argument("--merkmal", choices=list(MERKMALE), help=_t("merkmal"))
    p.add_argument("--format", choices=["csv", "xlsx", "table"], default="table", help=_t("format"))
    p.add_argument("--out", help=_t("out_file"))

    p = command("luecken")
    p.add_argument("--out", required=True, help=_t("luecken_out"))
    p.add_argument("--db", help=_t("db"))
    p.add_argument("--kommune", help=_t("luecken_kommune"))
    p.add_argument("--minimum", type=int, default=3, help=_t("minimum"))

    p = command("export")
    p.add_argument("--kommune", help=_t("export_kommune"))
    p.add_argument("--alle", "--all", dest="all", action="store_true", help=_t("export_all"))
    p.add_argument("--db", help=_t("db"))
    p.add_argument("--from", dest="first", metavar="ZEITRAUM", help=_t("export_from"))
    p.add_argument("--to", dest="last", metavar="ZEITRAUM", help=_t("export_to"))
    p.add_argument("--out", required=True, help=_t("export_out"))
    p.add_argument("--minimum", type=int, default=3, help=_t("export_minimum"))
    p.add_argument("--minimum-merkmal", action="append", default=[], metavar="MERKMAL=N",
                   help=_t("export_minimum_merkmal"))

    p = command("compare")
    p.add_argument("bundles", nargs="+", metavar="PAKET", help=_t("bundles"))
    p.add_argument("--out", help=_t("compare_out"))

    p = command("report")
    p.add_argument("--kommune", help=_t("report_kommune"))
    p.add_argument("--alle", "--all", dest="all", action="store_true", help=_t("report_all"))
    p.add_argument("--db", help=_t("db"))
    p.add_argument("--period", "--zeitraum", dest="period", metavar="ZEITRAUM", help=_t("report_period"))
    p.add_argument("--from", dest="first", metavar="ZEITRAUM", help=_t("export_from"))
    p.add_argument("--to", dest="last", metavar="ZEITRAUM", help=_t("export_to"))
    p.add_argument("--out", required=True, help=_t("report_out"))
    p.add_argument("--lenkungskreis", "--steering", dest="lenkungskreis", action="store_true", help=_t("lenkungskreis"))
    p.add_argument("--bezirk", "--district", dest="bezirk", help=_t("report_bezirk"))
    p.add_argument("--kein-pdf", "--no-pdf", dest="no_pdf", action="store_true", help=_t("no_pdf"))
    p.add_argument("--sitzung", "--meeting", dest="meeting", metavar="NAME", help=_t("serve_sitzung"))

    p = command("serve")
    p.add_argument("--db", help=_t("db"))
    p.add_argument("--host", default="127.0.0.1", help=_t("host"))
    p.add_argument("--port", type=int, default=8866, help=_t("port"))
    p.add_argument("--token", help=_t("token"))
    p.add_argument("--dashboards", help=_t("dashboards"))
    p.add_argument("--vorheizen", "--preheat", dest="preheat", type=int, default=None, metavar="N", help=_t("preheat"))
    p.add_argument("--sitzung", "--meeting", dest="meeting", metavar="NAME", help=_t("serve_sitzung"))
    p.add_argument("--teilnehmende", "--attendees", dest="attendees", type=int, default=None, metavar="N",
                   help=_t("serve_teilnehmende"))

    p = command("vorbereiten")
    p.add_argument("--db", help=_t("db"))

    p = command("sitzung")
    p.add_argument("action", choices=["anlegen", "liste", "entfernen"], metavar="AKTION", help=_t("sitzung_aktion"))
    p.add_argument("name", nargs="?", metavar="NAME", help=_t("sitzung_name"))
    p.add_argument("--kommune", help=_t("sitzung_kommune"))
    p.add_argument("--quartal", "--quarter", dest="quartal", help=_t("sitzung_quartal"))
    p.add_argument("--db", help=_t("db"))
    return parser


def _say(de: str, en: str, file=None) -> None:
    print(tr((de, en)), file=file or sys.stdout)


def _say_problems(exc: ImportValidationError) -> None:
    """A refused file on stderr: what was refused, then each problem with file, row, column, value and reason."""
    from .ingest.read import problems_text

    print(exc.message(), file=sys.stderr)
    print(problems_text(exc.problems, lang=current_lang(), limit=50), file=sys.stderr)


def _cmd_import(args) -> int:
    from .ingest.delivery import findings_text, overview_text
    from .ingest.importer import REPORT_DAYS, import_export, private_report_path, write_problem_report
    from .ingest.read import problems_text
    from .store import Store

    lang = current_lang()
    try:
        providers = _providers(args)
        result, warnings = import_export(args.source, args.db, force=args.force, dry_run=args.dry_run,
                                         new_key=args.new_key, providers=providers,
                                         shared_person_keys=args.shared_person_keys, profile=args.profile)
    except KimtoolsError as exc:
        _key_note(getattr(exc, "key_created", None))
        if not isinstance(exc, ImportValidationError):
            raise
        _say_problems(exc)
        if args.report:
            path = write_problem_report(exc.problems, _out_file(args.report), lang=lang)
            _say(f"Vollständiger Fehlerbericht für den Datenlieferanten: {path}",
                 f"Full problem report for the provider of the export: {path}", file=sys.stderr)
        elif len(exc.problems) > 20:   # it echoes cell values: beside the store, owner-only, never the working folder
            path = write_problem_report(exc.problems, private_report_path(Store(args.db), args.source), lang=lang)
            _say(f"Alle {len(exc.problems)} Probleme als Arbeitsmappe für den Datenlieferanten: {path} (nur für Sie "
                 f"lesbar; nach {REPORT_DAYS} Tagen gelöscht). Mit --fehlerbericht DATEI.xlsx an einen Ort Ihrer Wahl.",
                 f"All {len(exc.problems)} problems as a workbook for the provider of the export: {path} (readable by "
                 f"you only; deleted after {REPORT_DAYS} days). With --report FILE.xlsx to a place of your choice.",
                 file=sys.stderr)
        return 1
    for leftover in result.leftovers:
        _say(f"Hinweis: Reste eines abgebrochenen Imports {'gefunden' if result.dry_run else 'entfernt'}: {leftover}",
             f"Note: leftovers of an interrupted import {'found' if result.dry_run else 'removed'}: {leftover}",
             file=sys.stderr)
    _key_note(result.key_created)
    if result.profile:
        _say(f"Gelesen mit dem Importprofil {result.profile}.", f"Read with the import profile {result.profile}.")
        for lookup in result.lookups:
            _say(f"  Nachschlagetabelle: {lookup}", f"  lookup table: {lookup}")
    if len(warnings):
        _say("Hinweise:", "Warnings:", file=sys.stderr)
        print(problems_text(warnings, lang=lang, limit=20), file=sys.stderr)
    names = ", ".join(result.kommunen)
    if result.unchanged:
        _say(f"Unverändert: dieser Export ist bereits der gespeicherte Stand für {names}. Nichts wurde geändert.",
             f"Unchanged: this export already is the stored state for {names}. Nothing was changed.")
        return 0
    if result.dry_run:
        _say("Probelauf – nichts wurde gespeichert. Der Import würde ändern (gespeichert → neu):",
             "Dry run – nothing was stored. The import would change (stored → new):")
        print(overview_text(result.overview, lang))
        _delivery_notes(result)
        if len(result.findings):
            _say("Der Import würde abgelehnt (mit --erzwingen ginge er durch), denn:",
                 "The import would be refused (it would go through with --force), because:")
            print(findings_text(result.findings, lang))
            return 1
        _say("Keine Auffälligkeiten: der Import ginge so durch.", "Nothing stands out: the import would go through.")
        return 0
    if len(result.findings):
        _say("Trotz dieser Auffälligkeiten importiert (--erzwingen, im Importprotokoll vermerkt):",
             "Imported despite these findings (--force, recorded in the import log):", file=sys.stderr)
        print(findings_text(result.findings, lang), file=sys.stderr)
    _delivery_notes(result)
    scope = tr((f" (Träger {', '.join(result.providers)})", f" (providers {', '.join(result.providers)})")) \
        if result.providers else ""
    for k, row in result.counts.iterrows():
        _say(f"Importiert {k}{scope}: {fmt_number(row['faelle'])} Fälle, {fmt_number(row['beratungen'])} Beratungen, "
             f"{fmt_number(row['vermittlungen'])} Vermittlungen, {fmt_number(row['partner'])} Partner",
             f"Imported {k}{scope}: {fmt_number(row['faelle'])} cases, {fmt_number(row['beratungen'])} consultations, "
             f"{fmt_number(row['vermittlungen'])} referrals, {fmt_number(row['partner'])} partners")
    if _warm_in_background(Store(args.db)):
        _say("Prognosen und Vergleich der eigenen Daten werden im Hintergrund vorbereitet (niedrige Priorität).",
             "Forecasts and the comparison of the own data are being prepared in the background (low priority).")
    return 0


def _delivery_notes(result) -> None:
    """A provider delivery's contradictions and its partner IDs the register knows otherwise or not at all."""
    from .ingest.providers import delivery_notes

    text = delivery_notes(result.contradictions, result.register, current_lang())
    if text:
        print(text, file=sys.stderr)


def _providers(args) -> tuple[str, ...] | None:
    """The providers of ``--traeger A,B`` (``None`` without it); ``--gemeinsame-personenschluessel`` needs it."""
    if args.providers is None:
        if args.shared_person_keys:
            raise UsageError("--gemeinsame-personenschluessel gilt nur für eine Trägerlieferung (--traeger).",
                             "--shared-person-keys applies to a provider delivery only (--providers).")
        return None
    providers = tuple(dict.fromkeys(p.strip() for p in args.providers.split(",") if p.strip()))
    if not providers:
        raise UsageError("--traeger braucht mindestens eine Träger-ID, z. B. --traeger AWO,CV.",
                         "--providers needs at least one provider ID, e.g. --providers AWO,CV.")
    return providers


def _key_note(created: str | None) -> None:
    if created:
        _say(f"Neuer Pseudonymisierungsschlüssel angelegt: {created}. Bitte sicher aufbewahren (Sicherung getrennt "
             "vom Datenbestand): ohne ihn erhalten dieselben Personen beim nächsten Import andere Pseudonyme.",
             f"New pseudonymisation key created: {created}. Keep it safe (backed up apart from the store): without it "
             "the same persons get other pseudonyms at the next import.", file=sys.stderr)


def _out_file(path: str | Path) -> Path:
    """An output file's path, its folder created (and said so) if missing."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} ist ein Ordner; bitte einen Dateinamen angeben.", f"{path} is a folder; please give a file name.")
    _out_dir(path.parent)
    return path


def _out_dir(path: str | Path) -> Path:
    """An output folder, created (and said so) if missing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} ist eine Datei, erwartet wird ein Ordner.", f"{path} is a file, a folder is expected.")
    if not path.exists():
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise from_os_error(exc, path, "den Ordner anlegen", "create the folder") from None
        _say(f"Ordner {path} angelegt.", f"Folder {path} created.", file=sys.stderr)
    return path


def _cmd_info(args) -> int:
    from .store import Store

    store = Store(args.db)
    info = store.info()
    if info.empty:
        _say(f"Der Datenbestand {store.path} ist leer.", f"The store {store.path} is empty.")
        return 0
    headers = tr((["Kommune", "Fälle", "Beratungen", "Vermittlungen", "Partner", "Stellen (VZÄ)", "Daten von", "Daten bis",
                   "Letzter Import"],
                  ["kommune", "cases", "consultations", "referrals", "partners", "posts (FTE)", "data from", "data to",
                   "last import"]))
    rows = []
    for r in info.itertuples():
        rows.append([r.kommune, fmt_number(r.faelle), fmt_number(r.beratungen), fmt_number(r.vermittlungen),
                     fmt_number(r.partner), fmt_number(r.vzae_aktuell, 1), fmt_date(r.daten_von.date()), fmt_date(r.daten_bis.date()),
                     fmt_datetime(r.letzter_import)])
    _print_table(headers, rows)
    _delivery_table(store)
    _say(f"Datenbestand: {store.path}", f"Store: {store.path}")
    for leftover in store.leftovers():   # only while a writer is at work, or where they cannot be removed
        _say(f"Rest eines abgebrochenen oder laufenden Imports: {leftover} ({fmt_number(leftover.stat().st_size)} Bytes); "
             "wird beim nächsten Befehl entfernt, wenn kein Import mehr läuft.",
             f"Leftover of an interrupted or running import: {leftover} ({fmt_number(leftover.stat().st_size)} bytes); "
             "removed by the next command once no import runs.")
    return 0


def _delivery_table(store) -> None:
    """Who has delivered up to when: per kommune and provider, and the periods not yet complete for every provider."""
    import pandas as pd

    from .store.deliveries import complete_until

    state = store.delivery_state()
    if state.empty:
        return
    print()
    _say("Lieferungen je Träger:", "Deliveries per provider:")
    headers = tr((["Kommune", "Träger", "Letzte Lieferung", "Umfang", "Daten bis", "Fälle", "Beratungen",
                   "Vermittlungen", "Stellen"],
                  ["kommune", "provider", "last delivery", "scope", "data to", "cases", "consultations", "referrals",
                   "posts"]))
    whole = tr(("ganze Kommune", "whole kommune"))
    rows = [[r.kommune, r.traeger, fmt_datetime(r.letzte_lieferung) if pd.notna(r.letzte_lieferung) else "–",
             (r.umfang or whole) if isinstance(r.umfang, str) else "–",
             fmt_date(r.datenende.date()) if pd.notna(r.datenende) else "–",
             fmt_number(r.faelle), fmt_number(r.beratungen), fmt_number(r.vermittlungen), fmt_number(r.stellen)]
            for r in state.itertuples()]
    _print_table(headers, rows)
    for r in complete_until(state).itertuples():
        if r.vollstaendig_bis < r.datenende:
            _say(f"{r.kommune}: Daten nur bis {fmt_date(r.vollstaendig_bis.date())} von allen Trägern geliefert "
                 f"(noch nicht: {r.nachzuegler}); Zeiträume danach bis {fmt_date(r.datenende.date())} sind unvollständig "
                 "und in Kennzahlentabellen und Dashboards markiert.",
                 f"{r.kommune}: data delivered by every provider only up to {fmt_date(r.vollstaendig_bis.date())} "
                 f"(not yet: {r.nachzuegler}); periods after it up to {fmt_date(r.datenende.date())} are incomplete and "
                 "marked in indicator tables and dashboards.")


def _cmd_loeschen(args) -> int:
    from .ingest.importer import derive_tables
    from .store import Store

    store = Store(args.db)
    what_de = f"{args.kommune}, Träger {args.traeger}" if args.traeger else args.kommune
    what_en = f"{args.kommune}, provider {args.traeger}" if args.traeger else args.kommune
    if not args.yes:
        counts = store.removal_counts(args.kommune, args.traeger)
        _say(f"Gelöscht würden ({what_de}):", f"This would be deleted ({what_en}):")
        for r in counts.itertuples():
            print(f"  {r.tabelle}: {fmt_number(r.zeilen)}")
        _say("Nichts wurde gelöscht. Zum Löschen: derselbe Befehl mit --ja.",
             "Nothing was deleted. To delete: the same command with --yes.")
        return 0
    deleted = store.remove(args.kommune, args.traeger, derive=derive_tables)
    n = int(deleted.set_index("tabelle").loc["faelle", "zeilen"])
    _say(f"Gelöscht ({what_de}): {fmt_number(n)} Fälle mit ihren Beratungen, Vermittlungen und Statuswechseln"
         f"{'' if args.traeger else ', Partner, Stellen und Bezirkszahlen'}; im Importprotokoll vermerkt. "
         "Sicherungen des Datenbestands enthalten die Daten weiter.",
         f"Deleted ({what_en}): {fmt_number(n)} cases with their consultations, referrals and status changes"
         f"{'' if args.traeger else ', partners, posts and district figures'}; recorded in the import log. "
         "Backups of the store still hold the data.")
    return 0


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    for i, line in enumerate([headers] + rows):
        print("  ".join(str(v).ljust(w) if j == 0 else str(v).rjust(w) for j, (v, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _cmd_profil(args) -> int:
    from .ingest.draft import draft_profile

    out = _out_file(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} gibt es schon; einen anderen Namen wählen oder --erzwingen (überschreibt).",
                         f"{out} exists already; choose another name or --force (overwrites).")
    draft = draft_profile(Path(args.source))
    draft.write(out)
    open_ = draft.undecided()
    _say(f"Entwurf geschrieben: {out} ({len(draft.entries) - len(open_)} Einträge erkannt, {len(open_)} offen).",
         f"Draft written: {out} ({len(draft.entries) - len(open_)} entries recognised, {len(open_)} open).")
    if open_:
        _say("Noch zu entscheiden (im Entwurf mit \"?\" markiert, der Kommentar nennt, was in Frage kommt):",
             "Still to decide (marked \"?\" in the draft; its comment names the candidates):")
        for e in open_:
            print(f"  {e.path}")
    _say(f"Danach: kimtools import {args.source} --profil {out}", f"Then: kimtools import {args.source} --profile {out}")
    return 0


def _cmd_bezirke(args) -> int:
    import pandas as pd

    from .ingest.reference_figures import import_district_figures

    if args.map:
        if args.source:
            raise UsageError("Entweder Bezirkszahlen (QUELLE) oder eine Karte (--karte) einlesen, nicht beides auf einmal.",
                             "Read either district figures (SOURCE) or a map (--map), not both at once.")
        return _boundaries(args)
    if not args.source:
        raise UsageError("Was soll eingelesen werden? kimtools bezirke QUELLE (Einwohnerzahlen) oder "
                         "kimtools bezirke --karte DATEI (Bezirksgrenzen).",
                         "What is to be read? kimtools bezirke SOURCE (population figures) or "
                         "kimtools bezirke --map FILE (district boundaries).")
    try:
        result = import_district_figures(args.source, args.db, args.profile, args.kommune, args.stand, args.quelle,
                                         dry_run=args.dry_run)
    except ImportValidationError as exc:
        _say_problems(exc)
        return 1
    for line in result.skipped:
        _say(f"Summenzeile ausgelassen: {line}", f"Total row left out: {line}")
    _say("Probelauf – nichts wurde gespeichert. Die Raten je 1.000 würden diese Zahlen verwenden:" if args.dry_run else
         "Übernommen. Die Raten je 1.000 verwenden jetzt diese Zahlen:",
         "Dry run – nothing was stored. Rates per 1,000 would use these figures:" if args.dry_run else
         "Taken over. Rates per 1,000 now use these figures:")
    kind = {"amtlich": tr(("amtlich", "official")), "export": tr(("aus dem Export", "from the export")),
            "mitgeliefert": tr(("Schätzung (mitgeliefert)", "estimate (shipped)"))}
    for r in result.used.itertuples():
        foreign = fmt_number(r.auslaender) if pd.notna(r.auslaender) else "–"
        print(f"  {r.kommune} · {r.stadtbezirk}: {fmt_number(r.einwohner)} / {foreign} · "
              f"{tr(('Stand', 'as of'))} {fmt_date(r.stand)} · {kind.get(r.herkunft, r.herkunft)} · {r.quelle}")
    return 0


def _boundaries(args) -> int:
    from .contract.reference import units
    from .ingest.boundaries import import_boundaries

    try:
        shapes = import_boundaries(args.map, args.db, args.kommune, args.quelle, dry_run=args.dry_run)
    except ImportValidationError as exc:
        _say_problems(exc)
        return 1
    kommune = shapes["kommune"].iloc[0]
    words = units(kommune)   # a Kreis's are Gemeinden
    _say(f"Probelauf – nichts wurde gespeichert. Die Karte von {kommune} hätte {len(shapes)} {words['Bezirke']}:"
         if args.dry_run else f"Übernommen. Die Karten von {kommune} zeigen jetzt {len(shapes)} {words['Bezirke']}:",
         f"Dry run – nothing was stored. The map of {kommune} would have {len(shapes)} {words['districts']}:"
         if args.dry_run else f"Taken over. The maps of {kommune} now show {len(shapes)} {words['districts']}:")
    print("  " + ", ".join(shapes["stadtbezirk"]))
    if shapes.attrs.get("repariert"):
        _say(f"Hinweis: die Fläche von {', '.join(shapes.attrs['repariert'])} schneidet sich selbst und wurde "
             "repariert (Umriss an der Kreuzung geteilt); bitte die Karte auf der Fallzahlen-Seite ansehen und die "
             "Datei im GIS prüfen.",
             f"Note: the area of {', '.join(shapes.attrs['repariert'])} crosses itself and was repaired (its outline "
             "split at the crossing); please look at the map on the caseload page and check the file in the GIS.",
             file=sys.stderr)
    return 0


def _cmd_demo(args) -> int:
    from .ingest.demo import write_demo

    path = write_demo(args.out, seed=args.seed, scale=args.scale, xlsx=args.xlsx, per_provider=args.per_provider,
                      foreign=args.foreign)
    if args.foreign:
        _say(f"Demo im Fremdformat geschrieben: {path} mit Importprofil daneben (einlesen mit 'kimtools import {path}')",
             f"Demo in a foreign layout written: {path} with its import profile beside it (import with "
             f"'kimtools import {path}')")
        return 0
    if args.per_provider:
        example = next(iter(sorted(p for p in Path(path).glob("*/*") if p.is_dir())), None)
        _say(f"Demo-Lieferungen je Träger geschrieben: {path}/<Kommune>/<Träger>/ (einlesen je Träger, z. B. "
             f"'kimtools import {example} --traeger {example.name if example else 'ID'} --gemeinsame-personenschluessel')",
             f"Demo deliveries per provider written: {path}/<kommune>/<provider>/ (import each, e.g. "
             f"'kimtools import {example} --providers {example.name if example else 'ID'} --shared-person-keys')")
        return 0
    _say(f"Demo-Export geschrieben: {path} (einlesen mit 'kimtools import {path}')",
         f"Demo export written: {path} (import with 'kimtools import {path}')")
    return 0


def _cmd_indicators(args) -> int:
    import pandas as pd

    from .indicators import indicator_table
    from .store import Store

    from .spreadsheet import excel_writer, write_csv

    store = Store(args.db)
    if args.kommune is not None:
        _kommune(store, args.kommune)
    if args.format == "xlsx" and not args.out:
        raise UsageError("Für --format xlsx bitte --out DATEI.xlsx angeben.", "--format xlsx needs --out FILE.xlsx.")
    suffix = {"xlsx": ".xlsx", "csv": ".csv", "table": ".txt"}[args.format]
    if args.out and Path(args.out).suffix.lower() in (".xlsx", ".csv", ".txt") and Path(args.out).suffix.lower() != suffix:
        raise InputError(f"--out {args.out} passt nicht zu --format {args.format} (das schreibt {suffix}-Dateien); "
                         f"bitte die Endung {suffix} verwenden oder --format passend wählen.",
                         f"--out {args.out} does not fit --format {args.format} (which writes {suffix} files); please use "
                         f"the ending {suffix} or choose --format to fit.")
    table = indicator_table(store, kommune=args.kommune, by=args.by, period=args.period, merkmal=args.merkmal)
    if args.out:
        args.out = _out_file(args.out)
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


def _kommune(store, name: str | None) -> str:
    """The kommune a command is about: the one named, or the only one in the store."""
    kommunen = store.kommunen()
    if name is None and len(kommunen) == 1:
        return kommunen[0]
    if name not in kommunen:
        given = f"{name!r} ist nicht im Datenbestand. " if name else ""
        given_en = f"{name!r} is not in the store. " if name else ""
        raise InputError(f"{given}Bitte mit --kommune eine der Kommunen im Datenbestand wählen: {', '.join(kommunen)}.",
                         f"{given_en}Please choose one of the kommunen in the store with --kommune: {', '.join(kommunen)}.")
    return name


def _cmd_luecken(args) -> int:
    from .analysis.gaps import write_gap_register
    from .store import Store

    store = Store(args.db)
    kommune = _kommune(store, args.kommune)
    if args.minimum < 1:
        raise UsageError("--minimum muss mindestens 1 sein.", "--minimum must be at least 1.")
    if not str(args.out).lower().endswith(".xlsx"):
        raise UsageError("--out muss auf .xlsx enden.", "--out must end in .xlsx.")
    path = write_gap_register(_out_file(args.out), store, kommune, minimum=args.minimum)
    _say(f"Lückenregister {kommune} geschrieben: {path}", f"Gap register {kommune} written: {path}")
    return 0


def _batch_summary(table, one: tuple[str, str], many: tuple[str, str], out: str) -> int:
    """Report a batch (one row per kommune, ``fehler`` empty when done): each failure, then the count."""
    for r in table.itertuples():
        if r.fehler:
            _say(f"{r.kommune}: kein {one[0]} – {r.fehler}", f"{r.kommune}: no {one[1]} – {r.fehler}", file=sys.stderr)
    done = int((table["fehler"] == "").sum())
    _say(f"{done} von {len(table)} {many[0]} geschrieben nach {out}", f"{done} of {len(table)} {many[1]} written to {out}")
    return 0 if done == len(table) else 1


def _cmd_export(args) -> int:
    from .exchange.bundle import BUNDLE_KENNZAHLEN, checked_request, export_bundle, export_bundles
    from .store import Store

    store = Store(args.db)
    kommune = None if args.all else _kommune(store, args.kommune)
    merkmale = {m for spec in BUNDLE_KENNZAHLEN.values() for m in spec["merkmale"]}
    per_merkmal = {}
    for item in args.minimum_merkmal:
        name, _, value = item.partition("=")
        if name not in merkmale or not value.isdigit() or int(value) < args.minimum:
            raise UsageError(f"--minimum-merkmal {item!r}: erwartet MERKMAL=N mit N ≥ --minimum und MERKMAL aus "
                             f"{', '.join(sorted(merkmale))}.",
                             f"--minimum-merkmal {item!r}: expected MERKMAL=N with N ≥ --minimum and MERKMAL one of "
                             f"{', '.join(sorted(merkmale))}.")
        per_merkmal[name] = int(value)
    checked_request(store, kommune, args.first, args.last, args.minimum)   # before the folder is made
    _out_dir(args.out)
    if args.all:
        table = export_bundles(store, args.out, None, args.first, args.last, args.minimum, per_merkmal)
        return _batch_summary(table, ("Paket", "bundle"), ("Vergleichspaketen", "comparison bundles"), args.out)
    result = export_bundle(store, kommune, args.out, args.first, args.last, args.minimum, per_merkmal)
    share = fmt_percent(result.anteil_geschuetzt, 1)
    _say(f"Vergleichspaket {kommune} geschrieben: {result.folder} und {result.zip.name}\n"
         f"{fmt_number(result.zellen)} Zellen, davon {fmt_number(result.geschuetzt)} geschützt ({share}); "
         "Schutzprüfung bestanden.",
         f"Comparison bundle {kommune} written: {result.folder} and {result.zip.name}\n"
         f"{fmt_number(result.zellen)} cells, {fmt_number(result.geschuetzt)} of them protected ({share}); "
         "disclosure audit passed.")
    return 0


def _cmd_compare(args) -> int:
    from .exchange.bundle import merge_bundles, write_merged

    merged = merge_bundles(args.bundles)
    headers = tr((["Kommune", "von", "bis", "Zellen", "geschützt", "Anteil", "Mindestanzahl"],
                  ["kommune", "from", "to", "cells", "protected", "share", "minimum"]))
    rows = [[r.kommune, r.von, r.bis, fmt_number(r.zellen), fmt_number(r.geschuetzt),
             fmt_percent(r.anteil_geschuetzt, 1), str(r.mindestanzahl)] for r in merged.pakete.itertuples()]
    _print_table(headers, rows)
    _say(f"{len(rows)} Pakete geprüft: Format, Prüfsummen und Schutzprüfung in Ordnung.",
         f"{len(rows)} bundles checked: format, checksums and disclosure audit fine.")
    if args.out:
        folder = write_merged(merged, _out_dir(args.out))
        _say(f"Zusammengeführte Tabellen: {folder}", f"Merged tables: {folder}")
    return 0


def _cmd_report(args) -> int:
    from .present.report import render_report, render_reports
    from .store import Store

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
        _out_dir(args.out)
    else:
        _out_file(args.out)
    if args.all:
        result = render_reports(store.path, store.kommunen(), args.out, first, last, lang)
        return _batch_summary(result, ("Bericht", "report"), ("Berichten", "reports"), args.out)
    kommune = _kommune(store, args.kommune)
    path = render_report(store.path, kommune, args.out, first, last, lang)
    _say(f"Bericht {kommune} geschrieben: {path} (öffnet ohne Internet in jedem Browser)",
         f"Report {kommune} written: {path} (opens offline in any browser)")
    return 0


def _meeting_store(store, args):
    """The frozen copy of a meeting state, with its kommune and quarter as defaults."""
    from .store.meetings import meeting

    found = meeting(store, args.meeting)
    if getattr(args, "kommune", None) is None:
        args.kommune = found.kommune
    if getattr(args, "period", None) is None:
        args.period = found.quartal
    return found.store, args


def _cmd_sitzung(args) -> int:
    from .present.pages import MEETING_PATH
    from .present.report import freeze_meeting
    from .store import Store
    from .store.meetings import meetings, remove

    store = Store(args.db)
    if args.action == "liste":
        found = meetings(store)
        if not found:
            _say("Keine Sitzungsstände.", "No meeting states.")
        for m in found:
            what = ", ".join(x for x in (m.kommune, m.quartal) if x)
            end = fmt_date(m.datenende) if m.datenende else "–"
            print(f"{m.name}: {tr(('eingefroren am', 'frozen on'))} {fmt_datetime(m.frozen)}, "
                  f"{tr(('Daten bis', 'data up to'))} {end}" + (f" ({what})" if what else "") + f" – {m.folder}")
        return 0
    if not args.name:
        raise UsageError(f"kimtools sitzung {args.action} braucht einen NAMEN.", f"kimtools sitzung {args.action} needs a NAME.")
    if args.action == "entfernen":
        found = remove(store, args.name)
        _say(f"Sitzungsstand {found.name} entfernt.", f"Meeting state {found.name} removed.")
        return 0
    found = freeze_meeting(store, args.name, args.kommune, args.quartal)
    _say(f"Sitzungsstand {found.name} eingefroren: {found.folder}\n"
         f"Zeigen: kimtools serve --sitzung {found.name}; drucken: kimtools report --lenkungskreis --sitzung "
         f"{found.name} --out DATEI.html. Einschätzung der Koordination: {found.commentary_path}\n"
         f"Für die Einladung: die Sitzungsansicht (öffnet sofort, auch für alle zugleich) unter "
         f"/{MEETING_PATH} des Servers.",
         f"Meeting state {found.name} frozen: {found.folder}\n"
         f"Show: kimtools serve --sitzung {found.name}; print: kimtools report --lenkungskreis --sitzung "
         f"{found.name} --out FILE.html. The coordinators' assessment: {found.commentary_path}\n"
         f"For the invitation: the meeting view (opens at once, for everyone together) at /{MEETING_PATH} of "
         f"the server.")
    return 0


def _lenkungskreis(store, args) -> int:
    from .present.report import chromium, lenkungskreis_name, write_lenkungskreis

    if args.first or args.last:
        raise UsageError("Die Lenkungskreis-Seite gilt für ein Quartal: --period JJJJ-Qn statt --from/--to.",
                         "The steering committee's page covers one quarter: --period YYYY-Qn instead of --from/--to.")
    if args.period and not re.fullmatch(r"\d{4}-Q[1-4]", args.period):
        raise UsageError(f"--period {args.period!r}: die Lenkungskreis-Seite braucht ein Quartal wie 2025-Q3.",
                         f"--period {args.period!r}: the steering committee's page needs a quarter such as 2025-Q3.")
    pdf = not args.no_pdf
    if args.all:
        _out_dir(args.out)
    else:
        _out_file(args.out)
    if pdf and chromium() is None:
        _say("Hinweis: kein chromium gefunden, daher nur HTML (im Browser mit Strg+P als PDF druckbar).",
             "Note: no chromium found, so HTML only (printable to PDF from a browser with Ctrl+P).", file=sys.stderr)
    if not args.all:
        written = write_lenkungskreis(store, _kommune(store, args.kommune), args.out, args.period, args.bezirk, pdf=pdf)
        _say(f"Lenkungskreis-Seite geschrieben: {', '.join(map(str, written))}",
             f"Steering committee page written: {', '.join(map(str, written))}")
        return 0
    import pandas as pd

    from .progress import progress

    rows = []
    for kommune in progress(store.kommunen(), tr({"de": "Lenkungskreis-Seiten", "en": "steering pages"})):
        target = Path(args.out) / (lenkungskreis_name(kommune, args.period or "aktuell") + ".html")
        try:
            written = write_lenkungskreis(store, kommune, target, args.period, args.bezirk, pdf=pdf)
            rows.append((kommune, ", ".join(map(str, written)), ""))
        except KimtoolsError as e:
            rows.append((kommune, "", e.message()))
    return _batch_summary(pd.DataFrame(rows, columns=["kommune", "datei", "fehler"]), ("Bericht", "page"), ("Berichte", "pages"),
                          args.out)


def _cmd_serve(args) -> int:
    from .serving import PLOTLY_PATH
    from .store import Store

    store = Store(args.db)
    first_view = ""
    if args.meeting is not None:   # a frozen meeting state: its read-only copy
        from .present.pages import MEETING_PATH, meeting_views
        from .store.meetings import meeting

        found = meeting(store, args.meeting)
        store = found.store
        if not meeting_views(found):   # frozen before there were first views
            from .present.report import write_meeting_views

            _say("Die Sitzungsansicht wird einmal gezeichnet …", "Drawing the meeting view once …")
            write_meeting_views(found)
        first_view = MEETING_PATH
    store.connect()  # a clear message now instead of an error page later
    dashboards = Path(args.dashboards) if args.dashboards else DASHBOARDS
    if not dashboards.is_dir():
        raise KimtoolsError(f"Dashboard-Ordner {dashboards} gibt es nicht.", f"Dashboards folder {dashboards} does not exist.")
    token = args.token or os.environ.get("KIMTOOLS_TOKEN") or ""
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and len(token) < 16:
        raise UsageError(
            f"Die Dashboards sollen unter {args.host} erreichbar sein, also für andere Rechner: dafür ist ein "
            "Zugangsschlüssel mit mindestens 16 Zeichen nötig (--token oder KIMTOOLS_TOKEN), und im Netz der Stadt "
            "gehört der Server hinter den Reverse Proxy mit Anmeldung (README, 'Serving the dashboards to a team').",
            f"The dashboards would be reachable at {args.host}, i.e. from other machines: that needs an access token of "
            "at least 16 characters (--token or KIMTOOLS_TOKEN), and on the city's network the server belongs behind "
            "the reverse proxy with login (README, 'Serving the dashboards to a team').")
    preheat = args.preheat if args.preheat is not None else int(os.environ.get("KIMTOOLS_PREHEAT", "1"))
    env = dict(os.environ, KIMTOOLS_DB=str(store.path.resolve()))
    env.pop("KIMTOOLS_TOKEN", None)   # the kernels have no use for it
    env["KIMTOOLS_PLOTLY_PATH"] = PLOTLY_PATH   # figures load plotly.js from the server, cached by the browser
    cmd = [sys.executable, "-m", "kimtools.serving", str(dashboards), "--no-browser", f"--Voila.ip={args.host}",
           f"--port={args.port}", "--Voila.port_retries=0", "--VoilaExecutor.timeout=120",
           # a cell's outputs may reach the executor seconds after the cell finished when kernels start together on a
           # busy machine; after the default 4 s the executor moves on and the page lacks its widgets (seen under load)
           "--VoilaExecutor.iopub_timeout=60",
           "--VoilaConfiguration.show_tracebacks=False", "--VoilaConfiguration.strip_sources=True",
           # kernels talk over Unix sockets in Voilà's private directory, not TCP ports on localhost: no other local
           # user can reach them, and kernels starting together cannot pick the same free port (seen once while the
           # pool refilled: a kernel's heartbeat failed with 'Address already in use')
           "--KernelManager.transport=ipc",
           # plotly's own JupyterLab renderer (4.8 MB per page) is not used by the dashboards' figures
           "--VoilaConfiguration.extension_denylist=['jupyterlab-plotly']",
           f"--Voila.token={token}"]
    if preheat > 0 or args.attendees:
        cmd += ["--preheat_kernel=True", f"--pool_size={preheat}"]
    if args.attendees:   # a committee opening the steering page together: a ready kernel for each of them
        pools = {"default": {"pool_size": preheat}, "lenkungskreis.ipynb": {"pool_size": args.attendees}}
        cmd += [f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}"]
    _say(f"Dashboards: http://{args.host}:{args.port}/{'?token=…' if token else ''}  (beenden mit Strg+C)",
         f"Dashboards: http://{args.host}:{args.port}/{'?token=…' if token else ''}  (stop with Ctrl+C)")
    if first_view:
        _say(f"Sitzungsansicht für die Einladung: http://{args.host}:{args.port}/{first_view}",
             f"Meeting view for the invitation: http://{args.host}:{args.port}/{first_view}")
    _warm_in_background(store)
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)
    return 0  # pragma: no cover


def _cmd_vorbereiten(args) -> int:
    from .analysis.planning import warm_forecasts
    from .exchange.bundle import comparison_data
    from .store import Store

    store = Store(args.db)
    kommunen = store.kommunen()
    store.check_folder(("die Vorbereitung", "preparing"), ("legt dort Prognosen und den Vergleich ab, die die Seiten "
                                                          "sonst beim Aufruf rechnen",
                                                          "keeps there the forecasts and the comparison that the pages "
                                                          "otherwise compute when opened"))
    shown = sys.stderr.isatty()
    warm_forecasts(store, kommunen, show_progress=shown)
    try:   # the comparison page: each kommune that no merged bundle covers, as its own bundle would show it
        comparison_data(store, show_progress=shown)
    except UsageError:
        pass
    _say(f"Planungs- und Vergleichsseite für {len(kommunen)} Kommune(n) vorbereitet.",
         f"Planning and comparison pages prepared for {len(kommunen)} kommune(s).")
    return 0


def _warm_in_background(store) -> bool:
    """Prepare what the pages compute once per data state (the planning page's forecasts, the comparison of the
    store's own kommunen as their bundles would show them) where the data changed, in a process of lowest priority
    that ends by itself, so that no visitor waits for it (one who comes earlier computes it at once; either way once
    per data state). After an import and when serving; ``KIMTOOLS_VORBEREITEN=0`` leaves it to the pages."""
    if os.environ.get("KIMTOOLS_VORBEREITEN", "1") == "0":
        return False
    subprocess.Popen([sys.executable, "-c", "import sys; from kimtools.cli import main; sys.exit(main(sys.argv[1:]))",
                      "vorbereiten", "--db", str(store.path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, preexec_fn=lambda: os.nice(19), start_new_session=True)
    return True


def _clear_leftovers(db: str | None) -> None:
    """Before any command on a store: remove the copies that killed imports left beside it (and say so)."""
    from .store import Store

    for leftover in Store(db).clear_leftovers():
        _say(f"Hinweis: Reste eines abgebrochenen Imports entfernt: {leftover}",
             f"Note: leftovers of an interrupted import removed: {leftover}", file=sys.stderr)


def _pre_lang(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in ("de", "en") else None
        if a.startswith("--lang="):
            v = a.split("=", 1)[1]
            return v if v in ("de", "en") else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every failure reaches the user as a message (German, or English with ``--lang en``) and
    an exit status, never as a traceback: a traceback can show data. ``KIMTOOLS_DEBUG=1`` lets unexpected
    errors through, for developers. Every file the command creates is readable by its owner only."""
    # names typed or pasted in decomposed form (NFD, as macOS and some exports write umlauts) compare as composed
    argv = [unicodedata.normalize("NFC", a) for a in (sys.argv[1:] if argv is None else argv)]
    set_lang(_pre_lang(argv))
    umask = os.umask(0o077)
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if hasattr(args, "db"):
            _clear_leftovers(args.db)
        handler = {"import": _cmd_import, "profil": _cmd_profil, "bezirke": _cmd_bezirke, "sitzung": _cmd_sitzung, "vorbereiten": _cmd_vorbereiten, "info": _cmd_info, "loeschen": _cmd_loeschen, "demo": _cmd_demo,
                   "indicators": _cmd_indicators, "luecken": _cmd_luecken, "export": _cmd_export,
                   "compare": _cmd_compare, "report": _cmd_report, "serve": _cmd_serve}[args.command]
        return handler(args)
    except KimtoolsError as exc:
        print(f"{_t('error').capitalize()}: {exc.message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        _say("Abgebrochen; ein unterbrochener Import hat nichts geändert.", "Interrupted; an interrupted import changed nothing.",
             file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"{_t('error').capitalize()}: {from_os_error(exc).message()}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        from .store import default_db_path, is_damage, unreadable

        if not is_damage(exc):
            return _unexpected(exc)
        db = getattr(args, "db", None)
        print(f"{_t('error').capitalize()}: {unreadable(Path(db) if db else default_db_path(), exc).message()}",
              file=sys.stderr)
        return 1
    except MemoryError:
        _say("Fehler: zu wenig Arbeitsspeicher für diesen Befehl. Nichts wurde geändert.",
             "Error: not enough memory for this command. Nothing was changed.", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a traceback
        return _unexpected(exc)
    finally:
        os.umask(umask)
        set_lang(None)


def _unexpected(exc: Exception) -> int:
    """An error kimtools did not foresee: a message without a traceback (it could show data), exit 1."""
    if os.environ.get("KIMTOOLS_DEBUG"):
        raise exc
    _say(f"Fehler: unerwarteter Fehler ({type(exc).__name__}) – das ist ein Fehler in kimtools, bitte mit dem "
         "Befehl melden. Gespeicherte Daten wurden nicht verändert. Einzelheiten für Entwickler: mit "
         "KIMTOOLS_DEBUG=1 erneut aufrufen.",
         f"Error: unexpected error ({type(exc).__name__}) – this is a bug in kimtools, please report it with the "
         "command. Stored data was not changed. Details for developers: run again with KIMTOOLS_DEBUG=1.",
         file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
