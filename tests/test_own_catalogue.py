"""An installation's own indicators and target groups: one file, written by a coordinator, no Python (issue 37).

Everything goes through the command as a coordinator runs it, with ``KIMTOOLS_KATALOG`` naming the file. The
export is written by hand; every expected value below is worked out from it here.

Herne, 2025 (age = 2025 − year of birth):

====  ================  ==========  ==========  ==============  ====  ===
case  target group      begun       ended       closure reason  born  age
====  ================  ==========  ==========  ==============  ====  ===
F1    junge_erwachsene  10.01.2025  20.02.2025  abbruch         2003  22
F2    junge_erwachsene  15.01.2025  10.03.2025  ziel_erreicht   2000  25
F3    erstintegration   01.02.2025  31.03.2025  abbruch         1998  27
F4    erstintegration   01.03.2025  01.04.2025  abbruch         1997  28
F5    Junge Erwachsene  10.03.2025  –           –               2005  20
      18–27 (the label)
F6    sonstige          20.03.2025  31.03.2025  wegzug          1970  55
====  ================  ==========  ==========  ==============  ====  ===

* Q1 closures: F1, F2, F3 (on the quarter's last day), F6 → 4, of them drop-outs F1, F3 → drop-out rate 2/4 = 0.5,
  Wilson 95 %: p = 0.5, z² = 3.8415: centre 0.5, half-width 1.96·√(0.0625 + 3.8415/64) / (1 + 3.8415/4) = 0.350 →
  [0.150, 0.850]. Q2: F4 (01.04., the day after) → 1 of 1 → 1.0.
* New cases aged 18–27 in Q1: F1 (22), F2 (25), F3 (27, the upper bound), F5 (20) → 4; F4 (28) is one year too old.
* New cases by target group, Q1: junge_erwachsene F1, F2, F5 → 3 (F5 given by its label); erstintegration 2; sonstige 1.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE, write_export

OWN = """\
[zielgruppen]
junge_erwachsene = { de = "Junge Erwachsene 18–27", en = "young adults 18–27" }

[abbruchquote]
de = "Abbruchquote"
en = "drop-out rate"
definition_de = "Anteil der Abschlüsse in P mit Abschlussgrund Abbruch."
definition_en = "Share of the closures in P that ended as drop-out."
zaehler = { zaehlt = "abschluesse", abschlussgrund = ["abbruch"] }
nenner = { zaehlt = "abschluesse" }
intervall = "wilson"

