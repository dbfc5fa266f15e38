"""Activation functions: one small class each, forward and derivative side by side.

Each class's docstring gives the function, its derivative, the output range and the convention
followed. Class attributes describe the function so experiments and probes can read them:

* ``name``: registry name (``get_activation(name)``);
* ``output_range``: ``(low, high)`` of f, closed for the float checks (σ(z) rounds to 1.0 in
  float32 for z > 17); irrational bounds are rounded outward;
* ``zero_centred``: f(0) = 0 *and* E[f(z)] = 0 for z ~ N(0, 1): the odd functions, and SELU by
  construction. ReLU and GELU have f(0) = 0 but a positive mean, so they are not;
* ``saturating``: the output is bounded on both sides, so f′(z) → 0 as |z| → ∞ (the "saturating
  non-linearities" of Krizhevsky et al. 2012). ReLU-like functions, flat on one side only, are not;
* ``max_derivative``: sup f′(z), rounded up (0.25 for sigmoid: the 0.25^L bound of question A4);
* ``suggested_init``: the initialiser that keeps activations spread with this function;
* ``gain_name``: the key of PyTorch's gain table (:data:`TORCH_GAINS`, or ``"leaky_relu"``)
  whose gain suits this function: :func:`calculate_gain` of the activation's name reads it,
  so an activation PyTorch does not list (ELU, GELU…) takes relu's √2 (see :meth:`gain`).

Hyperparameters can move these (ELU's α sets its lower bound); the instance then overrides the
class attribute, so read them from the instance when you have one.

Backward follows the module contract: ``backward(dout) = dout · f′(z)`` for the last forward.
``derivative()`` returns f′(z) of the last forward pass as a new array (the probes' "mean f′(z)"
reads it). At kinks f′ takes PyTorch's value: ReLU′(0) = 0, LeakyReLU′(0) = slope, ELU′(0) = α,
Hardtanh′(±1) = 0.

All forms are numerically stable in float32 for |z| up to 1e4 (no overflow, no NaN, no inf), keep
the input's dtype (float32 in → float32 out, derivatives included) and never modify the input.
Where f′ can be written from f, the output is kept instead of the input, as PyTorch does for
sigmoid and tanh. Masks enter derivatives as arithmetic rather than ``np.where``, which is several
times slower on the random sign patterns of real activations.

Shapes: input z (m, …) → output of the same shape.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .. import dtypes
from ..errors import ConfigError, ShapeError, check_int, check_number, unknown_name
from ..i18n import _
from . import _threads
from .module import Module


def erfc(x: np.ndarray) -> np.ndarray:
    """``scipy.special.erfc`` (complementary error function, elementwise, dtype kept), imported on
    first use: only GELU needs it, and importing scipy.special costs ~0.3 s that every
    ``whynet`` command would otherwise pay."""
    from scipy.special import erfc as scipy_erfc

    return scipy_erfc(x)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1 + e^{−z}) = e^{z}/(1 + e^{z}), in the form that suits the sign of z.

    With e = e^{−|z|} ≤ 1 (it cannot overflow): σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) for z < 0,
    so σ keeps full relative precision in the left tail (σ(−88) ≈ 6e-39 in float32, not 0).
    The numerator is max(e, [z ≥ 0]): 1 where z ≥ 0, e elsewhere. Measured 2–3× faster than
    ``scipy.special.expit`` (and than ``np.where``) on float32 batches.
    """
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)
    out = np.maximum(e, z >= 0)
    e += 1
    out /= e
    return out


