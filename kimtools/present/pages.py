"""The dashboards' words: title, one-line description (for the landing page), introduction and reading help,
in German and English, and the landing page itself.

The dashboard notebooks show these texts (``intro``, ``reading_help``) instead of Markdown cells, so that
``KIMTOOLS_LANG=en`` switches every word on the page. One page style for all dashboards lives here too.
"""

from __future__ import annotations

import html
import json
import tomllib
from pathlib import Path

from ..errors import KimtoolsError
from ..i18n import current_lang, tr
from ..store.meetings import commentary
from .labels import with_units
from .markup import Html, fill_comments

__all__ = ["DASHBOARDS", "SECTIONS", "intro", "reading_help", "section_title", "landing_html", "PAGE_CSS",
           "MEETING_PATH", "meeting_views", "meeting_view_html"]

#: name → texts (German, English); the order is the landing page's
DASHBOARDS: dict[str, dict[str, tuple[str, str]]] = {
    "lenkungskreis": {
        "titel": ("Lenkungskreis", "Steering committee"),
        "beschreibung": ("Eine Seite für die Sitzung: wo KIM steht und was eine Entscheidung braucht – mit Druckfassung.",
                         "One page for the meeting: where KIM stands and what needs a decision – with a printable version."),
        "einleitung": (
            "Erreichte Personen, offene Fälle, Belastung je Stelle und Neuzugänge im Vergleich zum Vorquartal und zum "
            "Vorjahresquartal; die Stadtbezirke (eines Kreises: die Gemeinden); was aus Vermittlungen wird und wo sie stocken; die größten "
            "Angebotslücken und die Wechsel des Aufenthaltsstatus. Oben lassen sich Kommune, Stadtbezirk bzw. Gemeinde und Quartal "
            "wählen. Alle Zahlen sind zusammengefasst; Zahlen von 1 bis 2 erscheinen als „< 3“. Fährt man mit der Maus "
            "über eine Kachel, erscheint ihre Definition.",
            "Persons reached, open cases, load per post and new cases against the previous quarter and the same quarter "
            "a year before; the districts (of a county: its municipalities); what becomes of referrals and where they stall; the largest service gaps and "
            "the changes of residence status. Choose kommune, district or municipality and quarter at the top. All figures are "
            "aggregated; counts from 1 to 2 appear as '< 3'. Hover over a tile to see its definition."),
        "lesehilfe": (
            "Die Druckfassung (unten) enthält dieselben Teile auf A4 mit Datum und Datenstand; "
            "<code>kimtools bericht --lenkungskreis</code> schreibt sie auch als PDF. Alle Definitionen stehen im "
            "Kennzahlenkatalog (<code>docs/kennzahlen.md</code>).",
            "The printable version (below) holds the same parts on A4 with date and data state; "
            "<code>kimtools report --lenkungskreis</code> also writes it as PDF. All definitions are in the indicator "
            "catalogue (<code>docs/kennzahlen.en.md</code>)."),
    },
    "planung": {
        "titel": ("Planung", "Planning"),
        "beschreibung": ("Aufenthaltsstatus und § 104c, Prognosen der Fallzahlen und wie viele Stellen wo nötig sind.",
                         "Residence status and § 104c, caseload forecasts and how many posts are needed where."),
        "einleitung": (
            "Wege des Aufenthaltsstatus und das Chancen-Aufenthaltsrecht (§ 104c): wie viele in § 25a/§ 25b wechseln "
            "und wann die 18 Monate enden; Prognosen der Neuzugänge und offenen Fälle mit 95-%-Intervall; wie viele "
            "Stellen je Stadtbezirk bzw. Gemeinde bei einer Ziel-Fallzahl nötig sind; ein Bedarfsindex für die Standortfrage. Oben "
            "lassen sich Kommune und Stadtbezirk bzw. Gemeinde wählen, unten Ziel-Fallzahl, Veränderung der Neuzugänge und Stellen. "
            "Alle Zahlen sind zusammengefasst; Zahlen von 1 bis 2 erscheinen nicht.",
            "Residence-status pathways and the opportunity residence right (§ 104c): how many move to § 25a/§ 25b and "
            "when the 18 months end; forecasts of new and open cases with 95 % intervals; how many posts each district "
            "needs at a target load; a need index for where to place an office. Choose kommune and district at the top, "
            "target load, change of intake and posts below. All figures are aggregated; counts from 1 to 2 are not shown."),
        "lesehilfe": (
            "Die Prognose ist ein Modell mit Trend und Saisonmuster (exponentielle Glättung); sie setzt die bisherige "
            "Entwicklung fort und kennt keine Ereignisse, die kommen. Mehr Neuzugänge bedeuten bei gleicher Verweildauer "
            "im selben Verhältnis mehr offene Fälle. Der Bedarfsindex ist eine Gesprächsgrundlage, keine Rangliste; "
            "Annahmen und Rückblick-Test: <code>docs/planung.md</code> und Notebook 06.",
            "The forecast is a model with trend and seasonal pattern (exponential smoothing); it continues the past and "
            "knows no events to come. More new cases mean proportionally more open cases if durations stay the same. The "
            "need index is a basis for discussion, not a ranking; assumptions and back-test: <code>docs/planung.md</code> "
            "and notebook 06."),
    },
    "fallzahlen": {
        "titel": ("Fallzahlen", "Caseload"),
        "beschreibung": ("Wen das Case-Management erreicht, wo, mit welchen Bedarfen – und ob die Stellen die Last tragen.",
                         "Whom case management reaches, where, with which needs – and whether the posts can carry the load."),
        "einleitung": (
            "Wen erreicht das Case-Management, wo, mit welchen Bedarfen – und können die Case-Managerinnen und "
            "Case-Manager die Last tragen? Oben lassen sich Kommune, Stadtbezirk bzw. Gemeinde, Träger, Quartal und Zielgruppe wählen. "
            "Alle Zahlen sind zusammengefasst; Zahlen von 1 bis 2 erscheinen als „< 3“, Raten auf so kleinen Zahlen "
            "werden nicht gezeigt. Fährt man mit der Maus über eine Kachel, erscheint ihre Definition.",
            "Whom does case management reach, where, with which needs – and can the case managers carry the load? Choose "
            "kommune, district, provider, quarter and target group at the top. All figures are aggregated; counts from 1 "
            "to 2 appear as '< 3', rates on such small counts are not shown. Hover over a tile to see its definition."),
        "lesehilfe": (
            "<em>Fälle je Vollzeitstelle</em>: offene Fälle am Quartalsende je besetzter Vollzeitstelle; der grüne "
            "Bereich ist der Zielkorridor (30–40 Fälle). <em>Reichweite</em>: erreichte Personen je 1.000 Einwohner mit "
            "95-%-Intervall – überlappende Intervalle bedeuten keinen klaren Unterschied. <em>Verweildauer</em>: Anteil "
            "der Fälle, die nach so vielen Tagen noch offen sind; noch laufende Fälle gehen bis heute in die Schätzung "
            "ein (Kaplan–Meier). Alle Definitionen stehen im Kennzahlenkatalog (<code>docs/kennzahlen.md</code>).",
            "<em>Cases per full-time post</em>: open cases at the end of the quarter per filled full-time post; the green "
            "area is the target band (30–40 cases). <em>Reach</em>: persons reached per 1,000 inhabitants with 95 % "
            "interval – overlapping intervals mean no clear difference. <em>Duration</em>: share of cases still open "
            "after so many days; cases still running count up to today (Kaplan–Meier). All definitions are in the "
            "indicator catalogue (<code>docs/kennzahlen.en.md</code>)."),
    },
    "netzwerk": {
        "titel": ("Vermittlungen und Angebotslücken", "Referrals and service gaps"),
        "beschreibung": ("Wer an wen vermittelt, was aus den Vermittlungen wird und wo ein Angebot fehlt.",
                         "Who refers to whom, what becomes of the referrals and where a service is missing."),
        "einleitung": (
            "Wer vermittelt an wen, was wird aus den Vermittlungen, und wo fehlt ein Angebot? Oben lassen sich Kommune, "
            "Stadtbezirk bzw. Gemeinde, Träger, Quartal und Zielgruppe wählen; gezeigt werden die zwölf Monate bis zum Ende des "
            "Quartals. Alle Zahlen sind zusammengefasst; Zahlen von 1 bis 2 erscheinen als „< 3“, Verbindungen mit "
            "weniger als drei Vermittlungen werden nicht gezeichnet.",
            "Who refers to whom, what becomes of the referrals, and where is a service missing? Choose kommune, district or municipality, "
            "provider, quarter and target group at the top; shown are the twelve months up to the end of the quarter. "
            "All figures are aggregated; counts from 1 to 2 appear as '< 3', links with fewer than three referrals are "
            "not drawn."),
        "lesehilfe": (
            "Im <em>Netz</em> stehen die Case-Management-Träger in der Mitte, als Nummern (ihre Namen in der Legende), "
            "die Partner außen, nach Rechtskreis geordnet; die Linienstärke zeigt die Zahl der Vermittlungen, die Farbe "
            "die Annahmequote. <em>Partner, die sich abheben</em>: nur wo das 95-%-Intervall eines Partners den Wert aller übrigen nicht einschließt – keine "
            "Rangliste. <em>Wartezeit</em>: Anteil der Vermittelten, die nach so vielen Tagen noch auf den Ersttermin "
            "warten; wer noch wartet, geht bis heute in die Schätzung ein (Kaplan–Meier). Das Lückenregister für die "
            "Planungskonferenz schreibt <code>kimtools luecken</code>.",
            "In the <em>network</em> the case-management providers are in the middle, as numbers (their names in the "
            "legend), the partners outside, ordered by legal domain; line width shows the number of referrals, colour "
            "the acceptance rate. <em>Partners that stand out</em>: only where a partner's 95 % interval does not include the value of all others – no ranking. "
            "<em>Waiting time</em>: share of referred persons still waiting for a first appointment after so many days; "
            "those still waiting count up to today (Kaplan–Meier). <code>kimtools luecken</code> writes the gap register "
            "for the planning conference."),
    },
    "vergleich": {
        "titel": ("Städte und Bezirke vergleichen", "Comparing cities and districts"),
        "beschreibung": ("Faire Vergleiche aus den Vergleichspaketen der Kommunen: Trichterdiagramm statt Rangliste.",
                         "Fair comparisons from the kommunen's comparison bundles: funnel plots instead of league tables."),
        "einleitung": (
            "Grundlage sind allein die Vergleichspakete der Kommunen: geschützte Zählungen und daraus berechnete "
            "Kennzahlen, keine Falldaten. Oben lassen sich die Ebene (Kommunen oder alle Stadtbezirke und Gemeinden), die Kennzahl und "
            "der Zeitraum wählen.",
            "The only source are the kommunen's comparison bundles: protected counts and indicators computed from them, "
            "no case data. Choose the level (kommunen or all districts), the indicator and the period at the top."),
        "lesehilfe": (
            "Das <em>Trichterdiagramm</em> zeigt jeden Wert über seiner Bezugsgröße (Einwohner, Vermittlungen …). Die "
            "Linien sind Kontrollgrenzen um den gemeinsamen Wert (95 % gestrichelt, 99,8 % gepunktet), die mit der Größe "
            "enger werden: Ein kleiner Bezirk mit auffälligem Wert liegt oft noch im weiten Teil des Trichters. Nur wer "
            "außerhalb liegt, weicht klar ab; eine Rangliste gibt es nicht. Streuen die Einheiten mehr als der Zufall, "
            "werden die Grenzen geweitet (abschaltbar). Die Definitionen stehen in <code>docs/vergleichspaket.md</code> "
            "und <code>docs/kennzahlen.md</code>.",
            "The <em>funnel plot</em> shows each value over its base (inhabitants, referrals …). The lines are control "
            "limits around the common value (95 % dashed, 99.8 % dotted) that narrow with size: a small district with a "
            "striking value often still lies in the wide part of the funnel. Only what lies outside differs clearly; "
            "there is no ranking. If the units scatter more than chance, the limits are widened (can be switched off). "
            "Definitions are in <code>docs/vergleichspaket.md</code> and <code>docs/kennzahlen.en.md</code>."),
    },
    "datenstand": {
        "titel": ("Datenstand", "Data state"),
        "beschreibung": ("Was der Datenbestand je Kommune enthält, wann zuletzt importiert wurde und wie vollständig er ist.",
                         "What the store holds per kommune, when it was last imported and how complete it is."),
        "einleitung": (
            "Was der KIM-Datenbestand je Kommune enthält: Umfang, Zeitraum, letzter Import, die wichtigsten Befunde zur "
            "Datenqualität und die Neuzugänge je Quartal. Alle Zahlen sind zusammengefasst; Zahlen von 1 bis 2 werden "
            "als „< 3“ angezeigt.",
            "What the KIM store holds per kommune: size, period, last import, the main data-quality findings and new "
            "cases per quarter. All figures are aggregated; counts from 1 to 2 appear as '< 3'."),
        "lesehilfe": (
            "<em>Fälle ohne Beratung</em>: Fälle, zu denen kein Beratungskontakt dokumentiert ist. <em>Vermittlungen "
            "> 30 Tage ohne Rückmeldung</em>: Vermittlungen, die am Stichtag seit mehr als 30 Tagen den Status "
            "„vermittelt“ haben. <em>Monate ohne Dokumentation</em>: Monate, in denen ein Träger offene Fälle, aber keine "
            "einzige Beratung dokumentiert hat. <em>Parallele Fälle</em>: eine Person wird zur gleichen Zeit bei zwei "
            "Trägern geführt. Der <em>Stichtag</em> ist das jüngste Datum im Export der Kommune.",
            "<em>Cases without consultation</em>: cases with no documented consultation. <em>Referrals > 30 days "
            "without answer</em>: referrals that have had the status 'referred' for more than 30 days on the reference "
            "date. <em>Months without documentation</em>: months in which a provider had open cases but documented no "
            "consultation at all. <em>Parallel cases</em>: one person is held by two providers at the same time. The "
            "<em>reference date</em> is the latest date in the kommune's export."),
    },
}

