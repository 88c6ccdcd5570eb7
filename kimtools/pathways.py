"""Residence-status pathways (KIM Baustein 3): from the status at intake through documented status changes.

A case's status history is its ``aufenthaltsstatus`` at intake followed by its
rows in ``statuswechsel`` in date order. A *transition* is one status change:
from the status held just before (the status at intake, or the previous change)
to ``nach_status``. Compute functions take a :class:`~kimtools.Store` or a
mapping of frames and return tidy frames of counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

import pandas as pd

from .indicators.table import run_query
from .network import _scope

__all__ = ["status_transitions"]


def status_transitions(source, kommune: str | None = None, von: dt.date | None = None, bis: dt.date | None = None,
                       filters: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Status changes dated in [von, bis], counted by ``kommune, von_status, nach_status``: ``n`` changes and
    ``personen`` (distinct persons). A change to the status already held is not a transition and is left out.
    ``filters`` restrict the cases (``stadtbezirk``, ``traeger``, ``zielgruppe``)."""
    where, params = _scope(kommune, von, bis, filters, "f.datum")
    # the order of changes on one day follows the export's row order only by chance: such ties are
    # resolved by the status code, so that every run counts the same
    sql = f"""
    WITH w AS (
        SELECT f.kommune, f.fall_id, f.person_pseudonym, f.stadtbezirk, f.traeger, f.zielgruppe, s.datum, s.nach_status,
               coalesce(lag(s.nach_status) OVER (PARTITION BY s.kommune, s.fall_id ORDER BY s.datum, s.nach_status),
                        f.aufenthaltsstatus) AS von_status
        FROM statuswechsel s JOIN faelle f USING (kommune, fall_id))
    SELECT f.kommune, f.von_status, f.nach_status, count(*) AS n, count(DISTINCT f.person_pseudonym) AS personen
    FROM w AS f {where} {"AND" if where else "WHERE"} f.von_status <> f.nach_status
    GROUP BY ALL ORDER BY ALL"""
    return run_query(source, sql, params)
