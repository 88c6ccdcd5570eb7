"""A store written by an earlier release opens with this one and gives the same indicator tables (issue 37).

The fixture (``tests/fixtures/store-0.1.0``, see its README) was written by kimtools 0.1.0, whose cells had fixed
columns and no version; the tables beside it are what that release computed from it.
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kimtools.contract.catalogue import CATALOGUE
from kimtools.indicators.cells import answered_by_cells
from kimtools.indicators import indicator_table
from kimtools.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "store-0.1.0"
TABLES = sorted(FIXTURE.glob("*.csv.gz"))
#: the key the fixture was pseudonymised with (its README)
FIXTURE_KEY = b"fixture-key-not-secret-0123456789abcdef"


@pytest.fixture
def old_store(tmp_path: Path) -> Store:
    path = tmp_path / "kim.duckdb"
    with gzip.open(FIXTURE / "kim.duckdb.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return Store(path)


def _call(table: Path) -> dict:
    by, period, merkmal = table.name.removesuffix(".csv.gz").split("-")
    return {"by": by, "period": period, "merkmal": None if merkmal == "gesamt" else merkmal}


#: the indicators the cells answer alone (no reference figure, no computation but the median wait): asked for
#: without the others, they come from the cells where the breakdown is one of theirs
FROM_CELLS = [code for code, e in CATALOGUE.items() if answered_by_cells(e)]


def _same(store: Store, table: Path, kennzahlen: list[str] | None = None) -> None:
    expected = pd.read_csv(table)
    if kennzahlen is not None:
        expected = expected[expected["kennzahl"].isin(kennzahlen)].reset_index(drop=True)
    got = indicator_table(store, kennzahlen=kennzahlen, **_call(table))
    got = got[got["kennzahl"].isin(set(expected["kennzahl"]))]   # indicators added since are not in the old table
    if _call(table)["by"] != "kommune" or _call(table)["merkmal"]:
        # the reach rates count each person once since issue 37 (in the district, provider or characteristic of her
        # case begun last, as the comparison bundle does); 0.1.0 counted her in each: equal only for whole kommunen
        expected, got = (t[~t["kennzahl"].str.startswith("reichweite_je_1000")] for t in (expected, got))
    got = pd.read_csv(io.StringIO(got.to_csv(index=False)))      # the same round trip through CSV
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_exact=False,
                                  rtol=1e-9)


def test_the_fixture_holds_the_tables_it_claims():
    assert len(TABLES) == 7 and (FIXTURE / "kim.duckdb.gz").stat().st_size < 300_000


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.name.removesuffix(".csv.gz"))
def test_an_old_store_gives_the_tables_its_release_gave(old_store, table):
    _same(old_store, table)


def test_its_derived_tables_are_brought_up_to_date_and_give_the_same_tables(old_store):
    """Until ``kimtools vorbereiten`` runs, the pass over every case answers (the old cells have no version);
    after it the cells do, with the same tables, and the data are untouched."""
    from kimtools.indicators.table import _cell_counts, _cell_referrals
    from kimtools.ingest.importer import bring_derived_up_to_date, derived_current

    counts = old_store.query("SELECT (SELECT count(*) FROM faelle) AS f, (SELECT count(*) FROM import_log) AS l")
    assert not derived_current(old_store)
    assert _cell_counts(old_store, "kommune", "quarter", None, None, {}, ["neuzugaenge"]) is None
    assert bring_derived_up_to_date(old_store) and derived_current(old_store)
    assert not bring_derived_up_to_date(old_store)   # once is enough
    assert _cell_counts(old_store, "kommune", "quarter", None, None, {}, ["neuzugaenge", "personen_erreicht"]) is not None
    assert _cell_referrals(old_store, "kommune", "quarter", None, None, {}, ["annahmequote"]) is not None
    pd.testing.assert_frame_equal(old_store.query(
        "SELECT (SELECT count(*) FROM faelle) AS f, (SELECT count(*) FROM import_log) AS l"), counts)
    for table in TABLES:
        _same(old_store, table)
        _same(old_store, table, FROM_CELLS)


def test_its_posts_read_as_case_management_posts_until_and_after_a_new_import(old_store, tmp_path):
    """The 0.1.0 store has no Baustein, function, filled or funding (contract 1.2): read as it is, and after an
    import of another kommune has added the columns, its posts are filled Land-funded case-management posts of
    Baustein 2, with the same staffing figures either way; the new kommune's own posts keep their values."""
    from conftest import BASE, write_export
    from kimtools import import_export

    def staffing() -> pd.DataFrame:
        t = indicator_table(old_store, period="year", merkmal="baustein", kennzahlen=["vzae_besetzt", "vzae_land"])
        return t.loc[t["kommune"] != "Herne"].reset_index(drop=True)

    columns = set(old_store.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'stellen'")
                  ["column_name"])
    assert "baustein" not in columns and "besetzt" not in columns   # the fixture is of the old layout
    before = staffing()
    assert set(before["auspraegung"]) == {"2"} and (before["wert"] > 0).any()
    files = dict(BASE)   # replaces the fixture's Herne (forced: it shrinks), under the fixture's key
    files["stellen"] = "traeger;baustein;stadtbezirk;vzae;besetzt;von\nCM1;2;Herne-Mitte;1,5;nein;01.01.2024\n"
    import_export(write_export(tmp_path / "herne", files), old_store, key=FIXTURE_KEY, force=True, show_progress=False)
    pd.testing.assert_frame_equal(staffing(), before)
    stored = old_store.query("SELECT DISTINCT baustein, funktion, besetzt, foerderung FROM stellen WHERE kommune <> 'Herne'")
    assert stored.values.tolist() == [["2", "case_management", True, "land"]]
    herne = old_store.query("SELECT baustein, besetzt FROM stellen WHERE kommune = 'Herne'")
    assert herne.values.tolist() == [["2", False]]
