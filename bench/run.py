"""``make bench``: whynet against PyTorch and against its own matrix products, as JSON lines.

For each case of :mod:`cases` and each thread count (1 and 2), three things are timed in one
process: the whynet step, the same step in PyTorch, and the step's bare NumPy GEMMs (its
ceiling). Thread counts are set for both libraries: threadpoolctl limits NumPy's BLAS, and
``torch.set_num_threads``.

**Block timing.** Each library runs a block of ``--repeat`` calls, then a pause, then the next
library's block; three rounds; the figure is the median over all calls. Never one call of each
in turn: after a parallel call a library's idle threads keep spinning for a while, and that
spinning would be charged to the other library's next call (this once made PyTorch's 2-thread
MLP step read 34 ms instead of 11 ms).

**Memory.** The peak resident memory that steps add, measured in a fresh process per library
(the kernel's high-water mark over three steps minus the resident memory after the setup; see
:func:`peak_mb`), so neither library's allocator caches count against the other.

One line per case and thread count::

    {"case", "threads", "whynet_ms", "torch_ms", "gemm_ms", "ratio_torch" (same threads),
     "ratio_torch_best" (vs PyTorch's fastest thread count), "ratio_gemm"}

then one memory line per case (``whynet_peak_mb``, ``torch_peak_mb``, ``ratio``), then the
other ``bench_*.py`` scripts (probe overhead, im2col against Winograd's convolution, the
experiment suite's quick and full grids, tiny training steps, the web lab), each in its own
process.

``--layers`` prints instead, for each case with a model and each thread count, one line per
layer: ``{"case", "threads", "layer", "module", "forward_ms", "backward_ms"}`` (each pass timed
in blocks, on the activations of one forward pass; the first layer's backward skips the input
gradient, as a training step does). Where a step loses time at 2 threads, this says which layer.

Usage: ``python bench/run.py [--case NAME ...] [--threads 1 2] [--repeat 20] [--quick]
[--clock wall|cpu] [--quiet TRIES] [--no-memory] [--no-extras] [--layers]``

On a shared machine, ``nice -n -20 python bench/run.py --quiet 20`` keeps, for each block, the
first of up to 20 tries during which no other process used the CPUs (``noisy_blocks`` counts
those that never were): the other processes still share the caches and the memory bus, so
the figures are an approximation of a quiet machine's, better than a median over noise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PAUSE_S = 0.3
#: ``--clock cpu`` times with the process's CPU time instead of the wall clock: on a machine
#: shared with other work, a 1-thread figure then leaves out the time spent waiting for a core
#: (a directional measure; the reported figures are wall-clock on a quiet machine). One thread
#: only: the CPU time of a process adds all its threads', so two busy cores would read double.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]
#: ``--quiet``: how many times a block is timed again while other processes use the CPUs.
QUIET_TRIES = 1


def _others_cpu_s() -> float:
    """CPU seconds every other process has used since boot, niced ones excepted (Linux:
    /proc/stat's user, system, irq, softirq and steal, less this process's own)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    own = os.times()
    busy = ticks[0] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
    return busy / os.sysconf("SC_CLK_TCK") - own.user - own.system


def _block(fn, repeat: int) -> tuple[list[float], float]:
    """Times of ``repeat`` calls after a pause and a warm-up, and the CPU seconds other
    processes used meanwhile."""
    time.sleep(PAUSE_S)
    fn()  # warm-up: caches, allocators, thread pools
    times, others = [], _others_cpu_s()
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return times, _others_cpu_s() - others


