"""Rows of the indicator table by what a question names: an indicator, a period, a group. One selection for
notebooks and figures, so that no cell filters a long table by hand.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"kommune": "Herne", "zeitraum": ["2026-Q1", "2026-Q2", "2026-Q2"],
...                   "kennzahl": ["neuzugaenge", "neuzugaenge", "abschluesse"], "zaehler": [5, 7, 2],
...                   "wert": [5.0, 7.0, 2.0]})
>>> periods(t)
['2026-Q1', '2026-Q2']
>>> pick(t, "neuzugaenge")["zaehler"].tolist()      # the latest period of the table
[7]
>>> value(t, "neuzugaenge", "2026-Q1")
5.0
"""

from __future__ import annotations

import pandas as pd

from ..errors import InputError

__all__ = ["periods", "pick", "value", "LATEST"]

#: what a question says for "the latest period of the table"
LATEST = ("letztes", "latest")


def periods(table: pd.DataFrame) -> list[str]:
    """The periods of ``table`` (labels such as ``2026-Q2``, ``2026-05`` or ``2026``) in time order."""
    return sorted(table["zeitraum"].dropna().unique().tolist())


def pick(table: pd.DataFrame, kennzahl: str | list[str] | None = None, zeitraum: str | list[str] | None = None,
         strict: bool = True, **where: object) -> pd.DataFrame:
    """The rows of ``table`` for ``kennzahl`` (one or several; None: all) in ``zeitraum`` (a period label; None or
    ``"letztes"``: the latest of the table; ``"alle"``/``"all"``: every period; a list: these) and with the column values
    ``where`` (e.g. ``stadtbezirk="Sodingen"``). An indicator, period or value the table does not hold is an
    :class:`~kimtools.errors.InputError` naming what it holds, unless not ``strict`` (a figure of a dashboard whose
    filters leave nothing: then no rows); an empty table gives itself."""
    if table.empty:
        return table
    if not strict:
        try:
            return pick(table, kennzahl, zeitraum, **where)
        except InputError:
            return table.iloc[:0]
    rows = table
    if kennzahl is not None:
        wanted = [kennzahl] if isinstance(kennzahl, str) else list(kennzahl)
        missing = [k for k in wanted if k not in set(table["kennzahl"])]
        if missing:
            held = ", ".join(dict.fromkeys(table["kennzahl"]))
            raise InputError(f"Die Tabelle hat keine Kennzahl {', '.join(missing)}; sie hat: {held}.",
                             f"The table has no indicator {', '.join(missing)}; it has: {held}.")
        rows = rows.loc[rows["kennzahl"].isin(wanted)]
    if isinstance(zeitraum, (list, tuple)):   # several periods, each one the table holds
        held = set(periods(table))
        missing = [z for z in zeitraum if z not in held]
        if missing:
            raise InputError(f"Die Tabelle hat keinen Zeitraum {', '.join(map(str, missing))}.",
                             f"The table has no period {', '.join(map(str, missing))}.")
        rows = rows.loc[rows["zeitraum"].isin(list(zeitraum))]
    elif zeitraum not in ("alle", "all"):
        held = periods(table)
        chosen = held[-1] if (zeitraum is None or zeitraum in LATEST) and held else zeitraum
        if chosen not in held:
            shown = ", ".join(held[-8:])
            raise InputError(f"Die Tabelle hat keinen Zeitraum {zeitraum!r}; die jüngsten: {shown}.",
                             f"The table has no period {zeitraum!r}; the latest: {shown}.")
        rows = rows.loc[rows["zeitraum"] == chosen]
    for column, wanted_value in where.items():
        if column not in rows.columns:
            raise InputError(f"Die Tabelle hat keine Spalte {column!r}; sie hat: {', '.join(rows.columns)}.",
                             f"The table has no column {column!r}; it has: {', '.join(rows.columns)}.")
        rows = rows.loc[rows[column] == wanted_value]
    return rows


def value(table: pd.DataFrame, kennzahl: str, zeitraum: str | None = None, **where: object) -> float:
    """The value (``wert``) of ``kennzahl`` in ``zeitraum`` (default: the latest) for the one group ``where``
    names; an :class:`~kimtools.errors.InputError` when that is not exactly one row."""
    rows = pick(table, kennzahl, zeitraum, **where)
    if len(rows) != 1:
        raise InputError(f"{kennzahl}: {len(rows)} Zeilen statt einer; die Gruppe genauer nennen (etwa "
                         "stadtbezirk=…).", f"{kennzahl}: {len(rows)} rows instead of one; name the group more "
                         "closely (e.g. stadtbezirk=…).")
    return float(rows["wert"].iloc[0]) if pd.notna(rows["wert"].iloc[0]) else float("nan")
