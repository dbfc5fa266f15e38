"""Training speed of the web lab while it streams: steps a second of the default 2-D network.

The lab runs as ``whynet serve`` would (uvicorn in its own process, so the client here does not
share its interpreter), a client creates sessions, opens their event streams as a tab does,
presses play at full speed, and reads the stream for ``--seconds``. Steps a second come from the
step counter in the streamed states; updates a second from the number of states received.

Cases: ``default`` (the page's default network: circles, 2 → 4 → 2 → 1 tanh, SGD, batch 10)
with one tab, the same network in two tabs at once (``two_tabs``, per tab), and the largest
network and batch the limits allow (``largest``: 6 × 16 ReLU units, batch 256, 2,000 points).
Prints one JSON line per case. The issue asks for ≥ 200 steps a second while streaming.

Usage: ``python bench/bench_web.py [--seconds 5]``
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time

import httpx

# The largest network and batch the lab's limits allow: 2,000 points, 6 × 16 units, batch 256.
LARGEST = {"n_points": 2000, "layers": [{"units": 16, "activation": "relu"}] * 6,
           "batch_size": 256, "optimizer": "adam", "lr": 0.003}
CASES = (("default", 1, {}), ("two_tabs", 2, {}), ("largest", 1, LARGEST))

SERVER = ("import sys; from whynet.web.server import serve; "
          "serve('127.0.0.1', int(sys.argv[1]), False)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_stream(base: str, sid: str, seconds: float, out: dict) -> None:
    """Read ``sid``'s stream: press play after the first state, then count for ``seconds``."""
    states, t0, step0 = 0, None, None
    with httpx.stream("GET", f"{base}/api/sessions/{sid}/stream", timeout=30) as r:
        for line in r.iter_lines():
            if not line.startswith("data:"):
                continue
            st = json.loads(line[5:])
            if t0 is None:
                if not st["playing"]:
                    httpx.post(f"{base}/api/sessions/{sid}/play", json={"speed": 0})
                    continue
                t0, step0 = time.perf_counter(), st["step"]
                continue
            states += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                out.update(steps_per_s=(st["step"] - step0) / elapsed,
                           updates_per_s=states / elapsed, seconds=elapsed)
                return


def run_case(base: str, tabs: int, seconds: float, config: dict) -> dict:
    sids = [httpx.post(f"{base}/api/sessions", json=config, timeout=30).json()["id"]
            for _ in range(tabs)]
    results = [{} for _ in sids]
    threads = [threading.Thread(target=read_stream, args=(base, sid, seconds, res))
               for sid, res in zip(sids, results)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"steps_per_s": round(min(r["steps_per_s"] for r in results)),
            "updates_per_s": round(min(r["updates_per_s"] for r in results), 1),
            "seconds": round(max(r["seconds"] for r in results), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)],
                              stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/api/health")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the lab server did not start")
                time.sleep(0.1)
        for name, tabs, config in CASES:
            row = run_case(base, tabs, args.seconds, config)
            print(json.dumps({"bench": "web", "case": name, "tabs": tabs, **row,
                              "target_steps_per_s": 200,
                              "meets_target": row["steps_per_s"] >= 200}), flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
