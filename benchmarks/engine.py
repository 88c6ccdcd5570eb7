"""Each indicator, computed by two revisions of kimtools on the same export: is the engine generated from the
catalogue (issue 37) slower than the hand-written one it replaced?

    python benchmarks/engine.py [OLD [NEW]]      # defaults: ce11da8 (before issue 37) and the working tree

Both revisions are checked out into temporary worktrees and run with this checkout's virtual environment; each
imports the same state-scale demo into its own store (its own cells) and times ``indicator_table`` for every
indicator alone and for all together, by district and quarter: the median of 7 runs after one warm-up, and the
run-to-run spread (the interquartile range of the runs, relative to their median). A ratio new/old above 1 + the
larger spread is a slow-down. Prints a table; asserts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_TIMINGS = r'''
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import kimtools
from kimtools import Store, indicator_table
from kimtools.indicators import KENNZAHLEN
assert kimtools.__file__.startswith(sys.argv[1]), kimtools.__file__   # the revision's code, not the installed one
store = Store(sys.argv[2])
out = {}
for name, wanted in [("(all)", None), *((k, [k]) for k in KENNZAHLEN)]:
    indicator_table(store, by="stadtbezirk", kennzahlen=wanted)
    runs = []
    for _ in range(7):
        t0 = time.perf_counter(); indicator_table(store, by="stadtbezirk", kennzahlen=wanted)
        runs.append(time.perf_counter() - t0)
    q = statistics.quantiles(runs, n=4)
    out[name] = (statistics.median(runs), (q[2] - q[0]) / statistics.median(runs))
print(json.dumps(out))
'''


def _timings(tree: Path, export: Path, folder: Path, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    db = folder / "kim.duckdb"
    imp = ("import sys; sys.path.insert(0, sys.argv[1]); import kimtools; assert kimtools.__file__.startswith(sys.argv[1]); "
           "from kimtools.cli import main; sys.exit(main(sys.argv[2:]))")
    subprocess.run([sys.executable, "-c", imp, str(tree), "import", str(export), "--db", str(db)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([sys.executable, "-c", _TIMINGS, str(tree), str(db)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return {k: tuple(v) for k, v in json.loads(out).items()}


def main() -> None:
    old = sys.argv[1] if len(sys.argv) > 1 else "ce11da8"
    new = sys.argv[2] if len(sys.argv) > 2 else None
    env = dict(os.environ, KIMTOOLS_KEY="benchmark-key-0123456789abcdef", KIMTOOLS_VORBEREITEN="0",
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("KIMTOOLS_KATALOG", None)
    with tempfile.TemporaryDirectory(prefix="kim-engine-") as tmp:
        tmp = Path(tmp)
        export = tmp / "export"
        subprocess.run([str(Path(sys.executable).parent / "kimtools"), "demo", "--out", str(export), "--scale", "state"],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        trees = {}
        for label, rev in (("old", old), ("new", new)):
            if rev is None:
                trees[label] = ROOT
                continue
            trees[label] = tmp / f"tree-{label}"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(trees[label]), rev], check=True,
                           capture_output=True)
        try:
            results = {}
            for label, tree in trees.items():
                (tmp / label).mkdir()
                results[label] = _timings(tree, export, tmp / label, env)
        finally:
            for label, tree in trees.items():
                if tree != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    print(f"state scale, indicator_table by stadtbezirk × quarter, one indicator at a time; old = {old}, "
          f"new = {new or 'working tree'}; seconds: median of 7; spread: interquartile range / median")
    print(f"{'kennzahl'.ljust(34)}  {'old s':>7}  {'new s':>7}  {'new/old':>7}  {'spread':>7}  verdict")
    for name in results["new"]:
        if name not in results["old"]:
            print(f"{name.ljust(34)}  {'–':>7}  {results['new'][name][0]:7.3f}  {'–':>7}  {'':>7}  new indicator")
            continue
        (o, so), (n, sn) = results["old"][name], results["new"][name]
        spread = max(so, sn)
        verdict = "slower" if n / o > 1 + spread else "faster" if n / o < 1 - spread else "same (within spread)"
        print(f"{name.ljust(34)}  {o:7.3f}  {n:7.3f}  {n / o:7.2f}  {spread:7.2f}  {verdict}")


if __name__ == "__main__":
    main()
