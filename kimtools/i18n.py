"""Language selection: German by default, English with ``KIMTOOLS_LANG=en`` or ``set_lang('en')``.

Examples
--------
>>> tr({"de": "Fälle", "en": "cases"}, lang="en")
'cases'
>>> fmt_number(1234.5, 1)
'1.234,5'
>>> fmt_date("2024-12-31")
'31.12.2024'
"""

from __future__ import annotations

import datetime as dt
import os

__all__ = ["current_lang", "set_lang", "tr", "fmt_number", "fmt_date", "LANGS"]

LANGS = ("de", "en")
_override: str | None = None


def current_lang() -> str:
    """The language in force: ``set_lang`` beats ``KIMTOOLS_LANG``, which beats German."""
    if _override:
        return _override
    env = os.environ.get("KIMTOOLS_LANG", "de").strip().lower()[:2]
    return env if env in LANGS else "de"


def set_lang(lang: str | None) -> None:
    """Set the language for this process (``None`` returns to ``KIMTOOLS_LANG``)."""
    global _override
    if lang is not None and lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    _override = lang


def tr(texts: dict[str, str], lang: str | None = None) -> str:
    """Pick the text of the current language from ``{'de': …, 'en': …}``."""
    return texts[lang or current_lang()]


def fmt_number(value: float | int | None, decimals: int = 0, lang: str | None = None) -> str:
    """Format a number the German way (``1.234,5``) unless English is selected."""
    if value is None or value != value:  # None or NaN
        return "–"
    text = f"{value:,.{decimals}f}"
    if (lang or current_lang()) == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_date(value: dt.date | str | None, lang: str | None = None) -> str:
    """Format a date as ``31.12.2024`` (German) or ``2024-12-31`` (English)."""
    if value is None or value != value:
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if (lang or current_lang()) == "de":
        return value.strftime("%d.%m.%Y")
    return value.isoformat()