#: each page's sections in page order: key → heading (German, English), from ``sections.toml``; the printout
#: of the steering committee's page uses the same headings
SECTIONS: dict[str, dict[str, tuple[str, str]]] = {
    page: {key: tuple(words) for key, words in keys.items()}
    for page, keys in tomllib.loads((Path(__file__).parent / "sections.toml").read_text(encoding="utf-8")).items()}


def section_title(dashboard: str, key: str, kommune: str | None = None) -> str:
    """The heading of one section of a dashboard page (and of its printout), in the current language, with the words
    ``kommune`` has for its sub-units (:func:`~kimtools.present.labels.units`)."""
    return with_units(SECTIONS[dashboard][key], kommune)


#: one look for every dashboard: readable on a laptop at 1366×768 and on a projector
PAGE_CSS = """<style>
body, .jp-Notebook, .jp-RenderedHTMLCommon { font-family: Arial, Helvetica, sans-serif; }
.jp-RenderedHTMLCommon { font-size: 15px; line-height: 1.45; }
.kim-intro h1 { font-size: 26px; margin: 4px 0 6px 0; }
.kim-intro p, .kim-help { max-width: 1100px; }
.kim-help { color: #333; font-size: 14px; border-top: 1px solid #ccc; padding-top: 6px; margin-top: 12px; }
.jp-OutputArea-output h3 { font-size: 19px; margin: 18px 0 4px 0; }
.widget-dropdown select, .widget-label { font-size: 14px; }
</style>"""


