"""The command line of ``kimtools``: every command with its options (the words in ``cli_help.toml``)."""

from __future__ import annotations

import argparse

from .._version import __version__
from ..i18n import current_lang
from ..periods import PERIOD_CHOICES
from ..indicators.table import MERKMALE
from .common import WORDS, GermanFormatter, GermanParser, command_parser, t

__all__ = ["build_parser", "SITZUNG_ACTIONS", "BESCHLUESSE_ACTIONS"]

#: the meeting command's actions in English, and the German ones they stand for
SITZUNG_ACTIONS = {"create": "anlegen", "list": "liste", "remove": "entfernen", "link": "link"}
#: the decisions command's actions in English, and the German ones they stand for
BESCHLUESSE_ACTIONS = {"read": "einlesen", "list": "liste"}


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(prog="kimtools", description=t("prog"))
    parser.add_argument("--version", action="version", version=f"kimtools {__version__}", help=t("version"))
    sub = parser.add_subparsers(dest="command", title=t("cmds"), metavar="BEFEHL" if current_lang() == "de" else "COMMAND",
                                parser_class=GermanParser)
    sub.required = True

    def command(name: str, english: str | None = None) -> GermanParser:
        """A command by its German name, with its English name as an alias; ``args.command`` is the German name
        whichever was typed. The help's words stand under the name the command had first (``cli_help.toml``)."""
        words = name if name in WORDS else english
        p = sub.add_parser(name, aliases=[english] if english else [], help=t(words), description=t(words),
                           formatter_class=GermanFormatter, add_help=False)
        p.set_defaults(command=name)
        p._positionals.title, p._optionals.title = t("pos"), t("opt")
        p.add_argument("-h", "--help", action="help", help=t("help"))
        p.add_argument("--lang", choices=["de", "en"], help=t("lang"))
        return p

    p = command("import")
    p.add_argument("source", metavar="QUELLE", help=t("source"))
    p.add_argument("--db", help=t("db"))
    p.add_argument("--erzwingen", "--force", dest="force", action="store_true", help=t("force"))
    p.add_argument("--probelauf", "--dry-run", dest="dry_run", action="store_true", help=t("dry_run"))
    p.add_argument("--neuer-schluessel", "--new-key", dest="new_key", action="store_true", help=t("new_key"))
    p.add_argument("--fehlerbericht", "--report", dest="report", help=t("problem_report"))
    p.add_argument("--traeger", "--providers", dest="providers", metavar="ID[,ID]", help=t("import_traeger"))
    p.add_argument("--gemeinsame-personenschluessel", "--shared-person-keys", dest="shared_person_keys",
                   action="store_true", help=t("shared_person_keys"))
    p.add_argument("--profil", "--profile", dest="profile", metavar="DATEI", help=t("import_profil"))

    p = command("profil", "profile")
    p.add_argument("source", metavar="QUELLE", help=t("profil_source"))
    p.add_argument("--ausgabe", "--out", dest="out", required=True, help=t("profil_out"))
    p.add_argument("--profil", "--profile", dest="profile", metavar="DATEI", help=t("profil_complete"))
    p.add_argument("--erzwingen", "--force", dest="force", action="store_true", help=t("profil_force"))

    p = command("bezirke", "districts")
    p.add_argument("source", metavar="QUELLE", nargs="?", help=t("bezirke_source"))
    p.add_argument("--karte", "--map", dest="map", metavar="DATEI", help=t("bezirke_karte"))
    p.add_argument("--profil", "--profile", dest="profile", metavar="DATEI", help=t("bezirke_profil"))
    p.add_argument("--kommune", help=t("bezirke_kommune"))
    p.add_argument("--stand", "--as-of", dest="stand", help=t("bezirke_stand"))
    p.add_argument("--quelle", "--source-text", dest="quelle", help=t("bezirke_quelle"))
    p.add_argument("--probelauf", "--dry-run", dest="dry_run", action="store_true", help=t("dry_run"))
    p.add_argument("--db", help=t("db"))

    p = command("info")
    p.add_argument("--db", help=t("db"))

    p = command("loeschen", "delete")
    p.add_argument("--kommune", required=True, help=t("loeschen_kommune"))
    p.add_argument("--traeger", "--provider", dest="traeger", help=t("loeschen_traeger"))
    p.add_argument("--ja", "--yes", dest="yes", action="store_true", help=t("loeschen_ja"))
    p.add_argument("--db", help=t("db"))

    p = command("zugriffe", "access-log")
    p.add_argument("--kommune", help=t("zugriffe_kommune"))
    p.add_argument("--seit", "--since", dest="since", metavar="TT.MM.JJJJ", help=t("zugriffe_seit"))
    p.add_argument("--format", choices=["table", "csv"], default="table", help=t("zugriffe_format"))
    p.add_argument("--ausgabe", "--out", dest="out", help=t("zugriffe_out"))
    p.add_argument("--db", help=t("db"))

    p = command("demo")
    p.add_argument("--ausgabe", "--out", dest="out", required=True, help=t("out_dir"))
    p.add_argument("--startwert", "--seed", dest="seed", type=int, default=2024, help=t("seed"))
    p.add_argument("--umfang", "--scale", dest="scale", choices=["city", "state"], default="city", help=t("scale"))
    p.add_argument("--xlsx", action="store_true", help=t("xlsx"))
    p.add_argument("--je-traeger", "--per-provider", dest="per_provider", action="store_true", help=t("per_provider"))
    p.add_argument("--fremdformat", "--foreign-layout", dest="foreign", action="store_true", help=t("fremdformat"))
    p.add_argument("--vielfaches", "--times", dest="times", type=int, default=1, help=t("times"))

    p = command("kennzahlen", "indicators")
    p.add_argument("--db", help=t("db"))
    p.add_argument("--kommune", help=t("kommune"))
    p.add_argument("--nach", "--by", dest="by", choices=["kommune", "stadtbezirk", "traeger"], default="kommune", help=t("by"))
    p.add_argument("--zeitraum", "--period", dest="period", choices=list(PERIOD_CHOICES), default="quarter", help=t("period"))
    p.add_argument("--merkmal", "--breakdown", dest="merkmal", choices=list(MERKMALE), help=t("merkmal"))
    p.add_argument("--format", choices=["csv", "xlsx", "table"], default="table", help=t("format"))
    p.add_argument("--ausgabe", "--out", dest="out", help=t("out_file"))
    p.add_argument("--katalog", "--catalogue", dest="katalog", action="store_true", help=t("katalog"))

    p = command("luecken", "gaps")
    p.add_argument("--ausgabe", "--out", dest="out", required=True, help=t("luecken_out"))
    p.add_argument("--db", help=t("db"))
    p.add_argument("--kommune", help=t("luecken_kommune"))
    p.add_argument("--minimum", type=int, default=3, help=t("minimum"))

    p = command("export")
    p.add_argument("--kommune", help=t("export_kommune"))
    p.add_argument("--alle", "--all", dest="all", action="store_true", help=t("export_all"))
    p.add_argument("--db", help=t("db"))
    p.add_argument("--von", "--from", dest="first", metavar="ZEITRAUM", help=t("export_from"))
    p.add_argument("--bis", "--to", dest="last", metavar="ZEITRAUM", help=t("export_to"))
    p.add_argument("--ausgabe", "--out", dest="out", required=True, help=t("export_out"))
    p.add_argument("--minimum", type=int, default=3, help=t("export_minimum"))
    p.add_argument("--minimum-merkmal", "--minimum-breakdown", dest="minimum_merkmal", action="append", default=[], metavar="MERKMAL=N",
                   help=t("export_minimum_merkmal"))

    p = command("vergleichen", "compare")
    p.add_argument("bundles", nargs="+", metavar="PAKET", help=t("bundles"))
    p.add_argument("--ausgabe", "--out", dest="out", help=t("compare_out"))

    p = command("bericht", "report")
    p.add_argument("--kommune", help=t("report_kommune"))
    p.add_argument("--alle", "--all", dest="all", action="store_true", help=t("report_all"))
    p.add_argument("--db", help=t("db"))
    p.add_argument("--zeitraum", "--period", dest="period", metavar="ZEITRAUM", help=t("report_period"))
    p.add_argument("--von", "--from", dest="first", metavar="ZEITRAUM", help=t("export_from"))
    p.add_argument("--bis", "--to", dest="last", metavar="ZEITRAUM", help=t("export_to"))
    p.add_argument("--ausgabe", "--out", dest="out", required=True, help=t("report_out"))
    p.add_argument("--lenkungskreis", "--steering", dest="lenkungskreis", action="store_true", help=t("lenkungskreis"))
    p.add_argument("--bezirk", "--district", dest="bezirk", help=t("report_bezirk"))
    p.add_argument("--kein-pdf", "--no-pdf", dest="no_pdf", action="store_true", help=t("no_pdf"))
    p.add_argument("--sitzung", "--meeting", dest="meeting", metavar="NAME", help=t("serve_sitzung"))
    p.add_argument("--notebook", metavar="NAME", help=t("report_notebook"))
    p.add_argument("-p", "--parameter", dest="parameters", action="append", metavar="NAME=WERT", help=t("report_parameter"))

    p = command("jahresbericht", "annual-report")
    p.add_argument("--kommune", help=t("report_kommune"))
    p.add_argument("--jahr", "--year", dest="year", type=int, required=True, help=t("jahresbericht_jahr"))
    p.add_argument("--ausgabe", "--out", dest="out", required=True, help=t("jahresbericht_out"))
    p.add_argument("--vorlage", "--template", dest="template", metavar="DATEI", help=t("jahresbericht_vorlage"))
    p.add_argument("--minimum", type=int, default=3, help=t("jahresbericht_minimum"))
    p.add_argument("--db", help=t("db"))

    p = command("zeigen", "serve")
    p.add_argument("--db", help=t("db"))
    p.add_argument("--host", default="127.0.0.1", help=t("host"))
    p.add_argument("--port", type=int, default=8866, help=t("port"))
    p.add_argument("--token", help=t("token"))
    p.add_argument("--dashboard-ordner", "--dashboards", dest="dashboards", help=t("dashboards"))
    p.add_argument("--vorheizen", "--preheat", dest="preheat", type=int, default=None, metavar="N", help=t("preheat"))
    p.add_argument("--sitzung", "--meeting", dest="meeting", metavar="NAME", help=t("serve_sitzung"))
    p.add_argument("--teilnehmende", "--attendees", dest="attendees", type=int, default=None, metavar="N",
                   help=t("serve_teilnehmende"))

    p = command("vorbereiten", "prepare")
    p.add_argument("--db", help=t("db"))

    p = command("sitzung", "meeting")
    p.add_argument("action", choices=sorted({"anlegen", "liste", "entfernen", *SITZUNG_ACTIONS}), metavar="AKTION",
                   help=t("sitzung_aktion"))
    p.add_argument("name", nargs="?", metavar="NAME", help=t("sitzung_name"))
    p.add_argument("--kommune", help=t("sitzung_kommune"))
    p.add_argument("--quartal", "--quarter", dest="quartal", help=t("sitzung_quartal"))
    p.add_argument("--gueltig-bis", "--valid-until", dest="until", metavar="DATUM", help=t("sitzung_gueltig_bis"))
    p.add_argument("--widerrufen", "--revoke", dest="revoke", metavar="ID", help=t("sitzung_widerrufen"))
    p.add_argument("--db", help=t("db"))

    p = command("hub")
    p.add_argument("--zugriff", "--access", dest="access", metavar="DATEI", help=t("hub_zugriff"))
    p.add_argument("--demo", action="store_true", help=t("hub_demo"))
    p.add_argument("--vorlage", "--template", dest="template", metavar="DATEI", help=t("hub_vorlage"))
    p.add_argument("--host", default="127.0.0.1", help=t("host"))
    p.add_argument("--port", type=int, default=8000, help=t("hub_port"))
    p.add_argument("--db", help=t("db"))

    p = command("beschluesse", "decisions")
    p.add_argument("action", choices=["einlesen", "liste", *BESCHLUESSE_ACTIONS], metavar="AKTION",
                   help=t("beschluesse_aktion"))
    p.add_argument("source", nargs="?", metavar="DATEI", help=t("beschluesse_datei"))
    p.add_argument("--kommune", help=t("beschluesse_kommune"))
    p.add_argument("--format", choices=["table", "csv", "xlsx"], default="table", help=t("beschluesse_format"))
    p.add_argument("--ausgabe", "--out", dest="out", help=t("beschluesse_out"))
    p.add_argument("--probelauf", "--dry-run", dest="dry_run", action="store_true", help=t("beschluesse_probelauf"))
    p.add_argument("--db", help=t("db"))
    return parser
