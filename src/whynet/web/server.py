"""The lab's web server: one page, a small JSON API, and a stream of updates per browser tab.

``whynet serve`` calls :func:`serve`. Each tab gets its own session (a
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
import html
import ipaddress
import json
import re
import secrets
import sys
import time
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse
from typing import Annotated, Literal

import uvicorn
from fastapi import (Body, Depends, FastAPI, HTTPException, Path as PathParam, Request,
                     WebSocket, WebSocketDisconnect)
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__
from ..errors import WhynetError
from . import schema
from .presets import PRESETS
from .schema import LabConfig, Limits, StepRequest
from .session import LabSession, ParameterError

FRAME_S = 0.1      # one update to the page per frame: ≈ 10 a second
YIELD_S = 0.002    # the loop's time for requests and streams between two frames
PING_S = 2.0       # an idle stream sends a comment this often, so a closed tab is noticed
SWEEP_S = 5.0      # how often idle sessions are looked for
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]

NO_REPORT = b"""<!doctype html><meta charset="utf-8"><title>whynet lab: no report</title>
<body style="font-family:system-ui,sans-serif;max-width:640px;margin:40px auto;line-height:1.5">
<h1>No report is served</h1><p>The lab links each question and preset to its experiment in
whynet's HTML report. Write the report and start the lab with it:</p>
<pre>whynet run all --quick
whynet report -o report.html
whynet serve --report report.html</pre><p>(<code>whynet serve</code> serves
<code>report.html</code> of the directory it starts in without being told.)</p>
<p><a href="/{back}">Back to the lab</a></p></body>"""

# A lab query string as the page writes it (URL-encoded keys and values); anything else is dropped.
BACK_QUERY = re.compile(r"[A-Za-z0-9_.,:=&%+-]{1,2000}")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'none'")


# -- sessions --------------------------------------------------------------------------------------

class LiveSession:
    """A :class:`LabSession` as the server runs it: playing or not, its speed, its stream."""

    def __init__(self, sid: str, lab: LabSession):
        self.id = sid
        self.lab = lab
        self.playing = False
        self.speed = 0           # steps a second; 0 = as fast as the machine goes
        self.streaming = False
        self.changed = asyncio.Event()
        self.touched = time.monotonic()
        self.task: asyncio.Task | None = None
        self.lock = asyncio.Lock()   # held by whoever reads or changes ``lab``
        self.rate: float | None = None  # achieved training steps a second while playing
        self._credit = 0.0

    def info(self) -> dict:
        lab = self.lab
        return {"id": self.id, "run": lab.run, "step": lab.step, "playing": self.playing,
                "speed": self.speed, "stopped": lab.stopped, "config": lab.config.model_dump()}

    def state(self, cursor: dict | None = None) -> dict:
        return {"session": self.id, "playing": self.playing, "speed": self.speed,
                "rate": self.rate if self.playing else None, **self.lab.state(cursor)}

    def publish(self) -> None:
        self.changed.set()

    def steps_this_frame(self) -> int | None:
        """Steps allowed in one frame at the chosen speed (None: no cap)."""
        if not self.speed:
            return None
        self._credit += self.speed * FRAME_S
        n = int(self._credit)
        self._credit -= n
        return n


class SessionManager:
    """All open sessions, their limits, and the loops that train the playing ones."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sessions: dict[str, LiveSession] = {}

    def create(self, config: LabConfig) -> LiveSession:
        if len(self.sessions) >= self.limits.max_sessions:
            raise HTTPException(429, f"too many lab sessions: {len(self.sessions)} are open, the "
                                     f"limit is {self.limits.max_sessions}; close a lab tab")
        sid = secrets.token_urlsafe(18)
        live = LiveSession(sid, LabSession(config, max_steps=self.limits.max_steps))
        self.sessions[sid] = live
        return live

    def get(self, sid: str) -> LiveSession:
        live = self.sessions.get(sid)
        if live is None:
            raise HTTPException(404, f"no lab session {sid!r} (it ends when its tab closes or "
                                     f"after {self.limits.idle_timeout_s:g} s without a request)")
        live.touched = time.monotonic()
        return live

    def close(self, sid: str) -> None:
        live = self.sessions.pop(sid, None)
        if live is not None:
            live.playing = False
            live.publish()  # wakes its stream, which sees the session gone and ends
            if live.task is not None and live.task is not asyncio.current_task():
                live.task.cancel()

    def close_all(self) -> None:
        for sid in list(self.sessions):
            self.close(sid)

    def sweep(self) -> None:
        """End sessions without a stream that have not been touched for the idle timeout."""
        now = time.monotonic()
        for sid, live in list(self.sessions.items()):
            if not live.streaming and now - live.touched > self.limits.idle_timeout_s:
                self.close(sid)

    def play(self, live: LiveSession) -> None:
        live.playing = True
        if live.task is None or live.task.done():
            live.task = asyncio.get_running_loop().create_task(self._train(live))

    async def _train(self, live: LiveSession) -> None:
        """Frames until paused, stopped or closed; each frame ends with an update to the page."""
        loop = asyncio.get_running_loop()
        t_rate, n_rate = loop.time(), 0
        live.rate = None
        while live.playing and live.id in self.sessions:
            t0 = loop.time()
            n_playing = max(1, sum(s.playing for s in self.sessions.values()))
            cap = live.steps_this_frame()
            if cap != 0:
                async with live.lock:
                    if not live.playing:
                        break
                    # Several tabs training share the loop: shorter frames keep each at
                    # ≈ 10 updates/s.
                    try:
                        n_rate += live.lab.frame(0.85 * FRAME_S / n_playing, cap)
                    except Exception as e:  # an engine bug must stop this session only
                        live.lab.stopped = (f"training stopped by an error: "
                                            f"{type(e).__name__}: {e}")
                    if live.lab.stopped:
                        live.playing = False
                if loop.time() - t_rate >= 0.5:  # the achieved rate, over half a second
                    live.rate = round(n_rate / (loop.time() - t_rate), 1)
                    t_rate, n_rate = loop.time(), 0
                live.publish()
            # A short real sleep, not sleep(0): the update passes through several tasks on its
            # way to the socket, each needing a turn of the loop before the next frame blocks it.
            rest = FRAME_S - (loop.time() - t0) if live.speed else 0.0
            await asyncio.sleep(max(YIELD_S, rest))


