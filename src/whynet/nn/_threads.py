"""Element-wise work on several cores: what NumPy's matrix products do on their own.

NumPy's BLAS runs a matrix product on as many threads as it is allowed; every other NumPy
operation runs on the calling thread. On 2 cores the products of a training step halve and the
element-wise work (activations, normalisation, pooling, the optimiser's update) does not, so it
weighs double. NumPy releases the GIL inside its loops, so Python threads that each take a
slice of the batch do run in parallel.

:class:`Workers` does that for one owner (a layer, an optimiser): as many threads as BLAS may
use now (so ``threadpoolctl.threadpool_limits`` around the caller governs both), the calling
thread among them; fixed contiguous slices, each written by one thread, so the results are
bitwise those of one thread. The caller's floating-point error state (``np.errstate``, which the
trainer uses to catch overflow) is applied in each thread too: NumPy keeps it per thread.

A hand-off costs: waking a sleeping thread on another core and waiting for it took ~10 µs with
the two locks of :class:`_Helper` and ~25 µs with a ``ThreadPoolExecutor`` (a Future, a queue
and a condition per item), measured on an idle 2-core VM. A job is worth sharing only when its
half saves more than that: see :data:`MIN_PARALLEL_SIZE`.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Callable

import numpy as np
from threadpoolctl import ThreadpoolController

#: Below this many elements a job runs on the calling thread alone. On a 2-core VM, ReLU,
#: BatchNorm2d and MaxPool2d forward+backward over batches of up to 4·10⁵ float32 elements (the
#: small CNN's, the MLP's 256×1024) were never faster on 2 threads than on 1, and often slower
#: (ReLU on 256×1024: 0.21 → 0.35 ms): waking the idle second core costs tens of µs, and the
#: slice it takes is not in its cache. The optimiser's update of 1.8·10⁶ values did halve
#: (1.65 → 0.97 ms). So only passes over more than about 10⁶ elements are shared.
MIN_PARALLEL_SIZE = 2**20

CPUS = os.cpu_count() or 1


def blas_threads(controller: ThreadpoolController) -> int:
    """How many threads NumPy's BLAS may use now (at most the cores): the largest limit among
    the BLAS libraries of ``controller`` (a ``ThreadpoolController().select(user_api="blas")``)."""
    threads = max((lib.num_threads for lib in controller.lib_controllers), default=1)
    return max(1, min(threads, CPUS))


class _Helper:
    """One daemon thread that runs one job at a time: :meth:`start` hands it ``fn(item)``,
    :meth:`result` waits for it. Two locks used as binary semaphores (released by the other
    thread), the cheapest hand-off the standard library offers."""

    def __init__(self, name: str):
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._job: tuple | None = None
        self._out: tuple = (True, None)
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            if self._job is None:  # stop(): the Workers that owned this thread is gone
                return
            fn, item, err = self._job
            try:
                with np.errstate(**err):
                    self._out = (True, fn(item))
            except BaseException as exc:  # re-raised on the calling thread by result()
                self._out = (False, exc)
            self._job = None
            self._done.release()

    def start(self, fn: Callable, item, err: dict) -> None:
        self._job = (fn, item, err)
        self._go.release()

    def stop(self) -> None:
        """Let the thread end (it is idle: between a :meth:`result` and the next start)."""
        self._job = None
        self._go.release()

    def result(self):
        self._done.acquire()
        ok, value = self._out
        self._out = (True, None)
        if not ok:
            raise value
        return value


def _stop_all(helpers: list[_Helper]) -> None:
    for helper in helpers:
        helper.stop()


class Workers:
    """Threads for one owner's element-wise jobs; pickles and copies as a fresh one.

    Args:
        name: the threads' name prefix (shown by debuggers and ``py-spy``).
    """

    def __init__(self, name: str = "whynet"):
        self.name = name
        self._pool: tuple[int, list[_Helper]] | None = None  # (pid, helpers): fork loses threads
        self._blas: ThreadpoolController | None = None
        self._busy = threading.Lock()  # one map at a time; a concurrent caller runs alone

    def __getstate__(self) -> dict:
        return {"name": self.name}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __deepcopy__(self, memo) -> "Workers":
        return Workers(self.name)

    def threads(self) -> int:
        """The number of threads a job may use now: as many as NumPy's BLAS may."""
        if self._blas is None:
            self._blas = ThreadpoolController().select(user_api="blas")
        return blas_threads(self._blas)

    def _helpers(self, n: int) -> list[_Helper]:
        """At least ``n`` helper threads of this process (created on first need)."""
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = os.getpid(), []
            # The threads end when these Workers are collected (they hold no reference to it).
            weakref.finalize(self, _stop_all, self._pool[1])
        helpers = self._pool[1]
        while len(helpers) < n:
            helpers.append(_Helper(f"{self.name}-{len(helpers) + 1}"))
        return helpers

    def map(self, fn: Callable, items: list) -> list:
        """``[fn(item) for item in items]``: the first item on the calling thread, each other
        on a helper thread, under the caller's ``np.errstate``. Runs them in turn on the calling
        thread if another thread is in a map of these Workers already."""
        if len(items) <= 1 or not self._busy.acquire(blocking=False):
            return [fn(item) for item in items]
        try:
            helpers, err = self._helpers(len(items) - 1), np.geterr()
            for helper, item in zip(helpers, items[1:]):
                helper.start(fn, item, err)
            results, error = [], None
            try:
                results.append(fn(items[0]))
            finally:  # wait for every helper, even when the caller's part raised
                for helper in helpers[:len(items) - 1]:
                    try:
                        results.append(helper.result())
                    except BaseException as exc:
                        error = error or exc
            if error is not None:
                raise error
            return results
        finally:
            self._busy.release()

    def rows(self, job: Callable[[slice], None], n_rows: int, size: int) -> None:
        """``job(rows)`` for contiguous slices of ``range(n_rows)`` covering it, one per thread
        (a single ``job(slice(0, n_rows))`` when ``size``, the elements the job writes, is
        below :data:`MIN_PARALLEL_SIZE` or BLAS may use one thread). ``job`` must write only
        the rows it is given.

        Element-wise work only: matrix products are left to BLAS's own threads. (Cutting
        Dense's products into row blocks, one per thread with single-threaded BLAS, measured
        1.8× slower than BLAS's threads in quiet moments on 2 cores, though steadier under load.)
        """
        t = min(self.threads(), n_rows) if size >= MIN_PARALLEL_SIZE else 1
        if t <= 1:
            job(slice(0, n_rows))
            return
        bounds = [n_rows * i // t for i in range(t + 1)]
        self.map(job, [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])])

    def split(self, fn: Callable[..., None], *arrays: np.ndarray) -> None:
        """``fn(*arrays)``, on row slices of every array (the same rows of each) per thread when
        the first array has at least :data:`MIN_PARALLEL_SIZE` elements and BLAS may use
        several threads: :meth:`rows` for a job that is one function of whole arrays. Below
        that size ``fn`` gets the arrays themselves (no closure, no views: a tiny network's
        step calls this a few times per layer). ``fn`` must write only into its arguments."""
        first = arrays[0]
        if first.size < MIN_PARALLEL_SIZE:
            fn(*arrays)
            return
        self.rows(lambda r: fn(*(a[r] for a in arrays)), len(first), first.size)

    def single_threaded_blas(self) -> "_SingleThreadedBlas":
        """BLAS on one thread inside the block, as it was after (for products cut into blocks
        by hand, or too small to share: BLAS would wake its threads for every one)."""
        if self._blas is None:
            self._blas = ThreadpoolController().select(user_api="blas")
        return _SingleThreadedBlas(self._blas.lib_controllers)


class _SingleThreadedBlas:
    """The context of :meth:`Workers.single_threaded_blas`: a class rather than a generator
    (2.6 µs instead of 6 µs a block at one thread; RNN layers enter it at every pass). Sets the
    libraries directly: threadpoolctl's ``limit()`` gathers every library's info per call."""

    __slots__ = ("libs", "before")

    def __init__(self, libs: list):
        self.libs = libs
        self.before: list[int] = []

    def __enter__(self) -> None:
        before = [lib.num_threads for lib in self.libs]
        if max(before, default=1) > 1:
            self.before = before
            for lib in self.libs:
                lib.set_num_threads(1)

    def __exit__(self, *exc) -> None:
        for lib, n in zip(self.libs, self.before):
            lib.set_num_threads(n)
        self.before = []
