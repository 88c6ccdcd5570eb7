"""Memory per login in team mode: ``kimtools hub --demo`` on a copy of a store, each demo login signed in through
chromium and its Lenkungskreis page opened; then the resident memory of each login's processes (its single-user
server and its kernels, found by the ``JUPYTERHUB_USER`` their environment carries) and of the hub itself.

Run alone: ``python benchmarks/hub.py STORE`` (needs ``make hub``); ``benchmarks/run.py`` calls :func:`hub_memory`.
Prints, asserts nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

CHROMIUM = "/usr/bin/chromium"
_ACCOUNT = re.compile(r"^\s+(\S+)\s+(\S+)\s+(koordination|lenkungskreis):")


def _processes() -> Iterator[tuple[int, bytes, dict[str, str], float]]:
    """(pid, command line, environment, resident MB) of each process that can be read."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            env = dict(item.split("=", 1) for item in (proc / "environ").read_bytes().decode("utf-8", "replace")
                       .split("\0") if "=" in item)
            rss = next(int(line.split()[1]) / 1024 for line in (proc / "status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError):
            continue
        yield int(proc.name), cmdline, env, rss


def hub_memory(store: str | Path) -> Iterator[tuple[str, float]]:
    """(measure, MB) for each demo login after its Lenkungskreis page is drawn, and for the hub with its proxy."""
    from playwright.sync_api import sync_playwright

    from kimtools.serving import free_port

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kim.duckdb"
        shutil.copy(store, db)
        port = free_port()
        log = open(Path(tmp) / "hub.log", "w+")
        env = {k: v for k, v in os.environ.items() if k not in ("KIMTOOLS_DB", "KIMTOOLS_KOMMUNEN")}
        hub = subprocess.Popen([str(Path(sys.executable).with_name("kimtools")), "hub", "--demo", "--db", str(db),
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                try:
                    urllib.request.urlopen(url + "/hub/login", timeout=2)
                    break
                except OSError:
                    if time.time() > deadline or hub.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"the hub did not start: {log.read()[-2000:]}") from None
                    time.sleep(0.5)
            log.seek(0)
            accounts = [m.groups() for m in map(_ACCOUNT.match, log.read().splitlines()) if m]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                for name, password, role in accounts:
                    page = browser.new_context().new_page()
                    page.goto(url + "/hub/login")
                    page.fill("input[name=username]", name)
                    page.fill("input[name=password]", password)
                    started = time.perf_counter()
                    page.click("input[type=submit], button[type=submit]")
                    if role == "koordination":   # JupyterLab, then the dashboard as a coordinator opens it from there
                        page.wait_for_selector(".jp-LabShell", timeout=180_000)
                        yield f"{role} ({name}): login until JupyterLab is shown (s)", time.perf_counter() - started
                        page.goto(f"{url}/user/{name}/voila/render/dashboards/lenkungskreis.ipynb")
                    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=180_000)
                    yield f"{role} ({name}): login until the first figure (s)", time.perf_counter() - started
                    page.wait_for_timeout(3000)
                    server = kernels = 0.0
                    for _pid, cmdline, penv, rss in _processes():
                        if penv.get("JUPYTERHUB_USER") != name:
                            continue
                        if b"ipykernel" in cmdline:
                            kernels += rss
                        else:
                            server += rss
                    yield f"{role} ({name}): single-user server (MB)", server
                    yield f"{role} ({name}): its kernels (MB)", kernels
                    yield f"{role} ({name}): together (MB)", server + kernels
                browser.close()
            yield "the hub and its proxy and guest service (MB)", sum(
                rss for pid, cmdline, penv, rss in _processes()
                if "JUPYTERHUB_USER" not in penv and (b"jupyterhub" in cmdline or b"configurable-http-proxy" in cmdline
                                                       or b"kimtools.hub.gast" in cmdline))
        finally:
            os.killpg(hub.pid, signal.SIGTERM)
            try:
                hub.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
            log.close()


if __name__ == "__main__":
    for measure, value in hub_memory(sys.argv[1]):
        print(f"{measure.ljust(72)}  {value:8.1f}", flush=True)
