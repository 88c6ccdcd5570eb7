"""The dashboards' widgets: one module per dashboard, named after its notebook in ``dashboards/``, on a shared
filter bar (:mod:`.filterbar`), plot widget (:mod:`.plotview`) and panel base (:mod:`.base`).

Panels hold widgets and wiring only: the frames each page shows come from :mod:`kimtools.views`, figures from
:mod:`kimtools.present.figures`, texts from :mod:`kimtools.present`.
"""

from __future__ import annotations

from ..present.markup import error_html, html_table
from ..views.fallzahlen import caseload_views
from ..views.netzwerk import network_fixed, network_views
from .beschluesse import DecisionEditor, GapDrafts
from .commentary import CommentaryEditor
from .datenstand import DatenstandPanel
from .fallzahlen import FallzahlenPanel
from .filterbar import FilterBar, kommune_dropdown
from .lenkungskreis import LenkungskreisPanel
from .netzwerk import NetzwerkPanel
from .planung import PlanungPanel
from .plotview import DownloadButton, PlotlyView
from .vergleich import VergleichPanel

#: the names of earlier releases, before panels were named after their dashboard
CaseloadPanel, NetworkPanel = FallzahlenPanel, NetzwerkPanel

__all__ = ["DatenstandPanel", "FallzahlenPanel", "NetzwerkPanel", "LenkungskreisPanel", "VergleichPanel", "PlanungPanel",
           "CaseloadPanel", "NetworkPanel",
           "CommentaryEditor", "DecisionEditor", "GapDrafts", "FilterBar", "kommune_dropdown", "PlotlyView", "DownloadButton", "caseload_views", "network_views",
           "network_fixed", "html_table", "error_html"]
