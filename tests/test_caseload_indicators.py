"""Caseload indicators on a tiny export with every edge case, expected values worked out by hand.

The export (Herne; data from 01.02.2024 to 30.06.2024, so quarters Q1 and Q2):

====  =========  ===========  =====================  ================  ======================
case  person     district     begun – ended          target group      notes
====  =========  ===========  =====================  ================  ======================
F1    PERS-0001  Herne-Mitte  01.02.2024 – open      erstintegration   born 1990
F2    PERS-0002  Sodingen     15.03. – 30.06.2024    multiple_problem  ended on Q2's last day, goal reached
F3    PERS-0002  Herne-Mitte  10.05. – 10.05.2024    sonstige          begun and ended on one day, no birth year
F4    PERS-0002  Wanne        30.06.2024 – open      pflegesetting     re-admission (F2 ended 30.06., F3 10.05.)
====  =========  ===========  =====================  ================  ======================

Consultations: F1 05.02. and 01.04., F2 20.03., F4 30.06. Referrals: F1 10.02., F2 01.04.
Posts: CM1 (Herne-Mitte) 1.5 FTE from 01.04.2024, so Q1 has no post at all.

Q1 (ends 31.03.): new 2, ended 0, open 2, persons 2, consultations 2, referrals 1, cases active 2.
Inactive: window 02.01.–31.03.; F1 (05.02.) and F2 (20.03.) were seen: 0.
Median duration of the Q1 cohort: F2 107 days (event), F1 censored at 30.06. (150 days):
S(107) = 1 − 1/2 = 0.5 → median 107.

Q2 (ends 30.06.): new 2 (F3, F4), ended 2 (F2, F3), open 2 (F1, F4; F2 ended on the last day),
persons 2, consultations 2 (01.04., 30.06.), referrals 1, cases active 4 → 0.5 consultations per case.
Cases per post 2 / 1.5. Inactive: window 02.04.–30.06.; F1 was last seen 01.04.: 1 (F4 seen 30.06.).
Goal reached 1 of 2 closures; Wilson 95 %: 0.5 ± 0.4055 → (0.0945, 0.9055).
Re-admissions: F4 (F2 ended 30.06. ≤ 30.06.); F3 not (F2 was still open on 10.05.).
Q2 cohort: F3 ends after 0 days, F4 censored at 0 days → S(0) = 1 − 1/2 = 0.5 → median 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BASE, indicator_count as _z, indicator_row as _row, write_export
from kimtools import indicator_table, read_export
from kimtools.indicators.stats import km_median

EDGE = dict(BASE)
EDGE["faelle"] = BASE["faelle"] + (
    "F3;PERS-0002;Herne;Herne-Mitte;CM1;10.05.2024;10.05.2024;abbruch;sonstige;familie;ungeklaert;;;;\n"
    "F4;PERS-0002;Herne;Wanne;CM1;30.06.2024;;;pflegesetting;pflege;ungeklaert;;w;1950;1\n")
EDGE["beratungen"] = BASE["beratungen"] + "B3;F1;01.04.2024;;persoenlich;\nB4;F4;30.06.2024;;aufsuchend;\n"
EDGE["stellen"] = "traeger;stadtbezirk;vzae;von;bis\nCM1;Herne-Mitte;1,5;01.04.2024;\n"
EDGE["statuswechsel"] = "fall_id;datum;nach_status\n"


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return read_export(write_export(tmp_path_factory.mktemp("edge"), EDGE), show_progress=False).tables


def test_counts_by_kommune(tables):
    t = indicator_table(tables)
    q1 = {k: _z(t, k, zeitraum="2024-Q1") for k in ["neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht",
                                                      "beratungen", "vermittlungen", "inaktive_faelle", "wiederaufnahmen"]}
    assert q1 == {"neuzugaenge": 2, "abschluesse": 0, "faelle_offen": 2, "personen_erreicht": 2, "beratungen": 2,
                  "vermittlungen": 1, "inaktive_faelle": 0, "wiederaufnahmen": 0}
    q2 = {k: _z(t, k, zeitraum="2024-Q2") for k in q1}
    assert q2 == {"neuzugaenge": 2, "abschluesse": 2, "faelle_offen": 2, "personen_erreicht": 2, "beratungen": 2,
                  "vermittlungen": 1, "inaktive_faelle": 1, "wiederaufnahmen": 1}


def test_consultations_per_case(tables):
    t = indicator_table(tables)
    r = _row(t, "beratungen_je_fall", zeitraum="2024-Q2")
    assert (r["zaehler"], r["nenner"], r["wert"]) == (2, 4, 0.5)
    assert _row(t, "beratungen_je_fall", zeitraum="2024-Q1")["wert"] == 1.0


def test_cases_per_post_and_a_period_without_posts(tables):
    t = indicator_table(tables)
    q1 = _row(t, "faelle_je_vzae", zeitraum="2024-Q1")
    assert q1["zaehler"] == 2 and pd.isna(q1["nenner"]) and pd.isna(q1["wert"])
    q2 = _row(t, "faelle_je_vzae", zeitraum="2024-Q2")
    assert (q2["zaehler"], q2["nenner"]) == (2, 1.5) and q2["wert"] == pytest.approx(2 / 1.5)
    d = indicator_table(tables, by="stadtbezirk")
    assert _row(d, "faelle_je_vzae", stadtbezirk="Herne-Mitte", zeitraum="2024-Q2")["wert"] == pytest.approx(1 / 1.5)
    assert pd.isna(_row(d, "faelle_je_vzae", stadtbezirk="Sodingen", zeitraum="2024-Q2")["wert"])


def test_reach_per_1000_with_exact_poisson_interval(tables):
    # Q1 Sodingen: PERS-0002 with F2, her only case open then (in Q2 she counts in Wanne, where F4 began last)
    d = indicator_table(tables, by="stadtbezirk")
    assert _z(d, "reichweite_je_1000", stadtbezirk="Sodingen", zeitraum="2024-Q2") == 0
    r = _row(d, "reichweite_je_1000", stadtbezirk="Sodingen", zeitraum="2024-Q1")
    assert (r["zaehler"], r["nenner"]) == (1, 34602)   # shipped figure for Sodingen (herne.de, 2017)
    assert r["wert"] == pytest.approx(1000 / 34602)
    # tabulated exact 95 % limits for a count of 1: 0.0253 and 5.5716
    assert r["ki_unten"] == pytest.approx(0.0253 * 1000 / 34602, rel=1e-3)
    assert r["ki_oben"] == pytest.approx(5.5716 * 1000 / 34602, rel=1e-4)
    k = indicator_table(tables)
    assert _row(k, "reichweite_je_1000", zeitraum="2024-Q2")["nenner"] == 59035 + 34602 + 34642 + 34500
    assert "reichweite_je_1000" not in set(indicator_table(tables, by="traeger")["kennzahl"])


def test_person_with_cases_in_three_districts_counts_in_each(tables):
    d = indicator_table(tables, by="stadtbezirk")
    per_district = {b: _z(d, "personen_erreicht", stadtbezirk=b, zeitraum="2024-Q2")
                    for b in ["Herne-Mitte", "Sodingen", "Wanne"]}
    assert per_district == {"Herne-Mitte": 2, "Sodingen": 1, "Wanne": 1}
    assert _z(indicator_table(tables), "personen_erreicht", zeitraum="2024-Q2") == 2
    assert _z(d, "neuzugaenge", stadtbezirk="Wanne", zeitraum="2024-Q1") == 0   # district row exists before its first case


def test_goal_reached_share_with_wilson_interval(tables):
    t = indicator_table(tables)
    r = _row(t, "abschluesse_ziel_erreicht_quote", zeitraum="2024-Q2")
    assert (r["zaehler"], r["nenner"], r["wert"]) == (1, 2, 0.5)
    assert (round(r["ki_unten"], 4), round(r["ki_oben"], 4)) == (0.0945, 0.9055)
    assert pd.isna(_row(t, "abschluesse_ziel_erreicht_quote", zeitraum="2024-Q1")["wert"])  # no closures


def test_median_duration_with_censoring(tables):
    t = indicator_table(tables)
    q1 = _row(t, "verweildauer_median_tage", zeitraum="2024-Q1")
    assert (q1["zaehler"], q1["nenner"], q1["wert"]) == (1, 2, 107)
    q2 = _row(t, "verweildauer_median_tage", zeitraum="2024-Q2")
    assert (q2["zaehler"], q2["nenner"], q2["wert"]) == (1, 2, 0)


def test_breakdowns(tables):
    z = indicator_table(tables, merkmal="zielgruppe")
    assert list(z.columns[:3]) == ["kommune", "merkmal", "auspraegung"]
    assert _z(z, "neuzugaenge", auspraegung="pflegesetting", zeitraum="2024-Q2") == 1
    assert _z(z, "wiederaufnahmen", auspraegung="pflegesetting", zeitraum="2024-Q2") == 1
    assert "faelle_je_vzae" not in set(z["kennzahl"])
    h = indicator_table(tables, merkmal="handlungsfeld")
    q1 = h[(h["kennzahl"] == "neuzugaenge") & (h["zeitraum"] == "2024-Q1")].set_index("auspraegung")["zaehler"]
    assert q1[q1 > 0].to_dict() == {"arbeit": 1, "sprache": 1, "wohnen": 1}   # F1 counts once per needs area
    assert q1[["familie", "pflege"]].tolist() == [0, 0]   # areas of later cases have zero rows, not gaps
    a = indicator_table(tables, merkmal="altersgruppe")
    ages = a[(a["kennzahl"] == "neuzugaenge") & (a["zaehler"] > 0)].groupby("auspraegung")["zaehler"].sum().to_dict()
    assert ages == {"25_44": 2, "65_plus": 1, "unbekannt": 1}
    g = indicator_table(tables, merkmal="abschlussgrund")
    assert _z(g, "abschluesse", auspraegung="abbruch", zeitraum="2024-Q2") == 1
    assert _z(g, "faelle_offen", auspraegung="offen", zeitraum="2024-Q2") == 2


def test_km_median_agrees_with_statsmodels():
    """An independent route: statsmodels' SurvfuncRight on random censored durations, group by group."""
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": rng.integers(0, 6, 400), "dauer": rng.integers(0, 60, 400),
                          "beendet": rng.random(400) < 0.7})
    ours = km_median(frame, ["g"]).set_index("g")["median"]
    for g, part in frame.groupby("g"):
        sf = SurvfuncRight(part["dauer"].to_numpy(float), part["beendet"].to_numpy(int))
        assert ours[g] == sf.quantile(0.5)


