"""Benchmarks: run with `make bench`. Prints one table; asserts nothing.

Per scale: demo and import, the indicator table, each indicator computation against hand-written SQL and
straightforward pandas (``computations.py``), bundles (city), and the dashboards in chromium (``browser.py``:
first render, filter changes, peak memory of a dashboard kernel), with preheated kernels
(``KIMTOOLS_BENCH_VORHEIZEN="0 1"`` measures without them too), and a crowd of 1, 5 and 15 viewers opening the
steering committee's page at once (``crowd.py``, city scale; one viewer timed in chromium among N - 1 plain
requests): a frozen meeting's first view, and the interactive page as served and with a prepared kernel for each
of fifteen; in team mode, the memory of each login's server and kernels (``hub.py``).
How cost grows: import and the full indicator table at 1×, 3× and 10× the state (``_growth``; alone with
``python benchmarks/run.py wachstum``).
Hostile input that costs resources (``hostile.py``): the peak memory of ``kimtools compare`` on a bundle inflating
to 1 GB against a normal compare.

Import: demo generation, then `kimtools import` of the city-scale and the
state-scale demo (about 200,000 cases, 1,000,000 consultations, 400,000
referrals), each in a fresh process so that peak memory is that of the import
alone. Target on 2 cores: state scale imported, validated and stored in under
60 s and 4 GB. Indicator table: median of several runs on each store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "kimtools"


_MEASURE = ("import resource, subprocess, sys, time; t0 = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one command, measured by a fresh intermediate process."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *args], check=True, env=env, capture_output=True, text=True)
    seconds, kb = out.stdout.split()
    return float(seconds), int(kb) / 1024


_REFERRALS = (
    "import time, statistics; from kimtools import Store, indicator_table; from kimtools.analysis import network as N\n"
    "from kimtools.indicators.catalogue import REFERRAL_KENNZAHLEN\n"
    "s = Store(%r); t = []\n"
    "for _ in range(%d):\n"
    " t0 = time.perf_counter(); indicator_table(s, by='stadtbezirk', kennzahlen=list(REFERRAL_KENNZAHLEN))\n"
    " e = N.referral_edges(s); g = N.referral_graph(e, N.partner_table(s, None)); N.partner_flows(g); N.domain_bridges(g)\n"
    " t.append(time.perf_counter() - t0)\n"
    "print(statistics.median(t))")


def _referral_timings(db: Path, env: dict[str, str], runs: int = 5) -> float:
    """Referral indicators by district and quarter plus the network graph, its flows and bridges."""
    out = subprocess.run([sys.executable, "-c", _REFERRALS % (str(db), runs)], check=True, env=env,
                         capture_output=True, text=True).stdout
    return float(out.strip())


def _indicator_timings(db: Path, env: dict[str, str], runs: int = 5) -> float:
    code = (
        "import time, statistics; from kimtools import Store, indicator_table; s = Store(%r); t = [];\n"
        "for _ in range(%d):\n t0 = time.perf_counter(); indicator_table(s, by='stadtbezirk', period='quarter'); t.append(time.perf_counter() - t0)\n"
        "print(statistics.median(t))" % (str(db), runs))
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout
    return float(out.strip())


def _bundle_benchmarks(db: Path, env: dict[str, str], folder: Path) -> None:
    """Comparison bundles: export of the largest city (default periods), export of every city, merge of all;
    then the share of protected cells per bundle (what a partner city loses to disclosure control)."""
    import json

    largest = subprocess.run([sys.executable, "-c", "from kimtools import Store; print(Store(%r).query("
                              "'SELECT kommune FROM faelle GROUP BY 1 ORDER BY count(*) DESC LIMIT 1').kommune[0])" % str(db)],
                             check=True, env=env, capture_output=True, text=True).stdout.strip()
    _print(f"bundle export, largest city ({largest}, 11 quarters + 2 years, audit included)",
           *_run([str(EXE), "export", "--db", str(db), "--kommune", largest, "--out", str(folder / "one")], env))
    _print("bundle export, every city (kimtools export --alle)",
           *_run([str(EXE), "export", "--alle", "--db", str(db), "--out", str(folder / "all")], env))
    zips = sorted(str(p) for p in (folder / "all").glob("*.zip"))
    _print(f"merge of {len(zips)} bundles (checksums and audit of each, kimtools compare)",
           *_run([str(EXE), "compare", *zips, "--out", str(folder / "merged")], env))
    from hostile import bomb_timings   # a bundle inflating to 1 GB: refused within 100 MB of a normal compare

    for name, seconds, mb in bomb_timings(Path(zips[0]), env):
        _print(name, seconds, mb)
    for meta in sorted((folder / "all").glob("*/metadaten.json")):
        m = json.loads(meta.read_text(encoding="utf-8"))
        s = m["schutz"]
        print(f"  protected cells {m['kommune']}: {s['geschuetzt']} of {s['zellen']} = {100 * s['anteil_geschuetzt']:.1f} %",
              flush=True)


def _growth(env: dict[str, str], tmp: Path) -> None:
    """How cost grows with the data: import and the full indicator table at 1×, 3× and 10× the state-scale demo
    (``kimtools demo --umfang state --vielfaches N``; ``KIMTOOLS_BENCH_VIELFACHE`` names other steps), each with
    the growth factor against the step before, beside the growth of the data. Linear growth keeps the factors of
    time near those of the data."""
    steps = [int(x) for x in os.environ.get("KIMTOOLS_BENCH_VIELFACHE", "1 3 10").split()]
    print(f"  growth (state scale × N; factor = this step / the step before):", flush=True)
    print(f"  {'N':>3}  {'cases':>10}  {'import s':>9}  {'factor':>6}  {'peak MB':>8}  {'table s':>8}  {'factor':>6}"
          f"  {'data factor':>11}", flush=True)
    before = None
    for n in steps:
        export, db = tmp / f"growth-{n}-export", tmp / f"growth-{n}.duckdb"
        subprocess.run([str(EXE), "demo", "--out", str(export), "--scale", "state", "--times", str(n)], env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds, mem = _run([str(EXE), "import", str(export), "--db", str(db)], env)
        shutil.rmtree(export)   # 10× state is several GB of CSV
        cases = int(subprocess.run([sys.executable, "-c", "from kimtools import Store; print(int(Store(%r).query("
                                    "'SELECT count(*) AS n FROM faelle').n[0]))" % str(db)],
                                   check=True, env=env, capture_output=True, text=True).stdout)
        table = _indicator_timings(db, env, runs=3)
        ratio = (lambda now, i: f"{now / before[i]:6.2f}") if before else (lambda now, i: " " * 6)
        print(f"  {n:>3}  {cases:>10,}  {seconds:>9.1f}  {ratio(seconds, 1)}  {mem:>8.0f}  {table:>8.2f}  "
              f"{ratio(table, 2)}  {ratio(cases, 0):>11}", flush=True)
        before = (cases, seconds, table)
        db.unlink()


def _print(name: str, seconds: float, mem: float = float("nan"), target: str = "") -> None:
    """One result line, printed as soon as it is measured."""
    mem_text = "" if mem != mem else f"{mem:8.0f}"
    seconds_text = "" if seconds != seconds else f"{seconds:8.2f}"
    print(f"{name.ljust(84)}  {seconds_text:>8}  {mem_text:>8}  {target}", flush=True)


def main() -> None:
    # the preparation an import and a server start in the background is measured on its own (kimtools vorbereiten),
    # not left to run beside the other measurements
    env = dict(os.environ, KIMTOOLS_KEY=os.environ.get("KIMTOOLS_KEY", "benchmark-key-0123456789abcdef"),
               KIMTOOLS_VORBEREITEN="0")
    print(f"{'operation'.ljust(84)}  {'seconds':>8}  {'peak MB':>8}  target", flush=True)
    with tempfile.TemporaryDirectory(prefix="kim-bench-") as tmp:
        if sys.argv[1:] == ["wachstum"]:   # python benchmarks/run.py wachstum: the growth table alone
            return _growth(env, Path(tmp))
        for scale in ("city", "state"):
            export, db = Path(tmp) / f"{scale}-export", Path(tmp) / f"{scale}.duckdb"
            _print(f"demo {scale}", *_run([str(EXE), "demo", "--out", str(export), "--scale", scale], env))
            _print(f"import {scale}", *_run([str(EXE), "import", str(export), "--db", str(db)], env),
                   "< 60 s, < 4096 MB" if scale == "state" else "")
            target = "< 2 s" if scale == "state" else ""
            _print(f"indicator table {scale} (all kennzahlen, stadtbezirk × quarter, median of 5)",
                   _indicator_timings(db, env), target=target)
            _print(f"referral indicators + network graph {scale} (stadtbezirk × quarter, median of 5)",
                   _referral_timings(db, env), target=target)
            sys.path.insert(0, str(Path(__file__).parent))
            from browser import browser_timings
            from computations import print_table

            print(f"  each computation three ways ({scale}; seconds: median of at least 5 runs and 1 s; ratios; kimtools process peak MB;"
                  " do they agree); targets kimtools/SQL ≤ 1.5 (same result), pandas/kimtools ≥ 2:", flush=True)
            print_table(db, scale, env)
            bundles = Path(tmp) / f"{scale}-bundles"
            _bundle_benchmarks(db, env, bundles)
            serve_env = dict(env, KIMTOOLS_VERGLEICH=str(bundles / "merged"))   # the comparison page shows these
            _print(f"prepare {scale}: forecasts of every kommune (kimtools vorbereiten, after an import)",
                   *_run([str(EXE), "vorbereiten", "--db", str(db)], serve_env))
            for preheat in os.environ.get("KIMTOOLS_BENCH_VORHEIZEN", "1").split():
                print(f"  dashboards ({scale}) with kimtools serve --vorheizen {preheat}:", flush=True)
                for name, value in browser_timings(db, ["--vorheizen", preheat], serve_env):
                    if "memory" in name:
                        _print(name, float("nan"), value, "< 1536 MB" if scale == "state" else "")
                        continue
                    target = {"city": ("< 5 s", "< 0.3 s"), "state": ("< 8 s", "< 0.5 s")}[scale]
                    _print(name, value, target=target[0] if "first render" in name else target[1])
            if scale == "city":   # a steering committee opening the same page together (issue: meeting scale)
                from crowd import crowd_timings

                # a meeting state of the largest city: its first view (figures as images) is what the invitation
                # links to; the interactive page as served, and with a prepared kernel for each of fifteen
                subprocess.run([str(EXE), "sitzung", "anlegen", "BENCH", "--db", str(db), "--kommune", "Dortmund"],
                               env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for args, page in ((["--sitzung", "BENCH"], "sitzung"), ([], "lenkungskreis"),
                                   (["--teilnehmende", "15"], "lenkungskreis")):
                    what = "the meeting's first view" if page == "sitzung" else "the Lenkungskreis page"
                    print(f"  a crowd opening {what} at once (city; one viewer timed in chromium among N - 1 plain "
                          f"requests, kimtools serve {' '.join(args)}):", flush=True)
                    for name, value in crowd_timings(db, args, serve_env, dashboard=page):
                        if "MB" in name or "kernels" in name or "quiet" in name:
                            _print(name, float("nan"), value)
                            continue
                        target = "< 5 s" if "first figure" in name else "< 0.3 s" if "filter" in name else ""
                        _print(name, value, target=target)
                from hub import hub_memory

                print("  team mode: memory per login (city; kimtools hub --demo, each login's Lenkungskreis page):",
                      flush=True)
                for name, value in hub_memory(db):
                    _print(name, float("nan"), value)
        _growth(env, Path(tmp))


if __name__ == "__main__":
    main()
