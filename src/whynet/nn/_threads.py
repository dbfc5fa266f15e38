"""Element-wise work on several cores: what NumPy's matrix products do on their own.

NumPy's BLAS runs a matrix product on as many threads as it is allowed; every other NumPy
operation runs on the calling thread. On 2 cores the products of a training step halve and the
element-wise work (activations, normalisation, pooling, the optimiser's update) does not, so it
weighs double. NumPy releases the GIL inside its loops, so Python threads that each take a
slice of the batch do run in parallel.

:class:`Workers` does that for one owner (a layer, an optimiser): as many threads as BLAS may
use now (so ``threadpoolctl.threadpool_limits`` around the caller governs both), created on
first use; fixed contiguous slices, each written by one thread, so the results are bitwise those
of one thread. The caller's floating-point error state (``np.errstate``, which the trainer uses
to catch overflow) is applied in each thread too: NumPy keeps it per thread.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable

import numpy as np
from threadpoolctl import ThreadpoolController

#: Below this many elements a job runs on the calling thread: handing a slice to another
#: thread costs tens of microseconds, about what 2**16 float32 additions take.
MIN_PARALLEL_SIZE = 2**16

CPUS = os.cpu_count() or 1


def blas_threads(controller: ThreadpoolController) -> int:
    """How many threads NumPy's BLAS may use now (at most the cores): the largest limit among
    the BLAS libraries of ``controller`` (a ``ThreadpoolController().select(user_api="blas")``)."""
    threads = max((lib.num_threads for lib in controller.lib_controllers), default=1)
    return max(1, min(threads, CPUS))


class Workers:
    """A thread pool for one owner's element-wise jobs; pickles and copies as a fresh one.

    Args:
        name: the threads' name prefix (shown by debuggers and ``py-spy``).
    """

    def __init__(self, name: str = "whynet"):
        self.name = name
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): fork loses threads
        self._blas: ThreadpoolController | None = None

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

    def map(self, fn: Callable, items: list) -> list:
        """``[fn(item) for item in items]``, one item per thread, under the caller's
        ``np.errstate``."""
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = os.getpid(), ThreadPoolExecutor(CPUS, thread_name_prefix=self.name)
        err = np.geterr()

        def call(item):
            with np.errstate(**err):
                return fn(item)
        return list(self._pool[1].map(call, items))

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

    @contextmanager
    def single_threaded_blas(self):
        """BLAS on one thread inside the block, as it was after (for products cut into blocks
        by hand, or too small to share: BLAS would wake its threads for every one)."""
        if self._blas is None:
            self._blas = ThreadpoolController().select(user_api="blas")
        libs = self._blas.lib_controllers
        before = [lib.num_threads for lib in libs]
        if max(before, default=1) <= 1:
            yield
            return
        try:  # set directly: threadpoolctl's limit() gathers every library's info per call
            for lib in libs:
                lib.set_num_threads(1)
            yield
        finally:
            for lib, n in zip(libs, before):
                lib.set_num_threads(n)
