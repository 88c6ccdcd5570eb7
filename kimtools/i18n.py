"""Language selection: German by default, English with ``KIMTOOLS_LANG=en`` or ``set_lang('en')``.

Examples
--------
>>> tr({"de": "Fälle", "en": "cases"}, lang="en")
'cases'
>>> fmt_number(1234.5, 1)
'1.234,5'
>>> fmt_date("2024-12-31")
'31.12.2024'
>>> fmt_percent(0.256, 1)
'25,6\xa0%'
>>> fmt_number(1234.5, 1, lang="en"), fmt_percent(0.256, 1, lang="en"), fmt_date("2024-12-31", lang="en")
('1,234.5', '25.6%', '31 Dec 2024')

Numbers, percentages and dates come from Babel (CLDR data for ``de_DE`` and ``en_GB``): rounding half to even,
a no-break space before ``%`` in German.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Mapping

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

__all__ = ["current_lang", "set_lang", "tr", "fmt_number", "fmt_percent", "fmt_date", "fmt_datetime", "plotly_separators", "locale_of", "LANGS"]

LANGS = ("de", "en")
#: the Babel locale of each language
LOCALES = {"de": "de_DE", "en": "en_GB"}
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


def tr(texts: Mapping[str, str] | tuple[str, str], lang: str | None = None) -> str:
    """The text of the current language (or ``lang``) from ``{'de': …, 'en': …}`` or a pair ``(de, en)``: the one
    way kimtools chooses between its German and English words.

    >>> tr(("Fälle", "cases"), lang="en")
    'cases'
    """
    if isinstance(texts, tuple):
        texts = dict(zip(LANGS, texts))
    return texts[lang or current_lang()]


def locale_of(lang: str | None = None) -> str:
    """The Babel locale of a language: ``de_DE`` or ``en_GB``."""
    return LOCALES[lang or current_lang()]


def _missing(value: object) -> bool:
    """None, NaN or pandas' NA (a value of a nullable column).

    >>> import pandas as pd
    >>> [_missing(v) for v in (None, float("nan"), pd.NA, 0, 1.5)]
    [True, True, True, False, False]
    """
    if value is None:
        return True
    try:
        return bool(value != value)   # NaN is not itself
    except TypeError:   # pandas' NA: its comparisons are NA, which refuses to be a bool
        return True


def fmt_number(value: float | int | None, decimals: int = 0, lang: str | None = None) -> str:
    """A number with exactly ``decimals`` decimals in the language's format (``1.234,5``; English ``1,234.5``)."""
    if _missing(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale_of(lang))


def fmt_percent(share: float | None, decimals: int = 0, lang: str | None = None) -> str:
    """A share (0.256) as a percentage in the language's format (``25,6 %`` with a no-break space; ``25.6%``)."""
    if _missing(share):
        return "–"
    locale = Locale.parse(locale_of(lang))
    pattern = locale.percent_formats[None].pattern
    if decimals:
        pattern = pattern.replace("0", "0." + "0" * decimals, 1)
    return format_percent(share, format=pattern, locale=locale)


def plotly_separators(lang: str | None = None) -> str:
    """The decimal and the thousands separator of the language, as plotly's ``layout.separators`` takes them.

    >>> plotly_separators("de"), plotly_separators("en")
    (',.', '.,')
    """
    locale = locale_of(lang)
    return get_decimal_symbol(locale) + get_group_symbol(locale)


def fmt_date(value: dt.date | str | None, lang: str | None = None) -> str:
    """A date in the language's medium format: ``31.12.2024``; English ``31 Dec 2024``."""
    if value is None or value != value:
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, format="medium", locale=locale_of(lang))


def fmt_datetime(value: dt.datetime, lang: str | None = None) -> str:
    """A date with its time of day to the minute: ``31.12.2024 14:05``; English ``31 Dec 2024 14:05``."""
    return f"{fmt_date(value, lang)} {format_time(value, format='short', locale=locale_of(lang))}"
