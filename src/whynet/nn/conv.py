"""Convolution and pooling: Conv1d, Conv2d, MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d,
GlobalAvgPool.

Layout as PyTorch: inputs (m, C, L) or (m, C, H, W), channels first; a convolution's weight has
shape (C_out, C_in, kH, kW), so :func:`whynet.nn.init.compute_fans` gives PyTorch's fans
(fan_in = C_in·kH·kW). Like PyTorch (and every deep-learning library), "convolution" means
cross-correlation: the kernel is not flipped.

Output size along each spatial axis, for input size L, kernel k, stride s and padding p::

    L_out = ⌊(L + 2p − k) / s⌋ + 1

How it is computed (*im2col*, cs231n's ``conv_forward_im2col``): every window of the
zero-padded input is copied as one column of a matrix ``cols`` of shape (C_in·kH·kW, m·H_out·W_out),
so the forward pass is one matrix product ``Z = W₂ · cols + b`` with ``W₂`` = W reshaped to
(C_out, C_in·kH·kW). Backward is two more: ``dW = dZ · colsᵀ`` and ``dcols = W₂ᵀ · dZ``, whose
columns are added back into the input where they were read from (*col2im*). That is all of
:func:`conv_forward` and :func:`conv_backward` below, the readable reference.

The layers run the same products through :class:`whynet.nn.fast_conv.ConvEngine` (contiguous
shifted slices instead of window copies, chunks of the batch on several threads, scratch buffers
kept between calls); ``impl="reference"`` selects the reference instead. Both are tested
against each other and against PyTorch. A 3×3 stride-1 ``Conv2d`` with
``winograd.MIN_CHANNELS`` or more input channels runs Winograd's F(2×2, 3×3) in that engine
instead (:mod:`whynet.nn.winograd`: the same function with 16 products per 2×2 outputs instead
of 36; ``layer.engine.winograd = "never"`` turns it off).

Pooling is separable: a kH×kW window's maximum (or mean) is taken along the width, then along
the height, with kH + kW − 2 element-wise operations on strided views.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import dtypes
from ..errors import ConfigError, ShapeError, check_int
from ..i18n import _
from ..random import make_rng
from .fast_conv import ConvEngine
from .init import Initializer, add_weight_and_bias, init_config
from .module import Module

DEFAULT_INIT = "he_uniform"
IMPLEMENTATIONS = ("fast", "reference")

def _ntuple(owner: str, arg: str, value, n: int, minimum: int = 1) -> tuple[int, ...]:
    """``value`` as an n-tuple of ints ≥ ``minimum``: an int is repeated, a sequence is checked."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ConfigError(_("{owner}: {arg} must be an int or {n} ints, got {value!r}")
                                .format(owner=owner, arg=arg, n=n, value=value))
        return tuple(check_int(owner, arg, v, low=minimum) for v in value)
    return (check_int(owner, arg, value, low=minimum),) * n


def _dims(sizes: tuple[int, ...]) -> str:
    return "×".join(map(str, sizes))


def _output_size(size, kernel, stride, padding) -> tuple[int, ...]:
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))


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


def _window(start: tuple[int, ...], stride, out) -> tuple[slice, ...]:
    """Slices picking, for one kernel position, the element it sees in every output window."""
    return (slice(None), slice(None)) + tuple(
        slice(i, i + s * (o - 1) + 1, s) for i, s, o in zip(start, stride, out))


# -- the readable reference: im2col, one matrix product, col2im -------------------------------

def im2col(x: np.ndarray, kernel, stride, padding) -> np.ndarray:
    """cols (C_in·K, m·L_out) of x (m, C_in, *size), K = ∏kernel, L_out = ∏out: column
    (n, position) holds the window that output position meets in image n, rows ordered
    (channel, *kernel offset) as W's last axes."""
    nd = len(kernel)
    windows = sliding_window_view(_pad(x, padding), kernel, axis=tuple(range(2, 2 + nd)))
    windows = windows[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
    # (m, C, *out, *kernel) → (C, *kernel, m, *out): rows first, columns last.
    order = (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd))
    return windows.transpose(order).reshape(x.shape[1] * math.prod(kernel), -1)


def col2im(dcols: np.ndarray, x_shape, kernel, stride, padding) -> np.ndarray:
    """The adjoint of :func:`im2col`: each kernel offset's row block of ``dcols`` is added back
    into the (padded) input positions it was read from, then the padding is cropped."""
    m, c = x_shape[:2]
    out = _output_size(x_shape[2:], kernel, stride, padding)
    blocks = dcols.reshape((c,) + tuple(kernel) + (m,) + out)
    dxp = np.zeros((m, c) + tuple(n + 2 * p for n, p in zip(x_shape[2:], padding)), dcols.dtype)
    for pos in np.ndindex(*kernel):
        dxp[_window(pos, stride, out)] += blocks[(slice(None),) + pos].swapaxes(0, 1)
    return _unpad(dxp, padding)


