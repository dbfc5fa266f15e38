"""RNN and LastStep: values and gradients against PyTorch autograd (float64) and finite
differences, ∂L/∂h_t for every t, clipping, dtypes, errors and persistence."""

import json
import math

import numpy as np
import pytest
import torch

from whynet.errors import ConfigError, ShapeError
from whynet.gradcheck import check_module, rel_error
from whynet.nn import RNN, Dense, LastStep, Sequential
from whynet.nn import io as nn_io
from whynet.optim import clip_grad_norm

TOL = 1e-6  # the bar for agreement with PyTorch autograd in float64
FD_TOL = 1e-7  # centred differences in float64 (h = 1e-6)


def _rnn(n_in, n_hidden, rng, nonlinearity="tanh", bias=True):
    """The one-bias form (``b``); the two-bias default has its own tests below."""
    layer = RNN(n_in, n_hidden, rng=1, dtype=np.float64, nonlinearity=nonlinearity, bias=bias,
                biases=1)
    if bias:
        layer.b.value[...] = rng.normal(0, 0.5, size=n_hidden)
    return layer


def _torch_rnn(layer):
    """torch.nn.RNN with the same weights; PyTorch's second bias b_hh is held at 0."""
    t = torch.nn.RNN(layer.n_in, layer.n_hidden, nonlinearity=layer.nonlinearity,
                     batch_first=True, bias=layer.b is not None).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.from_numpy(layer.W_xh.value))
        t.weight_hh_l0.copy_(torch.from_numpy(layer.W_hh.value))
        if layer.b is not None:
            t.bias_ih_l0.copy_(torch.from_numpy(layer.b.value))
            t.bias_hh_l0.zero_()
    return t


