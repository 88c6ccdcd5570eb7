"""The exception tree of kimtools.

Every error a user can meet is a :class:`KimtoolsError` whose message names
what is wrong and how to fix it, German first with the English text kept in
``message_en``.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

from .i18n import tr

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["KimtoolsError", "ImportValidationError", "DecisionListError", "AccessError", "StoreError", "UsageError", "InputError", "DisclosureError", "BundleError",
           "DeliveryRefused", "from_os_error"]


class KimtoolsError(Exception):
    """Base of all errors kimtools reports to a person.

    >>> error = KimtoolsError("Die Datei fehlt.", "The file is missing.")
    >>> error.message(), error.message("en")
    ('Die Datei fehlt.', 'The file is missing.')
    """

    exit_code = 1

    def __init__(self, message_de: str, message_en: str | None = None):
        self.message_de = message_de
        self.message_en = message_en or message_de
        super().__init__(self.message())

    def message(self, lang: str | None = None) -> str:
        return tr((self.message_de, self.message_en), lang)


class UsageError(KimtoolsError):
    """The request itself is wrong: a missing argument, options or parameters that contradict each other, a value not
    of the option's or parameter's form. Exit status 2, as argparse's own.

    >>> import kimtools as kim
    >>> try:
    ...     kim.kennzahlen("Herne", quartal="2025-Q1", jahr=2025)
    ... except kim.UsageError as error:
    ...     print(error)
    Bitte nur eines von quartal, jahr, monat angeben.
    """

    exit_code = 2


class InputError(KimtoolsError):
    """A value or file given does not fit: a kommune, district or quarter the store does not hold, a file that is
    missing or not what it claims, a profile or commentary that cannot be used. Exit status 1 (bad input), like
    every refusal that leaves stored data as it was."""


class StoreError(KimtoolsError):
    """The store cannot be opened or refuses a change.

    >>> import kimtools as kim
    >>> try:
    ...     kim.kennzahlen(db="/nirgends/kim.duckdb")
    ... except kim.StoreError as error:
    ...     print(error)
    Unter /nirgends/kim.duckdb gibt es noch keinen Datenbestand. Erst einen Export importieren ('kimtools import ORDNER') oder die Demodaten bauen ('make demo').
    """


class AccessError(KimtoolsError):
    """A person asked for the data of a kommune she does not belong to (the scoped reader,
    :mod:`kimtools.store.scope`); nothing was read."""


class DisclosureError(KimtoolsError):
    """Counts cannot be published safely; nothing was written."""


class BundleError(KimtoolsError):
    """A comparison bundle is malformed, altered or unsafe and is not used."""


class ImportValidationError(KimtoolsError):
    """An export breaks the contract. ``problems`` holds every violation at once.

    ``problems`` is a frame with the columns of :data:`kimtools.ingest.read.PROBLEM_COLUMNS`
    (file, table, row, column, value, reason in German and English).

    >>> import pandas as pd
    >>> problems = pd.DataFrame({"datei": ["faelle.csv"], "zeile": [4], "spalte": ["beginn"], "wert": ["31.02.2024"],
    ...                          "grund_de": ["kein Datum"], "grund_en": ["not a date"]})
    >>> error = ImportValidationError(problems, "export/")
    >>> error.problems[["zeile", "spalte", "wert"]].values.tolist()   # every problem, with row, column and value
    [[4, 'beginn', '31.02.2024']]
    """

    def __init__(self, problems: "pd.DataFrame", source: str):
        self.problems = problems
        self.source = source
        n = len(problems)
        super().__init__(
            f"Der Export {source} verletzt das Exportformat an {n} Stelle(n); nichts wurde gespeichert.",
            f"The export {source} breaks the export format in {n} place(s); nothing was stored.",
        )


class DecisionListError(ImportValidationError):
    """A Beschlussliste breaks its contract (``docs/beschlussliste.md``); ``problems`` as for an export. Nothing was
    stored."""

    def __init__(self, problems: "pd.DataFrame", source: str):
        self.problems = problems
        self.source = source
        n = len(problems)
        KimtoolsError.__init__(
            self, f"Die Beschlussliste {source} hat {n} Problem(e); nichts wurde gespeichert, die bisherigen Beschlüsse "
                  "gelten weiter.",
            f"The list of decisions {source} has {n} problem(s); nothing was stored, the decisions stored before stay.")


class DeliveryRefused(StoreError):
    """A delivery would make stored figures shrink sharply (or looks cut off); nothing was stored.

    ``findings`` is the frame of :func:`kimtools.ingest.delivery.delivery_findings` (every finding, German and English).
    """

    def __init__(self, findings: "pd.DataFrame", summary_de: str, summary_en: str):
        self.findings = findings
        super().__init__(summary_de, summary_en)


#: what an operating-system error means for a person, by errno: (German, English), with {path}
_OS_REASONS = {
    errno.ENOSPC: ("auf dem Datenträger ist kein Platz mehr", "the disk is full"),
    errno.EDQUOT: ("das Speicherkontingent ist erschöpft", "the disk quota is exhausted"),
    errno.EACCES: ("keine Berechtigung (Rechte der Datei oder des Ordners prüfen)",
                   "permission denied (check the rights of the file or folder)"),
    errno.EPERM: ("keine Berechtigung (Rechte der Datei oder des Ordners prüfen)",
                  "permission denied (check the rights of the file or folder)"),
    errno.EROFS: ("der Datenträger ist schreibgeschützt", "the disk is read-only"),
    errno.ENOENT: ("die Datei oder der Ordner existiert nicht", "the file or folder does not exist"),
    errno.ENOTDIR: ("ein Teil des Pfades ist kein Ordner", "part of the path is not a folder"),
    errno.EISDIR: ("das ist ein Ordner, erwartet wird eine Datei", "that is a folder, a file is expected"),
    errno.ENAMETOOLONG: ("der Pfad ist zu lang", "the path is too long"),
    errno.EIO: ("Lesefehler des Datenträgers", "the disk reported an input/output error"),
}


def from_os_error(exc: OSError, path: str | Path | None = None, doing_de: str = "", doing_en: str = "") -> KimtoolsError:
    """A :class:`KimtoolsError` naming ``path`` (else the error's own file) and what the error means.

    >>> e = from_os_error(OSError(errno.ENOSPC, "No space left on device"), "/data/kim.duckdb", "speichern", "store")
    >>> e.message("de")
    '/data/kim.duckdb: speichern ging nicht – auf dem Datenträger ist kein Platz mehr. Nichts wurde geändert.'
    """
    where = str(path or exc.filename or "")
    de, en = _OS_REASONS.get(exc.errno, (exc.strerror or type(exc).__name__, exc.strerror or type(exc).__name__))
    what_de = f"{doing_de} ging nicht – " if doing_de else ""
    what_en = f"could not {doing_en} – " if doing_en else ""
    return KimtoolsError(f"{where}: {what_de}{de}. Nichts wurde geändert.", f"{where}: {what_en}{en}. Nothing was changed.")