[neuzugaenge_18_27]
de = "Neuzugänge 18 bis 27 Jahre"
en = "new cases aged 18 to 27"
definition_de = "Fälle mit Beginn in P, deren Person im Jahr des Beginns 18 bis 27 Jahre alt wird."
definition_en = "Cases begun in P whose person turns 18 to 27 in the year the case began."
zaehler = { zaehlt = "neuzugaenge", alter = [18, 27] }
"""

CASES = """\
fall_id;person_id;kommune;stadtbezirk;traeger;beginn;ende;abschlussgrund;zielgruppe;handlungsfelder;aufenthaltsstatus;zugang_ueber;geschlecht;geburtsjahr;haushalt_personen
F1;P1;Herne;Herne-Mitte;CM1;10.01.2025;20.02.2025;abbruch;junge_erwachsene;sprache;duldung;;w;2003;1
F2;P2;Herne;Herne-Mitte;CM1;15.01.2025;10.03.2025;ziel_erreicht;junge_erwachsene;arbeit;duldung;;m;2000;1
F3;P3;Herne;Sodingen;CM1;01.02.2025;31.03.2025;abbruch;erstintegration;arbeit;duldung;;w;1998;2
F4;P4;Herne;Sodingen;CM1;01.03.2025;01.04.2025;abbruch;erstintegration;wohnen;duldung;;m;1997;1
F5;P5;Herne;Herne-Mitte;CM1;10.03.2025;;;Junge Erwachsene 18–27;sprache;duldung;;w;2005;1
F6;P6;Herne;Sodingen;CM1;20.03.2025;31.03.2025;wegzug;sonstige;wohnen;duldung;;m;1970;4
"""


def _export(tmp_path: Path) -> Path:
    files = dict(BASE, faelle=CASES,
                 beratungen="beratung_id;fall_id;datum;dauer_min;form;handlungsfeld\nB1;F1;12.01.2025;45;persoenlich;sprache\n",
                 vermittlungen="vermittlung_id;fall_id;datum;an_partner;handlungsfeld;status;erstkontakt;luecke\n",
                 statuswechsel="fall_id;datum;nach_status\n")
    return write_export(tmp_path / "export", files)


def _kimtools(*args: str, katalog: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KIMTOOLS_KATALOG"}
    if katalog is not None:
        env["KIMTOOLS_KATALOG"] = str(katalog)
    exe = os.path.join(os.path.dirname(sys.executable), "kimtools")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, env=env)


def _rows(out: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(out)))


def _value(rows, kennzahl, column, **where) -> str:
    hit = [r for r in rows if r["kennzahl"] == kennzahl and all(r[k] == v for k, v in where.items())]
    assert len(hit) == 1, (kennzahl, where, hit)
    return hit[0][column]


def _number(text: str) -> float:
    return float(text.replace(",", "."))


@pytest.fixture
def own(tmp_path: Path) -> Path:
    path = tmp_path / "meine-kennzahlen.toml"
    path.write_text(OWN, encoding="utf-8")
    return path


def test_a_coordinators_own_indicators_and_target_group_from_one_file(tmp_path, own):
    db = str(tmp_path / "kim.duckdb")
    # without the file the target group is not known: the import refuses it and stores nothing
    refused = _kimtools("import", str(_export(tmp_path)), "--db", db, katalog=None)
    assert refused.returncode == 1 and "junge_erwachsene" in refused.stdout + refused.stderr
    done = _kimtools("import", str(_export(tmp_path)), "--db", db, katalog=own)
    assert done.returncode == 0, done.stderr
    table = _kimtools("kennzahlen", "--db", db, "--format", "csv", katalog=own)
    assert table.returncode == 0, table.stderr
    rows = _rows(table.stdout)
    assert {r["kennzahl"] for r in rows} >= {"abbruchquote", "neuzugaenge_18_27", "neuzugaenge"}
    q1 = {"zeitraum": "2025-Q1"}
    assert (_value(rows, "abbruchquote", "zaehler", **q1), _number(_value(rows, "abbruchquote", "nenner", **q1))) == ("2", 4)
    assert _number(_value(rows, "abbruchquote", "wert", **q1)) == pytest.approx(0.5)
    assert _number(_value(rows, "abbruchquote", "ki_unten", **q1)) == pytest.approx(0.150, abs=1e-3)
    assert _number(_value(rows, "abbruchquote", "ki_oben", **q1)) == pytest.approx(0.850, abs=1e-3)
    assert _number(_value(rows, "abbruchquote", "wert", zeitraum="2025-Q2")) == pytest.approx(1.0)
    assert _value(rows, "neuzugaenge_18_27", "zaehler", **q1) == "4"
    by_group = _rows(_kimtools("kennzahlen", "--db", db, "--format", "csv", "--merkmal", "zielgruppe", katalog=own).stdout)
    assert {g: _value(by_group, "neuzugaenge", "zaehler", auspraegung=g, **q1)
            for g in ("junge_erwachsene", "erstintegration", "sonstige")} == {
        "junge_erwachsene": "3", "erstintegration": "2", "sonstige": "1"}
    # the catalogue shows them, marked as the installation's own, with the count described from the declaration
    catalogue = _kimtools("kennzahlen", "--katalog", katalog=own)
    assert catalogue.returncode == 0, catalogue.stderr
    assert "## Abbruchquote (`abbruchquote`) – eigene Kennzahl" in catalogue.stdout
    assert "Fälle mit Ende in P (abschlussgrund ∈ {abbruch})" in catalogue.stdout


def test_errors_in_the_file_are_named_all_at_once_and_nothing_is_computed(tmp_path, own):
    bad = tmp_path / "fehler.toml"
    bad.write_text(OWN + """
[annahmequote]
de = "x"
en = "x"
definition_de = "x"
definition_en = "x"
zaehler = { zaehlt = "vermittlungen" }

[warteliste_quote]
de = "Wartelistenquote"
en = "waiting-list rate"
definition_de = "x"
definition_en = "x"
zaehler = { zaehlt = "warteliste" }

