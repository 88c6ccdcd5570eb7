"""The indicator catalogue as declarations: what each indicator counts, read from the shipped catalogue and from an
installation's own, and checked before anything is computed from it.

An indicator is declared by what its numerator (``zaehler``) and, for a rate, its denominator (``nenner``) count:
a base count of the engine (``zaehlt``, one of :data:`BASES`) and filters on contract columns (:data:`FILTERS`),
e.g. ``zaehler = { zaehlt = "abschluesse", abschlussgrund = ["abbruch"] }``. A count has no ``nenner``. What cannot
be said that way (a Kaplan–Meier median, a self-join) names its computation (``berechnung``, one of
:data:`COMPUTATIONS`), which the engine implements in one place. The engine (:mod:`kimtools.indicators.table` and
:mod:`kimtools.indicators.cells`) generates both of its routes from these declarations; no indicator's name appears
in it.

The shipped catalogue is ``kennzahlen.toml`` beside this module. An installation adds its own indicators and its own
target-group codes in a file of the same form: the file named by ``KIMTOOLS_KATALOG``, else ``kennzahlen.toml`` in
kimtools' configuration folder (:func:`kimtools.paths.config_dir`); ``docs/kennzahlen.md`` ("Eigene Kennzahlen")
shows one, with a local target group and a drop-out rate.

Problems in that file are collected, all at once, each naming the entry and the fix (:data:`PROBLEMS`); while
there are any, the file is not used and every command refuses with them (:func:`check`), so that no figure is
computed from half a definition. A local entry cannot replace a shipped one.

Examples
--------
>>> CATALOGUE["abschluesse_ziel_erreicht_quote"].zaehler
Count(zaehlt='abschluesse', filters=(('abschlussgrund', ('ziel_erreicht',)),))
>>> CATALOGUE["neuzugaenge"].nenner is None
True
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..errors import InputError
from .codes import CODE_LISTS, local_catalogue_file, read_local_catalogue

__all__ = ["Count", "Entry", "BASES", "QUANTITIES", "REFERENCES", "CASELOAD_POSTS", "FILTERS", "COMPUTATIONS", "CATALOGUE", "CATALOGUE_VERSION", "SHIPPED", "OUTCOMES",
           "PROBLEMS", "SHIPPED_FILE", "local_catalogue_file", "parse_catalogue", "check"]

SHIPPED_FILE = Path(__file__).with_name("kennzahlen.toml")

#: the base counts of the engine, by name: the table whose rows are counted ("faelle", "beratungen",
#: "vermittlungen") and what is counted of them in period P
BASES: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "neuzugaenge": ("faelle", "Fälle mit Beginn in P", "cases begun in P"),
    "abschluesse": ("faelle", "Fälle mit Ende in P", "cases ended in P"),
    "faelle_offen": ("faelle", "Fälle offen am letzten Tag von P", "cases open on the last day of P"),
    "faelle_aktiv": ("faelle", "Fälle, die in P irgendwann offen waren", "cases open at some time in P"),
    "personen_erreicht": ("faelle", "verschiedene Personen mit einem in P offenen Fall",
                          "distinct persons with a case open in P"),
    "personen_einmal": ("faelle", "verschiedene Personen mit einem in P offenen Fall, jede einmal: in der Gruppe "
                        "ihres zuletzt begonnenen", "distinct persons with a case open in P, each once: in the group "
                        "of the one begun last"),
    "beratungen": ("beratungen", "Beratungen mit Datum in P", "consultations dated in P"),
    "vermittlungen": ("vermittlungen", "Vermittlungen mit Datum in P", "referrals dated in P"),
    # (1.2) household members counselled alongside: a sum, not a count of rows; unknown where no case records them
    "mitberatene": ("faelle", "mitberatene Angehörige der in P offenen Fälle (Summe über die Fälle)",
                    "household members counselled alongside, summed over the cases open in P"),
    "personen_mit_angehoerigen": ("faelle", "verschiedene Personen mit einem in P offenen Fall und ihre mitberatenen "
                                  "Angehörigen (je Person die größte Zahl ihrer in P offenen Fälle)",
                                  "distinct persons with a case open in P and the household members counselled "
                                  "alongside them (per person the largest number among her cases open in P)"),
    # (1.2) posts: full-time equivalents, not rows; each month of P as the mean over its days
    "vzae_mittel": ("stellen", "VZÄ im Mittel über die Monate von P (jeder Monat als Mittel über seine Tage)",
                    "FTE averaged over the months of P (each month the mean over its days)"),
    "vzae_monate": ("stellen", "VZÄ-Monate in P: Summe über die Monate von P der VZÄ im Mittel über die Tage des Monats",
                    "FTE months in P: the sum over the months of P of the FTE averaged over the days of the month"),
})
#: bases whose value is an amount of posts, not a number of persons or events: fractional, no interval, no small-count
#: protection (a post is no person)
QUANTITIES = frozenset({"vzae_mittel", "vzae_monate"})
#: reference figures a rate may divide by (no filters): population and posts
REFERENCES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "einwohner": ("Einwohner (Tabelle bezirke)", "inhabitants (table bezirke)"),
    "auslaender": ("ausländische Einwohner (Tabelle bezirke)", "foreign nationals (table bezirke)"),
    "vzae": ("VZÄ besetzter Case-Management-Stellen (Baustein 2) am letzten Tag (Tabelle stellen)",
             "FTE of filled case-management posts (Baustein 2) on the last day (table stellen)"),
})
#: the posts that carry cases (contract 1.2: only filled Baustein-2 posts), as SQL on the post row ``{st}``: the
#: reference figure ``vzae`` (a caseload per post), the bundles' posts and the store's summary count these alone
CASELOAD_POSTS = "{st}.baustein = '2' AND {st}.besetzt"
#: the filters a count may have, by name: the table whose column it reads ("faelle": the case's, for every base;
#: else only for counts of that table) and the code list its values come from (None: any value, e.g. a district;
#: "alter": [from, to] years of age in the year the case began; "ergebnis": a named outcome of :data:`OUTCOMES`;
#: "ja": true, any non-empty value)
FILTERS: Mapping[str, tuple[str, str | None]] = MappingProxyType({
    "zielgruppe": ("faelle", "zielgruppe"), "aufenthaltsstatus": ("faelle", "aufenthaltsstatus"),
    "geschlecht": ("faelle", "geschlecht"), "abschlussgrund": ("faelle", "abschlussgrund"),
    "handlungsfelder": ("faelle", "handlungsfeld"), "stadtbezirk": ("faelle", None), "traeger": ("faelle", None),
    "alter": ("faelle", "alter"),
    "form": ("beratungen", "form"), "beratung_handlungsfeld": ("beratungen", "handlungsfeld"),
    "status": ("vermittlungen", "vermittlungsstatus"), "ergebnis": ("vermittlungen", "ergebnis"),
    "luecke": ("vermittlungen", "luecke"), "handlungsfeld": ("vermittlungen", "handlungsfeld"),
    "an_partner": ("vermittlungen", None),
    "baustein": ("stellen", "baustein"), "funktion": ("stellen", "funktion"), "besetzt": ("stellen", "ja_nein"),
    "foerderung": ("stellen", "foerderung"),
})
#: computations the declarative form cannot say, by name: the tables they need beyond the cases, whether their
#: value is a count, and what they are (each implemented once, in :mod:`kimtools.indicators.table`)
COMPUTATIONS: Mapping[str, tuple[tuple[str, ...], bool, str]] = MappingProxyType({
    "falldauer_median": ((), False, "Kaplan–Meier median of case durations"),
    "wartezeit_median": (("vermittlungen",), False, "Kaplan–Meier median of the wait for a first appointment"),
    "ohne_beratung_90_tage": (("beratungen",), True, "open cases without a consultation in the last 90 days"),
    "wiederaufnahme": ((), True, "cases begun by a person with an earlier ended case"),
    "offen_ueber_30_tage": (("vermittlungen",), True, "referrals still 'sent' more than 30 days old"),
})
_INTERVALS = ("", "wilson", "poisson")
_TEXTS = ("de", "en", "definition_de", "definition_en")
_OPTIONAL_TEXTS = ("zaehler_de", "zaehler_en", "nenner_de", "nenner_en", "einheit_de", "einheit_en", "hinweis_de",
                   "hinweis_en")
_KEYS = {*_TEXTS, *_OPTIONAL_TEXTS, "zaehler", "nenner", "faktor", "intervall", "berechnung"}
#: sections of a catalogue file that are no indicator
_SECTIONS = ("zielgruppen", "ergebnisse")


@dataclass(frozen=True)
class Count:
    """What a numerator or denominator counts: a base (:data:`BASES`) or reference (:data:`REFERENCES`) and its
    filters, each a column (:data:`FILTERS`) with the values it keeps, sorted (equal declarations are equal)."""

    zaehlt: str
    filters: tuple[tuple[str, tuple], ...] = ()

    @property
    def filter_key(self) -> str:
        """A digest of the filters (the same filters in two declarations give the same key)."""
        return hashlib.sha256(repr(self.filters).encode()).hexdigest()[:10]

    @property
    def column(self) -> str:
        """The name of this count's column in the engine's wide frames and in the cells: the base, and for a
        filtered count the digest of its filters (the same declaration in two entries is one column)."""
        return f"{self.zaehlt}_{self.filter_key}" if self.filters else self.zaehlt

    @property
    def table(self) -> str | None:
        """The table whose rows are counted (None for a reference figure)."""
        return BASES[self.zaehlt][0] if self.zaehlt in BASES else None

    def describe(self, lang: str = "de") -> str:
        """The count in words, for a catalogue entry that does not say it itself."""
        i = 0 if lang == "de" else 1
        base = BASES[self.zaehlt][1 + i] if self.zaehlt in BASES else REFERENCES[self.zaehlt][i]
        parts = []
        for col, values in self.filters:
            if col == "alter":
                parts.append(f"{'Alter' if i == 0 else 'age'} {values[0]}–{values[1]}")
            elif values == (True,):
                parts.append(f"{col} {'angegeben' if i == 0 else 'given'}")
            else:
                parts.append(f"{col} ∈ {{{', '.join(map(str, values))}}}")
        return base + (f" ({'; '.join(parts)})" if parts else "")


@dataclass(frozen=True)
class Entry:
    """One indicator: its texts (``de``, ``en``, ``definition_*``, ``zaehler_*``, ``nenner_*``, ``einheit_*``,
    ``hinweis_*``, ``intervall``), what it counts (``zaehler``, ``nenner``, ``faktor``) or the computation it names
    (``berechnung``), and where it was declared (``herkunft``: ``mitgeliefert`` or the local file)."""

    code: str
    texts: Mapping[str, str]
    zaehler: Count | None
    nenner: Count | None = None
    faktor: float = 1.0
    berechnung: str | None = None
    herkunft: str = "mitgeliefert"
    tables: tuple[str, ...] = field(default=())

    @property
    def is_count(self) -> bool:
        """A plain count: no denominator, ``wert`` = ``zaehler``."""
        return COMPUTATIONS[self.berechnung][1] if self.berechnung else self.nenner is None

    @property
    def counts(self) -> tuple[Count, ...]:
        return tuple(c for c in (self.zaehler, self.nenner) if c is not None)

    def fingerprint(self) -> str:
        """What the indicator computes, as a digest (texts aside): two installations that declare the same
        indicator under the same code have the same fingerprint."""
        what = (self.code, self.zaehler, self.nenner, self.faktor, self.berechnung, self.texts.get("intervall", ""))
        return hashlib.sha256(repr(what).encode()).hexdigest()[:16]


def _codes(list_name: str | None, outcomes: Mapping[str, tuple[str, ...]]) -> set | None:
    if list_name is None:
        return None
    if list_name == "ergebnis":
        return set(outcomes)
    return set(CODE_LISTS[list_name])


def _parse_count(value, where: str, part: str, outcomes: Mapping[str, tuple[str, ...]],
                 problems: list[tuple[str, str]]) -> Count | None:
    """``value`` (the TOML table of ``zaehler`` or ``nenner``) as a :class:`Count`, or None with its problems."""
    fix = ("zaehlt = \"<Grundzählung>\" und Filter wie abschlussgrund = [\"abbruch\"]",
           "zaehlt = \"<base count>\" and filters such as abschlussgrund = [\"abbruch\"]")
    if not isinstance(value, dict):
        problems.append((f"{where}: {part} muss eine Tabelle sein ({fix[0]}), nicht {value!r}.",
                         f"{where}: {part} must be a table ({fix[1]}), not {value!r}."))
        return None
    zaehlt = value.get("zaehlt")
    names = [*BASES, *REFERENCES] if part == "nenner" else list(BASES)
    if zaehlt not in names:
        problems.append((f"{where}: {part}.zaehlt = {zaehlt!r} ist keine Grundzählung; möglich: {', '.join(names)}.",
                         f"{where}: {part}.zaehlt = {zaehlt!r} is no base count; possible: {', '.join(names)}."))
        return None
    table = BASES[zaehlt][0] if zaehlt in BASES else None
    filters = []
    for col, values in value.items():
        if col == "zaehlt":
            continue
        if table is None:
            problems.append((f"{where}: {part} zählt die Bezugsgröße {zaehlt!r}, die keine Filter hat ({col} entfernen).",
                             f"{where}: {part} counts the reference figure {zaehlt!r}, which has no filters (remove {col})."))
            continue
        # a post has none of a case's columns; every other table's rows belong to a case
        allowed = [c for c, (t, _) in FILTERS.items() if t == table or (t == "faelle" and table != "stellen")]
        if col not in allowed:
            problems.append((f"{where}: {part} filtert nach unbekannter Spalte {col!r}; für {zaehlt} möglich: "
                             f"{', '.join(allowed)}.",
                             f"{where}: {part} filters by the unknown column {col!r}; for {zaehlt} possible: "
                             f"{', '.join(allowed)}."))
            continue
        codes = FILTERS[col][1]
        if codes == "alter":
            if not (isinstance(values, list) and len(values) == 2 and all(type(v) is int and 0 <= v <= 130 for v in values)
                    and values[0] <= values[1]):
                problems.append((f"{where}: {part}.alter muss [von, bis] in Jahren sein (etwa [18, 27]), nicht {values!r}.",
                                 f"{where}: {part}.alter must be [from, to] in years (e.g. [18, 27]), not {values!r}."))
                continue
            filters.append((col, tuple(values)))
            continue
        if values is True:
            filters.append((col, (True,)))
            continue
        if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
            problems.append((f"{where}: {part}.{col} muss eine Liste von Codes sein (etwa [\"a\", \"b\"]), nicht {values!r}.",
                             f"{where}: {part}.{col} must be a list of codes (e.g. [\"a\", \"b\"]), not {values!r}."))
            continue
        known = _codes(codes, outcomes)
        unknown = sorted(set(values) - known) if known is not None else []
        if unknown:
            problems.append((f"{where}: {part}.{col} nennt unbekannte Codes {unknown}; bekannt: {', '.join(sorted(known))}.",
                             f"{where}: {part}.{col} names unknown codes {unknown}; known: {', '.join(sorted(known))}."))
            continue
        filters.append((col, tuple(sorted(set(values)))))
    return Count(zaehlt, tuple(sorted(filters)))


def _text(entry: dict, key: str, default: str) -> str:
    value = entry.get(key, default)
    return value if isinstance(value, str) else default


def parse_catalogue(entries: Mapping[str, object], origin: str, outcomes: Mapping[str, tuple[str, ...]],
                    taken: Mapping[str, Entry] = MappingProxyType({})) -> tuple[dict[str, Entry], list[tuple[str, str]]]:
    """The indicator entries of a catalogue file (``origin``: its name in messages) and every problem, each as
    (German, English); entries named in ``taken`` (the shipped ones) cannot be declared again."""
    out: dict[str, Entry] = {}
    problems: list[tuple[str, str]] = []
    for code, entry in entries.items():
        if code in _SECTIONS:
            continue
        where = f"{origin}, [{code}]"
        start = len(problems)
        if code in taken:
            problems.append((f"{where}: eine mitgelieferte Kennzahl heißt schon so; eine eigene braucht einen eigenen "
                             f"Namen (etwa [{code}_lokal]).",
                             f"{where}: a shipped indicator has this name; an own one needs its own name "
                             f"(e.g. [{code}_lokal])."))
            continue
        if not code.isidentifier() or not code.isascii() or code != code.lower():
            problems.append((f"{where}: der Name darf nur Kleinbuchstaben, Ziffern und _ enthalten (etwa [abbruchquote]).",
                             f"{where}: the name may only hold lower-case letters, digits and _ (e.g. [abbruchquote])."))
            continue
        if not isinstance(entry, dict):
            problems.append((f"{where}: muss eine Tabelle mit de, en, definition_de, definition_en und zaehler sein.",
                             f"{where}: must be a table with de, en, definition_de, definition_en and zaehler."))
            continue
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            problems.append((f"{where}: unbekannte Felder {unknown}; möglich: {', '.join(sorted(_KEYS))}.",
                             f"{where}: unknown fields {unknown}; possible: {', '.join(sorted(_KEYS))}."))
        missing = [k for k in _TEXTS if not isinstance(entry.get(k), str) or not entry[k].strip()]
        if missing:
            problems.append((f"{where}: es fehlen {', '.join(missing)} (Name und Definition, deutsch und englisch).",
                             f"{where}: {', '.join(missing)} missing (name and definition, German and English)."))
        berechnung = entry.get("berechnung")
        zaehler = nenner = None
        if berechnung is not None:
            if berechnung not in COMPUTATIONS:
                problems.append((f"{where}: berechnung = {berechnung!r} ist unbekannt; möglich: {', '.join(COMPUTATIONS)}.",
                                 f"{where}: berechnung = {berechnung!r} is unknown; possible: {', '.join(COMPUTATIONS)}."))
        elif "zaehler" not in entry:
            problems.append((f"{where}: zaehler fehlt (etwa zaehler = {{ zaehlt = \"abschluesse\" }}).",
                             f"{where}: zaehler missing (e.g. zaehler = {{ zaehlt = \"abschluesse\" }})."))
        else:
            zaehler = _parse_count(entry["zaehler"], where, "zaehler", outcomes, problems)
            if "nenner" in entry:
                nenner = _parse_count(entry["nenner"], where, "nenner", outcomes, problems)
        intervall = entry.get("intervall", "")
        if intervall not in _INTERVALS:
            problems.append((f"{where}: intervall = {intervall!r}; möglich: \"wilson\" (Anteile), \"poisson\" "
                             "(Raten je Bezugsgröße) oder leer.",
                             f"{where}: intervall = {intervall!r}; possible: \"wilson\" (shares), \"poisson\" "
                             "(rates per reference figure) or empty."))
        elif intervall and berechnung is None and "nenner" not in entry:
            problems.append((f"{where}: eine Anzahl (ohne nenner) hat kein Intervall; intervall entfernen.",
                             f"{where}: a count (without nenner) has no interval; remove intervall."))
        elif intervall and zaehler and zaehler.zaehlt in QUANTITIES:
            problems.append((f"{where}: {zaehler.zaehlt} ist ein Umfang von Stellen (VZÄ), keine Zahl von Personen "
                             "oder Ereignissen; Wilson- und Poisson-Intervalle gelten dafür nicht; intervall entfernen.",
                             f"{where}: {zaehler.zaehlt} is an amount of posts (FTE), not a number of persons or "
                             "events; Wilson and Poisson intervals do not apply; remove intervall."))
        elif intervall == "wilson" and zaehler and nenner and zaehler.zaehlt != nenner.zaehlt:
            problems.append((f"{where}: ein Anteil (wilson) zählt in Zähler und Nenner dieselbe Grundzählung, der Zähler "
                             f"mit engeren Filtern; hier {zaehler.zaehlt} und {nenner.zaehlt}.",
                             f"{where}: a share (wilson) counts the same base in numerator and denominator, the "
                             f"numerator with narrower filters; here {zaehler.zaehlt} and {nenner.zaehlt}."))
        faktor = entry.get("faktor", 1)
        if type(faktor) not in (int, float) or faktor <= 0 or (faktor != 1 and "nenner" not in entry):
            problems.append((f"{where}: faktor muss eine positive Zahl sein und gilt nur für Raten (etwa 1000 "
                             "für je 1.000), nicht {faktor!r}.".replace("{faktor!r}", repr(faktor)),
                             f"{where}: faktor must be a positive number and applies to rates only (e.g. 1000 for per "
                             f"1,000), not {faktor!r}."))
        if len(problems) > start:
            continue
        texts = {k: _text(entry, k, "") for k in (*_TEXTS, *_OPTIONAL_TEXTS)}
        for lang in ("de", "en"):
            if not texts[f"zaehler_{lang}"]:
                texts[f"zaehler_{lang}"] = zaehler.describe(lang) if zaehler else ""
            if not texts[f"nenner_{lang}"]:
                texts[f"nenner_{lang}"] = nenner.describe(lang) if nenner else "–"
        texts["intervall"] = intervall
        tables = tuple(sorted({c.table for c in (zaehler, nenner) if c is not None and c.table != "faelle" and c.table}
                              | set(COMPUTATIONS[berechnung][0] if berechnung else ())))
        out[code] = Entry(code, MappingProxyType(texts), zaehler, nenner, float(faktor), berechnung, origin, tables)
    return out, problems


def _outcomes(entries: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """The named outcomes of referrals (section ``[ergebnisse]`` of the shipped catalogue): statuses each counts."""
    found = entries.get("ergebnisse", {})
    unknown = {name: sorted(set(codes) - set(CODE_LISTS["vermittlungsstatus"])) for name, codes in found.items()}
    if any(unknown.values()):
        raise ValueError(f"{SHIPPED_FILE.name}, [ergebnisse]: unbekannter Status {unknown}")
    return {name: tuple(codes) for name, codes in found.items()}


def _load() -> tuple[dict[str, Entry], dict[str, Entry], dict[str, tuple[str, ...]], list[tuple[str, str]]]:
    with open(SHIPPED_FILE, "rb") as fh:
        shipped_raw = tomllib.load(fh)
    outcomes = _outcomes(shipped_raw)
    shipped, problems = parse_catalogue(shipped_raw, SHIPPED_FILE.name, outcomes)
    if problems:   # the shipped catalogue is the developers': a test reads it
        raise ValueError("; ".join(de for de, _ in problems))
    raw, problems = read_local_catalogue()
    local = {}
    if raw is not None:
        local, more = parse_catalogue(raw, str(local_catalogue_file()), outcomes, shipped)
        problems = problems + more
    return shipped, ({} if problems else local), outcomes, problems


_SHIPPED, _LOCAL, _OUTCOMES, _PROBLEMS = _load()
#: the shipped indicators by code, in catalogue order
SHIPPED: Mapping[str, Entry] = MappingProxyType(_SHIPPED)
#: every indicator of this installation: the shipped ones, then its own (none while its file has problems)
CATALOGUE: Mapping[str, Entry] = MappingProxyType({**_SHIPPED, **_LOCAL})
#: the named outcomes of referrals: the statuses each counts (``beantwortet``: every status but 'vermittelt')
OUTCOMES: Mapping[str, tuple[str, ...]] = MappingProxyType(_OUTCOMES)
#: what the catalogue computes, as one digest of every entry's fingerprint: results kept beside a store name it with
#: their data state, so that a changed definition is computed anew
CATALOGUE_VERSION = hashlib.sha256("".join(e.fingerprint() for e in CATALOGUE.values()).encode()).hexdigest()[:16]
#: the problems of the installation's own catalogue file, each (German, English); empty when it is fine or absent
PROBLEMS: tuple[tuple[str, str], ...] = tuple(_PROBLEMS)


def check() -> None:
    """Refuse (an :class:`~kimtools.errors.InputError` listing every problem) while the installation's own catalogue
    (:func:`local_catalogue_file`) has problems: nothing is computed from half a definition."""
    if PROBLEMS:
        path = local_catalogue_file()
        raise InputError(
            f"Der eigene Kennzahlenkatalog {path} ist fehlerhaft ({len(PROBLEMS)} Problem(e)); bitte berichtigen "
            "(Aufbau: docs/kennzahlen.md, Abschnitt „Eigene Kennzahlen“):\n" + "\n".join(f"  - {de}" for de, _ in PROBLEMS),
            f"The installation's own indicator catalogue {path} has {len(PROBLEMS)} problem(s); please correct "
            "(layout: docs/kennzahlen.en.md, section \"Own indicators\"):\n" + "\n".join(f"  - {en}" for _, en in PROBLEMS))

