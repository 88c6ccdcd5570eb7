"""Look before replacing: each rule of :mod:`kimtools.ingest.delivery` on both sides of its boundary, on hand-made profiles.

A profile row is (kommune, table, provider, month, rows, first date, last date); months count as year × 12 +
month − 1, so September 2026 is 2026 × 12 + 8 = 24320.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kimtools.ingest.delivery import delivery_findings, delivery_overview

SEP = 2026 * 12 + 8   # September 2026
COLUMNS = ["kommune", "tabelle", "traeger", "monat", "n", "d0", "d1", "nenner"]


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def profile(*rows) -> pd.DataFrame:
    out = pd.DataFrame([r + (None,) * (8 - len(r)) for r in rows], columns=COLUMNS)
    out["n"] = out["n"].astype("int64")
    out["nenner"] = out["nenner"].astype(float)
    for c in ("d0", "d1"):
        out[c] = pd.to_datetime(out[c])
    return out


def a_city(cases=100, beratungen=300, end="2026-09-30", provider_b=0, **more) -> list[tuple]:
    """Herne with cases begun in September, consultations and referrals up to ``end`` (three months stored)."""
    rows = [("Herne", "faelle", "CM1", SEP, cases, day("2024-01-02"), day(end))]
    if provider_b:
        rows.append(("Herne", "faelle", "CM2", SEP, provider_b, day("2024-01-02"), day(end)))
    for m in (SEP - 2, SEP - 1, SEP):
        rows.append(("Herne", "beratungen", "CM1", m, beratungen // 3, day("2024-01-03"), day(end)))
        rows.append(("Herne", "vermittlungen", "CM1", m, 10, day("2024-01-04"), day(end)))
    return rows


def arts(findings) -> list[tuple]:
    return [(f.tabelle, f.traeger, f.art) for f in findings.itertuples()]


def test_the_same_delivery_again_finds_nothing():
    assert delivery_findings(profile(*a_city()), profile(*a_city())).empty


@pytest.mark.parametrize("after, found", [(80, False), (79, True)])
def test_a_table_losing_more_than_a_fifth_of_its_rows(after, found):
    f = delivery_findings(profile(*a_city(cases=100)), profile(*a_city(cases=after)))
    assert arts(f) == ([("faelle", None, "zeilen")] if found else [])
    if found:
        assert (f["vorher"].iloc[0], f["nachher"].iloc[0]) == (100, 79)
        assert f["grund_de"].iloc[0] == "faelle.csv: 100 → 79 Zeilen (-21\u00a0%)"


@pytest.mark.parametrize("before, after, found", [(5, 2, True), (4, 2, False)])
def test_a_drop_of_fewer_than_three_rows_is_a_correction(before, after, found):
    """4 → 2 halves the table but is two cases; 5 → 2 loses three."""
    f = delivery_findings(profile(*a_city(cases=before)), profile(*a_city(cases=after)))
    assert arts(f) == ([("faelle", None, "zeilen")] if found else [])


@pytest.mark.parametrize("left, found", [(0, True), (1, False)])
def test_a_provider_falling_to_zero(left, found):
    """Provider CM2 had 3 of 103 cases: the drop is small, but CM2 vanishing is not."""
    f = delivery_findings(profile(*a_city(provider_b=3)), profile(*a_city(provider_b=left)))
    assert arts(f) == ([("faelle", "CM2", "traeger")] if found else [])
    if found:
        assert f["grund_de"].iloc[0] == "Träger CM2: 3 Fälle → keiner"


def test_a_recent_month_falling_to_zero():
    """September's 100 consultations gone (of 1,300: no fifth), the last one on 30.08.: the month and the end."""
    older = ("Herne", "beratungen", "CM1", 2024 * 12, 1000, day("2024-01-03"), day("2024-01-31"))
    stored = profile(*a_city(), older)
    incoming = profile(*[r for r in a_city() if not (r[1] == "beratungen" and r[3] == SEP)], older)
    incoming.loc[incoming["tabelle"] == "beratungen", "d1"] = day("2026-08-30")
    assert arts(delivery_findings(stored, incoming)) == [("beratungen", None, "monat"),
                                                         ("beratungen", None, "endet_frueher")]


