"""Periods as kimtools names them: months ``2024-03``, quarters ``2024-Q1``, years ``2024``; one place for all.

Examples
--------
>>> period_label(pd.Timestamp("2024-04-01"), "quarter")
'2024-Q2'
>>> period_bounds("2024-Q2")
(datetime.date(2024, 4, 1), datetime.date(2024, 6, 30))
>>> quarter_label(quarter("2025-Q1") - 1)
'2024-Q4'
>>> twelve_months("2025-Q1")
(datetime.date(2024, 4, 1), datetime.date(2025, 3, 31))
>>> last_complete_quarter(pd.Timestamp("2025-03-31")), last_complete_quarter(pd.Timestamp("2025-03-30"))
('2025-Q1', '2024-Q4')
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .errors import UsageError

__all__ = ["PERIOD_CHOICES", "TOTAL_LABEL", "TOTAL_START", "YEAR_OR_QUARTER", "QUARTER", "period_label", "quarter", "quarter_label", "quarter_labels", "period_bounds",
           "parse_period", "twelve_months", "last_complete_quarter", "window_label", "months_back", "parse_day"]

#: the periods an indicator table is counted by; ``total`` is one period per kommune, the whole span from its first
#: date to its data end ("since the start", as KIM's public figures are given)
PERIOD_CHOICES = ("month", "quarter", "year", "total")
#: the label of the period ``total`` in an indicator table's ``zeitraum``
TOTAL_LABEL = "gesamt"
#: where the period ``total`` starts in the engine's frames (before every kommune's first date; never shown)
TOTAL_START = dt.date(1900, 1, 1)
#: the labels a comparison bundle holds: years and quarters
YEAR_OR_QUARTER = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")
#: a quarter's label, as a page for one quarter (the steering committee's, a meeting state) takes it
QUARTER = re.compile(r"^\d{4}-Q[1-4]$")


def period_label(start: pd.Timestamp, period: str) -> str:
    """``2024-03``, ``2024-Q1`` or ``2024`` for the period (``month``, ``quarter``, ``year``) starting at ``start``;
    :data:`TOTAL_LABEL` for ``total``."""
    if period.startswith("total"):
        return TOTAL_LABEL
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def quarter(label: str) -> pd.Period:
    """The quarter ``2024-Q2`` as a pandas period (for arithmetic: the quarter before is ``quarter(label) - 1``)."""
    return pd.Period(label.replace("-", ""), freq="Q")


def quarter_label(q: pd.Period) -> str:
    """``2024-Q2`` for a quarterly pandas period."""
    return f"{q.year}-Q{q.quarter}"


def quarter_labels(first, last) -> list[str]:
    """The quarters from the one holding ``first`` to the one holding ``last`` (dates), oldest first."""
    return [quarter_label(q) for q in pd.period_range(first, last, freq="Q")]


def parse_day(value: "dt.date | str", name: str = "Datum", name_en: str = "date") -> dt.date:
    """A day as ``TT.MM.JJJJ``, ``YYYY-MM-DD`` or a date; an error naming ``name`` (a parameter, an option) otherwise.

    >>> parse_day("31.12.2026"), parse_day("2026-12-31")
    (datetime.date(2026, 12, 31), datetime.date(2026, 12, 31))
    >>> parse_day("31.13.2026", "bis")
    Traceback (most recent call last):
    kimtools.errors.UsageError: bis '31.13.2026': kein Datum (TT.MM.JJJJ).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.datetime.strptime(text, "%d.%m.%Y").date() if "." in text else dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name} {text!r}: kein Datum (TT.MM.JJJJ).", f"{name_en} {text!r}: not a date (DD.MM.YYYY).") from None


def window_label(von: dt.date, bis: dt.date) -> str:
    """The label of a time window in an indicator table's ``zeitraum``: its first and last day, ISO 8601's
    interval (sorts and parses; shown in German as ``01.10.2025–30.09.2026``).

    >>> window_label(dt.date(2025, 10, 1), dt.date(2026, 9, 30))
    '2025-10-01/2026-09-30'
    """
    return f"{von.isoformat()}/{bis.isoformat()}"


def months_back(end: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """The ``months`` months ending on the day ``end``: from the day after the same day ``months`` months earlier
    (the last twelve months of data that end on 30.09.2026 are 01.10.2025 to 30.09.2026).

    >>> months_back(dt.date(2026, 9, 30))
    (datetime.date(2025, 10, 1), datetime.date(2026, 9, 30))
    >>> months_back(dt.date(2026, 9, 15))
    (datetime.date(2025, 9, 16), datetime.date(2026, 9, 15))
    """
    return (pd.Timestamp(end) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date(), end


def period_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``2024``, ``2024-Q2``, ``2024-05`` or a window ``2025-10-01/2026-09-30``.

    >>> period_bounds("2025-10-01/2026-09-30")
    (datetime.date(2025, 10, 1), datetime.date(2026, 9, 30))
    """
    if "/" in str(label):
        first, _, last = str(label).partition("/")
        try:
            return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        except ValueError as exc:
            raise UsageError(f"Zeitfenster {label!r} nicht erkannt; erwartet z. B. 2025-10-01/2026-09-30.",
                             f"Window {label!r} not understood; expected e.g. 2025-10-01/2026-09-30.") from exc
    try:
        p = pd.Period(label, freq="Q" if "Q" in label else ("M" if "-" in label else "Y"))
    except ValueError as exc:
        raise UsageError(f"Zeitraum {label!r} nicht erkannt; erwartet z. B. 2024, 2024-Q2 oder 2024-05.",
                         f"Period {label!r} not understood; expected e.g. 2024, 2024-Q2 or 2024-05.") from exc
    return p.start_time.date(), p.end_time.date()


def parse_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``JJJJ`` or ``JJJJ-Qn`` (the periods a comparison bundle holds; no months).

    >>> parse_period("2024-Q2")
    (Timestamp('2024-04-01 00:00:00'), Timestamp('2024-06-30 00:00:00'))
    """
    m = YEAR_OR_QUARTER.match(str(text).strip())
    if not m:
        raise UsageError(f"Zeitraum {text!r} ist weder JJJJ noch JJJJ-Qn (z. B. 2025 oder 2025-Q3).",
                         f"Period {text!r} is neither YYYY nor YYYY-Qn (e.g. 2025 or 2025-Q3).")
    year, q = int(m.group(1)), m.group(2)
    if q is None:
        return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    start = pd.Timestamp(year, 3 * int(q) - 2, 1)
    return start, start + pd.offsets.QuarterEnd(0)


def twelve_months(label: str) -> tuple[dt.date, dt.date]:
    """The twelve months up to the end of the quarter ``label``: the window the referral pages look at."""
    return months_back(period_bounds(label)[1])


def last_complete_quarter(data_end: pd.Timestamp) -> str:
    """The last quarter whose last day the data reach (``data_end`` on or after it)."""
    return quarter_label((pd.Timestamp(data_end) + pd.Timedelta(days=1)).to_period("Q") - 1)
