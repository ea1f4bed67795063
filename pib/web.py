"""The small web side of `pib serve`: the one-click links of the emails (`/l/<token>`) and `/healthz`.

A plain WSGI application (standard library only), served by `pib serve` in a thread; any WSGI server can
serve `application` instead. The portal, when it comes, takes these routes over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy.engine import Engine

from config.settings import get_settings
from crawlers.store.db import get_engine

from .links import handle_link

log = logging.getLogger(__name__)

MAX_BODY = 10_000
HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Robots-Tag", "noindex"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]
REASONS = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    410: "410 Gone",
    500: "500 Internal Server Error",
}

StartResponse = Callable[..., Any]


def make_application(engine_of: Callable[[], Engine]) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        method: str = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if not path.startswith("/l/"):
            start_response(REASONS[404], HEADERS)
            return [b"<!DOCTYPE html><title>PIB</title><p>Not found</p>"]
        if method == "POST":  # the body (`List-Unsubscribe=One-Click`) says nothing the token does not
            length = environ.get("CONTENT_LENGTH") or "0"
            environ["wsgi.input"].read(min(int(length) if length.isdigit() else 0, MAX_BODY))
        try:
            status, page = handle_link(engine_of(), path.removeprefix("/l/"), method=method)
        except Exception:
            log.exception("link handler failed: %s /l/…", method)
            status, page = 500, "<!DOCTYPE html><title>PIB</title><p>Internal error: nothing was changed.</p>"
        start_response(REASONS.get(status, f"{status} Error"), HEADERS)
        return [b"" if method == "HEAD" else page.encode()]

    return application


application = make_application(lambda: get_engine(get_settings().database_url))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Access log without the tokens (they act for a user until they expire)."""
        log.info("%s %s", self.command, self.path.split("/l/")[0] + ("/l/…" if "/l/" in self.path else ""))


def start_web(host: str, port: int, engine: Engine) -> tuple[WSGIServer, threading.Thread]:
    """Serve the links in a background thread; `server.shutdown()` stops it."""
    server = make_server(
        host, port, make_application(lambda: engine), server_class=_Server, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="pib-web", daemon=True)
    thread.start()
    return server, thread
