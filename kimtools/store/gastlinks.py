"""Guest links to a meeting's view (``kimtools sitzung link NAME --gueltig-bis DATUM``): a member of the steering
committee without an account opens that meeting's view, and nothing else, until the day the link names.

A link's token is its content (the meeting, the last day, an ID) and an HMAC-SHA256 over it with a key that lies
beside the meeting states (``sitzungen/.gastschluessel``, owner-only, made at the first link). A changed token fails
the signature; an expired one its day; a revoked one the list of revoked IDs (``sitzungen/.widerrufen``). Nothing
about the guest is stored.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> token, ident = sign(folder, "LK-2026-12", dt.date(2026, 12, 31))
>>> verify(folder, token, dt.date(2026, 12, 31)) == ("LK-2026-12", dt.date(2026, 12, 31), ident)
True
>>> verify(folder, token, dt.date(2027, 1, 1)) is None     # the day after its last day
True
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from ..errors import InputError, from_os_error

__all__ = ["GUEST_PATH", "sign", "verify", "revoke", "KEY_FILE", "REVOKED_FILE"]

#: where a guest link leads on the server (``/kimtools/gast/<token>``)
GUEST_PATH = "kimtools/gast"
KEY_FILE, REVOKED_FILE = ".gastschluessel", ".widerrufen"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(folder: Path, create: bool) -> bytes | None:
    path = folder / KEY_FILE
    if not path.exists():
        if not create:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        except FileExistsError:
            pass
        except OSError as exc:
            raise from_os_error(exc, path, "den Schlüssel der Gastlinks anlegen", "create the guest links' key") from None
    return path.read_bytes()


def sign(folder: Path, meeting: str, until: dt.date) -> tuple[str, str]:
    """A guest link's token for ``meeting`` valid through ``until``, and its ID (for revoking)."""
    ident = secrets.token_hex(4)
    payload = _b64(json.dumps({"s": meeting, "b": until.isoformat(), "i": ident}, separators=(",", ":")).encode())
    mac = hmac.new(_key(folder, create=True), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}", ident


def verify(folder: Path, token: str, today: dt.date | None = None) -> tuple[str, dt.date, str] | None:
    """The meeting, last day and ID of a valid token; ``None`` for a changed, expired, revoked or malformed one (the
    guest learns no more than that the link does not open)."""
    key = _key(folder, create=False)
    if key is None or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    try:
        given = _unb64(mac)
    except ValueError:
        return None
    if not hmac.compare_digest(hmac.new(key, payload.encode(), hashlib.sha256).digest(), given):
        return None
    try:
        content = json.loads(_unb64(payload))
        until = dt.date.fromisoformat(content["b"])
        meeting, ident = str(content["s"]), str(content["i"])
    except (ValueError, KeyError, TypeError):
        return None
    if until < (today or dt.date.today()) or ident in _revoked(folder):
        return None
    return meeting, until, ident


def _revoked(folder: Path) -> set[str]:
    path = folder / REVOKED_FILE
    return set(path.read_text(encoding="utf-8").split()) if path.exists() else set()


def revoke(folder: Path, ident: str) -> None:
    """Revoke the link with ID ``ident``: it no longer opens, whatever its day."""
    if not ident or not all(c in "0123456789abcdef" for c in ident):
        raise InputError(f"{ident!r} ist keine ID eines Gastlinks (acht Zeichen 0–9, a–f, wie 'sitzung link' sie "
                         "nennt).", f"{ident!r} is no guest link's ID (eight characters 0–9, a–f, as 'meeting link' "
                         "names it).")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / REVOKED_FILE, "a", encoding="utf-8") as fh:
        fh.write(ident + "\n")
