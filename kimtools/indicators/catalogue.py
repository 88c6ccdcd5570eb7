"""What every indicator means: the single source for docstrings, labels, tooltips and the user catalogue.

Each entry has German and English name, definition, numerator, denominator, unit and caveats; the entries are
data, in ``kimtools/contract/kennzahlen.toml``. Period P runs from its first to its last day; a case's district
is its ``stadtbezirk``; consultations count for their case's district and provider.
"""

from __future__ import annotations

from typing import Mapping

from ..contract.catalogue import CATALOGUE, SHIPPED, SHIPPED_FILE, Entry
from ..i18n import tr

__all__ = ["KENNZAHLEN", "COUNTS", "REFERRAL_KENNZAHLEN", "NEEDS", "SHIPPED_FILE", "catalogue_markdown", "pass_of"]


def pass_of(entry: Entry) -> set[str]:
    """The passes of the engine an indicator needs: ``faelle`` (cases and consultations), ``vermittlungen`` and/or
    ``stellen`` (posts)."""
    if entry.berechnung:
        return {"vermittlungen" if "vermittlungen" in entry.tables else "faelle"}
    return {c.table if c.table in ("vermittlungen", "stellen") else "faelle" for c in entry.counts}


#: every indicator's texts by its code (shipped, then the installation's own): ``de``, ``en`` (name),
#: ``definition_*``, ``zaehler_*``, ``nenner_*``, ``einheit_*``, ``hinweis_*`` and ``intervall``
KENNZAHLEN: Mapping[str, Mapping[str, str]] = {code: entry.texts for code, entry in CATALOGUE.items()}
#: indicators computed from referrals (each referral counts for its case's kommune, district and provider)
REFERRAL_KENNZAHLEN = tuple(code for code, entry in CATALOGUE.items() if pass_of(entry) == {"vermittlungen"})
#: the tables beyond the cases each indicator needs: where an import profile declares one not delivered, the
#: indicator has no value for the kommune ("keine Daten")
NEEDS: dict[str, tuple[str, ...]] = {code: entry.tables for code, entry in CATALOGUE.items()}
#: indicators that are plain counts (``nenner`` empty, ``wert`` = ``zaehler``)
COUNTS = tuple(code for code, entry in CATALOGUE.items() if entry.is_count)


#: the catalogue's own words, each as (German, English)
_TITLE = ("# Kennzahlenkatalog", "# Indicator catalogue")
_INTRO = ("Erzeugt aus `kimtools/contract/kennzahlen.toml` – bitte dort ändern, nicht hier. Zeitraum P reicht vom "
          "ersten bis zum letzten Tag; der Bezirk eines Falls ist sein `stadtbezirk`; Beratungen und Vermittlungen "
          "zählen für Bezirk und Träger ihres Falls. Mit einem Merkmal (`--merkmal`) zählt jeder Fall unter seiner "
          "Ausprägung; Handlungsfelder zählen je Fall und Feld, ihre Summe ist daher größer als die Zahl der Fälle.",
          "Generated from `kimtools/contract/kennzahlen.toml` – change it there, not here. Period P runs from its "
          "first to its last day; a case's district is its `stadtbezirk`; consultations and referrals count for "
          "their case's district and provider. With a breakdown (`--merkmal`) every case counts under its "
          "characteristic; needs areas count once per case and area, so they add up to more than the cases.")
#: the lines of an entry: its heading and the field it shows, in this order; the caveats only where there are any
_LINES = (("Definition", "Definition", "definition"), ("Zähler", "Numerator", "zaehler"),
          ("Nenner", "Denominator", "nenner"), ("Einheit", "Unit", "einheit"), ("Intervall", "Interval", None),
          ("Hinweise", "Caveats", "hinweis"))
