"""Which convolution algorithm for which layer: one Conv2d(3×3, padding 1) forward + backward
(input gradient included) through the im2col engine, through Winograd's F(2×2, 3×3) and through
PyTorch, on the same float32 data; and, with ``--chunk-bytes``, Winograd's chunk sizes.

The contenders are timed in blocks of ``--repeat`` calls, one contender after the other with a
pause between, for ``--rounds`` rounds; the figure is each one's fastest block (other processes
only ever add time, and the interleaving spreads their noise over all contenders). One JSON line
per shape and thread count::

    {"name": "conv_paths", "shape", "out_channels", "threads", "ms": {contender: ms},
     "winograd_vs_im2col"}

The measurements behind :data:`whynet.nn.winograd.MIN_CHANNELS` come from this script; its
comment has the command.

``--contention`` asks instead what keeps two threads from doubling the speed: the layer's
one-thread forward + backward on half the batch alone, then two of them at once in two threads
of this process (each its own layer), then in two processes. Equal times at once and alone mean
the cores are free; slower threads than processes point at the interpreter (the GIL)::

    {"name": "conv_contention", "shape", "out_channels", "alone_ms", "threads_ms": [..],
     "processes_ms": [..]}

``--sharing`` asks whether a layer should share its chunks among threads
(:data:`whynet.nn.fast_conv.MIN_SHARED_MACS`): each algorithm with its chunks always shared
("…_shared") and never ("…_calling": the calling thread runs them all, BLAS single-threaded,
as on one thread), at each thread count; ``macs`` are each algorithm's forward multiply-adds,
the quantity the threshold is set on::

    {"name": "conv_sharing", "shape", "out_channels", "threads", "ms": {contender: ms},
     "macs": {"im2col": n, "winograd": n}, "shared_vs_calling": {"im2col": r, "winograd": r}}

``--parts`` times the pieces of Winograd's forward + backward on one thread (timers around the
transforms, the layout changes and the products; ms per forward + backward)::

    {"name": "winograd_parts", "shape", "out_channels", "total_ms", "parts_ms": {part: ms}}

Usage: ``python bench/bench_conv.py [--shape M,C,H,W:C_OUT ...] [--threads 1 2]
[--chunk-bytes MB ...] [--repeat 10] [--rounds 5] [--contention | --parts | --sharing]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import threading
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from whynet.nn import Conv2d
from whynet.nn.fast_conv import products_macs


def parse_shape(text: str) -> tuple[tuple[int, int, int, int], int]:
    """``"64,16,28,28:32"`` → ((64, 16, 28, 28), 32)."""
    shape, _, c_out = text.partition(":")
    dims = tuple(int(v) for v in shape.split(","))
    if len(dims) != 4 or not c_out:
        raise argparse.ArgumentTypeError(f"expected M,C,H,W:C_OUT, got {text!r}")
    return dims, int(c_out)


def contenders(shape, c_out: int, chunk_mb: list[float], sharing: bool = False) -> dict:
    """Name → a callable doing one forward + backward; with ``sharing``, each algorithm twice,
    its chunks always shared among threads ("…_shared") and never ("…_calling")."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    g = rng.normal(size=(shape[0], c_out) + shape[2:]).astype(np.float32)
    calls = {}

    def make_layer(mode: str, chunk_bytes: int | None = None, min_shared_macs: int | None = None):
        layer = Conv2d(shape[1], c_out, 3, padding=1, rng=0)
        layer.engine.winograd = mode
        if chunk_bytes:
            layer.engine.chunk_bytes = chunk_bytes
        if min_shared_macs is not None:
            layer.engine.min_shared_macs = min_shared_macs
        return layer

    def in_a_model(layer):
        # As between the layers of a model: the calling thread writes the input and the output
        # gradient just before, and reads the output and the input gradient just after, so a
        # helper thread finds none of them in its core's cache (a layer fed the same arrays
        # call after call would keep each thread's half there, and flatter sharing).
        xb, gb = np.empty_like(x), np.empty_like(g)

        def call():
            np.copyto(xb, x)
            layer.forward(xb).sum()
            np.copyto(gb, g)
            layer.backward(gb).sum()
        return call

    if sharing:
        for name, mode in (("im2col", "never"), ("winograd", "always")):
            calls[f"{name}_shared"] = in_a_model(make_layer(mode, min_shared_macs=0))
            calls[f"{name}_calling"] = in_a_model(make_layer(mode, min_shared_macs=2**62))
        return calls

    def fwd_bwd(layer):
        return lambda: (layer.forward(x), layer.backward(g))

    calls["im2col"] = fwd_bwd(make_layer("never"))
    if chunk_mb:
        for mb in chunk_mb:
            calls[f"winograd_{mb:g}MB"] = fwd_bwd(make_layer("always", int(mb * 2**20)))
    else:
        calls["winograd"] = fwd_bwd(make_layer("always"))
    tconv = torch.nn.Conv2d(shape[1], c_out, 3, padding=1)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

    def torch_call():
        tconv.zero_grad()
        tx.grad = None
        tconv(tx).backward(tg)
    calls["torch"] = torch_call
    return calls


def fastest_blocks(calls: dict, repeat: int, rounds: int) -> dict[str, float]:
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            call()
            t0 = time.perf_counter()
            for _ in range(repeat):
                call()
            best[name] = min(best[name], (time.perf_counter() - t0) / repeat)
            time.sleep(0.1)
    return {name: round(1e3 * s, 3) for name, s in best.items()}


