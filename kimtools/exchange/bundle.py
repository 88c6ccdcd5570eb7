"""The inter-city comparison bundle (``shared/comparison-bundle-format.md``, version 1): write, read, merge.

A bundle leaves the city, so it holds protected counts, rates derived from
them and the reference figures used as denominators — nothing about a person
or a case. Its tables are designed so that a typical city keeps most cells
(see ``docs/vergleichspaket.md``):

* every count by district (and ``Gesamt``) and quarter and year, without breakdown;
* each breakdown by district and *year*, and for the whole city by *quarter*;
  a district × breakdown × quarter table would be mostly protected.

Every sum that holds between the rows is declared in ``metadaten.json`` and
used by the audit (:func:`kimtools.exchange.disclosure.audit`), which the writer runs
before it writes and every reader runs again.

Examples
--------
>>> parse_period("2024-Q2")
(Timestamp('2024-04-01 00:00:00'), Timestamp('2024-06-30 00:00:00'))
>>> bundle_name("Mülheim an der Ruhr", "2024-Q1", "2025-Q4")
'kim-vergleich_Mülheim-an-der-Ruhr_2024-Q1_2025-Q4'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from ..contract.codes import CODE_LISTS
from ..contract.outcomes import OUTCOMES, REFERRAL_RATES
from ..contract.reference import load_reference
from ..errors import BundleError, DisclosureError, KimtoolsError, UsageError
from ..i18n import fmt_percent
from ..indicators.stats import poisson_interval, wilson_interval
from ..paths import DATA
from ..periods import YEAR_OR_QUARTER, last_complete_quarter, parse_period, period_label, quarter
from ..progress import progress
from ..store import SPAN_TABLE, Store
from .disclosure import DEFAULT_MINIMUM, Sum, audit, protect

__all__ = ["BUNDLE_KENNZAHLEN", "BUNDLE_RATES", "COUNT_COLUMNS", "RATE_COLUMNS", "REFERENCE_COLUMNS",
           "Bundle", "parse_period", "bundle_name", "bundle_counts", "bundle_sums", "protect_counts",
           "bundle_rates", "bundle_reference", "build_bundle", "export_bundle", "export_bundles", "read_bundle", "merge_bundles", "write_merged", "read_merged",
           "default_comparison_dir"]

FORMAT, VERSION = "kim-vergleichspaket", 1
GESAMT, KEINS = "Gesamt", "keins"
#: a bundle that would have to protect more than this share of its non-zero cells is refused: it would
#: say almost nothing, and a city that small needs whole years or a longer period
MAX_SHARE_PROTECTED = 0.5

#: what the bundle counts: event counts (quarters add up to the year) and its breakdowns, all single-valued
BUNDLE_KENNZAHLEN: dict[str, dict] = {
    "faelle_neu": {"ereignis": True, "merkmale": ("zielgruppe", "aufenthaltsstatus")},
    "faelle_abgeschlossen": {"ereignis": True, "merkmale": ("abschlussgrund",)},
    "faelle_offen": {"ereignis": False, "merkmale": ()},
    "personen_erreicht": {"ereignis": False, "merkmale": ("zielgruppe", "aufenthaltsstatus")},
    "beratungen": {"ereignis": True, "merkmale": ("handlungsfeld", "zielgruppe")},
    "vermittlungen": {"ereignis": True, "merkmale": ("handlungsfeld", "vermittlungsstatus", "partnertyp")},
}
#: the code list behind each breakdown
_CODE_LIST = {"zielgruppe": "zielgruppe", "aufenthaltsstatus": "aufenthaltsstatus", "handlungsfeld": "handlungsfeld",
              "abschlussgrund": "abschlussgrund", "vermittlungsstatus": "vermittlungsstatus", "partnertyp": "partnertyp"}

#: rates of ``kennzahlen.csv``: numerator and denominator as (kennzahl, merkmal, codes) of published
#: counts or ("bezug", reference figure); the interval; the scale. Names as in the indicator catalogue.
BUNDLE_RATES: dict[str, dict] = {
    "reichweite_je_1000": {"zaehler": ("personen_erreicht", KEINS, (GESAMT,)), "nenner": ("bezug", "einwohner"),
                           "art": "poisson", "faktor": 1000.0},
    "reichweite_je_1000_auslaender": {"zaehler": ("personen_erreicht", KEINS, (GESAMT,)),
                                      "nenner": ("bezug", "auslaender"), "art": "poisson", "faktor": 1000.0},
    "faelle_je_vzae": {"zaehler": ("faelle_offen", KEINS, (GESAMT,)), "nenner": ("bezug", "vzae"),
                       "art": "poisson", "faktor": 1.0},
    "abschluesse_ziel_erreicht_quote": {"zaehler": ("faelle_abgeschlossen", "abschlussgrund", ("ziel_erreicht",)),
                                        "nenner": ("faelle_abgeschlossen", KEINS, (GESAMT,)),
                                        "art": "binomial", "faktor": 1.0},
    **{kennzahl: {"zaehler": ("vermittlungen", "vermittlungsstatus", OUTCOMES[part]),
                  "nenner": ("vermittlungen", "vermittlungsstatus", OUTCOMES[whole]), "art": "binomial", "faktor": 1.0}
       for kennzahl, (part, whole) in REFERRAL_RATES.items()},
}

COUNT_COLUMNS = ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "merkmal", "auspraegung", "anzahl", "geschuetzt"]
RATE_COLUMNS = ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert", "unten", "oben"]
REFERENCE_COLUMNS = ["kommune", "stadtbezirk", "bezugsgroesse", "zeitraum", "wert", "stand", "quelle"]
_FILES = {"zaehlungen.csv": COUNT_COLUMNS, "kennzahlen.csv": RATE_COLUMNS, "bezirke.csv": REFERENCE_COLUMNS}


def bundle_name(kommune: str, first: str, last: str) -> str:
    slug = re.sub(r"[\s/]+", "-", kommune.strip())
    return f"kim-vergleich_{slug}_{first}_{last}"


def _periods(first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The quarters from ``first`` to ``last`` and the calendar years wholly inside: ``zeitraum, ps, pe, jahr, art``."""
    quarters = pd.date_range(first, last, freq="QS")
    rows = [(period_label(q, "quarter"), q, q + pd.offsets.QuarterEnd(0), q.year, "quartal") for q in quarters]
    for year in sorted({q.year for q in quarters}):
        if sum(q.year == year for q in quarters) == 4:
            rows.append((str(year), pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), year, "jahr"))
    return pd.DataFrame(rows, columns=["zeitraum", "ps", "pe", "jahr", "art"])


