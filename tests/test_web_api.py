"""The lab's JSON API, in process (FastAPI's TestClient): sessions, training, validation, limits.

The streaming and the browser are tested in test_web_stream.py and test_web_browser.py.
"""

import base64
import json
import re
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("fastapi")
with warnings.catch_warnings():  # Starlette suggests httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from whynet.probes import RULES  # noqa: E402
from whynet.web import schema  # noqa: E402
from whynet.web.presets import PRESETS  # noqa: E402
from whynet.web.schema import LabConfig, Limits  # noqa: E402
from whynet.web.server import create_app  # noqa: E402
from whynet.web.session import GRID, UNIT_GRID, LabSession  # noqa: E402

HANGUL = re.compile(r"[\uac00-\ud7a3]")

FAST = {"optimizer": "adam", "lr": 0.03}  # learns circles in a few hundred steps


def client(**limits) -> TestClient:
    return TestClient(create_app(Limits(**limits), allowed_hosts=["testserver"]))


@pytest.fixture
def api():
    with client() as c:
        yield c


def new_session(api, **config) -> str:
    r = api.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_new_session_has_the_default_network_and_every_view(api):
    sid = new_session(api)
    st = api.get(f"/api/sessions/{sid}").json()
    assert st["config"] == LabConfig().model_dump()
    assert st["step"] == 0 and st["playing"] is False
    # Default: hidden layers of 4 and 2 units, then the output: one row per weight layer.
    assert [layer["units"] for layer in st["layers"]] == [4, 2, 1]
    assert len(base64.b64decode(st["boundary"]["p"])) == GRID * GRID
    assert [len(layer) for layer in st["units"]] == [4, 2]
    assert all(len(base64.b64decode(u["map"])) == UNIT_GRID ** 2 for u in st["units"][0])
    # 400 points, half of them for training: the points come with the first state.
    assert len(st["points"]["train"]["y"]) == 200 and len(st["points"]["test"]["y"]) == 200
    h = st["history"]
    assert h["full"] and len(h["rows"]) == 1 and h["columns"][:5] == [
        "step", "train_loss", "test_loss", "train_acc", "test_acc"]
    # A fresh BCE network predicts about 1/2 everywhere: loss near ln 2.
    assert st["metrics"]["test_loss"] == pytest.approx(np.log(2), abs=0.25)
    # The state is plain JSON (no NaN), as the stream sends it.
    json.dumps(st, allow_nan=False)


def test_training_steps_lower_the_loss_and_move_the_boundary(api):
    sid = new_session(api, **FAST)
    before = api.get(f"/api/sessions/{sid}").json()
    r = api.post(f"/api/sessions/{sid}/step", json={"steps": 300})
    assert r.status_code == 200 and r.json()["step"] == 300
    after = api.get(f"/api/sessions/{sid}").json()
    # Adam at 0.03 separates circles in 300 steps: from ~0.8 to under 0.2 (measured 0.07).
    assert after["metrics"]["test_loss"] < 0.25 * before["metrics"]["test_loss"]
    assert after["metrics"]["test_acc"] > 0.9
    assert after["boundary"]["p"] != before["boundary"]["p"]
    # The probe measured the last step: every weight layer has a gradient norm and update ratio.
    for layer in after["layers"]:
        assert layer["grad_norm"] > 0 and layer["update_ratio"] > 0
    assert after["history"]["rows"][-1][0] == 300


