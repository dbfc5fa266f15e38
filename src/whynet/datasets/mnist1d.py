"""MNIST-1D, generated locally from a seed.

Greydanus, S. (2020). *Scaling down Deep Learning*. arXiv:2011.14439. Original code:
https://github.com/greydanus/mnist1d (MIT licence, © 2020 Sam Greydanus), ``data.py`` and
``transform.py``. The ``mnist1d`` package draws from NumPy's global RNG (``np.random.seed``),
which whynet forbids, so its ``make_dataset`` is ported here to a ``numpy.random.Generator`` and
vectorised over examples. Same algorithm and defaults; different random numbers, so the arrays
differ from the published pickle while their distribution is the same.

Each example is one of 10 hand-made 12-point templates ("digits"), then, in order:

1. padded with ``p ~ U{36 … 60}`` zeros on the right;
2. dilated: linearly resampled to ``template_len + padding[1]`` = 72 points (a random stretch,
   because the padded length varies);
3. scaled by ``1 + scale_coeff·(u − ½)``, u ~ U(0, 1);
4. translated: rolled right by ``k ~ U{0 … max_translation−1}`` positions (circularly);
5. where the signal is exactly zero (the padding), replaced by correlated noise: Gaussian noise of
   std ``corr_noise_scale`` smoothed by a Gaussian filter of σ = 2 samples;
6. plus i.i.d. noise of std ``iid_noise_scale`` everywhere;
7. sheared: minus ``shear_scale·(u − ½)·linspace(−½, ½, 72)``;
8. resampled to ``final_seq_length`` = 40 points.

Finally the examples are shuffled, the whole array is standardised with one global mean and std
(as the original, before the train/test split), and the first ``train_split`` share is the
training set. Published test accuracies on the original data (paper, table 1): logistic regression
32%, MLP 68%, CNN 94%, GRU 91%, human 96%.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, check_int, check_positive
from ..i18n import _
from ..random import make_rng, spawn
from .base import Dataset, Splits, check_fraction

# The 10 templates of the original ``get_templates`` (one row per digit 0…9).
_TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])


def templates() -> np.ndarray:
    """The 10 templates as the original prepares them, shape (10, 12), float64.

    Each row is whitened (mean 0, std 1), shifted so that it starts (and ends) at 0, and divided
    by 6.
    """
    x = _TEMPLATES - _TEMPLATES.mean(axis=1, keepdims=True)
    x /= x.std(axis=1, keepdims=True)
    x -= x[:, :1]
    return x / 6.0


def _resample(x: np.ndarray, length: np.ndarray, n_out: int) -> np.ndarray:
    """Linear interpolation of each row's first ``length[i]`` values onto ``n_out`` points.

    Both grids span [0, 1] evenly, as ``scipy.interpolate.interp1d(linspace(0, 1, L), x)`` at
    ``linspace(0, 1, n_out)``; done for all rows at once because ``length`` differs per row.
    x (m, L_max), length (m,) → (m, n_out).
    """
    pos = np.linspace(0.0, 1.0, n_out)[None, :] * (length[:, None] - 1)
    left = np.minimum(np.floor(pos).astype(np.int64), length[:, None] - 2)
    frac = pos - left
    lo = np.take_along_axis(x, left, axis=1)
    hi = np.take_along_axis(x, left + 1, axis=1)
    return lo * (1 - frac) + hi * frac


def mnist1d(n: int = 5000, seed=0, shuffle_seq: bool = False, *, train_split: float = 0.8,
            template_len: int = 12, padding=(36, 60), scale_coeff: float = 0.4,
            max_translation: int = 48, corr_noise_scale: float = 0.25,
            iid_noise_scale: float = 2e-2, shear_scale: float = 0.75,
            final_seq_length: int = 40) -> Splits:
    """MNIST-1D: 10 classes of 1-D signals of 40 points, generated from ``seed``.

    Args:
        n: number of examples (the original's ``num_samples``); classes get ``n // 10`` each and
            the first ``n % 10`` classes one more.
        seed: an int or a Generator. Same seed → identical arrays.
        shuffle_seq: apply one fixed permutation of the 40 positions to every example (drawn
            from the seed, independently of the data), which destroys spatial structure but no
            information: an MLP does not care, a CNN does. The shuffled set is exactly a column
            permutation of the unshuffled one for the same seed; ``feature_names`` tells which
            original position (``"t0"`` … ``"t39"``) each column holds.
        train_split: share of examples in the training set (4000/1000 by default).
        template_len … final_seq_length: the original's ``get_dataset_args`` (see module doc).

    Returns:
        :class:`Splits` ``(train, None, test)`` of Datasets with X float32 (m, 40) and y int64.
        For a 1-D CNN, reshape X to (m, 1, 40).
    """
    n = check_int("mnist1d", "n", n, low=10)  # at least one example per class
    train_split = check_fraction("mnist1d", "train_split", train_split, allow_zero=False)
    lo_pad, hi_pad = _check_shape_args(padding, template_len, max_translation, final_seq_length)
    for arg, value in (("scale_coeff", scale_coeff), ("corr_noise_scale", corr_noise_scale),
                       ("iid_noise_scale", iid_noise_scale), ("shear_scale", shear_scale)):
        check_positive("mnist1d", arg, value, allow_zero=True)
    data_rng, perm_rng = spawn(make_rng(seed), 2)
    y = np.arange(n) % 10
    x = _signals(y, data_rng, (lo_pad, hi_pad), template_len=template_len,
                 scale_coeff=scale_coeff, max_translation=max_translation,
                 corr_noise_scale=corr_noise_scale, iid_noise_scale=iid_noise_scale,
                 shear_scale=shear_scale, final_seq_length=final_seq_length)
    order = data_rng.permutation(n)
    x, y = x[order], y[order]
    # Standardising before the column permutation keeps the shuffled set an exact permutation
    # of the unshuffled one (a global mean and std do not depend on column order).
    x = ((x - x.mean()) / x.std()).astype(np.float32)
    names = tuple(f"t{i}" for i in range(final_seq_length))
    name = "mnist1d"
    if shuffle_seq:
        perm = perm_rng.permutation(final_seq_length)
        x = np.ascontiguousarray(x[:, perm])
        names = tuple(names[i] for i in perm)
        name = "mnist1d-shuffled"
    y = y.astype(np.int64)
    cut = int(n * train_split)
    train = Dataset(x[:cut], y[:cut], f"{name}/train", 10, names)
    test = Dataset(x[cut:], y[cut:], f"{name}/test", 10, names)
    return Splits(train, None, test)


def _check_shape_args(padding, template_len, max_translation, final_seq_length):
    """mnist1d's length arguments checked; returns the padding range ``(low, high)``."""
    lo_pad, hi_pad = (int(p) for p in padding)
    if not 0 <= lo_pad <= hi_pad:
        raise ConfigError(_("mnist1d: padding must be (low, high) with 0 ≤ low ≤ high, got "
                            "{padding!r}").format(padding=padding))
    for arg, value in (("template_len", template_len), ("max_translation", max_translation),
                       ("final_seq_length", final_seq_length)):
        check_positive("mnist1d", arg, value)
    if template_len != _TEMPLATES.shape[1]:
        raise ConfigError(_("mnist1d: template_len must be {shape} (the templates' length), got "
                            "{template_len!r}")
                            .format(shape=_TEMPLATES.shape[1], template_len=template_len))
    return lo_pad, hi_pad


def _signals(y: np.ndarray, rng, padding: tuple[int, int], *, template_len: int,
             scale_coeff: float, max_translation: int, corr_noise_scale: float,
             iid_noise_scale: float, shear_scale: float, final_seq_length: int) -> np.ndarray:
    """Steps 1–8 of the module doc for the classes ``y``: (n, final_seq_length) float64, the
    draws from ``rng`` in the original's order."""
    # scipy.ndimage takes about 0.2 s to import: only when MNIST-1D is generated.
    from scipy.ndimage import gaussian_filter1d

    n = len(y)
    lo_pad, hi_pad = padding
    length = template_len + hi_pad
    # 1–2. pad with p zeros, then dilate the (12 + p)-point signal to 72 points.
    # The 1e-8 marks the template as non-zero, so step 5 puts noise only in the padding.
    p = rng.integers(lo_pad, hi_pad + 1, size=n)
    padded = np.zeros((n, length))
    padded[:, :template_len] = templates()[y] + 1e-8
    x = _resample(padded, template_len + p, length)
    # 3. scale.
    x *= 1 + scale_coeff * (rng.random((n, 1)) - 0.5)
    # 4. translate: a circular shift right by k, each row its own k.
    k = rng.integers(0, max_translation, size=n)
    cols = (np.arange(length)[None, :] - k[:, None]) % length
    x = np.take_along_axis(x, cols, axis=1)
    # 5–6. correlated noise where the signal is zero, then i.i.d. noise everywhere.
    corr = gaussian_filter1d(corr_noise_scale * rng.standard_normal((n, length)), 2, axis=1)
    x = np.where(x != 0, x, corr)
    x += iid_noise_scale * rng.standard_normal((n, length))
    # 7. shear, 8. resample to the final length.
    x -= shear_scale * (rng.random((n, 1)) - 0.5) * np.linspace(-0.5, 0.5, length)
    return _resample(x, np.full(n, length), final_seq_length)
