"""Freed arrays stay with the process: glibc's threshold for returning memory to the system.

glibc's ``malloc`` serves a block over ``M_MMAP_THRESHOLD`` (128 KiB at start) with a fresh
``mmap`` and gives it back to the system when it is freed, so the next array of that size is
new memory again: a page fault per 4 KiB page when first written. The threshold adapts: once a
block over it (and up to 32 MiB) is freed, it rises to that block's size, and blocks up to it
come from the heap and are reused. A NumPy program that frees one large array gets there by
itself. whynet may not: its convolutions keep their large buffers for the next batch, so no
large block is ever freed, and every layer output over 128 KiB then costs its page faults.
A Conv1d(1→16, k5) forward on 100 MNIST-1D signals followed by a copy of its output took
323 µs with 93 page faults instead of 84 µs with none (one thread, 2-core VM, glibc 2.36).

:func:`keep_freed_memory` allocates one :data:`RAISE_TO`-byte block without touching it and
frees it, so glibc raises the threshold as it would after any such array. It is called once, on
importing :mod:`whynet.nn`. Elsewhere (macOS, Windows, musl) it allocates and frees an untouched
block, nothing more. The process may then keep up to twice that much freed memory for reuse
(glibc's trim threshold follows: 2 × the mmap threshold).
"""

from __future__ import annotations

import numpy as np

#: The block freed once: 16 MiB (glibc takes a freed block's size, page-rounded header
#: included, only up to 32 MiB; 16 MiB covers a layer output of 4·10⁶ float32 values).
RAISE_TO = 16 * 2**20

_done = False


def keep_freed_memory() -> None:
    """Raise glibc's mmap threshold to :data:`RAISE_TO` by freeing one untouched block of that
    size (once per process; see the module docstring)."""
    global _done
    if not _done:
        np.empty(RAISE_TO, dtype=np.uint8)  # mmap'd, never written (no page touched), freed
        _done = True