def test_medians_of_weighted_rows_agree_with_statsmodels_on_the_rows_they_stand_for():
    """km_medians as the waiting cells use it (one row per group, time and end with a count) against statsmodels on
    the rows expanded; times as integers and as floats (two ways of sorting) give the same."""
    from statsmodels.duration.survfunc import SurvfuncRight

    from kimtools.indicators.stats import km_medians

    rng = np.random.default_rng(5)
    gid, t, n = rng.integers(0, 8, 300), rng.integers(-3, 400, 300), rng.integers(1, 6, 300)
    ended = np.minimum(rng.integers(0, 6, 300), n)                       # of each row's n, this many ended
    ended[gid == 7] = 0                                                  # a group without a single end
    expected_n, expected_events = np.bincount(gid, weights=n, minlength=9), np.bincount(gid, weights=ended, minlength=9)
    for times in (t, t.astype(float)):
        got_n, got_events, got = km_medians(gid, times, ended, 9, n)
        assert got_n.tolist() == expected_n.tolist() and got_events.tolist() == expected_events.tolist()
        assert got_n[8] == 0 and np.isnan(got[8]) and np.isnan(got[7])   # group 8 has no rows
        for g in range(7):
            rows = gid == g
            durations = np.repeat(t[rows], n[rows]).astype(float)
            events = np.concatenate([[1] * e + [0] * (k - e) for e, k in zip(ended[rows], n[rows])])
            assert got[g] == SurvfuncRight(durations, events).quantile(0.5), g