def _text(name: str, part: str) -> str:
    return tr(DASHBOARDS[name][part])


def intro(name: str) -> Html:
    """The dashboard's title and introduction (and the shared page style), in the current language."""
    return Html(f"{PAGE_CSS}<div class='kim-intro'><h1>{html.escape(_text(name, 'titel'))}</h1>"
                 f"<p>{_text(name, 'einleitung')}</p></div>")


def reading_help(name: str) -> Html:
    """The dashboard's reading help below the figures."""
    return Html(f"<div class='kim-help'><strong>{html.escape(tr({'de': 'Lesehilfe.', 'en': 'How to read.'}))}</strong> "
                 f"{_text(name, 'lesehilfe')}</div>")


#: where the server hands out a frozen meeting's first views (below its base URL)
MEETING_PATH = "kimtools/sitzung"


def meeting_views(found) -> list[tuple[str, Path]]:
    """A frozen meeting state's first views (:func:`kimtools.present.report.write_meeting_views`): (kommune and
    quarter, file) each, in the order of their names."""
    folder = found.views_folder
    files = sorted(folder.glob("lenkungskreis_*.html")) if folder.is_dir() else []
    return [(f.stem.removeprefix("lenkungskreis_").replace("_", ", "), f) for f in files]


def meeting_view_html(found, file: Path, base_url: str = "/", guest: bool = False) -> str:
    """A meeting's first view as the server hands it out: the page drawn when the state was frozen, with the
    coordinators' commentary as it is now, and a bar (not printed) that names the state and leads to the
    interactive page and to printing (a ``guest`` of a guest link: to printing only, the rest needs a login). A
    commentary that cannot be read leaves the texts of the frozen page and says why in the bar."""
    page = file.read_text(encoding="utf-8")
    problem = ""
    try:
        page = fill_comments(page, commentary(found))
    except KimtoolsError as exc:
        problem = f"<div class='kim-bar-problem'>{html.escape(exc.message())}</div>"
    interactive = html.escape(f"{base_url.rstrip('/')}/voila/render/lenkungskreis.ipynb", quote=True)
    start = html.escape(base_url.rstrip("/") + "/", quote=True)
    says = tr({"de": f"Sitzungsansicht „{found.name}“: fest, so wie eingefroren; Einschätzungen der Koordination wie "
                     "gerade hinterlegt.", "en": f"Meeting view '{found.name}': fixed, as frozen; the coordinators' "
                     "assessments as currently kept."})
    printing = f"<button type='button' onclick='window.print()'>{html.escape(tr({'de': 'Drucken', 'en': 'print'}))}</button>"
    links = printing if guest else (
        f"<a href='{interactive}'>{html.escape(with_units({'de': 'Interaktiv: nach {Bezirk} und Quartal filtern', 'en': 'interactive: filter by {district} and quarter'}, found.kommune))}</a>"
        f"{printing}<a href='{start}'>{html.escape(tr({'de': 'Alle Dashboards', 'en': 'all dashboards'}))}</a>")
    bar = (f"<style>{_BAR_CSS}</style><nav class='kim-bar' aria-label='{html.escape(tr({'de': 'Sitzung', 'en': 'meeting'}))}'>"
           f"<span>{html.escape(says)}</span>{links}{problem}</nav>")
    head, tag, rest = page.partition("<body>")
    return head + tag + bar + rest if tag else bar + page


