"""Recurrent layers: a vanilla RNN with full back-propagation through time, and LastStep.

The RNN exposes ∂L/∂h_t for every time step after ``backward`` (``rnn.grad_h``), which is what
question N1 measures: how the gradient reaching h_t shrinks (or grows) as t moves away from the
loss.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..errors import ConfigError, ShapeError
from ..random import make_rng
from .init import Initializer, get_initializer, uniform
from .module import Module

NONLINEARITIES = ("tanh", "relu")


def _check_size(owner: str, arg: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{owner}: {arg} must be an integer ≥ 1, got {value!r}")
    return int(value)


class RNN(Module):
    """A vanilla (Elman) recurrent layer over a whole sequence, PyTorch's ``nn.RNN`` with one
    layer, ``batch_first=True`` and one bias vector:

        z_t = x_t W_xhᵀ + h_{t−1} W_hhᵀ + b,    h_t = f(z_t),    h_0 = 0,    t = 1…T

    with f = tanh (default) or ReLU. PyTorch keeps two biases, b_ih + b_hh; only their sum
    matters, and it is ``b`` here.

    Shapes: input (m, T, n_in) → all hidden states (m, T, n_hidden); ``W_xh`` (n_hidden, n_in),
    ``W_hh`` (n_hidden, n_hidden), ``b`` (n_hidden,).

    Backward is full back-propagation through time. With ``g_t`` = ∂L/∂h_t arriving from the
    output (``dout[:, t]``), from t = T down to 1:

        δh_t = g_t + δz_{t+1} W_hh          (the total gradient at h_t: output + future)
        δz_t = δh_t ⊙ f′(z_t)               (tanh′ = 1 − h_t², from the output)
        dW_xh += Σ_t δz_tᵀ x_t,   dW_hh += Σ_t δz_tᵀ h_{t−1},   db += Σ_t Σ_rows δz_t,
        dx_t = δz_t W_xh

    After ``backward``, ``grad_h`` (m, T, n_hidden) holds δh_t for every t: the factor
    W_hhᵀ·diag(f′) applied once per step back is why it vanishes (or explodes) over time (N1).
    Gradient clipping acts on the parameter grads afterwards, as for any layer.

    Args:
        n_in, n_hidden: sizes of x_t and h_t.
        rng: a Generator or an int seed (None → seed 0).
        dtype: float32 (default) or float64.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        init: initialiser of W_xh and W_hh, by name or callable. None (default) is PyTorch's
            U(−1/√n_hidden, 1/√n_hidden) for both.
        bias: whether to add ``b``; it starts at zero (PyTorch draws b_ih and b_hh uniformly).
        **init_kwargs: passed to a named initialiser.
    """

    def __init__(self, n_in: int, n_hidden: int, rng=None, dtype=None,
                 nonlinearity: str = "tanh", init: str | Initializer | None = None,
                 bias: bool = True, **init_kwargs):
        super().__init__()
        self.n_in = _check_size("RNN", "n_in", n_in)
        self.n_hidden = _check_size("RNN", "n_hidden", n_hidden)
        if nonlinearity not in NONLINEARITIES:
            raise ConfigError(f"RNN: nonlinearity must be one of {NONLINEARITIES}, "
                              f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        rng = make_rng(rng)
        if init is None:
            bound = 1 / math.sqrt(self.n_hidden)
            initializer = uniform(-bound, bound)
        else:
            initializer = get_initializer(init, **init_kwargs)
        self._init_config = ({"init": init, **init_kwargs} if init is None or isinstance(init, str)
                             else {"init": None})
        w_xh = initializer((self.n_hidden, self.n_in), rng, dt)
        w_hh = initializer((self.n_hidden, self.n_hidden), rng, dt)
        self.W_xh = self.add_parameter("W_xh", np.ascontiguousarray(w_xh, dtype=dt))
        self.W_hh = self.add_parameter("W_hh", np.ascontiguousarray(w_hh, dtype=dt))
        self.b = None
        if bias:
            self.b = self.add_parameter("b", np.zeros(self.n_hidden, dt), regularize=False)
        self.grad_h: np.ndarray | None = None

    def _f(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z) if self.nonlinearity == "tanh" else np.maximum(z, 0)

    def _df(self, h: np.ndarray) -> np.ndarray:
        """f′(z_t) from the output h_t: 1 − h² for tanh; 1 where h > 0 for ReLU (ReLU′(0) = 0)."""
        return 1 - h * h if self.nonlinearity == "tanh" else (h > 0).astype(h.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, 3, self.n_in)
        w_xh, w_hh = self.W_xh.value, self.W_hh.value
        x = x.astype(w_xh.dtype, copy=False)
        m, steps, _ = x.shape
        # The input part of every z_t in one matrix product; only h_{t−1} W_hhᵀ must wait.
        z_in = x @ w_xh.T
        if self.b is not None:
            z_in += self.b.value
        h = np.empty((m, steps, self.n_hidden), dtype=w_xh.dtype)
        prev = np.zeros((m, self.n_hidden), dtype=w_xh.dtype)
        for t in range(steps):
            prev = self._f(z_in[:, t] + prev @ w_hh.T)
            h[:, t] = prev
        self._x, self._h = x, h
        return h

    def backward(self, dout: np.ndarray) -> np.ndarray:
        h, x = self._h, self._x
        m, steps, n = h.shape
        w_hh = self.W_hh.value
        grad_h = np.empty_like(h)
        dz = np.empty_like(h)
        carry = np.zeros((m, n), dtype=h.dtype)  # δz_{t+1} W_hh: what h_t owes the future
        for t in range(steps - 1, -1, -1):
            grad_h[:, t] = dout[:, t] + carry
            dz[:, t] = grad_h[:, t] * self._df(h[:, t])
            carry = dz[:, t] @ w_hh
        self.grad_h = grad_h
        dz2 = dz.reshape(m * steps, n)
        self.W_xh.grad += dz2.T @ x.reshape(m * steps, self.n_in)
        if steps > 1:  # h_0 = 0 adds nothing to dW_hh
            self.W_hh.grad += dz[:, 1:].reshape(-1, n).T @ h[:, :-1].reshape(-1, n)
        if self.b is not None:
            self.b.grad += dz2.sum(axis=0)
        return dz @ self.W_xh.value

    def get_config(self) -> dict:
        return {"n_in": self.n_in, "n_hidden": self.n_hidden, "nonlinearity": self.nonlinearity,
                "bias": self.b is not None, **self._init_config}

    def extra_repr(self) -> str:
        s = f"{self.n_in} → {self.n_hidden}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s + ("" if self.b is not None else ", bias=False")


class LastStep(Module):
    """The last time step of a sequence: (m, T, n) → (m, n), ``y = x[:, T−1]``.

    ``Sequential(RNN(n_in, H), LastStep(), Dense(H, k))`` classifies a sequence from h_T.
    Backward puts ``dout`` at step T and zeros elsewhere.
    """

    def __init__(self, rng=None, dtype=None):
        super().__init__()
        self._dtype = dtypes.resolve(dtype)  # accepted for a uniform layer signature

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, 3)
        if x.shape[1] < 1:
            raise ShapeError(f"{self!r}: expected at least one time step, got shape {x.shape}")
        self._shape = x.shape
        return x[:, -1]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = np.zeros(self._shape, dtype=dout.dtype)
        dx[:, -1] = dout
        return dx

    def get_config(self) -> dict:
        return {}