def test_median_of_all_others_agrees_with_statsmodels_on_the_complement():
    """km_median_others in one pass against statsmodels on each explicit complement (the route it replaces)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    from kimtools.indicators.stats import km_median_others

    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"k": rng.choice(["A", "B"], 600), "p": rng.integers(0, 7, 600),
                          "dauer": rng.integers(0, 90, 600), "beendet": rng.random(600) < 0.6})
    frame.loc[frame["p"] == 6, "beendet"] = False                       # a partner whose waits are all open
    frame = pd.concat([frame, pd.DataFrame({"k": ["C"] * 3, "p": [1] * 3, "dauer": [4, 9, 12],
                                            "beendet": [True] * 3})])   # a kommune with one partner: no others
    ours = km_median_others(frame, ["k"], "p").set_index(["k", "p"])["median"]
    assert len(ours) == frame.groupby(["k", "p"]).ngroups
    checked = 0
    for (k, p), _ in frame.groupby(["k", "p"]):
        rest = frame.loc[(frame["k"] == k) & (frame["p"] != p)]
        if rest.empty:
            assert np.isnan(ours[(k, p)])
            continue
        sf = SurvfuncRight(rest["dauer"].to_numpy(float), rest["beendet"].to_numpy(int))
        expected = sf.quantile(0.5)
        assert ours[(k, p)] == expected or np.isnan(ours[(k, p)]) and np.isnan(expected), (k, p)
        checked += 1
    assert checked == 14


def test_shipped_catalogue_is_generated_from_the_code():
    from pathlib import Path

    from kimtools.indicators import KENNZAHLEN
    from kimtools.contract.catalogue import SHIPPED
    from kimtools.indicators.catalogue import catalogue_markdown

    docs = Path(__file__).resolve().parents[1] / "docs"
    for lang, name in (("de", "kennzahlen.md"), ("en", "kennzahlen.en.md")):
        assert (docs / name).read_text(encoding="utf-8") == catalogue_markdown(lang, SHIPPED), \
            f"docs/{name} is stale: run 'python -m kimtools.indicators.catalogue'"
    text = catalogue_markdown("de")
    assert all(f"(`{code}`)" in text for code in KENNZAHLEN)


def test_cli_breakdown(tmp_path, capsys):
    from kimtools.cli import main

    db = str(tmp_path / "k.duckdb")
    assert main(["import", str(write_export(tmp_path / "edge", EDGE)), "--db", db]) == 0
    out = tmp_path / "z.csv"
    assert main(["indicators", "--db", db, "--merkmal", "zielgruppe", "--format", "csv", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns[:3]) == ["kommune", "merkmal", "auspraegung"]
    assert main(["indicators", "--db", db]) == 0   # the screen table copes with empty rates
    assert "faelle_je_vzae" in capsys.readouterr().out


def test_filters_restrict_cases_and_denominators(tables):
    t = indicator_table(tables, filters={"stadtbezirk": "Herne-Mitte"})
    # Herne-Mitte in Q2: F1 (open) and F3 (one-day case) → new 1, ended 1, open 1, persons 2; 1 open / 1.5 FTE
    assert [_z(t, k, zeitraum="2024-Q2") for k in ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht")] == [1, 1, 1, 2]
    assert _row(t, "faelle_je_vzae", zeitraum="2024-Q2")["wert"] == pytest.approx(1 / 1.5)
    assert _row(t, "reichweite_je_1000", zeitraum="2024-Q2")["nenner"] == 59035
    z = indicator_table(tables, filters={"zielgruppe": "pflegesetting"})
    assert _z(z, "wiederaufnahmen", zeitraum="2024-Q2") == 1 and "faelle_je_vzae" not in set(z["kennzahl"])
    p = indicator_table(tables, filters={"traeger": "CM1"})
    assert "reichweite_je_1000" not in set(p["kennzahl"])
    assert _row(p, "faelle_je_vzae", zeitraum="2024-Q2")["wert"] == pytest.approx(2 / 1.5)


#: counted once per person, in the district of the case begun last: with a district filter a person counts where she
#: has any case (the filter comes first), by district only in one (PERS-0002 in Q2: Wanne, not Sodingen)
ONCE_PER_PERSON = ["personen_einmal", "reichweite_je_1000", "reichweite_je_1000_auslaender"]


def test_district_rows_equal_the_district_filter(tables):
    """What the caseload dashboard relies on: a district's rows of the by-district table are the
    kommune table filtered to that district (counts, denominators, intervals and median alike) – but for the counts
    of persons once each (:data:`ONCE_PER_PERSON`), which by district assign a person to one district."""
    by_district = indicator_table(tables, by="stadtbezirk")
    by_district = by_district[~by_district["kennzahl"].isin(ONCE_PER_PERSON)]
    for district in ("Herne-Mitte", "Sodingen", "Wanne"):
        filtered = indicator_table(tables, filters={"stadtbezirk": district})
        filtered = filtered[~filtered["kennzahl"].isin(ONCE_PER_PERSON)]
        rows = by_district[by_district["stadtbezirk"] == district].drop(columns="stadtbezirk")
        rows = rows[rows["zeitraum"].isin(filtered["zeitraum"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, filtered.reset_index(drop=True))


def test_a_subset_of_indicators_equals_the_same_rows_of_the_full_table(tables):
    full = indicator_table(tables, by="stadtbezirk")
    part = indicator_table(tables, by="stadtbezirk", kennzahlen=["faelle_je_vzae", "neuzugaenge"])
    assert set(part["kennzahl"]) == {"faelle_je_vzae", "neuzugaenge"}
    expected = full[full["kennzahl"].isin(["faelle_je_vzae", "neuzugaenge"])]
    pd.testing.assert_frame_equal(part.reset_index(drop=True), expected.reset_index(drop=True))


def test_load_per_post_by_provider_and_district(tmp_path):
    """Posts can be attributed to providers and districts, so those breakdowns keep cases per post.

    Posts of CM1 from Q2: Herne-Mitte 1.5 FTE (from 01.04.), Wanne 1.0 (from 01.06.), 0.5 without district.
    End of Q2: open F1 (Herne-Mitte) and F4 (Wanne); F2 (Sodingen) ended on the last day.
    Herne-Mitte 1 / 1.5, Wanne 1 / 1.0, Sodingen 0 cases and no post → no value; CM1 overall 2 / 3.0
    (the city-wide 0.5 counts only there).
    """
    export = dict(EDGE, stellen="traeger;stadtbezirk;vzae;von;bis\nCM1;Herne-Mitte;1,5;01.04.2024;\n"
                                "CM1;Wanne;1,0;01.06.2024;\nCM1;;0,5;01.04.2024;\n")
    tables = read_export(write_export(tmp_path, export), show_progress=False).tables
    t = indicator_table(tables, by="traeger", merkmal="stadtbezirk")
    load = lambda d: _row(t, "faelle_je_vzae", auspraegung=d, zeitraum="2024-Q2")  # noqa: E731
    assert (load("Herne-Mitte")["zaehler"], load("Herne-Mitte")["nenner"]) == (1, 1.5)
    assert (load("Wanne")["zaehler"], load("Wanne")["nenner"], load("Wanne")["wert"]) == (1, 1.0, 1.0)
    assert load("Sodingen")["zaehler"] == 0 and pd.isna(load("Sodingen")["wert"])
    assert pd.isna(_row(t, "faelle_je_vzae", auspraegung="Herne-Mitte", zeitraum="2024-Q1")["nenner"])
    overall = _row(indicator_table(tables, merkmal="traeger"), "faelle_je_vzae", auspraegung="CM1", zeitraum="2024-Q2")
    assert (overall["zaehler"], overall["nenner"]) == (2, 3.0)
    # each district row is what the district filter gives
    for d in ("Herne-Mitte", "Wanne", "Sodingen"):
        f = _row(indicator_table(tables, by="traeger", filters={"stadtbezirk": d}), "faelle_je_vzae", zeitraum="2024-Q2")
        assert f["zaehler"] == load(d)["zaehler"]
        assert (pd.isna(f["nenner"]) and pd.isna(load(d)["nenner"])) or f["nenner"] == load(d)["nenner"]


def test_reach_by_district_breakdown_uses_the_district_population(tables):
    # Q2 Herne-Mitte: F1 (PERS-0001) → 1 of 59,035 (PERS-0002 counts once, in Wanne, where F4 began last);
    # Q1 Herne-Mitte: F1 → 1; Sodingen: F2 → 1 of 34,602
    t = indicator_table(tables, merkmal="stadtbezirk")
    mitte = _row(t, "reichweite_je_1000", auspraegung="Herne-Mitte", zeitraum="2024-Q2")
    assert (mitte["zaehler"], mitte["nenner"]) == (1, 59035) and mitte["wert"] == pytest.approx(1000 / 59035)
    assert _row(t, "reichweite_je_1000", auspraegung="Sodingen", zeitraum="2024-Q2")["nenner"] == 34602


def test_a_filter_without_cases_gives_an_empty_table(tables):
    t = indicator_table(tables, by="stadtbezirk", filters={"traeger": "KEIN-TRAEGER"})
    assert t.empty
    assert list(t.columns) == ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert",
                               "ki_unten", "ki_oben", "unvollstaendig"]


def test_median_in_the_database_equals_the_python_estimate(demo_store):
    """The table computes Kaplan–Meier medians in SQL; km_median (checked against statsmodels above) is
    the independent route, on every district and quarter of one demo city."""
    from kimtools import Store
    from kimtools.indicators import case_durations

    store = Store(demo_store)
    t = indicator_table(store, "Herne", by="stadtbezirk", kennzahlen=["verweildauer_median_tage"])
    d = case_durations(store, "Herne")
    d["zeitraum"] = [f"{p.year}-Q{(p.month - 1) // 3 + 1}" for p in pd.to_datetime(d["ps"])]
    expected = km_median(d, ["stadtbezirk", "zeitraum"])
    got = t.merge(expected, on=["stadtbezirk", "zeitraum"], how="outer", indicator=True)
    assert (got["_merge"] == "both").all() and len(got) > 50
    assert np.allclose(got["wert"].astype(float), got["median"].astype(float), equal_nan=True)
    assert (got["nenner"].astype(int) == got["n"]).all() and (got["zaehler"].astype(int) == got["events"]).all()


def test_median_where_exactly_half_have_ended_despite_rounding():
    """24 waits of 1, 2, …, 24 days, all ended: after day 12 exactly 12 of 24 remain, S = 0.5, so the median
    is 12 days. The running product 23/24 · 22/23 · … · 12/13 is 0.5000000000000001 in floating point; found
    by the benchmark's hand-written SQL and pandas routes, which disagreed with both of ours."""
    import duckdb

    from kimtools.indicators.table import _km_median_sql

    frame = pd.DataFrame({"g": 0, "dauer": range(1, 25), "beendet": True})
    assert km_median(frame, ["g"])["median"].iloc[0] == 12
    rows = "SELECT 'K' AS kommune, 'g' AS grp, 'a' AS ausp, DATE '2024-01-01' AS ps, t AS dauer, true AS beendet FROM range(1, 25) r(t)"
    assert duckdb.sql(_km_median_sql(rows)).df()["median"].iloc[0] == 12


