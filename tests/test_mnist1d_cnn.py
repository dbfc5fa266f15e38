"""Question C1 on MNIST-1D: convolution uses the order of the 40 positions, an MLP does not.

A 1-D CNN and an MLP of about the same parameter count (2,490 vs 2,560) are trained alike (Adam,
lr 1e-2, 25 epochs, batches of 100, 3 seeds) on the 4,000/1,000 split, then again on the same
data with the positions shuffled by one fixed permutation. Expected, and asserted:

* on the ordered signals the CNN clearly beats the MLP (measured ≈ 0.93 vs 0.56);
* with the positions shuffled the CNN loses that edge (≈ 0.51, below the MLP), while the MLP,
  which sees a permutation of its inputs it can undo in its first layer, does not change (≈ 0.56).
"""

import numpy as np
import pytest

from whynet.datasets import mnist1d
from whynet.nn import Conv1d, Dense, Flatten, MaxPool1d, ReLU, Sequential
from whynet.train import fit

SEEDS = (0, 1, 2)


def _cnn(seed):
    return Sequential(Conv1d(1, 16, 5, padding=2, rng=seed), ReLU(), MaxPool1d(2),
                      Conv1d(16, 16, 3, padding=1, rng=seed + 100), ReLU(), MaxPool1d(2),
                      Flatten(), Dense(16 * 10, 10, rng=seed + 200))


def _mlp(seed):
    return Sequential(Dense(40, 50, init="he_uniform", rng=seed), ReLU(),
                      Dense(50, 10, rng=seed + 200))


def _test_accuracy(make, channels: bool, splits, seed) -> float:
    def shape(X):
        return X[:, None, :] if channels else X

    model = make(seed)
    fit(model, shape(splits.train.X), splits.train.y, loss="softmax_ce", optimizer="adam",
        lr=1e-2, epochs=25, batch_size=100, seed=seed, progress=False)
    return float((model.predict(shape(splits.test.X)).argmax(axis=1) == splits.test.y).mean())


@pytest.mark.slow
def test_cnn_beats_mlp_on_mnist1d_only_while_positions_keep_their_order():
    n_cnn, n_mlp = _cnn(0).num_parameters(), _mlp(0).num_parameters()
    assert abs(n_cnn - n_mlp) / n_mlp < 0.05, (n_cnn, n_mlp)  # a fair comparison
    acc = {}
    for shuffled in (False, True):
        splits = mnist1d(seed=0, shuffle_seq=shuffled)
        for name, make, channels in (("cnn", _cnn, True), ("mlp", _mlp, False)):
            acc[name, shuffled] = np.array([_test_accuracy(make, channels, splits, s)
                                            for s in SEEDS])
    summary = {f"{name}{'_shuffled' if s else ''}": f"{a.mean():.3f} ± {a.std():.3f}"
               for (name, s), a in acc.items()}
    print("MNIST-1D test accuracy over seeds", SEEDS, summary)
    # Ordered: every CNN seed beats every MLP seed, by a wide margin on average.
    assert acc["cnn", False].min() > acc["mlp", False].max()
    assert acc["cnn", False].mean() - acc["mlp", False].mean() > 0.2, summary
    # Shuffled: the CNN's edge is gone, and it fell a long way.
    assert acc["cnn", True].mean() < acc["mlp", True].mean() + 0.02, summary
    assert acc["cnn", False].mean() - acc["cnn", True].mean() > 0.25, summary
    # The MLP does not care about the order of its inputs (only seeds' noise separates them).
    assert abs(acc["mlp", False].mean() - acc["mlp", True].mean()) < 0.04, summary
