"""The dashboard server: Voilà with a German start page and safe defaults, and a helper that runs it in the
background for browser tests, benchmarks and scripted checks.

``python -m kimtools.serving DASHBOARDS [voila options]`` is what ``kimtools serve`` runs: Voilà with the
landing page (:func:`kimtools.present.pages.landing_html`) at the root and at ``/voila/tree`` instead of Voilà's file
list, and plotly.js at :data:`PLOTLY_PATH` for the figures (a static, cacheable file instead of 4.8 MB through
every page's kernel connection). Voilà's page template asks a CDN for Font Awesome on every page; the server takes
those two links out (Voilà's own bundle already carries Font Awesome), so that a dashboard loads nothing from any other
host and tells no one outside who is viewing it. Voilà itself strips sources, hides tracebacks, lets the browser send
only widget messages to a kernel (no code) and serves no files but images; the store is opened read-only by the
dashboards. Text travels gzip-compressed, and files whose address names their version are kept by the browser for a
year (:data:`IMMUTABLE`); prepared kernels are refilled one at a time (:func:`bound_refills`). Guest links to a
meeting's view: :func:`guest_view`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import html
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path
from typing import IO, Iterator

from .errors import KimtoolsError

__all__ = ["PLOTLY_PATH", "IMMUTABLE", "bound_refills", "RECOVER_SCRIPT", "GUEST_REFUSED", "GUEST_HEADERS", "guest_view",
           "voila_command", "free_port", "running_server", "served_meeting", "main"]

#: where the server hands out plotly.js (below its base URL), named with plotly's version so that a browser keeps it
#: until an update changes the name; figures load it from there once per browser
PLOTLY_PATH = f"kimtools/plotly-{version('plotly')}.js"
#: a file whose address changes with its content: kept by the browser for a year without asking again
IMMUTABLE = "public, max-age=31536000, immutable"
#: a file name with a content hash (webpack's chunks of the widget manager, ``651.8b63c0297a39649bd115.js``, and of
#: anywidget, ``2.3dbf81c0.js``)
_HASHED = re.compile(r"[.\-][0-9a-f]{8,}\.[A-Za-z0-9]+$")
#: the stylesheet links Voilà's lab template puts in every page, to a CDN
_CDN_LINK = re.compile(r'<link[^>]+href="https://cdn\.jsdelivr\.net/[^"]*"[^>]*>\s*')
#: put into every dashboard page: if the widget manager reports a widget it cannot display (rarely, a page opened
#: while Voilà was handing out or refilling its preheated kernels said "Error displaying widget: model not found"),
#: load the page again, which gets a fresh kernel; at most once a minute per page, so a lasting fault cannot loop
RECOVER_SCRIPT = """<script id="kimtools-recover">
(function () {
  var key = "kimtools-reloaded:" + location.pathname, started = Date.now(), pending = false;
  function broken() {
    var nodes = document.querySelectorAll(".jupyter-widgets");
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].childElementCount === 0 && nodes[i].textContent.indexOf("Error displaying widget") === 0) return true;
    }
    return false;
  }
  function check() {
    pending = false;
    if (!broken()) return;
    observer.disconnect();
    if (Date.now() - Number(sessionStorage.getItem(key) || 0) < 60000) return;
    sessionStorage.setItem(key, String(Date.now()));
    location.reload();
  }
  var observer = new MutationObserver(function () {
    if (Date.now() - started > 180000) return observer.disconnect();
    if (!pending) { pending = true; setTimeout(check, 300); }
  });
  observer.observe(document.documentElement, {subtree: true, childList: true, characterData: true});
})();
</script>
"""



def voila_command(dashboards: Path, host: str, port: int, token: str, preheat: int, attendees: int | None) -> list[str]:
    """The command line that serves ``dashboards`` with Voilà as ``kimtools serve`` runs it (this module as Voilà's
    entry point, see :func:`main`), with the settings that operating it taught: ``preheat`` prepared kernels per
    page, and ``attendees`` more for the steering committee's page."""
    cmd = [sys.executable, "-m", "kimtools.serving", str(dashboards), "--no-browser", f"--Voila.ip={host}",
           f"--port={port}", "--Voila.port_retries=0", "--VoilaExecutor.timeout=120",
           # a cell's outputs may reach the executor seconds after the cell finished when kernels start together on a
           # busy machine; after the default 4 s the executor moves on and the page lacks its widgets (seen under load)
           "--VoilaExecutor.iopub_timeout=60",
           "--VoilaConfiguration.show_tracebacks=False", "--VoilaConfiguration.strip_sources=True",
           # kernels talk over Unix sockets in Voilà's private directory, not TCP ports on localhost: no other local
           # user can reach them, and kernels starting together cannot pick the same free port (seen once while the
           # pool refilled: a kernel's heartbeat failed with 'Address already in use')
           "--KernelManager.transport=ipc",
           # plotly's own JupyterLab renderer (4.8 MB per page) is not used by the dashboards' figures
           "--VoilaConfiguration.extension_denylist=['jupyterlab-plotly']",
           f"--Voila.token={token}"]
    if preheat > 0 or attendees:
        cmd += ["--preheat_kernel=True", f"--pool_size={preheat}"]
    if attendees:   # a committee opening the steering page together: a ready kernel for each of them
        pools = {"default": {"pool_size": preheat}, "lenkungskreis.ipynb": {"pool_size": attendees}}
        cmd += [f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}"]
    return cmd

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(db: str | Path, log: IO | None = None, timeout: float = 90.0,
                   env: dict[str, str] | None = None, args: list[str] | None = None) -> Iterator[str]:
    """``kimtools serve --db DB [args]`` on a free local port; yields the base URL once it answers, stops it after."""
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "kimtools")
    proc = subprocess.Popen([exe, "serve", "--db", str(db), "--port", str(port), *(args or [])], env=env,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:   # it answers (a token is asked for)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise KimtoolsError(f"Der Dashboard-Server ist nicht gestartet (Port {port}).",
                                        f"The dashboard server did not start (port {port}).") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def served_meeting():
    """The frozen meeting state the server shows (``kimtools serve --sitzung`` sets ``KIMTOOLS_DB`` to its copy), or
    ``None`` for the live store."""
    from .store import Store
    from .store.meetings import meeting_of

    db = os.environ.get("KIMTOOLS_DB")
    return meeting_of(Store(db)) if db else None


