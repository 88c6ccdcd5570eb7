"""What every indicator means: the single source for docstrings, labels, tooltips and the user catalogue.

Each entry has German and English name, definition, numerator, denominator,
unit and caveats. Period P runs from its first to its last day; a case's
district is its ``stadtbezirk``; consultations count for their case's district
and provider.
"""

from __future__ import annotations

__all__ = ["KENNZAHLEN", "COUNTS", "REFERRAL_KENNZAHLEN", "catalogue_markdown"]


def _k(de, en, definition_de, definition_en, zaehler_de, zaehler_en, nenner_de="–", nenner_en="–",
       einheit_de="Anzahl", einheit_en="count", hinweis_de="", hinweis_en="", intervall=""):
    return dict(de=de, en=en, definition_de=definition_de, definition_en=definition_en,
                zaehler_de=zaehler_de, zaehler_en=zaehler_en, nenner_de=nenner_de, nenner_en=nenner_en,
                einheit_de=einheit_de, einheit_en=einheit_en, hinweis_de=hinweis_de, hinweis_en=hinweis_en,
                intervall=intervall)


_STATUS_DE = ("Status laut Export (heutiger Stand). Wilson-Intervall 95 %. Noch unbeantwortete Vermittlungen "
              "zählen nicht: bei jungen Zeiträumen fehlen die langsamen Antworten.")
_STATUS_EN = ("Status as exported (today's). Wilson 95 % interval. Referrals without an answer do not count: "
              "recent periods lack the slow answers.")
_ANS_DE = "Vermittlungen mit Datum in P, deren Status nicht mehr 'vermittelt' ist (beantwortet, auch Warteliste)"
_ANS_EN = "referrals dated in P whose status is no longer 'sent' (answered, waiting list included)"

