"""The city's own district figures (``kimtools bezirke``): official figures from the statistics office's file, in
that office's layout, win over the shipped estimates; every rate per 1,000 and its footnote follow.

The base export is Herne with two cases (conftest ``BASE``): F1 in Herne-Mitte (open from 01.02.2024), F2 in
Sodingen (15.03.–30.06.2024). The shipped Herne-Mitte figure is the estimate 59,035 (31.12.2017).
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pytest

from conftest import BASE, indicator_row, write_export
from kimtools import Store, indicator_table
from kimtools.cli import main
from kimtools.errors import ImportValidationError, InputError
from kimtools.ingest.importer import import_export
from kimtools.ingest.reference_figures import import_district_figures
from kimtools.present.report import lenkungskreis_html
from kimtools.present.steering import data_state, population_note

KEY = b"k" * 32
OFFICE = """Bevölkerung in den Stadtbezirken der Stadt Herne, Stand 31.12.2025
Quelle: Stadt Herne, Fachbereich Statistik und Wahlen

Stadtbezirk;Einwohner insgesamt;darunter Ausländer/-innen
Herne-Mitte;61.234;14.012
Wanne;35.120;8.455
Eickel;35.001;6.120
Sodingen;34.870;5.133
Insgesamt;166.225;33.720
"""


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "s.duckdb"
    import_export(write_export(tmp_path / "export", BASE), path, key=KEY, show_progress=False)
    return path


def office_file(folder: Path, text: str = OFFICE, name: str = "bevoelkerung.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def figures(store: Path) -> dict[str, tuple]:
    rows = Store(store).query("SELECT stadtbezirk, einwohner, auslaender, stand, herkunft FROM bezirke")
    return {r.stadtbezirk: (r.einwohner, r.auslaender, str(r.stand)[:10], r.herkunft) for r in rows.itertuples()}


def test_the_statistics_office_file_is_read_in_its_own_layout(store, tmp_path):
    result = import_district_figures(office_file(tmp_path), store)
    assert result.skipped == ("bevoelkerung.csv, Zeile 9: Insgesamt",)
    assert figures(store) == {"Herne-Mitte": (61234, 14012, "2025-12-31", "amtlich"),
                              "Wanne": (35120, 8455, "2025-12-31", "amtlich"),
                              "Eickel": (35001, 6120, "2025-12-31", "amtlich"),
                              "Sodingen": (34870, 5133, "2025-12-31", "amtlich")}
    # the rate per 1,000 uses it: F1 is the one person reached in Herne-Mitte in 2024-Q1
    row = indicator_row(indicator_table(Store(store), by="stadtbezirk"), "reichweite_je_1000",
                        stadtbezirk="Herne-Mitte", zeitraum="2024-Q1")
    assert row["nenner"] == 61234 and row["wert"] == pytest.approx(1000 / 61234)


def test_an_official_figure_wins_over_an_estimate_and_the_latest_over_an_older_one(store, tmp_path):
    older = OFFICE.replace("Stand 31.12.2025", "Stand 31.12.2016").replace("61.234", "58.000")
    import_district_figures(office_file(tmp_path, older, "2016.csv"), store)
    # an official figure of 2016 beats the shipped estimate of 2017
    assert figures(store)["Herne-Mitte"] == (58000, 14012, "2016-12-31", "amtlich")
    import_district_figures(office_file(tmp_path), store)
    assert figures(store)["Herne-Mitte"] == (61234, 14012, "2025-12-31", "amtlich")
    # the older file again: kept, but the latest still wins
    import_district_figures(office_file(tmp_path, older, "2016.csv"), store)
    assert figures(store)["Herne-Mitte"] == (61234, 14012, "2025-12-31", "amtlich")
    kept = Store(store).query("SELECT stand, einwohner FROM bezirkszahlen WHERE stadtbezirk = 'Herne-Mitte' ORDER BY stand")
    assert kept["einwohner"].tolist() == [58000, 61234]


def test_the_next_case_delivery_keeps_the_official_figures(store, tmp_path):
    import_district_figures(office_file(tmp_path), store)
    files = dict(BASE)
    files["faelle"] = BASE["faelle"].replace("15.03.2024", "16.03.2024")   # another delivery of the same kommune
    import_export(write_export(tmp_path / "again", files), store, key=KEY, show_progress=False)
    assert figures(store)["Herne-Mitte"] == (61234, 14012, "2025-12-31", "amtlich")


def test_before_any_official_figure_the_estimate_is_used_and_said(store):
    assert figures(store)["Herne-Mitte"] == (59035, 12988, "2017-12-31", "mitgeliefert")
    assert population_note(Store(store), "Herne") == (
        "Einwohnerzahlen je Stadtbezirk: geschätzt für Eickel, Herne-Mitte, Sodingen, Wanne (mitgelieferte "
        "Näherungswerte, Stand 31.12.2017; Quellen in data/reference/bezirke.csv).")


def test_the_footnote_names_official_and_estimated_figures_on_the_page_and_in_the_printout(store, tmp_path):
    only_two = "\n".join(line for line in OFFICE.splitlines() if not line.startswith(("Wanne", "Eickel")))
    import_district_figures(office_file(tmp_path, only_two), store)
    expected = ("Einwohnerzahlen je Stadtbezirk: geschätzt für Eickel, Wanne (mitgelieferte Näherungswerte, Stand "
                "31.12.2017; Quellen in data/reference/bezirke.csv); amtlich für Herne-Mitte, Sodingen (Stadt Herne, "
                "Fachbereich Statistik und Wahlen, Stand 31.12.2025).")
    assert population_note(Store(store), "Herne") == expected
    assert data_state(Store(store), ["Herne"]).endswith(expected)
    assert expected in lenkungskreis_html(Store(store), "Herne", "2024-Q2")
    from kimtools.panels import FallzahlenPanel, PlanungPanel

    assert expected in html.unescape(FallzahlenPanel(Store(store)).reach_note.value)
    assert expected in html.unescape(PlanungPanel(Store(store)).need_table.value)


def test_an_unknown_district_is_a_problem_of_its_row_and_nothing_changes(store, tmp_path):
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    with pytest.raises(ImportValidationError) as err:
        import_district_figures(office_file(tmp_path, OFFICE.replace("Sodingen;", "Sodingen-Nord;")), store)
    p = err.value.problems
    assert p[["zeile", "spalte", "wert"]].values.tolist() == [[8, "Stadtbezirk (stadtbezirk)", "Sodingen-Nord"]]
    assert p["grund_de"].iloc[0].startswith("Unbekannter Stadtbezirk von Herne; bekannt sind: Eickel, Herne-Mitte")
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_what_the_file_does_not_say_is_asked_for(store, tmp_path):
    bare = "\n".join(OFFICE.splitlines()[3:]) + "\n"   # no title rows: neither kommune, date nor source
    with pytest.raises(InputError) as err:
        import_district_figures(office_file(tmp_path, bare), store)
    for hint in ("bezirke.spalten.kommune (--kommune)", "bezirke.spalten.stand (--stand TT.MM.JJJJ)",
                 "bezirke.spalten.quelle (--quelle TEXT)"):
        assert hint in err.value.message_de
    import_district_figures(office_file(tmp_path, bare), store, kommune="Herne", stand="30.06.2026",
                            quelle="Einwohnermelderegister")
    assert figures(store)["Wanne"] == (35120, 8455, "2026-06-30", "amtlich")


def test_the_command_reports_what_the_rates_now_use(store, tmp_path, capsys):
    assert main(["bezirke", str(office_file(tmp_path)), "--db", str(store), "--probelauf"]) == 0
    out = capsys.readouterr().out
    assert "Probelauf – nichts wurde gespeichert" in out
    assert "Herne · Herne-Mitte: 61.234 / 14.012 · Stand 31.12.2025 · amtlich · Stadt Herne" in out
    assert figures(store)["Herne-Mitte"][3] == "mitgeliefert"
    assert main(["bezirke", str(office_file(tmp_path)), "--db", str(store)]) == 0
    assert figures(store)["Herne-Mitte"][3] == "amtlich"


def test_a_workbook_through_a_profile(store, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Einwohner 2025"
    ws.append(["Bezirksname", "EW gesamt", "Nichtdeutsche"])
    for row in (("Herne-Mitte", 61234, 14012), ("Wanne", 35120, 8455), ("Eickel", 35001, 6120), ("Sodingen", 34870, 5133)):
        ws.append(row)
    wb.save(tmp_path / "ew.xlsx")
    (tmp_path / "ew.toml").write_text("""
[bezirke]
quelle = "Einwohner 2025"
[bezirke.spalten]
kommune = { wert = "Herne" }
stadtbezirk = "Bezirksname"
einwohner = "EW gesamt"
auslaender = "Nichtdeutsche"
stand = { wert = "31.12.2025" }
quelle = { wert = "Statistikstelle Herne" }
""", encoding="utf-8")
    import_district_figures(tmp_path / "ew.xlsx", store, profile=tmp_path / "ew.toml")
    assert figures(store)["Eickel"] == (35001, 6120, "2025-12-31", "amtlich")
