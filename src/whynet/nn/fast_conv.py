"""The fast path of the convolutions: the same im2col products as :mod:`whynet.nn.conv`'s
readable reference (``Z = W₂ · cols + b``, ``dW = dZ · colsᵀ``, ``dcols = W₂ᵀ · dZ``), arranged
to move as little data as NumPy allows. Tested against the reference (``tests/test_conv.py``).

Which columns: with stride 1 (the common case), a kernel position (i, j) reads the padded image
shifted by ``i·W_p + j`` in its flattened (row-major) order, so its row block of ``cols`` is one
contiguous slice of the flattened input, and its col2im is one contiguous add: the columns are
all positions of the padded grid (the few that straddle a row or image edge compute junk that is
cropped away, and get zero gradient). This costs (H_p·W_p)/(H_out·W_out) more columns (15 % on
28×28 with padding 1) but makes the copy and the add 2–3× faster than on a strided view of the
windows, which is what strided convolutions use (``sliding_window_view``; columns = outputs).

The batch is processed in chunks whose ``cols`` take a few MB (:attr:`ConvEngine.chunk_bytes`),
so each chunk is still in cache when it is multiplied. The columns of every chunk are kept for
backward in one buffer the engine reuses from call to call (a fresh multi-MB array costs a page
fault per 4 KB page), unless they would take more than :attr:`ConvEngine.keep_bytes`: then
backward rebuilds each chunk's columns from the kept padded input, and memory stays bounded
for any batch size.

When NumPy's BLAS may use several threads, the chunks are shared among as many Python threads
(NumPy releases the GIL in copies, adds and matrix products) and BLAS runs single-threaded in
each, for the duration of the call only: a copy or an add on its own would run on one core, and
small products scale worse over cores than independent chunks do. A layer whose products do
fewer than :attr:`ConvEngine.min_shared_macs` multiply-adds runs as on one thread (every chunk
on the calling thread, BLAS single-threaded): handing half of it to another core costs more
than it saves. Each thread owns fixed chunks and writes only their slices; per-chunk weight
gradients are summed in chunk order, so results are bitwise the same run to run (the chunks,
and so the round-off of dW and db, depend on the number of threads).

A 2-D 3×3 stride-1 layer with many input channels runs Winograd's F(2×2, 3×3) instead
(:mod:`whynet.nn.winograd`: 16 products per 2×2 outputs where im2col needs 36), in the same
chunks, threads and kept buffer; :attr:`ConvEngine.winograd` says where.

All state (the threads (a :class:`~whynet.nn._threads.Workers`), per-thread scratch buffers,
the kept padded input and columns) belongs to a :class:`ConvEngine`, one per layer: nothing is
module-level.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..i18n import _
from ..errors import ConfigError
from . import winograd
from ._threads import Workers

#: The values of :attr:`ConvEngine.winograd`.
WINOGRAD_MODES = ("auto", "always", "never")

#: Bytes of the im2col matrix built at once. 4 MB was fastest on a 2-core Xeon (vs 1, 2, 8 MB and
#: the whole batch): a 29 MB cols matrix falls out of cache between its copy and its product.
CHUNK_BYTES = 4 * 2**20

#: A batch whose columns fit in one chunk is still shared among threads from this size on.
SPLIT_BYTES = 2**20

#: A layer's chunks are shared among threads only when its forward's products do at least this
#: many multiply-adds (:func:`products_macs`, for the algorithm that runs); a smaller layer runs
#: as on one thread (all its chunks on the calling thread, BLAS single-threaded): handing half of
#: a small layer to another thread, or its small products to BLAS's threads, costs more than it
#: saves. Measured on a 2-core VM at 2 threads, forward + backward, fastest of 9 interleaved
#: blocks, two runs (``python bench/bench_conv.py --sharing --threads 2 --rounds 9 --shape
#: 64,1,28,28:8 32,8,14,14:16 64,8,14,14:16 64,4,28,28:8 128,8,14,14:16 32,16,14,14:32
#: 64,16,14,14:32 64,8,28,28:16 64,16,28,28:32``), shared ÷ calling thread alone:
#: below 10⁷ multiply-adds 0.80–1.38, mostly above 1 (Winograd at 3.2·10⁶: 1.32 and 1.38);
#: at 1.3–1.4·10⁷ 0.80–1.07; from 2.6·10⁷ on 0.60–1.06, mostly below 1 (im2col at 2.3·10⁸:
#: 0.60). The noise of a shared VM is ±20 % on these small layers: the threshold is the order
#: of magnitude, not a sharp edge.
MIN_SHARED_MACS = 10**7

#: At most this many bytes of columns are kept from forward for backward (the whole batch's):
#: rebuilding them costs a copy per chunk, keeping them costs memory. 64 MB holds the columns
#: of a 3×3 convolution with 16 input channels over 128 images of 28×28.
KEEP_BYTES = 64 * 2**20


def _window(start: tuple[int, ...], stride, out) -> tuple[slice, ...]:
    """Slices picking, for one kernel position, the element it sees in every output window."""
    return (slice(None), slice(None)) + tuple(
        slice(i, i + s * (o - 1) + 1, s) for i, s, o in zip(start, stride, out))


def _im2col(xt: np.ndarray, kernel, stride, out, cols: np.ndarray) -> None:
    """Fill ``cols`` (C, *kernel, m, *out) from the padded input with channels first, ``xt``
    (C, m, *padded), in one copy from a strided view of all the windows."""
    nd = len(kernel)
    windows = sliding_window_view(xt, kernel, axis=tuple(range(2, 2 + nd)))
    windows = windows[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
    # (C, m, *out, *kernel) → (C, *kernel, m, *out)
    order = (0,) + tuple(range(2 + nd, 2 + 2 * nd)) + (1,) + tuple(range(2, 2 + nd))
    np.copyto(cols, windows.transpose(order))


def _col2im(dcols: np.ndarray, dxt: np.ndarray, kernel, stride, out) -> None:
    """The adjoint of :func:`_im2col`: add each kernel position's block of ``dcols`` back into
    ``dxt`` (C, m, *padded) where it was read from."""
    for pos in np.ndindex(*kernel):
        dxt[_window(pos, stride, out)] += dcols[(slice(None),) + pos]


def _shifts(kernel, padded) -> list[int]:
    """For stride 1: how far each kernel position (row-major) is from the window's corner in
    a flattened padded image."""
    return [sum(i * math.prod(padded[a + 1:]) for a, i in enumerate(pos))
            for pos in np.ndindex(*kernel)]


def _im2col_flat(xf: np.ndarray, shifts: list[int], cols: np.ndarray) -> None:
    """Fill ``cols`` (C, K, columns) from the flattened padded input ``xf`` (C, m·padded):
    kernel position k reads ``xf`` shifted by ``shifts[k]``, one contiguous slice per channel."""
    n = cols.shape[2]
    for k, shift in enumerate(shifts):
        cols[:, k] = xf[:, shift:shift + n]


def _col2im_flat(dcols: np.ndarray, dxf: np.ndarray, shifts: list[int]) -> None:
    """The adjoint of :func:`_im2col_flat`: add ``dcols[:, k]`` into ``dxf`` shifted by
    ``shifts[k]``."""
    n = dcols.shape[2]
    for k, shift in enumerate(shifts):
        dxf[:, shift:shift + n] += dcols[:, k]


def products_macs(layer, shape: tuple[int, ...], use_winograd: bool) -> int:
    """Multiply-adds of a forward's matrix products on input ``shape`` (m, C_in, *size): im2col's
    m·C_out·C_in·(kernel area)·(outputs per image), or Winograd's F(2×2, 3×3)
    m·(2×2 tiles per image)·16·C_in·C_out (16 where im2col does 36 per tile)."""
    out = [(n + 2 * p - k) // s + 1 for n, k, s, p in
           zip(shape[2:], layer.kernel_size, layer.stride, layer.padding)]
    if use_winograd:
        per_image = 16 * math.prod(winograd.tiles(o) for o in out)
    else:
        per_image = math.prod(layer.kernel_size) * math.prod(out)
    return shape[0] * layer.out_channels * layer.in_channels * per_image


class ConvEngine:
    """The fast forward and backward of one convolution layer (its kernel, stride, padding and
    channels are read from the layer at each call). Owns its thread pool (created on first
    parallel use), a BLAS controller, per-thread scratch buffers and what backward keeps.

    Copies (``copy.deepcopy``, pickling) get a fresh engine: threads and buffers are not state.

    Args:
        chunk_bytes: the size of the im2col matrix built at once (see the module docstring).
        keep_bytes: the most bytes of columns kept from forward for backward.
        min_shared_macs: the fewest multiply-adds for which a layer's chunks are shared among
            threads (see :data:`MIN_SHARED_MACS`).
    """

    def __init__(self, chunk_bytes: int = CHUNK_BYTES, keep_bytes: int = KEEP_BYTES,
                 min_shared_macs: int = MIN_SHARED_MACS):
        self.chunk_bytes = chunk_bytes
        self.keep_bytes = keep_bytes
        self.min_shared_macs = min_shared_macs
        self._shared = False  # whether the last forward shared its chunks among threads
        self._threads = Workers("whynet-conv")  # the calling thread and helpers
        self._local = threading.local()
        self._xp, self._cols_kept = None, False
        self._kept = np.empty(0, dtype=np.uint8)  # the columns of every chunk, reused
        self._winograd_call = False  # whether the last forward ran Winograd's algorithm
        # Winograd's padded input (its own layout: a byte buffer of per-chunk slots), the input
        # shape, padding, chunk and dtype it was laid out for, and the last forward's (plan, U);
        # the im2col path keeps its own padded input in _xp.
        self._wg_xp, self._wg_xp_key = np.empty(0, dtype=np.uint8), None
        self._winograd = None
        self.winograd = "auto"

    def __getstate__(self) -> dict:
        return {"chunk_bytes": self.chunk_bytes, "keep_bytes": self.keep_bytes,
                "min_shared_macs": self.min_shared_macs, "winograd": self.winograd}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["chunk_bytes"], state["keep_bytes"],
                      state.get("min_shared_macs", MIN_SHARED_MACS))
        self.winograd = state.get("winograd", "auto")

    def __deepcopy__(self, memo) -> "ConvEngine":
        engine = ConvEngine(self.chunk_bytes, self.keep_bytes, self.min_shared_macs)
        engine.winograd = self.winograd
        return engine

    @property
    def winograd(self) -> str:
        """Where Winograd's F(2×2, 3×3) (:mod:`whynet.nn.winograd`) replaces im2col, for the
        layers it can compute (2-D, 3×3, stride 1): "auto" (default: where it measured faster,
        :func:`whynet.nn.winograd.faster`), "always" or "never". Both compute the same function,
        to round-off."""
        return self._winograd_mode

    @winograd.setter
    def winograd(self, mode: str) -> None:
        if mode not in WINOGRAD_MODES:
            raise ConfigError(_("ConvEngine: winograd must be one of {modes}, got {mode!r}")
                              .format(modes=WINOGRAD_MODES, mode=mode))
        self._winograd_mode = mode

    @property
    def min_shared_macs(self) -> int:
        """A layer's chunks are shared among threads when its forward's products do at least
        this many multiply-adds (:func:`products_macs`; :data:`MIN_SHARED_MACS` by default; 0:
        always, when BLAS may use several threads). Either way the values are the same to
        round-off."""
        return self._min_shared_macs

    @min_shared_macs.setter
    def min_shared_macs(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(_("ConvEngine: min_shared_macs must be a whole number ≥ 0, got "
                                "{value!r}").format(value=value))
        self._min_shared_macs = int(value)

    def use_winograd(self, layer, x: np.ndarray) -> bool:
        """Whether this forward runs :mod:`whynet.nn.winograd`: a 3×3 stride-1 2-D layer, unless
        :attr:`winograd` is "never"; with "auto", only where it measured faster."""
        mode = self.winograd
        if mode == "never" or not winograd.eligible(layer.kernel_size, layer.stride):
            return False
        return mode == "always" or winograd.faster(layer, x)

    # -- threads and scratch ------------------------------------------------------------------
    def _scratch(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array from this thread's buffer ``name``, kept for the next call: a
        fresh multi-MB array costs a page fault per 4 KB page when first written, which measured
        as slow as the im2col copy itself. The buffer only grows (a few MB per thread)."""
        buffers = self._local.__dict__.setdefault("buffers", {})
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        buf = buffers.get(name)
        if buf is None or buf.size < nbytes:
            buf = buffers[name] = np.empty(nbytes, dtype=np.uint8)
        return buf[:nbytes].view(dtype).reshape(shape)

    def _zeroed_scratch(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """As :meth:`_scratch`, but zero when first handed out for this shape and dtype; the
        caller must write only where it is allowed to be nonzero afterwards (the outputs inside
        the grid), so that the rest stays zero for the next call without a fill."""
        buf = self._scratch(name, shape, dtype)
        clean = self._local.__dict__.setdefault("clean", {})
        key = (shape, np.dtype(dtype).str, buf.__array_interface__["data"][0])
        if clean.get(name) != key:
            buf.fill(0)
            clean[name] = key
        return buf

    def _workers(self, chunks: int) -> int:
        """Threads to share ``chunks`` chunks: as many as NumPy's BLAS may use now (so a
        ``threadpool_limits`` around the caller applies here too), at most the cores and chunks;
        one for a layer too small to share (see :data:`MIN_SHARED_MACS`)."""
        if not self._shared:
            return 1
        return max(1, min(self._threads.threads(), chunks))

    def _decide_sharing(self, layer, x: np.ndarray) -> None:
        """Whether this forward (and its backward) shares chunks among threads: when its
        products do at least :attr:`min_shared_macs` multiply-adds (:func:`products_macs`)."""
        macs = products_macs(layer, x.shape, self._winograd_call)
        self._shared = macs >= self.min_shared_macs

    def _run_chunks(self, work, starts: list[int]) -> list:
        """``work(start)`` for every chunk start, on :meth:`_workers` threads with single-threaded
        BLAS; thread t takes starts t, t + T, … in order. A layer too small to share runs as on
        one thread (the calling thread, BLAS single-threaded: waking BLAS's threads for its small
        products costs more than they save). Returns the results in ``starts`` order."""
        if not self._shared:
            with self._threads.single_threaded_blas():
                return [work(s) for s in starts]
        t = self._workers(len(starts))
        if t == 1:
            return [work(s) for s in starts]
        # For this call only (restored on exit); BLAS calls of other threads meanwhile would run
        # single-threaded too.
        with self._threads.single_threaded_blas():
            parts = self._threads.map(lambda i: [work(s) for s in starts[i::t]], list(range(t)))
        return [parts[i % t][i // t] for i in range(len(starts))]

    # -- geometry -----------------------------------------------------------------------------
    def _geometry(self, layer, x: np.ndarray) -> None:
        """Sizes for input ``x``: the output, the padded input, the grid of output columns
        computed (the padded grid with stride 1, the outputs otherwise) and the chunk size."""
        k, s, p = layer.kernel_size, layer.stride, layer.padding
        self._kernel, self._stride, self._c_in = k, s, layer.in_channels
        self._out = tuple((n + 2 * q - kk) // ss + 1 for n, kk, ss, q in zip(x.shape[2:], k, s, p))
        self._padded = tuple(n + 2 * q for n, q in zip(x.shape[2:], p))
        self._pad = p
        flat = all(v == 1 for v in s)
        self._shifts = _shifts(k, self._padded) if flat else None
        self._grid = self._padded if flat else self._out
        m, rows = x.shape[0], layer.in_channels * math.prod(k)
        # Counted on the outputs: with stride 1 the grid's border makes cols a little larger.
        chunk = max(1, min(m, self.chunk_bytes // (rows * math.prod(self._out) * x.itemsize)))
        count = -(-m // chunk)
        # Near-equal chunks, as many for each thread. A batch that fits in one chunk is split
        # among threads only if its columns take SPLIT_BYTES or more (smaller layers measured
        # slower split: a thread hand-off per call costs more than it saves).
        if count > 1 or m * rows * math.prod(self._out) * x.itemsize >= SPLIT_BYTES:
            threads = self._workers(m)
            count = -(-count // threads) * threads
        self._chunk = -(-m // count) if m else 1

    def _columns(self, n: int) -> int:
        """Columns of cols for a chunk of n images (with stride 1, the last grid positions
        would read past the chunk, and are all cropped anyway)."""
        return n * math.prod(self._grid) - (self._shifts[-1] if self._shifts else 0)

    def _cols_shape(self, n: int) -> tuple[int, ...]:
        """The shape :func:`_im2col` or :func:`_im2col_flat` fills for a chunk of n images."""
        c_in, k = self._c_in, self._kernel
        if self._shifts is None:
            return (c_in,) + k + (n,) + self._out
        return (c_in, math.prod(k), self._columns(n))

    def _keep(self, m: int, dtype) -> bool:
        """Whether this forward keeps the columns of all m images (see :data:`KEEP_BYTES`), the
        kept buffer then grown to hold them."""
        count = -(-m // self._chunk)
        return self._keep_bytes(
            count * math.prod(self._cols_shape(self._chunk)) * np.dtype(dtype).itemsize)

    def _keep_bytes(self, nbytes: int) -> bool:
        """Whether ``nbytes`` may be kept from forward for backward (at most
        :attr:`keep_bytes`), the kept buffer then grown to hold them."""
        if nbytes > self.keep_bytes:
            return False
        if self._kept.size < nbytes:
            self._kept = np.empty(nbytes, dtype=np.uint8)
        return True

    def _kept_cols(self, start: int, n: int, dtype) -> np.ndarray:
        """The kept buffer's slot for the chunk of n images starting at image ``start``."""
        shape = self._cols_shape(n)
        size = math.prod(self._cols_shape(self._chunk)) * np.dtype(dtype).itemsize
        offset = (start // self._chunk) * size
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        return self._kept[offset:offset + nbytes].view(dtype).reshape(shape)

    def _im2col(self, xc: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """cols (C_in·K, columns) of a chunk ``xc`` (C_in, n, *padded), into ``cols`` (of
        :meth:`_cols_shape`) or the thread's scratch buffer."""
        n, k, c_in = xc.shape[1], self._kernel, self._c_in
        if cols is None:
            cols = self._scratch("cols", self._cols_shape(n), xc.dtype)
        if self._shifts is None:
            _im2col(xc, k, self._stride, self._out, cols)
        else:
            _im2col_flat(xc.reshape(c_in, -1), self._shifts, cols)
        return cols.reshape(c_in * math.prod(k), -1)

    def _col2im(self, dcols: np.ndarray, dxc: np.ndarray) -> None:
        """Add ``dcols`` (C_in·K, columns) into the padded input gradient ``dxc`` (C_in, n, …)."""
        n, k, c_in = dxc.shape[1], self._kernel, self._c_in
        if self._shifts is None:
            _col2im(dcols.reshape((c_in,) + k + (n,) + self._out), dxc, k, self._stride, self._out)
        else:
            _col2im_flat(dcols.reshape(c_in, math.prod(k), -1), dxc.reshape(c_in, -1),
                         self._shifts)

    def _crop(self) -> tuple[slice, ...]:
        """The outputs within the grid (C_out, n, *grid)."""
        return (slice(None), slice(None)) + tuple(slice(o) for o in self._out)

    # -- the passes ---------------------------------------------------------------------------
    def forward(self, layer, x: np.ndarray) -> np.ndarray:
        """``Z = W₂ · cols + b`` for ``x`` (m, C_in, *size) already of the weights' dtype."""
        self._winograd_call = self.use_winograd(layer, x)
        self._decide_sharing(layer, x)
        if self._winograd_call:
            return winograd.forward(self, layer, x)
        w = layer.W.value
        self._geometry(layer, x)
        m, c_in, c_out, chunk = x.shape[0], layer.in_channels, layer.out_channels, self._chunk
        w2 = w.reshape(c_out, -1)
        nd = len(self._out)
        bias = (layer.b.value if layer.b is not None else np.zeros(c_out, w.dtype)).reshape(
            (c_out,) + (1,) * nd)
        # Padded, channels first: a chunk of images is then a (C_in, n·padded) matrix.
        # Kept for the next batch of the same size: only its inside is written (see _scratch).
        xp = self._xp
        if xp is None or xp.shape != (c_in, m) + self._padded or xp.dtype != w.dtype:
            xp = np.zeros((c_in, m) + self._padded, dtype=w.dtype)
        inside = (slice(None), slice(None)) + tuple(
            slice(p, p + n) for n, p in zip(x.shape[2:], self._pad))
        z = np.empty((m, c_out) + self._out, dtype=w.dtype)
        # Training keeps every chunk's columns for backward, when they fit (see KEEP_BYTES).
        keep = layer.training and self._keep(m, w.dtype)

        def chunk_forward(start: int) -> None:
            xc = xp[:, start:start + chunk]
            n = xc.shape[1]
            xc[inside] = x[start:start + n].swapaxes(0, 1)
            cols = self._im2col(xc, self._kept_cols(start, n, w.dtype) if keep else None)
            zg = self._scratch("grid", (c_out, n) + self._grid, w.dtype)
            np.matmul(w2, cols, out=zg.reshape(c_out, -1)[:, :cols.shape[1]])
            np.add(zg[self._crop()].swapaxes(0, 1), bias, out=z[start:start + n])

        self._run_chunks(chunk_forward, list(range(0, m, chunk)))
        self._xp = xp
        self._cols_kept = keep
        return z

    def backward(self, layer, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Accumulates ``dW += dZ · colsᵀ`` and ``db += Σ dZ`` into the layer's gradients and
        returns ``dx`` (col2im of ``dcols = W₂ᵀ · dZ``, cropped), or None if not ``need_dx``.
        Chunk by chunk, as in forward, with the columns forward kept (rebuilt from the kept
        padded input if they were too many to keep). dZ is zero at grid positions that are not
        outputs."""
        if self._winograd_call:
            return winograd.backward(self, layer, dout, need_dx)
        xp, chunk = self._xp, self._chunk
        m, c_out = dout.shape[0], layer.out_channels
        w2 = layer.W.value.reshape(c_out, -1)
        size = tuple(n - 2 * p for n, p in zip(self._padded, self._pad))
        dx = np.empty((m, self._c_in) + size, dout.dtype) if need_dx else None
        inside = (slice(None), slice(None)) + tuple(
            slice(p, n - p) for n, p in zip(self._padded, self._pad))

        def chunk_backward(start: int) -> tuple[np.ndarray, np.ndarray]:
            xc = xp[:, start:start + chunk]
            n = xc.shape[1]
            if self._cols_kept:
                cols = self._kept_cols(start, n, dout.dtype).reshape(-1, self._columns(n))
            else:
                cols = self._im2col(xc)
            # Junk grid positions must get zero gradient: zeroed once, never written.
            dz = self._zeroed_scratch("dz", (c_out, n) + self._grid, dout.dtype)
            dz[self._crop()] = dout[start:start + n].swapaxes(0, 1)
            dz = dz.reshape(c_out, -1)[:, :cols.shape[1]]
            # cols · dZᵀ = (dZ · colsᵀ)ᵀ: this orientation measured ~1.5× faster with OpenBLAS.
            dw_t = cols @ dz.T
            if need_dx:
                dcols = self._scratch("dcols", cols.shape, dout.dtype)
                dxc = self._scratch("dx", xc.shape, dout.dtype)
                dxc.fill(0)
                self._col2im(np.matmul(w2.T, dz, out=dcols), dxc)
                dx[start:start + n] = dxc[inside].swapaxes(0, 1)  # cropped, batch first again
            return dw_t, dz.sum(axis=1)

        parts = self._run_chunks(chunk_backward, list(range(0, m, chunk)))
        if not parts:  # an empty batch: nothing to add
            return dx
        # Summed in chunk order, whichever thread finished first: bitwise reproducible.
        dw_t, db = parts[0] if len(parts) == 1 else (sum(p[0] for p in parts),
                                                     sum(p[1] for p in parts))
        layer.W.grad += dw_t.T.reshape(layer.W.shape)
        if layer.b is not None:
            layer.b.grad += db
        return dx
