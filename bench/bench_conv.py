"""Convolution speed: whynet against PyTorch on the CPU, in the same process and thread budget.

Cases (float32):

* ``conv2d_fwd_bwd``: forward + backward of ``Conv2d(16 → 32, 3×3, padding 1)`` on (64, 16, 28, 28);
* ``small_cnn_step``: one SGD training step (``Trainer.train_step``: forward, softmax
  cross-entropy, backward, update; ``optimizer.step()`` in PyTorch) of
  Conv(1→8, 3×3, p1)–BN–ReLU–MaxPool(2)–Conv(8→16, 3×3, p1)–BN–ReLU–MaxPool(2)–Flatten–Dense(784→10)
  on a (64, 1, 28, 28) batch.

Both libraries get the same threads: ``torch.set_num_threads(n)`` and threadpoolctl limiting
NumPy's BLAS to n (default 2); whynet's convolutions share their batch chunks among as many
Python threads as that limit allows. Each case prints one JSON line: name, whynet_ms, torch_ms, ratio
(medians over 3 alternating blocks of ``--repeat`` timed runs each, after a warm-up run), and the
same for the fastest run (``*_min_ms``, ``min_ratio``), which is steadier on a shared machine.

Usage: ``python bench/bench_conv.py [--threads 2] [--repeat 10]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from whynet.nn import (BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential,
                       SoftmaxCrossEntropy)
from whynet.optim import SGD
from whynet.train import Trainer


def _time_pair(ours, theirs, repeat: int, rounds: int = 3):
    """Median and minimum milliseconds per run of each, timed in alternating blocks of
    ``repeat`` runs: ``(median_ours, median_theirs), (min_ours, min_theirs)``.

    Blocks, not single runs, alternate: both libraries keep their worker threads spinning for a
    while after each parallel operation, so interleaving single runs would make each one fight
    the other's idle threads for the two cores. A pause between blocks lets them go to sleep.
    """
    times = ([], [])
    for _ in range(rounds):
        for fn, out in zip((ours, theirs), times):
            time.sleep(0.3)
            fn()  # warm-up: caches, allocator, thread pool
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
    return tuple(1000 * float(np.median(t)) for t in times), \
        tuple(1000 * float(np.min(t)) for t in times)


def _result(name: str, median: tuple[float, float], best: tuple[float, float]) -> dict:
    return {"name": name, "whynet_ms": median[0], "torch_ms": median[1],
            "ratio": median[0] / median[1], "whynet_min_ms": best[0], "torch_min_ms": best[1],
            "min_ratio": best[0] / best[1]}


def bench_conv2d(repeat: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 16, 28, 28)).astype(np.float32)
    conv = Conv2d(16, 32, 3, padding=1, rng=0)
    g = rng.normal(size=(64, 32, 28, 28)).astype(np.float32)

    def run_whynet():
        conv.forward(x)
        conv.backward(g)

    tconv = torch.nn.Conv2d(16, 32, 3, padding=1)
    tx = torch.tensor(x, requires_grad=True)
    tg = torch.tensor(g)

    def run_torch():
        tconv.zero_grad()
        tx.grad = None
        tconv(tx).backward(tg)

    return _result("conv2d_fwd_bwd", *_time_pair(run_whynet, run_torch, repeat))


def bench_small_cnn(repeat: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=64)
    model = Sequential(Conv2d(1, 8, 3, padding=1, rng=1), BatchNorm2d(8), ReLU(), MaxPool2d(2),
                       Conv2d(8, 16, 3, padding=1, rng=2), BatchNorm2d(16), ReLU(), MaxPool2d(2),
                       Flatten(), Dense(16 * 7 * 7, 10, rng=3))
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.01))

    def run_whynet():
        trainer.train_step(x, y)

    nn = torch.nn
    tmodel = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16),
                           nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    opt = torch.optim.SGD(tmodel.parameters(), lr=0.01)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def run_torch():
        opt.zero_grad()
        nn.functional.cross_entropy(tmodel(tx), ty).backward()
        opt.step()

    return _result("small_cnn_step", *_time_pair(run_whynet, run_torch, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for case in (bench_conv2d, bench_small_cnn):
            r = case(args.repeat)
            r["threads"] = args.threads
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                              for k, v in r.items()}), flush=True)


if __name__ == "__main__":
    main()
