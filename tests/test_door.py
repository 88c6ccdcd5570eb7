"""Safe at the door: every failure of ``kimtools import`` (and of the commands around it), run as a user runs it.

Each test calls the command with its arguments and checks the exit status, the German message and that the
store file is byte for byte what it was (SHA-256). Deliveries are written the way offices send them: cut off at
a line end, one provider's own export, Excel's "Unicode-Text", a binary file, a damaged store, another key.
Expected numbers come from reading the files with the csv module, not from kimtools.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import openpyxl
import pytest

from conftest import BASE, TEST_KEY, write_export
from kimtools import Store
from kimtools.cli import main

LATER = dict(BASE, faelle=BASE["faelle"] + "F3;PERS-0003;Herne;Wanne;CM1;01.05.2024;;;sonstige;teilhabe;ungeklaert;;;;\n")


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def german(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@pytest.fixture
def stored(tmp_path, capsys) -> Path:
    """A store holding the base export."""
    db = tmp_path / "kim.duckdb"
    assert run(capsys, "import", write_export(tmp_path / "base", BASE), "--db", db)[0] == 0
    return db


# --------------------------------------------------------------------------- deliveries that shrink the store
def _demo_rows(demo_export: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Case → kommune and case → provider from the demo's faelle.csv, and the lines of beratungen.csv."""
    with open(demo_export / "faelle.csv", encoding="utf-8-sig", newline="") as fh:
        cases = list(csv.DictReader(fh, delimiter=";"))
    lines = (demo_export / "beratungen.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    return {c["fall_id"]: c["kommune"] for c in cases}, {c["fall_id"]: c["traeger"] for c in cases}, lines


def _consultations_by_kommune(lines: list[str], kommune_of: dict[str, str]) -> Counter:
    return Counter(kommune_of[row["fall_id"]] for row in csv.DictReader(io.StringIO("".join(lines)), delimiter=";"))


@pytest.fixture(scope="module")
def cut_export(demo_export, tmp_path_factory) -> tuple[Path, Counter, Counter]:
    """The demo export with two thirds of beratungen.csv cut off at a line end; the counts before and after."""
    kommune_of, _, lines = _demo_rows(demo_export)
    folder = tmp_path_factory.mktemp("cut") / "lieferung"
    shutil.copytree(demo_export, folder)
    kept = lines[: len(lines) // 3]
    (folder / "beratungen.csv").write_text("".join(kept), encoding="utf-8-sig")
    return folder, _consultations_by_kommune(lines, kommune_of), _consultations_by_kommune(kept, kommune_of)


@pytest.fixture
def demo_copy(demo_store, tmp_path) -> Path:
    db = tmp_path / "kim.duckdb"
    shutil.copyfile(demo_store, db)
    return db


def test_a_cut_off_file_is_refused_with_what_would_change(cut_export, demo_copy, capsys):
    folder, before, after = cut_export
    old = digest(demo_copy)
    code, out, err = run(capsys, "import", folder, "--db", demo_copy)
    assert code == 1 and digest(demo_copy) == old
    assert "nichts wurde gespeichert" in err and "--erzwingen" in err and "Traceback" not in err
    gone = [k for k in before if after[k] == 0]
    partly = [k for k in before if 0 < after[k] < before[k]]
    assert gone and len(partly) == 1
    for k in gone:   # e.g. "Essen: beratungen.csv: 29.276 → 0 Zeilen (-100 %)", a no-break space before %
        assert f"{k}: beratungen.csv: {german(before[k])} → 0 Zeilen (-100\u00a0%)" in err
    k = partly[0]
    share = round(100 * (after[k] - before[k]) / before[k])
    assert f"{k}: beratungen.csv: {german(before[k])} → {german(after[k])} Zeilen ({share}\u00a0%)" in err


def test_a_dry_run_shows_the_same_and_stores_nothing(cut_export, demo_copy, demo_export, tmp_path, capsys):
    folder, before, after = cut_export
    old = digest(demo_copy)
    code, out, err = run(capsys, "import", folder, "--db", demo_copy, "--probelauf")
    assert code == 1 and digest(demo_copy) == old
    assert out.startswith("Probelauf – nichts wurde gespeichert.")
    k = next(k for k in before if after[k] == 0)
    assert f"{k}, beratungen.csv: {german(before[k])} → 0 Zeilen" in out
    assert "Der Import würde abgelehnt" in out and f"{k}: beratungen.csv: {german(before[k])} → 0 Zeilen" in out
    # a delivery that adds a case goes through, and still nothing is stored
    grown = tmp_path / "grown"
    shutil.copytree(demo_export, grown)
    with open(grown / "faelle.csv", "a", encoding="utf-8") as fh:
        fh.write("05916-F999999;05916-PER999999;Herne;Sodingen;05916-PAR01;01.09.2026;;;sonstige;teilhabe;ungeklaert;;;;\n")
    code, out, err = run(capsys, "import", grown, "--db", demo_copy, "--probelauf")
    assert code == 0 and "Fehler" not in err and digest(demo_copy) == old, err
    assert "Keine Auffälligkeiten" in out
    assert run(capsys, "import", demo_export, "--db", demo_copy, "--probelauf")[1].startswith("Unverändert")


def test_a_first_import_of_a_cut_off_file_is_refused_too(cut_export, tmp_path, capsys):
    folder, before, after = cut_export
    db = tmp_path / "neu.duckdb"
    code, out, err = run(capsys, "import", folder, "--db", db)
    assert code == 1 and not db.exists()
    k = next(k for k in before if after[k] == 0)
    assert f"{k}: beratungen.csv hat keine einzige Zeile für {k}, obwohl es Fälle gibt – Datei unvollständig?" in err


def test_one_providers_own_export_does_not_replace_the_kommune(demo_export, demo_copy, tmp_path, capsys):
    """Herne's export from one of its providers: the other providers' cases would vanish."""
    kommune_of, provider_of, _ = _demo_rows(demo_export)
    herne = {c: p for c, p in provider_of.items() if kommune_of[c] == "Herne"}
    per_provider = Counter(herne.values())
    mine = sorted(per_provider)[0]
    folder = tmp_path / "traeger"
    folder.mkdir()
    for name in ("faelle", "beratungen", "vermittlungen", "statuswechsel", "stellen", "partner"):
        text = (demo_export / f"{name}.csv").read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        head = rows[0]
        keep = {"faelle": lambda r: r[head.index("fall_id")] in herne and herne[r[head.index("fall_id")]] == mine,
                "stellen": lambda r: r[head.index("traeger")] == mine,
                "partner": lambda r: r[head.index("kommune")] == "Herne"}.get(
            name, lambda r: herne.get(r[head.index("fall_id")]) == mine)
        buf = io.StringIO()
        csv.writer(buf, delimiter=";", lineterminator="\n").writerows([head] + [r for r in rows[1:] if keep(r)])
        (folder / f"{name}.csv").write_text(buf.getvalue(), encoding="utf-8")
    old = digest(demo_copy)
    code, out, err = run(capsys, "import", folder, "--db", demo_copy)
    assert code == 1 and digest(demo_copy) == old
    total = sum(per_provider.values())
    share = round(100 * (per_provider[mine] - total) / total)
    assert f"Herne: faelle.csv: {german(total)} → {german(per_provider[mine])} Zeilen ({share}\u00a0%)" in err
    for other, n in per_provider.items():
        if other != mine:
            assert f"Herne: Träger {other}: {german(n)} Fälle → keiner" in err
    # forced, it goes through and says so (the import log records it)
    assert run(capsys, "import", folder, "--db", demo_copy, "--erzwingen")[0] == 0
    log = Store(demo_copy).import_log()
    assert bool(log.iloc[0]["erzwungen"]) and log.iloc[0]["n_faelle"] == per_provider[mine]


# --------------------------------------------------------------------------- files that are not what they claim
def test_excel_unicode_text_utf16_with_tabs_reads_as_utf8(tmp_path, capsys):
    """Excel's "Unicode-Text": UTF-16 LE with byte-order mark and tabs. Also UTF-32. Same store as from UTF-8."""
    tabbed = {k: v.replace(";", "\t") for k, v in BASE.items()}
    results = []
    for name, files, encoding in (("utf8", BASE, "utf-8"), ("utf16", tabbed, "utf-16"), ("utf32", BASE, "utf-32")):
        db = tmp_path / f"{name}.duckdb"
        source = write_export(tmp_path / name, files, encoding)
        code, out, err = run(capsys, "import", source, "--db", db)
        assert code == 0, err
        results.append({t: Store(db).table(t).sort_values(["kommune"] + list(Store(db).table(t).columns[1:2])).reset_index(drop=True)
                        for t in ("faelle", "beratungen", "vermittlungen", "partner", "stellen", "statuswechsel")})
    for other in results[1:]:
        for table, frame in results[0].items():
            assert other[table].equals(frame), table
    assert "Ausländerbehörde Herne" in results[1]["partner"]["name"].tolist()


@pytest.mark.parametrize("name, data, says", [
    ("random bytes", os.urandom(4096) + b"\0", "Null-Bytes: sie ist keine Textdatei"),
    ("a workbook named .csv", b"PK\x03\x04" + b"\x14\x00" * 200, "Excel-Arbeitsmappe (XLSX) oder ein ZIP-Archiv"),
    ("control characters", b"beratung_id;fall_id\n" + bytes(range(1, 9)) * 50, "Steuerzeichen"),
])
def test_a_binary_file_is_refused(stored, tmp_path, capsys, name, data, says):
    source = write_export(tmp_path / "bin", LATER)
    (source / "beratungen.csv").write_bytes(data)
    old = digest(stored)
    code, out, err = run(capsys, "import", source, "--db", stored)
    assert code == 1 and digest(stored) == old
    assert "beratungen.csv" in err and says in err
    assert "Traceback" not in err


def test_a_stray_windows_byte_in_utf8_is_reported_with_line_and_byte(stored, tmp_path, capsys):
    """UTF-8 throughout, one name pasted from a Windows program: reported, not decoded as Windows-1252."""
    source = write_export(tmp_path / "mixed", LATER)
    text = (source / "partner.csv").read_bytes().replace("Ausländerbehörde".encode(), "Ausländerbeh".encode() + b"\xf6rde")
    (source / "partner.csv").write_bytes(text)
    offset = text.index(b"\xf6rde")
    old = digest(stored)
    code, out, err = run(capsys, "import", source, "--db", stored)
    assert code == 1 and digest(stored) == old
    assert f"partner.csv, Zeile 4, Wert '0xF6': Byte {offset} (0xF6) ist kein gültiges UTF-8" in err
    assert "gemischte Kodierung" in err and "AuslÃ" not in err


def test_an_unclosed_quote_swallowing_the_file_never_shows_a_person_id(stored, tmp_path, capsys):
    """A quote left open takes the rest of the file into one field: the row is refused, no person_id shown."""
    source = write_export(tmp_path / "quote", LATER)
    text = (source / "faelle.csv").read_text()
    (source / "faelle.csv").write_text(text.replace("F2;PERS-0002;", 'F2;"PERS-0002;'))
    old = digest(stored)
    code, out, err = run(capsys, "import", source, "--db", stored)
    assert code == 1 and digest(stored) == old
    assert "faelle.csv, Zeile 3, Wert '(nicht angezeigt);(nicht angezeigt)': Die Zeile hat nur 2 Felder" in err
    assert "PERS-" not in err and "Traceback" not in err


def test_an_over_long_field_is_refused_with_its_length(stored, tmp_path, capsys):
    source = write_export(tmp_path / "long", dict(LATER, partner=LATER["partner"].replace("Jobcenter Herne", "J" * 2001)))
    old = digest(stored)
    code, out, err = run(capsys, "import", source, "--db", stored)
    assert code == 1 and digest(stored) == old
    assert "partner.csv, Zeile 3, Spalte name, Wert '(2001 Zeichen)': Das Feld ist länger als 2.000 Zeichen" in err
    ok = write_export(tmp_path / "ok", dict(LATER, partner=LATER["partner"].replace("Jobcenter Herne", "J" * 2000)))
    assert run(capsys, "import", ok, "--db", stored)[0] == 0


def test_a_semicolon_inside_a_multivalued_cell_never_shows_the_person_id(tmp_path, capsys):
    """The row cannot be parsed and is echoed; its person_id field (and where it may have moved) is hidden,
    in the message and in the provider's error report."""
    files = dict(BASE, faelle=BASE["faelle"].replace("sprache,wohnen", "sprache;wohnen").replace("F2;PERS-0002", "F;2;PERS-0002"))
    report = tmp_path / "bericht.xlsx"
    code, out, err = run(capsys, "import", write_export(tmp_path / "semi", files), "--db", tmp_path / "k.duckdb",
                         "--fehlerbericht", report)
    assert code == 1
    assert "faelle.csv, Zeile 2, Wert 'F1;(nicht angezeigt);(nicht angezeigt);Herne-Mitte;CM1;" in err
    assert "Die Zeile hat 16 Felder, die Kopfzeile nur 15" in err
    cells = [str(c) for row in openpyxl.load_workbook(report).active.values for c in row]
    assert "PERS-" not in err + out and not any("PERS-" in c for c in cells)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_a_row_with_too_few_fields_that_misses_required_columns(tmp_path, capsys):
    files = dict(BASE, beratungen=BASE["beratungen"].replace("B2;F2;20.03.2024;30;telefonisch;arbeit", "B2;F2"))
    code, out, err = run(capsys, "import", write_export(tmp_path / "short", files), "--db", tmp_path / "k.duckdb")
    assert code == 1
    assert "beratungen.csv, Zeile 3, Wert 'B2;F2': Die Zeile hat nur 2 Felder, die Kopfzeile 6" in err


# --------------------------------------------------------------------------- stores that are not what they claim
def _half(stored: Path) -> bytes:
    return stored.read_bytes()[: stored.stat().st_size // 2]


def _foreign(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE kunden AS SELECT 1 AS id")
    con.close()


def _sqlite(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()


@pytest.mark.parametrize("kind, make, says", [
    ("corrupt", lambda p, s: p.write_bytes(os.urandom(300_000)), "keine DuckDB-Datei"),
    ("empty", lambda p, s: p.write_bytes(b""), "ist leer (0 Bytes)"),
    ("half-copied", lambda p, s: p.write_bytes(_half(s)), "beschädigt oder unvollständig kopiert"),
    ("foreign DuckDB", lambda p, s: _foreign(p), "aber kein kimtools-Datenbestand"),
    ("SQLite", lambda p, s: _sqlite(p), "ist eine SQLite-Datenbank"),
])
def test_a_damaged_or_foreign_store_is_refused_and_left_as_it_is(stored, tmp_path, capsys, kind, make, says):
    db = tmp_path / "kaputt.duckdb"
    make(db, stored)
    old = digest(db)
    source = write_export(tmp_path / "later", LATER)
    for args in (["import", source], ["info"], ["indicators"], ["export", "--kommune", "Herne", "--out", tmp_path / "p"]):
        code, out, err = run(capsys, *args, "--db", db)
        assert code == 1, (args, out, err)
        assert says in err and str(db) in err and "Traceback" not in err, err
        assert digest(db) == old
    assert not list(tmp_path.glob(".kaputt.duckdb.*.tmp*"))


def test_db_pointing_at_a_folder(tmp_path, base_export, capsys):
    folder = tmp_path / "ordner"
    folder.mkdir()
    for args in (["import", base_export], ["info"]):
        code, out, err = run(capsys, *args, "--db", folder)
        assert code == 1 and f"{folder} ist ein Ordner" in err
    assert list(folder.iterdir()) == []


def test_english_messages(tmp_path, base_export, capsys):
    db = tmp_path / "leer.duckdb"
    db.write_bytes(b"")
    code, out, err = run(capsys, "import", base_export, "--db", db, "--lang", "en")
    assert code == 1 and "is empty (0 bytes)" in err and "Nothing was changed" in err


# --------------------------------------------------------------------------- rights and modes
def test_a_store_marked_read_only_is_refused_also_for_root(stored, tmp_path, capsys):
    stored.chmod(0o444)
    old = digest(stored)
    code, out, err = run(capsys, "import", write_export(tmp_path / "later", LATER), "--db", stored)
    assert code == 1 and digest(stored) == old
    assert f"Der Datenbestand {stored} ist schreibgeschützt (Modus 444)" in err


def test_a_read_only_folder_is_refused(stored, tmp_path, capsys):
    source = write_export(tmp_path / "later", LATER)
    old = digest(stored)
    stored.parent.chmod(0o555)
    try:
        code, out, err = run(capsys, "import", source, "--db", stored)
    finally:
        stored.parent.chmod(0o755)
    assert code == 1 and digest(stored) == old
    assert f"Der Ordner {stored.parent} ist schreibgeschützt" in err


def test_files_are_created_for_the_owner_only_and_a_stores_mode_is_kept(tmp_path, capsys):
    db = tmp_path / "kim.duckdb"
    assert run(capsys, "import", write_export(tmp_path / "base", BASE), "--db", db)[0] == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / ".kim.duckdb.lock").stat().st_mode) == 0o600
    db.chmod(0o640)   # the city lets the dashboards' service group read it
    assert run(capsys, "import", write_export(tmp_path / "later", LATER), "--db", db)[0] == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
    assert len(Store(db).table("faelle")) == 3
    out = tmp_path / "k.csv"
    assert run(capsys, "indicators", "--db", db, "--format", "csv", "--out", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_missing_output_folders_are_created_and_said(stored, tmp_path, capsys):
    report = tmp_path / "neu" / "berichte" / "fehler.xlsx"
    files = dict(BASE, beratungen=BASE["beratungen"].replace(";45;", ";601;"))
    code, out, err = run(capsys, "import", write_export(tmp_path / "bad", files), "--db", stored, "--fehlerbericht", report)
    assert code == 1 and report.exists()
    assert f"Ordner {report.parent} angelegt." in err
    table = tmp_path / "fehlt" / "kennzahlen.xlsx"
    code, out, err = run(capsys, "indicators", "--db", stored, "--format", "xlsx", "--out", table)
    assert code == 0 and table.exists() and f"Ordner {table.parent} angelegt." in err


# --------------------------------------------------------------------------- a full disk
@pytest.fixture
def small_disk(tmp_path):
    """Mounts a tmpfs of a given size in bytes (needs root and mount; skipped elsewhere)."""
    mounted = []

    def mount(size: int) -> Path:
        where = tmp_path / "klein"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_refused_before_and_during_the_import(stored, small_disk, tmp_path, capsys, monkeypatch):
    """A disk with room for the store and half a megabyte more: not for the import's copy."""
    disk = small_disk(stored.stat().st_size + 2**19)
    db = disk / "kim.duckdb"
    shutil.copyfile(stored, db)
    source = write_export(tmp_path / "later", LATER)
    old = digest(db)
    code, out, err = run(capsys, "import", source, "--db", db)
    assert code == 1 and digest(db) == old
    assert f"Zu wenig Platz auf dem Datenträger von {disk}: frei sind" in err and "kimtools braucht dafür etwa" in err
    # the check passed (it cannot see everything), the disk fills during the copy: the same message, nothing left
    import kimtools.store as store_module

    monkeypatch.setattr(store_module.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**12, 0, 10**12))
    code, out, err = run(capsys, "import", source, "--db", db)
    assert code == 1 and digest(db) == old, err
    assert f"Zu wenig Platz auf dem Datenträger von {disk}" in err and "Traceback" not in err
    assert sorted(p.name for p in disk.iterdir()) == [".kim.duckdb.lock", "kim.duckdb"]


# --------------------------------------------------------------------------- the pseudonymisation key
def test_an_import_under_another_key_is_refused(stored, tmp_path, capsys, monkeypatch):
    source = write_export(tmp_path / "later", LATER)
    old = digest(stored)
    monkeypatch.setenv("KIMTOOLS_KEY", "ein-ganz-anderer-schluessel-0123456789")
    code, out, err = run(capsys, "import", source, "--db", stored)
    assert code == 1 and digest(stored) == old
    assert "mit einem anderen Pseudonymisierungsschlüssel angelegt" in err and "--neuer-schluessel" in err
    assert TEST_KEY not in err and "ein-ganz-anderer" not in err
    code, out, err = run(capsys, "import", source, "--db", stored, "--neuer-schluessel")
    assert code == 0, err
    log = Store(stored).import_log()
    assert bool(log.iloc[0]["neuer_schluessel"]) and not bool(log.iloc[1]["neuer_schluessel"])
    assert log.iloc[0]["schluessel"] != log.iloc[1]["schluessel"] and len(log.iloc[0]["schluessel"]) == 16
    assert TEST_KEY.encode() not in stored.read_bytes()


def test_a_missing_key_file_is_not_silently_replaced(stored, tmp_path, capsys, monkeypatch):
    """The second machine, or after a reinstall: the store was made with a key file that is not there."""
    monkeypatch.delenv("KIMTOOLS_KEY")
    key_file = tmp_path / "config" / "pseudonym.key"
    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(key_file))
    old = digest(stored)
    code, out, err = run(capsys, "import", write_export(tmp_path / "later", LATER), "--db", stored)
    assert code == 1 and digest(stored) == old and not key_file.exists()
    assert f"({key_file}, fehlt)" in err and f"Sicherung der Schlüsseldatei nach {key_file} kopieren" in err


def test_a_first_import_creates_the_key_file_and_says_so(tmp_path, base_export, capsys, monkeypatch):
    monkeypatch.delenv("KIMTOOLS_KEY")
    key_file = tmp_path / "config" / "pseudonym.key"
    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(key_file))
    code, out, err = run(capsys, "import", base_export, "--db", tmp_path / "k.duckdb")
    assert code == 0 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"Neuer Pseudonymisierungsschlüssel angelegt: {key_file}. Bitte sicher aufbewahren" in err
    assert key_file.read_text().strip() not in err
    code, out, err = run(capsys, "import", write_export(tmp_path / "later", LATER), "--db", tmp_path / "k.duckdb")
    assert code == 0 and "Neuer Pseudonymisierungsschlüssel" not in err


# --------------------------------------------------------------------------- killed imports
def test_a_killed_import_leaves_nothing_the_next_import_does_not_remove(demo_export, tmp_path, capsys):
    """A real import killed (SIGKILL) while it writes its copy; the next import removes the copy and says so."""
    db = tmp_path / "kim.duckdb"
    assert run(capsys, "import", write_export(tmp_path / "base", BASE), "--db", db)[0] == 0
    old = digest(db)
    exe = os.path.join(os.path.dirname(sys.executable), "kimtools")
    proc = subprocess.Popen([exe, "import", str(demo_export), "--db", str(db), "--erzwingen"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ))
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".kim.duckdb.*.tmp")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the import ended before it could be killed"
    proc.send_signal(signal.SIGKILL)   # its copy exists; writing the demo into it takes seconds more
    proc.wait(timeout=60)
    assert digest(db) == old
    left = list(tmp_path.glob(".kim.duckdb.*.tmp*"))
    assert left, "the killed import left no copy (nothing to test)"
    code, out, err = run(capsys, "import", write_export(tmp_path / "later", LATER), "--db", db)
    assert code == 0, err
    for path in left:
        assert f"Reste eines abgebrochenen Imports entfernt: {path}" in err and not path.exists()


