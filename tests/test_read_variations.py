"""Every tolerated variation of form imports, and means the same as the base export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pandas as pd
import pytest

from conftest import BASE, write_export
from kimtools import read_export


def _read(tmp_path, files, encoding="utf-8", name="export"):
    return read_export(write_export(tmp_path / name, files, encoding), show_progress=False)


def _same_as_base(export):
    f = export.tables["faelle"].set_index("fall_id")
    assert list(f.index) == ["F1", "F2"]
    assert f.loc["F1", "beginn"] == pd.Timestamp("2024-02-01")
    assert f.loc["F2", "ende"] == pd.Timestamp("2024-06-30")
    assert f.loc["F2", "stadtbezirk"] == "Sodingen"
    assert f.loc["F1", "handlungsfelder"] == "sprache|wohnen"
    assert f.loc["F2", "abschlussgrund"] == "ziel_erreicht"
    b = export.tables["beratungen"].set_index("beratung_id")
    assert b.loc["B1", "form"] == "persoenlich" and b.loc["B1", "dauer_min"] == 45
    v = export.tables["vermittlungen"].set_index("vermittlung_id")
    assert v.loc["V2", "luecke"] == "wartezeit" and v.loc["V1", "erstkontakt"] == pd.Timestamp("2024-02-20")
    assert export.tables["stellen"]["vzae"].tolist() == [1.5]
    p = export.tables["partner"].set_index("partner_id")
    assert p.loc["ABH", "name"] == "Ausländerbehörde Herne"
    assert p.loc["CM1", "case_management"] and not p.loc["JC", "case_management"]


def test_utf8_with_bom(tmp_path):
    _same_as_base(_read(tmp_path, {k: "\ufeff" + v for k, v in BASE.items()}))


def test_windows_1252(tmp_path):
    _same_as_base(_read(tmp_path, BASE, encoding="cp1252"))


def _with_delimiter(text: str, sep: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        writer.writerow(row)
    return out.getvalue()


def test_comma_delimiter_with_quoted_multivalue(tmp_path):
    files = {k: _with_delimiter(v, ",") for k, v in BASE.items()}
    assert '"sprache,wohnen"' in files["faelle"]
    _same_as_base(_read(tmp_path, files))


def test_iso_dates(tmp_path):
    files = {k: re.sub(r"(\d{2})\.(\d{2})\.(\d{4})", r"\3-\2-\1", v) for k, v in BASE.items()}
    assert "2024-02-01" in files["faelle"]
    _same_as_base(_read(tmp_path, files))


def test_decimal_point(tmp_path):
    files = dict(BASE, stellen=BASE["stellen"].replace(";1,5;", ";1.5;"))
    _same_as_base(_read(tmp_path, files))


def test_german_labels_and_case_of_codes(tmp_path):
    files = dict(BASE)
    files["faelle"] = (files["faelle"].replace(";erstintegration;", ";Nachholende Erstintegration;")
                       .replace(";ziel_erreicht;", ";Ziel erreicht;").replace(";duldung;", ";DULDUNG;"))
    files["beratungen"] = files["beratungen"].replace(";persoenlich;", ";persönlich;")
    files["vermittlungen"] = files["vermittlungen"].replace(";angenommen;", ";Angenommen;")
    files["partner"] = files["partner"].replace(";ja;", ";Ja;")
    export = _read(tmp_path, files)
    _same_as_base(export)
    f = export.tables["faelle"].set_index("fall_id")
    assert f.loc["F1", "zielgruppe"] == "erstintegration" and f.loc["F1", "aufenthaltsstatus"] == "duldung"


def test_header_case_blanks_and_column_order(tmp_path):
    files = dict(BASE)
    lines = files["beratungen"].splitlines()
    rows = [line.split(";") for line in lines]
    order = [5, 2, 0, 4, 1, 3]
    rows = [[r[i] for i in order] for r in rows]
    rows[0] = [f"  {h.upper()} " for h in rows[0]]
    files["beratungen"] = "\n".join(";".join(r) for r in rows) + "\n"
    _same_as_base(_read(tmp_path, files))


def test_trailing_empty_rows_and_blanks_around_values(tmp_path):
    files = dict(BASE)
    files["faelle"] = files["faelle"].replace(";Sodingen;", ";  Sodingen  ;") + ";;;;;;;;;;;;;;\n\n\n"
    files["beratungen"] = files["beratungen"] + "\n;;;;;\n"
    _same_as_base(_read(tmp_path, files))


def test_pipe_separator_and_district_spelling(tmp_path):
    files = dict(BASE)
    files["faelle"] = files["faelle"].replace("sprache,wohnen", "sprache | wohnen").replace(";Herne-Mitte;", ";herne mitte;")
    export = _read(tmp_path, files)
    _same_as_base(export)
    assert export.tables["faelle"].set_index("fall_id").loc["F1", "stadtbezirk"] == "Herne-Mitte"


def test_kommune_alias(tmp_path):
    files = dict(BASE)
    files["partner"] = files["partner"].replace(";Herne;", ";HERNE;")
    export = _read(tmp_path, files)
    assert set(export.tables["partner"]["kommune"]) == {"Herne"}


def test_unknown_column_is_a_warning(tmp_path):
    files = dict(BASE, beratungen=BASE["beratungen"].replace("handlungsfeld\n", "handlungsfeld;notiz\n", 1))
    export = _read(tmp_path, files)
    _same_as_base(export)
    w = export.warnings
    assert list(w[["tabelle", "zeile", "spalte"]].itertuples(index=False, name=None)) == [("beratungen", 1, "notiz")]
    assert "Unbekannte Spalte" in w["grund_de"].iloc[0]


def test_optional_tables_may_be_missing(tmp_path):
    files = {k: v for k, v in BASE.items() if k not in ("stellen", "statuswechsel")}
    export = _read(tmp_path, files)
    assert export.tables["stellen"].empty and export.tables["statuswechsel"].empty


def test_first_appointment_may_be_booked_in_the_future(tmp_path):
    files = dict(BASE, vermittlungen=BASE["vermittlungen"].replace(";20.02.2024;", ";20.02.2099;"))
    assert _read(tmp_path, files).tables["vermittlungen"]["erstkontakt"].max() == pd.Timestamp("2099-02-20")


def test_several_kommunen_in_one_export(tmp_path):
    files = dict(BASE)
    files["partner"] += "O-CM;Oberhausen;DRK Oberhausen;wohlfahrtsverband;;ja;Sterkrade\n"
    files["faelle"] += "O-F1;P-1;Oberhausen;Sterkrade;O-CM;01.03.2024;;;pflegesetting;pflege;eingebuergert;;;;\n"
    files["beratungen"] += "O-B1;O-F1;02.03.2024;;aufsuchend;\n"
    export = _read(tmp_path, files)
    assert export.kommunen == ["Herne", "Oberhausen"]
    b = export.tables["beratungen"].set_index("beratung_id")
    assert b.loc["O-B1", "kommune"] == "Oberhausen" and b.loc["B1", "kommune"] == "Herne"
    assert set(export.tables["bezirke"]["kommune"]) == {"Herne", "Oberhausen"}


def test_own_district_figures_replace_shipped_ones(tmp_path):
    files = dict(BASE, bezirke="kommune;stadtbezirk;einwohner;auslaender;stand;quelle\n"
                               "Herne;Herne-Mitte;60000;;2024-12-31;Stadt Herne\nHerne;Sodingen;35000;;2024-12-31;Stadt Herne\n")
    export = _read(tmp_path, files)
    b = export.tables["bezirke"]
    assert sorted(b["stadtbezirk"]) == ["Herne-Mitte", "Sodingen"]
    assert set(b["herkunft"]) == {"export"}
    # districts now come from the export's own table: the shipped "Wanne" would be unknown
    files["faelle"] = files["faelle"].replace(";Sodingen;", ";Wanne;")
    with pytest.raises(Exception, match="verletzt"):
        _read(tmp_path, files, name="export2")


def test_xlsx_with_date_cells_and_numbers(tmp_path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, text in BASE.items():
        ws = wb.create_sheet(name.upper() if name == "faelle" else name)
        for r, row in enumerate(csv.reader(io.StringIO(text), delimiter=";")):
            values = []
            for v in row:
                if r and re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", v):
                    values.append(dt.datetime.strptime(v, "%d.%m.%Y"))   # a real date cell
                elif r and re.fullmatch(r"\d+", v):
                    values.append(int(v))
                elif r and v == "1,5":
                    values.append(1.5)
                else:
                    values.append(v or None)
            ws.append(values)
    ws = wb["beratungen"]
    ws.append([None] * 6)  # trailing empty row
    path = tmp_path / "export.xlsx"
    wb.save(path)
    export = read_export(path, show_progress=False)
    _same_as_base(export)
    assert export.tables["faelle"].set_index("fall_id").loc["F1", "geburtsjahr"] == 1990


def test_xlsx_problem_names_sheet_and_row(tmp_path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, text in BASE.items():
        ws = wb.create_sheet(name)
        for row in csv.reader(io.StringIO(text), delimiter=";"):
            ws.append(row)
    wb["beratungen"]["D3"] = 900
    path = tmp_path / "lieferung.xlsx"
    wb.save(path)
    with pytest.raises(Exception) as info:
        read_export(path, show_progress=False)
    p = info.value.problems.iloc[0]
    assert (p["datei"], p["zeile"], p["spalte"], p["wert"]) == ("lieferung.xlsx [beratungen]", 3, "dauer_min", "900")


def test_time_of_day_after_a_date_is_dropped(tmp_path):
    files = dict(BASE)
    files["beratungen"] = files["beratungen"].replace("05.02.2024;", "05.02.2024 10:30;").replace("20.03.2024;", "2024-03-20T09:15:00;")
    export = _read(tmp_path, files)
    _same_as_base(export)
    assert export.tables["beratungen"]["datum"].tolist() == [pd.Timestamp("2024-02-05"), pd.Timestamp("2024-03-20")]


def test_crlf_line_ends_and_trailing_delimiters(tmp_path):
    """What Excel on Windows writes: CRLF, and a delimiter at the end of every line."""
    files = {k: "".join(line + ";\r\n" for line in v.splitlines()) for k, v in BASE.items()}
    export = _read(tmp_path, files)
    _same_as_base(export)
    assert len(export.warnings) == 0


def test_delimiters_at_the_end_of_data_rows_only(tmp_path):
    """Some tools end every data row with a delimiter but not the header: the empty last field is no extra value."""
    files = {k: v.splitlines()[0] + "\n" + "".join(line + ";;\n" for line in v.splitlines()[1:]) for k, v in BASE.items()}
    _same_as_base(_read(tmp_path, files))
