"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm.

All three compute ``x̂ = (x − μ) / √(σ² + ε)`` and return ``y = γ x̂ + β`` with learnable γ (ones)
and β (zeros); they differ in *which* elements share one μ and σ²:

==============  ===================  =============================================
layer           input                μ, σ² taken over
==============  ===================  =============================================
BatchNorm1d     (m, C) or (m, C, L)  the batch (and positions), one pair per channel
BatchNorm2d     (m, C, H, W)         the batch and the image, one pair per channel
LayerNorm       (m, …, *shape)       the last ``len(shape)`` axes, one pair per example
==============  ===================  =============================================

Setting γ = √(σ² + ε) and β = μ gives back the input exactly, so normalising costs the network
nothing it cannot undo (question B1).
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ConfigError, ShapeError, check_int, check_number, check_positive
from ..i18n import _
from .module import Module


def _normalize_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                        axes: tuple[int, ...]) -> np.ndarray:
    """∂L/∂x when μ and σ² are computed from ``x`` itself over ``axes`` (biased σ²).

    With N elements per group: ``dx = (1/σ̂)·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂))``, the means over
    ``axes`` — the two subtracted terms are the paths through μ and through σ².
    """
    mean_d = dxhat.mean(axis=axes, keepdims=True)
    mean_dx = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return inv_std * (dxhat - mean_d - xhat * mean_dx)


