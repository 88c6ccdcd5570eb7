"""The posts pass of the indicator table: full-time equivalents of the KIM programme's posts (contract 1.2, table
``stellen``) over the months of each period, by the post's own employer, district, Baustein, function and funding.

A post row counts in each month it overlaps with the share of the month's days it covers, times its VZÄ: a post of
1.0 from 1 July is 0.5 in the year and 1.0 in the third quarter; a month is counted whole or by its days, so
that vacancy months come out as months (a post vacant from March to June: 4.0). ``vzae_mittel`` is the mean over
the months of P, ``vzae_monate`` their sum. The months of P run to the month of the kommune's data end.

Posts are grouped by their own attributes, not by cases: a post's ``traeger`` is its employer (for Baustein 1 and 3
any partner), its ``stadtbezirk`` the district it serves (``stadtweit`` where none). A target-group filter has no
posts; a breakdown of cases (a target group, a needs area) none either.

Examples
--------
>>> sql = post_sql("kommune", "year", "baustein", True, {}, [])
>>> "vzae_monat" in sql and "st.baustein" in sql
True
"""

from __future__ import annotations

from typing import Iterable, Mapping

from ..contract.catalogue import Count
from ..store import where_sql
from .counting import condition, period_grid_sql

__all__ = ["POST_AUSP", "POST_ONLY", "post_sql"]

#: breakdowns only posts have, each as SQL on the post row ``st``
POST_ONLY = {"baustein": "st.baustein", "funktion": "coalesce(st.funktion, 'ohne_angabe')",
             "foerderung": "st.foerderung"}
#: every breakdown of posts (by their own attributes), as SQL on the post row ``st``
POST_AUSP = {None: "'Gesamt'", "traeger": "st.traeger", "stadtbezirk": "coalesce(st.stadtbezirk, 'stadtweit')",
             **POST_ONLY}
_GROUP = {"kommune": "st.kommune", "stadtbezirk": "coalesce(st.stadtbezirk, 'stadtweit')", "traeger": "st.traeger"}


def post_sql(by: str, period: str, merkmal: str | None, kommune_filter: bool, filters: Mapping[str, str],
             counts: Iterable[Count]) -> str:
    """Per kommune, group (``by``), characteristic and period: a column per declared count of posts (named by
    :attr:`~kimtools.contract.catalogue.Count.column`), for every group with a post in the kommune's data span.
    ``filters``: the district and provider (employer) of the post."""
    counts = list(counts)
    where = where_sql("st", [*(["kommune"] if kommune_filter else []), *filters])
    sums = "".join(f", sum(pm.vzae_monat) FILTER (WHERE {condition(c, 'pm', 'pm')}) AS {c.column}" for c in counts)
    out = "".join(f", coalesce(x.{c.column}, 0){' / n.monate' if c.zaehlt == 'vzae_mittel' else ''} AS {c.column}"
                  for c in counts)
    return f"""
    WITH {period_grid_sql(period, kommune_filter)},
    months AS (
        SELECT kommune, CAST(m AS DATE) AS ms, CAST(m + INTERVAL 1 month - INTERVAL 1 day AS DATE) AS me
        FROM span, LATERAL (SELECT unnest(generate_series(date_trunc('month', d0), date_trunc('month', d1),
                                                          INTERVAL 1 month)) AS m)),
    pm AS (   -- each post in each month it overlaps: its VZÄ times the share of the month's days it covers
        SELECT st.*, {_GROUP[by]} AS grp, {POST_AUSP[merkmal]} AS ausp, mo.ms,
               st.vzae * (date_diff('day', greatest(st.von, mo.ms), least(coalesce(st.bis, mo.me), mo.me)) + 1)
                       / (date_diff('day', mo.ms, mo.me) + 1) AS vzae_monat
        FROM stellen st JOIN months mo ON mo.kommune = st.kommune AND st.von <= mo.me
                                          AND (st.bis IS NULL OR st.bis >= mo.ms)
        {where}),
    n AS (SELECT p.kommune, p.ps, count(*) AS monate
          FROM periods p JOIN months mo ON mo.kommune = p.kommune AND mo.ms BETWEEN p.ps AND p.pe GROUP BY ALL),
    x AS (SELECT pm.kommune, pm.grp, pm.ausp, p.ps{sums}
          FROM pm JOIN periods p ON p.kommune = pm.kommune AND pm.ms BETWEEN p.ps AND p.pe GROUP BY ALL),
    spine AS (SELECT g.kommune, g.grp, g.ausp, p.ps
              FROM (SELECT DISTINCT kommune, grp, ausp FROM pm) g JOIN periods p USING (kommune))
    SELECT s.kommune, s.grp, s.ausp, s.ps{out}
    FROM spine s JOIN n ON n.kommune = s.kommune AND n.ps = s.ps
    LEFT JOIN x ON x.kommune = s.kommune AND x.grp IS NOT DISTINCT FROM s.grp AND x.ausp IS NOT DISTINCT FROM s.ausp
                   AND x.ps = s.ps
    ORDER BY s.kommune, s.grp, s.ausp, s.ps"""
