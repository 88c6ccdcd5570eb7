"""Widgets that carry a figure or a file to the browser: :class:`PlotlyView` (plotly.js once per page,
not a 5 MB copy per figure) and :class:`DownloadButton`."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Callable

import anywidget
import plotly.graph_objects as go
import traitlets
from plotly.offline import get_plotlyjs

from ..errors import KimtoolsError
from ..i18n import tr


@functools.cache
def plotly_source() -> str:
    """plotly.js as bundled with the plotly package (what exports embed and the dashboard server hands out)."""
    return get_plotlyjs()


class PlotlyView(anywidget.AnyWidget):
    """A plotly figure in a notebook or dashboard, redrawn with ``Plotly.react`` whenever :meth:`show` gets a new one.

    Unlike ``go.FigureWidget`` it does not carry its own 5 MB copy of plotly.js: under
    ``kimtools serve`` (``KIMTOOLS_PLOTLY_PATH`` set) the first view on a page loads the
    server's copy, which the browser keeps; elsewhere (JupyterLab) it asks the kernel
    for plotly's bundled copy, once per page. It syncs nothing back to the kernel and
    takes any change of traces. Setting an equal figure sends nothing.
    """

    _esm = Path(__file__).parent / "static" / "plotly_view.js"
    figure = traitlets.Dict().tag(sync=True)
    plotly_path = traitlets.Unicode(os.environ.get("KIMTOOLS_PLOTLY_PATH", "")).tag(sync=True)

    def __init__(self, fig: go.Figure | None = None, **kwargs):
        super().__init__(**kwargs)
        self.on_msg(self._on_message)
        if fig is not None:
            self.show(fig)

    def show(self, fig: go.Figure) -> None:
        self.figure = json.loads(fig.to_json())

    def _on_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("kind") == "need-plotly":
            self.send({"kind": "plotly-source", "source": plotly_source()})


class DownloadButton(anywidget.AnyWidget):
    """A button that builds a file in the kernel when clicked (``make`` returns name, MIME type and text, or bytes
    for a binary file) and hands it to the browser as a download. Errors show as their message beside the button."""

    _esm = Path(__file__).parent / "static" / "download.js"
    label = traitlets.Unicode().tag(sync=True)
    busy = traitlets.Unicode().tag(sync=True)

    def __init__(self, label: str, make: Callable[[], tuple[str, str, str]], **kwargs):
        super().__init__(label=label, busy=tr({"de": "wird erstellt …", "en": "being prepared …"}), **kwargs)
        self.make = make
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        if not (isinstance(content, dict) and content.get("kind") == "make"):
            return
        try:
            name, mime, text = self.make()
        except Exception as exc:  # noqa: BLE001 - the viewer gets the message, never a traceback
            self.send({"kind": "error", "text": exc.message() if isinstance(exc, KimtoolsError) else tr(
                {"de": "Die Datei konnte nicht erstellt werden.", "en": "The file could not be prepared."})})
            return
        done = tr({"de": f"{name} heruntergeladen", "en": f"{name} downloaded"})
        if isinstance(text, bytes):   # a binary file (a Word document) travels as the message's buffer
            self.send({"kind": "file", "name": name, "mime": mime, "content": None, "done": done}, buffers=[text])
        else:
            self.send({"kind": "file", "name": name, "mime": mime, "content": text, "done": done})
