"""Two-dimensional toy sets, as in TensorFlow Playground and the deep-learning courses.

Every generator takes ``n`` (number of points), ``noise`` and ``seed`` (an int or a Generator) and
returns a :class:`~whynet.datasets.Dataset` with ``X`` float32 (n, 2), ``y`` int64 (n,), features
``("x1", "x2")``. Classes are balanced (their sizes differ by at most one), except ``xor``, whose
points fall in random quadrants. Points come in random order.

``moons``, ``circles`` and ``blobs`` are scikit-learn's generators (an int seed is passed
through as ``random_state``). ``xor``, ``gaussian`` and ``spiral`` follow TensorFlow Playground's
``dataset.ts`` (Apache-2.0, Google 2016), whose ``noise`` slider runs from 0 to 0.5; Playground
labels classes ±1, we use 0 and 1. ``flower`` is deeplearning.ai's ``load_planar_dataset``
(course 1, week 3), drawn from a Generator instead of ``np.random.seed(1)``, so its points are
different from the course's but come from the same distribution.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, check_int, check_positive
from ..i18n import _
from ..random import make_rng
from .base import Dataset, sklearn_seed

XY = ("x1", "x2")


def _finish(name: str, X, y, rng: np.random.Generator, n_classes: int = 2,
            shuffle: bool = True) -> Dataset:
    """float32 / int64, and a random order so that the classes are not in blocks."""
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return Dataset(np.ascontiguousarray(X), y, name, n_classes, XY)


def moons(n: int = 200, noise: float = 0.2, seed=0) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    The upper moon (class 0) is centred at (0, 0) with radius 1, the lower (class 1) at (1, 0.5);
    ``noise`` is the std of Gaussian noise added to each coordinate. Without noise X lies in
    [−1, 2]×[−0.5, 1].
    """
    from sklearn.datasets import make_moons

    n = check_int("moons", "n", n, low=2)
    check_positive("moons", "noise", noise, allow_zero=True)
    X, y = make_moons(n_samples=n, noise=noise, random_state=sklearn_seed(seed))
    return _finish("moons", X, y, None, shuffle=False)


def circles(n: int = 200, noise: float = 0.1, seed=0, factor: float = 0.5) -> Dataset:
    """A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1).

    scikit-learn's ``make_circles``; ``noise`` is the std of Gaussian noise on each coordinate.
    No line separates the classes: a linear model stays near 50% (question A10).
    """
    from sklearn.datasets import make_circles

    n = check_int("circles", "n", n, low=2)
    check_positive("circles", "noise", noise, allow_zero=True)
    if not 0 < factor < 1:
        raise ConfigError(_("circles: factor (inner radius / outer radius) must be in (0, 1), "
                            "got {factor!r}").format(factor=factor))
    X, y = make_circles(n_samples=n, noise=noise, factor=factor,
                        random_state=sklearn_seed(seed))
    return _finish("circles", X, y, None, shuffle=False)


def blobs(n: int = 300, noise: float = 1.0, seed=0, centers: int = 3,
          n_features: int = 2) -> Dataset:
    """Isotropic Gaussian clusters (scikit-learn's ``make_blobs``), one class per cluster.

    Cluster centres are drawn uniformly in [−10, 10]^n_features; ``noise`` is each cluster's std.
    """
    from sklearn.datasets import make_blobs

    centers = check_int("blobs", "centers", centers)
    n = check_int("blobs", "n", n, low=max(centers, 2))
    check_positive("blobs", "noise", noise)
    n_features = check_int("blobs", "n_features", n_features)
    X, y = make_blobs(n_samples=n, n_features=n_features, centers=centers, cluster_std=noise,
                      random_state=sklearn_seed(seed))
    names = XY if n_features == 2 else tuple(f"x{i + 1}" for i in range(n_features))
    X = np.ascontiguousarray(X, dtype=np.float32)
    return Dataset(X, y.astype(np.int64), "blobs", centers, names)


