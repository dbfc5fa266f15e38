"""scikit-learn's 8×8 handwritten digits (UCI ML hand-written digits, test part).

1,797 images of 8×8 pixels, 10 classes of about 180 each, shipped inside scikit-learn: nothing
is downloaded. Pixel values are counts 0…16 (each pixel summarises a 4×4 block of a 32×32
bitmap); we divide by 16 so they lie in [0, 1].
"""

from __future__ import annotations

import numpy as np

from .base import Dataset


def digits(images: bool = False) -> Dataset:
    """The 8×8 digits, scaled to [0, 1].

    Args:
        images: False → X of shape (1797, 64), one row per image, features ``"p0"`` … ``"p63"``
            in row-major pixel order; True → X of shape (1797, 1, 8, 8) for convolutions.

    Returns:
        :class:`Dataset` with X float32 and y int64 in 0…9, in scikit-learn's order (use
        :func:`~whynet.datasets.split` to shuffle and split it).
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    if images:
        return Dataset(X.reshape(-1, 1, 8, 8), y, "digits", 10)
    return Dataset(X, y, "digits", 10, tuple(f"p{i}" for i in range(64)))
