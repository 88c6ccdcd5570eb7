"""Counts per period: intake, closures, open cases, persons reached, consultations, referrals.

Definitions (period P from its first to its last day; a case's district is its
``stadtbezirk``; consultations and referrals count for their case's district
and provider):

==================  ==============================================================
``neuzugaenge``     cases with ``beginn`` in P
``abschluesse``     cases with ``ende`` in P
``faelle_offen``    cases with ``beginn`` ≤ last day and ``ende`` empty or after the last day
``personen_erreicht`` distinct persons (pseudonyms) with a case where ``beginn`` ≤ last day
                    and ``ende`` empty or ≥ first day
``beratungen``      consultations dated in P
``vermittlungen``   referrals dated in P
==================  ==============================================================

Counts have no denominator: ``zaehler`` = ``wert`` and ``nenner`` is empty.
Periods run per kommune from the month/quarter/year of its first case to that
of its latest recorded event; the last period may be incomplete.
"""

from __future__ import annotations

from typing import Mapping

import duckdb
import pandas as pd

__all__ = ["indicator_table", "KENNZAHLEN", "BY_CHOICES", "PERIOD_CHOICES", "period_label"]

BY_CHOICES = ("kommune", "stadtbezirk", "traeger")
PERIOD_CHOICES = ("month", "quarter", "year")

#: Documentation of every indicator: German and English name and definition, unit, caveat.
KENNZAHLEN: dict[str, dict[str, str]] = {
    "neuzugaenge": {
        "de": "Neuzugänge", "en": "new cases", "einheit": "Fälle",
        "definition_de": "Fälle mit Beginn im Zeitraum.", "definition_en": "Cases that began in the period.",
        "hinweis_de": "", "hinweis_en": "",
    },
    "abschluesse": {
        "de": "Abschlüsse", "en": "closures", "einheit": "Fälle",
        "definition_de": "Fälle mit Ende im Zeitraum.", "definition_en": "Cases that ended in the period.",
        "hinweis_de": "", "hinweis_en": "",
    },
    "faelle_offen": {
        "de": "Offene Fälle", "en": "open cases", "einheit": "Fälle",
        "definition_de": "Fälle, die am letzten Tag des Zeitraums begonnen und nicht beendet waren.",
        "definition_en": "Cases begun and not ended on the last day of the period.",
        "hinweis_de": "Stichtagszahl zum Ende des Zeitraums.", "hinweis_en": "Count on the period's last day.",
    },
    "personen_erreicht": {
        "de": "Erreichte Personen", "en": "persons reached", "einheit": "Personen",
        "definition_de": "Verschiedene Personen mit einem Fall, der im Zeitraum irgendwann offen war.",
        "definition_en": "Distinct persons with a case open at some time in the period.",
        "hinweis_de": "Personen über Pseudonyme gezählt; Summen über Bezirke oder Träger können Personen doppelt zählen.",
        "hinweis_en": "Counted by pseudonym; sums over districts or providers may count a person twice.",
    },
    "beratungen": {
        "de": "Beratungen", "en": "consultations", "einheit": "Kontakte",
        "definition_de": "Beratungskontakte mit Datum im Zeitraum (Bezirk und Träger des Falls).",
        "definition_en": "Consultation contacts dated in the period (the case's district and provider).",
        "hinweis_de": "", "hinweis_en": "",
    },
    "vermittlungen": {
        "de": "Vermittlungen", "en": "referrals", "einheit": "Vermittlungen",
        "definition_de": "Vermittlungen an Partner mit Datum im Zeitraum (Bezirk und Träger des Falls).",
        "definition_en": "Referrals to partners dated in the period (the case's district and provider).",
        "hinweis_de": "", "hinweis_en": "",
    },
}

_UNIT = {"month": "month", "quarter": "quarter", "year": "year"}