@pytest.mark.parametrize("end, month, found", [
    ("2026-09-30", SEP, True),        # September is complete: one of the last three
    ("2026-09-30", SEP - 3, False),   # June is the fourth
    ("2026-09-29", SEP, False),       # September is not complete: not looked at
    ("2026-09-29", SEP - 3, True),    # June, July, August are the last three
])
def test_the_last_complete_months_end_with_a_month_whose_last_day_is_stored(end, month, found):
    rows = a_city(end=end) + [("Herne", "vermittlungen", "CM1", SEP - 3, 10, day("2024-01-04"), day(end))]
    incoming = [r for r in rows if not (r[1] == "vermittlungen" and r[3] == month)]
    assert (("vermittlungen", None, "monat") in arts(delivery_findings(profile(*rows), profile(*incoming)))) == found


@pytest.mark.parametrize("shift, art", [("d1", "endet_frueher"), ("d0", "beginnt_spaeter")])
def test_a_span_that_shrinks_by_one_day(shift, art):
    stored, incoming = profile(*a_city()), profile(*a_city())
    rows = incoming["tabelle"] == "vermittlungen"
    incoming.loc[rows, shift] = incoming.loc[rows, shift] + pd.Timedelta(days=-1 if shift == "d1" else 1)
    assert arts(delivery_findings(stored, incoming)) == [("vermittlungen", None, art)]


@pytest.mark.parametrize("last, found", [("2026-07-30", False), ("2026-07-29", True)])
def test_a_first_delivery_whose_consultations_end_62_days_early(last, found):
    """No store yet. Cases begin up to September (30.09.), referrals too; consultations end 62 or 63 days before."""
    incoming = profile(*a_city())
    incoming.loc[incoming["tabelle"] == "beratungen", "d1"] = day(last)
    f = delivery_findings(None, incoming)
    assert arts(f) == ([("beratungen", None, "endet_vorher")] if found else [])
    if found:
        assert f["grund_de"].iloc[0] == ("beratungen.csv endet am 29.07.2026, die übrigen Tabellen am 30.09.2026 "
                                         "– Datei unvollständig?")


@pytest.mark.parametrize("cases, found", [(20, True), (19, False)])
def test_a_kommune_without_consultations_in_a_first_delivery(cases, found):
    incoming = profile(*[r for r in a_city(cases=cases) if r[1] != "beratungen"])
    assert arts(delivery_findings(None, incoming)) == ([("beratungen", None, "leer")] if found else [])


@pytest.mark.parametrize("without, nenner, found", [(10, 20, False), (11, 20, True), (19, 19, False)])
def test_most_cases_without_a_consultation(without, nenner, found):
    """Half is not most; 11 of 20 is; a kommune of 19 cases is too small to tell."""
    incoming = profile(*a_city(), ("Herne", "ohne_beratung", None, None, without, None, None, nenner))
    assert arts(delivery_findings(None, incoming)) == ([("beratungen", None, "ohne_beratung")] if found else [])


def test_a_mark_the_stored_data_already_has_is_no_reason_to_refuse_again():
    """A city that documents no consultations is told at its first delivery, not at every one after."""
    no_consultations = [r for r in a_city() if r[1] != "beratungen"]
    assert arts(delivery_findings(None, profile(*no_consultations))) == [("beratungen", None, "leer")]
    assert delivery_findings(profile(*no_consultations), profile(*no_consultations)).empty


def test_only_the_kommunen_of_the_delivery_are_compared():
    """Bochum is stored, the delivery is Herne's: Bochum's rows are not "lost"."""
    stored = profile(*a_city(), ("Bochum", "faelle", "B1", SEP, 500, day("2024-01-02"), day("2026-09-30")))
    assert delivery_findings(stored, profile(*a_city())).empty


def test_overview_lists_rows_and_spans_before_and_after():
    stored = profile(*a_city(cases=100))
    incoming = profile(*a_city(cases=120))
    o = delivery_overview(stored, incoming)
    cases = o.loc[o["tabelle"] == "faelle"].iloc[0]
    assert (cases["n_alt"], cases["n_neu"]) == (100, 120)
    assert (cases["von_neu"], cases["bis_neu"]) == (day("2024-01-02"), day("2026-09-30"))
    assert o["tabelle"].tolist() == ["faelle", "beratungen", "vermittlungen"]
    first = delivery_overview(None, incoming)
    assert first["n_alt"].tolist() == [0, 0, 0]
