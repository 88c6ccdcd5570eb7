"""Disclosure audit, protection and the comparison bundle: hand-worked tables, random tables, real bundles.

Expected ranges are worked out by hand in the comments; bundles are attacked
with :mod:`tests.independent_audit` (another solver, constraints read from the
format file, no kimtools code).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimtools import import_export
from kimtools.indicators.disclosure import Sum, audit, protect
from kimtools.errors import BundleError, DisclosureError
from kimtools.exchange.bundle import bundle_counts, export_bundle, merge_bundles, read_bundle, read_merged, write_merged
from kimtools.store import Store

from conftest import BASE, write_export
from independent_audit import attack, ranges, read_rows

# PuLP 3 announces its 4.0 interface; the attack uses the 3.x one (pinned < 4)
pytestmark = pytest.mark.filterwarnings("ignore:.*(LpVariable|PULP_CBC_CMD).*:DeprecationWarning")


def table_sums(n_rows: int, n_cols: int) -> tuple[list[Sum], callable]:
    """Sums of a two-way table with margins, cells numbered row-major over (rows + total row) × (cols + total col)."""
    width = n_cols + 1

    def cell(r, c):
        return r * width + c

    sums = [Sum(cell(r, n_cols), tuple(cell(r, c) for c in range(n_cols))) for r in range(n_rows + 1)]
    sums += [Sum(cell(n_rows, c), tuple(cell(r, c) for r in range(n_rows))) for c in range(n_cols + 1)]
    return sums, cell


def with_margins(inner: np.ndarray) -> np.ndarray:
    t = np.vstack([inner, inner.sum(axis=0)])
    return np.hstack([t, t.sum(axis=1, keepdims=True)])


# ----------------------------------------------------------------------------- the audit bites
#        x   y   z | T
#   A    1   5   6 | 12
#   B    4   7   9 | 20
#   T    5  12  15 | 32
TABLE = with_margins(np.array([[1, 5, 6], [4, 7, 9]]))


def test_audit_finds_the_leak_of_primary_only_suppression():
    sums, cell = table_sums(2, 3)
    protected = np.zeros(TABLE.size, bool)
    protected[cell(0, 0)] = True                      # only the 1 hidden
    result = audit(TABLE.ravel(), protected, sums)
    # row A: 12 − 5 − 6 = 1 exactly
    assert result[["zelle", "unten", "oben", "offengelegt"]].values.tolist() == [[cell(0, 0), 1, 1, True]]


def test_audit_finds_two_small_cells_that_only_hide_each_other():
    # row A of 1, 2, 9 (total 12): hiding 1 and 2 leaves their sum 3, each in [1, 2] — below 3
    inner = np.array([[1, 2, 9], [4, 7, 9]])
    sums, cell = table_sums(2, 3)
    protected = np.zeros(12, bool)
    protected[[cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)]] = True
    result = audit(with_margins(inner).ravel(), protected, sums).set_index("zelle")
    # columns: x: a + 4' = 5, y: b + 7' = 9 with a + b = 3: a = t, b = 3 − t, B.x = 5 − t, B.y = 6 + t, all ≥ 1 → t ∈ [1, 2]
    assert (result.loc[cell(0, 0), "unten"], result.loc[cell(0, 0), "oben"]) == (1, 2)
    assert result.loc[cell(0, 0), "offengelegt"]


def test_audit_passes_a_rectangle():
    sums, cell = table_sums(2, 3)
    protected = np.zeros(12, bool)
    protected[[cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)]] = True
    result = audit(TABLE.ravel(), protected, sums).set_index("zelle")
    # A.x = t, A.y = 6 − t, B.x = 5 − t, B.y = 6 + t, all ≥ 1 → t ∈ [1, 4]; B.x = 5 − t ∈ [1, 4]
    assert (result.loc[cell(0, 0), "unten"], result.loc[cell(0, 0), "oben"]) == (1, 4)
    assert (result.loc[cell(1, 0), "unten"], result.loc[cell(1, 0), "oben"]) == (1, 4)
    assert (result.loc[cell(1, 1), "unten"], result.loc[cell(1, 1), "oben"]) == (7, 10)
    assert not result["offengelegt"].any()


def test_audit_counts_in_whole_numbers():
    # x + y = 3 and x + z = 3 and y + z = 4 … with a total: the LP would allow halves, integers not.
    # Cells 0..3 protected, cell 4 = 6 published: 0 = 1 + 2 (a = b + c), 4 = 0 + 3 (6 = a + d).
    # Take a = b + c with b, c ≥ 1 → a ≥ 2; d = 6 − a ≥ 1 → a ≤ 5. a in [2, 5]: not exposed;
    # b = a − c ∈ [1, 4].
    sums = [Sum(0, (1, 2)), Sum(4, (0, 3))]
    result = audit([0, 0, 0, 0, 6], [True, True, True, True, False], sums).set_index("zelle")
    assert (result.loc[0, "unten"], result.loc[0, "oben"]) == (2, 5)
    assert (result.loc[1, "unten"], result.loc[1, "oben"]) == (1, 4)


def test_protect_hides_a_rectangle_for_the_small_cell():
    sums, cell = table_sums(2, 3)
    mask = protect(TABLE.ravel(), sums).reshape(TABLE.shape)
    assert mask[0, 0]
    assert mask.sum() == 4                      # a rectangle: the least that can hide one cell
    assert not audit(TABLE.ravel(), mask.ravel(), sums)["offengelegt"].any()


def test_protect_can_always_hide_everything():
    # every count below 3: everything positive is protected, and then the sums are homogeneous:
    # 2 = 1 + 1 + 0 becomes T = a + b with T, a, b ≥ 1 — T from 2 upward, a and b from 1 upward, unbounded
    mask = protect([2, 1, 1, 0], [Sum(0, (1, 2, 3))])
    assert mask.tolist() == [True, True, True, False]
    result = audit([2, 1, 1, 0], mask, [Sum(0, (1, 2, 3))]).set_index("zelle")
    assert result.loc[0, "unten"] == 2 and result.loc[0, "oben"] >= 1e9
    assert not result["offengelegt"].any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 4).flatmap(lambda r: st.integers(2, 5).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 12), min_size=c, max_size=c), min_size=r, max_size=r))))
def test_protected_random_tables_pass_the_audit(inner):
    inner = np.array(inner)
    table = with_margins(inner)
    sums, _ = table_sums(*inner.shape)
    try:
        mask = protect(table.ravel(), sums)
    except DisclosureError:
        return
    published = table.ravel()[~mask]
    assert not ((published > 0) & (published < 3)).any()
    # the attacker's own solver: each small protected cell must reach 3 and span at least 2
    values = table.ravel()
    found = ranges(values.tolist(), np.flatnonzero(mask).tolist(), [(s.total, list(s.parts)) for s in sums])
    for i, (lo, hi) in found.items():
        assert lo <= values[i] <= hi
        if values[i] < 3:
            assert hi >= 3 and hi - lo >= 2


# ----------------------------------------------------------------------------- counting a bundle by hand
HAND = dict(BASE)
HAND["faelle"] = BASE["faelle"] + (
    "F3;PERS-0001;Herne;Sodingen;CM1;01.03.2024;;;sonstige;familie;duldung;;w;1990;3\n")


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory) -> Store:
    folder = tmp_path_factory.mktemp("hand")
    export = write_export(folder / "export", HAND)
    import_export(export, folder / "kim.duckdb", show_progress=False)
    return Store(folder / "kim.duckdb")


def count(frame, **where) -> int:
    sel = frame
    for k, v in where.items():
        sel = sel.loc[sel[k] == v]
    assert len(sel) == 1, sel
    return int(sel["anzahl"].iloc[0])


def test_bundle_counts_by_hand(hand_store):
    c = bundle_counts(hand_store, "Herne", "2024", "2024")
    assert set(c["zeitraum"]) == {"2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2024"}
    keins = c.loc[c["merkmal"] == "keins"]
    # new cases: F1 (Mitte, 1.2.), F2 (Sodingen, 15.3.), F3 (Sodingen, 1.3.)
    assert count(keins, kennzahl="faelle_neu", stadtbezirk="Herne-Mitte", zeitraum="2024-Q1") == 1
    assert count(keins, kennzahl="faelle_neu", stadtbezirk="Sodingen", zeitraum="2024-Q1") == 2
    assert count(keins, kennzahl="faelle_neu", stadtbezirk="Eickel", zeitraum="2024-Q1") == 0
    assert count(keins, kennzahl="faelle_neu", stadtbezirk="Gesamt", zeitraum="2024") == 3
    # persons in Q1: PERS-0001 (F1 Mitte, F3 Sodingen: F3 began later → Sodingen), PERS-0002 (Sodingen)
    assert count(keins, kennzahl="personen_einmal", stadtbezirk="Herne-Mitte", zeitraum="2024-Q1") == 0
    assert count(keins, kennzahl="personen_einmal", stadtbezirk="Sodingen", zeitraum="2024-Q1") == 2
    assert count(keins, kennzahl="personen_einmal", stadtbezirk="Gesamt", zeitraum="2024-Q1") == 2
    # Q3: F2 ended 30.6.; PERS-0001 still at F3 in Sodingen
    assert count(keins, kennzahl="personen_einmal", stadtbezirk="Sodingen", zeitraum="2024-Q3") == 1
    # open on 31.3.: F1, F2, F3; on 30.6.: F2 ended that day, so F1 and F3
    assert count(keins, kennzahl="faelle_offen", stadtbezirk="Gesamt", zeitraum="2024-Q1") == 3
    assert count(keins, kennzahl="faelle_offen", stadtbezirk="Sodingen", zeitraum="2024-Q2") == 1
    assert count(keins, kennzahl="faelle_offen", stadtbezirk="Gesamt", zeitraum="2024") == 2
    # closures and referrals
    assert count(c, kennzahl="faelle_abgeschlossen", stadtbezirk="Sodingen", zeitraum="2024", merkmal="abschlussgrund",
                 auspraegung="ziel_erreicht") == 1
    assert count(c, kennzahl="vermittlungen", stadtbezirk="Gesamt", zeitraum="2024-Q2", merkmal="partnertyp",
                 auspraegung="auslaenderbehoerde") == 1
    assert count(c, kennzahl="vermittlungen", stadtbezirk="Herne-Mitte", zeitraum="2024", merkmal="vermittlungsstatus",
                 auspraegung="angenommen") == 1
    # breakdowns by district exist for the year only, by quarter for the city only
    by_quarter = c.loc[(c["merkmal"] == "zielgruppe") & (c["zeitraum"] == "2024-Q1")]
    assert set(by_quarter["stadtbezirk"]) == {"Gesamt"}
    assert count(c, kennzahl="beratungen", stadtbezirk="Gesamt", zeitraum="2024-Q1", merkmal="handlungsfeld",
                 auspraegung="sprache") == 1
    # a breakdown's Gesamt row is the count without breakdown
    assert count(c, kennzahl="faelle_neu", stadtbezirk="Sodingen", zeitraum="2024", merkmal="aufenthaltsstatus",
                 auspraegung="Gesamt") == 2


def test_an_export_that_cannot_be_made_safe_is_refused_and_writes_nothing(hand_store, tmp_path):
    with pytest.raises(DisclosureError, match=r"Herne 2024 bis 2024 wird nicht geschrieben: \d+\xa0% der Zellen"):
        export_bundle(hand_store, "Herne", tmp_path / "out", "2024", "2024")
    assert not any((tmp_path / "out").glob("kim-vergleich*"))


# ----------------------------------------------------------------------------- real bundles
@pytest.fixture(scope="module")
def bundles(demo_store, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bundles")
    store = Store(demo_store)
    return {k: export_bundle(store, k, out, "2025", "2025").folder for k in ("Herne", "Bottrop", "Essen")}


def test_bundle_files_and_checksums(bundles):
    folder = bundles["Herne"]
    assert folder.name == "kim-vergleich_Herne_2025-Q1_2025-Q4"
    meta = json.loads((folder / "metadaten.json").read_text(encoding="utf-8"))
    assert meta["format"] == "kim-vergleichspaket" and meta["version"] == 1
    assert meta["kommune"] == "Herne" and meta["ags"] == "05916000"
    assert meta["schutz"]["mindestanzahl"] == 3
    for name in ("zaehlungen.csv", "kennzahlen.csv", "bezirke.csv"):
        assert meta["dateien"][name] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    with zipfile.ZipFile(folder.with_suffix(".zip")) as z:
        assert sorted(z.namelist()) == sorted(f"{folder.name}/{n}" for n in
                                              ("metadaten.json", "zaehlungen.csv", "kennzahlen.csv", "bezirke.csv"))
    header = (folder / "zaehlungen.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "kommune,stadtbezirk,zeitraum,kennzahl,merkmal,auspraegung,anzahl,geschuetzt"


@pytest.mark.parametrize("kommune", ["Herne", "Bottrop"])
def test_exported_bundle_survives_an_independent_attack(bundles, demo_store, kommune):
    folder = bundles[kommune]
    rows = read_rows(folder)
    published = [int(r["anzahl"]) for r in rows if r["anzahl"] != ""]
    assert not any(0 < n < 3 for n in published)
    truth = bundle_counts(Store(demo_store), kommune, "2025", "2025")
    true = {tuple(r): n for *r, n in truth[["stadtbezirk", "zeitraum", "kennzahl", "merkmal", "auspraegung",
                                            "anzahl"]].itertuples(index=False)}
    small = 0
    for i, (lo, hi) in attack(folder).items():
        r = rows[i]
        value = true[(r["stadtbezirk"], r["zeitraum"], r["kennzahl"], r["merkmal"], r["auspraegung"])]
        assert lo <= value <= hi
        if 0 < value < 3:
            small += 1
            assert hi >= 3 and hi - lo >= 2, (r, lo, hi)
    assert small > 0          # the attack had something to attack


def test_rates_come_from_published_counts(bundles):
    b = read_bundle(bundles["Essen"])
    counts, rates, ref = b.zaehlungen, b.kennzahlen, b.bezirke
    reach = rates.loc[(rates["kennzahl"] == "reichweite_je_1000") & (rates["zeitraum"] == "2025")]
    assert len(reach) > 0
    for r in reach.itertuples():
        n = counts.loc[(counts["kennzahl"] == "personen_einmal") & (counts["merkmal"] == "keins")
                       & (counts["stadtbezirk"] == r.stadtbezirk) & (counts["zeitraum"] == "2025"), "anzahl"].iloc[0]
        inhabitants = ref.loc[(ref["bezugsgroesse"] == "einwohner") & (ref["stadtbezirk"] == r.stadtbezirk), "wert"].iloc[0]
        assert r.zaehler == n and r.nenner == inhabitants
        assert r.wert == pytest.approx(n / inhabitants * 1000, rel=1e-5)
        assert r.unten < r.wert < r.oben
    # a share whose counts are protected is not given
    status = counts.loc[counts["merkmal"] == "vermittlungsstatus"]
    hidden = status.loc[status["geschuetzt"] == "ja", ["stadtbezirk", "zeitraum"]].drop_duplicates()
    quotes = rates.loc[rates["kennzahl"] == "annahmequote"]
    assert hidden.merge(quotes, on=["stadtbezirk", "zeitraum"]).empty


def test_reader_refuses_altered_and_unsafe_bundles(bundles, tmp_path):
    source = bundles["Herne"]
    altered = tmp_path / "altered"
    shutil.copytree(source, altered)
    lines = (altered / "zaehlungen.csv").read_text(encoding="utf-8").splitlines()
    i = next(k for k, line in enumerate(lines) if line.endswith(",ja"))
    fields = lines[i].split(",")
    fields[-2:] = ["1", ""]                       # publish a protected cell as 1
    lines[i] = ",".join(fields)
    (altered / "zaehlungen.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BundleError, match="SHA-256 stimmt nicht"):
        read_bundle(altered)
    meta = json.loads((altered / "metadaten.json").read_text(encoding="utf-8"))
    meta["dateien"]["zaehlungen.csv"] = hashlib.sha256((altered / "zaehlungen.csv").read_bytes()).hexdigest()
    (altered / "metadaten.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(BundleError, match=f"Zeile {i + 1}: veröffentlichte kleine Zahl 1"):
        read_bundle(altered)

    old = tmp_path / "old"
    shutil.copytree(source, old)
    meta = json.loads((old / "metadaten.json").read_text(encoding="utf-8"))
    meta["version"] = 2
    (old / "metadaten.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(BundleError, match="Version 2"):
        read_bundle(old)

    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="weder ein Paketordner noch eine lesbare ZIP-Datei"):
        read_bundle(broken)


def test_reader_refuses_a_bundle_whose_protection_can_be_undone(bundles, demo_store, tmp_path):
    """A bundle that holds only primary suppression (every protected cell's partner published):
    checksums fine, no small number published — the audit alone must find it."""
    source = bundles["Herne"]
    weak = tmp_path / "weak"
    shutil.copytree(source, weak)
    frame = pd.read_csv(source / "zaehlungen.csv", dtype=str, keep_default_na=False)
    # publish every protected cell whose true value is ≥ 3 (the secondary ones), keep the small ones hidden
    store_counts = bundle_counts(Store(demo_store), "Herne", "2025", "2025")
    true = store_counts.set_index(["stadtbezirk", "zeitraum", "kennzahl", "merkmal", "auspraegung"])["anzahl"]
    secondary = (frame["geschuetzt"] == "ja") & frame.apply(
        lambda r: true[(r.stadtbezirk, r.zeitraum, r.kennzahl, r.merkmal, r.auspraegung)] >= 3, axis=1)
    assert secondary.any()
    frame.loc[secondary, "anzahl"] = frame.loc[secondary].apply(
        lambda r: str(true[(r.stadtbezirk, r.zeitraum, r.kennzahl, r.merkmal, r.auspraegung)]), axis=1)
    frame.loc[secondary, "geschuetzt"] = ""
    frame.to_csv(weak / "zaehlungen.csv", index=False, lineterminator="\n")
    meta = json.loads((weak / "metadaten.json").read_text(encoding="utf-8"))
    meta["dateien"]["zaehlungen.csv"] = hashlib.sha256((weak / "zaehlungen.csv").read_bytes()).hexdigest()
    (weak / "metadaten.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(BundleError, match="geschützte Zelle .* lässt sich auf [12] bis [12] eingrenzen"):
        read_bundle(weak)
    # and the independent attacker agrees
    rows = read_rows(weak)
    exposed = [i for i, (lo, hi) in attack(weak).items() if hi < 3 or hi - lo < 2]
    assert exposed and all(rows[i]["anzahl"] == "" for i in exposed)


def test_merge_and_its_files(bundles, tmp_path):
    zips = [p.with_suffix(".zip") for p in bundles.values()]
    merged = merge_bundles(zips)
    assert sorted(merged.pakete["kommune"]) == ["Bottrop", "Essen", "Herne"]
    assert set(merged.zaehlungen["kommune"]) == {"Bottrop", "Essen", "Herne"}
    shares = merged.pakete.set_index("kommune")["anteil_geschuetzt"]
    assert (shares < 0.5).all()
    again = read_merged(write_merged(merged, tmp_path / "merged"))
    pd.testing.assert_frame_equal(again.zaehlungen, merged.zaehlungen, check_dtype=False)
    with pytest.raises(BundleError, match="Zwei Pakete derselben Kommune Herne"):
        merge_bundles([bundles["Herne"], bundles["Herne"].with_suffix(".zip")])


def test_persons_once_mean_the_same_in_the_bundle_and_the_indicator_table(bundles, demo_store, tmp_path):
    """One meaning per code (issue 37): the bundle's personen_einmal, before protection, are the indicator table's
    personen_einmal by district, quarter and year (two independent routes: the bundle's SQL and the engine's; in
    Bottrop 2025 six persons have cases in two districts, which personen_erreicht counts twice); a bundle
    written before the code was renamed (personen_erreicht, same meaning) is read with the new code."""
    from kimtools.indicators import indicator_table

    store = Store(demo_store)
    true = bundle_counts(store, "Bottrop", "2025", "2025")
    true = true.loc[(true["kennzahl"] == "personen_einmal") & (true["merkmal"] == "keins") & (true["stadtbezirk"] != "Gesamt")]
    engine = {}
    for period in ("quarter", "year"):
        table = indicator_table(store, "Bottrop", by="stadtbezirk", period=period,
                                kennzahlen=["personen_einmal", "personen_erreicht"])
        table = table.loc[table["zeitraum"].isin(set(true["zeitraum"]))]
        engine.update(dict(zip(zip(table["stadtbezirk"], table["zeitraum"], table["kennzahl"]), table["zaehler"].astype(int))))
    assert len(true) > 10
    assert dict(zip(zip(true["stadtbezirk"], true["zeitraum"]), true["anzahl"].astype(int))) == {
        (b, z): n for (b, z, k), n in engine.items() if k == "personen_einmal"}
    twice = sum(n for (b, z, k), n in engine.items() if k == "personen_erreicht" and z == "2025")
    assert twice > sum(n for (b, z, k), n in engine.items() if k == "personen_einmal" and z == "2025")

    old = tmp_path / "vor-37"
    shutil.copytree(bundles["Herne"], old)
    text = (old / "zaehlungen.csv").read_text(encoding="utf-8")
    assert ",personen_einmal," in text
    (old / "zaehlungen.csv").write_text(text.replace(",personen_einmal,", ",personen_erreicht,"), encoding="utf-8")
    meta = json.loads((old / "metadaten.json").read_text(encoding="utf-8"))
    meta["dateien"]["zaehlungen.csv"] = hashlib.sha256((old / "zaehlungen.csv").read_bytes()).hexdigest()
    (old / "metadaten.json").write_text(json.dumps(meta), encoding="utf-8")
    read = read_bundle(old).zaehlungen
    assert "personen_erreicht" not in set(read["kennzahl"])
    pd.testing.assert_frame_equal(read, read_bundle(bundles["Herne"]).zaehlungen)
