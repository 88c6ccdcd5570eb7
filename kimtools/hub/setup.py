"""The hub's configuration, written by ``kimtools hub`` (``jupyterhub_config.py`` in the hub's folder calls
:func:`configure`), and the configuration of each login's server by its role (:func:`server_config`).

The hub's folder lies beside the store (``hub/``, owner-only): its database (logins, servers, the accounts of the
``konten`` login), its cookie secret, the proxy's token, the servers' configurations and the logins' working folders.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path

from ..paths import DASHBOARDS, ROOT
from .access import Access, read_access
from .authorizer import WIDGET_MESSAGES
from .gast import SERVICE

__all__ = ["HUB_FOLDER", "hub_folder", "proxy_command", "configure", "server_config", "write_hub_config", "demo_accounts",
           "SINGLEUSER"]

HUB_FOLDER = "hub"
#: the single-user server JupyterHub starts for each login, from kimtools' own environment
SINGLEUSER = str(Path(sys.executable).with_name("jupyterhub-singleuser"))
#: the extensions a ``lenkungskreis`` login's server loads: Voilà alone (no JupyterLab, no terminals)
_VIEWER_EXTENSIONS = {"voila": True, "jupyterlab": False, "notebook": False, "nbclassic": False, "jupyter_lsp": False,
                      "jupyter_server_terminals": False, "notebook_shim": False}
#: Voilà as ``kimtools serve`` runs it (kimtools.serving.voila_command): no tracebacks or sources, kernels on sockets
_VOILA = {"VoilaConfiguration": {"show_tracebacks": False, "strip_sources": True,
                                 "extension_denylist": ["jupyterlab-plotly"]},
          "VoilaExecutor": {"timeout": 120, "iopub_timeout": 60}, "KernelManager": {"transport": "ipc"}}


def proxy_command() -> str | None:
    """JupyterHub's proxy: the one ``make hub`` installs from npm into the environment (``.venv/node``), else one on
    the PATH; ``None`` where there is none."""
    local = Path(sys.prefix) / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hub_folder(db: Path) -> Path:
    """The hub's folder beside the store ``db``, created owner-only."""
    folder = Path(db).resolve().parent / HUB_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def server_config(folder: Path, role: str) -> Path:
    """The configuration file of a login's server for ``role`` (JSON, read by ``jupyterhub-singleuser --config``)."""
    if role == "koordination":
        config = {"ServerApp": {"root_dir": str(ROOT), "default_url": "/lab/tree/notebooks"}, **_VOILA}
    else:
        config = {"ServerApp": {"root_dir": str(DASHBOARDS), "jpserver_extensions": _VIEWER_EXTENSIONS,
                                "default_url": "/voila/render/lenkungskreis.ipynb", "terminals_enabled": False,
                                "authorizer_class": "kimtools.hub.authorizer.ViewerAuthorizer"},
                  "MappingKernelManager": {"allowed_message_types": WIDGET_MESSAGES},
                  "ContentsManager": {"allow_hidden": False}, **_VOILA}
    # the service runs as its own user; where it runs as root (a test machine, a container) the servers may too
    config["ServerApp"]["allow_root"] = hasattr(os, "geteuid") and os.geteuid() == 0
    config["ServerApp"]["tornado_settings"] = {"compress_response": True}   # text travels gzip-compressed
    path = folder / f"server-{role}.json"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    return path


