"""A tab's stream of updates: over a WebSocket (``/api/sessions/{id}/ws``, what the page uses: a
browser opens far more of them per host than the six HTTP connections server-sent events would
each take one of) or as server-sent events (``GET /api/sessions/{id}/stream``). One ``state``
after every change (≈ 10 a second while training), in the session's language; when the stream
ends (the tab closed), so does the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ..i18n import _
from . import schema
from .api import ERRORS, Live, Message
from .live import LiveSession

PING_S = 2.0       # an idle stream sends a comment this often, so a closed tab is noticed
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]

router = APIRouter(prefix="/api")


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


async def _streamable(request: Request, live: Live):
    """The session of a stream request; when the stream ends (the tab closed), so does the
    session. A dependency's teardown runs when the response is over, however it ended."""
    if live.streaming:
        raise HTTPException(409, _("lab session {sid!r} already has a stream (one per tab)")
                            .format(sid=live.id))
    live.streaming = True
    try:
        yield live
    finally:
        request.app.state.manager.close(live.id)


Streamable = Annotated[LiveSession, Depends(_streamable)]


@router.get("/sessions/{sid}/stream", response_class=EventSourceResponse,
            responses={409: {"model": Message}, **ERRORS})
async def stream(request: Request, live: Streamable):
    """Server-sent events: ``state`` after every change (≈ 10 a second while training), a
    comment every 2 s when idle. Closing the stream ends the session."""
    manager = request.app.state.manager
    cursor: dict = {}
    try:
        async with live.lock:
            first = dumps(live.state(cursor))
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
                payload = dumps(live.state(cursor))
            yield ServerSentEvent(raw_data=payload, event="state")
    finally:
        manager.close(live.id)


@router.websocket("/sessions/{sid}/ws")
async def websocket_stream(websocket: WebSocket, sid: str):
    """The page's stream: one JSON ``state`` message after every change. Closing the socket ends
    the session. Close codes: 4404 no such session, 4409 it already has a stream, 1008 a page of
    another origin."""
    manager = websocket.app.state.manager
    if not same_origin(websocket, websocket.app.state.allowed_hosts):
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
    # The client sends nothing; this task only notices when it goes away.
    gone = asyncio.get_running_loop().create_task(_until_disconnect(websocket))
    try:
        await _send_states(websocket, live, manager.sessions, gone)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the tab went away mid-send
    finally:
        gone.cancel()
        ended_here = live.id not in manager.sessions  # by the server: shutdown, DELETE
        manager.close(live.id)
        with contextlib.suppress(Exception):
            await websocket.close(code=1001 if ended_here else 1000)


async def _send_states(websocket: WebSocket, live: LiveSession, sessions: dict,
                       gone: asyncio.Task) -> None:
    """A state now and after every change, until the session ends or the tab goes."""
    cursor: dict = {}
    send = True
    while live.id in sessions and not gone.done():
        if send:
            live.touched = time.monotonic()
            async with live.lock:
                payload = dumps(live.state(cursor))
            await websocket.send_text(payload)
        changed = asyncio.get_running_loop().create_task(live.changed.wait())
        done, _pending = await asyncio.wait({changed, gone}, timeout=PING_S,
                                            return_when=asyncio.FIRST_COMPLETED)
        changed.cancel()
        send = changed in done
        if send:
            live.changed.clear()


async def _until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


def same_origin(websocket: WebSocket, allowed_hosts) -> bool:
    """Whether a WebSocket's Origin (sent by every browser) is a page this server may serve:
    browsers do not apply the same-origin policy to WebSockets, so the server must."""
    origin = websocket.headers.get("origin")
    if origin is None or "*" in allowed_hosts:
        return True  # not a browser (a script or a test), or a deliberately open server
    host = urlparse(origin).hostname or ""
    return host in allowed_hosts or f"[{host}]" in allowed_hosts
