"""The steering committee's decisions in the store: read per kommune, and a checked list put in place of the
decisions of the kommunen it covers, as one whole (the store's atomic swap). The list is checked before it comes here
(:mod:`kimtools.ingest.beschluesse`); a frozen meeting state, a copy of the store, keeps the list it was frozen with.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import Store
from .queries import has_table
from .tables import DECISION_COLUMNS, DECISIONS_TABLE

__all__ = ["stored_decisions", "replace_decisions"]


def stored_decisions(store: Store, kommune: str | None = None) -> pd.DataFrame:
    """The decisions of ``kommune`` (default: all) in the order of their list; no rows for a store written before
    kimtools kept decisions."""
    with store.snapshot() as con:
        if not has_table(con, DECISIONS_TABLE):
            return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if t in ("DATE", "TIMESTAMP") else
                                              "float64" if t == "DOUBLE" else "Int64" if t == "INTEGER" else object)
                                 for c, t in DECISION_COLUMNS.items()})
        where = "" if kommune is None else "WHERE kommune = ?"
        return store.query(f"SELECT * FROM {DECISIONS_TABLE} {where} ORDER BY kommune, zeile",
                           [] if kommune is None else [kommune])


def replace_decisions(store: Store, decisions: pd.DataFrame, kommunen: tuple[str, ...], source: str) -> None:
    """Put ``decisions`` (the list's columns and ``zeile``) in place of every decision of ``kommunen``, noting the
    file ``source`` and the time; the cases and everything derived from them stay as they are."""
    frame = decisions.assign(quelle=source, eingelesen=pd.Timestamp(dt.datetime.now().replace(microsecond=0)))
    columns = list(DECISION_COLUMNS)
    store.check_writable(("das Einlesen der Beschlussliste", "reading the list of decisions"))
    with store.writing():
        store.check_room()

        def change(con) -> None:
            con.execute(f"DELETE FROM {DECISIONS_TABLE} WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])
            if len(frame):
                con.register("incoming", frame[columns])
                con.execute(f"INSERT INTO {DECISIONS_TABLE} ({', '.join(columns)}) SELECT "
                            + ", ".join(f"CAST({c} AS {t})" for c, t in DECISION_COLUMNS.items()) + " FROM incoming")
                con.unregister("incoming")

        store.update(tuple(kommunen), change, lambda con, changed: None)   # nothing derived from cases changes
