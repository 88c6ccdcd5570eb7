"""Import profiles: foreign exports mapped onto the contract, and the drafts that propose such a mapping.

The independent route is always the contract export of the same data (the demo's Herne, written as the contract
says): a foreign layout read through its profile must give exactly its indicator table. What the draft must decide
and what it must leave open is listed here by hand, from the foreign workbook's headers and labels
(:mod:`kimtools.ingest.demo_foreign`), not from the draft's output.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import tomlkit

from conftest import write_export
from kimtools import Store, indicator_table
from kimtools.cli import main
from kimtools.errors import ImportValidationError, InputError
from kimtools.ingest.demo import generate_demo
from kimtools.ingest.demo_deliveries import kommune_part
from kimtools.ingest.demo_foreign import FOREIGN_KOMMUNE, FOREIGN_PROFILE, write_foreign_demo
from kimtools.ingest.draft import draft_profile
from kimtools.ingest.files import write_export_csv
from kimtools.ingest.importer import import_export
from kimtools.ingest.profile import PROFILE_NAME, find_profile, load_profile
from kimtools.present.steering import absent_note

KEY = b"k" * 32


@pytest.fixture(scope="module")
def herne(tmp_path_factory) -> dict[str, Path]:
    """The demo's Herne twice: as the contract export (without status changes, which the foreign list lacks) and as
    the foreign workbook with its profile; each imported into a store of its own."""
    root = tmp_path_factory.mktemp("profile")
    tables = generate_demo(show_progress=False)
    contract = root / "contract"
    contract.mkdir()
    part = kommune_part(tables, FOREIGN_KOMMUNE)
    for name, frame in part.items():
        if name != "statuswechsel":
            write_export_csv(frame, contract / f"{name}.csv")
    workbook = write_foreign_demo(tables, root / "fremd")
    import_export(contract, root / "contract.duckdb", key=KEY, show_progress=False)
    import_export(workbook, root / "fremd.duckdb", key=KEY, show_progress=False)   # its profile lies beside it
    return {"root": root, "contract": contract, "workbook": workbook, "part": part,
            "contract_store": root / "contract.duckdb", "foreign_store": root / "fremd.duckdb"}


def same_indicators(a: Path, b: Path, **kwargs) -> None:
    left = indicator_table(Store(a), **kwargs)
    right = indicator_table(Store(b), **kwargs)
    assert len(left) > 100
    pd.testing.assert_frame_equal(left, right)


@pytest.mark.parametrize("kwargs", [{"by": "kommune"}, {"by": "stadtbezirk"}, {"by": "traeger"},
                                    {"by": "kommune", "merkmal": "handlungsfeld"}, {"by": "kommune", "period": "month"}])
def test_foreign_workbook_through_its_profile_gives_the_contract_figures(herne, kwargs):
    same_indicators(herne["contract_store"], herne["foreign_store"], **kwargs)


def test_the_foreign_workbook_is_refused_without_a_profile_and_says_what_it_found(herne, tmp_path):
    lone = tmp_path / "liste.xlsx"
    lone.write_bytes(herne["workbook"].read_bytes())   # no profile beside it
    with pytest.raises(ImportValidationError) as err:
        import_export(lone, tmp_path / "s.duckdb", key=KEY, show_progress=False)
    text = " ".join(err.value.problems["grund_de"])
    assert "gefunden: 'Tabelle1', 'Tabelle2', 'Tabelle3', 'Einrichtungen', 'Personal'" in text
    assert "gemeint ist wohl 'Einrichtungen'? Dann in 'partner' umbenennen" in text


# ----------------------------------------------------------------------------------------------- drafting
TICKS = {"Sprache/Deutsch": "sprache", "Bildung/Schule": "bildung", "Arbeit/Beruf": "arbeit",
         "Ausbildung": "ausbildung", "Wohnen": "wohnen", "Gesundheit": "gesundheit", "Aufenthalt/Asyl": "aufenthalt",
         "Familie/Kinder": "familie", "Finanzen/Schulden": "finanzen", "Pflege": "pflege",
         "Verbraucherschutz": "verbraucherschutz", "Teilhabe/Freizeit": "teilhabe"}
AREAS = {"Sprache/Deutsch": "sprache", "Bildung/Schule": "bildung", "Arbeit/Beruf": "arbeit",
         "Aufenthalt/Asyl": "aufenthalt", "Familie/Kinder": "familie", "Finanzen/Schulden": "finanzen",
         "Teilhabe/Freizeit": "teilhabe"}
#: every entry the draft must decide, and how: from the workbook's headers and labels (one answer each)
MUST_DECIDE = {
    **{f"{t}.quelle": s for t, s in (("faelle", "Tabelle1"), ("beratungen", "Tabelle2"), ("vermittlungen", "Tabelle3"),
                                      ("partner", "Einrichtungen"), ("stellen", "Personal"))},
    **{f"{t}.kopfzeile": 3 for t in ("faelle", "beratungen", "vermittlungen", "partner", "stellen")},
    # by name and synonym
    "faelle.spalten.fall_id": "Fall-Nr.", "faelle.spalten.person_id": "Klient-ID",
    "faelle.spalten.stadtbezirk": "Sozialraum", "faelle.spalten.traeger": "Träger-Nr.",
    "faelle.spalten.abschlussgrund": "Beendigungsgrund", "faelle.spalten.zielgruppe": "Fallgruppe",
    "faelle.spalten.aufenthaltsstatus": "Aufenthaltstitel", "faelle.spalten.zugang_ueber": "Zugang über",
    "faelle.spalten.geschlecht": "Geschlecht", "faelle.spalten.geburtsjahr": "Jahrgang",
    "faelle.spalten.haushalt_personen": "Personen im Haushalt",
    # name, and the date format from the text dates "03.07.22"
    "faelle.spalten.beginn": {"spalte": "Fallbeginn", "datumsformat": "TT.MM.JJ"},
    "faelle.spalten.ende": {"spalte": "Fallende", "datumsformat": "TT.MM.JJ"},
    # the title row "KIM Herne – Fallübersicht …"
    "faelle.spalten.kommune": {"wert": "Herne"}, "partner.spalten.kommune": {"wert": "Herne"},
    # tick-mark columns named after needs areas
    "faelle.spalten.handlungsfelder": {"angekreuzt": TICKS},
    "beratungen.spalten.beratung_id": "Kontakt-ID", "beratungen.spalten.fall_id": "Fall-Nr.",
    "beratungen.spalten.datum": "Kontaktdatum", "beratungen.spalten.dauer_min": "Dauer (Min.)",
    "beratungen.spalten.form": "Kontaktart",
    "vermittlungen.spalten.vermittlung_id": "Vermittlungsnummer", "vermittlungen.spalten.fall_id": "Fall-Nr.",
    "vermittlungen.spalten.datum": "Datum", "vermittlungen.spalten.an_partner": "vermittelt an",
    "vermittlungen.spalten.erstkontakt": "Ersttermin",
    # by content: the values of a code list
    "beratungen.spalten.handlungsfeld": "Thema", "vermittlungen.spalten.handlungsfeld": "Bereich",
    "vermittlungen.spalten.status": "Stand", "vermittlungen.spalten.luecke": "Hindernis",
    # by content: the IDs of the cases' providers
    "partner.spalten.partner_id": "Nr.",
    "partner.spalten.name": "Bezeichnung", "partner.spalten.typ": "Art", "partner.spalten.rechtskreis": "Rechtskreis",
    "partner.spalten.case_management": "Case-Management", "partner.spalten.stadtbezirk": "Bezirk",
    "stellen.spalten.traeger": "Träger-Nr.", "stellen.spalten.stadtbezirk": "Bezirk", "stellen.spalten.vzae": "VZÄ",
    "stellen.spalten.von": "ab", "stellen.spalten.bis": "bis",
    # contract 1.2: the programme's posts and the household members counselled alongside, by name and synonym
    "stellen.spalten.baustein": "Baustein", "stellen.spalten.funktion": "Aufgabe", "stellen.spalten.besetzt": "besetzt",
    "stellen.spalten.foerderung": "Finanzierung", "faelle.spalten.mitberatene": "mitberatene Angehörige",
    **{f'stellen.werte.baustein."Baustein {b}"': b for b in "123"},
    'stellen.werte.foerderung."Land (KIM)"': "land",
    # labels of another system that name one code
    'faelle.werte.abschlussgrund."Abbruch durch Klient/in"': "abbruch",
    'faelle.werte.abschlussgrund."Umzug/Wegzug"': "wegzug",
    'faelle.werte.zielgruppe."Erstintegration (nachholend)"': "erstintegration",
    'faelle.werte.zielgruppe."Pflege"': "pflegesetting",
    'faelle.werte.aufenthaltsstatus."Gestattung"': "aufenthaltsgestattung",
    'faelle.werte.aufenthaltsstatus."Duldung (§ 60a)"': "duldung",
    'faelle.werte.aufenthaltsstatus."AE § 25a"': "ae_25a", 'faelle.werte.aufenthaltsstatus."AE § 25b"': "ae_25b",
    'faelle.werte.aufenthaltsstatus."AE humanitär"': "ae_humanitaer",
    'faelle.werte.aufenthaltsstatus."AE sonstige"': "ae_sonstige",
    'beratungen.werte.form."Telefon"': "telefonisch",
    **{f'beratungen.werte.handlungsfeld."{label}"': code for label, code in AREAS.items()},
    **{f'vermittlungen.werte.handlungsfeld."{label}"': code for label, code in AREAS.items()},
    'vermittlungen.werte.status."auf Warteliste"': "warteliste",
    'vermittlungen.werte.luecke."kein Angebot vorhanden"': "kein_angebot",
    'vermittlungen.werte.luecke."Wartezeit zu lang"': "wartezeit",
    # ("MSO" needs no entry: the reader takes a code in any case)
}
#: every entry the draft must leave to a person (no label says it; "Sprache" could be a language barrier or a needs
#: area; an empty cell or "x" for case management), with what the person decides
MUST_LEAVE_OPEN = {
    'faelle.werte.abschlussgrund."kein Kontakt mehr"': "kontaktverlust",
    'faelle.werte.abschlussgrund."Übergabe an Regeldienst"': "weitervermittelt",
    'faelle.werte.zielgruppe."andere"': "sonstige",
    'faelle.werte.aufenthaltsstatus."Chancen-AR § 104c"': "ae_104c",
    'faelle.werte.aufenthaltsstatus."EU-Bürger/in"': "eu_freizuegigkeit",
    'faelle.werte.geschlecht."k. A."': "x",
    'beratungen.werte.form."Hausbesuch"': "aufsuchend",
    'beratungen.werte.form."Video/Online"': "digital",
    'vermittlungen.werte.status."beendet"': "abgeschlossen",
    'vermittlungen.werte.status."nicht erschienen"': "nicht_wahrgenommen",
    'vermittlungen.werte.luecke."Sprache"': "sprachbarriere",
    'vermittlungen.werte.luecke."nicht erreichbar"': "erreichbarkeit",
    'partner.werte.typ."KI"': "kommunales_integrationszentrum",
    'partner.werte.case_management.""': "nein",
    'partner.werte.case_management."x"': "ja",
}


def test_the_draft_decides_what_is_clear_and_leaves_the_rest_open(herne):
    draft = draft_profile(herne["workbook"])
    decided = {e.path: e.value for e in draft.entries if e.decided}
    assert decided == MUST_DECIDE
    assert sorted(e.path for e in draft.undecided()) == sorted(MUST_LEAVE_OPEN)
    for e in draft.undecided():
        assert e.choices, e.path   # a person is shown what to choose from


def test_a_drafted_profile_with_its_open_entries_decided_gives_the_contract_figures(herne, tmp_path):
    draft = draft_profile(herne["workbook"])
    for path, code in MUST_LEAVE_OPEN.items():
        draft.set(path, code)
    profile = draft.write(tmp_path / "entwurf.toml")
    import_export(herne["workbook"], tmp_path / "s.duckdb", key=KEY, show_progress=False, profile=profile)
    same_indicators(herne["contract_store"], tmp_path / "s.duckdb", by="stadtbezirk")


def test_an_undecided_entry_is_refused_with_the_list_of_them(herne, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KIMTOOLS_KEY", "kimtools-test-key-not-secret-0123456789")
    out = tmp_path / "entwurf.toml"
    assert main(["profil", str(herne["workbook"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(MUST_LEAVE_OPEN)} offen" in printed
    draft_text = out.read_text(encoding="utf-8")
    assert '"kein Kontakt mehr" = "?" # ENTSCHEIDEN: kein Code erkannt. In Frage kommen: \'ziel_erreicht\'' in draft_text
    store = tmp_path / "s.duckdb"
    assert main(["import", str(herne["workbook"]), "--profil", str(out), "--db", str(store)]) == 1   # bad input: the profile cannot be used yet
    err = capsys.readouterr().err
    assert f"{len(MUST_LEAVE_OPEN)} Einträge sind noch nicht entschieden" in err
    for path in MUST_LEAVE_OPEN:
        assert path in err
    assert not store.exists()
    # one decided, the rest still refused
    doc = tomlkit.parse(draft_text)
    doc["faelle"]["werte"]["geschlecht"]["k. A."] = "x"
    out.write_text(tomlkit.dumps(doc), encoding="utf-8")
    assert main(["import", str(herne["workbook"]), "--profil", str(out), "--db", str(store)]) == 1   # bad input: the profile cannot be used yet
    err = capsys.readouterr().err
    assert f"{len(MUST_LEAVE_OPEN) - 1} Einträge" in err and 'geschlecht."k. A."' not in err


# ----------------------------------------------------------------------------------------------- wide layouts
PLZ = {"Herne-Mitte": ["44623", "44625"], "Wanne": ["44649"], "Eickel": ["44651", "44652"], "Sodingen": ["44627", "44628"]}


def wide_export(part: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Herne as an Excel list kept by hand: the district as a postcode, the consultations as column groups
    "Beratung 1 Datum", "Beratung 1 Form" … beside each case (in date order), no kommune column."""
    folder.mkdir()
    f = part["faelle"].reset_index(drop=True)
    plz = [PLZ[d][i % len(PLZ[d])] for i, d in enumerate(f["stadtbezirk"])]
    wide = pd.DataFrame({"Fall-Nr.": f["fall_id"], "Klient-ID": f["person_id"], "PLZ": plz, "Träger": f["traeger"],
                         "Fallbeginn": pd.to_datetime(f["beginn"]).dt.strftime("%d.%m.%Y"),
                         "Fallende": pd.to_datetime(f["ende"]).dt.strftime("%d.%m.%Y").fillna(""),
                         "Abschlussgrund": f["abschlussgrund"].fillna(""), "Zielgruppe": f["zielgruppe"],
                         "Handlungsfelder": f["handlungsfelder"].str.replace("|", "; "),
                         "Aufenthaltsstatus": f["aufenthaltsstatus"]})
    b = part["beratungen"].copy()
    b["datum"] = pd.to_datetime(b["datum"])
    b = b.sort_values(["fall_id", "datum"], kind="stable")
    b["n"] = b.groupby("fall_id").cumcount() + 1
    for n in range(1, int(b["n"].max()) + 1):
        mine = b.loc[b["n"] == n].set_index("fall_id")
        wide[f"Beratung {n} Datum"] = f["fall_id"].map(mine["datum"].dt.strftime("%d.%m.%Y")).fillna("")
        wide[f"Beratung {n} Form"] = f["fall_id"].map(mine["form"]).fillna("")
        wide[f"Beratung {n} Dauer"] = f["fall_id"].map(mine["dauer_min"]).map(lambda v: "" if pd.isna(v) or v == "" else str(int(v)))
        wide[f"Beratung {n} Thema"] = f["fall_id"].map(mine["handlungsfeld"]).fillna("")
    wide.to_csv(folder / "fallliste.csv", sep=";", index=False, encoding="utf-8-sig")
    write_export_csv(part["vermittlungen"], folder / "vermittlungen.csv")
    write_export_csv(part["partner"], folder / "partner.csv")
    rows = [(p, d) for d, codes in PLZ.items() for p in codes]
    pd.DataFrame(rows, columns=["PLZ", "Stadtbezirk"]).to_csv(folder / "plz-bezirke.csv", sep=";", index=False)
    return folder


