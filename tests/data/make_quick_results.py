"""Regenerate ``quick_results.json.gz``: the stored results of every experiment's quick grid
(seeds 0 and 1, numbers rounded to 5 significant digits), which tests/test_experiments_i18n.py
turns into verdicts and figures in seconds instead of training for minutes.

    WHYNET_STORE=/tmp/quick.sqlite whynet run all --quick
    WHYNET_STORE=/tmp/quick.sqlite python tests/data/make_quick_results.py

Rerun it when an experiment's ``run`` changes what it returns.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

from whynet.experiments import registry
from whynet.runner import collect
from whynet.store import Store, to_jsonable

OUT = Path(__file__).with_name("quick_results.json.gz")
SEEDS = (0, 1)


def _round(value):
    """Floats to 5 significant digits (the file stays small); containers recursively."""
    if isinstance(value, float):
        return value if value == 0 or not math.isfinite(value) else float(f"{value:.5g}")
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def main() -> None:
    store = Store()
    out = {e.id: [{"spec": r.spec, "seed": r.seed, "result": _round(to_jsonable(r.result))}
                  for r in collect(e, store, True) if r.seed in SEEDS]
           for e in registry.all_experiments()}
    missing = [k for k, v in out.items() if not v]
    if missing:
        raise SystemExit(f"no quick results stored for {', '.join(missing)}: run "
                         f"`whynet run all --quick` first")
    OUT.write_bytes(gzip.compress(json.dumps(out, separators=(",", ":")).encode(), 9, mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
