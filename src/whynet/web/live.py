"""The lab's open sessions as the server runs them: each tab's :class:`LiveSession` (playing or
not, its speed, its stream, its language) and the :class:`SessionManager` that creates, finds,
ends and trains them.

A playing session trains in frames of about a tenth of a second on the server's event loop and
yields between frames, so requests, streams and other tabs' sessions are served in between. Each
session has a lock: no session state is ever touched by two tasks or threads at once.
"""

from __future__ import annotations

import asyncio
import secrets
import time

from fastapi import HTTPException

from ..i18n import _, use_language
from .schema import LabConfig, Limits
from .session import LabSession

FRAME_S = 0.1      # one update to the page per frame: ≈ 10 a second
YIELD_S = 0.002    # the loop's time for requests and streams between two frames


class LiveSession:
    """A :class:`LabSession` as the server runs it: playing or not, its speed, its stream, and
    the language its stream speaks (``lang``; the page can switch it without ending the run)."""

    def __init__(self, sid: str, lab: LabSession, lang: str = "en"):
        self.id = sid
        self.lab = lab
        self.lang = lang
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
                "speed": self.speed, "stopped": lab.stopped, "config": lab.config.model_dump(),
                "lang": self.lang, "lesson": lab.lesson}

    def state(self, cursor: dict | None = None) -> dict:
        """Everything the page draws, its sentences in the session's language."""
        with use_language(self.lang):
            return {"session": self.id, "playing": self.playing, "speed": self.speed,
                    "rate": self.rate if self.playing else None, "lang": self.lang,
                    **self.lab.state(cursor)}

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

    def create(self, config: LabConfig, lang: str = "en") -> LiveSession:
        if len(self.sessions) >= self.limits.max_sessions:
            raise HTTPException(429, _("too many lab sessions: {n} are open, the limit is "
                                       "{limit}; close a lab tab").format(
                n=len(self.sessions), limit=self.limits.max_sessions))
        sid = secrets.token_urlsafe(18)
        live = LiveSession(sid, LabSession(config, max_steps=self.limits.max_steps), lang)
        self.sessions[sid] = live
        return live

    def get(self, sid: str) -> LiveSession:
        live = self.sessions.get(sid)
        if live is None:
            raise HTTPException(404, _("no lab session {sid!r} (it ends when its tab closes or "
                                       "after {s:g} s without a request)").format(
                sid=sid, s=self.limits.idle_timeout_s))
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
            cap = live.steps_this_frame()
            if cap != 0:
                n_rate += await self._frame(live, cap)
                if loop.time() - t_rate >= 0.5:  # the achieved rate, over half a second
                    live.rate = round(n_rate / (loop.time() - t_rate), 1)
                    t_rate, n_rate = loop.time(), 0
                live.publish()
            # A short real sleep, not sleep(0): the update passes through several tasks on its
            # way to the socket, each needing a turn of the loop before the next frame blocks it.
            rest = FRAME_S - (loop.time() - t0) if live.speed else 0.0
            await asyncio.sleep(max(YIELD_S, rest))

    async def _frame(self, live: LiveSession, cap: int | None) -> int:
        """One frame of training under the session's lock; returns the steps done."""
        n_playing = max(1, sum(s.playing for s in self.sessions.values()))
        async with live.lock:
            if not live.playing:
                return 0
            done = 0
            # Several tabs training share the loop: shorter frames keep each at ≈ 10 updates/s.
            try:
                done = live.lab.frame(0.85 * FRAME_S / n_playing, cap)
            except Exception as e:  # an engine bug must stop this session only
                live.lab.stop_by_error(e)
            if live.lab.stopped:
                live.playing = False
            return done
