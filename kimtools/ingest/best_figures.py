"""Which district figure every rate per 1,000 uses: one per district, the statistics office's official figures
(``kimtools bezirke``, table ``bezirkszahlen``) over the export's own over the estimates shipped with kimtools,
and among equals the latest reference date. Every import of cases keeps the official figures and chooses anew.
"""

from __future__ import annotations

import pandas as pd

from ..contract.reference import match_key
from ..store import Store, has_table

__all__ = ["FIGURE_COLUMNS", "RANK", "best_figures", "stored_figures", "with_official"]

FIGURE_COLUMNS = ["kommune", "stadtbezirk", "einwohner", "auslaender", "stand", "quelle"]
#: which figure wins for a district: the statistics office's over the export's own over kimtools' estimates
RANK = {"amtlich": 2, "export": 1, "mitgeliefert": 0}


def best_figures(candidates: pd.DataFrame) -> pd.DataFrame:
    """One figure per district: the highest :data:`RANK` of ``herkunft``, then the latest ``stand``.

    >>> c = pd.DataFrame({"kommune": ["H"] * 3, "stadtbezirk": ["A", "A", "A"], "einwohner": [1, 2, 3],
    ...                   "auslaender": [None] * 3, "stand": pd.to_datetime(["2017-12-31", "2024-12-31", "2023-12-31"]),
    ...                   "quelle": ["s", "x", "a"], "herkunft": ["mitgeliefert", "export", "amtlich"]})
    >>> best_figures(c)[["einwohner", "herkunft"]].values.tolist()
    [[3, 'amtlich']]
    """
    if candidates.empty:
        return candidates
    ranked = candidates.assign(_rank=candidates["herkunft"].map(RANK).fillna(0),
                               _key=candidates["stadtbezirk"].map(match_key))
    ranked = ranked.sort_values(["_rank", "stand"], ascending=False, kind="stable")
    return ranked.drop_duplicates(["kommune", "_key"]).drop(columns=["_rank", "_key"]) \
        .sort_values(["kommune", "stadtbezirk"]).reset_index(drop=True)


def stored_figures(store: Store, kommunen: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The official figures imported for ``kommunen`` (every date)."""
    if not store.exists() or not has_table(store.connect(), "bezirkszahlen"):
        return pd.DataFrame(columns=[*FIGURE_COLUMNS, "importiert"])
    return store.query("SELECT * FROM bezirkszahlen WHERE kommune IN (SELECT unnest(?))", [list(kommunen)])


def with_official(tables: dict[str, pd.DataFrame], official: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """An import's tables with the official figures kept and winning where they are better (:func:`best_figures`)."""
    if official.empty:
        return tables
    out = dict(tables)
    out["bezirkszahlen"] = official
    candidates = pd.concat([tables["bezirke"], official.drop(columns="importiert").assign(herkunft="amtlich")],
                           ignore_index=True)
    candidates["stand"] = pd.to_datetime(candidates["stand"])
    out["bezirke"] = best_figures(candidates)
    return out
