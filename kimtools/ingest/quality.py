"""Data quality a coordinator acts on: frames in, frames out, no I/O.

The reference day (``stichtag``) of a kommune is the latest event date in its
data (see :func:`stichtage`), so an old export is judged by its own date.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"kommune": ["H", "H"], "fall_id": ["F1", "F2"], "traeger": ["A", "B"],
...                   "person_pseudonym": ["p", "p"], "beginn": pd.to_datetime(["2024-01-01", "2024-03-01"]),
...                   "ende": pd.to_datetime(["2024-06-30", None])})
>>> parallel_cases(f)[["fall_id_a", "fall_id_b", "tage_parallel"]].to_dict("records")
[{'fall_id_a': 'F1', 'fall_id_b': 'F2', 'tage_parallel': 122}]
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..contract.outcomes import FIRST_CONTACT_EXPECTED, OPEN_LOOP_DAYS, SENT
from ..store import Store, has_table

__all__ = ["stored_quality", "stichtage", "completeness", "cases_without_consultation", "stale_referrals",
           "documentation_gaps", "parallel_cases", "quality_summary", "name_partners", "COMPLETENESS_COLUMNS",
           "QUALITY_TABLES"]

#: the tables the quality summary is computed from
QUALITY_TABLES = ("faelle", "beratungen", "vermittlungen")
#: optional columns whose completeness matters for later analysis
COMPLETENESS_COLUMNS = {
    "faelle": ["zugang_ueber", "geschlecht", "geburtsjahr", "haushalt_personen"],
    "beratungen": ["dauer_min", "handlungsfeld"],
    "vermittlungen": ["erstkontakt"],
}


def stichtage(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Latest event date per kommune (case starts and ends, consultations, referrals)."""
    f = tables["faelle"]
    dates = pd.concat([
        f[["kommune", "beginn"]].set_axis(["kommune", "d"], axis=1),
        f[["kommune", "ende"]].set_axis(["kommune", "d"], axis=1),
        tables["beratungen"][["kommune", "datum"]].set_axis(["kommune", "d"], axis=1),
        tables["vermittlungen"][["kommune", "datum"]].set_axis(["kommune", "d"], axis=1),
    ])
    return pd.to_datetime(dates["d"]).groupby(dates["kommune"]).max().rename("stichtag")


