"""Labels for users: column and indicator names in German (default) or English, one place for all views.

>>> column_label("stadtbezirk")
'Stadtbezirk'
>>> kennzahl_label("faelle_offen", lang="en")
'open cases'
>>> column_label("stadtbezirk", kommune="Kreis Unna"), with_units({"de": "Die {Bezirke}", "en": "The {districts}"}, "Kreis Unna")
('Gemeinde', 'Die Gemeinden')
"""

from __future__ import annotations

from ..contract.catalogue import CATALOGUE
from ..contract.reference import UNITS, units, with_units
from ..i18n import tr
from ..indicators import KENNZAHLEN

__all__ = ["column_label", "kennzahl_label", "nenner_label", "is_share", "VERDICT_WORDS", "FINDING_WORDS", "COLUMNS", "UNITS", "units", "with_units"]

COLUMNS: dict[str, tuple[str, str]] = {
    "kommune": ("Kommune", "municipality"),
    "stadtbezirk": ("{Bezirk}", "{district}"),   # as the kommune names its sub-units: units()
    "traeger": ("Träger", "provider"),
    "zeitraum": ("Zeitraum", "period"),
    "kennzahl": ("Kennzahl", "indicator"),
    "wert": ("Wert", "value"),
    "faelle": ("Fälle", "cases"),
    "beratungen": ("Beratungen", "consultations"),
    "vermittlungen": ("Vermittlungen", "referrals"),
    "partner": ("Partner", "partners"),
    "stellen": ("Stellenzeilen", "post rows"),
    "vzae_aktuell": ("Case-Management-Stellen besetzt (VZÄ)", "filled case-management posts (FTE)"),
    "vzae": ("Stellen heute (VZÄ)", "posts today (FTE)"),
    "vzae_noetig": ("Stellen nötig (VZÄ)", "posts needed (FTE)"),
    "vzae_noetig_oben": ("nötig, obere Grenze", "needed, upper bound"),
    "luecke_vzae": ("Differenz (VZÄ)", "gap (FTE)"),
    "faelle_prognose": ("offene Fälle (Prognose)", "open cases (forecast)"),
    "auslaender": ("Ausländer", "foreign nationals"),
    "reichweite_je_1000": ("Erreichte je 1.000 Einw.", "reached per 1,000 inh."),
    "luecken": ("Lücken (4 Quartale)", "gaps (4 quarters)"),
    "bedarfsindex": ("Bedarfsindex", "need index"),
    "statuswechsel": ("Statuswechsel", "status changes"),
    "daten_von": ("Daten von", "data from"),
    "daten_bis": ("Daten bis", "data to"),
    "letzter_import": ("Letzter Import", "last import"),
    "quelle": ("Quelle", "source"),
    "letzte_lieferung": ("Letzte Lieferung", "last delivery"),
    "umfang": ("Umfang der Lieferung", "scope of the delivery"),
    "datenende": ("Daten bis", "data to"),
    "unvollstaendig": ("unvollständig (nicht alle Träger geliefert)", "incomplete (not every provider delivered)"),
    "zeitpunkt": ("Zeitpunkt", "time"),
    "datenstand": ("Datenstand", "data as of"),
    "kimtools_version": ("kimtools-Version", "kimtools version"),
    "stichtag": ("Stichtag", "reference day"),
    "ohne_beratung": ("Fälle ohne Beratung", "cases without consultation"),
    "vermittlungen_offen_30": ("Vermittlungen > 30 Tage ohne Rückmeldung", "referrals unanswered > 30 days"),
    "doku_luecken_monate": ("Monate ohne Dokumentation (Träger)", "months without documentation (provider)"),
    "parallele_faelle": ("Parallele Fälle einer Person", "parallel cases of one person"),
    "vollstaendigkeit": ("Vollständigkeit optionaler Angaben", "completeness of optional fields"),
    "sha256": ("SHA-256 der Quelle", "SHA-256 of the source"),
    "n_faelle": ("Fälle", "cases"),
    "n_beratungen": ("Beratungen", "consultations"),
    "n_vermittlungen": ("Vermittlungen", "referrals"),
    "handlungsfeld": ("Handlungsfeld", "needs area"),
    "luecke": ("Lücke", "gap"),
    "zielgruppe": ("Zielgruppe", "target group"),
    "von": ("von", "from"),
    "bis": ("bis", "to"),
    "zellen": ("Zellen", "cells"),
    "geschuetzt": ("geschützt", "protected"),
    "anteil": ("Anteil geschützt", "share protected"),
    "aufenthaltsstatus": ("Aufenthaltsstatus", "residence status"),
    "an_partner": ("vermittelt an", "referred to"),
    "partner_typ": ("Art des Partners", "partner type"),
    "rechtskreis": ("Rechtskreis", "legal domain"),
    "altersgruppe": ("Altersgruppe", "age group"),
    "geschlecht": ("Geschlecht", "gender"),
    "baustein": ("Baustein", "module"),
    "funktion": ("Funktion", "function"),
    "foerderung": ("Förderung", "funding"),
    "abschlussgrund": ("Abschlussgrund", "closure reason"),
    "partnertyp": ("Partnertyp", "partner type"),
    "vermittlungsstatus": ("Vermittlungsstatus", "referral status"),
    "bezirke": ("{Bezirke} (am stärksten betroffen zuerst)", "{districts} (most affected first)"),
    "seit": ("seit", "since"),
    "trend": ("Trend (letzte 4 Quartale zu den 4 davor)", "trend (last 4 quarters against the 4 before)"),
    "name": ("Partner", "partner"),
    "typ": ("Art", "type"),
    "annahme": ("Annahmequote (95-%-Intervall)", "acceptance (95 % interval)"),
    "annahme_uebrige": ("übrige Partner", "other partners"),
    "annahme_befund": ("Befund Annahme", "finding acceptance"),
    "wartezeit": ("Wartezeit in Tagen, Median (95-%-Intervall)", "wait in days, median (95 % interval)"),
    "wartezeit_uebrige": ("übrige Partner", "other partners"),
    "wartezeit_befund": ("Befund Wartezeit", "finding wait"),
    # the columns of the notebooks' tables (kim.tabelle)
    "bruecke": ("Brücke", "bridge"),
    "richtung": ("Richtung", "direction"),
    "eingang": ("Eingang", "received"),
    "ausgang": ("Ausgang", "sent"),
    "verbindungen": ("Verbindungen", "links"),
    "vermittlerrolle": ("Vermittlerrolle", "broker role"),
    "rechtskreise": ("Rechtskreise", "legal domains"),
    "n": ("Anzahl", "number"),
    "zaehler": ("Zähler", "numerator"),
    "nenner": ("Nenner", "denominator"),
    "intervall": ("95-%-Intervall", "95 % interval"),
    "lage": ("Lage", "position"),
    "median": ("Median", "median"),
    "q1": ("1. Quartil", "1st quartile"),
    "q3": ("3. Quartil", "3rd quartile"),
    "kommune_wert": ("Wert der Kommune", "value of the kommune"),
    "einheit": ("Einheit", "unit"),
    "auspraegung": ("Ausprägung", "value"),
    "merkmal": ("Merkmal", "breakdown"),
    "n_vorher": ("vorher", "before"),
    "name_von": ("Partner", "partner"),
    "name_nach": ("Partner", "partner"),
    "rechtskreis_von": ("Rechtskreis", "legal domain"),
    "rechtskreis_nach": ("Rechtskreis", "legal domain"),
    "zwischen_rechtskreisen": ("zwischen Rechtskreisen", "between legal domains"),
    "anzahl_rechtskreise": ("Zahl der Rechtskreise", "number of legal domains"),
    "volumen_rechtskreise": ("Vermittlungen mit ihnen", "referrals with them"),
    "volumen": ("Vermittlungen", "referrals"),
    "letzte": ("letzte 4 Quartale", "last 4 quarters"),
    "davor": ("4 Quartale davor", "4 quarters before"),
    "n_nachher": ("nachher", "after"),
    "differenz": ("Differenz", "difference"),
    "veraenderung": ("Veränderung", "change"),
    "name_quelle": ("von", "from"),
    "name_ziel": ("an", "to"),
    "personen": ("Personen", "persons"),
    "zu_25a_25b": ("zu § 25a/§ 25b gewechselt", "moved to § 25a/§ 25b"),
    "laufend": ("noch laufend", "still running"),
    "wartende": ("Wartende", "waiting"),
    "wartezeit_median": ("Wartezeit, Median (Tage)", "wait, median (days)"),
    "annahme_ki_unten": ("Annahme 95 % unten", "acceptance 95 % low"),
    "annahme_ki_oben": ("Annahme 95 % oben", "acceptance 95 % high"),
}


