"""The Beschlussliste (``kimtools beschluesse``): reading it, each decision's indicator before and after, overdue
decisions, and a frozen meeting state keeping its list.

The export is made for these tests, Herne only, every number chosen so that the windows can be counted by hand:

- new cases per quarter: 4 in each quarter of 2024 and in 2025-Q1, 10 in each from 2025-Q2 to 2026-Q2, all in
  Herne-Mitte; the data end on 30.06.2026 (a consultation that day), so 2026-Q2 is complete;
- referrals to the Jobcenter (JC): in 2024 ten, 6 accepted and 4 declined; from 2025-Q2 to 2026-Q1 ten, 7 accepted;
  in 2026-Q2 five, all declined (a fifth quarter after, which no window may take);
- referrals to the Ausländerbehörde (ABH): in 2024 twenty-two, 3 accepted (two of the declined document the gap
  ``wartezeit``: a small count); from 2025-Q2 to 2026-Q1 twenty, 18 accepted.

The intervals are computed here by another route than the code's: Poisson bounds from scipy's chi-square quantiles
(the code uses the gamma function's inverse), Wilson bounds from statsmodels.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pandas as pd
import pytest
from scipy.stats import chi2
from statsmodels.stats.proportion import proportion_confint

from conftest import BASE, write_export
from kimtools import Store
from kimtools.analysis.beschluesse import complete_quarters, overdue, windows
from kimtools.cli import main
from kimtools.errors import DecisionListError
from kimtools.ingest.beschluesse import import_decisions
from kimtools.ingest.importer import import_export
from kimtools.present.report import lenkungskreis_html
from kimtools.store.beschluesse import stored_decisions
from kimtools.store.meetings import freeze
from kimtools.views.beschluesse import decision_views, reference_day

KEY = b"b" * 32
QUARTERS = [f"{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)] + ["2026-Q1", "2026-Q2"]
NEW_CASES = {q: (4 if q <= "2025-Q1" else 10) for q in QUARTERS}
HEADER = ("beschluss_id;kommune;datum;gremium;titel;zustaendig;kennzahl;stadtbezirk;merkmal;auspraegung;richtung;"
          "frist;status;umgesetzt_am")


def _export() -> dict[str, str]:
    cases, talks, refs = [], [], []
    by_quarter: dict[str, list[tuple[str, dt.date]]] = {}
    for q in QUARTERS:
        start = pd.Period(q.replace("-", ""), freq="Q").start_time.date()
        begun = start + dt.timedelta(days=40)   # in the quarter's second month
        for i in range(NEW_CASES[q]):
            fid = f"F{q}-{i}"
            cases.append(f"{fid};P{q}-{i};Herne;Herne-Mitte;CM1;{begun:%d.%m.%Y};;;erstintegration;sprache;duldung;;w;1990;1")
            talks.append(f"B{fid};{fid};{begun:%d.%m.%Y};30;persoenlich;sprache")
            by_quarter.setdefault(q, []).append((fid, begun))
    talks.append(f"BEND;F2026-Q2-0;30.06.2026;30;persoenlich;sprache")   # the data end
    n = 0

    def refer(quarters: list[str], partner: str, accepted: int, total: int, luecke: str = "", field: str = "arbeit") -> None:
        nonlocal n
        pool = [c for q in quarters for c in by_quarter[q]]
        for k in range(total):
            fid, begun = pool[k % len(pool)]
            n += 1
            status = "angenommen" if k < accepted else "abgelehnt"
            refs.append(f"V{n};{fid};{begun + dt.timedelta(days=5):%d.%m.%Y};{partner};{field};{status};;{luecke}")

    before, after = QUARTERS[:4], QUARTERS[5:9]
    refer(before, "JC", 6, 10)
    refer(after, "JC", 7, 10)
    refer(["2026-Q2"], "JC", 0, 5)
    refer(before, "ABH", 3, 20, field="aufenthalt")
    refer(before, "ABH", 0, 2, luecke="wartezeit", field="aufenthalt")   # declined, with a gap
    refer(after, "ABH", 18, 20, field="aufenthalt")
    head = lambda name: BASE[name].splitlines()[0]  # noqa: E731
    return {"partner": BASE["partner"], "faelle": "\n".join([head("faelle"), *cases]) + "\n",
            "beratungen": "\n".join([head("beratungen"), *talks]) + "\n",
            "vermittlungen": "\n".join([head("vermittlungen"), *refs]) + "\n"}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("beschluesse") / "export", _export())


@pytest.fixture
def store(tmp_path, export) -> Store:
    path = tmp_path / "data" / "kim.duckdb"
    import_export(export, path, key=KEY, show_progress=False)
    return Store(path)


LIST = "\n".join([HEADER,
    # A: decided on a quarter's last day, implemented in the same quarter
    "A;Herne;31.03.2025;lenkungskreis;Mehr Zugänge durch Sprechstunden;CM1;neuzugaenge;;;;steigen;30.06.2025;umgesetzt;31.03.2025",
    # B: decided on the next quarter's first day, implemented late: two complete quarters after
    "B;Herne;01.04.2025;Lenkungskreis;Zugänge über das Jobcenter;JC;neuzugaenge;;;;steigen;;umgesetzt;15.12.2025",
    # C: a rate whose intervals overlap
    "C;Herne;15.02.2025;planungskonferenz;Absprache mit dem Jobcenter;JC;annahmequote;;an_partner;JC;steigen;;umgesetzt;20.03.2025",
    # D: a rate whose intervals are separate
    "D;Herne;15.02.2025;Planungskonferenz;Termine bei der Ausländerbehörde;ABH;annahmequote;;an_partner;ABH;steigen;;umgesetzt;20.03.2025",
    # E: one district, not yet implemented, due on the reference day
    "E;Herne;10.06.2025;arbeitsgruppe;Sodingen erreichen;;neuzugaenge;Sodingen;;;steigen;06.12.2026;offen;",
    # F: rejected
    "F;Herne;10.06.2025;lenkungskreis;Verworfene Idee;;;;;;;01.01.2026;verworfen;",
    # G: decided early: only one complete quarter before it
    "G;Herne;10.05.2024;lenkungskreis;Früher Beschluss;;neuzugaenge;;;;steigen;05.12.2026;in_umsetzung;",
    # H: a small count (two referrals with the gap wartezeit before it)
    "H;Herne;15.02.2025;lenkungskreis;Wartezeit abbauen;ABH;luecken;;luecke;Wartezeit;sinken;;offen;",
]) + "\n"
TODAY = dt.date(2026, 12, 6)


def _list(tmp_path, text: str = LIST, name: str = "beschluesse.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def poisson_mean(total: int, quarters: int) -> tuple[float, float, float]:
    lo = chi2.ppf(0.025, 2 * total) / 2 if total else 0.0
    hi = chi2.ppf(0.975, 2 * total + 2) / 2
    return total / quarters, lo / quarters, hi / quarters


@pytest.fixture
def views(store, tmp_path):
    import_decisions(_list(tmp_path), store, today=TODAY)
    return decision_views(store, "Herne", today=TODAY)


def _row(views, beschluss_id: str) -> pd.Series:
    d = views["decisions"]
    return d.loc[d["beschluss_id"] == beschluss_id].iloc[0]


def test_the_windows_at_their_boundaries():
    complete = QUARTERS
    last_day = windows(pd.Timestamp("2025-03-31"), pd.Timestamp("2025-03-31"), complete)
    first_day = windows(pd.Timestamp("2025-04-01"), pd.Timestamp("2025-12-15"), complete)
    assert last_day == (["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"], ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"])
    assert first_day == (["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"], ["2026-Q1", "2026-Q2"])
    assert windows(pd.Timestamp("2025-04-01"), None, complete)[1] == []
    # a quarter ending on the data end is complete, one ending a day after it is not
    assert complete_quarters(dt.date(2024, 1, 1), dt.date(2026, 6, 30))[-1] == "2026-Q2"
    assert complete_quarters(dt.date(2024, 1, 1), dt.date(2026, 6, 29))[-1] == "2026-Q1"


def test_a_count_before_and_after_as_means_per_quarter_with_poisson_intervals(views):
    a = _row(views, "A")
    assert (a["vorher_von"], a["vorher_bis"], a["vorher_quartale"]) == ("2024-Q1", "2024-Q4", 4)
    assert (a["nachher_von"], a["nachher_bis"], a["nachher_quartale"]) == ("2025-Q2", "2026-Q1", 4)
    for name, total in (("vorher", 16), ("nachher", 40)):
        mean, lo, hi = poisson_mean(total, 4)
        assert a[name] == pytest.approx(mean)
        assert a[f"{name}_unten"] == pytest.approx(lo, rel=1e-6)
        assert a[f"{name}_oben"] == pytest.approx(hi, rel=1e-6)
    assert a["vorher_oben"] < a["nachher_unten"] and a["urteil"] == "besser"


def test_fewer_than_four_complete_quarters_after_and_one_before_the_data(views):
    b = _row(views, "B")
    assert (b["vorher_von"], b["vorher_bis"]) == ("2024-Q2", "2025-Q1")
    assert (b["nachher_von"], b["nachher_bis"], b["nachher_quartale"]) == ("2026-Q1", "2026-Q2", 2)
    assert b["nachher"] == pytest.approx(10.0)
    assert b["nachher_unten"] == pytest.approx(poisson_mean(20, 2)[1], rel=1e-6)
    g = _row(views, "G")   # decided in 2024-Q2: of the four quarters before, the data hold 2024-Q1 only
    assert (g["vorher_von"], g["vorher_bis"], g["vorher_quartale"]) == ("2024-Q1", "2024-Q1", 1)
    assert g["vorher"] == pytest.approx(4.0) and g["nachher_quartale"] == 0 and g["urteil"] == "noch_offen"


@pytest.mark.parametrize("beschluss_id, before, after, verdict", [
    ("C", (6, 10), (7, 10), "keine_klare_veraenderung"),
    ("D", (3, 22), (18, 20), "besser"),
])
def test_a_rate_pooled_over_each_window_with_wilson_intervals(views, beschluss_id, before, after, verdict):
    row = _row(views, beschluss_id)
    for name, (k, n) in (("vorher", before), ("nachher", after)):
        lo, hi = proportion_confint(k, n, method="wilson")
        assert row[name] == pytest.approx(k / n)
        assert row[f"{name}_unten"] == pytest.approx(lo) and row[f"{name}_oben"] == pytest.approx(hi)
    assert row["urteil"] == verdict   # 6/10 against 7/10 overlap; 3/22 against 18/20 do not
    # the five declined referrals to the Jobcenter in 2026-Q2 lie in a fifth quarter after: in no window
    assert row["nachher_bis"] == "2026-Q1"


def test_a_district_scope_and_a_small_count(views):
    e = _row(views, "E")   # no case in Sodingen: a mean of 0 with the interval of a count of 0
    assert e["vorher"] == 0 and e["vorher_oben"] == pytest.approx(chi2.ppf(0.975, 2) / 2 / 4)
    h = _row(views, "H")   # two referrals with the gap wartezeit before the decision: not shown
    assert bool(h["vorher_geschuetzt"]) and pd.isna(h["vorher"]) and pd.isna(h["vorher_oben"])


def test_overdue_on_both_sides_of_its_due_date(views):
    d = views["decisions"].set_index("beschluss_id")
    # G's due date is the day before the reference day, E's the reference day itself; A was due earlier but is done,
    # F earlier but rejected
    assert d.loc["G", "ueberfaellig"] and not d.loc["E", "ueberfaellig"]
    assert not d.loc["A", "ueberfaellig"] and not d.loc["F", "ueberfaellig"]
    a_day_later = overdue(d.reset_index(), TODAY + dt.timedelta(days=1))
    assert a_day_later.tolist() == [b in ("E", "G") for b in d.index]
    # the page's order: overdue first, then open or being implemented, then implemented, then rejected
    assert views["decisions"]["beschluss_id"].tolist() == ["G", "E", "H", "A", "C", "D", "B", "F"]


def test_a_frozen_meeting_state_keeps_its_list_and_its_day(store, tmp_path):
    # the state is frozen today, whatever day that is: E (due on TODAY) is moved far ahead, so that only G (due
    # 05.12.2026, being implemented) is overdue on any day the test runs
    ahead = LIST.replace("06.12.2026;offen;", "31.12.2099;offen;")
    import_decisions(_list(tmp_path, ahead), store, today=TODAY)
    frozen = freeze(store, "LK-2026-12", kommune="Herne")
    later = ahead.replace("in_umsetzung;", "umgesetzt;20.11.2026").replace("\nF;", "\nF2;")
    import_decisions(_list(tmp_path, later, "spaeter.csv"), store, today=TODAY)
    live, kept = stored_decisions(store, "Herne"), stored_decisions(frozen.store, "Herne")
    assert "F2" in set(live["beschluss_id"]) and "F" in set(kept["beschluss_id"])
    assert kept.set_index("beschluss_id").loc["G", "status"] == "in_umsetzung"
    assert set(kept["quelle"]) == {"beschluesse.csv"}
    assert reference_day(frozen.store) == pd.Timestamp(frozen.frozen).date()
    # the meeting's printout and view: the list as frozen, in an annex after the two pages
    page = lenkungskreis_html(frozen.store, "Herne")
    annex = page[page.index("Anlage: Beschlüsse und ihre Wirkung"):]
    assert "Überfällig (1)" in annex and "Verworfen: 1." in annex and "F2" not in annex


def test_a_defective_list_is_refused_with_every_problem_and_the_store_unchanged(store, tmp_path):
    import_decisions(_list(tmp_path), store, today=TODAY)
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    bad = _list(tmp_path, "\n".join([
        HEADER,
        "X1;Herne;12.03.2025;lenkungskreis;Unbekannte Kennzahl;;neuzugaenge_pro_kopf;;;;steigen;;offen;",
        "X2;Herne;31.02.2025;lenkungskreis;Unmögliches Datum;;;;;;;;offen;",
        "X3;Herne;01.04.2025;lenkungskreis;Umgesetzt ohne Datum;;;;;;;;umgesetzt;",
    ]) + "\n", "kaputt.csv")
    with pytest.raises(DecisionListError) as caught:
        import_decisions(bad, store, today=TODAY)
    found = caught.value.problems[["zeile", "spalte", "wert"]].values.tolist()
    assert found == [[2, "kennzahl", "neuzugaenge_pro_kopf"], [3, "datum", "31.02.2025"], [4, "umgesetzt_am", ""]]
    assert "neuzugaenge" in caught.value.problems["grund_de"][0]   # the closest indicator is named
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before
    assert len(stored_decisions(store, "Herne")) == 8


@pytest.mark.parametrize("row, column, reason", [
    ("Y;Bochum;01.01.2025;lenkungskreis;T;;;;;;;;offen;", "kommune", "nicht im Datenbestand"),
    ("Y;Herne;01.01.2025;senat;T;;;;;;;;offen;", "gremium", "Unbekannter Code"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;XX;;;;;;;offen;", "zustaendig", "Partner-ID von Herne unbekannt"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;neuzugaenge;Atlantis;;;steigen;;offen;", "stadtbezirk", "Bezirk von Herne"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;neuzugaenge;;;;;;offen;", "richtung", "fehlt die Richtung"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;;;;;steigen;;offen;", "richtung", "nur mit einer Kennzahl"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;neuzugaenge;;an_partner;JC;steigen;;offen;", "merkmal", "nicht nach an_partner"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;luecken;;luecke;;sinken;;offen;", "auspraegung", "beide oder keines"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;luecken;;luecke;lange;sinken;;offen;", "auspraegung", "wartezeit"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;;;;;;;offen;01.02.2025", "umgesetzt_am", "nur mit Status umgesetzt"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;;;;;;;umgesetzt;31.12.2024", "umgesetzt_am", "vor dem Beschluss"),
    ("Y;Herne;01.01.2025;lenkungskreis;T;;;;;;;31.12.2024;offen;", "frist", "vor dem Beschluss"),
    ("Y;Herne;07.12.2026;lenkungskreis;T;;;;;;;;offen;", "datum", "Zukunft"),
    ("Y;Herne;01.01.2025;lenkungskreis;" + "T" * 121 + ";;;;;;;;offen;", "titel", "länger als 120"),
])
def test_each_rule_names_its_column_and_reason(store, tmp_path, row, column, reason):
    with pytest.raises(DecisionListError) as caught:
        import_decisions(_list(tmp_path, f"{HEADER}\n{row}\n"), store, today=TODAY)
    problems = caught.value.problems
    assert (problems["spalte"] == column).any(), problems
    assert problems.loc[problems["spalte"] == column, "grund_de"].str.contains(reason, regex=False).any(), problems


def test_the_same_id_twice_in_a_kommune_names_the_first_row(store, tmp_path):
    text = f"{HEADER}\nZ;Herne;01.01.2025;lenkungskreis;T;;;;;;;;offen;\nZ;herne;02.01.2025;lenkungskreis;U;;;;;;;;offen;\n"
    with pytest.raises(DecisionListError) as caught:
        import_decisions(_list(tmp_path, text), store, today=TODAY)
    p = caught.value.problems
    assert p["zeile"].tolist() == [2, 3] and p["grund_de"].str.contains("zuerst in Zeile 2").all()


def test_a_later_list_replaces_the_kommune_s_decisions_as_a_whole(store, tmp_path):
    import_decisions(_list(tmp_path), store, today=TODAY)
    import_decisions(_list(tmp_path, f"{HEADER}\nNEU;Herne;01.01.2025;lenkungskreis;T;;;;;;;;offen;\n", "neu.csv"),
                     store, today=TODAY)
    assert stored_decisions(store, "Herne")["beschluss_id"].tolist() == ["NEU"]


def test_an_excel_workbook_in_utf16_and_german_labels(store, tmp_path):
    utf16 = tmp_path / "excel.csv"
    utf16.write_bytes(("\ufeff" + LIST.replace(";", "\t")).encode("utf-16-le"))
    assert len(import_decisions(utf16, store, dry_run=True, today=TODAY).decisions) == 8
    frame = pd.read_csv(_list(tmp_path), sep=";", dtype=str, keep_default_na=False)
    frame["datum"] = pd.to_datetime(frame["datum"], format="%d.%m.%Y")   # date cells, as Excel keeps them
    with pd.ExcelWriter(tmp_path / "liste.xlsx") as xl:
        pd.DataFrame({"Hinweis": ["andere Tabelle"]}).to_excel(xl, sheet_name="Notizen", index=False)
        frame.to_excel(xl, sheet_name="Beschlussliste", index=False)
    checked = import_decisions(tmp_path / "liste.xlsx", store, today=TODAY)
    assert checked.decisions.set_index("beschluss_id").loc["A", "datum"] == pd.Timestamp("2025-03-31")
    assert checked.warnings["grund_de"].str.contains("Notizen").any()


def test_the_commands(store, tmp_path, capsys):
    db = str(store.path)
    bad = _list(tmp_path, f"{HEADER}\nX;Herne;31.02.2025;lenkungskreis;T;;;;;;;;umgesetzt;\n", "kaputt.csv")
    assert main(["beschluesse", "einlesen", str(bad), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "kaputt.csv, Zeile 2, Spalte datum, Wert '31.02.2025'" in err and "Spalte umgesetzt_am" in err
    assert main(["beschluesse", "einlesen", str(_list(tmp_path)), "--db", db, "--probelauf"]) == 0
    assert "8 Beschlüsse würden die bisherigen 0 ersetzen" in capsys.readouterr().out
    assert stored_decisions(store).empty
    assert main(["beschluesse", "einlesen", str(_list(tmp_path)), "--db", db]) == 0
    assert main(["beschluesse", "liste", "--kommune", "Herne", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Veränderung (95-%-Intervalle)" in out and "besser" in out and "keine klare Veränderung" in out
    assert main(["--lang", "en", "decisions", "list", "--kommune", "Herne", "--db", db, "--format", "csv",
                 "--out", str(tmp_path / "liste.csv")]) == 0
    listed = pd.read_csv(tmp_path / "liste.csv", encoding="utf-8-sig").set_index("decision")
    assert listed.loc["D", "before"] == pytest.approx(3 / 22, abs=1e-4) and listed.loc["D", "after"] == pytest.approx(0.9)
    assert listed.loc["D", "after: quarters"] == "2025-Q2 – 2026-Q1 (4)" and listed.loc["D", "change (95 % intervals)"] == "better"
    assert main(["beschluesse", "liste", "--kommune", "Herne", "--db", db, "--format", "xlsx",
                 "--ausgabe", str(tmp_path / "liste.xlsx")]) == 0
    sheet = pd.read_excel(tmp_path / "liste.xlsx").set_index("Beschluss")
    assert sheet.loc["A", "überfällig"] == "nein" and sheet.loc["G", "überfällig"] == "ja"
    assert sheet.loc["A", "vorher"] == pytest.approx(4.0) and sheet.loc["A", "nachher: Quartale"] == "2025-Q2 – 2026-Q1 (4)"


def test_the_notebook_table_edits_through_the_same_checks_and_drafts_come_from_the_gap_register(store, tmp_path):
    from kimtools.ingest.beschluesse import read_decisions
    from kimtools.panels import DecisionEditor, GapDrafts

    workbook = tmp_path / "Beschlussliste.xlsx"
    import_decisions(_list(tmp_path), store, today=TODAY)
    editor = DecisionEditor(store, "Herne", workbook)
    assert len(editor.rows) == 8 and editor.rows.loc[0, "datum"] == "31.03.2025"   # as the list writes dates
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    editor.grid.set_cell_value("datum", 0, "31.02.2025")
    editor.grid.set_cell_value("kennzahl", 1, "neuzugaenge_pro_kopf")
    assert not editor.save(today=TODAY)
    assert "Zeile 2, Spalte datum, Wert &#x27;31.02.2025&#x27;" in editor.message.value
    assert "Zeile 3, Spalte kennzahl" in editor.message.value
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before and not workbook.exists()
    editor.grid.set_cell_value("datum", 0, "30.03.2025")
    editor.grid.set_cell_value("kennzahl", 1, "neuzugaenge")
    editor.grid.set_cell_value("status", 4, "verworfen")   # E is given up
    assert editor.save(today=TODAY)
    stored = stored_decisions(store, "Herne").set_index("beschluss_id")
    assert stored.loc["A", "datum"] == pd.Timestamp("2025-03-30") and stored.loc["E", "status"] == "verworfen"
    assert len(read_decisions(workbook, store, today=TODAY).decisions) == 8   # the file agrees with the store

    drafts = GapDrafts(store, "Herne", editor)
    assert drafts.gaps[["handlungsfeld", "luecke"]].values.tolist() == [["aufenthalt", "wartezeit"]]
    drafts.choice.value = (0,)
    drafts.district.value = "Herne-Mitte"
    made = drafts.take(today=TODAY)
    assert made["beschluss_id"].tolist() == ["E-20261206-1"] and len(editor.rows) == 9
    in_file = read_decisions(workbook, store, today=TODAY).decisions.set_index("beschluss_id").loc["E-20261206-1"]
    assert (in_file["kennzahl"], in_file["merkmal"], in_file["auspraegung"], in_file["richtung"], in_file["stadtbezirk"],
            in_file["status"], in_file["gremium"]) == ("luecken", "luecke", "wartezeit", "sinken", "Herne-Mitte", "offen",
                                                        "planungskonferenz")
    assert drafts.take(today=TODAY)["beschluss_id"].tolist() == ["E-20261206-2"]   # a second draft gets its own ID
    assert editor.save(today=TODAY) and len(stored_decisions(store, "Herne")) == 10


def test_a_decision_whose_indicator_left_the_catalogue_stays_listed_and_the_page_still_opens(store, tmp_path):
    from kimtools.store.beschluesse import replace_decisions

    import_decisions(_list(tmp_path), store, today=TODAY)
    stored = stored_decisions(store, "Herne").drop(columns=["quelle", "eingelesen"])
    stored.loc[stored["beschluss_id"] == "A", "kennzahl"] = "eigene_kennzahl_entfernt"   # an own entry, since removed
    replace_decisions(store, stored, ("Herne",), "alt.csv")
    views = decision_views(store, "Herne", today=TODAY)
    assert _row(views, "A")["urteil"] == "nicht_im_katalog" and _row(views, "D")["urteil"] == "besser"
    assert "Kennzahl nicht mehr im Katalog" in lenkungskreis_html(store, "Herne")


def test_a_guest_link_opens_its_meeting_view_only_until_its_day_and_not_when_changed_or_revoked(store, tmp_path):
    import urllib.error
    import urllib.request

    from kimtools.serving import running_server
    from kimtools.store.gastlinks import sign, verify
    from kimtools.store.meetings import meetings_folder

    import_decisions(_list(tmp_path), store, today=TODAY)
    from kimtools.present.report import freeze_meeting

    freeze_meeting(store, "LK-2026-12", kommune="Herne", show_progress=False)
    folder = meetings_folder(store)
    token, ident = sign(folder, "LK-2026-12", dt.date.today())   # valid through today …
    assert verify(folder, token, dt.date.today()) is not None
    assert verify(folder, token, dt.date.today() + dt.timedelta(days=1)) is None   # … not the day after
    changed = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged, _ = sign(tmp_path / "anderer-schluessel", "LK-2026-12", dt.date(2099, 1, 1))   # signed with another key
    other, other_id = sign(folder, "LK-2026-12", dt.date.today())
    assert main(["sitzung", "link", "--widerrufen", other_id, "--db", str(store.path)]) == 0

    def status(url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, ""

    env = dict(os.environ, KIMTOOLS_DB=str(store.path))
    with running_server(store.path, env=env, args=["--token", "t" * 20]) as url:
        code, page = status(f"{url}/kimtools/gast/{token}")
        assert code == 200 and "Anlage: Beschlüsse und ihre Wirkung" in page and "Herne" in page
        for bad in (changed, forged, other, "kein-token"):
            assert status(f"{url}/kimtools/gast/{bad}")[0] == 403, bad
        # the link opens that view and nothing else: the dashboards and the meeting path still ask for the token
        for other_page in ("/voila/render/lenkungskreis.ipynb", "/kimtools/sitzung", "/"):
            code, body = status(url + other_page)
            assert code in (401, 403) or ('type="password"' in body and "kim-tile" not in body), other_page
