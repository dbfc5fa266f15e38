"""The same training jobs in two engines: run seconds of the jobs two results stores share.

Two versions' full grids differ (grids grow, experiments change), so their wall times do not
compare. The jobs they share do: the same experiment, spec and seed, giving the same result,
did the same work. For each such job this takes its fastest run seconds among the ``OLD``
stores and among the ``NEW`` stores (several of each: runs interleaved in time, so that a
busy machine slows both alike), and sums them per experiment and in all.

"The same result" compares the results without their timing fields (any key containing
``ms``, ``us_``, ``second``, ``time``, ``speed`` or ``cost``, at any depth): those differ
between any two runs. The stores are read as plain SQLite (the ``runs`` table's experiment,
spec, seed, result and seconds columns), so an older version's store reads too.

One JSON line in all, then one per experiment, largest first::

    {"name": "same_work", "jobs_in_both", "same_results", "old_s", "new_s", "ratio"}
    {"experiment", "jobs", "old_s", "new_s", "ratio"}

Usage: ``python bench/compare_stores.py OLD.sqlite[,OLD2.sqlite…] NEW.sqlite[,NEW2.sqlite…]``
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import defaultdict

TIMING = ("ms", "us_", "second", "time", "speed", "cost")


def load(path: str) -> dict[tuple, tuple]:
    """``{(experiment, spec, seed): (result, seconds)}`` of the ok runs of one store."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT experiment, spec, seed, result, seconds FROM runs "
                           "WHERE status = 'ok'").fetchall()
    finally:
        con.close()
    return {(e, spec, seed): (json.loads(res) if res else None, sec)
            for e, spec, seed, res, sec in rows}


def without_timing(value):
    """``value`` with every dict key that names a timing removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items()
                if not any(t in k for t in TIMING)}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def compare(old: list[dict], new: list[dict]) -> list[dict]:
    """The lines described in the module docstring, from the loaded OLD and NEW stores."""
    both = set.intersection(*(set(s) for s in old + new))
    same = [k for k in both if without_timing(old[0][k][0]) == without_timing(new[0][k][0])]
    per: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for k in same:
        row = per[k[0]]
        row[0] += 1
        row[1] += min(s[k][1] or 0.0 for s in old)
        row[2] += min(s[k][1] or 0.0 for s in new)
    old_s, new_s = sum(r[1] for r in per.values()), sum(r[2] for r in per.values())
    lines = [{"name": "same_work", "jobs_in_both": len(both), "same_results": len(same),
              "old_s": round(old_s, 1), "new_s": round(new_s, 1),
              "ratio": round(new_s / old_s, 3) if old_s else None}]
    for e, (n, a, b) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        lines.append({"experiment": e, "jobs": n, "old_s": round(a, 2), "new_s": round(b, 2),
                      "ratio": round(b / a, 3) if a else None})
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    old, new = ([load(p) for p in arg.split(",")] for arg in argv)
    for line in compare(old, new):
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