@pytest.mark.parametrize("m,steps,n_in,n_hidden", [(3, 5, 4, 6), (1, 1, 2, 3), (4, 12, 1, 8),
                                                   (2, 7, 5, 2)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch(m, steps, n_in, n_hidden, nonlinearity, rng):
    layer = _rnn(n_in, n_hidden, rng, nonlinearity)
    t = _torch_rnn(layer)
    x = rng.normal(size=(m, steps, n_in))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tout, t_last = t(tx)
    tout.backward(torch.from_numpy(g))
    errors = {"out": rel_error(out, tout.detach().numpy()),
              "dx": rel_error(dx, tx.grad.numpy()),
              "W_xh": rel_error(layer.W_xh.grad, t.weight_ih_l0.grad.numpy()),
              "W_hh": rel_error(layer.W_hh.grad, t.weight_hh_l0.grad.numpy()),
              "b": rel_error(layer.b.grad, t.bias_ih_l0.grad.numpy())}
    assert max(errors.values()) <= TOL, errors
    assert out.shape == (m, steps, n_hidden)
    np.testing.assert_allclose(out[:, -1], t_last.detach().numpy()[0], rtol=1e-12)


def test_rnn_without_bias_matches_torch(rng):
    layer = _rnn(3, 4, rng, bias=False)
    assert [p.name for p in layer.parameters()] == ["W_xh", "W_hh"]
    x = rng.normal(size=(2, 6, 3))
    tout, _ = _torch_rnn(layer)(torch.from_numpy(x))
    assert rel_error(layer.forward(x), tout.detach().numpy()) <= TOL


def test_grad_h_is_the_total_gradient_at_every_step(rng):
    """rnn.grad_h[:, t] = ∂L/∂h_t through every path (the output at t and all later steps),
    checked against PyTorch's retained gradients of an unrolled tanh loop."""
    layer = _rnn(3, 5, rng)
    x = rng.normal(size=(2, 6, 3))
    g = rng.normal(size=(2, 6, 5))
    layer.forward(x)
    layer.backward(g)
    w_xh, w_hh, b = (torch.tensor(a, requires_grad=True)
                     for a in (layer.W_xh.value, layer.W_hh.value, layer.b.value))
    h = torch.zeros(2, 5, dtype=torch.float64)
    states = []
    for step in range(6):
        h = torch.tanh(torch.from_numpy(x[:, step]) @ w_xh.T + h @ w_hh.T + b)
        h.retain_grad()
        states.append(h)
    (torch.stack(states, dim=1) * torch.from_numpy(g)).sum().backward()
    expected = np.stack([s.grad.numpy() for s in states], axis=1)
    assert layer.grad_h.shape == (2, 6, 5)
    assert rel_error(layer.grad_h, expected) <= TOL
    # The last step has no future: its total gradient is the direct one.
    np.testing.assert_array_equal(layer.grad_h[:, -1], g[:, -1])


def test_gradient_vanishes_back_through_time_when_the_recurrence_contracts(rng):
    """Question N1: with the loss on h_T only, ∂L/∂h_t = (∂L/∂h_{t+1} ⊙ tanh′) W_hh, so each step
    back multiplies its norm by at most ‖W_hh‖₂ (tanh′ ≤ 1). With ‖W_hh‖₂ = 0.5 over 20 steps,
    ‖∂L/∂h_1‖ ≤ 0.5¹⁹ ‖∂L/∂h_20‖."""
    layer = _rnn(2, 8, rng)
    w = layer.W_hh.value
    layer.W_hh.value = 0.5 * w / np.linalg.norm(w, 2)
    layer.forward(rng.normal(size=(4, 20, 2)))
    g = np.zeros((4, 20, 8))
    g[:, -1] = rng.normal(size=(4, 8))
    layer.backward(g)
    norms = np.linalg.norm(layer.grad_h, axis=2)  # (m, T)
    assert np.all(norms[:, :-1] <= 0.5 * norms[:, 1:] + 1e-15)
    assert np.all(norms[:, 0] <= 0.5 ** 19 * norms[:, -1])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_finite_differences(nonlinearity, rng):
    layer = _rnn(3, 4, rng, nonlinearity)
    errors = check_module(layer, rng.normal(size=(2, 5, 3)), rng)
    assert set(errors) == {"x", "W_xh", "W_hh", "b"}
    assert max(errors.values()) <= FD_TOL, errors


def test_rnn_classifier_gradients_and_clipping_match_torch(rng):
    """Sequential(RNN, LastStep, Dense): every gradient equals PyTorch's, and after joint-norm
    clipping (whynet.optim.clip_grad_norm vs torch's clip_grad_norm_) they still do."""
    rnn = _rnn(3, 6, rng)
    dense = Dense(6, 4, rng=2, dtype=np.float64)
    model = Sequential(rnn, LastStep(), dense)
    t_rnn = _torch_rnn(rnn)
    t_dense = torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        t_dense.weight.copy_(torch.from_numpy(dense.W.value))
        t_dense.bias.copy_(torch.from_numpy(dense.b.value))
    x = rng.normal(size=(5, 7, 3))
    g = rng.normal(size=(5, 4)) * 10  # large, so that clipping to norm 1 really scales
    model.forward(x)
    model.backward(g)
    tout, _ = t_rnn(torch.from_numpy(x))
    t_dense(tout[:, -1]).backward(torch.from_numpy(g))
    t_params = [t_rnn.weight_ih_l0, t_rnn.weight_hh_l0, t_rnn.bias_ih_l0, t_dense.weight,
                t_dense.bias]
    norm = clip_grad_norm(model, 1.0)
    t_norm = torch.nn.utils.clip_grad_norm_(t_params, 1.0)
    assert norm == pytest.approx(float(t_norm), rel=1e-12) and norm > 1
    for p, tp in zip(model.parameters(), t_params):
        assert rel_error(p.grad, tp.grad.numpy()) <= TOL, p.name
    assert math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters())) == \
        pytest.approx(1.0, rel=1e-5)


