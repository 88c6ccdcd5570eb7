"""Browser timings of every dashboard: first render and filter changes, measured in chromium.

Run alone: ``python benchmarks/browser.py STORE [kimtools serve options …]`` (e.g. ``--vorheizen 0``;
``ONLY=netzwerk,fallzahlen`` for some dashboards); ``benchmarks/run.py`` calls :func:`browser_timings`.
Prints, asserts nothing.

*First render*: from navigation until every figure of the dashboard is drawn, on a server that has been
running for a while (as in a meeting): once for the first visitor and as the median of the later loads.
*Filter change*: from selecting an option until the last figure redraws (the last change inside any plot
within 2 s of the selection), median over several options.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Iterator

#: dashboard → (figures drawn when complete, [(filter name, index of its <select>), …])
DASHBOARDS = {
    "lenkungskreis": (4, [("district", 1), ("quarter", 2)]),
    "fallzahlen": (6, [("district", 1), ("provider", 2), ("quarter", 3)]),
    "netzwerk": (5, [("district", 1), ("quarter", 3)]),
    "vergleich": (2, [("indicator", 1), ("period", 2)]),
    "datenstand": (1, [("kommune", 0)]),
    "planung": (6, [("district", 1), ("kommune", 0)]),
}

_WATCH = """() => {
    window.kimStart = performance.now(); window.kimSeen = [];
    if (window.kimObserver) return;
    window.kimObserver = new MutationObserver(ms => {
        for (const m of ms) {
            const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
            if (el && el.closest('.js-plotly-plot')) window.kimSeen.push(performance.now() - window.kimStart);
        }
    });
    window.kimObserver.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def kernel_peak_mb() -> float:
    """The largest peak resident memory (VmHWM) of any running Jupyter kernel process, in MB (Linux)."""
    peak = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if b"ipykernel" not in (proc / "cmdline").read_bytes():
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            continue
    return peak


def _settled(page, quiet: float = 1.0, at_least: float = 2.0, at_most: float = 20.0) -> list[float]:
    """Wait until no plot has changed for ``quiet`` seconds (at least ``at_least``, at most ``at_most`` seconds
    after the change began); the times (ms) of every change seen in the plots."""
    start = time.perf_counter()
    while True:
        page.wait_for_timeout(250)
        seen = page.evaluate("() => window.kimSeen")
        elapsed = time.perf_counter() - start
        last = max(seen) / 1000 if seen else 0.0
        if elapsed >= at_most or (elapsed >= at_least and elapsed - last >= quiet):
            return seen


def _drawn(page, figures: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}", timeout=180_000)


def browser_timings(db: str | Path, serve_args: list[str] | None = None, env: dict[str, str] | None = None,
                    loads: int = 3, changes: int = 4, warm_up: float = 45.0,
                    only: set[str] | None = None) -> Iterator[tuple[str, float]]:
    """(operation, seconds) for every dashboard present in ``dashboards/`` (or those ``only``), each as soon as
    it is measured."""
    from playwright.sync_api import sync_playwright

    from kimtools.serving import running_server

    from kimtools.store import Store

    present = {p.stem for p in (Path(__file__).resolve().parents[1] / "dashboards").glob("*.ipynb")}
    largest = Store(db).info().sort_values("faelle").iloc[-1]["kommune"]
    with running_server(db, env=env, timeout=300, args=serve_args) as url, sync_playwright() as p:
        time.sleep(warm_up)   # a server in use has been up for a while (preheated kernels are ready)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for name, (figures, filters) in DASHBOARDS.items():
            if name not in present or (only and name not in only):
                continue
            times = []
            for i in range(loads):
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                t0 = time.perf_counter()
                page.goto(f"{url}/voila/render/{name}.ipynb")
                _drawn(page, figures)
                times.append(time.perf_counter() - t0)
                if i < loads - 1:
                    page.close()
                    time.sleep(10)   # as between two visitors; lets a preheated pool refill
            yield f"{name}: first render, first visitor (browser)", times[0]
            yield f"{name}: first render, median of later visitors (browser)", statistics.median(times[1:])
            page.wait_for_timeout(2000)
            for label, nth in filters:
                select = page.locator("select").nth(nth)
                options = select.locator("option").all_inner_texts()
                chosen = options[1:changes + 1]
                if label == "kommune":   # spread over the list, and the largest kommune, whose change costs most
                    chosen = list(dict.fromkeys([*options[1::max(1, len(options) // changes)][:changes], largest]))
                last = {}
                for option in chosen:
                    if option not in options:
                        continue
                    page.evaluate(_WATCH)
                    select.select_option(label=option)
                    seen = _settled(page)
                    if seen:
                        last[option] = max(seen) / 1000
                page.evaluate(_WATCH)
                select.select_option(index=0)
                _settled(page)
                if last:
                    yield f"{name}: {label} change, all figures redrawn (browser, median of {len(last)})", \
                        statistics.median(last.values())
                    if label == "kommune" and largest in last:
                        yield f"{name}: kommune change to the largest ({largest}), all figures redrawn (browser)", last[largest]
            yield f"{name}: peak memory of a dashboard kernel so far (MB)", kernel_peak_mb()
            page.close()
        browser.close()


if __name__ == "__main__":
    only = set(os.environ["ONLY"].split(",")) if os.environ.get("ONLY") else None
    for operation, seconds in browser_timings(sys.argv[1], sys.argv[2:], loads=int(os.environ.get("LOADS", "3")), only=only):
        print(f"{operation.ljust(84)}  {seconds:8.2f}", flush=True)
