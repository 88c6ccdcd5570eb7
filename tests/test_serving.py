"""Serving safely: tested against a running `kimtools serve`, as a viewer on the network would try it."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from kimtools.cli import main

pytestmark = pytest.mark.browser
TOKEN = "kim-test-token-0123456789"


def _get(url: str, timeout: float = 120) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def _post(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_a_bind_beyond_this_machine_needs_a_token(demo_store, capsys, monkeypatch):
    monkeypatch.delenv("KIMTOOLS_TOKEN", raising=False)
    assert main(["serve", "--db", str(demo_store), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "Zugangsschlüssel" in err and "--token" in err and "Reverse Proxy" in err
    assert main(["serve", "--db", str(demo_store), "--host", "0.0.0.0", "--token", "short"]) == 2


@pytest.fixture(scope="module")
def server(demo_store):
    from kimtools.serving import running_server

    with running_server(demo_store, args=["--vorheizen", "0"]) as url:
        yield url


def test_start_page_lists_the_dashboards_not_files(server):
    status, page = _get(server + "/")
    assert status == 200
    dashboards = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "dashboards").glob("*.ipynb"))
    for name in dashboards:
        assert f"/voila/render/{name}.ipynb" in page
    assert "KIM-Dashboards" in page and "Lenkungskreis" in page
    assert _get(server + "/voila/tree")[1] == page     # Voilà's file list is replaced too


def test_the_server_hands_out_the_plotly_js_bundled_with_plotly(server):
    from plotly.offline import get_plotlyjs

    from kimtools.serving import PLOTLY_PATH

    status, body = _get(f"{server}/{PLOTLY_PATH}")
    assert status == 200 and body == get_plotlyjs()


def test_text_travels_compressed_where_the_browser_accepts_it(server):
    import gzip
    import urllib.request

    from kimtools.serving import PLOTLY_PATH

    def fetch(encoding: str | None) -> tuple[str | None, bytes]:
        headers = {"Accept-Encoding": encoding} if encoding else {}
        with urllib.request.urlopen(urllib.request.Request(f"{server}/{PLOTLY_PATH}", headers=headers)) as r:
            return r.headers.get("Content-Encoding"), r.read()

    packed, body = fetch("gzip")
    plain_encoding, plain = fetch(None)
    assert packed == "gzip" and plain_encoding is None
    assert gzip.decompress(body) == plain and len(body) < len(plain) / 3   # plotly.js: about 4.8 MB, some 1.4 MB packed


def test_static_files_named_by_their_version_are_kept_for_a_year_and_the_others_are_asked_for_again(server):
    from importlib.metadata import version

    from kimtools.serving import IMMUTABLE, PLOTLY_PATH

    def cache_control(path: str) -> str | None:
        with urllib.request.urlopen(server + path, timeout=60) as r:
            assert r.status == 200, path
            return r.headers.get("Cache-Control")

    status, page = _get(server + "/voila/render/datenstand.ipynb")
    # the page names Voilà's scripts below a path with Voilà's version, and plotly.js by plotly's version: an update
    # changes the addresses, so a browser's year-long copy is never served stale
    script = re.search(r'<script src="([^"]*/voila\.js)"', page).group(1)
    assert script == f"/voila/static/v{version('voila')}/voila.js"
    assert f'"fullStaticUrl": "/voila/static/v{version("voila")}"' in page
    assert PLOTLY_PATH == f"kimtools/plotly-{version('plotly')}.js"
    assert cache_control(script) == IMMUTABLE
    assert cache_control(f"/voila/static/v{version('voila')}/1187.voila.js") == IMMUTABLE   # a chunk voila.js loads
    assert cache_control("/" + PLOTLY_PATH) == IMMUTABLE.replace("public", "private")   # behind the token
    # the widget manager's chunks carry a content hash in their names; its style.js does not
    labext = Path(sys.prefix) / "share/jupyter/voila/labextensions/@voila-dashboards/widgets-manager8/static"
    hashed = next(labext.glob("remoteEntry.*.js")).name
    assert cache_control(f"/voila/labextensions/@voila-dashboards/widgets-manager8/static/{hashed}") == IMMUTABLE
    assert cache_control("/voila/labextensions/@voila-dashboards/widgets-manager8/static/style.js") == "no-cache"
    # the same files without a version in the address, and the page itself: asked for again each time
    assert cache_control("/voila/static/voila.js") != IMMUTABLE
    with urllib.request.urlopen(server + "/voila/render/datenstand.ipynb", timeout=120) as r:
        assert "immutable" not in (r.headers.get("Cache-Control") or "")


def test_prepared_kernels_are_refilled_one_at_a_time_each_with_its_page_built_and_a_restart_is_never_held():
    import asyncio

    from kimtools.serving import bound_refills

    class Manager:   # Voilà's pooled kernel manager as far as bound_refills uses it
        def __init__(self):
            self.running, self.most, self.log = 0, 0, []

        async def _initialize(self, notebook_path, kernel_id=None, **kwargs):
            self.running += 1
            self.most = max(self.most, self.running)
            self.log.append(("start", notebook_path))

            async def build():   # the page built in the new kernel after it started
                await asyncio.sleep(0.05)
                self.log.append(("built", notebook_path))
                self.running -= 1

            return {"task": asyncio.get_running_loop().create_task(build()), "kernel_id": kernel_id or notebook_path}

    async def crowd(manager):
        refills = [manager._initialize(f"refill-{i}") for i in range(4)]
        return await asyncio.gather(*refills)

    manager = Manager()
    bound_refills(manager)
    contents = asyncio.run(crowd(manager))
    assert manager.most == 1 and [c["kernel_id"] for c in contents] == [f"refill-{i}" for i in range(4)]
    # first come, first served: each replacement starts once the one before has its page built
    assert manager.log == [(what, f"refill-{i}") for i in range(4) for what in ("start", "built")]

    async def restart_during_refill(manager):
        refill = asyncio.ensure_future(manager._initialize("refill"))
        await asyncio.sleep(0.01)   # the refill holds the gate
        await manager._initialize("viewer", kernel_id="k1")   # a viewer's kernel restarted: not queued behind it
        await refill

    manager = Manager()
    bound_refills(manager)
    asyncio.run(restart_during_refill(manager))
    assert manager.most == 2 and manager.log[:2] == [("start", "refill"), ("start", "viewer")]

    unbounded = Manager()   # and without: all at once, as Voilà does it
    asyncio.run(crowd(unbounded))
    assert unbounded.most == 4


def test_no_file_listing_no_file_content_no_code(server):
    for path in ("/api/contents", "/api/contents/fallzahlen.ipynb", "/api/kernels", "/api/sessions", "/api/terminals",
                 "/terminals/1", "/lab", "/tree", "/files/fallzahlen.ipynb", "/voila/files/fallzahlen.ipynb",
                 "/voila/files/../data/kim.duckdb", "/voila/files/%2e%2e/pyproject.toml"):
        status, body = _get(server + path)
        assert status in (403, 404, 405), f"{path} answered {status}"
    assert _post(server + "/api/kernels") in (403, 404, 405)
    # Voilà's own contents API names the dashboards but hands out no content
    status, body = _get(server + "/voila/api/contents/fallzahlen.ipynb")
    assert status == 200 and json.loads(body)["content"] is None
    # a rendered dashboard carries no source code
    status, page = _get(server + "/voila/render/datenstand.ipynb")
    assert status == 200 and "DatenstandPanel" not in page and "import" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)


def _kernel_messages(server: str, kernel: str, messages: list[dict], wait: float = 6.0) -> list[dict]:
    """Send messages on a dashboard kernel's websocket as a browser would; return what comes back."""
    import asyncio

    from tornado.websocket import websocket_connect

    async def run():
        ws = await websocket_connect(server.replace("http", "ws") + f"/api/kernels/{kernel}/channels?session_id={uuid.uuid4()}")
        for m in messages:
            await ws.write_message(json.dumps(m))
        got, deadline = [], time.time() + wait
        while time.time() < deadline:
            try:
                raw = await asyncio.wait_for(ws.read_message(), timeout=max(0.1, deadline - time.time()))
            except asyncio.TimeoutError:
                break
            if raw is None:
                break
            if isinstance(raw, str):
                got.append(json.loads(raw))
        ws.close()
        return got

    return asyncio.run(run())


