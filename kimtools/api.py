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

from .contract.reference import load_reference, match_key
from .errors import InputError, UsageError
from .indicators import indicator_table
from .indicators.rows import periods, pick, value
from .store import Store

__all__ = ["kennzahlen", "zeitraeume", "wert", "auswahl", "known", "match_name", "PERIOD_NAMES"]

#: the periods a question may name, German and English, as the engine calls them
PERIOD_NAMES = {"monat": "month", "quartal": "quarter", "jahr": "year", "seit_beginn": "total", "gesamt": "total",
                "month": "month", "quarter": "quarter", "year": "year", "total": "total"}


def _store(db: Store | str | Path | None) -> Store:
    return db if isinstance(db, Store) else Store(db)


#: what a question may name, with the store's own list of it: the parameter, German and English words, the query
_KNOWN = {"kommune": ("keine Kommune", "kommune", None),
          "stadtbezirk": ("kein Bezirk", "district",
                          "select distinct stadtbezirk as name from faelle where kommune = ? and stadtbezirk is not null"),
          "traeger": ("kein Träger", "provider",
                      "select distinct traeger as name from faelle where kommune = ? and traeger is not null")}


def match_name(parameter: str, name: str, names: Iterable[str], kommune: str | None = None) -> str:
    """``name`` as ``names`` spell it (case, blanks, hyphens and the form of umlauts aside; a kommune also by its
    usual short name, as the reference knows it), else an error naming them all: a question about a kommune,
    district or provider that is not there gets an answer, not an empty table.

    >>> match_name("kommune", "herne", ["Bochum", "Herne"])
    'Herne'
    >>> match_name("kommune", "Mu\u0308lheim", ["Mülheim an der Ruhr"])   # a decomposed umlaut, the short name
    'Mülheim an der Ruhr'
    >>> match_name("stadtbezirk", "Wanne-Eickel", ["Eickel", "Herne-Mitte", "Wanne"], "Herne")
    Traceback (most recent call last):
    kimtools.errors.InputError: stadtbezirk = 'Wanne-Eickel': kein Bezirk von Herne im Datenbestand; bekannt sind: Eickel, Herne-Mitte, Wanne.
    """
    word, word_en, _sql = _KNOWN[parameter]
    names = list(names)
    if name in names:
        return name
    hits = [n for n in names if match_key(n) == match_key(name)]
    if not hits and parameter == "kommune":
        hits = [n for n in names if n == load_reference().resolve_kommune(name)]
    if len(hits) == 1:
        return hits[0]
    where, where_en = (f" von {kommune}", f" of {kommune}") if kommune else ("", "")
    raise InputError(f"{parameter} = {name!r}: {word}{where} im Datenbestand; bekannt sind: {', '.join(names)}.",
                     f"{parameter} = {name!r}: no {word_en}{where_en} in the store; known: {', '.join(names)}.")


def known(store: Store, parameter: str, name: str, kommune: str | None = None) -> str:
    """``name`` matched against what ``store`` holds (:func:`match_name`): its kommunen, or the districts or
    providers of ``kommune``."""
    _word, _word_en, sql = _KNOWN[parameter]
    names = store.kommunen() if sql is None else sorted(store.query(sql, [kommune])["name"].astype(str))
    try:
        return match_name(parameter, name, names, kommune)
    except InputError:
        if parameter == "kommune" and store.scope is not None:   # another login's kommune: the reader refuses it
            return name                                            # as such (AccessError), not as unknown
        raise


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
    if kommune is not None:
        kommune = known(store, "kommune", kommune)
    if filter:
        filter = {k: known(store, k, v, kommune) if k in _KNOWN and kommune is not None and v is not None else v
                  for k, v in filter.items()}
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