def test_reset_restores_the_initial_weights_and_a_new_config_rebuilds(api):
    sid = new_session(api, **FAST)
    first = api.get(f"/api/sessions/{sid}").json()
    api.post(f"/api/sessions/{sid}/step", json={"steps": 50})
    assert api.post(f"/api/sessions/{sid}/reset").json()["step"] == 0
    again = api.get(f"/api/sessions/{sid}").json()
    # Same seed → the same weights: the same picture and loss as before training.
    assert again["boundary"]["p"] == first["boundary"]["p"]
    assert again["metrics"] == first["metrics"]
    assert again["run"] == first["run"] + 1
    r = api.put(f"/api/sessions/{sid}/config",
                json={"dataset": "spiral", "layers": [{"units": 8, "activation": "relu"}] * 3})
    assert r.status_code == 200
    st = api.get(f"/api/sessions/{sid}").json()
    assert st["config"]["dataset"] == "spiral"
    assert [layer["units"] for layer in st["layers"]] == [8, 8, 8, 1]
    assert [layer["activation"] for layer in st["layers"]] == ["relu", "relu", "relu", None]


def test_the_same_config_gives_the_same_run_and_sessions_do_not_interfere(api):
    """What a link reproduces, and what two tabs must not break: a session's numbers depend on
    its config only, not on another session training in between."""
    a_cfg = {"dataset": "spiral", **FAST, "layers": [{"units": 8, "activation": "tanh"}] * 2}
    b_cfg = {"dataset": "xor", "optimizer": "sgd", "lr": 0.1, "seed": 7}
    alone = new_session(api, **a_cfg)
    api.post(f"/api/sessions/{alone}/step", json={"steps": 200})
    ref = api.get(f"/api/sessions/{alone}").json()

    a, b = new_session(api, **a_cfg), new_session(api, **b_cfg)
    for _ in range(4):  # interleaved, as two tabs would be
        api.post(f"/api/sessions/{a}/step", json={"steps": 50})
        api.post(f"/api/sessions/{b}/step", json={"steps": 37})
    got_a = api.get(f"/api/sessions/{a}").json()
    got_b = api.get(f"/api/sessions/{b}").json()
    assert got_a["metrics"] == ref["metrics"]
    assert got_a["boundary"]["p"] == ref["boundary"]["p"]
    assert got_b["step"] == 148 and got_b["config"]["dataset"] == "xor"
    assert got_b["boundary"]["p"] != got_a["boundary"]["p"]


