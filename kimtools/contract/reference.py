"""Shipped reference data: the KIM municipalities of NRW and their district figures.

The files live in ``data/reference/`` (override with ``KIMTOOLS_REFERENCE``);
every figure carries its source and date, and estimated values say so.

Examples
--------
>>> match_key(" Herne - Mitte ")
'hernemitte'
>>> ref = load_reference()
>>> ref.resolve_kommune("muelheim an der ruhr")
'Mülheim an der Ruhr'
>>> ref.resolve_district("Herne", "HERNE MITTE")
'Herne-Mitte'
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from ..i18n import tr
from ..paths import DATA

__all__ = ["match_key", "Reference", "load_reference", "reference_dir", "UNITS", "units", "with_units"]

_STRIP = re.compile(r"[\s\-]+")


def match_key(name: str) -> str:
    """The key names are matched by: case, blanks and hyphens ignored, umlauts composed (NFC: a name written
    with decomposed umlauts, as macOS and some exports write them, is the same name).

    >>> match_key("Mu\u0308lheim an der Ruhr") == match_key("Mülheim an der Ruhr")
    True
    """
    return _STRIP.sub("", unicodedata.normalize("NFC", str(name))).casefold()


def reference_dir() -> Path:
    env = os.environ.get("KIMTOOLS_REFERENCE")
    return Path(env) if env else DATA / "reference"


@dataclass(frozen=True)
class Reference:
    kommunen: pd.DataFrame  # kommune, ags, art, einwohner_ca, aliase
    bezirke: pd.DataFrame   # kommune, stadtbezirk, einwohner, auslaender, stand, quelle, geschaetzt

    @functools.cached_property
    def _kommune_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for row in self.kommunen.itertuples():
            keys[match_key(row.kommune)] = row.kommune
            for alias in filter(None, str(row.aliase or "").split("|")):
                keys.setdefault(match_key(alias), row.kommune)
        return keys

    @functools.cached_property
    def _district_keys(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for row in self.bezirke.itertuples():
            out.setdefault(row.kommune, {})[match_key(row.stadtbezirk)] = row.stadtbezirk
        return out

    def resolve_kommune(self, name: str) -> str | None:
        """The canonical name of a known KIM municipality, or ``None``."""
        return self._kommune_keys.get(match_key(name))

    def ags(self, kommune: str) -> str | None:
        hit = self.kommunen.loc[self.kommunen["kommune"] == kommune, "ags"]
        return None if hit.empty else str(hit.iloc[0])

    def is_kreis(self, kommune: str | None) -> bool:
        """Whether ``kommune`` is a Kreis (``art`` in ``kommunen.csv``), whose sub-units are its member municipalities
        (kreisangehörige Kommunen) rather than city districts; an unknown kommune is taken as a city."""
        hit = self.kommunen.loc[self.kommunen["kommune"] == kommune, "art"]
        return not hit.empty and str(hit.iloc[0]).strip().casefold() == "kreis"

    def district_keys(self, kommune: str) -> dict[str, str] | None:
        """``match_key → canonical district`` for a kommune, ``None`` when no figures ship."""
        return self._district_keys.get(kommune)

    def resolve_district(self, kommune: str, name: str) -> str | None:
        keys = self.district_keys(kommune)
        return None if keys is None else keys.get(match_key(name))


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Reference:
    folder = Path(path)
    kommunen = pd.read_csv(folder / "kommunen.csv", sep=";", dtype=str, keep_default_na=False)
    kommunen["einwohner_ca"] = kommunen["einwohner_ca"].astype("int64")
    bezirke = pd.read_csv(folder / "bezirke.csv", sep=";", dtype=str, keep_default_na=False)
    bezirke["einwohner"] = bezirke["einwohner"].astype("int64")
    bezirke["auslaender"] = pd.to_numeric(bezirke["auslaender"]).astype("Int64")
    bezirke["stand"] = pd.to_datetime(bezirke["stand"]).dt.date
    return Reference(kommunen, bezirke)


def load_reference() -> Reference:
    """The shipped reference data (cached per folder)."""
    return _load(str(reference_dir()))


#: what a kommune's sub-units are called, by its kind: a city has Stadtbezirke, a Kreis its member municipalities
#: (kreisangehörige Kommunen, "Gemeinden"); the placeholders texts use for them, German and English
UNITS = {
    False: {"de": {"Bezirk": "Stadtbezirk", "Bezirke": "Stadtbezirke", "Bezirken": "Stadtbezirken", "weit": "stadtweit",
                   "Kein": "Kein"},
            "en": {"district": "district", "districts": "districts", "wide": "city-wide"}},
    True: {"de": {"Bezirk": "Gemeinde", "Bezirke": "Gemeinden", "Bezirken": "Gemeinden", "weit": "kreisweit",
                  "Kein": "Keine"},
           "en": {"district": "municipality", "districts": "municipalities", "wide": "county-wide"}},
}


def units(kommune: str | None) -> dict[str, str]:
    """The words for ``kommune``'s sub-units (a city's by default) by placeholder: ``{Bezirk}``, ``{Bezirke}``,
    ``{Bezirken}``, ``{weit}``, ``{Kein}`` (its gender) for German texts, ``{district}``, ``{districts}``, ``{wide}``
    for English ones."""
    words = UNITS[load_reference().is_kreis(kommune)]
    return {**words["de"], **words["en"]}


def with_units(texts, kommune: str | None, lang: str | None = None) -> str:
    """A bilingual text (as :func:`~kimtools.i18n.tr` takes it) with the words for ``kommune``'s sub-units filled in."""
    return tr(texts, lang).format(**units(kommune))
