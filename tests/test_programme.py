"""The programme beyond its cases (contract 1.2): posts of all three Bausteine, funded and filled, and household
members counselled alongside. Expected values worked out by hand.

The export (Herne) is the base export with a third case F3 (02.01.2024, open, consulted 31.12.2024), so that the data
run from 02.01. to 31.12.2024 and every month of 2024 is in the data. CM1 (a case-management provider) holds 1.5
filled Land-funded case-management posts from 01.01.2024 (a 1.1 row: no Baustein, no besetzt, no foerderung).

Posts counted in a month with the share of its days they cover, the period as the mean over its months:

* a 1.0 post filled from 01.07.2024: Jan–Jun 0, Jul–Dec 1 → year 6/12 = 0.5, Q2 0, Q3 1.0;
* a 1.0 post vacant 01.03.–30.06.2024: vacancy months in the year 1 + 1 + 1 + 1 = 4.0, mean vacant 4/12;
  Q1 1.0 month (March), Q2 3.0, Q3 0;
* a 0.5 post from 16.06.2024: June 15 of 30 days → 0.25 in June; Q2 = 0.25 / 3; Q3 0.5.

Cases open on 31.12.2024: F1, F3 (F2 ended 30.06.). Cases per filled Baustein-2 post on that day: 2 / 1.5.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import BASE, indicator_row, write_export
from kimtools import ImportValidationError, Store, import_export, indicator_table, read_export

POSTS_12 = "traeger;baustein;funktion;stadtbezirk;vzae;besetzt;foerderung;von;bis\n"


def _files(posts: str = "", cases_extra: str = "", header: str | None = None) -> dict[str, str]:
    files = dict(BASE)
    files["partner"] = BASE["partner"] + "KI;Herne;Kommunales Integrationszentrum Herne;kommunales_integrationszentrum;;nein;\n"
    faelle = BASE["faelle"]
    if header:
        faelle = faelle.replace("haushalt_personen\n", f"haushalt_personen;{header}\n", 1)
    files["faelle"] = faelle + "F3;PERS-0003;Herne;Sodingen;CM1;02.01.2024;;;erstintegration;sprache;duldung;;w;1990;4" + \
        (";" if header else "") + "\n" + cases_extra
    files["beratungen"] = BASE["beratungen"] + "B3;F3;31.12.2024;30;persoenlich;sprache\n"
    files["stellen"] = (POSTS_12 + "CM1;;;Herne-Mitte;1,5;;;01.01.2024;\n" + posts) if posts else BASE["stellen"]
    return files


def _table(tmp_path, files, **kw) -> pd.DataFrame:
    tables = read_export(write_export(tmp_path / "export", files), show_progress=False).tables
    return indicator_table(tables, kennzahlen=kw.pop("kennzahlen", None), **kw)


def _value(t, kennzahl, zeitraum, **where):
    return float(indicator_row(t, kennzahl, zeitraum=zeitraum, **where)["wert"])


def test_a_post_filled_from_the_first_of_july_counts_half_in_the_year(tmp_path):
    t = _table(tmp_path, _files("CM1;2;case_management;Herne-Mitte;1;ja;land;01.07.2024;\n"), period="year",
               kennzahlen=["vzae_besetzt", "vzae_land", "vzae_unbesetzt"])
    assert _value(t, "vzae_besetzt", "2024") == pytest.approx(1.5 + 0.5)
    assert _value(t, "vzae_land", "2024") == pytest.approx(2.0)
    assert _value(t, "vzae_unbesetzt", "2024") == 0
    q = _table(tmp_path / "q", _files("CM1;2;case_management;Herne-Mitte;1;ja;land;01.07.2024;\n"),
               kennzahlen=["vzae_besetzt"])
    # the day before (30.06., the last day of Q2) and the first day of Q3
    assert _value(q, "vzae_besetzt", "2024-Q2") == pytest.approx(1.5)
    assert _value(q, "vzae_besetzt", "2024-Q3") == pytest.approx(2.5)


def test_a_post_counts_by_the_days_of_its_first_month(tmp_path):
    t = _table(tmp_path, _files("CM1;2;case_management;Herne-Mitte;0,5;ja;land;16.06.2024;\n"),
               kennzahlen=["vzae_besetzt"], period="month")
    assert _value(t, "vzae_besetzt", "2024-05") == pytest.approx(1.5)
    assert _value(t, "vzae_besetzt", "2024-06") == pytest.approx(1.5 + 0.5 * 15 / 30)
    assert _value(t, "vzae_besetzt", "2024-07") == pytest.approx(2.0)
    q = _table(tmp_path / "q", _files("CM1;2;case_management;Herne-Mitte;0,5;ja;land;16.06.2024;\n"),
               kennzahlen=["vzae_besetzt"])
    assert _value(q, "vzae_besetzt", "2024-Q2") == pytest.approx(1.5 + 0.25 / 3)


def test_a_vacancy_of_four_months(tmp_path):
    posts = ("CM1;2;case_management;Herne-Mitte;1;nein;land;01.03.2024;30.06.2024\n"
             "CM1;2;case_management;Herne-Mitte;1;ja;land;01.07.2024;\n")
    year = _table(tmp_path, _files(posts), period="year",
                  kennzahlen=["vakanzmonate", "vzae_unbesetzt", "vzae_besetzt", "vzae_land"])
    assert _value(year, "vakanzmonate", "2024") == pytest.approx(4.0)
    assert _value(year, "vzae_unbesetzt", "2024") == pytest.approx(4 / 12)
    assert _value(year, "vzae_besetzt", "2024") == pytest.approx(1.5 + 0.5)
    assert _value(year, "vzae_land", "2024") == pytest.approx(1.5 + 4 / 12 + 0.5)   # funded, filled or not
    q = _table(tmp_path / "q", _files(posts), kennzahlen=["vakanzmonate"])
    assert [_value(q, "vakanzmonate", f"2024-Q{i}") for i in (1, 2, 3)] == pytest.approx([1.0, 3.0, 0.0])
    # vacancy months per Baustein: only Baustein 2 has one
    by = _table(tmp_path / "b", _files(posts + "KI;1;koordination;;2;ja;land;01.01.2024;\n"), period="year",
                merkmal="baustein", kennzahlen=["vakanzmonate", "vzae_besetzt"])
    assert _value(by, "vakanzmonate", "2024", auspraegung="2") == pytest.approx(4.0)
    assert _value(by, "vakanzmonate", "2024", auspraegung="1") == 0
    assert _value(by, "vzae_besetzt", "2024", auspraegung="1") == pytest.approx(2.0)


def test_a_funded_post_never_filled(tmp_path):
    t = _table(tmp_path, _files("CM1;2;case_management;Herne-Mitte;1;nein;land;01.01.2024;\n"), period="year",
               kennzahlen=["vzae_besetzt", "vzae_unbesetzt", "vzae_land", "vakanzmonate", "faelle_je_vzae"])
    assert _value(t, "vzae_besetzt", "2024") == pytest.approx(1.5)
    assert _value(t, "vzae_unbesetzt", "2024") == pytest.approx(1.0)
    assert _value(t, "vzae_land", "2024") == pytest.approx(2.5)
    assert _value(t, "vakanzmonate", "2024") == pytest.approx(12.0)
    assert indicator_row(t, "faelle_je_vzae", zeitraum="2024")["nenner"] == 1.5   # the vacant post carries no cases


def test_caseload_per_post_ignores_bausteine_1_and_3(tmp_path):
    """The same export with and without posts of Bausteine 1 and 3 (at partners without case management) gives the
    same cases per post; with them as Baustein 2 it would not."""
    without = _table(tmp_path / "a", _files("CM1;2;case_management;Herne-Mitte;0,5;ja;eigen;01.01.2024;\n"),
                     period="year", kennzahlen=["faelle_je_vzae"])
    others = ("KI;1;koordination;;2,5;ja;land;01.01.2024;\nKI;1;verwaltung;;0,5;ja;land;01.01.2024;\n"
              "ABH;3;sachbearbeitung;;1,5;ja;land;01.01.2024;\n")
    with_them = _table(tmp_path / "b", _files("CM1;2;case_management;Herne-Mitte;0,5;ja;eigen;01.01.2024;\n" + others),
                       period="year", kennzahlen=["faelle_je_vzae", "vzae_besetzt"])
    row = indicator_row(with_them, "faelle_je_vzae", zeitraum="2024")
    assert (row["zaehler"], row["nenner"]) == (2, 2.0)   # F1, F3 open on 31.12.; 1.5 + 0.5 in Baustein 2
    assert row["wert"] == indicator_row(without, "faelle_je_vzae", zeitraum="2024")["wert"] == pytest.approx(1.0)
    assert _value(with_them, "vzae_besetzt", "2024") == pytest.approx(2.0 + 4.5)
    # the other side: the same posts marked Baustein 2 at the case-management provider do count
    as_cm = _table(tmp_path / "c", _files("CM1;2;case_management;Herne-Mitte;0,5;ja;eigen;01.01.2024;\n"
                                          "CM1;2;case_management;Herne-Mitte;4,5;ja;land;01.01.2024;\n"),
                   period="year", kennzahlen=["faelle_je_vzae"])
    assert indicator_row(as_cm, "faelle_je_vzae", zeitraum="2024")["nenner"] == pytest.approx(6.5)


def test_posts_by_function_funding_and_employer(tmp_path):
    posts = ("CM1;2;case_management;Herne-Mitte;0,5;ja;eigen;01.01.2024;\n"
             "KI;1;koordination;;2;ja;land;01.01.2024;\nKI;1;;;0,5;ja;andere;01.01.2024;\n")
    files = _files(posts)
    by_function = _table(tmp_path / "f", files, period="year", merkmal="funktion", kennzahlen=["vzae_besetzt"])
    assert {r.auspraegung: r.wert for r in by_function.itertuples()} == pytest.approx(
        {"case_management": 2.0, "koordination": 2.0, "ohne_angabe": 0.5})
    by_funding = _table(tmp_path / "g", files, period="year", merkmal="foerderung", kennzahlen=["vzae_besetzt"])
    assert {r.auspraegung: r.wert for r in by_funding.itertuples()} == pytest.approx(
        {"land": 3.5, "eigen": 0.5, "andere": 0.5})
    by_employer = _table(tmp_path / "e", files, period="year", by="traeger", kennzahlen=["vzae_besetzt", "neuzugaenge"])
    assert _value(by_employer, "vzae_besetzt", "2024", traeger="KI") == pytest.approx(2.5)
    # an employer without cases has the posts' rows only (no row of zero cases for an office that carries none)
    assert set(by_employer.loc[by_employer["traeger"] == "KI", "kennzahl"]) == {"vzae_besetzt"}
    assert _value(by_employer, "neuzugaenge", "2024", traeger="CM1") == 3
    by_district = _table(tmp_path / "d", files, period="year", by="stadtbezirk", kennzahlen=["vzae_besetzt", "neuzugaenge"])
    assert _value(by_district, "vzae_besetzt", "2024", stadtbezirk="stadtweit") == pytest.approx(2.5)
    assert _value(by_district, "vzae_besetzt", "2024", stadtbezirk="Herne-Mitte") == pytest.approx(2.0)
    assert _value(by_district, "vzae_besetzt", "2024", stadtbezirk="Sodingen") == 0   # cases, no post
    assert set(by_district.loc[by_district["stadtbezirk"] == "stadtweit", "kennzahl"]) == {"vzae_besetzt"}
    # a target group has no posts: no staffing figures, and no error
    none = _table(tmp_path / "z", files, period="year", filters={"zielgruppe": "erstintegration"},
                  kennzahlen=["vzae_besetzt", "neuzugaenge"])
    assert set(none["kennzahl"]) == {"neuzugaenge"}


def test_a_1_1_export_gives_todays_figures(tmp_path):
    """The base export's posts (no baustein, besetzt, foerderung) are filled Land-funded case-management posts."""
    tables = read_export(write_export(tmp_path / "export", BASE), show_progress=False).tables
    posts = tables["stellen"].iloc[0]
    assert (posts["baustein"], posts["funktion"], posts["besetzt"], posts["foerderung"]) == \
        ("2", "case_management", True, "land")
    t = indicator_table(tables, kennzahlen=["faelle_je_vzae", "vzae_besetzt", "mitberatene"])
    q2 = indicator_row(t, "faelle_je_vzae", zeitraum="2024-Q2")
    assert (q2["zaehler"], q2["nenner"]) == (1, 1.5)   # F1 open on 30.06.; F2 ended that day
    assert _value(t, "vzae_besetzt", "2024-Q2") == pytest.approx(1.5)
    assert pd.isna(indicator_row(t, "mitberatene", zeitraum="2024-Q2")["wert"])   # not recorded: no value, not 0


