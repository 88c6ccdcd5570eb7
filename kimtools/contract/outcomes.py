"""What becomes of a referral: the outcome counts and the wait for a first appointment, defined once.

Every route that counts referral outcomes imports these definitions: the SQL pass and the cells of the indicator
table, the referral network, the comparison bundle, the data-quality checks and the tests. The indicator catalogue
(:mod:`kimtools.indicators.catalogue`) describes them in words.

Examples
--------
>>> OUTCOMES["beantwortet"]
('warteliste', 'angenommen', 'abgeschlossen', 'abgelehnt', 'nicht_wahrgenommen')
>>> OUTCOMES["angenommen"]
('angenommen', 'abgeschlossen')
>>> print(outcomes_sql("v.status", only=("abgelehnt",)))
count(*) FILTER (WHERE v.status IN ('abgelehnt')) AS abgelehnt
"""

from __future__ import annotations

from typing import Iterable

from .codes import VERMITTLUNGSSTATUS

__all__ = ["SENT", "OPEN_LOOP_DAYS", "WAITING", "OUTCOMES", "REFERRAL_RATES", "FIRST_CONTACT_EXPECTED", "outcomes_sql", "wait_sql"]

#: the status of a referral that no partner has answered yet (an open loop once it is older than 30 days)
SENT = "vermittelt"
#: days after which a referral still 'vermittelt' at a period's last day counts as an open loop (more than this many)
OPEN_LOOP_DAYS = 30
#: statuses of a referral still waiting for its first appointment while it has none (censored at the data end)
WAITING = ("vermittelt", "warteliste", "angenommen")
#: the outcome counts of referrals, by the statuses each counts: answered (anything but 'vermittelt', a waiting
#: list included), accepted (accepted or completed), completed, refused, not taken up. The rates of the catalogue
#: divide the last four by the answered ones.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "beantwortet": tuple(code for code in VERMITTLUNGSSTATUS if code != SENT),
    "angenommen": ("angenommen", "abgeschlossen"),
    "abgeschlossen": ("abgeschlossen",),
    "abgelehnt": ("abgelehnt",),
    "nicht_wahrgenommen": ("nicht_wahrgenommen",),
}
#: the referral rates of the catalogue: each outcome count (numerator) over the answered referrals (denominator)
REFERRAL_RATES: dict[str, tuple[str, str]] = {
    "annahmequote": ("angenommen", "beantwortet"),
    "abschlussquote": ("abgeschlossen", "beantwortet"),
    "ablehnungsquote": ("abgelehnt", "beantwortet"),
    "nicht_wahrgenommen_quote": ("nicht_wahrgenommen", "beantwortet"),
}
#: referrals for which a first appointment date is expected (the completeness of ``erstkontakt`` is measured on them)
FIRST_CONTACT_EXPECTED = OUTCOMES["angenommen"]


def outcomes_sql(status: str = "status", only: Iterable[str] | None = None) -> str:
    """The outcome counts (:data:`OUTCOMES`, or those named in ``only``) as aggregates for a ``SELECT`` over
    referrals whose status column is ``status``, each named after its outcome."""
    return ",\n               ".join(f"count(*) FILTER (WHERE {status} IN ({', '.join(repr(c) for c in codes)})) AS {name}"
                                    for name, codes in OUTCOMES.items() if only is None or name in only)


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
