"""The seeded synthetic demo export: KIM case management in NRW municipalities.

Longer than 500 lines on purpose: one seeded generator whose steps (cases, consultations, referrals, partners,
posts, status changes) share their random state and calibration; split, the seed would no longer give one export.

Every value is invented; nothing describes a real person. The structure
follows the seeds in ``shared/seeds/``:

* ``--scale city``: the eight Integration.Interkommunal cities plus Bottrop and Düsseldorf,
  with their real districts and the shipped district figures;
* ``--scale state``: all 53 KIM municipalities of NRW, about 200,000 cases,
  1,000,000 consultations and 400,000 referrals (districts of municipalities
  without shipped figures are synthetic and marked so in the export's
  ``bezirke`` table).

Modelled structure: programme start in July 2022 with a ramp-up, seasonality
(summer and December dips), districts that differ in need, providers bound to
district offices, Herne's four welfare partners plus city office, Oberhausen's
fifteen cooperation partners, Düsseldorf's office with 16 posts plus seven
welfare organisations; partners that differ in acceptance and waiting time;
service gaps clustered in housing, health, care and language and in districts
of high need; duldung → § 104c → § 25a/§ 25b pathways; re-admissions, a few
parallel cases, cases without consultations and a documentation gap, so that
the data-quality views have something to find. Calibrated to Herne: about 500
participants and 2,500 consultations in the first two years.

The demo is written in exactly the import format and read back by the same
reader as a real export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import codes
from ..contract.reference import load_reference
from ..errors import UsageError
from ..progress import progress
from ..spreadsheet import excel_writer
from .demo_deliveries import write_provider_deliveries
from .demo_programme import programme
from .files import export_form, write_export_csv

__all__ = ["generate_demo", "write_demo", "DEMO_START", "DEMO_END", "CITY_SCALE_KOMMUNEN"]

DEMO_START = dt.date(2022, 7, 1)
DEMO_END = dt.date(2026, 9, 30)

CITY_SCALE_KOMMUNEN = ("Bochum", "Bottrop", "Dortmund", "Duisburg", "Essen", "Gelsenkirchen", "Herne",
                       "Mülheim an der Ruhr", "Oberhausen", "Düsseldorf")

# new cases a year per 1,000 inhabitants of average need (calibrated to Herne's ~500 participants in two years)
_CITY_RATE = 1.95
_STATE_RATE = 2.45  # gives about 200,000 cases for all of NRW
_SEASON = np.array([1.05, 1.05, 1.1, 1.0, 1.0, 0.95, 0.8, 0.72, 1.05, 1.1, 1.05, 0.75])

_ZIELGRUPPE_P = {"erstintegration": 0.45, "multiple_problemlagen": 0.40, "pflegesetting": 0.07, "sonstige": 0.08}
_HF = list(codes.HANDLUNGSFELD)
# weights of needs areas per target group (order of _HF)
_HF_WEIGHTS = {
    "erstintegration":       [9, 5, 4, 2, 5, 3, 5, 2, 2, 0.2, 3, 2],
    "multiple_problemlagen": [4, 4, 7, 3, 7, 5, 3, 6, 6, 0.5, 2, 3],
    "pflegesetting":         [2, 0.3, 0.3, 0.1, 3, 6, 2, 3, 3, 10, 1, 2],
    "sonstige":              [4, 3, 4, 2, 3, 2, 4, 2, 2, 0.5, 2, 3],
}
_STATUS_P = {"aufenthaltsgestattung": 0.12, "duldung": 0.10, "ae_104c": 0.06, "ae_25a": 0.02, "ae_25b": 0.02,
             "ae_humanitaer": 0.22, "ae_sonstige": 0.12, "niederlassungserlaubnis": 0.08,
             "eu_freizuegigkeit": 0.18, "eingebuergert": 0.04, "ungeklaert": 0.04}
_CLOSE_P = {"ziel_erreicht": 0.48, "weitervermittelt": 0.17, "abbruch": 0.10, "wegzug": 0.08,
            "kontaktverlust": 0.12, "sonstiges": 0.05}
_ZUGANG_P = {"jobcenter": 0.3, "auslaenderbehoerde": 0.2, "jugendamt": 0.1, "sozialamt": 0.1, "vhs": 0.1,
             "mso": 0.1, "schule": 0.05, "gesundheitsamt": 0.05}
# where a need is referred to: partner type weights per needs area
_TARGET = {
    "sprache": {"vhs": 0.8, "mso": 0.2},
    "bildung": {"schule": 0.5, "vhs": 0.3, "kommunales_integrationszentrum": 0.2},
    "arbeit": {"jobcenter": 0.6, "arbeitsagentur": 0.3, "kammer": 0.1},
    "ausbildung": {"arbeitsagentur": 0.5, "kammer": 0.4, "wirtschaftsfoerderung": 0.1},
    "wohnen": {"sozialamt": 0.45, "sonstige": 0.55},
    "gesundheit": {"gesundheitsamt": 0.7, "sonstige": 0.3},
    "aufenthalt": {"auslaenderbehoerde": 0.85, "einbuergerungsbehoerde": 0.15},
    "familie": {"jugendamt": 0.8, "wohlfahrtsverband": 0.2},
    "finanzen": {"jobcenter": 0.4, "sozialamt": 0.3, "wohlfahrtsverband": 0.3},
    "pflege": {"sozialamt": 0.4, "sonstige": 0.6},
    "verbraucherschutz": {"sonstige": 1.0},
    "teilhabe": {"mso": 0.5, "kommunales_integrationszentrum": 0.3, "vhs": 0.2},
}
# service gaps: chance that an unmet referral in this area carries a gap code, and which codes
_GAPS = {
    "wohnen": (0.8, {"kein_angebot": 0.6, "wartezeit": 0.3, "kosten": 0.1}),
    "gesundheit": (0.7, {"sprachbarriere": 0.5, "wartezeit": 0.4, "erreichbarkeit": 0.1}),
    "pflege": (0.8, {"kein_angebot": 0.7, "kosten": 0.3}),
    "sprache": (0.6, {"wartezeit": 0.8, "erreichbarkeit": 0.2}),
    "aufenthalt": (0.5, {"wartezeit": 0.7, "zustaendigkeit_unklar": 0.3}),
    "arbeit": (0.3, {"zustaendigkeit_unklar": 0.6, "sprachbarriere": 0.4}),
}
_GAP_DEFAULT = (0.25, {"zustaendigkeit_unklar": 0.4, "erreichbarkeit": 0.3, "sprachbarriere": 0.3})

# (name, typ, rechtskreis) of the offices every kommune has
_OFFICES = [
    ("Jobcenter {k}", "jobcenter", "sgb2"),
    ("Agentur für Arbeit {k}", "arbeitsagentur", "sgb3"),
    ("Ausländerbehörde {k}", "auslaenderbehoerde", "aufenthg"),
    ("Einbürgerungsbehörde {k}", "einbuergerungsbehoerde", "stag"),
    ("Jugendamt {k}", "jugendamt", "sgb8"),
    ("Sozialamt {k}", "sozialamt", "sgb12"),
    ("Gesundheitsamt {k}", "gesundheitsamt", ""),
    ("Schulamt {k}", "schule", ""),
    ("Volkshochschule {k}", "vhs", ""),
    ("Kommunales Integrationszentrum {k}", "kommunales_integrationszentrum", ""),
    ("IHK (Bezirk {k})", "kammer", ""),
    ("Handwerkskammer (Bezirk {k})", "kammer", ""),
    ("Wirtschaftsförderung {k}", "wirtschaftsfoerderung", ""),
    ("Netzwerk Migrantenselbstorganisationen {k}", "mso", ""),
    ("Wohnungsamt {k}", "sonstige", ""),
    ("Pflegestützpunkt {k}", "sonstige", "sgb12"),
    ("Verbraucherzentrale {k}", "sonstige", ""),
    ("Schuldner- und Insolvenzberatung {k}", "wohlfahrtsverband", ""),
]

_OBERHAUSEN = [  # the cooperation agreement of 05.05.2023 (seed), plus posts of the four providers
    ("Jobcenter Oberhausen", "jobcenter", "sgb2", False, 0),
    ("Agentur für Arbeit Oberhausen", "arbeitsagentur", "sgb3", False, 0),
    ("Stadt Oberhausen – Bereich 0-3 – Fachbereich 0-3-30/Volkshochschule", "vhs", "", False, 0),
    ("Stadt Oberhausen – Bereich 0-4/Chancengleichheit", "sonstige", "", False, 0),
    ("Stadt Oberhausen – Bereich 2-4 – Fachbereich 2-4-30/Ausländer- und Staatsangehörigkeitsangelegenheiten",
     "auslaenderbehoerde", "aufenthg", False, 0),
    ("Stadt Oberhausen – Bereich 3-1/Kinder, Jugend und Familie", "jugendamt", "sgb8", False, 0),
    ("Stadt Oberhausen – Bereich 3-2/Soziales", "sozialamt", "sgb12", False, 0),
    ("Stadt Oberhausen – Bereich 3-3/Schule", "schule", "", False, 0),
    ("Stadt Oberhausen – Bereich 3-4/Gesundheit", "gesundheitsamt", "", False, 0),
    ("Oberhausener Wirtschafts- und Tourismusförderung GmbH (OWT)", "wirtschaftsfoerderung", "", False, 0),
    ("Caritasverband Oberhausen e.V.", "wohlfahrtsverband", "", True, 2.5),
    ("DRK Kreisverband Oberhausen (Rhld.) e.V.", "wohlfahrtsverband", "", True, 2.5),
    ("Diakoniewerk Oberhausen gGmbH", "wohlfahrtsverband", "", False, 0),
    ("Der Paritätische Oberhausen (pro wohnen international e.V.)", "wohlfahrtsverband", "", True, 2.5),
    ("Zentrum für Ausbildung und berufliche Qualifikation Oberhausen e.V. (ZAQ)", "sonstige", "", True, 2.5),
    ("Kommunales Integrationszentrum Oberhausen", "kommunales_integrationszentrum", "", False, 0),
    ("IHK zu Duisburg (Bezirk Oberhausen)", "kammer", "", False, 0),
    ("Handwerkskammer Düsseldorf (Bezirk Oberhausen)", "kammer", "", False, 0),
    ("Netzwerk Migrantenselbstorganisationen Oberhausen", "mso", "", False, 0),
    ("Pflegestützpunkt Oberhausen", "sonstige", "sgb12", False, 0),
    ("Verbraucherzentrale Oberhausen", "sonstige", "", False, 0),
]
# case-management providers: (name, home district or None for city-wide, posts)
_CM = {
    "Herne": [("Caritasverband Herne e.V.", "Herne-Mitte", 2.0), ("AWO Unterbezirk Ruhr-Mitte (Herne)", "Sodingen", 2.0),
              ("DRK Kreisverband Herne und Wanne-Eickel e.V.", "Eickel", 2.0), ("PLANB Ruhr e.V. (Herne)", "Wanne", 2.0),
              ("Stadt Herne – Fachbereich Integration, KIM-Büro Shamrockring", None, 3.0)],
    "Düsseldorf": [("Landeshauptstadt Düsseldorf – Amt für Migration und Integration", None, 16.0),
                   ("Caritasverband Düsseldorf e.V.", "Stadtbezirk 1", 1.0), ("Diakonie Düsseldorf", "Stadtbezirk 3", 1.0),
                   ("AWO Kreisverband Düsseldorf e.V.", "Stadtbezirk 6", 1.0), ("DRK Kreisverband Düsseldorf e.V.", "Stadtbezirk 9", 1.0),
                   ("Der Paritätische Düsseldorf", "Stadtbezirk 8", 0.5), ("SKFM Düsseldorf e.V.", "Stadtbezirk 2", 0.5),
                   ("IN VIA Düsseldorf e.V.", "Stadtbezirk 10", 1.0)],
}
_GENERIC_CM = ["Caritasverband {k}", "Diakonie {k}", "AWO {k}", "DRK {k}", "Stadt {k} – KIM-Case-Management"]
_SYNTH_DISTRICTS = ["Nord", "Süd", "Ost", "West", "Mitte", "Land"]


@dataclass
class _City:
    kommune: str
    ags5: str
    districts: pd.DataFrame  # stadtbezirk, einwohner, auslaender, need
    synthetic: bool


def _cities(scale: str, rng: np.random.Generator, kommunen: list[str] | None = None) -> list[_City]:
    ref = load_reference()
    if kommunen is not None:   # some KIM municipalities of the reference, cities or Kreise
        unknown = [k for k in kommunen if ref.ags(k) is None]
        if unknown:
            raise UsageError(f"Keine KIM-Kommune: {', '.join(unknown)}.", f"No KIM municipality: {', '.join(unknown)}.")
        names = list(kommunen)
    elif scale == "city":
        names = list(CITY_SCALE_KOMMUNEN)
    elif scale == "state":
        names = ref.kommunen["kommune"].tolist()
    else:
        raise UsageError(f"Der Umfang muss city oder state sein, nicht {scale!r}.", f"The scale must be city or state, not {scale!r}.")
    out = []
    for name in names:
        ags5 = ref.ags(name)[:5]
        d = ref.bezirke.loc[ref.bezirke["kommune"] == name, ["stadtbezirk", "einwohner", "auslaender"]].copy()
        synthetic = d.empty
        if synthetic:
            total = int(ref.kommunen.loc[ref.kommunen["kommune"] == name, "einwohner_ca"].iloc[0])
            n = int(rng.integers(3, 7))
            w = rng.dirichlet(np.full(n, 6.0))
            share = rng.uniform(0.08, 0.2)
            d = pd.DataFrame({"stadtbezirk": _SYNTH_DISTRICTS[:n], "einwohner": np.round(w * total).astype(int)})
            d["auslaender"] = np.round(d["einwohner"] * share * rng.uniform(0.6, 1.5, n)).astype(int)
        d["auslaender"] = d["auslaender"].astype(float)
        city_share = d["auslaender"].sum() / d["einwohner"].sum()
        d["need"] = ((d["auslaender"] / d["einwohner"]) / city_share) ** 0.8 * rng.lognormal(0, 0.15, len(d))
        out.append(_City(name, ags5, d.reset_index(drop=True), synthetic))
    return out


def _partners(city: _City, rng: np.random.Generator) -> pd.DataFrame:
    k = city.kommune
    rows = []
    if k == "Oberhausen":
        home = {"Caritasverband Oberhausen e.V.": "Alt-Oberhausen", "DRK Kreisverband Oberhausen (Rhld.) e.V.": "Sterkrade",
                "Der Paritätische Oberhausen (pro wohnen international e.V.)": "Osterfeld"}
        for name, typ, rk, cm, posts in _OBERHAUSEN:
            rows.append((name, typ, rk, cm, home.get(name) if cm else None, posts))
    else:
        if k in _CM:
            cms = _CM[k]
        else:
            districts = city.districts["stadtbezirk"].tolist()
            n_cm = min(len(_GENERIC_CM), max(2, len(districts) // 2 + 1))
            posts_total = max(2.0, round(city.districts["einwohner"].sum() / 22_000 * 2) / 2)
            cms = []
            for i, tmpl in enumerate(_GENERIC_CM[:n_cm]):
                city_wide = tmpl.startswith("Stadt")
                cms.append((tmpl.format(k=k), None if city_wide else districts[i % len(districts)],
                            max(0.5, round(posts_total / n_cm * 2) / 2)))
        for name, home, posts in cms:
            typ = "kommunales_integrationszentrum" if name.startswith(("Stadt", "Landeshauptstadt")) else "wohlfahrtsverband"
            rows.append((name, typ, "", True, home, posts))
        for name, typ, rk in _OFFICES:
            rows.append((name.format(k=k), typ, rk, False, None, 0))
    frame = pd.DataFrame(rows, columns=["name", "typ", "rechtskreis", "cm", "home", "posts"])
    frame["partner_id"] = [f"{city.ags5}-PAR{i + 1:02d}" for i in range(len(frame))]
    # every receiving partner has its own acceptance and waiting time
    frame["accept"] = rng.beta(8, 2.2, len(frame)).clip(0.45, 0.97)
    frame["wait"] = rng.gamma(2.0, 9.0, len(frame)) + np.where(frame["typ"].isin(["auslaenderbehoerde", "gesundheitsamt"]), 25, 3)
    return frame


def _pick(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[x] for x in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _days(a: np.ndarray) -> np.ndarray:
    return a.astype("datetime64[D]")


def _city_tables(city: _City, rate: float, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    end = np.datetime64(DEMO_END)
    partners = _partners(city, rng)
    cm = partners.loc[partners["cm"]].reset_index(drop=True)

    # ---- intake: Poisson per district and month with ramp-up, trend and seasonality
    months = np.arange(np.datetime64(DEMO_START, "M"), np.datetime64(DEMO_END, "M") + 1)
    m_idx = np.arange(len(months))
    ramp = np.clip(0.35 + m_idx / 8, 0, 1.0)
    trend = 1 + 0.05 * m_idx / 12
    season = _SEASON[months.astype(int) % 12]
    d = city.districts
    lam = (rate / 12) * (d["einwohner"].to_numpy()[:, None] / 1000) * d["need"].to_numpy()[:, None] * (ramp * trend * season)[None, :]
    counts = rng.poisson(lam)
    dist_idx = np.repeat(np.repeat(np.arange(len(d)), len(months)), counts.ravel())
    month_of = np.repeat(np.tile(months, len(d)), counts.ravel())
    month_len = ((month_of + 1).astype("datetime64[D]") - month_of.astype("datetime64[D]")).astype(int)
    beginn = month_of.astype("datetime64[D]") + (rng.random(len(month_of)) * month_len).astype(int)
    order = np.argsort(beginn, kind="stable")
    beginn, dist_idx = beginn[order], dist_idx[order]
    n = len(beginn)
    stadtbezirk = d["stadtbezirk"].to_numpy()[dist_idx]

    # ---- provider: the district's own office mostly, the city-wide offices otherwise
    homes = cm["home"].to_numpy()
    own = np.array([np.flatnonzero(homes == s) for s in d["stadtbezirk"]], dtype=object)
    wide = np.flatnonzero(pd.isna(homes))
    weights = cm["posts"].to_numpy(float)
    traeger_idx = np.empty(n, dtype=int)
    any_idx = rng.choice(len(cm), size=n, p=weights / weights.sum())
    use_own = rng.random(n) < (0.55 if len(wide) else 0.8)
    for i in range(len(d)):
        sel = dist_idx == i
        if len(own[i]):
            traeger_idx[sel] = np.where(use_own[sel], rng.choice(own[i], size=sel.sum()), any_idx[sel])
        else:
            traeger_idx[sel] = any_idx[sel]
    if len(wide):
        to_wide = (~use_own) & (rng.random(n) < 0.7)
        traeger_idx[to_wide] = rng.choice(wide, size=to_wide.sum())
    traeger = cm["partner_id"].to_numpy()[traeger_idx]

    zielgruppe = _pick(rng, _ZIELGRUPPE_P, n)
    # needs areas: 1-4 per case, weighted by target group (Gumbel top-k)
    w = np.array([_HF_WEIGHTS[z] for z in _ZIELGRUPPE_P])
    zg_idx = pd.Categorical(zielgruppe, categories=list(_ZIELGRUPPE_P)).codes
    keys = np.log(w[zg_idx]) + rng.gumbel(size=(n, len(_HF)))
    k_areas = np.clip(rng.poisson(1.3, n) + 1, 1, 4)
    ranked = np.argsort(-keys, axis=1)
    area_mask = np.zeros((n, len(_HF)), dtype=bool)
    for j in range(4):
        rows = np.flatnonzero(k_areas > j)
        area_mask[rows, ranked[rows, j]] = True
    hf_names = np.array(_HF, dtype=object)
    handlungsfelder = np.array(["|".join(hf_names[r]) for r in area_mask], dtype=object)
    # high-need districts have more housing and health needs on top
    status = _pick(rng, _STATUS_P, n)

    # ---- duration and closure
    median = np.where(zielgruppe == "pflegesetting", 150, np.where(zielgruppe == "multiple_problemlagen", 300, 220))
    dur = np.ceil(median * rng.lognormal(0, 0.7, n)).astype(int)
    ende = beginn + dur
    open_ = ende > end
    abschluss = _pick(rng, _CLOSE_P, n)
    live_end = np.where(open_, end, ende)

    # ---- persons: most new, some come back (re-admission) or are seen by two providers at once
    person = np.arange(n)
    back = np.flatnonzero(rng.random(n) < 0.09)
    back = back[back > 0]
    earlier = (rng.random(len(back)) * back).astype(int)
    # a return after a closed case is common; a parallel case at a second provider is rare
    still_open = ende[earlier] >= beginn[back]
    keep = ~still_open | (rng.random(len(back)) < 0.1)
    person[back[keep]] = earlier[keep]
    person = person[person]  # follow one level of chains
    person_id = np.char.add(f"{city.ags5}-PER", np.char.zfill(person.astype(str), 6))

    zugang = np.full(n, "", dtype=object)
    referred = rng.random(n) < 0.55
    ztyp = _pick(rng, _ZUGANG_P, referred.sum())
    by_type = partners.groupby("typ")["partner_id"].first()
    zugang[referred] = by_type.reindex(ztyp).fillna("").to_numpy()

    geschlecht = _pick(rng, {"w": 0.52, "m": 0.46, "d": 0.005, "x": 0.015}, n)
    geschlecht[rng.random(n) < 0.03] = ""
    age = np.where(zielgruppe == "pflegesetting", rng.normal(70, 9, n), rng.normal(37, 12, n)).clip(18, 95)
    geburtsjahr = (beginn.astype("datetime64[Y]").astype(int) + 1970 - age).astype(int).astype(object)
    geburtsjahr[rng.random(n) < 0.04] = ""
    haushalt = (1 + rng.poisson(np.where(zielgruppe == "multiple_problemlagen", 2.6, 1.2))).astype(object)
    haushalt[rng.random(n) < 0.05] = ""

    fall_id = np.char.add(f"{city.ags5}-F", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    faelle = pd.DataFrame({
        "fall_id": fall_id, "person_id": person_id, "kommune": city.kommune, "stadtbezirk": stadtbezirk,
        "traeger": traeger, "beginn": beginn, "ende": np.where(open_, np.datetime64("NaT"), ende),
        "abschlussgrund": np.where(open_, "", abschluss), "zielgruppe": zielgruppe,
        "handlungsfelder": handlungsfelder, "aufenthaltsstatus": status, "zugang_ueber": zugang,
        "geschlecht": geschlecht, "geburtsjahr": geburtsjahr, "haushalt_personen": haushalt,
    })

    # ---- consultations: first on the start day, the rest spread over the case
    span = (live_end - beginn).astype(int)
    n_ber = np.where(rng.random(n) < 0.02, 0, 1 + rng.poisson(span / 52.0))
    case_of = np.repeat(np.arange(n), n_ber)
    first = np.r_[0, np.cumsum(n_ber)[:-1]][n_ber > 0]
    offs = (rng.random(len(case_of)) * (span[case_of] + 1)).astype(int)
    offs[first] = 0
    datum = beginn[case_of] + offs
    # a documentation gap: one provider documents nothing for two months
    gap_p = rng.integers(len(cm))
    gap_start = np.datetime64("2024-05-01") + int(rng.integers(0, 300))
    keep = ~((traeger_idx[case_of] == gap_p) & (datum >= gap_start) & (datum < gap_start + 60))
    case_of, datum = case_of[keep], datum[keep]
    nb = len(case_of)
    case_areas = [hf_names[r] for r in area_mask]
    pick_area = rng.random(nb)
    ber_hf = np.array([case_areas[c][int(u * len(case_areas[c]))] for c, u in zip(case_of, pick_area)], dtype=object)
    ber_hf[rng.random(nb) < 0.15] = ""
    dauer = np.clip(np.round(rng.lognormal(np.log(45), 0.5, nb) / 5) * 5, 5, 240).astype(int).astype(object)
    dauer[rng.random(nb) < 0.1] = ""
    beratungen = pd.DataFrame({
        "beratung_id": np.char.add(f"{city.ags5}-B", np.char.zfill(np.arange(1, nb + 1).astype(str), 7)),
        "fall_id": fall_id[case_of], "datum": datum, "dauer_min": dauer,
        "form": _pick(rng, {"persoenlich": 0.6, "telefonisch": 0.2, "digital": 0.08, "aufsuchend": 0.12}, nb),
        "handlungsfeld": ber_hf,
    })

    # ---- referrals: per needs area to the responsible partner type
    n_ver = rng.poisson(0.95 * area_mask.sum(axis=1))
    v_case = np.repeat(np.arange(n), n_ver)
    nv = len(v_case)
    v_area = np.array([case_areas[c][int(u * len(case_areas[c]))] for c, u in zip(v_case, rng.random(nv))], dtype=object)
    v_datum = beginn[v_case] + np.minimum(rng.exponential(55, nv).astype(int), span[v_case])
    typ = np.empty(nv, dtype=object)
    for area, targets in _TARGET.items():
        sel = v_area == area
        typ[sel] = _pick(rng, targets, sel.sum())
    naturalise = (v_area == "aufenthalt") & np.isin(status[v_case], ["niederlassungserlaubnis", "ae_25b"])
    typ[naturalise] = "einbuergerungsbehoerde"
    non_cm = partners.loc[~partners["cm"]]
    pool = {t: g.index.to_numpy() for t, g in non_cm.groupby("typ")}
    fallback = pool.get("sonstige", non_cm.index.to_numpy())
    p_idx = np.empty(nv, dtype=int)
    for t in np.unique(typ):
        sel = typ == t
        choices = pool.get(t, fallback)
        p_idx[sel] = rng.choice(choices, size=sel.sum())
    accept = partners["accept"].to_numpy()[p_idx]
    wait = partners["wait"].to_numpy()[p_idx]
    age_days = (end - v_datum).astype(int)
    answered = (rng.random(nv) < 1 - np.exp(-age_days / 12)) & (rng.random(nv) > 0.04)
    accepted = rng.random(nv) < accept
    waitlist = ~accepted & (rng.random(nv) < 0.2)
    status_v = np.where(~answered, "vermittelt",
                        np.where(accepted, np.where((age_days > 90) & (rng.random(nv) < 0.75), "abgeschlossen", "angenommen"),
                                 np.where(waitlist, "warteliste",
                                          np.where(rng.random(nv) < 0.6, "abgelehnt", "nicht_wahrgenommen"))))
    first_contact = v_datum + np.ceil(rng.exponential(wait)).astype(int)
    has_fc = np.isin(status_v, ["angenommen", "abgeschlossen"]) & (rng.random(nv) < 0.85)
    done = status_v == "abgeschlossen"
    first_contact = np.where(done & (first_contact > end), end, first_contact)
    erstkontakt = np.where(has_fc, first_contact, np.datetime64("NaT"))
    # service gaps where a need went unmet, more often in high-need districts
    unmet = np.isin(status_v, ["abgelehnt", "warteliste", "nicht_wahrgenommen"])
    need = d["need"].to_numpy()[dist_idx[v_case]]
    luecke = np.full(nv, "", dtype=object)
    for area in np.unique(v_area):
        p_gap, gap_codes = _GAPS.get(area, _GAP_DEFAULT)
        sel = unmet & (v_area == area) & (rng.random(nv) < np.clip(p_gap * need, 0, 0.95))
        luecke[sel] = _pick(rng, gap_codes, sel.sum())
    vermittlungen = pd.DataFrame({
        "vermittlung_id": np.char.add(f"{city.ags5}-V", np.char.zfill(np.arange(1, nv + 1).astype(str), 6)),
        "fall_id": fall_id[v_case], "datum": v_datum, "an_partner": partners["partner_id"].to_numpy()[p_idx],
        "handlungsfeld": v_area, "status": status_v, "erstkontakt": erstkontakt, "luecke": luecke,
    })

    # ---- residence-status changes within the case
    sw_parts = []
    for frm, moves in {"duldung": ({"ae_104c": 0.6, "ae_25b": 0.2, "ae_25a": 0.2}, 0.35),
                       "aufenthaltsgestattung": ({"ae_humanitaer": 1.0}, 0.4),
                       "ae_humanitaer": ({"niederlassungserlaubnis": 1.0}, 0.1),
                       "niederlassungserlaubnis": ({"eingebuergert": 1.0}, 0.1)}.items():
        sel = np.flatnonzero((status == frm) & (rng.random(n) < moves[1]))
        at = beginn[sel] + (rng.random(len(sel)) * (span[sel] + 1)).astype(int)
        sw_parts.append(pd.DataFrame({"i": sel, "datum": at, "nach_status": _pick(rng, moves[0], len(sel))}))
    first_step = pd.concat(sw_parts, ignore_index=True)
    # § 104c (18 months) → § 25a/§ 25b for about half, 4 to 17 months after the opportunity permit
    c104 = pd.concat([pd.DataFrame({"i": np.flatnonzero(status == "ae_104c"), "datum": beginn[status == "ae_104c"]}),
                      first_step.loc[first_step["nach_status"] == "ae_104c", ["i", "datum"]]], ignore_index=True)
    move = rng.random(len(c104)) < 0.5
    to = c104.loc[move].copy()
    to["datum"] = to["datum"].to_numpy().astype("datetime64[D]") + rng.integers(120, 520, len(to))
    to["nach_status"] = _pick(rng, {"ae_25a": 0.35, "ae_25b": 0.65}, len(to))
    to = to.loc[to["datum"].to_numpy() <= live_end[to["i"].to_numpy()]]
    sw = pd.concat([first_step, to], ignore_index=True).sort_values(["i", "datum"])
    statuswechsel = pd.DataFrame({"fall_id": fall_id[sw["i"].to_numpy()], "datum": sw["datum"].to_numpy(),
                                  "nach_status": sw["nach_status"].to_numpy()})

    # ---- posts: one period per provider, some changed in 2024
    st_rows = []
    for row in cm.itertuples():
        von = DEMO_START + dt.timedelta(days=int(rng.integers(0, 90)))
        if rng.random() < 0.3:
            change = dt.date(2024, int(rng.integers(1, 13)), 1)
            st_rows.append((row.partner_id, row.home or "", row.posts, von, change - dt.timedelta(days=1)))
            st_rows.append((row.partner_id, row.home or "", max(0.5, row.posts + rng.choice([-0.5, 0.5, 1.0])), change, None))
        else:
            st_rows.append((row.partner_id, row.home or "", row.posts, von, None))
    stellen = pd.DataFrame(st_rows, columns=["traeger", "stadtbezirk", "vzae", "von", "bis"])

    partner_out = pd.DataFrame({
        "partner_id": partners["partner_id"], "kommune": city.kommune, "name": partners["name"],
        "typ": partners["typ"], "rechtskreis": partners["rechtskreis"],
        "case_management": np.where(partners["cm"], "ja", "nein"), "stadtbezirk": partners["home"].fillna(""),
    })
    out = {"faelle": faelle, "beratungen": beratungen, "vermittlungen": vermittlungen, "partner": partner_out,
           "stellen": stellen, "statuswechsel": statuswechsel}
    if city.synthetic:
        out["bezirke"] = pd.DataFrame({
            "kommune": city.kommune, "stadtbezirk": d["stadtbezirk"], "einwohner": d["einwohner"],
            "auslaender": d["auslaender"].astype(int), "stand": dt.date(2023, 12, 31),
            "quelle": "synthetisch (kimtools-Demo): Gebietsteile und Zahlen erfunden, Einwohnersumme nach gerundetem Kreiswert",
        })
    return out


def generate_demo(seed: int = 2024, scale: str = "city", show_progress: bool = True,
                  kommunen: list[str] | None = None, times: int = 1) -> dict[str, pd.DataFrame]:
    """The demo export as frames in export form (dates as dates, codes as codes); ``kommunen``: only these KIM
    municipalities (each city's tables are the same as in the whole demo; a Kreis's invented parts may differ);
    ``times``: that many times the cases (and with them consultations and referrals) of each city, to measure how
    cost grows beyond the state's size."""
    if not 1 <= times <= 20:
        raise UsageError(f"Das Vielfache muss zwischen 1 und 20 liegen, nicht {times}.",
                         f"The multiple must lie between 1 and 20, not {times}.")
    rng = np.random.default_rng(seed)
    cities = _cities(scale, rng, kommunen)
    ref = load_reference()
    rate = (_CITY_RATE if scale == "city" else _STATE_RATE) * times
    parts: dict[str, list[pd.DataFrame]] = {}
    for city in progress(cities, desc="Demodaten", disable=not show_progress, unit="Kommune"):
        tables = _city_tables(city, rate, np.random.default_rng([seed, int(city.ags5)]))
        programme(city.kommune, city.ags5, ref.is_kreis(city.kommune), DEMO_START, tables)
        for name, frame in tables.items():
            parts.setdefault(name, []).append(frame)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def write_demo(out: str | Path, seed: int = 2024, scale: str = "city", xlsx: bool = False,
               show_progress: bool = True, per_provider: bool = False, foreign: bool = False,
               kommunen: list[str] | None = None, times: int = 1) -> Path:
    """Write the demo export to ``out`` (a folder of CSV files, or ``out/kim-demo.xlsx``); with ``per_provider``
    one delivery folder per kommune and provider (:mod:`kimtools.ingest.demo_deliveries`); with ``foreign`` one
    kommune's part as an Excel list of another layout with its import profile (:mod:`kimtools.ingest.demo_foreign`;
    the path returned is the workbook's); ``kommunen``: only these (:func:`generate_demo`)."""
    if per_provider and xlsx:
        raise UsageError("Lieferungen je Träger werden als CSV-Ordner geschrieben, nicht als Arbeitsmappe (XLSX).",
                         "Deliveries per provider are written as CSV folders, not as a workbook (XLSX).")
    if xlsx and (scale == "state" or times > 1):
        raise UsageError("Die landesweite Demo ist für eine Excel-Arbeitsmappe zu groß (über 1 Mio. Zeilen); bitte CSV verwenden.",
                         "The state-scale demo is too large for an Excel workbook (over 1 M rows); use CSV.")
    tables = generate_demo(seed, scale, show_progress, kommunen, times)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if per_provider:
        write_provider_deliveries(tables, out, show_progress)
        return out
    if foreign:
        from .demo_foreign import write_foreign_demo

        return write_foreign_demo(tables, out)
    if xlsx:
        path = out / "kim-demo.xlsx"
        with excel_writer(path) as writer:
            for name, frame in tables.items():
                export_form(frame).to_excel(writer, sheet_name=name, index=False)
        return path
    for name, frame in progress(list(tables.items()), desc="Schreiben", disable=not show_progress):
        write_export_csv(frame, out / f"{name}.csv")
    return out