def block_times(fns: dict, repeat: int, rounds: int = 3) -> dict[str, float]:
    """Median milliseconds per call of each function, timed in blocks (see the module doc).
    With :data:`QUIET_TRIES` > 1 (``--quiet``), a block during which other processes used
    more than one clock tick of CPU is timed again, up to that many times; ``"noisy_blocks"``
    counts the blocks kept anyway."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    noisy = 0
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(QUIET_TRIES):
                block, others = _block(fn, repeat)
                if others <= 1.5 / os.sysconf("SC_CLK_TCK"):
                    break
            else:
                noisy += QUIET_TRIES > 1
            times[name].extend(block)
    out = {name: 1e3 * sorted(t)[len(t) // 2] for name, t in times.items()}
    return {**out, "noisy_blocks": noisy} if QUIET_TRIES > 1 else out


def time_case(name: str, threads: list[int], repeat: int, rounds: int) -> list[dict]:
    import torch
    from threadpoolctl import threadpool_limits

    from cases import CASES

    case = CASES[name]()
    rows = []
    for n in threads:
        torch.set_num_threads(n)
        with threadpool_limits(limits=n, user_api="blas"):
            t = block_times({"whynet": case.whynet, "torch": case.torch, "gemm": case.gemm},
                            repeat, rounds)
        rows.append({"case": name, "threads": n, "whynet_ms": t["whynet"],
                     "torch_ms": t["torch"], "gemm_ms": t["gemm"],
                     **({"noisy_blocks": t["noisy_blocks"]} if "noisy_blocks" in t else {})})
    best = min((r["torch_ms"] for r in rows), default=None)
    for r in rows:
        r.update(ratio_torch=r["whynet_ms"] / r["torch_ms"], ratio_torch_best=r["whynet_ms"] / best,
                 ratio_gemm=r["whynet_ms"] / r["gemm_ms"], description=case.description)
    return rows


def layer_rows(name: str, threads: list[int], repeat: int, rounds: int) -> list[dict]:
    """Median ms of each layer's forward and backward in ``name``'s whynet model (see the
    module doc); no rows for a case without a model."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from cases import CASES

    case = CASES[name]()
    if case.model is None:
        return []
    layers = case.model.layers
    inputs = [case.x]
    for layer in layers:
        inputs.append(layer.forward(inputs[-1]))
    rows = []
    for n in threads:
        with threadpool_limits(limits=n, user_api="blas"):
            for i, layer in enumerate(layers):
                grad = np.ones_like(inputs[i + 1])
                back = layer.backward_params if i == 0 else layer.backward
                t = block_times({"forward": lambda: layer.forward(inputs[i]),
                                 "backward": lambda: back(grad)}, repeat, rounds)
                rows.append({"case": name, "threads": n, "layer": i, "module": repr(layer),
                             "forward_ms": t["forward"], "backward_ms": t["backward"]})
    return rows


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def peak_mb(name: str, library: str) -> float:
    """Peak resident memory (MB) that three steps of one library add above the memory held after
    building the case, in this (fresh) process. The kernel's high-water mark is reset first
    (``/proc/self/clear_refs``), so the import and setup peaks do not count. State created on
    the first step (PyTorch's ``.grad`` tensors, either library's optimiser buffers) counts;
    whynet's gradient arrays, allocated with the parameters, do not."""
    import torch
    from threadpoolctl import threadpool_limits

    from cases import CASES

    torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        fn = getattr(CASES[name](), library)
        before = _status_kb("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        for _ in range(3):
            fn()
        after = _status_kb("VmHWM")
    return (after - before) / 1024


def memory_line(name: str) -> dict:
    mb = {}
    for library in ("whynet", "torch"):
        proc = subprocess.run([sys.executable, __file__, "--peak", name, library],
                              capture_output=True, text=True, check=True)
        mb[library] = float(proc.stdout.strip().splitlines()[-1])
    return {"case": name, "memory": "peak RSS added by a step (fresh process each)",
            "whynet_peak_mb": mb["whynet"], "torch_peak_mb": mb["torch"],
            "ratio": mb["whynet"] / mb["torch"] if mb["torch"] > 0 else None}


def _print(row: dict) -> None:
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}),
          flush=True)


def main(argv: list[str]) -> int:
    from cases import CASES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", nargs="*", choices=sorted(CASES), default=list(CASES))
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one round of 2 calls (a smoke run)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    ap.add_argument("--quiet", type=int, default=1, metavar="TRIES",
                    help="time a block again (up to TRIES times) while other processes use the "
                         "CPUs (Linux; for a shared machine, with nice -n -20)")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--no-extras", action="store_true", help="skip the other bench_*.py scripts")
    ap.add_argument("--layers", action="store_true",
                    help="per-layer forward/backward times instead of the cases' steps")
    ap.add_argument("--peak", nargs=2, metavar=("CASE", "LIBRARY"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.clock == "cpu" and any(t > 1 for t in args.threads):
        # The process's CPU time adds every thread's: two busy cores read as twice the time.
        ap.error(f"--clock cpu adds the CPU time of all threads, so it only measures one: use it "
                 f"with --threads 1 (got --threads {' '.join(map(str, args.threads))})")
    if args.peak:
        print(peak_mb(*args.peak))
        return 0
    global clock, QUIET_TRIES
    clock = CLOCKS[args.clock]
    QUIET_TRIES = max(1, args.quiet)
    repeat, rounds = (2, 1) if args.quick else (args.repeat, args.rounds)
    if args.layers:
        for name in args.case:
            for row in layer_rows(name, args.threads, repeat, rounds):
                _print(row)
        return 0
    for name in args.case:
        for row in time_case(name, args.threads, repeat, rounds):
            _print(row)
        if not args.no_memory:
            _print(memory_line(name))
    failed = 0
    for script in [] if args.no_extras else sorted(HERE.glob("bench_*.py")):
        extra = {"bench_probes": ["--repeat", "2"], "bench_suite": ["--grids", "quick"],
                 "bench_conv": ["--repeat", "1", "--rounds", "1"],
                 "bench_tiny": ["--repeat", "2", "--rounds", "1"]}.get(
            script.stem, []) if args.quick else []
        proc = subprocess.run([sys.executable, str(script), *extra], capture_output=True,
                              text=True)
        for line in proc.stdout.splitlines():
            if line.strip():
                print(line, flush=True)
        if proc.returncode != 0:
            failed += 1
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            _print({"name": script.stem, "error": tail, "returncode": proc.returncode})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
