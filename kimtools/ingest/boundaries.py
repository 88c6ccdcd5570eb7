"""District boundaries for the maps (``kimtools bezirke --karte FILE``): a GIS office's file read, converted to
longitude/latitude and matched to the kommune's districts.

What is read (with geopandas/pyogrio, reprojected with pyproj): GeoJSON, a Shapefile (``.shp`` with its
``.dbf``/``.prj`` beside it, or all of them in a ``.zip``) or a GeoPackage, one feature (or several, which are joined)
per district, each a polygon or multipolygon.

DECISION: the coordinate reference system is the file's own (a Shapefile's ``.prj``, a GeoPackage's, a GeoJSON's
``crs`` member). A file without one is taken as longitude/latitude (WGS 84) when every coordinate lies in that range,
and as ETRS89 / UTM zone 32N (EPSG:25832, what the NRW surveying offices publish) when the coordinates are metres in
that zone's range for NRW; anything else is refused with the request to save the file with its reference system.

The district's name is the column whose values match the kommune's districts best (matched as the reader matches
them: case, blanks and hyphens ignored); every feature whose name is no district of the kommune, every district
without a feature and every feature without an area is reported, all at once, with file, row (feature number),
column, value and reason. Outlines are simplified to about 5 m, which no screen shows, so that a detailed survey
file does not weigh down every page.

Shipped boundaries (``data/reference/karten/*.geojson``, each feature with ``kommune``, ``stadtbezirk`` and
``beschriftung``, the point for its name, and the file with ``quelle``) serve a
kommune that supplied none: Duisburg's from OpenStreetMap (ODbL, attribution :data:`OSM_ATTRIBUTION`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import zipfile
from pathlib import Path

import pandas as pd

from ..contract.reference import match_key, with_units
from ..errors import ImportValidationError, InputError
from ..paths import DATA
from ..store import Store
from ..store.tables import BOUNDARY_TABLE
from .problems import PROBLEM_COLUMNS

__all__ = ["MAPS", "OSM_ATTRIBUTION", "BoundaryError", "read_boundaries", "shipped_boundaries", "import_boundaries"]

#: the shipped boundaries, one GeoJSON file per kommune
MAPS = DATA / "reference" / "karten"
#: what every map drawn from OpenStreetMap data must say (ODbL 1.0)
OSM_ATTRIBUTION = "© OpenStreetMap-Mitwirkende"
#: about 5 m in degrees of latitude: what a district map on a screen or an A4 page can show
_SIMPLIFY = 0.00005
_TABLE = "karte"


class BoundaryError(ImportValidationError):
    """A boundary file does not fit the kommune's districts; ``problems`` lists every place at once."""

    def __init__(self, problems: pd.DataFrame, source: str):
        self.problems, self.source = problems, source
        n = len(problems)
        super(ImportValidationError, self).__init__(
            f"Die Kartendatei {source} passt an {n} Stelle(n) nicht zu den Stadtbezirken; nichts wurde gespeichert.",
            f"The map file {source} does not fit the districts in {n} place(s); nothing was stored.")


def _problem(file: str, row: int, column: str, value, de: str, en: str) -> dict:
    return dict(zip(PROBLEM_COLUMNS, [file, _TABLE, row, column, str(value), de, en]))


def _read(path: Path):
    import geopandas as gpd

    if not path.exists():
        raise InputError(f"Die Kartendatei {path.name} gibt es nicht (gesucht in {path.parent}).",
                         f"The map file {path.name} does not exist (looked in {path.parent}).")
    if path.suffix.lower() == ".zip":
        _check_zip(path)
    try:
        frame = gpd.read_file(f"zip://{path}" if path.suffix.lower() == ".zip" else path)
    except Exception as exc:   # GDAL's own words (English) come last, for the GIS colleague; the person gets ours
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        de, en = _why_unreadable(path)
        raise InputError(
            f"{path.name} ist keine lesbare Kartendatei: {de}. Erwartet: GeoJSON, Shapefile mit .dbf und .prj (auch "
            f"als .zip) oder GeoPackage, vollständig gespeichert. (Meldung der GIS-Bibliothek: {detail})",
            f"{path.name} is no readable map file: {en}. Expected: GeoJSON, a Shapefile with .dbf and .prj (also as "
            f".zip) or a GeoPackage, saved completely. (The GIS library says: {detail})") from None
    if frame.empty or frame.geometry.isna().all():
        raise InputError(f"{path.name} enthält keine einzige Fläche (die Karte ist leer). Bitte die Datei mit den "
                         "Flächen der Bezirke aus dem GIS speichern.",
                         f"{path.name} holds not a single area (the map is empty). Please save the file with the "
                         "districts' areas from the GIS.")
    return frame


