"""The comparison page's view (``dashboards/vergleich.ipynb``, notebook 04): the merged bundles of other cities
where there are any, and every kommune of the store that no bundle covers as its own bundle would show it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import KimtoolsError, UsageError
from ..exchange.bundle import Merged, default_comparison_dir, own_comparison, read_merged
from ..i18n import tr
from ..store import Store

__all__ = ["comparison_data", "own_districts"]


def comparison_data(store: Store | None = None, folder: str | Path | None = None,
                    show_progress: bool = False) -> tuple[Merged, list[str]]:
    """What the comparison page compares: the merged bundles in ``folder`` (default :func:`~kimtools.exchange.bundle.default_comparison_dir`)
    where there are any, and every kommune of ``store`` that no bundle covers, from its own data
    (:func:`~kimtools.exchange.bundle.own_comparison`). Returns the tables and notes for the page (German first, no server path in them).
    Raises :class:`~kimtools.errors.UsageError` when there is neither."""
    notes, parts = [], []
    try:
        parts.append(read_merged(folder or default_comparison_dir()))
    except (UsageError, OSError):   # no bundles merged (yet): the store's own data alone
        notes.append(tr(("Noch keine Vergleichspakete anderer Kommunen zusammengeführt: verglichen werden die "
                         "Stadtbezirke (eines Kreises: die Gemeinden) aus dem eigenen Datenbestand, geschützt wie im "
                         "eigenen Vergleichspaket. Andere Kommunen kommen hinzu, sobald ihre Pakete mit "
                         "'kimtools compare' zusammengeführt sind.",
                         "No other kommunen's comparison bundles merged yet: compared are the districts (of a county: "
                         "its municipalities) of the own store, protected as in the own comparison bundle. Other "
                         "kommunen join once their bundles are merged with 'kimtools compare'.")))
    present = set(parts[0].pakete["kommune"]) if parts else set()
    mine = [k for k in _kommunen_of(store) if k not in present]
    if mine:
        own, refused = own_comparison(store, mine, show_progress)
        parts.append(own)
        for k, (de, en) in refused.items():
            notes.append(tr((f"{k}: {de}", f"{k}: {en}")))
    if not parts or all(p.kennzahlen.empty for p in parts):
        raise UsageError("Es gibt noch nichts zu vergleichen: weder zusammengeführte Vergleichspakete noch einen eigenen "
                         "Datenbestand mit genug Daten. Erst Daten importieren (kimtools import) oder Pakete "
                         "zusammenführen (kimtools compare).",
                         "There is nothing to compare yet: neither merged comparison bundles nor an own store with "
                         "enough data. Import data first (kimtools import) or merge bundles (kimtools compare).")
    merged = Merged(*(pd.concat([getattr(p, n) for p in parts], ignore_index=True)
                      for n in ("zaehlungen", "kennzahlen", "bezirke", "pakete")))
    return merged, notes


def _kommunen_of(store: Store | None) -> list[str]:
    if store is None:
        return []
    try:
        return store.kommunen()
    except KimtoolsError:   # no store (yet), or one that cannot be read: the bundles alone
        return []


def own_districts(store: Store, kommune: str) -> pd.DataFrame:
    """The districts of ``kommune`` as its comparison bundle shows them (:func:`~kimtools.exchange.bundle.own_comparison`):
    rates from protected counts only, so that a notebook comparing them can go to another city as the bundle can.
    In the form of an indicator table (``stadtbezirk``, ``zeitraum``, ``kennzahl``, ``zaehler``, ``nenner``, ``wert``,
    ``ki_unten``, ``ki_oben``; a protected rate has no values), without the kommune's total row."""
    own, refused = own_comparison(store, [kommune])
    if kommune in refused:
        de, en = refused[kommune]
        raise UsageError(f"{kommune}: {de}", f"{kommune}: {en}")
    rates = own.kennzahlen.rename(columns={"unten": "ki_unten", "oben": "ki_oben"})
    return rates.loc[(rates["kommune"] == kommune) & (rates["stadtbezirk"] != "Gesamt")].reset_index(drop=True)

