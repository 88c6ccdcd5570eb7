"""Shared test set-up: a test key, a small hand-written export, and one demo store per process of a run (``make
test`` runs two, pytest-xdist).

The demo store and the demo comparison (ten bundles) take about a minute to build, so they are built once per
run and only when a test needs them: a test using the ``demo_store``/``demo_export``/``demo_comparison``
fixtures, a notebook or dashboard run by nbval (whose kernels start outside any fixture and find the store
through ``KIMTOOLS_DB``), or a browser test. A single file of unit tests starts in seconds.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / f"test-{os.getpid()}"   # one per run: two runs at once do not remove each other's demo
TEST_KEY = "kimtools-test-key-not-secret-0123456789"
# no developer's own indicator catalogue or profiles in a run (kimtools reads them when first imported; a test that
# wants its own sets KIMTOOLS_KATALOG for the process it starts)
os.environ.pop("KIMTOOLS_KATALOG", None)
os.environ["KIMTOOLS_CONFIG_DIR"] = str(BUILD / "config")
# the checkout on the path as `python -m pytest` puts it there: a process a test spawns (the concurrent reader of
# test_store) imports its target from ``tests.…``, also when the suite runs as plain `pytest`
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The base export: Herne, two cases, written by hand. Row numbers as a person sees them (header = 1).
BASE = {
    "partner": """\
partner_id;kommune;name;typ;rechtskreis;case_management;stadtbezirk
CM1;Herne;Caritas Herne;wohlfahrtsverband;;ja;Herne-Mitte
JC;Herne;Jobcenter Herne;jobcenter;sgb2;nein;
ABH;Herne;Ausländerbehörde Herne;auslaenderbehoerde;aufenthg;nein;
""",
    "faelle": """\
fall_id;person_id;kommune;stadtbezirk;traeger;beginn;ende;abschlussgrund;zielgruppe;handlungsfelder;aufenthaltsstatus;zugang_ueber;geschlecht;geburtsjahr;haushalt_personen
F1;PERS-0001;Herne;Herne-Mitte;CM1;01.02.2024;;;erstintegration;sprache,wohnen;duldung;JC;w;1990;3
F2;PERS-0002;Herne;Sodingen;CM1;15.03.2024;30.06.2024;ziel_erreicht;multiple_problemlagen;arbeit;ae_104c;;m;1985;1
""",
    "beratungen": """\
beratung_id;fall_id;datum;dauer_min;form;handlungsfeld
B1;F1;05.02.2024;45;persoenlich;sprache
B2;F2;20.03.2024;30;telefonisch;arbeit
""",
    "vermittlungen": """\
vermittlung_id;fall_id;datum;an_partner;handlungsfeld;status;erstkontakt;luecke
V1;F1;10.02.2024;JC;arbeit;angenommen;20.02.2024;
V2;F2;01.04.2024;ABH;aufenthalt;abgelehnt;;wartezeit
""",
    "stellen": """\
traeger;stadtbezirk;vzae;von;bis
CM1;Herne-Mitte;1,5;01.01.2024;
""",
    "statuswechsel": """\
fall_id;datum;nach_status
F2;01.05.2024;ae_25b
""",
}


def indicator_row(table, kennzahl: str, **where):
    """The one row of an indicator table with this kennzahl and these column values."""
    sel = table[table["kennzahl"] == kennzahl]
    for col, val in where.items():
        sel = sel[sel[col] == val]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def indicator_count(table, kennzahl: str, **where) -> int:
    return int(indicator_row(table, kennzahl, **where)["zaehler"])


def prepared_views(panel) -> tuple[dict, list[str], list[str], dict[tuple, object]]:
    """A dashboard panel's filter values, quarters (newest first), districts, and the views it prepared in the
    background after its first view (waited for)."""
    v = panel.filters.value
    quarters = list(panel.filters.zeitraum.options)
    districts = [d for _, d in panel.filters.stadtbezirk.options if d is not None]
    return v, quarters, districts, {key: future.result(timeout=60) for key, future in list(panel._ahead._futures.items())}


def write_export(folder: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_bytes(text.encode(encoding))
    return folder


def pytest_configure(config: pytest.Config) -> None:
    os.environ["KIMTOOLS_KEY"] = TEST_KEY
    os.environ.pop("KIMTOOLS_LANG", None)
    os.environ.setdefault("KIMTOOLS_KEY_FILE", str(BUILD / "no-key-file-used"))
    os.environ["KIMTOOLS_DB"] = str(BUILD / "demo.duckdb")
    os.environ["KIMTOOLS_VERGLEICH"] = str(BUILD / "vergleich")
    # no background preparation after each of the many imports and servers of a run (one test checks it, with it on)
    os.environ["KIMTOOLS_VORBEREITEN"] = "0"
    shutil.rmtree(BUILD, ignore_errors=True)
    config.pluginmanager.register(DemoFirst(), "kimtools-demo-first")


def pytest_unconfigure(config: pytest.Config) -> None:
    # each process of a run (the two workers of `make test`, pytest-xdist) has its own BUILD and removes it
    shutil.rmtree(BUILD, ignore_errors=True)


_BUILT: set[str] = set()


def ensure_demo() -> Path:
    """The demo store of this run, built on first use."""
    store = BUILD / "demo.duckdb"
    if "store" not in _BUILT:
        from kimtools import import_export
        from kimtools.ingest.demo import write_demo

        export = write_demo(BUILD / "demo-export", show_progress=False)
        import_export(export, store, show_progress=False)
        _BUILT.add("store")
    return store


def ensure_comparison() -> Path:
    """The demo comparison for notebook 04 and the comparison dashboard (one year of every city, merged), built
    on first use."""
    folder = BUILD / "vergleich"
    if "comparison" not in _BUILT:
        from kimtools.exchange.bundle import export_bundles, merge_bundles, write_merged
        from kimtools.store import Store

        written = export_bundles(Store(ensure_demo()), folder / "pakete", first="2025", last="2025", show_progress=False)
        write_merged(merge_bundles(written["zip"]), folder)
        _BUILT.add("comparison")
    return folder


#: the words by which a doctest of kimtools shows that it reads the store (``KIMTOOLS_DB``: the demo)
_READS_STORE = ("kennzahlen(", "Store(", "kim.", "DEMO")


class DemoFirst:
    """Notebooks, dashboards, browser tests and the doctests that read the store find the demo store and comparison
    through the environment: build them before the item (and its notebook's kernel) starts. A plugin of its own,
    registered at start, not a hook of this conftest: those run only for the items below ``tests/``."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        parts = Path(str(item.path)).parts
        doctest = getattr(item, "dtest", None)
        reads = doctest is not None and any(w in ex.source for ex in doctest.examples for w in _READS_STORE)
        if "notebooks" in parts or "dashboards" in parts or item.get_closest_marker("browser") or reads:
            ensure_demo()
            ensure_comparison()


@pytest.fixture
def base_files() -> dict[str, str]:
    return dict(BASE)


@pytest.fixture
def base_export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "export", BASE)


@pytest.fixture(scope="session")
def demo_store() -> Path:
    return ensure_demo()


@pytest.fixture(scope="session")
def demo_export() -> Path:
    ensure_demo()
    return BUILD / "demo-export"


@pytest.fixture(scope="session")
def demo_comparison() -> Path:
    return ensure_comparison()
