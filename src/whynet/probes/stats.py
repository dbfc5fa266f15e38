"""The probes' quantities, one function each, on plain NumPy arrays.

Each function takes the arrays a probe captured (activations, derivatives, gradients, weights) and
returns a number or a small array, so an experiment can compute one quantity without a
:class:`~whynet.probes.Probe`. Conventions:

* an activation array is ``(m, n)`` (examples × units) or ``(m, C, …)``; with more than two axes a
  *unit* is a channel (axis 1), pooled over the examples and the positions;
* a weight array is ``(n_out, n_in)`` or ``(n_out, C_in, k…)``: row ``j`` holds unit ``j``'s
  incoming weights (PyTorch's layout);
* results are Python floats/ints (float64), whatever the dtype of the input.

Thresholds are named constants below, with the reason for their value.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, ShapeError
from ..i18n import _

#: Percentiles recorded for every activation (``p1`` … ``p99``).
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)

#: A bounded activation's output is *saturated* within this fraction of its range from either
#: bound: tanh |a| > 0.97 (the threshold of Karpathy's "Building makemore" part 3), sigmoid
#: a < 0.015 or a > 0.985. At those points f′ is 5.9% of its maximum (tanh′ = 1 − 0.97² = 0.0591,
#: σ′ = 0.985 · 0.015 = 0.0148 = 0.059 · ¼): gradients through the unit are all but gone.
SATURATION_MARGIN = 0.015

#: For activations bounded on one side only (ELU, SELU, softplus…), a unit is saturated where
#: f′(z) is below this fraction of its maximum: the same 5.9% as the tanh/sigmoid margin above.
SATURATION_DERIVATIVE = 1 - 0.97 ** 2

#: |w| below this counts as "near zero" in :func:`weight_sparsity` (question R1).
SPARSITY_EPS = 1e-3

#: Two units are the same unit when their incoming weights (and bias) differ by at most this
#: fraction of the layer's largest |weight| (question I1). Zero-initialised units stay equal to the
#: last bit or nearly so (a blocked matrix product may round rows differently); random ones differ
#: by far more than 1e-4.
SYMMETRY_TOL = 1e-4


# -- activations -----------------------------------------------------------------------------------
def summary(a: np.ndarray, percentiles=PERCENTILES) -> dict[str, float]:
    """Mean, standard deviation and percentiles of all entries of ``a``.

    Returns ``{"mean": …, "std": …, "p1": …, "p5": …, …}``; percentiles by linear interpolation
    between order statistics (NumPy's and PyTorch's default method).
    """
    flat = np.asarray(a).ravel()
    if flat.size == 0:
        raise ShapeError(_("summary: expected a non-empty array, got size 0"))
    # float64 accumulation: a diverging float32 layer (values ~1e20) must not overflow the std.
    out = {"mean": float(flat.mean(dtype=np.float64)), "std": float(flat.std(dtype=np.float64))}
    # One sort then interpolation: 5-10× faster than np.percentile's partitioning on a
    # 256 × 1024 layer, where percentiles were the largest part of a probe's statistics.
    ordered = np.sort(flat)
    position = np.asarray(percentiles, dtype=np.float64) / 100 * (flat.size - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, flat.size - 1)
    low, high = ordered[below].astype(np.float64), ordered[above].astype(np.float64)
    values = low + (high - low) * (position - below)
    for q, v in zip(percentiles, values):
        out[f"p{q:g}"] = float(v)
    return out


def histogram_range(a: np.ndarray, output_range=(-math.inf, math.inf)) -> tuple[float, float]:
    """A fixed histogram range for a layer: the activation's bounds where finite, else twice the
    largest |value| seen (so later steps still fit when activations grow, up to 2×).

    ReLU (range [0, ∞)) with max 1.3 → (0, 2.6); tanh → (−1, 1); an all-zero array → ±1.
    """
    low, high = float(output_range[0]), float(output_range[1])
    if math.isfinite(low) and math.isfinite(high):
        return low, high
    flat = np.asarray(a).ravel()
    reach = 2 * float(np.abs(flat).max()) if flat.size else 0.0
    reach = reach if reach > 0 else 1.0
    return (low if math.isfinite(low) else -reach, high if math.isfinite(high) else reach)


def histogram(a: np.ndarray, bins: int, value_range: tuple[float, float]) -> np.ndarray:
    """Counts of ``a`` in ``bins`` equal bins over ``value_range`` (int64, shape ``(bins,)``).

    Values outside the range are counted in the end bins, so no example is lost from the figure;
    the right edge belongs to the last bin, as in ``np.histogram``.
    """
    lo, hi = float(value_range[0]), float(value_range[1])
    if not hi > lo:
        raise ConfigError(_("histogram: value_range must have high > low, got {value_range!r}")
                            .format(value_range=value_range))
    flat = np.asarray(a).ravel()
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    # Bin index by one scaled subtraction and a bincount: 3× faster than np.histogram, which
    # also keeps a mask of in-range values that clipping makes unnecessary. Values far outside
    # the range may overflow to ±inf here; the clip puts them in the end bins all the same.
    with np.errstate(over="ignore"):
        index = (flat - flat.dtype.type(lo)) * flat.dtype.type(bins / (hi - lo))
    np.clip(index, 0, bins - 1, out=index)
    return np.bincount(index.astype(np.intp), minlength=bins)


def saturated_fraction(out: np.ndarray, output_range: tuple[float, float],
                       margin: float = SATURATION_MARGIN) -> float:
    """Fraction of outputs within ``margin·(high − low)`` of either bound of ``output_range``.

    For tanh (range (−1, 1)): |a| > 0.97; for sigmoid (0, 1): a < 0.015 or a > 0.985.
    """
    low, high = output_range
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ConfigError(_("saturated_fraction: output_range must be finite with high > low, "
                            "got {output_range!r}; use saturated_fraction_from_derivative")
                            .format(output_range=output_range))
    width = margin * (high - low)
    out = np.asarray(out)
    return float(np.mean((out <= low + width) | (out >= high - width)))


def saturated_fraction_from_derivative(fprime: np.ndarray, max_derivative: float,
                                       rel: float = SATURATION_DERIVATIVE) -> float:
    """Fraction of units with f′(z) < ``rel · max_derivative`` (one-sided bounds: ELU, SELU…)."""
    return float(np.mean(np.asarray(fprime) < rel * max_derivative))


def saturation(out: np.ndarray, fprime: np.ndarray | None, output_range, saturating: bool,
               max_derivative: float) -> float | None:
    """The activation-aware saturated fraction, or None for a non-saturating activation (ReLU…).

    Both bounds finite (sigmoid, tanh, hardtanh…): :func:`saturated_fraction` on the outputs.
    One bound (ELU, softplus…): :func:`saturated_fraction_from_derivative` on f′(z).
    """
    if not saturating:
        return None
    low, high = output_range
    if math.isfinite(low) and math.isfinite(high):
        return saturated_fraction(out, output_range)
    if fprime is None:
        return None
    return saturated_fraction_from_derivative(fprime, max_derivative)


def _units(a: np.ndarray) -> np.ndarray:
    """``a`` as (examples, units, positions): units on axis 1, positions pooled for conv maps."""
    a = np.asarray(a)
    if a.ndim < 2:
        raise ShapeError(_("expected activations of shape (m, units, …), got {shape}")
                           .format(shape=a.shape))
    return a.reshape(a.shape[0], a.shape[1], -1)


def dead_units(a: np.ndarray) -> np.ndarray:
    """Per unit, True when its output is exactly zero for every example (and position).

    Shapes: ``(m, n)`` → ``(n,)``; ``(m, C, …)`` → ``(C,)``.
    """
    return ~np.any(_units(a) != 0, axis=(0, 2))


def dead_fraction(a: np.ndarray) -> float:
    """Fraction of units that are zero for every example of the batch (dead ReLUs, A6)."""
    return float(np.mean(dead_units(a)))


def mean_derivative(fprime: np.ndarray) -> float:
    """Mean of f′(z) over the batch and units: the average factor the activation multiplies
    back-propagated gradients by (≤ ¼ for sigmoid, question A4)."""
    return float(np.mean(fprime))


# -- gradients and weights -------------------------------------------------------------------------
def norm(a: np.ndarray) -> float:
    """Frobenius (L2) norm of all entries (exploding float32 values fall back to float64)."""
    flat = np.asarray(a).ravel()
    with np.errstate(over="ignore"):
        squares = float(np.dot(flat, flat))
    if not math.isfinite(squares) and np.isfinite(flat).all():
        wide = flat.astype(np.float64)
        squares = float(np.dot(wide, wide))
    return math.sqrt(squares)


def mean_abs(a: np.ndarray) -> float:
    """Mean |entry|."""
    return float(np.mean(np.abs(a)))


def update_ratio(before: np.ndarray, after: np.ndarray) -> float | None:
    """‖after − before‖ / ‖before‖: how much one step changed a weight relative to its size.

    About 1e-3 is healthy (cs231n lecture 6); 1e-1 means a learning rate far too high, 1e-6 one
    far too low. None when ‖before‖ = 0 (zero-initialised weights: the ratio is undefined).
    """
    before = np.asarray(before)
    if before.shape != np.shape(after):
        raise ShapeError(_("update_ratio: shapes differ, {shape} vs {shape2}")
                           .format(shape=before.shape, shape2=np.shape(after)))
    w = norm(before)
    if w == 0:
        return None
    return norm(np.asarray(after) - before) / w


def weight_scale(W: np.ndarray) -> float:
    """Root mean square over units of the norm of a unit's incoming weights, ‖W‖_F / √n_out.

    A weight drawn with std σ gives about σ·√fan_in: Xavier on a square layer ≈ 1 (gain g: g),
    He ≈ √2, std 0.01 on 16 inputs 0.04, zero initialisation 0. Shape ``(n_out, …)`` → float.
    """
    W = np.asarray(W)
    if W.ndim < 1 or W.shape[0] == 0:
        raise ShapeError(_("weight_scale: expected a weight array of shape (n_out, …), got "
                           "{shape}").format(shape=W.shape))
    return norm(W) / math.sqrt(W.shape[0])


def weight_sparsity(W: np.ndarray, eps: float = SPARSITY_EPS) -> tuple[float, float]:
    """(fraction of exactly-zero entries, fraction with |w| < eps) — question R1."""
    W = np.asarray(W)
    n = max(W.size, 1)
    return np.count_nonzero(W == 0) / n, np.count_nonzero(np.abs(W) < eps) / n


def _rows(W: np.ndarray) -> np.ndarray:
    W = np.asarray(W)
    if W.ndim < 2:
        raise ShapeError(_("expected a weight array of shape (n_out, n_in, …), got {shape}")
                           .format(shape=W.shape))
    return W.reshape(W.shape[0], -1)


def same_sign_units(grad_W: np.ndarray) -> np.ndarray:
    """Per unit (row of ``grad_W``), True when all its non-zero incoming-weight gradients share one
    sign: the update moves every incoming weight the same way, the zig-zag of question A1.

    A unit with an all-zero gradient row (a dead ReLU) is False.
    Shape ``(n_out, …)`` → ``(n_out,)``.
    """
    G = _rows(grad_W)
    positive = np.any(G > 0, axis=1)
    negative = np.any(G < 0, axis=1)
    return positive ^ negative


def sign_agreement(grad_W: np.ndarray) -> float:
    """Fraction of units whose incoming-weight gradients all share one sign (question A1).

    For one example, ∂L/∂W[j, k] = δⱼ·xₖ: with all inputs xₖ > 0 (sigmoid or ReLU outputs) every
    unit agrees (1.0). Over a batch the signs mix once the δⱼ of different examples differ in sign.
    """
    return float(np.mean(same_sign_units(grad_W)))


def distinct_units(W: np.ndarray, b: np.ndarray | None = None, tol: float = SYMMETRY_TOL) -> int:
    """Number of distinct units of a layer: rows of ``[W | b]`` grouped when they differ by at most
    ``tol · max|[W | b]|`` in every entry (question I1). 1 for a zero-initialised layer, ``n_out``
    for a randomly initialised one.

    Grouping is greedy: each unit not yet grouped leads a group of all ungrouped units close to it.
    Units are first sorted on the column of largest spread, so only neighbours there are compared
    (a few milliseconds for the 1024 × 1024 layers of the benchmark).
    """
    R = _rows(W)
    n = R.shape[0]
    if b is not None:
        b = np.asarray(b).reshape(-1)
        if b.shape[0] != n:
            raise ShapeError(_("distinct_units: b has {shape} entries, W has {n} rows")
                               .format(shape=b.shape[0], n=n))
    if n == 0:
        return 0
    top, bottom = R.max(axis=0), R.min(axis=0)        # per column: one pass each
    scale = max(float(top.max()), -float(bottom.min()))
    if b is not None:
        scale = max(scale, float(np.abs(b).max()))
    if scale == 0:
        return 1
    atol = tol * scale
    key = R[:, int(np.argmax(top - bottom))]
    order = np.argsort(key, kind="stable")
    # Rows within atol of each other are within atol on the key column, so a gap above atol on the
    # sorted key separates groups that can never merge.
    starts = np.flatnonzero(np.diff(key[order]) > atol) + 1
    bounds = np.concatenate([[0], starts, [n]])
    sizes = np.diff(bounds)
    count = int(np.count_nonzero(sizes == 1))
    # Pairs (most of the remaining blocks when units differ): one vectorised comparison.
    first = order[bounds[:-1][sizes == 2]]
    second = order[bounds[:-1][sizes == 2] + 1]
    same = np.max(np.abs(R[first] - R[second]), axis=1, initial=0) <= atol
    if b is not None:
        same &= np.abs(b[first] - b[second]) <= atol
    count += 2 * len(first) - int(np.count_nonzero(same))
    for lo, hi in zip(bounds[:-1][sizes > 2], bounds[1:][sizes > 2]):
        block = order[lo:hi]
        while block.size:
            close = np.max(np.abs(R[block] - R[block[0]]), axis=1) <= atol
            if b is not None:
                close &= np.abs(b[block] - b[block[0]]) <= atol
            count += 1
            block = block[~close]
    return count


def jacobian_singular_values(W: np.ndarray, fprime: np.ndarray | None = None) -> np.ndarray:
    """Singular values of a dense layer's input-output Jacobian (Glorot & Bengio 2010, §4.2.1).

    For ``a = f(x Wᵀ + b)`` and one example, ``J = ∂a/∂x = diag(f′(z)) W`` (n_out × n_in).
    Glorot and Bengio report the mean singular value: near 1 the layer keeps the volume of small
    perturbations (signals neither vanish nor explode through it).

    Shapes: ``W`` (n_out, n_in); ``fprime`` None (a linear layer: J = W) → ``(k,)``, or
    ``(m, n_out)`` → ``(m, k)``, with k = min(n_out, n_in), each row in decreasing order.
    Cost O(m · n_out · n_in · k): call it on small layers or a few examples.
    """
    W = np.asarray(W)
    if W.ndim != 2:
        raise ShapeError(_("jacobian_singular_values: expected W of shape (n_out, n_in), got "
                           "{shape}").format(shape=W.shape))
    if fprime is None:
        return np.linalg.svd(W, compute_uv=False)
    fprime = np.asarray(fprime)
    if fprime.ndim != 2 or fprime.shape[1] != W.shape[0]:
        raise ShapeError(_("jacobian_singular_values: expected fprime of shape (m, {shape}), got "
                           "{shape2}").format(shape=W.shape[0], shape2=fprime.shape))
    return np.linalg.svd(fprime[:, :, None] * W[None, :, :], compute_uv=False)


def batchnorm_gap(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                  eps: float = 1e-5) -> tuple[float, float]:
    """How far a BatchNorm layer's running statistics are from this batch's.

    Returns ``(mean_gap, var_ratio)``: the mean over channels of |μ_B − μ_run| / √(σ²_run + ε)
    (0 when they match; in units of the running standard deviation) and of
    (σ²_B + ε) / (σ²_run + ε) (1 when they match), with σ²_B the biased batch variance that
    training normalises by. A large gap
    means evaluation mode (running statistics) sees a different network than training did.
    Shapes: ``x`` (m, C) or (m, C, …); running statistics (C,).
    """
    xs = _units(x)
    mean = xs.mean(axis=(0, 2))
    var = xs.var(axis=(0, 2))
    run_mean = np.asarray(running_mean, dtype=np.float64)
    run_var = np.asarray(running_var, dtype=np.float64)
    if run_mean.shape != mean.shape:
        raise ShapeError(_("batchnorm_gap: running statistics have shape {shape}, input has "
                           "{shape2} channels")
                           .format(shape=run_mean.shape, shape2=mean.shape[0]))
    gap = float(np.mean(np.abs(mean - run_mean) / np.sqrt(run_var + eps)))
    ratio = float(np.mean((var + eps) / (run_var + eps)))
    return gap, ratio
