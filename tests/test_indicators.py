"""The counts of the indicator table, worked out by hand on the base export.

Base export (Herne): F1 Herne-Mitte, begun 01.02.2024, open; F2 Sodingen,
15.03.2024–30.06.2024. Consultations 05.02. (F1) and 20.03. (F2); referrals
10.02. (F1) and 01.04. (F2). The data run from 01.02.2024 to 30.06.2024.
"""

from __future__ import annotations

import pytest

from conftest import BASE, write_export
from kimtools import Store, import_export, indicator_table, read_export
from kimtools.errors import UsageError


FOUNDATION_COUNTS = ["neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "beratungen", "vermittlungen"]


def _values(table, **where):
    """The six counts of the foundation issue for one group and period."""
    sel = table[table["kennzahl"].isin(FOUNDATION_COUNTS)]
    for col, val in where.items():
        sel = sel[sel[col] == val]
    return dict(zip(sel["kennzahl"], sel["zaehler"]))


def test_quarters_by_kommune(base_export):
    t = indicator_table(read_export(base_export, show_progress=False).tables, period="quarter")
    assert list(t.columns) == ["kommune", "zeitraum", "kennzahl", "zaehler", "nenner", "wert", "ki_unten", "ki_oben", "unvollstaendig"]
    assert sorted(set(t["zeitraum"])) == ["2024-Q1", "2024-Q2"]
    assert _values(t, zeitraum="2024-Q1") == {"neuzugaenge": 2, "abschluesse": 0, "faelle_offen": 2,
                                               "personen_erreicht": 2, "beratungen": 2, "vermittlungen": 1}
    # F2 ends on 30.06., the last day: no longer open then, but reached in Q2
    assert _values(t, zeitraum="2024-Q2") == {"neuzugaenge": 0, "abschluesse": 1, "faelle_offen": 1,
                                               "personen_erreicht": 2, "beratungen": 0, "vermittlungen": 1}
    counts = t[t["kennzahl"].isin(FOUNDATION_COUNTS)]
    assert counts["nenner"].isna().all() and (counts["wert"] == counts["zaehler"]).all()


def test_months_by_district_include_zero_months(base_export):
    t = indicator_table(read_export(base_export, show_progress=False).tables, by="stadtbezirk", period="month")
    assert list(t.columns) == ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert", "ki_unten", "ki_oben", "unvollstaendig"]
    assert _values(t, stadtbezirk="Sodingen", zeitraum="2024-02") == {
        "neuzugaenge": 0, "abschluesse": 0, "faelle_offen": 0, "personen_erreicht": 0, "beratungen": 0, "vermittlungen": 0}
    assert _values(t, stadtbezirk="Sodingen", zeitraum="2024-03") == {
        "neuzugaenge": 1, "abschluesse": 0, "faelle_offen": 1, "personen_erreicht": 1, "beratungen": 1, "vermittlungen": 0}
    assert _values(t, stadtbezirk="Herne-Mitte", zeitraum="2024-06") == {
        "neuzugaenge": 0, "abschluesse": 0, "faelle_offen": 1, "personen_erreicht": 1, "beratungen": 0, "vermittlungen": 0}
    assert sorted(set(t["zeitraum"])) == ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def test_persons_are_counted_once(tmp_path):
    files = dict(BASE, faelle=BASE["faelle"].replace("F2;PERS-0002", "F2;PERS-0001"))
    t = indicator_table(read_export(write_export(tmp_path / "e", files), show_progress=False).tables, period="year")
    assert _values(t, zeitraum="2024") == {"neuzugaenge": 2, "abschluesse": 1, "faelle_offen": 1,
                                            "personen_erreicht": 1, "beratungen": 2, "vermittlungen": 2}


def test_by_provider_from_the_store_equals_frames(tmp_path, base_export):
    store = Store(tmp_path / "kim.duckdb")
    import_export(base_export, store, show_progress=False)
    from_store = indicator_table(store, kommune="Herne", by="traeger", period="quarter")
    from_frames = indicator_table(read_export(base_export, show_progress=False).tables, by="traeger", period="quarter")
    assert from_store.equals(from_frames)
    assert set(from_store["traeger"]) == {"CM1"}


def test_demo_store_totals_agree_with_direct_counts(demo_store):
    """An independent route: plain SQL counts of the demo store against the yearly table."""
    store = Store(demo_store)
    t = indicator_table(store, kommune="Herne", period="year")
    direct = store.query("""SELECT count(*) FILTER (WHERE year(beginn) = 2025) AS neu,
                                   count(*) FILTER (WHERE year(ende) = 2025) AS ab,
                                   count(*) FILTER (WHERE beginn <= DATE '2025-12-31' AND (ende IS NULL OR ende > DATE '2025-12-31')) AS offen
                            FROM faelle WHERE kommune = 'Herne'""").iloc[0]
    got = _values(t, zeitraum="2025")
    assert (got["neuzugaenge"], got["abschluesse"], got["faelle_offen"]) == (direct["neu"], direct["ab"], direct["offen"])
    beratungen = store.query("SELECT count(*) n FROM beratungen WHERE kommune = 'Herne' AND year(datum) = 2025")["n"][0]
    assert got["beratungen"] == beratungen


def test_bad_choice_is_a_usage_error(base_export):
    with pytest.raises(UsageError, match=r"^by muss eines von kommune, stadtbezirk, traeger sein, nicht 'bezirk'"):
        indicator_table(read_export(base_export, show_progress=False).tables, by="bezirk")
