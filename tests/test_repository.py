"""Repository hygiene: notebooks committed without outputs, no raw data or store under git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tracked(pattern: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines()]


def test_committed_notebooks_have_no_outputs():
    notebooks = _tracked("*.ipynb")
    assert notebooks, "no notebooks tracked"
    dirty = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if any(c.get("outputs") or c.get("execution_count") for c in nb["cells"]):
            dirty.append(path.name)
    assert dirty == [], f"notebooks committed with outputs (case data could leak): {dirty}"


def test_no_store_or_raw_export_in_git():
    data = [p.relative_to(ROOT).as_posix() for p in _tracked("data")]
    allowed = [p for p in data if p.endswith("README.md") or p.startswith("data/reference/")]
    assert data == allowed, f"only reference data and READMEs belong under data/: {sorted(set(data) - set(allowed))}"
    assert not _tracked("*.duckdb")