WIDE_PROFILE = """
[profil]
name = "Fallliste mit Beratungen in Spaltengruppen"

[faelle]
quelle = "fallliste"
[faelle.spalten]
fall_id = "Fall-Nr."
person_id = "Klient-ID"
kommune = { wert = "Herne" }
stadtbezirk = { spalte = "PLZ", nachschlagen = "plz-bezirke.csv" }
traeger = "Träger"
beginn = "Fallbeginn"
ende = "Fallende"
abschlussgrund = "Abschlussgrund"
zielgruppe = "Zielgruppe"
handlungsfelder = { spalte = "Handlungsfelder", trennzeichen = ";" }
aufenthaltsstatus = "Aufenthaltsstatus"

[beratungen]
quelle = "fallliste.csv"
[beratungen.spalten]
fall_id = "Fall-Nr."
datum = "Beratung {n} Datum"
form = "Beratung {n} Form"
dauer_min = "Beratung {n} Dauer"
handlungsfeld = "Beratung {n} Thema"

[vermittlungen]
quelle = "vermittlungen"
[vermittlungen.spalten]
vermittlung_id = "vermittlung_id"
fall_id = "fall_id"
datum = "datum"
an_partner = "an_partner"
handlungsfeld = "handlungsfeld"
status = "status"
erstkontakt = "erstkontakt"
luecke = "luecke"

[partner]
quelle = "partner"
[partner.spalten]
partner_id = "partner_id"
kommune = "kommune"
name = "name"
typ = "typ"
rechtskreis = "rechtskreis"
case_management = "case_management"
stadtbezirk = "stadtbezirk"
"""


