"""Where the checkout's shipped folders lie: one definition for every module that needs one of them.

kimtools runs from its checkout (``pip install -e .``, as the Makefile does), so the dashboards, notebooks,
documentation and reference data are found beside the package.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import platformdirs

from .errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
DOCS = ROOT / "docs"
DASHBOARDS = ROOT / "dashboards"
NOTEBOOKS = ROOT / "notebooks"


def config_dir() -> Path:
    """The user's configuration folder of kimtools (``KIMTOOLS_CONFIG_DIR``, else the platform's): the key file and
    the import profiles live there, never in the checkout."""
    env = os.environ.get("KIMTOOLS_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir("kimtools"))


#: a name that may become a file or folder name: starts with a letter or digit, then letters, digits, '-', '_' and
#: '.' (no '..', no separator), at most 60 characters
_SAFE_NAME = re.compile(r"^(?!.*\.\.)[^\W_][\w.-]{0,59}$")


def safe_name(name: str | None, what: tuple[str, str], example: str) -> str:
    """``name`` (NFC-normalised) if it can be a file or folder name inside kimtools' own folders; else an
    :class:`~kimtools.errors.InputError` naming it and the rule. ``what``: German and English for the kind of name.

    >>> safe_name("LK-2026.12", ("Sitzungsname", "meeting name"), "LK-2026-12")
    'LK-2026.12'
    >>> safe_name("..", ("Sitzungsname", "meeting name"), "LK-2026-12")
    Traceback (most recent call last):
    ...
    kimtools.errors.InputError: Sitzungsname '..': bitte mit einem Buchstaben oder einer Ziffer beginnen, dann nur Buchstaben, Ziffern, '-', '_' und '.' (kein '..', kein '/'), höchstens 60 Zeichen, z. B. LK-2026-12.
    """
    given = unicodedata.normalize("NFC", name or "")
    if not _SAFE_NAME.match(given):
        raise InputError(f"{what[0]} {name!r}: bitte mit einem Buchstaben oder einer Ziffer beginnen, dann nur "
                         "Buchstaben, Ziffern, '-', '_' und '.' (kein '..', kein '/'), höchstens 60 Zeichen, "
                         f"z. B. {example}.",
                         f"{what[1].capitalize()} {name!r}: please start with a letter or digit, then letters, digits, "
                         "'-', '_' and '.' only (no '..', no '/'), at most 60 characters, e.g. "
                         f"{example}.")
    return given


def slug(text: str) -> str:
    """``text`` as part of a file name: every run of characters other than letters (umlauts too), digits and ``-``
    becomes one ``-``.

    >>> slug("Mülheim an der Ruhr / 2025")
    'Mülheim-an-der-Ruhr-2025'
    """
    return re.sub(r"[^0-9A-Za-zÄÖÜäöüß-]+", "-", text)


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, checked to lie directly inside ``folder`` once links are resolved (a name made safe by
    :func:`safe_name` always does; a link planted in the folder does not pass)."""
    path = folder / name
    if path.resolve().parent != folder.resolve():
        raise InputError(f"{path} führt aus dem Ordner {folder} hinaus (Verknüpfung?); nichts wurde geändert.",
                         f"{path} leads out of the folder {folder} (a link?); nothing was changed.")
    return path
