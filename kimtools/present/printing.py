"""Printing an HTML page to PDF with Debian's chromium (headless): the steering committee's printout, the reports."""

from __future__ import annotations

import base64
import contextlib
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import KimtoolsError

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["chromium", "print_pdf", "figure_images", "svg_image"]


def chromium() -> str | None:
    """Debian's chromium (or Chrome) for PDF output, if installed."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def print_pdf(page: Path, target: Path) -> Path:
    """Print the HTML file ``page`` to the PDF ``target`` with headless chromium (A4, the page's print styles, no
    header or footer of the browser's own, a fresh profile, nothing from the net); returns ``target``."""
    with tempfile.TemporaryDirectory() as profile:
        try:
            done = subprocess.run([chromium() or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-background-networking", f"--user-data-dir={profile}",
                                   "--run-all-compositor-stages-before-draw", "--virtual-time-budget=15000",
                                   f"--print-to-pdf={target}", "--no-pdf-header-footer", Path(page).resolve().as_uri()],
                                  capture_output=True, text=True, timeout=180)
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = subprocess.CompletedProcess([], 1, "", str(exc))
    if done.returncode != 0 or not Path(target).exists():
        raise KimtoolsError(f"Das PDF ließ sich nicht erstellen (chromium: {done.stderr.strip()[-300:]}); "
                            f"die HTML-Datei {page} lässt sich im Browser drucken.",
                            f"The PDF could not be made (chromium: {done.stderr.strip()[-300:]}); the HTML file "
                            f"{page} can be printed from a browser.")
    return Path(target)


@contextlib.contextmanager
def figure_images() -> Iterator[bool]:
    """Whether figures can be drawn as images here (kaleido with Debian's chromium), with kaleido's browser kept
    running for the block (its first image takes about 2 s, each further one about 0.2 s)."""
    if chromium() is None:
        yield False
        return
    import kaleido

    try:
        kaleido.start_sync_server()
    except Exception:  # noqa: BLE001 - kaleido cannot start its browser: the pages keep plotly.js
        yield False
        return
    try:
        yield True
    finally:
        kaleido.stop_sync_server()


def svg_image(fig: go.Figure) -> str | None:
    """``fig`` as an SVG image drawn by kaleido (plotly.js in headless chromium), base64 for a ``data:`` URL;
    ``None`` where kaleido cannot draw it (the page then draws that figure with plotly.js)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # "kopts are ignored if using a server": none are given
            return base64.b64encode(fig.to_image(format="svg")).decode("ascii")
    except Exception:  # noqa: BLE001 - kaleido's errors are many and all mean the same here
        return None