def _check_zip(path: Path) -> None:
    """A zipped Shapefile holds its ``.shp`` (with ``.dbf``, ``.shx``); otherwise say what it holds."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{path.name} ist keine lesbare ZIP-Datei (beschädigt oder unvollständig übertragen?).",
                         f"{path.name} is no readable ZIP file (damaged or incompletely transferred?).") from None
    maps = [n for n in names if n.lower().endswith((".shp", ".geojson", ".json", ".gpkg"))]
    if not maps:
        held = ", ".join(Path(n).name for n in names[:8]) or "nichts"
        raise InputError(f"{path.name} enthält keine Kartendatei (.shp mit .dbf und .shx, .geojson oder .gpkg); "
                         f"darin: {held}. Bitte alle Teile des Shapefiles zusammen packen.",
                         f"{path.name} holds no map file (.shp with .dbf and .shx, .geojson or .gpkg); in it: "
                         f"{held.replace('nichts', 'nothing')}. Please zip all parts of the Shapefile together.")


def _why_unreadable(path: Path) -> tuple[str, str]:
    """What is most likely wrong with a map file GDAL could not open, German and English."""
    if not path.is_file() or path.stat().st_size == 0:
        return "die Datei ist leer", "the file is empty"
    with path.open("rb") as fh:
        head = fh.read(16)
    suffix = path.suffix.lower()
    if suffix == ".gpkg" and not head.startswith(b"SQLite format 3"):
        return ("das ist kein GeoPackage (keine SQLite-Datenbank; eine andere Datei mit dieser Endung?)",
                "that is no GeoPackage (no SQLite database; another file with this ending?)")
    if suffix in (".geojson", ".json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            return "die Datei ist kein UTF-8-Text", "the file is no UTF-8 text"
        except json.JSONDecodeError as exc:
            return (f"das JSON bricht in Zeile {exc.lineno}, Spalte {exc.colno} ab oder ist dort fehlerhaft (unvollständig "
                    "gespeichert?)", f"the JSON breaks off or is faulty at line {exc.lineno}, column {exc.colno} "
                    "(saved incompletely?)")
        return "das JSON ist kein GeoJSON (FeatureCollection mit Flächen)", "the JSON is no GeoJSON (a FeatureCollection of areas)"
    return "die Datei ist beschädigt oder hat ein anderes Format", "the file is damaged or of another format"


def _to_lonlat(frame, file: str):
    """The frame in WGS 84 longitude/latitude (see the module's DECISION on files without a reference system)."""
    x0, y0, x1, y1 = frame.total_bounds
    lonlat = -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90
    # GDAL takes a GeoJSON without a "crs" member as WGS 84 (as RFC 7946 says), metres or not
    if frame.crs is None or (frame.crs.is_geographic and not lonlat):
        frame = frame.set_crs(None, allow_override=True)
        if lonlat:
            frame = frame.set_crs(4326)
        elif 150_000 <= x0 and x1 <= 900_000 and 5_450_000 <= y0 and y1 <= 5_850_000:
            frame = frame.set_crs(25832)   # ETRS89 / UTM 32N in metres, as NRW's offices deliver
        else:
            raise InputError(
                f"{file}: Die Koordinaten ({x0:.0f} … {x1:.0f}, {y0:.0f} … {y1:.0f}) sind weder Längen- und "
                "Breitengrade noch ETRS89/UTM 32N, und die Datei nennt ihr Bezugssystem nicht. Bitte im GIS mit "
                "Bezugssystem speichern (z. B. als GeoJSON in EPSG:4326 oder als Shapefile mit .prj).",
                f"{file}: the coordinates ({x0:.0f} … {x1:.0f}, {y0:.0f} … {y1:.0f}) are neither longitude/latitude "
                "nor ETRS89/UTM 32N, and the file does not name its reference system. Please save it from the GIS "
                "with its reference system (e.g. GeoJSON in EPSG:4326 or a Shapefile with .prj).")
    return frame.to_crs(4326)


def _name_column(frame, keys: dict[str, str]) -> str | None:
    """The text column whose values match most districts (ties: the first)."""
    best, hits = None, 0
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        values = frame[column].dropna().astype(str).map(match_key)
        n = values.isin(keys).sum()
        if n > hits:
            best, hits = column, n
    return best


def read_boundaries(source: str | Path, kommune: str, districts: list[str]) -> pd.DataFrame:
    """The boundaries of ``kommune``'s ``districts`` in ``source``: ``kommune, stadtbezirk, geometrie`` (a GeoJSON
    geometry in WGS 84, simplified) and ``lon, lat``, a point inside the district for its name. Raises
    :class:`BoundaryError` listing every problem, or :class:`~kimtools.errors.InputError` for a file that cannot be
    read or placed. Messages name the sub-units as ``kommune`` does (a Kreis: Gemeinden)."""
    import shapely

    path = Path(source)
    frame = _to_lonlat(_read(path), path.name)
    keys = {match_key(d): d for d in districts}
    known = ", ".join(sorted(districts))
    column = _name_column(frame, keys)
    if column is None:
        columns = ", ".join(c for c in frame.columns if c != frame.geometry.name) or "keine"
        raise BoundaryError(pd.DataFrame([_problem(path.name, 0, "", columns, *(with_units(
            {"de": f"Keine Spalte nennt {{Bezirke}} von {kommune}; bekannt sind: {known}.",
             "en": f"No column names {{districts}} of {kommune}; known are: {known}."}, kommune, lang)
            for lang in ("de", "en")))]), path.name)
    problems, shapes, named, repaired = [], {}, set(), []
    for row, (name, geometry) in enumerate(zip(frame[column], frame.geometry), start=1):
        district = keys.get(match_key(name)) if pd.notna(name) else None
        named.add(district)
        if district is None:
            problems.append(_problem(path.name, row, column, name, *(with_units(
                {"de": f"{{Kein}} {{Bezirk}} von {kommune}; bekannt sind: {known}.",
                 "en": f"No {{district}} of {kommune}; known are: {known}."}, kommune, lang) for lang in ("de", "en"))))
        elif geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "leer" if geometry is None or geometry.is_empty else geometry.geom_type
            problems.append(_problem(path.name, row, "geometry", kind, "Keine Fläche (Polygon oder Multipolygon).",
                                     "No area (polygon or multipolygon)."))
        else:
            if not geometry.is_valid:   # a ring crossing itself, as hand-drawn areas have: repaired, and said so
                repaired.append(district)
            shapes.setdefault(district, []).append(shapely.make_valid(geometry))
    for district in sorted(set(districts) - named):   # no feature at all
        problems.append(_problem(path.name, 0, column, district, "Hierfür enthält die Datei keine Fläche.",
                                 "The file holds no area for this one."))
    if problems:
        raise BoundaryError(pd.DataFrame(problems, columns=PROBLEM_COLUMNS), path.name)
    rows = []
    for district, parts in sorted(shapes.items()):
        shape = shapely.union_all(parts).simplify(_SIMPLIFY, preserve_topology=True)
        label = shapely.point_on_surface(shape)   # inside the district, also where it is not convex
        rows.append((kommune, district, shapely.to_geojson(shapely.set_precision(shape, 1e-6)), round(label.x, 6),
                     round(label.y, 6)))
    out = pd.DataFrame(rows, columns=["kommune", "stadtbezirk", "geometrie", "lon", "lat"])
    out.attrs["repariert"] = sorted(set(repaired))   # districts whose area crossed itself (shapely's make_valid)
    return out


@functools.lru_cache(maxsize=1)
def shipped_boundaries() -> pd.DataFrame:
    """The boundaries shipped with kimtools: ``kommune, stadtbezirk, geometrie, lon, lat, quelle`` (as
    :func:`read_boundaries` gives them)."""
    rows = []
    for path in sorted(MAPS.glob("*.geojson")):
        content = json.loads(path.read_text(encoding="utf-8"))
        for f in content["features"]:
            p = f["properties"]
            rows.append((p["kommune"], p["stadtbezirk"], json.dumps(f["geometry"]), *p["beschriftung"],
                         content.get("quelle", "")))
    return pd.DataFrame(rows, columns=["kommune", "stadtbezirk", "geometrie", "lon", "lat", "quelle"])


def import_boundaries(source: str | Path, db: str | Path | Store | None = None, kommune: str | None = None,
                      quelle: str | None = None, dry_run: bool = False) -> pd.DataFrame:
    """Read ``source`` for ``kommune`` (needed when the store holds several) and keep its boundaries in the store in
    place of any earlier ones, atomically; the cases stay as they are. ``quelle`` is what every map names as its
    source (default: the file's name). Returns the boundaries read."""
    store = db if isinstance(db, Store) else Store(db)
    present = store.kommunen()
    if kommune is None and len(present) == 1:
        kommune = present[0]
    if kommune not in present:
        raise InputError(
            f"Für welche Kommune ist die Karte? Bitte die Kommune angeben; im Datenbestand: {', '.join(present) or 'keine'}.",
            f"Which kommune is the map for? Please name the kommune; in the store: {', '.join(present) or 'none'}.")
    districts = store.query("SELECT DISTINCT stadtbezirk FROM faelle WHERE kommune = ? AND stadtbezirk IS NOT NULL "
                            "UNION SELECT stadtbezirk FROM bezirke WHERE kommune = ?", [kommune, kommune])
    shapes = read_boundaries(source, kommune, sorted(districts["stadtbezirk"]))
    repaired = shapes.attrs.get("repariert", [])
    shapes = shapes.assign(quelle=quelle or Path(source).name, datei=Path(source).name,
                           importiert=pd.Timestamp(dt.datetime.now().replace(microsecond=0)))
    shapes.attrs["repariert"] = repaired
    if dry_run:
        return shapes
    store.check_writable(("das Einlesen der Bezirksgrenzen", "reading district boundaries"))
    with store.writing():
        store.check_room()

        def change(con) -> None:
            con.execute(f"DELETE FROM {BOUNDARY_TABLE} WHERE kommune = ?", [kommune])
            con.register("incoming", shapes)
            con.execute(f"INSERT INTO {BOUNDARY_TABLE} SELECT kommune, stadtbezirk, geometrie, lon, lat, quelle, datei, "
                        "importiert FROM incoming")
            con.unregister("incoming")

        store.update((kommune,), change, lambda con, kommunen: None)   # no table derived from cases changes
    return shapes
