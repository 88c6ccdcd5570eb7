"""The five questions of issue 42, each answered by one call of the notebook API, checked against the demo store
by another route: SQL written here from the export format's columns and the catalogue's definitions
(docs/kennzahlen.md), Wilson's interval from statsmodels, the funnel's verdict as a Poisson p-value from scipy, and
a Kaplan–Meier median counted by hand in Python. No kimtools function computes an expected value.

Notebook ``08-fragen-und-antworten.ipynb`` asks the same questions in the same calls.
"""

from __future__ import annotations

import datetime as dt

import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import kimtools as kim


@pytest.fixture(scope="module")
def raw(demo_store):
    """The demo store's own connection (one process opens a DuckDB file with one configuration): only for the SQL
    written here."""
    return kim.Store(demo_store).connect()


def data_end(raw, kommune: str) -> dt.date:
    """The kommune's data end: the latest day on which something happened in its export – a case begun or ended, a
    consultation, a referral (a first appointment may be booked for a day still to come, so it does not count)."""
    return raw.execute("""
        SELECT max(d) FROM (SELECT greatest(max(beginn), max(ende)) AS d FROM faelle WHERE kommune = $k
                            UNION ALL SELECT max(datum) FROM beratungen WHERE kommune = $k
                            UNION ALL SELECT max(datum) FROM vermittlungen WHERE kommune = $k)""",
                       {"k": kommune}).fetchone()[0]


def test_new_cases_per_quarter_of_2025_by_district(demo_store, raw):
    answer = kim.kennzahlen("Herne", nach="stadtbezirk", kennzahl="neuzugaenge", zeitraum="quartal", jahr=2025)
    got = {(r.stadtbezirk, r.zeitraum): r.zaehler for r in answer.itertuples()}
    expected = dict(((b, f"2025-Q{q}"), n) for b, q, n in raw.execute("""
        SELECT stadtbezirk, quarter(beginn), count(*) FROM faelle
        WHERE kommune = 'Herne' AND beginn BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' GROUP BY ALL""").fetchall())
    # every district in every quarter of 2025 (a quarter without a new case would count 0), and no other quarter
    districts = {b for (b,) in raw.execute("SELECT DISTINCT stadtbezirk FROM faelle WHERE kommune = 'Herne'").fetchall()}
    assert set(got) == {(b, f"2025-Q{q}") for b in districts for q in range(1, 5)}
    assert got == {k: expected.get(k, 0) for k in got}
    assert sum(got.values()) == raw.execute("SELECT count(*) FROM faelle WHERE kommune = 'Herne' "
                                            "AND year(beginn) = 2025").fetchone()[0]


def test_the_jobcenters_acceptance_over_the_last_twelve_months(demo_store, raw):
    answer = kim.kennzahlen("herne", kennzahl="annahmequote", merkmal="an_partner", auspraegung="Jobcenter",
                            zeitraum="letzte_12_monate")
    end = data_end(raw, "Herne")
    start = dt.date(end.year - 1, end.month, end.day) + dt.timedelta(days=1)   # 30.09. → 01.10. a year before
    accepted, answered = raw.execute("""
        SELECT count(*) FILTER (WHERE v.status IN ('angenommen', 'abgeschlossen')),
               count(*) FILTER (WHERE v.status <> 'vermittelt')
        FROM vermittlungen v JOIN partner p ON p.kommune = v.kommune AND p.partner_id = v.an_partner
        WHERE v.kommune = 'Herne' AND p.typ = 'jobcenter' AND v.datum BETWEEN $a AND $b""",
                                     {"a": start, "b": end}).fetchone()
    low, high = proportion_confint(accepted, answered, alpha=0.05, method="wilson")
    row = answer.iloc[0]
    assert len(answer) == 1 and row["zeitraum"] == f"{start.isoformat()}/{end.isoformat()}"
    assert (row["zaehler"], row["nenner"]) == (accepted, answered) and answered > 30
    assert row["wert"] == pytest.approx(accepted / answered)
    assert (row["ki_unten"], row["ki_oben"]) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))


