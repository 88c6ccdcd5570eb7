"""Every boundary on both sides, worked out by hand on the base export (see ``test_indicators``).

Base export (Herne): F1 begun 01.02.2024 and open; F2 15.03.2024–30.06.2024, the data end; one post of
1.5 FTE for CM1 from 01.01.2024. Each test names the slip of the code it is there to catch; each was made
by hand and seen to fail the test.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from conftest import BASE, indicator_row, write_export
from kimtools import ImportValidationError, Store, import_export, indicator_table, read_export
from kimtools.ingest import quality
from kimtools.indicators.disclosure import exposed
from kimtools.exchange.bundle import bundle_periods, bundle_reference, parse_period


def _read(tmp_path, files, **kw):
    return read_export(write_export(tmp_path / "export", files), show_progress=False, **kw)


def _store(tmp_path, files) -> Store:
    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "export", files), store, show_progress=False)
    return store


# --------------------------------------------------------------------------- posts on the period's last day
@pytest.mark.parametrize("bis, active", [("31.03.2024", True), ("30.03.2024", False)])
def test_a_post_ending_on_the_quarters_last_day_is_active_that_day(tmp_path, bis, active):
    """Slip caught: ``st.bis >= p.pe`` written as ``>``. At 31.03.2024 F1 and F2 are open: 2 cases per 1.5 FTE."""
    files = dict(BASE, stellen=BASE["stellen"].replace("01.01.2024;", f"01.01.2024;{bis}"))
    for source in (_read(tmp_path, files).tables, _store(tmp_path, files)):
        row = indicator_row(indicator_table(source, period="quarter"), "faelle_je_vzae", zeitraum="2024-Q1")
        if active:
            assert (row["zaehler"], row["nenner"]) == (2, 1.5) and row["wert"] == pytest.approx(2 / 1.5)
        else:
            assert pd.isna(row["wert"])


@pytest.mark.parametrize("bis, active", [("31.03.2024", True), ("30.03.2024", False)])
def test_a_bundles_posts_count_a_post_ending_on_the_quarters_last_day(tmp_path, bis, active):
    """The same boundary in the comparison bundle's denominators (``bis >= pe`` there too)."""
    store = _store(tmp_path, dict(BASE, stellen=BASE["stellen"].replace("01.01.2024;", f"01.01.2024;{bis}")))
    ref = bundle_reference(store, "Herne", bundle_periods(*parse_period("2024-Q1")))
    posts = ref.loc[(ref["bezugsgroesse"] == "vzae") & (ref["zeitraum"] == "2024-Q1")]
    assert posts["wert"].tolist() == ([1.5, 1.5] if active else [])   # Herne-Mitte and the total


# --------------------------------------------------------------------------- open loops: 30 and 31 days
@pytest.mark.parametrize("datum, counted", [("31.05.2024", 0), ("30.05.2024", 1)])
def test_open_loops_count_referrals_more_than_30_days_old(tmp_path, datum, counted):
    """Slip caught: ``datum < pe - 30`` written as ``<=``. On 30.06.2024 a referral of 31.05. is 30 days old."""
    files = dict(BASE, vermittlungen=BASE["vermittlungen"].replace("01.04.2024;ABH;aufenthalt;abgelehnt",
                                                                   f"{datum};ABH;aufenthalt;vermittelt"))
    for source in (_read(tmp_path, files).tables, _store(tmp_path, files)):
        t = indicator_table(source, period="quarter", kennzahlen=["offene_schleifen"])
        assert indicator_row(t, "offene_schleifen", zeitraum="2024-Q2")["zaehler"] == counted


