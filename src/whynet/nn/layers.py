"""Layers with parameters or shape changes: Dense, Dropout, Flatten and Maxout.

Each class keeps ``forward`` and ``backward`` side by side, stores in ``self`` exactly what
backward needs, and implements ``get_config()`` (its JSON-serialisable constructor arguments,
without ``rng`` and ``dtype``) so a model can be saved and rebuilt.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ShapeError, check_int, check_number
from ..i18n import _
from ..random import make_rng
from .init import Initializer, add_weight_and_bias, get_initializer, init_config
from .module import Module

DEFAULT_INIT = "xavier_uniform"


class Dense(Module):
    """Fully connected layer: ``Z = X Wᵀ + b``.

    Shapes: input ``X`` (m, n_in) → output ``Z`` (m, n_out); ``W`` (n_out, n_in) as PyTorch's
    ``Linear.weight`` and the course's ``W[l]`` (n[l], n[l−1]); ``b`` (n_out,).
    The course's column form ``Z = W X + b`` with X of shape (n_in, m) is the transpose of this.

    Backward, for ``dZ`` = ∂L/∂Z of shape (m, n_out):
        ``dW += dZᵀ X``  (n_out, n_in) — the same shape as W (question R5);
        ``db += Σ_rows dZ``  (n_out,);
        ``dX  = dZ W``  (m, n_in).

    An input of another dtype (float64 into a float32 layer, or integers) is cast to the layer's
    dtype, so the output and every gradient keep the layer's dtype.

    Args:
        n_in, n_out: numbers of input and output units.
        init: weight initialiser, a name from :mod:`whynet.nn.init` or a callable; Xavier uniform
            by default (PyTorch's ``Linear`` uses Kaiming uniform with a=√5, i.e. U(±1/√n_in)).
        bias: whether to add ``b``; ``bias_init`` initialises it (zeros by default, which is safe:
            symmetry is broken by the weights, question I4).
        rng: a Generator or an int seed for the initial weights (None → seed 0).
        dtype: float32 (default) or float64.
        **init_kwargs: passed to a named initialiser (``gain=``, ``nonlinearity=``, ``std=``…).
    """

    def __init__(self, n_in: int, n_out: int, init: str | Initializer = DEFAULT_INIT,
                 bias: bool = True, bias_init: str | Initializer = "zeros",
                 rng=None, dtype=None, **init_kwargs):
        super().__init__()
        self.n_in = check_int("Dense", "n_in", n_in)
        self.n_out = check_int("Dense", "n_out", n_out)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        rng = make_rng(rng)
        self.init_name = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        self._init_config = init_config(init, init_kwargs, bias_init, DEFAULT_INIT)
        add_weight_and_bias(self, (self.n_out, self.n_in), init, init_kwargs, bias, bias_init,
                            rng, dt)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, 2, self.n_in)
        x = x.astype(self.W.value.dtype, copy=False)
        self._x = x
        z = x @ self.W.value.T
        if self.b is not None:
            z += self.b.value
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.backward_params(dout)
        return dout @ self.W.value

    def backward_params(self, dout: np.ndarray) -> None:
        """dW and db only (the first layer of a training step: dX = dZ W would be a third of
        the layer's products, for nobody)."""
        self.W.add_matmul(dout.T, self._x)  # W.grad += dZᵀ X
        if self.b is not None:
            self.b.grad += dout.sum(axis=0)

    def get_config(self) -> dict:
        return {"n_in": self.n_in, "n_out": self.n_out, "bias": self.b is not None,
                **self._init_config}

    def extra_repr(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return f"{self.n_in} → {self.n_out}{bias}"


class Dropout(Module):
    """Inverted dropout (Srivastava et al. 2014), PyTorch's ``Dropout``.

    Training: each element is dropped with probability ``p`` and the survivors are scaled by
    ``1/(1 − p)``, so ``E[out] = x`` and evaluation needs no rescaling:
    ``out = x ⊙ mask``, ``mask = Bernoulli(1 − p) / (1 − p)``;  backward ``dx = dout ⊙ mask``.
    Evaluation (``eval()``): the identity.

    Convention: ``p`` is the probability of *dropping* a unit, as PyTorch and Keras' ``rate``;
    deeplearning.ai's ``keep_prob`` (and the original paper's p) is the probability of *keeping*
    it, so ``keep_prob = 1 − p``.

    Shapes: any input (m, …) → output of the same shape and dtype. The mask is drawn from the
    layer's own Generator (so the same seed gives the same masks) as an array of the input's dtype,
    and is kept in ``self.mask`` after each training forward pass (None in evaluation).

    Args:
        p: drop probability in [0, 1); 0 makes the layer the identity.
        rng: a Generator or an int seed for the masks (None → seed 0).
        dtype: accepted for a uniform layer signature (the output has the input's dtype).
    """

    def __init__(self, p: float = 0.5, rng=None, dtype=None):
        super().__init__()
        self.p = check_number("Dropout", "p (drop probability)", p, low=0.0, high=1.0,
                              high_open=True)
        self._dtype = dtypes.resolve(dtype)
        self.rng = make_rng(rng)
        self.mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, tuple(range(1, 9)))
        if not self.training or self.p == 0:
            self.mask = None
            return x
        dt = x.dtype if x.dtype in dtypes.SUPPORTED else dtypes.DEFAULT
        u = self.rng.random(x.shape, dtype=dt)
        scale = dtypes.scalar(1 / (1 - self.p), dt)
        self.mask = np.where(u >= self.p, scale, dt.type(0))
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.mask is None:
            return dout
        return dout * self.mask

    def get_config(self) -> dict:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


class Flatten(Module):
    """Flattens all axes but the first: (m, d₁, d₂, …) → (m, d₁·d₂·…), as PyTorch's ``Flatten()``.

    Backward reshapes the gradient back to the input's shape. No parameters.
    """

    def __init__(self, rng=None, dtype=None):
        super().__init__()
        self._dtype = dtypes.resolve(dtype)  # accepted for a uniform layer signature

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            shape = getattr(x, "shape", type(x).__name__)
            raise ShapeError(_("{self!r}: expected input of rank ≥ 2, (m, …), got {shape}")
                               .format(self=self, shape=shape))
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._shape)

    def get_config(self) -> dict:
        return {}


class Maxout(Module):
    """Maxout units (Goodfellow et al. 2013): the maximum of ``k`` linear pieces.

    ``Z_j = X W_jᵀ + b_j`` for j = 1…k, and ``out = max_j Z_j`` element-wise.
    With k = 2, W₁ = 0, b₁ = 0 it is ReLU(X W₂ᵀ + b₂); with W₁ = 0.01·W₂ it is Leaky ReLU — and it
    costs k times the parameters and compute of a Dense layer (question A9).

    Shapes: input (m, n_in) → output (m, n_out); ``W`` (k, n_out, n_in), ``b`` (k, n_out).
    All pieces are computed in one matmul, ``X · W.reshape(k·n_out, n_in)ᵀ``.

    Backward: the gradient goes only to the piece that won (the arg-max; the first on ties,
    as ``torch.max(dim=…)``): with ``dZ_j = dout ⊙ [j = argmax]``,
    ``dW_j += dZ_jᵀ X``, ``db_j += Σ_rows dZ_j``, ``dX = Σ_j dZ_j W_j``.

    Args:
        n_in, n_out: numbers of input and output units.
        k: number of pieces per unit (≥ 1; 1 is a Dense layer).
        init: initialiser of each piece's (n_out, n_in) matrix, so fans are those of a Dense layer.
        bias_init: initialiser of ``b`` (zeros).
        rng: a Generator or an int seed (None → seed 0).
        dtype: float32 (default) or float64.
        **init_kwargs: passed to a named initialiser.
    """

    def __init__(self, n_in: int, n_out: int, k: int = 2, init: str | Initializer = DEFAULT_INIT,
                 bias_init: str | Initializer = "zeros", rng=None, dtype=None, **init_kwargs):
        super().__init__()
        self.n_in = check_int("Maxout", "n_in", n_in)
        self.n_out = check_int("Maxout", "n_out", n_out)
        self.k = check_int("Maxout", "k", k)
        dt = dtypes.resolve(dtype)
        self._dtype = dt
        rng = make_rng(rng)
        self._init_config = init_config(init, init_kwargs, bias_init, DEFAULT_INIT)
        w_init = get_initializer(init, **init_kwargs)
        b_init = get_initializer(bias_init)
        w = np.stack([w_init((self.n_out, self.n_in), rng, dt) for _ in range(self.k)])
        b = np.stack([b_init((self.n_out,), rng, dt) for _ in range(self.k)])
        self.W = self.add_parameter("W", np.ascontiguousarray(w, dtype=dt))
        self.b = self.add_parameter("b", np.ascontiguousarray(b, dtype=dt), regularize=False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, 2, self.n_in)
        x = x.astype(self.W.value.dtype, copy=False)
        m = x.shape[0]
        z = (x @ self.W.value.reshape(-1, self.n_in).T).reshape(m, self.k, self.n_out)
        z += self.b.value
        self._x = x
        self._arg = z.argmax(axis=1)[:, None, :]  # (m, 1, n_out): the winning piece
        return np.take_along_axis(z, self._arg, axis=1)[:, 0, :]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        m = dout.shape[0]
        dz = np.zeros((m, self.k, self.n_out), dtype=np.result_type(dout, self.W.value))
        np.put_along_axis(dz, self._arg, dout[:, None, :], axis=1)
        dz2 = dz.reshape(m, self.k * self.n_out)
        self.W.grad += (dz2.T @ self._x).reshape(self.W.shape)
        self.b.grad += dz.sum(axis=0)
        return dz2 @ self.W.value.reshape(-1, self.n_in)

    def get_config(self) -> dict:
        return {"n_in": self.n_in, "n_out": self.n_out, "k": self.k, **self._init_config}

    def extra_repr(self) -> str:
        return f"{self.n_in} → {self.n_out}, k={self.k}"
