"""Keyed pseudonyms for person identifiers (HMAC-SHA256).

The key comes from ``KIMTOOLS_KEY`` or from a key file in the user's
configuration directory (``~/.config/kimtools/pseudonym.key``, override with
``KIMTOOLS_KEY_FILE``), created with mode 0600 on first use. It never enters
the repository. The same ``person_id`` of the same kommune always gets the
same pseudonym under the same key; without the key a pseudonym cannot be
traced back.

Examples
--------
>>> import pandas as pd
>>> p = pseudonymise(pd.Series(["P1", "P1", "P2"]), pd.Series(["Herne"] * 3), key=b"k" * 32)
>>> p[0] == p[1], p[0] == p[2], len(p[0])
(True, False, 32)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from ..errors import KimtoolsError, from_os_error
from ..paths import config_dir

__all__ = ["load_key", "ensure_key", "key_file", "key_fingerprint", "key_location", "pseudonymise", "PSEUDONYM_LENGTH"]

PSEUDONYM_LENGTH = 32  # hex characters = 128 bits
#: what the fingerprint of a key is the keyed hash of: a fixed label, so that it tells keys apart and reveals none
_FINGERPRINT_LABEL = b"kimtools: Fingerabdruck des Pseudonymisierungsschluessels, Version 1"


def key_file() -> Path:
    env = os.environ.get("KIMTOOLS_KEY_FILE")
    return Path(env) if env else config_dir() / "pseudonym.key"


def key_location() -> str:
    """Where the key comes from, for messages: ``KIMTOOLS_KEY`` or the key file's path."""
    return "KIMTOOLS_KEY" if os.environ.get("KIMTOOLS_KEY") else str(key_file())


def key_fingerprint(key: bytes) -> str:
    """16 hex characters that tell keys apart: HMAC-SHA256 of a fixed label under ``key``. The store records it;
    it reveals nothing of the key and cannot be used to compute a pseudonym.

    >>> key_fingerprint(b"k" * 32) == key_fingerprint(b"k" * 32), key_fingerprint(b"k" * 32) == key_fingerprint(b"j" * 32)
    (True, False)
    """
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def load_key() -> bytes:
    """The pseudonymisation key: ``KIMTOOLS_KEY``, else the key file (created on first use)."""
    return ensure_key()[0]


def ensure_key(create: bool = True) -> tuple[bytes | None, bool]:
    """The key and whether it was created just now. Without ``create`` a missing key file gives ``(None, False)``."""
    env = os.environ.get("KIMTOOLS_KEY")
    if env:
        if len(env) < 16:
            raise KimtoolsError("KIMTOOLS_KEY ist zu kurz: mindestens 16 Zeichen, besser 64 Hex-Zeichen.",
                                "KIMTOOLS_KEY is too short: at least 16 characters, better 64 hex characters.")
        return env.encode("utf-8"), False
    path = key_file()
    created = False
    try:
        if not path.exists():
            if not create:
                return None, False
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            created = True
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise KimtoolsError(f"Die Schlüsseldatei {path} ist für andere lesbar (Modus {mode:o}); bitte 'chmod 600 {path}'.",
                                f"The key file {path} is readable by others (mode {mode:o}); run 'chmod 600 {path}'.")
        key = path.read_text().strip()
    except OSError as exc:
        raise from_os_error(exc, path, "den Pseudonymisierungsschlüssel lesen", "read the pseudonymisation key") from None
    if len(key) < 16:
        raise KimtoolsError(f"Die Schlüsseldatei {path} enthält keinen gültigen Schlüssel.",
                            f"The key file {path} holds no valid key.")
    return key.encode("utf-8"), created


def pseudonymise(person_ids: pd.Series, kommunen: pd.Series, key: bytes | None = None) -> pd.Series:
    """HMAC-SHA256 of ``kommune`` + ``person_id`` under ``key``, as 32 hex characters.

    The kommune is part of the message because source systems number persons
    per city: ``P1`` of Herne and ``P1`` of Bochum are different people. A provider
    delivery whose person keys are the provider's own passes ``kommune + "\x1f" + traeger``
    instead (:func:`~kimtools.ingest.read.read_export`): ``P1`` of two providers' own systems
    are two people, and a person with cases at both counts twice.
    """
    key = key if key is not None else load_key()
    base = hmac.new(key, digestmod=hashlib.sha256)
    out = []
    for kommune, pid in zip(kommunen.to_numpy(), person_ids.to_numpy()):
        h = base.copy()
        h.update(f"{kommune}\x1f{pid}".encode("utf-8"))
        out.append(h.hexdigest()[:PSEUDONYM_LENGTH])
    return pd.Series(out, index=person_ids.index, dtype=object)


def key_mismatch_text(lang: str, path: Path, stored: str, mine: str | None) -> str:
    """Why an import under another pseudonymisation key is refused, and how to restore the key."""

    where = key_location()
    env = where == "KIMTOOLS_KEY"
    if lang == "en":
        restore = ("set KIMTOOLS_KEY to the old key, or unset it to use the key file " + str(key_file()) if env else
                   f"copy the backup of the key file to {where} (mode 600) or set KIMTOOLS_KEY to the old key")
        return (f"The store {path} was pseudonymised with another key (fingerprint {stored}) than the one in force "
                f"now ({where}{', fingerprint ' + mine if mine else ', missing'}). Imported like this, every person would "
                f"get a new pseudonym and nobody would notice. Nothing was changed. Restore the key: {restore}. To start "
                "over on purpose (every kommune imported from now on gets new pseudonyms; logged): --new-key.")
    restore = ("KIMTOOLS_KEY auf den alten Schlüssel setzen, oder die Variable entfernen, um die Schlüsseldatei "
               f"{key_file()} zu verwenden" if env else
               f"die Sicherung der Schlüsseldatei nach {where} kopieren (Modus 600) oder KIMTOOLS_KEY auf den alten "
               "Schlüssel setzen")
    return (f"Der Datenbestand {path} wurde mit einem anderen Pseudonymisierungsschlüssel angelegt (Fingerabdruck "
            f"{stored}) als dem jetzt gültigen ({where}{', Fingerabdruck ' + mine if mine else ', fehlt'}). So importiert "
            f"bekäme jede Person unbemerkt ein neues Pseudonym. Nichts wurde geändert. Schlüssel wiederherstellen: "
            f"{restore}. Bewusst neu beginnen (jede ab jetzt importierte Kommune erhält neue Pseudonyme; wird "
            "protokolliert): --neuer-schluessel.")