def _log1p_exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """log(1 + e^{−|z|}) ∈ [0, log 2]: the part of softplus(z) = max(z, 0) + log(1 + e^{−|z|})
    that never overflows, whatever the size of z."""
    c = np.abs(z)
    np.negative(c, out=c)
    np.exp(c, out=c)
    return np.log1p(c, out=c)


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
        """f′(z) for the z of the last forward pass, same shape and dtype as z (a new array)."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d = self.derivative()
        return np.multiply(d, dout, out=d)

    def get_config(self) -> dict:
        """Constructor kwargs, JSON-serialisable: ``type(a)(**a.get_config())`` rebuilds ``a``."""
        return {}

    def gain(self) -> float:
        """The recommended init gain: :func:`calculate_gain` of ``gain_name``."""
        return calculate_gain(self.gain_name)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())


class Identity(Activation):
    """f(z) = z;  f′(z) = 1. Range (−∞, ∞). Stacking layers with it collapses to one linear map (A10)."""

    name = "identity"
    zero_centred = True
    suggested_init = "xavier_uniform"
    gain_name = "linear"

    def forward(self, x):
        self._shape, self._dt = x.shape, x.dtype
        return x

    def derivative(self):
        return np.ones(self._shape, self._dt)

    def backward(self, dout):
        return dout


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^{−z});  σ′(z) = σ(z)(1 − σ(z)) ≤ 1/4. Range (0, 1).

    Stable form: with e = exp(−|z|) ≤ 1, σ(z) = 1/(1+e) for z ≥ 0 and e/(1+e) for z < 0, so exp
    never overflows (float32 exp overflows for arguments above ~88) and σ keeps full relative
    precision in the left tail. The derivative is computed from the output, as PyTorch does.
    """

    name = "sigmoid"
    output_range = (0.0, 1.0)
    zero_centred = False
    saturating = True
    max_derivative = 0.25
    suggested_init = "xavier_uniform"
    gain_name = "sigmoid"

    def forward(self, x):
        self._out = sigmoid(x)
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
        if x.size < _threads.MIN_PARALLEL_SIZE:  # one call each, NumPy allocates: cheapest
            mask, out = _relu_forward(x)
        else:  # slice by slice of the batch, on as many threads as BLAS may use
            mask, out = np.empty(x.shape, dtype=bool), np.empty_like(x)
            self.workers.split(_relu_forward, x, mask, out)
        self._mask, self._dt = mask, x.dtype
        return out

    def derivative(self):
        return self._mask.astype(self._dt)

    def backward(self, dout):
        if dout.size < _threads.MIN_PARALLEL_SIZE:
            return _relu_backward(dout, self._mask)
        dx = np.empty_like(dout)
        self.workers.split(_relu_backward, dout, self._mask, dx)
        return dx


def _relu_forward(x, mask=None, out=None):
    """``(mask, out)``: mask = [x > 0], out = max(x, 0) (into ``mask`` and ``out`` if given)."""
    return np.greater(x, 0, out=mask), np.maximum(x, 0, out=out)


def _relu_backward(dout, mask, dx=None):
    """dx = dout ⊙ [x > 0] (into ``dx`` if given)."""
    return np.multiply(dout, mask, out=dx)


