"""Numerical gradient checking, as the courses teach it.

Centred differences in float64::

    ∂f/∂θᵢ ≈ (f(θ + h·eᵢ) − f(θ − h·eᵢ)) / (2h)        error O(h²)

and the relative error of deeplearning.ai's gradient check::

    rel_error(a, n) = ‖a − n‖₂ / (‖a‖₂ + ‖n‖₂)

which is ~1e-10 for a correct float64 backward pass and ≥ 1e-3 for a wrong one. (cs231n's
element-wise version, max |a−n| / max(1e-8, |a|+|n|), is noisier near zero entries.)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .errors import ConfigError
from .i18n import _


def rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖); 0.0 when both are exactly zero."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ConfigError(_("rel_error: shapes differ, {shape} vs {shape2}")
                            .format(shape=a.shape, shape2=n.shape))
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - n) / denom)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by centred differences; ``f`` reads ``x``, which is perturbed in place and restored.

    Shapes: ``x`` any shape → gradient of the same shape (float64).
    """
    if x.dtype != np.float64:
        raise ConfigError(_("numerical_gradient needs float64 arrays, got {dtype}")
                            .format(dtype=x.dtype))
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _index in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_module(module, x: np.ndarray, rng: np.random.Generator | None = None,
                 h: float = 1e-6) -> dict[str, float]:
    """Relative error of ``module``'s backward against centred differences.

    The scalar checked is ``L = Σ out ⊙ G`` for a fixed random ``G``, so ∂L/∂out = G.
    Returns ``{"x": err, "<param name>": err, …}``. The module must be float64 and its forward
    deterministic (put Dropout in eval mode, or reseed it, before calling).
    """
    if module.dtype != np.float64 or x.dtype != np.float64:
        raise ConfigError(_("check_module needs a float64 module and input; call "
                            ".astype(np.float64)"))
    rng = np.random.default_rng(0) if rng is None else rng
    x = x.copy()
    out = module.forward(x)
    g = rng.normal(size=out.shape)

    def loss() -> float:
        return float(np.sum(module.forward(x) * g))

    module.zero_grad()
    module.forward(x)
    dx = module.backward(g)
    analytic = {"x": dx.copy()}
    for name, p in module.named_parameters():
        analytic[name] = p.grad.copy()

    errors = {"x": rel_error(analytic["x"], numerical_gradient(loss, x, h))}
    for name, p in module.named_parameters():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p.value, h))
    return errors
