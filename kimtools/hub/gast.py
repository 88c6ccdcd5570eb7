"""The hub's guest service: guest links (``kimtools sitzung link``) in team mode.

JupyterHub starts it as a managed service named ``kimtools`` (:func:`kimtools.hub.setup.configure`) and its proxy
sends ``/services/kimtools/`` to it, without a login: a guest link is its own key. It answers
``/services/kimtools/gast/<token>`` with the meeting view the token names (:func:`kimtools.serving.guest_view`, the
same as ``kimtools serve`` hands out) and nothing else: every other path is "not found", a changed, expired or
revoked link "forbidden", each in German without a traceback. It reads the store the hub serves (``KIMTOOLS_DB``)
and logs each open in its access log.

``python -m kimtools.hub.gast`` (the hub sets ``JUPYTERHUB_SERVICE_URL`` and ``JUPYTERHUB_SERVICE_PREFIX``).
"""

from __future__ import annotations

import asyncio
import html
import os
from urllib.parse import urlparse

from ..serving import GUEST_HEADERS, GUEST_REFUSED, guest_view
from ..store.gastlinks import GUEST_PATH

__all__ = ["SERVICE", "guest_path", "make_app", "main"]

#: the service's name: its links start with ``/services/kimtools/``
SERVICE = "kimtools"
_GUEST = GUEST_PATH.removeprefix("kimtools/")   # "gast": below the service's own prefix


def guest_path(base_url: str = "/") -> str:
    """Where a guest link's token goes in team mode (``/services/kimtools/gast/``, below the hub's base URL).

    >>> guest_path()
    '/services/kimtools/gast/'
    """
    return f"{base_url.rstrip('/')}/services/{SERVICE}/{_GUEST}/"


def make_app(db: str, prefix: str):
    """The service's tornado application for the store ``db`` below ``prefix``."""
    from tornado import web

    class Page(web.RequestHandler):
        def write_error(self, status_code: int, **kwargs) -> None:
            text = {403: GUEST_REFUSED, 404: "Diese Seite gibt es hier nicht."}.get(
                status_code, "Die Sitzungsansicht kann gerade nicht gezeigt werden; bitte später noch einmal versuchen.")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(f"<!DOCTYPE html><html lang='de'><meta charset='utf-8'><title>KIM</title>"
                        f"<p style='font-family: Arial, sans-serif; font-size: 16px'>{html.escape(text)}</p></html>")

    class Guest(Page):
        def get(self, token: str) -> None:
            page = guest_view(token, db)
            if page is None:
                raise web.HTTPError(403)
            for name, value in GUEST_HEADERS.items():
                self.set_header(name, value)
            self.finish(page)

    class Nothing(Page):
        def prepare(self) -> None:
            raise web.HTTPError(404)

    return web.Application([(rf"{prefix.rstrip('/')}/{_GUEST}/([A-Za-z0-9_.\-]+)", Guest)],
                           default_handler_class=Nothing, compress_response=True)


def main() -> None:
    """Serve on the address JupyterHub gave the service (loopback)."""
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    app = make_app(os.environ["KIMTOOLS_DB"], os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE}/"))

    async def serve() -> None:
        app.listen(url.port, url.hostname or "127.0.0.1", xheaders=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":  # pragma: no cover
    main()
