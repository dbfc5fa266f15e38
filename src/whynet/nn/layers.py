"""Layers with parameters or shape changes: Dense (and, added alongside, Dropout, Flatten, Maxout)."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ConfigError
from ..random import make_rng
from .init import Initializer, get_initializer
from .module import Module


def _check_size(owner: str, arg: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{owner}: {arg} must be an integer ≥ 1, got {value!r}")
    return int(value)


class Dense(Module):
    """Fully connected layer: ``Z = X Wᵀ + b``.

    Shapes: input ``X`` (m, n_in) → output ``Z`` (m, n_out); ``W`` (n_out, n_in) as PyTorch's
    ``Linear.weight`` and the course's ``W[l]`` (n[l], n[l−1]); ``b`` (n_out,).
    The course's column form ``Z = W X + b`` with X of shape (n_in, m) is the transpose of this.

    Backward, for ``dZ`` = ∂L/∂Z of shape (m, n_out):
        ``dW += dZᵀ X``  (n_out, n_in) — the same shape as W (question R5);
        ``db += Σ_rows dZ``  (n_out,);
        ``dX  = dZ W``  (m, n_in).

    Args:
        n_in, n_out: numbers of input and output units.
        init: weight initialiser, a name from :mod:`whynet.nn.init` or a callable.
        bias: whether to add ``b``; ``bias_init`` initialises it (zeros by default, which is safe:
            symmetry is broken by the weights, question I4).
        rng: a Generator or an int seed for the initial weights (None → seed 0).
        dtype: float32 (default) or float64.
    """

    def __init__(self, n_in: int, n_out: int, init: str | Initializer = "xavier_uniform",
                 bias: bool = True, bias_init: str | Initializer = "zeros",
                 rng=None, dtype=None, **init_kwargs):
        super().__init__()
        self.n_in = _check_size("Dense", "n_in", n_in)
        self.n_out = _check_size("Dense", "n_out", n_out)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        rng = make_rng(rng)
        self.init_name = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        w = get_initializer(init, **init_kwargs)((self.n_out, self.n_in), rng, dt)
        self.W = self.add_parameter("W", np.ascontiguousarray(w, dtype=dt))
        self.b = None
        if bias:
            b = get_initializer(bias_init)((self.n_out,), rng, dt)
            self.b = self.add_parameter("b", np.ascontiguousarray(b, dtype=dt), regularize=False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, 2, self.n_in)
        x = x.astype(self.W.value.dtype, copy=False)
        self._x = x
        z = x @ self.W.value.T
        if self.b is not None:
            z += self.b.value
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.W.grad += dout.T @ self._x
        if self.b is not None:
            self.b.grad += dout.sum(axis=0)
        return dout @ self.W.value

    def extra_repr(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return f"{self.n_in} → {self.n_out}{bias}"
