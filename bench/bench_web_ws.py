"""Training speed of the lab's default network while its state streams to a tab over the
WebSocket, as the page uses it: ``python bench/bench_web_ws.py [seconds]`` (bench_web.py measures the event stream in a separate server process).

Prints the steps a second the session achieved (the server's own ``rate``, and steps counted
over the whole run) at the page's default speed (one epoch per animation frame) and at "max".
"""

import json
import sys
import time

from websockets.sync.client import connect

sys.path.insert(0, "tests")
from test_web_stream import create, post, running_server  # noqa: E402


def measure(base: str, speed: int, seconds: float) -> tuple[float, float]:
    sid = create(base)
    with connect(base.replace("http", "ws") + f"/api/sessions/{sid}/ws") as ws:
        json.loads(ws.recv(timeout=10))
        post(base, sid, "play", {"speed": speed})
        t0, s0, rate = time.monotonic(), None, None
        while time.monotonic() - t0 < seconds:
            st = json.loads(ws.recv(timeout=10))
            if s0 is None:
                t_start, s0 = time.monotonic(), st["step"]
            step, rate = st["step"], st["rate"] or rate
        counted = (step - s0) / (time.monotonic() - t_start)
        post(base, sid, "pause")
    return rate, counted


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    with running_server() as base:
        # The default data set: 400 points, half for training, batches of 10 → 20 steps an
        # epoch; one epoch per frame at 60 frames a second is 1,200 steps a second.
        for name, speed in (("1 epoch / frame", 1200), ("max", 0)):
            rate, counted = measure(base, speed, seconds)
            print(f"{name:>16}: server rate {rate:,.0f} steps/s, counted {counted:,.0f} steps/s")
