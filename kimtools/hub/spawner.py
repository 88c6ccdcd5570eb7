"""Each login's server: started by the hub as a process of the service's own user, with the role's configuration
(:func:`kimtools.hub.setup.server_config`) and the kommunen of the login in its environment, so that every store it
opens is scoped to them (``KIMTOOLS_KOMMUNEN``, :mod:`kimtools.store`).

The processes run as one operating-system user: what keeps a login to its kommunen is the scoped reader, and for
the ``lenkungskreis`` role that it runs no code. A ``koordination`` login runs code and can therefore read the
store file of its installation: a host with several controllers runs one hub and one store per controller
(``docs/datenschutz.md``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from tornado import web
from traitlets import Unicode

from ..store.files import SCOPE_ENV
from .access import read_access
from .setup import server_config

__all__ = ["KimSpawner"]


class KimSpawner(SimpleLocalProcessSpawner):
    """A login's server with its role and kommunen from ``zugriff.toml`` (read at every start, so that a change of
    the rules holds from a login's next server on)."""

    access_file = Unicode(config=True, help="zugriff.toml")
    store = Unicode(config=True, help="the store every login's server reads")
    folder = Unicode(config=True, help="the hub's folder")

    async def start(self):
        access = read_access(self.access_file)
        grant = access.grant(self.user.name, [g.name for g in self.user.groups])
        if grant is None:
            raise web.HTTPError(403, f"Für {self.user.name} gibt es keine Regel in der Zugriffsdatei; bitte die Stelle "
                                     "fragen, die kimtools betreibt.")
        kommunen = sorted(grant.kommunen) if grant.kommunen is not None else None
        self.environment = {**self.environment, "KIMTOOLS_DB": self.store, "KIMTOOLS_ROLLE": grant.rolle,
                            **({SCOPE_ENV: json.dumps(kommunen)} if kommunen is not None else {})}
        config = server_config(Path(self.folder), grant.rolle)
        self.args = [f"--config={config}"]
        self.home_dir = str(Path(self.folder) / "arbeitsordner" / self.user.name)
        Path(self.home_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        # the kernels talk over Unix sockets, whose path may hold about 100 characters: a short private folder
        runtime = Path(tempfile.gettempdir()) / f"kim-{hashlib.sha256(self.home_dir.encode()).hexdigest()[:12]}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.chmod(runtime, 0o700)
        self.environment["JUPYTER_RUNTIME_DIR"] = str(runtime)
        self.log.info("kimtools: %s starts as %s for %s", self.user.name, grant.rolle,
                      ", ".join(kommunen) if kommunen is not None else "alle")
        return await super().start()

    def get_env(self):
        env = super().get_env()
        if SCOPE_ENV not in self.environment:   # a login holding every kommune: no scope from the hub's own environment
            env.pop(SCOPE_ENV, None)
        return env
