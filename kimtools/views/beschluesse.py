"""The steering committee's decisions as a page, a printout and ``kimtools beschluesse liste`` show them: each decision
with its status, due date and whether it is overdue, its indicator before and after
(:mod:`kimtools.analysis.beschluesse`), and the quarterly series its small figure draws.

"Today" is the day a frozen meeting state was frozen (its decisions are overdue as they were then), else today.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..analysis.beschluesse import before_after, complete_quarters, decision_series, overdue
from ..indicators.disclosure import DEFAULT_MINIMUM
from ..store import SPAN_TABLE, Store
from ..store.beschluesse import stored_decisions
from ..store.meetings import meeting_of

__all__ = ["GROUPS", "decision_views", "reference_day"]

#: the page's order: overdue first, then those still open or being implemented, then the implemented; the rejected
#: are counted only
GROUPS = ("ueberfaellig", "laufend", "umgesetzt", "verworfen")


def reference_day(store: Store) -> dt.date:
    """The day against which a due date is overdue: the day a frozen meeting state was frozen, else today."""
    found = meeting_of(store)
    return pd.Timestamp(found.frozen).date() if found is not None else dt.date.today()


def decision_views(store: Store, kommune: str, today: dt.date | None = None,
                   minimum: int = DEFAULT_MINIMUM) -> dict[str, object]:
    """``decisions``: the kommune's decisions in the page's order (:data:`GROUPS` in ``gruppe``, ``ueberfaellig``, the
    windows and ``urteil`` of :func:`~kimtools.analysis.beschluesse.before_after`); ``series``: each followed
    indicator per quarter (with ``beschluss_id``); ``today``: the day overdue is judged on; ``partners``: the
    kommune's partners' names by ID; ``source``: the file the list was read from and when."""
    today = today or reference_day(store)
    with store.snapshot():
        decisions = stored_decisions(store, kommune)
        series = decision_series(store, decisions)
        span = store.query(f"SELECT d0, d1 FROM {SPAN_TABLE} WHERE kommune = ?", [kommune])
        partners = store.query("SELECT partner_id, name FROM partner WHERE kommune = ?", [kommune])
    incomplete = set(series.loc[series["unvollstaendig"].astype(bool), "zeitraum"]) if len(series) else set()
    complete = ({kommune: complete_quarters(pd.Timestamp(span["d0"][0]).date(), pd.Timestamp(span["d1"][0]).date(),
                                            incomplete)} if len(span) else {})
    effects = before_after(decisions, series, complete, minimum)
    out = decisions.drop(columns=["quelle", "eingelesen"]).merge(effects, on=["kommune", "beschluss_id"], how="left")
    out["ueberfaellig"] = overdue(out, today).to_numpy()
    out["gruppe"] = out["status"].map({"umgesetzt": "umgesetzt", "verworfen": "verworfen"}).fillna("laufend")
    out.loc[out["ueberfaellig"], "gruppe"] = "ueberfaellig"
    order = {g: i for i, g in enumerate(GROUPS)}
    out = out.sort_values(["gruppe", "frist", "datum", "zeile"], key=lambda c: c.map(order) if c.name == "gruppe" else c,
                          kind="stable", na_position="last").reset_index(drop=True)
    return {"decisions": out, "series": series, "today": today,
            "partners": dict(zip(partners["partner_id"], partners["name"])),
            "source": decisions[["quelle", "eingelesen"]].iloc[0].to_dict() if len(decisions) else None}
