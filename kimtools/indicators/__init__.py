"""Indicators: frames (or the store) in, long tidy frames out.

The indicator table has the columns ``kommune``, the ``by`` column (when it is
not ``kommune``), ``zeitraum``, ``kennzahl``, ``zaehler``, ``nenner``, ``wert``.
Every indicator is documented in :data:`KENNZAHLEN`.
"""

from .counts import BY_CHOICES, KENNZAHLEN, PERIOD_CHOICES, indicator_table, period_label

__all__ = ["indicator_table", "KENNZAHLEN", "BY_CHOICES", "PERIOD_CHOICES", "period_label"]