_BAR_CSS = """
.kim-bar { font-family: Arial, Helvetica, sans-serif; font-size: 15px; background: #eef4f9; border-bottom: 3px solid #0072B2;
           padding: 10px 16px; display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; }
.kim-bar a { color: #0057a0; font-weight: 600; }
.kim-bar button { font-size: 15px; padding: 4px 12px; }
.kim-bar-problem { flex-basis: 100%; color: #8a1c1c; }
@media print { .kim-bar { display: none; } }
"""


def landing_html(folder: Path, base_url: str = "/", meeting=None) -> str:
    """The server's start page: every dashboard in ``folder`` with its title and one-line description (known
    dashboards in their order, any other notebook after them by file name); serving a frozen meeting state
    (``meeting``), its first views come first."""
    present = sorted(p.stem for p in Path(folder).glob("*.ipynb"))
    names = [n for n in DASHBOARDS if n in present] + [n for n in present if n not in DASHBOARDS]
    lang = current_lang()
    items = []
    for what, file in meeting_views(meeting) if meeting is not None else []:
        href = html.escape(f"{base_url.rstrip('/')}/{MEETING_PATH}/{file.stem}", quote=True)
        title = tr({"de": f"Sitzungsansicht {meeting.name}: {what}", "en": f"meeting view {meeting.name}: {what}"})
        text = tr({"de": "Die Lenkungskreis-Seite so, wie sie eingefroren wurde, mit den Einschätzungen der Koordination: "
                         "öffnet sofort, auch wenn alle Mitglieder sie gleichzeitig aufrufen.",
                   "en": "The steering committee's page as frozen, with the coordinators' assessments: opens at once, "
                         "even with every member opening it together."})
        items.append(f"<li><a href='{href}'>{html.escape(title)}</a><p>{html.escape(text)}</p></li>")
    for n in names:
        title = _text(n, "titel") if n in DASHBOARDS else n
        text = _text(n, "beschreibung") if n in DASHBOARDS else ""
        href = html.escape(f"{base_url.rstrip('/')}/voila/render/{n}.ipynb", quote=True)
        items.append(f"<li><a href='{href}'>{html.escape(title)}</a><p>{html.escape(text)}</p></li>")
    heading = tr({"de": "KIM-Dashboards", "en": "KIM dashboards"})
    lead = tr({"de": "Kommunales Integrationsmanagement: Übersichten für Koordination und Lenkungskreis. Alle Zahlen sind "
                     "zusammengefasst; es werden keine Personen gezeigt.",
               "en": "Kommunales Integrationsmanagement: overviews for coordination and the steering committee. All figures "
                     "are aggregated; no person is shown."})
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: Arial, Helvetica, sans-serif; margin: 0; color: #111; background: #f6f6f6; }}
main {{ max-width: 980px; margin: 0 auto; padding: 28px 24px; }}
h1 {{ font-size: 30px; margin: 0 0 6px 0; }}
.lead {{ font-size: 16px; color: #333; margin: 0 0 22px 0; }}
ul {{ list-style: none; padding: 0; margin: 0; }}
li {{ background: white; border: 1px solid #ccc; border-left: 6px solid #0072B2; margin: 0 0 12px 0; padding: 12px 16px; }}
li a {{ font-size: 21px; font-weight: 600; color: #0057a0; text-decoration: none; }}
li a:hover, li a:focus {{ text-decoration: underline; }}
li p {{ margin: 4px 0 0 0; font-size: 16px; color: #333; }}
</style></head><body><main><h1>{html.escape(heading)}</h1><p class="lead">{html.escape(lead)}</p>
<ul class="kim-dashboards">{''.join(items)}</ul></main></body></html>"""
