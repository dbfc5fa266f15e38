"""Trajectory equivalence with PyTorch: the same architecture, initial weights, data and
minibatches, trained for 100 steps in whynet (Trainer + SGD with momentum + softmax
cross-entropy) and in PyTorch, give the same loss at every step (to 1e-8 in float64).

Agreement over 100 steps is a much stronger check than one gradient: an error in any backward
pass, in BatchNorm's running statistics or in the optimiser would make the curves part."""

import numpy as np
import pytest
import torch

from whynet.nn import (RNN, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dense, Flatten, LastStep,
                       MaxPool1d, MaxPool2d, ReLU, Sequential, SoftmaxCrossEntropy)
from whynet.optim import SGD
from whynet.train import Trainer

STEPS = 100
LOSS_TOL = 1e-8  # the bar: per-step losses equal to 1e-8 in float64


def _copy_weights(model, pairs):
    """Copy whynet parameters into the matching torch tensors (pairs of (Parameter, tensor))."""
    with torch.no_grad():
        for p, t in pairs:
            t.copy_(torch.from_numpy(p.value))


def _train_both(model, tmodel, t_params, X, y, *, lr=0.05, momentum=0.9, batch=16,
                clip_norm=None, seed=0):
    """Train both on the same minibatches; return the per-step losses of each and the gradient
    norms before clipping (empty without clipping)."""
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr,
                                                       momentum=momentum), clip_norm=clip_norm)
    topt = torch.optim.SGD(t_params, lr=lr, momentum=momentum)
    order = np.random.default_rng(seed)
    ours, theirs, norms = [], [], []
    for _ in range(STEPS):
        idx = order.choice(len(X), size=batch, replace=False)
        xb, yb = X[idx], y[idx]
        ours.append(trainer.train_step(xb, yb))
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(xb)),
                                                 torch.from_numpy(yb))
        loss.backward()
        if clip_norm is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(t_params, clip_norm)))
        topt.step()
        theirs.append(loss.item())
    return np.array(ours), np.array(theirs), np.array(norms)


def _assert_same_curve(ours, theirs):
    diff = np.abs(ours - theirs)
    assert diff.max() <= LOSS_TOL, f"step {diff.argmax()}: {ours[diff.argmax()]} vs " \
                                   f"{theirs[diff.argmax()]}"
    # The run really trained, so the comparison is not between two flat lines.
    assert ours[-10:].mean() < 0.7 * ours[:10].mean(), (ours[:10].mean(), ours[-10:].mean())


def _image_data(rng, m=64, classes=3):
    """Images whose class is where a bright blob sits, plus noise: learnable by a small CNN."""
    y = rng.integers(0, classes, size=m)
    X = rng.normal(0, 0.5, size=(m, 1, 8, 8))
    for i, c in enumerate(y):
        X[i, 0, 2 * c:2 * c + 3, 2:5] += 2.0
    return X, y


def test_small_cnn_follows_torchs_loss_curve(rng):
    X, y = _image_data(rng)
    model = Sequential(Conv2d(1, 4, 3, padding=1, rng=1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
                       Conv2d(4, 6, 3, stride=2, padding=1, rng=2), BatchNorm2d(6), ReLU(),
                       Flatten(), Dense(6 * 2 * 2, 3, rng=3)).astype(np.float64)
    nn = torch.nn
    tmodel = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=2, padding=1),
                           nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(24, 3)).double()
    t_params = list(tmodel.parameters())
    _copy_weights(model, zip(model.parameters(), t_params))
    ours, theirs, _ = _train_both(model, tmodel, t_params, X, y)
    _assert_same_curve(ours, theirs)
    # The running statistics followed the same 100 batches.
    for i in (1, 5):
        np.testing.assert_allclose(model[i].running_var, tmodel[i].running_var.numpy(),
                                   rtol=1e-8)
    # And evaluation mode (running statistics) gives the same predictions.
    tmodel.eval()
    np.testing.assert_allclose(model.predict(X), tmodel(torch.from_numpy(X)).detach().numpy(),
                               rtol=1e-7, atol=1e-9)


def test_1d_cnn_follows_torchs_loss_curve(rng):
    """The MNIST-1D shape of network: Conv1d, BatchNorm1d over (m, C, L), MaxPool1d."""
    m, length = 64, 20
    y = rng.integers(0, 3, size=m)
    X = rng.normal(0, 0.5, size=(m, 1, length))
    for i, c in enumerate(y):
        X[i, 0, 5 * c:5 * c + 4] += np.array([1.0, 2.0, -2.0, -1.0])
    model = Sequential(Conv1d(1, 4, 5, padding=2, rng=1), BatchNorm1d(4), ReLU(), MaxPool1d(2),
                       Conv1d(4, 4, 3, stride=2, rng=2), ReLU(), Flatten(),
                       Dense(4 * 4, 3, rng=3)).astype(np.float64)
    nn = torch.nn
    tmodel = nn.Sequential(nn.Conv1d(1, 4, 5, padding=2), nn.BatchNorm1d(4), nn.ReLU(),
                           nn.MaxPool1d(2), nn.Conv1d(4, 4, 3, stride=2), nn.ReLU(),
                           nn.Flatten(), nn.Linear(16, 3)).double()
    t_params = list(tmodel.parameters())
    _copy_weights(model, zip(model.parameters(), t_params))
    ours, theirs, _ = _train_both(model, tmodel, t_params, X, y)
    _assert_same_curve(ours, theirs)


class _TorchRNNClassifier(torch.nn.Module):
    def __init__(self, n_in, n_hidden, classes):
        super().__init__()
        self.rnn = torch.nn.RNN(n_in, n_hidden, batch_first=True)
        self.fc = torch.nn.Linear(n_hidden, classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


@pytest.mark.parametrize("clip_norm", [None, 0.25])
def test_rnn_classifier_follows_torchs_loss_curve(clip_norm, rng):
    """A sequence whose class is the sign pattern of its first steps: the signal must survive
    through time to h_T. With clipping at 0.25 most steps are clipped, in both libraries alike."""
    m, steps = 64, 8
    y = rng.integers(0, 3, size=m)
    X = rng.normal(0, 0.3, size=(m, steps, 2))
    X[:, 0, 0] += np.array([-1.5, 0.0, 1.5])[y]
    X[:, 1, 1] += np.array([1.0, -1.0, 1.0])[y]
    model = Sequential(RNN(2, 8, rng=1), LastStep(), Dense(8, 3, rng=2)).astype(np.float64)
    model[0].b_ih.value[...] = rng.normal(0, 0.2, size=8)
    model[0].b_hh.value[...] = rng.normal(0, 0.2, size=8)
    tmodel = _TorchRNNClassifier(2, 8, 3).double()
    r = tmodel.rnn  # PyTorch's default RNN: both biases trained, as whynet's default
    t_params = [r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0, tmodel.fc.weight,
                tmodel.fc.bias]
    _copy_weights(model, zip(model.parameters(), t_params))
    ours, theirs, norms = _train_both(model, tmodel, t_params, X, y, clip_norm=clip_norm)
    _assert_same_curve(ours, theirs)
    if clip_norm is not None:  # clipping really acted, on most steps
        assert np.mean(norms > clip_norm) > 0.5
