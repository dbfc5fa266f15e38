"""Train/validation/test splits of a data set (beside :mod:`.files`, whose ``load_arrays``
checks arrays given as ``X, y``; :mod:`.base` holds the ``Splits`` it returns)."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..i18n import _
from ..random import make_rng
from .base import Dataset, Splits, check_fraction, sklearn_seed
from .files import load_arrays


def split(X, y=None, *, val: float = 0.2, test: float = 0.2, seed=0,
          stratify: bool = True) -> Splits:
    """Split a data set into train, validation and test sets, shuffled by ``seed``.

    Args:
        X: a :class:`Dataset` (then ``y`` is None), or an array of inputs (m, …).
        y: targets (m,) when ``X`` is an array; they go through :func:`load_arrays`'s checks.
        val, test: fractions of all examples for the validation and test sets (``val=0`` gives
            ``Splits.val = None``); ``val + test`` must be < 1.
        seed: an int or a Generator; the same seed gives the same split.
        stratify: keep each class's share the same in every part (ignored for regression).

    Returns:
        :class:`Splits` ``(train, val, test)``; each part unpacks as ``X, y``.

    Uses scikit-learn's ``train_test_split`` twice: test off all examples, then val off the rest.
    """
    # scikit-learn's import takes about a second: only when a split is asked for.
    from sklearn.model_selection import train_test_split

    if isinstance(X, Dataset):
        if y is not None:
            raise ConfigError(_("split: give either a Dataset or X and y, not a Dataset and y"))
        ds = X
    elif y is None:
        raise ConfigError(_("split: y is required when X is an array (or pass a Dataset)"))
    else:
        ds = load_arrays(X, y)
    val = check_fraction("split", "val", val)
    test = check_fraction("split", "test", test, allow_zero=False)
    if val + test >= 1:
        raise ConfigError(_("split: val + test must be < 1 to leave a training set, got {val} + "
                            "{test} = {total}").format(val=val, test=test, total=val + test))
    rng = make_rng(seed)
    index = np.arange(len(ds))
    strat = ds.y if (stratify and ds.n_classes) else None

    def cut(idx, size, what):
        try:
            return train_test_split(idx, test_size=size, random_state=sklearn_seed(rng),
                                    shuffle=True,
                                    stratify=None if strat is None else strat[idx])
        except ValueError as e:  # too few examples for the fraction, or a class with one member
            raise ConfigError(_("split: cannot cut a {what} set of {size:.3g} from {n_idx} "
                                "examples of {name!r}: {reason}")
                                .format(what=what, size=size, n_idx=len(idx),
                                        name=ds.name, reason=e)) from None

    rest, test_idx = cut(index, test, "test")
    val_set = None
    if val > 0:
        train_idx, val_idx = cut(rest, val / (1 - test), "validation")
        val_set = ds.subset(val_idx, f"{ds.name}/val")
    else:
        train_idx = rest
    return Splits(ds.subset(train_idx, f"{ds.name}/train"), val_set,
                  ds.subset(test_idx, f"{ds.name}/test"))
