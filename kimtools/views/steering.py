"""The steering committee's page (Lenkungskreis): where KIM stands and what needs a decision.

One kommune, one quarter, optionally one district: the key figures against the
previous quarter and the same quarter a year before, reach in every district
with intervals, the referral funnel and the partners where referrals stall, the
top service gaps with their evidence, and residence-status changes where the
export documents them. Referrals, gaps and status changes cover the twelve
months up to the end of the quarter. Everything is aggregated; the dashboard
(:class:`kimtools.panels.LenkungskreisPanel`) and the printable page
(:func:`kimtools.present.report.render_lenkungskreis`) show the same pieces; they draw them with
:mod:`kimtools.present.steering` (tiles, figures, the page's notes).
"""

from __future__ import annotations

import pandas as pd

from ..analysis import network as N
from ..analysis.gaps import gap_table, top_gaps
from ..analysis.pathways import status_transitions
from ..errors import InputError
from ..indicators import indicator_table
from ..periods import quarter, quarter_label
from ..store import Store, in_parallel
from ..store.meetings import commentary, meeting_of
from .beschluesse import decision_views
from .karten import district_shapes

__all__ = ["KEY_FIGURES", "SINCE_START", "comparison_periods", "key_figures", "kommune_views", "window_views", "select_district",
           "steering_views", "meeting_commentary"]

#: the key figures of the page, in the order of the tiles
KEY_FIGURES = ("personen_erreicht", "faelle_offen", "faelle_je_vzae", "neuzugaenge")
#: what the page counts since the start (up to the end of its quarter), as KIM's public figures are given
SINCE_START = ("personen_erreicht", "beratungen", "personen_mit_angehoerigen")
_INDICATORS = (*KEY_FIGURES, "abschluesse", "reichweite_je_1000")


def comparison_periods(zeitraum: str) -> dict[str, str]:
    """The quarter, the quarter before it and the same quarter a year before.

    >>> comparison_periods("2025-Q1")
    {'aktuell': '2025-Q1', 'vorquartal': '2024-Q4', 'vorjahr': '2024-Q1'}
    """
    q = quarter(zeitraum)
    return {"aktuell": quarter_label(q), "vorquartal": quarter_label(q - 1), "vorjahr": quarter_label(q - 4)}


def key_figures(table: pd.DataFrame, zeitraum: str) -> pd.DataFrame:
    """Each key figure in the quarter and its two comparison quarters (tidy): ``kennzahl, vergleich, zeitraum,
    zaehler, wert``. A comparison quarter outside the data has no row."""
    periods = comparison_periods(zeitraum)
    role = {v: k for k, v in periods.items()}
    rows = table.loc[table["kennzahl"].isin(KEY_FIGURES) & table["zeitraum"].isin(periods.values()),
                     ["kennzahl", "zeitraum", "zaehler", "wert"]]
    rows = rows.assign(vergleich=rows["zeitraum"].map(role))
    order = {k: i for i, k in enumerate(KEY_FIGURES)}
    return rows.sort_values(["kennzahl", "vergleich"], key=lambda c: c.map(order) if c.name == "kennzahl" else c) \
        [["kennzahl", "vergleich", "zeitraum", "zaehler", "wert"]].reset_index(drop=True)


def kommune_views(store: Store, kommune: str) -> dict[str, pd.DataFrame]:
    """What does not depend on quarter or district: the indicator tables of the kommune and of its districts, its
    district boundaries, and its decisions with their indicator before and after (``beschluesse``)."""
    with store.snapshot():
        return in_parallel({"main": lambda: indicator_table(store, kommune, kennzahlen=list(_INDICATORS)),
                            "districts": lambda: indicator_table(store, kommune, by="stadtbezirk",
                                                                 kennzahlen=list(_INDICATORS)),
                            "shapes": lambda: district_shapes(store, kommune),
                            "beschluesse": lambda: decision_views(store, kommune)})


def window_views(store: Store, kommune: str, zeitraum: str, stadtbezirk: str | None = None,
                 months: dict[str, pd.DataFrame] | None = None) -> dict[str, object]:
    """Referrals, stalling partners, gaps and status changes in the twelve months up to the end of ``zeitraum``;
    the referrals cut out of ``months`` (:func:`~kimtools.analysis.network.referral_months` of the kommune) when given;
    and :data:`SINCE_START` from the first date up to the end of ``zeitraum`` (``since``)."""

    start, end = N.twelve_months(zeitraum)
    f = {"stadtbezirk": stadtbezirk}
    with store.snapshot():
        read = in_parallel({"since": lambda: indicator_table(store, kommune, period="total", bis=end, filters=f,
                                                             kennzahlen=list(SINCE_START)),
                            "partners": lambda: N.partner_table(store, kommune),
                            "gaps": lambda: gap_table(store, kommune, filters=f),
                            "transitions": lambda: status_transitions(store, kommune, start, end, f),
                            "months": lambda: months if months is not None else N.referral_months(store, kommune)})
    window = N.referral_window(read["months"], start, end, f)
    partners, gaps, transitions = read["partners"], read["gaps"], read["transitions"]
    edges, waits = window["edges"], window["waits"]
    gaps = gaps.loc[gaps["ps"] <= pd.Timestamp(end)]   # the page looks back from its quarter, not from today
    return {"start": start, "end": end, "funnel": N.funnel(edges), "outliers": N.partner_outliers(edges, waits, partners),
            "gaps": top_gaps(gaps).head(5), "transitions": transitions, "since": read["since"]}


def select_district(base: dict[str, pd.DataFrame], stadtbezirk: str | None) -> pd.DataFrame:
    """The indicator table of the kommune, or of one district out of the by-district table."""
    if stadtbezirk is None:
        return base["main"]
    d = base["districts"]
    known = sorted(d["stadtbezirk"].dropna().unique())
    if stadtbezirk not in known:
        raise InputError(f"{stadtbezirk!r} ist kein Bezirk dieser Kommune; bekannt sind: {', '.join(known)}.",
                         f"{stadtbezirk!r} is no district of this kommune; known are: {', '.join(known)}.")
    return d.loc[d["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk")


def steering_views(store: Store, kommune: str, zeitraum: str, stadtbezirk: str | None = None) -> dict[str, object]:
    """Everything the page shows for one kommune, quarter and district (``None``: the whole kommune)."""
    base = kommune_views(store, kommune)
    return {**window_views(store, kommune, zeitraum, stadtbezirk), "kommune": kommune, "zeitraum": zeitraum,
            "stadtbezirk": stadtbezirk, "main": select_district(base, stadtbezirk), "districts": base["districts"],
            "shapes": base["shapes"], "beschluesse": base["beschluesse"]}













def meeting_commentary(store: Store) -> dict[str, str]:
    """The coordinators' texts per part of the page (``trend``, ``reach``, ``funnel``, ``gaps``, ``status``) when
    ``store`` is a frozen meeting state; none for the live store."""
    found = meeting_of(store)
    return commentary(found) if found is not None else {}