#: an installation's own catalogue file, as the user catalogue shows it
_EXAMPLE = """```toml
[zielgruppen]
junge_erwachsene = { de = "Junge Erwachsene 18–27", en = "young adults 18–27" }

[abbruchquote]
de = "Abbruchquote"
en = "drop-out rate"
definition_de = "Anteil der Abschlüsse in P mit Abschlussgrund Abbruch."
definition_en = "Share of the closures in P that ended as drop-out."
zaehler = { zaehlt = "abschluesse", abschlussgrund = ["abbruch"] }
nenner = { zaehlt = "abschluesse" }
intervall = "wilson"
```
"""
#: how an installation declares its own indicators and target groups (the end of the catalogue)
_OWN = ("""## Eigene Kennzahlen und Zielgruppen

Jede Kommune setzt im Handlungskonzept eigene Schwerpunkte. Eigene Kennzahlen und Zielgruppen stehen in einer Datei
`kennzahlen.toml` im Konfigurationsordner von kimtools (unter Linux `~/.config/kimtools/`) oder in der Datei, die
die Umgebungsvariable `KIMTOOLS_KATALOG` nennt – nie im Programmordner. Aufbau wie der mitgelieferte Katalog:

""" + _EXAMPLE + """
- `zaehlt`: `neuzugaenge`, `abschluesse`, `faelle_offen`, `faelle_aktiv` (in P irgendwann offen),
  `personen_erreicht`, `personen_einmal` (jede Person einmal), `beratungen`, `vermittlungen`, `mitberatene`,
  `personen_mit_angehoerigen`; Stellen: `vzae_mittel` (VZÄ im Mittel über P), `vzae_monate` (VZÄ-Monate in P);
  im Nenner auch `einwohner`, `auslaender`, `vzae` (besetzte Stellen in Baustein 2 am letzten Tag).
- Filter: Spalten des Exportformats mit Codelisten – `zielgruppe`, `aufenthaltsstatus`, `geschlecht`,
  `abschlussgrund`, `handlungsfelder` (mindestens eines), `stadtbezirk`, `traeger`; für Beratungen `form`,
  `beratung_handlungsfeld`; für Vermittlungen `status`, `ergebnis` (`beantwortet`, `angenommen`, …), `luecke`
  (`true`: irgendeine), `handlungsfeld`, `an_partner` – und `alter = [von, bis]` (Alter im Jahr des Fallbeginns,
  aus `geburtsjahr`); für Stellen nur ihre eigenen: `baustein`, `funktion`, `besetzt` (`ja`/`nein`), `foerderung`.
- Eine Anzahl hat keinen `nenner`; `faktor = 1000` für Raten je 1.000; `intervall`: `wilson` (Anteile),
  `poisson` (Raten je Bezugsgröße) oder leer.
- Die eigenen Zielgruppen-Codes nimmt der Import an (Exportformat 1.2); Aufgliederungen und Dashboards zeigen sie
  mit ihrer Bezeichnung.

Fehler in der Datei nennt jeder Befehl, alle auf einmal, mit Eintrag und Abhilfe; solange es welche gibt, rechnet
kimtools nicht. Eine eigene Kennzahl kann keine mitgelieferte ersetzen. Ein Vergleichspaket trägt eine eigene Quote,
wo Zähler und Nenner Zählungen sind, die das Paket ohnehin (geschützt) veröffentlicht; verglichen wird sie nur mit
Städten, die sie gleich definieren (docs/vergleichspaket.md).
""", """## Own indicators and target groups

Every kommune sets its own priorities in its local action plan. Own indicators and target groups go into a file
`kennzahlen.toml` in kimtools' configuration folder (on Linux `~/.config/kimtools/`) or into the file the environment
variable `KIMTOOLS_KATALOG` names – never into the program folder. Same layout as the shipped catalogue:

""" + _EXAMPLE + """
- `zaehlt`: `neuzugaenge`, `abschluesse`, `faelle_offen`, `faelle_aktiv` (open at some time in P),
  `personen_erreicht`, `personen_einmal` (each person once), `beratungen`, `vermittlungen`, `mitberatene`,
  `personen_mit_angehoerigen`; posts: `vzae_mittel` (FTE averaged over P), `vzae_monate` (FTE months in P); as
  denominator also `einwohner`, `auslaender`, `vzae` (filled Baustein-2 posts on the last day).
- Filters: columns of the export format with code lists – `zielgruppe`, `aufenthaltsstatus`, `geschlecht`,
  `abschlussgrund`, `handlungsfelder` (at least one of them), `stadtbezirk`, `traeger`; for consultations `form`,
  `beratung_handlungsfeld`; for referrals `status`, `ergebnis` (`beantwortet`, `angenommen`, …), `luecke` (`true`:
  any), `handlungsfeld`, `an_partner` – and `alter = [from, to]` (age in the year the case began, from
  `geburtsjahr`); for posts only their own: `baustein`, `funktion`, `besetzt` (`ja`/`nein`), `foerderung`.
- A count has no `nenner`; `faktor = 1000` for rates per 1,000; `intervall`: `wilson` (shares), `poisson` (rates
  per reference figure) or empty.
- The import accepts the own target-group codes (export format 1.2); breakdowns and dashboards show them with their
  labels.

Every command names the file's errors, all at once, with entry and fix; while there are any, kimtools computes
nothing. An own indicator cannot replace a shipped one. A comparison bundle carries an own rate where numerator and
denominator are counts the bundle publishes anyway (protected); it is compared only with cities that define it alike
(docs/vergleichspaket.md).
""")
_INTERVALS = {"poisson": ("exaktes Poisson-Intervall (Garwood), 95 %", "exact Poisson (Garwood) interval, 95 %"),
              "wilson": ("Wilson-Intervall, 95 %", "Wilson interval, 95 %"), "": ("–", "–")}


def catalogue_markdown(lang: str = "de", entries: Mapping[str, Entry] = CATALOGUE) -> str:
    """The user catalogue of ``entries`` (default: every indicator of this installation, its own ones marked) as
    Markdown, in German or English, with how an installation declares its own."""
    lines = [tr(_TITLE, lang), "", tr(_INTRO, lang), ""]
    for code, entry in entries.items():
        k = entry.texts
        own = "" if entry.herkunft == SHIPPED_FILE.name else tr((" – eigene Kennzahl", " – own indicator"), lang)
        lines += [f"## {k[lang]} (`{code}`){own}", ""]
        for de, en, field in _LINES:
            text = tr(_INTERVALS[k["intervall"]], lang) if field is None else k[f"{field}_{lang}"]
            if text or field != "hinweis":
                lines.append(f"- **{tr((de, en), lang)}:** {text}")
        lines.append("")
    return "\n".join(lines + [tr(_OWN, lang)])


if __name__ == "__main__":  # python -m kimtools.indicators.catalogue writes docs/kennzahlen*.md
    from ..paths import DOCS as docs

    (docs / "kennzahlen.md").write_text(catalogue_markdown("de", SHIPPED), encoding="utf-8")
    (docs / "kennzahlen.en.md").write_text(catalogue_markdown("en", SHIPPED), encoding="utf-8")
