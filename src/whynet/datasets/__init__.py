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
digits      scikit-learn's 8×8 digits, scaled to [0, 1]      Dataset (1797, 64) or (1797, 1, 8, 8)
mnist1d     MNIST-1D (Greydanus 2020), generated locally     Splits (train 4000, None, test 1000)
==========  ===============================================  =====================================

Your own data: :func:`load_arrays`, :func:`load_csv`. Splitting: :func:`split` → :class:`Splits`
``(train, val, test)``. Preprocessing: :func:`standardize`, :func:`minmax`, :func:`log_transform`
(or the classes, or :func:`get_preprocessor`), and :func:`polynomial_features` for Playground's
inputs.

Example::

    from whynet.datasets import moons, split, standardize
    train, val, test = split(moons(n=500, noise=0.2, seed=0), seed=0)
    train, val, test, scaler = standardize(train, val, test)
    X, y = train
"""

from __future__ import annotations

import inspect

from ..errors import ConfigError, lookup, unknown_name
from ..i18n import _
from .base import Dataset, Splits
from .digits import digits
from .files import load_arrays, load_csv
from .mnist1d import mnist1d
from .preprocessing import (FEATURES, PLAYGROUND_FEATURES, PREPROCESSORS, LogTransform, MinMax,
                            NoScaling, Scaler, Standardize, get_preprocessor, log_transform, minmax,
                            polynomial_features, standardize)
from .splits import split
from .toy import blobs, circles, flower, gaussian, moons, spiral, xor

DATASETS = {
    "moons": moons,
    "circles": circles,
    "blobs": blobs,
    "xor": xor,
    "gaussian": gaussian,
    "spiral": spiral,
    "flower": flower,
    "digits": digits,
    "mnist1d": mnist1d,
}

# The 2-D sets (for the web lab's picker and decision-boundary plots).
TOY_2D = ("moons", "circles", "blobs", "xor", "gaussian", "spiral", "flower")


def get_dataset(name: str, **kwargs):
    """``DATASETS[name](**kwargs)``, with an error listing the known names or allowed arguments.

    Returns a :class:`Dataset`, or :class:`Splits` for ``"mnist1d"``.
    """
    if name not in DATASETS:
        raise unknown_name(_("data set"), name, DATASETS)
    fn = DATASETS[name]
    allowed = inspect.signature(fn).parameters
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigError(_("data set {name!r}: unknown argument(s) {unknown}; allowed: {allowed}")
                            .format(name=name, unknown=', '.join(unknown),
                                    allowed=', '.join(allowed) or _("none")))
    return lookup(_("data set"), DATASETS, name, kwargs)


__all__ = [
    "Dataset", "Splits", "split", "DATASETS", "TOY_2D", "get_dataset",
    "moons", "circles", "blobs", "xor", "gaussian", "spiral", "flower", "digits", "mnist1d",
    "load_arrays", "load_csv",
    "Scaler", "NoScaling", "Standardize", "MinMax", "LogTransform", "PREPROCESSORS",
    "get_preprocessor", "standardize", "minmax", "log_transform",
    "FEATURES", "PLAYGROUND_FEATURES", "polynomial_features",
]
