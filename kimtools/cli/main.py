"""``kimtools``: parse the command line, run the command's handler, and turn every failure into a message and an
exit status, never a traceback. A command's module (and with it the stages it needs) is loaded only when it runs."""

from __future__ import annotations

import importlib
import os
import sys
import unicodedata
from pathlib import Path

import duckdb

from ..contract.catalogue import check as check_catalogue
from ..errors import KimtoolsError, from_os_error
from ..i18n import set_lang
from ..store import Store, default_db_path, is_damage, unreadable
from .common import say, t
from .parser import build_parser

__all__ = ["main", "COMMANDS"]


#: each command's handler by its German name (the English names are aliases): the module of this package and
#: its function, loaded when the command runs
COMMANDS = {"import": ("importing", "cmd_import"), "profil": ("importing", "cmd_profil"),
            "bezirke": ("importing", "cmd_bezirke"), "demo": ("importing", "cmd_demo"),
            "info": ("stored", "cmd_info"), "loeschen": ("stored", "cmd_loeschen"),
            "zugriffe": ("stored", "cmd_zugriffe"),
            "kennzahlen": ("tables", "cmd_indicators"), "luecken": ("tables", "cmd_luecken"),
            "export": ("exchange", "cmd_export"), "vergleichen": ("exchange", "cmd_compare"),
            "bericht": ("reports", "cmd_report"), "sitzung": ("reports", "cmd_sitzung"),
            "jahresbericht": ("annual", "cmd_jahresbericht"), "beschluesse": ("decisions", "cmd_beschluesse"),
            "hub": ("hub", "cmd_hub"),
            "zeigen": ("serve", "cmd_serve"), "vorbereiten": ("serve", "cmd_vorbereiten")}


def _clear_leftovers(db: str | None) -> None:
    """Before any command on a store: remove the copies that killed imports left beside it (and say so)."""
    for leftover in Store(db).clear_leftovers():
        say(f"Hinweis: Reste eines abgebrochenen Imports entfernt: {leftover}",
            f"Note: leftovers of an interrupted import removed: {leftover}", file=sys.stderr)


def _pre_lang(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in ("de", "en") else None
        if a.startswith("--lang="):
            v = a.split("=", 1)[1]
            return v if v in ("de", "en") else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every failure reaches the user as a message (German, or English with ``--lang en``) and
    an exit status, never as a traceback: a traceback can show data. ``KIMTOOLS_DEBUG=1`` lets unexpected
    errors through, for developers. Every file the command creates is readable by its owner only."""
    # names typed or pasted in decomposed form (NFD, as macOS and some exports write umlauts) compare as composed
    argv = [unicodedata.normalize("NFC", a) for a in (sys.argv[1:] if argv is None else argv)]
    set_lang(_pre_lang(argv))
    umask = os.umask(0o077)
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        check_catalogue()   # the installation's own indicators and target groups: all their problems, before anything
        if hasattr(args, "db"):
            _clear_leftovers(args.db)
        module, function = COMMANDS[args.command]
        handler = getattr(importlib.import_module(f".{module}", __package__), function)
        return handler(args)
    except KimtoolsError as exc:
        print(f"{t('error').capitalize()}: {exc.message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        say("Abgebrochen; ein unterbrochener Import hat nichts geändert.", "Interrupted; an interrupted import changed nothing.",
            file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"{t('error').capitalize()}: {from_os_error(exc).message()}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        if not is_damage(exc):
            return _unexpected(exc)
        db = getattr(args, "db", None)
        print(f"{t('error').capitalize()}: {unreadable(Path(db) if db else default_db_path(), exc).message()}",
              file=sys.stderr)
        return 1
    except MemoryError:
        say("Fehler: zu wenig Arbeitsspeicher für diesen Befehl. Nichts wurde geändert.",
            "Error: not enough memory for this command. Nothing was changed.", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a traceback
        return _unexpected(exc)
    finally:
        os.umask(umask)
        set_lang(None)


def _unexpected(exc: Exception) -> int:
    """An error kimtools did not foresee: a message without a traceback (it could show data), exit 1."""
    if os.environ.get("KIMTOOLS_DEBUG"):
        raise exc
    say(f"Fehler: unerwarteter Fehler ({type(exc).__name__}) – das ist ein Fehler in kimtools, bitte mit dem "
        "Befehl melden. Gespeicherte Daten wurden nicht verändert. Einzelheiten für Entwickler: mit "
        "KIMTOOLS_DEBUG=1 erneut aufrufen.",
        f"Error: unexpected error ({type(exc).__name__}) – this is a bug in kimtools, please report it with the "
        "command. Stored data was not changed. Details for developers: run again with KIMTOOLS_DEBUG=1.",
        file=sys.stderr)
    return 1
