"""Installable on Windows: every dependency of kimtools resolves as a wheel for win_amd64 and Python 3.11–3.13.

pip resolves the dependencies of ``pyproject.toml`` for that platform without installing anything
(``pip install --dry-run --only-binary=:all: --platform win_amd64 --python-version X.Y``), reading the wheels'
metadata from the package index. What this proves: a Windows user's ``pip install`` finds a ready-made wheel for
every dependency, so no compiler is needed. What it does not prove: that kimtools runs there (no test runs on
Windows; README, "Known limits").
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPENDENCIES = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def resolve_for_windows(requirements: list[str], python: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as target:
        return subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--no-input",
             "--only-binary=:all:", "--platform", "win_amd64", "--python-version", python, "--target", target,
             *requirements], capture_output=True, text=True, timeout=600)


def _no_index(done: subprocess.CompletedProcess) -> bool:
    """pip could not reach the package index at all (a machine without network): nothing was resolved either way."""
    return any(s in done.stderr for s in ("NewConnectionError", "Temporary failure in name resolution",
                                          "Network is unreachable", "ConnectTimeoutError"))


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_every_dependency_has_a_windows_wheel(python):
    done = resolve_for_windows(DEPENDENCIES, python)
    if done.returncode and _no_index(done):
        pytest.skip("the package index is not reachable from here")
    assert done.returncode == 0, "\n".join(line for line in done.stderr.splitlines() if "WARNING: Location" not in line)


def test_a_dependency_without_a_windows_wheel_is_caught():
    """The check itself fails for a package that ships no Windows wheel (uvloop: Linux and macOS only)."""
    done = resolve_for_windows(["uvloop"], "3.11")
    if done.returncode and _no_index(done):
        pytest.skip("the package index is not reachable from here")
    assert done.returncode != 0 and "No matching distribution found for uvloop" in done.stderr
