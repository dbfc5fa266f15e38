"""The lab's web server: one page, a small JSON API, and a stream of updates per browser tab.

``whynet serve`` calls :func:`serve`; :func:`create_app` puts together the parts: the page and
its files (:mod:`whynet.web.page`), the JSON API (:mod:`whynet.web.api`), the streams
(:mod:`whynet.web.streams`), the sessions (:mod:`whynet.web.live`), and the language of each
request (:mod:`whynet.web.messages`). Each tab gets its own session (a
:class:`~whynet.web.session.LabSession`: data, network, trainer, probe), created by
``POST /api/sessions`` and controlled by small POST requests (play, pause, step, reset, a new
configuration, one hand-edited parameter). Updates go to the tab about ten a second while
training, over a WebSocket (``/api/sessions/{id}/ws``, what the page uses: a browser opens far
more of them per host than the six HTTP connections server-sent events would each take one of)
or as server-sent events (``GET /api/sessions/{id}/stream``); when the tab closes, its stream
drops and the session ends.

A playing session trains in frames of about a tenth of a second on the server's event loop and
yields between frames, so requests, streams and other tabs' sessions are served in between. A
long ``step`` request runs in a worker thread so it blocks no other tab. Each session has a lock:
no session state is ever touched by two tasks or threads at once.

Ctrl+C (or SIGTERM) ends every session and stream at once and exits cleanly.

Safe by default: it binds to 127.0.0.1 and accepts only loopback Host headers (which stops DNS
rebinding); every request body is validated by :mod:`whynet.web.schema` (a 4xx with a message
otherwise); bodies over 16 KiB are refused; sessions, steps and sizes are limited
(:class:`~whynet.web.schema.Limits`); static files come from a table built at start-up, so no path
from a client is ever opened, and no client input is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import sys
import threading
import webbrowser
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__
from ..errors import ConfigError, WhynetError
from ..i18n import _
from . import api, page, streams
from .live import SessionManager
from .messages import LanguageMiddleware, error_fields, error_line
from .schema import LabConfig, Limits
from .session import LabSession
from .streams import LOOPBACK_HOSTS

SWEEP_S = 5.0      # how often idle sessions are looked for


def create_app(limits: Limits | None = None, allowed_hosts=None, report: str | Path | None = None
               ) -> FastAPI:
    """The lab as an ASGI application.

    Args:
        limits: server-wide limits (default :class:`~whynet.web.schema.Limits()`).
        allowed_hosts: Host header values accepted (default: loopback names only); ``["*"]``
            accepts any, for a server deliberately bound to another interface.
        report: an HTML report written by ``whynet report``, served at ``/report`` so the page's
            question links land on it. Chosen by whoever starts the server, never by a client.
    """
    limits = limits or Limits()
    manager = SessionManager(limits)
    app = FastAPI(title="whynet lab", version=__version__, lifespan=_lifespan,
                  max_body_size=limits.max_body_bytes,
                  description="Train a small network on a 2-D toy set and watch its insides.")
    app.state.manager = manager
    app.state.static = page.static_table()
    app.state.report_html = Path(report).read_bytes() if report is not None else None
    app.state.allowed_hosts = allowed_hosts or LOOPBACK_HOSTS
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=app.state.allowed_hosts)
    app.add_middleware(LanguageMiddleware)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(WhynetError, _whynet_error)
    for router in (page.router, api.router, streams.router):
        app.include_router(router)
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    """Sweep idle sessions while the server runs; end every session when it stops."""
    manager = app.state.manager

    async def sweeper():
        while True:
            await asyncio.sleep(SWEEP_S)
            manager.sweep()

    # One throw-away session imports everything a session needs (scikit-learn's data sets take
    # seconds on a busy machine), so the first tab does not wait for it.
    LabSession(LabConfig())
    task = asyncio.get_running_loop().create_task(sweeper())
    try:
        yield
    finally:
        task.cancel()
        manager.close_all()


async def _invalid(request: Request, exc: RequestValidationError):
    errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
    return JSONResponse({"message": error_line(exc.errors()), "fields": error_fields(exc.errors()),
                         "detail": jsonable_encoder(errors)}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException):
    return JSONResponse({"message": str(exc.detail), "detail": exc.detail},
                        status_code=exc.status_code, headers=exc.headers)


async def _whynet_error(request: Request, exc: WhynetError):
    return JSONResponse({"message": str(exc), "detail": str(exc)}, status_code=422)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LabServer(uvicorn.Server):
    """uvicorn's server, made to stop at once: the first Ctrl+C (or SIGTERM) ends every session,
    which ends every stream, so uvicorn finds no open response to wait for; the signal is then
    consumed (a clean exit, not a KeyboardInterrupt traceback). ``on_started`` runs once the
    socket is bound."""

    def __init__(self, config, manager: SessionManager, on_started=None):
        super().__init__(config)
        self.manager = manager
        self.on_started = on_started
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets=None):
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.manager.close_all)

    async def shutdown(self, sockets=None):
        await super().shutdown(sockets=sockets)
        self._captured_signals.clear()  # handled: nothing to re-raise after a clean exit


def default_report() -> Path | None:
    """The report the lab serves when none is named: ``report.html`` in the working directory
    (where ``whynet report`` writes it), else None."""
    path = Path("report.html")
    return path if path.is_file() else None


def check_listen(host: str, port: int) -> None:
    """Raise :class:`~whynet.errors.ConfigError` unless a TCP socket can listen on ``host``:
    ``port`` now (an unknown host name, an address of no interface, a port in use or
    reserved). The probe socket is closed again; uvicorn binds its own with the same options."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        family, kind, proto, _name, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except (OSError, OverflowError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ConfigError(_("serve: cannot listen on {host}:{port} ({reason})")
                          .format(host=host, port=port, reason=reason)) from None


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          report: str | Path | None = None) -> None:
    """Run the lab until Ctrl+C (``whynet serve``).

    Binds to ``host`` (loopback by default); any other address serves the lab to the network,
    so it is announced on stderr and the Host check is relaxed. With ``open_browser`` the page
    opens in the default browser once the server is up. Without ``report``, ``report.html`` in
    the working directory is served if there is one. Ctrl+C stops it at once (exit status 0).
    """
    check_listen(host, port)  # one error line, not uvicorn's log lines and exit status 3
    hosts = LOOPBACK_HOSTS
    if not _is_loopback(host):
        print(_("whynet serve: binding to {host}, so the lab is reachable from other machines; "
                "it has no authentication").format(host=host), file=sys.stderr)
        hosts = ["*"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if report is None:
        report = default_report()
    app = create_app(allowed_hosts=hosts, report=report)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            timeout_graceful_shutdown=1, ws="websockets-sansio")

    def started():
        # Only now: a URL printed before the bind succeeded would point at nothing. The port is
        # the bound one (``--port 0`` picks a free port).
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound}/"
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        print(_("whynet lab: {url}  (Ctrl+C to stop)").format(url=url) if report is None else
              _("whynet lab: {url}  (Ctrl+C to stop, report: {report})").format(url=url,
                                                                              report=report),
              flush=True)

    server = LabServer(config, app.state.manager, on_started=started)
    server.run()
