"""Gap register and table protection, on the hand-made export of test_referrals.

Gaps: V3 (F2, Sodingen, aufenthalt, zustaendigkeit_unklar, 20.03.2024 → Q1) and
V5 (F3, Herne-Mitte, sprache, wartezeit, 02.04.2024 → Q2).
"""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conftest import write_export
from kimtools import read_export
from kimtools.cli import main
from kimtools.indicators.disclosure import suppress_table
from kimtools.analysis.gaps import gap_table, top_gaps, write_gap_register
from test_referrals import REF


def _tables(tmp_path):
    return read_export(write_export(tmp_path / "export", REF), show_progress=False).tables


def test_gap_table_and_top_gaps(tmp_path):
    g = gap_table(_tables(tmp_path))
    assert g[["stadtbezirk", "handlungsfeld", "luecke", "zeitraum", "vermittlungen", "faelle"]].values.tolist() == [
        ["Herne-Mitte", "sprache", "wartezeit", "2024-Q2", 1, 1], ["Sodingen", "aufenthalt", "zustaendigkeit_unklar", "2024-Q1", 1, 1]]
    top = top_gaps(g, recent=1).set_index("luecke")
    assert (top.loc["wartezeit", "letzte"], top.loc["wartezeit", "davor"], top.loc["wartezeit", "trend"]) == (1, 0, "steigend")
    assert top.loc["zustaendigkeit_unklar", "trend"] == "fallend"
    assert top.loc["wartezeit", "bezirke"] == ["Herne-Mitte"]
    assert str(top.loc["zustaendigkeit_unklar", "seit"])[:10] == "2024-03-20"


def test_register_workbook(tmp_path):
    tables = _tables(tmp_path)
    path = write_gap_register(tmp_path / "open.xlsx", tables, "Herne", minimum=1, recent=1)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Übersicht", "Stadtbezirke", "Verlauf", "Hinweise"]   # Herne is a city
    rows = list(wb["Übersicht"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Handlungsfeld", "Lücke", "Vermittlungen", "Fälle")
    assert {r[:4] for r in rows[1:]} == {("Aufenthalt", "Zuständigkeit unklar", 1, 1), ("Sprache", "Wartezeit", 1, 1)}
    assert [r for r in wb["Verlauf"].iter_rows(values_only=True)] == [
        ("Quartal", "Aufenthalt", "Sprache"), ("2024-Q1", 1, 0), ("2024-Q2", 0, 1)]
    # with the default minimum every count here is small: none appears, no person identifier anywhere
    protected = write_gap_register(tmp_path / "protected.xlsx", tables, "Herne")
    values = [v for ws in openpyxl.load_workbook(protected) for row in ws.iter_rows(values_only=True) for v in row]
    assert 1 not in values and "< 3" in values
    assert not {"V3", "V5", "F2", "F3", "PERS-2", "PERS-3"} & {str(v) for v in values}   # no ids of cases or referrals


def test_cli_writes_the_register(tmp_path, capsys):
    from kimtools import import_export

    db = tmp_path / "kim.duckdb"
    import_export(write_export(tmp_path / "export", REF), db, show_progress=False)
    out = tmp_path / "luecken.xlsx"
    assert main(["luecken", "--db", str(db), "--out", str(out)]) == 0   # one kommune: no --kommune needed
    assert "Lückenregister Herne geschrieben" in capsys.readouterr().out
    assert openpyxl.load_workbook(out).sheetnames[0] == "Übersicht"
    assert main(["luecken", "--db", str(db), "--out", str(out), "--kommune", "Bochum"]) == 1   # not in the store: bad input
    assert "--kommune" in capsys.readouterr().err


@settings(max_examples=200, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(2, 6), st.integers(2, 6)), elements=st.integers(0, 12)))
def test_no_hidden_cell_follows_from_a_total(cells):
    """In every row and column with at least two positive cells, hidden cells come in twos or more;
    small cells are always hidden; visible cells keep their values."""
    table = pd.DataFrame(cells)
    shown = suppress_table(table, 3)
    hidden = shown.isna().to_numpy()
    assert (hidden | ~((cells > 0) & (cells < 3))).all()
    assert (shown.fillna(-1).to_numpy()[~hidden] == cells[~hidden]).all()
    for lines, values in ((hidden, cells), (hidden.T, cells.T)):
        for line, vals in zip(lines, values):
            if (vals > 0).sum() >= 2:
                assert line.sum() != 1, (cells, hidden)
