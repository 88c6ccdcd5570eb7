"""Residence-status pathways (KIM Baustein 3): from the status at intake through documented status changes.

A case's status history is its ``aufenthaltsstatus`` at intake followed by its
rows in ``statuswechsel`` in date order. A *transition* is one status change:
from the status held just before (the status at intake, or the previous change)
to ``nach_status``. Compute functions take a :class:`~kimtools.Store` or a
mapping of frames and return tidy frames of counts.

The opportunity residence right (§ 104c AufenthG) is granted for 18 months, in
which the holder is to meet the conditions of § 25a or § 25b. A *§ 104c spell*
runs from the change to ``ae_104c`` until the next documented change to another
status, the end of the case or the data end, whichever comes first. Two choices
where the export is silent (see ``docs/planung.md``):

* A case that *begins* with ``ae_104c`` has its spell start at the case begin:
  the permit may be older, so its 18 months end *at the latest* 18 months after
  the case begin (``beginn_bekannt`` False marks these).
* Time to § 25a/§ 25b counts a change to one of them as the event; any other
  change, the end of the case and the data end censor the spell (after them
  the status is not known).
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

import pandas as pd

from ..indicators.stats import curve_median, km_curve
from ..indicators.table import run_query
from .network import _scope
from ..store import SPAN_TABLE

__all__ = ["status_transitions", "OPPORTUNITY_MONTHS", "opportunity_spells", "opportunity_outcomes",
           "opportunity_expiry"]

#: months an opportunity residence permit (§ 104c AufenthG) lasts
OPPORTUNITY_MONTHS = 18
#: the statuses § 104c is meant to lead to
SECURE = ("ae_25a", "ae_25b")


def status_transitions(source, kommune: str | None = None, von: dt.date | None = None, bis: dt.date | None = None,
                       filters: Mapping[str, str] | None = None, by: str | None = None) -> pd.DataFrame:
    """Status changes dated in [von, bis], counted by ``kommune``, ``by`` if given (``stadtbezirk``, ``traeger`` or
    ``zielgruppe``: every value in one query), ``von_status, nach_status``: ``n`` changes and ``personen`` (distinct
    persons). A change to the status already held is not a transition and is left out. ``filters`` restrict the
    cases (``stadtbezirk``, ``traeger``, ``zielgruppe``)."""
    if by not in (None, "stadtbezirk", "traeger", "zielgruppe"):
        raise ValueError(f"status_transitions by {by!r}: stadtbezirk, traeger or zielgruppe")
    where, params = _scope(kommune, von, bis, filters, "f.datum")
    # the order of changes on one day follows the export's row order only by chance: such ties are
    # resolved by the status code, so that every run counts the same
    sql = f"""
    WITH w AS (
        SELECT f.kommune, f.fall_id, f.person_pseudonym, f.stadtbezirk, f.traeger, f.zielgruppe, s.datum, s.nach_status,
               coalesce(lag(s.nach_status) OVER (PARTITION BY s.kommune, s.fall_id ORDER BY s.datum, s.nach_status),
                        f.aufenthaltsstatus) AS von_status
        FROM statuswechsel s JOIN faelle f USING (kommune, fall_id))
    SELECT f.kommune, {f"f.{by}, " if by else ""}f.von_status, f.nach_status, count(*) AS n, count(DISTINCT f.person_pseudonym) AS personen
    FROM w AS f {where} {"AND" if where else "WHERE"} f.von_status <> f.nach_status
    GROUP BY ALL ORDER BY ALL"""
    return run_query(source, sql, params)


def opportunity_spells(source, kommune: str | None = None, filters: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per § 104c spell: ``kommune, stadtbezirk, person_pseudonym, fall_id, beginn, beginn_bekannt, frist``
    (end of the 18 months), ``ende`` (end of observation), ``nach_status`` (the next status, missing if none is
    documented), ``uebergang`` (the next status is § 25a or § 25b), ``laeuft`` (still § 104c in an open case at
    the data end), ``dauer`` (days from ``beginn`` to ``ende``) and ``daten_bis`` (the kommune's data end).

    Case-level: the input of counts and curves, never to be shown as it is.
    """
    where, params = _scope(kommune, None, None, filters, "f.beginn")
    sql = f"""
    WITH span AS (SELECT * FROM {SPAN_TABLE}),
    h AS (SELECT kommune, fall_id, beginn AS datum, 0 AS seq, aufenthaltsstatus AS status FROM faelle
          UNION ALL SELECT kommune, fall_id, datum, 1, nach_status FROM statuswechsel),
    -- ties on one day are ordered by the status code, as in status_transitions
    o AS (SELECT *, lag(status) OVER w AS vorher FROM h
          WINDOW w AS (PARTITION BY kommune, fall_id ORDER BY datum, seq, status)),
    c AS (SELECT * FROM o WHERE vorher IS NULL OR vorher <> status),   -- a change to the status held is none
    n AS (SELECT *, lead(datum) OVER w AS naechst_datum, lead(status) OVER w AS naechst_status FROM c
          WINDOW w AS (PARTITION BY kommune, fall_id ORDER BY datum, seq, status))
    SELECT f.kommune, f.stadtbezirk, f.person_pseudonym, f.fall_id, n.datum AS beginn, n.seq = 1 AS beginn_bekannt,
           CAST(n.datum + INTERVAL {OPPORTUNITY_MONTHS} MONTH AS DATE) AS frist,
           least(coalesce(n.naechst_datum, f.ende, span.d1), span.d1) AS ende,
           n.naechst_status AS nach_status, coalesce(n.naechst_status IN {SECURE}, false) AS uebergang,
           n.naechst_status IS NULL AND (f.ende IS NULL OR f.ende > span.d1) AS laeuft, span.d1 AS daten_bis
    FROM n JOIN faelle f USING (kommune, fall_id) JOIN span ON span.kommune = f.kommune
    {where} {"AND" if where else "WHERE"} n.status = 'ae_104c'
    ORDER BY f.kommune, n.fall_id, n.datum"""
    out = run_query(source, sql, params)
    out["dauer"] = (pd.to_datetime(out["ende"]) - pd.to_datetime(out["beginn"])).dt.days
    return out


