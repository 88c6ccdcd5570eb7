"""``kimtools serve`` and ``vorbereiten``: the dashboards (Voilà's command line is :func:`kimtools.serving.voila_command`)
and the results prepared once per data state, in the background after an import and when serving."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from ..errors import KimtoolsError, UsageError
from ..paths import DASHBOARDS
from ..ingest.importer import bring_derived_up_to_date
from ..present.pages import MEETING_PATH, meeting_views
from ..present.report import write_meeting_views
from ..serving import PLOTLY_PATH, voila_command
from ..store import Store
from ..progress import progress
from ..store.meetings import meeting
from ..store.preparing import preparing
from ..views.planung import warm_forecasts
from ..views.vergleich import comparison_data
from .background import warm_in_background
from .common import say

__all__ = ["cmd_serve", "cmd_vorbereiten"]


def cmd_serve(args) -> int:
    store = Store(args.db)
    first_view = ""
    if args.meeting is not None:   # a frozen meeting state: its read-only copy

        found = meeting(store, args.meeting)
        store = found.store
        if not meeting_views(found):   # frozen before there were first views

            say("Die Sitzungsansicht wird einmal gezeichnet …", "Drawing the meeting view once …")
            write_meeting_views(found)
        first_view = MEETING_PATH
    store.connect()  # a clear message now instead of an error page later
    dashboards = Path(args.dashboards) if args.dashboards else DASHBOARDS
    if not dashboards.is_dir():
        raise KimtoolsError(f"Dashboard-Ordner {dashboards} gibt es nicht.", f"Dashboards folder {dashboards} does not exist.")
    token = args.token or os.environ.get("KIMTOOLS_TOKEN") or ""
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and len(token) < 16:
        raise UsageError(
            f"Die Dashboards sollen unter {args.host} erreichbar sein, also für andere Rechner: dafür ist ein "
            "Zugangsschlüssel mit mindestens 16 Zeichen nötig (--token oder KIMTOOLS_TOKEN), und im Netz der Stadt "
            "gehört der Server hinter den Reverse Proxy mit Anmeldung (docs/betrieb.md, Abschnitt 3).",
            f"The dashboards would be reachable at {args.host}, i.e. from other machines: that needs an access token of "
            "at least 16 characters (--token or KIMTOOLS_TOKEN), and on the city's network the server belongs behind "
            "the reverse proxy with login (docs/betrieb.md, section 3).")
    preheat = args.preheat if args.preheat is not None else int(os.environ.get("KIMTOOLS_PREHEAT", "1"))
    env = dict(os.environ, KIMTOOLS_DB=str(store.path.resolve()))
    env.pop("KIMTOOLS_TOKEN", None)   # the kernels have no use for it
    env["KIMTOOLS_PLOTLY_PATH"] = PLOTLY_PATH   # figures load plotly.js from the server, cached by the browser
    cmd = voila_command(dashboards, args.host, args.port, token, preheat, args.attendees)
    say(f"Dashboards: http://{args.host}:{args.port}/{'?token=…' if token else ''}  (beenden mit Strg+C)",
        f"Dashboards: http://{args.host}:{args.port}/{'?token=…' if token else ''}  (stop with Ctrl+C)")
    if first_view:
        say(f"Sitzungsansicht für die Einladung: http://{args.host}:{args.port}/{first_view}",
            f"Meeting view for the invitation: http://{args.host}:{args.port}/{first_view}")
    warm_in_background(store)
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)
    return 0  # pragma: no cover


def cmd_vorbereiten(args) -> int:
    """Prepare what the pages compute once per data state: the derived tables where they are not this version's,
    the forecasts, the comparison of the own kommunen. One at a time per store (a second waits for the first), given
    up when a newer import makes it stale or the store is removed (:mod:`kimtools.store.preparing`)."""
    store = Store(args.db)
    store.check_folder(("die Vorbereitung", "preparing"), ("legt dort Prognosen und den Vergleich ab, die die Seiten "
                                                          "sonst beim Aufruf rechnen",
                                                          "keeps there the forecasts and the comparison that the pages "
                                                          "otherwise compute when opened"))
    shown = sys.stderr.isatty()

    def waiting(who: dict) -> None:
        say(f"Eine Vorbereitung dieses Datenbestands läuft schon (PID {who.get('pid')}, seit {who.get('seit')}); "
            "diese wartet auf sie.",
            f"A preparation of this store is already running (PID {who.get('pid')}, since {who.get('seit')}); this "
            "one waits for it.", file=sys.stderr)

    def given_up() -> int:
        say("Vorbereitung beendet: der Datenbestand hat sich inzwischen geändert (die nächste Vorbereitung rechnet "
            "mit dem neuen Stand).", "Preparation ended: the store changed meanwhile (the next preparation works "
            "on the new state).", file=sys.stderr)
        return 0

    with preparing(store, waiting) as work:
        work.step(("abgeleitete Tabellen", "derived tables"))
        if bring_derived_up_to_date(store):
            say("Abgeleitete Tabellen auf den Stand dieser Version gebracht (Kennzahlen kommen wieder aus den Zellen).",
                "Derived tables brought up to this version (indicators come from the cells again).")
            work.renew()
        kommunen = store.kommunen()
        for k in progress(kommunen, desc="Prognosen", disable=not shown):
            if work.stale():
                return given_up()
            work.step((f"Prognosen {k}", f"forecasts {k}"))
            warm_forecasts(store, [k], show_progress=False)
        if work.stale():
            return given_up()
        work.step(("Vergleich", "comparison"))
        try:   # the comparison page: each kommune that no merged bundle covers, as its own bundle would show it
            comparison_data(store, show_progress=shown)
        except UsageError:
            pass
    say(f"Planungs- und Vergleichsseite für {len(kommunen)} Kommune(n) vorbereitet.",
        f"Planning and comparison pages prepared for {len(kommunen)} kommune(s).")
    return 0
