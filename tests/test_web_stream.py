"""The lab over a real socket: uvicorn in a thread, server-sent events read with httpx.

A stream is what a tab holds open; these tests check that it delivers updates while training,
that two sessions train at once without mixing, and that closing a stream ends its session.
"""

import contextlib
import json
import queue
import threading
import time

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

from whynet.web.schema import Limits  # noqa: E402
from whynet.web.server import create_app  # noqa: E402


@contextlib.contextmanager
def running_server(**limits):
    """The lab on 127.0.0.1 at a free port, in a background thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(Limits(**limits)), host="127.0.0.1",
                                           port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the lab server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def base_url():
    with running_server() as url:
        yield url


class Stream:
    """Reads a session's event stream in a thread; ``states`` receives each decoded state."""

    def __init__(self, base_url: str, sid: str):
        self.states: queue.Queue = queue.Queue()
        self.status: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(base_url, sid), daemon=True)
        self._thread.start()

    def _read(self, base_url, sid):
        with httpx.stream("GET", f"{base_url}/api/sessions/{sid}/stream", timeout=30) as r:
            self.status = r.status_code
            if r.status_code != 200:
                self.states.put(None)
                return
            for line in r.iter_lines():
                if self._stop.is_set():
                    return  # leaving the with-block closes the connection, as a closed tab does
                if line.startswith("data:"):
                    self.states.put(json.loads(line[5:]))

    def next(self, timeout=10.0) -> dict:
        return self.states.get(timeout=timeout)

    def until(self, predicate, timeout=20.0) -> dict:
        end = time.monotonic() + timeout
        while True:
            st = self.next(max(0.1, end - time.monotonic()))
            if predicate(st):
                return st
            if time.monotonic() > end:
                raise AssertionError("the stream never reached the expected state")

    def close(self):
        self._stop.set()
        self._thread.join(10)


