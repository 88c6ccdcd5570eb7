"""kimtools: planning and monitoring workbench for Kommunales Integrationsmanagement (KIM NRW).

The public surface is assembled here; each stage lives in its own folder, in dependency order (docs/architecture.md):
contract → store → indicators → ingest → analysis → exchange → views → present → panels.
"""

from __future__ import annotations

from ._version import __version__
from .errors import ImportValidationError, KimtoolsError, StoreError, UsageError
from .ingest.read import Export, read_export
from .store import Store
from .indicators import indicator_table
from .ingest.importer import import_export

__all__ = [
    "__version__", "KimtoolsError", "ImportValidationError", "StoreError", "UsageError",
    "Export", "read_export", "Store", "indicator_table", "import_export",
]
