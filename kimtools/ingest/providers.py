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
* A provider's own partner IDs are mapped to the kommune's partner register (:func:`map_partners`, the map kept
  in ``partner_zuordnung``), so that referrals, access routes and posts carry the register's IDs and the network
  has one node per office; what the register did not know is listed.
* Person keys are each provider's own unless the delivery says they are shared
  (:func:`~kimtools.ingest.read.read_export`); :data:`PERSONS_SHARED_SQL` records where they meet.

Examples
--------
>>> f = pd.DataFrame({"kommune": ["Herne"] * 2, "fall_id": ["1", "2"], "traeger": ["AWO", "AWO"]})
>>> b = pd.DataFrame({"kommune": ["Herne"], "beratung_id": ["7"], "fall_id": ["2"]})
>>> q = qualify_ids({"faelle": f, "beratungen": b})
>>> q["faelle"]["fall_id"].tolist(), q["beratungen"][["beratung_id", "fall_id"]].values.tolist()
(['AWO:1', 'AWO:2'], [['AWO:7', 'AWO:2']])
"""

from __future__ import annotations

import pandas as pd

from ..contract.reference import match_key
from ..i18n import tr
from .names import name_key, name_words
from .problems import Problems, RawTable

__all__ = ["ID_SEPARATOR", "COMPARED", "check_scope", "qualify_ids", "merge_rows", "CONTRADICTION_COLUMNS", "uncovered_providers",
           "PERSONS_SHARED_SQL", "contradictions_text", "MATCHES", "ONE_PER_KOMMUNE", "map_partners", "apply_map",
           "PARTNER_COLUMNS", "register_text", "delivery_notes"]

#: between the provider and a case's, consultation's or referral's own ID in the store
ID_SEPARATOR = ":"
#: per merged table the columns a contradiction is looked for in (rows matched by partner ID, or district: :func:`_key_of`)
COMPARED = {"partner": ("name", "typ", "rechtskreis"), "bezirke": ("einwohner", "auslaender")}
CONTRADICTION_COLUMNS = ["kommune", "tabelle", "schluessel", "spalte", "gespeichert", "geliefert"]
_DEPENDENT = {"beratungen": "beratung_id", "vermittlungen": "vermittlung_id", "statuswechsel": None,
              "fall_handlungsfelder": None}


def check_scope(raws: dict[str, RawTable], providers: tuple[str, ...], problems: Problems) -> None:
    """A provider delivery holds cases and posts of its declared providers only."""
    listed = ", ".join(providers)
    for name in ("faelle", "stellen"):
        if name not in raws:
            continue
        raw = raws[name]
        outside = (raw.frame["traeger"] != "") & ~raw.frame["traeger"].isin(providers)
        what_de, what_en = ("Fall", "case") if name == "faelle" else ("Stelle", "post")
        problems.add_masked(
            raw, outside, "traeger",
            f"{what_de} eines Trägers, den diese Lieferung nicht abdeckt (sie deckt {listed}); den Träger zu den "
            "Trägern der Lieferung nehmen oder die Zeile aus der Lieferung nehmen.",
            f"{what_en} of a provider this delivery does not cover (it covers {listed}); add the provider to the "
            "delivery's providers or take the row out of the delivery.")


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
        return _name_key(a) == _name_key(b)
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
    compared = COMPARED[table]
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


#: how a provider's partner ID was found in the register (``partner_zuordnung.herkunft``)
MATCHES = {"zuordnung": ("wie zuvor zugeordnet", "mapped before"), "gleich": ("gleiche ID", "same ID"),
           "name": ("gleicher Name und Typ", "same name and type"),
           "aehnlich": ("ähnlicher Name, gleicher Typ – bitte prüfen", "similar name, same type – please check"),
           "typ": ("einzige Stelle dieses Typs", "the only office of this type"),
           "neu": ("neu im Register, keinem Partner zugeordnet", "new in the register, mapped to no partner")}
#: types of which a kommune has one office: a provider's only partner of such a type is the register's only one
ONE_PER_KOMMUNE = ("jobcenter", "arbeitsagentur", "auslaenderbehoerde", "einbuergerungsbehoerde", "jugendamt",
                   "sozialamt", "gesundheitsamt", "kommunales_integrationszentrum")


def _name_key(name) -> str:
    return name_key(name) if isinstance(name, str) else ""


#: words that do not tell partners apart
_FILLER = {"e", "v", "ev", "gmbh", "ggmbh", "der", "die", "das", "und", "fuer", "in", "im", "am", "von"}


def _tokens(name) -> set[str]:
    """The telling words of a name: ``"Caritasverband Herne e.V."`` → ``{"caritasverband", "herne"}``."""
    return set(name_words(name)) - _FILLER


def _alike(a: set[str], b: set[str], place: set[str] = frozenset()) -> bool:
    """Every telling word of the shorter name stands in the other, whole, or one word starts the other
    (``caritas`` and ``caritasverband``), and at least one of them has four letters or more and is not the
    place's name (``place``: "Herne" alone tells no partner of Herne from another)."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    hits = [w for w in short if any(v == w or (min(len(v), len(w)) >= 3 and (v.startswith(w) or w.startswith(v)))
                                    for v in long_)]
    return bool(short) and len(hits) == len(short) and any(len(w) >= 4 and w not in place for w in hits)


