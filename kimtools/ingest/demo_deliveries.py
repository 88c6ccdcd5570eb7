"""The demo as providers deliver it: one delivery per kommune and provider (``kimtools demo --je-traeger``).

Each provider numbers its cases, consultations and referrals 1, 2, 3 on its own, spells the partners its own way
(as typed into its own system: other case, blanks and punctuation), every second provider numbers the partners its
own way too (``P01``, ``P02`` …: the partner register maps them) and delivers on its own day: one provider of
each kommune is a month behind (:func:`behind`), so that the kommune's last month is not yet complete for every
provider. All providers of a kommune use one person key (as with one shared case-management system): imported
with ``--gemeinsame-personenschluessel``, the deliveries together give the indicator table of the whole-kommune
export of the same data (:func:`cut_provider` applied to it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ..progress import progress
from .files import write_export_csv

__all__ = ["kommune_part", "cut_provider", "behind", "provider_deliveries", "lagging_export", "write_provider_deliveries",
           "LAGGING_MONTHS"]

#: how far the lagging provider of each demo kommune is behind the others
LAGGING_MONTHS = 1


def kommune_part(tables: dict[str, pd.DataFrame], kommune: str) -> dict[str, pd.DataFrame]:
    """``kommune``'s rows of every table of the demo export (whose consultations, referrals, status changes and
    posts find their kommune through their case or provider)."""
    cases = tables["faelle"].loc[tables["faelle"]["kommune"] == kommune]
    partner = tables["partner"].loc[tables["partner"]["kommune"] == kommune]
    out = {"faelle": cases, "partner": partner,
           "stellen": tables["stellen"].loc[tables["stellen"]["traeger"].isin(partner["partner_id"])]}
    for name in ("beratungen", "vermittlungen", "statuswechsel"):
        out[name] = tables[name].loc[tables[name]["fall_id"].isin(cases["fall_id"])]
    if "bezirke" in tables:
        out["bezirke"] = tables["bezirke"].loc[tables["bezirke"]["kommune"] == kommune]
    return out


def behind(tables: dict[str, pd.DataFrame]) -> str:
    """The provider of a kommune's export that delivers a month late in the demo: the one with the fewest cases
    (a small provider's export is the one that slips)."""
    counts = tables["faelle"].groupby("traeger").size()
    return str(counts.sort_values(kind="stable").index[0])


def cut_provider(tables: dict[str, pd.DataFrame], provider: str, end: dt.date) -> dict[str, pd.DataFrame]:
    """A kommune's export with one provider's data as its system showed it at ``end``: cases begun later, and
    consultations, referrals and status changes dated later, are not there; a case closed later is open, a post
    ended later still runs; a first appointment after ``end`` is not yet known. The other providers' rows stay."""
    end = pd.Timestamp(end)
    out = dict(tables)
    f = tables["faelle"]
    mine = f["traeger"] == provider
    f = f.loc[~(mine & (pd.to_datetime(f["beginn"]) > end))].copy()
    f.loc[(f["traeger"] == provider) & (pd.to_datetime(f["ende"]) > end), ["ende", "abschlussgrund"]] = None
    out["faelle"] = f
    theirs = set(tables["faelle"].loc[mine, "fall_id"])
    for name in ("beratungen", "vermittlungen", "statuswechsel"):
        frame = tables[name]
        of_provider = frame["fall_id"].isin(theirs)
        frame = frame.loc[~(of_provider & ((pd.to_datetime(frame["datum"]) > end) | ~frame["fall_id"].isin(f["fall_id"])))]
        frame = frame.copy()
        if name == "vermittlungen":
            frame.loc[frame["fall_id"].isin(theirs) & (pd.to_datetime(frame["erstkontakt"]) > end), "erstkontakt"] = None
        out[name] = frame
    posts = tables["stellen"]
    mine_posts = posts["traeger"] == provider
    posts = posts.loc[~(mine_posts & (pd.to_datetime(posts["von"]) > end))].copy()
    posts.loc[(posts["traeger"] == provider) & (pd.to_datetime(posts["bis"]) > end), "bis"] = None
    out["stellen"] = posts
    return out


def _respell(name: str, style: int) -> str:
    """A partner's name as one provider typed it."""
    if style == 1:
        return name.upper()
    if style == 2:
        return name.replace(" – ", " - ").replace(".", "").replace("  ", " ")
    if style == 3:
        return " ".join(name.split()).lower()
    return name


def provider_deliveries(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.DataFrame]]:
    """A kommune's export (:func:`kommune_part`) as one delivery per provider: each with its own numbering of cases,
    consultations and referrals, the kommune's partners spelled its way, its posts, and the district figures; and
    one per employer of posts that has no cases (its posts and the partners only)."""
    out = {}
    for style, (provider, cases) in enumerate(tables["faelle"].groupby("traeger", sort=True)):
        own = dict(zip(cases["fall_id"], (str(i + 1) for i in range(len(cases)))))
        d = {"faelle": cases.assign(fall_id=cases["fall_id"].map(own))}
        for name, own_id in (("beratungen", "beratung_id"), ("vermittlungen", "vermittlung_id"), ("statuswechsel", None)):
            frame = tables[name].loc[tables[name]["fall_id"].isin(own)]
            frame = frame.assign(fall_id=frame["fall_id"].map(own))
            if own_id:
                frame = frame.assign(**{own_id: [str(i + 1) for i in range(len(frame))]})
            d[name] = frame
        partner = tables["partner"]
        d["partner"] = partner.assign(name=partner["name"].map(lambda n, s=style: _respell(n, s % 4)))
        if style % 2:   # this provider's system numbers the partners its own way (its own ID stays)
            ids = {p: f"P{i + 1:02d}" for i, p in enumerate(partner["partner_id"]) if p != provider}
            d["partner"] = d["partner"].assign(partner_id=d["partner"]["partner_id"].replace(ids))
            d["faelle"] = d["faelle"].assign(zugang_ueber=d["faelle"]["zugang_ueber"].replace(ids))
            d["vermittlungen"] = d["vermittlungen"].assign(an_partner=d["vermittlungen"]["an_partner"].replace(ids))
        d["stellen"] = tables["stellen"].loc[tables["stellen"]["traeger"] == provider]
        if "bezirke" in tables:
            d["bezirke"] = tables["bezirke"]
        out[str(provider)] = d
    # employers of posts without cases (the coordination, the Ausländerbehörde: Bausteine 1 and 3) deliver their
    # posts alone
    for employer in sorted(set(tables["stellen"]["traeger"]) - set(out)):
        d = {name: tables[name].iloc[0:0] for name in ("faelle", "beratungen", "vermittlungen", "statuswechsel")}
        d["partner"] = tables["partner"]
        d["stellen"] = tables["stellen"].loc[tables["stellen"]["traeger"] == employer]
        if "bezirke" in tables:
            d["bezirke"] = tables["bezirke"]
        out[str(employer)] = d
    return out


