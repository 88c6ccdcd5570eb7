"""Who may do what in team mode (``kimtools hub --zugriff zugriff.toml``): how people log in, and per group of the
city's directory or per person a role and the kommunen it holds.

``zugriff.toml`` (German comments for the city's IT; an example: :data:`EXAMPLE`)::

    [anmeldung]
    art = "ldap"                 # ldap (Active Directory), oidc (Keycloak, Entra ID) or konten (accounts in the hub)
    [anmeldung.ldap]             # … the directory's settings, passed to jupyterhub-ldapauthenticator
    server = "ldap.stadt.de"

    [[regel]]
    gruppe = "KIM-Koordination"  # a group of the directory, or
    # personen = ["mueller"]     # named persons
    rolle = "koordination"       # koordination: JupyterLab, notebooks, all dashboards, may import
                                 # lenkungskreis: the dashboards and meeting views only, no code
    kommunen = ["Herne"]         # the kommunen it holds; a Kreis holds its Gemeinden; "alle" holds every kommune

A person's rules are joined: the kommunen of all her rules, the stronger role (``koordination`` over
``lenkungskreis``). A person no rule names gets no server. Kommune names are matched as the reference names them
(``Muelheim`` is ``Mülheim an der Ruhr``); an unknown name is refused when the file is read, with every other problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..contract.reference import load_reference
from ..errors import InputError

__all__ = ["ROLES", "LOGINS", "ALL", "Rule", "Grant", "Access", "read_access", "EXAMPLE"]

#: the roles, strongest first: (German description, English)
ROLES = {"koordination": ("JupyterLab mit den Notizbüchern und alle Dashboards der eigenen Kommunen; darf importieren",
                          "JupyterLab with the notebooks and all dashboards of its kommunen; may import"),
         "lenkungskreis": ("nur die Dashboards und Sitzungsansichten der eigenen Kommunen; kein Code, kein JupyterLab",
                           "only the dashboards and meeting views of its kommunen; no code, no JupyterLab")}
#: how people log in: ldap (the city's directory, Active Directory), oidc (single sign-on: Keycloak, Entra ID),
#: konten (accounts kept by the hub itself, for a small team without a directory)
LOGINS = ("ldap", "oidc", "konten")
#: what a rule writes for every kommune
ALL = "alle"


@dataclass(frozen=True)
class Rule:
    rolle: str
    kommunen: frozenset[str] | None   # None: all
    gruppen: frozenset[str] = frozenset()
    personen: frozenset[str] = frozenset()

    def applies(self, person: str, groups: Iterable[str]) -> bool:
        return person.casefold() in {p.casefold() for p in self.personen} or bool(set(groups) & self.gruppen)


@dataclass(frozen=True)
class Grant:
    """What one person may: her role and kommunen (``None``: all)."""

    rolle: str
    kommunen: frozenset[str] | None

    @property
    def codes(self) -> bool:
        """Whether she may run code (JupyterLab)."""
        return self.rolle == "koordination"


@dataclass(frozen=True)
class Access:
    login: str
    settings: dict
    rules: tuple[Rule, ...]
    path: Path

    def grant(self, person: str, groups: Iterable[str] = ()) -> Grant | None:
        """The joined grant of every rule naming ``person`` or one of her ``groups``; ``None``: no rule does."""
        groups = list(groups)
        mine = [r for r in self.rules if r.applies(person, groups)]
        if not mine:
            return None
        role = next(r for r in ROLES if any(m.rolle == r for m in mine))
        kommunen = None if any(m.kommunen is None for m in mine) else frozenset().union(*(m.kommunen for m in mine))
        return Grant(role, kommunen)

    @property
    def persons(self) -> frozenset[str]:
        return frozenset().union(*(r.personen for r in self.rules))

    @property
    def groups(self) -> frozenset[str]:
        return frozenset().union(*(r.gruppen for r in self.rules))


def read_access(path: str | Path) -> Access:
    """Read and check ``zugriff.toml``; every problem at once in one :class:`~kimtools.errors.InputError`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"Die Zugriffsdatei {path} gibt es nicht. Eine Vorlage schreibt 'kimtools hub --vorlage "
                         f"{path}'.", f"The access file {path} does not exist. 'kimtools hub --vorlage {path}' writes "
                         "a template.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"Die Zugriffsdatei {path} ist kein lesbares TOML ({exc}).",
                         f"The access file {path} is not readable TOML ({exc}).") from None
    faults: list[tuple[str, str]] = []
    login = data.get("anmeldung", {}).get("art")
    if login not in LOGINS:
        faults.append((f"[anmeldung] art = {login!r}: erwartet {', '.join(LOGINS)}",
                       f"[anmeldung] art = {login!r}: expected {', '.join(LOGINS)}"))
    ref = load_reference()
    rules = []
    for i, r in enumerate(data.get("regel", []), start=1):
        where = f"[[regel]] Nr. {i}"
        role = r.get("rolle")
        if role not in ROLES:
            faults.append((f"{where}: rolle = {role!r}, erwartet {' oder '.join(ROLES)}",
                           f"{where}: rolle = {role!r}, expected {' or '.join(ROLES)}"))
        wanted = r.get("kommunen", [])
        wanted = [wanted] if isinstance(wanted, str) else wanted
        kommunen: set[str] | None = set()
        for name in wanted:
            if str(name).strip().casefold() == ALL:
                kommunen = None
                break
            found = ref.resolve_kommune(str(name))
            if found is None:
                faults.append((f"{where}: Kommune {name!r} ist keine KIM-Kommune (Namen wie in data/reference/"
                               "kommunen.csv, ein Kreis als „Kreis …“)", f"{where}: kommune {name!r} is no KIM "
                               "kommune (names as in data/reference/kommunen.csv, a Kreis as 'Kreis …')"))
            else:
                kommunen.add(found)
        if not wanted:
            faults.append((f"{where}: kommunen fehlt (eine Liste, oder \"alle\")",
                           f"{where}: kommunen is missing (a list, or \"alle\")"))
        groups, persons = r.get("gruppe", []), r.get("personen", [])
        groups = [groups] if isinstance(groups, str) else groups
        persons = [persons] if isinstance(persons, str) else persons
        if not groups and not persons:
            faults.append((f"{where}: wem gilt die Regel? gruppe = \"…\" oder personen = [\"…\"]",
                           f"{where}: whom does the rule hold for? gruppe = \"…\" or personen = [\"…\"]"))
        rules.append(Rule(role, None if kommunen is None else frozenset(kommunen), frozenset(map(str, groups)),
                          frozenset(map(str, persons))))
    if not rules:
        faults.append(("keine [[regel]]: ohne Regel meldet sich niemand an", "no [[regel]]: without a rule nobody logs in"))
    if faults:
        raise InputError(f"Die Zugriffsdatei {path}: " + "; ".join(de for de, _ in faults) + ".",
                         f"The access file {path}: " + "; ".join(en for _, en in faults) + ".")
    return Access(login, dict(data.get("anmeldung", {}).get(login, {})), tuple(rules), path)


