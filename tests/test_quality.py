"""Data-quality findings on small hand-made frames."""

from __future__ import annotations

import pandas as pd

from kimtools.ingest import quality as q


def _tables():
    faelle = pd.DataFrame({
        "kommune": ["H"] * 4, "fall_id": ["F1", "F2", "F3", "F4"], "traeger": ["A", "B", "A", "A"],
        "person_pseudonym": ["p1", "p1", "p2", "p3"], "stadtbezirk": ["X"] * 4,
        "beginn": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-01-05", "2024-03-01"]),
        "ende": pd.to_datetime([None, "2024-03-31", None, None]),
        "zugang_ueber": ["JC", None, None, None], "geschlecht": ["w", "m", None, "w"],
        "geburtsjahr": [1990, None, 1980, 1970], "haushalt_personen": [1, 2, 3, 4],
    })
    beratungen = pd.DataFrame({
        "kommune": ["H"] * 4, "beratung_id": ["B1", "B2", "B3", "B4"], "fall_id": ["F1", "F1", "F2", "F3"],
        "datum": pd.to_datetime(["2024-01-10", "2024-04-30", "2024-02-02", "2024-01-05"]),
        "dauer_min": [30, None, 45, 60], "handlungsfeld": ["sprache", "arbeit", None, "wohnen"],
    })
    vermittlungen = pd.DataFrame({
        "kommune": ["H"] * 3, "vermittlung_id": ["V1", "V2", "V3"], "fall_id": ["F1", "F3", "F3"],
        "datum": pd.to_datetime(["2024-03-01", "2024-04-15", "2024-02-01"]), "an_partner": ["JC", "JC", "ABH"],
        "handlungsfeld": ["arbeit", "arbeit", "aufenthalt"], "status": ["vermittelt", "vermittelt", "angenommen"],
        "erstkontakt": pd.to_datetime([None, None, None]),
    })
    return {"faelle": faelle, "beratungen": beratungen, "vermittlungen": vermittlungen}


def test_reference_day_is_latest_event():
    assert q.stichtage(_tables())["H"] == pd.Timestamp("2024-04-30")


def test_cases_without_consultation():
    assert q.cases_without_consultation(_tables())["fall_id"].tolist() == ["F4"]


def test_stale_referrals_at_reference_day():
    # 30.04.: V1 (01.03.) open 60 days; V2 (15.04.) only 15 days; V3 answered
    out = q.stale_referrals(_tables())
    assert out[["vermittlung_id", "tage_offen"]].values.tolist() == [["V1", 60]]


def test_parallel_cases_at_two_providers():
    out = q.parallel_cases(_tables()["faelle"])
    # F1 (A, from 10.01., open) and F2 (B, 01.02.–31.03.) overlap 01.02.–31.03. = 60 days
    assert out[["fall_id_a", "fall_id_b", "tage_parallel"]].values.tolist() == [["F1", "F2", 60]]


def test_documentation_gaps():
    # provider A has cases open all of February and March (F1, F3) but no consultation dated in them;
    # April is the last, incomplete month and is left out; January is not a full month of any case
    out = q.documentation_gaps(_tables())
    assert out[["traeger", "monat"]].values.tolist() == [["A", pd.Timestamp("2024-02-01")], ["A", pd.Timestamp("2024-03-01")]]


def test_completeness():
    out = q.completeness(_tables()).set_index(["traeger", "spalte"])
    assert out.loc[("A", "geburtsjahr"), ["ausgefuellt", "gesamt"]].tolist() == [3, 3]
    assert out.loc[("B", "geburtsjahr"), ["ausgefuellt", "gesamt"]].tolist() == [0, 1]
    assert out.loc[("A", "dauer_min"), ["ausgefuellt", "gesamt"]].tolist() == [2, 3]
    # erstkontakt measured only on accepted referrals: V3 (A) without a date
    assert out.loc[("A", "erstkontakt"), ["ausgefuellt", "gesamt"]].tolist() == [0, 1]


def test_summary_counts():
    s = q.quality_summary(_tables()).iloc[0]
    assert (s["faelle"], s["ohne_beratung"], s["vermittlungen_offen_30"], s["doku_luecken_monate"], s["parallele_faelle"]) == (4, 1, 1, 2, 1)
