"""Convolution and pooling: Conv1d, Conv2d, MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d,
GlobalAvgPool.

Layout as PyTorch: inputs (m, C, L) or (m, C, H, W), channels first; a convolution's weight has
shape (C_out, C_in, kH, kW), so :func:`whynet.nn.init.compute_fans` gives PyTorch's fans
(fan_in = C_in·kH·kW). Like PyTorch (and every deep-learning library), "convolution" means
cross-correlation: the kernel is not flipped.

Output size along each spatial axis, for input size L, kernel k, stride s and padding p::

    L_out = ⌊(L + 2p − k) / s⌋ + 1

How it is computed (*im2col*): the input, zero-padded and with channels first (C, m, *padded),
is copied once into a matrix ``cols`` of shape (C_in·kH·kW, columns), so the forward pass is one
matrix product ``Z = W₂ · cols`` with ``W₂`` = W reshaped to (C_out, C_in·kH·kW), and
``dW = dZ · colsᵀ`` in backward is another. The way back, ``dcols = W₂ᵀ · dZ``, is added into the
input where it was read from (*col2im*) by a loop over the kH·kW kernel positions, one
vectorised add each (nine for a 3×3 kernel, not one per element as ``np.add.at``).

Which columns: with stride 1 (the common case), a kernel position (i, j) reads the padded image
shifted by ``i·W_p + j`` in its flattened (row-major) order, so its row block of ``cols`` is one
contiguous slice of the flattened input, and its col2im is one contiguous add: the columns are
all positions of the padded grid (the few that straddle a row or image edge compute junk that is
cropped away, and get zero gradient). This costs (H_p·W_p)/(H_out·W_out) more columns (15 % on
28×28 with padding 1) but makes the copy and the add 2–3× faster than on a strided view of the
windows, which is what strided convolutions use (``sliding_window_view``; columns = outputs).

The batch is processed in chunks whose ``cols`` take a few MB (:data:`CHUNK_BYTES`), so memory
stays bounded for any batch size and each chunk is still in cache when it is multiplied. When
NumPy's BLAS may use several threads, the chunks are shared among as many Python threads
(NumPy releases the GIL in copies, adds and matrix products) and BLAS runs single-threaded in
each: a copy or an add on its own would run on one core, and small products scale worse over
cores than independent chunks do. Each thread owns fixed chunks and writes only their slices;
per-chunk weight gradients are summed in chunk order, so results are bitwise the same run to
run (the chunks, and so the round-off of dW and db, depend on the number of threads).

Pooling is separable: a kH×kW window's maximum (or mean) is taken along the width, then along
the height, with kH + kW − 2 element-wise operations on strided views.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import ThreadpoolController

from .. import dtypes
from ..errors import ConfigError, ShapeError
from ..random import make_rng
from .init import Initializer, get_initializer
from .module import Module

DEFAULT_INIT = "he_uniform"
#: Bytes of the im2col matrix built at once. 4 MB was fastest on a 2-core Xeon (vs 1, 2, 8 MB and
#: the whole batch): a 29 MB cols matrix falls out of cache between its copy and its product.
CHUNK_BYTES = 4 * 2**20

_pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool): a fork has no threads
_blas: ThreadpoolController | None = None
_local = threading.local()


def _scratch(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array from this thread's buffer ``name``, kept for the next call: a
    fresh multi-MB array costs a page fault per 4 KB page when first written, which measured
    as slow as the im2col copy itself. The buffer only grows (a few MB per thread)."""
    buffers = _local.__dict__.setdefault("buffers", {})
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buf = buffers.get(name)
    if buf is None or buf.size < nbytes:
        buf = buffers[name] = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def _workers(chunks: int) -> int:
    """Threads to share ``chunks`` chunks: as many as NumPy's BLAS may use (so a
    ``threadpool_limits`` around the caller applies here too), at most the cores and chunks."""
    global _blas
    if _blas is None:
        _blas = ThreadpoolController().select(user_api="blas")
    threads = max((lib.num_threads for lib in _blas.lib_controllers), default=1)
    return max(1, min(threads, os.cpu_count() or 1, chunks))


