"""Every rule of the export contract: one small edit of the hand-written base export, one expected problem.

Each case names the table, the text replaced in that file, and the problem a
person must see: table, row (header = row 1), column, value and a fragment of
the German reason. The expectations are written by hand from the contract.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BASE, write_export
from kimtools import ImportValidationError, read_export

# (id, table, old text, new text, row, column, value, German reason fragment)
CASES = [
    # faelle
    ("fall_id missing", "faelle", "F2;PERS-0002", ";PERS-0002", 3, "fall_id", "", "Pflichtfeld ist leer"),
    ("fall_id duplicate", "faelle", "F2;PERS-0002", "F1;PERS-0002", 3, "fall_id", "F1", "mehrfach vor (erstmals in Zeile 2)"),
    ("person_id missing", "faelle", "F1;PERS-0001", "F1;", 2, "person_id", "(nicht angezeigt)", "Pflichtfeld ist leer"),
    ("kommune unknown", "faelle", "PERS-0001;Herne", "PERS-0001;Hernee", 2, "kommune", "Hernee", "Unbekannte Kommune"),
    ("kommune missing", "faelle", "PERS-0001;Herne", "PERS-0001;", 2, "kommune", "", "Pflichtfeld ist leer"),
    ("stadtbezirk unknown", "faelle", ";Sodingen;", ";Sodingn;", 3, "stadtbezirk", "Sodingn", "Unbekannter Stadtbezirk von Herne"),
    ("stadtbezirk missing", "faelle", ";Sodingen;", ";;", 3, "stadtbezirk", "", "Pflichtfeld ist leer"),
    ("traeger unknown", "faelle", "Herne-Mitte;CM1;01.02", "Herne-Mitte;CM9;01.02", 2, "traeger", "CM9", "Kein Partner mit dieser partner_id"),
    ("traeger not case management", "faelle", "Herne-Mitte;CM1;01.02", "Herne-Mitte;JC;01.02", 2, "traeger", "JC", "kein Case-Management-Träger"),
    ("beginn invalid date", "faelle", "01.02.2024;;", "31.02.2024;;", 2, "beginn", "31.02.2024", "Kein gültiges Datum"),
    ("beginn two-digit year", "faelle", "01.02.2024;;", "01.02.24;;", 2, "beginn", "01.02.24", "Kein gültiges Datum"),
    ("beginn missing", "faelle", "CM1;01.02.2024;;", "CM1;;;", 2, "beginn", "", "Pflichtfeld ist leer"),
    ("beginn in future", "faelle", "CM1;15.03.2024", "CM1;15.03.2099", 3, "beginn", "15.03.2099", "Zukunft"),
    ("ende before beginn", "faelle", "30.06.2024;ziel", "01.03.2024;ziel", 3, "ende", "01.03.2024", "vor dem Beginn (15.03.2024)"),
    ("ende in future", "faelle", "30.06.2024;ziel", "30.06.2099;ziel", 3, "ende", "30.06.2099", "Zukunft"),
    ("abschlussgrund missing with ende", "faelle", ";ziel_erreicht;", ";;", 3, "abschlussgrund", "", "Abschlussgrund fehlt"),
    ("abschlussgrund without ende", "faelle", "01.02.2024;;;", "01.02.2024;;abbruch;", 2, "abschlussgrund", "abbruch", "ohne Ende"),
    ("abschlussgrund unknown", "faelle", ";ziel_erreicht;", ";erreicht;", 3, "abschlussgrund", "erreicht", "Unbekannter Code"),
    ("zielgruppe unknown", "faelle", ";erstintegration;", ";integration;", 2, "zielgruppe", "integration", "Unbekannter Code"),
    ("zielgruppe missing", "faelle", ";erstintegration;", ";;", 2, "zielgruppe", "", "Pflichtfeld ist leer"),
    ("handlungsfelder unknown part", "faelle", "sprache,wohnen", "sprache,wohnung", 2, "handlungsfelder", "sprache,wohnung", "Unbekannter Code 'wohnung'"),
    ("handlungsfelder missing", "faelle", ";sprache,wohnen;", ";;", 2, "handlungsfelder", "", "Pflichtfeld ist leer"),
    ("aufenthaltsstatus unknown", "faelle", ";duldung;", ";geduldet;", 2, "aufenthaltsstatus", "geduldet", "Unbekannter Code"),
    ("aufenthaltsstatus missing", "faelle", ";duldung;", ";;", 2, "aufenthaltsstatus", "", "Pflichtfeld ist leer"),
    ("zugang_ueber unknown", "faelle", ";JC;w;", ";XX;w;", 2, "zugang_ueber", "XX", "Kein Partner mit dieser partner_id"),
    ("geschlecht unknown", "faelle", ";JC;w;", ";JC;f;", 2, "geschlecht", "f", "Unbekannter Code"),
    ("geburtsjahr before 1900", "faelle", ";1990;", ";1890;", 2, "geburtsjahr", "1890", "außerhalb des erlaubten Bereichs"),
    ("geburtsjahr in future", "faelle", ";1990;", ";2999;", 2, "geburtsjahr", "2999", "außerhalb des erlaubten Bereichs"),
    ("geburtsjahr not a number", "faelle", ";1990;", ";199O;", 2, "geburtsjahr", "199O", "keine ganze Zahl"),
    ("haushalt_personen zero", "faelle", ";1990;3", ";1990;0", 2, "haushalt_personen", "0", "mindestens 1"),
    # beratungen
    ("beratung_id missing", "beratungen", "B2;F2", ";F2", 3, "beratung_id", "", "Pflichtfeld ist leer"),
    ("beratung_id duplicate", "beratungen", "B2;F2", "B1;F2", 3, "beratung_id", "B1", "mehrfach"),
    ("beratung fall unknown", "beratungen", "B1;F1", "B1;F9", 2, "fall_id", "F9", "Kein Fall mit dieser fall_id"),
    ("beratung before case", "beratungen", "F1;05.02.2024", "F1;01.01.2024", 2, "datum", "01.01.2024", "vor dem Fallbeginn (01.02.2024)"),
    ("beratung after case end", "beratungen", "F2;20.03.2024", "F2;01.07.2024", 3, "datum", "01.07.2024", "nach dem Fallende (30.06.2024)"),
    ("beratung in future", "beratungen", "F1;05.02.2024", "F1;05.02.2099", 2, "datum", "05.02.2099", "Zukunft"),
    ("beratung datum missing", "beratungen", "F1;05.02.2024", "F1;", 2, "datum", "", "Pflichtfeld ist leer"),
    ("dauer_min too long", "beratungen", ";45;", ";601;", 2, "dauer_min", "601", "höchstens 600"),
    ("dauer_min zero", "beratungen", ";45;", ";0;", 2, "dauer_min", "0", "mindestens 1"),
    ("form unknown", "beratungen", ";persoenlich;", ";vor Ort;", 2, "form", "vor Ort", "Unbekannter Code"),
    ("form missing", "beratungen", ";persoenlich;", ";;", 2, "form", "", "Pflichtfeld ist leer"),
    ("beratung handlungsfeld unknown", "beratungen", "persoenlich;sprache", "persoenlich;deutsch", 2, "handlungsfeld", "deutsch", "Unbekannter Code"),
    # vermittlungen
    ("vermittlung_id duplicate", "vermittlungen", "V2;F2", "V1;F2", 3, "vermittlung_id", "V1", "mehrfach"),
    ("vermittlung fall unknown", "vermittlungen", "V1;F1", "V1;F7", 2, "fall_id", "F7", "Kein Fall mit dieser fall_id"),
    ("vermittlung before case", "vermittlungen", "F1;10.02.2024", "F1;31.01.2024", 2, "datum", "31.01.2024", "vor dem Fallbeginn (01.02.2024)"),
    ("vermittlung in future", "vermittlungen", "F1;10.02.2024", "F1;10.02.2099", 2, "datum", "10.02.2099", "Zukunft"),
    ("an_partner unknown", "vermittlungen", ";JC;arbeit", ";NOPE;arbeit", 2, "an_partner", "NOPE", "Kein Partner mit dieser partner_id"),
    ("an_partner missing", "vermittlungen", ";JC;arbeit", ";;arbeit", 2, "an_partner", "", "Pflichtfeld ist leer"),
    ("vermittlung handlungsfeld missing", "vermittlungen", ";JC;arbeit;", ";JC;;", 2, "handlungsfeld", "", "Pflichtfeld ist leer"),
    ("status unknown", "vermittlungen", ";angenommen;", ";ok;", 2, "status", "ok", "Unbekannter Code"),
    ("status missing", "vermittlungen", ";angenommen;", ";;", 2, "status", "", "Pflichtfeld ist leer"),
    ("erstkontakt before referral", "vermittlungen", ";20.02.2024;", ";01.02.2024;", 2, "erstkontakt", "01.02.2024", "vor dem Vermittlungsdatum (10.02.2024)"),
    ("erstkontakt invalid", "vermittlungen", ";20.02.2024;", ";20.2.;", 2, "erstkontakt", "20.2.", "Kein gültiges Datum"),
    ("luecke unknown", "vermittlungen", ";wartezeit", ";warten", 3, "luecke", "warten", "Unbekannter Code"),
    # partner
    ("partner_id duplicate", "partner", "ABH;Herne", "JC;Herne", 4, "partner_id", "JC", "mehrfach vor (erstmals in Zeile 3)"),
    ("partner_id missing", "partner", "ABH;Herne", ";Herne", 4, "partner_id", "", "Pflichtfeld ist leer"),
    ("partner kommune unknown", "partner", "JC;Herne;", "JC;Hern;", 3, "kommune", "Hern", "Unbekannte Kommune"),
    ("partner name missing", "partner", ";Jobcenter Herne;", ";;", 3, "name", "", "Pflichtfeld ist leer"),
    ("partner typ unknown", "partner", ";jobcenter;", ";arbeitsamt;", 3, "typ", "arbeitsamt", "Unbekannter Code"),
    ("rechtskreis unknown", "partner", ";sgb2;", ";sgbii;", 3, "rechtskreis", "sgbii", "Unbekannter Code"),
    ("case_management unknown", "partner", ";;ja;", ";;vielleicht;", 2, "case_management", "vielleicht", "Unbekannter Code"),
    ("case_management missing", "partner", ";sgb2;nein;", ";sgb2;;", 3, "case_management", "", "Pflichtfeld ist leer"),
    ("partner stadtbezirk unknown", "partner", ";ja;Herne-Mitte", ";ja;Zentrum", 2, "stadtbezirk", "Zentrum", "Unbekannter Stadtbezirk"),
    # stellen
    ("stellen traeger not case management", "stellen", "CM1;Herne-Mitte", "JC;Herne-Mitte", 2, "traeger", "JC", "kein Case-Management-Träger"),
    ("stellen traeger unknown", "stellen", "CM1;Herne-Mitte", "CM7;Herne-Mitte", 2, "traeger", "CM7", "Kein Partner"),
    ("vzae zero", "stellen", ";1,5;", ";0;", 2, "vzae", "0", "größer als 0"),
    ("vzae above 20", "stellen", ";1,5;", ";20,5;", 2, "vzae", "20,5", "höchstens 20"),
    ("vzae not a number", "stellen", ";1,5;", ";halb;", 2, "vzae", "halb", "keine Zahl"),
    ("von missing", "stellen", ";01.01.2024;", ";;", 2, "von", "", "Pflichtfeld ist leer"),
    ("bis before von", "stellen", ";01.01.2024;", ";01.01.2024;31.12.2023", 2, "bis", "31.12.2023", "vor Von (01.01.2024)"),
    ("stellen stadtbezirk unknown", "stellen", "CM1;Herne-Mitte", "CM1;Mitte", 2, "stadtbezirk", "Mitte", "Unbekannter Stadtbezirk"),
    # statuswechsel
    ("statuswechsel fall unknown", "statuswechsel", "F2;01.05", "F5;01.05", 2, "fall_id", "F5", "Kein Fall"),
    ("statuswechsel after case end", "statuswechsel", "F2;01.05.2024", "F2;01.08.2024", 2, "datum", "01.08.2024", "nach dem Fallende (30.06.2024)"),
    ("statuswechsel before case", "statuswechsel", "F2;01.05.2024", "F2;01.03.2024", 2, "datum", "01.03.2024", "vor dem Fallbeginn (15.03.2024)"),
    ("nach_status unknown", "statuswechsel", ";ae_25b", ";25b", 2, "nach_status", "25b", "Unbekannter Code"),
    # form of the file
    ("required column missing", "beratungen", "dauer_min;form;", "dauer_min;art;", 1, "form", "", "Pflichtspalte fehlt"),
    ("column twice", "partner", "case_management;stadtbezirk", "case_management;name", 1, "name", "name", "mehrfach in der Kopfzeile"),
    ("too many fields", "beratungen", "B2;F2;20.03.2024;30;telefonisch;arbeit", "B2;F2;20.03.2024;30;telefonisch;arbeit;x",
     3, "", "B2;F2;20.03.2024;30;telefonisch;arbeit;x", "7 Felder, die Kopfzeile nur 6"),
]

# What an edit necessarily causes besides its own problem, as (table, row, column), worked out from the base
# export: F2's rows are beratungen 3, vermittlungen 3, statuswechsel 2; F1's are beratungen 2, vermittlungen 2.
_F2_ROWS = (("beratungen", 3, "fall_id"), ("vermittlungen", 3, "fall_id"), ("statuswechsel", 2, "fall_id"))
_F1_ROWS = (("beratungen", 2, "fall_id"), ("vermittlungen", 2, "fall_id"))
ALSO = {
    "fall_id missing": _F2_ROWS,               # F2 is gone: its consultation, referral and status change have no case
    "fall_id duplicate": _F2_ROWS,
    "kommune unknown": _F1_ROWS,               # F1 has no kommune: its rows cannot find it
    "kommune missing": _F1_ROWS,
    "beginn in future": (("faelle", 3, "ende"), ("beratungen", 3, "datum"), ("vermittlungen", 3, "datum"),
                         ("statuswechsel", 2, "datum")),   # everything of F2 now lies before its start
    "ende before beginn": (("beratungen", 3, "datum"), ("statuswechsel", 2, "datum")),   # after its end
    "vermittlung in future": (("vermittlungen", 2, "erstkontakt"),),   # the first appointment before the referral
    "partner_id duplicate": (("vermittlungen", 3, "an_partner"),),     # ABH's row became JC: V2 goes to nobody
    "partner_id missing": (("vermittlungen", 3, "an_partner"),),
    "partner kommune unknown": (("faelle", 2, "zugang_ueber"), ("vermittlungen", 2, "an_partner")),   # JC not in Herne
    "case_management unknown": (("faelle", 2, "traeger"), ("faelle", 3, "traeger"), ("stellen", 2, "traeger")),
}
BEZIRKE_ALSO = {
    "district twice": (("faelle", 3, "stadtbezirk"),),           # Sodingen is no longer a district of Herne
    "bezirke kommune unknown": (("faelle", 3, "stadtbezirk"),),
}

BEZIRKE = """\
kommune;stadtbezirk;einwohner;auslaender;stand;quelle
Herne;Herne-Mitte;59035;12000;31.12.2017;herne.de
Herne;Sodingen;34602;5000;31.12.2017;herne.de
"""
BEZIRKE_CASES = [
    ("einwohner zero", ";59035;", ";0;", 2, "einwohner", "0", "mindestens 1"),
    ("auslaender above einwohner", ";34602;5000;", ";34602;40000;", 3, "auslaender", "40000", "Mehr Ausländerinnen und Ausländer als Einwohner"),
    ("stand missing", ";31.12.2017;herne.de\nHerne;Sodingen", ";;herne.de\nHerne;Sodingen", 2, "stand", "", "Pflichtfeld ist leer"),
    ("quelle missing", "31.12.2017;herne.de\nHerne;Sodingen", "31.12.2017;\nHerne;Sodingen", 2, "quelle", "", "Pflichtfeld ist leer"),
    ("district twice", "Herne;Sodingen", "Herne;Herne Mitte", 3, "stadtbezirk", "Herne Mitte", "mehrfach"),
    ("bezirke kommune unknown", "Herne;Sodingen", "Hernen;Sodingen", 3, "kommune", "Hernen", "Unbekannte Kommune"),
]


def _problems(tmp_path: Path, files: dict[str, str]):
    with pytest.raises(ImportValidationError) as info:
        read_export(write_export(tmp_path / "export", files), show_progress=False)
    return info.value.problems


def _expect(problems, table, row, column, value, reason, also=()):
    """Exactly the expected problem is reported (and the ``also`` ones the edit necessarily causes, as
    (table, row, column)); nothing else."""
    got = sorted(problems[["tabelle", "zeile", "spalte"]].itertuples(index=False, name=None))
    assert got == sorted([(table, row, column), *also]), f"expected one problem at {table} row {row} column {column}; got:\n{problems.to_string()}"
    hits = problems[(problems["tabelle"] == table) & (problems["zeile"] == row) & (problems["spalte"] == column)]
    assert hits["wert"].tolist() == [value], hits.to_string()
    assert reason in hits["grund_de"].iloc[0], hits.to_string()
    assert (hits["grund_en"].str.len() > 0).all()
    assert hits["datei"].iloc[0] == f"{table}.csv"


def test_base_export_is_valid(base_export):
    export = read_export(base_export, show_progress=False)
    assert export.kommunen == ["Herne"]
    assert len(export.warnings) == 0


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule(tmp_path, case):
    _id, table, old, new, row, column, value, reason = case
    files = dict(BASE)
    assert files[table].count(old) == 1, f"test case edit is ambiguous: {old!r}"
    files[table] = files[table].replace(old, new)
    _expect(_problems(tmp_path, files), table, row, column, value, reason, ALSO.get(_id, ()))


@pytest.mark.parametrize("case", BEZIRKE_CASES, ids=[c[0] for c in BEZIRKE_CASES])
def test_bezirke_rule(tmp_path, case):
    _id, old, new, row, column, value, reason = case
    files = dict(BASE, bezirke=BEZIRKE)
    read_export(write_export(tmp_path / "ok", files), show_progress=False)  # the table itself is valid
    assert files["bezirke"].count(old) == 1
    files["bezirke"] = files["bezirke"].replace(old, new)
    _expect(_problems(tmp_path, files), "bezirke", row, column, value, reason, BEZIRKE_ALSO.get(_id, ()))


def test_required_table_missing(tmp_path):
    files = {k: v for k, v in BASE.items() if k != "vermittlungen"}
    problems = _problems(tmp_path, files)
    assert problems["grund_de"].str.contains("Pflichttabelle 'vermittlungen' fehlt").any()


def test_every_problem_reported_at_once(tmp_path):
    """Three broken tables, five problems: all of them in one answer, in file order."""
    files = dict(BASE)
    files["faelle"] = files["faelle"].replace(";duldung;", ";geduldet;").replace(";1990;", ";1890;")
    files["beratungen"] = files["beratungen"].replace(";45;", ";601;")
    files["vermittlungen"] = files["vermittlungen"].replace(";angenommen;", ";ok;")
    files["partner"] = files["partner"].replace(";jobcenter;", ";arbeitsamt;")
    problems = _problems(tmp_path, files)
    got = list(problems[["tabelle", "zeile", "spalte", "wert"]].itertuples(index=False, name=None))
    assert got == [
        ("faelle", 2, "aufenthaltsstatus", "geduldet"),
        ("faelle", 2, "geburtsjahr", "1890"),
        ("beratungen", 2, "dauer_min", "601"),
        ("vermittlungen", 2, "status", "ok"),
        ("partner", 3, "typ", "arbeitsamt"),
    ]


def test_english_reasons(tmp_path):
    files = dict(BASE)
    files["faelle"] = files["faelle"].replace("30.06.2024;ziel", "01.03.2024;ziel")
    problems = _problems(tmp_path, files)
    row = problems[problems["spalte"] == "ende"].iloc[0]
    assert row["grund_en"] == "End lies before the start (15.03.2024)."


def test_raw_person_id_never_in_problems(tmp_path):
    files = dict(BASE)
    files["faelle"] = files["faelle"].replace(";duldung;", ";geduldet;").replace("F2;PERS-0002", "F1;PERS-0002")
    problems = _problems(tmp_path, files)
    assert not problems.astype(str).apply(lambda c: c.str.contains("PERS-000")).any().any()


def test_row_numbers_count_skipped_empty_rows(tmp_path):
    """An empty line inside the file still counts as a row the way a person sees it."""
    files = dict(BASE)
    files["beratungen"] = files["beratungen"].replace("B2;F2", "\n;;;;;\nB2;F2").replace(";30;", ";0;")
    problems = _problems(tmp_path, files)
    assert list(problems[["zeile", "spalte"]].itertuples(index=False, name=None)) == [(5, "dauer_min")]


def test_ambiguous_case_id_needs_kommune_column(tmp_path):
    """Two kommunen both use fall_id F1: a consultation without kommune cannot be placed."""
    files = dict(BASE)
    files["partner"] += "CMO;Oberhausen;Caritas Oberhausen;wohlfahrtsverband;;ja;Sterkrade\n"
    files["faelle"] += "F1;PERS-9;Oberhausen;Sterkrade;CMO;01.02.2024;;;erstintegration;sprache;duldung;;;;\n"
    problems = _problems(tmp_path, files)
    hits = problems[(problems["tabelle"] == "beratungen") & (problems["spalte"] == "fall_id")]
    assert list(hits["zeile"]) == [2]
    assert "mehreren Kommunen" in hits["grund_de"].iloc[0]
    # with the kommune column the same export is valid
    files["beratungen"] = "kommune;" + files["beratungen"].replace("\nB", "\nHerne;B")
    files["vermittlungen"] = "kommune;" + files["vermittlungen"].replace("\nV", "\nHerne;V")
    export = read_export(write_export(tmp_path / "fixed", files), show_progress=False)
    assert export.kommunen == ["Herne", "Oberhausen"]


def test_a_person_id_in_another_column_is_not_echoed(tmp_path):
    """F2's referral source holds F1's person ID (typed into the wrong column): the problem names row and column,
    its value stays hidden."""
    files = dict(BASE, faelle=BASE["faelle"].replace(";ae_104c;;m;", ";ae_104c;PERS-0001;m;"))
    problems = _problems(tmp_path, files)
    assert problems[["tabelle", "zeile", "spalte", "wert"]].values.tolist() == [
        ["faelle", 3, "zugang_ueber", "(nicht angezeigt)"]]
    assert "Kein Partner mit dieser partner_id" in problems["grund_de"].iloc[0]