#: what a guest sees for a link that does not open (changed, expired, revoked, or no such meeting view)
GUEST_REFUSED = "Dieser Link ist ungültig, abgelaufen oder widerrufen."
#: a guest's page is not kept by the browser or proxies, and its address (the token) is sent nowhere else
GUEST_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def guest_view(token: str, db: str | Path, shown=None) -> str | None:
    """The meeting view a guest link's ``token`` opens, for the store ``db`` (or the one meeting state ``shown``
    of ``kimtools serve --sitzung``), with the open written to the access log; ``None`` where the link does not
    open: changed, expired, revoked, for another meeting than the one shown, or a meeting without a view. Used by
    ``kimtools serve`` and the hub's guest service (:mod:`kimtools.hub.gast`) alike."""
    from .present.pages import meeting_view_html, meeting_views
    from .store import Store
    from .store.gastlinks import verify
    from .store.meetings import meeting, meetings_folder
    from .store.zugriffe import log_access

    live = Store(db) if shown is None else None
    valid = verify(shown.folder.parent if shown is not None else meetings_folder(live), token)
    # a server showing one meeting state (serve --sitzung) opens links to that one only
    if valid is None or (shown is not None and shown.name != valid[0]):
        return None
    try:
        found = shown if shown is not None else meeting(live, valid[0])
    except KimtoolsError:   # the meeting state was removed since the link was made
        return None
    views = [f for _what, f in meeting_views(found)]
    if not views:
        return None
    log_access((live or found.store).path, f"gast:{valid[2]}", f"sitzungsansicht:{found.name}", found.kommune)
    return meeting_view_html(found, views[0], guest=True)


@functools.cache
def _packed_plotly() -> bytes:
    """plotly.js gzip-compressed (4.8 MB to about 1.4 MB; a quarter second of the server's time, spent once)."""
    from .panels.plotview import plotly_source

    return gzip.compress(plotly_source().encode("utf-8"), 6)