def test_the_three_districts_with_the_highest_reach_and_whether_each_is_clearly_above_its_city(demo_store, raw):
    answer = kim.bezirksvergleich("reichweite_je_1000", oben=3)
    # reach per 1,000 over each city's last twelve months: each person once, in the district of her case begun last
    # among those open at some time in the window; the city's rate is its persons over its inhabitants
    rows = []
    for (kommune,) in raw.execute("SELECT DISTINCT kommune FROM faelle").fetchall():
        end = data_end(raw, kommune)
        start = dt.date(end.year - 1, end.month, end.day) + dt.timedelta(days=1)
        persons = dict(raw.execute("""
            SELECT stadtbezirk, count(*) FROM (
                SELECT person_pseudonym, arg_max(stadtbezirk, (beginn, fall_id)) AS stadtbezirk FROM faelle
                WHERE kommune = $k AND beginn <= $b AND (ende IS NULL OR ende >= $a) GROUP BY person_pseudonym)
            GROUP BY ALL""", {"k": kommune, "a": start, "b": end}).fetchall())
        people = dict(raw.execute("SELECT stadtbezirk, einwohner FROM bezirke WHERE kommune = $k",
                                  {"k": kommune}).fetchall())
        city = sum(persons.values()) / sum(people.values())
        for district, inhabitants in people.items():
            n = persons.get(district, 0)
            # clearly above: so many persons or more would happen less than 2.5 % of the time at the city's rate
            above = stats.poisson.sf(n - 1, city * inhabitants) < 0.025
            rows.append((1000 * n / inhabitants, kommune, district, 1000 * city, above))
    top = sorted(rows, reverse=True)[:3]
    assert answer["stadtbezirk"].tolist() == [d for _v, _k, d, _c, _a in top]
    assert answer["kommune"].tolist() == [k for _v, k, _d, _c, _a in top]
    assert answer["wert"].tolist() == pytest.approx([v for v, *_ in top])
    assert answer["kommune_wert"].tolist() == pytest.approx([c for *_, c, _a in top])
    assert [lage.startswith("ueber") for lage in answer["lage"]] == [a for *_, a in top]


def test_cases_in_need_area_housing_closed_with_the_goal_reached_in_2025(demo_store, raw):
    answer = kim.kennzahlen("Herne", kennzahl="abschluesse_ziel_erreicht_quote", merkmal="handlungsfeld",
                            auspraegung="Wohnen", jahr=2025)
    reached, closed = raw.execute("""
        SELECT count(*) FILTER (WHERE f.abschlussgrund = 'ziel_erreicht'), count(*)
        FROM faelle f WHERE f.kommune = 'Herne' AND year(f.ende) = 2025
          AND EXISTS (SELECT 1 FROM fall_handlungsfelder h WHERE h.kommune = f.kommune AND h.fall_id = f.fall_id
                      AND h.handlungsfeld = 'wohnen')""").fetchone()
    row = answer.iloc[0]
    assert len(answer) == 1 and (row["auspraegung"], row["zeitraum"]) == ("wohnen", "2025")
    assert (row["zaehler"], row["nenner"]) == (reached, closed) and 0 < reached < closed


def km_median(durations: list[tuple[int, bool]]) -> float | None:
    """Kaplan–Meier by hand: the first time the survival falls to one half or below."""
    at_risk, survival = len(durations), 1.0
    for t in sorted({d for d, _ in durations}):
        ended = sum(1 for d, e in durations if d == t and e)
        survival *= 1 - ended / at_risk
        if survival <= 0.5:
            return float(t)
        at_risk -= sum(1 for d, _ in durations if d == t)
    return None


def test_the_median_length_of_a_case_by_target_group(demo_store, raw):
    answer = kim.kennzahlen("Herne", kennzahl="verweildauer_median_tage", merkmal="zielgruppe", zeitraum="seit_beginn")
    end = data_end(raw, "Herne")
    groups: dict[str, list[tuple[int, bool]]] = {}
    for group, begun, ended in raw.execute("SELECT zielgruppe, beginn, ende FROM faelle WHERE kommune = 'Herne'").fetchall():
        groups.setdefault(group, []).append((((ended or end) - begun).days, ended is not None))
    got = {r.auspraegung: r.wert for r in answer.itertuples()}
    assert got == {g: km_median(d) for g, d in groups.items()}
    assert {r.auspraegung: r.nenner for r in answer.itertuples()} == {g: len(d) for g, d in groups.items()}