# -- request and response bodies -------------------------------------------------------------------

class PlayRequest(BaseModel):
    """Start (or keep) training; ``speed`` in steps a second, 0 for as fast as possible."""

    model_config = ConfigDict(extra="forbid")

    speed: int = Field(0, ge=0, le=100_000)


class ParameterRequest(BaseModel):
    """Set one weight or bias of the network by hand (Playground's click-to-edit).

    ``layer`` counts weight layers from the input side (0 is input → hidden 1; the last is the
    output unit); ``unit`` is a unit of that layer; ``source`` is the unit (or input feature)
    of the layer before, for a weight.
    """

    model_config = ConfigDict(extra="forbid")

    layer: int = Field(ge=0, le=schema.MAX_LAYERS)
    kind: Literal["weight", "bias"] = "weight"
    unit: int = Field(ge=0, lt=schema.MAX_UNITS)
    source: int | None = Field(None, ge=0, lt=max(schema.MAX_UNITS, len(schema.FEATURES)))
    value: schema.Float = Field(ge=-100.0, le=100.0)


class SessionInfo(BaseModel):
    id: str
    run: int
    step: int
    playing: bool
    speed: int
    stopped: str | None
    config: LabConfig


class Message(BaseModel):
    message: str


class AskRequest(BaseModel):
    """ "Ask as a question": the session's settings with one of them turned into a dimension."""

    model_config = ConfigDict(extra="forbid")

    dimension: str = Field(max_length=32)
    values: list[str | int | float | bool | list[int]] = Field(min_length=2, max_length=8)
    metric: str = Field("best_val_acc", max_length=40)


# -- dependencies: the session a request names -----------------------------------------------------

SessionId = Annotated[str, PathParam(pattern=schema.SESSION_ID,
                                     description="the id POST /api/sessions returned")]


def _session(request: Request, sid: SessionId) -> LiveSession:
    return request.app.state.manager.get(sid)


Live = Annotated[LiveSession, Depends(_session)]