def test_counts_from_the_case_cells_stored_at_import_are_the_hand_worked_ones(tmp_path):
    """A store answers new, ended and open cases and consultations from the case cells written at import; the
    same hand-worked numbers as the pass over every case (module docstring), by kommune, district, month and
    with a filter."""
    from kimtools import Store, import_export
    from kimtools.indicators.table import _cell_counts

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "edge", EDGE), store, show_progress=False)
    counts = ["neuzugaenge", "abschluesse", "faelle_offen", "beratungen", "abschluesse_ziel_erreicht_quote"]
    assert _cell_counts(store, "kommune", "quarter", None, None, {}, counts) is not None   # the cells answer
    t = indicator_table(store, kennzahlen=counts)
    assert [[_z(t, k, zeitraum=q) for k in counts[:4]] for q in ("2024-Q1", "2024-Q2")] == [[2, 0, 2, 2], [2, 2, 2, 2]]
    r = _row(t, "abschluesse_ziel_erreicht_quote", zeitraum="2024-Q2")
    assert (r["zaehler"], r["nenner"], r["ki_unten"]) == (1, 2, pytest.approx(0.0945, abs=1e-4))
    # by district: Q1 F1 (Herne-Mitte, seen 05.02.) and F2 (Sodingen, seen 20.03.) begin; Q2 F3 begins and ends in
    # Herne-Mitte, F2 ends in Sodingen, F4 begins in Wanne (seen 30.06.), F1 is seen 01.04.
    d = indicator_table(store, by="stadtbezirk", kennzahlen=counts[:4])
    expected = {("Herne-Mitte", "2024-Q1"): [1, 0, 1, 1], ("Sodingen", "2024-Q1"): [1, 0, 1, 1], ("Wanne", "2024-Q1"): [0, 0, 0, 0],
                ("Herne-Mitte", "2024-Q2"): [1, 1, 1, 1], ("Sodingen", "2024-Q2"): [0, 1, 0, 0], ("Wanne", "2024-Q2"): [1, 0, 1, 1]}
    assert {key: [_z(d, k, stadtbezirk=key[0], zeitraum=key[1]) for k in counts[:4]] for key in expected} == expected
    assert len(d) == 6 * 4   # three districts in two quarters, none left out for having nothing
    # months: February (F1 begins, is seen 05.02.) to June; in May F3 begins and ends, nothing else happens
    m = indicator_table(store, period="month", kennzahlen=counts[:4])
    assert sorted(set(m["zeitraum"])) == ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert [_z(m, k, zeitraum="2024-05") for k in counts[:4]] == [1, 1, 2, 0]
    assert [_z(m, k, zeitraum="2024-04") for k in counts[:4]] == [0, 0, 2, 1]
    f = indicator_table(store, filters={"zielgruppe": "sonstige"}, kennzahlen=counts[:4])   # F3 only
    assert [[_z(f, k, zeitraum=q) for k in counts[:4]] for q in ("2024-Q1", "2024-Q2")] == [[0, 0, 0, 0], [1, 1, 0, 0]]
    none = indicator_table(store, by="stadtbezirk", filters={"traeger": "KEIN-TRAEGER"}, kennzahlen=counts)
    assert none.empty and list(none.columns) == list(d.columns)