KENNZAHLEN: dict[str, dict[str, str]] = {
    "neuzugaenge": _k("Neuzugänge", "new cases", "Fälle mit Beginn in P.", "Cases that began in P.",
                      "Fälle mit Beginn in P", "cases begun in P", einheit_de="Fälle", einheit_en="cases"),
    "abschluesse": _k("Abschlüsse", "closures", "Fälle mit Ende in P.", "Cases that ended in P.",
                      "Fälle mit Ende in P", "cases ended in P", einheit_de="Fälle", einheit_en="cases"),
    "faelle_offen": _k("Offene Fälle", "open cases",
                       "Fälle mit Beginn ≤ letztem Tag von P und ohne Ende oder Ende nach dem letzten Tag.",
                       "Cases begun by the last day of P and not ended or ended after it.",
                       "offene Fälle am letzten Tag von P", "cases open on the last day of P",
                       einheit_de="Fälle", einheit_en="cases",
                       hinweis_de="Stichtagszahl; ein am letzten Tag beendeter Fall zählt nicht mehr.",
                       hinweis_en="Count on the last day; a case ended on that day no longer counts."),
    "personen_erreicht": _k("Erreichte Personen", "persons reached",
                            "Verschiedene Personen mit einem Fall, der in P irgendwann offen war.",
                            "Distinct persons with a case open at some time in P.",
                            "verschiedene Pseudonyme", "distinct pseudonyms", einheit_de="Personen", einheit_en="persons",
                            hinweis_de="Eine Person mit Fällen in zwei Bezirken zählt in beiden; Summen über Bezirke zählen sie doppelt.",
                            hinweis_en="A person with cases in two districts counts in both; sums over districts count them twice."),
    "beratungen": _k("Beratungen", "consultations", "Beratungskontakte mit Datum in P.", "Consultations dated in P.",
                     "Beratungen in P", "consultations in P", einheit_de="Kontakte", einheit_en="contacts"),
    "vermittlungen": _k("Vermittlungen", "referrals", "Vermittlungen mit Datum in P.", "Referrals dated in P.",
                        "Vermittlungen in P", "referrals in P", einheit_de="Vermittlungen", einheit_en="referrals",
                        hinweis_de="Nach Handlungsfeld zählt das Handlungsfeld der Vermittlung, nicht die des Falls.",
                        hinweis_en="By needs area the referral's own area counts, not the case's."),
    "beratungen_je_fall": _k("Beratungen je Fall", "consultations per case",
                             "Beratungen in P je Fall, der in P irgendwann offen war.",
                             "Consultations in P per case open at some time in P.",
                             "Beratungen in P", "consultations in P",
                             "Fälle, die in P irgendwann offen waren", "cases open at some time in P",
                             "Kontakte je Fall", "contacts per case"),
    "faelle_je_vzae": _k("Fälle je Vollzeitstelle", "cases per full-time post",
                         "Offene Fälle am letzten Tag von P je Vollzeitäquivalent, das an diesem Tag besetzt war.",
                         "Cases open on the last day of P per full-time equivalent active on that day.",
                         "offene Fälle am letzten Tag", "cases open on the last day",
                         "VZÄ aktiv am letzten Tag (Tabelle stellen)", "FTE active on the last day (table stellen)",
                         "Fälle je VZÄ", "cases per FTE",
                         hinweis_de="Zielkorridor standardmäßig 30–40. Nach Bezirk zählen nur Stellen mit diesem Bezirk; "
                                    "stadtweite Stellen nur in der Gesamtzahl. Ohne Stellen kein Wert. Aufgegliedert nur nach Träger oder "
                                    "Stadtbezirk (denen Stellen zugeordnet sind), sonst nicht berechnet; mit Zielgruppenfilter ebenfalls nicht.",
                         hinweis_en="Target band 30–40 by default. By district only posts assigned to it count; city-wide "
                                    "posts only in the kommune total. No value without posts. Broken down only by provider or district "
                                    "(which posts are assigned to), otherwise not computed; nor with a target-group filter."),
    "reichweite_je_1000": _k("Reichweite je 1.000 Einwohner", "reach per 1,000 inhabitants",
                             "Erreichte Personen in P je 1.000 Einwohner.", "Persons reached in P per 1,000 inhabitants.",
                             "erreichte Personen", "persons reached", "Einwohner (Tabelle bezirke)", "inhabitants (table bezirke)",
                             "je 1.000 Einwohner", "per 1,000 inhabitants",
                             hinweis_de="Exaktes Poisson-Intervall (Garwood) 95 %. Einwohnerzahlen mit Stand und Quelle der Referenzdaten; nach Träger nicht berechnet.",
                             hinweis_en="Exact Poisson (Garwood) 95 % interval. Population figures as of their reference date; not computed by provider.",
                             intervall="poisson"),
    "reichweite_je_1000_auslaender": _k("Reichweite je 1.000 Ausländer/innen", "reach per 1,000 foreign nationals",
                                        "Erreichte Personen in P je 1.000 ausländische Einwohnerinnen und Einwohner.",
                                        "Persons reached in P per 1,000 foreign nationals.",
                                        "erreichte Personen", "persons reached",
                                        "ausländische Einwohner (Tabelle bezirke)", "foreign nationals (table bezirke)",
                                        "je 1.000 Ausländer/innen", "per 1,000 foreign nationals",
                                        hinweis_de="Nur wo die Referenzdaten Ausländerzahlen für alle Bezirke haben. Erreicht werden auch Eingebürgerte: ein Verhältnis, kein Anteil.",
                                        hinweis_en="Only where reference data give foreign nationals for every district. Naturalised persons are reached too: a ratio, not a share.",
                                        intervall="poisson"),
    "verweildauer_median_tage": _k("Verweildauer (Median, Tage)", "case duration (median, days)",
                                   "Median der Falldauer der in P begonnenen Fälle, Kaplan–Meier-Schätzung; offene Fälle zählen als zensiert am Datenende.",
                                   "Median duration of cases begun in P, Kaplan–Meier estimate; open cases are censored at the data end.",
                                   "beendete Fälle der Kohorte", "ended cases of the cohort",
                                   "in P begonnene Fälle", "cases begun in P", "Tage", "days",
                                   hinweis_de="Leer, solange weniger als die Hälfte der Kohorte beendet ist (jüngste Zeiträume).",
                                   hinweis_en="Empty while less than half of the cohort has ended (recent periods)."),
    "abschluesse_ziel_erreicht_quote": _k("Anteil Abschlüsse mit Ziel erreicht", "share of closures with goal reached",
                                          "Anteil der in P beendeten Fälle mit Abschlussgrund 'Ziel erreicht'.",
                                          "Share of cases ended in P with closure reason 'goal reached'.",
                                          "Abschlüsse mit Ziel erreicht", "closures with goal reached",
                                          "Abschlüsse in P", "closures in P", "Anteil", "share",
                                          hinweis_de="Wilson-Intervall 95 %.", hinweis_en="Wilson 95 % interval.", intervall="wilson"),
    "inaktive_faelle": _k("Inaktive Fälle", "inactive cases",
                          "Am letzten Tag von P offene Fälle ohne Beratung in den letzten 90 Tagen von P.",
                          "Cases open on the last day of P without a consultation in the last 90 days of P.",
                          "offene Fälle ohne Beratung in 90 Tagen", "open cases without consultation in 90 days",
                          einheit_de="Fälle", einheit_en="cases",
                          hinweis_de="Auch Fälle, die jünger als 90 Tage und noch ohne Beratung sind.",
                          hinweis_en="Includes cases younger than 90 days that have no consultation yet."),
    "wiederaufnahmen": _k("Wiederaufnahmen", "re-admissions",
                          "In P begonnene Fälle von Personen, die zuvor einen beendeten Fall hatten (Ende ≤ Beginn).",
                          "Cases begun in P by persons who had an earlier ended case (end ≤ start).",
                          "Fälle mit früherem beendeten Fall derselben Person", "cases with an earlier ended case of the same person",
                          einheit_de="Fälle", einheit_en="cases",
                          hinweis_de="Personen über Pseudonyme erkannt, nur innerhalb einer Kommune und unter demselben Schlüssel.",
                          hinweis_en="Persons recognised by pseudonym, within one kommune and under the same key."),
    "annahmequote": _k("Annahmequote", "acceptance rate",
                       "Anteil der beantworteten Vermittlungen mit Datum in P, die angenommen oder abgeschlossen sind.",
                       "Share of answered referrals dated in P that are accepted or completed.",
                       "Status 'angenommen' oder 'abgeschlossen'", "status 'accepted' or 'completed'",
                       _ANS_DE, _ANS_EN, "Anteil", "share", hinweis_de=_STATUS_DE, hinweis_en=_STATUS_EN, intervall="wilson"),
    "abschlussquote": _k("Abschlussquote", "completion rate",
                         "Anteil der beantworteten Vermittlungen mit Datum in P, deren Leistung erbracht ist ('abgeschlossen').",
                         "Share of answered referrals dated in P whose service was delivered ('completed').",
                         "Status 'abgeschlossen'", "status 'completed'", _ANS_DE, _ANS_EN, "Anteil", "share",
                         hinweis_de=_STATUS_DE, hinweis_en=_STATUS_EN, intervall="wilson"),
    "ablehnungsquote": _k("Ablehnungsquote", "refusal rate",
                          "Anteil der beantworteten Vermittlungen mit Datum in P, die abgelehnt wurden.",
                          "Share of answered referrals dated in P that were refused.",
                          "Status 'abgelehnt'", "status 'refused'", _ANS_DE, _ANS_EN, "Anteil", "share",
                          hinweis_de=_STATUS_DE, hinweis_en=_STATUS_EN, intervall="wilson"),
    "nicht_wahrgenommen_quote": _k("Quote nicht wahrgenommen", "no-show rate",
                                   "Anteil der beantworteten Vermittlungen mit Datum in P, die nicht wahrgenommen wurden.",
                                   "Share of answered referrals dated in P that the person did not take up.",
                                   "Status 'nicht_wahrgenommen'", "status 'not taken up'", _ANS_DE, _ANS_EN,
                                   "Anteil", "share", hinweis_de=_STATUS_DE, hinweis_en=_STATUS_EN, intervall="wilson"),
    "offene_schleifen": _k("Offene Schleifen", "open loops",
                           "Vermittlungen, die am letzten Tag von P mehr als 30 Tage alt sind und noch den Status 'vermittelt' haben.",
                           "Referrals more than 30 days old on the last day of P whose status is still 'sent'.",
                           "Vermittlungen mit Datum vor dem letzten Tag von P − 30 Tage und Status 'vermittelt'",
                           "referrals dated before the last day of P − 30 days with status 'sent'",
                           einheit_de="Vermittlungen", einheit_en="referrals",
                           hinweis_de="Der Export kennt nur den heutigen Status: für frühere Zeiträume fehlen Vermittlungen, "
                                      "die damals offen waren und inzwischen beantwortet sind (Untergrenze).",
                           hinweis_en="The export only has today's status: for earlier periods referrals open then and "
                                      "answered since are missing (a lower bound)."),
    "wartezeit_median_tage": _k("Wartezeit bis Ersttermin (Median, Tage)", "wait for first appointment (median, days)",
                                "Median der Tage von der Vermittlung bis zum Ersttermin beim Partner, für Vermittlungen mit Datum "
                                "in P; Kaplan–Meier-Schätzung, noch wartende Vermittlungen zählen als zensiert am Datenende.",
                                "Median days from referral to the first appointment at the partner, for referrals dated in P; "
                                "Kaplan–Meier estimate, referrals still waiting are censored at the data end.",
                                "Vermittlungen mit Ersttermin", "referrals with a first appointment",
                                "Vermittlungen mit Ersttermin oder noch wartend", "referrals with a first appointment or still waiting",
                                "Tage", "days",
                                hinweis_de="Noch wartend: Status 'vermittelt', 'warteliste' oder 'angenommen' ohne Ersttermin. "
                                           "Abgelehnte, nicht wahrgenommene und abgeschlossene Vermittlungen ohne Ersttermin "
                                           "warten nicht und zählen nicht mit. Leer, solange weniger als die Hälfte einen Termin hat.",
                                hinweis_en="Still waiting: status 'sent', 'waiting list' or 'accepted' without a first appointment. "
                                           "Refused, not taken up and completed referrals without a first appointment are not "
                                           "waiting and are left out. Empty while less than half have an appointment."),
    "luecken": _k("Angebotslücken", "service gaps",
                  "Vermittlungen mit Datum in P, bei denen eine Lücke dokumentiert ist (Spalte luecke).",
                  "Referrals dated in P with a documented gap (column luecke).",
                  "Vermittlungen mit Lückencode", "referrals with a gap code", einheit_de="Vermittlungen", einheit_en="referrals",
                  hinweis_de="Nach Lückenart aufschlüsselbar (--merkmal luecke); das Lückenregister (kimtools luecken) zeigt Verlauf und Belege.",
                  hinweis_en="Can be broken down by gap type (--merkmal luecke); the gap register (kimtools luecken) shows trend and evidence."),
}