def _run_chunks(work, starts: list[int]) -> list:
    """``work(start)`` for every chunk start, on :func:`_workers` threads with single-threaded
    BLAS; thread t takes starts t, t + T, … in order. Returns the results in ``starts`` order."""
    global _pool
    t = _workers(len(starts))
    if t == 1:
        return [work(s) for s in starts]
    if _pool is None or _pool[0] != os.getpid():
        _pool = os.getpid(), ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="whynet-conv")
    # The limit is process-wide: BLAS calls elsewhere meanwhile run single-threaded too.
    with _blas.limit(limits=1):
        parts = list(_pool[1].map(lambda i: [work(s) for s in starts[i::t]], range(t)))
    return [parts[i % t][i // t] for i in range(len(starts))]


def _check_size(owner: str, arg: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{owner}: {arg} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _ntuple(owner: str, arg: str, value, n: int, minimum: int = 1) -> tuple[int, ...]:
    """``value`` as an n-tuple of ints ≥ ``minimum``: an int is repeated, a sequence is checked."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ConfigError(f"{owner}: {arg} must be an int or {n} ints, got {value!r}")
        return tuple(_check_size(owner, arg, v, minimum) for v in value)
    return (_check_size(owner, arg, value, minimum),) * n


def _dims(sizes: tuple[int, ...]) -> str:
    return "×".join(map(str, sizes))


def _output_size(size, kernel, stride, padding) -> tuple[int, ...]:
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))


def _window(start: tuple[int, ...], stride, out) -> tuple[slice, ...]:
    """Slices picking, for one kernel position, the element it sees in every output window."""
    return (slice(None), slice(None)) + tuple(
        slice(i, i + s * (o - 1) + 1, s) for i, s, o in zip(start, stride, out))


def _pad(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    if not any(padding):
        return x
    xp = np.full(x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding)),
                 value, dtype=x.dtype)
    inside = tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))
    xp[(slice(None), slice(None)) + inside] = x
    return xp


def _unpad(xp: np.ndarray, padding) -> np.ndarray:
    if not any(padding):
        return xp
    return xp[(slice(None), slice(None))
              + tuple(slice(p, n - p) for n, p in zip(xp.shape[2:], padding))]


def _im2col(xt: np.ndarray, kernel, stride, out, cols: np.ndarray) -> None:
    """Fill ``cols`` (C, *kernel, m, *out) from the padded input with channels first, ``xt``
    (C, m, *padded): ``cols[:, i, j]`` is the pixel that kernel position (i, j) meets in every
    output window. One copy from a strided view of all the windows (no data is duplicated
    until this copy)."""
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


class _SpatialModule(Module):
    """Checks shared by convolutions and pools over ``_nd`` spatial axes (channels on axis 1)."""

    _nd = 2

    @property
    def _layout(self) -> str:
        return "(m, C, L)" if self._nd == 1 else "(m, C, H, W)"

    def _check_spatial(self, x, channels: int | None = None) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != self._nd + 2:
            shape = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise ShapeError(f"{self!r}: expected input of rank {self._nd + 2}, "
                             f"{self._layout}, got {shape}")
        if channels is not None and x.shape[1] != channels:
            want = self._layout.replace("C", str(channels))
            raise ShapeError(f"{self!r}: expected input of shape {want} "
                             f"({channels} channels), got {x.shape} ({x.shape[1]} channels)")
        padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], self.padding))
        if any(k > n for k, n in zip(self.kernel_size, padded)):
            raise ShapeError(f"{self!r}: kernel {_dims(self.kernel_size)} is larger than the "
                             f"padded input {_dims(padded)} (input {x.shape}, padding "
                             f"{_dims(self.padding)})")
        return x


class _ConvNd(_SpatialModule):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init: str | Initializer = DEFAULT_INIT,
                 bias_init: str | Initializer = "zeros", rng=None, dtype=None, **init_kwargs):
        super().__init__()
        owner, nd = type(self).__name__, self._nd
        self.in_channels = _check_size(owner, "in_channels", in_channels)
        self.out_channels = _check_size(owner, "out_channels", out_channels)
        self.kernel_size = _ntuple(owner, "kernel_size", kernel_size, nd)
        self.stride = _ntuple(owner, "stride", stride, nd)
        self.padding = _ntuple(owner, "padding", padding, nd, minimum=0)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        rng = make_rng(rng)
        self.init_name = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        # A callable initialiser cannot be written to JSON. The saved weights replace whatever a
        # rebuilt layer draws, so get_config names the default in its place.
        self._init_config = ({"init": init, **init_kwargs} if isinstance(init, str)
                             else {"init": DEFAULT_INIT})
        self._init_config["bias_init"] = bias_init if isinstance(bias_init, str) else "zeros"
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        w = get_initializer(init, **init_kwargs)(shape, rng, dt)
        self.W = self.add_parameter("W", np.ascontiguousarray(w, dtype=dt))
        self.b = None
        if bias:
            b = get_initializer(bias_init)((self.out_channels,), rng, dt)
            self.b = self.add_parameter("b", np.ascontiguousarray(b, dtype=dt), regularize=False)

    def _geometry(self, x: np.ndarray) -> None:
        """Sizes for input ``x``: the output, the padded input, the grid of output columns
        computed (the padded grid with stride 1, the outputs otherwise) and the chunk size."""
        self._out = _output_size(x.shape[2:], self.kernel_size, self.stride, self.padding)
        self._padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], self.padding))
        flat = all(s == 1 for s in self.stride)
        self._shifts = _shifts(self.kernel_size, self._padded) if flat else None
        self._grid = self._padded if flat else self._out
        m, rows = x.shape[0], self.in_channels * math.prod(self.kernel_size)
        # Counted on the outputs: with stride 1 the grid's border makes cols a little larger.
        chunk = max(1, min(m, CHUNK_BYTES // (rows * math.prod(self._out) * x.itemsize)))
        count = -(-m // chunk)
        # Near-equal chunks, as many for each thread. A batch that fits in one chunk is not
        # split among threads: measured slower (small layers).
        if count > 1:
            threads = _workers(count)
            count = -(-count // threads) * threads
        self._chunk = -(-m // count) if m else 1

    def _columns(self, n: int) -> int:
        """Columns of cols for a chunk of n images (with stride 1, the last grid positions
        would read past the chunk, and are all cropped anyway)."""
        return n * math.prod(self._grid) - (self._shifts[-1] if self._shifts else 0)

    def _im2col(self, xc: np.ndarray, keep: bool = False) -> np.ndarray:
        """cols (C_in·K, columns) of a chunk ``xc`` (C_in, n, *padded), in the thread's scratch
        buffer unless they are to be kept."""
        n, k = xc.shape[1], self.kernel_size
        new = np.empty if keep else lambda shape, dtype: _scratch("cols", shape, dtype)
        if self._shifts is None:
            cols = new((self.in_channels,) + k + (n,) + self._out, dtype=xc.dtype)
            _im2col(xc, k, self.stride, self._out, cols)
        else:
            cols = new((self.in_channels, math.prod(k), self._columns(n)), dtype=xc.dtype)
            _im2col_flat(xc.reshape(self.in_channels, -1), self._shifts, cols)
        return cols.reshape(self.in_channels * math.prod(k), -1)

    def _col2im(self, dcols: np.ndarray, dxc: np.ndarray) -> None:
        """Add ``dcols`` (C_in·K, columns) into the padded input gradient ``dxc`` (C_in, n, …)."""
        n, k = dxc.shape[1], self.kernel_size
        if self._shifts is None:
            _col2im(dcols.reshape((self.in_channels,) + k + (n,) + self._out), dxc, k,
                    self.stride, self._out)
        else:
            _col2im_flat(dcols.reshape(self.in_channels, math.prod(k), -1),
                         dxc.reshape(self.in_channels, -1), self._shifts)

    def _crop(self) -> tuple[slice, ...]:
        """The outputs within the grid (C_out, n, *grid)."""
        return (slice(None), slice(None)) + tuple(slice(o) for o in self._out)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_spatial(x, self.in_channels)
        w = self.W.value
        x = x.astype(w.dtype, copy=False)
        self._geometry(x)
        m, c_in, c_out, chunk = x.shape[0], self.in_channels, self.out_channels, self._chunk
        w2 = w.reshape(c_out, -1)
        bias = (self.b.value if self.b is not None else np.zeros(c_out, w.dtype)).reshape(
            (c_out,) + (1,) * self._nd)
        # Padded, channels first: a chunk of images is then a (C_in, n·padded) matrix.
        # Kept for the next batch of the same size: only its inside is written (see _scratch).
        xp = getattr(self, "_xp", None)
        if xp is None or xp.shape != (c_in, m) + self._padded or xp.dtype != w.dtype:
            xp = np.zeros((c_in, m) + self._padded, dtype=w.dtype)
        inside = (slice(None), slice(None)) + tuple(
            slice(p, p + n) for n, p in zip(x.shape[2:], self.padding))
        z = np.empty((m, c_out) + self._out, dtype=w.dtype)

        def chunk_forward(start: int) -> np.ndarray:
            xc = xp[:, start:start + chunk]
            n = xc.shape[1]
            xc[inside] = x[start:start + n].swapaxes(0, 1)
            cols = self._im2col(xc, keep=chunk == m)
            zg = _scratch("grid", (c_out, n) + self._grid, w.dtype)
            np.matmul(w2, cols, out=zg.reshape(c_out, -1)[:, :cols.shape[1]])
            np.add(zg[self._crop()].swapaxes(0, 1), bias, out=z[start:start + n])
            return cols

        cols = _run_chunks(chunk_forward, list(range(0, m, chunk)))
        self._xp = xp
        self._cols = cols[0] if chunk == m else None  # one chunk: backward can reuse it
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """With dZ = ∂L/∂Z as (C_out, columns) and cols as (C_in·K, columns):
        ``dW += dZ · colsᵀ`` reshaped like W; ``db += Σ dZ`` over the batch and positions;
        ``dcols = W₂ᵀ · dZ``, added back into the padded input (col2im) and cropped.
        Chunk by chunk, as in forward; cols are rebuilt from the kept input if there were
        several chunks (cheaper than keeping them all). dZ is zero at grid positions that
        are not outputs."""
        xp, chunk = self._xp, self._chunk
        m, c_out = dout.shape[0], self.out_channels
        w2 = self.W.value.reshape(c_out, -1)
        dx = np.empty((m, self.in_channels) + tuple(n - 2 * p for n, p in
                                                    zip(self._padded, self.padding)), dout.dtype)
        inside = (slice(None), slice(None)) + tuple(
            slice(p, n - p) for n, p in zip(self._padded, self.padding))

        def chunk_backward(start: int) -> tuple[np.ndarray, np.ndarray]:
            xc = xp[:, start:start + chunk]
            n = xc.shape[1]
            cols = self._cols if self._cols is not None else self._im2col(xc)
            dz = _scratch("grid", (c_out, n) + self._grid, dout.dtype)
            dz.fill(0)
            dz[self._crop()] = dout[start:start + n].swapaxes(0, 1)
            dz = dz.reshape(c_out, -1)[:, :cols.shape[1]]
            # cols · dZᵀ = (dZ · colsᵀ)ᵀ: this orientation measured ~1.5× faster with OpenBLAS.
            dw_t = cols @ dz.T
            dcols = _scratch("dcols", cols.shape, dout.dtype)
            dxc = _scratch("dx", xc.shape, dout.dtype)
            dxc.fill(0)
            self._col2im(np.matmul(w2.T, dz, out=dcols), dxc)
            dx[start:start + n] = dxc[inside].swapaxes(0, 1)  # cropped, batch first again
            return dw_t, dz.sum(axis=1)

        parts = _run_chunks(chunk_backward, list(range(0, m, chunk)))
        # Summed in chunk order, whichever thread finished first: bitwise reproducible.
        dw_t, db = np.zeros(w2.T.shape, dtype=dout.dtype), np.zeros(c_out, dtype=dout.dtype)
        for dw_part, db_part in parts:
            dw_t += dw_part
            db += db_part
        self.W.grad += dw_t.T.reshape(self.W.shape)
        if self.b is not None:
            self.b.grad += db
        return dx

    def get_config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.b is not None,
                **self._init_config}

    def extra_repr(self) -> str:
        s = f"{self.in_channels} → {self.out_channels}, kernel {_dims(self.kernel_size)}"
        if any(v != 1 for v in self.stride):
            s += f", stride {_dims(self.stride)}"
        if any(self.padding):
            s += f", padding {_dims(self.padding)}"
        return s + ("" if self.b is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation), PyTorch's ``Conv1d``:
    ``Z[n, o, t] = b[o] + Σ_c Σ_k W[o, c, k] · X̃[n, c, s·t + k]`` with X̃ the zero-padded input.

    Shapes: input (m, C_in, L) → output (m, C_out, L_out), L_out = ⌊(L + 2p − k)/s⌋ + 1;
    ``W`` (C_out, C_in, k), ``b`` (C_out,).

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride, padding: ints (or 1-tuples); padding adds zeros on both ends.
        bias: whether to add ``b`` (initialised by ``bias_init``, zeros by default, as Dense).
        init: weight initialiser by name or callable, fans as PyTorch (fan_in = C_in·k). Default
            ``"he_uniform"`` (Kaiming uniform with ReLU's gain, U(±√(6/fan_in))), since
            convolutions are usually followed by ReLU. PyTorch's own default is Kaiming uniform
            with a = √5, i.e. U(±1/√fan_in): ``init="he_uniform", nonlinearity="leaky_relu",
            a=5 ** 0.5``.
        rng: a Generator or an int seed (None → seed 0). dtype: float32 (default) or float64.
        **init_kwargs: passed to the initialiser.
    """

    _nd = 1


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation), PyTorch's ``Conv2d``:
    ``Z[n, o, y, x] = b[o] + Σ_c Σ_{i,j} W[o, c, i, j] · X̃[n, c, s_h·y + i, s_w·x + j]`` with X̃
    the zero-padded input.

    Shapes: input (m, C_in, H, W) → output (m, C_out, H_out, W_out), H_out = ⌊(H + 2p_h − kH)/s_h⌋
    + 1 (and so for W_out); ``W`` (C_out, C_in, kH, kW), ``b`` (C_out,).

    Args: as :class:`Conv1d`, with ``kernel_size``, ``stride`` and ``padding`` each an int or a
    pair (height, width). Default init ``"he_uniform"`` with fan_in = C_in·kH·kW.
    """

    _nd = 2


class _PoolNd(_SpatialModule):
    def __init__(self, kernel_size, stride=None, padding=0, rng=None, dtype=None):
        super().__init__()
        # rng and dtype are accepted for a uniform layer signature: pooling has no parameters
        # and returns the dtype it is given.
        self._dtype = dtypes.resolve(dtype)
        owner, nd = type(self).__name__, self._nd
        self.kernel_size = _ntuple(owner, "kernel_size", kernel_size, nd)
        self.stride = self.kernel_size if stride is None else _ntuple(owner, "stride", stride, nd)
        self.padding = _ntuple(owner, "padding", padding, nd, minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ConfigError(f"{owner}: padding must be at most half the kernel size, got "
                              f"padding {_dims(self.padding)} for kernel {_dims(self.kernel_size)}")

    def _prepare(self, x: np.ndarray, pad_value: float):
        self._check_spatial(x)
        out = _output_size(x.shape[2:], self.kernel_size, self.stride, self.padding)
        xp = _pad(x, self.padding, pad_value)
        self._padded_shape, self._out = xp.shape, out
        return xp, out

    def get_config(self) -> dict:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding)}

    def extra_repr(self) -> str:
        s = f"kernel {_dims(self.kernel_size)}"
        if self.stride != self.kernel_size:
            s += f", stride {_dims(self.stride)}"
        if any(self.padding):
            s += f", padding {_dims(self.padding)}"
        return s


def _along(ndim: int, axis: int, start: int, stride: int, count: int) -> tuple[slice, ...]:
    """Slices picking ``count`` elements ``start, start + stride, …`` along one axis."""
    index = [slice(None)] * ndim
    index[axis] = slice(start, start + stride * (count - 1) + 1, stride)
    return tuple(index)


class _MaxPoolNd(_PoolNd):
    """Max pooling, one spatial axis at a time.

    The maximum over a kH×kW window is the maximum over its kH rows of each row's maximum over
    kW columns, so the window is reduced along the last axis first, then the one before: kH + kW
    − 2 element-wise maxima instead of kH·kW − 1. Each stage keeps the (first) winning offset
    along its axis; strict ``>`` keeps the first maximum, and reducing columns before rows
    makes the winner the first maximum of the window in row-major order, as PyTorch picks it.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        # −∞ padding, as PyTorch: a padded position never wins the max.
        a, out = self._prepare(x, -np.inf)
        self._stages = []
        for axis in range(a.ndim - 1, 1, -1):
            k, s, o = self.kernel_size[axis - 2], self.stride[axis - 2], out[axis - 2]
            best = a[_along(a.ndim, axis, 0, s, o)].copy()
            arg = np.zeros(best.shape, dtype=np.min_scalar_type(k - 1))
            for j in range(1, k):
                cand = a[_along(a.ndim, axis, j, s, o)]
                wins = cand > best
                np.maximum(best, cand, out=best)
                # The winner is the last offset that beat all before it. Arithmetic, not
                # np.where/copyto(where=…): a data-dependent branch per element is ~10× slower.
                np.maximum(arg, wins * arg.dtype.type(j), out=arg)
            self._stages.append((axis, a.shape, arg))
            a = best
        return a

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The gradient goes to the one input that won each window (the first, on ties)."""
        for axis, in_shape, arg in reversed(self._stages):
            k, s = self.kernel_size[axis - 2], self.stride[axis - 2]
            o = arg.shape[axis]
            dx = np.zeros(in_shape, dtype=dout.dtype)
            for j in range(k):
                view = dx[_along(dx.ndim, axis, j, s, o)]
                if s >= k:  # windows do not overlap along this axis: each input gets one share
                    np.multiply(dout, arg == j, out=view)
                else:
                    view += dout * (arg == j)
            dout = dx
        return _unpad(dout, self.padding)


class _AvgPoolNd(_PoolNd):
    """Average pooling, one spatial axis at a time (the window mean is separable, as the max)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # Zero padding counted in the divisor (PyTorch's default count_include_pad=True).
        a, out = self._prepare(x, 0.0)
        for axis in range(a.ndim - 1, 1, -1):
            k, s, o = self.kernel_size[axis - 2], self.stride[axis - 2], out[axis - 2]
            total = a[_along(a.ndim, axis, 0, s, o)].copy()
            for j in range(1, k):
                total += a[_along(a.ndim, axis, j, s, o)]
            a = total
        return a * dtypes.scalar(1 / math.prod(self.kernel_size), x.dtype)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Each input in a window gets ``dout / (kernel area)`` from it."""
        dout = dout * dtypes.scalar(1 / math.prod(self.kernel_size), dout.dtype)
        shape = list(self._padded_shape)
        # Undo the stages in reverse: first axis 2 (reduced last), then 3, …
        for axis in range(2, len(shape)):
            k, s, o = self.kernel_size[axis - 2], self.stride[axis - 2], self._out[axis - 2]
            in_shape = tuple(shape[:axis + 1]) + dout.shape[axis + 1:]
            dx = np.zeros(in_shape, dtype=dout.dtype)
            for j in range(k):
                dx[_along(dx.ndim, axis, j, s, o)] += dout
            dout = dx
        return _unpad(dout, self.padding)


class MaxPool1d(_MaxPoolNd):
    """Max pooling over positions, PyTorch's ``MaxPool1d``:
    ``y[n, c, t] = max_k x̃[n, c, s·t + k]``.

    Shapes: (m, C, L) → (m, C, L_out), L_out = ⌊(L + 2p − k)/s⌋ + 1. ``stride`` defaults to
    ``kernel_size``; padding (at most k/2) is −∞. Backward routes each gradient to the winner.
    """

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max pooling over an image, PyTorch's ``MaxPool2d``: the maximum of each kH×kW window.

    Shapes: (m, C, H, W) → (m, C, H_out, W_out). ``stride`` defaults to ``kernel_size``; padding
    (at most half the kernel) is −∞. On ties the first maximum in row-major order wins, as in
    PyTorch.
    """

    _nd = 2


class AvgPool1d(_AvgPoolNd):
    """Average pooling over positions, PyTorch's ``AvgPool1d``: the mean of each window of k.

    Shapes: (m, C, L) → (m, C, L_out). ``stride`` defaults to ``kernel_size``; zero padding
    counts in the mean (PyTorch's ``count_include_pad=True``).
    """

    _nd = 1


class AvgPool2d(_AvgPoolNd):
    """Average pooling over an image, PyTorch's ``AvgPool2d``: the mean of each kH×kW window.

    Shapes: (m, C, H, W) → (m, C, H_out, W_out). ``stride`` defaults to ``kernel_size``; zero
    padding counts in the mean (PyTorch's ``count_include_pad=True``).
    """

    _nd = 2


class GlobalAvgPool(Module):
    """The mean of each channel over all positions: ``y[n, c] = mean_{spatial} x[n, c, …]``.

    Shapes: (m, C, L) or (m, C, H, W) → (m, C). The same as PyTorch's ``AdaptiveAvgPool2d(1)``
    followed by ``Flatten()``. Backward spreads ``dy / (number of positions)`` evenly.
    """

    def __init__(self, rng=None, dtype=None):
        super().__init__()
        self._dtype = dtypes.resolve(dtype)  # accepted for a uniform layer signature

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, (3, 4))
        self._shape = x.shape
        return x.mean(axis=tuple(range(2, x.ndim)))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        spatial = self._shape[2:]
        share = dout * dtypes.scalar(1 / math.prod(spatial), dout.dtype)
        return np.broadcast_to(share.reshape(share.shape + (1,) * len(spatial)),
                               self._shape).copy()

    def get_config(self) -> dict:
        return {}
