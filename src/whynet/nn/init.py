"""Weight initialisers, following ``torch.nn.init``.

An initialiser is a callable ``init(shape, rng, dtype) -> ndarray``. Layers accept one by name
(``"he_normal"``) or as a callable, so ``Dense(784, 128, init="xavier_uniform")`` and
``Dense(784, 128, init=normal(std=0.01))`` both work.

Fans (as PyTorch computes them) for a weight of shape ``(n_out, n_in, *kernel)``:
``fan_in = n_in · ∏kernel``, ``fan_out = n_out · ∏kernel``.

=====================  ==============================================  ======================
name                   distribution                                    reference
=====================  ==============================================  ======================
zeros / ones           constant 0 / 1
constant(c)            constant c
normal(std)            N(0, std²)  (deeplearning.ai's ×0.01 is std=0.01)
uniform(a, b)          U(a, b)
xavier_uniform         U(±gain·√(6/(fan_in+fan_out)))                  Glorot & Bengio 2010
xavier_normal          N(0, gain²·2/(fan_in+fan_out))                  Glorot & Bengio 2010
he_uniform             U(±gain·√(3/fan))                               He et al. 2015
he_normal              N(0, gain²/fan), gain=√2 for ReLU               He et al. 2015
lecun_uniform          U(±√(3/fan_in))                                 LeCun et al. 1998
lecun_normal           N(0, 1/fan_in)                                  LeCun et al. 1998
orthogonal             gain · Q from the QR of a Gaussian matrix       Saxe et al. 2014
=====================  ==============================================  ======================
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import dtypes
from ..errors import ConfigError, check_positive, lookup
# calculate_gain lives beside the activation table it reads; torch has it here.
from ..i18n import _
from .activations import calculate_gain  # noqa: F401

Initializer = Callable[[tuple, np.random.Generator, np.dtype], np.ndarray]


def compute_fans(shape: tuple) -> tuple[int, int]:
    """``(fan_in, fan_out)`` for a weight of shape ``(n_out, n_in, *kernel)``."""
    if len(shape) < 2:
        raise ConfigError(_("fans need a weight of rank ≥ 2, got shape {shape}")
                            .format(shape=tuple(shape)))
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _cast(a: np.ndarray, dtype) -> np.ndarray:
    return a.astype(dtypes.resolve(dtype), copy=False)


def zeros() -> Initializer:
    return lambda shape, rng, dtype: np.zeros(shape, dtypes.resolve(dtype))


def ones() -> Initializer:
    return constant(1.0)


def constant(value: float) -> Initializer:
    return lambda shape, rng, dtype: np.full(shape, value, dtypes.resolve(dtype))


def normal(std: float = 1.0, mean: float = 0.0) -> Initializer:
    """N(mean, std²). ``normal(0.01)`` is deeplearning.ai's ``np.random.randn(...) * 0.01``."""
    check_positive("normal", "std", std, allow_zero=True)
    return lambda shape, rng, dtype: _cast(rng.normal(mean, std, size=shape), dtype)


def uniform(a: float = 0.0, b: float = 1.0) -> Initializer:
    if not a <= b:
        raise ConfigError(_("uniform: need a ≤ b, got a={a}, b={b}").format(a=a, b=b))
    return lambda shape, rng, dtype: _cast(rng.uniform(a, b, size=shape), dtype)


def xavier_uniform(gain: float = 1.0) -> Initializer:
    def init(shape, rng, dtype):
        fan_in, fan_out = compute_fans(shape)
        bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
        return _cast(rng.uniform(-bound, bound, size=shape), dtype)
    return init


def xavier_normal(gain: float = 1.0) -> Initializer:
    def init(shape, rng, dtype):
        fan_in, fan_out = compute_fans(shape)
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        return _cast(rng.normal(0.0, std, size=shape), dtype)
    return init