def lagging_export(tables: dict[str, pd.DataFrame], kommune: str) -> tuple[dict[str, pd.DataFrame], str]:
    """``kommune``'s export with its lagging provider (:func:`behind`) cut :data:`LAGGING_MONTHS` before the data
    end, and that provider: the whole-kommune export the provider deliveries add up to."""
    part = kommune_part(tables, kommune)
    dates = [pd.to_datetime(part[t][c]).max() for t, c in
             (("faelle", "beginn"), ("faelle", "ende"), ("beratungen", "datum"), ("vermittlungen", "datum"))]
    end = max(d for d in dates if pd.notna(d))
    lagging = behind(part)
    return cut_provider(part, lagging, (end - pd.DateOffset(months=LAGGING_MONTHS)).date()), lagging


def write_provider_deliveries(tables: dict[str, pd.DataFrame], out: Path, show_progress: bool = True) -> list[Path]:
    """Write one folder per kommune and provider (``out/<kommune>/<provider>/``) of :func:`lagging_export`, each
    table as a CSV file in export form. Returns the folders."""
    folders = []
    kommunen = sorted(tables["faelle"]["kommune"].unique())
    for kommune in progress(kommunen, desc="Lieferungen", disable=not show_progress, unit="Kommune"):
        cut, _ = lagging_export(tables, kommune)
        for provider, delivery in provider_deliveries(cut).items():
            folder = out / _folder_name(kommune) / _folder_name(provider)
            folder.mkdir(parents=True, exist_ok=True)
            for name, frame in delivery.items():
                write_export_csv(frame, folder / f"{name}.csv")
            folders.append(folder)
    return folders


def _folder_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)