def opportunity_outcomes(spells: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """What became of § 104c, per ``kommune`` (and ``by``, e.g. ``["stadtbezirk"]``): ``personen`` with a
    spell, ``zu_25a_25b`` persons whose spell ended in § 25a/§ 25b, ``anteil`` of them, ``laufend`` persons
    still holding § 104c, and from the Kaplan–Meier estimate over spells (the still-waiting censored):
    ``median_monate`` to § 25a/§ 25b (missing while fewer than half have moved) and ``anteil_18_monate``, the
    estimated share that has moved within the 18 months."""
    keys = ["kommune", *(by or [])]
    cols = [*keys, "personen", "zu_25a_25b", "anteil", "laufend", "median_monate", "anteil_18_monate"]
    if spells.empty:
        return pd.DataFrame(columns=cols)
    persons = spells.groupby(keys, dropna=False).agg(
        personen=("person_pseudonym", "nunique"),
        zu_25a_25b=("person_pseudonym", lambda p: p[spells.loc[p.index, "uebergang"]].nunique()),
        laufend=("person_pseudonym", lambda p: p[spells.loc[p.index, "laeuft"]].nunique()))
    persons["anteil"] = persons["zu_25a_25b"] / persons["personen"]
    curve = km_curve(spells, keys, time="dauer", event="uebergang")
    days = OPPORTUNITY_MONTHS * 365.25 / 12
    median = curve_median(curve, keys) / (365.25 / 12)
    within = 1 - curve.loc[curve["dauer"] <= days].groupby(keys, dropna=False)["s"].min()
    out = persons.join(median.rename("median_monate")).join(within.rename("anteil_18_monate")).reset_index()
    out["anteil_18_monate"] = out["anteil_18_monate"].fillna(0.0)   # no event in 18 months: survival stays 1
    return out[cols]


def opportunity_expiry(spells: pd.DataFrame, by: list[str] | None = None, months: int = OPPORTUNITY_MONTHS) -> pd.DataFrame:
    """Persons still holding § 104c at the data end, counted by the month in which their 18 months end:
    ``kommune`` (and ``by``), ``monat`` (first day of the month), ``personen``, ``abgelaufen`` (the month lies
    before the data end: the permit has run out without a documented change) and ``spaetestens`` (some of the
    persons' permits began before their case, so they end at the latest then). Months from the earliest
    expiry up to ``months`` after the data end; months without anyone have zero rows."""
    keys = ["kommune", *(by or [])]
    cols = [*keys, "monat", "personen", "abgelaufen", "spaetestens"]
    open_ = spells.loc[spells["laeuft"]]
    if open_.empty:
        return pd.DataFrame(columns=cols)
    open_ = open_.assign(monat=pd.to_datetime(open_["frist"]).dt.to_period("M"))
    last = open_.groupby("kommune")["daten_bis"].max()
    counted = open_.groupby([*keys, "monat"], dropna=False).agg(
        personen=("person_pseudonym", "nunique"), spaetestens=("beginn_bekannt", lambda b: bool((~b).any())))
    rows = []
    for group, part in counted.groupby(level=keys, dropna=False):
        group = group if isinstance(group, tuple) else (group,)
        end = pd.Timestamp(last[group[0]]).to_period("M")
        span = pd.period_range(min(part.index.get_level_values("monat").min(), end), end + months, freq="M")
        filled = part.droplevel(keys).reindex(span)
        for monat, r in filled.iterrows():
            rows.append((*group, monat.to_timestamp().date(), 0 if pd.isna(r["personen"]) else int(r["personen"]),
                         monat < end, bool(r["spaetestens"]) if pd.notna(r["spaetestens"]) else False))
    out = pd.DataFrame(rows, columns=cols)
    return out.loc[out["monat"] <= (pd.Timestamp(last.max()).to_period("M") + months).to_timestamp().date()] \
        .reset_index(drop=True)
