"""Hostile input that costs resources: peak memory of ``kimtools compare`` on a normal bundle and on a "zip bomb",
the same bundle whose count table inflates to about 1 GB (about 1 MB as a ZIP). Prints; asserts nothing.

Target (issue 41): the bomb's peak stays within 100 MB of the normal compare's. Run by ``make bench`` after the
bundle benchmarks, or on its own::

    python benchmarks/hostile.py BUNDLE.zip

Before the bundle reader streamed its members with a size cap, the bomb peaked at 2.4 GB (measured by the issue's
author): the member was read whole before its checksum was compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

EXE = Path(sys.executable).parent / "kimtools"
_MEASURE = ("import resource, subprocess, sys, time; t0 = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def inflating_copy(bundle: Path, target: Path, size: int = 1 << 30) -> Path:
    """``bundle`` (a ZIP) with its ``zaehlungen.csv`` replaced by ``size`` bytes of repeated rows of the same form,
    streamed into the ZIP (never held whole here either)."""
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if not info.filename.endswith("zaehlungen.csv"):
                out.writestr(info, src.read(info))
                continue
            header, row = src.read(info).split(b"\n")[:2]
            block = (row + b"\n") * max(1, (1 << 20) // (len(row) + 1))
            with out.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(header + b"\n")
                written = 0
                while written < size:
                    fh.write(block)
                    written += len(block)
    return target


def _measure(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", _MEASURE, *args], env=env, capture_output=True, text=True, check=True)
    seconds, kb, code = out.stdout.split()
    return float(seconds), int(kb) / 1024, int(code)


def bomb_timings(bundle: Path, env: dict[str, str] | None = None) -> list[tuple[str, float, float]]:
    """(what, seconds, peak MB) of ``kimtools compare`` on ``bundle`` and on its inflating copy, and the difference."""
    env = dict(env or os.environ)
    with tempfile.TemporaryDirectory() as folder:
        bomb = inflating_copy(bundle, Path(folder) / "bombe.zip")
        normal_s, normal_mb, normal_code = _measure([str(EXE), "compare", str(bundle)], env)
        bomb_s, bomb_mb, bomb_code = _measure([str(EXE), "compare", str(bomb)], env)
        ratio = bomb.stat().st_size / 1e6
    return [(f"compare, one bundle (exit {normal_code})", normal_s, normal_mb),
            (f"compare, the same inflating to 1 GB ({ratio:.1f} MB as ZIP; exit {bomb_code}, refused)", bomb_s, bomb_mb),
            ("  difference of the peaks (target < 100 MB)", float("nan"), bomb_mb - normal_mb)]


if __name__ == "__main__":
    for name, seconds, mb in bomb_timings(Path(sys.argv[1])):
        print(f"{name.ljust(84)}  {'' if seconds != seconds else f'{seconds:8.2f}':>8}  {mb:8.0f}")
