"""Bytes per page on the wire: one dashboard of ``kimtools serve`` opened twice in chromium (a first visit, then a
new tab in the same browser), summing each response's headers and encoded body as the browser received them.

Run alone: ``python benchmarks/wire.py STORE [kimtools serve options …]`` (``DASHBOARD=lenkungskreis`` the page).
Prints, asserts nothing (docs/performance.md, "Bytes per page on the wire").
"""

from __future__ import annotations

import os
import sys

from playwright.sync_api import sync_playwright

from kimtools.serving import running_server

CHROMIUM = "/usr/bin/chromium"


def wire_bytes(store: str, args: list[str], dashboard: str = "lenkungskreis") -> list[tuple[str, int, int]]:
    """Per visit (first, second): the number of responses and their bytes."""
    out = []
    with running_server(store, env=dict(os.environ, KIMTOOLS_DB=store), args=args) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context()
        for visit in ("first", "second"):
            page = context.new_page()
            sizes: list[int] = []

            def finished(request, sizes=sizes) -> None:
                try:
                    s = request.sizes()
                    sizes.append(s["responseBodySize"] + s["responseHeadersSize"])
                except Exception:  # noqa: BLE001 - a request the page dropped on closing
                    pass

            page.on("requestfinished", finished)
            page.goto(f"{url}/voila/render/{dashboard}.ipynb")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=180_000)
            page.wait_for_timeout(4000)   # the figures after the first
            out.append((visit, len(sizes), sum(sizes)))
            page.close()
        browser.close()
    return out


if __name__ == "__main__":
    for visit, n, total in wire_bytes(sys.argv[1], sys.argv[2:], os.environ.get("DASHBOARD", "lenkungskreis")):
        print(f"{visit} visit: {n} responses, {total / 1e6:.2f} MB on the wire")
