"""The steering committee's page: status changes, key figures against earlier quarters, the printable page.

Status changes on the hand-made export of test_referrals plus these rows (worked out by hand):

====  ============  =========  ==========  ==============
case  district      at intake  date        new status
====  ============  =========  ==========  ==============
F1    Herne-Mitte   duldung    01.03.2024  ae_104c
F1                             01.06.2024  ae_25b
F2    Sodingen      ae_104c    01.04.2024  ae_104c (same as held: not a change)
F2                             20.06.2024  ae_25a
F3    Herne-Mitte   duldung    15.06.2024  ae_104c
====  ============  =========  ==========  ==============

All dates: duldung→ae_104c 2 (F1, F3), ae_104c→ae_25b 1 (F1), ae_104c→ae_25a 1 (F2).
01.04.–30.06.2024: duldung→ae_104c 1 (F3); ae_104c→ae_25b 1 (F1, whose earlier change lies before the window but
still gives the status held); ae_104c→ae_25a 1. Sodingen alone: ae_104c→ae_25a 1.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from conftest import prepared_views, write_export
from kimtools import read_export
from kimtools.analysis.pathways import status_transitions
from kimtools.present.steering import key_figure_tiles
from kimtools.views.steering import comparison_periods, key_figures
from test_referrals import REF

STATUS = """\
fall_id;datum;nach_status
F1;01.03.2024;ae_104c
F1;01.06.2024;ae_25b
F2;01.04.2024;ae_104c
F2;20.06.2024;ae_25a
F3;15.06.2024;ae_104c
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return read_export(write_export(tmp_path_factory.mktemp("status"), {**REF, "statuswechsel": STATUS}),
                       show_progress=False).tables


def _pairs(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(r.von_status, r.nach_status): int(r.n) for r in frame.itertuples()}


def test_status_changes_all_dates(tables):
    t = status_transitions(tables, "Herne")
    assert _pairs(t) == {("duldung", "ae_104c"): 2, ("ae_104c", "ae_25b"): 1, ("ae_104c", "ae_25a"): 1}
    assert t.set_index(["von_status", "nach_status"]).loc[("duldung", "ae_104c"), "personen"] == 2


def test_status_changes_in_a_window_keep_the_status_held_before(tables):
    t = status_transitions(tables, "Herne", dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    assert _pairs(t) == {("duldung", "ae_104c"): 1, ("ae_104c", "ae_25b"): 1, ("ae_104c", "ae_25a"): 1}
    assert _pairs(status_transitions(tables, "Herne", filters={"stadtbezirk": "Sodingen"})) == {("ae_104c", "ae_25a"): 1}


def test_comparison_quarters_cross_the_year():
    assert comparison_periods("2025-Q1") == {"aktuell": "2025-Q1", "vorquartal": "2024-Q4", "vorjahr": "2024-Q1"}
    assert comparison_periods("2025-Q3")["vorjahr"] == "2024-Q3"


TABLE = pd.DataFrame([
    ("personen_erreicht", "2025-Q3", 10, 10.0), ("personen_erreicht", "2025-Q2", 2, 2.0),
    ("personen_erreicht", "2024-Q3", 8, 8.0), ("personen_erreicht", "2025-Q1", 99, 99.0),
    ("faelle_je_vzae", "2025-Q3", 45, 45.0), ("faelle_je_vzae", "2025-Q2", 2, 2.0),
], columns=["kennzahl", "zeitraum", "zaehler", "wert"])


def test_key_figures_pick_the_three_quarters():
    k = key_figures(TABLE, "2025-Q3")
    assert set(zip(k["kennzahl"], k["vergleich"], k["zaehler"])) == {
        ("personen_erreicht", "aktuell", 10), ("personen_erreicht", "vorquartal", 2), ("personen_erreicht", "vorjahr", 8),
        ("faelle_je_vzae", "aktuell", 45), ("faelle_je_vzae", "vorquartal", 2)}


def _text(tile_html: str) -> str:
    return re.sub(r"<[^>]+>", "|", tile_html)


def test_tiles_hide_small_counts_and_compute_no_change_from_them():
    persons, open_cases, load, new = key_figure_tiles(TABLE, "2025-Q3", minimum=3, band=(30, 40))
    text = _text(persons)
    assert "|10|" in text
    assert "Vorquartal 2025-Q2: &lt; 3|" in text            # hidden, and no per cent from it
    assert "Vorjahresquartal 2024-Q3: 8 (+25\u00a0%)" in text    # 10 against 8
    assert "|–|" in _text(open_cases)                        # no row at all
    assert "|45,0|" in _text(load) and "kim-tile over" in load   # above the band of 30–40
    assert "Vorquartal 2025-Q2: –" in _text(load)            # a load on 2 cases is not shown
    assert "title='Fälle mit Beginn in P.'" in new           # the definition on hover


def test_windows_prepared_in_a_pause_are_those_of_the_filters_and_are_used(demo_store):
    """After a change the steering page prepares the other districts and the neighbouring quarters in the background;
    choosing one of them shows exactly the window the page would read for it."""
    from kimtools import Store
    from kimtools.views.steering import window_views
    from kimtools.panels import LenkungskreisPanel

    store = Store(demo_store)
    panel = LenkungskreisPanel(store)
    v, quarters, districts, prepared = prepared_views(panel)
    assert {(v["kommune"], v["zeitraum"], d) for d in districts} | {(v["kommune"], quarters[1], None)} <= set(prepared)
    for district, zeitraum in ((districts[0], v["zeitraum"]), (None, quarters[1])):
        key = (v["kommune"], zeitraum, district)
        panel.filters.zeitraum.value = zeitraum
        panel.filters.stadtbezirk.value = district
        assert panel._windows[key] is prepared[key] and panel.message.value == ""
        direct = window_views(store, v["kommune"], zeitraum, district)
        assert set(direct) == set(prepared[key])
        for name, value in direct.items():
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(prepared[key][name], value)
            else:
                assert prepared[key][name] == value


def test_the_since_start_tile_counts_up_to_the_end_of_the_quarter_and_hides_small_counts():
    from kimtools.present.steering import since_start_tile

    since = pd.DataFrame({"kennzahl": ["personen_erreicht", "beratungen", "personen_mit_angehoerigen"],
                          "zaehler": pd.array([1234, 2, pd.NA], dtype="Int64")})
    text = _text(since_start_tile(since, dt.date(2025, 9, 30), minimum=3))
    assert "|1.234||Seit Beginn|" in text and "bis 30.09.2025" in text
    assert "Beratungen: &lt; 3" in text and "Angehörigen" not in text   # not recorded: no line


def test_the_page_counts_since_the_start_up_to_its_quarter(demo_store):
    """The window of a quarter holds persons and consultations from the first date up to the quarter's end, as the
    store has them: persons = distinct pseudonyms with a case begun by then; consultations dated by then."""
    from kimtools import Store
    from kimtools.views.steering import window_views

    store = Store(demo_store)
    since = window_views(store, "Herne", "2025-Q2")["since"].set_index("kennzahl")["zaehler"]
    by_hand = store.query("""SELECT (SELECT count(DISTINCT person_pseudonym) FROM faelle WHERE kommune = 'Herne'
                                     AND beginn <= DATE '2025-06-30') AS p,
                                    (SELECT count(*) FROM beratungen WHERE kommune = 'Herne'
                                     AND datum <= DATE '2025-06-30') AS b""").iloc[0]
    assert (since["personen_erreicht"], since["beratungen"]) == (by_hand["p"], by_hand["b"])
    assert since["personen_mit_angehoerigen"] > since["personen_erreicht"]   # the demo records household members