#: indicators computed from referrals (each referral counts for its case's kommune, district and provider)
REFERRAL_KENNZAHLEN = ("vermittlungen", "annahmequote", "abschlussquote", "ablehnungsquote", "nicht_wahrgenommen_quote",
                       "offene_schleifen", "wartezeit_median_tage", "luecken")

#: indicators that are plain counts (``nenner`` empty, ``wert`` = ``zaehler``)
COUNTS = ("neuzugaenge", "abschluesse", "faelle_offen", "personen_erreicht", "beratungen", "vermittlungen",
          "inaktive_faelle", "wiederaufnahmen", "offene_schleifen", "luecken")


_HEAD = {
    "de": ("# Kennzahlenkatalog", "Erzeugt aus `kimtools/indicators/catalogue.py` – bitte dort ändern, nicht hier. "
           "Zeitraum P reicht vom ersten bis zum letzten Tag; der Bezirk eines Falls ist sein `stadtbezirk`; "
           "Beratungen und Vermittlungen zählen für Bezirk und Träger ihres Falls. Mit einem Merkmal "
           "(`--merkmal`) zählt jeder Fall unter seiner Ausprägung; Handlungsfelder zählen je Fall und Feld, "
           "ihre Summe ist daher größer als die Zahl der Fälle.",
           ("Definition", "Zähler", "Nenner", "Einheit", "Hinweise", "Intervall"),
           {"poisson": "exaktes Poisson-Intervall (Garwood), 95 %", "wilson": "Wilson-Intervall, 95 %", "": "–"}),
    "en": ("# Indicator catalogue", "Generated from `kimtools/indicators/catalogue.py` – change it there, not here. "
           "Period P runs from its first to its last day; a case's district is its `stadtbezirk`; consultations "
           "and referrals count for their case's district and provider. With a breakdown (`--merkmal`) every "
           "case counts under its characteristic; needs areas count once per case and area, so they add up to "
           "more than the cases.",
           ("Definition", "Numerator", "Denominator", "Unit", "Caveats", "Interval"),
           {"poisson": "exact Poisson (Garwood) interval, 95 %", "wilson": "Wilson interval, 95 %", "": "–"}),
}


def catalogue_markdown(lang: str = "de") -> str:
    """The user catalogue of all indicators as Markdown, in German or English."""
    title, intro, names, intervals = _HEAD[lang]
    lines = [title, "", intro, ""]
    for code, k in KENNZAHLEN.items():
        lines += [f"## {k[lang]} (`{code}`)", "",
                  f"- **{names[0]}:** {k['definition_' + lang]}",
                  f"- **{names[1]}:** {k['zaehler_' + lang]}",
                  f"- **{names[2]}:** {k['nenner_' + lang]}",
                  f"- **{names[3]}:** {k['einheit_' + lang]}",
                  f"- **{names[5]}:** {intervals[k['intervall']]}"]
        if k["hinweis_" + lang]:
            lines.append(f"- **{names[4]}:** {k['hinweis_' + lang]}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m kimtools.indicators.catalogue writes docs/kennzahlen*.md
    from ..paths import DOCS as docs

    (docs / "kennzahlen.md").write_text(catalogue_markdown("de"), encoding="utf-8")
    (docs / "kennzahlen.en.md").write_text(catalogue_markdown("en"), encoding="utf-8")
