"""Trajectory equivalence: the same MLP trained by whynet's fit and by PyTorch follows the same
loss curve, step for step.

Both start from the same weights and see the same minibatches (fit's shuffling is a permutation
per epoch from ``default_rng(seed)``, replayed here for PyTorch) for 200 steps in float64.
whynet adds the L2 penalty ``(λ/2)·Σw²`` over weights only; its PyTorch counterpart is
``weight_decay=λ`` in a parameter group holding only the weights (the biases get 0), and the
penalty is added to PyTorch's reported loss by hand. Errors compound over steps, so agreement
to 1e-8 after 200 steps means every piece — forward, loss, backward, regulariser, optimiser,
batching — matches.
"""

import numpy as np
import pytest
import torch

from whynet.gradcheck import rel_error
from whynet.nn import L2, Dense, mlp
from whynet.nn.torch_state import to_torch
from whynet.optim import get_optimizer
from whynet.train import fit

SIZES = [6, 16, 12, 8, 4]  # four Dense layers, three hidden activations
M, BATCH, EPOCHS, SEED = 100, 20, 40, 11  # 5 steps per epoch → 200 steps
LAM = 1e-2

OPTIMIZERS = {
    "sgd_momentum": ("sgd", {"lr": 0.05, "momentum": 0.9}, torch.optim.SGD),
    "rmsprop": ("rmsprop", {"lr": 3e-3, "alpha": 0.9}, torch.optim.RMSprop),
    "adam": ("adam", {"lr": 5e-3}, torch.optim.Adam),
}


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(M, SIZES[0]))
    W = rng.normal(size=(SIZES[0], SIZES[-1]))
    y = np.argmax(X @ W + 0.5 * rng.normal(size=(M, SIZES[-1])), axis=1)
    return X, y


def _torch_copy(model, activation: str):
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[activation]
    layers = []
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    for i, d in enumerate(dense):
        layers.append(torch.nn.Linear(d.n_in, d.n_out, dtype=torch.float64))
        if i < len(dense) - 1:
            layers.append(act())
    tmodel = torch.nn.Sequential(*layers)
    tmodel.load_state_dict(to_torch(model))  # same positions: Dense i ↔ Linear i
    return tmodel


def _torch_losses(tmodel, X, y, topt_cls, kwargs, lam):
    weights = [p for name, p in tmodel.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in tmodel.named_parameters() if name.endswith("bias")]
    opt = topt_cls([{"params": weights, "weight_decay": lam},
                    {"params": biases, "weight_decay": 0.0}], **kwargs)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(SEED)
    losses = []
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(M))
        for start in range(0, M, BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(tmodel(tX[idx]), ty[idx])
            with torch.no_grad():
                penalty = 0.5 * lam * sum(float((w * w).sum()) for w in weights)
            losses.append(loss.item() + penalty)
            loss.backward()
            opt.step()
    return np.array(losses)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_fit_follows_pytorch_loss_curve(activation, opt_name):
    name, kwargs, topt_cls = OPTIMIZERS[opt_name]
    X, y = _data()
    model = mlp(SIZES, activation=activation, seed=3, dtype=np.float64)
    tmodel = _torch_copy(model, activation)

    h = fit(model, X, y, loss="softmax_ce", optimizer=get_optimizer(name, model, **kwargs),
            epochs=EPOCHS, batch_size=BATCH, seed=SEED, regularizer=L2(LAM), record_steps=True)
    ours = np.array(h.steps)
    theirs = _torch_losses(tmodel, X, y, topt_cls, kwargs, LAM)

    assert len(ours) == len(theirs) == 200
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-8)
    assert ours[-20:].mean() < 0.7 * ours[:20].mean()  # it trained, so the curves are not flat
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    tlin = [m for m in tmodel if isinstance(m, torch.nn.Linear)]
    for d, lin in zip(dense, tlin):
        assert rel_error(d.W.value, lin.weight.detach().numpy()) <= 1e-8
        assert rel_error(d.b.value, lin.bias.detach().numpy()) <= 1e-8


def test_adamw_decoupled_decay_follows_pytorch():
    """AdamW decays every parameter (biases too) as torch's AdamW does, with no regulariser."""
    X, y = _data()
    model = mlp(SIZES, activation="tanh", seed=4, dtype=np.float64)
    tmodel = _torch_copy(model, "tanh")
    kwargs = {"lr": 5e-3, "weight_decay": 0.1}
    h = fit(model, X, y, loss="softmax_ce", optimizer=get_optimizer("adamw", model, **kwargs),
            epochs=EPOCHS, batch_size=BATCH, seed=SEED, record_steps=True)
    opt = torch.optim.AdamW(tmodel.parameters(), **kwargs)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(SEED)
    theirs = []
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(M))
        for start in range(0, M, BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(tmodel(tX[idx]), ty[idx])
            theirs.append(loss.item())
            loss.backward()
            opt.step()
    np.testing.assert_allclose(h.steps, theirs, rtol=1e-8, atol=1e-8)
