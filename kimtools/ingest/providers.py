"""Provider deliveries (contract 1.1, *Deliveries*): a kommune assembled from its providers' separate exports.

A provider delivery declares the providers (``traeger``) it covers. On import it replaces only their slice
(:data:`~kimtools.store.PROVIDER_SLICE`); its partner and district rows are merged into what the kommune has
stored (:func:`merge_rows`), and its IDs are kept apart from the other providers' (:func:`qualify_ids`).

Choices where the contract leaves room, and why:

* Case, consultation and referral IDs need be unique within a provider only. Stored, they are prefixed with
  the case's provider (``CM1:17``), so that every table keeps one key per kommune and every query its joins.
  Within one delivery (of one or of several providers) IDs stay unique, as the reader checks: a consultation
  names its case by ``fall_id`` alone, so two providers' case ``17`` in one delivery could not be told apart.
  An export of the whole kommune keeps its IDs as they are.
* Partner and district rows are matched by ``partner_id`` and by district (as the reader matches district
  names). A row that says another name (compared without case, spaces and punctuation), type or legal domain
  than the stored one is a contradiction: reported, the stored row kept, unless the import is forced.
* An export without ``--traeger`` whose cases cover only some of the kommune's stored providers is refused
  with the suggestion of a provider delivery; forced, it replaces the kommune as a whole.

Examples
--------
>>> f = pd.DataFrame({"kommune": ["Herne"] * 2, "fall_id": ["1", "2"], "traeger": ["AWO", "AWO"]})
>>> b = pd.DataFrame({"kommune": ["Herne"], "beratung_id": ["7"], "fall_id": ["2"]})
>>> q = qualify_ids({"faelle": f, "beratungen": b})
>>> q["faelle"]["fall_id"].tolist(), q["beratungen"][["beratung_id", "fall_id"]].values.tolist()
(['AWO:1', 'AWO:2'], [['AWO:7', 'AWO:2']])
"""

from __future__ import annotations

import re

import pandas as pd

from ..contract.reference import match_key

__all__ = ["ID_SEPARATOR", "COMPARED", "qualify_ids", "merge_rows", "CONTRADICTION_COLUMNS", "uncovered_providers",
           "PERSONS_SHARED_SQL", "contradictions_text"]

#: between the provider and a case's, consultation's or referral's own ID in the store
ID_SEPARATOR = ":"
#: per merged table: its key (after :func:`_key_of`) and the columns a contradiction is looked for in
COMPARED = {"partner": (("partner_id",), ("name", "typ", "rechtskreis")),
            "bezirke": (("stadtbezirk",), ("einwohner", "auslaender"))}
CONTRADICTION_COLUMNS = ["kommune", "tabelle", "schluessel", "spalte", "gespeichert", "geliefert"]
_DEPENDENT = {"beratungen": "beratung_id", "vermittlungen": "vermittlung_id", "statuswechsel": None,
              "fall_handlungsfelder": None}


