"""A steering committee opening one dashboard at once: N viewers in chromium against one ``kimtools serve``.

Run alone: ``python benchmarks/crowd.py STORE [kimtools serve options …]`` (``CROWD="1 5 15"`` the crowd sizes,
``DASHBOARD=lenkungskreis`` the page, ``DASHBOARD=sitzung`` a frozen meeting's first view (serve options
``--sitzung NAME``), ``WARM_UP=45`` seconds before the crowd arrives, enough for the server's
preheated kernels: about 5 s each on 2 cores); ``benchmarks/run.py`` calls :func:`crowd_timings`. Prints, asserts nothing.

For each N, N pages (one browser context each, as N people) open the page within a second, on a server that has
been up for a while (its preheated kernels ready). Printed per N:

- *first figure*: from a viewer's navigation until the first figure is drawn (median and slowest viewer);
- *all figures*: until every figure of the page is drawn (median and slowest);
- *server sent the page*: when the page's last byte arrived (the navigation's ``responseEnd``): at once from a
  preheated kernel, else once the server has started a kernel and run the notebook. The browsers share the
  server's two cores; this says how much of the wait is the server's before the browser draws;
- *page loaded in the browser*: the page's scripts loaded and run (``loadEventEnd``); after it the widgets
  connect to their kernel and draw;
- *filter change*: each viewer in turn changes the quarter while all stay connected, until the last figure
  redraws (median and slowest): right after the crowd's figures were drawn, again once the number of kernels
  has settled (the server's pools refilled), and while N more viewers arrive as plain requests, so that the
  server hands out its prepared kernels and starts new ones while the browsers stay idle;
- the dashboard kernels running afterwards and the largest peak memory among them (MB).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import _WATCH, DASHBOARDS, kernel_peak_mb  # noqa: E402


def _kernels() -> int:
    count = 0
    for proc in Path("/proc").iterdir():
        try:
            if b"ipykernel" in (proc / "cmdline").read_bytes():
                count += 1
        except OSError:
            continue
    return count


def _settle(steady: float = 10.0, limit: float = 400.0) -> None:
    """Wait until the number of kernels has not changed for ``steady`` seconds (the server's pools refilled)."""
    start = last_change = time.perf_counter()
    count = _kernels()
    while time.perf_counter() - last_change < steady and time.perf_counter() - start < limit:
        time.sleep(1)
        now = _kernels()
        if now != count:
            count, last_change = now, time.perf_counter()


def crowd_timings(db: str | Path, serve_args: list[str] | None = None, env: dict[str, str] | None = None,
                  sizes: tuple[int, ...] = (1, 5, 15), dashboard: str = "lenkungskreis",
                  warm_up: float = 45.0, settle: float = 2.0) -> Iterator[tuple[str, float]]:
    """(measure, value) for each crowd size, as soon as measured; a fresh server for each size."""
    from playwright.sync_api import sync_playwright

    from kimtools.present.pages import MEETING_PATH
    from kimtools.serving import running_server

    static = dashboard == "sitzung"   # the meeting's first view: figures as images, no kernel
    if static:
        path, figures, quarter = MEETING_PATH, None, None
        drawn_js = "Array.from(document.querySelectorAll('img.kim-figure')).filter(i => i.complete && i.naturalWidth > 0).length"
        total_js = "document.querySelectorAll('img.kim-figure').length"
    else:
        figures, filters = DASHBOARDS[dashboard]
        quarter = dict(filters).get("quarter", filters[-1][1])
        path = f"voila/render/{dashboard}.ipynb"
        drawn_js, total_js = "document.querySelectorAll('.js-plotly-plot .main-svg').length", None
    for n in sizes:
        with running_server(db, env=env, timeout=300, args=serve_args) as url, sync_playwright() as p:
            time.sleep(warm_up)
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            pages = [browser.new_context(viewport={"width": 1366, "height": 768}).new_page() for _ in range(n)]
            started, first, done = [], [None] * n, [None] * n
            target = f"{url}/{path}"
            for page in pages:   # all at once: each navigation is started without waiting for its answer
                started.append(time.perf_counter())
                page.evaluate(f"window.location.assign({target!r})")
            deadline = time.perf_counter() + 600
            while any(d is None for d in done) and time.perf_counter() < deadline:
                for i, page in enumerate(pages):
                    if done[i] is not None:
                        continue
                    try:
                        drawn = page.evaluate(drawn_js)
                        wanted = page.evaluate(total_js) if static else figures
                    except Exception:  # noqa: BLE001 - the page is between documents while it navigates
                        drawn, wanted = 0, 1
                    now = time.perf_counter() - started[i]
                    if drawn >= 1 and first[i] is None:
                        first[i] = now
                    if drawn >= max(wanted, 1):
                        done[i] = now
                time.sleep(0.05)
            firsts = [f for f in first if f is not None]
            dones = [d for d in done if d is not None]
            yield f"N={n:2d}: first figure, median viewer (s)", statistics.median(firsts) if firsts else float("nan")
            yield f"N={n:2d}: first figure, slowest viewer (s)", max(firsts) if firsts else float("nan")
            yield f"N={n:2d}: all figures, median viewer (s)", statistics.median(dones) if dones else float("nan")
            yield f"N={n:2d}: all figures, slowest viewer (s)", max(dones) if dones else float("nan")
            # the page's last byte: Voilà streams the page until the notebook has run
            served = [page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd") / 1000
                      for page in pages]
            if served:
                yield f"N={n:2d}: server sent the page, median viewer (s)", statistics.median(served)
                yield f"N={n:2d}: server sent the page, slowest viewer (s)", max(served)
            # the browser has loaded and run the page's scripts (Voilà's and the widgets'): what follows is the
            # widgets talking to their kernels and drawing
            loaded = [page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
                      for page in pages]
            yield f"N={n:2d}: page loaded in the browser, median viewer (s)", statistics.median(loaded)
            yield f"N={n:2d}: page loaded in the browser, slowest viewer (s)", max(loaded)
            # the quarter changed by each viewer in turn, all staying connected: first at once, while the server
            # refills its prepared kernels (those the crowd took), then once their number has settled
            for when in ("right after arriving", "after the refill", f"while {n} more arrive"):
                if when == "after the refill":
                    _settle()
                if when.startswith("while") and not static:
                    # n more viewers, as plain requests (no browser: only the server works): the server hands out
                    # prepared kernels and starts new ones while the connected viewers change filters
                    arriving = ThreadPoolExecutor(n)
                    for _ in range(n):
                        arriving.submit(lambda: urllib.request.urlopen(target, timeout=600).read())
                    time.sleep(1)
                changes = []
                for page in pages if not static else []:   # a first view has no filters
                    page.wait_for_timeout(settle * 1000)
                    select = page.locator("select").nth(quarter)
                    options = select.locator("option").all_inner_texts()
                    current = select.evaluate("s => s.selectedIndex")
                    page.evaluate(_WATCH)
                    select.select_option(index=1 if current != 1 else 0)
                    page.wait_for_timeout(settle * 1000)
                    seen = page.evaluate("() => window.kimSeen")
                    if seen and len(options) > 1:
                        changes.append(max(seen) / 1000)
                if changes:
                    yield f"N={n:2d}: filter change {when}, median viewer (s)", statistics.median(changes)
                    yield f"N={n:2d}: filter change {when}, slowest viewer (s)", max(changes)
                if when.startswith("while") and not static:
                    arriving.shutdown(wait=True)
            yield f"N={n:2d}: dashboard kernels running", float(_kernels())
            yield f"N={n:2d}: largest kernel peak memory (MB)", kernel_peak_mb()
            browser.close()


if __name__ == "__main__":
    sizes = tuple(int(x) for x in os.environ.get("CROWD", "1 5 15").split())
    for measure, value in crowd_timings(sys.argv[1], sys.argv[2:], sizes=sizes,
                                        dashboard=os.environ.get("DASHBOARD", "lenkungskreis"),
                                        warm_up=float(os.environ.get("WARM_UP", "45"))):
        print(f"{measure.ljust(72)}  {value:8.2f}", flush=True)
