"""What the probes cost: training time with a Probe attached against training without one.

Model and step as ``bench_mlp.py`` (the engine issue's benchmark): a 784-1024-1024-10 ReLU MLP,
batches of 256 in float32, softmax cross-entropy, SGD with momentum 0.9, through
:meth:`whynet.train.Trainer.train_step`. The probed trainer carries a
:class:`whynet.probes.Probe` as its callback, with a probe batch of 256 examples and the default
options (histograms on, Jacobian off), at the cadence of each case.

Two models with the same weights train side by side. Time is taken in blocks of ``every`` steps
(so each block holds one probe measurement), alternating plain and probed blocks so that a busy
machine slows both alike, after one warm-up block. ``overhead`` compares the fastest block of
each (other processes only ever add time, so the fastest blocks are the least disturbed);
``overhead_median`` compares the median blocks.

Cases (one JSON line each):

* ``probe_overhead`` at the default cadence (``every=DEFAULT_EVERY``) and at ``every=10``:
  seconds per step without and with the probe, and ``overhead`` = with / without − 1
  (the issue's target: ≤ 0.10 at the default cadence);
* ``probe_measure``: seconds of one ``probe.measure(step)`` (a forward and backward pass on the
  probe batch plus the statistics), beside one training step (fastest of ``repeat`` each).

Usage: ``python bench/bench_probes.py [--threads 2] [--repeat 10]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from whynet.nn import SoftmaxCrossEntropy, mlp
from whynet.optim import SGD
from whynet.probes import DEFAULT_EVERY, Probe
from whynet.train import Trainer

SIZES = (784, 1024, 1024, 10)
BATCH = 256
N_BATCHES = 8


def _data(rng):
    xs = [rng.normal(size=(BATCH, SIZES[0])).astype(np.float32) for _ in range(N_BATCHES)]
    ys = [rng.integers(0, SIZES[-1], size=BATCH) for _ in range(N_BATCHES)]
    return xs, ys


def _trainer(callbacks=()):
    model = mlp(list(SIZES), activation="relu", seed=0)
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, Trainer(model, SoftmaxCrossEntropy(), opt, callbacks=callbacks)


def _block(trainer, xs, ys, steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        i = trainer.step % N_BATCHES
        trainer.train_step(xs[i], ys[i])
    return time.perf_counter() - t0


def bench_overhead(every: int, repeat: int, xs, ys, X_probe, y_probe) -> dict:
    _, plain = _trainer()
    model, _ = _trainer()
    probe = Probe(model, X_probe, y_probe, SoftmaxCrossEntropy(), every=every)
    probed = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.01, momentum=0.9),
                     callbacks=[probe])
    _block(plain, xs, ys, every)  # warm-up (the probed block includes steps 1 and `every`)
    _block(probed, xs, ys, every)
    plain_t, probed_t = [], []
    for _ in range(repeat):
        plain_t.append(_block(plain, xs, ys, every))
        probed_t.append(_block(probed, xs, ys, every))
    base, with_probe = min(plain_t) / every, min(probed_t) / every
    median = float(np.median(probed_t)) / float(np.median(plain_t)) - 1
    return {"name": "probe_overhead", "every": every, "default_every": every == DEFAULT_EVERY,
            "step_s": round(base, 5), "step_probed_s": round(with_probe, 5),
            "overhead": round(with_probe / base - 1, 4), "overhead_median": round(median, 4),
            "measurements": len(probe.records.steps()), "blocks": repeat}


def bench_measure(repeat: int, xs, ys, X_probe, y_probe) -> dict:
    model, trainer = _trainer()
    probe = Probe(model, X_probe, y_probe, SoftmaxCrossEntropy(), every=10**9)
    _block(trainer, xs, ys, 2)
    probe.measure(0)
    step_t, measure_t = [], []
    for r in range(repeat):
        step_t.append(_block(trainer, xs, ys, 1))
        t0 = time.perf_counter()
        probe.measure(r + 1)
        measure_t.append(time.perf_counter() - t0)
    step, measure = min(step_t), min(measure_t)
    return {"name": "probe_measure", "step_s": round(step, 5), "measure_s": round(measure, 5),
            "measure_over_step": round(measure / step, 3), "rows_per_measure":
            len(probe.records.where(step=1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    xs, ys = _data(rng)
    X_probe = rng.normal(size=(BATCH, SIZES[0])).astype(np.float32)
    y_probe = rng.integers(0, SIZES[-1], size=BATCH)
    common = {"model": "-".join(map(str, SIZES)) + " relu", "batch": BATCH,
              "probe_batch": BATCH, "threads": args.threads, "machine": platform.machine()}
    with threadpool_limits(limits=args.threads):
        for every in (DEFAULT_EVERY, 10):
            print(json.dumps({**bench_overhead(every, args.repeat, xs, ys, X_probe, y_probe),
                              **common}), flush=True)
        print(json.dumps({**bench_measure(max(args.repeat, 5), xs, ys, X_probe, y_probe),
                          **common}), flush=True)


if __name__ == "__main__":
    main()
