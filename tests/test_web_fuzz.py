"""Fuzz the lab's API from its own OpenAPI schema (schemathesis): no request, valid or not, may
get a 5xx.

Schemathesis generates bodies and parameters that fit the schema and ones that break it. A
random session id would only ever meet a 404, so path ids are replaced by a live session's: the
generated configurations, steps and speeds then really build and train networks. The stream is
left out (it never ends by design; test_web_stream.py covers it).
"""

import warnings

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from whynet.web.schema import LabConfig, Limits  # noqa: E402
from whynet.web.server import create_app  # noqa: E402

APP = create_app(Limits(max_sessions=4), allowed_hosts=["testserver", "localhost", "127.0.0.1"])
MANAGER = APP.state.manager
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path_regex=r".*/stream$")


def live_session_id() -> str:
    """The one session the fuzzed requests act on, (re)created if a DELETE ended it; other
    sessions the fuzzer created are closed so that POST /api/sessions is not always a 429."""
    keep = getattr(live_session_id, "sid", None)
    for sid in list(MANAGER.sessions):
        if sid != keep:
            MANAGER.close(sid)
    if keep not in MANAGER.sessions:
        keep = MANAGER.create(LabConfig()).id
        live_session_id.sid = keep
    return keep


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case):
    if case.path_parameters and "sid" in case.path_parameters:
        case.path_parameters["sid"] = live_session_id()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        response = case.call()
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
    if response.status_code >= 400:
        # Every refusal says why, in one line.
        assert response.json()["message"]


def test_the_server_is_healthy_after_the_fuzzing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette suggests httpx2 for its TestClient
        from starlette.testclient import TestClient

    with TestClient(APP) as api:
        assert api.get("/api/health").json()["status"] == "ok"
        sid = live_session_id()
        assert api.post(f"/api/sessions/{sid}/step", json={"steps": 2}).status_code == 200
