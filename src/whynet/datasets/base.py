"""The containers every data set comes in: :class:`Dataset` and :class:`Splits`.

A :class:`Dataset` holds ``X`` (float32, one example per row) and ``y`` (int64 class indices
``0 … n_classes−1``; float32 targets for a regression set, where ``n_classes`` is 0). It unpacks
like a pair, so both styles work::

    ds = moons(n=200, seed=0)          # ds.X, ds.y, ds.name, ds.n_classes, ds.feature_names
    X, y = moons(n=200, seed=0)

:class:`Splits` is the named triple ``(train, val, test)`` of Datasets that
:func:`~whynet.datasets.split` (in :mod:`.splits`) and :func:`~whynet.datasets.mnist1d` return;
``val`` is None when there is no validation set.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ..errors import ShapeError, check_number
from ..i18n import _
from ..random import make_rng


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A data set: inputs, targets and what they mean.

    Attributes:
        X: inputs, float32, shape (m, n_features) — or (m, C, H, W) for images.
        y: targets, shape (m,): int64 class indices in ``[0, n_classes)``, or float32 values for a
            regression set.
        name: where it came from (``"moons"``, ``"digits"``, a file name…).
        n_classes: number of classes; 0 for a regression set.
        feature_names: one name per column of a 2-D ``X`` (``("x1", "x2")``…), or ``()``.
        class_names: the original label of each class index when labels were re-encoded (strings
            or negative numbers in a file), else ``()``.
    """

    X: np.ndarray
    y: np.ndarray
    name: str = "data"
    n_classes: int = 0
    feature_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()

    def __post_init__(self):
        X, y = self.X, self.y
        if not isinstance(X, np.ndarray) or X.dtype != np.float32 or X.ndim < 2:
            raise ShapeError(_("Dataset {name!r}: X must be a float32 array with ≥ 2 dimensions, "
                               "got {describe}")
                               .format(name=self.name, describe=_describe(X)))
        if not isinstance(y, np.ndarray) or y.ndim != 1 or len(y) != len(X):
            raise ShapeError(_("Dataset {name!r}: y must have shape ({n_x},) to match X, got "
                               "{describe}")
                               .format(name=self.name, n_x=len(X), describe=_describe(y)))
        if self.n_classes and y.dtype != np.int64:
            raise ShapeError(_("Dataset {name!r}: class labels must be int64, got {dtype}")
                               .format(name=self.name, dtype=y.dtype))
        if self.feature_names and (X.ndim != 2 or len(self.feature_names) != X.shape[1]):
            raise ShapeError(_("Dataset {name!r}: {n_feature_names} feature names for X of shape "
                               "{shape}")
                               .format(name=self.name,
                                       n_feature_names=len(self.feature_names),
                                       shape=X.shape))
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        object.__setattr__(self, "class_names", tuple(self.class_names))

    def __iter__(self):
        """``X, y = dataset``."""
        yield self.X
        yield self.y

    def __len__(self) -> int:
        return len(self.X)

    @property
    def n_features(self) -> int:
        """Number of input features (columns of X; C·H·W for images)."""
        return int(np.prod(self.X.shape[1:]))

    def subset(self, index, name: str | None = None) -> Dataset:
        """The examples at ``index`` (an index array or a boolean mask), as a new Dataset."""
        return dataclasses.replace(self, X=self.X[index], y=self.y[index],
                                   name=self.name if name is None else name)

    def with_X(self, X: np.ndarray, feature_names=(), name: str | None = None) -> Dataset:
        """The same targets with new inputs (after preprocessing or feature expansion)."""
        return dataclasses.replace(self, X=X, feature_names=tuple(feature_names),
                                   name=self.name if name is None else name)

    def class_counts(self) -> np.ndarray:
        """Number of examples of each class, shape (n_classes,)."""
        return np.bincount(self.y, minlength=self.n_classes)

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.n_classes else "regression"
        return (f"Dataset({self.name!r}, X={self.X.shape} {self.X.dtype}, "
                f"y={self.y.shape} {self.y.dtype}, {kind})")


class Splits(NamedTuple):
    """Train, validation and test sets. ``val`` is None when none was asked for."""

    train: Dataset
    val: Dataset | None
    test: Dataset


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape} and dtype {a.dtype}"
    return f"a {type(a).__name__}"


def sklearn_seed(seed) -> int:
    """An int ``random_state`` for scikit-learn from an int seed or a Generator.

    scikit-learn wants an int or a legacy RandomState; an int seed is passed through unchanged
    (so ``moons(seed=3)`` is ``make_moons(random_state=3)``) and a Generator gives one draw.
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**31 - 1))
    make_rng(seed)  # validates: an int ≥ 0 or None
    return 0 if seed is None else int(seed)


def check_fraction(owner: str, arg: str, value, *, allow_zero: bool = True) -> float:
    """``value`` as a float in [0, 1) (or (0, 1)), else a ConfigError naming ``owner.arg``."""
    return check_number(owner, arg, value, low=0.0, high=1.0, low_open=not allow_zero,
                        high_open=True)
