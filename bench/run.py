"""Run every ``bench/bench_*.py`` and print their JSON lines (``make bench``).

Each benchmark runs in its own process (so thread settings and imports do not leak from one to
the next) with the arguments given here passed on, e.g. ``python bench/run.py --threads 2``.
A benchmark that fails prints one JSON line with its name and the error, and the others go on;
the exit status is 1 if any failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        proc = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            if line.strip():
                print(line, flush=True)
        if proc.returncode != 0:
            failed += 1
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            print(json.dumps({"name": script.stem, "error": tail, "returncode": proc.returncode}),
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