def period_label(start: pd.Timestamp, period: str) -> str:
    """``2024-03``, ``2024-Q1`` or ``2024`` for the period starting at ``start``.

    >>> period_label(pd.Timestamp("2024-04-01"), "quarter")
    '2024-Q2'
    """
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def _sql(by: str, period: str, kommune_filter: bool) -> str:
    unit = _UNIT[period]
    grp = "kommune" if by == "kommune" else by
    where = "WHERE kommune = $kommune" if kommune_filter else ""
    label = {
        "month": "strftime(ps, '%Y-%m')",
        "quarter": "strftime(ps, '%Y') || '-Q' || CAST(quarter(ps) AS VARCHAR)",
        "year": "strftime(ps, '%Y')",
    }[period]
    return f"""
    WITH f AS (SELECT kommune, {grp} AS grp, fall_id, person_pseudonym, beginn, ende FROM faelle {where}),
    span AS (
        SELECT kommune, min(d) AS d0, max(d) AS d1 FROM (
            SELECT kommune, beginn AS d FROM f UNION ALL SELECT kommune, ende FROM f
            UNION ALL SELECT b.kommune, b.datum FROM beratungen b SEMI JOIN f USING (kommune, fall_id)
            UNION ALL SELECT v.kommune, v.datum FROM vermittlungen v SEMI JOIN f USING (kommune, fall_id))
        GROUP BY kommune),
    periods AS (
        SELECT kommune, CAST(ps AS DATE) AS ps, CAST(ps + INTERVAL 1 {unit} - INTERVAL 1 day AS DATE) AS pe
        FROM span, LATERAL (SELECT unnest(generate_series(date_trunc('{unit}', d0), date_trunc('{unit}', d1),
                                                          INTERVAL 1 {unit})) AS ps)),
    spine AS (SELECT DISTINCT f.kommune, f.grp, p.ps, p.pe FROM (SELECT DISTINCT kommune, grp FROM f) f
              JOIN periods p USING (kommune)),
    ev AS (
        SELECT kommune, grp, beginn AS d, 'neuzugaenge' AS k FROM f
        UNION ALL SELECT kommune, grp, ende, 'abschluesse' FROM f WHERE ende IS NOT NULL
        UNION ALL SELECT f.kommune, f.grp, b.datum, 'beratungen' FROM beratungen b JOIN f USING (kommune, fall_id)
        UNION ALL SELECT f.kommune, f.grp, v.datum, 'vermittlungen' FROM vermittlungen v JOIN f USING (kommune, fall_id)),
    ev_counts AS (
        SELECT kommune, grp, CAST(date_trunc('{unit}', d) AS DATE) AS ps, k, count(*) AS n FROM ev GROUP BY ALL),
    kinds AS (SELECT unnest(['neuzugaenge', 'abschluesse', 'beratungen', 'vermittlungen']) AS k),
    events AS (
        SELECT s.kommune, s.grp, s.ps, kinds.k, coalesce(c.n, 0) AS n
        FROM spine s CROSS JOIN kinds LEFT JOIN ev_counts c
          ON c.kommune = s.kommune AND c.grp IS NOT DISTINCT FROM s.grp AND c.ps = s.ps AND c.k = kinds.k),
    stock AS (
        SELECT s.kommune, s.grp, s.ps,
               count(f.fall_id) FILTER (WHERE f.ende IS NULL OR f.ende > s.pe) AS offen,
               count(DISTINCT f.person_pseudonym) FILTER (WHERE f.ende IS NULL OR f.ende >= s.ps) AS personen
        FROM spine s LEFT JOIN f ON f.kommune = s.kommune AND f.grp IS NOT DISTINCT FROM s.grp AND f.beginn <= s.pe
        GROUP BY ALL),
    longform AS (
        SELECT kommune, grp, ps, k AS kennzahl, n FROM events
        UNION ALL SELECT kommune, grp, ps, 'faelle_offen', offen FROM stock
        UNION ALL SELECT kommune, grp, ps, 'personen_erreicht', personen FROM stock)
    SELECT kommune, grp, {label} AS zeitraum, kennzahl, CAST(n AS BIGINT) AS zaehler,
           CAST(NULL AS BIGINT) AS nenner, CAST(n AS DOUBLE) AS wert, ps
    FROM longform
    """


def indicator_table(source, kommune: str | None = None, by: str = "kommune", period: str = "quarter") -> pd.DataFrame:
    """The indicator table, long format.

    Parameters
    ----------
    source
        A :class:`kimtools.Store`, or a mapping of frames with at least
        ``faelle``, ``beratungen`` and ``vermittlungen`` (store column names).
    kommune
        Only this kommune (default: all).
    by
        ``kommune``, ``stadtbezirk`` or ``traeger``.
    period
        ``month``, ``quarter`` or ``year``.

    Returns
    -------
    DataFrame with ``kommune``, the ``by`` column (unless ``kommune``),
    ``zeitraum``, ``kennzahl``, ``zaehler``, ``nenner``, ``wert``, sorted by
    kommune, group, period and the order of :data:`KENNZAHLEN`.
    """
    from ..errors import UsageError

    if by not in BY_CHOICES:
        raise UsageError(f"--by muss eines von {', '.join(BY_CHOICES)} sein, nicht {by!r}.",
                         f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    if period not in PERIOD_CHOICES:
        raise UsageError(f"--period muss eines von {', '.join(PERIOD_CHOICES)} sein, nicht {period!r}.",
                         f"--period must be one of {', '.join(PERIOD_CHOICES)}, not {period!r}.")
    sql = _sql(by, period, kommune is not None)
    params = {"kommune": kommune} if kommune is not None else {}
    if isinstance(source, Mapping):
        con = duckdb.connect()
        try:
            for name in ("faelle", "beratungen", "vermittlungen"):
                con.register(name, source[name])
            result = con.execute(sql, params).df()
        finally:
            con.close()
    else:
        result = source.connect().execute(sql, params).df()
    order = {k: i for i, k in enumerate(KENNZAHLEN)}
    result["_k"] = result["kennzahl"].map(order)
    result = result.sort_values(["kommune", "grp", "ps", "_k"], na_position="last", kind="stable")
    result = result.drop(columns=["_k", "ps"]).reset_index(drop=True)
    result["nenner"] = result["nenner"].astype("Int64")
    if by == "kommune":
        return result.drop(columns="grp")
    return result.rename(columns={"grp": by})[["kommune", by, "zeitraum", "kennzahl", "zaehler", "nenner", "wert"]]