def _default_range(store: Store, kommune: str) -> tuple[str, str]:
    """The last complete quarter of the kommune's data and the quarters of the two calendar years before it."""
    span = store.query(f"SELECT d1 FROM {SPAN_TABLE} WHERE kommune = ?", [kommune])
    if span.empty or pd.isna(span["d1"].iloc[0]):
        raise UsageError(f"Zur Kommune {kommune!r} gibt es keine Daten im Datenbestand.",
                         f"The store holds no data for the kommune {kommune!r}.")
    last = last_complete_quarter(span["d1"].iloc[0])
    return f"{quarter(last).year - 2}-Q1", last


# ----------------------------------------------------------------------------- counting
_UNITS_SQL = """
WITH p AS (SELECT * FROM periods),
f AS (SELECT * FROM faelle WHERE kommune = $kommune),
events AS (
    SELECT 'faelle_neu' AS kennzahl, stadtbezirk, beginn AS d, zielgruppe, aufenthaltsstatus,
           NULL AS handlungsfeld, NULL AS abschlussgrund, NULL AS vermittlungsstatus, NULL AS partnertyp FROM f
    UNION ALL
    SELECT 'faelle_abgeschlossen', stadtbezirk, ende, NULL, NULL, NULL, coalesce(abschlussgrund, 'ohne_angabe'),
           NULL, NULL FROM f WHERE ende IS NOT NULL
    UNION ALL
    SELECT 'beratungen', f.stadtbezirk, b.datum, f.zielgruppe, NULL, coalesce(b.handlungsfeld, 'ohne_angabe'),
           NULL, NULL, NULL
    FROM beratungen b JOIN f ON b.kommune = f.kommune AND b.fall_id = f.fall_id
    UNION ALL
    SELECT 'vermittlungen', f.stadtbezirk, v.datum, NULL, NULL, v.handlungsfeld, NULL, v.status,
           coalesce(pt.typ, 'ohne_angabe')
    FROM vermittlungen v JOIN f ON v.kommune = f.kommune AND v.fall_id = f.fall_id
    LEFT JOIN partner pt ON pt.kommune = v.kommune AND pt.partner_id = v.an_partner),
open_end AS (   -- stock: cases open on the last day of the period
    SELECT 'faelle_offen' AS kennzahl, p.zeitraum, f.stadtbezirk, NULL AS zielgruppe, NULL AS aufenthaltsstatus
    FROM f JOIN p ON f.beginn <= p.pe AND (f.ende IS NULL OR f.ende > p.pe)),
persons AS (    -- each person once per period, at the case that began last among those open in it
    SELECT 'personen_erreicht' AS kennzahl, zeitraum, arg_max(stadtbezirk, (beginn, fall_id)) AS stadtbezirk,
           arg_max(zielgruppe, (beginn, fall_id)) AS zielgruppe,
           arg_max(aufenthaltsstatus, (beginn, fall_id)) AS aufenthaltsstatus
    FROM f JOIN p ON f.beginn <= p.pe AND (f.ende IS NULL OR f.ende >= p.ps)
    GROUP BY zeitraum, person_pseudonym)
SELECT e.kennzahl, p.zeitraum, e.stadtbezirk, e.zielgruppe, e.aufenthaltsstatus, e.handlungsfeld,
       e.abschlussgrund, e.vermittlungsstatus, e.partnertyp, count(*) AS n
FROM events e JOIN p ON e.d BETWEEN p.ps AND p.pe
GROUP BY ALL
UNION ALL
SELECT kennzahl, zeitraum, stadtbezirk, zielgruppe, aufenthaltsstatus, NULL, NULL, NULL, NULL, count(*)
FROM (SELECT * FROM open_end UNION ALL BY NAME SELECT * FROM persons)
GROUP BY ALL
"""


def _districts(store: Store, kommune: str) -> list[str]:
    rows = store.query("SELECT stadtbezirk FROM bezirke WHERE kommune = $k UNION SELECT stadtbezirk FROM faelle "
                       "WHERE kommune = $k", {"k": kommune})
    return sorted(rows["stadtbezirk"].dropna().unique().tolist())


