"""Referral indicators on a tiny export, expected values worked out by hand.

Herne; the data end on 30.06.2024 (F2's end), so quarters Q1 and Q2 of 2024.

======  ====  ==========  =======  ==========  ==================  ===========  ======================
ref.    case  date        partner  area        status              first appt.  gap
======  ====  ==========  =======  ==========  ==================  ===========  ======================
V1      F1    10.02.2024  JC       arbeit      angenommen          20.02.2024
V2      F1    15.02.2024  VHS      sprache     vermittelt
V3      F2    20.03.2024  ABH      aufenthalt  abgelehnt                        zustaendigkeit_unklar
V4      F2    25.03.2024  JC       arbeit      abgeschlossen       05.04.2024
V5      F3    02.04.2024  VHS      sprache     warteliste                       wartezeit
V6      F3    10.06.2024  JC       arbeit      nicht_wahrgenommen
V7      F1    20.06.2024  ABH      aufenthalt  vermittelt
V8      F1    01.05.2024  JC       arbeit      angenommen
======  ====  ==========  =======  ==========  ==================  ===========  ======================

Cases: F1 Herne-Mitte (CM1), F2 Sodingen (CM2), F3 Herne-Mitte (CM1). GA (health office) is never referred to.

Q1: referrals V1–V4 = 4; answered (status no longer 'vermittelt') V1, V3, V4 = 3; accepted or completed
V1, V4 = 2 → 2/3; completed V4 → 1/3; refused V3 → 1/3; not taken up 0; gaps V3 = 1.
Open loops at 31.03. (still 'vermittelt' and dated before 01.03.): V2 → 1.
Waiting cohort (first appointment or still waiting; V3 refused is not waiting): V1 10 days (event),
V2 censored at 30.06. = 136 days, V4 11 days (event) → S(10) = 2/3, S(11) = 1/3 → median 11.
Wilson 95 % for 2 of 3: centre (2/3 + z²/6)/(1 + z²/3) = 0.5731, half-width 0.3654 → (0.2077, 0.9385).

Q2: V5–V8 = 4; answered V5 (waiting list counts as an answer), V6, V8 = 3; accepted V8 = 1; completed 0;
not taken up V6 = 1; gaps V5 = 1. Open loops at 30.06. (dated before 31.05.): V2 only (V7 is 10 days old) → 1.
Waiting cohort: V5 censored 89 days, V7 censored 10, V8 (accepted, no appointment yet) censored 60;
V6 is not waiting. No event → no median; cohort 3, events 0.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import indicator_count as _z, indicator_row as _row, write_export
from kimtools import indicator_table, read_export
from kimtools.errors import ImportValidationError

REF = {
    "partner": """\
partner_id;kommune;name;typ;rechtskreis;case_management;stadtbezirk
CM1;Herne;Caritas Herne;wohlfahrtsverband;;ja;Herne-Mitte
CM2;Herne;Diakonie Herne;wohlfahrtsverband;;ja;Sodingen
JC;Herne;Jobcenter Herne;jobcenter;sgb2;nein;
ABH;Herne;Ausländerbehörde Herne;auslaenderbehoerde;aufenthg;nein;
VHS;Herne;VHS Herne;vhs;;nein;
GA;Herne;Gesundheitsamt Herne;gesundheitsamt;;nein;
""",
    "faelle": """\
fall_id;person_id;kommune;stadtbezirk;traeger;beginn;ende;abschlussgrund;zielgruppe;handlungsfelder;aufenthaltsstatus;zugang_ueber;geschlecht;geburtsjahr;haushalt_personen
F1;PERS-1;Herne;Herne-Mitte;CM1;01.02.2024;;;erstintegration;sprache,wohnen;duldung;JC;w;1990;3
F2;PERS-2;Herne;Sodingen;CM2;15.03.2024;30.06.2024;ziel_erreicht;multiple_problemlagen;arbeit;ae_104c;ABH;m;1985;1
F3;PERS-3;Herne;Herne-Mitte;CM1;01.04.2024;;;erstintegration;sprache;duldung;;w;1992;2
""",
    "beratungen": """\
beratung_id;fall_id;datum;dauer_min;form;handlungsfeld
B1;F1;05.02.2024;45;persoenlich;sprache
""",
    "vermittlungen": """\