def _message(kind: str, content: dict) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": kind, "username": "viewer", "session": uuid.uuid4().hex,
                       "date": "2026-11-23T00:00:00Z", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": []}


def test_a_viewer_cannot_run_code_in_a_dashboard_kernel(server, tmp_path):
    status, page = _get(server + "/voila/render/datenstand.ipynb")
    kernel = re.search(r'"kernelId": "([0-9a-f-]{36})"', page).group(1)
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w').write('x')"
    got = _kernel_messages(server, kernel, [
        _message("kernel_info_request", {}),
        _message("execute_request", {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                                     "allow_stdin": False, "stop_on_error": True})])
    kinds = [m.get("msg_type") or m.get("header", {}).get("msg_type") for m in got]
    assert "kernel_info_reply" in kinds      # the channel works: the test can see a refusal
    assert "execute_reply" not in kinds and "execute_input" not in kinds
    assert not marker.exists()


def test_dashboard_kernels_talk_over_private_unix_sockets(server):
    """Kernels talk to the server over Unix sockets in its private directory, not over TCP ports on 127.0.0.1: no
    other user of the machine can connect to a kernel's channels, and kernels started together cannot race for the
    same free port. (ipykernel's own pipe for output of forked subprocesses stays on TCP: bound atomically, and it
    drops whatever does not carry the kernel's secret.)"""
    import os
    import stat

    import psutil

    status, page = _get(server + "/voila/render/datenstand.ipynb")
    assert status == 200
    kernels = [p for p in psutil.process_iter(["cmdline"])   # Voilà keeps its kernels' connection files in /tmp/voila_*
               if "ipykernel_launcher" in (p.info["cmdline"] or []) and "/voila_" in p.info["cmdline"][-1]]
    assert kernels, "no dashboard kernel is running"
    for kernel in kernels:
        connection_file = Path(kernel.info["cmdline"][-1])
        connection = json.loads(connection_file.read_text())
        assert connection["transport"] == "ipc"
        shell = Path(f"{connection['ip']}-{connection['shell_port']}")
        assert stat.S_ISSOCK(shell.stat().st_mode) and shell.parent == connection_file.parent
        assert stat.S_IMODE(os.stat(shell.parent).st_mode) & 0o077 == 0   # only the server's user may enter
        listening = {c.laddr.port for c in kernel.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        assert not listening & {connection[f"{ch}_port"] for ch in ("shell", "iopub", "stdin", "control", "hb")}


def test_a_missing_store_shows_a_german_message(demo_store, tmp_path):
    from kimtools.serving import running_server

    store = tmp_path / "kim.duckdb"
    shutil.copy(demo_store, store)
    from playwright.sync_api import sync_playwright

    with running_server(store, args=["--vorheizen", "0"]) as url, sync_playwright() as p:
        store.unlink()
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for name in ("fallzahlen", "lenkungskreis", "datenstand"):
            page = browser.new_page()
            page.goto(f"{url}/voila/render/{name}.ipynb")
            page.wait_for_selector("div.kim-error", timeout=120_000)
            text = page.inner_text("body")
            assert "gibt es noch keinen Datenbestand" in page.inner_text("div.kim-error"), name
            assert "Traceback" not in text and "StoreError" not in text and "Error" not in text
            page.close()
        browser.close()


def test_with_a_token_nothing_opens_without_it(demo_store):
    from kimtools.serving import running_server

    from kimtools.serving import PLOTLY_PATH

    with running_server(demo_store, args=["--token", TOKEN, "--vorheizen", "0"]) as url:
        for path in ("/", "/voila/render/datenstand.ipynb", "/voila/api/contents", "/" + PLOTLY_PATH):
            status, body = _get(url + path)
            assert status in (302, 403) or "token" in body.lower() and "KIM-Dashboards" not in body, path
            assert "Datenbestand enthält" not in body
        status, body = _get(f"{url}/?token={TOKEN}")
        assert status == 200 and "KIM-Dashboards" in body


def test_dashboards_open_the_store_read_only(demo_store):
    import duckdb

    from kimtools import Store

    con = Store(demo_store).connect()
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE probe (x INTEGER)")