def bundle_counts(store: Store, kommune: str, first: str, last: str) -> pd.DataFrame:
    """The true (unprotected) counts of a bundle, long: one row per cell of :data:`COUNT_COLUMNS`
    without ``geschuetzt``. Every district and every code appears, zeros included, so that the sums
    between the rows hold; breakdowns by district only for whole years."""
    periods = _periods(parse_period(first)[0], parse_period(last)[1])
    if periods.empty:
        raise UsageError(f"Der Zeitraum {first} bis {last} ist leer.", f"The period {first} to {last} is empty.")
    con = store.connect().cursor()
    con.register("periods", periods.assign(ps=periods["ps"].dt.date, pe=periods["pe"].dt.date))
    units = con.execute(_UNITS_SQL, {"kommune": kommune}).df()
    districts = _districts(store, kommune)
    all_periods = periods["zeitraum"].tolist()
    years = periods.loc[periods["art"] == "jahr", "zeitraum"].tolist()
    parts = []

    def grid(frame: pd.DataFrame, keys: list[str], levels: list[list]) -> pd.DataFrame:
        index = pd.MultiIndex.from_product(levels, names=keys)
        return frame.groupby(keys)["n"].sum().reindex(index, fill_value=0).rename("anzahl").reset_index()

    for kennzahl, spec in BUNDLE_KENNZAHLEN.items():
        u = units.loc[units["kennzahl"] == kennzahl]
        city = u.assign(stadtbezirk=GESAMT)
        keins = pd.concat([grid(u, ["zeitraum", "stadtbezirk"], [all_periods, districts]),
                           grid(city, ["zeitraum", "stadtbezirk"], [all_periods, [GESAMT]])])
        parts.append(keins.assign(kennzahl=kennzahl, merkmal=KEINS, auspraegung=GESAMT))
        for merkmal in spec["merkmale"]:
            codes = list(CODE_LISTS[_CODE_LIST[merkmal]])
            codes += sorted(set(u[merkmal].dropna()) - set(codes))
            m = u.rename(columns={merkmal: "auspraegung"})
            mc = city.rename(columns={merkmal: "auspraegung"})
            by_code = pd.concat([grid(m, ["zeitraum", "stadtbezirk", "auspraegung"], [years, districts, codes]),
                                 grid(mc, ["zeitraum", "stadtbezirk", "auspraegung"], [all_periods, [GESAMT], codes])])
            # a breakdown's Gesamt row is the count without breakdown, for each (period, district) it has
            margins = keins.merge(by_code[["zeitraum", "stadtbezirk"]].drop_duplicates(), on=["zeitraum", "stadtbezirk"])
            parts.append(pd.concat([by_code, margins.assign(auspraegung=GESAMT)])
                         .assign(kennzahl=kennzahl, merkmal=merkmal))
    out = pd.concat(parts, ignore_index=True).assign(kommune=kommune)
    out["anzahl"] = out["anzahl"].astype("int64")
    return out[COUNT_COLUMNS[:-1]]


def _cell_keys(counts: pd.DataFrame) -> pd.Series:
    """One id per distinct cell: a breakdown's ``Gesamt`` row is the same cell as the ``keins`` row."""
    merkmal = counts["merkmal"].where(counts["auspraegung"] != GESAMT, KEINS)
    key = pd.MultiIndex.from_arrays([counts["stadtbezirk"], counts["zeitraum"], counts["kennzahl"], merkmal,
                                     counts["auspraegung"]])
    return pd.Series(pd.factorize(key)[0], index=counts.index)


