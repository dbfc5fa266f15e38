"""What the experiments' networks cost: training steps of tiny models, where per-call overhead
rather than matrix products sets the time.

The experiments train small MLPs and a small 1-D CNN on one BLAS thread each (the runner's
setting); their steps take 0.1–1 ms, so a microsecond per NumPy call shows. Each case trains on
one fixed random batch, through :meth:`whynet.train.Trainer.train_step`, after a warm-up; the
figure is the fastest of ``--rounds`` blocks of ``--repeat`` steps (other processes only ever
add time). One JSON line per case::

    {"name": "tiny_step", "case", "optimiser", "us_per_step"}

Cases: moons 2-16-16-2 (batch 32), digits 64-64-64-10 (64), MNIST-1D 40-256-256-10 (128), each
with SGD-momentum and with Adam; and C1's CNN (Conv1d 1→16 k5, ReLU, MaxPool 2, Conv1d 16→16
k3, ReLU, MaxPool 2, Dense; batch 100 of length 40) with Adam.

To compare two versions, run this against each source tree in turn, several times, and keep
each side's fastest: ``for src in OLD/src NEW/src OLD/src NEW/src; do PYTHONPATH=$src python
bench/bench_tiny.py; done``.

Usage: ``python bench/bench_tiny.py [--repeat 300] [--rounds 7] [--case NAME ...]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from whynet.nn import (Conv1d, Dense, Flatten, MaxPool1d, ReLU, Sequential, SoftmaxCrossEntropy,
                       mlp)
from whynet.optim import SGD, Adam
from whynet.train import Trainer

MLPS = {"moons": ([2, 16, 16, 2], 32), "digits": ([64, 64, 64, 10], 64),
        "mnist1d": ([40, 256, 256, 10], 128)}
OPTIMISERS = {"sgd_momentum": lambda p: SGD(p, lr=0.01, momentum=0.9),
              "adam": lambda p: Adam(p, lr=1e-3)}


def c1_cnn() -> Sequential:
    return Sequential(Conv1d(1, 16, 5, padding=2, rng=1), ReLU(), MaxPool1d(2),
                      Conv1d(16, 16, 3, padding=1, rng=2), ReLU(), MaxPool1d(2), Flatten(),
                      Dense(16 * 10, 10, rng=3))


def us_per_step(model, optimiser: str, x: np.ndarray, y: np.ndarray, repeat: int,
                rounds: int) -> float:
    trainer = Trainer(model, SoftmaxCrossEntropy(), OPTIMISERS[optimiser](model.parameters()))
    for _ in range(max(10, repeat // 10)):
        trainer.train_step(x, y)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeat):
            trainer.train_step(x, y)
        best = min(best, (time.perf_counter() - t0) / repeat)
    return 1e6 * best


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--case", nargs="*", choices=[*MLPS, "c1_cnn"], default=[*MLPS, "c1_cnn"],
                    help="some cases only (alone, C1's CNN shows the page faults a fresh "
                         "process gets)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    cases = []
    for name, (sizes, batch) in MLPS.items():
        x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], size=batch)
        for opt in OPTIMISERS:
            cases.append((name, opt, lambda s=sizes: mlp(s, activation="relu", seed=0), x, y))
    x = rng.normal(size=(100, 1, 40)).astype(np.float32)
    cases.append(("c1_cnn", "adam", c1_cnn, x, rng.integers(0, 10, size=100)))
    with threadpool_limits(limits=1):
        for name, opt, make, x, y in cases:
            if name not in args.case:
                continue
            us = us_per_step(make(), opt, x, y, args.repeat, args.rounds)
            print(json.dumps({"name": "tiny_step", "case": name, "optimiser": opt,
                              "us_per_step": round(us, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
