"""The one meaning of ``noise`` at the front door (:class:`whynet.config.RunConfig`, the lab,
``whynet train --noise``, ``whynet search``, ``whynet ask``) for every 2-D set.

Each point's input coordinates move by Gaussian noise of standard deviation ``noise × radius``;
its label (or regression target) stays with it::

    x′ = x + ε,   ε ~ N(0, (noise · r)² I₂),   y′ = y

with ``r`` the set's radius (:data:`RADIUS`), so one noise value blurs every set by the same share
of its size. This is scikit-learn's meaning for ``make_moons`` and ``make_circles``, whose radius
is 1: their own ``noise`` argument is exactly this displacement, so it is passed to them (and
their numbers stay scikit-learn's). Every other set is generated clean (its generator's noise 0;
blobs with clusters of standard deviation 1) and moved by :func:`displace`, with a Generator
spawned from the seed, so the clean points are those of the same seed without noise.

The generators in :mod:`.toy` and :mod:`.playground` keep their own ``noise`` arguments (xor's
and the Playground sets' read the label at a moved point, gaussian's widens the clusters…): the
built-in experiments call them with those meanings, and their recorded numbers depend on it.

==========  ======  =============================================================
set         radius  what the radius is
==========  ======  =============================================================
moons       1       each half circle's radius (scikit-learn)
circles     1       the outer circle's radius (scikit-learn)
blobs       10      cluster centres are drawn in [−10, 10]²
xor         5       points fill [−5.3, 5.3]² (Playground)
gaussian    4       clusters at (±2, ±2) of std 0.71 reach about ±4
spiral      5       the arms' outer radius (Playground)
flower      4       the rose r = 4·sin 4t
disc        5       the outer ring's radius (Playground's "circle")
plane       6       points fill [−6, 6]² (Playground)
multigauss  6       points fill [−6, 6]² (Playground)
==========  ======  =============================================================
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive
from ..i18n import N_
from ..random import make_rng, spawn
from .base import Dataset
from .registry import get_dataset

RADIUS = {"moons": 1.0, "circles": 1.0, "blobs": 10.0, "xor": 5.0, "gaussian": 4.0,
          "spiral": 5.0, "flower": 4.0, "disc": 5.0, "plane": 6.0, "multigauss": 6.0}
#: What ``noise`` means, as ``whynet train --help`` says it (docs/contracts.md, "Noise", in full).
NOISE_HELP = N_("Noise of a 2-D set: each point moves by Gaussian noise of standard deviation "
                "noise × the set's radius, its label staying with it (0 to 0.5 as TensorFlow "
                "Playground's slider; unset: the set's default).")

#: The noise of a set when none is given: moons' and circles' generator defaults; a little for
#: flower (0.05 × 4 = 0.2, the course's spread); every other set clean.
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.1, "flower": 0.05}
#: Sets whose generator's own ``noise`` is this displacement at radius 1 (scikit-learn's).
SKLEARN_NOISE = ("moons", "circles")


def displace(ds: Dataset, std: float, rng) -> Dataset:
    """``ds`` with every coordinate moved by N(0, std²), labels unchanged.

    Shapes: X (m, d) → (m, d) float32. ``rng``: a Generator or an int seed.
    """
    if std == 0:
        return ds
    X = ds.X + make_rng(rng).normal(0.0, std, size=ds.X.shape)
    return ds.with_X(X.astype(np.float32), ds.feature_names)


def noisy(name: str, noise: float | None = None, *, seed: int = 0, **kwargs) -> Dataset:
    """The 2-D set ``name`` (a key of :data:`RADIUS`) with the front door's ``noise``: points
    moved by N(0, (noise · RADIUS[name])²) per coordinate. ``noise`` None is
    :data:`DEFAULT_NOISE` (0 for most sets); ``kwargs`` (``n``, ``factor``, ``centers``…) go to
    the generator, checked by :func:`~whynet.datasets.get_dataset`."""
    noise = DEFAULT_NOISE.get(name, 0.0) if noise is None else noise
    check_positive(name, "noise", noise, allow_zero=True)
    if name in SKLEARN_NOISE:
        return get_dataset(name, noise=noise, seed=seed, **kwargs)
    clean = get_dataset(name, seed=seed, **kwargs) if name == "blobs" \
        else get_dataset(name, noise=0.0, seed=seed, **kwargs)
    return displace(clean, noise * RADIUS[name], spawn(make_rng(seed), 1)[0])