def _group_sums(group: np.ndarray, is_total: np.ndarray, cell: np.ndarray) -> list[Sum]:
    """Per group (rows with equal ``group``, ``-1`` = none) one sum: its single total row over the others."""
    keep = group >= 0
    group, is_total, cell = group[keep], is_total[keep], cell[keep]
    order = np.lexsort((~is_total, group))
    group, is_total, cell = group[order], is_total[order], cell[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    out = []
    for lo, hi in zip(starts, np.r_[starts[1:], len(group)]):
        if is_total[lo] and (hi - lo == 1 or not is_total[lo + 1]) and hi - lo > 1:
            out.append(Sum(int(cell[lo]), tuple(int(x) for x in cell[lo + 1:hi])))
    return out


def bundle_sums(counts: pd.DataFrame, cells: pd.Series, einwertig: Iterable[str],
                ereignisse: Iterable[str]) -> list[Sum]:
    """Every sum that holds between the rows of ``zaehlungen.csv``, on cell ids ``cells``:
    districts to ``Gesamt``; the codes of a single-valued breakdown to its ``Gesamt``; for event
    counts the four quarters of a year to the year (only where the year and all four quarters appear)."""
    cell = cells.to_numpy()

    def ids(keys: list[str], where=None) -> np.ndarray:
        g = counts.groupby(keys, sort=False).ngroup().to_numpy()
        return g if where is None else np.where(where, g, -1)

    sums = _group_sums(ids(["kennzahl", "merkmal", "auspraegung", "zeitraum"]),
                       (counts["stadtbezirk"] == GESAMT).to_numpy(), cell)
    sums += _group_sums(ids(["kennzahl", "merkmal", "stadtbezirk", "zeitraum"],
                            counts["merkmal"].isin(list(einwertig)).to_numpy()),
                        (counts["auspraegung"] == GESAMT).to_numpy(), cell)
    is_year = (counts["zeitraum"].str.len() == 4).to_numpy()
    events = counts["kennzahl"].isin(list(ereignisse)).to_numpy()
    year = counts.assign(_jahr=counts["zeitraum"].str[:4])
    g = year.groupby(["kennzahl", "merkmal", "auspraegung", "stadtbezirk", "_jahr"], sort=False).ngroup().to_numpy()
    sums += [s for s in _group_sums(np.where(events, g, -1), is_year, cell) if len(s.parts) == 4]
    return list({(s.total, s.parts): s for s in sums}.values())


def _minimums(counts: pd.DataFrame, cells: pd.Series, minimum: int, per_merkmal: dict[str, int]) -> np.ndarray:
    """Per cell id the highest minimum among its rows (a breakdown's Gesamt row is also the keins row)."""
    row_min = counts["merkmal"].map(per_merkmal).fillna(minimum).astype("int64")
    return row_min.groupby(cells.to_numpy()).max().sort_index().to_numpy()


def protect_counts(counts: pd.DataFrame, minimum: int = DEFAULT_MINIMUM,
                   per_merkmal: dict[str, int] | None = None) -> pd.DataFrame:
    """``counts`` with ``anzahl`` emptied and ``geschuetzt = 'ja'`` where protected
    (:func:`kimtools.exchange.disclosure.protect` over every sum of :func:`bundle_sums`)."""
    c = _Cells(counts, minimum, per_merkmal or {}, _CODE_LIST, _events())
    mask = protect(c.values.to_numpy(), c.sums, c.minimums, c.names.tolist())
    hidden = mask[c.ids.to_numpy()]
    out = counts.copy()
    out["anzahl"] = out["anzahl"].astype("Int64").mask(hidden)
    out["geschuetzt"] = np.where(hidden, "ja", "")
    return out[COUNT_COLUMNS]


class _Cells:
    """The distinct cells of a bundle's counts, as the writer and every reader see them: an id per
    row (:func:`_cell_keys`), one value per id (missing where protected), the sums between them, each
    id's minimum and a name ``kennzahl/stadtbezirk/zeitraum/merkmal=auspraegung`` for messages."""

    def __init__(self, counts: pd.DataFrame, minimum: int, per_merkmal: dict[str, int],
                 einwertig: Iterable[str], ereignisse: Iterable[str]):
        self.ids = _cell_keys(counts)
        by_id = counts.groupby(self.ids.to_numpy())
        self.values = by_id["anzahl"].first().sort_index()
        self.sums = bundle_sums(counts, self.ids, einwertig, ereignisse)
        self.minimums = _minimums(counts, self.ids, minimum, per_merkmal)
        first = by_id.head(1)
        self.names = pd.Series((first["kennzahl"] + "/" + first["stadtbezirk"] + "/" + first["zeitraum"] + "/"
                                + first["merkmal"] + "=" + first["auspraegung"]).to_numpy(),
                               index=self.ids[first.index].to_numpy()).sort_index()


def _events() -> list[str]:
    return [k for k, spec in BUNDLE_KENNZAHLEN.items() if spec["ereignis"]]


# ----------------------------------------------------------------------------- reference figures and rates
def bundle_reference(store: Store, kommune: str, periods: pd.DataFrame) -> pd.DataFrame:
    """Denominators: inhabitants and foreign nationals per district (as stored, with date and source;
    ``Gesamt`` their sum) and full-time posts active on each period's last day (district posts per
    district, all posts including city-wide ones under ``Gesamt``)."""
    bez = store.query("SELECT * FROM bezirke WHERE kommune = ?", [kommune])
    rows = []
    for groesse in ("einwohner", "auslaender"):
        b = bez.loc[bez[groesse].notna()]
        for r in b.itertuples():
            rows.append((kommune, r.stadtbezirk, groesse, "", float(getattr(r, groesse)),
                         pd.Timestamp(r.stand).date().isoformat(), r.quelle))
        if len(b) and len(b) == len(bez):
            rows.append((kommune, GESAMT, groesse, "", float(b[groesse].sum()),
                         pd.Timestamp(b["stand"].max()).date().isoformat(),
                         "Summe der Stadtbezirke"))
    posts = store.query("SELECT stadtbezirk, vzae, von, bis FROM stellen WHERE kommune = ?", [kommune])
    for p in periods.itertuples():
        active = posts.loc[(pd.to_datetime(posts["von"]) <= p.pe)
                           & (posts["bis"].isna() | (pd.to_datetime(posts["bis"]) >= p.pe))]
        if active.empty:
            continue
        stand = p.pe.date().isoformat()
        for district, vzae in active.dropna(subset=["stadtbezirk"]).groupby("stadtbezirk")["vzae"].sum().items():
            rows.append((kommune, district, "vzae", p.zeitraum, float(vzae), stand, "Tabelle stellen des Exports"))
        rows.append((kommune, GESAMT, "vzae", p.zeitraum, float(active["vzae"].sum()), stand,
                     "Tabelle stellen des Exports (mit stadtweiten Stellen)"))
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


def bundle_rates(counts: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Rates from *published* counts and reference figures only (:data:`BUNDLE_RATES`), each with its
    95 % interval (exact Poisson for rates, Wilson for shares). A rate whose counts are protected is
    left out, so no rate can give a protected count away."""
    published = counts.dropna(subset=["anzahl"])
    key = ["kommune", "stadtbezirk", "zeitraum"]

    def summed(spec) -> pd.Series:
        kennzahl, merkmal, codes = spec
        rows = counts.loc[(counts["kennzahl"] == kennzahl) & (counts["merkmal"] == merkmal)
                          & counts["auspraegung"].isin(codes)]
        complete = rows.groupby(key)["anzahl"].apply(lambda s: s.notna().all() and len(s) == len(codes))
        return rows.groupby(key)["anzahl"].sum().astype(float)[complete]

    ref = reference.copy()
    ref_static = ref.loc[ref["zeitraum"] == ""].set_index(["kommune", "stadtbezirk", "bezugsgroesse"])["wert"]
    parts = []
    for name, spec in BUNDLE_RATES.items():
        z = summed(spec["zaehler"]) if not published.empty else pd.Series(dtype=float)
        if spec["nenner"][0] == "bezug":
            groesse = spec["nenner"][1]
            idx = z.index.to_frame(index=False)
            if groesse == "vzae":
                r = ref.loc[ref["bezugsgroesse"] == "vzae"].set_index(key)["wert"]
                n = pd.Series(r.reindex(z.index).to_numpy(), index=z.index)
            else:
                n = pd.Series(ref_static.reindex(pd.MultiIndex.from_arrays(
                    [idx["kommune"], idx["stadtbezirk"], [groesse] * len(idx)])).to_numpy(), index=z.index)
        else:
            n = summed(spec["nenner"]).reindex(z.index)
        frame = pd.DataFrame({"zaehler": z, "nenner": n}).dropna()
        frame = frame.loc[frame["nenner"] > 0]
        if frame.empty:
            continue
        if spec["art"] == "binomial":
            lo, hi = wilson_interval(frame["zaehler"], frame["nenner"])
        else:
            lo, hi = poisson_interval(frame["zaehler"])
            lo, hi = lo / frame["nenner"].to_numpy(), hi / frame["nenner"].to_numpy()
        f = spec["faktor"]
        parts.append(frame.reset_index().assign(kennzahl=name, wert=frame["zaehler"].to_numpy() / frame["nenner"].to_numpy() * f,
                                                unten=lo * f, oben=hi * f))
    if not parts:
        return pd.DataFrame(columns=RATE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[RATE_COLUMNS]


# ----------------------------------------------------------------------------- writing
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", float_format="%.6g", lineterminator="\n")


@dataclass
class ExportResult:
    folder: Path
    zip: Path
    zellen: int
    geschuetzt: int

    @property
    def anteil_geschuetzt(self) -> float:
        return self.geschuetzt / self.zellen if self.zellen else 0.0


def build_bundle(store: Store, kommune: str, first: str | None = None, last: str | None = None,
                 minimum: int = DEFAULT_MINIMUM, per_merkmal: dict[str, int] | None = None) -> "Bundle":
    """The bundle of ``kommune`` in memory: protected counts (:func:`protect_counts`), rates, reference
    figures and metadata, checked once more with the audit a reader runs. Safe to show anywhere.

    Raises :class:`~kimtools.errors.DisclosureError` when more than :data:`MAX_SHARE_PROTECTED` of the
    non-zero cells would have to be protected."""
    if minimum < 2:
        raise UsageError("Die Mindestanzahl muss mindestens 2 sein.", "The minimum count must be at least 2.")
    kommunen = store.kommunen()
    if kommune not in kommunen:
        raise UsageError(f"Die Kommune {kommune!r} ist nicht im Datenbestand; vorhanden: {', '.join(kommunen)}.",
                         f"The kommune {kommune!r} is not in the store; present: {', '.join(kommunen)}.")
    default_first, default_last = _default_range(store, kommune)
    first, last = first or default_first, last or default_last
    periods = _periods(parse_period(first)[0], parse_period(last)[1])
    first_label, last_label = periods["zeitraum"].iloc[0], periods.loc[periods["art"] == "quartal", "zeitraum"].iloc[-1]
    true = bundle_counts(store, kommune, first, last)
    counts = protect_counts(true, minimum, per_merkmal)
    positive = int((true["anzahl"] > 0).sum())
    share = (counts["geschuetzt"] == "ja").sum() / max(positive, 1)
    if share > MAX_SHARE_PROTECTED:
        raise DisclosureError(
            f"Das Vergleichspaket {kommune} {first} bis {last} wird nicht geschrieben: {fmt_percent(share, 0, 'de')} der "
            f"Zellen mit Fällen müssten geschützt werden (höchstens {fmt_percent(MAX_SHARE_PROTECTED, 0, 'de')}), zu "
            "wenige Fälle für eine sichere und aussagekräftige Weitergabe. Wählen Sie einen längeren Zeitraum (ganze Jahre).",
            f"The comparison bundle {kommune} {first} to {last} is not written: {fmt_percent(share, 0, 'en')} of the "
            f"cells with cases would have to be protected (at most {fmt_percent(MAX_SHARE_PROTECTED, 0, 'en')}), too few cases for a safe "
            "and meaningful exchange. Choose a longer period (whole years).")
    reference = bundle_reference(store, kommune, periods)
    rates = bundle_rates(counts, reference)

    meta = {
        "format": FORMAT, "version": VERSION, "kommune": kommune, "ags": load_reference().ags(kommune) or "",
        "zeitraeume": {"von": first_label, "bis": last_label, "liste": periods["zeitraum"].tolist()},
        "erstellt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "kimtools_version": __version__,
        "schutz": {
            "mindestanzahl": minimum, "mindestanzahl_je_merkmal": dict(per_merkmal or {}),
            "verfahren": ("primäre Sperrung 1 bis Mindestanzahl − 1, sekundäre Sperrung, geprüft mit ganzzahliger "
                          "linearer Optimierung (HiGHS): jede geschützte Zelle bleibt im Bereich mindestens 2 breit "
                          "und reicht bis zur Mindestanzahl"),
            "zellen": int(len(counts)), "geschuetzt": int((counts["geschuetzt"] == "ja").sum()),
        },
        "summen": {"stadtbezirke_ergeben_gesamt": True, "einwertige_merkmale": sorted(_CODE_LIST),
                   "quartale_ergeben_jahr": _events()},
        "kennzahlen": {k: {"ereignis": v["ereignis"], "merkmale": list(v["merkmale"])}
                       for k, v in BUNDLE_KENNZAHLEN.items()},
    }
    meta["schutz"]["anteil_geschuetzt"] = round(meta["schutz"]["geschuetzt"] / max(meta["schutz"]["zellen"], 1), 4)
    problems = _audit_problems(counts, meta)
    if problems:   # protect() guarantees this; a failure here is a bug, and nothing is written
        raise BundleError("Die Prüfung des fertigen Pakets schlägt fehl: " + "; ".join(problems[:5]),
                          "The audit of the finished bundle fails: " + "; ".join(problems[:5]))
    return Bundle("", meta, counts, rates, reference)


def export_bundle(store: Store, kommune: str, out: str | Path, first: str | None = None, last: str | None = None,
                  minimum: int = DEFAULT_MINIMUM, per_merkmal: dict[str, int] | None = None) -> ExportResult:
    """Write the bundle of ``kommune`` (:func:`build_bundle`) into ``out`` as a folder and the same
    folder as ``.zip``. Nothing is written when a step fails; an existing bundle of the same name is
    replaced only once the new one is complete."""
    bundle = build_bundle(store, kommune, first, last, minimum, per_merkmal)
    meta, counts, rates, reference = bundle.metadaten, bundle.zaehlungen, bundle.kennzahlen, bundle.bezirke
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = bundle_name(kommune, meta["zeitraeume"]["von"], meta["zeitraeume"]["bis"])
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        folder = tmp / name
        folder.mkdir()
        _write_csv(counts, folder / "zaehlungen.csv")
        _write_csv(rates, folder / "kennzahlen.csv")
        _write_csv(reference, folder / "bezirke.csv")
        meta["dateien"] = {f: _sha256(folder / f) for f in _FILES}
        (folder / "metadaten.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        with zipfile.ZipFile(tmp / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for f in ["metadaten.json", *_FILES]:
                z.write(folder / f, f"{name}/{f}")
        final, final_zip = out / name, out / f"{name}.zip"
        if final.exists():
            shutil.rmtree(final)
        os.replace(folder, final)
        os.replace(tmp / f"{name}.zip", final_zip)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(final, final_zip, meta["schutz"]["zellen"], meta["schutz"]["geschuetzt"])


# ----------------------------------------------------------------------------- reading
@dataclass
class Bundle:
    """One bundle as read and checked: its metadata and its three tables."""

    source: str
    metadaten: dict
    zaehlungen: pd.DataFrame
    kennzahlen: pd.DataFrame
    bezirke: pd.DataFrame

    @property
    def kommune(self) -> str:
        return self.metadaten["kommune"]


def _open_files(path: Path) -> dict[str, bytes]:
    """The files of a bundle folder or ``.zip`` (flat or with one top folder), by file name."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    try:
        with zipfile.ZipFile(path) as z:
            return {Path(n).name: z.read(n) for n in z.namelist() if not n.endswith("/")}
    except (zipfile.BadZipFile, OSError) as e:
        raise BundleError(f"{path} ist weder ein Paketordner noch eine lesbare ZIP-Datei ({e}).",
                          f"{path} is neither a bundle folder nor a readable ZIP file ({e}).") from None


def _audit_problems(counts: pd.DataFrame, meta: dict) -> list[str]:
    """What the audit finds in a bundle's counts, as German text (empty when safe)."""
    schutz, summen = meta.get("schutz", {}), meta.get("summen", {})
    minimum = int(schutz.get("mindestanzahl", DEFAULT_MINIMUM))
    per_merkmal = {k: int(v) for k, v in (schutz.get("mindestanzahl_je_merkmal") or {}).items()}
    problems = []
    small = counts["anzahl"].notna() & (counts["anzahl"] > 0) & (
        counts["anzahl"] < counts["merkmal"].map(per_merkmal).fillna(minimum))
    for r in counts.loc[small].head(10).itertuples():
        problems.append(f"Zeile {r.Index + 2}: veröffentlichte kleine Zahl {r.anzahl} "
                        f"({r.kennzahl}/{r.stadtbezirk}/{r.zeitraum}/{r.merkmal}={r.auspraegung})")
    c = _Cells(counts, minimum, per_merkmal, summen.get("einwertige_merkmale", _CODE_LIST),
               summen.get("quartale_ergeben_jahr", _events()))
    status = counts.groupby(c.ids.to_numpy())["anzahl"].agg(lambda s: s.isna().nunique() > 1)
    if status.any():
        problems.append(f"{int(status.sum())} Zellen stehen doppelt, einmal geschützt und einmal veröffentlicht")
    protected = c.values.isna().to_numpy()
    v = c.values.fillna(0).to_numpy(dtype=float)
    for s in c.sums:
        if not protected[list(s.cells)].any() and v[s.total] != v[list(s.parts)].sum():
            problems.append(f"Summe geht nicht auf: {c.names[s.total]} = {v[s.total]:g}, Teile ergeben "
                            f"{v[list(s.parts)].sum():g}")
            break
    result = audit(v, protected, c.sums, c.minimums)
    bad = result.loc[result["offengelegt"]]
    for r in bad.head(5).itertuples():
        problems.append(f"geschützte Zelle {c.names[r.zelle]}: " + (
            "die veröffentlichten Zahlen widersprechen den Summen" if pd.isna(r.unten)
            else f"lässt sich auf {r.unten:g} bis {r.oben:g} eingrenzen"))
    if len(bad) > 5:
        problems.append(f"und {len(bad) - 5} weitere geschützte Zellen")
    return problems


def _read_csv(data: bytes, name: str, columns: list[str], problems: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        problems.append(f"{name}: nicht lesbar als UTF-8-CSV ({e})")
        return pd.DataFrame(columns=columns)
    if list(frame.columns) != columns:
        problems.append(f"{name}: Spalten {', '.join(frame.columns)}; erwartet {', '.join(columns)}")
        return pd.DataFrame(columns=columns)
    return frame


def _numbers(frame: pd.DataFrame, columns: Sequence[str], name: str, problems: list[str], integer: bool = False) -> None:
    for col in columns:
        raw = frame[col]
        values = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        bad = raw.ne("") & (values.isna() | (values < 0) | ((values % 1 != 0) if integer else False))
        for i in np.flatnonzero(bad.to_numpy())[:5]:
            problems.append(f"{name}, Zeile {i + 2}, Spalte {col}: {raw.iloc[i]!r} ist keine "
                            + ("ganze Zahl ≥ 0" if integer else "Zahl ≥ 0"))
        frame[col] = values.astype("Int64") if integer and not bad.any() else values


def read_bundle(path: str | Path) -> Bundle:
    """Read and check one bundle (folder or ``.zip``): format and version, the SHA-256 of every file,
    the columns and values of every table, and the disclosure audit on its published counts.
    Raises :class:`~kimtools.errors.BundleError` listing every problem found."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path} gibt es nicht.", f"{path} does not exist.")
    files = _open_files(path)
    problems: list[str] = []
    try:
        meta = json.loads(files["metadaten.json"].decode("utf-8"))
    except KeyError:
        raise BundleError(f"{path}: metadaten.json fehlt; das ist kein Vergleichspaket.",
                          f"{path}: metadaten.json is missing; this is not a comparison bundle.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}: metadaten.json ist kein gültiges JSON ({e}).",
                          f"{path}: metadaten.json is not valid JSON ({e}).") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise BundleError(f"{path}: Format {meta.get('format')!r} Version {meta.get('version')!r}; erwartet "
                          f"{FORMAT!r} Version {VERSION}.",
                          f"{path}: format {meta.get('format')!r} version {meta.get('version')!r}; expected "
                          f"{FORMAT!r} version {VERSION}.")
    listed = meta.get("dateien") or {}
    for name in _FILES:
        if name not in files:
            problems.append(f"{name} fehlt")
        elif name not in listed:
            problems.append(f"{name} hat keine Prüfsumme in metadaten.json")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            problems.append(f"{name}: SHA-256 stimmt nicht mit metadaten.json überein (Datei verändert oder beschädigt)")
    for name in sorted(set(files) - set(_FILES) - {"metadaten.json"}):
        if name in listed and hashlib.sha256(files[name]).hexdigest() != listed[name]:
            problems.append(f"{name}: SHA-256 stimmt nicht mit metadaten.json überein")
    if problems:
        _refuse(path, problems)
    counts = _read_csv(files["zaehlungen.csv"], "zaehlungen.csv", COUNT_COLUMNS, problems)
    rates = _read_csv(files["kennzahlen.csv"], "kennzahlen.csv", RATE_COLUMNS, problems)
    reference = _read_csv(files["bezirke.csv"], "bezirke.csv", REFERENCE_COLUMNS, problems)
    _numbers(counts, ["anzahl"], "zaehlungen.csv", problems, integer=True)
    _numbers(rates, ["zaehler", "nenner", "wert", "unten", "oben"], "rates", problems)
    _numbers(reference, ["wert"], "bezirke.csv", problems)
    bad_period = ~counts["zeitraum"].str.match(YEAR_OR_QUARTER)
    for i in np.flatnonzero(bad_period.to_numpy())[:5]:
        problems.append(f"zaehlungen.csv, Zeile {i + 2}, Spalte zeitraum: {counts['zeitraum'].iloc[i]!r} ist weder JJJJ noch JJJJ-Qn")
    flag = counts["geschuetzt"]
    inconsistent = ~(((flag == "ja") & counts["anzahl"].isna()) | ((flag == "") & counts["anzahl"].notna()))
    for i in np.flatnonzero(inconsistent.to_numpy())[:5]:
        problems.append(f"zaehlungen.csv, Zeile {i + 2}: geschuetzt={flag.iloc[i]!r} passt nicht zu anzahl")
    if (counts["kommune"] != meta.get("kommune")).any():
        problems.append(f"zaehlungen.csv nennt eine andere Kommune als metadaten.json ({meta.get('kommune')})")
    if not problems:
        problems += _audit_problems(counts, meta)
    if problems:
        _refuse(path, problems)
    return Bundle(str(path), meta, counts, rates, reference)


def _refuse(path: Path, problems: list[str]) -> None:
    text = "\n  - ".join(problems[:20])
    more = f"\n  - … und {len(problems) - 20} weitere" if len(problems) > 20 else ""
    raise BundleError(f"Das Vergleichspaket {path} wird nicht verwendet:\n  - {text}{more}",
                      f"The comparison bundle {path} is not used (details in German):\n  - {text}{more}")


# ----------------------------------------------------------------------------- merging
@dataclass
class Merged:
    """Several cities' bundles side by side: the three tables with every city's rows, and an overview."""

    zaehlungen: pd.DataFrame
    kennzahlen: pd.DataFrame
    bezirke: pd.DataFrame
    pakete: pd.DataFrame


def merge_bundles(paths: Iterable[str | Path]) -> Merged:
    """Read and check every bundle, then stack them. Refuses two bundles of the same kommune."""
    bundles = [read_bundle(p) for p in paths]
    if not bundles:
        raise UsageError("Keine Vergleichspakete angegeben.", "No comparison bundles given.")
    seen: dict[str, str] = {}
    for b in bundles:
        if b.kommune in seen:
            raise BundleError(f"Zwei Pakete derselben Kommune {b.kommune}: {seen[b.kommune]} und {b.source}. "
                              "Bitte nur eines angeben.",
                              f"Two bundles of the same kommune {b.kommune}: {seen[b.kommune]} and {b.source}. "
                              "Give only one.")
        seen[b.kommune] = b.source
    overview = pd.DataFrame([{
        "kommune": b.kommune, "von": b.metadaten["zeitraeume"]["von"], "bis": b.metadaten["zeitraeume"]["bis"],
        "zellen": len(b.zaehlungen), "geschuetzt": int((b.zaehlungen["geschuetzt"] == "ja").sum()),
        "mindestanzahl": b.metadaten["schutz"]["mindestanzahl"], "erstellt": b.metadaten.get("erstellt", ""),
        "quelle": b.source} for b in bundles])
    overview["anteil_geschuetzt"] = overview["geschuetzt"] / overview["zellen"].clip(lower=1)
    return Merged(pd.concat([b.zaehlungen for b in bundles], ignore_index=True),
                  pd.concat([b.kennzahlen for b in bundles], ignore_index=True),
                  pd.concat([b.bezirke for b in bundles], ignore_index=True), overview)


def write_merged(merged: Merged, out: str | Path) -> Path:
    """The merged tables as CSV in ``out`` (``vergleich_*.csv``) for notebooks and dashboards."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("zaehlungen", "kennzahlen", "bezirke", "pakete"):
        _write_csv(getattr(merged, name), out / f"vergleich_{name}.csv")
    return out


def read_merged(folder: str | Path) -> Merged:
    """Merged tables written by :func:`write_merged` (``kimtools compare --out``)."""
    folder = Path(folder)
    missing = [n for n in ("zaehlungen", "kennzahlen", "bezirke", "pakete") if not (folder / f"vergleich_{n}.csv").exists()]
    if missing:
        raise UsageError(f"In {folder} fehlen zusammengeführte Tabellen ({', '.join(missing)}); erst "
                         "'kimtools compare PAKET... --out ORDNER' ausführen.",
                         f"{folder} lacks merged tables ({', '.join(missing)}); run "
                         "'kimtools compare BUNDLE... --out FOLDER' first.")
    frames = {n: pd.read_csv(folder / f"vergleich_{n}.csv", keep_default_na=False, na_values={"anzahl": [""],
              "wert": [""], "unten": [""], "oben": [""], "zaehler": [""], "nenner": [""]})
              for n in ("zaehlungen", "kennzahlen", "bezirke", "pakete")}
    frames["zaehlungen"]["anzahl"] = frames["zaehlungen"]["anzahl"].astype("Int64")
    return Merged(**frames)


def default_comparison_dir() -> Path:
    """Where notebooks and dashboards find merged bundles: ``KIMTOOLS_VERGLEICH`` or ``data/vergleich``."""
    env = os.environ.get("KIMTOOLS_VERGLEICH")
    return Path(env) if env else DATA / "vergleich"


def export_bundles(store: Store, out: str | Path, kommunen: Sequence[str] | None = None, first: str | None = None,
                   last: str | None = None, minimum: int = DEFAULT_MINIMUM, per_merkmal: dict[str, int] | None = None,
                   show_progress: bool = True) -> pd.DataFrame:
    """One bundle per kommune (all of the store by default), for a state-level or demo comparison:
    ``kommune, zip, zellen, geschuetzt, fehler`` — a kommune that cannot be made safe is listed, not written."""

    rows = []
    for kommune in progress(kommunen or store.kommunen(), "Vergleichspakete", disable=not show_progress, unit="Kommune"):
        try:
            r = export_bundle(store, kommune, out, first, last, minimum, per_merkmal)
            rows.append((kommune, str(r.zip), r.zellen, r.geschuetzt, ""))
        except KimtoolsError as e:
            rows.append((kommune, "", 0, 0, e.message()))
    return pd.DataFrame(rows, columns=["kommune", "zip", "zellen", "geschuetzt", "fehler"])
