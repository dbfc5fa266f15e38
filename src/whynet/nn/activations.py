"""Activation functions: one small class each, forward and derivative side by side.

Each class's docstring gives the function, its derivative, the output range and the convention
followed. Class attributes describe the function so experiments and probes can read them:

* ``name``: registry name (``get_activation(name)``);
* ``output_range``: ``(low, high)`` of f;
* ``zero_centred``: whether f's outputs are centred on 0 for centred inputs (f(0) = 0 and f odd-ish);
* ``saturating``: whether f′ → 0 for large |z| on at least one side *and* the output is bounded there;
* ``max_derivative``: sup f′(z) (e.g. 0.25 for sigmoid: the 0.25^L bound of question A4);
* ``suggested_init``: the initialiser that keeps activations spread with this function;
* ``gain_name``: the name passed to :func:`whynet.nn.init.calculate_gain`.

Backward follows the module contract: ``backward(dout) = dout · f′(z)`` for the last forward.
``derivative()`` returns f′(z) of the last forward pass (the probes' "mean f′(z)" reads it).
All forms are numerically stable in float32 for |z| up to 1e4: no overflow warning, no NaN.
"""

from __future__ import annotations

import numpy as np

from ..errors import unknown_name
from .module import Module


class Activation(Module):
    """Base class of element-wise activations. Input (m, …) → output of the same shape."""

    name = "activation"
    output_range: tuple[float, float] = (-np.inf, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "xavier_uniform"
    gain_name = "linear"

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self) -> np.ndarray:
        """f′(z) for the z of the last forward pass, same shape and dtype as z."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.derivative()

    def extra_repr(self) -> str:
        return ""


class Identity(Activation):
    """f(z) = z;  f′(z) = 1. Range (−∞, ∞). Stacking layers with it collapses to one linear map (A10)."""

    name = "identity"
    zero_centred = True
    suggested_init = "xavier_uniform"
    gain_name = "linear"

    def forward(self, x):
        self._x = x
        return x

    def derivative(self):
        return np.ones_like(self._x)

    def backward(self, dout):
        return dout


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^{−z});  σ′(z) = σ(z)(1 − σ(z)) ≤ 1/4. Range (0, 1).

    Stable form: with e = exp(−|z|) ≤ 1, σ(z) = 1/(1+e) for z ≥ 0 and e/(1+e) for z < 0, so exp
    never overflows (float32 exp overflows for arguments above ~88).
    The derivative is computed from the output, as PyTorch does.
    """

    name = "sigmoid"
    output_range = (0.0, 1.0)
    zero_centred = False
    saturating = True
    max_derivative = 0.25
    suggested_init = "xavier_uniform"
    gain_name = "sigmoid"

    def forward(self, x):
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0, e) / (1.0 + e)
        self._out = out.astype(x.dtype, copy=False)
        return self._out

    def derivative(self):
        return self._out * (1 - self._out)


class Tanh(Activation):
    """tanh(z) = (e^z − e^{−z}) / (e^z + e^{−z});  tanh′(z) = 1 − tanh²(z) ≤ 1. Range (−1, 1).

    Zero-centred, but saturates just as sigmoid does (tanh(z) = 2σ(2z) − 1).
    """

    name = "tanh"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    max_derivative = 1.0
    suggested_init = "xavier_uniform"
    gain_name = "tanh"

    def forward(self, x):
        self._out = np.tanh(x)
        return self._out

    def derivative(self):
        return 1 - self._out * self._out


class ReLU(Activation):
    """ReLU(z) = max(0, z);  ReLU′(z) = 1 if z > 0 else 0 (ReLU′(0) = 0, as PyTorch). Range [0, ∞).

    The gradient is exactly 1 wherever the unit is active, so it does not shrink with depth
    (A2, A4); a unit negative for every input gets no gradient at all (dead ReLU, A6).
    """

    name = "relu"
    output_range = (0.0, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "relu"

    def forward(self, x):
        self._mask = x > 0
        self._dt = x.dtype
        return np.maximum(x, 0)

    def derivative(self):
        return self._mask.astype(self._dt)

    def backward(self, dout):
        return dout * self._mask