def test_household_members_counselled_alongside(tmp_path):
    """F1 (household 3) with 2 alongside; F2 (household 1) 0; F3 (household 4) empty = 0; F4, a second case of
    PERS-0001 open in Q2 with 1. Q1: F1, F2, F3 open → 2; persons 3 + 2. Q2: F1, F2, F3, F4 open → 2 + 1 = 3
    summed over the cases; persons 3, PERS-0001 brings max(2, 1) = 2 → 5."""
    files = _files(header="mitberatene")
    files["faelle"] = (files["faelle"].replace(";w;1990;3\n", ";w;1990;3;2\n").replace(";m;1985;1\n", ";m;1985;1;0\n")
                       + "F4;PERS-0001;Herne;Sodingen;CM1;01.05.2024;;;erstintegration;sprache;duldung;;w;1990;3;1\n")
    t = _table(tmp_path, files, kennzahlen=["mitberatene", "personen_mit_angehoerigen", "personen_erreicht"])
    assert [indicator_row(t, k, zeitraum="2024-Q1")["zaehler"] for k in
            ("mitberatene", "personen_erreicht", "personen_mit_angehoerigen")] == [2, 3, 5]
    assert [indicator_row(t, k, zeitraum="2024-Q2")["zaehler"] for k in
            ("mitberatene", "personen_erreicht", "personen_mit_angehoerigen")] == [3, 3, 5]
    # Q3: F1, F3, F4 open (F2 ended 30.06.)
    assert indicator_row(t, "mitberatene", zeitraum="2024-Q3")["zaehler"] == 3
    by = _table(tmp_path / "b", files, by="stadtbezirk", kennzahlen=["personen_mit_angehoerigen"])
    assert indicator_row(by, "personen_mit_angehoerigen", zeitraum="2024-Q2", stadtbezirk="Sodingen")["zaehler"] == 4