def qualify_ids(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The delivery's frames with case, consultation and referral IDs prefixed by the case's provider."""
    out = dict(tables)
    cases = tables["faelle"]
    out["faelle"] = cases.assign(fall_id=cases["traeger"] + ID_SEPARATOR + cases["fall_id"])
    provider = cases[["kommune", "fall_id", "traeger"]].rename(columns={"traeger": "_traeger"})
    for name, own_id in _DEPENDENT.items():
        if name not in tables:
            continue
        frame = tables[name]
        t = frame.merge(provider, on=["kommune", "fall_id"], how="left")["_traeger"].to_numpy()
        changed = {"fall_id": t + ID_SEPARATOR + frame["fall_id"].to_numpy(dtype=object)}
        if own_id:
            changed[own_id] = t + ID_SEPARATOR + frame[own_id].to_numpy(dtype=object)
        out[name] = frame.assign(**changed)
    return out


def _same_text(a, b) -> bool:
    """Two entries say the same: equal numbers, or texts equal without case, spaces and punctuation."""
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    if isinstance(a, str) and isinstance(b, str):
        return re.sub(r"[\W_]+", "", a.casefold()) == re.sub(r"[\W_]+", "", b.casefold())
    return a == b


def _value(v):
    return None if pd.isna(v) else v


def _key_of(table: str, frame: pd.DataFrame) -> pd.Series:
    if table == "bezirke":
        return frame["stadtbezirk"].map(match_key, na_action="ignore")
    return frame["partner_id"]


def merge_rows(table: str, stored: pd.DataFrame, delivered: pd.DataFrame,
               force: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``table`` (``partner`` or ``bezirke``) of one kommune after a provider delivery: the stored rows, the
    delivered rows with keys not yet stored, and for a key in both the stored row (gaps filled from the
    delivered one) — or, when the two contradict each other and ``force``, the delivered row. Returns the rows
    and the contradictions (:data:`CONTRADICTION_COLUMNS`, the stored and the delivered value of each).

    District figures shipped with kimtools (``herkunft`` ``mitgeliefert``) never replace stored ones.
    """
    _, compared = COMPARED[table]
    if table == "bezirke" and len(stored):
        delivered = delivered.loc[delivered["herkunft"] != "mitgeliefert"]
    s = stored.assign(_key=_key_of(table, stored)).set_index("_key")
    d = delivered.assign(_key=_key_of(table, delivered)).set_index("_key")
    clashes, rows = [], []
    for key, new in d.iterrows():
        if key not in s.index:
            rows.append(new)
            continue
        old = s.loc[key]
        differ = [c for c in compared if not _same_text(old[c], new[c])]
        clashes += [(new["kommune"], table, key, c, _value(old[c]), _value(new[c])) for c in differ]
        s.loc[key] = new if differ and force else old.where(old.notna(), new)
    merged = pd.concat([s, pd.DataFrame(rows, columns=d.columns)]) if rows else s
    return (merged.reset_index(drop=True)[list(stored.columns) if len(stored.columns) else list(delivered.columns)],
            pd.DataFrame(clashes, columns=CONTRADICTION_COLUMNS))


def contradictions_text(clashes: pd.DataFrame, lang: str = "de") -> str:
    """The contradictions as lines: ``  Herne, partner PAR-7, name: gespeichert 'Jobcenter Herne', geliefert 'VHS'``.

    >>> c = pd.DataFrame([("Herne", "partner", "JC", "rechtskreis", "sgb2", None)], columns=CONTRADICTION_COLUMNS)
    >>> print(contradictions_text(c))
      Herne, partner JC, rechtskreis: gespeichert 'sgb2', geliefert (leer)
    """
    empty = "(leer)" if lang == "de" else "(empty)"
    shown = lambda v: empty if v is None else repr(v)  # noqa: E731
    words = ("gespeichert", "geliefert") if lang == "de" else ("stored", "delivered")
    return "\n".join(f"  {r.kommune}, {r.tabelle} {r.schluessel}, {r.spalte}: {words[0]} {shown(r.gespeichert)}, "
                     f"{words[1]} {shown(r.geliefert)}" for r in clashes.itertuples())


def uncovered_providers(stored_cases: pd.DataFrame, delivered_cases: pd.DataFrame) -> dict[str, tuple[list, list]]:
    """Per kommune of a whole-kommune export: when its cases cover only some of the kommune's stored providers,
    the providers it covers and those it leaves out (``traeger`` columns of stored and delivered cases)."""
    out = {}
    for k, mine in delivered_cases.groupby("kommune"):
        have = set(stored_cases.loc[stored_cases["kommune"] == k, "traeger"])
        given = set(mine["traeger"])
        if have and given and have - given:
            out[k] = (sorted(given), sorted(have - given))
    return out


#: per kommune of a delivery (``$kommunen``) whose slice is the providers ``$traeger``: its persons, and how many of
#: them have a case with another provider of the kommune too (read on the store after the delivery was stored)
PERSONS_SHARED_SQL = """
SELECT kommune, count(DISTINCT person_pseudonym) AS personen,
       count(DISTINCT person_pseudonym) FILTER (WHERE person_pseudonym IN (
           SELECT o.person_pseudonym FROM faelle o WHERE o.kommune = f.kommune
           AND o.traeger NOT IN (SELECT unnest($traeger)))) AS personen_geteilt
FROM faelle f WHERE kommune IN (SELECT unnest($kommunen)) AND traeger IN (SELECT unnest($traeger))
GROUP BY kommune
"""
