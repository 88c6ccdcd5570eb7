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
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import tomlkit

from ..errors import InputError, StoreError, from_os_error
from ..i18n import fmt_date
from ..paths import inside, safe_name
from ..periods import QUARTER, period_bounds
from . import Store

__all__ = ["MEETINGS_FOLDER", "PARTS", "Meeting", "freeze", "meetings", "meeting", "remove", "meeting_of",
           "meetings_folder", "commentary", "write_commentary", "COMMENT_LIMIT"]

MEETINGS_FOLDER = "sitzungen"
_STORE, _ABOUT, _COMMENTARY, _VIEWS = "datenbestand.duckdb", "sitzung.toml", "kommentar.toml", "ansicht"
#: at most so many characters per part of the commentary: two or three sentences, and the printout with every
#: part commented stays on two pages (checked with the largest demo city, tests/test_meetings.py)
COMMENT_LIMIT = 300
#: the parts of the Lenkungskreis page the coordinators comment on: key in ``kommentar.toml`` → (the page's part,
#: German heading)
PARTS = {"trend": ("trend", "Verlauf"), "bezirke": ("reach", "Stadtbezirke bzw. Gemeinden"), "vermittlungen": ("funnel", "Vermittlungen"),
         "luecken": ("gaps", "Angebotslücken"), "beschluesse": ("decisions", "Beschlüsse und ihre Wirkung"),
         "status": ("status", "Aufenthaltsstatus")}


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
    name = _name(name)
    kommunen = store.kommunen()   # also: a clear message if there is no store
    if kommune is not None and kommune not in kommunen:
        raise InputError(f"{kommune} ist nicht im Datenbestand; dort sind: {', '.join(kommunen)}.",
                         f"{kommune} is not in the store; it holds: {', '.join(kommunen)}.")
    folder = inside(meetings_folder(store), name)
    if folder.exists() or folder.is_symlink():
        raise InputError(f"Den Sitzungsstand {name} gibt es schon ({folder}); erst entfernen "
                         f"('kimtools sitzung entfernen {name}') oder einen anderen Namen wählen.",
                         f"The meeting state {name} exists already ({folder}); remove it first "
                         f"('kimtools sitzung entfernen {name}') or choose another name.")
    info = store.info()
    mine = info if kommune is None else info.loc[info["kommune"] == kommune]
    end = pd.Timestamp(mine["daten_bis"].max()).date() if len(mine) and mine["daten_bis"].notna().any() else None
    if quartal is not None:
        _check_quarter(quartal, pd.Timestamp(mine["daten_von"].min()).date() if end else None, end,
                       kommune or ", ".join(kommunen))
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


def _check_quarter(quartal: str, start: dt.date | None, end: dt.date | None, whose: str) -> None:
    """A meeting's quarter: a quarter (``2026-Q3``) that the data reach into."""
    if not QUARTER.match(quartal):
        raise InputError(f"Quartal {quartal!r}: erwartet ein Quartal wie 2026-Q3.",
                         f"Quarter {quartal!r}: expected a quarter such as 2026-Q3.")
    first, last = period_bounds(quartal)
    if start is None or first > end or last < start:
        within = f"{fmt_date(start)} bis {fmt_date(end)}" if start else "keine Daten"
        within_en = f"{fmt_date(start, 'en')} to {fmt_date(end, 'en')}" if start else "no data"
        raise InputError(f"Quartal {quartal}: die Daten von {whose} reichen nicht in dieses Quartal ({within}). "
                         "Bitte ein Quartal innerhalb der Daten wählen.",
                         f"Quarter {quartal}: the data of {whose} do not reach into this quarter ({within_en}). "
                         "Please choose a quarter within the data.")


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
    name = _name(name)
    folder = inside(meetings_folder(store), name)
    if not (folder / _ABOUT).is_file():
        known = ", ".join(m.name for m in meetings(store)) or "keine"
        raise InputError(f"Einen Sitzungsstand {name!r} gibt es nicht (vorhanden: {known}).",
                         f"There is no meeting state {name!r} (present: {known}).")
    found = _read(folder)
    if found.name != name:   # the marker names the folder it was written into
        raise InputError(f"{folder} ist kein Sitzungsstand {name!r} (seine Beschreibung nennt {found.name!r}); nichts "
                         "wurde geändert.", f"{folder} is no meeting state {name!r} (its description names "
                         f"{found.name!r}); nothing was changed.")
    return found


def _name(name: str | None) -> str:
    return safe_name(name, ("Sitzungsname", "meeting name"), "LK-2026-12")


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
        raise InputError(f"Der Kommentar {path} ist kein gültiges TOML ({exc}); bitte die Stelle korrigieren.",
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
    """The texts trimmed; refused, naming every fault at once, for an unknown part, a value that is no text, or a
    text longer than :data:`COMMENT_LIMIT`."""
    unknown = sorted(set(texts) - set(PARTS))
    not_text = {k: v for k, v in texts.items() if k in PARTS and not isinstance(v, str)}
    trimmed = {k: v.strip() for k, v in texts.items() if k in PARTS and isinstance(v, str)}
    long = {k: len(v) for k, v in trimmed.items() if len(v) > COMMENT_LIMIT}
    faults = []
    if unknown:
        faults.append((f"unbekannte Teile: {', '.join(unknown)} (erlaubt: {', '.join(PARTS)})",
                       f"unknown parts: {', '.join(unknown)} (allowed: {', '.join(PARTS)})"))
    if not_text:
        which = ", ".join(f"{k} = {v!r}" for k, v in not_text.items())
        faults.append((f"jeder Teil ist ein Text in Anführungszeichen (z. B. trend = \"Zugänge steigen.\"); kein Text: "
                       f"{which}", f"each part is a text in quotes (e.g. trend = \"Intake rises.\"); not a text: {which}"))
    if long:
        faults.append((f"höchstens {COMMENT_LIMIT} Zeichen je Teil, damit der Ausdruck auf ein Blatt (Vorder- und "
                       f"Rückseite) passt; zu lang: {', '.join(f'{k} ({n} Zeichen)' for k, n in long.items())}. Bitte kürzen",
                       f"at most {COMMENT_LIMIT} characters per part, so that the printout fits on one sheet (both sides); "
                       f"too long: {', '.join(f'{k} ({n} characters)' for k, n in long.items())}. Please shorten"))
    if faults:
        raise InputError(f"Der Kommentar {path}: " + "; ".join(de for de, _ in faults) + ".",
                         f"The commentary {path}: " + "; ".join(en for _, en in faults) + ".")
    return trimmed


def remove(store: Store, name: str) -> Meeting:
    """Remove the meeting state ``name`` (its copy, description and commentary)."""
    found = meeting(store, name)   # a folder directly in sitzungen/ whose own description names it, no link
    if found.folder.is_symlink() or not (found.folder / _STORE).is_file():
        raise InputError(f"{found.folder} ist kein vollständiger Sitzungsstand; er wird nicht entfernt. Bitte von Hand "
                         "prüfen.", f"{found.folder} is not a complete meeting state; it is not removed. Please check by "
                         "hand.")
    try:
        os.chmod(found.folder / _STORE, 0o600)
        shutil.rmtree(found.folder)
    except OSError as exc:
        raise from_os_error(exc, found.folder, "den Sitzungsstand entfernen", "remove the meeting state") from None
    return found


def meeting_of(store: Store) -> Meeting | None:
    """The meeting state ``store`` is the copy of, or ``None`` for a live store."""
    folder = store.path.parent
    if store.path.name != _STORE or folder.parent.name != MEETINGS_FOLDER or not (folder / _ABOUT).exists():
        return None
    return _read(folder)
