"""The reader's messages for an export in another layout name what they found and the closest contract name.

A foreign export is refused, rightly; the message says what to change: the column or sheet it found and what is
probably meant, a title row above the header and where the header is.
"""

from __future__ import annotations

import openpyxl
import pytest

from conftest import BASE, write_export
from kimtools.errors import ImportValidationError
from kimtools.ingest.read import read_export


def problems_of(source):
    with pytest.raises(ImportValidationError) as exc:
        read_export(source, key=b"k" * 32, show_progress=False)
    return exc.value.problems


def workbook(path, sheets: dict[str, list[list[str]]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def rows_of(table: str) -> list[list[str]]:
    return [line.split(";") for line in BASE[table].strip().splitlines()]


@pytest.mark.parametrize("given, meant", [("Fallbeginn", "beginn"), ("Personen-ID", "person_id"),
                                          ("Träger", "traeger")])
def test_a_missing_column_names_what_was_found_and_what_is_meant(tmp_path, given, meant):
    files = dict(BASE)
    head, rest = files["faelle"].split("\n", 1)
    files["faelle"] = head.replace(meant, given, 1) + "\n" + rest
    p = problems_of(write_export(tmp_path / "x", files))
    row = p.loc[p["spalte"] == meant].iloc[0]
    assert (row["datei"], row["zeile"]) == ("faelle.csv", 1)
    assert row["grund_de"] == (f"Pflichtspalte fehlt in der Kopfzeile; gefunden: '{given}' – gemeint ist wohl "
                               f"'{meant}'? Dann die Spalte so umbenennen.")


def test_a_missing_column_without_a_close_match_lists_the_header(tmp_path):
    files = dict(BASE)
    files["beratungen"] = files["beratungen"].replace("dauer_min;form;", "dauer_min;Bemerkung;", 1)
    p = problems_of(write_export(tmp_path / "x", files))
    assert p.loc[p["spalte"] == "form", "grund_de"].tolist() == [
        "Pflichtspalte fehlt in der Kopfzeile (dort stehen außerdem: 'Bemerkung')."]


def test_a_title_row_above_the_header_says_where_the_header_is(tmp_path):
    sheets = {t: rows_of(t) for t in ("partner", "faelle", "beratungen", "vermittlungen")}
    sheets["faelle"] = [["KIM Fallliste Herne, Stand 30.06.2024"], [], *sheets["faelle"]]
    p = problems_of(workbook(tmp_path / "liste.xlsx", sheets))
    assert p[["datei", "tabelle", "zeile", "wert"]].values.tolist() == [
        ["liste.xlsx [faelle]", "faelle", 1, "KIM Fallliste Herne, Stand 30.06.2024"]]
    assert p["grund_de"].iloc[0].startswith("Über der Kopfzeile steht eine Titelzeile: die Spaltennamen stehen erst "
                                            "in Zeile 3.")


def test_a_workbook_without_the_tables_lists_its_sheets_and_the_closest(tmp_path):
    sheets = {"Tabelle1": rows_of("partner"), "Fälle": rows_of("faelle"), "Tabelle2": rows_of("beratungen"),
              "vermittlungen": rows_of("vermittlungen")}
    p = problems_of(workbook(tmp_path / "kim.xlsx", sheets))
    missing = p.loc[p["zeile"] == 0].set_index("tabelle")
    assert missing["datei"].tolist() == ["kim.xlsx"] * 3
    assert missing.loc["faelle", "grund_de"] == ("Pflichttabelle 'faelle' fehlt: kein Tabellenblatt 'faelle'; gefunden: "
                                                 "'Tabelle1', 'Fälle', 'Tabelle2' – gemeint ist wohl 'Fälle'? Dann in "
                                                 "'faelle' umbenennen.")
    assert missing.loc["partner", "grund_de"] == ("Pflichttabelle 'partner' fehlt: kein Tabellenblatt 'partner'; "
                                                  "gefunden: 'Tabelle1', 'Fälle', 'Tabelle2'.")