def _check_mode(mode: str) -> None:
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(_("he init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
                            .format(mode=mode))


def _fan(shape, mode: str) -> int:
    fan_in, fan_out = compute_fans(shape)
    return fan_in if mode == "fan_in" else fan_out


def he_uniform(nonlinearity: str = "relu", mode: str = "fan_in", a: float = 0.0) -> Initializer:
    """Kaiming uniform: U(±gain·√(3/fan)). ``a`` is the leaky-ReLU slope when it applies."""
    _check_mode(mode)  # fail when the layer is configured, not when it draws
    gain = calculate_gain(nonlinearity, a if nonlinearity == "leaky_relu" else None)

    def init(shape, rng, dtype):
        bound = gain * math.sqrt(3.0 / _fan(shape, mode))
        return _cast(rng.uniform(-bound, bound, size=shape), dtype)
    return init


def he_normal(nonlinearity: str = "relu", mode: str = "fan_in", a: float = 0.0) -> Initializer:
    """Kaiming normal: N(0, gain²/fan), so ReLU layers keep E[x²] constant with depth."""
    _check_mode(mode)  # fail when the layer is configured, not when it draws
    gain = calculate_gain(nonlinearity, a if nonlinearity == "leaky_relu" else None)

    def init(shape, rng, dtype):
        std = gain / math.sqrt(_fan(shape, mode))
        return _cast(rng.normal(0.0, std, size=shape), dtype)
    return init


def lecun_uniform() -> Initializer:
    def init(shape, rng, dtype):
        bound = math.sqrt(3.0 / compute_fans(shape)[0])
        return _cast(rng.uniform(-bound, bound, size=shape), dtype)
    return init


def lecun_normal() -> Initializer:
    def init(shape, rng, dtype):
        std = 1.0 / math.sqrt(compute_fans(shape)[0])
        return _cast(rng.normal(0.0, std, size=shape), dtype)
    return init


def orthogonal(gain: float = 1.0) -> Initializer:
    """A (semi-)orthogonal matrix times ``gain``; sign-corrected QR as ``torch.nn.init.orthogonal_``."""
    def init(shape, rng, dtype):
        if len(shape) < 2:
            raise ConfigError(_("orthogonal init needs a weight of rank ≥ 2, got shape {shape}")
                                .format(shape=tuple(shape)))
        rows = shape[0]
        cols = int(np.prod(shape[1:]))
        flat = rng.normal(size=(rows, cols))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return _cast(gain * q.reshape(shape), dtype)
    return init


INITIALIZERS: dict[str, Callable[..., Initializer]] = {
    "zeros": zeros, "ones": ones, "constant": constant, "normal": normal, "uniform": uniform,
    "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform, "glorot_normal": xavier_normal,
    "he_uniform": he_uniform, "he_normal": he_normal,
    "kaiming_uniform": he_uniform, "kaiming_normal": he_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
    "orthogonal": orthogonal,
}


def get_initializer(init: str | Initializer, **kwargs) -> Initializer:
    """An initialiser from a name (with keyword arguments) or a callable (returned as is)."""
    if callable(init):
        return init
    return lookup(_("initialiser"), INITIALIZERS, init, kwargs)


def init_config(init, init_kwargs: dict, bias_init, default: str) -> dict:
    """A layer's initialiser arguments as JSON, for its ``get_config``. A callable cannot be
    written to JSON; the saved weights replace whatever a rebuilt layer draws, so the name of
    the layer's ``default`` initialiser stands in for it."""
    config = {"init": init, **init_kwargs} if isinstance(init, str) else {"init": default}
    config["bias_init"] = bias_init if isinstance(bias_init, str) else "zeros"
    return config


def add_weight_and_bias(layer, shape: tuple, init, init_kwargs: dict, bias: bool, bias_init,
                        rng: np.random.Generator, dtype) -> None:
    """Give ``layer`` its parameters: ``W`` of ``shape`` drawn by ``init``, then, when ``bias``,
    ``b`` of shape ``(shape[0],)`` drawn by ``bias_init`` and left out of weight penalties
    (``layer.b`` is None without a bias). Both come from ``rng``, W first."""
    w = get_initializer(init, **init_kwargs)(shape, rng, dtype)
    layer.W = layer.add_parameter("W", np.ascontiguousarray(w, dtype=dtype))
    layer.b = None
    if bias:
        b = get_initializer(bias_init)((shape[0],), rng, dtype)
        layer.b = layer.add_parameter("b", np.ascontiguousarray(b, dtype=dtype), regularize=False)
