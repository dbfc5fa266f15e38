"""MLP training-step speed: whynet against PyTorch on the CPU, same weights, same thread budget.

Case ``mlp_step``: one training step — forward, softmax cross-entropy, backward, SGD update with
momentum 0.9 — of a 784-1024-1024-10 ReLU MLP on a batch of 256 in float32. whynet runs its real
path (:meth:`whynet.train.Trainer.train_step`: zero_grad, forward, loss, backward, optimiser);
PyTorch runs ``zero_grad(); cross_entropy(model(x), y).backward(); opt.step()``. Both start from
the same weights and see the same batch.

Same threads for both: ``torch.set_num_threads(n)`` and threadpoolctl limiting NumPy's BLAS to n
(default 2). The two are timed alternately (one whynet step, one torch step, …) so a busy machine
slows both alike; each figure is the median of ``--repeat`` steps after warm-up.

Also printed, from the same run: GFLOP/s achieved by each, counting the step's matrix products
(forward ``2·m·Σ n_in·n_out``, the same again for the weight gradients, and for the input gradients
of every layer but the first, which PyTorch skips because the input needs no gradient); and the
GFLOP/s of plain ``np.matmul`` calls of exactly those sizes into preallocated outputs — the most
that NumPy's BLAS gives on this machine, the ceiling for any NumPy engine.

Output: one JSON line per case. Usage: ``python bench/bench_mlp.py [--threads 2] [--repeat 50]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from whynet.nn import SoftmaxCrossEntropy, mlp
from whynet.optim import SGD
from whynet.train import Trainer

SIZES = (784, 1024, 1024, 10)
BATCH = 256


def _flops(sizes, m: int) -> float:
    macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2.0 * m * (2 * sum(macs) + sum(macs[1:]))


def _alternate(fns, repeat: int, warmup: int = 5) -> list[float]:
    """Median seconds of each function, timing them in turn ``repeat`` times after warm-up."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, t in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


def bench_mlp_step(repeat: int, threads: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH)

    model = mlp(list(SIZES), activation="relu", seed=0)
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.01, momentum=0.9))

    nn = torch.nn
    linears = [nn.Linear(a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]
    tmodel = nn.Sequential(linears[0], nn.ReLU(), linears[1], nn.ReLU(), linears[2])
    dense = [layer for layer in model.layers if hasattr(layer, "W")]
    with torch.no_grad():
        for lin, d in zip(linears, dense):
            lin.weight.copy_(torch.from_numpy(d.W.value))
            lin.bias.copy_(torch.from_numpy(d.b.value))
    opt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def torch_step():
        opt.zero_grad()
        nn.functional.cross_entropy(tmodel(tx), ty).backward()
        opt.step()

    # The same products as one step, with nothing else: forward Z = X Wᵀ, dW = dZᵀ X, dX = dZ W.
    ws = [d.W.value for d in dense]
    acts = [x] + [np.ones((BATCH, n), np.float32) for n in SIZES[1:]]
    outs = [np.empty((BATCH, n), np.float32) for n in SIZES[1:]]
    dws = [np.empty_like(w) for w in ws]
    dxs = [np.empty((BATCH, n), np.float32) for n in SIZES[1:-1]]

    def matmuls():
        for a, w, o in zip(acts, ws, outs):
            np.matmul(a, w.T, out=o)
        for a, o, dw in zip(acts, outs, dws):
            np.matmul(o.T, a, out=dw)
        for o, w, dx in zip(outs[1:], ws[1:], dxs):
            np.matmul(o, w, out=dx)

    with torch.no_grad():
        first_loss_torch = nn.functional.cross_entropy(tmodel(tx), ty).item()
    first_loss = (trainer.train_step(x, y), first_loss_torch)
    t_why, t_torch, t_mm = _alternate([lambda: trainer.train_step(x, y), torch_step, matmuls],
                                      repeat)
    flops = _flops(SIZES, BATCH)
    return {"name": "mlp_step", "sizes": list(SIZES), "batch": BATCH, "dtype": "float32",
            "threads": threads, "whynet_ms": round(1e3 * t_why, 3),
            "torch_ms": round(1e3 * t_torch, 3), "ratio": round(t_why / t_torch, 3),
            "whynet_gflops": round(flops / t_why / 1e9, 1),
            "torch_gflops": round(flops / t_torch / 1e9, 1),
            "numpy_matmul_ms": round(1e3 * t_mm, 3),
            "numpy_matmul_gflops": round(flops / t_mm / 1e9, 1),
            "first_loss_whynet": round(first_loss[0], 6),
            "first_loss_torch": round(first_loss[1], 6),
            "repeat": repeat, "numpy": np.__version__, "torch": torch.__version__,
            "cpu": platform.processor() or platform.machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        print(json.dumps(bench_mlp_step(args.repeat, args.threads)), flush=True)


if __name__ == "__main__":
    main()
