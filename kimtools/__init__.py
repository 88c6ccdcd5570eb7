"""kimtools: planning and monitoring workbench for Kommunales Integrationsmanagement (KIM NRW).

The public surface is assembled here; each stage lives in its own folder (docs/architecture.md):
contract → ingest → store → indicators → analysis → exchange / views → present → panels.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ImportValidationError, KimtoolsError, StoreError, UsageError  # noqa: E402
from .ingest.read import Export, read_export  # noqa: E402
from .store import Store  # noqa: E402
from .indicators import indicator_table  # noqa: E402
from .ingest.importer import import_export  # noqa: E402

__all__ = [
    "__version__", "KimtoolsError", "ImportValidationError", "StoreError", "UsageError",
    "Export", "read_export", "Store", "indicator_table", "import_export",
]
