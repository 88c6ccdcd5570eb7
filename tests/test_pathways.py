"""§ 104c spells, their outcomes and the months their 18 months end, on the status changes of test_steering.

Worked out by hand (data end 30.06.2024, the last date of the export):

====  ===========  ==========================  ==========  =========  ======  =====================
case  district     § 104c from                 until       next       days    at the data end
====  ===========  ==========================  ==========  =========  ======  =====================
F1    Herne-Mitte  01.03.2024 (change)         01.06.2024  ae_25b     92      —
F2    Sodingen     15.03.2024 (at intake)      20.06.2024  ae_25a     97      case closed 30.06.2024
F3    Herne-Mitte  15.06.2024 (change)         30.06.2024  —          15      still § 104c, case open
====  ===========  ==========================  ==========  =========  ======  =====================

F2's second § 104c row (01.04.2024) repeats the status held and starts nothing. Kaplan–Meier over the three
spells, moving to § 25a/§ 25b as the event: F3 censored at 15 days; at 92 days 1 of 2 at risk move (S = 0.5),
at 97 days 1 of 1 (S = 0). Median 92 days = 92 / 30.4375 = 3.02 months; within 18 months: 1 − 0 = 100 %.
Herne-Mitte alone: F3 censored at 15, F1 moves at 92 (S = 0): median 92 days. F3's 18 months end on 15.12.2025.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kimtools.analysis.pathways import opportunity_expiry, opportunity_outcomes, opportunity_spells
from test_steering import tables  # noqa: F401 - the fixture


def test_spells_start_end_and_censoring(tables):  # noqa: F811
    s = opportunity_spells(tables, "Herne").set_index("fall_id")
    for c in ("beginn", "ende", "frist"):
        s[c] = [d.date() for d in s[c]]
    assert list(s.index) == ["F1", "F2", "F3"]
    assert s.loc["F1", ["beginn", "ende", "nach_status", "dauer"]].tolist() == [
        dt.date(2024, 3, 1), dt.date(2024, 6, 1), "ae_25b", 92]
    assert s.loc["F2", ["beginn", "ende", "nach_status", "dauer"]].tolist() == [
        dt.date(2024, 3, 15), dt.date(2024, 6, 20), "ae_25a", 97]
    assert s.loc["F3", ["beginn", "ende", "dauer"]].tolist() == [dt.date(2024, 6, 15), dt.date(2024, 6, 30), 15]
    assert s["uebergang"].tolist() == [True, True, False] and s["laeuft"].tolist() == [False, False, True]
    assert s["beginn_bekannt"].tolist() == [True, False, True]
    assert s.loc["F3", "frist"] == dt.date(2025, 12, 15)


def test_outcomes_count_persons_and_estimate_with_the_waiting_censored(tables):  # noqa: F811
    spells = opportunity_spells(tables, "Herne")
    o = opportunity_outcomes(spells).iloc[0]
    assert (o["personen"], o["zu_25a_25b"], o["laufend"]) == (3, 2, 1)
    assert o["anteil"] == pytest.approx(2 / 3)
    assert o["median_monate"] == pytest.approx(92 / 30.4375)
    assert o["anteil_18_monate"] == pytest.approx(1.0)
    d = opportunity_outcomes(spells, ["stadtbezirk"]).set_index("stadtbezirk")
    assert d.loc["Herne-Mitte", ["personen", "zu_25a_25b", "laufend"]].tolist() == [2, 1, 1]
    assert d.loc["Herne-Mitte", "median_monate"] == pytest.approx(92 / 30.4375)
    assert d.loc["Sodingen", "median_monate"] == pytest.approx(97 / 30.4375)


def test_expiry_by_month_counts_only_those_still_holding_the_permit(tables):  # noqa: F811
    e = opportunity_expiry(opportunity_spells(tables, "Herne"))
    assert e["monat"].iloc[0] == dt.date(2024, 6, 1) and e["monat"].iloc[-1] == dt.date(2025, 12, 1)
    assert len(e) == 19 and e["personen"].sum() == 1
    assert e.set_index("monat").loc[dt.date(2025, 12, 1), "personen"] == 1
    assert not e["abgelaufen"].any() and not e["spaetestens"].any()