@pytest.fixture(scope="module")
def wide(herne) -> dict[str, Path]:
    """The wide list, and the contract route of the same data (cases, consultations, referrals, partners only)."""
    root = herne["root"]
    folder = wide_export(herne["part"], root / "breit")
    (folder / PROFILE_NAME).write_text(WIDE_PROFILE, encoding="utf-8")
    long = root / "lang"
    long.mkdir()
    for name in ("faelle", "beratungen", "vermittlungen", "partner"):   # the hand-kept list has no household members
        write_export_csv(herne["part"][name].drop(columns="mitberatene", errors="ignore"), long / f"{name}.csv")
    import_export(long, root / "lang.duckdb", key=KEY, show_progress=False)
    import_export(folder, root / "breit.duckdb", key=KEY, show_progress=False)
    return {"folder": folder, "long_store": root / "lang.duckdb", "wide_store": root / "breit.duckdb"}


@pytest.mark.parametrize("kwargs", [{"by": "stadtbezirk"}, {"by": "kommune", "merkmal": "handlungsfeld"},
                                    {"by": "traeger", "period": "month"}])
def test_column_groups_and_a_postcode_lookup_give_the_figures_of_the_long_form(wide, kwargs):
    same_indicators(wide["long_store"], wide["wide_store"], **kwargs)


