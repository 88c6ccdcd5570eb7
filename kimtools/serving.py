"""Run the dashboard server in the background: for browser tests, benchmarks and scripted checks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Iterator

from .errors import KimtoolsError

__all__ = ["free_port", "running_server"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(db: str | Path, log: IO | None = None, timeout: float = 90.0,
                   env: dict[str, str] | None = None) -> Iterator[str]:
    """``kimtools serve --db DB`` on a free local port; yields the base URL once it answers, stops it after."""
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "kimtools")
    proc = subprocess.Popen([exe, "serve", "--db", str(db), "--port", str(port)], env=env,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise KimtoolsError(f"Der Dashboard-Server ist nicht gestartet (Port {port}).",
                                        f"The dashboard server did not start (port {port}).") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
