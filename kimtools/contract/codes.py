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
import os
import tomllib
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..i18n import tr
from ..paths import config_dir

__all__ = [
    "ABSCHLUSSGRUND", "ZIELGRUPPE", "HANDLUNGSFELD", "AUFENTHALTSSTATUS",
    "GESCHLECHT", "FORM", "VERMITTLUNGSSTATUS", "LUECKE", "PARTNERTYP",
    "RECHTSKREIS", "JA_NEIN", "CODE_LISTS", "CODES_FILE", "LOCAL_TARGET_GROUPS", "label", "local_catalogue_file",
    "read_local_catalogue",
]


#: the code lists as data: ``liste;code;de;en``, one row per code, in the order tables and figures use
CODES_FILE = Path(__file__).with_name("codes.csv")


def _load(path: Path) -> dict[str, Mapping[str, tuple[str, str]]]:
    lists: dict[str, dict[str, tuple[str, str]]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            lists.setdefault(row["liste"], {})[row["code"]] = (row["de"], row["en"])
    return {name: MappingProxyType(codes) for name, codes in lists.items()}


def local_catalogue_file() -> Path:
    """The installation's own indicator catalogue (its indicators and target groups, contract 1.2): the file named by
    ``KIMTOOLS_KATALOG``, else ``kennzahlen.toml`` in kimtools' configuration folder (it need not exist)."""
    env = os.environ.get("KIMTOOLS_KATALOG")
    return Path(env) if env else config_dir() / "kennzahlen.toml"


@cache
def read_local_catalogue() -> tuple[dict | None, list[tuple[str, str]]]:
    """The installation's own catalogue as read from its file (None where there is none), and the problems of
    reading it and of its ``[zielgruppen]``, each (German, English). Read once per process."""
    path = local_catalogue_file()
    if not path.exists() and "KIMTOOLS_KATALOG" not in os.environ:
        return None, []
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        return None, [(f"{path}: die Datei fehlt (KIMTOOLS_KATALOG nennt sie); den Pfad berichtigen oder "
                       "KIMTOOLS_KATALOG entfernen.", f"{path}: the file is missing (KIMTOOLS_KATALOG names it); "
                       "correct the path or unset KIMTOOLS_KATALOG.")]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [(f"{path}: kein lesbares TOML ({exc}); Aufbau wie kimtools/contract/kennzahlen.toml.",
                       f"{path}: not readable TOML ({exc}); layout as kimtools/contract/kennzahlen.toml.")]
    problems = []
    groups = raw.get("zielgruppen", {})
    if not isinstance(groups, dict):
        problems.append((f"{path}, [zielgruppen]: muss eine Tabelle code = \"Bezeichnung\" sein.",
                         f"{path}, [zielgruppen]: must be a table code = \"label\"."))
        groups = {}
    for code, value in groups.items():
        where = f"{path}, [zielgruppen] {code}"
        value = _labels(value)
        if not (code.isidentifier() and code.isascii() and code == code.lower()):
            problems.append((f"{where}: ein Code besteht aus Kleinbuchstaben, Ziffern und _ (etwa junge_erwachsene).",
                             f"{where}: a code consists of lower-case letters, digits and _ (e.g. junge_erwachsene)."))
        elif not (isinstance(value, tuple) and all(isinstance(v, str) and v.strip() for v in value)):
            problems.append((f"{where}: braucht eine Bezeichnung: {code} = \"…\" oder {{ de = \"…\", en = \"…\" }}.",
                             f"{where}: needs a label: {code} = \"…\" or {{ de = \"…\", en = \"…\" }}."))
        elif code in _SHIPPED_LISTS["zielgruppe"]:
            problems.append((f"{where}: ist schon eine Zielgruppe des Exportformats; eine eigene braucht einen eigenen Code.",
                             f"{where}: is already a target group of the export format; an own one needs its own code."))
    return raw, problems


def _labels(value: object) -> object:
    """A target group's labels as written (``"Label"`` or ``{ de = …, en = … }``) as (German, English); anything else
    as it is, for the check to name."""
    if isinstance(value, dict):
        return (value.get("de"), value.get("en", value.get("de")))
    return (value, value) if isinstance(value, str) else value


def _local_target_groups() -> dict[str, tuple[str, str]]:
    """The installation's own target groups (where its catalogue file has no problems)."""
    raw, problems = read_local_catalogue()
    if raw is None or problems:
        return {}
    return {code: _labels(value) for code, value in raw.get("zielgruppen", {}).items()}


_SHIPPED_LISTS = _load(CODES_FILE)
#: the installation's own target-group codes with their labels (contract 1.2), from its catalogue file
LOCAL_TARGET_GROUPS: Mapping[str, tuple[str, str]] = MappingProxyType(_local_target_groups())
#: Every code list by the name the schema refers to; the target groups with the installation's own after the shipped ones.
CODE_LISTS: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {**_SHIPPED_LISTS, "zielgruppe": MappingProxyType({**_SHIPPED_LISTS["zielgruppe"], **LOCAL_TARGET_GROUPS})})
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
