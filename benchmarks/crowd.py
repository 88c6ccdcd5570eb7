"""A steering committee opening one dashboard at once, against one ``kimtools serve``: one viewer timed in chromium
while N - 1 others arrive with her as plain requests (so that the machine's two cores run the server and one
browser, not fifteen browsers: the others' browsers would run on their own laptops).

Run alone: ``python benchmarks/crowd.py STORE [kimtools serve options …]`` (``CROWD="1 5 15"`` the crowd sizes,
``DASHBOARD=lenkungskreis`` the page, ``DASHBOARD=sitzung`` a frozen meeting's first view (serve options
``--sitzung NAME``), ``WARM_UP=400`` the longest wait for the server to become quiet before the crowd arrives);
``benchmarks/run.py`` calls :func:`crowd_timings`. Prints, asserts nothing.

For each N a fresh server; once its prepared kernels are ready (the cores at least 85 % idle for 5 s), N - 1
requests of the page start together and the timed viewer's navigation right after them (she is the last to
arrive). Printed per N:

- *first figure*, *all figures*: from the timed viewer's navigation until the first / every figure is drawn;
- *server sent the page*: when the page's last byte arrived (the navigation's ``responseEnd``): at once from a
  prepared kernel, else once the server has started a kernel and run the notebook;
- *page loaded in the browser*: the page's scripts loaded and run (``loadEventEnd``); after it the widgets
  connect to their kernel and draw;
- *the others: page answered*: when the plain requests had their whole page (median and slowest);
- *filter change*: the timed viewer changes the quarter, until the last figure redraws: right after, while the
  server refills the kernels the crowd took, and once it is quiet again;
- the dashboard kernels running afterwards, the largest peak memory among them, and the resident memory of the
  server and all its kernels together (MB).
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


def _idle() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)   # idle + iowait, all


def _quiet(share: float = 0.85, window: float = 5.0, limit: float = 400.0) -> float:
    """Wait until the machine's cores were at least ``share`` idle over ``window`` seconds (the server's prepared
    kernels started and their pages built); the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        idle0, all0 = _idle()
        time.sleep(window)
        idle1, all1 = _idle()
        if (idle1 - idle0) / max(all1 - all0, 1) >= share:
            break
    return time.perf_counter() - start


def _rss_mb(pattern: bytes) -> float:
    """The summed resident memory (MB) of the processes whose command line holds ``pattern``."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if pattern not in (proc / "cmdline").read_bytes():
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
    return total


def crowd_timings(db: str | Path, serve_args: list[str] | None = None, env: dict[str, str] | None = None,
                  sizes: tuple[int, ...] = (1, 5, 15), dashboard: str = "lenkungskreis",
                  warm_up: float = 400.0) -> Iterator[tuple[str, float]]:
    """(measure, value) for each crowd size, as soon as measured; a fresh server for each size, ``warm_up`` the
    longest wait for it to become quiet before the crowd arrives."""
    from playwright.sync_api import sync_playwright

    from kimtools.present.pages import MEETING_PATH

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
    with sync_playwright() as p:
        # one browser for every size, started and used once before: the first size does not pay its cold start
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        browser.new_page().goto("about:blank")
        try:
            yield from _sizes(browser, db, serve_args, env, sizes, path, figures, quarter, static, drawn_js,
                              total_js, warm_up)
        finally:
            browser.close()


def _sizes(browser, db, serve_args, env, sizes, path, figures, quarter, static, drawn_js, total_js,
           warm_up) -> Iterator[tuple[str, float]]:
    from kimtools.serving import running_server

    for n in sizes:
        with running_server(db, env=env, timeout=300, args=serve_args) as url:
            yield f"N={n:2d}: server quiet after (s)", _quiet(limit=warm_up)
            context = browser.new_context(viewport={"width": 1366, "height": 768})   # a first visit: nothing cached
            page = context.new_page()
            target = f"{url}/{path}"
            answered: list[float] = []

            def plain(t0: float) -> None:   # another viewer, as the server sees her first request
                with urllib.request.urlopen(target, timeout=600) as response:
                    response.read()
                answered.append(time.perf_counter() - t0)

            others = ThreadPoolExecutor(max(n - 1, 1))
            started = time.perf_counter()
            pending = [others.submit(plain, started) for _ in range(n - 1)]
            page.evaluate(f"window.location.assign({target!r})")   # the timed viewer arrives with (after) the others
            first = done = None
            deadline = started + 600
            while done is None and time.perf_counter() < deadline:
                try:
                    drawn = page.evaluate(drawn_js)
                    wanted = page.evaluate(total_js) if static else figures
                except Exception:  # noqa: BLE001 - the page is between documents while it navigates
                    drawn, wanted = 0, 1
                now = time.perf_counter() - started
                if drawn >= 1 and first is None:
                    first = now
                if drawn >= max(wanted, 1):
                    done = now
                time.sleep(0.05)
            nan = float("nan")
            yield f"N={n:2d}: timed viewer: first figure (s)", first if first is not None else nan
            yield f"N={n:2d}: timed viewer: all figures (s)", done if done is not None else nan
            navigation = "performance.getEntriesByType('navigation')[0]"
            yield f"N={n:2d}: timed viewer: server sent the page (s)", page.evaluate(f"{navigation}.responseEnd") / 1000
            yield f"N={n:2d}: timed viewer: page loaded in the browser (s)", page.evaluate(f"{navigation}.loadEventEnd") / 1000
            for future in pending:
                future.result()
            others.shutdown()
            if answered:
                yield f"N={n:2d}: the {n - 1} others: page answered, median (s)", statistics.median(answered)
                yield f"N={n:2d}: the {n - 1} others: page answered, slowest (s)", max(answered)
            # the quarter changed by the timed viewer: at once (while the server refills the kernels the crowd took),
            # then once the server is quiet again
            for when in ([] if static else ["right after", "once quiet"]):
                if when == "once quiet":
                    _quiet(limit=warm_up)
                select = page.locator("select").nth(quarter)
                current = select.evaluate("s => s.selectedIndex")
                page.evaluate(_WATCH)
                select.select_option(index=1 if current != 1 else 0)
                page.wait_for_timeout(2000)
                seen = page.evaluate("() => window.kimSeen")
                if seen:
                    yield f"N={n:2d}: timed viewer: filter change {when} (s)", max(seen) / 1000
            yield f"N={n:2d}: dashboard kernels running", float(_kernels())
            yield f"N={n:2d}: largest kernel peak memory (MB)", kernel_peak_mb()
            yield f"N={n:2d}: server and kernels, resident memory (MB)", _rss_mb(b"kimtools.serving") + _rss_mb(b"ipykernel")
            context.close()


if __name__ == "__main__":
    sizes = tuple(int(x) for x in os.environ.get("CROWD", "1 5 15").split())
    for measure, value in crowd_timings(sys.argv[1], sys.argv[2:], sizes=sizes,
                                        dashboard=os.environ.get("DASHBOARD", "lenkungskreis"),
                                        warm_up=float(os.environ.get("WARM_UP", "400"))):
        print(f"{measure.ljust(72)}  {value:8.2f}", flush=True)