def test_persons_reached_and_cases_active_from_the_case_spans_stored_at_import(tmp_path):
    """Persons reached and consultations per active case from the case spans written at import, by hand (module
    docstring): PERS-0002's three cases overlap in Q2 and in June (F2 in Sodingen to 30.06., F4 in Wanne from
    30.06.) and count once there, but once in each district."""
    from kimtools import Store, import_export
    from kimtools.indicators.table import _cell_counts

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "edge", EDGE), store, show_progress=False)
    wanted = ["personen_erreicht", "beratungen_je_fall"]
    assert _cell_counts(store, "kommune", "quarter", None, None, {}, wanted) is not None   # the cells answer
    t = indicator_table(store, kennzahlen=wanted)
    assert [(_z(t, "personen_erreicht", zeitraum=q), _row(t, "beratungen_je_fall", zeitraum=q)["nenner"],
             _row(t, "beratungen_je_fall", zeitraum=q)["wert"]) for q in ("2024-Q1", "2024-Q2")] == [(2, 2, 1.0), (2, 4, 0.5)]
    # months: February F1; March and April F1, F2; May F1, F2, F3; June F1, F2, F4
    m = indicator_table(store, period="month", kennzahlen=wanted)
    assert {mo: (_z(m, "personen_erreicht", zeitraum=mo), _row(m, "beratungen_je_fall", zeitraum=mo)["nenner"])
            for mo in ("2024-02", "2024-03", "2024-04", "2024-05", "2024-06")} == {
        "2024-02": (1, 1), "2024-03": (2, 2), "2024-04": (2, 2), "2024-05": (2, 3), "2024-06": (2, 3)}
    d = indicator_table(store, by="stadtbezirk", kennzahlen=["personen_erreicht"])
    assert {(b, q): _z(d, "personen_erreicht", stadtbezirk=b, zeitraum=q) for b in ("Herne-Mitte", "Sodingen", "Wanne")
            for q in ("2024-Q1", "2024-Q2")} == {
        ("Herne-Mitte", "2024-Q1"): 1, ("Sodingen", "2024-Q1"): 1, ("Wanne", "2024-Q1"): 0,
        ("Herne-Mitte", "2024-Q2"): 2, ("Sodingen", "2024-Q2"): 1, ("Wanne", "2024-Q2"): 1}
    g = indicator_table(store, merkmal="zielgruppe", filters={"stadtbezirk": "Herne-Mitte"}, kennzahlen=["personen_erreicht"])
    assert _z(g, "personen_erreicht", auspraegung="sonstige", zeitraum="2024-Q2") == 1   # F3 alone


