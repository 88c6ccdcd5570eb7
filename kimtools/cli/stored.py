"""``kimtools info``, ``loeschen`` and ``zugriffe``: what the store holds, per kommune and provider; deleting a part
of it; who opened which page (the access log)."""

from __future__ import annotations

import sys

import pandas as pd

from ..i18n import fmt_date, fmt_datetime, fmt_number, tr
from ..ingest.importer import derive_tables, derived_current
from ..spreadsheet import write_csv
from ..store import Store
from ..store.deliveries import complete_until
from ..store.preparing import preparation_status
from ..store.zugriffe import log_path, read_access_log
from .common import day_option, out_file, print_table, say

__all__ = ["cmd_info", "cmd_loeschen", "cmd_zugriffe"]


def cmd_info(args) -> int:
    store = Store(args.db)
    info = store.info()
    if info.empty:
        say(f"Der Datenbestand {store.path} ist leer.", f"The store {store.path} is empty.")
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
    print_table(headers, rows)
    _delivery_table(store)
    say(f"Datenbestand: {store.path}", f"Store: {store.path}")
    if not derived_current(store):
        say("Abgeleitete Tabellen: von einer früheren Version oder einem anderen Kennzahlenkatalog; Kennzahlen werden "
            "bis dahin aus allen Fällen gerechnet (langsamer, dieselben Zahlen). 'kimtools vorbereiten' bringt sie auf "
            "den Stand.", "Derived tables: from an earlier version or another indicator catalogue; until then "
            "indicators are computed from every case (slower, the same figures). 'kimtools prepare' brings them up "
            "to date.")
    work = preparation_status(store)
    if work:
        say(f"In Vorbereitung: {work.get('schritt') or '…'} (PID {work.get('pid')}, seit {work.get('seit')}).",
            f"Being prepared: {work.get('step') or '…'} (PID {work.get('pid')}, since {work.get('seit')}).")
    for leftover in store.leftovers():   # only while a writer is at work, or where they cannot be removed
        say(f"Rest eines abgebrochenen oder laufenden Imports: {leftover} ({fmt_number(leftover.stat().st_size)} Bytes); "
            "wird beim nächsten Befehl entfernt, wenn kein Import mehr läuft.",
            f"Leftover of an interrupted or running import: {leftover} ({fmt_number(leftover.stat().st_size)} bytes); "
            "removed by the next command once no import runs.")
    return 0


def _delivery_table(store) -> None:
    """Who has delivered up to when: per kommune and provider, and the periods not yet complete for every provider."""


    state = store.delivery_state()
    if state.empty:
        return
    print()
    say("Lieferungen je Träger:", "Deliveries per provider:")
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
    print_table(headers, rows)
    for r in complete_until(state).itertuples():
        if r.vollstaendig_bis < r.datenende:
            say(f"{r.kommune}: Daten nur bis {fmt_date(r.vollstaendig_bis.date())} von allen Trägern geliefert "
                f"(noch nicht: {r.nachzuegler}); Zeiträume danach bis {fmt_date(r.datenende.date())} sind unvollständig "
                "und in Kennzahlentabellen und Dashboards markiert.",
                f"{r.kommune}: data delivered by every provider only up to {fmt_date(r.vollstaendig_bis.date())} "
                f"(not yet: {r.nachzuegler}); periods after it up to {fmt_date(r.datenende.date())} are incomplete and "
                "marked in indicator tables and dashboards.")


def cmd_loeschen(args) -> int:
    store = Store(args.db)
    what_de = f"{args.kommune}, Träger {args.traeger}" if args.traeger else args.kommune
    what_en = f"{args.kommune}, provider {args.traeger}" if args.traeger else args.kommune
    if not args.yes:
        counts = store.removal_counts(args.kommune, args.traeger)
        say(f"Gelöscht würden ({what_de}):", f"This would be deleted ({what_en}):")
        for r in counts.itertuples():
            print(f"  {r.tabelle}: {fmt_number(r.zeilen)}")
        say("Nichts wurde gelöscht. Zum Löschen: derselbe Befehl mit --ja.",
            "Nothing was deleted. To delete: the same command with --yes.")
        return 0
    deleted = store.remove(args.kommune, args.traeger, derive=derive_tables)
    n = int(deleted.set_index("tabelle").loc["faelle", "zeilen"])
    say(f"Gelöscht ({what_de}): {fmt_number(n)} Fälle mit ihren Beratungen, Vermittlungen und Statuswechseln"
        f"{'' if args.traeger else ', Partner, Stellen und Bezirkszahlen'}; im Importprotokoll vermerkt. "
        "Sicherungen des Datenbestands enthalten die Daten weiter.",
        f"Deleted ({what_en}): {fmt_number(n)} cases with their consultations, referrals and status changes"
        f"{'' if args.traeger else ', partners, posts and district figures'}; recorded in the import log. "
        "Backups of the store still hold the data.")
    return 0


def cmd_zugriffe(args) -> int:
    """The access log for the data protection officer: who opened which page for which kommune when, and each use
    of a guest link (``gast:<ID>``), oldest first; as a table or as CSV (German, ``;``)."""
    store = Store(args.db)
    log = read_access_log(store.path)
    if args.kommune:
        log = log[log["kommune"].fillna("").str.casefold() == args.kommune.casefold()]
    if args.since:
        log = log[log["zeit"] >= pd.Timestamp(day_option(args.since, "--seit", "--since"))]
    headers = tr((["Zeit", "Person", "Seite", "Kommune"], ["time", "person", "page", "kommune"]))
    if args.format == "csv":
        table = pd.DataFrame({headers[0]: [fmt_datetime(t) for t in log["zeit"]], headers[1]: log["person"],
                              headers[2]: log["seite"], headers[3]: log["kommune"].fillna("")})
        if args.out:
            write_csv(table, out_file(args.out), sep=";", index=False, encoding="utf-8-sig")
            say(f"Zugriffsprotokoll geschrieben ({fmt_number(len(table))} Zeilen): {args.out}",
                f"Access log written ({fmt_number(len(table), lang='en')} rows): {args.out}")
        else:
            write_csv(table, sys.stdout, sep=";", index=False)
        return 0
    if log.empty:
        say(f"Keine Einträge im Zugriffsprotokoll {log_path(store.path)}.", f"No entries in the access log {log_path(store.path)}.")
        return 0
    print_table(headers, [[fmt_datetime(r.zeit), r.person, r.seite, "" if pd.isna(r.kommune) else r.kommune]
                          for r in log.itertuples()])
    n = len(log)
    say(f"{fmt_number(n)} {'Eintrag' if n == 1 else 'Einträge'}; Zugriffsprotokoll: {log_path(store.path)}",
        f"{fmt_number(n, lang='en')} {'entry' if n == 1 else 'entries'}; access log: {log_path(store.path)}")
    return 0
