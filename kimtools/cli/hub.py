"""``kimtools hub``: team mode on JupyterHub with the logins and rules of ``zugriff.toml`` (:mod:`kimtools.hub`)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from ..errors import InputError, UsageError
from ..hub.access import EXAMPLE, read_access
from ..hub.setup import demo_accounts, hub_folder, proxy_command, write_hub_config
from ..store import Store
from .common import out_file, say

__all__ = ["cmd_hub", "DEMO_ACCESS"]

#: the demo's rules: a coordinator for each of two kommunen, a member of the first one's steering committee
DEMO_ACCESS = """\
# Demo-Zugriff (kimtools hub --demo): Konten im Hub, ihre Passwörter zeigt der Befehl einmal.
[anmeldung]
art = "konten"

[[regel]]
personen = ["koordination-1"]
rolle = "koordination"
kommunen = [{first!r}]

[[regel]]
personen = ["koordination-2"]
rolle = "koordination"
kommunen = [{second!r}]

[[regel]]
personen = ["lenkungskreis-1"]
rolle = "lenkungskreis"
kommunen = [{first!r}]
"""


def cmd_hub(args) -> int:
    if args.template:
        path = out_file(args.template)
        if path.exists():
            raise InputError(f"{path} gibt es schon; nichts überschrieben.", f"{path} exists already; nothing overwritten.")
        path.write_text(EXAMPLE, encoding="utf-8")
        say(f"Vorlage geschrieben: {path}", f"Template written: {path}")
        return 0
    if not args.demo and not args.access:
        raise UsageError("Bitte --zugriff zugriff.toml angeben (eine Vorlage: --vorlage DATEI), oder --demo.",
                         "Please give --zugriff zugriff.toml (a template: --vorlage FILE), or --demo.")
    store = Store(args.db)
    kommunen = store.kommunen()   # a clear message now when there is no store
    folder = hub_folder(store.path)
    if args.demo:
        if len(kommunen) < 2:
            raise InputError("Die Demo braucht einen Datenbestand mit zwei Kommunen ('make demo').",
                             "The demo needs a store of two kommunen ('make demo').")
        access_file = folder / "zugriff-demo.toml"
        access_file.write_text(DEMO_ACCESS.format(first=kommunen[0], second=kommunen[1]).replace("'", '"'),
                               encoding="utf-8")
    else:
        access_file = Path(args.access)
    access = read_access(access_file)   # every problem of the file now, before anything starts
    if importlib.util.find_spec("jupyterhub") is None:
        raise InputError("Der Team-Betrieb braucht JupyterHub: 'make hub' oder 'pip install -e .[hub]' im Checkout.",
                         "Team mode needs JupyterHub: 'make hub' or 'pip install -e .[hub]' in the checkout.")
    if proxy_command() is None:
        raise InputError("Der Proxy von JupyterHub (configurable-http-proxy, npm) fehlt: 'make hub' richtet ihn ein.",
                         "JupyterHub's proxy (configurable-http-proxy, npm) is missing: 'make hub' sets it up.")
    config = write_hub_config(folder, access.path, store.path, args.host, args.port)
    if args.demo:
        names = sorted(access.persons)
        passwords = demo_accounts(folder, names)
        say("Demo-Konten (die Passwörter erscheinen nur jetzt):", "Demo accounts (the passwords are shown only now):")
        for name in names:
            grant = access.grant(name)
            print(f"  {name:18} {passwords[name]:20} {grant.rolle}: {', '.join(sorted(grant.kommunen))}")
    say(f"JupyterHub startet unter http://{args.host}:{args.port}/ (Konfiguration {config}).",
        f"JupyterHub starts at http://{args.host}:{args.port}/ (configuration {config}).")
    sys.stdout.flush()
    hub = str(Path(sys.executable).with_name("jupyterhub"))
    env = dict(os.environ, KIMTOOLS_DB=str(store.path.resolve()))
    env.pop("KIMTOOLS_KOMMUNEN", None)   # the hub reads all; each login's server gets its own
    os.chdir(folder)
    os.execve(hub, [hub, "-f", str(config)], env)
    return 0   # not reached: the hub takes the process's place