vermittlung_id;fall_id;datum;an_partner;handlungsfeld;status;erstkontakt;luecke
V1;F1;10.02.2024;JC;arbeit;angenommen;20.02.2024;
V2;F1;15.02.2024;VHS;sprache;vermittelt;;
V3;F2;20.03.2024;ABH;aufenthalt;abgelehnt;;zustaendigkeit_unklar
V4;F2;25.03.2024;JC;arbeit;abgeschlossen;05.04.2024;
V5;F3;02.04.2024;VHS;sprache;warteliste;;wartezeit
V6;F3;10.06.2024;JC;arbeit;nicht_wahrgenommen;;
V7;F1;20.06.2024;ABH;aufenthalt;vermittelt;;
V8;F1;01.05.2024;JC;arbeit;angenommen;;
""",
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return read_export(write_export(tmp_path_factory.mktemp("ref"), REF), show_progress=False).tables


def test_counts_and_shares_by_quarter(tables):
    t = indicator_table(tables)
    q1 = {k: _z(t, k, zeitraum="2024-Q1") for k in ("vermittlungen", "annahmequote", "abschlussquote", "ablehnungsquote",
                                                     "nicht_wahrgenommen_quote", "offene_schleifen", "luecken")}
    assert q1 == {"vermittlungen": 4, "annahmequote": 2, "abschlussquote": 1, "ablehnungsquote": 1,
                  "nicht_wahrgenommen_quote": 0, "offene_schleifen": 1, "luecken": 1}
    q2 = {k: _z(t, k, zeitraum="2024-Q2") for k in q1}
    assert q2 == {"vermittlungen": 4, "annahmequote": 1, "abschlussquote": 0, "ablehnungsquote": 0,
                  "nicht_wahrgenommen_quote": 1, "offene_schleifen": 1, "luecken": 1}
    for k in ("annahmequote", "abschlussquote", "ablehnungsquote", "nicht_wahrgenommen_quote"):
        assert _row(t, k, zeitraum="2024-Q1")["nenner"] == 3 and _row(t, k, zeitraum="2024-Q2")["nenner"] == 3
    a = _row(t, "annahmequote", zeitraum="2024-Q1")
    assert a["wert"] == pytest.approx(2 / 3)
    assert (a["ki_unten"], a["ki_oben"]) == (pytest.approx(0.2077, abs=1e-4), pytest.approx(0.9385, abs=1e-4))


def test_waiting_time_with_censored_referrals(tables):
    t = indicator_table(tables)
    q1 = _row(t, "wartezeit_median_tage", zeitraum="2024-Q1")
    assert (q1["wert"], q1["zaehler"], q1["nenner"]) == (11, 2, 3)
    q2 = _row(t, "wartezeit_median_tage", zeitraum="2024-Q2")
    assert pd.isna(q2["wert"]) and (q2["zaehler"], q2["nenner"]) == (0, 3)


def test_by_receiving_partner_including_one_never_referred_to(tables):
    t = indicator_table(tables, merkmal="an_partner")
    assert set(t["kennzahl"]) <= {"vermittlungen", "annahmequote", "abschlussquote", "ablehnungsquote",
                                  "nicht_wahrgenommen_quote", "offene_schleifen", "wartezeit_median_tage", "luecken"}
    jc = _row(t, "annahmequote", auspraegung="JC", zeitraum="2024-Q2")
    assert (jc["zaehler"], jc["nenner"], jc["wert"]) == (1, 2, 0.5)   # V6 not taken up, V8 accepted
    abh = _row(t, "annahmequote", auspraegung="ABH", zeitraum="2024-Q2")
    assert abh["nenner"] == 0 and pd.isna(abh["wert"])                 # V7 not answered yet
    assert _z(t, "vermittlungen", auspraegung="GA", zeitraum="2024-Q1") == 0
    assert _z(t, "vermittlungen", auspraegung="GA", zeitraum="2024-Q2") == 0
    assert "CM1" not in set(t["auspraegung"])                            # case management is no receiving partner


def test_by_partner_type_legal_domain_gap_and_needs_area(tables):
    r = indicator_table(tables, merkmal="rechtskreis", kennzahlen=["vermittlungen"])
    q1 = r[r["zeitraum"] == "2024-Q1"].set_index("auspraegung")["zaehler"].to_dict()
    assert q1 == {"sgb2": 2, "aufenthg": 1, "ohne": 1}
    p = indicator_table(tables, merkmal="partner_typ", kennzahlen=["vermittlungen"])
    assert p[p["zeitraum"] == "2024-Q1"].set_index("auspraegung")["zaehler"].to_dict() == {
        "jobcenter": 2, "auslaenderbehoerde": 1, "vhs": 1}
    g = indicator_table(tables, merkmal="luecke", kennzahlen=["vermittlungen"])
    q2 = g[g["zeitraum"] == "2024-Q2"].set_index("auspraegung")["zaehler"].to_dict()
    assert q2 == {"wartezeit": 1, "keine": 3, "zustaendigkeit_unklar": 0}   # a gap of Q1 gets a zero row in Q2
    # needs area: referrals count under their own area, cases under theirs
    h = indicator_table(tables, merkmal="handlungsfeld", kennzahlen=["vermittlungen", "neuzugaenge"])
    assert _z(h, "vermittlungen", auspraegung="arbeit", zeitraum="2024-Q2") == 2      # V6, V8
    assert _z(h, "vermittlungen", auspraegung="aufenthalt", zeitraum="2024-Q1") == 1  # V3; no case has this area
    assert _z(h, "neuzugaenge", auspraegung="aufenthalt", zeitraum="2024-Q1") == 0
    assert _z(h, "vermittlungen", auspraegung="wohnen", zeitraum="2024-Q1") == 0      # F1's area, never referred
    assert _z(h, "neuzugaenge", auspraegung="wohnen", zeitraum="2024-Q1") == 1


def test_by_district_and_provider_filter(tables):
    d = indicator_table(tables, by="stadtbezirk", kennzahlen=["vermittlungen"])
    assert _z(d, "vermittlungen", stadtbezirk="Herne-Mitte", zeitraum="2024-Q1") == 2   # V1, V2
    assert _z(d, "vermittlungen", stadtbezirk="Sodingen", zeitraum="2024-Q1") == 2      # V3, V4
    cm2 = indicator_table(tables, filters={"traeger": "CM2"})
    assert _z(cm2, "vermittlungen", zeitraum="2024-Q1") == 2
    assert _row(cm2, "wartezeit_median_tage", zeitraum="2024-Q1")["wert"] == 11         # V4 alone: 11 days


def test_referral_to_a_partner_of_another_kommune_is_refused(tmp_path):
    export = dict(REF, partner=REF["partner"] + "BO-JC;Bochum;Jobcenter Bochum;jobcenter;sgb2;nein;\n",
                  vermittlungen=REF["vermittlungen"] + "V9;F1;12.02.2024;BO-JC;arbeit;vermittelt;;\n")
    with pytest.raises(ImportValidationError) as info:
        read_export(write_export(tmp_path, export), show_progress=False)
    problems = info.value.problems
    hit = problems[(problems["tabelle"] == "vermittlungen") & (problems["spalte"] == "an_partner")]
    assert len(hit) == 1
    assert (hit.iloc[0]["zeile"], hit.iloc[0]["wert"]) == (10, "BO-JC")
    assert "Kommune des Falls" in hit.iloc[0]["grund_de"]


def test_referral_and_waiting_cells_stored_at_import_give_the_hand_worked_numbers(tmp_path):
    """A store answers the referral indicators (open loops aside) from the cells written at import: the numbers of
    the module docstring by quarter, district and provider; and by month, worked out here:

    February V1 (accepted, first appointment after 10 days), V2 (still 'vermittelt', censored at 136 days): 2
    referrals, 1 answered and accepted; S(10) = 1/2 exactly → median 10. March V3 (refused, a gap), V4 (completed
    after 11 days): 2, both answered, 1 accepted, 1 refused, 1 gap; cohort V4 alone → 11. April V5 (waiting list,
    a gap): 1 answered, 0 accepted; cohort 1 without an event. May V8 accepted: 1 of 1; cohort 1 (censored).
    June V6 not taken up, V7 still 'vermittelt': 2 referrals, 1 answered, 0 accepted, 1 not taken up; cohort V7.
    """
    from kimtools import Store, import_export
    from kimtools.indicators.table import _cell_referrals

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "ref", REF), store, show_progress=False)
    wanted = ["vermittlungen", "annahmequote", "abschlussquote", "ablehnungsquote", "nicht_wahrgenommen_quote",
              "wartezeit_median_tage", "luecken"]
    assert _cell_referrals(store, "kommune", "quarter", None, None, {}, wanted) is not None   # the cells answer
    assert _cell_referrals(store, "kommune", "quarter", None, None, {}, [*wanted, "offene_schleifen"]) is None
    t = indicator_table(store, kennzahlen=wanted)
    assert [[_z(t, k, zeitraum=q) for k in wanted if k != "wartezeit_median_tage"] for q in ("2024-Q1", "2024-Q2")] == [
        [4, 2, 1, 1, 0, 1], [4, 1, 0, 0, 1, 1]]
    a = _row(t, "annahmequote", zeitraum="2024-Q1")
    assert (a["nenner"], a["ki_unten"], a["ki_oben"]) == (3, pytest.approx(0.2077, abs=1e-4), pytest.approx(0.9385, abs=1e-4))
    q1, q2 = (_row(t, "wartezeit_median_tage", zeitraum=q) for q in ("2024-Q1", "2024-Q2"))
    assert (q1["wert"], q1["zaehler"], q1["nenner"]) == (11, 2, 3)
    assert pd.isna(q2["wert"]) and (q2["zaehler"], q2["nenner"]) == (0, 3)
    d = indicator_table(store, by="stadtbezirk", kennzahlen=["vermittlungen"])
    assert _z(d, "vermittlungen", stadtbezirk="Herne-Mitte", zeitraum="2024-Q1") == 2   # V1, V2
    assert _z(d, "vermittlungen", stadtbezirk="Sodingen", zeitraum="2024-Q1") == 2      # V3, V4
    assert _z(d, "vermittlungen", stadtbezirk="Sodingen", zeitraum="2024-Q2") == 0      # a zero row, not a gap
    cm2 = indicator_table(store, filters={"traeger": "CM2"}, kennzahlen=wanted)
    assert _row(cm2, "wartezeit_median_tage", zeitraum="2024-Q1")["wert"] == 11         # V4 alone: 11 days
    m = indicator_table(store, period="month", kennzahlen=wanted)
    months = ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert sorted(set(m["zeitraum"])) == months
    by_month = {mo: [_z(m, k, zeitraum=mo) for k in ("vermittlungen", "annahmequote", "ablehnungsquote",
                                                      "nicht_wahrgenommen_quote", "luecken")]
                + [_row(m, "annahmequote", zeitraum=mo)["nenner"]] for mo in months}
    assert by_month == {"2024-02": [2, 1, 0, 0, 0, 1], "2024-03": [2, 1, 1, 0, 1, 2], "2024-04": [1, 0, 0, 0, 1, 1],
                        "2024-05": [1, 1, 0, 0, 0, 1], "2024-06": [2, 0, 0, 1, 0, 1]}
    waits = {mo: (_row(m, "wartezeit_median_tage", zeitraum=mo)["wert"], _row(m, "wartezeit_median_tage", zeitraum=mo)["zaehler"],
                  _row(m, "wartezeit_median_tage", zeitraum=mo)["nenner"]) for mo in months}
    assert {mo: (None if pd.isna(w) else w, e, n) for mo, (w, e, n) in waits.items()} == {
        "2024-02": (10, 1, 2), "2024-03": (11, 1, 1), "2024-04": (None, 0, 1), "2024-05": (None, 0, 1), "2024-06": (None, 0, 1)}
    none = indicator_table(store, by="stadtbezirk", filters={"traeger": "KEIN-TRAEGER"}, kennzahlen=wanted)
    assert none.empty


def test_referral_outcomes_come_from_the_catalogue_and_unknown_ones_are_refused():
    """The outcomes the rates count are defined once, in the catalogue's [ergebnisse]; answered is every status
    but 'vermittelt' (the contract's code list, worked out by hand); a declaration naming an outcome or a status
    the contract does not know is refused with its entry and name."""
    from kimtools.contract import outcomes
    from kimtools.contract.catalogue import OUTCOMES, parse_catalogue

    assert outcomes.OUTCOMES["beantwortet"] == ("warteliste", "angenommen", "abgeschlossen", "abgelehnt",
                                                "nicht_wahrgenommen")
    assert outcomes.REFERRAL_RATES["annahmequote"] == ("angenommen", "beantwortet")
    assert outcomes.OUTCOMES["angenommen"] == ("angenommen", "abgeschlossen")
    texts = {"de": "x", "en": "x", "definition_de": "x", "definition_en": "x"}
    ok, problems = parse_catalogue({"a": {**texts, "zaehler": {"zaehlt": "vermittlungen", "ergebnis": ["angenommen"]},
                                          "nenner": {"zaehlt": "vermittlungen", "status": ["abgelehnt", "angenommen"]}}},
                                   "eigen.toml", OUTCOMES)
    assert problems == [] and ok["a"].nenner.filters == (("status", ("abgelehnt", "angenommen")),)
    _, problems = parse_catalogue({"b": {**texts, "zaehler": {"zaehlt": "vermittlungen", "ergebnis": ["erledigt"]}},
                                   "c": {**texts, "zaehler": {"zaehlt": "vermittlungen", "status": ["erledigt"]}}},
                                  "eigen.toml", OUTCOMES)
    assert [de.split(":")[0] for de, _ in problems] == ["eigen.toml, [b]", "eigen.toml, [c]"]
    assert all("unbekannte Codes ['erledigt']" in de for de, _ in problems)