def conv_forward(x, w, b, stride, padding) -> tuple[np.ndarray, np.ndarray]:
    """``Z = W₂ · cols + b``, as (m, C_out, *out); returns Z and cols (what backward needs)."""
    m, c_out, kernel = x.shape[0], w.shape[0], w.shape[2:]
    cols = im2col(x, kernel, stride, padding)
    z = w.reshape(c_out, -1) @ cols                                   # (C_out, m·L_out)
    if b is not None:
        z += b[:, None]
    out = _output_size(x.shape[2:], kernel, stride, padding)
    return z.reshape((c_out, m) + out).swapaxes(0, 1), cols


def conv_backward(dout, cols, x_shape, w, stride, padding):
    """``dW = dZ · colsᵀ``, ``db = Σ dZ``, ``dx = col2im(W₂ᵀ · dZ)``, with dZ = dout as
    (C_out, m·L_out). Returns (dx, dW, db)."""
    c_out = w.shape[0]
    dz = dout.swapaxes(0, 1).reshape(c_out, -1)
    dw = (dz @ cols.T).reshape(w.shape)
    dx = col2im(w.reshape(c_out, -1).T @ dz, x_shape, w.shape[2:], stride, padding)
    return dx, dw, dz.sum(axis=1)


class _SpatialModule(Module):
    """Checks shared by convolutions and pools over ``_nd`` spatial axes (channels on axis 1)."""

    _nd = 2

    @property
    def _layout(self) -> str:
        return "(m, C, L)" if self._nd == 1 else "(m, C, H, W)"

    def _check_spatial(self, x, channels: int | None = None) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != self._nd + 2:
            shape = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise ShapeError(_("{self!r}: expected input of rank {nd}, {layout}, got {shape}")
                               .format(self=self, nd=self._nd + 2, layout=self._layout,
                                       shape=shape))
        if channels is not None and x.shape[1] != channels:
            want = self._layout.replace("C", str(channels))
            raise ShapeError(_("{self!r}: expected input of shape {want} ({channels} channels), "
                               "got {shape} ({shape2} channels)")
                               .format(self=self, want=want, channels=channels,
                                       shape=x.shape, shape2=x.shape[1]))
        padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], self.padding))
        if any(k > n for k, n in zip(self.kernel_size, padded)):
            raise ShapeError(_("{self!r}: kernel {dims} is larger than the padded input {dims2} "
                               "(input {shape}, padding {dims3})")
                               .format(self=self, dims=_dims(self.kernel_size),
                                       dims2=_dims(padded), shape=x.shape,
                                       dims3=_dims(self.padding)))
        return x


