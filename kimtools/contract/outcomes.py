"""What becomes of a referral: the outcome counts and the wait for a first appointment, defined once.

The named outcomes (``beantwortet``, ``angenommen``, …) and the statuses each counts are defined in the catalogue,
``kennzahlen.toml`` beside this module (section ``[ergebnisse]``); the referral rates name them in their declarations
(``zaehler = { zaehlt = "vermittlungen", ergebnis = ["angenommen"] }``). Every route that counts referral outcomes
takes them from here: the indicator engine, the referral network, the comparison bundle, the data-quality checks.

Examples
--------
>>> OUTCOMES["beantwortet"]
('warteliste', 'angenommen', 'abgeschlossen', 'abgelehnt', 'nicht_wahrgenommen')
>>> OUTCOMES["angenommen"]
('angenommen', 'abgeschlossen')
>>> REFERRAL_RATES["annahmequote"]
('angenommen', 'beantwortet')
>>> print(outcomes_sql("v.status", only=("abgelehnt",)))
count(*) FILTER (WHERE v.status IN ('abgelehnt')) AS abgelehnt

A frame of referral counts holds one column per status (:data:`STATUSES`, each referral in exactly one, so that
columns add up); an outcome is the sum of its statuses:

>>> outcome({"vermittelt": 1, "warteliste": 0, "angenommen": 3, "abgeschlossen": 2, "abgelehnt": 1,
...          "nicht_wahrgenommen": 0}, "angenommen")
5
"""

from __future__ import annotations

from typing import Iterable

from .catalogue import CATALOGUE, OUTCOMES
from .codes import VERMITTLUNGSSTATUS

__all__ = ["SENT", "OPEN_LOOP_DAYS", "WAITING", "OUTCOMES", "REFERRAL_RATES", "FIRST_CONTACT_EXPECTED", "STATUSES",
           "outcomes_sql", "status_sql", "outcome", "wait_sql"]

#: the statuses of a referral (the contract's code list), in its order: the columns of a frame of referral counts
STATUSES = tuple(VERMITTLUNGSSTATUS)

#: the status of a referral that no partner has answered yet (an open loop once it is older than 30 days)
SENT = "vermittelt"
#: days after which a referral still 'vermittelt' at a period's last day counts as an open loop (more than this many)
OPEN_LOOP_DAYS = 30
#: statuses of a referral still waiting for its first appointment while it has none (censored at the data end)
WAITING = ("vermittelt", "warteliste", "angenommen")


def _outcome(count) -> str | None:
    """The named outcome a count of referrals counts, where that is all it filters by."""
    if count is not None and count.zaehlt == "vermittlungen" and len(count.filters) == 1:
        (column, names), = count.filters
        if column == "ergebnis" and len(names) == 1:
            return names[0]
    return None


#: the referral rates of the catalogue whose numerator and denominator are each one named outcome: by indicator,
#: (numerator's outcome, denominator's outcome)
REFERRAL_RATES = {code: (_outcome(e.zaehler), _outcome(e.nenner)) for code, e in CATALOGUE.items()
                  if _outcome(e.zaehler) and _outcome(e.nenner)}
#: referrals for which a first appointment date is expected (the completeness of ``erstkontakt`` is measured on them)
FIRST_CONTACT_EXPECTED = OUTCOMES["angenommen"]


def outcomes_sql(status: str = "status", only: Iterable[str] | None = None) -> str:
    """The outcome counts (:data:`OUTCOMES`, or those named in ``only``) as aggregates for a ``SELECT`` over
    referrals whose status column is ``status``, each named after its outcome."""
    return ",\n               ".join(f"count(*) FILTER (WHERE {status} IN ({', '.join(repr(c) for c in codes)})) AS {name}"
                                    for name, codes in OUTCOMES.items() if only is None or name in only)


def status_sql(status: str = "status") -> str:
    """A count per status (:data:`STATUSES`) as aggregates for a ``SELECT`` over referrals whose status column is
    ``status``, each named after its status: no column contains another.

    >>> status_sql().count("count(*)") == len(STATUSES)
    True
    """
    return ",\n               ".join(f"count(*) FILTER (WHERE {status} = '{code}') AS {code}" for code in STATUSES)


def outcome(counts, name: str):
    """The named outcome ``name`` (:data:`OUTCOMES`, e.g. ``angenommen`` = accepted or completed) from counts per
    status: a frame (a column per status, the outcome per row), a row or a dict."""
    return sum(counts[code] for code in OUTCOMES[name])


def wait_sql(alias: str, data_end: str) -> tuple[str, str]:
    """Days waited for a first appointment and the condition of belonging to the waiting cohort, for referrals
    ``alias`` (with ``datum``, ``erstkontakt``, ``status``): with a first appointment the days until it; still
    waiting (:data:`WAITING` without one) the days until ``data_end`` (censored); refused, not taken up and
    completed without a date are out.

    >>> days, cohort = wait_sql("v", "s.d1")
    >>> cohort
    "(v.erstkontakt IS NOT NULL OR v.status IN ('vermittelt', 'warteliste', 'angenommen'))"
    """
    days = f"date_diff('day', {alias}.datum, coalesce({alias}.erstkontakt, greatest({data_end}, {alias}.datum)))"
    cohort = f"({alias}.erstkontakt IS NOT NULL OR {alias}.status IN ({', '.join(repr(c) for c in WAITING)}))"
    return days, cohort
