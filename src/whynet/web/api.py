"""The lab's JSON API: what the page needs to draw its controls, and one tab's session
(create, read, configure, play, pause, step, reset, edit one parameter, switch language or
lesson, ask as a question, end). Every body is validated by :mod:`whynet.web.schema` or the
models below before a handler runs; a refusal is a 4xx whose message names what was wrong, in
the request's language.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path as PathParam, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..ask.export import question_from_config
from ..experiments.questions import QUESTIONS
from ..i18n import LANGUAGES, PSEUDO, _, current_language
from . import schema
from .live import LiveSession
from .presets import PRESET_IDS, PRESETS
from .schema import LabConfig, StepRequest
from .session import ParameterError

router = APIRouter(prefix="/api")


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


class ViewRequest(BaseModel):
    """How the session speaks to its tab, changed without touching the run: the language of its
    sentences (findings, why it stopped) and the preset whose lesson is ranked first ("" for
    none)."""

    model_config = ConfigDict(extra="forbid")

    lang: Literal[(*LANGUAGES, PSEUDO)] | None = None
    preset: Literal[("", *PRESET_IDS)] = ""


class SessionInfo(BaseModel):
    id: str
    run: int
    step: int
    playing: bool
    speed: int
    stopped: str | None
    config: LabConfig
    lang: str
    lesson: str | None


class Message(BaseModel):
    message: str


class AskRequest(BaseModel):
    """ "Ask as a question": the session's settings with one of them turned into a dimension."""

    model_config = ConfigDict(extra="forbid")

    dimension: str = Field(max_length=32)
    values: list[str | int | float | bool | list[int]] = Field(min_length=2, max_length=8)
    metric: str | None = Field(None, max_length=40, description=(
        "the claim's metric (none: best_val_loss for a regression set, else best_val_acc)"))


ERRORS = {404: {"model": Message}, 422: {"model": Message}}

# -- the session a request names -------------------------------------------------------------------

SessionId = Annotated[str, PathParam(pattern=schema.SESSION_ID,
                                     description="the id POST /api/sessions returned")]


def _session(request: Request, sid: SessionId) -> LiveSession:
    return request.app.state.manager.get(sid)


Live = Annotated[LiveSession, Depends(_session)]


# -- what the page needs to draw its controls ------------------------------------------------------

@router.get("/health")
async def health(request: Request) -> dict:
    manager = request.app.state.manager
    return {"status": "ok", "sessions": len(manager.sessions),
            "max_sessions": manager.limits.max_sessions}


@router.get("/options")
async def options(request: Request) -> dict:
    limits = request.app.state.manager.limits
    return {"datasets": list(schema.DATASETS), "features": list(schema.FEATURES),
            "feature_labels": schema.FEATURE_LABELS,
            "activations": list(schema.ACTIVATIONS), "inits": list(schema.INITS),
            "regularizers": list(schema.REGULARIZERS), "optimizers": list(schema.OPTIMIZERS),
            "limits": {"max_layers": schema.MAX_LAYERS, "max_units": schema.MAX_UNITS,
                       "max_points": schema.MAX_POINTS, "max_batch": schema.MAX_BATCH,
                       "max_steps": limits.max_steps, "max_sessions": limits.max_sessions},
            "defaults": LabConfig().model_dump(),
            "questions": {qid: _(q.claim) for qid, q in QUESTIONS.items()},
            "report": request.app.state.report_html is not None, "lang": current_language()}


@router.get("/presets")
async def presets() -> list[dict]:
    return [p.to_dict() for p in PRESETS]


# -- one tab's session -----------------------------------------------------------------------------

@router.post("/sessions", status_code=201, responses={429: {"model": Message}, **ERRORS})
async def create_session(request: Request, config: LabConfig) -> SessionInfo:
    """A new session in the request's language."""
    return request.app.state.manager.create(config, current_language()).info()


@router.get("/sessions/{sid}", responses=ERRORS)
async def get_state(live: Live) -> dict:
    async with live.lock:
        return live.state()


@router.put("/sessions/{sid}/config", responses=ERRORS)
async def set_config(live: Live, config: LabConfig) -> SessionInfo:
    """A new configuration: rebuilds data and network, except when only the learning rate or the
    regularisation changed, which the running network takes on in place."""
    async with live.lock:
        live.lab.configure(config)
    live.publish()
    return live.info()


@router.put("/sessions/{sid}/view", responses=ERRORS)
async def set_view(live: Live, view: ViewRequest) -> SessionInfo:
    """Switch the session's language or lesson; the run goes on untouched (same weights, same
    step), and the next update speaks the new language."""
    async with live.lock:
        if view.lang is not None:
            live.lang = view.lang
        live.lab.lesson = next((p.lesson for p in PRESETS if p.id == view.preset), None)
    live.publish()
    return live.info()


@router.post("/sessions/{sid}/parameter", responses=ERRORS)
async def set_parameter(live: Live, request: ParameterRequest) -> SessionInfo:
    """Set one weight or bias; the boundary and the unit maps are redrawn at once."""
    async with live.lock:
        try:
            live.lab.set_parameter(request.layer, request.kind, request.unit, request.source,
                                   request.value)
        except ParameterError as e:
            raise HTTPException(422, str(e)) from None
    live.publish()
    return live.info()


@router.post("/sessions/{sid}/question", responses=ERRORS)
async def ask_as_question(live: Live, request: AskRequest) -> dict:
    """The session's settings as a question file for ``whynet ask`` (checked before it is
    returned; nothing runs here)."""
    regression = live.lab.config.regression
    metric = request.metric or ("best_val_loss" if regression else "best_val_acc")
    text = question_from_config(live.lab.config.to_run_config(), request.dimension,
                                request.values, metric=metric)
    return {"filename": f"lab_{request.dimension}.toml", "toml": text}


@router.post("/sessions/{sid}/play", responses=ERRORS)
async def play(request: Request, live: Live,
               body: Annotated[PlayRequest | None, Body()] = None) -> SessionInfo:
    live.speed = (body or PlayRequest()).speed
    if live.lab.stopped_kind is None:
        request.app.state.manager.play(live)
    live.publish()
    return live.info()


@router.post("/sessions/{sid}/pause", responses=ERRORS)
async def pause(live: Live) -> SessionInfo:
    live.playing = False
    live.publish()
    return live.info()


@router.post("/sessions/{sid}/step", responses=ERRORS)
async def step(live: Live, request: Annotated[StepRequest | None, Body()] = None) -> SessionInfo:
    live.playing = False
    steps = (request or StepRequest()).steps
    async with live.lock:
        # Off the event loop: a thousand steps of a large net must not freeze other tabs.
        await asyncio.to_thread(live.lab.train, steps)
    live.publish()
    return live.info()


@router.post("/sessions/{sid}/reset", responses=ERRORS)
async def reset(live: Live) -> SessionInfo:
    async with live.lock:
        live.lab.reset()
    live.publish()
    return live.info()


@router.delete("/sessions/{sid}", status_code=204, responses=ERRORS)
async def delete_session(request: Request, live: Live) -> Response:
    request.app.state.manager.close(live.id)
    return Response(status_code=204)