def test_more_household_members_than_the_household_is_refused(tmp_path):
    files = _files(header="mitberatene")
    files["faelle"] = files["faelle"].replace(";w;1990;3\n", ";w;1990;3;3\n")
    with pytest.raises(ImportValidationError) as info:
        read_export(write_export(tmp_path / "export", files), show_progress=False)
    p = info.value.problems
    assert p[["tabelle", "zeile", "spalte", "wert"]].values.tolist() == [["faelle", 2, "mitberatene", "3"]]
    assert "kleiner sein als haushalt_personen" in p["grund_de"].iloc[0]
    files["faelle"] = files["faelle"].replace(";w;1990;3;3\n", ";w;1990;3;2\n")   # one fewer: accepted
    read_export(write_export(tmp_path / "ok", files), show_progress=False)


def test_a_bad_posts_file_is_refused_with_every_problem_and_the_store_unchanged(tmp_path):
    db = tmp_path / "kim.duckdb"
    import_export(write_export(tmp_path / "first", _files("KI;1;koordination;;2;ja;land;01.01.2024;\n")), db=db,
                  show_progress=False)
    store = Store(db)
    before = store.table("stellen").sort_values(["traeger", "vzae"]).reset_index(drop=True)
    bad = ("KI;4;koordination;;2;ja;land;01.01.2024;\n"          # row 3: Baustein 4
           "CM1;2;case_management;;1;vielleicht;land;01.01.2024;\n"   # row 4: besetzt = vielleicht
           "JC;2;case_management;;1;ja;land;01.01.2024;\n"           # row 5: Baustein 2 at the Jobcenter
           "ABH;3;sachbearbeitung;;1;ja;bund;01.01.2024;\n")          # row 6: unknown funding
    with pytest.raises(ImportValidationError) as info:
        import_export(write_export(tmp_path / "bad", _files(bad)), db=db, show_progress=False)
    p = info.value.problems
    got = sorted(p.loc[p["tabelle"] == "stellen", ["zeile", "spalte", "wert"]].itertuples(index=False, name=None))
    assert got == [(3, "baustein", "4"), (4, "besetzt", "vielleicht"), (5, "traeger", "JC"), (6, "foerderung", "bund")]
    assert "Baustein 2" in p.loc[p["zeile"] == 5, "grund_de"].iloc[0]
    after = Store(db).table("stellen").sort_values(["traeger", "vzae"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)


def test_bausteine_are_read_by_their_labels_and_a_town_employs_posts(tmp_path):
    files = _files("KI;Baustein 1;Koordination;;1;ja;Landesförderung KIM;01.01.2024;\n"
                   "GEM;baustein 3 (ausländer- und einbürgerungsbehörde);;;0,5;nein;Eigenmittel;01.01.2024;\n")
    files["partner"] += "GEM;Herne;Stadt Musterstadt (kreisangehörig);Kreisangehörige Kommune;;nein;\n"
    tables = read_export(write_export(tmp_path / "export", files), show_progress=False).tables
    posts = tables["stellen"].set_index("traeger")
    assert (posts.loc["KI", "baustein"], posts.loc["KI", "funktion"], posts.loc["KI", "foerderung"]) == \
        ("1", "koordination", "land")
    assert (posts.loc["GEM", "baustein"], posts.loc["GEM", "besetzt"], posts.loc["GEM", "foerderung"]) == ("3", False, "eigen")
    assert pd.isna(posts.loc["GEM", "funktion"])   # outside Baustein 2 an empty function stays unknown
    assert tables["partner"].set_index("partner_id").loc["GEM", "typ"] == "kreisangehoerige_kommune"