@pytest.mark.parametrize("route, kennzahlen", [
    ("_cell_counts", ["neuzugaenge", "abschluesse", "faelle_offen", "beratungen", "abschluesse_ziel_erreicht_quote",
                      "personen_erreicht", "beratungen_je_fall"]),
    ("_cell_referrals", ["vermittlungen", "annahmequote", "abschlussquote", "ablehnungsquote", "nicht_wahrgenommen_quote",
                         "wartezeit_median_tage", "luecken"])], ids=["cases", "referrals"])
@pytest.mark.parametrize("by", ["kommune", "stadtbezirk", "traeger"])
def test_cells_give_the_table_of_the_pass_over_every_case_or_referral(demo_store, monkeypatch, by, route, kennzahlen):
    """The independent route for the cells: the pass over every case or referral (hand-checked above and in
    test_referrals), on the demo store for each breakdown and period the cells hold, with and without a kommune and
    filters."""
    from kimtools import Store
    from kimtools.indicators import table

    store = Store(demo_store)
    one = store.query("SELECT kommune, stadtbezirk, traeger, zielgruppe FROM faelle ORDER BY fall_id LIMIT 1").iloc[0]
    cases = [dict(period=p, merkmal=m, kommune=k, filters=f)
             for p in ("month", "quarter", "year") for m in (None, "stadtbezirk", "traeger", "zielgruppe")
             for k, f in ((None, {}), (one.kommune, {}), (one.kommune, {"stadtbezirk": one.stadtbezirk}),
                          (None, {"traeger": one.traeger, "zielgruppe": one.zielgruppe}))]
    from_cells = []
    for case in cases:
        assert getattr(table, route)(store, by, case["period"], case["merkmal"], case["kommune"], case["filters"],
                                     kennzahlen) is not None
        from_cells.append(indicator_table(store, by=by, kennzahlen=kennzahlen, **case))
    monkeypatch.setattr(table, route, lambda *args: None)
    for case, got in zip(cases, from_cells):
        pd.testing.assert_frame_equal(got, indicator_table(store, by=by, kennzahlen=kennzahlen, **case))
    assert sum(len(t) for t in from_cells) > 10_000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000)), min_size=1, max_size=20),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_intervals_agree_with_statsmodels_and_the_chi_square_route(pairs, level):
    """The Wilson and Garwood intervals are written as closed formulas on scipy.special (a dashboard kernel need not
    import statsmodels and scipy.stats): against statsmodels' Wilson interval and scipy.stats' chi-square quantiles."""
    from scipy import stats as scipy_stats
    from statsmodels.stats.proportion import proportion_confint

    from kimtools.indicators.stats import poisson_interval, wilson_interval

    k = np.array([min(a, b) for a, b in pairs], dtype=float)
    n = np.array([b for _a, b in pairs], dtype=float)
    lo, hi = wilson_interval(k, n, level)
    ok = n > 0
    assert np.isnan(lo[~ok]).all() and np.isnan(hi[~ok]).all()
    # inside [0, 1] exactly: none (k = 0) gives 0, all (k = n) gives 1, not a rounding error beyond them
    assert (lo[ok] >= 0).all() and (hi[ok] <= 1).all()
    assert (lo[ok & (k == 0)] == 0).all() and (hi[ok & (k == n)] == 1).all()
    if ok.any():
        want_lo, want_hi = proportion_confint(k[ok], n[ok], alpha=1 - level, method="wilson")
        np.testing.assert_allclose(lo[ok], want_lo, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(hi[ok], want_hi, rtol=1e-9, atol=1e-12)
    lo, hi = poisson_interval(k, level)
    a = (1 - level) / 2
    np.testing.assert_allclose(lo, np.where(k > 0, scipy_stats.chi2.ppf(a, 2 * np.maximum(k, 1)) / 2, 0.0), rtol=1e-9)
    np.testing.assert_allclose(hi, scipy_stats.chi2.ppf(1 - a, 2 * k + 2) / 2, rtol=1e-9)


def test_persons_once_each_in_the_district_of_their_case_begun_last(tables):
    """personen_einmal (issue 37, one meaning per code), by hand from the module docstring: Q2 has F1 (PERS-0001,
    Herne-Mitte) and PERS-0002's F2 (Sodingen, begun 15.03.), F3 (Herne-Mitte, 10.05.) and F4 (Wanne, 30.06.): she
    counts once, in Wanne; personen_erreicht counts her in all three. In May her latest open case is F3 (Herne-Mitte),
    in June F4 (F3 ended 10.05.). The reach rates count persons once, so the districts add up to the city."""
    d = indicator_table(tables, by="stadtbezirk", kennzahlen=["personen_einmal", "personen_erreicht", "reichweite_je_1000"])
    once = {(b, q): _z(d, "personen_einmal", stadtbezirk=b, zeitraum=q) for b in ("Herne-Mitte", "Sodingen", "Wanne")
            for q in ("2024-Q1", "2024-Q2")}
    assert once == {("Herne-Mitte", "2024-Q1"): 1, ("Sodingen", "2024-Q1"): 1, ("Wanne", "2024-Q1"): 0,
                    ("Herne-Mitte", "2024-Q2"): 1, ("Sodingen", "2024-Q2"): 0, ("Wanne", "2024-Q2"): 1}
    assert _z(d, "personen_erreicht", stadtbezirk="Herne-Mitte", zeitraum="2024-Q2") == 2
    assert all(_z(d, "reichweite_je_1000", stadtbezirk=b, zeitraum=q) == n for (b, q), n in once.items())
    m = indicator_table(tables, by="stadtbezirk", period="month", kennzahlen=["personen_einmal"])
    assert [_z(m, "personen_einmal", stadtbezirk=b, zeitraum="2024-05") for b in ("Herne-Mitte", "Wanne")] == [2, 0]
    assert [_z(m, "personen_einmal", stadtbezirk=b, zeitraum="2024-06") for b in ("Herne-Mitte", "Wanne")] == [1, 1]
    g = indicator_table(tables, merkmal="zielgruppe", kennzahlen=["personen_einmal"])
    assert {a: _z(g, "personen_einmal", auspraegung=a, zeitraum="2024-Q2")
            for a in ("erstintegration", "multiple_problemlagen", "pflegesetting", "sonstige")} == {
        "erstintegration": 1, "multiple_problemlagen": 0, "pflegesetting": 1, "sonstige": 0}
    assert _z(indicator_table(tables, kennzahlen=["personen_einmal"]), "personen_einmal", zeitraum="2024-Q2") == 2


def test_since_the_start_is_one_period_from_the_first_case_to_the_data_end(tables, tmp_path, capsys):
    """The whole span 01.02.–30.06.2024 as one period ("gesamt"): cases begun 4, ended 2 (F2, F3), open at the data
    end 2 (F1, F4), persons 2, consultations 4, referrals 2, re-admissions 1 (F4); 4 cases active → 1.0 consultation
    per case; cases per post on 30.06.: 2 / 1.5. Median duration of all four: F3 ends after 0 days, F4 is censored
    at 0 → S(0) = 3/4; F2 ends after 107 days with F1 (censored at 150) still at risk → S(107) = 3/8 → 107.
    Posts: 1.5 from 01.04., the months Feb–Jun → (0 + 0 + 1.5 · 3) / 5 = 0.9."""
    t = indicator_table(tables, period="total")
    assert set(t["zeitraum"]) == {"gesamt"}
    got = {k: _z(t, k, zeitraum="gesamt") for k in ["neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht",
                                                     "beratungen", "vermittlungen", "wiederaufnahmen"]}
    assert got == {"neuzugaenge": 4, "abschluesse": 2, "faelle_offen": 2, "personen_erreicht": 2, "beratungen": 4,
                   "vermittlungen": 2, "wiederaufnahmen": 1}
    assert _row(t, "beratungen_je_fall", zeitraum="gesamt")["wert"] == pytest.approx(1.0)
    assert _row(t, "faelle_je_vzae", zeitraum="gesamt")["wert"] == pytest.approx(2 / 1.5)
    assert _row(t, "verweildauer_median_tage", zeitraum="gesamt")["wert"] == 107
    assert _row(t, "vzae_besetzt", zeitraum="gesamt")["wert"] == pytest.approx(0.9)
    # the sums over the quarters for what adds up
    q = indicator_table(tables)
    for k in ("neuzugaenge", "abschluesse", "beratungen", "vermittlungen"):
        assert _z(t, k, zeitraum="gesamt") == q.loc[q["kennzahl"] == k, "zaehler"].sum()
    from kimtools.cli import main

    db = str(tmp_path / "k.duckdb")
    assert main(["import", str(write_export(tmp_path / "edge", EDGE)), "--db", db]) == 0
    out = tmp_path / "g.csv"
    assert main(["kennzahlen", "--db", db, "--zeitraum", "total", "--format", "csv", "--ausgabe", str(out)]) == 0
    frame = pd.read_csv(out)
    assert set(frame["zeitraum"]) == {"gesamt"}
    assert int(frame.loc[frame["kennzahl"] == "neuzugaenge", "zaehler"].iloc[0]) == 4


def test_since_the_start_up_to_a_day(tables):
    """Up to 31.03.2024 the span is Q1 (the first quarter): its counts. Up to 29.06. F4 (begun 30.06.) and F2's end
    (30.06.) are not yet there: begun 3, ended 1 (F3), open 2 (F1, F2); up to 30.06. as the whole span. No median."""
    q1 = indicator_table(tables).query("zeitraum == '2024-Q1'")
    upto = indicator_table(tables, period="total", bis="2024-03-31")
    for k in ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "beratungen", "vermittlungen"):
        assert _z(upto, k, zeitraum="gesamt") == _z(q1, k), k
    day_before = indicator_table(tables, period="total", bis="2024-06-29")
    assert [_z(day_before, k, zeitraum="gesamt") for k in ("neuzugaenge", "abschluesse", "faelle_offen")] == [3, 1, 2]
    last_day = indicator_table(tables, period="total", bis="2024-06-30")
    whole = indicator_table(tables, period="total")
    assert "verweildauer_median_tage" not in set(last_day["kennzahl"])
    pd.testing.assert_frame_equal(last_day, whole.loc[whole["kennzahl"].isin(set(last_day["kennzahl"]))]
                                  .reset_index(drop=True))
    with pytest.raises(Exception, match="nur für den Zeitraum total"):
        indicator_table(tables, period="quarter", bis="2024-06-30")


def test_a_share_takes_a_part_up_to_its_whole_and_refuses_one_above_it_or_below_zero():
    import numpy as np

    from kimtools.errors import UsageError
    from kimtools.indicators.stats import share

    rate, lo, hi = share([0, 10], [10, 10])   # both ends of what a share can be
    assert rate.tolist() == [0.0, 1.0] and lo[0] == 0.0 and hi[1] == 1.0
    with pytest.raises(UsageError, match=r"part 11 ist größer als whole 10 \(an Stelle 1\)"):
        share([10, 11], [10, 10])   # one above: e.g. accepted and completed added, though one contains the other
    with pytest.raises(UsageError, match="part -1 ist kleiner als 0"):
        share([-1], [10])
    assert np.isnan(share([3], [np.nan])[0][0])   # a missing whole stays "no value", not a refusal


def test_errors_of_the_indicator_table_name_the_parameter_as_a_notebook_writes_it(tmp_path):
    from kimtools import indicator_table
    from kimtools.errors import UsageError

    with pytest.raises(UsageError) as refused:
        indicator_table({}, period="jahr")
    assert str(refused.value).startswith("period muss eines von ") and "--" not in str(refused.value)