BAD = [
    ({"layers": [{"units": 4}] * 1000}, "layers: List should have at most 6 items"),
    ({"lr": -0.1}, "lr: Input should be greater than 0, got -0.1"),
    ({"layers": [{"units": 4, "activation": "swishy"}]}, "layers.0.activation"),
    ({"layers": [{"units": 17}]}, "layers.0.units: Input should be less than or equal to 16"),
    ({"dataset": "../../etc/passwd"}, "dataset: Input should be 'circles'"),
    ({"optimizer": "__import__('os')"}, "optimizer: Input should be"),
    ({"n_points": 10**9}, "n_points: Input should be less than or equal to 2000"),
    ({"batch_size": 256, "n_points": 100}, "batch_size must be ≤ the number of training points"),
    ({"batchnorm": True, "batch_size": 1}, "batch_size must be ≥ 2 with batchnorm"),
    ({"features": []}, "features: List should have at least 1 item"),
    ({"features": ["x1", "x1"]}, "features must not repeat"),
    ({"learning_rate": 0.1}, "learning_rate: Extra inputs are not permitted"),
    ({"noise": "lots"}, "noise: Input should be a valid number"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_configs_get_a_422_that_says_what_is_wrong_and_the_server_stays_healthy(
        api, body, message):
    sid = new_session(api)
    for method, path in (("POST", "/api/sessions"), ("PUT", f"/api/sessions/{sid}/config")):
        r = api.request(method, path, json=body)
        assert r.status_code == 422
        assert message in r.json()["message"]
    # Nothing was created or changed, and the existing session still trains.
    assert api.get("/api/health").json()["sessions"] == 1
    assert api.post(f"/api/sessions/{sid}/step", json={"steps": 3}).json()["step"] == 3
    assert api.get(f"/api/sessions/{sid}").json()["config"] == LabConfig().model_dump()


def test_malformed_json_nan_and_oversized_bodies_are_refused(api):
    sid = new_session(api)
    r = api.post("/api/sessions", content=b'{"lr": 0.1,',
                 headers={"content-type": "application/json"})
    assert r.status_code == 422 and "malformed JSON" in r.json()["message"]
    # Python's json writes NaN, which is not JSON; the lab refuses it like any non-finite number.
    r = api.put(f"/api/sessions/{sid}/config", content=b'{"lr": NaN}',
                headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["message"].startswith("lr")
    r = api.post("/api/sessions", content=b"[" + b"1," * 20_000 + b"1]",
                 headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = api.post(f"/api/sessions/{sid}/step", json={"steps": 10_001})
    assert r.status_code == 422 and "steps: Input should be less than or equal to 1000" in r.text
    assert api.get("/api/health").json() == {"status": "ok", "sessions": 1, "max_sessions": 8}


def test_unknown_and_malformed_session_ids(api):
    r = api.get("/api/sessions/" + "A" * 24)
    assert r.status_code == 404
    assert "no lab session 'AAAAAAAAAAAAAAAAAAAAAAAA'" in r.json()["message"]
    r = api.post("/api/sessions/..%2F..%2Fetc/play")
    assert r.status_code in (404, 422)
    r = api.get("/api/sessions/short")
    assert r.status_code == 422 and "sid" in r.json()["message"]


def test_session_limit_and_idle_sessions_end():
    with client(max_sessions=2, idle_timeout_s=0.0) as api:
        a, _ = new_session(api), new_session(api)
        r = api.post("/api/sessions", json={})
        assert r.status_code == 429 and "limit is 2" in r.json()["message"]
        assert api.delete(f"/api/sessions/{a}").status_code == 204
        assert api.get(f"/api/sessions/{a}").status_code == 404
        new_session(api)
        # Sessions without a stream and idle past the timeout are swept away.
        api.app.state.manager.sweep()
        assert api.get("/api/health").json()["sessions"] == 0


def test_step_limit_stops_training_and_play_does_not_restart_it():
    with client(max_steps=40) as api:
        sid = new_session(api)
        r = api.post(f"/api/sessions/{sid}/step", json={"steps": 100}).json()
        assert r["step"] == 40 and "limit of 40 steps" in r["stopped"]
        r = api.post(f"/api/sessions/{sid}/play", json={"speed": 0}).json()
        assert r["playing"] is False and r["step"] == 40
        r = api.post(f"/api/sessions/{sid}/reset").json()
        assert r["stopped"] is None and r["step"] == 0


def test_divergence_stops_training_with_a_finding(api):
    # Three identity layers at lr 10 on xor's ±5 inputs overflow float32 within a few steps.
    sid = new_session(api, dataset="xor", optimizer="sgd", lr=10.0,
                      layers=[{"units": 16, "activation": "identity"}] * 3)
    r = api.post(f"/api/sessions/{sid}/step", json={"steps": 200}).json()
    assert r["step"] < 20 and r["stopped"].startswith("training diverged at step")
    st = api.get(f"/api/sessions/{sid}").json()
    assert st["metrics"]["test_loss"] is None  # no NaN in the JSON
    finding = [f for f in st["findings"] if f["rule"] == "nonfinite"]
    assert len(finding) == 1 and finding[0]["question"] == "T2"
    assert "lower it" in finding[0]["text"]


def test_findings_name_a_question_the_catalogue_knows(api):
    # Zero weights: the hidden units stay identical, which is question I1 (symmetry).
    sid = new_session(api, init="zeros", layers=[{"units": 6, "activation": "sigmoid"}] * 2,
                      lr=1.0)
    api.post(f"/api/sessions/{sid}/step", json={"steps": 20})
    st = api.get(f"/api/sessions/{sid}").json()
    assert [layer["distinct_units"] for layer in st["layers"][:2]] == [1, 1]
    rules = {f["rule"]: f["question"] for f in st["findings"]}
    assert rules["symmetry"] == "I1"
    questions = api.get("/api/options").json()["questions"]
    if questions:  # the experiments' catalogue is there
        assert all(f["question"] in questions for f in st["findings"])


def test_only_loopback_host_names_are_served():
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as api:
        assert api.get("/api/health").status_code == 200
    with TestClient(create_app(), base_url="http://evil.example:8000") as api:
        assert api.get("/api/health").status_code == 400


def test_the_page_and_its_files_are_served_from_a_fixed_table(api):
    r = api.get("/")
    assert r.status_code == 200 and "<title>whynet lab</title>" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name in ("lab.js", "lab.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css",
                 "vendor/uPlot.LICENSE"):
        assert api.get(f"/static/{name}").status_code == 200, name
    assert api.get("/static/vendor/uPlot.iife.min.js").headers["content-type"].startswith(
        "text/javascript")
    # No path from the client is opened: anything outside the table is a 404.
    for name in ("../server.py", "..%2Fserver.py", "/etc/passwd", "vendor/../../schema.py"):
        assert api.get(f"/static/{name}").status_code == 404, name
    # The page loads nothing from another origin (works offline, no CDN).
    assert "http" not in r.text.replace("http-equiv", "")
    r = api.get("/report")  # no report given to this server: a page that says how to make one
    assert r.status_code == 404 and "whynet serve --report report.html" in r.text


def test_options_list_what_the_schema_accepts(api):
    opts = api.get("/api/options").json()
    assert opts["activations"] == list(schema.ACTIVATIONS)
    assert opts["limits"]["max_layers"] == 6 and opts["limits"]["max_units"] == 16
    assert opts["defaults"] == LabConfig().model_dump()
    from whynet.nn.activations import ACTIVATIONS
    assert set(schema.ACTIVATIONS) <= set(ACTIVATIONS)


def test_every_preset_is_valid_and_names_known_questions(api):
    presets = api.get("/api/presets").json()
    assert [p["id"] for p in presets] == [p.id for p in PRESETS]
    questions = api.get("/api/options").json()["questions"]
    for p in presets:
        LabConfig(**p["config"])
        assert len(p["explanation"]) > 150, p["id"]
        assert p["experiment"] == p["experiment"].lower()
        if questions:
            assert set(p["questions"]) <= set(questions), p["id"]


def test_session_measures_its_last_step_and_caps_history():
    lab = LabSession(LabConfig(**FAST))
    lab.train(25)
    assert lab.history["step"] == [0, 25]
    # The probe measured step 25 inside the trainer, so the update ratio is of a real step.
    assert lab.history["update_ratio:1"][-1] > 0
    lab.history = {k: v * 1200 for k, v in lab.history.items()}
    lab.train(1)
    assert len(lab.history["step"]) == 1201 and lab.history_version == 1


def test_a_report_given_by_the_operator_is_served_for_the_links(tmp_path):
    report = tmp_path / "report.html"
    report.write_text("<html><body><h2 id='q-A6'>A6</h2></body></html>")
    with TestClient(create_app(report=report, allowed_hosts=["testserver"])) as api:
        assert api.get("/api/options").json()["report"] is True
        r = api.get("/report")
        assert r.status_code == 200 and "id='q-A6'" in r.text


def test_presets_point_at_experiments_that_answer_their_question():
    from whynet.experiments import registry

    known = {e.id: e for e in registry.all_experiments()}
    linked = [p for p in PRESETS if p.experiment in known]
    # a4, i1, i2, i3, r1 were registered when the lab was written (a5, a6, a10, r2, b2 later).
    assert len(linked) >= 5
    for p in linked:
        assert p.questions[0] in known[p.experiment].questions, p.id


def test_a_config_the_engine_refuses_leaves_the_session_as_it_was(api, monkeypatch):
    from whynet.errors import ConfigError
    from whynet.web import session as session_module

    sid = new_session(api)
    api.post(f"/api/sessions/{sid}/step", json={"steps": 5})

    def refuse(cfg, data=None):
        raise ConfigError("mlp: refused for the test")

    monkeypatch.setattr(session_module, "build", refuse)
    r = api.put(f"/api/sessions/{sid}/config", json={"dataset": "xor"})
    assert r.status_code == 422 and r.json()["message"] == "mlp: refused for the test"
    st = api.get(f"/api/sessions/{sid}").json()
    assert st["config"]["dataset"] == "circles" and st["step"] == 5


def test_a_refusal_is_in_plain_words_and_names_the_fields_to_mark(api):
    sid = new_session(api)
    r = api.put(f"/api/sessions/{sid}/config", json={"batch_size": 64, "n_points": 100})
    body = r.json()
    assert r.status_code == 422 and not body["message"].startswith("body")
    assert body["message"].startswith("batch_size must be ≤") and body["fields"] == ["batch_size"]
    r = api.put(f"/api/sessions/{sid}/config", json={"lr": -1})
    assert r.json()["fields"] == ["lr"] and r.json()["message"].startswith("lr: ")


def test_changing_the_learning_rate_or_penalty_mid_run_keeps_the_network(api):
    sid = new_session(api, **FAST)
    api.post(f"/api/sessions/{sid}/step", json={"steps": 40})
    before = api.get(f"/api/sessions/{sid}").json()
    changed = {**before["config"], "lr": 0.001, "regularizer": "l2", "reg_rate": 0.01}
    info = api.put(f"/api/sessions/{sid}/config", json=changed).json()
    assert info["step"] == 40 and info["run"] == before["run"]  # same run, same weights
    after = api.get(f"/api/sessions/{sid}").json()
    assert after["network"] == before["network"] and after["config"]["lr"] == 0.001
    live = api.app.state.manager.sessions[sid]
    assert live.lab.trainer.optimizer.lr == 0.001
    assert live.lab.trainer.regularizer is not None and live.lab.trainer.ctx.regularizer is not None
    # Training goes on from there, with the new rate: a step moves the weights ≈ 30× less
    # than the same step at 0.03 would (Adam's step is ≈ lr per weight).
    api.post(f"/api/sessions/{sid}/step", json={"steps": 1})
    W0 = np.array(before["network"][0]["W"])
    W1 = np.array(api.get(f"/api/sessions/{sid}").json()["network"][0]["W"])
    assert 0 < np.abs(W1 - W0).max() < 0.005
    # Any other change rebuilds: a new run from step 0.
    info = api.put(f"/api/sessions/{sid}/config", json={**changed, "seed": 1}).json()
    assert info["step"] == 0 and info["run"] == before["run"] + 1


def test_one_weight_or_bias_set_by_hand_changes_the_boundary(api):
    sid = new_session(api)
    st = api.get(f"/api/sessions/{sid}").json()
    assert [np.shape(layer["W"]) for layer in st["network"]] == [(4, 2), (2, 4), (1, 2)]
    assert [len(layer["b"]) for layer in st["network"]] == [4, 2, 1]
    assert len(st["inputs"]) == 2 and all(len(base64.b64decode(m["map"])) == UNIT_GRID ** 2
                                          for m in st["inputs"])
    r = api.post(f"/api/sessions/{sid}/parameter",
                 json={"layer": 0, "kind": "weight", "unit": 1, "source": 0, "value": 3.5})
    assert r.status_code == 200, r.text
    st2 = api.get(f"/api/sessions/{sid}").json()
    assert st2["network"][0]["W"][1][0] == 3.5
    assert st2["boundary"]["p"] != st["boundary"]["p"]
    api.post(f"/api/sessions/{sid}/parameter",
             json={"layer": 2, "kind": "bias", "unit": 0, "value": -2})
    st3 = api.get(f"/api/sessions/{sid}").json()
    assert st3["network"][2]["b"] == [-2.0] and st3["boundary"]["p"] != st2["boundary"]["p"]
    for bad, says in (({"layer": 3, "unit": 0, "source": 0, "value": 1}, "layer must be 0 to 2"),
                      ({"layer": 0, "unit": 4, "source": 0, "value": 1}, "unit must be 0 to 3"),
                      ({"layer": 0, "unit": 0, "source": 2, "value": 1}, "source must be 0 to 1"),
                      ({"layer": 0, "unit": 0, "value": 1}, "source must be 0 to 1"),
                      ({"layer": 0, "unit": 0, "source": 0, "value": 1e9}, "value: Input should")):
        r = api.post(f"/api/sessions/{sid}/parameter", json=bad)
        assert r.status_code == 422 and says in r.json()["message"], (bad, r.text)


def test_unbounded_unit_maps_are_scaled_by_a_percentile_and_report_their_range():
    lab = LabSession(LabConfig(layers=[{"units": 3, "activation": "relu"}]))
    for u in lab.state()["units"][0]:
        q = np.frombuffer(base64.b64decode(u["map"]), dtype=np.uint8)
        assert u["min"] >= 0 and u["max"] >= u["scale"] >= 0
        if u["scale"] > 0:
            # ≈ 2 % of the picture is at full colour, not just the single largest corner.
            assert 0.005 < np.mean(q == 255) < 0.1


def test_the_websocket_streams_states_and_closing_it_ends_the_session(api):
    sid = new_session(api)
    with api.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        first = json.loads(ws.receive_text())
        assert first["session"] == sid and first["history"]["full"] and first["points"]
        api.post(f"/api/sessions/{sid}/step", json={"steps": 5})
        st = json.loads(ws.receive_text())
        assert st["step"] == 5 and not st["history"]["full"] and st["points"] is None
    end = time.monotonic() + 5
    while api.get(f"/api/sessions/{sid}").status_code != 404:
        assert time.monotonic() < end, "the session outlived its WebSocket"


def test_a_websocket_from_another_origin_or_for_no_session_is_refused(api):
    from starlette.websockets import WebSocketDisconnect

    sid = new_session(api)
    with pytest.raises(WebSocketDisconnect) as e:
        with api.websocket_connect(f"/api/sessions/{sid}/ws",
                                   headers={"origin": "http://evil.example"}) as ws:
            ws.receive_text()
    assert e.value.code == 1008
    with api.websocket_connect("/api/sessions/" + "x" * 20 + "/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_text()
    assert e.value.code == 4404
    assert api.get(f"/api/sessions/{sid}").status_code == 200  # the refused one kept its session


def test_playground_sets_have_their_shapes_and_noise_blurs_their_targets():
    from whynet.datasets import disc, multigauss, plane

    d = disc(400, 0.0, seed=0)
    r = np.hypot(d.X[:, 0], d.X[:, 1])
    assert (r[d.y == 1] <= 2.5).all() and (r[d.y == 0] >= 3.5).all() and d.y.mean() == 0.5
    p = plane(400, 0.0, seed=0)
    assert np.allclose(p.y, np.clip((p.X[:, 0] + p.X[:, 1]) / 10, -1, 1), atol=1e-6)
    m = multigauss(400, 0.0, seed=0)
    assert m.n_classes == 0 and -1 <= m.y.min() < -0.5 and 0.5 < m.y.max() <= 1
    # Noise moves the point a target is taken at: the targets stop being a function of X.
    noisy = plane(400, 0.5, seed=0)
    assert np.abs(noisy.y - np.clip((noisy.X[:, 0] + noisy.X[:, 1]) / 10, -1, 1)).max() > 0.1


def test_regression_on_the_plane_learns_with_squared_error(api):
    sid = new_session(api, dataset="plane", optimizer="adam", lr=0.01)
    st = api.get(f"/api/sessions/{sid}").json()
    assert st["problem"] == "regression" and st["metrics"]["test_acc"] is None
    assert all(isinstance(v, float) for v in st["points"]["train"]["y"])
    loss0 = st["metrics"]["test_loss"]
    api.post(f"/api/sessions/{sid}/step", json={"steps": 600})
    loss1 = api.get(f"/api/sessions/{sid}").json()["metrics"]["test_loss"]
    assert loss1 < 0.1 * loss0, (loss0, loss1)
    live = api.app.state.manager.sessions[sid]
    assert type(live.lab.loss_fn).__name__ == "MSE"


def test_standardised_inputs_have_mean_0_and_std_1_on_the_training_set():
    lab = LabSession(LabConfig(dataset="blobs", features=["x1", "x2", "x1sq"], standardize=True))
    assert np.allclose(lab.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(lab.X_train.std(axis=0), 1, atol=1e-4)
    raw = LabSession(LabConfig(dataset="blobs", features=["x1", "x2", "x1sq"]))
    assert raw.X_train[:, 2].mean() > 1  # x1² of blobs is far from mean 0 without it
    # The test set and the picture get the training set's shift and scale, not their own.
    scaler = lab.inputs.scaler
    assert np.allclose(lab.X_test, (raw.X_test - scaler.mean_) / scaler.std_, atol=1e-5)


def test_back_to_the_lab_from_the_missing_report_page_keeps_the_lab_state(api):
    r = api.get("/report", params={"back": "dataset=spiral&layers=8%3Arelu&lr=0.1"})
    assert r.status_code == 404
    assert 'href="/?dataset=spiral&amp;layers=8%3Arelu&amp;lr=0.1"' in r.text
    # Anything that is not a query string is dropped, never echoed into the page.
    r = api.get("/report", params={"back": '"><script>alert(1)</script>'})
    assert 'href="/"' in r.text and "<script>" not in r.text


def test_the_report_in_the_working_directory_is_served_by_default(tmp_path, monkeypatch):
    from whynet.web.server import default_report

    monkeypatch.chdir(tmp_path)
    assert default_report() is None
    (tmp_path / "report.html").write_text("<html>report</html>")
    assert default_report().name == "report.html"


# Four tanh layers from N(0, 0.01²) at a learning rate of 10: three findings in 300 steps (the
# loss rises, outputs saturate, gradients vanished from step 0).
THREE_FINDINGS = {"layers": [{"units": 8, "activation": "tanh"}] * 4, "init": "small", "lr": 10.0}


def test_a_lesson_is_ranked_first_among_the_findings():
    lab = LabSession(LabConfig(**THREE_FINDINGS))
    lab.train(300)
    plain = [f["rule"] for f in lab.findings]
    assert len(plain) >= 2 and plain == sorted(plain, key=RULES.index), plain
    assert plain[0] != "vanishing_gradient"
    lab.lesson = "vanishing_gradient"  # the small-init-tanh preset's lesson
    first, *rest = [f["rule"] for f in lab.findings]
    assert first == "vanishing_gradient" and rest == sorted(rest, key=RULES.index)
    assert {p.lesson for p in PRESETS} - {None} <= set(RULES)


def test_the_view_switches_language_and_lesson_and_the_run_goes_on(api):
    r = api.post("/api/sessions", json=THREE_FINDINGS, headers={"Accept-Language": "ko-KR,ko"})
    sid = r.json()["id"]
    assert r.json()["lang"] == "ko"
    api.post(f"/api/sessions/{sid}/step", json={"steps": 300})
    before = api.get(f"/api/sessions/{sid}").json()
    assert before["lang"] == "ko" and before["findings"]
    assert all(HANGUL.search(f["text"]) for f in before["findings"])
    assert before["layers"][0]["name"] == "은닉층 1"
    r = api.put(f"/api/sessions/{sid}/view", json={"lang": "en", "preset": "small-init-tanh"})
    assert r.status_code == 200 and r.json()["lesson"] == "vanishing_gradient"
    after = api.get(f"/api/sessions/{sid}").json()
    # The same run at the same step: only the words and the order changed.
    assert (after["run"], after["step"], after["boundary"]) == \
        (before["run"], before["step"], before["boundary"])
    assert after["findings"][0]["rule"] == "vanishing_gradient"
    assert not any(HANGUL.search(f["text"]) for f in after["findings"])
    assert after["layers"][0]["name"] == "hidden 1"
    assert sorted(f["rule"] for f in after["findings"]) == \
        sorted(f["rule"] for f in before["findings"])
    r = api.put(f"/api/sessions/{sid}/view", json={"lang": "fr"})
    assert r.status_code == 422 and r.json()["fields"] == ["lang"]


def test_refusals_and_the_page_speak_the_language_asked_for(api):
    ko = {"Accept-Language": "ko"}
    r = api.post("/api/sessions", json={"lr": -1, "batch_size": 500}, headers=ko)
    assert r.status_code == 422
    assert "lr: 0보다 커야 합니다, 받은 값: -1" in r.json()["message"]
    r = api.post("/api/sessions", json={"batch_size": 250}, headers=ko)
    assert r.json()["message"].startswith("batch_size는 훈련 데이터 수 이하여야 합니다")
    assert r.json()["fields"] == ["batch_size"]
    # A closed set's choices: pydantic's English "or" does not survive into the Korean sentence.
    r = api.post("/api/sessions", json={"dataset": "swirl", "optimizer": "adamw"}, headers=ko)
    said = r.json()["message"]
    assert "dataset: 'circles', 'xor', " in said and "'multigauss' 중 하나여야 합니다" in said
    assert "optimizer: 'sgd', " in said and " or " not in said and "받은 값: 'swirl'" in said
    assert "실습 세션" in api.get("/api/sessions/" + "A" * 24, headers=ko).json()["message"]
    page = api.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert '<html lang="ko">' in page.text and "▶ 재생" in page.text
    assert page.headers["content-language"] == "ko"
    assert '<html lang="en">' in api.get("/?lang=en", headers=ko).text  # ?lang= wins
    messages = api.get("/api/messages?lang=ko").json()
    assert messages["lang"] == "ko" and messages["messages"]["▶ Play"] == "▶ 재생"
    assert api.get("/api/messages", headers={"Accept-Language": "en"}).json()["messages"] == {}
    pseudo = api.get("/api/messages?lang=qps").json()["messages"]
    assert pseudo["▶ Play"] == "⟦▶ Play⟧"
    with_ko = {p["id"]: p for p in api.get("/api/presets", headers=ko).json()}
    assert with_ko["dead-relu"]["title"] == "죽은 ReLU 유닛"
    # English keeps pydantic's own words.
    r = api.post("/api/sessions", json={"lr": -1})
    assert r.json()["message"] == "lr: Input should be greater than 0, got -1"


def test_a_session_asked_for_in_the_pseudo_locale_speaks_it_from_the_start(api):
    """The page sends its language as Accept-Language; for the pseudo-locale too, so the first
    state of a new session already wraps its findings in ⟦…⟧ (tests/test_web_browser_i18n.py
    caught English findings in the moment before the page's view request)."""
    r = api.post("/api/sessions", json=THREE_FINDINGS, headers={"Accept-Language": "qps"})
    sid = r.json()["id"]
    assert r.json()["lang"] == "qps"
    api.post(f"/api/sessions/{sid}/step", json={"steps": 300})
    state = api.get(f"/api/sessions/{sid}", headers={"Accept-Language": "qps"}).json()
    assert state["findings"] and all(f["text"].startswith("⟦") for f in state["findings"])
    plain = api.post("/api/sessions", json=THREE_FINDINGS, headers={"Accept-Language": "qps-x"})
    assert plain.json()["lang"] == "en"  # only the exact code: no negotiation into it
