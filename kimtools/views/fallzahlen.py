"""What the caseload page needs, as frames: one kommune's tables under a filter combination."""

from __future__ import annotations

import pandas as pd

from ..indicators import case_durations, indicator_table
from ..store import Store, in_parallel
from .karten import district_shapes

__all__ = ["STAFFING", "caseload_views", "caseload_base", "provider_views", "caseload_district"]

#: the indicators the caseload views draw (tiles, trend, reach); the table computes nothing else for them
_CASELOAD_KENNZAHLEN = ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "faelle_je_vzae",
                        "reichweite_je_1000")
#: the staffing section's indicators (the programme's posts of all three Bausteine)
STAFFING = ("vzae_besetzt", "vzae_unbesetzt", "vzae_land")


def caseload_views(store: Store, kommune: str, stadtbezirk: str | None = None, traeger: str | None = None,
                   zielgruppe: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables one caseload view needs, for one kommune and filter combination (aggregates only)."""
    return caseload_district(caseload_base(store, kommune, traeger, zielgruppe),
                            provider_views(store, kommune, zielgruppe), stadtbezirk)


def caseload_base(store: Store, kommune: str, traeger: str | None, zielgruppe: str | None) -> dict[str, pd.DataFrame]:
    """Everything that does not depend on the district filter: by-district tables hold each district's view."""

    f = {"traeger": traeger, "zielgruppe": zielgruppe}
    with store.snapshot():
        return in_parallel({
            "main": lambda: indicator_table(store, kommune, filters=f, kennzahlen=_CASELOAD_KENNZAHLEN),
            "districts": lambda: indicator_table(store, kommune, by="stadtbezirk", filters=f,
                                                 kennzahlen=_CASELOAD_KENNZAHLEN),
            "needs": lambda: indicator_table(store, kommune, by="stadtbezirk", merkmal="handlungsfeld", filters=f,
                                             kennzahlen=["faelle_offen"]),
            "closures": lambda: indicator_table(store, kommune, merkmal="abschlussgrund", filters=f,
                                                kennzahlen=["abschluesse"]),
            "closures_by_district": lambda: indicator_table(store, kommune, by="stadtbezirk", merkmal="abschlussgrund",
                                                            filters=f, kennzahlen=["abschluesse"]),
            "durations": lambda: case_durations(store, kommune, merkmal="zielgruppe", filters=f),
            "partner": lambda: store.query("SELECT partner_id, name FROM partner WHERE kommune = ?", [kommune]),
            # the posts of the kommune (or of the employer filtered), all districts: a post serves a district or the
            # whole kommune, and a target group has none
            "posts": lambda: indicator_table(store, kommune, merkmal="baustein", filters=f, kennzahlen=STAFFING),
            "employers": lambda: indicator_table(store, kommune, by="traeger", filters=f, kennzahlen=STAFFING[:2]),
            "shapes": lambda: district_shapes(store, kommune),
        })


def provider_views(store: Store, kommune: str, zielgruppe: str | None) -> dict[str, pd.DataFrame]:
    """Load per post of every provider, overall and in each district (never filtered by provider)."""
    f = {"zielgruppe": zielgruppe}
    with store.snapshot():
        return in_parallel({
            "providers": lambda: indicator_table(store, kommune, by="traeger", filters=f, kennzahlen=["faelle_je_vzae"]),
            "providers_by_district": lambda: indicator_table(store, kommune, by="traeger", merkmal="stadtbezirk",
                                                             filters=f, kennzahlen=["faelle_je_vzae"])})


def caseload_district(base: dict[str, pd.DataFrame], providers: dict[str, pd.DataFrame],
                     stadtbezirk: str | None) -> dict[str, pd.DataFrame]:
    """A district's view out of the by-district tables, without asking the database again.

    Filtering cases to a district restricts population and posts to it, exactly
    as grouping (or breaking down) by district does, so the district's rows of
    the by-district tables equal the tables filtered to that district.
    """
    views = dict(base, providers=providers["providers"])
    if stadtbezirk is not None:
        d = base["districts"]
        views["main"] = d.loc[d["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk")
        c = base["closures_by_district"]
        views["closures"] = c.loc[c["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk")
        views["durations"] = base["durations"].loc[base["durations"]["stadtbezirk"] == stadtbezirk]
        p = providers["providers_by_district"]
        views["providers"] = p.loc[p["auspraegung"] == stadtbezirk].drop(columns=["merkmal", "auspraegung"])
    return views
