"""The programme in the demo beyond its case management (contract 1.2): posts of all three Bausteine, funded and
filled, household members counselled alongside.

Per kommune: the coordination and its administrative support at the Kommunales Integrationszentrum (Baustein 1;
Oberhausen's 2.5 + 0.5 as its council paper has them), casework posts at the Ausländer- and Einbürgerungsbehörde
(Baustein 3), one further Land-funded case-management post that stayed vacant for four months before it was filled
(March to June 2024), and in every other kommune a half post paid from own funds. A Kreis employs a coordination
post at one of its towns (a partner of type ``kreisangehoerige_kommune``). Household members counselled alongside
are recorded for most cases (fewer than the household's other members).

These are drawn from a generator of their own, after the rest, so that every other table of the demo stays as it
was: the case-management posts of 1.1 keep their figures.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["VACANCY", "programme"]

#: the demo's vacancy: a funded full-time case-management post, vacant from the first to the last day, filled after
VACANCY = (dt.date(2024, 3, 1), dt.date(2024, 6, 30))


def programme(kommune: str, ags5: str, kreis: bool, start: dt.date, tables: dict[str, pd.DataFrame]) -> None:
    """Add (in place) to one kommune's demo ``tables`` (export form) the posts of Bausteine 1 and 3, the vacancy,
    own funds, a Kreis's town as employer, and ``faelle.mitberatene``."""
    rng = np.random.default_rng([int(ags5), 12])
    partner, posts, cases = tables["partner"], tables["stellen"], tables["faelle"]

    def first(typ: str) -> str | None:
        hit = partner.loc[(partner["typ"] == typ) & (partner["case_management"] == "nein"), "partner_id"]
        return hit.iloc[0] if len(hit) else None

    rows = posts.assign(baustein="2", funktion="case_management", besetzt="ja", foerderung="land")
    ki = first("kommunales_integrationszentrum")
    coordination = 2.5 if kommune == "Oberhausen" else float(rng.choice([1.5, 2.0, 2.5]))
    offices = [(ki, "1", "koordination", coordination), (ki, "1", "verwaltung", 0.5),
               (first("auslaenderbehoerde"), "3", "sachbearbeitung", float(rng.choice([1.0, 1.5, 2.0]))),
               (first("einbuergerungsbehoerde"), "3", "sachbearbeitung", 0.5)]   # Oberhausen: one office for both
    more = [(office, baustein, funktion, "", vzae, "ja", "land", start, None)
            for office, baustein, funktion, vzae in offices if office is not None]
    provider = posts.iloc[0]
    more += [(provider["traeger"], "2", "case_management", provider["stadtbezirk"], 1.0, "nein", "land", *VACANCY),
             (provider["traeger"], "2", "case_management", provider["stadtbezirk"], 1.0, "ja", "land",
              VACANCY[1] + dt.timedelta(days=1), None)]
    if int(ags5) % 2:   # own funds in every other kommune
        own = posts.iloc[-1]
        more.append((own["traeger"], "2", "case_management", own["stadtbezirk"], 0.5, "ja", "eigen",
                     dt.date(2023, 1, 1), None))
    if kreis:   # a town of the Kreis employs a coordination post
        town = str(cases["stadtbezirk"].iloc[0])
        town_id = f"{ags5}-GEM01"
        tables["partner"] = pd.concat([partner, pd.DataFrame([{
            "partner_id": town_id, "kommune": kommune, "name": f"Stadt {town} (kreisangehörig)",
            "typ": "kreisangehoerige_kommune", "rechtskreis": "", "case_management": "nein", "stadtbezirk": town}])],
            ignore_index=True)
        more.append((town_id, "1", "koordination", town, 1.0, "ja", "land", dt.date(2023, 4, 1), None))
    columns = ["traeger", "baustein", "funktion", "stadtbezirk", "vzae", "besetzt", "foerderung", "von", "bis"]
    tables["stellen"] = pd.concat([rows[columns], pd.DataFrame(more, columns=columns)], ignore_index=True)

    household = pd.to_numeric(cases["haushalt_personen"], errors="coerce")
    others = np.maximum(household.fillna(1).to_numpy(dtype=int) - 1, 0)
    counselled = rng.binomial(others, 0.35).astype(object)
    counselled[household.isna().to_numpy() | (rng.random(len(cases)) < 0.1)] = ""
    cases["mitberatene"] = counselled
