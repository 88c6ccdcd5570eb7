"""The exception tree of kimtools.

Every error a user can meet is a :class:`KimtoolsError` whose message names
what is wrong and how to fix it, German first with the English text kept in
``message_en``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .i18n import current_lang

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["KimtoolsError", "ImportValidationError", "StoreError", "UsageError", "DisclosureError", "BundleError"]


class KimtoolsError(Exception):
    """Base of all errors kimtools reports to a person."""

    exit_code = 1

    def __init__(self, message_de: str, message_en: str | None = None):
        self.message_de = message_de
        self.message_en = message_en or message_de
        super().__init__(self.message())

    def message(self, lang: str | None = None) -> str:
        return self.message_en if (lang or current_lang()) == "en" else self.message_de


class UsageError(KimtoolsError):
    """The call itself is wrong (missing source, unknown option value)."""

    exit_code = 2


class StoreError(KimtoolsError):
    """The store cannot be opened or refuses a change."""


class DisclosureError(KimtoolsError):
    """Counts cannot be published safely; nothing was written."""


class BundleError(KimtoolsError):
    """A comparison bundle is malformed, altered or unsafe and is not used."""


class ImportValidationError(KimtoolsError):
    """An export breaks the contract. ``problems`` holds every violation at once.

    ``problems`` is a frame with the columns of :data:`kimtools.read.PROBLEM_COLUMNS`
    (file, table, row, column, value, reason in German and English).
    """

    def __init__(self, problems: "pd.DataFrame", source: str):
        self.problems = problems
        self.source = source
        n = len(problems)
        super().__init__(
            f"Der Export {source} verletzt das Exportformat an {n} Stelle(n); nichts wurde gespeichert.",
            f"The export {source} breaks the export format in {n} place(s); nothing was stored.",
        )
