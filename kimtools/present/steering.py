"""The steering committee's page drawn: key-figure tiles, its four figures, and the lines a page shows about its data
(data state, periods not yet complete, tables not delivered, the population figures used, a frozen meeting state)
and its reading help. The frames come from :mod:`kimtools.views.steering`; the dashboard
(:class:`kimtools.panels.LenkungskreisPanel`) and the printout (:mod:`kimtools.present.report`) both draw with this.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd
import plotly.graph_objects as go

from ..contract.reference import load_reference
from ..indicators.disclosure import count_text
from ..i18n import fmt_date, fmt_datetime, fmt_number, fmt_percent, tr
from ..periods import period_bounds
from ..store import Store, reader_memo
from ..store.deliveries import absent_tables, completeness, incomplete
from ..store.meetings import meeting_of
from ..store.queries import run_read
from ..views.steering import KEY_FIGURES, SINCE_START, comparison_periods, key_figures
from . import figures as F
from .beschluesse import decisions_figure
from .figures import DEFAULT_BAND
from .labels import kennzahl_definition, kennzahl_label, with_units
from .markup import tile

__all__ = ["key_figure_tiles", "since_start_tile", "steering_figures", "data_state", "incomplete_note", "absent_note", "population_note",
           "meeting_note", "EXPLAIN", "explain", "no_status_changes"]


def _change(now, before) -> str:
    if before is None or pd.isna(before) or before == 0 or pd.isna(now):
        return ""
    return f" ({'+' if now >= before else '−'}{fmt_percent(abs(now / before - 1))})"


def key_figure_tiles(main: pd.DataFrame, zeitraum: str, minimum: int = 3,
                     band: tuple[float, float] | None = None) -> list[str]:
    """One tile per key figure: its value in ``zeitraum`` and, below, the previous quarter and the same quarter a
    year before with the change in per cent; the definition on hover. Counts under ``minimum`` show as "< minimum",
    a load per post resting on fewer cases is not shown, and no change is computed from a hidden value."""

    band = band or DEFAULT_BAND
    figures = key_figures(main, zeitraum)
    value = {(r.kennzahl, r.vergleich): (r.zaehler, r.wert) for r in figures.itertuples(index=False)}
    periods = comparison_periods(zeitraum)
    now_rows = main.loc[main["zeitraum"] == zeitraum]
    incomplete = "unvollstaendig" in main.columns and bool(now_rows["unvollstaendig"].any())
    items = []
    for k in KEY_FIGURES:
        rate = k == "faelle_je_vzae"

        def shown(role):   # (value for the change, text)
            z, w = value.get((k, role), (None, None))
            if z is None or pd.isna(z):
                return None, "–"
            if int(z) < minimum:
                return None, "–" if rate else count_text(z, minimum)
            if rate:
                return (None, "–") if pd.isna(w) else (float(w), fmt_number(float(w), 1))
            return int(z), fmt_number(int(z))

        now, text = shown("aktuell")
        notes = []
        for role, name in (("vorquartal", tr({"de": "Vorquartal", "en": "previous quarter"})),
                           ("vorjahr", tr({"de": "Vorjahresquartal", "en": "same quarter last year"}))):
            before, before_text = shown(role)
            notes.append(f"{name} {periods[role]}: {before_text}{_change(now, before) if now is not None else ''}")
        when = (tr({"de": f"am Ende von {zeitraum}", "en": f"at the end of {zeitraum}"})
                if k in ("faelle_offen", "faelle_je_vzae") else tr({"de": f"im {zeitraum}", "en": f"in {zeitraum}"}))
        if rate:
            when += tr({"de": f"; Zielkorridor {fmt_number(band[0])}–{fmt_number(band[1])}",
                        "en": f"; target band {fmt_number(band[0])}–{fmt_number(band[1])}"})
        if incomplete:
            when += tr({"de": " (unvollständig: nicht alle Träger geliefert)",
                        "en": " (incomplete: not every provider delivered)"})
        items.append(tile(kennzahl_label(k), text, [when, *notes], kennzahl_definition(k),
                          over=rate and now is not None and now > band[1]))
    return items


def since_start_tile(since: pd.DataFrame, end, minimum: int = 3) -> str:
    """Persons reached since the start of the data up to ``end`` (the end of the page's quarter), with the
    consultations and, where the export records them, the persons together with the household members counselled
    alongside: the cumulative figures KIM reports to the public. Counts under ``minimum`` show as "< minimum"."""

    def count(k: str) -> int | None:
        hit = since.loc[since["kennzahl"] == k, "zaehler"]
        return None if hit.empty or pd.isna(hit.iloc[0]) else int(hit.iloc[0])

    shown = lambda n: "–" if n is None else count_text(n, minimum)  # noqa: E731
    persons, talks, household = (count(k) for k in SINCE_START)
    notes = [tr({"de": f"erreichte Personen bis {fmt_date(end)}", "en": f"persons reached up to {fmt_date(end)}"}),
             tr({"de": f"Beratungen: {shown(talks)}", "en": f"consultations: {shown(talks)}"})]
    if household is not None:
        notes.append(tr({"de": f"mit mitberatenen Angehörigen: {shown(household)}",
                         "en": f"with household members counselled alongside: {shown(household)}"}))
    definition = tr({"de": "Vom ersten Datum der Daten bis zum Ende des Quartals: ",
                     "en": "From the first date of the data to the end of the quarter: "}) + kennzahl_definition(SINCE_START[0])
    return tile(tr({"de": "Seit Beginn", "en": "Since the start"}), shown(persons), notes, definition)


def steering_figures(views: dict[str, object], minimum: int = 3,
                     names: Iterable[str] | None = None) -> dict[str, go.Figure]:
    """The page's figures: trend, reach by district, referral funnel, status changes and the implemented decisions
    (or only ``names``)."""

    q, where = views["zeitraum"], views["kommune"] + (f", {views['stadtbezirk']}" if views["stadtbezirk"] else "")
    window = tr({"de": f"{fmt_date(views['start'])} bis {fmt_date(views['end'])}",
                 "en": f"{fmt_date(views['start'])} to {fmt_date(views['end'])}"})
    main = views["main"]
    main = main.loc[main["zeitraum"] <= q]   # the page looks back from its quarter
    d = views["districts"]
    builders = {
        "trend": lambda: F.counts_over_time(main, bars=("neuzugaenge", "abschluesse"), minimum=minimum, title=tr(
            {"de": f"{where}: Neuzugänge, Abschlüsse und offene Fälle je Quartal bis {q}",
             "en": f"{where}: new, closed and open cases per quarter up to {q}"})).update_layout(height=360),
        "reach": lambda: F.reach_by_district(d, zeitraum=q, minimum=minimum, shapes=views.get("shapes"), title=tr(
            {"de": f"{views['kommune']}: erreichte Personen je 1.000 Einwohner in {q} (95-%-Intervall)",
             "en": f"{views['kommune']}: persons reached per 1,000 inhabitants in {q} (95 % interval)"})),
        "funnel": lambda: F.referral_funnel(views["funnel"], minimum=minimum, title=tr(
            {"de": f"{where}: was aus Vermittlungen wird, {window}",
             "en": f"{where}: what becomes of referrals, {window}"})).update_layout(height=340),
        "status": lambda: F.status_sankey(views["transitions"], minimum=minimum, title=tr(
            {"de": f"{where}: Wechsel des Aufenthaltsstatus, {window}",
             "en": f"{where}: changes of residence status, {window}"})),
        "decisions": lambda: decisions_figure(views["beschluesse"], minimum).update_layout(title=tr(
            {"de": f"{views['kommune']}: umgesetzte Beschlüsse, ihre Kennzahl je Quartal, vorher und nachher (95-%-Intervall)",
             "en": f"{views['kommune']}: implemented decisions, their indicator per quarter, before and after (95 % interval)"})),
    }
    return {name: builders[name]() for name in (builders if names is None else names)}


def data_state(store: Store, kommunen: list[str] | None = None) -> str:
    """"Datenstand" line: per kommune the data end and the time of the last import."""
    info = store.info()
    if kommunen is not None:
        info = info.loc[info["kommune"].isin(kommunen)]
    until = completeness(store.connect()).set_index("kommune")
    parts = []
    for r in info.itertuples(index=False):
        text = tr({"de": f"{r.kommune}: Daten bis {fmt_date(r.daten_bis)}, letzter Import {fmt_date(r.letzter_import)}",
                   "en": f"{r.kommune}: data up to {fmt_date(r.daten_bis)}, last import {fmt_date(r.letzter_import)}"})
        if r.kommune in until.index and until.loc[r.kommune, "vollstaendig_bis"] < until.loc[r.kommune, "datenende"]:
            u = until.loc[r.kommune]
            text += tr({"de": f", von allen Trägern erst bis {fmt_date(u['vollstaendig_bis'])} (ausstehend: {u['nachzuegler']})",
                        "en": f", from every provider only up to {fmt_date(u['vollstaendig_bis'])} (outstanding: "
                              f"{u['nachzuegler']})"})
        parts.append(text)
    notes = [population_note(store, k) for k in info["kommune"]]
    notes = " ".join(n for n in notes if n)
    frozen = meeting_note(store)
    return (f"{frozen} " if frozen else "") + tr({"de": "Datenstand – ", "en": "Data state – "}) + "; ".join(parts) \
        + (f". {notes}" if notes else "")


def incomplete_note(store: Store, kommune: str, zeitraum: str | None = None) -> str:
    """A line for a page showing ``kommune`` (in ``zeitraum``, or its latest data) when some provider has not yet
    delivered that far (:mod:`kimtools.store.deliveries`); empty otherwise."""
    absent = absent_note(store, kommune)
    until = completeness(store.connect())
    mine = until.loc[until["kommune"] == kommune]
    if mine.empty or not mine["vollstaendig_bis"].iloc[0] < mine["datenende"].iloc[0]:
        return absent
    u = mine.iloc[0]
    if zeitraum is not None:
        if not incomplete(pd.Series([kommune]), pd.Series([pd.Timestamp(period_bounds(zeitraum)[1])]), mine).iloc[0]:
            return absent
        what = tr({"de": f"{zeitraum} ist noch unvollständig", "en": f"{zeitraum} is not yet complete"})
    else:
        what = tr({"de": f"Die Daten nach dem {fmt_date(u['vollstaendig_bis'])} sind noch unvollständig",
                   "en": f"The data after {fmt_date(u['vollstaendig_bis'])} are not yet complete"})
    return (absent + " " if absent else "") + what + tr({"de": f": nicht alle Träger haben bis {fmt_date(u['datenende'])} geliefert (ausstehend: "
                            f"{u['nachzuegler']}). Zahlen dieses Zeitraums können noch steigen.",
                      "en": f": not every provider has delivered up to {fmt_date(u['datenende'])} (outstanding: "
                            f"{u['nachzuegler']}). Figures of this period may still rise."})


def meeting_note(store: Store) -> str:
    """The line that names a frozen meeting state (:mod:`kimtools.store.meetings`); empty for the live store."""
    found = meeting_of(store)
    if found is None:
        return ""
    end = f", Daten bis {fmt_date(found.datenende)}" if found.datenende else ""
    end_en = f", data up to {fmt_date(found.datenende)}" if found.datenende else ""
    return tr({"de": f"Sitzungsstand „{found.name}“, eingefroren am {fmt_datetime(found.frozen)}{end}: spätere "
                     "Importe sind hier nicht enthalten.",
               "en": f"Meeting state '{found.name}', frozen on {fmt_datetime(found.frozen)}{end_en}: later imports "
                     "are not included here."})


def population_note(store: Store, kommune: str) -> str:
    """The footnote to every rate per 1,000 of ``kommune``: which district figures are official, which from the
    export and which estimates, with source and date (:mod:`kimtools.ingest.reference_figures`)."""
    con = store.connect()
    memo = reader_memo(con)   # read once per state of the store, for every page that shows a rate
    if ("bezirke", kommune) not in memo:
        memo[("bezirke", kommune)] = run_read(con, "SELECT stadtbezirk, herkunft, quelle, stand FROM bezirke "
                                                   "WHERE kommune = ? ORDER BY stadtbezirk", [kommune])
    rows = memo[("bezirke", kommune)]
    if rows.empty:
        return ""
    ref = load_reference().bezirke
    estimated = set(ref.loc[(ref["kommune"] == kommune) & (ref["geschaetzt"] == "ja"), "stadtbezirk"])
    parts = []
    for herkunft, group in rows.groupby("herkunft", sort=False):
        estimate = herkunft == "mitgeliefert"
        names = ", ".join(group["stadtbezirk"])
        if estimate:
            kind = ("geschätzt", "estimated") if set(group["stadtbezirk"]) <= estimated else ("mitgeliefert", "shipped")
            when = ", ".join(sorted({fmt_date(d) for d in group["stand"]}))
            parts.append(tr({"de": f"{kind[0]} für {names} (mitgelieferte Näherungswerte, Stand {when}; Quellen in "
                                   "data/reference/bezirke.csv)",
                             "en": f"{kind[1]} for {names} (approximations shipped with kimtools, as of {when}; sources "
                                   "in data/reference/bezirke.csv)"}))
            continue
        for (quelle, stand), g in group.groupby(["quelle", "stand"], sort=False):
            names = ", ".join(g["stadtbezirk"])
            kind = ("amtlich", "official") if herkunft == "amtlich" else ("aus dem Export", "from the export")
            parts.append(tr({"de": f"{kind[0]} für {names} ({quelle}, Stand {fmt_date(stand)})",
                             "en": f"{kind[1]} for {names} ({quelle}, as of {fmt_date(stand)})"}))
    return with_units({"de": "Einwohnerzahlen je {Bezirk}: ", "en": "Inhabitants per {district}: "}, kommune) + "; ".join(parts) + "."


def absent_note(store: Store, kommune: str) -> str:
    """A line for a page showing ``kommune`` when its last import declared tables not delivered (an import profile's
    ``fehlt = true``): the indicators from them show no data; empty otherwise."""
    absent = absent_tables(store.connect()).get(kommune, set())
    if not absent:
        return ""
    names = {"beratungen": ("Beratungen", "consultations"), "vermittlungen": ("Vermittlungen", "referrals"),
             "stellen": ("Stellen", "posts"), "statuswechsel": ("Statuswechsel", "status changes"),
             "bezirke": ("Bezirkszahlen", "district figures")}
    de = ", ".join(names.get(t, (t, t))[0] for t in sorted(absent))
    en = ", ".join(names.get(t, (t, t))[1] for t in sorted(absent))
    return tr({"de": f"Keine Daten zu {de}: {kommune} liefert sie nicht (laut Importprofil); Kennzahlen daraus "
                     "bleiben leer, nicht null.",
               "en": f"No data on {en}: {kommune} does not deliver them (per its import profile); indicators from "
                     "them stay empty, not zero."})


#: one line under each part of the page: what it shows and how to read it
EXPLAIN = {
    "trend": ("Balken: Neuzugänge und Abschlüsse im Quartal; Linie: offene Fälle am Quartalsende.",
              "Bars: new and closed cases in the quarter; line: open cases at the end of the quarter."),
    "reach": ("Erreichte Personen je 1.000 Einwohner je {Bezirk}; überlappende 95-%-Intervalle bedeuten keinen "
              "klaren Unterschied.",
              "Persons reached per 1,000 inhabitants per {district}; overlapping 95 % intervals mean no clear difference."),
    # where the districts are drawn as a map instead (present/figures/maps.py)
    "reach_map": ("Erreichte Personen je 1.000 Einwohner je {Bezirk}: Farbe nur, wo ein {Bezirk} klar über oder unter "
                  "dem Gesamtwert liegt (außerhalb der 95-%- bzw. 99,8-%-Grenzen des Trichters), keine Rangliste; Wert "
                  "und 95-%-Intervall zeigt das Dashboard beim Darüberfahren.",
                  "Persons reached per 1,000 inhabitants per {district}: colour only where a {district} lies clearly "
                  "above or below the overall rate (outside the funnel's 95 % or 99.8 % limits), no ranking; the "
                  "dashboard shows value and 95 % interval on hover."),
    "funnel": ("Vermittlungen der letzten zwölf Monate bis zum Quartalsende und wie weit sie gekommen sind; Prozent vom "
               "Ausgangswert.",
               "Referrals of the twelve months up to the end of the quarter and how far they got; per cent of the start."),
    "stalls": ("Partner mit klar niedrigerer Annahmequote oder klar längerer Wartezeit als alle übrigen (95-%-Intervall); "
               "keine Rangliste.",
               "Partners with a clearly lower acceptance rate or clearly longer wait than all others (95 % interval); "
               "no ranking."),
    "gaps": ("Vermittlungen, bei denen eine Angebotslücke dokumentiert wurde, nach Handlungsfeld; Trend: letzte vier "
             "Quartale / vier davor.",
             "Referrals with a documented service gap, by needs area; trend: last four quarters / the four before."),
    "status": ("Dokumentierte Wechsel des Aufenthaltsstatus in zwölf Monaten, vom bisherigen zum neuen Status; "
               "Verbindungen mit weniger als drei Wechseln sind nicht gezeichnet.",
               "Documented changes of residence status in twelve months, from the previous to the new status; links "
               "with fewer than three changes are not drawn."),
}


def explain(part: str, kommune: str | None = None, mapped: bool = False) -> str:
    """The explanation line of one part of the page, in the current language, naming ``kommune``'s sub-units; the
    districts' part its own where they are ``mapped`` (drawn as a map)."""
    de, en = EXPLAIN["reach_map" if part == "reach" and mapped else part]
    return with_units({"de": de, "en": en}, kommune)


def no_status_changes() -> str:
    return tr({"de": "In diesem Zeitraum sind keine Wechsel des Aufenthaltsstatus dokumentiert.",
               "en": "No changes of residence status are documented in this period."})
