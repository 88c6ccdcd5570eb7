"""The annual report in Word (issue 38): its tables against the indicator table and direct counts, protected as a
bundle is (no count of 1 or 2, no hidden count recomputable from the sums the report states), a city's template,
the workbook beside it, and the command's refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from docx import Document

from conftest import BASE, write_export
from kimtools import Store, import_export, indicator_table
from kimtools.cli import main
from kimtools.indicators.disclosure import HIDDEN, audit
from kimtools.views.jahresbericht import annual_views, cells_and_sums, protect_tables, protected


def _tables(path) -> dict[str, pd.DataFrame]:
    """The Word file's tables by the heading above each: first column the line, the others as printed."""
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    out = {}
    for heading, table in zip(headings, doc.tables):
        rows = [[c.text for c in r.cells] for r in table.rows]
        out[heading] = pd.DataFrame(rows[1:], columns=["zeile", *rows[0][1:]]).set_index("zeile")
    return out


def _number(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


@pytest.fixture(scope="module")
def herne_2025(demo_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("jb") / "jahresbericht.docx"
    assert main(["jahresbericht", "--db", str(demo_store), "--kommune", "Herne", "--jahr", "2025",
                 "--ausgabe", str(out)]) == 0
    return out


def test_the_report_holds_the_indicator_tables_figures(demo_store, herne_2025):
    store = Store(demo_store)
    tables = _tables(herne_2025)
    assert list(tables) == ["Stellen je Baustein (VZÄ im Jahresmittel)", "Stellen je Arbeitgeber (VZÄ im Jahresmittel)",
                            "Reichweite 2025 und seit Beginn", "Neuzugänge nach Zielgruppe",
                            "Neuzugänge nach Aufenthaltsstatus bei Aufnahme", "Neuzugänge nach Handlungsfeld",
                            "Vermittlungen und was aus ihnen wurde", "Die größten Angebotslücken", "Die Stadtbezirke"]
    year = indicator_table(store, "Herne", period="year").query("zeitraum == '2025'").set_index("kennzahl")
    since = indicator_table(store, "Herne", period="total", bis="2025-12-31").set_index("kennzahl")
    reach = tables["Reichweite 2025 und seit Beginn"]
    for line, k in (("Erreichte Personen", "personen_erreicht"), ("Neue Fälle", "neuzugaenge"),
                    ("Beratungen", "beratungen"), ("… mit mitberatenen Angehörigen", "personen_mit_angehoerigen")):
        assert _number(reach.loc[line, "2025"]) == year.loc[k, "zaehler"]
        assert _number(reach.loc[line, "seit Beginn"]) == since.loc[k, "zaehler"]
    # referrals by status: against a count of the stored rows, not the engine
    direct = store.query("SELECT status, count(*) n FROM vermittlungen WHERE kommune = 'Herne' "
                         "AND year(datum) = 2025 GROUP BY 1").set_index("status")["n"]
    printed = tables["Vermittlungen und was aus ihnen wurde"]
    for status, n in direct.items():
        label = {"vermittelt": "Vermittelt", "warteliste": "Warteliste", "angenommen": "Angenommen",
                 "abgeschlossen": "Abgeschlossen", "abgelehnt": "Abgelehnt", "nicht_wahrgenommen": "Nicht wahrgenommen"}[status]
        assert printed.loc[label, "Anzahl"] in (f"{n:,}".replace(",", "."), HIDDEN, "< 3")
    assert _number(printed.loc["Vermittlungen gesamt", "Anzahl"]) == direct.sum()
    groups = indicator_table(store, "Herne", period="year", merkmal="zielgruppe", kennzahlen=["neuzugaenge"])
    groups = groups.query("zeitraum == '2025'").set_index("auspraegung")["zaehler"]
    assert _number(tables["Neuzugänge nach Zielgruppe"].loc["Multiple Problemlagen", "Neuzugänge"]) == \
        groups["multiple_problemlagen"]
    posts = indicator_table(store, "Herne", period="year", merkmal="baustein", kennzahlen=["vzae_besetzt"])
    posts = posts.query("zeitraum == '2025'").set_index("auspraegung")["wert"]
    printed = tables["Stellen je Baustein (VZÄ im Jahresmittel)"]
    for b in "123":
        assert _number(printed.iloc[int(b) - 1]["besetzt"]) == pytest.approx(round(posts[b], 1))
    # the workbook beside it holds the same tables
    sheets = pd.read_excel(herne_2025.with_suffix(".xlsx"), sheet_name=None, header=None)
    assert list(sheets) == ["stellen", "arbeitgeber", "reichweite", "zielgruppen", "aufenthalt", "handlungsfelder",
                            "vermittlungen", "luecken", "bezirke"]


#: a small Herne: every breakdown has counts of 1 and 2
SMALL = dict(BASE)
SMALL["faelle"] = BASE["faelle"] + "".join(
    f"F{i};PERS-{i:04d};Herne;{'Wanne' if i % 3 else 'Sodingen'};CM1;{1 + i % 27:02d}.0{1 + i % 5}.2024;;;"
    f"{'erstintegration' if i % 4 else 'pflegesetting'};sprache;{'duldung' if i % 5 else 'ae_25b'};;w;1980;2\n"
    for i in range(3, 30))
SMALL["beratungen"] = BASE["beratungen"] + "".join(
    f"B{i};F{i};{1 + i % 27:02d}.0{1 + i % 5}.2024;30;persoenlich;sprache\n" for i in range(3, 30))


def test_no_count_of_one_or_two_and_no_hidden_count_can_be_worked_out(tmp_path):
    """The attacker knows every printed count, every sum the report states within and across its tables (a figure
    printed twice is one figure) and that a hidden count is at least 1: the audit's integer programs find no
    hidden cell narrowed below 3."""
    db = tmp_path / "k.duckdb"
    import_export(write_export(tmp_path / "e", SMALL), db=db, show_progress=False)
    out = tmp_path / "klein.docx"
    assert main(["jahresbericht", "--db", str(db), "--jahr", "2024", "--ausgabe", str(out)]) == 0
    views = annual_views(Store(db), "Herne", 2024)
    tables = protect_tables(views["tables"], views["same"])
    values, known, _labels, at, sums = cells_and_sums(views["tables"], views["same"])
    hidden = np.zeros(len(values), dtype=bool)
    for table in (t for t in tables if not t.posts):
        for k, _ in table.columns:
            for z, text in zip(table.shown["zeile"], table.shown[k]):
                assert text not in ("1", "2"), (table.key, z, k)
                hidden[at[(table.key, z, k)]] = text in ("< 3", HIDDEN)
    assert hidden.any()   # the export is small enough that something had to be protected
    result = audit(values, hidden, sums)
    assert not result["offengelegt"].any(), result
    printed = _tables(out)
    for heading, frame in printed.items():
        if "VZÄ" not in heading:
            assert not frame.isin(["1", "2"]).any().any(), heading


def test_a_citys_template_keeps_its_text_in_front(tmp_path, demo_store):
    template = tmp_path / "vorlage.docx"
    doc = Document()
    doc.add_paragraph("Anlage 3 zur Vorlage 17/2026")
    doc.save(template)
    out = tmp_path / "mit-vorlage.docx"
    assert main(["jahresbericht", "--db", str(demo_store), "--kommune", "Herne", "--jahr", "2025",
                 "--vorlage", str(template), "--ausgabe", str(out)]) == 0
    assert Document(str(out)).paragraphs[0].text == "Anlage 3 zur Vorlage 17/2026"


def test_the_command_refuses_what_it_cannot_write(tmp_path, demo_store, capsys):
    args = ["jahresbericht", "--db", str(demo_store), "--kommune", "Herne"]
    assert main([*args, "--jahr", "2019", "--ausgabe", str(tmp_path / "a.docx")]) == 1
    assert "außerhalb der Daten von Herne (2022–2026)" in capsys.readouterr().err
    assert main([*args, "--jahr", "2025", "--ausgabe", str(tmp_path / "a.pdf")]) == 2
    (tmp_path / "kaputt.docx").write_text("keine Word-Datei")
    assert main([*args, "--jahr", "2025", "--vorlage", str(tmp_path / "kaputt.docx"),
                 "--ausgabe", str(tmp_path / "b.docx")]) == 1
    assert "keine lesbare Word-Datei" in capsys.readouterr().err
    assert not (tmp_path / "a.docx").exists() and not (tmp_path / "b.docx").exists()


def test_in_english(tmp_path, demo_store):
    out = tmp_path / "annual.docx"
    assert main(["--lang", "en", "annual-report", "--db", str(demo_store), "--kommune", "Herne", "--year", "2025",
                 "--out", str(out)]) == 0
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "KIM Herne: annual report 2025"
    assert "posts per Baustein (FTE, yearly mean)" in [p.text for p in doc.paragraphs]


def test_cases_open_at_the_end_stay_hidden_in_both_columns_and_cannot_be_worked_out():
    """Since the start 40 cases begun = 38 closed + 2 open: the 2 is small in both columns (one number), and the 38
    must hide too, else 40 − 38 gives it away."""
    from kimtools.views.jahresbericht import ReportTable

    rows = pd.DataFrame({"zeile": ["neuzugaenge", "abschluesse", "faelle_offen"], "text": ["neu", "zu", "offen"],
                         "jahr": [10, 8, 2], "seit": [40, 38, 2]})
    table = ReportTable("reichweite", ("", ""), ("", ""), rows, [("jahr", ("", "")), ("seit", ("", ""))],
                        sums=[(("neuzugaenge", "seit"), [("abschluesse", "seit"), ("faelle_offen", "seit")]),
                              (("faelle_offen", "jahr"), [("faelle_offen", "seit")])])
    shown = protected(table).shown.set_index("zeile")
    assert shown.loc["faelle_offen"].tolist()[1:] == ["< 3", "< 3"]
    assert shown.loc["abschluesse", "seit"] == HIDDEN and shown.loc["neuzugaenge", "seit"] == "40"
