"""Indicators: frames (or the store) in, long tidy frames out.

The indicator table has the columns ``kommune``, the ``by`` column (when it is
not ``kommune``), ``merkmal``/``auspraegung`` (with a breakdown),
``zeitraum``, ``kennzahl``, ``zaehler``, ``nenner``, ``wert``, ``ki_unten``,
``ki_oben``. Every indicator is documented in :data:`KENNZAHLEN`.
"""

from .catalogue import COUNTS, KENNZAHLEN
from .table import ALTERSGRUPPEN, BY_CHOICES, FILTERS, MERKMALE, PERIOD_CHOICES, case_durations, indicator_table, period_label

__all__ = ["indicator_table", "KENNZAHLEN", "COUNTS", "BY_CHOICES", "PERIOD_CHOICES", "MERKMALE",
           "ALTERSGRUPPEN", "FILTERS", "case_durations", "period_label"]
