"""The cost of a question before it runs: one timed epoch of its most expensive run × the runs.

:func:`seconds_per_run` trains the spec with the most epochs × hidden units × examples for one and
for two epochs (seed 0, probe included when the question measures probe quantities; nothing is
stored); ``whynet ask`` multiplies it by the runs not yet stored: an estimate of CPU time that errs
on the long side, since every run is charged as much as the largest.
"""

from __future__ import annotations

import time

from ..config import RunConfig
from .experiment import measure

DEFAULT_BUDGET = 600.0  # seconds of CPU time; `whynet ask --yes` goes past it


def _size(spec: dict) -> float:
    cfg = RunConfig.from_dict(spec["run"])
    return cfg.epochs * (1 + sum(cfg.hidden)) * (cfg.examples or cfg.n or 1000)


def seconds_per_run(experiment, quick: bool) -> float:
    """CPU seconds of the grid's largest spec: a fixed part (data, model) plus one epoch's time
    (the difference of a 2-epoch and a 1-epoch run) times its epochs."""
    spec = max(experiment.grid(quick), key=_size)
    m = spec["measure"]

    def timed(epochs: int) -> float:
        t0 = time.process_time()
        measure({**spec["run"], "epochs": epochs}, 0, m["metrics"], m["target"],
                experiment.q.needs_probe())
        return time.process_time() - t0

    timed(1)  # the first run pays for lazy imports: not part of any run's cost
    one, two = timed(1), timed(2)
    per_epoch = max(two - one, 0.0)
    return max(one - per_epoch, 0.0) + per_epoch * RunConfig.from_dict(spec["run"]).epochs