# --------------------------------------------------------------------------- the last line of defence
def test_an_unexpected_error_is_a_message_not_a_traceback(stored, capsys, monkeypatch):
    import kimtools.cli.stored as stored_commands

    def boom(args):
        raise RuntimeError("kaputt: PERS-0001")

    monkeypatch.setattr(stored_commands, "cmd_info", boom)
    code, out, err = run(capsys, "info", "--db", stored)
    assert code == 1 and "unerwarteter Fehler (RuntimeError)" in err
    assert "Traceback" not in err and "PERS-0001" not in err


# --------------------------------------------------------------------------- deletion
def test_deleting_a_provider_and_a_kommune(stored, tmp_path, capsys):
    """Herne with a second provider CM2 (case F3 with a consultation and a post): delete CM2, then Herne."""
    files = dict(BASE)
    files["partner"] += "CM2;Herne;AWO Herne;wohlfahrtsverband;;ja;Sodingen\n"
    files["faelle"] += "F3;PERS-0003;Herne;Wanne;CM2;01.05.2024;;;sonstige;teilhabe;ungeklaert;;;;\n"
    files["beratungen"] += "B3;F3;02.05.2024;20;persoenlich;teilhabe\n"
    files["stellen"] += "CM2;Sodingen;0,5;01.01.2024;\n"
    assert run(capsys, "import", write_export(tmp_path / "two", files), "--db", stored)[0] == 0
    old = digest(stored)
    code, out, err = run(capsys, "loeschen", "--kommune", "Herne", "--traeger", "CM2", "--db", stored)
    assert code == 0 and digest(stored) == old and "faelle: 1" in out and "beratungen: 1" in out and "stellen: 1" in out
    code, out, err = run(capsys, "loeschen", "--kommune", "Herne", "--traeger", "CM2", "--ja", "--db", stored)
    assert code == 0 and "Gelöscht (Herne, Träger CM2): 1 Fälle" in out
    s = Store(stored)
    assert sorted(s.table("faelle")["fall_id"]) == ["F1", "F2"] and sorted(s.table("beratungen")["beratung_id"]) == ["B1", "B2"]
    assert s.table("stellen")["traeger"].tolist() == ["CM1"]
    assert sorted(s.query("SELECT DISTINCT traeger FROM fallgruppen")["traeger"]) == ["CM1"]   # derived tables too
    assert s.import_log().iloc[0]["quelle"] == "Löschung Träger CM2"
    code, out, err = run(capsys, "loeschen", "--kommune", "Herne", "--ja", "--db", stored)
    assert code == 0 and Store(stored).kommunen() == []
    for table in ("faelle", "beratungen", "vermittlungen", "partner", "stellen", "statuswechsel", "bezirke",
                  "fallzellen", "datenqualitaet"):
        assert Store(stored).query(f"SELECT count(*) n FROM {table}")["n"][0] == 0, table
    assert b"Caritas Herne" not in stored.read_bytes()