def column_label(name: str, lang: str | None = None, kommune: str | None = None) -> str:
    """A column's name for users; ``stadtbezirk`` as ``kommune`` names its sub-units (a Kreis: "Gemeinde"; default:
    a city's "Stadtbezirk")."""
    pair = COLUMNS.get(name)
    if pair is None:
        return name
    return with_units(pair, kommune, lang)


#: counts of the comparison bundle that the catalogue knows under another name
_BUNDLE_NAMES = {"faelle_neu": "neuzugaenge", "faelle_abgeschlossen": "abschluesse"}


def kennzahl_label(name: str, lang: str | None = None) -> str:
    doc = KENNZAHLEN.get(_BUNDLE_NAMES.get(name, name))
    if doc is None:
        return name
    return tr(doc, lang)


def kennzahl_definition(name: str, lang: str | None = None) -> str:
    """The definition of an indicator from the catalogue (the tooltip of a tile), in the current language."""
    doc = KENNZAHLEN[_BUNDLE_NAMES.get(name, name)]
    return tr((doc["definition_de"], doc["definition_en"]), lang)


def nenner_label(name: str, lang: str | None = None) -> str | None:
    """The short name of an indicator's denominator (the catalogue's, up to its first explanation), for an axis that
    shows it; ``None`` where it has none.

    >>> nenner_label("reichweite_je_1000"), nenner_label("annahmequote"), nenner_label("neuzugaenge")
    ('Einwohner', 'Vermittlungen', None)
    """
    doc = KENNZAHLEN.get(_BUNDLE_NAMES.get(name, name))
    text = tr((doc["nenner_de"], doc["nenner_en"]), lang) if doc else "–"
    if text.strip() in ("–", ""):
        return None
    for cut in (" (", ", ", " mit Datum"):
        text = text.split(cut)[0]
    return text.replace(" in P", "").strip()