def configure(c, access_file: str, db: str, ip: str = "127.0.0.1", port: int = 8000) -> None:
    """Set the hub's traits on its configuration object ``c`` (what ``jupyterhub_config.py`` calls)."""
    access = read_access(access_file)
    folder = hub_folder(Path(db))
    c.JupyterHub.ip, c.JupyterHub.port = ip, port
    # the hub's own port and the proxy's API on free local ports, not JupyterHub's fixed 8081 and 8001: one hub per
    # controller runs beside the others on one server
    c.JupyterHub.hub_ip, c.JupyterHub.hub_port = "127.0.0.1", _free_port()
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_free_port()}"
    c.JupyterHub.db_url = f"sqlite:///{folder / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(folder / "cookie_secret")
    c.JupyterHub.pid_file = str(folder / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.pid_file = str(folder / "proxy.pid")
    c.ConfigurableHTTPProxy.command = [proxy_command() or "configurable-http-proxy"]
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.spawner_class = "kimtools.hub.spawner.KimSpawner"
    c.KimSpawner.access_file = str(access.path)
    c.KimSpawner.store = str(Path(db).resolve())
    c.KimSpawner.folder = str(folder)
    c.Spawner.cmd = [SINGLEUSER]
    c.Spawner.env_keep = _spawner_env_keep()
    c.Spawner.http_timeout = 90
    c.Spawner.start_timeout = 120
    # guest links to a meeting view (kimtools sitzung link): a service of the hub, without a login (kimtools.hub.gast)
    c.JupyterHub.services = [{"name": SERVICE, "url": f"http://127.0.0.1:{_free_port()}", "display": False,
                              "command": [sys.executable, "-m", "kimtools.hub.gast"],
                              "environment": {"KIMTOOLS_DB": str(Path(db).resolve()), **_passed_on()}}]
    c.JupyterHub.template_vars = {"announcement_login": "KIM – Anmeldung mit dem Konto der Stadtverwaltung"}
    _login(c, access)


#: settings of the hub's own environment that its servers and its guest service keep (JupyterHub passes them only a
#: few variables): how long the access log keeps its lines
PASSED_ON = ("KIMTOOLS_PROTOKOLL_TAGE",)


def _passed_on() -> dict[str, str]:
    return {name: os.environ[name] for name in PASSED_ON if name in os.environ}


def _spawner_env_keep() -> list[str]:
    """JupyterHub's list of variables a login's server keeps, and :data:`PASSED_ON`."""
    from jupyterhub.spawner import Spawner

    return [*Spawner.class_traits()["env_keep"].default(), *PASSED_ON]


def _login(c, access: Access) -> None:
    """The authenticator of ``[anmeldung]`` with its settings; who may log in follows from the rules."""
    settings = access.settings
    if access.login == "ldap":
        c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"
        for key, value in settings.items():
            setattr(c.LDAPAuthenticator, key, value)
        if "allowed_groups" not in settings:   # the groups the rules name, as the directory names them (their DN)
            c.LDAPAuthenticator.allowed_groups = sorted(access.groups)
        c.Authenticator.manage_groups = True   # the directory's groups reach the hub, for the rules by group
        c.Authenticator.post_auth_hook = _ldap_groups
    elif access.login == "oidc":
        c.JupyterHub.authenticator_class = "generic-oauth"
        # the names Keycloak and Entra ID use, unless the file says otherwise: the login name in the claim
        # preferred_username, the groups in the claim groups of the user's data (for the rules by group)
        c.GenericOAuthenticator.username_claim = "preferred_username"
        c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
        for key, value in settings.items():
            setattr(c.GenericOAuthenticator, key, value)
        c.Authenticator.manage_groups = True
    else:
        c.JupyterHub.authenticator_class = "native"
        c.NativeAuthenticator.enable_signup = bool(settings.get("registrierung", False))
        c.NativeAuthenticator.minimum_password_length = int(settings.get("passwortlaenge", 12))
        c.Authenticator.admin_users = set(settings.get("verwaltung", []))
    if access.persons:
        c.Authenticator.allowed_users = set(access.persons)
    if access.groups and access.login == "oidc":
        c.GenericOAuthenticator.allowed_groups = set(access.groups)


def _ldap_groups(authenticator, handler, auth_model: dict) -> dict:
    """The directory's groups of a login (ldapauthenticator keeps them in its ``auth_state``) as the hub's groups."""
    auth_model["groups"] = list((auth_model.get("auth_state") or {}).get("ldap_groups", []))
    return auth_model


def write_hub_config(folder: Path, access_file: Path, db: Path, ip: str, port: int) -> Path:
    """``jupyterhub_config.py`` in the hub's folder: a call of :func:`configure` (the settings live in
    ``zugriff.toml``, not here)."""
    path = folder / "jupyterhub_config.py"
    path.write_text("# Geschrieben von 'kimtools hub'; Einstellungen gehören in die Zugriffsdatei, nicht hierher.\n"
                    "from kimtools.hub.setup import configure\n\n"
                    f"configure(c, {str(Path(access_file).resolve())!r}, {str(Path(db).resolve())!r}, {ip!r}, {port})\n",
                    encoding="utf-8")
    return path


def demo_accounts(folder: Path, names: list[str]) -> dict[str, str]:
    """Accounts of the ``konten`` login for ``names``, each with a new random password (returned once, kept only as
    its bcrypt hash in the hub's database)."""
    import bcrypt
    from jupyterhub import orm
    from nativeauthenticator.orm import UserInfo

    session = orm.new_session_factory(f"sqlite:///{folder / 'jupyterhub.sqlite'}")()
    passwords = {}
    for name in names:
        password = secrets.token_urlsafe(12)
        found = UserInfo.find(session, name)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        if found is None:
            session.add(UserInfo(username=name, password=hashed, is_authorized=True))
        else:
            found.password, found.is_authorized = hashed, True
        passwords[name] = password
    session.commit()
    session.close()
    return passwords
