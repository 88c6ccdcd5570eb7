"""The demo in a foreign layout (``kimtools demo --fremdformat``): one kommune's export as a KIM team's own Excel
workbook might hold it, with the import profile that maps it back onto the contract.

The workbook ``kim-herne-fallliste.xlsx`` differs from the contract as such lists do: sheets ``Tabelle1`` (cases),
``Tabelle2`` (consultations), ``Tabelle3`` (referrals), ``Einrichtungen`` (partners) and ``Personal`` (posts); a
title and an empty row above every header; German headers of its own; labels of its own for codes
("Umzug/Wegzug", "Duldung (§ 60a)", "Telefon"); the needs areas as tick-mark columns; case dates as text
``TT.MM.JJ``; no kommune column; no status changes. Its profile (``fremdformat-profil.toml`` beside this module,
written beside the workbook as ``kimtools-profil.toml``) maps it all back: imported through it, the workbook gives
the indicator table of the contract export of the same data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from ..contract import codes
from ..spreadsheet import excel_writer
from .demo_deliveries import kommune_part
from .profile import PROFILE_NAME

__all__ = ["FOREIGN_KOMMUNE", "FOREIGN_PROFILE", "FOREIGN_WORKBOOK", "LABELS", "TICK_COLUMNS", "foreign_tables",
           "write_foreign_demo"]

FOREIGN_KOMMUNE = "Herne"
FOREIGN_WORKBOOK = "kim-herne-fallliste.xlsx"
#: the profile that maps the foreign workbook onto the contract
FOREIGN_PROFILE = Path(__file__).with_name("fremdformat-profil.toml")

#: the foreign system's label for each code (codes not listed keep the contract's German label)
LABELS: dict[str, dict[str, str]] = {
    "abschlussgrund": {"weitervermittelt": "Übergabe an Regeldienst", "abbruch": "Abbruch durch Klient/in",
                       "wegzug": "Umzug/Wegzug", "kontaktverlust": "kein Kontakt mehr"},
    "zielgruppe": {"erstintegration": "Erstintegration (nachholend)", "pflegesetting": "Pflege",
                   "sonstige": "andere"},
    "aufenthaltsstatus": {"aufenthaltsgestattung": "Gestattung", "duldung": "Duldung (§ 60a)",
                          "ae_104c": "Chancen-AR § 104c", "ae_25a": "AE § 25a", "ae_25b": "AE § 25b",
                          "ae_humanitaer": "AE humanitär", "ae_sonstige": "AE sonstige",
                          "eu_freizuegigkeit": "EU-Bürger/in"},
    "geschlecht": {"x": "k. A."},
    "form": {"persoenlich": "Persönlich", "telefonisch": "Telefon", "digital": "Video/Online",
             "aufsuchend": "Hausbesuch"},
    "vermittlungsstatus": {"warteliste": "auf Warteliste", "abgeschlossen": "beendet",
                           "nicht_wahrgenommen": "nicht erschienen"},
    "luecke": {"kein_angebot": "kein Angebot vorhanden", "wartezeit": "Wartezeit zu lang", "sprachbarriere": "Sprache",
               "erreichbarkeit": "nicht erreichbar"},
    "handlungsfeld": {"sprache": "Sprache/Deutsch", "bildung": "Bildung/Schule", "arbeit": "Arbeit/Beruf",
                      "aufenthalt": "Aufenthalt/Asyl", "familie": "Familie/Kinder", "finanzen": "Finanzen/Schulden",
                      "teilhabe": "Teilhabe/Freizeit"},
    "partnertyp": {"mso": "MSO", "kommunales_integrationszentrum": "KI"},
    "foerderung": {"land": "Land (KIM)", "eigen": "Eigenanteil"},
}
#: the needs areas' tick-mark columns of the cases sheet, in the contract's order
TICK_COLUMNS = {code: LABELS["handlungsfeld"].get(code, de) for code, (de, _en) in codes.HANDLUNGSFELD.items()}


def _label(values: pd.Series, code_list: str) -> pd.Series:
    labels = {code: LABELS.get(code_list, {}).get(code, de) for code, (de, _en) in codes.CODE_LISTS[code_list].items()}
    return values.map(lambda v: labels.get(v, v) if isinstance(v, str) and v else "")


def foreign_tables(tables: dict[str, pd.DataFrame], kommune: str = FOREIGN_KOMMUNE) -> dict[str, pd.DataFrame]:
    """``kommune``'s part of the contract demo as the foreign workbook's sheets (header row first, no title)."""
    part = kommune_part(tables, kommune)
    f = part["faelle"]
    text_date = lambda s: pd.to_datetime(s).dt.strftime("%d.%m.%y").fillna("")  # noqa: E731 - the list's own text dates
    cases = pd.DataFrame({
        "Fall-Nr.": f["fall_id"], "Klient-ID": f["person_id"], "Sozialraum": f["stadtbezirk"],
        "Träger-Nr.": f["traeger"], "Fallbeginn": text_date(f["beginn"]), "Fallende": text_date(f["ende"]),
        "Beendigungsgrund": _label(f["abschlussgrund"], "abschlussgrund"),
        "Fallgruppe": _label(f["zielgruppe"], "zielgruppe"),
        "Aufenthaltstitel": _label(f["aufenthaltsstatus"], "aufenthaltsstatus"),
        **{label: f["handlungsfelder"].str.split("|").map(lambda areas, c=code: "x" if c in areas else "")
           for code, label in TICK_COLUMNS.items()},
        "Zugang über": f["zugang_ueber"].fillna(""), "Geschlecht": _label(f["geschlecht"], "geschlecht"),
        "Jahrgang": f["geburtsjahr"], "Personen im Haushalt": f["haushalt_personen"],
        "mitberatene Angehörige": f["mitberatene"],
    })
    b = part["beratungen"]
    consultations = pd.DataFrame({
        "Kontakt-ID": b["beratung_id"], "Fall-Nr.": b["fall_id"], "Kontaktdatum": pd.to_datetime(b["datum"]),
        "Dauer (Min.)": b["dauer_min"], "Kontaktart": _label(b["form"], "form"),
        "Thema": _label(b["handlungsfeld"], "handlungsfeld")})
    v = part["vermittlungen"]
    referrals = pd.DataFrame({
        "Vermittlungsnummer": v["vermittlung_id"], "Fall-Nr.": v["fall_id"], "Datum": pd.to_datetime(v["datum"]),
        "vermittelt an": v["an_partner"], "Bereich": _label(v["handlungsfeld"], "handlungsfeld"),
        "Stand": _label(v["status"], "vermittlungsstatus"), "Ersttermin": pd.to_datetime(v["erstkontakt"]),
        "Hindernis": _label(v["luecke"], "luecke")})
    p = part["partner"]
    partners = pd.DataFrame({
        "Nr.": p["partner_id"], "Bezeichnung": p["name"], "Art": _label(p["typ"], "partnertyp"),
        "Rechtskreis": _label(p["rechtskreis"], "rechtskreis"),
        "Case-Management": p["case_management"].map({"ja": "x"}).fillna(""), "Bezirk": p["stadtbezirk"].fillna("")})
    s = part["stellen"]
    posts = pd.DataFrame({"Träger-Nr.": s["traeger"], "Baustein": "Baustein " + s["baustein"].astype(str),
                          "Aufgabe": _label(s["funktion"], "funktion"), "Bezirk": s["stadtbezirk"].fillna(""),
                          "VZÄ": s["vzae"], "besetzt": s["besetzt"], "Finanzierung": _label(s["foerderung"], "foerderung"),
                          "ab": pd.to_datetime(s["von"]), "bis": pd.to_datetime(s["bis"])})
    return {"Tabelle1": cases, "Tabelle2": consultations, "Tabelle3": referrals, "Einrichtungen": partners,
            "Personal": posts}


_TITLES = {"Tabelle1": "Fallübersicht", "Tabelle2": "Beratungskontakte", "Tabelle3": "Vermittlungen",
           "Einrichtungen": "Einrichtungen im Netzwerk", "Personal": "Personal (VZÄ)"}


def write_foreign_demo(tables: dict[str, pd.DataFrame], out: Path, kommune: str = FOREIGN_KOMMUNE) -> Path:
    """Write the foreign workbook to ``out`` with its profile beside it (as :data:`PROFILE_NAME`); return the
    workbook's path. Each sheet has a title row and an empty row above its header (the header is row 3)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / FOREIGN_WORKBOOK
    with excel_writer(path) as writer:
        for sheet, frame in foreign_tables(tables, kommune).items():
            frame.to_excel(writer, sheet_name=sheet, index=False, startrow=2)
            writer.sheets[sheet].cell(row=1, column=1, value=f"KIM {kommune} – {_TITLES[sheet]}, Stand 30.09.2026")
    shutil.copyfile(FOREIGN_PROFILE, out / PROFILE_NAME)
    return path