def is_share(kennzahl: str) -> bool:
    """Whether the catalogue's ``kennzahl`` is a share (Wilson interval, no factor): shown in per cent.

    >>> is_share("annahmequote"), is_share("reichweite_je_1000")
    (True, False)
    """
    entry = CATALOGUE.get(kennzahl)
    return entry is not None and entry.texts.get("intervall") == "wilson" and entry.faktor == 1


#: where a unit lies in the funnel (``lage``), as a legend or a table says it
VERDICT_WORDS = {"ueber_99,8": ("deutlich darüber (99,8 %)", "clearly above (99.8 %)"),
                 "ueber_95": ("darüber (95 %)", "above (95 %)"), "innerhalb": ("im Rahmen", "within"),
                 "unter_95": ("darunter (95 %)", "below (95 %)"),
                 "unter_99,8": ("deutlich darunter (99,8 %)", "clearly below (99.8 %)"),
                 "geschuetzt": ("zu wenige Fälle", "too few cases"), "keine_daten": ("keine Daten", "no data")}
#: what the partner comparison finds (``annahme_befund``, ``wartezeit_befund``)
FINDING_WORDS = {"hoeher": ("höher als bei den übrigen", "higher than the others"),
                 "niedriger": ("niedriger als bei den übrigen", "lower than the others"),
                 "laenger": ("länger als bei den übrigen", "longer than the others"),
                 "kuerzer": ("kürzer als bei den übrigen", "shorter than the others"),
                 "unauffaellig": ("unauffällig", "not different"), "zu_wenige": ("zu wenige Fälle", "too few")}
