"""The district outlines a map of a kommune is drawn with: the kommune's own (``kimtools bezirke --karte``), else those
shipped with kimtools (matched to the data's district names where the map is drawn)."""

from __future__ import annotations

import pandas as pd

from ..ingest.boundaries import shipped_boundaries
from ..store import Store, run_read
from ..store.queries import has_table
from ..store.tables import BOUNDARY_TABLE

__all__ = ["district_shapes"]

_COLUMNS = ["stadtbezirk", "geometrie", "lon", "lat", "quelle"]


def district_shapes(store: Store | None, kommune: str) -> pd.DataFrame:
    """``stadtbezirk, geometrie, lon, lat, quelle`` (GeoJSON geometry in WGS 84, the point for the name, the map's
    source) of ``kommune``'s districts: the store's (if given), else the shipped ones; empty where no boundaries are
    known (the pages then keep their dot plots)."""
    con = store.connect() if store is not None else None
    if con is not None and has_table(con, BOUNDARY_TABLE):
        own = run_read(con, f"SELECT {', '.join(_COLUMNS)} FROM {BOUNDARY_TABLE} WHERE kommune = ? ORDER BY 1", [kommune])
        if len(own):
            return own
    shipped = shipped_boundaries()
    return shipped.loc[shipped["kommune"] == kommune, _COLUMNS].reset_index(drop=True)
