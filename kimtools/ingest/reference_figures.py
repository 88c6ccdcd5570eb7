"""The city's own district figures (``kimtools bezirke SOURCE``): inhabitants and foreign nationals per district
and reference date from the statistics office, in that office's layout.

The file is read through an import profile with a ``[bezirke]`` section, or, without one, through a draft of it
(:func:`~kimtools.ingest.draft.draft_profile`: the district, inhabitants and foreign nationals by their column
names, the reference date and the source from the title rows, thousands points) with ``--kommune``, ``--stand``
and ``--quelle`` deciding what the file does not say; what stays open is refused with the list. A total row
("Insgesamt", "Summe", the kommune's own name) is left out and said so. District names must be the kommune's
(matched as the reader matches them).

Every figure imported is kept (table ``bezirkszahlen``, official). The figures every rate per 1,000 uses
(table ``bezirke``: one per district) are chosen by :func:`~kimtools.ingest.best_figures.best_figures`: an official figure wins over the
export's own and over the estimates shipped with kimtools, and among equals the latest reference date wins.
DECISION: one figure per district for every period (the best, usually the latest); rates of earlier periods
are not recomputed with the figures of their own year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..contract.reference import Reference, load_reference, match_key
from ..contract.schema import TABLES
from ..errors import ImportValidationError, InputError
from ..store import Store
from .best_figures import stored_figures, with_official
from .draft import draft_profile
from .files import normalise_columns
from .importer import derive_tables
from .names import name_key
from .problems import ROW, Problems, RawTable
from .profile import Profile, Rule, apply_profile, load_profile
from .read import check_column, kommune_of

__all__ = ["TOTALS", "FiguresResult", "read_district_figures", "import_district_figures"]

#: names of a total row (besides the kommune's own name)
TOTALS = {"insgesamt", "summe", "gesamt", "zusammen", "gesamtstadt", "stadtinsgesamt"}


@dataclass(frozen=True)
class FiguresResult:
    figures: pd.DataFrame       # as read: kommune, stadtbezirk, einwohner, auslaender, stand, quelle
    skipped: tuple[str, ...]    # total rows left out
    used: pd.DataFrame          # the figures every rate now uses, with herkunft (after an import)


def read_district_figures(source: str | Path, profile: str | Path | None = None, kommune: str | None = None,
                          stand: str | None = None, quelle: str | None = None, today: dt.date | None = None,
                          reference: Reference | None = None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The figures of a statistics office's file, checked; raise :class:`ImportValidationError` listing every
    problem (file, row, column as in the file) or :class:`InputError` for a profile or draft left open."""
    source = Path(source)
    ref = reference or load_reference()
    loaded = load_profile(profile, needed=("bezirke",)) if profile else _drafted(source, kommune, stand, quelle)
    if profile:
        _constants(loaded, kommune, stand, quelle)
    problems = Problems()
    profiled = apply_profile(loaded, source, problems)
    if "bezirke" not in profiled.found:
        raise ImportValidationError(problems.frame(), source.name)
    file, frame = profiled.found["bezirke"]
    raw = RawTable(TABLES["bezirke"], file, frame)
    normalise_columns(raw, problems, Problems())
    parsed = {c.name: check_column(raw, c, problems, today or dt.date.today()) for c in raw.table.all_columns}
    parsed["kommune"] = kommune_of(raw, parsed["kommune"], problems, ref)
    names = parsed["stadtbezirk"].fillna("")
    total = names.map(name_key).isin(TOTALS) | (names.map(name_key) == parsed["kommune"].fillna("").map(name_key))
    skipped = tuple(f"{file}, Zeile {r}: {n}" for r, n in zip(raw.frame.loc[total, ROW], names[total]))
    keep = ~total
    districts = pd.Series(None, index=names.index, dtype=object)
    for k in parsed["kommune"][keep].dropna().unique():
        keys = ref.district_keys(k) or {}
        mine = keep & (parsed["kommune"] == k)
        districts[mine] = names[mine].map(match_key).map(keys)
        unknown = mine & districts.isna() & (names != "")
        problems.add_masked(raw, unknown, "stadtbezirk",
                            f"Unbekannter Stadtbezirk von {k}; bekannt sind: {', '.join(sorted(keys.values()))}.",
                            f"Unknown district of {k}; known are: {', '.join(sorted(keys.values()))}.")
    too_many = (parsed["auslaender"] > parsed["einwohner"]).fillna(False).astype(bool) & keep
    problems.add_masked(raw, too_many, "auslaender", "Mehr Ausländerinnen und Ausländer als Einwohner.",
                        "More foreign nationals than inhabitants.")
    twice = keep & pd.DataFrame({"k": parsed["kommune"], "b": districts, "s": parsed["stand"]}).duplicated(keep="first") \
        & districts.notna()
    problems.add_masked(raw, twice, "stadtbezirk", "Der Stadtbezirk steht zu diesem Stand zweimal in der Datei.",
                        "The district appears twice in the file for this date.")
    if problems:
        frame = problems.frame()
        aliases = profiled.aliases.get((file, "bezirke"), {})
        frame["spalte"] = frame["spalte"].map(lambda c: aliases.get(c, c))
        raise ImportValidationError(frame, source.name)
    out = pd.DataFrame({"kommune": parsed["kommune"], "stadtbezirk": districts, "einwohner": parsed["einwohner"],
                        "auslaender": parsed["auslaender"], "stand": parsed["stand"], "quelle": parsed["quelle"]})
    return out.loc[keep].reset_index(drop=True), skipped


