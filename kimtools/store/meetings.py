"""Frozen meeting states (``kimtools sitzung``): what a steering committee will see, kept as it was when the papers
went out, whatever is imported later.

A meeting state is a folder ``sitzungen/NAME/`` beside the store: a read-only copy of the store
(``datenbestand.duckdb``, mode 0400, copied under the writer lock so that no import is half in it), its
description (``sitzung.toml``: name, when frozen, kommune and quarter if given, data end) and the coordinators'
commentary (``kommentar.toml``, a text per part of the Lenkungskreis page, written by the coordinators).
``kimtools serve --sitzung NAME`` and ``kimtools report --lenkungskreis --sitzung NAME`` read the copy; every page
and printout of a copy names it (:func:`meeting_of`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import tomlkit

from ..errors import StoreError, UsageError, from_os_error
from ..periods import period_bounds
from . import Store

__all__ = ["MEETINGS_FOLDER", "PARTS", "Meeting", "freeze", "meetings", "meeting", "remove", "meeting_of",
           "meetings_folder", "commentary", "write_commentary", "COMMENT_LIMIT"]

MEETINGS_FOLDER = "sitzungen"
_STORE, _ABOUT, _COMMENTARY, _VIEWS = "datenbestand.duckdb", "sitzung.toml", "kommentar.toml", "ansicht"
_NAME = re.compile(r"^[\w\-.]{1,60}$")
#: at most so many characters per part of the commentary: two or three sentences, and the printout with every
#: part commented stays on two pages (checked with the largest demo city, tests/test_meetings.py)
COMMENT_LIMIT = 300
#: the parts of the Lenkungskreis page the coordinators comment on: key in ``kommentar.toml`` → (the page's part,
#: German heading)
PARTS = {"trend": ("trend", "Verlauf"), "bezirke": ("reach", "Stadtbezirke bzw. Gemeinden"), "vermittlungen": ("funnel", "Vermittlungen"),
         "luecken": ("gaps", "Angebotslücken"), "status": ("status", "Aufenthaltsstatus")}


@dataclass(frozen=True)
class Meeting:
    name: str
    folder: Path
    frozen: dt.datetime
    kommune: str | None
    quartal: str | None
    datenende: dt.date | None

    @property
    def store(self) -> Store:
        return Store(self.folder / _STORE)

    @property
    def views_folder(self) -> Path:
        """The first views of the Lenkungskreis page drawn when it was frozen (:func:`kimtools.present.report.write_meeting_views`)."""
        return self.folder / _VIEWS

    @property
    def commentary_path(self) -> Path:
        return self.folder / _COMMENTARY


def meetings_folder(store: Store) -> Path:
    """Where ``store``'s meeting states lie: ``sitzungen/`` beside it."""
    return store.path.parent / MEETINGS_FOLDER


def freeze(store: Store, name: str, kommune: str | None = None, quartal: str | None = None) -> Meeting:
    """Freeze the store as the meeting state ``name`` (refused if it exists: remove it first)."""
    if not _NAME.match(name or ""):
        raise UsageError(f"Sitzungsname {name!r}: bitte nur Buchstaben, Ziffern, '-', '_' und '.' (höchstens 60 "
                         "Zeichen), z. B. LK-2026-12.", f"Meeting name {name!r}: letters, digits, '-', '_' and '.' "
                         "only (at most 60 characters), e.g. LK-2026-12.")
    kommunen = store.kommunen()   # also: a clear message if there is no store
    if kommune is not None and kommune not in kommunen:
        raise UsageError(f"{kommune} ist nicht im Datenbestand; dort sind: {', '.join(kommunen)}.",
                         f"{kommune} is not in the store; it holds: {', '.join(kommunen)}.")
    if quartal is not None:
        period_bounds(quartal)   # a clear message for a quarter that is none
    folder = meetings_folder(store) / name
    if folder.exists():
        raise UsageError(f"Den Sitzungsstand {name} gibt es schon ({folder}); erst entfernen "
                         f"('kimtools sitzung entfernen {name}') oder einen anderen Namen wählen.",
                         f"The meeting state {name} exists already ({folder}); remove it first "
                         f"('kimtools sitzung entfernen {name}') or choose another name.")
    info = store.info()
    mine = info if kommune is None else info.loc[info["kommune"] == kommune]
    end = pd.Timestamp(mine["daten_bis"].max()).date() if len(mine) and mine["daten_bis"].notna().any() else None
    now = dt.datetime.now().replace(microsecond=0)
    tmp = folder.with_name(f".{name}.tmp")
    try:
        with store.writing(keep_leftovers=True):   # no import between the copy's first and last byte
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True, mode=0o700)
            shutil.copyfile(store.path, tmp / _STORE)
            os.chmod(tmp / _STORE, 0o400)
            about = {"name": name, "eingefroren": now, "kommune": kommune or "", "quartal": quartal or "",
                     "datenende": end or "",
                     "quelle": str(store.path)}
            (tmp / _ABOUT).write_text(tomlkit.dumps(about), encoding="utf-8")
            (tmp / _COMMENTARY).write_text(_commentary_text(name), encoding="utf-8")
            os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise from_os_error(exc, folder, "den Sitzungsstand anlegen", "create the meeting state") from None
    return meeting(store, name)