def test_consultations_from_column_groups_are_one_row_each_with_an_id_of_case_and_number(wide, herne):
    stored = Store(wide["wide_store"]).query("SELECT beratung_id, fall_id FROM beratungen ORDER BY beratung_id")
    assert len(stored) == len(herne["part"]["beratungen"])
    first = herne["part"]["faelle"]["fall_id"].iloc[0]   # 05916-F000001: three consultations in the demo
    expected = sorted(f"{first}-{n}" for n in range(1, 1 + int((herne["part"]["beratungen"]["fall_id"] == first).sum())))
    assert sorted(stored.loc[stored["fall_id"] == first, "beratung_id"]) == expected


def test_a_postcode_not_in_the_lookup_table_is_a_problem_of_that_row(wide, tmp_path):
    folder = tmp_path / "breit"
    folder.mkdir()
    for p in wide["folder"].iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    text = (folder / "fallliste.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = text[4].split(";")
    cells[2] = "44999"   # file row 5
    text[4] = ";".join(cells)
    (folder / "fallliste.csv").write_text("\n".join(text) + "\n", encoding="utf-8-sig")
    with pytest.raises(ImportValidationError) as err:
        import_export(folder, tmp_path / "s.duckdb", key=KEY, show_progress=False)
    p = err.value.problems
    hit = p.loc[p["wert"] == "44999"]
    assert hit[["datei", "zeile", "spalte"]].values.tolist() == [["fallliste.csv", 5, "PLZ (stadtbezirk)"]]
    assert "nicht in der Nachschlagetabelle plz-bezirke.csv" in hit["grund_de"].iloc[0]


def test_the_draft_finds_the_column_groups_and_asks_for_the_postcode_table(wide):
    draft = draft_profile(wide["folder"])
    assert draft.find("beratungen.quelle").value == "fallliste"
    assert draft.find("beratungen.spalten.datum").value == "Beratung {n} Datum"
    assert draft.find("beratungen.spalten.form").value == "Beratung {n} Form"
    assert draft.find("beratungen.spalten.fall_id").value == "Fall-Nr."
    plz = draft.find("faelle.spalten.stadtbezirk")
    assert plz.value == {"spalte": "PLZ", "nachschlagen": "?"} and not plz.decided
    assert draft.find("faelle.spalten.kommune").value == "?"   # no title, no kommune in the file's name


# ----------------------------------------------------------------------------------------------- absent tables
def test_a_table_declared_absent_gives_no_data_not_zero(herne, tmp_path):
    text = FOREIGN_PROFILE.read_text(encoding="utf-8")
    start, end = text.index("[vermittlungen]"), text.index("[partner]")
    folder = tmp_path / "ohne"
    folder.mkdir()
    book = folder / "liste.xlsx"
    book.write_bytes(herne["workbook"].read_bytes())
    (folder / PROFILE_NAME).write_text(text[:start] + "[vermittlungen]\nfehlt = true\n\n" + text[end:], encoding="utf-8")
    store = tmp_path / "s.duckdb"
    import_export(book, store, key=KEY, show_progress=False)
    table = indicator_table(Store(store))
    referral = table.loc[table["kennzahl"] == "annahmequote"]
    assert len(referral) > 10 and referral["wert"].isna().all() and referral["zaehler"].isna().all()
    assert table.loc[table["kennzahl"] == "vermittlungen", "zaehler"].isna().all()
    assert table.loc[table["kennzahl"] == "beratungen", "zaehler"].sum() == len(herne["part"]["beratungen"])
    full = indicator_table(Store(herne["contract_store"]))
    cases = lambda t: t.loc[t["kennzahl"] == "neuzugaenge", "zaehler"].tolist()  # noqa: E731
    assert cases(table) == cases(full)
    note = absent_note(Store(store), "Herne")
    assert note.startswith("Keine Daten zu Vermittlungen: Herne liefert sie nicht")
    log = Store(store).query("SELECT fehlende_tabellen, profil FROM import_log")
    assert log.values.tolist() == [["vermittlungen", "Fallliste KIM Herne (Demo im Fremdformat)"]]
    # the next delivery with referrals: figures again
    import_export(herne["contract"], store, key=KEY, show_progress=False)
    assert indicator_table(Store(store)).loc[lambda t: t["kennzahl"] == "annahmequote", "wert"].notna().any()
    assert absent_note(Store(store), "Herne") == ""


def test_cases_and_partners_cannot_be_declared_absent(tmp_path):
    (tmp_path / "p.toml").write_text("[faelle]\nfehlt = true\n[partner]\nfehlt = true\n[beratungen]\nfehlt = true\n"
                                     "[vermittlungen]\nfehlt = true\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(tmp_path / "p.toml")
    assert "[faelle] kann nicht fehlen" in err.value.message_de and "[partner] kann nicht fehlen" in err.value.message_de


# ----------------------------------------------------------------------------------------------- messages
def test_problems_name_the_foreign_sheet_row_and_column(herne, tmp_path):
    book = tmp_path / "liste.xlsx"
    wb = openpyxl.load_workbook(herne["workbook"])
    ws = wb["Tabelle1"]
    header = [c.value for c in ws[3]]
    ws.cell(row=10, column=header.index("Fallbeginn") + 1, value="31.02.24")
    ws.cell(row=12, column=header.index("Aufenthaltstitel") + 1, value="Aufenthalt unbekannt")
    wb.save(book)
    (tmp_path / PROFILE_NAME).write_bytes(FOREIGN_PROFILE.read_bytes())
    with pytest.raises(ImportValidationError) as err:
        import_export(book, tmp_path / "s.duckdb", key=KEY, show_progress=False)
    p = err.value.problems
    assert p[["datei", "zeile", "spalte", "wert"]].values.tolist() == [
        ["liste.xlsx [Tabelle1]", 10, "Fallbeginn (beginn)", "31.02.24"],
        ["liste.xlsx [Tabelle1]", 12, "Aufenthaltstitel (aufenthaltsstatus)", "Aufenthalt unbekannt"]]


def test_a_profile_reports_every_fault_at_once(tmp_path):
    (tmp_path / "p.toml").write_text("""
[faelle]
quelle = "Tabelle1"
[faelle.spalten]
fall_id = "Nr"
fallbeginn = "Beginn"
stadtbezirk = { spalte = "PLZ", nachschlagen = "fehlt.csv" }
[faelle.werte.geschlecht]
"k. A." = "keine"
[faelle.werte.beginn]
"x" = "y"
[parnter]
quelle = "Tabelle2"
""", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(tmp_path / "p.toml")
    text = err.value.message_de
    for part in ("[parnter]: keine Tabelle des Exportformats", "faelle.spalten.fallbeginn: keine Spalte der Tabelle",
                 "Nachschlagetabelle fehlt.csv gibt es nicht", "'keine' ist kein Code der Liste geschlecht",
                 "faelle.werte.beginn: Werte lassen sich nur Code-Spalten zuordnen",
                 "faelle.spalten.beginn: Pflichtspalte ohne Zuordnung", "Abschnitt [partner] fehlt"):
        assert part in text, part


def test_a_profile_that_is_not_toml_says_where(tmp_path):
    (tmp_path / "p.toml").write_text("[faelle\nquelle = 1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(tmp_path / "p.toml")
    assert "kein gültiges TOML" in err.value.message_de and "line 1" in err.value.message_de


def test_a_profile_is_found_beside_the_export_or_by_name_in_the_configuration_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KIMTOOLS_CONFIG_DIR", str(tmp_path / "config"))
    export = tmp_path / "lieferung"
    export.mkdir()
    assert find_profile(None, export) is None
    (export / PROFILE_NAME).write_text("", encoding="utf-8")
    assert find_profile(None, export) == export / PROFILE_NAME
    (tmp_path / "config" / "profile").mkdir(parents=True)
    (tmp_path / "config" / "profile" / "fachverfahren.toml").write_text("", encoding="utf-8")
    assert find_profile("fachverfahren", export) == tmp_path / "config" / "profile" / "fachverfahren.toml"
    with pytest.raises(InputError):
        find_profile("gibtsnicht", export)


def test_a_csv_with_a_title_keeps_the_file_rows_in_its_problems(tmp_path):
    from kimtools.ingest.files import table_frame
    from kimtools.ingest.problems import Problems

    data = "Fallliste Herne\n\nFall;Beginn\nF1;01.02.2024\nF2;01.03.2024;zu viel\n".encode()
    problems = Problems()
    frame = table_frame("liste.csv", data, problems, "faelle", header_row=3)
    assert frame["_zeile"].tolist() == [4]
    assert problems.frame()[["datei", "zeile"]].values.tolist() == [["liste.csv", 5]]


def test_a_column_of_free_text_is_not_taken_for_a_code_list(tmp_path, base_files):
    """One note of four is a needs area: too few to take the notes for the consultations' needs area."""
    files = dict(base_files)
    files["beratungen"] = ("Beratungsnummer;Fall-Nr;Kontaktdatum;Minuten;Kontaktart;Notiz\n"
                           "B1;F1;05.02.2024;45;persoenlich;Sprache\nB2;F2;20.03.2024;30;telefonisch;Termin verschoben\n"
                           "B3;F2;21.03.2024;30;telefonisch;krank\nB4;F2;22.03.2024;30;telefonisch;Unterlagen fehlen\n")
    draft = draft_profile(write_export(tmp_path / "export", files))
    columns = {e.key[0]: e.value for e in draft.entries if e.table == "beratungen" and e.section == "spalten"}
    assert columns == {"beratung_id": "Beratungsnummer", "fall_id": "Fall-Nr", "datum": "Kontaktdatum",
                       "dauer_min": "Minuten", "form": "Kontaktart"}


def test_the_import_assistant_goes_from_a_foreign_file_to_a_saved_profile(herne, tmp_path, monkeypatch):
    """As a coordinator in notebook 01: check, see the problems, choose the open entries, dry run, import, save."""
    from kimtools.panels.assistant import ImportAssistant

    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(tmp_path / "key"))
    (tmp_path / "key").write_bytes(KEY)
    folder = tmp_path / "lieferung"
    folder.mkdir()
    book = folder / "liste.xlsx"
    book.write_bytes(herne["workbook"].read_bytes())   # without its profile
    store = Store(tmp_path / "s.duckdb")
    assistant = ImportAssistant(store, book)
    assistant.check()
    assert "Pflichttabelle &#x27;faelle&#x27; fehlt" in assistant.problems.value
    assert sorted(e.path for e in assistant.draft.undecided()) == sorted(MUST_LEAVE_OPEN)
    assert assistant.save_path.value == str(folder / PROFILE_NAME)
    assistant.run(dry_run=True)   # still open: refused with the list
    assert "15 Einträge sind noch nicht entschieden" in assistant.outcome.value
    for path, code in MUST_LEAVE_OPEN.items():
        assistant.controls[path].value = code
    assistant.run(dry_run=True)
    assert "Probelauf – nichts wurde gespeichert" in assistant.outcome.value and not store.exists()
    assistant.run(dry_run=False)
    assert "Importiert Herne: " in assistant.outcome.value
    same_indicators(herne["contract_store"], store.path, by="stadtbezirk")
    saved = assistant.save()
    assert saved == folder / PROFILE_NAME and load_profile(saved).tables["faelle"].values["geschlecht"] == {"k. a.": "x"}


def test_thousands_points_are_dropped_only_where_they_group_thousands(tmp_path):
    from kimtools.ingest.problems import Problems
    from kimtools.ingest.profile import apply_profile, parse_profile

    (tmp_path / "personal.csv").write_text("Träger;VZÄ;ab\nCM1;1.5;01.01.2024\nCM2;1.250,5;01.01.2024\nCM3;12.000;"
                                           "01.01.2024\n", encoding="utf-8")
    profile = parse_profile('[profil]\nzahlen = "1.234,5"\n[stellen]\nquelle = "personal"\n[stellen.spalten]\n'
                            'traeger = "Träger"\nvzae = "VZÄ"\nvon = "ab"\n', tmp_path / "p.toml", needed=("stellen",))
    found = apply_profile(profile, tmp_path / "personal.csv", Problems()).found["stellen"][1]
    assert found["vzae"].tolist() == ["1.5", "1250,5", "12000"]


def test_the_draft_finds_another_separator_and_the_kommune_in_the_folder_name(tmp_path, base_files):
    """An Excel list's needs areas as "Sprache; Wohnen", no kommune column, the folder named after the city."""
    rows = [line.split(";") for line in base_files["faelle"].strip().splitlines()]
    head = rows[0]
    k, hf = head.index("kommune"), head.index("handlungsfelder")
    labels = {"sprache": "Sprache", "wohnen": "Wohnen", "arbeit": "Arbeit"}
    for r in rows[1:]:
        r[hf] = '"' + "; ".join(labels[c] for c in r[hf].split(",")) + '"'   # quoted: ";" is the delimiter too
    files = dict(base_files, faelle="\n".join(";".join(c for i, c in enumerate(r) if i != k) for r in rows) + "\n")
    folder = write_export(tmp_path / "herne-2026-q3", files)
    draft = draft_profile(folder)
    assert draft.find("faelle.spalten.handlungsfelder").value == {"spalte": "handlungsfelder", "trennzeichen": ";"}
    assert draft.find("faelle.spalten.kommune").value == {"wert": "Herne"}
    assert draft.undecided() == []
    import_export(folder, tmp_path / "s.duckdb", key=KEY, show_progress=False, profile=draft.profile())
    import_export(write_export(tmp_path / "contract", base_files), tmp_path / "k.duckdb", key=KEY, show_progress=False)
    same_indicators(tmp_path / "k.duckdb", tmp_path / "s.duckdb", by="kommune", merkmal="handlungsfeld")


def test_a_column_named_alike_whose_values_do_not_fit_is_left_open(tmp_path, base_files):
    """"Status" holds the case's state (offen, ruhend, abgeschlossen), not a residence status."""
    lines = base_files["faelle"].splitlines()
    lines[0] = lines[0].replace("aufenthaltsstatus", "Titel") + ";Status"
    lines[1:] = [line + ";" + state for line, state in zip(lines[1:], ("offen", "ruhend", "abgeschlossen"))]
    lines.append(lines[2].replace("F2;PERS-0002", "F3;PERS-0003").rsplit(";", 1)[0] + ";abgeschlossen")
    draft = draft_profile(write_export(tmp_path / "export", dict(base_files, faelle="\n".join(lines) + "\n")))
    entry = draft.find("faelle.spalten.aufenthaltsstatus")
    assert not entry.decided and "Status" in entry.choices


def test_an_import_names_the_profile_and_the_lookup_tables_it_read(wide, tmp_path, capsys):
    """A profile's lookup table is read from beside it: the import says which file that was (issue 41)."""
    from kimtools.cli import main

    assert main(["import", str(wide["folder"]), "--db", str(tmp_path / "s.duckdb"), "--probelauf"]) == 0
    out = capsys.readouterr().out
    assert f"Gelesen mit dem Importprofil {wide['folder'] / PROFILE_NAME}." in out
    assert f"  Nachschlagetabelle: {(wide['folder'] / 'plz-bezirke.csv').resolve()}" in out


# ----------------------------------------------------------------------------- six tables, German headings (issue 38)
#: Herne's contract export as an office lays it out: a sheet per table with a name of its own (the status changes on
#: an anonymous "Blatt6"), a title and an empty row above German headings, the posts' period as "gültig ab/bis"
GERMAN = {
    "faelle": ("Fallübersicht", {"fall_id": "Fallnummer", "person_id": "Personennummer", "kommune": "Kommune",
                                 "stadtbezirk": "Stadtbezirk", "traeger": "Träger", "beginn": "Fallbeginn",
                                 "ende": "Fallende", "abschlussgrund": "Abschlussgrund", "zielgruppe": "Zielgruppe",
                                 "handlungsfelder": "Handlungsfelder", "aufenthaltsstatus": "Aufenthaltsstatus",
                                 "zugang_ueber": "Zugang über", "geschlecht": "Geschlecht", "geburtsjahr": "Geburtsjahr",
                                 "haushalt_personen": "Personen im Haushalt", "mitberatene": "mitberatene Angehörige"}),
    "beratungen": ("Kontakte", {"beratung_id": "Beratungsnummer", "fall_id": "Fallnummer", "datum": "Datum",
                                "dauer_min": "Dauer (Minuten)", "form": "Form", "handlungsfeld": "Handlungsfeld"}),
    "vermittlungen": ("Weiterleitungen", {"vermittlung_id": "Vermittlungsnummer", "fall_id": "Fallnummer",
                                          "datum": "Datum", "an_partner": "vermittelt an", "handlungsfeld": "Handlungsfeld",
                                          "status": "Status", "erstkontakt": "Ersttermin", "luecke": "Lücke"}),
    "partner": ("Netzwerkpartner", {"partner_id": "Partnernummer", "kommune": "Kommune", "name": "Name", "typ": "Art",
                                    "rechtskreis": "Rechtskreis", "case_management": "Case Management",
                                    "stadtbezirk": "Stadtbezirk"}),
    "stellen": ("Personal", {"traeger": "Träger", "baustein": "Baustein", "funktion": "Funktion",
                             "stadtbezirk": "Stadtbezirk", "vzae": "VZÄ", "besetzt": "besetzt", "foerderung": "Förderung",
                             "von": "gültig ab", "bis": "gültig bis"}),
    "statuswechsel": ("Blatt6", {"fall_id": "Fallnummer", "datum": "Datum", "nach_status": "neuer Status"}),
}


@pytest.fixture(scope="module")
def german(herne) -> dict[str, Path]:
    from kimtools.ingest.files import export_form
    from kimtools.spreadsheet import excel_writer

    root, part = herne["root"], herne["part"]
    folder = root / "deutsch"
    folder.mkdir()
    workbook = folder / "kim-liste.xlsx"
    with excel_writer(workbook) as writer:
        for table, (sheet, columns) in GERMAN.items():
            frame = export_form(part[table])[list(columns)].rename(columns=columns)
            frame.to_excel(writer, sheet_name=sheet, index=False, startrow=2)
            writer.sheets[sheet].cell(row=1, column=1, value=f"KIM Herne – {sheet}, Stand 30.09.2026")
    contract = root / "vertrag-mit-status"
    contract.mkdir()
    for name, frame in part.items():
        write_export_csv(frame, contract / f"{name}.csv")
    import_export(contract, root / "vertrag.duckdb", key=KEY, show_progress=False)
    return {"workbook": workbook, "contract_store": root / "vertrag.duckdb"}


def test_a_workbook_of_six_tables_with_title_rows_and_german_headings_is_drafted_to_the_contract_figures(german, tmp_path):
    """At most two entries open (here none: the posts' "gültig ab/bis" are the period, the status changes' anonymous
    sheet is the only one no other table claims); imported through the draft, the same figures as the contract
    export of the same data, posts and status changes included."""
    draft = draft_profile(german["workbook"])
    # the bar is two open entries; this workbook leaves none (it left the posts' start and the status changes'
    # sheet, offered alone, open before)
    assert [e.path for e in draft.undecided()] == []
    assert draft.find("stellen.spalten.von").value == "gültig ab" and draft.find("stellen.spalten.bis").value == "gültig bis"
    assert draft.find("statuswechsel.quelle").value == "Blatt6"
    profile = draft.write(tmp_path / "profil.toml")
    store = tmp_path / "deutsch.duckdb"
    result, warnings = import_export(german["workbook"], store, key=KEY, show_progress=False, profile=profile)
    assert warnings.empty, warnings[["spalte", "grund_de"]].to_string()   # every column taken over
    for kwargs in ({"by": "kommune"}, {"by": "stadtbezirk"}, {"by": "kommune", "merkmal": "baustein"}):
        same_indicators(german["contract_store"], store, **kwargs)
    moves = "SELECT nach_status, count(*) n FROM statuswechsel GROUP BY 1 ORDER BY 1"
    pd.testing.assert_frame_equal(Store(store).query(moves), Store(german["contract_store"]).query(moves))


def test_a_column_the_profile_maps_to_nothing_is_named_in_a_warning(german, tmp_path):
    draft = draft_profile(german["workbook"])
    text = draft.text().replace('bis = "gültig bis"', "")
    profile = tmp_path / "ohne-bis.toml"
    profile.write_text(text, encoding="utf-8")
    _, warnings = import_export(german["workbook"], tmp_path / "x.duckdb", key=KEY, show_progress=False,
                                profile=profile, dry_run=True)
    hit = warnings.loc[warnings["spalte"] == "gültig bis"]
    assert len(hit) == 1 and "keiner Spalte des Exportformats zugeordnet" in hit["grund_de"].iloc[0]
    assert hit["tabelle"].iloc[0] == "stellen"


def test_a_partly_decided_profile_is_completed_keeping_every_decision(german, tmp_path, capsys):
    """A coordinator chose the sheet of the status changes and a column of her own for the posts' start; the rest
    was open. Completed, both decisions stand, the sheet's columns are drafted, an open entry is drafted anew."""
    given = tmp_path / "halb.toml"
    given.write_text('[statuswechsel]\nquelle = "Blatt6"\nkopfzeile = 3\n\n[stellen]\nquelle = "Personal"\n'
                     'kopfzeile = 3\n[stellen.spalten]\nvon = "gültig bis"\nbis = "?"\n', encoding="utf-8")
    out = tmp_path / "fertig.toml"
    assert main(["profil", str(german["workbook"]), "--profil", str(given), "--ausgabe", str(out)]) == 0
    done = tomlkit.parse(out.read_text(encoding="utf-8")).unwrap()
    assert done["stellen"]["spalten"]["von"] == "gültig bis"          # her decision, even against the draft's
    assert done["stellen"]["spalten"]["vzae"] == "VZÄ"                # drafted
    assert done["statuswechsel"]["spalten"]["nach_status"] == "neuer Status"
    assert "0 offen" in capsys.readouterr().out


def test_the_assistant_names_a_column_its_mapping_leaves_out(german, tmp_path, monkeypatch):
    from kimtools.panels.assistant import ImportAssistant

    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(tmp_path / "key"))
    (tmp_path / "key").write_bytes(KEY)
    assistant = ImportAssistant(Store(tmp_path / "s.duckdb"), german["workbook"])
    assistant.check()
    assistant.run(dry_run=True)
    assert "Probelauf" in assistant.outcome.value and "Hinweise" not in assistant.outcome.value
    # the coordinator takes the posts' end out of the mapping: the dry run says what is dropped
    assistant.draft.entries = [e for e in assistant.draft.entries if e.path != "stellen.spalten.bis"]
    assistant.run(dry_run=True)
    assert "Hinweise" in assistant.outcome.value and "gültig bis" in assistant.outcome.value