class LeakyReLU(Activation):
    """LeakyReLU(z) = z if z > 0 else s·z;  f′(z) = 1 if z > 0 else s. Range (−∞, ∞).

    ``negative_slope`` s = 0.01 by default and f′(0) = s, as PyTorch (Maas et al. 2013). Negative
    units still get a gradient s, so they can recover (the cure for dead ReLUs, A6). We require
    0 ≤ s ≤ 1 (PyTorch accepts any s): then f(z) = max(z, s·z) and sup f′ = 1.

    Args:
        negative_slope: the slope s for z ≤ 0.
    """

    name = "leaky_relu"
    output_range = (-np.inf, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        s = check_number("LeakyReLU", "negative_slope", negative_slope)
        if not 0 <= s <= 1:
            raise ConfigError(_("LeakyReLU: negative_slope must be in [0, 1], got "
                                "{negative_slope!r}").format(negative_slope=negative_slope))
        self.negative_slope = s
        if s == 0:
            self.output_range = (0.0, np.inf)

    def forward(self, x):
        self._mask = x > 0
        self._dt = x.dtype
        return np.maximum(x, self.negative_slope * x)

    def derivative(self):
        s = self.negative_slope
        d = self._mask.astype(self._dt)
        d *= 1 - s
        d += s
        return d

    def get_config(self):
        return {"negative_slope": self.negative_slope}

    def gain(self):
        return calculate_gain("leaky_relu", self.negative_slope)


class PReLU(Activation):
    """PReLU(z) = max(0, z) + α·min(0, z), α learned (He et al. 2015).

    ∂f/∂z = 1 if z > 0 else α (α at z = 0, as PyTorch);  ∂f/∂α = min(0, z). Range (−∞, ∞).

    Args:
        num_parameters: 1 (one α for the whole layer) or n (one α per unit of an (m, n) input, or
            per channel of an (m, C, …) input): α is indexed along axis 1, as PyTorch.
        init: the initial α, 0.25 as PyTorch and the paper.
        dtype: of α (float32 by default). The output has the input's dtype.

    Shapes: α (num_parameters,). Backward, for dout = ∂L/∂f:
        ``dz = dout · f′(z)``;  ``dα += Σ dout · min(0, z)`` over every axis but axis 1 (over all
        axes when num_parameters = 1).

    α is a ``Parameter`` named ``"alpha"`` with ``regularize=False``: weight decay would pull it
    towards ReLU (the paper does not decay it either). ``max_derivative`` = max(1, init) holds
    while every α stays ≤ that; nothing stops training from pushing α higher.
    """

    name = "prelu"
    output_range = (-np.inf, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "leaky_relu"

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        self.num_parameters = check_int("PReLU", "num_parameters", num_parameters)
        self.init = check_number("PReLU", "init", init)
        self.max_derivative = max(1.0, self.init)
        self._dtype = dtypes.resolve(dtype)
        value = np.full(self.num_parameters, self.init, self._dtype)
        self.alpha = self.add_parameter("alpha", value, regularize=False)

    def _alpha_for(self, x: np.ndarray) -> np.ndarray:
        """α in x's dtype, shaped to broadcast along x's axis 1."""
        a = self.alpha.value.astype(x.dtype, copy=False)
        n = self.num_parameters
        if n == 1:
            return a.reshape(())
        if x.ndim < 2 or x.shape[1] != n:
            raise ShapeError(_("{self!r}: expected input of shape (m, {n}, …) with one α per "
                               "channel on axis 1, got {shape}")
                               .format(self=self, n=n, shape=x.shape))
        return a.reshape((n,) + (1,) * (x.ndim - 2))

    def forward(self, x):
        a = self._alpha_for(x)
        self._x = x
        out = np.minimum(x, 0)
        out *= a
        out += np.maximum(x, 0)
        return out

    def derivative(self):
        a = self._alpha_for(self._x)
        d = (self._x > 0).astype(self._x.dtype)
        d *= 1 - a
        d += a
        return d

    def backward(self, dout):
        x = self._x
        dalpha = np.minimum(x, 0)
        dalpha *= dout
        if self.num_parameters == 1:
            self.alpha.grad += dalpha.sum()
        else:
            self.alpha.grad += dalpha.sum(axis=(0, *range(2, x.ndim)))
        d = self.derivative()
        return np.multiply(d, dout, out=d)

    def get_config(self):
        return {"num_parameters": self.num_parameters, "init": self.init}

    def gain(self):
        """The leaky-ReLU gain for the current mean α."""
        return calculate_gain("leaky_relu", float(np.mean(self.alpha.value)))


def _elu_derivative(y: np.ndarray, alpha: float, scale: float) -> np.ndarray:
    """f′ of f = scale·ELU_α, from f: scale where f > 0 (⇔ z > 0), f + scale·α elsewhere."""
    d = np.minimum(y, 0)
    d += scale * alpha
    if alpha != 1:
        step = (y > 0).astype(y.dtype)
        step *= scale - scale * alpha
        d += step
    return d


class ELU(Activation):
    """ELU(z) = z if z > 0 else α(e^z − 1);  f′(z) = 1 if z > 0 else α·e^z = f(z) + α.

    Range (−α, ∞). Clevert et al. 2016. Negative outputs pull the mean activation towards zero
    (A8), at the cost of an exp. f′(0) = α, the left derivative, as PyTorch (both sides are 1
    when α = 1). e^z − 1 is computed with ``expm1`` on min(z, 0), so it never overflows and is
    accurate for small |z|; f′ is computed from the output.

    Args:
        alpha: α ≥ 0, the value −α that f approaches as z → −∞ (α = 0 gives ReLU).
    """

    name = "elu"
    output_range = (-1.0, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "relu"

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = check_number("ELU", "alpha", alpha, low=0.0)
        self.output_range = (-self.alpha, np.inf)
        self.max_derivative = max(1.0, self.alpha)

    def forward(self, x):
        # f = max(z, 0) + α·expm1(min(z, 0)). For α ≤ 1 that is max(z, α·expm1(min(z, 0))):
        # α(e^z − 1) ≥ e^z − 1 ≥ z for z ≤ 0, and the second term is 0 for z > 0; one pass and
        # no temporary instead of two.
        out = np.minimum(x, 0)
        np.expm1(out, out=out)
        if self.alpha != 1:
            out *= self.alpha
        if self.alpha <= 1:
            np.maximum(out, x, out=out)
        else:
            out += np.maximum(x, 0)
        self._out = out
        return out

    def derivative(self):
        return _elu_derivative(self._out, self.alpha, 1.0)

    def get_config(self):
        return {"alpha": self.alpha}


# Klambauer et al. 2017, "Self-Normalizing Neural Networks", eq. (14): α₀₁ and λ₀₁, the values that
# make mean 0 and variance 1 a fixed point for N(0, 1) inputs and lecun_normal weights.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class SELU(Activation):
    """SELU(z) = λ·(z if z > 0 else α(e^z − 1));  f′(z) = λ if z > 0 else λα·e^z = f(z) + λα.

    α ≈ 1.6733 and λ ≈ 1.0507 (``SELU_ALPHA``, ``SELU_SCALE``) are fixed by Klambauer et al. 2017
    so that activations keep mean 0 and variance 1 through many layers initialised with
    ``lecun_normal``: E[SELU(z)] = 0 and E[SELU(z)²] = 1 for z ~ N(0, 1), hence ``zero_centred``.
    Range (−λα, ∞) ≈ (−1.7581, ∞); f′(0) = λα ≈ 1.7581, the left derivative, as PyTorch.
    ``gain_name`` is "selu" (PyTorch's 3/4), but the paper's init is ``lecun_normal`` (gain 1).
    """

    name = "selu"
    output_range = (-SELU_SCALE * SELU_ALPHA, np.inf)
    zero_centred = True
    saturating = False
    max_derivative = SELU_SCALE * SELU_ALPHA
    suggested_init = "lecun_normal"
    gain_name = "selu"

    def forward(self, x):
        out = np.minimum(x, 0)
        np.expm1(out, out=out)
        out *= SELU_ALPHA
        out += np.maximum(x, 0)
        out *= SELU_SCALE
        self._out = out
        return out

    def derivative(self):
        return _elu_derivative(self._out, SELU_ALPHA, SELU_SCALE)


class CELU(Activation):
    """CELU(z) = max(0, z) + min(0, α(e^{z/α} − 1));  f′(z) = 1 if z > 0 else e^{z/α} = f(z)/α + 1.

    Barron 2017: ELU rescaled so that f′ is continuous at 0 for every α (f′(0) = 1). Range (−α, ∞).
    Equal to ELU when α = 1.

    Args:
        alpha: α > 0.
    """

    name = "celu"
    output_range = (-1.0, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "relu"

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = check_number("CELU", "alpha", alpha, low=0.0, low_open=True)
        self.output_range = (-self.alpha, np.inf)

    def forward(self, x):
        # max(z, 0) + α·expm1(min(z, 0)/α) = max(z, α·expm1(min(z, 0)/α)), as e^u − 1 ≥ u: one
        # pass and no temporary instead of two.
        out = np.minimum(x, 0)
        out /= self.alpha
        np.expm1(out, out=out)
        out *= self.alpha
        np.maximum(out, x, out=out)
        self._out = out
        return out

    def derivative(self):
        # min(f, 0) is 0 where z > 0, so one expression covers both sides.
        d = np.minimum(self._out, 0)
        d /= self.alpha
        d += 1
        return d

    def get_config(self):
        return {"alpha": self.alpha}


# Hendrycks & Gimpel 2016, "Gaussian Error Linear Units", §2: the cubic coefficient of the tanh
# approximation GELU(z) ≈ z/2 · (1 + tanh(√(2/π)(z + 0.044715 z³))).
GELU_TANH_COEF = 0.044715
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELU(Activation):
    """GELU(z) = z·Φ(z), Φ the standard normal CDF (Hendrycks & Gimpel 2016).

    Exact (``approximate="none"``): Φ(z) = erfc(−z/√2)/2 (``scipy.special.erfc``: accurate in
    the left tail, where 1 + erf(z/√2) would cancel);
    f′(z) = Φ(z) + z·φ(z), with φ(z) = e^{−z²/2}/√(2π).
    Tanh form (``approximate="tanh"``, registry name "gelu_tanh"): with
    u = √(2/π)(z + 0.044715 z³) and t = tanh(u), f(z) = z(1 + t)/2 and
    f′(z) = (1 + t)/2 + z(1 − t²)·√(2/π)(1 + 3·0.044715 z²)/2, as PyTorch's two modes.

    Range ≈ (−0.16997, ∞), the minimum at z ≈ −0.7518 (tanh form: −0.17004 at −0.7525);
    sup f′ ≈ 1.12890 at z = √2 (tanh form 1.12899 at 1.4185); bounds rounded outward.
    Not zero-centred: f(0) = 0 but E[f(z)] > 0.

    Args:
        approximate: "none" (exact, the default) or "tanh".
    """

    name = "gelu"
    output_range = (-0.16997121, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.1289042
    suggested_init = "he_normal"
    gain_name = "relu"

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ConfigError(_("GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
                                .format(approximate=approximate))
        self.approximate = approximate
        if approximate == "tanh":
            self.name = "gelu_tanh"
            self.output_range = (-0.17004076, np.inf)
            self.max_derivative = 1.1289931

    def reference(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(f(z), f′(z)) written as the docstring's formulas, in float64: the readable form of
        the in-place chains of :meth:`forward` and :meth:`derivative`, tested against them."""
        z = np.asarray(z, dtype=np.float64)
        if self.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (z + GELU_TANH_COEF * z ** 3))
            du = _SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_COEF * z ** 2)
            return z * (1 + t) / 2, (1 + t) / 2 + z * (1 - t ** 2) * du / 2
        cdf = erfc(-z / math.sqrt(2)) / 2
        pdf = np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi)
        return z * cdf, cdf + z * pdf

    def forward(self, x):
        self._x = x
        if self.approximate == "tanh":
            u = x * x
            u *= GELU_TANH_COEF
            u += 1
            u *= x
            u *= _SQRT_2_OVER_PI
            self._t = np.tanh(u, out=u)
            out = self._t + 1
            out *= x
            out *= 0.5
            return out
        cdf = erfc(x * -_SQRT_HALF)
        cdf *= 0.5
        self._cdf = cdf
        return x * cdf

    def derivative(self):
        x = self._x
        if self.approximate == "tanh":
            t = self._t
            d = x * x                       # du/dz = √(2/π)(1 + 3·0.044715 z²)
            d *= 3 * GELU_TANH_COEF
            d += 1
            d *= _SQRT_2_OVER_PI
            d *= 1 - t * t
            d *= x
            d += t
            d += 1
            d *= 0.5
            return d
        d = x * x                           # z·φ(z) + Φ(z)
        d *= -0.5
        np.exp(d, out=d)
        d *= _INV_SQRT_2PI
        d *= x
        d += self._cdf
        return d

    def get_config(self):
        return {"approximate": self.approximate}


class SiLU(Activation):
    """SiLU(z) = z·σ(z) (Elfwing et al. 2018; "Swish" with β = 1 in Ramachandran et al. 2017).

    f′(z) = σ(z)(1 + z(1 − σ(z))) = σ(z) + f(z)(1 − σ(z)), computed from the output and σ.
    Range ≈ (−0.27846, ∞): the minimum is −W(1/e) at z = −1 − W(1/e) ≈ −1.2785 (W: Lambert's);
    sup f′ ≈ 1.09984 at z ≈ 2.3994; bounds rounded outward. ``Swish`` is the same class.
    """

    name = "silu"
    output_range = (-0.27846455, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0998394
    suggested_init = "he_normal"
    gain_name = "relu"

    def forward(self, x):
        self._sig = sigmoid(x)
        self._out = x * self._sig
        return self._out

    def derivative(self):
        d = 1 - self._sig
        d *= self._out
        d += self._sig
        return d


Swish = SiLU


class Mish(Activation):
    """Mish(z) = z·tanh(softplus(z)), softplus(z) = log(1 + e^z) (Misra 2019).

    f′(z) = tanh(s) + z·σ(z)·(1 − tanh²(s)) with s = softplus(z), since s′ = σ; σ is recovered
    from s as σ(z) = 1 − e^{−s}. softplus is taken as max(z, 0) + log(1 + e^{−|z|}), which never
    overflows (no threshold, as PyTorch's Mish).
    Range ≈ (−0.30884, ∞), the minimum at z ≈ −1.1924; sup f′ ≈ 1.08850 at z ≈ 1.4906; bounds
    rounded outward.
    """

    name = "mish"
    output_range = (-0.30884342, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0884982
    suggested_init = "he_normal"
    gain_name = "relu"

    def forward(self, x):
        s = _log1p_exp_neg_abs(x)
        s += np.maximum(x, 0)
        self._x, self._softplus = x, s
        return x * np.tanh(s)

    def derivative(self):
        x, s = self._x, self._softplus
        t = np.tanh(s)
        sig = np.negative(s)
        np.expm1(sig, out=sig)
        np.negative(sig, out=sig)
        d = 1 - t * t
        d *= sig
        d *= x
        d += t
        return d


class Softplus(Activation):
    """Softplus(z) = log(1 + e^{βz})/β;  f′(z) = σ(βz) = 1 − e^{−βf(z)}. Range (0, ∞).

    A smooth ReLU (Dugas et al. 2001). Computed as max(z, 0) + log(1 + e^{−β|z|})/β, which never
    overflows, and, as PyTorch, f(z) = z and f′(z) = 1 exactly where βz > threshold (the rest of
    the formula is below e^{−threshold} there). f′ is computed from the output (accurate in both
    tails, thanks to ``expm1``).

    Args:
        beta: β > 0 (1 by default); larger β is closer to ReLU.
        threshold: > 0 (20 by default, as PyTorch).
    """

    name = "softplus"
    output_range = (0.0, np.inf)
    zero_centred = False
    saturating = False
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "relu"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = check_number("Softplus", "beta", beta, low=0.0, low_open=True)
        self.threshold = check_number("Softplus", "threshold", threshold, low=0.0, low_open=True)

    def forward(self, x):
        bx = x if self.beta == 1 else x * self.beta
        self._linear = bx > self.threshold
        out = _log1p_exp_neg_abs(bx)
        out *= ~self._linear
        if self.beta != 1:
            out /= self.beta
        out += np.maximum(x, 0)
        self._out = out
        return out

    def derivative(self):
        d = self._out * -self.beta
        np.expm1(d, out=d)
        np.negative(d, out=d)
        # d ≤ 1, so the maximum sets exactly 1 on the linear part and leaves the rest.
        return np.maximum(d, self._linear, out=d)

    def get_config(self):
        return {"beta": self.beta, "threshold": self.threshold}


class Softsign(Activation):
    """Softsign(z) = z / (1 + |z|);  f′(z) = 1 / (1 + |z|)². Range (−1, 1).

    Like tanh, but its tails approach ±1 polynomially rather than exponentially, so it saturates
    more slowly (Turian et al. 2009; studied by Glorot & Bengio 2010). f′ is kept from 1 + |z|
    rather than the output: (1 − |f|)² loses float32 precision once |z| is large.
    """

    name = "softsign"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    max_derivative = 1.0
    suggested_init = "xavier_uniform"
    gain_name = "linear"

    def forward(self, x):
        den = np.abs(x)
        den += 1
        self._den = den
        return x / den

    def derivative(self):
        d = np.reciprocal(self._den)
        d *= d
        return d


class Hardtanh(Activation):
    """Hardtanh(z) = min(max(z, min_val), max_val);  f′(z) = 1 if min_val < z < max_val else 0.

    Range [min_val, max_val], (−1, 1) by default. f′ is 0 at both corners, as PyTorch.
    Zero-centred when min_val = −max_val.

    Args:
        min_val, max_val: the clipping bounds, min_val < max_val.
    """

    name = "hardtanh"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    max_derivative = 1.0
    suggested_init = "xavier_uniform"
    gain_name = "linear"

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__()
        lo = check_number(type(self).__name__, "min_val", min_val)
        hi = check_number(type(self).__name__, "max_val", max_val)
        if not lo < hi:
            raise ConfigError(_("{type}: min_val must be < max_val, got min_val={min_val!r}, "
                                "max_val={max_val!r}")
                                .format(type=type(self).__name__, min_val=min_val,
                                        max_val=max_val))
        self.min_val, self.max_val = lo, hi
        self.output_range = (lo, hi)
        self.zero_centred = lo == -hi

    def forward(self, x):
        self._inside = (x > self.min_val) & (x < self.max_val)
        self._dt = x.dtype
        return np.clip(x, self.min_val, self.max_val)

    def derivative(self):
        return self._inside.astype(self._dt)

    def backward(self, dout):
        return dout * self._inside

    def get_config(self):
        return {"min_val": self.min_val, "max_val": self.max_val}


class ReLU6(Hardtanh):
    """ReLU6(z) = min(max(0, z), 6);  f′(z) = 1 if 0 < z < 6 else 0 (0 at both corners, as PyTorch).

    Range [0, 6]. A ReLU capped at 6 (Krizhevsky 2010; MobileNets), robust in low precision.
    Hardtanh(0, 6) under its own name.
    """

    name = "relu6"
    output_range = (0.0, 6.0)
    zero_centred = False
    saturating = True
    max_derivative = 1.0
    suggested_init = "he_normal"
    gain_name = "relu"

    def __init__(self):
        super().__init__(0.0, 6.0)

    def get_config(self):
        return {}


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, SELU, CELU, GELU, SiLU,
                Mish, Softplus, Softsign, Hardtanh, ReLU6)
}
ACTIVATIONS.update({"linear": Identity, "leakyrelu": LeakyReLU, "swish": SiLU, "gelu_tanh": GELU})

#: PyTorch's gain table (``torch.nn.init.calculate_gain``) but for ``leaky_relu``, whose gain
#: √(2/(1+slope²)) depends on the slope: the factor that keeps the scale of a layer's output
#: with this non-linearity after it. SELU's 3/4 is PyTorch's choice for self-normalisation.
TORCH_GAINS: dict[str, float] = {
    **dict.fromkeys(("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                     "conv_transpose2d", "conv_transpose3d", "sigmoid"), 1.0),
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a non-linearity, with PyTorch's table (:data:`TORCH_GAINS`).

    linear, conv*, sigmoid → 1; tanh → 5/3; relu → √2; leaky_relu → √(2/(1+slope²)) with
    ``param`` the slope (0.01 by default); selu → 3/4. Any other activation name of
    :data:`ACTIVATIONS` takes the gain of its class's ``gain_name`` (ELU, GELU, SiLU… → relu's;
    Softsign, Hardtanh → 1).
    """
    name = nonlinearity.lower() if isinstance(nonlinearity, str) else nonlinearity
    if name not in TORCH_GAINS and name != "leaky_relu" and name in ACTIVATIONS:
        name = ACTIVATIONS[name].gain_name
    if name == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if name in TORCH_GAINS:
        return TORCH_GAINS[name]
    raise unknown_name(_("nonlinearity"), str(nonlinearity),
                       {*TORCH_GAINS, "leaky_relu", *ACTIVATIONS})


# Aliases that are a class with preset arguments; get_activation applies them.
_ALIAS_KWARGS = {"gelu_tanh": {"approximate": "tanh"}}


def get_activation(activation: str | type[Activation] | Activation, **kwargs) -> Activation:
    """An activation from a name (with keyword arguments), an Activation class, or an instance
    (returned as is).

    Names are case-insensitive and read "-" as "_": "relu", "ReLU", "leaky-relu", "gelu_tanh"
    (= GELU(approximate="tanh")), "swish" (= SiLU) all work. An instance's ``name`` and
    ``get_config()`` rebuild it: ``get_activation(a.name, **a.get_config())``.
    """
    if isinstance(activation, Activation):
        if kwargs:
            raise ConfigError(_("get_activation: arguments {kwargs} given with the instance "
                                "{activation!r}")
                                .format(kwargs=kwargs, activation=activation))
        return activation
    if isinstance(activation, type) and issubclass(activation, Activation):
        cls, label, preset = activation, activation.__name__, {}
    else:
        label = activation.lower().replace("-", "_") if isinstance(activation, str) else None
        if label not in ACTIVATIONS:
            raise unknown_name(_("activation"), str(activation), ACTIVATIONS)
        cls, preset = ACTIVATIONS[label], _ALIAS_KWARGS.get(label, {})
    for key, value in preset.items():
        if kwargs.get(key, value) != value:
            raise ConfigError(_("activation {label!r} sets {key}={value!r}, got {key}={kwargs!r}")
                                .format(label=label, key=key, value=value,
                                        kwargs=kwargs[key]))
    kwargs = {**preset, **kwargs}
    allowed = list(inspect.signature(cls).parameters)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigError(_("activation {label!r}: unknown argument(s) {unknown}; allowed: "
                            "{allowed}")
                            .format(label=label, unknown=', '.join(unknown),
                                    allowed=', '.join(allowed) or _("none")))
    return cls(**kwargs)