def create(base_url, **config) -> str:
    r = httpx.post(f"{base_url}/api/sessions", json=config, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def post(base_url, sid, action, body=None):
    r = httpx.post(f"{base_url}/api/sessions/{sid}/{action}", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_stream_sends_updates_while_training_and_rows_only_once(base_url):
    sid = create(base_url, optimizer="adam", lr=0.03)
    stream = Stream(base_url, sid)
    try:
        first = stream.next()
        assert first["step"] == 0 and first["history"]["full"] and first["points"] is not None
        post(base_url, sid, "play", {"speed": 0})
        t0 = time.monotonic()
        states = [stream.until(lambda s: s["step"] > 0)]
        while time.monotonic() - t0 < 2.0:
            states.append(stream.next())
        # A frame is 0.1 s: about ten updates a second; at least a few in two seconds even on
        # a busy machine.
        assert len(states) >= 5
        steps = [s["step"] for s in states]
        assert steps == sorted(steps) and steps[-1] > steps[0]
        # After the first state, only new history rows and no points are sent.
        for s in states:
            assert not s["history"]["full"] and s["points"] is None
            assert s["history"]["rows"] and s["history"]["rows"][-1][0] == s["step"]
        assert states[-1]["metrics"]["test_loss"] < first["metrics"]["test_loss"]
        paused = post(base_url, sid, "pause")
        assert paused["playing"] is False
        time.sleep(0.3)
        # Pause takes effect between two frames: no step after it.
        assert httpx.get(f"{base_url}/api/sessions/{sid}").json()["step"] == paused["step"]
    finally:
        stream.close()


def test_a_capped_speed_is_not_exceeded(base_url):
    sid = create(base_url)
    stream = Stream(base_url, sid)
    try:
        stream.next()
        t0 = time.monotonic()
        post(base_url, sid, "play", {"speed": 50})
        time.sleep(1.0)
        step = post(base_url, sid, "pause")["step"]
        # 50 steps a second, given in frames of 0.1 s: never more than the credit so far.
        assert 0 < step <= 50 * (time.monotonic() - t0) + 5
    finally:
        stream.close()


def test_two_sessions_train_different_networks_at_once_and_closing_a_stream_ends_one(base_url):
    a = create(base_url, dataset="spiral", layers=[{"units": 8, "activation": "relu"}] * 3)
    b = create(base_url, dataset="xor", layers=[{"units": 5, "activation": "tanh"}])
    sa, sb = Stream(base_url, a), Stream(base_url, b)
    try:
        sa.next(), sb.next()
        post(base_url, a, "play", {"speed": 0})
        post(base_url, b, "play", {"speed": 0})
        st_a = sa.until(lambda s: s["step"] > 100)
        st_b = sb.until(lambda s: s["step"] > 100)
        assert st_a["session"] == a and st_b["session"] == b
        assert st_a["config"]["dataset"] == "spiral" and st_b["config"]["dataset"] == "xor"
        assert [len(u) for u in st_a["units"]] == [8, 8, 8]
        assert [len(u) for u in st_b["units"]] == [5]
        # Closing A's stream (its tab) ends session A; B keeps training.
        sa.close()
        assert ended(base_url, a), "the session outlived its stream"
        before = sb.next()["step"]
        assert sb.until(lambda s: s["step"] > before)["playing"] is True
    finally:
        sa.close()
        sb.close()
    # The session ends when the server notices the closed connection, a moment later: wait for
    # that condition (it used to be asserted at once, a race).
    assert ended(base_url, b), "the session outlived its stream"


def ended(base_url: str, sid: str, timeout: float = 10.0) -> bool:
    """Whether the session is gone (404) within ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while httpx.get(f"{base_url}/api/sessions/{sid}").status_code != 404:
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_a_second_stream_for_one_session_is_refused(base_url):
    sid = create(base_url)
    first = Stream(base_url, sid)
    try:
        first.next()
        second = Stream(base_url, sid)
        assert second.next() is None and second.status == 409
        r = httpx.get(f"{base_url}/api/sessions/{sid}/stream")
        assert r.status_code == 409 and "already has a stream" in r.json()["message"]
    finally:
        first.close()


def test_a_stream_for_an_unknown_session_is_a_404(base_url):
    r = httpx.get(f"{base_url}/api/sessions/{'x' * 24}/stream")
    assert r.status_code == 404 and "no lab session" in r.json()["message"]


def test_whynet_serve_starts_the_lab_on_loopback(tmp_path):
    """The command line's entry point: `whynet serve --no-open --port P` serves the page."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "whynet.cli", "serve", "--no-open",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "whynet serve did not start"
                time.sleep(0.1)
        assert r.status_code == 200 and "whynet lab" in r.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in out.decode()


def _serve(*args, cwd):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "whynet.cli", "serve", "--no-open", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def test_ctrl_c_while_streaming_stops_the_server_at_once_and_cleanly(tmp_path):
    """SIGINT with a training session, a server-sent event stream and a WebSocket open: the
    process exits within 2 s, with status 0, no traceback, and both streams ended."""
    import signal

    websockets_sync = pytest.importorskip("websockets.sync.client")
    proc = _serve("--port", "0", cwd=tmp_path)
    try:
        line = proc.stdout.readline()  # printed only once the socket is bound
        assert line.startswith("whynet lab: http://127.0.0.1:"), line
        base = line.split()[2].rstrip("/")
        a, b = create(base), create(base)
        sse = Stream(base, a)
        ws = websockets_sync.connect(base.replace("http", "ws") + f"/api/sessions/{b}/ws")
        sse.next()
        json.loads(ws.recv(timeout=10))
        post(base, a, "play", {"speed": 0})
        post(base, b, "play", {"speed": 0})
        sse.until(lambda s: s["step"] > 50)
        while json.loads(ws.recv(timeout=10))["step"] <= 50:
            pass
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
        took = time.monotonic() - t0
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert rc == 0 and took < 2.0, (rc, took, err)
    assert "Traceback" not in err and "CancelledError" not in err, err
    sse._thread.join(5)
    assert not sse._thread.is_alive(), "the event stream did not end"
    with pytest.raises(Exception):  # the WebSocket was closed by the server
        while True:
            ws.recv(timeout=5)


def test_no_url_is_printed_when_the_port_is_taken(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        proc = _serve("--port", str(s.getsockname()[1]), cwd=tmp_path)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "http://" not in out, (out, err)
    assert "address already in use" in err.lower() or "errno" in err.lower(), err


def test_a_long_step_request_does_not_freeze_other_requests(base_url):
    """A thousand steps of the largest network run in a worker thread: meanwhile the server
    answers other requests at once (before, the event loop was blocked for the whole request)."""
    big = create(base_url, n_points=2000, batch_size=256, optimizer="adam", lr=0.003,
                 layers=[{"units": 16, "activation": "relu"}] * 6)
    result = {}

    def step():
        t0 = time.monotonic()
        result["info"] = post(base_url, big, "step", {"steps": 1000})
        result["took"] = time.monotonic() - t0

    worker = threading.Thread(target=step)
    worker.start()
    latencies = []
    try:
        time.sleep(0.2)
        while worker.is_alive() and len(latencies) < 20:
            t0 = time.monotonic()
            assert httpx.get(f"{base_url}/api/health", timeout=30).status_code == 200
            latencies.append(time.monotonic() - t0)
            time.sleep(0.05)
    finally:
        worker.join(120)
        httpx.delete(f"{base_url}/api/sessions/{big}")
    assert result["info"]["step"] == 1000
    # At least a few requests were answered while the step ran, each far faster than it.
    assert len(latencies) >= 3, (latencies, result["took"])
    assert max(latencies) < 0.25 * result["took"], (latencies, result["took"])