def _drafted(source: Path, kommune: str | None, stand: str | None, quelle: str | None) -> Profile:
    draft = draft_profile(source, tables=("bezirke",))
    if not any(e.table == "bezirke" and e.section == "quelle" for e in draft.entries):
        raise InputError(f"In {source.name} ist keine Tabelle mit Stadtbezirken und Einwohnerzahlen zu erkennen "
                         "(gesucht: Spalten wie 'Stadtbezirk', 'Einwohner', 'Ausländer'). Mit einem Importprofil "
                         "angeben, was wo steht: kimtools profil QUELLE --ausgabe profil.toml, dann --profil.",
                         f"{source.name} holds no recognisable table of districts and inhabitants (looked for columns "
                         "such as 'Stadtbezirk', 'Einwohner', 'Ausländer'). Say with an import profile what is where: "
                         "kimtools profil SOURCE --out profile.toml, then --profile.")
    for column, value in (("kommune", kommune), ("stand", stand), ("quelle", quelle)):
        if value:
            try:
                draft.set(f"bezirke.spalten.{column}", {"wert": value})
            except StopIteration:
                pass
    open_ = [e.path for e in draft.undecided()]
    if open_:
        hints = {"bezirke.spalten.kommune": "--kommune", "bezirke.spalten.stand": "--stand TT.MM.JJJJ",
                 "bezirke.spalten.quelle": "--quelle TEXT"}
        listed = "; ".join(f"{p} ({hints[p]})" if p in hints else p for p in open_)
        raise InputError(f"{source.name}: noch offen: {listed}. Die Angaben als Option nachreichen oder ein "
                         "Importprofil verwenden (kimtools profil QUELLE --ausgabe profil.toml; dann --profil).",
                         f"{source.name}: still open: {listed}. Give them as options or use an import profile "
                         "(kimtools profil SOURCE --out profile.toml; then --profile).")
    return draft.profile(needed=("bezirke",))


def _constants(profile: Profile, kommune: str | None, stand: str | None, quelle: str | None) -> None:
    """Options given beside a profile decide the constant columns (the profile's own entries stay otherwise)."""
    rules = profile.tables["bezirke"].rules
    for column, value in (("kommune", kommune), ("stand", stand), ("quelle", quelle)):
        if value:
            rules[column] = Rule(column, constant=value)
    missing = [c for c in ("kommune", "stand", "quelle") if c not in rules]
    if missing:
        raise InputError(f"Das Profil ordnet {', '.join(missing)} nichts zu; bitte im Profil ergänzen oder als Wert "
                         "angeben (kommune, stand, quelle).", f"The profile maps nothing to {', '.join(missing)}; please "
                         "add it to the profile or give it as a value (kommune, stand, quelle).")


def import_district_figures(source: str | Path, db: str | Path | Store | None = None, profile: str | Path | None = None,
                            kommune: str | None = None, stand: str | None = None, quelle: str | None = None,
                            dry_run: bool = False) -> FiguresResult:
    """Read the figures and store them: kept with every earlier date, and the figures the rates use chosen anew for
    the kommunen concerned. Atomic, as every change of the store; the cases stay as they are."""
    store = db if isinstance(db, Store) else Store(db)
    figures, skipped = read_district_figures(source, profile, kommune, stand, quelle)
    kommunen = tuple(sorted(figures["kommune"].unique()))
    missing = [k for k in kommunen if k not in store.kommunen()] if store.exists() else list(kommunen)
    if missing:
        raise InputError(f"{', '.join(missing)} ist noch nicht im Datenbestand; bitte zuerst die Fälle importieren.",
                         f"{', '.join(missing)} is not in the store yet; please import the cases first.")
    now = pd.Timestamp(dt.datetime.now().replace(microsecond=0))
    stored = stored_figures(store, kommunen)
    new = figures.assign(stand=pd.to_datetime(figures["stand"]), importiert=now)
    same = stored.assign(stand=pd.to_datetime(stored["stand"]))
    # a later file for the same district and date replaces the earlier one
    same = same.loc[~same.set_index(["kommune", "stadtbezirk", "stand"]).index.isin(
        new.set_index(["kommune", "stadtbezirk", "stand"]).index)]
    official = pd.concat([same, new], ignore_index=True)
    current = store.query("SELECT * FROM bezirke WHERE kommune IN (SELECT unnest(?)) AND herkunft <> 'amtlich'",
                          [list(kommunen)])
    current["stand"] = pd.to_datetime(current["stand"])
    used = with_official({"bezirke": current}, official)["bezirke"]
    if dry_run:
        return FiguresResult(figures, skipped, used)
    store.check_writable(("das Einlesen der Bezirkszahlen", "reading district figures"))
    with store.writing():
        store.check_room()

        def change(con) -> None:
            for name, frame in (("bezirkszahlen", official), ("bezirke", used)):
                con.execute(f"DELETE FROM {name} WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])
                con.register("incoming", frame)
                columns = ", ".join(con.execute(f"SELECT * FROM {name} LIMIT 0").df().columns)
                con.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM incoming")
                con.unregister("incoming")

        store.update(kommunen, change, derive_tables)
    return FiguresResult(figures, skipped, used)
