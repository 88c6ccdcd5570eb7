"""The referral network on the hand-made export of test_referrals, worked out by hand.

Out of case management (all dates): CM1→JC 3 (V1, V6, V8), CM1→VHS 2 (V2, V5), CM1→ABH 1 (V7),
CM2→ABH 1 (V3), CM2→JC 1 (V4). Into it (zugang_ueber): JC→CM1 1 (F1), ABH→CM2 1 (F2).
Undirected: CM1–JC 4, CM1–VHS 2, CM1–ABH 1, CM2–ABH 2, CM2–JC 1; GA has no link.
Neighbours: CM1 3, CM2 2, JC 2, ABH 2, VHS 1, GA 0. The cycle CM1–JC–CM2–ABH–CM1 holds all links
but CM1–VHS, which is therefore the only bridge.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from conftest import prepared_views, write_export
from kimtools import read_export
from kimtools.analysis import network as N
from kimtools.contract.outcomes import outcome
from kimtools.errors import UsageError
from test_referrals import REF


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return read_export(write_export(tmp_path_factory.mktemp("net"), REF), show_progress=False).tables


@pytest.fixture(scope="module")
def graph(tables):
    return N.referral_graph(N.referral_edges(tables), tables["partner"])


def test_edges_and_degrees(graph):
    n = lambda u, v: graph[("Herne", u)][("Herne", v)]["n"]  # noqa: E731
    assert (n("CM1", "JC"), n("CM1", "VHS"), n("CM1", "ABH"), n("CM2", "ABH"), n("CM2", "JC")) == (3, 2, 1, 1, 1)
    assert (n("JC", "CM1"), n("ABH", "CM2")) == (1, 1)
    assert outcome(graph[("Herne", "CM1")][("Herne", "JC")], "angenommen") == 2   # V1 and V8; V6 not taken up
    und = graph.to_undirected()
    assert {p: und.degree(("Herne", p)) for p in ("CM1", "CM2", "JC", "ABH", "VHS", "GA")} == {
        "CM1": 3, "CM2": 2, "JC": 2, "ABH": 2, "VHS": 1, "GA": 0}


def test_the_one_bridge(graph):
    b = N.domain_bridges(graph)
    assert b[["von", "nach", "n"]].values.tolist() == [["CM1", "VHS", 2]]
    assert not b["zwischen_rechtskreisen"].iloc[0]   # neither has a legal domain


def test_partners_that_join_legal_domains(graph):
    # CM1 exchanges with JC (SGB II, 3 + 1), ABH (AufenthG, 1) and VHS (none): two domains, volume 5;
    # CM2 with ABH (1 + 1) and JC (1): two domains, volume 3; JC and ABH only with providers (none)
    b = N.domain_brokers(graph).set_index("partner_id")
    assert b.loc["CM1", ["rechtskreise", "anzahl_rechtskreise", "volumen_rechtskreise"]].tolist() == [["aufenthg", "sgb2"], 2, 5]
    assert b.loc["CM2", ["anzahl_rechtskreise", "volumen_rechtskreise"]].tolist() == [2, 3]
    assert b.loc["JC", "anzahl_rechtskreise"] == 0 and list(b.index[:2]) == ["CM1", "CM2"]


def test_flows(graph):
    f = N.partner_flows(graph).set_index("partner_id")
    assert (f.loc["CM1", "eingang"], f.loc["CM1", "ausgang"]) == (1, 6)
    assert (f.loc["JC", "eingang"], f.loc["JC", "ausgang"]) == (4, 1)
    assert f.index[0] == "CM1" and f.loc["GA", "volumen"] == 0
    # VHS hangs on CM1 alone: every shortest path from VHS runs through CM1, none through VHS
    assert f.loc["VHS", "vermittlerrolle"] == 0 and f.loc["CM1", "vermittlerrolle"] > f.loc["CM2", "vermittlerrolle"]


def test_funnel(tables):
    assert N.funnel(N.referral_edges(tables)).values.tolist() == [
        ["vermittelt", 8], ["beantwortet", 6], ["angenommen", 3], ["erstkontakt", 2], ["abgeschlossen", 1]]


def test_change_between_two_quarters(tables):
    q1 = N.referral_edges(tables, von=dt.date(2024, 1, 1), bis=dt.date(2024, 3, 31))
    q2 = N.referral_edges(tables, von=dt.date(2024, 4, 1), bis=dt.date(2024, 6, 30))
    c = N.network_change(q1, q2).set_index(["quelle", "ziel", "richtung"])
    assert c.loc[("CM1", "JC", "aus"), ["n_vorher", "n_nachher", "veraenderung"]].tolist() == [1, 2, "mehr"]
    assert c.loc[("CM1", "VHS", "aus"), "veraenderung"] == "gleich"
    assert c.loc[("CM1", "ABH", "aus"), "veraenderung"] == "neu"
    assert c.loc[("CM2", "ABH", "aus"), "veraenderung"] == "weggefallen"
    assert c.loc[("JC", "CM1", "ein"), "veraenderung"] == "weggefallen"
    assert len(c) == 7


def answered(n: int, accepted: int) -> dict[str, int]:
    """Counts per status of ``n`` answered referrals, ``accepted`` of them accepted and the rest declined."""
    return {"vermittelt": 0, "warteliste": 0, "angenommen": accepted, "abgeschlossen": 0, "abgelehnt": n - accepted,
            "nicht_wahrgenommen": 0}


def test_the_counts_of_an_edge_add_up_and_none_contains_another(tables):
    """One column per status: each referral in exactly one, so that adding two columns never counts one twice (the
    accepted-or-completed outcome is their sum, asked for by name)."""
    edges = N.referral_edges(tables)
    out = edges.loc[edges["richtung"] == "aus"]
    statuses = ["vermittelt", "warteliste", "angenommen", "abgeschlossen", "abgelehnt", "nicht_wahrgenommen"]
    assert (out[statuses].sum(axis=1) == out["n"]).all() and out["n"].sum() == 8
    assert "beantwortet" not in edges.columns and "erstkontakt" not in edges.columns
    jc = out.loc[(out["quelle"] == "CM1") & (out["ziel"] == "JC")].iloc[0]
    assert (jc["angenommen"] + jc["abgeschlossen"], outcome(jc, "angenommen")) == (2, 2)


def test_period_bounds():
    assert N.period_bounds("2024") == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert N.period_bounds("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def test_outliers_need_enough_referrals_and_use_intervals():
    """20 partners alike (accept 10 of 20) and one that accepts 1 of 20: only that one is 'niedriger';
    a partner with 3 answered referrals gets no verdict."""
    rows = [{"kommune": "K", "quelle": "CM", "ziel": f"P{i}", "richtung": "aus", "n": 20, **answered(20, 10)}
            for i in range(20)]
    rows += [{"kommune": "K", "quelle": "CM", "ziel": "LOW", "richtung": "aus", "n": 20, **answered(20, 1)},
             {"kommune": "K", "quelle": "CM", "ziel": "FEW", "richtung": "aus", "n": 3, **answered(3, 0)}]
    edges = pd.DataFrame(rows)
    partners = pd.DataFrame({"kommune": "K", "partner_id": edges["ziel"], "name": edges["ziel"], "typ": "sonstige"})
    waits = pd.DataFrame(columns=["kommune", "an_partner", "partner_typ", "dauer", "beendet"])
    o = N.partner_outliers(edges, waits, partners).set_index("partner_id")
    assert o.loc["LOW", "annahme_befund"] == "niedriger"
    assert o.loc["FEW", "annahme_befund"] == "zu_wenige"
    assert (o.drop(index=["LOW", "FEW"])["annahme_befund"] == "unauffaellig").all()
    # LOW: Wilson 95 % for 1 of 20 is (0.0089, 0.2361), below all others' 200 of 403 (FEW included) = 0.496
    assert o.loc["LOW", "annahme_ki_oben"] == pytest.approx(0.2361, abs=1e-4)
    assert o.loc["LOW", "annahme_uebrige"] == pytest.approx(200 / 403)


def test_waiting_time_outlier_by_interval():
    """SLOW: 15 first appointments after 50, 51, …, 64 days; five partners with 20 each after 5, 6, …, 24 days.
    Median = first time with S ≤ 0.5. SLOW: S(56) = 8/15, S(57) = 7/15 → 57. All others: S(14) = 1 − 50/100
    = 0.5 → 14. SLOW's interval lies wholly above 14 → 'laenger'. Each of the five has median 14, and the
    rest (four alike, 4 waits per day, plus SLOW): S(15) = 1 − 44/95 = 0.537, S(16) = 1 − 48/95 = 0.495 → 16,
    inside their interval → 'unauffaellig'."""
    waits = pd.DataFrame([{"kommune": "K", "an_partner": "SLOW", "partner_typ": "x", "dauer": d, "beendet": True}
                          for d in range(50, 65)] +
                         [{"kommune": "K", "an_partner": f"P{i}", "partner_typ": "x", "dauer": d, "beendet": True}
                          for i in range(5) for d in range(5, 25)])
    ids = ["SLOW"] + [f"P{i}" for i in range(5)]
    edges = pd.DataFrame({"kommune": "K", "quelle": "CM", "ziel": ids, "richtung": "aus", "n": 20, **answered(20, 10)})
    partners = pd.DataFrame({"kommune": "K", "partner_id": ids, "name": ids, "typ": "x"})
    o = N.partner_outliers(edges, waits, partners).set_index("partner_id")
    assert o.loc["SLOW", "wartezeit_median"] == 57 and o.loc["SLOW", "wartezeit_uebrige"] == 14
    assert o.loc["SLOW", "wartezeit_ki_unten"] > 14
    assert (o.drop(index="SLOW")[["wartezeit_median", "wartezeit_uebrige"]].values.tolist() == [[14, 16]] * 5)
    assert o.loc["SLOW", "wartezeit_befund"] == "laenger"
    assert (o.drop(index="SLOW")["wartezeit_befund"] == "unauffaellig").all()


def test_no_referrals_in_the_selection_gives_no_outliers_not_an_error():
    """A narrow filter (one district, one provider, one target group) can leave no referral at all."""
    edges = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (("kommune", str), ("quelle", str), ("ziel", str),
                          ("richtung", str), ("n", int), *((code, int) for code in answered(0, 0)))})
    waits = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (("kommune", str), ("an_partner", str), ("partner_typ", str),
                          ("dauer", int), ("beendet", bool))})
    partners = pd.DataFrame({"kommune": ["K"], "partner_id": ["P"], "name": ["P"], "typ": ["x"]})
    o = N.partner_outliers(edges, waits, partners)
    assert o.empty and {"annahme_befund", "wartezeit_befund", "wartezeit_uebrige"} <= set(o.columns)


def _drawn_edges(fig):
    """Number of line segments drawn (each edge is x0, x1, None)."""
    return sum(len(t.x) // 3 for t in fig.data if t.mode == "lines")


def test_network_figure_hides_small_links_and_labels_partners(graph):
    from kimtools.present import figures as F

    assert _drawn_edges(F.network_figure(graph, minimum=1)) == 7      # 5 out + 2 in
    assert _drawn_edges(F.network_figure(graph, minimum=3)) == 1      # only CM1→JC (3)
    fig = F.network_figure(graph, minimum=1)
    names = [n for t in fig.data if t.mode and "markers" in t.mode for n in t.text]
    # partners by name beside the ring; the providers in the middle by number, named in the legend in name order
    assert sorted(names) == sorted(["1", "2", "Jobcenter Herne", "Ausländerbehörde Herne", "VHS Herne",
                                    "Gesundheitsamt Herne"])
    legend = {t.name for t in fig.data if t.showlegend is not False}
    assert {"SGB II", "AufenthG", "ohne Rechtskreis", "1 Caritas Herne", "2 Diakonie Herne"} <= legend
    assert {t.legendgrouptitle.text for t in fig.data if t.legendgroup == "traeger"} == {"Case-Management-Träger"}


def test_referral_figures_mask_small_counts(tables):
    from kimtools.present import figures as F

    edges = N.referral_edges(tables)
    funnel = F.referral_funnel(N.funnel(edges))             # 8, 6, 3, 2, 1
    assert list(funnel.data[0].text[:3]) == ["8", "6", "3"] and list(funnel.data[0].text[3:]) == ["< 3", "< 3"]
    assert list(funnel.data[0].x[3:]) == [0, 0]
    sankey = F.referral_sankey(N.sankey_flows(tables), {"CM1": "Caritas Herne"}, minimum=3)
    # CM1→arbeit 3 (V1, V6, V8); arbeit→jobcenter 4 (V1, V4, V6, V8); every other link has 1 or 2
    assert list(sankey.data[0].link.value) == [3, 4]
    assert "Caritas Herne" in sankey.data[0].node.label and "Jobcenter" in sankey.data[0].node.label
    heat = F.domain_heatmap(N.domain_matrix(tables))
    assert "1" not in {v for row in heat.data[0].text for v in row} and "< 3" in {v for row in heat.data[0].text for v in row}


def test_waiting_curves_per_partner_type():
    from kimtools.present import figures as F

    waits = pd.DataFrame({"kommune": "K", "an_partner": "X", "partner_typ": ["jobcenter"] * 30 + ["vhs"] * 5,
                          "dauer": list(range(30)) + list(range(5)), "beendet": True})
    fig = F.waiting_curves(waits)
    shown = [t.name for t in fig.data if t.visible]
    assert shown == ["Jobcenter"]                           # VHS has fewer than 20 waits: hidden
    assert fig.layout.xaxis.title.text == "Tage seit der Vermittlung"


@pytest.mark.parametrize("von, bis, filters", [
    (dt.date(2024, 1, 1), dt.date(2024, 3, 31), {}),
    (dt.date(2024, 4, 1), dt.date(2024, 6, 30), {}),
    (dt.date(2023, 7, 1), dt.date(2024, 6, 30), {"traeger": "CM1"}),
    (dt.date(2024, 1, 1), dt.date(2024, 12, 31), {"traeger": "CM2", "zielgruppe": None}),
])
def test_a_window_cut_from_the_monthly_referrals_equals_the_direct_query(tables, von, bis, filters):
    # two routes to the same numbers: the database filters the window, or pandas adds up the months
    cut = N.referral_window(N.referral_months(tables), von, bis, filters)
    direct = {"edges": N.referral_edges(tables, None, von, bis, filters),
              "waits": N.waiting_times(tables, None, von, bis, filters),
              "sankey": N.sankey_flows(tables, None, von, bis, filters),
              "domains": N.domain_matrix(tables, None, von, bis, filters)}
    for name, expected in direct.items():
        got = cut[name]
        if name == "waits":   # one row per referral, in no particular order
            got, expected = (x.sort_values(list(x.columns), ignore_index=True) for x in (got, expected))
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_the_monthly_cut_counts_by_hand_and_refuses_part_months(tables):
    months = N.referral_months(tables)
    q = lambda von, bis: N.referral_window(months, von, bis)["edges"].set_index(["quelle", "ziel", "richtung"])["n"]  # noqa: E731
    assert q(dt.date(2024, 1, 1), dt.date(2024, 3, 31))[("CM1", "JC", "aus")] == 1
    assert q(dt.date(2024, 4, 1), dt.date(2024, 6, 30))[("CM1", "JC", "aus")] == 2
    with pytest.raises(UsageError, match="ganzen Monaten"):
        N.referral_window(months, dt.date(2024, 1, 15), dt.date(2024, 3, 31))


def test_a_districts_loops_and_gaps_cut_from_the_kommunes_equal_the_filtered_queries(demo_store):
    """The network page reads open loops and gaps once for the kommune and all districts and cuts a district's out
    of them; the direct queries with the district filter (network_fixed) give the same tables."""
    from kimtools import Store
    from kimtools.views.netzwerk import district_fixed, network_base, network_fixed

    store = Store(demo_store)
    kommune = store.kommunen()[0]
    districts = store.query("SELECT DISTINCT stadtbezirk FROM faelle WHERE kommune = ? ORDER BY 1", [kommune])
    provider = store.query("SELECT traeger FROM faelle WHERE kommune = ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                           [kommune])["traeger"][0]
    for traeger in (None, provider):
        base = network_base(store, kommune, {"traeger": traeger, "zielgruppe": None})
        for district in [None, *districts["stadtbezirk"].dropna()[:3]]:
            direct = network_fixed(store, kommune, {"stadtbezirk": district, "traeger": traeger, "zielgruppe": None})
            cut = district_fixed(base, district)
            assert len(direct["loops"]) > 0
            pd.testing.assert_frame_equal(cut["loops"], direct["loops"].reset_index(drop=True))
            pd.testing.assert_frame_equal(cut["gaps"], direct["gaps"])


def test_views_prepared_in_a_pause_are_those_of_the_filters_and_are_used(demo_store):
    """After a change the network page prepares the other districts and the neighbouring quarters in the
    background; choosing one of them shows exactly what the direct, district-filtered queries give."""
    import networkx as nx

    from kimtools import Store
    from kimtools.panels import NetworkPanel, network_fixed, network_views

    store = Store(demo_store)
    panel = NetworkPanel(store)
    v, quarters, districts, prepared = prepared_views(panel)
    expected = {(v["kommune"], v["zeitraum"], d, None, None) for d in districts} | \
               {(v["kommune"], quarters[1], None, None, None)}
    assert expected <= set(prepared)
    for district, zeitraum in ((districts[-1], v["zeitraum"]), (None, quarters[1])):
        key = (v["kommune"], zeitraum, district, None, None)
        panel.filters.zeitraum.value = zeitraum
        panel.filters.stadtbezirk.value = district
        assert panel._data is prepared[key] and panel.message.value == ""
        f = {"stadtbezirk": district, "traeger": None, "zielgruppe": None}
        direct = {**network_fixed(store, v["kommune"], f), **network_views(store, v["kommune"], zeitraum, **f)}
        for name in ("edges", "waits", "sankey", "domains", "loops", "partners"):
            pd.testing.assert_frame_equal(panel._data[name].reset_index(drop=True), direct[name].reset_index(drop=True))
        pd.testing.assert_frame_equal(panel._data["gaps"], direct["gaps"])
        assert nx.utils.graphs_equal(panel._data["graph"], direct["graph"])
        assert (panel._data["start"], panel._data["end"]) == (direct["start"], direct["end"])


def test_the_network_pages_key_figures_by_hand():
    """Referrals out: 30 sent, 20 answered, 15 accepted (Wilson 95 % for 15/20 by the closed formula: 0.531–0.888);
    an incoming edge is not counted; 3 open loops at the end of 2025-Q2 (the quarter before is not taken); 19 waits
    give no median, 20 give one (all ended: 1 … 20 days, Kaplan–Meier median = the 10th, 10 days)."""
    import math

    from kimtools.views.netzwerk import MIN_WAITS, network_key_figures

    # per status: 18 = 6 sent + 5 accepted + 4 completed + 3 declined; 12 = 4 sent + 6 accepted + 1 + 1
    edges = pd.DataFrame({"richtung": ["aus", "aus", "ein"], "n": [18, 12, 99], "vermittelt": [6, 4, 99],
                          "warteliste": [0, 0, 99], "angenommen": [5, 6, 99], "abgeschlossen": [4, 0, 99],
                          "abgelehnt": [3, 1, 99], "nicht_wahrgenommen": [0, 1, 99]})
    loops = pd.DataFrame({"zeitraum": ["2025-Q1", "2025-Q2"], "zaehler": [7, 3]})
    waits = pd.DataFrame({"dauer": range(1, MIN_WAITS + 1), "beendet": [True] * MIN_WAITS})
    k = network_key_figures({"edges": edges, "loops": loops, "waits": waits}, "2025-Q2").set_index("kennzahl")
    assert k.loc["vermittlungen", "zaehler"] == 30 and k.loc["offene_schleifen", "zaehler"] == 3
    assert (k.loc["annahmequote", "zaehler"], k.loc["annahmequote", "nenner"]) == (15, 20)
    z, p, n = 1.959964, 0.75, 20
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert k.loc["annahmequote", "wert"] == 0.75
    assert abs(k.loc["annahmequote", "ki_unten"] - (centre - half)) < 1e-4 and abs(k.loc["annahmequote", "ki_oben"] - (centre + half)) < 1e-4
    assert k.loc["wartezeit_median_tage", "wert"] == 10
    fewer = network_key_figures({"edges": edges, "loops": loops, "waits": waits.iloc[:MIN_WAITS - 1]}, "2025-Q3")
    fewer = fewer.set_index("kennzahl")
    assert math.isnan(fewer.loc["wartezeit_median_tage", "wert"]) and math.isnan(fewer.loc["offene_schleifen", "zaehler"])


def test_every_colour_of_a_link_in_the_network_is_named_in_its_legend(graph):
    """The legend entry of an acceptance class stood on its thinnest lines; where a class had only thick ones (CM1→JC,
    3 referrals, 2 of 3 answered ones accepted: 50–70 %), plotly showed its colour without a name."""
    from kimtools.present import figures as F

    fig = F.network_figure(graph, minimum=1)
    drawn = {t.line.color for t in fig.data if t.mode == "lines" and t.x}
    named = {t.line.color: t.name for t in fig.data if t.mode == "lines" and t.x and t.showlegend is not False}
    assert drawn and drawn == set(named)
    assert "Annahme 50–70 %" in named.values()