EXAMPLE = """\
# Zugriff auf kimtools im Team-Betrieb (kimtools hub --zugriff zugriff.toml).
# Wer sich wie anmeldet und wer welche Kommunen sieht. Jede Regel gilt einer Gruppe des Verzeichnisses oder
# einzelnen Personen; gelten einer Person mehrere Regeln, sieht sie die Kommunen aller, mit der stärkeren Rolle.

[anmeldung]
# ldap: das Verzeichnis der Stadt (Active Directory); oidc: Single Sign-on (Keycloak, Entra ID);
# konten: Konten im Hub selbst, für ein kleines Team ohne Verzeichnis (Anmeldung mit Benutzername und Passwort).
art = "ldap"

[anmeldung.ldap]
# Einstellungen für jupyterhub-ldapauthenticator, Namen wie dort (LDAPAuthenticator.<name>), siehe docs/betrieb.md.
server_address = "ldap.stadt.example"
server_port = 636
tls_strategy = "on_connect"
bind_dn_template = ["uid={username},ou=Personen,dc=stadt,dc=example"]
lookup_dn = false
# Gruppen, deren Mitglieder sich anmelden dürfen, und ob die Gruppen an den Hub gehen (für die Regeln unten)
allowed_groups = ["cn=KIM-Koordination,ou=Gruppen,dc=stadt,dc=example", "cn=KIM-Lenkungskreis,ou=Gruppen,dc=stadt,dc=example"]
# Gruppen mit ihren Mitgliedern im Attribut member (so führt Active Directory sie)
group_search_filter = "(member={userdn})"
group_attributes = ["member"]

[[regel]]
gruppe = "cn=KIM-Koordination,ou=Gruppen,dc=stadt,dc=example"
rolle = "koordination"        # JupyterLab, Notizbücher, alle Dashboards; darf importieren
kommunen = ["Herne"]

[[regel]]
gruppe = "cn=KIM-Lenkungskreis,ou=Gruppen,dc=stadt,dc=example"
rolle = "lenkungskreis"       # nur Dashboards und Sitzungsansichten; kein Code
kommunen = ["Herne"]

# [[regel]]
# personen = ["landeskoordination"]
# rolle = "lenkungskreis"
# kommunen = "alle"           # ein Kreis hält seine Gemeinden, "alle" jede Kommune des Datenbestands
"""