def map_partners(register: pd.DataFrame, known: pd.DataFrame, delivered: pd.DataFrame,
                 providers: tuple[str, ...]) -> pd.DataFrame:
    """Which register partner each of a provider delivery's partner IDs is, for one kommune.

    ``register`` holds the kommune's stored partners, ``known`` its stored map (``partner_zuordnung``),
    ``delivered`` the delivery's partner rows; the map is recorded for the delivering providers (the first of
    ``providers`` for a delivery of several). In this order a delivered ID is: mapped as before; the register's
    partner of the same ID; the one of the same type and name (without case, spaces and punctuation); the one of
    the same type whose name is alike (:func:`_alike`: ``Caritas Herne`` and ``Caritasverband Herne e.V.``), if
    it is the only one on either side (listed for checking); for a type a
    kommune has one office of (:data:`ONE_PER_KOMMUNE`), the only such partner on both sides; else new in the
    register under its own ID (prefixed with the provider if another partner has it; into an empty register: the
    delivery founds it, ``gleich``). Returns the map
    (``partner_zuordnung`` columns, ``herkunft`` one of :data:`MATCHES`).

    >>> reg = pd.DataFrame({"partner_id": ["JC", "VHS"], "name": ["Jobcenter Herne", "VHS Herne"],
    ...                     "typ": ["jobcenter", "vhs"]})
    >>> mine = pd.DataFrame({"kommune": "Herne", "partner_id": ["P7", "P8", "P9"],
    ...                      "name": ["JC Herne", "vhs  herne", "Tafel"], "typ": ["jobcenter", "vhs", "sonstige"]})
    >>> m = map_partners(reg, pd.DataFrame(columns=["traeger", "partner_id_traeger", "partner_id"]), mine, ("AWO",))
    >>> m[["partner_id_traeger", "partner_id", "herkunft"]].values.tolist()
    [['P7', 'JC', 'typ'], ['P8', 'VHS', 'name'], ['P9', 'P9', 'neu']]
    """
    provider = providers[0]
    before = known.loc[known["traeger"] == provider].set_index("partner_id_traeger")["partner_id"]
    ids = set(register["partner_id"])
    by_name = {(r.typ, _name_key(r.name)): r.partner_id for r in register.itertuples()}
    names = dict(zip(register["partner_id"], register["name"]))
    only = register.groupby("typ")["partner_id"].agg(list)
    mine_per_type = delivered.groupby("typ")["partner_id"].nunique()
    rows, taken = [], set(ids)
    for r in delivered.drop_duplicates("partner_id").itertuples():
        if r.partner_id in before.index and before[r.partner_id] != r.partner_id:
            target, how = before[r.partner_id], "zuordnung"
        elif r.partner_id in ids:
            target, how = r.partner_id, "gleich"
        elif (r.typ, _name_key(r.name)) in by_name:
            target, how = by_name[(r.typ, _name_key(r.name))], "name"
        elif len(alike := _alike_in(register, r.typ, r.name, r.kommune)) == 1 and \
                len(_alike_in(delivered, r.typ, names[alike[0]], r.kommune)) == 1:   # alike one to one
            target, how = alike[0], "aehnlich"
        elif r.typ in ONE_PER_KOMMUNE and len(only.get(r.typ, [])) == 1 and mine_per_type.get(r.typ) == 1:
            target, how = only[r.typ][0], "typ"
        else:
            target = r.partner_id if r.partner_id not in taken else f"{provider}{ID_SEPARATOR}{r.partner_id}"
            how = "neu" if ids else "gleich"   # the first delivery founds the register
        taken.add(target)
        rows.append((r.kommune, provider, r.partner_id, target, how))
    return pd.DataFrame(rows, columns=["kommune", "traeger", "partner_id_traeger", "partner_id", "herkunft"])


