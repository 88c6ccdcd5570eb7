"""Bytes per page on the wire: one dashboard of ``kimtools serve`` opened twice in chromium (a first visit, then a
new tab in the same browser), with chromium's own network log (DevTools protocol): each response, whether it came
from the browser's cache, and the bytes received for it (headers and encoded body).

Run alone: ``python benchmarks/wire.py STORE [kimtools serve options …]`` (``DASHBOARD=lenkungskreis`` the page).
The second visit shows what caching saves: files the browser may keep come from its cache without asking; the
others are asked for again (and answered "304 Not Modified" where unchanged).
Prints, asserts nothing (docs/performance.md, "Bytes per page on the wire").
"""

from __future__ import annotations

import os
import sys

from playwright.sync_api import sync_playwright

from kimtools.serving import running_server

CHROMIUM = "/usr/bin/chromium"


def wire_bytes(store: str, args: list[str], dashboard: str = "lenkungskreis") -> list[tuple[str, int, int, int]]:
    """Per visit (first, second): the responses the page used, how many of them came from the browser's cache,
    and the bytes the server sent (headers and encoded bodies, as chromium's network log counts them)."""
    out = []
    with running_server(store, env=dict(os.environ, KIMTOOLS_DB=store), args=args) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context()
        for visit in ("first", "second"):
            page = context.new_page()
            log = context.new_cdp_session(page)
            log.send("Network.enable")
            responses: dict[str, bool] = {}   # request → from the cache
            sent: dict[str, int] = {}

            def received(event, responses=responses) -> None:
                if event["response"]["url"].startswith("http"):
                    responses[event["requestId"]] = bool(event["response"].get("fromDiskCache"))

            log.on("Network.responseReceived", received)
            log.on("Network.requestServedFromCache", lambda e, responses=responses: responses.__setitem__(e["requestId"], True))
            log.on("Network.loadingFinished", lambda e, sent=sent: sent.__setitem__(e["requestId"], e["encodedDataLength"]))
            page.goto(f"{url}/voila/render/{dashboard}.ipynb")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=180_000)
            page.wait_for_timeout(4000)   # the figures after the first
            cached = sum(responses.values())
            total = sum(n for r, n in sent.items() if r in responses and not responses[r])
            out.append((visit, len(responses), cached, total))
            page.close()
        browser.close()
    return out


if __name__ == "__main__":
    for visit, n, cached, total in wire_bytes(sys.argv[1], sys.argv[2:], os.environ.get("DASHBOARD", "lenkungskreis")):
        print(f"{visit} visit: {n} responses, {cached} of them from the browser's cache, {n - cached} from the server "
              f"(of these, 304 'not modified' count as from the server), {total / 1e6:.2f} MB on the wire")
