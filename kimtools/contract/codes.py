"""Code lists of the KIM case export (version 1) with their German and English labels.

Each list maps a code to ``(German label, English label)``. The order of a
list is the order used in tables and figures. The reader accepts a code or
its German label, case-insensitively (``../shared/case-export-format.md``).

Examples
--------
>>> ZIELGRUPPE["multiple_problemlagen"][0]
'Multiple Problemlagen'
>>> label("form", "persoenlich")
'persönlich'
>>> label("form", "persoenlich", lang="en")
'in person'
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from ..i18n import tr

__all__ = [
    "ABSCHLUSSGRUND", "ZIELGRUPPE", "HANDLUNGSFELD", "AUFENTHALTSSTATUS",
    "GESCHLECHT", "FORM", "VERMITTLUNGSSTATUS", "LUECKE", "PARTNERTYP",
    "RECHTSKREIS", "JA_NEIN", "CODE_LISTS", "label",
]


def _frozen(pairs: dict[str, tuple[str, str]]) -> Mapping[str, tuple[str, str]]:
    return MappingProxyType(pairs)


ABSCHLUSSGRUND = _frozen({
    "ziel_erreicht": ("Ziel erreicht", "goal reached"),
    "weitervermittelt": ("Weitervermittelt", "referred on"),
    "abbruch": ("Abbruch", "dropped out"),
    "wegzug": ("Wegzug", "moved away"),
    "kontaktverlust": ("Kontaktverlust", "contact lost"),
    "sonstiges": ("Sonstiges", "other"),
})

ZIELGRUPPE = _frozen({
    "erstintegration": ("Nachholende Erstintegration", "catch-up first integration"),
    "multiple_problemlagen": ("Multiple Problemlagen", "multiple problem situations"),
    "pflegesetting": ("Pflegesetting", "care setting"),
    "sonstige": ("Sonstige", "other"),
})

HANDLUNGSFELD = _frozen({
    "sprache": ("Sprache", "language"),
    "bildung": ("Bildung", "education"),
    "arbeit": ("Arbeit", "work"),
    "ausbildung": ("Ausbildung", "vocational training"),
    "wohnen": ("Wohnen", "housing"),
    "gesundheit": ("Gesundheit", "health"),
    "aufenthalt": ("Aufenthalt", "residence"),
    "familie": ("Familie", "family"),
    "finanzen": ("Finanzen", "finances"),
    "pflege": ("Pflege", "care"),
    "verbraucherschutz": ("Verbraucherschutz", "consumer protection"),
    "teilhabe": ("Teilhabe", "participation"),
})

AUFENTHALTSSTATUS = _frozen({
    "aufenthaltsgestattung": ("Aufenthaltsgestattung", "permission to reside (asylum)"),
    "duldung": ("Duldung", "toleration"),
    "ae_104c": ("Chancen-Aufenthaltsrecht § 104c", "opportunity residence § 104c"),
    "ae_25a": ("Aufenthaltserlaubnis § 25a", "residence permit § 25a"),
    "ae_25b": ("Aufenthaltserlaubnis § 25b", "residence permit § 25b"),
    "ae_humanitaer": ("Aufenthaltserlaubnis humanitär", "humanitarian residence permit"),
    "ae_sonstige": ("Aufenthaltserlaubnis sonstige", "other residence permit"),
    "niederlassungserlaubnis": ("Niederlassungserlaubnis", "settlement permit"),
    "eu_freizuegigkeit": ("EU-Freizügigkeit", "EU free movement"),
    "eingebuergert": ("Eingebürgert", "naturalised"),
    "ungeklaert": ("Ungeklärt", "unclear"),
})

GESCHLECHT = _frozen({
    "w": ("weiblich", "female"),
    "m": ("männlich", "male"),
    "d": ("divers", "diverse"),
    "x": ("ohne Angabe", "not stated"),
})

FORM = _frozen({
    "persoenlich": ("persönlich", "in person"),
    "telefonisch": ("telefonisch", "by phone"),
    "digital": ("digital", "online"),
    "aufsuchend": ("aufsuchend", "outreach"),
})

VERMITTLUNGSSTATUS = _frozen({
    "vermittelt": ("Vermittelt", "sent"),
    "warteliste": ("Warteliste", "waiting list"),
    "angenommen": ("Angenommen", "accepted"),
    "abgeschlossen": ("Abgeschlossen", "completed"),
    "abgelehnt": ("Abgelehnt", "declined"),
    "nicht_wahrgenommen": ("Nicht wahrgenommen", "not attended"),
})

LUECKE = _frozen({
    "kein_angebot": ("Kein Angebot", "no service"),
    "wartezeit": ("Wartezeit", "waiting time"),
    "sprachbarriere": ("Sprachbarriere", "language barrier"),
    "zustaendigkeit_unklar": ("Zuständigkeit unklar", "unclear responsibility"),
    "erreichbarkeit": ("Erreichbarkeit", "accessibility"),
    "kosten": ("Kosten", "costs"),
})

PARTNERTYP = _frozen({
    "jobcenter": ("Jobcenter", "job centre"),
    "arbeitsagentur": ("Agentur für Arbeit", "employment agency"),
    "auslaenderbehoerde": ("Ausländerbehörde", "immigration office"),
    "einbuergerungsbehoerde": ("Einbürgerungsbehörde", "naturalisation office"),
    "jugendamt": ("Jugendamt", "youth welfare office"),
    "sozialamt": ("Sozialamt", "social welfare office"),
    "gesundheitsamt": ("Gesundheitsamt", "health office"),
    "schule": ("Schule", "school"),
    "vhs": ("Volkshochschule", "adult education centre"),
    "wohlfahrtsverband": ("Wohlfahrtsverband", "welfare organisation"),
    "mso": ("Migrantenselbstorganisation", "migrant organisation"),
    "kammer": ("Kammer", "chamber"),
    "wirtschaftsfoerderung": ("Wirtschaftsförderung", "economic development"),
    "kommunales_integrationszentrum": ("Kommunales Integrationszentrum", "municipal integration centre"),
    "sonstige": ("Sonstige", "other"),
})

RECHTSKREIS = _frozen({
    "sgb2": ("SGB II", "SGB II"),
    "sgb3": ("SGB III", "SGB III"),
    "sgb8": ("SGB VIII", "SGB VIII"),
    "sgb12": ("SGB XII", "SGB XII"),
    "asylblg": ("AsylbLG", "AsylbLG"),
    "aufenthg": ("AufenthG", "AufenthG"),
    "stag": ("StAG", "StAG"),
})

JA_NEIN = _frozen({
    "ja": ("ja", "yes"),
    "nein": ("nein", "no"),
})

#: Every code list by the name the schema refers to.
CODE_LISTS: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType({
    "abschlussgrund": ABSCHLUSSGRUND,
    "zielgruppe": ZIELGRUPPE,
    "handlungsfeld": HANDLUNGSFELD,
    "aufenthaltsstatus": AUFENTHALTSSTATUS,
    "geschlecht": GESCHLECHT,
    "form": FORM,
    "vermittlungsstatus": VERMITTLUNGSSTATUS,
    "luecke": LUECKE,
    "partnertyp": PARTNERTYP,
    "rechtskreis": RECHTSKREIS,
    "ja_nein": JA_NEIN,
})


def label(code_list: str, code: str, lang: str | None = None) -> str:
    """Return the label of ``code`` in ``code_list`` (German unless ``lang='en'``).

    An unknown code is returned unchanged, so that a label lookup never hides data.
    """

    pair = CODE_LISTS[code_list].get(code)
    if pair is None:
        return code
    return tr(pair, lang)
