"""What the experiment suite costs: ``whynet run all --quick`` and the full grids, wall and CPU.

Each grid runs in a fresh process on a fresh temporary store (nothing is read back from an
earlier run), with the runner's defaults (one worker per core, each on one BLAS thread). One
JSON line per grid::

    {"name": "suite_quick" | "suite_full", "runs", "failed", "wall_s", "cpu_s", "cpu_per_run_ms"}

``cpu_s`` is the user + system CPU time of the process and its workers: on a machine shared
with other work it moves less than the wall clock does. The full grids take several minutes on
2 cores.

Usage: ``python bench/bench_suite.py [--grids quick full] [--experiments all|ID]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_grid(grid: str, experiments: str = "all") -> dict:
    """Run the ``grid`` ("quick" or "full") of ``experiments`` ("all" or an ID) into a fresh
    store; its figures."""
    from whynet.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "runs.sqlite"
        cmd = [sys.executable, "-m", "whynet", "run", experiments, "--store", str(store)]
        if grid == "quick":
            cmd.append("--quick")
        env = {**os.environ, "WHYNET_LANG": "en"}
        cpu0, t0 = _children_cpu_s(), time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall, cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            return {"name": f"suite_{grid}", "error": tail, "returncode": proc.returncode}
        with Store(store, read_only=True) as s:
            rows = s.rows()
    failed = sum(r["status"] != "ok" for r in rows)
    return {"name": f"suite_{grid}", "runs": len(rows), "failed": failed,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "cpu_per_run_ms": round(1e3 * cpu / max(len(rows), 1), 1)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", nargs="*", choices=["quick", "full"], default=["quick", "full"])
    ap.add_argument("--experiments", default="all", help="an experiment ID instead of all")
    args = ap.parse_args(argv)
    bad = 0
    for grid in args.grids:
        row = time_grid(grid, args.experiments)
        bad += "error" in row
        print(json.dumps(row), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
