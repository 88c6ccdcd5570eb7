"""The notebook API: a question in, the tidy table or the figure out (``import kimtools as kim``).

Each function reads like the question a coordinator asks::

    kim.kennzahlen("Herne", nach="stadtbezirk", kennzahl="reichweite_je_1000", quartal="2026-Q2")
    kim.wert(tabelle, "faelle_offen")                 # the latest period of the table
    kim.reichweite(kim.kennzahlen("Herne", nach="stadtbezirk"), quartal="2026-Q2")

The table is the engine's (:func:`kimtools.indicators.indicator_table`), remembered with what it was asked for
(``table.attrs``); the figure functions are those of :mod:`kimtools.present.figures`, each picking its indicator
and period out of the table itself (:func:`kimtools.indicators.rows.pick`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from .errors import UsageError
from .indicators import indicator_table
from .indicators.rows import periods, pick, value
from .store import Store

__all__ = ["kennzahlen", "zeitraeume", "wert", "auswahl", "PERIOD_NAMES"]

#: the periods a question may name, German and English, as the engine calls them
PERIOD_NAMES = {"monat": "month", "quartal": "quarter", "jahr": "year", "seit_beginn": "total", "gesamt": "total",
                "month": "month", "quarter": "quarter", "year": "year", "total": "total"}


def _store(db: Store | str | Path | None) -> Store:
    return db if isinstance(db, Store) else Store(db)


def kennzahlen(kommune: str | None = None, *, nach: str = "kommune", zeitraum: str | None = None,
               kennzahl: str | Iterable[str] | None = None, quartal: str | None = None, jahr: str | int | None = None,
               monat: str | None = None, merkmal: str | None = None, filter: Mapping[str, str] | None = None,
               db: Store | str | Path | None = None) -> pd.DataFrame:
    """The indicator table for a question, long and tidy.

    Parameters
    ----------
    kommune
        Only this kommune (default: every kommune of the store).
    nach
        ``kommune``, ``stadtbezirk`` or ``traeger``.
    zeitraum
        ``monat``, ``quartal`` (default), ``jahr`` or ``seit_beginn`` (the whole span from the first case to the
        data end, one period labelled ``gesamt``; English names work too); implied by ``quartal``, ``jahr`` or
        ``monat``.
    kennzahl
        One indicator or several (default: all of the catalogue, the installation's own included).
    quartal, jahr, monat
        Only this period (``"2026-Q2"``, ``2026``, ``"2026-05"``; ``"letztes"``: the latest of the data).
    merkmal
        A breakdown (``zielgruppe``, ``handlungsfeld``, ``altersgruppe``, …).
    filter
        Only cases with these values of ``stadtbezirk``, ``traeger`` or ``zielgruppe``.
    db
        A :class:`~kimtools.Store` or the path of one (default: ``KIMTOOLS_DB`` or ``data/kim.duckdb``).

    Returns
    -------
    The engine's table (:func:`~kimtools.indicators.indicator_table`), its ``attrs`` saying what was asked.
    """
    named = {unit: label for unit, label in (("quarter", quartal), ("year", jahr), ("month", monat)) if label is not None}
    if len(named) > 1:
        raise UsageError("Bitte nur eines von quartal, jahr, monat angeben.", "Please give only one of quartal, jahr, monat.")
    unit = next(iter(named)) if named else PERIOD_NAMES.get(zeitraum or "quartal")
    if unit is None or (zeitraum is not None and PERIOD_NAMES.get(zeitraum) != unit):
        raise UsageError(f"zeitraum = {zeitraum!r} passt nicht: monat, quartal, jahr oder seit_beginn"
                         + (f", passend zu {next(iter(named))}." if named else "."),
                         f"zeitraum = {zeitraum!r} does not fit: monat, quartal, jahr or seit_beginn"
                         + (f", matching {next(iter(named))}." if named else "."))
    wanted = None if kennzahl is None else [kennzahl] if isinstance(kennzahl, str) else list(kennzahl)
    store = _store(db)
    table = indicator_table(store, kommune, by=nach, period=unit, merkmal=merkmal, filters=filter, kennzahlen=wanted)
    label = named.get(unit)
    if label is not None:
        table = pick(table, None, str(label)).reset_index(drop=True)
    table.attrs.update({"kommune": kommune, "nach": nach, "zeitraum": unit, "merkmal": merkmal,
                        "filter": dict(filter or {}), "db": str(store.path)})
    return table


def zeitraeume(table: pd.DataFrame) -> list[str]:
    """The periods of ``table`` in time order (the latest last)."""
    return periods(table)


def wert(table: pd.DataFrame, kennzahl: str, zeitraum: str | None = None, **gruppe: object) -> float:
    """The value of ``kennzahl`` in ``zeitraum`` (default: the latest of the table) for one group (e.g.
    ``stadtbezirk="Sodingen"``; none needed where the table has one)."""
    return value(table, kennzahl, zeitraum, **gruppe)


def auswahl(table: pd.DataFrame, kennzahl: str | Iterable[str] | None = None, zeitraum: str | list[str] | None = None,
            **gruppe: object) -> pd.DataFrame:
    """The rows of ``table`` for ``kennzahl`` in ``zeitraum`` (default: the latest; ``"alle"``: every period; a list:
    these) and
    ``gruppe`` (column values) – what a notebook shows as a table."""
    return pick(table, kennzahl if kennzahl is None or isinstance(kennzahl, str) else list(kennzahl), zeitraum,
                **gruppe).reset_index(drop=True)
