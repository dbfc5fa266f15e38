"""TensorFlow Playground's own data sets that the toy sets (:mod:`.toy`) do not have: its two
regression sets (``plane``, ``multigauss``: float32 targets, ``n_classes`` 0, trained with squared
error) and its "circle" (``disc``: a disc inside a ring, 2 classes).

Playground's formulas (``dataset.ts``), with its meaning of noise: each point is drawn uniformly
(or on its ring), and its target is computed at the point moved by ``U(−r, r)·noise`` on each
coordinate (``r`` = 6 for the regression sets, 5 for the circle), so noise blurs the targets
near where they change while the points stay put. (The front door's ``noise`` —
:func:`whynet.datasets.noisy` — calls them with noise 0 and moves the points instead.)
"""

from __future__ import annotations

import numpy as np

from ..errors import check_int, check_positive
from ..random import make_rng
from .base import Dataset

XY = ("x1", "x2")
# Playground's six Gaussians of "multigauss": centre and sign.
GAUSSIANS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
             (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def _checked(name: str, n, noise) -> int:
    check_positive(name, "noise", noise, allow_zero=True)
    return check_int(name, "n", n, low=2)


def _regression(name: str, n: int, noise: float, seed, target) -> Dataset:
    n = _checked(name, n, noise)
    rng = make_rng(seed)
    X = rng.uniform(-6, 6, size=(n, 2))
    jitter = rng.uniform(-6, 6, size=(n, 2)) * noise
    y = target(X + jitter)
    return Dataset(X.astype(np.float32), y.astype(np.float32), name, 0, XY)


def plane(n: int = 400, noise: float = 0.0, seed=0) -> Dataset:
    """A tilted plane: target ``(x₁ + x₂) / 10`` clipped to [−1, 1] (Playground's
    ``regressPlane``), points uniform in [−6, 6]²."""
    return _regression("plane", n, noise, seed,
                       lambda P: np.clip((P[:, 0] + P[:, 1]) / 10.0, -1.0, 1.0))


def multigauss(n: int = 400, noise: float = 0.0, seed=0) -> Dataset:
    """Six bumps of alternating sign (Playground's ``regressGaussian``): the target is the
    bump of largest |value| at the point, each ``sign · max(0, 1 − distance/2)``."""
    def target(P):
        bumps = np.stack([s * np.clip(1.0 - np.hypot(P[:, 0] - cx, P[:, 1] - cy) / 2.0, 0, 1)
                          for cx, cy, s in GAUSSIANS], axis=1)
        return bumps[np.arange(len(P)), np.abs(bumps).argmax(axis=1)]
    return _regression("multigauss", n, noise, seed, target)


def disc(n: int = 400, noise: float = 0.0, seed=0) -> Dataset:
    """Playground's "circle": class 1 in a disc of radius 2.5, class 0 in a ring from 3.5 to 5;
    half the points each. The label is that of the point moved by ``U(−5, 5)·noise``."""
    n = _checked("disc", n, noise)
    rng = make_rng(seed)
    counts = (n - n // 2, n // 2)  # ring (class 0), disc (class 1)
    r = np.concatenate([rng.uniform(3.5, 5.0, counts[0]), rng.uniform(0.0, 2.5, counts[1])])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    moved = X + rng.uniform(-5, 5, size=(n, 2)) * noise
    y = (np.hypot(moved[:, 0], moved[:, 1]) < 2.5).astype(np.int64)  # Playground: radius · 0.5
    order = rng.permutation(n)
    return Dataset(X[order].astype(np.float32), y[order], "disc", 2, XY)
