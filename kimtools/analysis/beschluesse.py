"""Decisions and their effect (``docs/beschlussliste.md``, *Before and after*): for a decision that follows an
indicator, the indicator in its scope over the complete quarters before the decision and after its implementation,
each window as one value with its 95 % interval, and a change called better or worse only where the intervals do not
overlap. No causal claim: the words say what changed, not why.

- **vorher**: the four quarters before the quarter of ``datum`` (those the data hold complete);
- **nachher**: the complete quarters after the quarter of ``umgesetzt_am``, at most four;
- a count: its mean per quarter, with the exact Poisson interval of the window's sum divided by its quarters;
- a rate: numerator over denominator pooled over the window, with the interval its catalogue entry declares (Wilson
  for a share, Poisson for a rate per population): :func:`kimtools.indicators.counting.rate`;
- an indicator without an interval (a median, a ratio, full-time posts) shows its values, and no verdict.

A **complete quarter** is one the data hold whole: from the quarter of the data's first date up to the last quarter
that ended on or before the data end, without a quarter not yet delivered by every provider (``unvollstaendig``).

Compute functions take frames and return frames; :func:`decision_series` reads the indicator table.

Examples
--------
>>> import pandas as pd
>>> before, after = windows(pd.Timestamp("2025-03-31"), pd.Timestamp("2025-06-30"),
...                         [f"{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)])
>>> before, after
(['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'], ['2025-Q3', '2025-Q4'])
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..contract import codes
from ..contract.beschluesse import CLOSED, COLUMNS, DONE
from ..contract.catalogue import CATALOGUE, QUANTITIES
from ..indicators import indicator_table
from ..indicators.counting import rate
from ..indicators.disclosure import DEFAULT_MINIMUM
from ..indicators.stats import poisson_interval
from ..periods import quarter, quarter_label, quarter_labels
from ..store import Store

__all__ = ["WINDOW", "VERDICTS", "windows", "complete_quarters", "window_value", "before_after", "overdue",
           "decision_series", "draft_rows"]

#: at most so many quarters in each window
WINDOW = 4
#: the verdicts, German and English: where the intervals do not overlap, better or worse as ``richtung`` says; else
#: no clear change; no window after yet; too few to show; no interval to judge by
VERDICTS = {"besser": ("besser", "better"), "schlechter": ("schlechter", "worse"),
            "keine_klare_veraenderung": ("keine klare Veränderung", "no clear change"),
            "noch_offen": ("noch kein Zeitraum danach", "no period after yet"),
            "zu_wenige": ("zu wenige Fälle für eine Aussage", "too few cases to say"),
            "ohne_intervall": ("ohne Intervall keine Aussage", "no interval, no verdict"),
            "nicht_im_katalog": ("Kennzahl nicht mehr im Katalog", "indicator no longer in the catalogue")}


def windows(datum: pd.Timestamp, umgesetzt_am: pd.Timestamp | None, complete: Iterable[str]) -> tuple[list[str], list[str]]:
    """The quarters of the window before (the :data:`WINDOW` quarters before the quarter of ``datum``, as far as they
    are ``complete``) and after (the first :data:`WINDOW` complete quarters after the quarter of ``umgesetzt_am``;
    none without it).

    >>> windows(pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-02"), ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1",
    ...         "2025-Q2", "2025-Q3"])
    (['2024-Q2', '2024-Q3', '2024-Q4', '2025-Q1'], ['2025-Q3'])
    """
    complete = set(complete)
    q = pd.Timestamp(datum).to_period("Q")
    before = [quarter_label(q - i) for i in range(WINDOW, 0, -1) if quarter_label(q - i) in complete]
    if umgesetzt_am is None or pd.isna(umgesetzt_am):
        return before, []
    done = pd.Timestamp(umgesetzt_am).to_period("Q")
    after = sorted(c for c in complete if quarter(c) > done)[:WINDOW]
    return before, after


def complete_quarters(first: dt.date, end: dt.date, incomplete: Iterable[str] = ()) -> list[str]:
    """The quarters the data hold whole: from the quarter of ``first`` to the last one ending on or before ``end``,
    without ``incomplete`` ones.

    >>> complete_quarters(dt.date(2024, 7, 2), dt.date(2025, 3, 30))
    ['2024-Q3', '2024-Q4']
    >>> complete_quarters(dt.date(2024, 7, 2), dt.date(2025, 3, 31), incomplete=["2024-Q4"])
    ['2024-Q3', '2025-Q1']
    """
    last_day = pd.Timestamp(end)
    quarters = [q for q in quarter_labels(first, end) if quarter(q).end_time.normalize() <= last_day]
    return [q for q in quarters if q not in set(incomplete)]


def window_value(kennzahl: str, rows: pd.DataFrame, quarters: list[str]) -> dict[str, float]:
    """One window of ``kennzahl`` from its quarterly ``rows`` (``zeitraum``, ``zaehler``, ``nenner``, ``wert``; a quarter
    without a row counts nothing): ``wert``, ``unten``, ``oben``, the pooled ``zaehler`` and ``nenner``, ``quartale``.

    >>> rows = pd.DataFrame({"zeitraum": ["2024-Q1", "2024-Q2"], "zaehler": [3, 5], "nenner": [float("nan")] * 2,
    ...                      "wert": [3.0, 5.0]})
    >>> v = window_value("neuzugaenge", rows, ["2024-Q1", "2024-Q2"])
    >>> v["wert"], round(v["unten"], 3), round(v["oben"], 3)
    (4.0, 1.727, 7.882)
    """
    entry = CATALOGUE[kennzahl]
    n_q = len(quarters)
    nan = float("nan")
    out = {"quartale": n_q, "zaehler": nan, "nenner": nan, "wert": nan, "unten": nan, "oben": nan}
    if n_q == 0:
        return out
    inside = rows.loc[rows["zeitraum"].isin(quarters)]
    z = float(inside["zaehler"].astype("Float64").fillna(0).sum())
    n = float(inside["nenner"].astype("Float64").fillna(0).sum()) if entry.nenner is not None else nan
    if entry.is_count:
        if entry.zaehler is not None and entry.zaehler.zaehlt in QUANTITIES:   # full-time posts: a mean, no interval
            return {**out, "wert": float(inside["wert"].astype("Float64").fillna(0).sum()) / n_q}
        lo, hi = poisson_interval([z])
        return {**out, "zaehler": z, "wert": z / n_q, "unten": float(lo[0]) / n_q, "oben": float(hi[0]) / n_q}
    if entry.nenner is None:   # a median or another computation: the mean of its quarters, no interval
        values = inside["wert"].astype("Float64").dropna()
        return {**out, "wert": float(values.mean()) if len(values) else nan}
    wert, lo, hi = rate(entry, [z], [n])
    return {**out, "zaehler": z, "nenner": n, "wert": float(wert[0]), "unten": float(lo[0]), "oben": float(hi[0])}


def _verdict(before: dict, after: dict, richtung: str, shown: bool) -> str:
    if after["quartale"] == 0:
        return "noch_offen"
    if not shown:
        return "zu_wenige"
    if any(pd.isna(w[k]) for w in (before, after) for k in ("unten", "oben")):
        return "ohne_intervall"
    if after["unten"] > before["oben"]:
        return "besser" if richtung == "steigen" else "schlechter"
    if after["oben"] < before["unten"]:
        return "schlechter" if richtung == "steigen" else "besser"
    return "keine_klare_veraenderung"


def _small(window: dict, minimum: int) -> bool:
    """A window resting on a small count (1 … minimum − 1): its value is not shown."""
    z = window["zaehler"]
    return not pd.isna(z) and 0 < z < minimum


def before_after(decisions: pd.DataFrame, series: pd.DataFrame, complete: Mapping[str, list[str]],
                 minimum: int = DEFAULT_MINIMUM) -> pd.DataFrame:
    """Per decision with a ``kennzahl``: the windows' quarters (``vorher_von`` … ``nachher_bis``, ``*_quartale``), their
    values and intervals (``vorher``, ``vorher_unten``, ``vorher_oben``, ``nachher`` …; not shown, NaN, where a window
    rests on 1 … ``minimum`` − 1), and ``urteil`` (a key of :data:`VERDICTS`). ``series``: the quarterly rows of each
    decision's indicator in its scope (``kommune``, ``beschluss_id``, ``zeitraum``, ``zaehler``, ``nenner``, ``wert``),
    ``complete``: per kommune its complete quarters (:func:`complete_quarters`)."""
    rows = []
    for d in decisions.loc[decisions["kennzahl"].notna()].itertuples(index=False):
        if d.kennzahl not in CATALOGUE:   # an installation's own indicator since removed: the decision stays listed
            rows.append({"kommune": d.kommune, "beschluss_id": d.beschluss_id, "urteil": "nicht_im_katalog",
                         "vorher_quartale": 0, "nachher_quartale": 0})
            continue
        mine = series.loc[(series["kommune"] == d.kommune) & (series["beschluss_id"] == d.beschluss_id)]
        q_before, q_after = windows(d.datum, d.umgesetzt_am if d.status == DONE else None, complete.get(d.kommune, []))
        before, after = window_value(d.kennzahl, mine, q_before), window_value(d.kennzahl, mine, q_after)
        shown = not (_small(before, minimum) or _small(after, minimum))
        row = {"kommune": d.kommune, "beschluss_id": d.beschluss_id, "urteil": _verdict(before, after, d.richtung, shown)}
        for name, w, q in (("vorher", before, q_before), ("nachher", after, q_after)):
            hide = _small(w, minimum)
            row.update({name: np.nan if hide else w["wert"], f"{name}_unten": np.nan if hide else w["unten"],
                        f"{name}_oben": np.nan if hide else w["oben"], f"{name}_geschuetzt": hide,
                        f"{name}_quartale": len(q), f"{name}_von": q[0] if q else None, f"{name}_bis": q[-1] if q else None})
        rows.append(row)
    columns = ["kommune", "beschluss_id", *(f"{n}{s}" for n in ("vorher", "nachher")
                                            for s in ("", "_unten", "_oben", "_geschuetzt", "_quartale", "_von", "_bis")),
               "urteil"]
    return pd.DataFrame(rows, columns=columns)


def overdue(decisions: pd.DataFrame, today: dt.date) -> pd.Series:
    """Whether each decision is overdue on ``today``: its ``frist`` lies before it and it is neither implemented nor
    rejected.

    >>> d = pd.DataFrame({"frist": pd.to_datetime(["2026-06-30", "2026-06-29", "2026-06-29", None]),
    ...                   "status": ["offen", "in_umsetzung", "umgesetzt", "offen"]})
    >>> overdue(d, dt.date(2026, 6, 30)).tolist()
    [False, True, False, False]
    """
    frist = pd.to_datetime(decisions["frist"])
    return ((frist < pd.Timestamp(today)) & ~decisions["status"].isin(CLOSED)).fillna(False).astype(bool)


def decision_series(store: Store, decisions: pd.DataFrame) -> pd.DataFrame:
    """Per decision with a ``kennzahl``: its indicator per quarter in its scope (the kommune or its district, the
    breakdown's value): ``kommune``, ``beschluss_id``, ``zeitraum``, ``zaehler``, ``nenner``, ``wert``, ``ki_unten``,
    ``ki_oben``, ``unvollstaendig``. One indicator table per kommune, district and breakdown."""
    followed = decisions.loc[decisions["kennzahl"].isin(list(CATALOGUE))]
    parts = []
    for (kommune, bezirk, merkmal), group in followed.groupby(
            ["kommune", followed["stadtbezirk"].fillna(""), followed["merkmal"].fillna("")], sort=False):
        table = indicator_table(store, kommune, merkmal=merkmal or None,
                                filters={"stadtbezirk": bezirk} if bezirk else None,
                                kennzahlen=sorted(set(group["kennzahl"])))
        for d in group.itertuples(index=False):
            rows = table.loc[table["kennzahl"] == d.kennzahl]
            if merkmal:
                rows = rows.loc[rows["auspraegung"] == d.auspraegung]
            parts.append(rows[["zeitraum", "zaehler", "nenner", "wert", "ki_unten", "ki_oben", "unvollstaendig"]]
                         .assign(kommune=kommune, beschluss_id=d.beschluss_id))
    columns = ["kommune", "beschluss_id", "zeitraum", "zaehler", "nenner", "wert", "ki_unten", "ki_oben", "unvollstaendig"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def draft_rows(gaps: pd.DataFrame, today: dt.date, stadtbezirk: str | None = None,
               taken: Iterable[str] = ()) -> pd.DataFrame:
    """Draft rows of the Beschlussliste for gaps of the gap register (rows of
    :func:`kimtools.analysis.gaps.top_gaps`: ``kommune``, ``handlungsfeld``, ``luecke``): one per gap, to follow the
    indicator ``luecken`` by that gap type (in ``stadtbezirk`` if given) with direction ``sinken``, open, for the
    Planungskonferenz; the coordination writes the title it wants and the date the proposal is decided. Each gets an
    ID ``E-<day>-<n>`` that is not among ``taken`` (the IDs the list holds).

    >>> g = pd.DataFrame({"kommune": ["Herne"], "handlungsfeld": ["wohnen"], "luecke": ["wartezeit"]})
    >>> r = draft_rows(g, dt.date(2026, 12, 6), "Wanne").iloc[0]
    >>> r["beschluss_id"], r["kennzahl"], r["merkmal"], r["auspraegung"], r["richtung"], r["stadtbezirk"]
    ('E-20261206-1', 'luecken', 'luecke', 'wartezeit', 'sinken', 'Wanne')
    >>> draft_rows(g, dt.date(2026, 12, 6), taken={"E-20261206-1"})["beschluss_id"].tolist()
    ['E-20261206-2']
    """
    rows, taken, n = [], set(taken), 0
    for g in gaps.itertuples(index=False):
        n += 1
        while f"E-{today:%Y%m%d}-{n}" in taken:
            n += 1
        where = f" in {stadtbezirk}" if stadtbezirk else ""
        title = (f"Vorschlag: Lücke „{codes.label('luecke', g.luecke, 'de')}“ im Handlungsfeld "
                 f"{codes.label('handlungsfeld', g.handlungsfeld, 'de')}{where} schließen")[:120]
        rows.append({"beschluss_id": f"E-{today:%Y%m%d}-{n}", "kommune": g.kommune, "datum": today,
                     "gremium": "planungskonferenz", "titel": title, "beschreibung": "", "zustaendig": "",
                     "luecke": g.luecke, "handlungsfeld": g.handlungsfeld, "kennzahl": "luecken",
                     "stadtbezirk": stadtbezirk or "", "merkmal": "luecke", "auspraegung": g.luecke,
                     "richtung": "sinken", "zielwert": None, "frist": None, "status": "offen", "umgesetzt_am": None})
    return pd.DataFrame(rows, columns=list(COLUMNS))
