"""The kimtools command: exit codes, languages, error report, and the entry point itself."""

from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pytest

from conftest import BASE, write_export
from kimtools.cli import main


def test_import_info_indicators(tmp_path, base_export, capsys):
    db = str(tmp_path / "kim.duckdb")
    assert main(["import", str(base_export), "--db", db]) == 0
    assert "Importiert Herne: 2 Fälle, 2 Beratungen, 2 Vermittlungen, 3 Partner" in capsys.readouterr().out
    assert main(["import", str(base_export), "--db", db]) == 0
    assert "Unverändert" in capsys.readouterr().out
    assert main(["info", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Herne" in out and "01.02.2024" in out and "30.06.2024" in out
    assert "Stellen (VZÄ)" in out and " 1,5 " in out   # the one post of 1.5 FTE, German decimal comma
    csv_path = tmp_path / "k.csv"
    assert main(["indicators", "--db", db, "--period", "year", "--format", "csv", "--out", str(csv_path)]) == 0
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "kommune,zeitraum,kennzahl,zaehler,nenner,wert,ki_unten,ki_oben,unvollstaendig"
    assert "Herne,2024,neuzugaenge,2,,2.0,,,False" in lines   # one delivery of the whole kommune: complete
    xlsx = tmp_path / "k.xlsx"
    assert main(["indicators", "--db", db, "--by", "stadtbezirk", "--format", "xlsx", "--out", str(xlsx)]) == 0
    ws = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in ws[1]] == ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert",
                                        "ki_unten", "ki_oben", "unvollstaendig"]


def test_invalid_export_exits_1_and_writes_a_report(tmp_path, capsys, monkeypatch):
    files = dict(BASE, beratungen=BASE["beratungen"].replace(";45;", ";601;"))
    source = write_export(tmp_path / "bad", files)
    db = tmp_path / "kim.duckdb"
    report = tmp_path / "bericht.xlsx"
    assert main(["import", str(source), "--db", str(db), "--fehlerbericht", str(report)]) == 1
    err = capsys.readouterr().err
    assert "beratungen.csv, Zeile 2, Spalte dauer_min, Wert '601': Wert außerhalb des erlaubten Bereichs" in err
    assert not db.exists()
    rows = list(openpyxl.load_workbook(report).active.values)
    assert rows[0] == ("Datei", "Tabelle", "Zeile", "Spalte", "Wert", "Grund", "Reason (English)")
    assert rows[1][:5] == ("beratungen.csv", "beratungen", 2, "dauer_min", "601")


def test_a_long_error_list_goes_beside_the_store_not_into_the_working_folder(tmp_path, capsys, monkeypatch):
    """A report echoes the export's cell values (case data): without --fehlerbericht it goes, owner-only, into
    fehlerberichte/ beside the store, and the message names it; it was written into the working folder (issue 36).
    Reports there older than 30 days are deleted when the next one is written, a report of 29 days is kept."""
    import time

    files = dict(BASE)
    files["beratungen"] += "".join(f"X{i};F1;05.02.2024;999;persoenlich;\n" for i in range(25))
    work = tmp_path / "arbeitsordner"
    work.mkdir()
    monkeypatch.chdir(work)
    source = write_export(tmp_path / "bad", files)
    store = tmp_path / "daten" / "k.duckdb"
    folder = store.parent / "fehlerberichte"
    folder.mkdir(parents=True)
    old, recent = folder / "fehlerbericht_alt_20260101-000000.xlsx", folder / "fehlerbericht_neu_20261101-000000.xlsx"
    for path, days in ((old, 31), (recent, 29)):
        path.write_bytes(b"x")
        os.utime(path, (time.time() - days * 86400,) * 2)
    assert main(["import", str(source), "--db", str(store)]) == 1
    err = capsys.readouterr().err
    assert "… und 0 weitere" not in err and "Alle 25 Probleme als Arbeitsmappe für den Datenlieferanten: " in err
    assert list(work.iterdir()) == []
    written = [p for p in folder.iterdir() if p.name.startswith("fehlerbericht_bad_")]
    assert len(written) == 1 and str(written[0]) in err and "nach 30 Tagen gelöscht" in err
    assert openpyxl.load_workbook(written[0]).active.max_row == 26
    assert written[0].stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    assert not old.exists() and recent.exists()
    report = tmp_path / "bericht.xlsx"
    assert main(["import", str(source), "--db", str(store), "--fehlerbericht", str(report)]) == 1
    assert openpyxl.load_workbook(report).active.max_row == 26


def test_english(tmp_path, capsys):
    files = dict(BASE, beratungen=BASE["beratungen"].replace(";45;", ";601;"))
    assert main(["import", str(write_export(tmp_path / "bad", files)), "--db", str(tmp_path / "k.duckdb"), "--lang", "en"]) == 1
    assert "beratungen.csv, row 2, column dauer_min, value '601': Value out of range; allowed: at least 1 and at most 600." in capsys.readouterr().err