@pytest.mark.parametrize("datum, days", [(dt.date(2024, 5, 31), None), (dt.date(2024, 5, 30), 31)])
def test_stale_referrals_are_those_older_than_30_days(datum, days):
    """Slip caught: ``tage_offen > days`` written as ``>=``. The reference day is the data end, 30.06.2024."""
    tables = {
        "faelle": pd.DataFrame({"kommune": ["H"], "fall_id": ["F1"], "beginn": pd.to_datetime(["2024-01-01"]),
                                "ende": pd.to_datetime(["2024-06-30"])}),
        "beratungen": pd.DataFrame({"kommune": ["H"], "fall_id": ["F1"], "datum": pd.to_datetime(["2024-01-02"])}),
        "vermittlungen": pd.DataFrame({"kommune": ["H"], "vermittlung_id": ["V1"], "fall_id": ["F1"],
                                       "datum": pd.to_datetime([datum]), "an_partner": ["JC"],
                                       "handlungsfeld": ["arbeit"], "status": ["vermittelt"]}),
    }
    stale = quality.stale_referrals(tables)
    assert stale["tage_offen"].tolist() == ([] if days is None else [days])


# --------------------------------------------------------------------------- the case's end day, today
def test_a_consultation_on_the_cases_end_day_is_within_the_case(tmp_path):
    """Slip caught: ``datum > ende`` written as ``>=``. F2 ends on 30.06.2024; the day after is refused."""
    ok = dict(BASE, beratungen=BASE["beratungen"].replace("B2;F2;20.03.2024", "B2;F2;30.06.2024"))
    assert _read(tmp_path, ok).tables["beratungen"]["datum"].max() == pd.Timestamp("2024-06-30")
    late = dict(BASE, beratungen=BASE["beratungen"].replace("B2;F2;20.03.2024", "B2;F2;01.07.2024"))
    with pytest.raises(ImportValidationError) as info:
        _read(tmp_path, late)
    assert info.value.problems[["tabelle", "zeile", "spalte", "wert"]].values.tolist() == [
        ["beratungen", 3, "datum", "01.07.2024"]]


def test_an_event_dated_today_is_not_in_the_future(tmp_path):
    """Slip caught: ``parsed > today`` written as ``>=``. F2 ends on 30.06.2024: fine on that day, not the day before."""
    assert len(_read(tmp_path, BASE, today=dt.date(2024, 6, 30)).tables["faelle"]) == 2
    with pytest.raises(ImportValidationError) as info:
        _read(tmp_path, BASE, today=dt.date(2024, 6, 29))
    p = info.value.problems
    assert p[["tabelle", "zeile", "spalte", "wert"]].values.tolist() == [["faelle", 3, "ende", "30.06.2024"]]
    assert "Zukunft" in p["grund_de"].iloc[0]


# --------------------------------------------------------------------------- disclosure: a range two wide
def test_a_protected_range_of_two_values_reaching_below_the_minimum_is_exposed():
    """Slip caught: ``high - low < 2`` written as ``< 1`` (or ``<= 2``). With minimum 3: [2, 3] leaves an attacker
    two values, one of them small — exposed; [1, 3] and [2, 4] leave three values — safe; [3, 4] is never small."""
    low, high = np.array([2, 1, 2, 3]), np.array([3, 3, 4, 4])
    assert exposed(low, high, 3).tolist() == [True, False, False, False]


# --------------------------------------------------------------------------- a re-import replaces the posts
def test_a_reimport_replaces_a_kommunes_posts(tmp_path):
    """Slip caught: the replace keeping a kommune's old posts. The new delivery has another post and then none."""
    store = _store(tmp_path, BASE)
    assert store.table("stellen")["vzae"].tolist() == [1.5]
    moved = dict(BASE, stellen="traeger;stadtbezirk;vzae;von;bis\nCM1;Sodingen;0,5;01.03.2024;\n")
    import_export(write_export(tmp_path / "moved", moved), store, show_progress=False)
    assert store.table("stellen")[["stadtbezirk", "vzae"]].values.tolist() == [["Sodingen", 0.5]]
    none = dict(BASE, stellen="traeger;stadtbezirk;vzae;von;bis\n")
    import_export(write_export(tmp_path / "none", none), store, show_progress=False)
    assert store.table("stellen").empty
