"""District maps, boundary files as GIS offices deliver them, the comparison of a city on its own, and what a Kreis
calls its sub-units.

Expected values come from independent routes: positions in the funnel from scipy's Poisson quantiles, coordinates
from the shipped file itself, the own comparison from a bundle written to disk and read back.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from scipy import stats

from kimtools.contract.reference import units, with_units
from kimtools.errors import InputError, UsageError
from kimtools.ingest.boundaries import (
    MAPS,
    OSM_ATTRIBUTION,
    BoundaryError,
    import_boundaries,
    read_boundaries,
    shipped_boundaries,
)
from kimtools.present.figures.maps import POSITIONS, district_map, district_positions, is_map
from kimtools.store import Store
from kimtools.views.vergleich import comparison_data

DUISBURG = ["Hamborn", "Homberg/Ruhrort/Baerl", "Meiderich/Beeck", "Mitte", "Rheinhausen", "Süd", "Walsum"]


def _shipped_frame():
    import geopandas as gpd
    import shapely

    shipped = shipped_boundaries()
    shipped = shipped.loc[shipped["kommune"] == "Duisburg"]
    return gpd.GeoDataFrame({"name": shipped["stadtbezirk"].tolist()},
                            geometry=[shapely.from_geojson(g) for g in shipped["geometrie"]], crs=4326)


def _centroids(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    import shapely

    return {r.stadtbezirk: (shapely.from_geojson(r.geometrie).centroid.x, shapely.from_geojson(r.geometrie).centroid.y)
            for r in frame.itertuples()}


# ----------------------------------------------------------------------------- reading boundary files
def test_boundaries_from_geojson_shapefile_and_utm_without_reference_system(tmp_path):
    """The same seven districts as GeoJSON with names spelled otherwise, as a zipped Shapefile in ETRS89/UTM 32N
    with its .prj, and as GeoJSON in UTM metres that does not name its reference system: each read back to the
    shipped outlines (centroids within about a metre), each district matched by name."""
    import zipfile

    frame = _shipped_frame()
    expected = _centroids(shipped_boundaries().query("kommune == 'Duisburg'"))

    spelled = frame.assign(name=frame["name"].str.upper().str.replace("/", " / "))   # "MEIDERICH / BEECK"
    spelled.assign(nr=range(1, 8)).to_file(tmp_path / "bezirke.geojson", driver="GeoJSON")
    utm = frame.to_crs(25832)
    utm.to_file(tmp_path / "bezirke.shp")
    with zipfile.ZipFile(tmp_path / "bezirke.zip", "w") as z:
        for part in tmp_path.glob("bezirke.*"):
            if part.suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                z.write(part, part.name)
    bare = json.loads(utm.to_json())
    bare.pop("crs", None)
    (tmp_path / "utm_ohne_crs.json").write_text(json.dumps(bare), encoding="utf-8")

    for name in ("bezirke.geojson", "bezirke.zip", "bezirke.shp", "utm_ohne_crs.json"):
        read = read_boundaries(tmp_path / name, "Duisburg", DUISBURG)
        assert sorted(read["stadtbezirk"]) == DUISBURG, name
        for district, (x, y) in _centroids(read).items():
            ex, ey = expected[district]
            assert abs(x - ex) < 2e-5 and abs(y - ey) < 2e-5, (name, district, x - ex, y - ey)
        assert all(json.loads(g)["type"] in ("Polygon", "MultiPolygon") for g in read["geometrie"])
        # the point for the name lies inside its district
        import shapely
        assert all(shapely.from_geojson(r.geometrie).contains(shapely.Point(r.lon, r.lat)) for r in read.itertuples())


def test_a_boundary_file_that_does_not_fit_is_refused_with_every_problem_at_once(tmp_path):
    import shapely

    frame = _shipped_frame()
    frame.loc[frame["name"] == "Rheinhausen", "name"] = "Rheinhusen"                  # misspelt: no district
    frame.loc[frame["name"] == "Mitte", "geometry"] = shapely.Point(6.76, 51.43)       # a point: no area
    frame = frame.loc[frame["name"] != "Walsum"]                                        # missing altogether
    frame.to_file(tmp_path / "karte.geojson", driver="GeoJSON")
    with pytest.raises(BoundaryError) as caught:
        read_boundaries(tmp_path / "karte.geojson", "Duisburg", DUISBURG)
    p = caught.value.problems
    assert caught.value.message_de.startswith("Die Kartendatei karte.geojson passt an 4 Stelle(n) nicht")
    rows = {(r.wert, r.spalte): r for r in p.itertuples()}
    assert rows[("Rheinhusen", "name")].grund_de.startswith("Kein Stadtbezirk von Duisburg")
    assert rows[("Point", "geometry")].zeile == 4 and "Keine Fläche" in rows[("Point", "geometry")].grund_de
    assert {r.wert for r in p.itertuples() if "keine Fläche" in r.grund_de} == {"Walsum", "Rheinhausen"}
    assert set(p["datei"]) == {"karte.geojson"}


@pytest.mark.parametrize("content, says", [
    ("kommune;stadtbezirk\nDuisburg;Mitte\n", "keine lesbare Kartendatei"),   # a CSV that claims to be GeoJSON
    (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Mitte"},
                 "geometry": {"type": "Polygon", "coordinates": [[[2550000, 5700000], [2551000, 5700000],
                                                                  [2551000, 5701000], [2550000, 5700000]]]}}]}),
     "weder Längen- und Breitengrade noch ETRS89/UTM 32N"),                     # Gauß–Krüger without a CRS
])
def test_a_file_that_is_not_what_it_claims_gets_a_german_answer(tmp_path, content, says):
    path = tmp_path / "bezirke.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_boundaries(path, "Duisburg", DUISBURG)
    assert says in caught.value.message_de and "Traceback" not in caught.value.message_de
    with pytest.raises(InputError, match="gibt es nicht"):
        read_boundaries(tmp_path / "fehlt.geojson", "Duisburg", DUISBURG)


# ----------------------------------------------------------------------------- the own store
@pytest.fixture(scope="module")
def own_store(tmp_path_factory):
    """Duisburg and the Kreis Unna from the demo, on their own: no comparison bundle anywhere."""
    from kimtools.ingest.demo import write_demo
    from kimtools.ingest.importer import import_export

    folder = tmp_path_factory.mktemp("eigen")
    import_export(write_demo(folder / "export", kommunen=["Duisburg", "Kreis Unna"], show_progress=False),
                  folder / "kim.duckdb", show_progress=False)
    return Store(folder / "kim.duckdb")


def test_a_citys_own_boundaries_replace_the_shipped_ones_and_a_bad_file_changes_nothing(own_store, tmp_path):
    from kimtools.views.karten import district_shapes

    store = Store(tmp_path / "kim.duckdb")
    store.path.write_bytes(own_store.path.read_bytes())
    assert district_shapes(store, "Duisburg")["quelle"].unique().tolist() == ["© OpenStreetMap-Mitwirkende (ODbL)"]
    assert district_shapes(store, "Kreis Unna").empty   # no boundaries known: the pages keep their dot plots
    _shipped_frame().to_crs(25832).to_file(tmp_path / "stadt.shp")
    before = store.path.read_bytes()
    bad = tmp_path / "kaputt.geojson"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InputError):
        import_boundaries(bad, store, "Duisburg")
    assert store.path.read_bytes() == before
    with pytest.raises(InputError, match="Für welche Kommune ist die Karte\? Bitte die Kommune angeben; im Datenbestand: Duisburg, Kreis Unna"):
        import_boundaries(tmp_path / "stadt.shp", store)   # two kommunen in the store: which one?
    import_boundaries(tmp_path / "stadt.shp", store, "Duisburg", quelle="Stadt Duisburg, Vermessung")
    own = district_shapes(store, "Duisburg")
    assert sorted(own["stadtbezirk"]) == DUISBURG and set(own["quelle"]) == {"Stadt Duisburg, Vermessung"}
    assert district_shapes(store, "Kreis Unna").empty


# ----------------------------------------------------------------------------- where a district lies
def test_district_positions_against_scipys_poisson_quantiles():
    """Five districts of 10,000 inhabitants each, 75.8 persons reached per district under the overall rate. By the
    exact Poisson quantiles of that count: 80 lies within; 97 beyond the 97.5 % quantile but not the 99.9 % one
    (above the 95 % limit only); 160 beyond the 99.9 % quantile; 40 below the 0.1 % one; 2 is a small count and
    shown neither with a value nor with a colour (the overall rate still counts it)."""
    z = [80, 97, 160, 40, 2]
    rates = pd.DataFrame({"stadtbezirk": list("ABCDE"), "zaehler": z, "nenner": [10_000.0] * 5,
                          "wert": [v / 10 for v in z], "ki_unten": [v / 12 for v in z], "ki_oben": [v / 8 for v in z]})
    pooled = stats.poisson(sum(z) / 5)
    assert pooled.ppf(0.025) < 80 < pooled.ppf(0.975) < 97 < pooled.ppf(0.999) < 160 and 40 < pooled.ppf(0.001)
    placed = district_positions(rates, "reichweite_je_1000").set_index("stadtbezirk")
    assert placed["lage"].to_dict() == {"A": "innerhalb", "B": "ueber_95", "C": "ueber_99,8", "D": "unter_99,8",
                                        "E": "geschuetzt"}
    assert math.isnan(placed.loc["E", "wert"]) and math.isnan(placed.loc["E", "unten"])
    assert placed.loc["A", "ziel"] == pytest.approx(1000 * sum(z) / 50_000)
    assert placed.loc["A", "unten"] == pytest.approx(80 / 12)   # the indicator table's interval, as it is
    # the kommune's own rate as the target (where a bundle protects some districts): 8 per 1,000 is far above 5
    assert district_positions(rates, "reichweite_je_1000", target=0.005).set_index("stadtbezirk").loc["A", "lage"] \
        == "ueber_99,8"


def test_the_duisburg_map_names_every_district_says_its_source_and_shows_no_small_count():
    shapes = shipped_boundaries().query("kommune == 'Duisburg'")
    rates = pd.DataFrame({"stadtbezirk": DUISBURG, "zaehler": [200, 80, 210, 230, 170, 120, 2],
                          "nenner": [73000.0, 41000, 74000, 108000, 78000, 74000, 49000]})
    rates["wert"] = 1000 * rates["zaehler"] / rates["nenner"]
    rates["ki_unten"], rates["ki_oben"] = rates["wert"] * 0.9, rates["wert"] * 1.1
    fig = district_map(shapes, rates, "reichweite_je_1000", title="Duisburg")
    assert is_map(fig)
    areas = [t for t in fig.data if t.fill == "toself"]
    assert len(areas) == 7 and {t.fillcolor for t in areas} <= {c for c, _de, _en in POSITIONS.values()}
    walsum = next(t for t in areas if t.name.startswith("<b>Walsum</b>"))
    assert walsum.fillcolor == POSITIONS["geschuetzt"][0] and not any(ch.isdigit() for ch in walsum.name)
    assert "zu wenige Fälle" in walsum.name
    hamborn = next(t for t in areas if t.name.startswith("<b>Hamborn</b>"))
    assert "2,7 (95-%-Intervall 2,5–3,0)" in hamborn.name   # 200 / 73,000 × 1,000 = 2.74, German format
    labels = next(t for t in fig.data if t.mode == "text")
    assert sorted(t.replace("<br>", "") for t in labels.text) == DUISBURG
    assert fig.layout.annotations[0].text == f"Karte: {OSM_ATTRIBUTION} (ODbL)"
    assert fig.layout.yaxis.scaleratio == pytest.approx(1 / math.cos(math.radians(51.43)), rel=0.01)
    assert (MAPS / "duisburg.geojson").exists()


# ----------------------------------------------------------------------------- a city on its own
def test_the_comparison_page_on_a_store_alone_is_its_bundle_as_written(own_store, tmp_path, monkeypatch):
    """Without merged bundles the page compares the store's own kommunen exactly as their bundles say (written to
    disk and read back: the independent route), computed once per data state; the hint names no server folder."""
    from kimtools.exchange import bundle as B

    merged, notes = comparison_data(own_store, tmp_path / "gibt-es-nicht")
    assert len(notes) == 1 and "Noch keine Vergleichspakete" in notes[0] and str(tmp_path) not in notes[0]
    for kommune in ("Duisburg", "Kreis Unna"):
        written = B.read_bundle(B.export_bundle(own_store, kommune, tmp_path / "pakete").folder)
        mine = merged.kennzahlen.loc[merged.kennzahlen["kommune"] == kommune].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, written.kennzahlen.reset_index(drop=True), check_dtype=False)
    assert set(merged.pakete["quelle"]) == {"Datenbestand"}

    def refuse(*_a, **_k):
        raise AssertionError("computed again although the data did not change")

    monkeypatch.setattr(B, "build_bundle", refuse)
    again, _ = comparison_data(own_store, tmp_path / "gibt-es-nicht")   # the next page view: read, not computed
    pd.testing.assert_frame_equal(again.kennzahlen, merged.kennzahlen)


def test_nothing_to_compare_is_a_german_hint_without_a_path(tmp_path):

    with pytest.raises(UsageError) as caught:
        comparison_data(Store(tmp_path / "kein.duckdb"), tmp_path / "keine-pakete")
    assert "Es gibt noch nichts zu vergleichen" in caught.value.message_de and str(tmp_path) not in caught.value.message_de


def test_the_comparison_panel_of_one_city_compares_its_districts_and_maps_them(own_store, tmp_path):
    from kimtools.ingest.demo import write_demo
    from kimtools.ingest.importer import import_export
    from kimtools.panels.vergleich import VergleichPanel

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_demo(tmp_path / "export", kommunen=["Duisburg"], show_progress=False), store, show_progress=False)
    panel = VergleichPanel(folder=tmp_path / "keine-pakete", store=store)
    assert panel.message.value == "" and "Noch keine Vergleichspakete" in panel.notes.value
    assert [v for _label, v in panel.level.options] == ["stadtbezirk"] and panel.level.label == "Stadtbezirke von Duisburg"
    funnel = panel.funnel.figure
    assert sorted(funnel["data"][-1]["customdata"]) == sorted(f"Duisburg: {d}" for d in DUISBURG)
    assert panel.map_of.value == "Duisburg"
    assert panel.map.figure["layout"]["annotations"][0]["text"] == f"Karte: {OSM_ATTRIBUTION} (ODbL)"


# ----------------------------------------------------------------------------- a Kreis and its Gemeinden
def test_a_kreis_names_its_sub_units_gemeinden_everywhere(own_store, tmp_path):
    from kimtools.analysis.gaps import write_gap_register
    from kimtools.panels.lenkungskreis import LenkungskreisPanel
    from kimtools.present.labels import column_label
    from kimtools.present.pages import section_title
    from kimtools.present.report import lenkungskreis_html
    from kimtools.present.steering import explain, population_note

    assert units("Kreis Unna")["Bezirke"] == "Gemeinden" and units("Duisburg")["Bezirke"] == "Stadtbezirke"
    assert with_units({"de": "x", "en": "{districts}"}, "Kreis Unna", "en") == "municipalities"
    assert column_label("stadtbezirk", kommune="Kreis Unna") == "Gemeinde" and column_label("stadtbezirk") == "Stadtbezirk"
    assert section_title("lenkungskreis", "reach", "Kreis Unna") == "Die Gemeinden"
    assert "je Gemeinde" in explain("reach", "Kreis Unna") and "Stadtbezirk" not in explain("reach", "Kreis Unna")
    assert population_note(own_store, "Kreis Unna").startswith("Einwohnerzahlen je Gemeinde: ")
    assert "erfunden" in population_note(own_store, "Kreis Unna")   # the demo's parts of a Kreis stay marked invented

    panel = LenkungskreisPanel(own_store)
    panel.filters.kommune.value = "Kreis Unna"
    assert panel.filters.stadtbezirk.description == "Gemeinde"
    headings = [w.value for w in panel.widget.children if hasattr(w, "kim_section")]
    assert "<h3>Die Gemeinden</h3>" in headings and not any("Stadtbezirk" in h for h in headings)
    panel.filters.kommune.value = "Duisburg"
    assert panel.filters.stadtbezirk.description == "Stadtbezirk"
    assert "<h3>Die Stadtbezirke</h3>" in [w.value for w in panel.widget.children if hasattr(w, "kim_section")]

    printed = lenkungskreis_html(own_store, "Kreis Unna")
    assert "<h2>Die Gemeinden</h2>" in printed and "Stadtbezirk" not in printed
    import openpyxl

    path = write_gap_register(tmp_path / "luecken.xlsx", own_store, "Kreis Unna", minimum=1)
    assert openpyxl.load_workbook(path).sheetnames[1] == "Gemeinden"


def test_an_import_prepares_the_comparison_and_the_forecasts_in_the_background(tmp_path):
    """`kimtools import` starts the preparation (lowest priority) and returns; soon the store's own comparison and the
    forecasts are kept beside it, and a page then reads them instead of computing."""
    import os
    import subprocess
    import sys
    import time

    from kimtools.exchange import bundle as B
    from kimtools.ingest.demo import write_demo
    from kimtools.store.kept import kept_folder

    export = write_demo(tmp_path / "export", kommunen=["Herne"], show_progress=False)
    env = {k: v for k, v in os.environ.items() if k != "KIMTOOLS_VORBEREITEN"}
    env["KIMTOOLS_VERGLEICH"] = str(tmp_path / "keine-pakete")
    exe = os.path.join(os.path.dirname(sys.executable), "kimtools")
    done = subprocess.run([exe, "import", str(export), "--db", str(tmp_path / "kim.duckdb")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "im Hintergrund vorbereitet" in done.stdout, done.stderr
    store = Store(tmp_path / "kim.duckdb")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (list(kept_folder(store, "vergleich").glob("*.json"))
                                               and list(kept_folder(store, "prognosen").glob("*.json"))):
        time.sleep(1)
    assert list(kept_folder(store, "prognosen").glob("*.json")), "no forecasts prepared within 4 minutes"
    assert list(kept_folder(store, "vergleich").glob("*.json")), "no comparison prepared within 4 minutes"
    original = B.build_bundle
    try:
        B.build_bundle = lambda *a, **k: (_ for _ in ()).throw(AssertionError("computed by the page"))
        merged, _ = comparison_data(store, tmp_path / "keine-pakete")
    finally:
        B.build_bundle = original
    assert set(merged.kennzahlen["kommune"]) == {"Herne"}


def test_kimtools_bezirke_karte_takes_a_shapefile_and_lists_every_problem_of_a_bad_one(own_store, tmp_path, capsys):
    from kimtools.cli import main

    db = tmp_path / "kim.duckdb"
    db.write_bytes(own_store.path.read_bytes())
    _shipped_frame().to_crs(25832).to_file(tmp_path / "stadt.shp")
    assert main(["bezirke", "--karte", str(tmp_path / "stadt.shp"), "--kommune", "Duisburg", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Übernommen. Die Karten von Duisburg zeigen jetzt 7 Stadtbezirke:" in out and "Meiderich/Beeck" in out
    wrong = _shipped_frame().assign(name=lambda f: f["name"].where(f["name"] != "Süd", "Sued-West"))
    wrong.to_file(tmp_path / "falsch.geojson", driver="GeoJSON")
    before = db.read_bytes()
    assert main(["bezirke", "--karte", str(tmp_path / "falsch.geojson"), "--kommune", "Duisburg", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "Die Kartendatei falsch.geojson passt an 2 Stelle(n) nicht" in err and "Sued-West" in err
    assert "Traceback" not in err and db.read_bytes() == before
