"""kimtools: planning and monitoring workbench for Kommunales Integrationsmanagement (KIM NRW).

The public surface is assembled here; each stage lives in its own folder, in dependency order (docs/architecture.md):
contract → store → indicators → ingest → analysis → exchange → views → present → panels.
"""

from __future__ import annotations

from ._version import __version__
from .errors import ImportValidationError, KimtoolsError, StoreError, UsageError
from .ingest.read import Export, read_export
from .store import Store
from .indicators import case_durations, indicator_table
from .ingest.importer import import_export
from .api import auswahl, bezirksvergleich, kennzahlen, wert, zeitraeume

#: the figures a notebook draws from an indicator table, each picking its indicator and period itself (loaded on
#: first use: the ``kimtools`` command and a dashboard kernel start without plotly)
FIGURES = ("counts_over_time", "load_per_post", "reach_by_district", "needs_heatmap", "closure_reasons",
           "survival_curve", "funnel_plot", "small_multiples", "district_map")

#: readable tables for notebooks and their exports (``kim.tabelle``), loaded on first use like the figures
TABLES = ("tabelle",)

__all__ = [
    "__version__", "KimtoolsError", "ImportValidationError", "StoreError", "UsageError",
    "Export", "read_export", "Store", "indicator_table", "case_durations", "import_export",
    "kennzahlen", "bezirksvergleich", "zeitraeume", "wert", "auswahl", *FIGURES, *TABLES,
]


def __getattr__(name: str):
    if name in FIGURES:
        from .present import figures

        return getattr(figures, name)
    if name in TABLES:
        from .present import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'kimtools' has no attribute {name!r}")