def test_a_truncated_workbook_is_refused(tmp_path, base_export, capsys):
    """An .xlsx cut off while being copied (the first half of a real workbook), and a CSV file named .xlsx."""
    import pandas as pd

    book = tmp_path / "lieferung.xlsx"
    with pd.ExcelWriter(book) as writer:
        for name in ("faelle", "beratungen", "vermittlungen", "partner"):
            pd.read_csv(base_export / f"{name}.csv", sep=";", dtype=str).to_excel(writer, sheet_name=name, index=False)
    half = tmp_path / "halb.xlsx"
    half.write_bytes(book.read_bytes()[: book.stat().st_size // 2])
    fake = tmp_path / "falsch.xlsx"
    fake.write_bytes((base_export / "faelle.csv").read_bytes())
    for source in (half, fake):
        code, out, err = run(capsys, "import", source, "--db", tmp_path / "k.duckdb")
        assert code == 1 and f"{source} ist keine lesbare XLSX-Arbeitsmappe" in err and "Traceback" not in err
        assert not (tmp_path / "k.duckdb").exists()
    assert run(capsys, "import", book, "--db", tmp_path / "k.duckdb")[0] == 0


def test_a_store_with_a_damaged_block_is_refused(demo_store, tmp_path, base_export, capsys):
    """The file opens, but a block of it was overwritten (a disk error): DuckDB finds the checksum wrong."""
    db = tmp_path / "kim.duckdb"
    data = bytearray(demo_store.read_bytes())
    third = len(data) // 3
    data[third: third + 2_000_000] = bytes(2_000_000)
    db.write_bytes(bytes(data))
    old = digest(db)
    for args in (["info"], ["indicators"], ["import", base_export, "--erzwingen"]):
        code, out, err = run(capsys, *args, "--db", db)
        assert code == 1, (args, err)
        assert f"Der Datenbestand {db} lässt sich nicht lesen: er ist beschädigt" in err and "Traceback" not in err
        assert digest(db) == old
    assert not list(tmp_path.glob(".kim.duckdb.*.tmp*"))


def test_a_file_cut_off_in_the_middle_of_a_line(stored, tmp_path, capsys):
    source = write_export(tmp_path / "mitten", LATER)
    text = (source / "faelle.csv").read_text()
    (source / "faelle.csv").write_text(text[: text.rindex("\n", 0, len(text) - 1) + 25])   # F3's line, 24 characters
    old = digest(stored)
    code, out, err = run(capsys, "import", source, "--db", stored)
    assert code == 1 and digest(stored) == old
    assert "faelle.csv, Zeile 4, Wert '(nicht angezeigt);(nicht angezeigt);Herne;Wanne': Die Zeile hat nur 4 Felder" in err
    assert "Datei abgeschnitten?" in err and "PERS-0003" not in err


def test_deleting_what_is_not_there(stored, capsys):
    for args in (["loeschen", "--kommune", "Bochum"], ["loeschen", "--kommune", "Bochum", "--ja"]):
        code, out, err = run(capsys, *args, "--db", stored)
        assert code == 1 and "Bochum ist nicht im Datenbestand" in err and "dort sind: Herne" in err
    code, out, err = run(capsys, "loeschen", "--kommune", "Herne", "--traeger", "CM9", "--ja", "--db", stored)
    assert code == 1 and "Herne hat keine Fälle und Stellen des Trägers CM9" in err
    assert len(Store(stored).table("faelle")) == 2


def test_a_key_file_created_by_a_failed_first_import_is_announced(tmp_path, capsys, monkeypatch):
    """The key is made before the export is read; when the import then fails, the key file stays (it is the
    store's key from now on) and the message says so, since a later import will not create it again."""
    monkeypatch.delenv("KIMTOOLS_KEY")
    key_file = tmp_path / "config" / "pseudonym.key"
    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(key_file))
    files = dict(BASE, beratungen=BASE["beratungen"].replace(";45;", ";601;"))
    code, out, err = run(capsys, "import", write_export(tmp_path / "bad", files), "--db", tmp_path / "k.duckdb")
    assert code == 1 and key_file.exists() and f"Neuer Pseudonymisierungsschlüssel angelegt: {key_file}" in err
    code, out, err = run(capsys, "import", write_export(tmp_path / "ok", BASE), "--db", tmp_path / "k.duckdb")
    assert code == 0 and "Neuer Pseudonymisierungsschlüssel" not in err
