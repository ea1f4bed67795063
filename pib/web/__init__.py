"""The web side of `pib serve`: the member portal (FastAPI, server-rendered Jinja2 pages in FR/NL/EN), its
JSON API under `/api/v1`, the one-click links of the emails (`/l/<token>`) and `/healthz`, served by uvicorn.

`pib serve` runs it in a thread beside the scheduler (`start_web`); `pib serve --no-scheduler` runs it alone
in the foreground (`run_web`). The package:

- `app.py`: `create_app(engine=..., settings=...)`, the factory (tests build their own app over their database);
- `auth.py`: sign-in links, server-side sessions, API tokens, staff users (`models.py`: their tables);
- `csrf.py`, `csp.py`: the CSRF check of every unsafe request, the security headers of every answer;
- `i18n.py`: languages, Babel catalogues (`translations/`), date and number formats;
- `pages.py`: `render(request, template, context)`, the page context; `templates/`, `static/` (our own CSS);
- `deps.py`: `SessionDep`, `EngineDep`, `CurrentUser`, `CurrentMember`, `StaffUser`, `ApiUser`...;
- `routers/`: one module per area.

Adding an area (say tenders):
1. `pib/web/routers/tenders.py` with `router = APIRouter(include_in_schema=False)` and thin routes that call the
   domain services and `render(request, "tenders/list.html", {...})`, taking `CurrentMember` (or `StaffUser`)
   and answering 404 for objects of another firm;
2. in `pib/web/routers/__init__.py`, import `tenders` and append `tenders.router` to `ROUTERS` (two lines);
3. templates under `templates/tenders/` extending `base.html`, every string in `{{ _("...") }}`, every
   `<form method="post">` with `{{ csrf_field() }}`, no inline style or script (the CSP refuses them); then
   update the catalogues (see `i18n.py`) and add the tests under `tests/web/`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `pib --help` imports this package (its commands): no SQLAlchemy or FastAPI at import
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

MAX_HEAD = 256 * 1024
"""Bytes of request line and headers uvicorn reads before giving up; longer URLs than `csp.MAX_URL` get 414."""


def _config(app: Any, host: str, port: int) -> Any:
    import uvicorn

    # uvicorn writes its access line (with the full path: sign-in, link and calendar tokens) whenever the logger
    # has a handler anywhere up its chain, whatever `access_log` says; the portal logs requests itself.
    logging.getLogger("uvicorn.access").disabled = True
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        h11_max_incomplete_event_size=MAX_HEAD,
        log_config=None,  # the service's logging; the portal logs requests itself (`app.AccessLog`), without tokens
        access_log=False,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a busy port is an `OSError` for the caller, not a thread's exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


class WebServer:
    """A uvicorn server running in a thread; `shutdown()` stops it (open requests get a few seconds)."""

    def __init__(self, server: Any, sock: socket.socket) -> None:
        self.server = server
        self.socket = sock
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self.thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="pib-web", daemon=True)

    def start(self, timeout: float = 10) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the web server on {self.server_address} did not start")
            time.sleep(0.01)

    def shutdown(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def server_close(self) -> None:
        self.socket.close()


def start_web(host: str, port: int, engine: Engine) -> tuple[WebServer, threading.Thread]:
    """Serve the portal in a background thread (port 0: any free port, see `server.server_address`)."""
    import uvicorn

    from .app import create_app

    sock = _bind(host, port)
    server = WebServer(uvicorn.Server(_config(create_app(engine=engine), host, port)), sock)
    server.start()
    return server, server.thread


def run_web(host: str, port: int, engine: Engine) -> None:
    """Serve the portal in the foreground until Ctrl-C or SIGTERM (`pib serve --no-scheduler`)."""
    import uvicorn

    from .app import create_app

    class Foreground(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            """Ours instead of uvicorn's, which re-raises the signal at the end: a clean stop exits 0."""
            yield

    sock = _bind(host, port)
    server = Foreground(_config(create_app(engine=engine), host, port))

    def stop(number: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(number).name)
        server.should_exit = True

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
    log.info("portal served on http://%s:%s/", host, sock.getsockname()[1])
    server.run(sockets=[sock])
    log.info("stopped cleanly")
