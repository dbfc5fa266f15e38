"""Same seeds → bitwise identical training; a different seed → different weights.

Everything random in a fit comes from explicit seeds: the model's (initial weights, Dropout masks)
and fit's (the shuffling). Running the same thing twice in one process must give the very same
bits (``np.array_equal``, not allclose); changing either seed must change the result.
"""

import numpy as np
import pytest

from whynet.nn import L2, mlp
from whynet.train import fit


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    return X, y


def _train(model_seed: int, fit_seed: int, optimizer: str = "adam"):
    X, y = _data()
    model = mlp([5, 16, 16, 3], activation="relu", dropout=0.2, seed=model_seed)
    h = fit(model, X, y, loss="softmax_ce", optimizer=optimizer, lr=0.01, epochs=5, batch_size=16,
            seed=fit_seed, regularizer=L2(1e-3), validation_data=(X[:30], y[:30]),
            record_steps=True)
    return [p.value.copy() for p in model.parameters()], h


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_same_seeds_give_identical_weights_and_history(optimizer):
    w1, h1 = _train(1, 2, optimizer)
    w2, h2 = _train(1, 2, optimizer)
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))
    assert h1.to_dict() == h2.to_dict()


def test_different_fit_seed_changes_the_weights():
    """Same initial weights, different batch order → different final weights."""
    w1, h1 = _train(1, 2)
    w2, h2 = _train(1, 3)
    assert h1.steps[0] != h2.steps[0]
    assert not any(np.array_equal(a, b) for a, b in zip(w1, w2))


def test_different_model_seed_changes_the_weights():
    w1, _ = _train(1, 2)
    w2, _ = _train(5, 2)
    assert not any(np.array_equal(a, b) for a, b in zip(w1, w2))


def test_fit_does_not_touch_numpy_global_rng():
    """No hidden global state: the legacy global RNG's stream is the same with or without a fit."""
    state = np.random.get_state()
    _train(1, 2)
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(state, np.random.get_state()))
