"""Where the checkout's shipped folders lie: one definition for every module that needs one of them.

kimtools runs from its checkout (``pip install -e .``, as the Makefile does), so the dashboards, notebooks,
documentation and reference data are found beside the package.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
DOCS = ROOT / "docs"
DASHBOARDS = ROOT / "dashboards"
NOTEBOOKS = ROOT / "notebooks"
