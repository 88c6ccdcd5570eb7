"""Where the checkout's shipped folders lie: one definition for every module that needs one of them.

kimtools runs from its checkout (``pip install -e .``, as the Makefile does), so the dashboards, notebooks,
documentation and reference data are found beside the package.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
