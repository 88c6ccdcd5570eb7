"""What a comparison bundle holds (``shared/comparison-bundle-format.md``, version 1): its counts, protected, the
rates derived from them and the reference figures used as denominators; nothing about a person or a case.

Its tables are designed so that a typical city keeps most cells (see ``docs/vergleichspaket.md``):

* every count by district (and ``Gesamt``) and quarter and year, without breakdown;
* each breakdown by district and *year*, and for the whole city by *quarter*;
  a district × breakdown × quarter table would be mostly protected.

Every sum that holds between the rows is declared in ``metadaten.json`` and used by the audit
(:func:`kimtools.indicators.disclosure.audit`), which the writer (:mod:`kimtools.exchange.bundle`) runs before it
writes and every reader runs again.

Examples
--------
>>> bundle_name("Mülheim an der Ruhr", "2024-Q1", "2025-Q4")
'kim-vergleich_Mülheim-an-der-Ruhr_2024-Q1_2025-Q4'
"""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np
import pandas as pd

from ..contract.codes import CODE_LISTS
from ..contract.catalogue import CASELOAD_POSTS, CATALOGUE, SHIPPED_FILE
from ..contract.outcomes import OUTCOMES, REFERRAL_RATES
from ..errors import InputError
from ..indicators.disclosure import DEFAULT_MINIMUM, Sum, protect
from ..indicators.stats import poisson_interval, wilson_interval
from ..periods import last_complete_quarter, parse_period, period_label, quarter
from ..store import SPAN_TABLE, Store
from ..store.deliveries import completeness

__all__ = ["FORMAT", "VERSION", "RENAMED", "GESAMT", "KEINS", "MAX_SHARE_PROTECTED", "BUNDLE_KENNZAHLEN", "BUNDLE_RATES",
           "COUNT_COLUMNS", "RATE_COLUMNS", "local_rates", "REFERENCE_COLUMNS", "CODE_LIST_OF", "Cells", "bundle_name", "bundle_counts", "bundle_sums",
           "protect_counts", "bundle_reference", "bundle_rates", "bundle_periods", "default_range", "event_kennzahlen"]

FORMAT, VERSION = "kim-vergleichspaket", 1
#: codes an earlier kimtools wrote into bundles of the same version, by the code that means the same today: the
#: persons reached once each were ``personen_erreicht`` until issue 37 gave them their own code (the indicator table's
#: ``personen_erreicht`` counts a person in each district)
RENAMED = {"personen_erreicht": "personen_einmal"}
GESAMT, KEINS = "Gesamt", "keins"
#: a bundle that would have to protect more than this share of its non-zero cells is refused: it would
#: say almost nothing, and a city that small needs whole years or a longer period
MAX_SHARE_PROTECTED = 0.5

#: what the bundle counts: event counts (quarters add up to the year) and its breakdowns, all single-valued
BUNDLE_KENNZAHLEN: dict[str, dict] = {
    "faelle_neu": {"ereignis": True, "merkmale": ("zielgruppe", "aufenthaltsstatus")},
    "faelle_abgeschlossen": {"ereignis": True, "merkmale": ("abschlussgrund",)},
    "faelle_offen": {"ereignis": False, "merkmale": ()},
    "personen_einmal": {"ereignis": False, "merkmale": ("zielgruppe", "aufenthaltsstatus")},
    "beratungen": {"ereignis": True, "merkmale": ("handlungsfeld", "zielgruppe")},
    "vermittlungen": {"ereignis": True, "merkmale": ("handlungsfeld", "vermittlungsstatus", "partnertyp")},
}
#: the code list behind each breakdown
CODE_LIST_OF = {"zielgruppe": "zielgruppe", "aufenthaltsstatus": "aufenthaltsstatus", "handlungsfeld": "handlungsfeld",
              "abschlussgrund": "abschlussgrund", "vermittlungsstatus": "vermittlungsstatus", "partnertyp": "partnertyp"}