def completeness(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Share of filled optional values per kommune, provider (``traeger``) and column.

    Consultations and referrals count for their case's provider. ``erstkontakt``
    is only expected for accepted or completed referrals and is measured on those.
    Returns ``kommune, traeger, tabelle, spalte, ausgefuellt, gesamt, anteil``.
    """
    f = tables["faelle"]
    case_provider = f[["kommune", "fall_id", "traeger"]]
    parts = []
    for table, columns in COMPLETENESS_COLUMNS.items():
        frame = tables[table]
        if table != "faelle":
            frame = frame.merge(case_provider, on=["kommune", "fall_id"], how="left")
        if table == "vermittlungen":
            frame = frame.loc[frame["status"].isin(FIRST_CONTACT_EXPECTED)]
        for column in columns:
            filled = frame[column].notna() & (frame[column].astype(str) != "")
            g = filled.groupby([frame["kommune"], frame["traeger"]]).agg(["sum", "size"]).reset_index()
            g.columns = ["kommune", "traeger", "ausgefuellt", "gesamt"]
            g.insert(2, "tabelle", table)
            g.insert(3, "spalte", column)
            parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    out["ausgefuellt"] = out["ausgefuellt"].astype("int64")
    out["anteil"] = out["ausgefuellt"] / out["gesamt"]
    return out


def cases_without_consultation(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Cases with no consultation at all: ``kommune, fall_id, traeger, stadtbezirk, beginn, ende``."""
    f = tables["faelle"]
    has = tables["beratungen"][["kommune", "fall_id"]].drop_duplicates()
    merged = f.merge(has, on=["kommune", "fall_id"], how="left", indicator=True)
    out = merged.loc[merged["_merge"] == "left_only", ["kommune", "fall_id", "traeger", "stadtbezirk", "beginn", "ende"]]
    return out.sort_values(["kommune", "beginn"]).reset_index(drop=True)


def stale_referrals(tables: dict[str, pd.DataFrame], days: int = OPEN_LOOP_DAYS) -> pd.DataFrame:
    """Referrals still ``vermittelt`` more than ``days`` days after their date, at the kommune's reference day.

    Returns ``kommune, vermittlung_id, fall_id, an_partner, handlungsfeld, datum, tage_offen``.
    """
    v = tables["vermittlungen"]
    ref = stichtage(tables)
    open_ = v.loc[v["status"] == SENT].copy()
    open_["tage_offen"] = (open_["kommune"].map(ref) - pd.to_datetime(open_["datum"])).dt.days
    out = open_.loc[open_["tage_offen"] > days,
                    ["kommune", "vermittlung_id", "fall_id", "an_partner", "handlungsfeld", "datum", "tage_offen"]]
    return out.sort_values(["kommune", "tage_offen"], ascending=[True, False]).reset_index(drop=True)


def documentation_gaps(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Months without any documented consultation per provider, while the provider had open cases.

    A month counts when at least one of the provider's cases was open for the
    whole month and no consultation of any of its cases is dated in it; the
    kommune's last (possibly incomplete) month is left out.
    Returns ``kommune, traeger, monat`` (first day of the month).
    """
    f = tables["faelle"].copy()
    ref = stichtage(tables)
    f["stichtag"] = f["kommune"].map(ref)
    f["last_full"] = f["stichtag"].dt.to_period("M") - 1
    f["von"] = pd.to_datetime(f["beginn"]).dt.to_period("M") + 1   # first month fully inside the case
    end = pd.to_datetime(f["ende"]).fillna(f["stichtag"])
    f["bis"] = (end.dt.to_period("M") - 1).where(pd.to_datetime(f["ende"]).notna(), f["last_full"])
    f = f.loc[f["bis"] >= f["von"]]
    von = f["von"].map(lambda p: p.ordinal).to_numpy() if len(f) else np.array([], dtype=int)
    span = f["bis"].map(lambda p: p.ordinal).to_numpy() - von + 1 if len(f) else np.array([], dtype=int)
    idx = np.repeat(np.arange(len(f)), span)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(span) - span, span)
    months = pd.DataFrame({"kommune": f["kommune"].to_numpy()[idx], "traeger": f["traeger"].to_numpy()[idx],
                           "monat": pd.PeriodIndex.from_ordinals(von[idx] + offset, freq="M")})
    active = months[["kommune", "traeger", "monat"]].drop_duplicates()
    b = tables["beratungen"].merge(tables["faelle"][["kommune", "fall_id", "traeger"]], on=["kommune", "fall_id"])
    documented = b.assign(monat=pd.to_datetime(b["datum"]).dt.to_period("M"))[["kommune", "traeger", "monat"]].drop_duplicates()
    gaps = active.merge(documented, how="left", indicator=True)
    out = gaps.loc[gaps["_merge"] == "left_only", ["kommune", "traeger", "monat"]].copy()
    out["monat"] = out["monat"].dt.to_timestamp()
    return out.sort_values(["kommune", "traeger", "monat"]).reset_index(drop=True)


def parallel_cases(faelle: pd.DataFrame) -> pd.DataFrame:
    """Pairs of cases of the same person at two different providers that overlap in time.

    Returns ``kommune, fall_id_a, traeger_a, fall_id_b, traeger_b, parallel_ab, tage_parallel``
    (an open case counts as open up to the latest date in ``faelle``).
    """
    f = faelle[["kommune", "fall_id", "person_pseudonym", "traeger", "beginn", "ende"]].copy()
    f["beginn"] = pd.to_datetime(f["beginn"])
    f["ende_eff"] = pd.to_datetime(f["ende"]).fillna(pd.Timestamp.max.normalize())
    multi = f.loc[f.duplicated(["kommune", "person_pseudonym"], keep=False)]
    pairs = multi.merge(multi, on=["kommune", "person_pseudonym"], suffixes=("_a", "_b"))
    pairs = pairs.loc[(pairs["fall_id_a"] < pairs["fall_id_b"]) & (pairs["traeger_a"] != pairs["traeger_b"])]
    latest = pd.to_datetime(faelle[["beginn", "ende"]].stack()).max()
    start = pairs[["beginn_a", "beginn_b"]].max(axis=1)
    stop = pairs[["ende_eff_a", "ende_eff_b"]].min(axis=1).clip(upper=latest)
    pairs = pairs.assign(parallel_ab=start, tage_parallel=((stop - start).dt.days + 1).astype("int64"))
    pairs = pairs.loc[pairs["tage_parallel"] > 0]
    out = pairs[["kommune", "fall_id_a", "traeger_a", "fall_id_b", "traeger_b", "parallel_ab", "tage_parallel"]]
    return out.sort_values(["kommune", "parallel_ab"]).reset_index(drop=True)


def quality_summary(tables: dict[str, pd.DataFrame], stale_days: int = 30) -> pd.DataFrame:
    """One row per kommune with counts of every finding (aggregates only, for dashboards).

    Columns: ``kommune, stichtag, faelle, ohne_beratung, vermittlungen_offen_30, doku_luecken_monate,
    parallele_faelle, vollstaendigkeit`` (mean share of filled optional values).
    """
    f = tables["faelle"]
    out = pd.DataFrame({"faelle": f.groupby("kommune").size()})
    out["stichtag"] = stichtage(tables)
    out["ohne_beratung"] = cases_without_consultation(tables).groupby("kommune").size()
    out["vermittlungen_offen_30"] = stale_referrals(tables, stale_days).groupby("kommune").size()
    out["doku_luecken_monate"] = documentation_gaps(tables).groupby("kommune").size()
    out["parallele_faelle"] = parallel_cases(f).groupby("kommune").size()
    comp = completeness(tables)
    out["vollstaendigkeit"] = comp.groupby("kommune")["ausgefuellt"].sum() / comp.groupby("kommune")["gesamt"].sum()
    counts = ["ohne_beratung", "vermittlungen_offen_30", "doku_luecken_monate", "parallele_faelle"]
    out[counts] = out[counts].fillna(0).astype("int64")
    return out.reset_index()[["kommune", "stichtag", "faelle", *counts, "vollstaendigkeit"]]


def name_partners(frame: pd.DataFrame, partner: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Replace partner IDs in ``columns`` by ``name (ID)`` for reading; a new frame."""
    names = partner.set_index(["kommune", "partner_id"])["name"]
    out = frame.copy()
    for col in columns:
        keys = pd.MultiIndex.from_arrays([out["kommune"], out[col]])
        label = names.reindex(keys).to_numpy()
        out[col] = [f"{n} ({i})" if isinstance(n, str) else i for n, i in zip(label, out[col])]
    return out


def stored_quality(store: Store, kommune: str) -> pd.DataFrame:
    """The data-quality summary of ``kommune`` as recorded at its import; computed from its stored tables for a
    store imported before kimtools recorded it (as the importer would record it)."""
    with store.snapshot():
        if has_table(store.connect(), "datenqualitaet"):
            rows = store.query("SELECT * FROM datenqualitaet WHERE kommune = ?", [kommune])
            if len(rows):
                return rows
        return quality_summary(store.load(kommune, QUALITY_TABLES))