def _commentary_text(name: str, texts: dict[str, str] | None = None) -> str:
    """``kommentar.toml``: how to write it, then a line per part (``texts`` by the keys of :data:`PARTS`)."""
    texts = texts or {}
    lines = [f"# Einschätzung der KIM-Koordination zum Sitzungsstand {name}.",
             "# Je Teil der Lenkungskreis-Seite ein kurzer Text; er erscheint unter dem Teil, auf der Seite und im",
             "# Ausdruck, als Einschätzung der Koordination gekennzeichnet. Leer lassen, wo nichts zu sagen ist.",
             f"# Höchstens {COMMENT_LIMIT} Zeichen je Teil (zwei, drei Sätze): so bleibt der Ausdruck auf einem Blatt.", ""]
    lines += [f'{key} = {tomlkit.string(texts.get(key, "")).as_string()}   # {heading}' for key, (_part, heading) in PARTS.items()]
    return "\n".join(lines) + "\n"


def meetings(store: Store) -> list[Meeting]:
    """Every meeting state of ``store``, oldest first."""
    folder = meetings_folder(store)
    found = [_read(p) for p in sorted(folder.iterdir()) if (p / _ABOUT).exists()] if folder.is_dir() else []
    return sorted(found, key=lambda m: m.frozen)


def meeting(store: Store, name: str) -> Meeting:
    """The meeting state ``name`` of ``store``."""
    folder = meetings_folder(store) / name
    if not _NAME.match(name or "") or not (folder / _ABOUT).exists():
        known = ", ".join(m.name for m in meetings(store)) or "keine"
        raise UsageError(f"Einen Sitzungsstand {name!r} gibt es nicht (vorhanden: {known}).",
                         f"There is no meeting state {name!r} (present: {known}).")
    return _read(folder)


def _read(folder: Path) -> Meeting:
    try:
        about = tomlkit.parse((folder / _ABOUT).read_text(encoding="utf-8")).unwrap()
    except (OSError, ValueError) as exc:
        raise StoreError(f"Der Sitzungsstand in {folder} ist unlesbar ({exc}).",
                         f"The meeting state in {folder} cannot be read ({exc}).") from None
    end = about.get("datenende") or None
    return Meeting(about["name"], folder, about["eingefroren"], about.get("kommune") or None,
                   about.get("quartal") or None, end)


def commentary(found: Meeting) -> dict[str, str]:
    """The coordinators' texts by the page's part (``trend``, ``reach``, ``funnel``, ``gaps``, ``status``); empty
    texts left out."""
    path = found.commentary_path
    if not path.exists():
        return {}
    try:
        texts = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except (OSError, ValueError) as exc:   # tomlkit's ParseError is a ValueError
        raise UsageError(f"Der Kommentar {path} ist kein gültiges TOML ({exc}); bitte die Stelle korrigieren.",
                         f"The commentary {path} is not valid TOML ({exc}); please fix that place.") from None
    return {PARTS[k][0]: v for k, v in _checked(texts, path).items() if v}


def write_commentary(found: Meeting, texts: dict[str, str]) -> None:
    """Keep the coordinators' texts (by the keys of :data:`PARTS`, as in ``kommentar.toml``; parts left out stay
    empty) with the meeting state, as a notebook's editor does (:class:`kimtools.panels.CommentaryEditor`);
    refused, the file unchanged, for an unknown part or a text over :data:`COMMENT_LIMIT` characters."""
    path = found.commentary_path
    checked = _checked(texts, path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(_commentary_text(found.name, checked), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise from_os_error(exc, path, "die Einschätzung speichern", "save the assessment") from None


def _checked(texts: dict, path: Path) -> dict[str, str]:
    """The texts trimmed; refused for an unknown part or one longer than :data:`COMMENT_LIMIT`."""
    unknown = set(texts) - set(PARTS)
    if unknown:
        raise UsageError(f"Der Kommentar {path} nennt unbekannte Teile: {', '.join(sorted(unknown))} (erlaubt: "
                         f"{', '.join(PARTS)}).", f"The commentary {path} names unknown parts: "
                         f"{', '.join(sorted(unknown))} (allowed: {', '.join(PARTS)}).")
    texts = {k: str(v).strip() for k, v in texts.items()}
    long = {k: len(v) for k, v in texts.items() if len(v) > COMMENT_LIMIT}
    if long:
        which = ", ".join(f"{k} ({n} Zeichen)" for k, n in long.items())
        raise UsageError(f"Der Kommentar {path}: höchstens {COMMENT_LIMIT} Zeichen je Teil, damit der Ausdruck auf "
                         f"ein Blatt (Vorder- und Rückseite) passt; zu lang: {which}. Bitte kürzen.",
                         f"The commentary {path}: at most {COMMENT_LIMIT} characters per part, so that the printout fits "
                         f"on one sheet (both sides); too long: {which.replace('Zeichen', 'characters')}. Please shorten.")
    return texts


def remove(store: Store, name: str) -> Meeting:
    """Remove the meeting state ``name`` (its copy, description and commentary)."""
    found = meeting(store, name)
    os.chmod(found.folder / _STORE, 0o600)
    shutil.rmtree(found.folder)
    return found


def meeting_of(store: Store) -> Meeting | None:
    """The meeting state ``store`` is the copy of, or ``None`` for a live store."""
    folder = store.path.parent
    if store.path.name != _STORE or folder.parent.name != MEETINGS_FOLDER or not (folder / _ABOUT).exists():
        return None
    return _read(folder)
