"""Code lists of the KIM case export (version 1) with their German and English labels.

Each list maps a code to ``(German label, English label)``; the lists are data, in ``codes.csv`` beside this
module (one row per code). The order of a list is the order used in tables and figures. The reader accepts a code or
its German label, case-insensitively (``docs/exportformat.md``).

Examples
--------
>>> ZIELGRUPPE["multiple_problemlagen"][0]
'Multiple Problemlagen'
>>> label("form", "persoenlich")
'persönlich'
>>> label("form", "persoenlich", lang="en")
'in person'
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..i18n import tr

__all__ = [
    "ABSCHLUSSGRUND", "ZIELGRUPPE", "HANDLUNGSFELD", "AUFENTHALTSSTATUS",
    "GESCHLECHT", "FORM", "VERMITTLUNGSSTATUS", "LUECKE", "PARTNERTYP",
    "RECHTSKREIS", "JA_NEIN", "CODE_LISTS", "CODES_FILE", "label",
]


#: the code lists as data: ``liste;code;de;en``, one row per code, in the order tables and figures use
CODES_FILE = Path(__file__).with_name("codes.csv")


def _load(path: Path) -> dict[str, Mapping[str, tuple[str, str]]]:
    lists: dict[str, dict[str, tuple[str, str]]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            lists.setdefault(row["liste"], {})[row["code"]] = (row["de"], row["en"])
    return {name: MappingProxyType(codes) for name, codes in lists.items()}


#: Every code list by the name the schema refers to.
CODE_LISTS: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(_load(CODES_FILE))
ABSCHLUSSGRUND = CODE_LISTS["abschlussgrund"]
ZIELGRUPPE = CODE_LISTS["zielgruppe"]
HANDLUNGSFELD = CODE_LISTS["handlungsfeld"]
AUFENTHALTSSTATUS = CODE_LISTS["aufenthaltsstatus"]
GESCHLECHT = CODE_LISTS["geschlecht"]
FORM = CODE_LISTS["form"]
VERMITTLUNGSSTATUS = CODE_LISTS["vermittlungsstatus"]
LUECKE = CODE_LISTS["luecke"]
PARTNERTYP = CODE_LISTS["partnertyp"]
RECHTSKREIS = CODE_LISTS["rechtskreis"]
JA_NEIN = CODE_LISTS["ja_nein"]


def label(code_list: str, code: str, lang: str | None = None) -> str:
    """Return the label of ``code`` in ``code_list`` (German unless ``lang='en'``).

    An unknown code is returned unchanged, so that a label lookup never hides data.
    """

    pair = CODE_LISTS[code_list].get(code)
    if pair is None:
        return code
    return tr(pair, lang)
