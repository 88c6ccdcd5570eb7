"""Figures through fig.data and fig.layout: the right numbers, German labels, no small counts drawn."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from kimtools.present import figures as F


def _rows(kennzahl, groups, values, by="stadtbezirk", zaehler=None, nenner=None, lo=None, hi=None, **extra):
    n = len(groups)
    return pd.DataFrame({"kommune": "Herne", by: groups, "zeitraum": "2024-Q2", "kennzahl": kennzahl,
                         "zaehler": pd.array(zaehler or [10] * n, dtype="Int64"),
                         "nenner": pd.array(nenner or [1.0] * n, dtype="Float64"),
                         "wert": pd.array(values, dtype="Float64"),
                         "ki_unten": pd.array(lo or [None] * n, dtype="Float64"),
                         "ki_oben": pd.array(hi or [None] * n, dtype="Float64"), **extra})


def test_counts_over_time_masks_small_counts_and_labels_in_german():
    rows = pd.DataFrame({"zeitraum": ["2024-Q1", "2024-Q2"] * 3,
                         "kennzahl": ["neuzugaenge"] * 2 + ["abschluesse"] * 2 + ["faelle_offen"] * 2,
                         "zaehler": pd.array([2, 12, 0, 5, 14, 20], dtype="Int64")})
    fig = F.counts_over_time(rows, bars=("neuzugaenge", "abschluesse"))
    assert [t.name for t in fig.data] == ["Neuzugänge", "Abschlüsse", "Offene Fälle"]
    assert math.isnan(fig.data[0].y[0]) and fig.data[0].y[1] == 12   # 2 is a small count: not drawn
    assert list(fig.data[1].y) == [0, 5]                               # zero is published
    assert fig.layout.separators == ",." and fig.layout.xaxis.title.text == "Zeitraum"


def test_load_per_post_colours_against_the_band():
    rows = _rows("faelle_je_vzae", ["A", "B", "C", "D"], [25.0, 35.0, 45.0, 50.0], by="traeger",
                 zaehler=[50, 70, 90, 2], nenner=[2.0, 2.0, 2.0, 0.04])
    fig = F.load_per_post(rows, names={"A": "Caritas"})
    bar = fig.data[0]
    assert list(bar.y) == ["Caritas", "B", "C"]            # D rests on 2 cases: not shown
    assert list(bar.marker.color) == [F.PALETTE[0], F.PALETTE[2], F.PALETTE[3]]   # below, within, above 30–40
    band = fig.layout.shapes[0]
    assert (band.x0, band.x1) == (30.0, 40.0) and band.fillcolor == F.PALETTE[2]
    # the band's name stands above the plot (inside, it lay over the longest bar) and names the colour it has
    (label,) = fig.layout.annotations
    assert label.yref == "paper" and label.y >= 1 and label.yanchor == "bottom" and "grün" in label.text


def test_reach_by_district_has_asymmetric_intervals():
    rows = _rows("reichweite_je_1000", ["Wanne", "Eickel"], [3.0, 1.5], lo=[2.5, 1.1], hi=[3.7, 2.0])
    fig = F.reach_by_district(rows)
    trace = fig.data[0]
    assert list(trace.y) == ["Eickel", "Wanne"]
    assert [round(v, 2) for v in trace.error_x.array] == [0.5, 0.7]
    assert [round(v, 2) for v in trace.error_x.arrayminus] == [0.4, 0.5]


def test_needs_heatmap_hides_small_cells():
    rows = pd.DataFrame({"stadtbezirk": ["Wanne", "Wanne", "Eickel", "Eickel", "Eickel"],
                         "auspraegung": ["wohnen", "pflege", "wohnen", "pflege", "pflege"],
                         "zeitraum": ["2026-Q2"] * 4 + ["2026-Q1"], "kennzahl": "faelle_offen",
                         "zaehler": pd.array([12, 2, 0, 7, 50], dtype="Int64")})
    fig = F.needs_heatmap(rows)   # the indicator table's latest period (2026-Q1's 50 is not drawn)
    hm = fig.data[0]
    assert list(hm.x) == ["Wohnen", "Pflege"] and list(hm.y) == ["Eickel", "Wanne"]
    assert hm.text[1][1] == "< 3" and math.isnan(hm.z[1][1])
    assert hm.text[0][0] == "0" and hm.z[1][0] == 12


def test_survival_curve_starts_at_100_and_skips_small_groups():
    durations = pd.DataFrame({"auspraegung": ["erstintegration"] * 20 + ["pflegesetting"] * 3,
                              "dauer": list(range(10, 210, 10)) + [5, 6, 7], "beendet": [True] * 23})
    fig = F.survival_curve(durations, groups=["erstintegration", "multiple_problemlagen", "pflegesetting"])
    assert [t.name for t in fig.data] == ["Nachholende Erstintegration", "Multiple Problemlagen", "Pflegesetting"]
    assert [len(t.x) for t in fig.data][1:] == [0, 0]          # fixed structure: small groups hidden, not dropped
    assert [t.visible for t in fig.data] == [True, False, False]
    assert fig.data[0].y[0] == 100 and fig.data[0].y[-1] == 0
    assert fig.data[0].y[10] == 50      # after 10 of 20 ended


def test_closure_reasons_in_code_order():
    rows = pd.DataFrame({"auspraegung": ["wegzug", "ziel_erreicht", "offen", "abbruch", "wegzug", "abbruch"],
                         "zeitraum": ["2026-Q1"] * 4 + ["2026-Q2", "2025-Q4"], "kennzahl": "abschluesse",
                         "zaehler": pd.array([4, 30, 99, 1, 2, 40], dtype="Int64")})
    bar = F.closure_reasons(rows, zeitraum="2026-Q1").data[0]
    assert list(bar.x) == ["Ziel erreicht", "Abbruch", "Wegzug"]
    assert bar.y[0] == 30 and math.isnan(bar.y[1]) and bar.y[2] == 4
    year = F.closure_reasons(rows, zeitraum="2026").data[0]   # a year adds up its quarters: 2025-Q4 is not in it
    assert list(year.x) == ["Ziel erreicht", "Abbruch", "Wegzug"] and list(year.y)[::2] == [30, 6]


def test_filter_bar_starts_on_all_and_resets_with_the_kommune(demo_store):
    from kimtools import Store
    from kimtools.panels import FilterBar

    bar = FilterBar(Store(demo_store))
    assert (bar.stadtbezirk.label, bar.traeger.label, bar.zielgruppe.label) == ("alle", "alle", "alle")
    seen = []
    bar.observe(seen.append)
    bar.stadtbezirk.value = bar.stadtbezirk.options[1][1]
    bar.kommune.value = "Herne"
    assert len(seen) == 2 and seen[-1]["kommune"] == "Herne" and seen[-1]["stadtbezirk"] is None
    assert bar.stadtbezirk.label == "alle" and "Wanne" in [v for _, v in bar.stadtbezirk.options]
    assert bar.zeitraum.value == "2026-Q3"


def test_a_failing_callback_shows_a_german_message(demo_store, monkeypatch):
    from kimtools import Store
    from kimtools.panels import CaseloadPanel

    panel = CaseloadPanel(Store(demo_store))
    monkeypatch.setattr(panel, "_iter_figures", lambda *args: 1 / 0)
    panel.filters.zeitraum.value = panel.filters.zeitraum.options[1]
    assert "Die Ansicht konnte nicht aktualisiert werden" in panel.message.value
    assert "ZeroDivisionError" not in panel.message.value


@pytest.mark.parametrize("panel_class", ["CaseloadPanel", "LenkungskreisPanel", "NetworkPanel"])
def test_panel_after_filter_changes_shows_what_a_fresh_panel_shows(demo_store, panel_class):
    """Figures skipped on a change (they do not depend on it) must still be right after every change."""
    from kimtools import Store
    import kimtools.panels as W

    panel, fresh = getattr(W, panel_class)(Store(demo_store)), getattr(W, panel_class)(Store(demo_store))
    bar = panel.filters
    changes = [("stadtbezirk", 2), ("zeitraum", 3), ("traeger", 1), ("stadtbezirk", 0), ("zielgruppe", 1),
               ("zeitraum", 0), ("stadtbezirk", 1), ("zielgruppe", 0), ("zeitraum", 5), ("kommune", 1),
               ("stadtbezirk", 1)]
    for widget, index in changes:
        if widget not in bar.fields:
            continue
        getattr(bar, widget).index = index
        assert panel.message.value == ""
        for name, fig in fresh._figures(bar.value).items():
            assert panel.figures[name].figure == json.loads(fig.to_json()), (widget, name)


def test_plotly_view_sends_plotly_js_once_asked_and_the_figure_as_json():
    import plotly.graph_objects as go

    from kimtools.panels import PlotlyView

    view = PlotlyView(go.Figure(go.Bar(x=["a", "b"], y=[3, 4]), layout_title_text="Titel"))
    assert view.figure["layout"]["title"]["text"] == "Titel" and view.figure["data"][0]["type"] == "bar"
    sent = []
    view.send = sent.append
    view._on_message(view, {"kind": "something else"}, [])
    assert sent == []
    view._on_message(view, {"kind": "need-plotly"}, [])
    assert sent[0]["kind"] == "plotly-source" and "plotly.js v" in sent[0]["source"][:200]
    assert len(sent[0]["source"]) > 1_000_000   # the whole library, not a CDN reference


def test_small_multiples_become_one_heatmap_for_many_units():
    """Ten cities keep a panel each; the state's 53 would be a wall of panels: one heatmap row per unit instead,
    with the value and interval in German format on hover, and an empty cell where a value is protected."""
    from kimtools.present.figures import small_multiples

    def rates(n_units: int) -> pd.DataFrame:
        rows = [{"einheit": f"Stadt {u:02d}", "kennzahl": "annahmequote", "zeitraum": q, "wert": 0.256, "unten": 0.201,
                 "oben": 0.31} for u in range(n_units) for q in ("2024-Q1", "2024-Q2")]
        frame = pd.DataFrame(rows)
        frame.loc[0, ["wert", "unten", "oben"]] = float("nan")   # Stadt 00, 2024-Q1: protected in its bundle
        return frame

    few = small_multiples(rates(10), "einheit", "annahmequote")
    assert len(few.data) == 10 and all(t.type == "scatter" for t in few.data)
    many = small_multiples(rates(20), "einheit", "annahmequote")
    assert len(many.data) == 1 and many.data[0].type == "heatmap"
    heat = many.data[0]
    assert list(heat.y) == [f"Stadt {u:02d}" for u in range(20)] and list(heat.x) == ["2024-Q1", "2024-Q2"]
    assert heat.text[0][0] == "" and heat.text[0][1] == "25,6\u00a0% (20,1–31,0\u00a0%)"


def test_posts_per_baustein_stack_filled_and_vacant_and_draw_the_funded_line():
    """Two quarters: Baustein 1 filled 2.0 both; Baustein 2 filled 10.0 then 9.0, vacant 0 then 1.0; funded 12.0 then
    12.0 (the line lies on the top of the stack: the vacant post is funded)."""
    from kimtools.present.figures import posts_by_employer, posts_over_time

    rows = [("1", q, k, w) for q, k, w in (("2025-Q1", "vzae_besetzt", 2.0), ("2025-Q2", "vzae_besetzt", 2.0),
                                            ("2025-Q1", "vzae_unbesetzt", 0.0), ("2025-Q2", "vzae_unbesetzt", 0.0),
                                            ("2025-Q1", "vzae_land", 2.0), ("2025-Q2", "vzae_land", 2.0))]
    rows += [("2", q, k, w) for q, k, w in (("2025-Q1", "vzae_besetzt", 10.0), ("2025-Q2", "vzae_besetzt", 9.0),
                                             ("2025-Q1", "vzae_unbesetzt", 0.0), ("2025-Q2", "vzae_unbesetzt", 1.0),
                                             ("2025-Q1", "vzae_land", 10.0), ("2025-Q2", "vzae_land", 10.0))]
    table = pd.DataFrame(rows, columns=["auspraegung", "zeitraum", "kennzahl", "wert"]).assign(
        kommune="Herne", merkmal="baustein", zaehler=pd.NA)
    fig = posts_over_time(table)
    bars = {t.name: list(t.y) for t in fig.data if t.type == "bar"}
    assert bars == {"Baustein 1, besetzt": [2.0, 2.0], "Baustein 1, unbesetzt": [0.0, 0.0],
                    "Baustein 2, besetzt": [10.0, 9.0], "Baustein 2, unbesetzt": [0.0, 1.0]}
    line = [t for t in fig.data if t.type == "scatter"][0]
    assert list(line.y) == [12.0, 12.0] and fig.layout.barmode == "stack"
    assert "Keine Stellen" in posts_over_time(table.iloc[:0]).layout.annotations[0].text
    by_employer = pd.DataFrame({"traeger": ["KI", "KI", "CM1", "CM1"], "zeitraum": "2025-Q2",
                                "kennzahl": ["vzae_besetzt", "vzae_unbesetzt"] * 2, "wert": [2.0, 0.0, 9.0, 1.0]})
    fig = posts_by_employer(by_employer, {"CM1": "Caritas"})
    assert [list(t.y) for t in fig.data] == [["KI", "Caritas"]] * 2   # most posts on top (last)
    assert [list(t.x) for t in fig.data] == [[2.0, 9.0], [0.0, 1.0]]
