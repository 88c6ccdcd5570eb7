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

from kimtools.indicators import indicator_table
from kimtools.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "store-0.1.0"
TABLES = sorted(FIXTURE.glob("*.csv.gz"))


@pytest.fixture
def old_store(tmp_path: Path) -> Store:
    path = tmp_path / "kim.duckdb"
    with gzip.open(FIXTURE / "kim.duckdb.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return Store(path)


def _call(table: Path) -> dict:
    by, period, merkmal = table.name.removesuffix(".csv.gz").split("-")
    return {"by": by, "period": period, "merkmal": None if merkmal == "gesamt" else merkmal}


def _same(store: Store, table: Path) -> None:
    expected = pd.read_csv(table)
    got = indicator_table(store, **_call(table))
    got = got[got["kennzahl"].isin(set(expected["kennzahl"]))]   # indicators added since are not in the old table
    got = pd.read_csv(io.StringIO(got.to_csv(index=False)))      # the same round trip through CSV
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=False, rtol=1e-9)


def test_the_fixture_holds_the_tables_it_claims():
    assert len(TABLES) == 7 and (FIXTURE / "kim.duckdb.gz").stat().st_size < 300_000


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.name.removesuffix(".csv.gz"))
def test_an_old_store_gives_the_tables_its_release_gave(old_store, table):
    _same(old_store, table)
