"""What every indicator means: the single source for docstrings, labels, tooltips and the user catalogue.

Each entry has German and English name, definition, numerator, denominator, unit and caveats; the entries are
data, in ``kimtools/contract/kennzahlen.toml``. Period P runs from its first to its last day; a case's district
is its ``stadtbezirk``; consultations count for their case's district and provider.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..contract.outcomes import CATALOGUE_FILE
from ..i18n import tr

__all__ = ["KENNZAHLEN", "COUNTS", "REFERRAL_KENNZAHLEN", "NEEDS", "CATALOGUE_FILE", "catalogue_markdown"]


_TEXTS = ("de", "en", "definition_de", "definition_en", "zaehler_de", "zaehler_en", "nenner_de", "nenner_en",
          "einheit_de", "einheit_en", "hinweis_de", "hinweis_en", "intervall")


def _load(path: Path) -> dict[str, dict]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


_CATALOGUE = _load(CATALOGUE_FILE)
#: every indicator's texts by its code: ``de``, ``en`` (name), ``definition_*``, ``zaehler_*``, ``nenner_*``,
#: ``einheit_*``, ``hinweis_*`` and ``intervall``
KENNZAHLEN: dict[str, dict[str, str]] = {code: {f: entry[f] for f in _TEXTS} for code, entry in _CATALOGUE.items()}
#: indicators computed from referrals (each referral counts for its case's kommune, district and provider)
REFERRAL_KENNZAHLEN = tuple(code for code, entry in _CATALOGUE.items() if entry["aus_vermittlungen"])
#: the tables beyond the cases each indicator needs: where an import profile declares one not delivered, the
#: indicator has no value for the kommune ("keine Daten")
NEEDS: dict[str, tuple[str, ...]] = {code: (("vermittlungen",) if entry["aus_vermittlungen"] else ()) +
                                     (("beratungen",) if entry.get("aus_beratungen") else ())
                                     for code, entry in _CATALOGUE.items()}
#: indicators that are plain counts (``nenner`` empty, ``wert`` = ``zaehler``)
COUNTS = tuple(code for code, entry in _CATALOGUE.items() if entry["anzahl"])


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
_INTERVALS = {"poisson": ("exaktes Poisson-Intervall (Garwood), 95 %", "exact Poisson (Garwood) interval, 95 %"),
              "wilson": ("Wilson-Intervall, 95 %", "Wilson interval, 95 %"), "": ("–", "–")}


def catalogue_markdown(lang: str = "de") -> str:
    """The user catalogue of all indicators as Markdown, in German or English."""
    lines = [tr(_TITLE, lang), "", tr(_INTRO, lang), ""]
    for code, k in KENNZAHLEN.items():
        lines += [f"## {k[lang]} (`{code}`)", ""]
        for de, en, field in _LINES:
            text = tr(_INTERVALS[k["intervall"]], lang) if field is None else k[f"{field}_{lang}"]
            if text or field != "hinweis":
                lines.append(f"- **{tr((de, en), lang)}:** {text}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m kimtools.indicators.catalogue writes docs/kennzahlen*.md
    from ..paths import DOCS as docs

    (docs / "kennzahlen.md").write_text(catalogue_markdown("de"), encoding="utf-8")
    (docs / "kennzahlen.en.md").write_text(catalogue_markdown("en"), encoding="utf-8")