class _ConvNd(_SpatialModule):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init: str | Initializer = DEFAULT_INIT,
                 bias_init: str | Initializer = "zeros", rng=None, dtype=None,
                 impl: str = "fast", **init_kwargs):
        super().__init__()
        owner, nd = type(self).__name__, self._nd
        if impl not in IMPLEMENTATIONS:
            raise ConfigError(_("{owner}: impl must be one of {implementations}, got {impl!r}")
                                .format(owner=owner, implementations=IMPLEMENTATIONS,
                                        impl=impl))
        #: "fast" (the ConvEngine) or "reference" (conv_forward/conv_backward); may be changed
        #: between calls. Not part of get_config: both compute the same function.
        self.impl = impl
        self.engine = ConvEngine()
        self.in_channels = check_int(owner, "in_channels", in_channels)
        self.out_channels = check_int(owner, "out_channels", out_channels)
        self.kernel_size = _ntuple(owner, "kernel_size", kernel_size, nd)
        self.stride = _ntuple(owner, "stride", stride, nd)
        self.padding = _ntuple(owner, "padding", padding, nd, minimum=0)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        rng = make_rng(rng)
        self.init_name = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        self._init_config = init_config(init, init_kwargs, bias_init, DEFAULT_INIT)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        add_weight_and_bias(self, shape, init, init_kwargs, bias, bias_init, rng, dt)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_spatial(x, self.in_channels)
        x = x.astype(self.W.value.dtype, copy=False)
        if self.impl == "fast":
            return self.engine.forward(self, x)
        b = self.b.value if self.b is not None else None
        z, self._cols = conv_forward(x, self.W.value, b, self.stride, self.padding)
        self._x_shape = x.shape
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dW += dZ · colsᵀ``, ``db += Σ dZ`` over the batch and positions, and
        ``dx = col2im(W₂ᵀ · dZ)`` (see :func:`conv_backward`)."""
        return self._backward(dout, need_dx=True)

    def backward_params(self, dout: np.ndarray) -> None:
        """dW and db only: no ``W₂ᵀ · dZ`` product and no col2im (a first layer's input)."""
        self._backward(dout, need_dx=False)

    def _backward(self, dout: np.ndarray, need_dx: bool) -> np.ndarray | None:
        if self.impl == "fast":
            return self.engine.backward(self, dout, need_dx)
        dx, dw, db = conv_backward(dout, self._cols, self._x_shape, self.W.value, self.stride,
                                   self.padding)
        self.W.grad += dw
        if self.b is not None:
            self.b.grad += db
        return dx if need_dx else None

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
        impl: ``"fast"`` (default, :class:`~whynet.nn.fast_conv.ConvEngine`) or ``"reference"``
            (:func:`conv_forward` / :func:`conv_backward`, plain im2col): same values to
            round-off.
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

    With ``impl="fast"``, a 3×3 stride-1 layer with at least
    :data:`whynet.nn.winograd.MIN_CHANNELS` input channels computes the same function by
    Winograd's F(2×2, 3×3) (see :attr:`whynet.nn.fast_conv.ConvEngine.winograd`).
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
            raise ConfigError(_("{owner}: padding must be at most half the kernel size, got "
                                "padding {dims} for kernel {dims2}")
                                .format(owner=owner, dims=_dims(self.padding),
                                        dims2=_dims(self.kernel_size)))

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
        # Per stage (the last spatial axis first): its input shape, the maxima, the winners.
        self._stages, shape = [], a.shape
        for axis in range(a.ndim - 1, 1, -1):
            reduced = shape[:axis] + (out[axis - 2],) + shape[axis + 1:]
            k = self.kernel_size[axis - 2]
            # Every winner is written when the window has 2 offsets or more (see below).
            winners = np.empty if k > 1 else np.zeros
            self._stages.append((axis, shape, np.empty(reduced, a.dtype),
                                 winners(reduced, np.min_scalar_type(k - 1))))
            shape = reduced
        # Slice by slice of the batch, on several threads when BLAS may use several.
        self.workers.rows(lambda r: self._forward_rows(a, r), len(a), a.size)
        return self._stages[-1][2]

    def _forward_rows(self, a: np.ndarray, r: slice) -> None:
        """The stages of :meth:`forward` for the images ``r``."""
        a = a[r]
        for axis, _size, best, arg in self._stages:
            k, s, o = self.kernel_size[axis - 2], self.stride[axis - 2], best.shape[axis]
            best, arg = best[r], arg[r]
            first = a[_along(a.ndim, axis, 0, s, o)]
            if k == 1:
                np.copyto(best, first)
            else:  # offsets 0 and 1 in two passes: winner = (x₁ > x₀), best = max(x₀, x₁)
                second = a[_along(a.ndim, axis, 1, s, o)]
                np.greater(second, first, out=arg.view(np.bool_))
                np.maximum(first, second, out=best)
            for j in range(2, k):
                cand = a[_along(a.ndim, axis, j, s, o)]
                wins = cand > best
                np.maximum(best, cand, out=best)
                # The winner is the last offset that beat all before it. Arithmetic, not
                # np.where/copyto(where=…): a data-dependent branch per element is ~10× slower.
                np.maximum(arg, wins * arg.dtype.type(j), out=arg)
            a = best

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The gradient goes to the one input that won each window (the first, on ties)."""
        grads = [(np.empty if self._tiles(axis, in_shape) else np.zeros)(in_shape, dout.dtype)
                 for axis, in_shape, _, _ in self._stages]
        self.workers.rows(lambda r: self._backward_rows(dout, grads, r), len(dout),
                          grads[0].size)
        return _unpad(grads[0], self.padding)

    def _tiles(self, axis: int, in_shape: tuple[int, ...]) -> bool:
        """Whether the windows tile ``axis`` (stride = kernel, no input left over): then
        backward writes every input's gradient along it, and its array needs no zero fill."""
        k, s = self.kernel_size[axis - 2], self.stride[axis - 2]
        return s == k and in_shape[axis] % k == 0

    def _backward_rows(self, dout: np.ndarray, grads: list, r: slice) -> None:
        """:meth:`backward` for the images ``r``: each stage's winners get its ``dout``."""
        dout = dout[r]
        for (axis, _size, _best, arg), dx in zip(reversed(self._stages), reversed(grads)):
            k, s = self.kernel_size[axis - 2], self.stride[axis - 2]
            arg, dx = arg[r], dx[r]
            o = arg.shape[axis]
            for j in range(k):
                view = dx[_along(dx.ndim, axis, j, s, o)]
                if s < k:  # overlapping windows: an input may win several
                    view += dout * (arg == j)
                elif k == 2 and j == 1:  # arg is 0 or 1: dout · [arg = 1] in one pass
                    np.multiply(dout, arg, out=view)
                else:  # windows do not overlap along this axis: each input gets one share
                    np.multiply(dout, arg == j, out=view)
            dout = dx


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
