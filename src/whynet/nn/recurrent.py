"""Recurrent layers: a vanilla RNN with full back-propagation through time, and LastStep.

The RNN exposes ∂L/∂h_t for every time step after ``backward`` (``rnn.grad_h``), which is what
question N1 measures: how the gradient reaching h_t shrinks (or grows) as t moves away from the
loss.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..errors import ConfigError, ShapeError, check_int
from ..i18n import _
from ..random import make_rng
from .init import Initializer, get_initializer, uniform
from .module import Module

NONLINEARITIES = ("tanh", "relu")


class RNN(Module):
    """A vanilla (Elman) recurrent layer over a whole sequence, PyTorch's ``nn.RNN`` with one
    layer and ``batch_first=True``:

        z_t = x_t W_xhᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh,    h_t = f(z_t),    h_0 = 0,    t = 1…T

    with f = tanh (default) or ReLU. Two biases by default, as PyTorch (``b_ih``, ``b_hh``): only
    their sum enters the function, but each gets the gradient Σ δz_t, so an optimiser moves the
    sum twice as fast as one bias would, and a run copied from PyTorch follows PyTorch's
    trajectory. ``biases=1`` keeps a single ``b`` (the textbook form, the same function).

    Shapes: input (m, T, n_in) → all hidden states (m, T, n_hidden); ``W_xh`` (n_hidden, n_in)
    (PyTorch's ``weight_ih_l0``), ``W_hh`` (n_hidden, n_hidden) (``weight_hh_l0``), ``b_ih`` and
    ``b_hh`` (or ``b``) (n_hidden,).

    Backward is full back-propagation through time. With ``g_t`` = ∂L/∂h_t arriving from the
    output (``dout[:, t]``), from t = T down to 1:

        δh_t = g_t + δz_{t+1} W_hh          (the total gradient at h_t: output + future)
        δz_t = δh_t ⊙ f′(z_t)               (tanh′ = 1 − h_t², from the output)
        dW_xh += Σ_t δz_tᵀ x_t,   dW_hh += Σ_t δz_tᵀ h_{t−1},   db_ih = db_hh (or db) += Σ_t Σ_rows δz_t,
        dx_t = δz_t W_xh

    After ``backward``, ``grad_h`` (m, T, n_hidden) holds δh_t for every t: the factor
    W_hhᵀ·diag(f′) applied once per step back is why it vanishes (or explodes) over time (N1).
    Gradient clipping acts on the parameter grads afterwards, as for any layer.

    Speed: the input part x_t W_xhᵀ + b of every step is one matrix product before the loop, and
    the states are kept time-major (T, m, n) so each step reads and writes contiguous blocks of
    preallocated arrays; the loop does one small product and the non-linearity per step.

    Args:
        n_in, n_hidden: sizes of x_t and h_t.
        rng: a Generator or an int seed (None → seed 0).
        dtype: float32 (default) or float64.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        init: initialiser of W_xh and W_hh, by name or callable. None (default) is PyTorch's
            U(−1/√n_hidden, 1/√n_hidden) for both.
        bias: whether to add biases; they start at zero (PyTorch draws them uniformly).
        biases: 2 (default, PyTorch's ``b_ih`` and ``b_hh``) or 1 (one ``b``).
        **init_kwargs: passed to a named initialiser.
    """

    def __init__(self, n_in: int, n_hidden: int, rng=None, dtype=None,
                 nonlinearity: str = "tanh", init: str | Initializer | None = None,
                 bias: bool = True, biases: int = 2, **init_kwargs):
        super().__init__()
        self.n_in = check_int("RNN", "n_in", n_in)
        self.n_hidden = check_int("RNN", "n_hidden", n_hidden)
        if nonlinearity not in NONLINEARITIES:
            raise ConfigError(_("RNN: nonlinearity must be one of {nonlinearities}, got "
                                "{nonlinearity!r}")
                                .format(nonlinearities=NONLINEARITIES,
                                        nonlinearity=nonlinearity))
        self.nonlinearity = nonlinearity
        self.biases = check_int("RNN", "biases", biases, low=1, high=2)
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
        self.b = self.b_ih = self.b_hh = None
        if bias and self.biases == 1:
            self.b = self.add_parameter("b", np.zeros(self.n_hidden, dt), regularize=False)
        elif bias:
            self.b_ih = self.add_parameter("b_ih", np.zeros(self.n_hidden, dt), regularize=False)
            self.b_hh = self.add_parameter("b_hh", np.zeros(self.n_hidden, dt), regularize=False)
        self.grad_h: np.ndarray | None = None

    @property
    def has_bias(self) -> bool:
        return bool(self._params.keys() - {"W_xh", "W_hh"})

    def _bias(self) -> np.ndarray | None:
        """The bias added to every z_t: b, or b_ih + b_hh."""
        if self.b is not None:
            return self.b.value
        return self.b_ih.value + self.b_hh.value if self.b_ih is not None else None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, 3, self.n_in)
        w_xh, w_hh = self.W_xh.value, self.W_hh.value
        x = x.astype(w_xh.dtype, copy=False)
        m, steps, _ = x.shape
        # The input part of every z_t in one matrix product, time-major (T, m, n): only
        # h_{t−1} W_hhᵀ must wait for the previous step.
        z = x.swapaxes(0, 1) @ w_xh.T
        bias = self._bias()
        if bias is not None:
            z += bias
        h = np.empty_like(z)
        w_hh_t = w_hh.T
        tmp = np.empty((m, self.n_hidden), dtype=z.dtype)
        # Products of (m, n) by (n, n) per step: too small for BLAS to share among threads.
        with self.workers.single_threaded_blas():
            for t in range(steps):
                if t:
                    z[t] += np.matmul(h[t - 1], w_hh_t, out=tmp)
                if self.nonlinearity == "tanh":
                    np.tanh(z[t], out=h[t])
                else:
                    np.maximum(z[t], 0, out=h[t])
        self._x, self._h = x, h
        return h.swapaxes(0, 1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dz = self._backward(dout)
        return (dz @ self.W_xh.value).swapaxes(0, 1)

    def backward_params(self, dout: np.ndarray) -> None:
        self._backward(dout)

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        """BPTT: fills ``grad_h`` and the parameter gradients; returns δz, time-major."""
        h, x = self._h, self._x
        steps, m, n = h.shape
        w_hh = self.W_hh.value
        g = dout.swapaxes(0, 1)
        grad_h = np.empty_like(h)
        dz = np.empty_like(h)
        # f′(z_t) for every step at once, from the outputs, into dz (δz overwrites it step by
        # step): tanh′ = 1 − h², ReLU′ = [h > 0] (ReLU′(0) = 0).
        if self.nonlinearity == "tanh":
            np.multiply(h, h, out=dz)
            np.subtract(1, dz, out=dz)
        else:
            np.greater(h, 0, out=dz)
        carry = np.zeros((m, n), dtype=h.dtype)  # δz_{t+1} W_hh: what h_t owes the future
        with self.workers.single_threaded_blas():  # per-step products, as in forward
            for t in range(steps - 1, -1, -1):
                np.add(g[t], carry, out=grad_h[t])
                dz[t] *= grad_h[t]
                np.matmul(dz[t], w_hh, out=carry)
        self.grad_h = grad_h.swapaxes(0, 1)
        dz2 = dz.reshape(steps * m, n)
        # W_xh.grad += δZᵀ X and W_hh.grad += Σ_t δz_tᵀ h_{t−1}, over all steps at once.
        self.W_xh.add_matmul(dz2.T, x.swapaxes(0, 1).reshape(steps * m, self.n_in))
        if steps > 1:  # h_0 = 0 adds nothing to dW_hh
            self.W_hh.add_matmul(dz[1:].reshape(-1, n).T, h[:-1].reshape(-1, n))
        if self.has_bias:
            db = dz2.sum(axis=0)
            for p in (self.b, self.b_ih, self.b_hh):
                if p is not None:
                    p.grad += db
        return dz

    def get_config(self) -> dict:
        return {"n_in": self.n_in, "n_hidden": self.n_hidden, "nonlinearity": self.nonlinearity,
                "bias": self.has_bias, "biases": self.biases, **self._init_config}

    def extra_repr(self) -> str:
        s = f"{self.n_in} → {self.n_hidden}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        if self.has_bias and self.biases == 1:
            s += ", biases=1"
        return s + ("" if self.has_bias else ", bias=False")


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
            raise ShapeError(_("{self!r}: expected at least one time step, got shape {shape}")
                               .format(self=self, shape=x.shape))
        self._shape = x.shape
        return x[:, -1]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = np.zeros(self._shape, dtype=dout.dtype)
        dx[:, -1] = dout
        return dx

    def get_config(self) -> dict:
        return {}