def bound_refills(manager, at_once: int = 1) -> None:
    """Let Voilà's kernel ``manager`` refill its pools of prepared kernels ``at_once`` kernel at a time: a kernel
    taken by a viewer is replaced by starting a new one and building its page, about 5 s of a core's time; after a
    crowd took fifteen, Voilà started all fifteen replacements together, and the kernels of the viewers who had just
    arrived got a sixteenth of the machine while their pages were drawn. One at a time leaves the other core to
    them; a viewer beyond the prepared kernels waits for the first replacement (first come, first served). The
    first fill when the server starts is made before this takes effect and stays as Voilà makes it; a viewer's
    kernel restarted is never held back."""
    original = manager._initialize
    gate: list[asyncio.Semaphore] = []   # made on first use, inside the server's event loop

    async def initialize(notebook_path: str, kernel_id: str | None = None, **kwargs):
        if kernel_id is not None:
            return await original(notebook_path, kernel_id, **kwargs)
        if not gate:
            gate.append(asyncio.Semaphore(at_once))
        async with gate[0]:
            content = await original(notebook_path, kernel_id, **kwargs)
            with contextlib.suppress(Exception):   # a page that failed is the viewer's to see, when it is taken
                await asyncio.shield(content["task"])
        return content

    manager._initialize = initialize