def xor(n: int = 200, noise: float = 0.0, seed=0) -> Dataset:
    """The four quadrants: class 1 where x₁ and x₂ have different signs, class 0 where they agree.

    Playground's formula: x₁, x₂ ~ U(−5, 5), pushed 0.3 away from each axis (a small gap); the
    label is computed from the point *plus* U(−5, 5)·noise on each coordinate, so noise flips
    labels near the axes while the points stay put. Playground colours the classes the other way.
    Classes are balanced only on average (each point is in a random quadrant).
    """
    n = check_int("xor", "n", n, low=2)
    check_positive("xor", "noise", noise, allow_zero=True)
    rng = make_rng(seed)
    X = rng.uniform(-5, 5, size=(n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    jitter = rng.uniform(-5, 5, size=(n, 2)) * noise
    y = ((X[:, 0] + jitter[:, 0]) * (X[:, 1] + jitter[:, 1]) < 0).astype(np.int64)
    return _finish("xor", X, y, rng, shuffle=False)


def gaussian(n: int = 200, noise: float = 0.0, seed=0) -> Dataset:
    """Two Gaussian clusters: class 0 around (−2, −2), class 1 around (2, 2).

    Playground's formula: each coordinate ~ N(centre, v) with variance ``v = 0.5 + 7·noise``
    (noise 0 → 0.5, noise 0.5 → 4). At noise 0 the classes barely touch; at 0.5 they overlap.
    """
    n = check_int("gaussian", "n", n, low=2)
    check_positive("gaussian", "noise", noise, allow_zero=True)
    rng = make_rng(seed)
    counts = (n - n // 2, n // 2)
    std = math.sqrt(0.5 + 7.0 * noise)
    X = np.concatenate([rng.normal(c, std, size=(k, 2)) for c, k in zip((-2.0, 2.0), counts)])
    y = np.repeat([0, 1], counts)
    return _finish("gaussian", X, y, rng)


def spiral(n: int = 200, noise: float = 0.0, seed=0, arms: int = 2) -> Dataset:
    """Interleaved spiral arms, one class per arm (Playground's formula, generalised to k arms).

    Point i of an arm of n_a points, arm j of k: radius ``r = 5·i/n_a``, angle
    ``t = 1.75·2π·i/n_a + 2πj/k``, position ``(r sin t, r cos t) + U(−1, 1)·noise`` per coordinate.
    With k = 2 the second arm is the first turned by π, as in Playground. Arms get ``n // k``
    points, the first ``n % k`` arms one more.
    """
    arms = check_int("spiral", "arms", arms, low=2)
    n = check_int("spiral", "n", n, low=arms)
    check_positive("spiral", "noise", noise, allow_zero=True)
    rng = make_rng(seed)
    counts = [n // arms + (j < n % arms) for j in range(arms)]
    parts = []
    for j, k in enumerate(counts):
        s = np.arange(k) / k
        r = 5 * s
        t = 1.75 * 2 * np.pi * s + 2 * np.pi * j / arms
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    X = np.concatenate(parts) + rng.uniform(-1, 1, size=(n, 2)) * noise
    y = np.repeat(np.arange(arms), counts)
    return _finish("spiral", X, y, rng, n_classes=arms)


def flower(n: int = 400, noise: float = 0.2, seed=0) -> Dataset:
    """deeplearning.ai's planar "flower" (course 1, week 3, ``load_planar_dataset``).

    A rose curve ``r = 4·sin(4t)``: class j takes the angles ``t ∈ [3.12·j, 3.12·(j+1)]`` (evenly
    spaced) plus N(0, noise²), and the radius gets N(0, noise²) too; the point is
    ``(r sin t, r cos t)``. The course uses 400 points and noise 0.2 and reports about 47%
    accuracy for logistic regression and about 90% for a tanh network with 4 hidden units.
    """
    n = check_int("flower", "n", n, low=2)
    check_positive("flower", "noise", noise, allow_zero=True)
    rng = make_rng(seed)
    max_ray = 4.0
    parts = []
    counts = (n - n // 2, n // 2)
    for j, k in enumerate(counts):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, k) + rng.standard_normal(k) * noise
        r = max_ray * np.sin(4 * t) + rng.standard_normal(k) * noise
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    y = np.repeat([0, 1], counts)
    return _finish("flower", np.concatenate(parts), y, rng)
