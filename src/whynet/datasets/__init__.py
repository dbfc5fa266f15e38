"""Data sets and preprocessing.

Every data set is a :class:`Dataset` (``X`` float32, ``y`` int64 class indices, ``name``,
``n_classes``, ``feature_names``) that also unpacks as ``X, y``. Everything random takes
``seed`` — an int or a ``numpy.random.Generator`` — and the same seed gives identical arrays.

==========  ===============================================  =====================================
name        what                                             returns
==========  ===============================================  =====================================
moons       two half circles (scikit-learn)                  Dataset (n, 2), 2 classes
circles     circle in a circle (scikit-learn)                Dataset (n, 2), 2 classes
blobs       Gaussian clusters (scikit-learn)                 Dataset (n, 2), ``centers`` classes
xor         four quadrants (Playground)                      Dataset (n, 2), 2 classes
gaussian    two Gaussian clusters (Playground)               Dataset (n, 2), 2 classes
spiral      k interleaved spiral arms (Playground)           Dataset (n, 2), ``arms`` classes
flower      deeplearning.ai's planar flower                  Dataset (n, 2), 2 classes
disc        a disc inside a ring (Playground's "circle")     Dataset (n, 2), 2 classes
plane       a tilted plane (Playground regression)           Dataset (n, 2), float32 targets
multigauss  six signed bumps (Playground regression)         Dataset (n, 2), float32 targets
digits      scikit-learn's 8×8 digits, scaled to [0, 1]      Dataset (1797, 64) or (1797, 1, 8, 8)
mnist1d     MNIST-1D (Greydanus 2020), generated locally     Splits (train 4000, None, test 1000)
==========  ===============================================  =====================================

Your own data: :func:`load_arrays`, :func:`load_csv`. Splitting: :func:`split` → :class:`Splits`
``(train, val, test)``. Preprocessing: :func:`standardize`, :func:`minmax`, :func:`log_transform`
(or the classes, or :func:`get_preprocessor`), and :func:`polynomial_features` for Playground's
inputs. The front door's ``noise`` for the 2-D sets (one meaning: points move by Gaussian noise
of std noise × the set's radius): :func:`noisy`, :data:`RADIUS` (:mod:`.noise`).

Example::

    from whynet.datasets import moons, split, standardize
    train, val, test = split(moons(n=500, noise=0.2, seed=0), seed=0)
    train, val, test, scaler = standardize(train, val, test)
    X, y = train
"""

from __future__ import annotations

from .base import Dataset, Splits
from .digits import digits
from .files import load_arrays, load_csv
from .mnist1d import mnist1d
from .noise import DEFAULT_NOISE, RADIUS, displace, noisy
from .playground import disc, multigauss, plane
from .preprocessing import (FEATURES, PLAYGROUND_FEATURES, PREPROCESSORS, LogTransform, MinMax,
                            NoScaling, Scaler, Standardize, get_preprocessor, log_transform, minmax,
                            polynomial_features, standardize)
from .registry import DATASETS, REGRESSION_SETS, TOY_2D, get_dataset
from .splits import split
from .toy import blobs, circles, flower, gaussian, moons, spiral, xor

__all__ = [
    "Dataset", "Splits", "split", "DATASETS", "TOY_2D", "REGRESSION_SETS", "get_dataset",
    "moons", "circles", "blobs", "xor", "gaussian", "spiral", "flower", "disc", "plane",
    "multigauss", "digits", "mnist1d", "RADIUS", "DEFAULT_NOISE", "displace", "noisy",
    "load_arrays", "load_csv",
    "Scaler", "NoScaling", "Standardize", "MinMax", "LogTransform", "PREPROCESSORS",
    "get_preprocessor", "standardize", "minmax", "log_transform",
    "FEATURES", "PLAYGROUND_FEATURES", "polynomial_features",
]
