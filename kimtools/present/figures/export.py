"""Figures that survive a notebook's export: a plotly renderer that gives every figure both plotly's own output type
(JupyterLab draws it interactively) and self-contained HTML (what nbconvert, JupyterLab's "Export Notebook As
HTML/PDF" and ``kimtools report --notebook`` keep), with plotly.js embedded once per document, never from a CDN.

Set up by itself when the figures are imported in a notebook's kernel (:func:`use_in_notebooks`); plotly's own
default gives only its output type, which every export drops. plotly.js (about 4.8 MB) travels in the first figure's
HTML of a kernel session, and again whenever the cell that carried it runs once more (its old output, with the
library, is replaced then). Before exporting from JupyterLab: *Restart Kernel and Run All Cells*, so that the
library stands in the first figure (docs/anleitung.md).

>>> import plotly.graph_objects as go
>>> _CARRIER.clear()   # a new kernel session
>>> renderer = ExportRenderer()
>>> first = renderer.to_mimebundle(go.Figure(go.Bar(x=[1], y=[2])).to_dict())
>>> sorted(first)
['application/vnd.plotly.v1+json', 'text/html']
>>> "Plotly.newPlot" in first["text/html"] and len(first["text/html"]) > 1_000_000   # plotly.js inside
True
>>> second = renderer.to_mimebundle(go.Figure(go.Bar(x=[1], y=[3])).to_dict())
>>> len(second["text/html"]) < 10_000 and "cdn" not in second["text/html"].lower()
True
"""

from __future__ import annotations

import os

import plotly.io as pio
from IPython import get_ipython
from plotly.io._base_renderers import MimetypeRenderer

__all__ = ["RENDERER", "ExportRenderer", "use_in_notebooks"]

#: the renderer's name among plotly's renderers
RENDERER = "kimtools"
#: no plotly logo in an exported figure
_CONFIG = {"displaylogo": False}


def _cell_id() -> str | None:
    """The notebook cell running now, as JupyterLab names it in its request (``None`` outside a kernel)."""
    try:
        shell = get_ipython()
        kernel = getattr(shell, "kernel", None)
        return (kernel.get_parent().get("metadata") or {}).get("cellId") if kernel is not None else None
    except Exception:  # noqa: BLE001 - no kernel, or one that does not say: the library goes with the first figure
        return None


#: the kernel session's cell whose output carries plotly.js (``[cell ID]`` once a figure was shown). Kept here, not
#: on the renderer: plotly copies a renderer for every figure it shows
_CARRIER: list[str | None] = []


class ExportRenderer(MimetypeRenderer):
    """Plotly's output type and HTML in one bundle; plotly.js in the HTML of the session's first figure."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        cell = _cell_id()
        with_library = not _CARRIER or (cell is not None and _CARRIER == [cell])
        html = pio.to_html(fig_dict, config=_CONFIG, include_plotlyjs=with_library, include_mathjax=False,
                           full_html=False, default_width="100%", default_height=525, validate=False)
        if with_library:
            _CARRIER[:] = [cell]
        data = {k: fig_dict.get(k) for k in ("data", "layout") if k in fig_dict}
        return {"application/vnd.plotly.v1+json": {**data, "config": _CONFIG}, "text/html": html}


def use_in_notebooks() -> bool:
    """Make :class:`ExportRenderer` plotly's default in a notebook's kernel (IPython with a kernel); elsewhere (the
    command line, a script, a dashboard's Voilà kernel, which draws through :mod:`kimtools.panels.plotview`) leave
    plotly's default alone. Whether it was set."""
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    if any(name in os.environ for name in ("VOILA_KERNEL_ID", "VOILA_PREHEAT", "VOILA_BASE_URL")):   # Voilà's kernel
        return False
    if RENDERER not in pio.renderers:
        pio.renderers[RENDERER] = ExportRenderer()
    pio.renderers.default = RENDERER
    return True
