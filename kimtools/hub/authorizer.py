"""What a ``lenkungskreis`` login's server allows: the dashboards and nothing that reads files or runs code.

Its server runs Voilà alone (JupyterLab and the terminals are off, :mod:`.setup`), its kernels take no
``execute_request`` from a browser (only the widget messages Voilà needs: ``MappingKernelManager.allowed_message_types``)
and this authorizer refuses every API a browser could use to read or start anything: files and contents, sessions,
kernel specs, new kernels, the server's own configuration. Voilà runs its notebooks on the server, not through them.
"""

from __future__ import annotations

from jupyter_server.auth.authorizer import Authorizer

__all__ = ["ViewerAuthorizer", "VIEWER_ALLOWED", "WIDGET_MESSAGES"]

#: (resource, action) a dashboard needs from the browser: reading its kernel and talking to it over the websocket
VIEWER_ALLOWED = frozenset({("kernels", "read"), ("kernels", "execute")})
#: the kernel messages a dashboard's page may send (Voilà's own list): widgets, no code
WIDGET_MESSAGES = ["comm_open", "comm_close", "comm_msg", "comm_info_request", "kernel_info_request",
                   "shutdown_request"]


class ViewerAuthorizer(Authorizer):
    """Allow only :data:`VIEWER_ALLOWED`; the page handlers of Voilà (which need a login, not an API) stay open."""

    def is_authorized(self, handler, user, action: str, resource: str) -> bool:
        allowed = (resource, action) in VIEWER_ALLOWED
        if not allowed:
            self.log.warning("kimtools: %s refused %s on %s (role lenkungskreis)", getattr(user, "username", user),
                             action, resource)
        return allowed