def _half_batch_ms(shape, c_out: int, repeat: int, out=None, start=None) -> float:
    """ms of one forward + backward of the layer on half the batch, one BLAS thread, fastest
    of 3 blocks (into ``out``, a queue, when given), timed once every party has reached the
    barrier ``start``, when given."""
    half = (max(1, shape[0] // 2),) + tuple(shape[1:])
    call = contenders(half, c_out, [])["winograd" if shape[1] >= 8 else "im2col"]
    with threadpool_limits(limits=1):
        call()
        if start is not None:
            start.wait()
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(repeat):
                call()
            best = min(best, (time.perf_counter() - t0) / repeat)
    ms = round(1e3 * best, 3)
    if out is not None:
        out.put(ms)
    return ms


def parts(shape, c_out: int, repeat: int) -> dict:
    """Where Winograd's forward + backward spends its time, one thread: each module-level piece
    of :mod:`whynet.nn.winograd` (and ``np.matmul``, ``np.copyto`` there) wrapped in a timer."""
    from whynet.nn import winograd

    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    names = {"input_transform": "input transform", "output_transform": "output transform",
             "input_transform_adjoint": "input transform adjoint",
             "output_transform_adjoint": "output transform adjoint",
             "kernel_transform": "kernel transforms", "kernel_transform_adjoint":
             "kernel transforms"}
    saved = {name: getattr(winograd, name) for name in names}
    saved_plan = winograd.Plan.pad, winograd.Plan.unpad
    numpy = winograd.np
    wrapped_np = type(sys)("numpy_timed")
    wrapped_np.__dict__.update(np.__dict__)
    wrapped_np.matmul = timed("products (GEMM)", np.matmul)
    wrapped_np.copyto = timed("dY to tiles", np.copyto)
    try:
        for name, label in names.items():
            setattr(winograd, name, timed(label, saved[name]))
        winograd.Plan.pad = timed("images to tiles", saved_plan[0])
        winograd.Plan.unpad = timed("tiles to dx", saved_plan[1])
        winograd.np = wrapped_np
        call = contenders(shape, c_out, [])["winograd"]
        with threadpool_limits(limits=1):
            call()
            spent.clear()
            t0 = time.perf_counter()
            for _ in range(repeat):
                call()
            total = (time.perf_counter() - t0) / repeat
    finally:
        for name in names:
            setattr(winograd, name, saved[name])
        winograd.Plan.pad, winograd.Plan.unpad = saved_plan
        winograd.np = numpy
    return {"name": "winograd_parts", "shape": list(shape), "out_channels": c_out,
            "total_ms": round(1e3 * total, 3),
            "parts_ms": {k: round(1e3 * v / repeat, 3) for k, v in spent.items()}}


def contention(shape, c_out: int, repeat: int) -> dict:
    alone = _half_batch_ms(shape, c_out, repeat)
    results: list[float] = []
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=lambda: results.append(
        _half_batch_ms(shape, c_out, repeat, start=barrier))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Fresh interpreters: a fork would copy this process's BLAS and worker threads' locks.
    ctx = multiprocessing.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(2)
    procs = [ctx.Process(target=_half_batch_ms, args=(shape, c_out, repeat, queue, barrier))
             for _ in range(2)]
    for p in procs:
        p.start()
    processes = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return {"name": "conv_contention", "shape": list(shape), "out_channels": c_out,
            "alone_ms": alone, "threads_ms": sorted(results), "processes_ms": sorted(processes)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", nargs="+", type=parse_shape,
                    default=[parse_shape("64,16,28,28:32")])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--chunk-bytes", nargs="*", type=float, default=[],
                    help="Winograd with these chunk sizes (MB) instead of the default")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--contention", action="store_true",
                    help="two half batches at once in threads and in processes (see above)")
    ap.add_argument("--parts", action="store_true",
                    help="where Winograd's forward + backward spends its time (see above)")
    ap.add_argument("--sharing", action="store_true",
                    help="each algorithm with its chunks shared among threads and on the "
                         "calling thread alone (see above)")
    args = ap.parse_args(argv)
    for shape, c_out in args.shape:
        if args.parts:
            print(json.dumps(parts(shape, c_out, args.repeat)), flush=True)
            continue
        if args.contention:
            print(json.dumps(contention(shape, c_out, args.repeat)), flush=True)
            continue
        calls = contenders(shape, c_out, args.chunk_bytes, args.sharing)
        for threads in args.threads:
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                ms = fastest_blocks(calls, args.repeat, args.rounds)
            line = {"name": "conv_sharing" if args.sharing else "conv_paths",
                    "shape": list(shape), "out_channels": c_out, "threads": threads, "ms": ms}
            if args.sharing:
                layer = Conv2d(shape[1], c_out, 3, padding=1)
                line["macs"] = {name: products_macs(layer, shape, name == "winograd")
                                for name in ("im2col", "winograd")}
                line["shared_vs_calling"] = {
                    name: round(ms[f"{name}_shared"] / ms[f"{name}_calling"], 3)
                    for name in ("im2col", "winograd")}
            elif "winograd" in ms:
                line["winograd_vs_im2col"] = round(ms["winograd"] / ms["im2col"], 3)
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