def test_last_step_takes_h_T_and_routes_the_gradient_there(rng):
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    layer = LastStep()
    np.testing.assert_array_equal(layer.forward(x), x[:, -1])
    dx = layer.backward(np.ones((2, 3), np.float32))
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert dx[:, -1].sum() == 6 and dx[:, :-1].sum() == 0


def test_default_init_is_pytorchs_uniform():
    layer = RNN(10, 64, rng=0)
    bound = 1 / math.sqrt(64)
    for w in (layer.W_xh.value, layer.W_hh.value):
        assert 0.97 * bound < np.abs(w).max() <= bound
    np.testing.assert_array_equal(layer.b_ih.value, 0)
    np.testing.assert_array_equal(layer.b_hh.value, 0)
    assert layer.W_xh.shape == (64, 10) and layer.W_hh.shape == (64, 64)


def test_named_init(rng):
    layer = RNN(4, 6, init="orthogonal", rng=0, dtype=np.float64)
    np.testing.assert_allclose(layer.W_hh.value @ layer.W_hh.value.T, np.eye(6), atol=1e-12)


def test_float32_in_float32_out(rng):
    layer = RNN(3, 4)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == layer.grad_h.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    assert layer.forward(x.astype(np.float64)).dtype == np.float32


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ShapeError, match=r"RNN\(3 → 8\): expected input of shape "
                                         r"\(m, 5, 3\), got \(2, 5, 4\)"):
        RNN(3, 8).forward(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ShapeError, match=r"RNN\(3 → 8\): expected input of rank 3, "
                                         r"got shape \(2, 3\)"):
        RNN(3, 8).forward(np.zeros((2, 3), np.float32))
    with pytest.raises(ShapeError, match=r"LastStep\(\): expected input of rank 3"):
        LastStep().forward(np.zeros((2, 3), np.float32))
    with pytest.raises(ConfigError, match=r"RNN: nonlinearity must be one of \('tanh', 'relu'\), "
                                          r"got 'sigmoid'"):
        RNN(3, 8, nonlinearity="sigmoid")
    with pytest.raises(ConfigError, match=r"RNN: n_hidden must be an integer ≥ 1, got 0"):
        RNN(3, 0)


