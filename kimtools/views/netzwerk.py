"""What the referral-network page needs, as frames, for a twelve-month window and filters."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ..analysis import network as N
from ..analysis.gaps import gap_table, top_gaps
from ..contract.outcomes import REFERRAL_RATES, outcome
from ..indicators import indicator_table
from ..indicators.counting import rate
from ..indicators.stats import km_median
from ..store import Store, in_parallel


def network_views(store: Store, kommune: str, zeitraum: str, stadtbezirk: str | None = None, traeger: str | None = None,
                  zielgruppe: str | None = None, months: dict[str, pd.DataFrame] | None = None,
                  fixed: dict[str, object] | None = None, outliers: bool = True) -> dict[str, object]:
    """What the network view needs for the twelve months up to the end of quarter ``zeitraum`` (aggregates,
    and the waits only as input of curves and intervals). ``months`` (:func:`~kimtools.analysis.network.referral_months`
    of the kommune) and ``fixed`` (:func:`network_fixed` of the kommune and filters) are read here when not given;
    of ``fixed`` only the partners are needed here (the rest is passed through). ``outliers``: also the partner
    verdicts (:func:`~kimtools.analysis.network.partner_outliers`)."""

    start, end = N.twelve_months(zeitraum)
    f = {"stadtbezirk": stadtbezirk, "traeger": traeger, "zielgruppe": zielgruppe}
    window = N.referral_window(months if months is not None else N.referral_months(store, kommune), start, end, f)
    fixed = fixed if fixed is not None else network_fixed(store, kommune, f)
    edges, partners, waits = window["edges"], fixed["partners"], window["waits"]
    views = {**fixed, "start": start, "end": end, "edges": edges, "waits": waits, "sankey": window["sankey"],
             "domains": window["domains"], "graph": N.referral_graph(edges, partners)}
    if outliers:
        views["outliers"] = N.partner_outliers(edges, waits, partners)
    return views


def network_fixed(store: Store, kommune: str, filters: dict[str, str | None]) -> dict[str, object]:
    """What the network view shows independently of the quarter: partners, open loops of every quarter, top gaps."""

    with store.snapshot():
        return in_parallel({"partners": lambda: N.partner_table(store, kommune),
                            "loops": lambda: indicator_table(store, kommune, filters=filters, kennzahlen=["offene_schleifen"]),
                            "gaps": lambda: top_gaps(gap_table(store, kommune, filters=filters))})


def network_key(v: dict) -> tuple:
    return tuple(v[k] for k in ("kommune", "zeitraum", "stadtbezirk", "traeger", "zielgruppe"))


def network_window(store: Store, v: dict, months: dict[str, pd.DataFrame], partners: pd.DataFrame,
                    fixed: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, object]:
    """The network page's views for filter values ``v``: the window cut from ``months``, then the quarter-independent
    part ``fixed()`` (asked for last: it may still be under way in another thread)."""
    f = {c: v[c] for c in ("stadtbezirk", "traeger", "zielgruppe")}
    window = network_views(store, v["kommune"], v["zeitraum"], **f, months=months, fixed={"partners": partners},
                           outliers=False)
    return {"partners": partners, **fixed(), **window}


def network_base(store: Store, kommune: str, filters: dict[str, str | None]) -> dict[str, pd.DataFrame]:
    """The kommune's open loops, overall and by district, and its gap table with the districts, under the
    provider and target-group ``filters``: every district's share of :func:`network_fixed` is cut from these."""

    with store.snapshot():
        return in_parallel({
            "loops": lambda: indicator_table(store, kommune, filters=filters, kennzahlen=["offene_schleifen"]),
            "loops_by_district": lambda: indicator_table(store, kommune, by="stadtbezirk", filters=filters,
                                                         kennzahlen=["offene_schleifen"]),
            "gaps": lambda: gap_table(store, kommune, filters=filters)})


def district_fixed(base: dict[str, pd.DataFrame], stadtbezirk: str | None) -> dict[str, pd.DataFrame]:
    """Open loops and top gaps of one district (or the whole kommune) out of :func:`network_base`, without
    asking the database: filtering cases to a district equals grouping them by district."""

    loops, gaps = base["loops"], base["gaps"]
    if stadtbezirk is not None:
        by = base["loops_by_district"]
        loops = by.loc[by["stadtbezirk"] == stadtbezirk].drop(columns="stadtbezirk").reset_index(drop=True)
        gaps = gaps.loc[gaps["stadtbezirk"] == stadtbezirk].reset_index(drop=True)
    return {"loops": loops, "gaps": top_gaps(gaps)}


#: fewer waits than this give no median wait on the page (a median of a handful of referrals says little)
MIN_WAITS = 20


def network_key_figures(d: dict[str, pd.DataFrame], zeitraum: str) -> pd.DataFrame:
    """The network page's key figures, tidy (``kennzahl, zaehler, nenner, wert, ki_unten, ki_oben``), from its views
    ``d`` (:func:`network_window` with :func:`district_fixed`): referrals sent out of case management in the twelve
    months; their acceptance rate among those answered (Wilson 95 % interval); open loops at the end of ``zeitraum``;
    the median wait for a first contact (Kaplan–Meier, censored where none yet; NaN under :data:`MIN_WAITS` waits).
    Counts and rates unprotected: the page hides small ones."""
    out = d["edges"].loc[d["edges"]["richtung"] == "aus"]
    part, whole = REFERRAL_RATES["annahmequote"]
    sent, answered, accepted = int(out["n"].sum()), int(outcome(out, whole).sum()), int(outcome(out, part).sum())
    value, lo, hi = rate("annahmequote", [accepted], [answered])
    loops = d["loops"].loc[d["loops"]["zeitraum"] == zeitraum, "zaehler"]
    waits = d["waits"]
    median = km_median(waits.assign(_all=0), ["_all"])["median"].iloc[0] if len(waits) >= MIN_WAITS else float("nan")
    nan = float("nan")
    rows = [("vermittlungen", sent, nan, float(sent), nan, nan),
            ("annahmequote", accepted, answered, value[0], lo[0], hi[0]),
            ("offene_schleifen", loops.iloc[0] if len(loops) else nan, nan, loops.iloc[0] if len(loops) else nan, nan, nan),
            ("wartezeit_median_tage", nan, float(len(waits)), median, nan, nan)]
    return pd.DataFrame(rows, columns=["kennzahl", "zaehler", "nenner", "wert", "ki_unten", "ki_oben"])
