"""Who has delivered up to when: per kommune and provider the last delivery that covered it, its data end and the
rows stored, and up to which day a kommune's data are complete for every provider.

A provider's *data end* is the data end (latest date) of the last delivery that covered it: a delivery of the
whole kommune covers every provider, a provider delivery its own (contract 1.1, *Deliveries*). A kommune's data
are *complete* up to the earliest of its providers' data ends; a period that ends later, within the kommune's
data, is not yet complete for every provider (:func:`incomplete`). Deletions are not deliveries.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..periods import TOTAL_LABEL, period_bounds
from .queries import has_column, has_table, reader_memo, run_read

__all__ = ["DELIVERY_STATE_SQL", "DATA_ENDS_SQL", "ABSENT_SQL", "absent_tables", "delivery_state", "data_ends", "complete_until", "completeness", "incomplete",
           "incomplete_rows"]

#: per kommune and provider with stored cases or posts, the last delivery that covered it (``last``, with the log's
#: rows as ``log``): the one place that says which delivery covers which provider. ``{scope}`` is the log's
#: ``traeger`` column (``NULL`` in a store older than it).
_LAST_DELIVERY = """
prov AS (SELECT kommune, traeger FROM faelle UNION SELECT kommune, traeger FROM stellen),
log AS (SELECT import_id, zeitpunkt, quelle, kommune, datenstand, coalesce({scope}, '') AS umfang FROM import_log
        WHERE sha256 IS NOT NULL),
last AS (
    SELECT p.kommune, p.traeger, max(l.import_id) AS import_id
    FROM prov p JOIN log l ON l.kommune = p.kommune
         AND (l.umfang = '' OR list_contains(string_split(l.umfang, ','), p.traeger))
    GROUP BY ALL)"""

#: per kommune and provider its name and the data end of its last delivery (``datenende``)
DATA_ENDS_SQL = f"""
WITH {_LAST_DELIVERY}
SELECT p.kommune, p.traeger, pa.name, l.datenstand AS datenende
FROM last p JOIN log l USING (import_id, kommune)
LEFT JOIN partner pa ON pa.kommune = p.kommune AND pa.partner_id = p.traeger
ORDER BY p.kommune, p.traeger
"""

#: :data:`DATA_ENDS_SQL` with that delivery (``letzte_lieferung``, ``quelle``, ``umfang``: its providers, empty for the
#: whole kommune) and the provider's stored rows, for every provider with cases or posts
DELIVERY_STATE_SQL = f"""
WITH {_LAST_DELIVERY},
cases AS (SELECT kommune, traeger, fall_id FROM faelle)
SELECT p.kommune, p.traeger, pa.name, l.zeitpunkt AS letzte_lieferung, l.quelle, l.umfang, l.datenstand AS datenende,
       (SELECT count(*) FROM cases c WHERE c.kommune = p.kommune AND c.traeger = p.traeger) AS faelle,
       (SELECT count(*) FROM beratungen b JOIN cases c USING (kommune, fall_id)
         WHERE c.kommune = p.kommune AND c.traeger = p.traeger) AS beratungen,
       (SELECT count(*) FROM vermittlungen v JOIN cases c USING (kommune, fall_id)
         WHERE c.kommune = p.kommune AND c.traeger = p.traeger) AS vermittlungen,
       (SELECT count(*) FROM stellen s WHERE s.kommune = p.kommune AND s.traeger = p.traeger) AS stellen