def test_save_and_load_an_rnn_classifier(tmp_path, rng):
    model = Sequential(RNN(2, 5, rng=1, nonlinearity="relu"), LastStep(), Dense(5, 3, rng=2))
    config = model[0].get_config()
    json.dumps(config)
    assert config["nonlinearity"] == "relu" and config["n_hidden"] == 5
    nn_io.save(model, tmp_path / "rnn")
    loaded = nn_io.load(tmp_path / "rnn")
    x = rng.normal(size=(4, 6, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def _torch_default_rnn(n_in, n_hidden, nonlinearity="tanh", seed=0):
    """A default torch.nn.RNN (PyTorch's own init, two biases) and a whynet RNN with its
    weights and biases copied (the two-bias default form)."""
    torch.manual_seed(seed)
    t = torch.nn.RNN(n_in, n_hidden, nonlinearity=nonlinearity, batch_first=True).double()
    layer = RNN(n_in, n_hidden, dtype=np.float64, nonlinearity=nonlinearity)
    for name, tname in (("W_xh", "weight_ih_l0"), ("W_hh", "weight_hh_l0"),
                        ("b_ih", "bias_ih_l0"), ("b_hh", "bias_hh_l0")):
        layer._params[name].value[...] = getattr(t, tname).detach().numpy()
    return layer, t


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_two_bias_default_matches_torch_gradients(nonlinearity, rng):
    layer, t = _torch_default_rnn(3, 5, nonlinearity)
    assert [p.name for p in layer.parameters()] == ["W_xh", "W_hh", "b_ih", "b_hh"]
    x = rng.normal(size=(4, 6, 3))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tout, _ = t(tx)
    tout.backward(torch.from_numpy(g))
    errors = {"out": rel_error(out, tout.detach().numpy()), "dx": rel_error(dx, tx.grad.numpy())}
    for p, tp in zip(layer.parameters(), t.parameters()):
        errors[p.name] = rel_error(p.grad, tp.grad.numpy())
    assert max(errors.values()) <= TOL, errors
    # Both biases get the same gradient Σ δz: the sum moves twice as fast as one bias.
    np.testing.assert_array_equal(layer.b_ih.grad, layer.b_hh.grad)


def test_two_bias_finite_differences(rng):
    layer = RNN(3, 4, rng=1, dtype=np.float64)
    layer.b_ih.value[...] = rng.normal(size=4)
    layer.b_hh.value[...] = rng.normal(size=4)
    errors = check_module(layer, rng.normal(size=(2, 5, 3)), rng)
    assert set(errors) == {"x", "W_xh", "W_hh", "b_ih", "b_hh"}
    assert max(errors.values()) <= FD_TOL, errors


@pytest.mark.parametrize("biases,follows_torch", [(2, True), (1, False)])
def test_training_trajectory_equals_a_default_torch_rnn(biases, follows_torch, rng):
    """Sequential(RNN, LastStep, Dense) trained 30 SGD steps from a default torch.nn.RNN's
    weights: the two-bias default gives torch's per-step losses to round-off; the one-bias
    form (b = b_ih + b_hh) starts equal and drifts, since its bias moves half as fast."""
    from whynet.nn import SoftmaxCrossEntropy
    from whynet.optim import SGD
    from whynet.train import Trainer
    t_rnn_layer, t_rnn = _torch_default_rnn(2, 8)
    rnn = RNN(2, 8, dtype=np.float64, biases=biases)
    rnn.W_xh.value[...] = t_rnn_layer.W_xh.value
    rnn.W_hh.value[...] = t_rnn_layer.W_hh.value
    if biases == 2:
        rnn.b_ih.value[...], rnn.b_hh.value[...] = t_rnn_layer.b_ih.value, t_rnn_layer.b_hh.value
    else:
        rnn.b.value[...] = t_rnn_layer.b_ih.value + t_rnn_layer.b_hh.value
    dense = Dense(8, 3, rng=2, dtype=np.float64)
    t_dense = torch.nn.Linear(8, 3).double()
    with torch.no_grad():
        t_dense.weight.copy_(torch.from_numpy(dense.W.value))
        t_dense.bias.copy_(torch.from_numpy(dense.b.value))
    model = Sequential(rnn, LastStep(), dense)
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.5))
    opt = torch.optim.SGD([*t_rnn.parameters(), *t_dense.parameters()], lr=0.5)
    x = rng.normal(size=(16, 10, 2))
    y = rng.integers(0, 3, size=16)
    gaps = []
    for _ in range(30):
        loss = trainer.train_step(x, y)
        opt.zero_grad()
        out, _ = t_rnn(torch.from_numpy(x))
        t_loss = torch.nn.functional.cross_entropy(t_dense(out[:, -1]), torch.from_numpy(y))
        t_loss.backward()
        opt.step()
        gaps.append(abs(loss - t_loss.item()))
    assert gaps[0] <= 1e-12
    if follows_torch:
        assert max(gaps) <= 1e-10, max(gaps)
    else:
        assert max(gaps) > 1e-4, max(gaps)


def test_biases_is_checked_and_saved(tmp_path, rng):
    with pytest.raises(ConfigError, match=r"RNN: biases must be an integer in \[1, 2\], got 3"):
        RNN(2, 3, biases=3)
    model = Sequential(RNN(2, 3, rng=1, biases=1), LastStep())
    assert model[0].get_config()["biases"] == 1
    assert repr(model[0]) == "RNN(2 → 3, biases=1)"
    nn_io.save(model, tmp_path / "one")
    loaded = nn_io.load(tmp_path / "one")
    assert [p.name for p in loaded.parameters()] == ["W_xh", "W_hh", "b"]
