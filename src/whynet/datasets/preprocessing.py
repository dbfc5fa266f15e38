"""Input preprocessing (question R4) and Playground's input features.

Scalers follow scikit-learn's convention: the constructor stores settings, ``fit(X_train)``
learns statistics into attributes ending in ``_``, ``transform(X)`` applies them to any set.
Statistics come from the training set only: fitting on validation or test data leaks them.

=============  =================================  =============================================
name           x′ =                               learned
=============  =================================  =============================================
none           x                                  —
standardize    (x − μ) / σ                        ``mean_`` μ, ``std_`` σ per feature (σ=0 → 1)
minmax         (x − min) / (max − min)            ``min_``, ``max_`` per feature (range 0 → 1)
log            log(1 + x)                         — (x must be > −1)
=============  =================================  =============================================

Each scaler also exists as a function over several sets at once, fitting on the first::

    Xtr, Xte, scaler = standardize(Xtr, Xte)       # scaler.mean_, scaler.std_
    train, test, scaler = standardize(train, test) # Datasets work too

Statistics are computed in float64 and applied in the input's dtype (float32 stays float32).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, ShapeError, check_finite, lookup, unknown_name
from ..i18n import _
from .base import Dataset


def _as_array(owner: str, X) -> np.ndarray:
    a = X.X if isinstance(X, Dataset) else np.asarray(X)
    if a.dtype.kind not in "biuf":
        raise ConfigError(_("{owner}: X must hold numbers, got dtype {dtype}")
                            .format(owner=owner, dtype=a.dtype))
    if a.ndim != 2:
        raise ShapeError(_("{owner}: X must have shape (m, n_features), got {shape}")
                           .format(owner=owner, shape=a.shape))
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    check_finite(owner, "X", a)
    return a


class Scaler:
    """Base class: ``fit``, ``transform``, ``fit_transform`` on (m, n) arrays or Datasets."""

    name = "none"
    _needs_fit = False  # True where transform uses statistics learned by fit

    def fit(self, X) -> Scaler:
        _as_array(type(self).__name__, X)
        return self

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X.copy()

    def transform(self, X):
        """Apply the learned map; a Dataset comes back as a Dataset with the new X."""
        owner = type(self).__name__
        a = _as_array(owner, X)
        self._check_fitted(a)
        out = self._apply(a)
        return X.with_X(out, X.feature_names) if isinstance(X, Dataset) else out

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def _check_fitted(self, X: np.ndarray) -> None:
        width = getattr(self, "n_features_", None)
        if self._needs_fit and width is None:
            raise ConfigError(_("{type}: call fit(X_train) before transform")
                                .format(type=type(self).__name__))
        if width is not None and X.shape[1] != width:
            raise ShapeError(_("{type}: fitted on {width} features, got X with {shape}")
                               .format(type=type(self).__name__, width=width,
                                       shape=X.shape[1]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _AffineScaler(Scaler):
    """x′ = (x − shift) / scale per feature, both learned by ``fit``; subclasses say which
    statistics they are (:meth:`_shift_scale`)."""

    _needs_fit = True

    def _shift_scale(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _apply(self, X):
        shift, scale = self._shift_scale()
        return (X - shift.astype(X.dtype)) / scale.astype(X.dtype)

    def inverse_transform(self, X):
        a = _as_array(type(self).__name__, X)
        self._check_fitted(a)
        shift, scale = self._shift_scale()
        return a * scale.astype(a.dtype) + shift.astype(a.dtype)


class NoScaling(Scaler):
    """x′ = x (a copy): the "raw inputs" baseline."""

    name = "none"


class Standardize(_AffineScaler):
    """x′ = (x − μ) / σ per feature, μ and σ (population std) from the training set.

    Afterwards each training feature has mean 0 and std 1. A constant feature (σ = 0) gets σ = 1,
    so it becomes 0 instead of NaN.
    """

    name = "standardize"

    def fit(self, X) -> Standardize:
        a = _as_array("Standardize", X)
        self.mean_ = a.mean(axis=0, dtype=np.float64)
        std = a.std(axis=0, dtype=np.float64)
        self.std_ = np.where(std > 0, std, 1.0)
        self.n_features_ = a.shape[1]
        return self

    def _shift_scale(self):
        return self.mean_, self.std_


class MinMax(_AffineScaler):
    """x′ = (x − min) / (max − min) per feature, min and max from the training set.

    Training data lands in [0, 1]; other sets may fall outside it (that is information, not an
    error). A constant feature gets range 1, so it becomes 0.
    """

    name = "minmax"

    def fit(self, X) -> MinMax:
        a = _as_array("MinMax", X)
        if len(a) == 0:
            raise ShapeError(_("MinMax: cannot fit on X with no rows"))
        self.min_ = a.min(axis=0).astype(np.float64)
        self.max_ = a.max(axis=0).astype(np.float64)
        rng = self.max_ - self.min_
        self.range_ = np.where(rng > 0, rng, 1.0)
        self.n_features_ = a.shape[1]
        return self

    def _shift_scale(self):
        return self.min_, self.range_


class LogTransform(Scaler):
    """x′ = log(1 + x) (``np.log1p``, exact for small x). Learns nothing.

    Compresses long right tails (counts, prices). Defined for x > −1 only: a value ≤ −1 is an
    error naming how many and the first position, not a silent NaN.
    """

    name = "log"

    def _apply(self, X):
        bad = X <= -1
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ConfigError(_("LogTransform: log1p needs x > −1, got {count} value(s) ≤ −1, "
                                "first {item!r} at index {first}")
                                .format(count=int(bad.sum()), item=X[first].item(),
                                        first=first))
        return np.log1p(X)

    def inverse_transform(self, X):
        return np.expm1(_as_array("LogTransform", X))


PREPROCESSORS: dict[str, type[Scaler]] = {
    "none": NoScaling,
    "standardize": Standardize,
    "minmax": MinMax,
    "log": LogTransform,
}


def get_preprocessor(name: str) -> Scaler:
    """A new, unfitted scaler by name: ``"none"``, ``"standardize"``, ``"minmax"``, ``"log"``."""
    return lookup(_("preprocessor"), PREPROCESSORS, name)


def _fit_apply(scaler: Scaler, train, others):
    scaler.fit(train)
    return (scaler.transform(train), *(scaler.transform(o) for o in others), scaler)


def standardize(train, *others):
    """``(train′, *others′, scaler)``: fit :class:`Standardize` on ``train``, apply to all."""
    return _fit_apply(Standardize(), train, others)


def minmax(train, *others):
    """``(train′, *others′, scaler)``: fit :class:`MinMax` on ``train``, apply to all."""
    return _fit_apply(MinMax(), train, others)


def log_transform(train, *others):
    """``(train′, *others′, scaler)``: log(1 + x) on every set (nothing to learn)."""
    return _fit_apply(LogTransform(), train, others)


# TensorFlow Playground's input features for 2-D data: X₁, X₂, X₁², X₂², X₁X₂, sin(X₁), sin(X₂).
FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}
PLAYGROUND_FEATURES = tuple(FEATURES)


def polynomial_features(X, names=("x1", "x2")):
    """Playground's inputs computed from 2-D points, in the order of ``names``.

    Args:
        X: (m, 2) array, or a 2-D :class:`Dataset` (then a Dataset comes back, with
            ``feature_names = names``).
        names: any of ``PLAYGROUND_FEATURES`` = x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2).

    Returns:
        (m, len(names)) array in X's float dtype (float32 for a Dataset).

    With x1² and x2² a *linear* model separates ``circles``; with x1*x2 it separates ``xor``.
    """
    a = _as_array("polynomial_features", X)
    if a.shape[1] != 2:
        raise ShapeError(_("polynomial_features: X must have shape (m, 2), got {shape}")
                           .format(shape=a.shape))
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ConfigError(_("polynomial_features: names must list at least one of "
                            "{playground_features}")
                            .format(playground_features=', '.join(PLAYGROUND_FEATURES)))
    for n in names:
        if n not in FEATURES:
            raise unknown_name(_("input feature"), n, PLAYGROUND_FEATURES)
    x1, x2 = a[:, 0], a[:, 1]
    out = np.column_stack([FEATURES[n](x1, x2) for n in names]).astype(a.dtype, copy=False)
    return X.with_X(out, names) if isinstance(X, Dataset) else out
