"""What becomes of a referral: the outcome counts and the wait for a first appointment, defined once.

The referral rates and the statuses each of their outcomes counts are defined with the rest of each indicator in
the catalogue, ``kennzahlen.toml`` beside this module (``zaehler_ergebnis``/``zaehler_status``,
``nenner_ergebnis``/``nenner_status``); this module reads them from there and checks that an outcome counts the
same statuses wherever it is named. Every route that counts referral outcomes imports them from here: the SQL pass
and the cells of the indicator table, the referral network, the comparison bundle, the data-quality checks.

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

import tomllib
from pathlib import Path
from typing import Iterable

from .codes import VERMITTLUNGSSTATUS

__all__ = ["SENT", "OPEN_LOOP_DAYS", "WAITING", "OUTCOMES", "REFERRAL_RATES", "FIRST_CONTACT_EXPECTED", "CATALOGUE_FILE", "outcomes_sql", "wait_sql"]

#: the status of a referral that no partner has answered yet (an open loop once it is older than 30 days)
SENT = "vermittelt"
#: days after which a referral still 'vermittelt' at a period's last day counts as an open loop (more than this many)
OPEN_LOOP_DAYS = 30
#: statuses of a referral still waiting for its first appointment while it has none (censored at the data end)
WAITING = ("vermittelt", "warteliste", "angenommen")
#: the indicator catalogue, every indicator defined once (read here for the referral rates, by
#: :mod:`kimtools.indicators.catalogue` for the texts)
CATALOGUE_FILE = Path(__file__).with_name("kennzahlen.toml")


def _rates(path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, str]]]:
    """The outcome counts (denominators first, then numerators, in catalogue order) and the referral rates."""
    with open(path, "rb") as fh:
        entries = tomllib.load(fh)
    rates = {code: e for code, e in entries.items() if "zaehler_ergebnis" in e}
    outcomes: dict[str, tuple[str, ...]] = {}
    for part in ("nenner", "zaehler"):
        for code, e in rates.items():
            name, statuses = e[f"{part}_ergebnis"], tuple(e[f"{part}_status"])
            unknown = set(statuses) - set(VERMITTLUNGSSTATUS)
            if unknown or outcomes.setdefault(name, statuses) != statuses:
                raise ValueError(f"{path.name}, {code}: {part}_status {list(statuses)} – "
                                 + (f"unbekannter Status {sorted(unknown)}" if unknown else
                                    f"'{name}' zählt anderswo {list(outcomes[name])}"))
    return outcomes, {code: (e["zaehler_ergebnis"], e["nenner_ergebnis"]) for code, e in rates.items()}


#: ``OUTCOMES``: the outcome counts of referrals by the statuses each counts: answered (anything but 'vermittelt',
#: a waiting list included), accepted (accepted or completed), completed, refused, not taken up.
#: ``REFERRAL_RATES``: the referral rates of the catalogue, each an outcome count over another, by name.
OUTCOMES, REFERRAL_RATES = _rates(CATALOGUE_FILE)
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
