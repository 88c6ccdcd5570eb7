"""``kimtools export`` and ``compare``: the city's comparison bundle out, other cities' bundles checked and merged."""

from __future__ import annotations

from ..errors import UsageError
from ..exchange.bundle import BUNDLE_KENNZAHLEN, checked_request, export_bundle, export_bundles, merge_bundles, write_merged
from ..i18n import fmt_number, fmt_percent, tr
from ..store import Store
from .common import batch_summary, kommune_of, out_dir, print_table, say

__all__ = ["cmd_export", "cmd_compare"]


def cmd_export(args) -> int:
    store = Store(args.db)
    kommune = None if args.all else kommune_of(store, args.kommune)
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
    out_dir(args.out)
    if args.all:
        table = export_bundles(store, args.out, None, args.first, args.last, args.minimum, per_merkmal)
        return batch_summary(table, ("Paket", "bundle"), ("Vergleichspaketen", "comparison bundles"), args.out)
    result = export_bundle(store, kommune, args.out, args.first, args.last, args.minimum, per_merkmal)
    share = fmt_percent(result.anteil_geschuetzt, 1)
    say(f"Vergleichspaket {kommune} geschrieben: {result.folder} und {result.zip.name}\n"
        f"{fmt_number(result.zellen)} Zellen, davon {fmt_number(result.geschuetzt)} geschützt ({share}); "
        "Schutzprüfung bestanden.",
        f"Comparison bundle {kommune} written: {result.folder} and {result.zip.name}\n"
        f"{fmt_number(result.zellen)} cells, {fmt_number(result.geschuetzt)} of them protected ({share}); "
        "disclosure audit passed.")
    return 0


def cmd_compare(args) -> int:
    merged = merge_bundles(args.bundles)
    headers = tr((["Kommune", "von", "bis", "Zellen", "geschützt", "Anteil", "Mindestanzahl"],
                  ["kommune", "from", "to", "cells", "protected", "share", "minimum"]))
    rows = [[r.kommune, r.von, r.bis, fmt_number(r.zellen), fmt_number(r.geschuetzt),
             fmt_percent(r.anteil_geschuetzt, 1), str(r.mindestanzahl)] for r in merged.pakete.itertuples()]
    print_table(headers, rows)
    say(f"{len(rows)} Pakete geprüft: Format, Prüfsummen und Schutzprüfung in Ordnung.",
        f"{len(rows)} bundles checked: format, checksums and disclosure audit fine.")
    for de, en in merged.nicht_verglichen:   # an own indicator the cities do not share: not compared
        say(f"Eigene Kennzahl nicht verglichen – {de}.", f"Own indicator not compared – {en}.")
    if args.out:
        folder = write_merged(merged, out_dir(args.out))
        say(f"Zusammengeführte Tabellen: {folder}", f"Merged tables: {folder}")
    return 0