def _channel_sum(a: np.ndarray) -> np.ndarray:
    """Σ over every axis but the channel axis 1: (m, C, …) → (C,)."""
    return np.einsum("ncl->c", a.reshape(a.shape[0], a.shape[1], -1))


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ a ⊙ b over every axis but the channel axis 1, without the temporary a ⊙ b."""
    m, c = a.shape[:2]
    return np.einsum("ncl,ncl->c", a.reshape(m, c, -1), b.reshape(m, c, -1))


class _BatchNorm(Module):
    """Shared code of BatchNorm1d and BatchNorm2d (channels on axis 1)."""

    _buffers = ("running_mean", "running_var", "num_batches_tracked")
    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 rng=None, dtype=None):
        super().__init__()
        owner = type(self).__name__
        self.num_features = check_int(owner, "num_features", num_features)
        check_positive(owner, "eps", eps)
        self.eps = float(eps)
        # None: a cumulative average of every batch seen, as PyTorch.
        self.momentum = None if momentum is None else \
            check_number(owner, "momentum", momentum, low=0.0, high=1.0)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        # rng is accepted for a uniform layer signature; γ = 1 and β = 0 need no randomness.
        n = self.num_features
        self.gamma = self.add_parameter("gamma", np.ones(n, dt), regularize=False)
        self.beta = self.add_parameter("beta", np.zeros(n, dt), regularize=False)
        self.running_mean = np.zeros(n, dt)
        self.running_var = np.ones(n, dt)
        # A 0-d int64 array, as PyTorch's buffer: training batches seen, so momentum=None can
        # weigh batch k by 1/k.
        self.num_batches_tracked = np.array(0, dtype=np.int64)

    def _check(self, x) -> np.ndarray:
        self._check_input(x, self._ranks)
        if x.shape[1] != self.num_features:
            layout = self._layout if x.ndim != 2 else "(m, C)"
            want = layout.replace("C", str(self.num_features))
            raise ShapeError(_("{self!r}: expected input of shape {want}, got {shape}")
                               .format(self=self, want=want, shape=x.shape))
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x).astype(self.gamma.value.dtype, copy=False)
        c = self.num_features
        shape = (1, c) + (1,) * (x.ndim - 2)
        if self.training:
            n = x.size // c
            if n < 2:
                raise ShapeError(_("{self!r}: training needs more than 1 value per channel to "
                                   "estimate a variance, got input of shape {shape}")
                                   .format(self=self, shape=x.shape))
            mean = _channel_sum(x) / n
            xc = np.empty_like(x)
            # xc = x − μ, slice by slice of the batch (on several threads when BLAS may use
            # several; the sums over the batch stay whole, so results do not depend on it).
            self.workers.rows(lambda r: np.subtract(x[r], mean.reshape(shape), out=xc[r]),
                              len(x), x.size)
            var = _channel_dot(xc, xc) / n  # biased: the batch is normalised by its own spread
            self.num_batches_tracked = np.array(self.num_batches_tracked + 1, dtype=np.int64)
            m = 1.0 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            # PyTorch stores the unbiased estimate, N/(N−1)·σ², for use at evaluation.
            self.running_var = (1 - m) * self.running_var + m * (n / (n - 1)) * var
        else:
            xc = x - self.running_mean.reshape(shape)
            var = self.running_var
        inv_std = (1 / np.sqrt(var + self.eps)).reshape(shape)
        gamma, beta = self.gamma.value.reshape(shape), self.beta.value.reshape(shape)
        xhat, out = xc, np.empty_like(xc)

        def rows(r):  # x̂ = (x − μ)/√(σ² + ε) in place (xc is this layer's own), y = γ x̂ + β
            np.multiply(xhat[r], inv_std, out=xhat[r])
            np.multiply(xhat[r], gamma, out=out[r])
            np.add(out[r], beta, out=out[r])
        self.workers.rows(rows, len(x), x.size)
        self._xhat, self._inv_std, self._shape = xhat, inv_std.ravel(), shape
        self._batch_stats = self.training
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dγ = Σ dy ⊙ x̂`` and ``dβ = Σ dy`` over the batch (and positions). In evaluation
        ``dx = dy·γ/√(running_var + ε)`` (the running statistics are constants); in training,
        with a = γ/√(σ²_B + ε) and N values per channel, the paths through μ_B and σ²_B add
        ``dx = a·dy − (a/N)·(Σ dy + x̂·Σ dy ⊙ x̂)`` (the form of :func:`_normalize_backward`
        written with the per-channel sums, which saves passes over the data)."""
        shape, xhat = self._shape, self._xhat
        sum_dy_xhat = _channel_dot(dout, xhat)
        sum_dy = _channel_sum(dout)
        self.gamma.grad += sum_dy_xhat
        self.beta.grad += sum_dy
        a = self.gamma.value * self._inv_std
        dx = np.empty_like(dout)
        n = dout.size // self.num_features
        c_xhat = (a * sum_dy_xhat / n).reshape(shape)
        c_one = (a * sum_dy / n).reshape(shape)
        a = a.reshape(shape)

        def rows(r):  # dx = a·dy, then − (a/N)·x̂·Σ dy ⊙ x̂ − (a/N)·Σ dy with batch statistics
            np.multiply(dout[r], a, out=dx[r])
            if self._batch_stats:
                dx[r] -= xhat[r] * c_xhat
                dx[r] -= c_one
        self.workers.rows(rows, len(dout), dout.size)
        return dx

    def get_config(self) -> dict:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}

    def extra_repr(self) -> str:
        extra = "" if self.eps == 1e-5 else f", eps={self.eps:g}"
        if self.momentum is None:
            extra += ", momentum=None"
        elif self.momentum != 0.1:
            extra += f", momentum={self.momentum:g}"
        return f"{self.num_features}{extra}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over features (Ioffe & Szegedy 2015), PyTorch's ``BatchNorm1d``.

    Training: per feature, μ_B and σ²_B (biased) of the batch,
    ``y = γ (x − μ_B)/√(σ²_B + ε) + β``; and the running statistics move towards the batch's:
    ``running_mean ← (1 − momentum)·running_mean + momentum·μ_B``,
    ``running_var  ← (1 − momentum)·running_var + momentum·N/(N−1)·σ²_B`` (unbiased, N values per
    feature). Evaluation: ``y = γ (x − running_mean)/√(running_var + ε) + β``.
    Defaults as PyTorch: ``momentum = 0.1`` is the weight of the *new* batch (Keras' momentum 0.99
    is the weight of the old average), ``eps = 1e-5``, γ = 1, β = 0, running_mean = 0,
    running_var = 1. ``momentum=None`` is PyTorch's cumulative moving average: the k-th training
    batch gets weight 1/k (``num_batches_tracked`` counts them), so the running statistics are
    the plain mean of every batch's statistics so far.

    Shapes: input (m, C) or (m, C, L) → output of the same shape; γ, β, running_mean, running_var
    (C,); num_batches_tracked () int64. A (m, C, L) input is normalised per channel over the
    batch and the L positions.

    Args:
        num_features: C.
        eps: added to σ² before the square root.
        momentum: weight of the new batch in the running statistics, in [0, 1], or None for
            the cumulative average.
        rng: accepted for a uniform layer signature (nothing is random here).
        dtype: float32 (default) or float64.
    """

    _ranks = (2, 3)
    _layout = "(m, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images, PyTorch's ``BatchNorm2d``: one μ and σ² per channel, taken
    over the batch and every pixel (N = m·H·W values per channel). Formulas, running statistics and
    defaults as :class:`BatchNorm1d`.

    Shapes: input (m, C, H, W) → output (m, C, H, W); γ, β, running_mean, running_var (C,).
    """

    _ranks = (4,)
    _layout = "(m, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation (Ba, Kiros & Hinton 2016), PyTorch's ``LayerNorm``.

    Per example, μ and σ² (biased) over the last ``len(normalized_shape)`` axes:
    ``y = γ (x − μ)/√(σ² + ε) + β``, with γ (ones) and β (zeros) of shape ``normalized_shape``.
    No running statistics: training and evaluation compute the same thing, and a batch of one
    is fine.

    Shapes: input (…, *normalized_shape) → output of the same shape.

    Args:
        normalized_shape: an int (the last axis) or a tuple of trailing sizes.
        eps: added to σ² before the square root (1e-5 as PyTorch).
        rng: accepted for a uniform layer signature (nothing is random here).
        dtype: float32 (default) or float64.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, rng=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        if not shape:
            raise ConfigError(_("LayerNorm: normalized_shape must not be empty, got {shape}")
                                .format(shape=shape))
        self.normalized_shape = tuple(check_int("LayerNorm", "normalized_shape", s)
                                      for s in shape)
        check_positive("LayerNorm", "eps", eps)
        self.eps = float(eps)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        self.gamma = self.add_parameter("gamma", np.ones(self.normalized_shape, dt),
                                        regularize=False)
        self.beta = self.add_parameter("beta", np.zeros(self.normalized_shape, dt),
                                       regularize=False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        k = len(self.normalized_shape)
        if not isinstance(x, np.ndarray) or x.ndim <= k or x.shape[-k:] != self.normalized_shape:
            shape = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise ShapeError(_("{self!r}: expected input of shape (m, …, {dims}), got {shape}")
                               .format(self=self,
                                       dims=', '.join(map(str, self.normalized_shape)),
                                       shape=shape))
        x = x.astype(self.gamma.value.dtype, copy=False)
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        self._inv_std = 1 / np.sqrt(var + self.eps)
        self._xhat = xc * self._inv_std
        self._axes = axes
        return self._xhat * self.gamma.value + self.beta.value

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dγ = Σ dy ⊙ x̂`` and ``dβ = Σ dy`` over the leading axes; dx through μ and σ²."""
        lead = tuple(range(dout.ndim - len(self.normalized_shape)))
        self.gamma.grad += (dout * self._xhat).sum(axis=lead)
        self.beta.grad += dout.sum(axis=lead)
        return _normalize_backward(dout * self.gamma.value, self._xhat, self._inv_std, self._axes)

    def get_config(self) -> dict:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps}

    def extra_repr(self) -> str:
        extra = "" if self.eps == 1e-5 else f", eps={self.eps:g}"
        shape = self.normalized_shape
        return f"{shape[0] if len(shape) == 1 else shape}{extra}"