async def _streamable(request: Request, live: Live):
    """The session of a stream request; when the stream ends (the tab closed), so does the
    session. A dependency's teardown runs when the response is over, however it ended."""
    if live.streaming:
        raise HTTPException(409, f"lab session {live.id!r} already has a stream (one per tab)")
    live.streaming = True
    try:
        yield live
    finally:
        request.app.state.manager.close(live.id)


Streamable = Annotated[LiveSession, Depends(_streamable)]


# -- the page's files ------------------------------------------------------------------------------

MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml",
               ".md": "text/plain; charset=utf-8", ".LICENSE": "text/plain; charset=utf-8"}


def _static_table() -> dict[str, tuple[bytes, str]]:
    """Every file of ``static/`` read once at start-up: URL path → (bytes, media type)."""
    table = {}
    root = resources.files("whynet.web") / "static"

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.is_file():
                suffix = "." + child.name.rsplit(".", 1)[-1] if "." in child.name else ""
                table[prefix + child.name] = (child.read_bytes(),
                                              MEDIA_TYPES.get(suffix, "application/octet-stream"))

    walk(root, "")
    return table


# -- the application -------------------------------------------------------------------------------

def _first_line(errors) -> str:
    """One readable line from pydantic's errors: where, what is allowed, what was given."""
    parts = []
    for e in errors:
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if e.get("type") == "json_invalid":
            at = e.get("loc", ("body", "?"))[-1]
            parts.append(f"body: malformed JSON at character {at} "
                         f"({e.get('ctx', {}).get('error', 'cannot parse')})")
            continue
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        given = e.get("input")
        if isinstance(given, (int, float, str, bool)) and len(repr(given)) <= 40 \
                and e.get("type") != "missing":
            msg += f", got {given!r}"
        # A rule over several fields (the model validator) already names them in its message.
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


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
    static = _static_table()
    report_html = Path(report).read_bytes() if report is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def sweeper():
            while True:
                await asyncio.sleep(SWEEP_S)
                manager.sweep()

        # One throw-away session imports everything a session needs (scikit-learn's data sets
        # take seconds on a busy machine), so the first tab does not wait for it.
        LabSession(LabConfig())
        task = asyncio.get_running_loop().create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            manager.close_all()

    app = FastAPI(title="whynet lab", version=__version__, lifespan=lifespan,
                  max_body_size=limits.max_body_bytes,
                  description="Train a small network on a 2-D toy set and watch its insides.")
    app.state.manager = manager
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"message": _first_line(exc.errors()), "fields": _fields(exc.errors()),
                             "detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"message": str(exc.detail), "detail": exc.detail},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(WhynetError)
    async def whynet_error(request: Request, exc: WhynetError):
        return JSONResponse({"message": str(exc), "detail": str(exc)}, status_code=422)

    errors = {404: {"model": Message}, 422: {"model": Message}}

    # -- the page --------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index():
        body, media = static["index.html"]
        return Response(body, media_type=media, headers={
            "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})

    @app.get("/static/{name:path}", include_in_schema=False)
    async def static_file(name: str):
        if name not in static:
            raise HTTPException(404, f"no static file {name!r}")
        body, media = static[name]
        return Response(body, media_type=media, headers={"X-Content-Type-Options": "nosniff",
                                                         "Cache-Control": "no-cache"})

    @app.get("/report", include_in_schema=False)
    async def report_page(back: str = ""):
        if report_html is None:
            # "Back to the lab" returns to the lab's state: the page passes its query string.
            query = "?" + back.lstrip("?") if BACK_QUERY.fullmatch(back.lstrip("?")) else ""
            body = NO_REPORT.replace(b"{back}", html.escape(query).encode())
            return Response(body, status_code=404, media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": CSP})
        return Response(report_html, media_type="text/html; charset=utf-8")

    # -- what the page needs to draw its controls ------------------------------------------------
    @app.get("/api/health")
    async def health() -> dict:
        return {"status": "ok", "sessions": len(manager.sessions),
                "max_sessions": limits.max_sessions}

    @app.get("/api/options")
    async def options() -> dict:
        return {"datasets": list(schema.DATASETS), "features": list(schema.FEATURES),
                "feature_labels": schema.FEATURE_LABELS,
                "activations": list(schema.ACTIVATIONS), "inits": list(schema.INITS),
                "regularizers": list(schema.REGULARIZERS),
                "optimizers": list(schema.OPTIMIZERS),
                "limits": {"max_layers": schema.MAX_LAYERS, "max_units": schema.MAX_UNITS,
                           "max_points": schema.MAX_POINTS, "max_batch": schema.MAX_BATCH,
                           "max_steps": limits.max_steps, "max_sessions": limits.max_sessions},
                "defaults": LabConfig().model_dump(), "questions": _questions(),
                "report": report_html is not None}

    @app.get("/api/presets")
    async def presets() -> list[dict]:
        return [p.to_dict() for p in PRESETS]

    # -- sessions ----------------------------------------------------------------------------------
    @app.post("/api/sessions", status_code=201, responses={429: {"model": Message}, **errors})
    async def create_session(config: LabConfig) -> SessionInfo:
        return manager.create(config).info()

    @app.get("/api/sessions/{sid}", responses=errors)
    async def get_state(live: Live) -> dict:
        async with live.lock:
            return live.state()

    @app.put("/api/sessions/{sid}/config", responses=errors)
    async def set_config(live: Live, config: LabConfig) -> SessionInfo:
        """A new configuration: rebuilds data and network, except when only the learning rate
        or the regularisation changed, which the running network takes on in place."""
        async with live.lock:
            live.lab.configure(config)
        live.publish()
        return live.info()

    @app.post("/api/sessions/{sid}/parameter", responses=errors)
    async def set_parameter(live: Live, request: ParameterRequest) -> SessionInfo:
        """Set one weight or bias; the boundary and the unit maps are redrawn at once."""
        async with live.lock:
            try:
                live.lab.set_parameter(request.layer, request.kind, request.unit,
                                       request.source, request.value)
            except ParameterError as e:
                raise HTTPException(422, str(e)) from None
        live.publish()
        return live.info()

    @app.post("/api/sessions/{sid}/question", responses=errors)
    async def ask_as_question(live: Live, request: AskRequest) -> dict:
        """The session's settings as a question file for ``whynet ask`` (checked before it is
        returned; nothing runs here)."""
        from ..ask.export import question_from_config

        text = question_from_config(live.lab.config.to_run_config(), request.dimension,
                                    request.values, metric=request.metric)
        return {"filename": f"lab_{request.dimension}.toml", "toml": text}

    @app.post("/api/sessions/{sid}/play", responses=errors)
    async def play(live: Live, request: Annotated[PlayRequest | None, Body()] = None
                   ) -> SessionInfo:
        live.speed = (request or PlayRequest()).speed
        if live.lab.stopped is None:
            manager.play(live)
        live.publish()
        return live.info()

    @app.post("/api/sessions/{sid}/pause", responses=errors)
    async def pause(live: Live) -> SessionInfo:
        live.playing = False
        live.publish()
        return live.info()

    @app.post("/api/sessions/{sid}/step", responses=errors)
    async def step(live: Live, request: Annotated[StepRequest | None, Body()] = None
                   ) -> SessionInfo:
        live.playing = False
        steps = (request or StepRequest()).steps
        async with live.lock:
            # Off the event loop: a thousand steps of a large net must not freeze other tabs.
            await asyncio.to_thread(live.lab.train, steps)
        live.publish()
        return live.info()

    @app.post("/api/sessions/{sid}/reset", responses=errors)
    async def reset(live: Live) -> SessionInfo:
        async with live.lock:
            live.lab.reset()
        live.publish()
        return live.info()

    @app.delete("/api/sessions/{sid}", status_code=204, responses=errors)
    async def delete_session(live: Live) -> Response:
        manager.close(live.id)
        return Response(status_code=204)

    @app.get("/api/sessions/{sid}/stream", response_class=EventSourceResponse,
             responses={409: {"model": Message}, **errors})
    async def stream(live: Streamable):
        """Server-sent events: ``state`` after every change (≈ 10 a second while training),
        a comment every 2 s when idle. Closing the stream ends the session."""
        cursor: dict = {}
        try:
            async with live.lock:
                first = _dumps(live.state(cursor))
            yield ServerSentEvent(raw_data=first, event="state")
            while live.id in manager.sessions:
                try:
                    await asyncio.wait_for(live.changed.wait(), PING_S)
                except TimeoutError:
                    yield ServerSentEvent(comment="ping")
                    continue
                live.changed.clear()
                if live.id not in manager.sessions:
                    break
                live.touched = time.monotonic()
                async with live.lock:
                    payload = _dumps(live.state(cursor))
                yield ServerSentEvent(raw_data=payload, event="state")
        finally:
            manager.close(live.id)

    @app.websocket("/api/sessions/{sid}/ws")
    async def websocket_stream(websocket: WebSocket, sid: str):
        """The page's stream: one JSON ``state`` message after every change (≈ 10 a second
        while training). Closing the socket ends the session. Close codes: 4404 no such
        session, 4409 it already has a stream, 1008 a page of another origin."""
        if not _same_origin(websocket, allowed_hosts or LOOPBACK_HOSTS):
            await websocket.close(code=1008, reason="cross-origin WebSocket refused")
            return
        live = manager.sessions.get(sid) if re.fullmatch(schema.SESSION_ID, sid) else None
        if live is None or live.streaming:
            await websocket.accept()
            await websocket.close(code=4404 if live is None else 4409,
                                  reason="no such lab session" if live is None
                                  else "this session already has a stream")
            return
        live.streaming = True
        await websocket.accept()
        cursor: dict = {}
        # The client sends nothing; this task only notices when it goes away.
        gone = asyncio.get_running_loop().create_task(_until_disconnect(websocket))
        try:
            send = True
            while live.id in manager.sessions and not gone.done():
                if send:
                    live.touched = time.monotonic()
                    async with live.lock:
                        payload = _dumps(live.state(cursor))
                    await websocket.send_text(payload)
                changed = asyncio.get_running_loop().create_task(live.changed.wait())
                done, _ = await asyncio.wait({changed, gone}, timeout=PING_S,
                                             return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                send = changed in done
                if send:
                    live.changed.clear()
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the tab went away mid-send
        finally:
            gone.cancel()
            ended_here = live.id not in manager.sessions  # by the server: shutdown, DELETE
            manager.close(live.id)
            with contextlib.suppress(Exception):
                await websocket.close(code=1001 if ended_here else 1000)

    return app


async def _until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


def _same_origin(websocket: WebSocket, allowed_hosts) -> bool:
    """Whether a WebSocket's Origin (sent by every browser) is a page this server may serve:
    browsers do not apply the same-origin policy to WebSockets, so the server must."""
    origin = websocket.headers.get("origin")
    if origin is None or "*" in allowed_hosts:
        return True  # not a browser (a script or a test), or a deliberately open server
    host = urlparse(origin).hostname or ""
    return host in allowed_hosts or f"[{host}]" in allowed_hosts


def _fields(errors) -> list[str]:
    """The top-level request fields an error is about (for the page to mark its controls); a
    rule over several fields names them in its message, so they are looked for there."""
    names = []
    for e in errors:
        loc = [p for p in e.get("loc", ()) if p != "body"]
        if loc:
            names.append(str(loc[0]))
        else:
            msg = str(e.get("msg", ""))
            found = {m.start(): f for f in LabConfig.model_fields
                     if (m := re.search(rf"\b{f}\b", msg))}
            names += [found[min(found)]] if found else []  # the field the rule is about
    return list(dict.fromkeys(names))


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _questions() -> dict[str, str]:
    """Question ID → short claim, from the experiments' catalogue (empty if it is missing)."""
    try:
        from ..experiments.questions import QUESTIONS
    except ImportError:
        return {}
    return {qid: q.claim for qid, q in QUESTIONS.items()}


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


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          report: str | Path | None = None) -> None:
    """Run the lab until Ctrl+C (``whynet serve``).

    Binds to ``host`` (loopback by default); any other address serves the lab to the network,
    so it is announced on stderr and the Host check is relaxed. With ``open_browser`` the page
    opens in the default browser once the server is up. Without ``report``, ``report.html`` in
    the working directory is served if there is one. Ctrl+C stops it at once (exit status 0).
    """
    hosts = LOOPBACK_HOSTS
    if not _is_loopback(host):
        print(f"whynet serve: binding to {host}, so the lab is reachable from other machines; "
              f"it has no authentication", file=sys.stderr)
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
            import threading
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        extra = f", report: {report}" if report is not None else ""
        print(f"whynet lab: {url}  (Ctrl+C to stop{extra})", flush=True)

    server = LabServer(config, app.state.manager, on_started=started)
    server.run()
