"""whynet.to_torch / whynet.from_torch: whole models to PyTorch and back, the same function in
float64 (outputs and parameter gradients against torch's autograd)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import whynet  # noqa: E402
from whynet.errors import StateDictError  # noqa: E402
from whynet.nn import (ELU, GELU, SELU, AvgPool2d, BatchNorm1d, BatchNorm2d, CELU,  # noqa: E402
                       Conv1d, Conv2d, Dense, Dropout, Flatten, Hardtanh, Identity, LayerNorm,
                       LeakyReLU, MaxPool1d, MaxPool2d, Maxout, Mish, PReLU, ReLU, ReLU6,
                       Sequential, SiLU, Sigmoid, Softplus, Softsign, Tanh)
from whynet.nn.torch_state import from_torch_module, to_torch_module  # noqa: E402

F64 = np.float64


def _mlp():
    # CELU's α is 0.5 (exact in float32): torch's float64 CELU backward rounds α to float32
    # (measured: 3e-7 relative error in f′ at z = −8 with α = 0.4)
    acts = [Sigmoid(), Tanh(), ReLU(), LeakyReLU(0.2), PReLU(4, dtype=F64), ELU(0.7), SELU(),
            CELU(0.5), GELU(), GELU("tanh"), SiLU(), Mish(), Softplus(2.0, 5.0), Softsign(),
            Hardtanh(-0.5, 0.8), ReLU6(), Identity()]
    layers = [Dense(5, 4, rng=0, dtype=F64)]
    for i, a in enumerate(acts):
        layers += [a, Dense(4, 4, rng=i + 1, dtype=F64)]
    return Sequential(*layers, BatchNorm1d(4, dtype=F64), LayerNorm(4, dtype=F64),
                      Dense(4, 3, bias=False, rng=99, dtype=F64))


def _cnn():
    return Sequential(Conv2d(2, 3, 3, padding=1, rng=0, dtype=F64), BatchNorm2d(3, dtype=F64),
                      ReLU(), MaxPool2d(2), Conv2d(3, 4, 2, stride=1, rng=1, dtype=F64),
                      AvgPool2d(2, stride=1, padding=1), Flatten(), Dropout(0.3, dtype=F64),
                      Dense(4 * 3 * 3, 2, rng=2, dtype=F64))


def _cnn1d():
    return Sequential(Conv1d(3, 2, 3, padding=1, bias=False, rng=0, dtype=F64), ReLU(),
                      MaxPool1d(2), Flatten(), Dense(2 * 4, 2, rng=1, dtype=F64))


MODELS = {"mlp": (_mlp, (7, 5)), "cnn": (_cnn, (4, 2, 6, 6)), "cnn1d": (_cnn1d, (3, 3, 8))}


def _randomise_running_stats(model, seed):
    rng = np.random.default_rng(seed)
    for name, value in model.state_dict().items():
        if "running_var" in name:
            value[...] = rng.uniform(0.5, 1.5, size=value.shape)
        elif "running_mean" in name:
            value[...] = rng.normal(size=value.shape)


@pytest.mark.parametrize("name", MODELS)
def test_to_torch_computes_the_same_function(name):
    """Every layer kind both libraries have: the torch twin's outputs (eval, and train without
    dropout) equal whynet's to 1e-10, and so do the gradients of Σ w·output (w random) for every
    parameter (to 1e-9: a 40-layer chain)."""
    build, shape = MODELS[name]
    wn = build()
    _randomise_running_stats(wn, 1)
    x = np.random.default_rng(2).normal(size=shape)
    tn = whynet.to_torch(wn.train(False))
    assert isinstance(tn, nn.Sequential) and len(tn) == len(wn.layers)
    assert all(p.dtype == torch.float64 for p in tn.parameters()) and not tn.training
    np.testing.assert_allclose(wn.forward(x), tn(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    has_dropout = any(isinstance(m, Dropout) for m in wn.layers)
    if not has_dropout:  # training mode: batch statistics, then the gradients
        wn.train(True)
        tn.train(True)
        xt = torch.from_numpy(x)
        out = wn.forward(x)
        tout = tn(xt)
        np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        for p in wn.parameters():
            p.grad.fill(0)
        # a random weighting: Σ output alone would be ~0 after the normalisations (cancellation)
        w = np.random.default_rng(4).normal(size=out.shape)
        wn.backward(w)
        (tout * torch.from_numpy(w)).sum().backward()
        tgrads = [p.grad.numpy() for p in tn.parameters()]
        assert len(tgrads) == len(wn.parameters())
        # a bias just before BatchNorm has a gradient that is 0 up to rounding: measure every
        # difference against the largest gradient of the model
        scale = max(float(np.abs(g).max()) for g in tgrads)
        for p, g in zip(wn.parameters(), tgrads):
            np.testing.assert_allclose(p.grad, g, rtol=1e-9, atol=1e-10 * scale)


@pytest.mark.parametrize("name", MODELS)
def test_from_torch_computes_the_same_function(name):
    """A torch model initialised by torch (its own random weights, perturbed statistics)
    becomes a whynet model with the same outputs; round trip: to_torch(from_torch(t)) has the
    same state_dict as t."""
    build, shape = MODELS[name]
    torch.manual_seed(0)
    tn = whynet.to_torch(build())
    for m in tn.modules():  # torch's own initialisation, not whynet's
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    tn.eval()
    wn = whynet.from_torch(tn)
    assert wn.dtype == np.float64 and not wn.training
    assert [type(m).__name__ for m in wn.layers] == [type(m).__name__ for m in build().layers]
    x = np.random.default_rng(3).normal(size=shape)
    np.testing.assert_allclose(wn.forward(x), tn(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    back = to_torch_module(wn).state_dict()
    assert list(back) == list(tn.state_dict())
    assert all(torch.equal(back[k], v) for k, v in tn.state_dict().items())


def test_float32_models_stay_float32():
    wn = Sequential(Dense(3, 2, rng=0), ReLU())
    tn = to_torch_module(wn)
    assert next(tn.parameters()).dtype == torch.float32
    assert from_torch_module(tn).dtype == np.float32


@pytest.mark.parametrize("bad, words", [
    (lambda: to_torch_module(Sequential(Dense(2, 4), Maxout(4, 2))),
     "to_torch: layer 1 (Maxout) has no PyTorch twin"),
    (lambda: from_torch_module(nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2))),
     "layer 0 (Conv2d) has dilation=(2, 2); whynet's twin supports only dilation=1"),
    (lambda: from_torch_module(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1))),
     "from_torch: layer 1 (Softmax) has no whynet twin"),
    (lambda: from_torch_module(nn.Linear(2, 2)), "expected a torch.nn.Sequential, got Linear"),
    (lambda: from_torch_module(nn.Sequential(nn.Conv1d(1, 1, 3, padding="same"))),
     "padding='same'; give the padding as numbers"),
    (lambda: from_torch_module(nn.Sequential(nn.BatchNorm1d(3, affine=False))),
     "affine=False"),
])
def test_what_has_no_twin_is_named(bad, words):
    with pytest.raises(StateDictError, match=None) as e:
        bad()
    assert words in str(e.value), str(e.value)
