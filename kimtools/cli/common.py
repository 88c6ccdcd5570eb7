"""What every command shares: the help's words (German and English, from ``cli_help.toml``), argparse with German
messages, and the lines and tables a command prints, the output files and folders it makes, the kommune it is about."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tomllib
from pathlib import Path

from ..errors import InputError, UsageError, from_os_error
from ..i18n import current_lang, tr
from ..periods import parse_day

__all__ = ["WORDS", "t", "command_parser", "say", "key_note", "out_file", "out_dir", "print_table", "kommune_of",
           "batch_summary", "day_option"]


#: every subcommand's and option's help, German and English, from ``cli_help.toml``
WORDS: dict[str, tuple[str, str]] = {key: tuple(words) for key, words in tomllib.loads(
    (Path(__file__).parent / "cli_help.toml").read_text(encoding="utf-8")).items()}


def t(key: str) -> str:
    return tr(WORDS[key])


#: argparse's own messages (English whatever the locale) in German: pattern → replacement
_ARGPARSE_DE = [
    (r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", r"Angabe \1: ungültige Wahl: \2 (möglich: \3)"),
    (r"argument (\S+): invalid int value: (.+)", r"Angabe \1: \2 ist keine gültige Angabe (erwartet: ganze Zahl)"),
    (r"argument (\S+): invalid (\w+) value: (.+)", r"Angabe \1: \3 ist keine gültige Angabe (erwartet: \2)"),
    (r"argument (\S+): expected one argument", r"Angabe \1: erwartet einen Wert"),
    (r"argument (\S+): expected at least one argument", r"Angabe \1: erwartet mindestens einen Wert"),
    (r"argument (\S+): ignored explicit argument (.+)", r"Angabe \1: \2 wird hier nicht erwartet"),
    (r"argument (\S+): not allowed with argument (.+)", r"Angabe \1: nicht zusammen mit \2"),
    (r"the following arguments are required: (.+)", r"diese Angaben fehlen: \1"),
    (r"unrecognized arguments: (.+)", r"unbekannte Angaben: \1"),
    (r"ambiguous option: (\S+) could match (.+)", r"mehrdeutige Option \1, passt zu \2"),
]


def _german(message: str) -> str:
    """An argparse message in German (unknown ones stay as they are).

    >>> _german("argument --by: invalid choice: 'foo' (choose from 'kommune', 'stadtbezirk')")
    "Angabe --by: ungültige Wahl: 'foo' (möglich: 'kommune', 'stadtbezirk')"
    >>> _german("argument --port: invalid int value: 'x'")
    "Angabe --port: 'x' ist keine gültige Angabe (erwartet: ganze Zahl)"
    """
    for pattern, replacement in _ARGPARSE_DE:
        message = re.sub(pattern, replacement, message)
    return message


class GermanParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # German, exit 2 as argparse does
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {t('error')}: {_german(message) if current_lang() == 'de' else message}\n")


class GermanFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, t("usage") if prefix is None else prefix)


def command_parser(*args, **kw) -> GermanParser:
    p = GermanParser(*args, formatter_class=GermanFormatter, add_help=False, **kw)
    p._positionals.title = t("pos")
    p._optionals.title = t("opt")
    p.add_argument("-h", "--help", action="help", help=t("help"))
    p.add_argument("--lang", choices=["de", "en"], help=t("lang"))
    return p


def say(de: str, en: str, file=None) -> None:
    print(tr((de, en)), file=file or sys.stdout)


def key_note(created: str | None) -> None:
    if created:
        say(f"Neuer Pseudonymisierungsschlüssel angelegt: {created}. Bitte sicher aufbewahren (Sicherung getrennt "
            "vom Datenbestand): ohne ihn erhalten dieselben Personen beim nächsten Import andere Pseudonyme.",
            f"New pseudonymisation key created: {created}. Keep it safe (backed up apart from the store): without it "
            "the same persons get other pseudonyms at the next import.", file=sys.stderr)


def out_file(path: str | Path) -> Path:
    """An output file's path, its folder created (and said so) if missing."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} ist ein Ordner; bitte einen Dateinamen angeben.", f"{path} is a folder; please give a file name.")
    out_dir(path.parent)
    return path


def out_dir(path: str | Path) -> Path:
    """An output folder, created (and said so) if missing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} ist eine Datei, erwartet wird ein Ordner.", f"{path} is a file, a folder is expected.")
    if not path.exists():
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise from_os_error(exc, path, "den Ordner anlegen", "create the folder") from None
        say(f"Ordner {path} angelegt.", f"Folder {path} created.", file=sys.stderr)
    return path


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    for i, line in enumerate([headers] + rows):
        print("  ".join(str(v).ljust(w) if j == 0 else str(v).rjust(w) for j, (v, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def kommune_of(store, name: str | None) -> str:
    """The kommune a command is about: the one named, or the only one in the store."""
    kommunen = store.kommunen()
    if name is None and len(kommunen) == 1:
        return kommunen[0]
    if name not in kommunen:
        given = f"{name!r} ist nicht im Datenbestand. " if name else ""
        given_en = f"{name!r} is not in the store. " if name else ""
        raise InputError(f"{given}Bitte mit --kommune eine der Kommunen im Datenbestand wählen: {', '.join(kommunen)}.",
                         f"{given_en}Please choose one of the kommunen in the store with --kommune: {', '.join(kommunen)}.")
    return name


def batch_summary(table, one: tuple[str, str], many: tuple[str, str], out: str) -> int:
    """Report a batch (one row per kommune, ``fehler`` empty when done): each failure, then the count."""
    for r in table.itertuples():
        if r.fehler:
            say(f"{r.kommune}: kein {one[0]} – {r.fehler}", f"{r.kommune}: no {one[1]} – {r.fehler}", file=sys.stderr)
    done = int((table["fehler"] == "").sum())
    say(f"{done} von {len(table)} {many[0]} geschrieben nach {out}", f"{done} of {len(table)} {many[1]} written to {out}")
    return 0 if done == len(table) else 1


def day_option(value: str, flag: str, flag_en: str) -> dt.date:
    """A day given on the command line as TT.MM.JJJJ (or YYYY-MM-DD); a clear message naming the option otherwise.

    >>> day_option("31.12.2026", "--gueltig-bis", "--valid-until")
    datetime.date(2026, 12, 31)
    """
    return parse_day(value, flag, flag_en)