def _voila_app():
    """Voilà with the kimtools start page in place of its file list (built here: Voilà is imported only by the server)."""
    from jupyter_server.auth.decorator import allow_unauthenticated
    from jupyter_server.base.handlers import FileFindHandler, JupyterHandler, path_regex
    from jupyter_server.utils import url_path_join
    from tornado import web
    from voila.app import Voila
    from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler

    from .present.pages import MEETING_PATH, landing_html, meeting_view_html, meeting_views
    from .store.gastlinks import GUEST_PATH

    class LandingHandler(JupyterHandler):
        def initialize(self, folder: str) -> None:
            self.folder = Path(folder)

        @web.authenticated
        def get(self, path: str = "") -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(landing_html(self.folder, self.base_url, served_meeting()))

    class MeetingHandler(JupyterHandler):
        """A frozen meeting's first view (``kimtools serve --sitzung``): a page without scripts drawn when the state
        was frozen, handed out at once to every viewer, with the commentary as it is now. ``/kimtools/sitzung``
        itself: the only view, or the start page where the state holds several kommunen."""

        @web.authenticated
        def get(self, stem: str = "") -> None:
            found = served_meeting()
            views = dict((f.stem, f) for _what, f in meeting_views(found)) if found else {}
            if not stem and len(views) != 1:
                return self.redirect(self.base_url)
            file = views.get(stem) if stem else next(iter(views.values()))
            if file is None:
                raise web.HTTPError(404)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-cache")   # the commentary may change until the meeting
            self.finish(meeting_view_html(found, file, self.base_url))

    class GuestHandler(JupyterHandler):
        """A guest link (``kimtools sitzung link``): the view of the meeting its token names, without the server's
        token or a login, until its last day; a changed, expired or revoked link opens nothing."""

        def check_xsrf_cookie(self) -> None:   # a GET of a page, no form
            return

        @allow_unauthenticated   # the link is its own key
        def get(self, token: str) -> None:
            page = guest_view(token, os.environ["KIMTOOLS_DB"], served_meeting())
            if page is None:
                raise web.HTTPError(403, GUEST_REFUSED)
            for name, value in GUEST_HEADERS.items():
                self.set_header(name, value)
            self.finish(page)

    class PlotlyHandler(JupyterHandler):
        """plotly.js as bundled with the plotly package, under a name with plotly's version: kept for a year."""

        @web.authenticated
        def get(self) -> None:
            from .panels.plotview import plotly_source

            self.set_header("Content-Type", "text/javascript; charset=utf-8")
            self.set_header("Cache-Control", IMMUTABLE.replace("public", "private"))
            self.set_header("Vary", "Accept-Encoding")
            if "gzip" in self.request.headers.get("Accept-Encoding", ""):   # packed once, not for each browser
                self.set_header("Content-Encoding", "gzip")
                return self.finish(_packed_plotly())
            self.finish(plotly_source())

    def cached(handler: type) -> type:
        """``handler`` (a static file handler of Voilà or Jupyter) with files kept for a year where their address
        names their version: a content hash in the name, or below :data:`voila_static` (``immutable`` routes)."""

        class Cached(handler):
            def initialize(self, immutable: bool = False, **kwargs) -> None:
                self.immutable = immutable
                super().initialize(**kwargs)

            def set_headers(self) -> None:
                super().set_headers()
                if self.immutable or _HASHED.search(self.request.path):
                    self.set_header("Cache-Control", IMMUTABLE)

        Cached.__name__ = f"Cached{handler.__name__}"
        return Cached

    # Voilà's own scripts (voila.js and its numbered chunks) have no hash in their names: the page asks for them below
    # a path naming Voilà's version instead, so that an update of Voilà changes every address
    voila_static = f"voila/static/v{version('voila')}"
    static_handlers = (TemplateStaticFileHandler, MultiStaticFileHandler, FileFindHandler)

    class DashboardHandler(TornadoVoilaHandler):
        """Voilà's dashboard page without its links to a CDN, with its scripts named below ``voila_static`` and with
        :data:`RECOVER_SCRIPT` and the request of plotly.js in its head."""

        head_done = False

        def plotly_early(self) -> str:
            """plotly.js asked for as the page starts, beside Voilà's scripts, instead of once the widgets have
            drawn the introduction (two seconds later: measured, docs/performance.md); the figures wait for this
            element (``kimtools-plotly``, as :mod:`kimtools.panels.plotview` names it)."""
            src = html.escape(url_path_join(self.base_url, PLOTLY_PATH), quote=True)
            return (f'<script id="kimtools-plotly" async src="{src}" onload="this.dataset.state=\'ok\'" '
                    f'onerror="this.dataset.state=\'failed\'"></script>')

        def write(self, chunk) -> None:
            if isinstance(chunk, str):
                chunk = _CDN_LINK.sub("", chunk)
                chunk = chunk.replace(url_path_join(self.base_url, "voila/static") + '"',
                                      url_path_join(self.base_url, voila_static) + '"')
                chunk = chunk.replace(url_path_join(self.base_url, "voila/static") + "/voila.js",
                                      url_path_join(self.base_url, voila_static) + "/voila.js")
                if not self.head_done and "</head>" in chunk:
                    chunk = chunk.replace("</head>", RECOVER_SCRIPT + self.plotly_early() + "</head>", 1)
                    self.head_done = True
            super().write(chunk)

    class KimVoila(Voila):
        def init_handlers(self):
            if hasattr(self.kernel_manager, "_pools"):   # prepared kernels (--vorheizen, --teilnehmende)
                bound_refills(self.kernel_manager)
            # responses gzip-compressed where the browser accepts it (tornado decides it when the application is
            # built, so the setting alone comes too late here): scripts and pages are text (docs/performance.md)
            if web.GZipContentEncoding not in self.app.transforms:
                self.app.transforms.append(web.GZipContentEncoding)
            folder = {"folder": self.root_dir}
            ours = [(self.server_url, LandingHandler, folder),
                    (url_path_join(self.server_url, r"/voila/tree" + path_regex), LandingHandler, folder),
                    (url_path_join(self.server_url, MEETING_PATH) + r"/?([^/]*)", MeetingHandler),
                    (url_path_join(self.server_url, GUEST_PATH) + r"/([A-Za-z0-9_.\-]+)", GuestHandler),
                    (url_path_join(self.server_url, PLOTLY_PATH), PlotlyHandler),
                    (url_path_join(self.server_url, voila_static, "(.*)"), cached(MultiStaticFileHandler),
                     {"paths": self.static_paths, "default_filename": "index.html", "immutable": True})]
            theirs = []
            for pattern, handler, *options in super().init_handlers():
                if handler is TornadoVoilaHandler:
                    handler = DashboardHandler
                elif handler in static_handlers:
                    handler = cached(handler)
                theirs.append((pattern, handler, *options))
            return ours + theirs   # the first match wins

    return KimVoila


def main(argv: list[str] | None = None) -> None:
    """Start the server (``kimtools serve`` builds the arguments)."""
    _voila_app().launch_instance(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