def test_help_german_and_english(capsys):
    with pytest.raises(SystemExit) as info:
        main(["import", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Aufruf: kimtools import") and "Ordner mit CSV-Dateien" in out
    assert "Fehlerbericht hierhin schreiben" in out     # not the text of the report command
    with pytest.raises(SystemExit):
        main(["--lang", "en", "import", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: kimtools import") and "folder of CSV files" in out


def test_usage_errors_exit_2_and_bad_input_exits_1(tmp_path, capsys):
    """2: the command line's form (an unknown command, German as the rest); 1: a value or file that does not fit."""
    with pytest.raises(SystemExit) as info:
        main(["unbekannt"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "ungültige Wahl: 'unbekannt'" in err and "invalid choice" not in err
    assert main(["import", str(tmp_path / "gibt-es-nicht")]) == 1
    assert "gibt es nicht" in capsys.readouterr().err


def test_missing_store_exits_1_with_advice(tmp_path, capsys):
    assert main(["info", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "kimtools import" in capsys.readouterr().err


def test_entry_point_runs(tmp_path, base_export):
    exe = os.path.join(os.path.dirname(sys.executable), "kimtools")
    done = subprocess.run([exe, "import", str(base_export), "--db", str(tmp_path / "k.duckdb")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "PERS-0001" not in done.stdout + done.stderr


def test_export_and_compare(tmp_path, demo_store, capsys):
    out = tmp_path / "pakete"
    assert main(["export", "--db", str(demo_store), "--kommune", "Herne", "--from", "2025-Q1", "--to", "2025-Q4",
                 "--minimum-merkmal", "aufenthaltsstatus=5", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Vergleichspaket Herne geschrieben" in said and "Schutzprüfung bestanden" in said
    folder = out / "kim-vergleich_Herne_2025-Q1_2025-Q4"
    assert (folder / "zaehlungen.csv").exists() and folder.with_suffix(".zip").exists()
    import csv

    rows = list(csv.DictReader(open(folder / "zaehlungen.csv", encoding="utf-8")))
    status = [int(r["anzahl"]) for r in rows if r["merkmal"] == "aufenthaltsstatus" and r["anzahl"]]
    assert status and not any(0 < n < 5 for n in status)      # the higher minimum for residence status holds
    merged = tmp_path / "vergleich"
    assert main(["--lang", "en", "compare", str(folder.with_suffix(".zip")), "--out", str(merged)]) == 0
    said = capsys.readouterr().out
    assert "1 bundles checked" in said and "Herne" in said
    assert (merged / "vergleich_zaehlungen.csv").exists()
    assert main(["compare", str(tmp_path / "fehlt.zip")]) == 1
    assert "gibt es nicht" in capsys.readouterr().err


#: words that are the same in German and English (or technical names), and need no second spelling
SAME_WORDS = {"import", "info", "demo", "export", "hub", "--db", "--host", "--port", "--token", "--format", "--minimum",
              "--kommune", "--xlsx", "--lang", "--demo", "-h", "--help", "--version", "--notebook"}


def test_every_command_and_option_has_a_german_name_and_an_english_one(capsys):
    """One vocabulary (issue 36): each command by its German name with an English alias, each option with a German
    and an English spelling, but the words that are the same in both; today's names keep working."""
    import argparse

    from kimtools.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names: dict[int, list[str]] = {}
    for name, p in sub.choices.items():
        names.setdefault(id(p), []).append(name)
    missing = []
    for spelled in names.values():
        if len(spelled) < 2 and spelled[0] not in SAME_WORDS:
            missing.append(spelled[0])
        p = sub.choices[spelled[0]]
        for action in p._actions:
            strings = action.option_strings
            if strings and len(strings) < 2 and strings[0] not in SAME_WORDS:
                missing.append(f"{spelled[0]} {strings[0]}")
    assert missing == []
    needs = {"vergleichen": ["x.zip"], "bericht": ["--out", "x.html"], "luecken": ["--out", "x.xlsx"]}
    for german, english in (("kennzahlen", "indicators"), ("vergleichen", "compare"), ("bericht", "report"),
                            ("zeigen", "serve"), ("luecken", "gaps")):
        for name in (german, english):
            assert parser.parse_args([name, *needs.get(german, [])]).command == german
    assert parser.parse_args(["meeting", "list"]).command == parser.parse_args(["sitzung", "liste"]).command == "sitzung"
    new = parser.parse_args(["kennzahlen", "--nach", "stadtbezirk", "--zeitraum", "year", "--ausgabe", "k.csv"])
    old = parser.parse_args(["indicators", "--by", "stadtbezirk", "--period", "year", "--out", "k.csv"])
    assert vars(new) == vars(old)


def test_the_english_names_run_the_same_command(tmp_path, base_export, capsys):
    db = str(tmp_path / "k.duckdb")
    assert main(["import", str(base_export), "--db", db]) == 0
    capsys.readouterr()
    assert main(["kennzahlen", "--db", db, "--nach", "stadtbezirk", "--format", "csv"]) == 0
    german = capsys.readouterr().out
    assert main(["indicators", "--db", db, "--by", "stadtbezirk", "--format", "csv"]) == 0
    assert capsys.readouterr().out == german and "Herne,Sodingen," in german
    assert main(["meeting", "create", "LK-1", "--db", db]) == 0 and main(["sitzung", "liste", "--db", db]) == 0
    assert "LK-1: eingefroren am" in capsys.readouterr().out