#: rates of ``kennzahlen.csv``: numerator and denominator as (kennzahl, merkmal, codes) of published
#: counts or ("bezug", reference figure); the interval; the scale. Names as in the indicator catalogue.
BUNDLE_RATES: dict[str, dict] = {
    "reichweite_je_1000": {"zaehler": ("personen_einmal", KEINS, (GESAMT,)), "nenner": ("bezug", "einwohner"),
                           "art": "poisson", "faktor": 1000.0},
    "reichweite_je_1000_auslaender": {"zaehler": ("personen_einmal", KEINS, (GESAMT,)),
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

#: what a declared count is in the bundle's published counts: the base's count, and per filter column its breakdown
_BUNDLE_COUNT_OF = {"neuzugaenge": "faelle_neu", "abschluesse": "faelle_abgeschlossen", "faelle_offen": "faelle_offen",
                    "personen_einmal": "personen_einmal", "beratungen": "beratungen", "vermittlungen": "vermittlungen"}
_BREAKDOWN_OF = {"zielgruppe": "zielgruppe", "aufenthaltsstatus": "aufenthaltsstatus", "abschlussgrund": "abschlussgrund",
                 "beratung_handlungsfeld": "handlungsfeld", "handlungsfeld": "handlungsfeld", "status": "vermittlungsstatus",
                 "ergebnis": "vermittlungsstatus"}


def _published(count) -> tuple | None:
    """A declared count as (kennzahl, merkmal, codes) of the bundle's published counts, or None where the bundle has
    no such counts (more than one filter, a filter that is no breakdown of that count, a base it does not count)."""
    if count.zaehlt in ("einwohner", "auslaender", "vzae"):
        return ("bezug", count.zaehlt) if not count.filters else None
    kennzahl = _BUNDLE_COUNT_OF.get(count.zaehlt)
    if kennzahl is None or len(count.filters) > 1:
        return None
    if not count.filters:
        return (kennzahl, KEINS, (GESAMT,))
    (column, values), = count.filters
    merkmal = _BREAKDOWN_OF.get(column)
    if merkmal not in BUNDLE_KENNZAHLEN[kennzahl]["merkmale"] or values == (True,):
        return None
    codes = tuple(c for v in values for c in OUTCOMES[v]) if column == "ergebnis" else tuple(values)
    return (kennzahl, merkmal, codes)


def local_rates(catalogue=CATALOGUE) -> tuple[dict[str, dict], dict[str, str], list[str]]:
    """The installation's own rates a bundle carries: those whose numerator and denominator are published counts of
    the bundle (or a reference figure), so that the rate gives away nothing the counts do not (a protected count
    leaves its rate out, as for :data:`BUNDLE_RATES`). Returns their specifications (the form of
    :data:`BUNDLE_RATES`), their fingerprints (:meth:`~kimtools.contract.catalogue.Entry.fingerprint`: what a
    merge compares) and the own rates and counts not carried."""
    specs, prints, left = {}, {}, []
    for code, entry in catalogue.items():
        if entry.herkunft == SHIPPED_FILE.name:
            continue
        zaehler = _published(entry.zaehler) if entry.zaehler and entry.nenner else None
        nenner = _published(entry.nenner) if zaehler else None
        if zaehler is None or nenner is None or zaehler[0] == "bezug":
            left.append(code)
            continue
        specs[code] = {"zaehler": zaehler, "nenner": nenner, "faktor": entry.faktor,
                       "art": "binomial" if entry.texts["intervall"] == "wilson" else "poisson"}
        prints[code] = entry.fingerprint()
    return specs, prints, left


COUNT_COLUMNS = ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "merkmal", "auspraegung", "anzahl", "geschuetzt"]
RATE_COLUMNS = ["kommune", "stadtbezirk", "zeitraum", "kennzahl", "zaehler", "nenner", "wert", "unten", "oben"]
REFERENCE_COLUMNS = ["kommune", "stadtbezirk", "bezugsgroesse", "zeitraum", "wert", "stand", "quelle"]


def bundle_name(kommune: str, first: str, last: str) -> str:
    slug = re.sub(r"[\s/]+", "-", kommune.strip())
    return f"kim-vergleich_{slug}_{first}_{last}"


def bundle_periods(first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The quarters from ``first`` to ``last`` and the calendar years wholly inside: ``zeitraum, ps, pe, jahr, art``."""
    quarters = pd.date_range(first, last, freq="QS")
    rows = [(period_label(q, "quarter"), q, q + pd.offsets.QuarterEnd(0), q.year, "quartal") for q in quarters]
    for year in sorted({q.year for q in quarters}):
        if sum(q.year == year for q in quarters) == 4:
            rows.append((str(year), pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), year, "jahr"))
    return pd.DataFrame(rows, columns=["zeitraum", "ps", "pe", "jahr", "art"])


def default_range(store: Store, kommune: str) -> tuple[str, str]:
    """The last complete quarter of the kommune's data — complete also for every provider (a quarter some provider
    has not yet delivered in full is no figure to compare) — and the quarters of the two calendar years before it."""
    span = store.query(f"SELECT d1 FROM {SPAN_TABLE} WHERE kommune = ?", [kommune])
    if span.empty or pd.isna(span["d1"].iloc[0]):
        raise InputError(f"Zur Kommune {kommune!r} gibt es keine Daten im Datenbestand.",
                         f"The store holds no data for the kommune {kommune!r}.")
    end = pd.Timestamp(span["d1"].iloc[0])
    until = completeness(store.connect()).set_index("kommune")
    if kommune in until.index and until.loc[kommune, "vollstaendig_bis"] < end:
        end = until.loc[kommune, "vollstaendig_bis"]
    last = last_complete_quarter(end)
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
    SELECT 'personen_einmal' AS kennzahl, zeitraum, arg_max(stadtbezirk, (beginn, fall_id)) AS stadtbezirk,
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
    periods = bundle_periods(parse_period(first)[0], parse_period(last)[1])
    if periods.empty:
        raise InputError(f"Der Zeitraum {first} bis {last} ist leer.", f"The period {first} to {last} is empty.")
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
            codes = list(CODE_LISTS[CODE_LIST_OF[merkmal]])
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
    (:func:`kimtools.indicators.disclosure.protect` over every sum of :func:`bundle_sums`)."""
    c = Cells(counts, minimum, per_merkmal or {}, CODE_LIST_OF, event_kennzahlen())
    mask = protect(c.values.to_numpy(), c.sums, c.minimums, c.names.tolist())
    hidden = mask[c.ids.to_numpy()]
    out = counts.copy()
    out["anzahl"] = out["anzahl"].astype("Int64").mask(hidden)
    out["geschuetzt"] = np.where(hidden, "ja", "")
    return out[COUNT_COLUMNS]


class Cells:
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


def event_kennzahlen() -> list[str]:
    """The bundle's indicators that count events, so that four quarters add up to their year."""
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
    # the posts that carry cases (filled, Baustein 2), as the indicator table's cases per post divides by them
    posts = store.query(f"SELECT stadtbezirk, vzae, von, bis FROM stellen st WHERE kommune = ? "
                        f"AND {CASELOAD_POSTS.format(st='st')}", [kommune])
    for p in periods.itertuples():
        active = posts.loc[(pd.to_datetime(posts["von"]) <= p.pe)
                           & (posts["bis"].isna() | (pd.to_datetime(posts["bis"]) >= p.pe))]
        if active.empty:
            continue
        stand = p.pe.date().isoformat()
        for district, vzae in active.dropna(subset=["stadtbezirk"]).groupby("stadtbezirk")["vzae"].sum().items():
            rows.append((kommune, district, "vzae", p.zeitraum, float(vzae), stand, "Tabelle stellen des Exports (besetzt, Baustein 2)"))
        rows.append((kommune, GESAMT, "vzae", p.zeitraum, float(active["vzae"].sum()), stand,
                     "Tabelle stellen des Exports (besetzt, Baustein 2, mit stadtweiten Stellen)"))
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


def bundle_rates(counts: pd.DataFrame, reference: pd.DataFrame, specs: dict[str, dict] | None = None) -> pd.DataFrame:
    """Rates from *published* counts and reference figures only (:data:`BUNDLE_RATES`, or ``specs`` of the same
    form), each with its 95 % interval (exact Poisson for rates, Wilson for shares). A rate whose counts are
    protected is left out, so no rate can give a protected count away."""
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
    for name, spec in (BUNDLE_RATES if specs is None else specs).items():
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