[fruehe_abbrueche]
de = "Frühe Abbrüche"
en = "early drop-outs"
definition_de = "x"
definition_en = "x"
zaehler = { zaehlt = "abschluesse", abbruchgrund = ["abbruch"] }
""", encoding="utf-8")
    db = str(tmp_path / "kim.duckdb")
    done = _kimtools("kennzahlen", "--db", db, katalog=bad)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    # each entry with its name and the fix, in one message
    assert "[annahmequote]: eine mitgelieferte Kennzahl heißt schon so" in done.stderr
    assert "[warteliste_quote]: zaehler.zaehlt = 'warteliste' ist keine Grundzählung" in done.stderr
    assert "[fruehe_abbrueche]: zaehler filtert nach unbekannter Spalte 'abbruchgrund'" in done.stderr
    english = _kimtools("kennzahlen", "--db", db, "--lang", "en", katalog=bad)
    assert "[warteliste_quote]: zaehler.zaehlt = 'warteliste' is no base count" in english.stderr


#: local declarations with every kind of filter, for both routes (values that occur in the fixture store)
EVERY_KIND = """
[zielgruppen]
junge_erwachsene = "Junge Erwachsene 18–27"
""" + "".join(f"""
[{code}]
de = "{code}"
en = "{code}"
definition_de = "Prüfeintrag."
definition_en = "Test entry."
{body}
""" for code, body in {
    "abbruchquote": 'zaehler = { zaehlt = "abschluesse", abschlussgrund = ["abbruch"] }\nnenner = { zaehlt = "abschluesse" }\nintervall = "wilson"',
    "neu_18_27": 'zaehler = { zaehlt = "neuzugaenge", alter = [18, 27] }',
    "offen_sprache": 'zaehler = { zaehlt = "faelle_offen", handlungsfelder = ["sprache"] }',
    "offen_geduldet_w": 'zaehler = { zaehlt = "faelle_offen", aufenthaltsstatus = ["duldung"], geschlecht = ["w"] }',
    "personen_erstintegration": 'zaehler = { zaehlt = "personen_erreicht", zielgruppe = ["erstintegration"] }',
    "aktiv_frauen": 'zaehler = { zaehlt = "faelle_aktiv", geschlecht = ["w"] }',
    "telefonisch_je_fall": 'zaehler = { zaehlt = "beratungen", form = ["telefonisch"] }\nnenner = { zaehlt = "faelle_aktiv" }',
    "beratungen_arbeit": 'zaehler = { zaehlt = "beratungen", beratung_handlungsfeld = ["arbeit"] }',
    "wartelistenquote": 'zaehler = { zaehlt = "vermittlungen", status = ["warteliste"] }\nnenner = { zaehlt = "vermittlungen", ergebnis = ["beantwortet"] }\nintervall = "wilson"',
    "luecken_wartezeit": 'zaehler = { zaehlt = "vermittlungen", luecke = ["wartezeit"] }',
    "vermittlungen_arbeit_erstintegration": 'zaehler = { zaehlt = "vermittlungen", handlungsfeld = ["arbeit"], zielgruppe = ["erstintegration"] }',
    "vermittlungen_je_fall": 'zaehler = { zaehlt = "vermittlungen" }\nnenner = { zaehlt = "faelle_aktiv" }\nfaktor = 100',
}.items())

BOTH_ROUTES = r'''
import gzip, shutil, sys
from pathlib import Path
import pandas as pd
from kimtools.contract.catalogue import CATALOGUE
from kimtools.indicators import indicator_table, table
from kimtools.indicators.cells import answered_by_cells
from kimtools.ingest.importer import bring_derived_up_to_date
from kimtools.store import Store

path = Path(sys.argv[2])
with gzip.open(sys.argv[1], "rb") as src, open(path, "wb") as dst:
    shutil.copyfileobj(src, dst)
store = Store(path)
assert bring_derived_up_to_date(store)
local = [c for c, e in CATALOGUE.items() if e.herkunft != "kennzahlen.toml"]
assert len(local) == 12, local
cells = [c for c, e in CATALOGUE.items() if answered_by_cells(e)]
calls = [dict(by=b, period=p, merkmal=m, kennzahlen=k) for b in ("kommune", "stadtbezirk", "traeger")
         for p in ("month", "quarter", "year") for m in (None, "zielgruppe") for k in (cells, None)]
calls += [dict(by="kommune", period="year", merkmal=m) for m in ("handlungsfeld", "altersgruppe", "an_partner", "luecke")]
got = [indicator_table(store, **c) for c in calls]
assert table._cell_counts(store, "kommune", "quarter", None, None, {}, cells) is not None
assert table._cell_referrals(store, "kommune", "quarter", None, None, {}, cells) is not None
table._cell_counts = table._cell_referrals = lambda *a: None
for c, g in zip(calls, got):
    pd.testing.assert_frame_equal(g, indicator_table(store, **c))
assert set(local) <= set(got[0]["kennzahl"])
print("rows", sum(len(g) for g in got), "local rows", sum(g["kennzahl"].isin(local).sum() for g in got))
'''


def test_every_entry_shipped_and_local_is_the_same_by_both_routes(tmp_path):
    """The cells (generated from the declarations, local ones included) and the pass over every case give equal
    tables for every entry of the catalogue, by kommune, district and provider, month, quarter and year, with and
    without the target groups as breakdown; the breakdowns the cells do not hold go by the pass alone."""
    katalog = tmp_path / "alle.toml"
    katalog.write_text(EVERY_KIND, encoding="utf-8")
    script = tmp_path / "both.py"
    script.write_text(BOTH_ROUTES, encoding="utf-8")
    fixture = Path(__file__).parent / "fixtures" / "store-0.1.0" / "kim.duckdb.gz"
    env = dict(os.environ, KIMTOOLS_KATALOG=str(katalog))
    done = subprocess.run([sys.executable, str(script), str(fixture), str(tmp_path / "kim.duckdb")],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    rows, local = int(done.stdout.split()[1]), int(done.stdout.split()[4])
    assert rows > 50_000 and local > 5_000, done.stdout


def test_an_own_rate_travels_only_where_the_cities_declare_it_alike(tmp_path, demo_store):
    """Herne and Bottrop declare the drop-out rate alike, Essen counts contact losses in too: each bundle carries its
    rate (from its own published closures by reason, so it gives nothing away the counts do not) with the
    fingerprint of its declaration; merging Herne and Bottrop keeps it, adding Essen drops it with a note. The
    value is the bundle's own published counts divided, and the engine's rate for the whole year."""
    import json

    same, other = tmp_path / "gleich.toml", tmp_path / "anders.toml"
    same.write_text(OWN, encoding="utf-8")
    other.write_text(OWN.replace('abschlussgrund = ["abbruch"]', 'abschlussgrund = ["abbruch", "kontaktverlust"]'),
                     encoding="utf-8")
    out = tmp_path / "pakete"
    for kommune, katalog in (("Herne", same), ("Bottrop", same), ("Essen", other)):
        done = _kimtools("export", "--db", str(demo_store), "--kommune", kommune, "--von", "2025", "--bis", "2025",
                         "--ausgabe", str(out), katalog=katalog)
        assert done.returncode == 0, done.stderr
    folder = {k: out / f"kim-vergleich_{k}_2025-Q1_2025-Q4" for k in ("Herne", "Bottrop", "Essen")}
    meta = {k: json.loads((f / "metadaten.json").read_text(encoding="utf-8")) for k, f in folder.items()}
    prints = {k: m["eigene_kennzahlen"]["abbruchquote"]["fingerabdruck"] for k, m in meta.items()}
    assert prints["Herne"] == prints["Bottrop"] != prints["Essen"]
    assert "neuzugaenge_18_27" not in meta["Herne"]["eigene_kennzahlen"]   # a count by age: no published counts behind it
    rates = list(csv.DictReader(open(folder["Herne"] / "kennzahlen.csv", encoding="utf-8")))
    counts = list(csv.DictReader(open(folder["Herne"] / "zaehlungen.csv", encoding="utf-8")))
    year = [r for r in rates if r["kennzahl"] == "abbruchquote" and r["stadtbezirk"] == "Gesamt" and r["zeitraum"] == "2025"]
    closures = {r["auspraegung"]: r["anzahl"] for r in counts if r["kennzahl"] == "faelle_abgeschlossen"
                and r["stadtbezirk"] == "Gesamt" and r["zeitraum"] == "2025" and r["merkmal"] in ("abschlussgrund", "keins")}
    assert len(year) == 1 and float(year[0]["zaehler"]) == float(closures["abbruch"])
    assert float(year[0]["nenner"]) == float(closures["Gesamt"])
    db = _kimtools("kennzahlen", "--db", str(demo_store), "--kommune", "Herne", "--zeitraum", "year", "--format", "csv",
                   katalog=same)
    engine = [r for r in _rows(db.stdout) if r["kennzahl"] == "abbruchquote" and r["zeitraum"] == "2025"]
    assert float(engine[0]["wert"]) == pytest.approx(float(year[0]["wert"]), rel=1e-5)   # the bundle rounds to 6 places

    two = _kimtools("vergleichen", str(folder["Herne"]), str(folder["Bottrop"]), "--ausgabe", str(tmp_path / "zwei"),
                    katalog=None)
    assert two.returncode == 0, two.stderr
    merged = list(csv.DictReader(open(tmp_path / "zwei" / "vergleich_kennzahlen.csv", encoding="utf-8")))
    assert {r["kommune"] for r in merged if r["kennzahl"] == "abbruchquote"} == {"Herne", "Bottrop"}
    three = _kimtools("vergleichen", *map(str, folder.values()), "--ausgabe", str(tmp_path / "drei"), katalog=None)
    assert three.returncode == 0, three.stderr
    assert "Eigene Kennzahl nicht verglichen – abbruchquote: verschieden definiert (Bottrop, Essen, Herne)" in three.stdout
    merged = list(csv.DictReader(open(tmp_path / "drei" / "vergleich_kennzahlen.csv", encoding="utf-8")))
    assert not [r for r in merged if r["kennzahl"] == "abbruchquote"]
