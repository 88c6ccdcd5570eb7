"""``kimtools import``, ``profil``, ``bezirke`` and ``demo``: exports, profiles, district figures and boundaries in."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from ..contract.reference import units
from ..errors import ImportValidationError, KimtoolsError, UsageError
from ..i18n import current_lang, fmt_date, fmt_number, tr
from ..ingest.boundaries import import_boundaries
from ..ingest.demo import write_demo
from ..ingest.draft import draft_profile
from ..ingest.profile import read_profile_toml
from ..ingest.importer import REPORT_DAYS, import_export, private_report_path, write_problem_report
from ..ingest.read import problems_text
from ..ingest.reference_figures import import_district_figures
from ..store import Store
from .background import warm_in_background
from .common import key_note, out_file, say

__all__ = ["cmd_import", "cmd_profil", "cmd_bezirke", "cmd_demo"]


def say_problems(exc: ImportValidationError) -> None:
    """A refused file on stderr: what was refused, then each problem with file, row, column, value and reason."""
    print(exc.message(), file=sys.stderr)
    print(problems_text(exc.problems, lang=current_lang(), limit=50), file=sys.stderr)


def cmd_import(args) -> int:
    lang = current_lang()
    try:
        providers = _providers(args)
        result, warnings = import_export(args.source, args.db, force=args.force, dry_run=args.dry_run,
                                         new_key=args.new_key, providers=providers,
                                         shared_person_keys=args.shared_person_keys, profile=args.profile)
    except KimtoolsError as exc:
        key_note(getattr(exc, "key_created", None))
        if not isinstance(exc, ImportValidationError):
            raise
        say_problems(exc)
        if args.report:
            path = write_problem_report(exc.problems, out_file(args.report), lang=lang)
            say(f"Vollständiger Fehlerbericht für den Datenlieferanten: {path}",
                f"Full problem report for the provider of the export: {path}", file=sys.stderr)
        elif len(exc.problems) > 20:   # it echoes cell values: beside the store, owner-only, never the working folder
            path = write_problem_report(exc.problems, private_report_path(Store(args.db), args.source), lang=lang)
            say(f"Alle {len(exc.problems)} Probleme als Arbeitsmappe für den Datenlieferanten: {path} (nur für Sie "
                f"lesbar; nach {REPORT_DAYS} Tagen gelöscht). Mit --fehlerbericht DATEI.xlsx an einen Ort Ihrer Wahl.",
                f"All {len(exc.problems)} problems as a workbook for the provider of the export: {path} (readable by "
                f"you only; deleted after {REPORT_DAYS} days). With --report FILE.xlsx to a place of your choice.",
                file=sys.stderr)
        return 1
    for leftover in result.leftovers:
        say(f"Hinweis: Reste eines abgebrochenen Imports {'gefunden' if result.dry_run else 'entfernt'}: {leftover}",
            f"Note: leftovers of an interrupted import {'found' if result.dry_run else 'removed'}: {leftover}",
            file=sys.stderr)
    key_note(result.key_created)
    if len(warnings):
        say("Hinweise:", "Warnings:", file=sys.stderr)
        print(problems_text(warnings, lang=lang, limit=20), file=sys.stderr)
    print(result.summary(lang))
    if result.unchanged or result.dry_run:
        return 1 if result.refused else 0
    if warm_in_background(Store(args.db)):
        say("Prognosen und Vergleich der eigenen Daten werden im Hintergrund vorbereitet (niedrige Priorität).",
            "Forecasts and the comparison of the own data are being prepared in the background (low priority).")
    return 0


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


def cmd_profil(args) -> int:
    out = out_file(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} gibt es schon; einen anderen Namen wählen oder --erzwingen (überschreibt).",
                         f"{out} exists already; choose another name or --force (overwrites).")
    given = read_profile_toml(Path(args.profile)) if args.profile else None
    draft = draft_profile(Path(args.source), given=given)
    draft.write(out)
    open_ = draft.undecided()
    say(f"Entwurf geschrieben: {out} ({len(draft.entries) - len(open_)} Einträge erkannt, {len(open_)} offen).",
        f"Draft written: {out} ({len(draft.entries) - len(open_)} entries recognised, {len(open_)} open).")
    if open_:
        say("Noch zu entscheiden (im Entwurf mit \"?\" markiert, der Kommentar nennt, was in Frage kommt):",
            "Still to decide (marked \"?\" in the draft; its comment names the candidates):")
        for e in open_:
            print(f"  {e.path}")
    say(f"Danach: kimtools import {args.source} --profil {out}", f"Then: kimtools import {args.source} --profile {out}")
    return 0


def cmd_bezirke(args) -> int:
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
        say_problems(exc)
        return 1
    for line in result.skipped:
        say(f"Summenzeile ausgelassen: {line}", f"Total row left out: {line}")
    say("Probelauf – nichts wurde gespeichert. Die Raten je 1.000 würden diese Zahlen verwenden:" if args.dry_run else
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
    try:
        shapes = import_boundaries(args.map, args.db, args.kommune, args.quelle, dry_run=args.dry_run)
    except ImportValidationError as exc:
        say_problems(exc)
        return 1
    kommune = shapes["kommune"].iloc[0]
    words = units(kommune)   # a Kreis's are Gemeinden
    say(f"Probelauf – nichts wurde gespeichert. Die Karte von {kommune} hätte {len(shapes)} {words['Bezirke']}:"
        if args.dry_run else f"Übernommen. Die Karten von {kommune} zeigen jetzt {len(shapes)} {words['Bezirke']}:",
        f"Dry run – nothing was stored. The map of {kommune} would have {len(shapes)} {words['districts']}:"
        if args.dry_run else f"Taken over. The maps of {kommune} now show {len(shapes)} {words['districts']}:")
    print("  " + ", ".join(shapes["stadtbezirk"]))
    if shapes.attrs.get("repariert"):
        say(f"Hinweis: die Fläche von {', '.join(shapes.attrs['repariert'])} schneidet sich selbst und wurde "
            "repariert (Umriss an der Kreuzung geteilt); bitte die Karte auf der Fallzahlen-Seite ansehen und die "
            "Datei im GIS prüfen.",
            f"Note: the area of {', '.join(shapes.attrs['repariert'])} crosses itself and was repaired (its outline "
            "split at the crossing); please look at the map on the caseload page and check the file in the GIS.",
            file=sys.stderr)
    return 0


def cmd_demo(args) -> int:
    path = write_demo(args.out, seed=args.seed, scale=args.scale, xlsx=args.xlsx, per_provider=args.per_provider,
                      foreign=args.foreign, times=args.times)
    if args.foreign:
        say(f"Demo im Fremdformat geschrieben: {path} mit Importprofil daneben (einlesen mit 'kimtools import {path}')",
            f"Demo in a foreign layout written: {path} with its import profile beside it (import with "
            f"'kimtools import {path}')")
        return 0
    if args.per_provider:
        example = next(iter(sorted(p for p in Path(path).glob("*/*") if p.is_dir())), None)
        say(f"Demo-Lieferungen je Träger geschrieben: {path}/<Kommune>/<Träger>/ (einlesen je Träger, z. B. "
            f"'kimtools import {example} --traeger {example.name if example else 'ID'} --gemeinsame-personenschluessel')",
            f"Demo deliveries per provider written: {path}/<kommune>/<provider>/ (import each, e.g. "
            f"'kimtools import {example} --providers {example.name if example else 'ID'} --shared-person-keys')")
        return 0
    say(f"Demo-Export geschrieben: {path} (einlesen mit 'kimtools import {path}')",
        f"Demo export written: {path} (import with 'kimtools import {path}')")
    return 0