def _alike_in(rows: pd.DataFrame, typ: str, name: str, kommune: str) -> list[str]:
    """The IDs of the partners of type ``typ`` in ``rows`` whose name is alike ``name`` (:func:`_alike`)."""
    mine, place = _tokens(name), _tokens(kommune)
    same = rows.loc[rows["typ"] == typ]
    return [pid for pid, other in zip(same["partner_id"], same["name"]) if _alike(mine, _tokens(other), place)]


#: the columns that hold partner IDs, per table
PARTNER_COLUMNS = {"faelle": ("traeger", "zugang_ueber"), "vermittlungen": ("an_partner",), "stellen": ("traeger",),
                   "partner": ("partner_id",)}


def apply_map(tables: dict[str, pd.DataFrame], mapping: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The delivery's frames with every partner ID replaced by its register partner's (:func:`map_partners`). A
    partner the register holds under another ID keeps the register's row (and spelling): the delivery's row of it
    is left out."""
    out = dict(tables)
    found = mapping.loc[mapping["herkunft"].isin(("zuordnung", "name", "typ")), ["kommune", "partner_id_traeger"]]
    partner = tables["partner"]
    if len(found) and not partner.empty:
        keys = pd.MultiIndex.from_frame(partner[["kommune", "partner_id"]])
        out["partner"] = partner.loc[~keys.isin(pd.MultiIndex.from_frame(found))]
    keyed = mapping.set_index(["kommune", "partner_id_traeger"])["partner_id"]
    for name, columns in PARTNER_COLUMNS.items():
        frame = out[name]
        if frame.empty:
            continue
        changed = {}
        for c in columns:
            mapped = keyed.reindex(pd.MultiIndex.from_arrays([frame["kommune"], frame[c]])).to_numpy()
            changed[c] = frame[c].where(pd.isna(mapped), mapped)
        out[name] = frame.assign(**changed)
    return out


def register_text(mapping: pd.DataFrame, lang: str = "de") -> str:
    """The partner IDs of a delivery that the register found under another ID or not at all, a line each."""
    lines = []
    for r in mapping.loc[mapping["herkunft"] != "gleich"].itertuples():
        how = MATCHES[r.herkunft][0 if lang == "de" else 1]
        arrow = f" → {r.partner_id}" if r.herkunft != "neu" else ""
        lines.append(f"  {r.kommune}, {r.traeger}: {r.partner_id_traeger}{arrow} ({how})")
    return "\n".join(lines)


def delivery_notes(clashes: pd.DataFrame | None, mapping: pd.DataFrame | None, lang: str = "de") -> str:
    """What a provider delivery's import has to say beyond its counts: the partner and district rows that contradict
    the stored ones (:func:`contradictions_text`) and the partner IDs the register knows under another ID or not at
    all (:func:`register_text`), each under its heading; empty when there is neither."""
    parts = []
    if clashes is not None and len(clashes):
        parts.append(tr(("Widersprüche zu gespeicherten Partner- oder Bezirkszeilen (die gespeicherte Zeile bleibt; "
                         "erzwungen gilt die gelieferte):",
                         "Contradictions to stored partner or district rows (the stored row stays; forced, the "
                         "delivered one holds):"), lang) + "\n" + contradictions_text(clashes, lang))
    listed = register_text(mapping, lang) if mapping is not None else ""
    if listed:
        parts.append(tr(("Partner-IDs dieser Lieferung im Partnerregister der Kommune (→ Register-ID; „neu“: keinem "
                         "bekannten Partner zugeordnet, bitte prüfen):",
                         "Partner IDs of this delivery in the kommune's partner register (→ register ID; 'new': mapped "
                         "to no known partner, please check):"), lang) + "\n" + listed)
    return "\n".join(parts)


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