FROM prov p LEFT JOIN last USING (kommune, traeger) LEFT JOIN log l USING (import_id, kommune)
LEFT JOIN partner pa ON pa.kommune = p.kommune AND pa.partner_id = p.traeger
ORDER BY p.kommune, p.traeger
"""


def data_ends(con) -> pd.DataFrame:
    """:data:`DATA_ENDS_SQL` on the store connection ``con``, kept as long as the reader reads one state
    (:func:`~kimtools.store.queries.reader_memo`): the indicator table asks it at every call."""
    memo = reader_memo(con)
    if "data_ends" not in memo:
        if has_table(con, "import_log"):
            ends = run_read(con, DATA_ENDS_SQL.format(scope=_scope_column(con)), [])
            ends["datenende"] = pd.to_datetime(ends["datenende"])
        else:
            ends = pd.DataFrame({"kommune": [], "traeger": [], "name": [], "datenende": pd.to_datetime([])})
        memo["data_ends"] = ends
    return memo["data_ends"]


def _scope_column(con) -> str:
    return "traeger" if has_column(con, "import_log", "traeger") else "NULL"


def delivery_state(con, kommune: str | None = None) -> pd.DataFrame:
    """:data:`DELIVERY_STATE_SQL` on the store connection ``con`` (of ``kommune``, or of all)."""
    if not has_table(con, "import_log"):
        return pd.DataFrame(columns=["kommune", "traeger", "name", "letzte_lieferung", "quelle", "umfang", "datenende",
                                     "faelle", "beratungen", "vermittlungen", "stellen"])
    out = run_read(con, DELIVERY_STATE_SQL.format(scope=_scope_column(con)), [])
    if kommune is not None:
        out = out.loc[out["kommune"] == kommune].reset_index(drop=True)
    out["datenende"] = pd.to_datetime(out["datenende"])
    return out


def complete_until(state: pd.DataFrame) -> pd.DataFrame:
    """Per kommune of :func:`delivery_state` or :func:`data_ends`: ``vollstaendig_bis`` (the earliest data end of its providers),
    ``datenende`` (the latest) and ``nachzuegler`` (the providers whose data end before the latest, by name where
    known, comma-separated)."""
    s = state.dropna(subset=["datenende"])
    ends = s.groupby("kommune")["datenende"]
    out = pd.DataFrame({"vollstaendig_bis": ends.min(), "datenende": ends.max()})
    names = (s["name"].fillna(s["traeger"]) if "name" in s.columns else s["traeger"]).astype(str)
    late = s["datenende"] < ends.transform("max")   # one grouping for all kommunen: every page asks this
    out["nachzuegler"] = names[late].groupby(s.loc[late, "kommune"]).agg(", ".join).reindex(out.index).fillna("")
    return out.rename_axis("kommune").reset_index()[["kommune", "vollstaendig_bis", "datenende", "nachzuegler"]]


def completeness(con) -> pd.DataFrame:
    """:func:`complete_until` of :func:`data_ends` on the store connection ``con``, kept as long as the reader reads one
    state (:func:`~kimtools.store.queries.reader_memo`): every page and indicator table asks it."""
    memo = reader_memo(con)
    if "complete_until" not in memo:
        memo["complete_until"] = complete_until(data_ends(con))
    return memo["complete_until"]


def incomplete(kommunen: pd.Series, period_ends: pd.Series, until: pd.DataFrame) -> pd.Series:
    """Whether each (kommune, period end) lies after the day its kommune's data are complete up to, within its
    data (:func:`complete_until`): a period some provider has not yet delivered in full. Unknown kommunen: False."""
    u = until.set_index("kommune")
    done = pd.to_datetime(kommunen.map(u["vollstaendig_bis"]))
    end = pd.to_datetime(kommunen.map(u["datenende"]))
    pe = pd.to_datetime(period_ends)
    cut = pe.where(pe < end, end)
    return (done.notna() & (done < cut)).astype(bool)


def incomplete_rows(con, table: pd.DataFrame, total_end: dt.date | None = None) -> np.ndarray:
    """Per row of an indicator table (``kommune``, ``zeitraum``) whether its period is not yet complete for every
    provider of its kommune (:func:`incomplete`), read on the store connection ``con``; the whole span ends at
    ``total_end`` where given, else at each kommune's data end."""
    until = completeness(con) if len(table) else pd.DataFrame()
    if until.empty or not (until["vollstaendig_bis"] < until["datenende"]).any():
        return np.zeros(len(table), dtype=bool)
    # the whole span ends at each kommune's data end (the latest possible end, cut there by :func:`incomplete`)
    total = pd.Timestamp.max if total_end is None else pd.Timestamp(total_end)
    ends = {label: total if label == TOTAL_LABEL else pd.Timestamp(period_bounds(label)[1])
            for label in table["zeitraum"].unique()}
    return incomplete(table["kommune"].astype(object), table["zeitraum"].map(ends), until).to_numpy()


#: per kommune the tables its last import declared not delivered (an import profile's ``fehlt = true``)
ABSENT_SQL = """
SELECT kommune, fehlende_tabellen FROM import_log
WHERE sha256 IS NOT NULL AND import_id = (SELECT max(import_id) FROM import_log l WHERE l.kommune = import_log.kommune
                                          AND l.sha256 IS NOT NULL)
"""


def absent_tables(con) -> dict[str, set[str]]:
    """Per kommune the tables its last import declared not delivered (:data:`ABSENT_SQL`; none in an older store),
    kept as long as the reader reads one state."""
    memo = reader_memo(con)
    if "absent" not in memo:
        absent: dict[str, set[str]] = {}
        if has_table(con, "import_log") and has_column(con, "import_log", "fehlende_tabellen"):
            for row in run_read(con, ABSENT_SQL, []).itertuples():
                if isinstance(row.fehlende_tabellen, str) and row.fehlende_tabellen:
                    absent[row.kommune] = set(row.fehlende_tabellen.split(","))
        memo["absent"] = absent
    return memo["absent"]
