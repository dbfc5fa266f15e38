"""The MLP builder: structure, initialisers chosen per activation, seeding, options, errors, and a
whole model against the same model in PyTorch."""

import math

import numpy as np
import pytest

from whynet.errors import ConfigError, UnknownNameError
from whynet.gradcheck import rel_error
from whynet.nn import Dense, Dropout, Sequential, mlp
from whynet.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from whynet.nn.build import suggested_init
from whynet.nn.losses import BCEWithLogits
from whynet.random import make_rng, spawn

torch = pytest.importorskip("torch")


def _types(model):
    return [type(m).__name__ for m in model]


def test_structure_and_parameter_count():
    model = mlp([2, 16, 16, 1])
    assert isinstance(model, Sequential)
    assert _types(model) == ["Dense", "ReLU", "Dense", "ReLU", "Dense"]
    assert model.num_parameters() == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    out = model.forward(np.zeros((5, 2), np.float32))
    assert out.shape == (5, 1) and out.dtype == np.float32


def test_no_hidden_layer_is_one_dense():
    model = mlp([3, 2])
    assert _types(model) == ["Dense"]


def test_relu_layers_get_he_normal():
    """init=None with ReLU: He normal, std √(2/fan_in) = √(2/400) within 3% over 160 000 draws."""
    model = mlp([400, 400, 1], activation="relu")
    assert model[0].get_config()["init"] == "he_normal"
    assert abs(model[0].W.value.std() / math.sqrt(2 / 400) - 1) < 0.03


def test_tanh_layers_get_xavier_with_gain_five_thirds():
    model = mlp([300, 200, 1], activation="tanh")
    bound = 5 / 3 * math.sqrt(6 / (300 + 200))
    w = np.abs(model[0].W.value)
    assert 0.99 * bound < w.max() <= bound
    assert model[0].get_config()["gain"] == pytest.approx(5 / 3)


def test_output_layer_without_activation_is_xavier_gain_one():
    model = mlp([4, 300, 200], activation="relu")
    assert model[2].get_config() == {"n_in": 300, "n_out": 200, "bias": True,
                                     "init": "xavier_uniform", "bias_init": "zeros"}
    assert np.abs(model[2].W.value).max() <= math.sqrt(6 / 500)


def test_leaky_relu_slope_reaches_activation_and_init():
    model = mlp([4, 8, 1], activation="leaky_relu", negative_slope=0.2)
    assert isinstance(model[1], LeakyReLU) and model[1].negative_slope == 0.2
    assert model[0].get_config()["a"] == 0.2
    assert suggested_init(model[1]) == ("he_normal", {"nonlinearity": "leaky_relu", "a": 0.2})


def test_explicit_init_for_every_layer():
    model = mlp([4, 8, 8, 1], activation="relu", init="zeros")
    for layer in (model[0], model[2], model[4]):
        np.testing.assert_array_equal(layer.W.value, 0)


def test_activation_list_one_per_hidden_layer():
    model = mlp([2, 8, 8, 1], activation=["tanh", "sigmoid"])
    assert isinstance(model[1], Tanh) and isinstance(model[3], Sigmoid)
    assert model[0].get_config()["gain"] == pytest.approx(5 / 3)
    assert model[2].get_config()["gain"] == 1.0


def test_output_activation():
    model = mlp([2, 4, 1], output_activation="sigmoid")
    assert isinstance(model[-1], Sigmoid)
    out = model.forward(np.ones((3, 2), np.float32) * 100)
    assert ((out >= 0) & (out <= 1)).all()


def test_same_seed_same_model_other_seed_other_model():
    a, b, c = mlp([3, 5, 2], seed=1), mlp([3, 5, 2], seed=1), mlp([3, 5, 2], seed=2)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.value, pb.value)
    assert not np.array_equal(a[0].W.value, c[0].W.value)


def test_each_dense_layer_draws_from_its_own_spawned_child():
    """Dense layer i is initialised from child i of spawn(make_rng(seed), n_layers)."""
    model = mlp([6, 6, 6, 6], activation="tanh", seed=4)
    children = spawn(make_rng(4), 3)
    for i, layer in enumerate((model[0], model[2], model[4])):
        name, kwargs = suggested_init(Tanh()) if i < 2 else ("xavier_uniform", {})
        expected = Dense(6, 6, init=name, rng=children[i], **kwargs)
        np.testing.assert_array_equal(layer.W.value, expected.W.value)


def test_dropout_layers_follow_activations_and_do_not_change_weights():
    plain = mlp([4, 8, 8, 1], seed=3)
    dropped = mlp([4, 8, 8, 1], dropout=0.3, seed=3)
    assert _types(dropped) == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense"]
    assert dropped[2].p == 0.3
    for pa, pb in zip(plain.parameters(), dropped.parameters()):
        np.testing.assert_array_equal(pa.value, pb.value)
    x = np.ones((10, 8), np.float32)
    dropped[2].forward(x), dropped[5].forward(x)
    assert not np.array_equal(dropped[2].mask, dropped[5].mask)  # one Generator per layer


def test_dropout_switches_off_in_predict():
    model = mlp([4, 8, 1], dropout=0.5, seed=0)
    x = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(model.predict(x), model.predict(x))


def test_batchnorm_between_dense_and_activation():
    model = mlp([4, 8, 8, 1], batchnorm=True)
    assert _types(model) == ["Dense", "BatchNorm1d", "ReLU", "Dense", "BatchNorm1d", "ReLU",
                             "Dense"]
    assert model[0].b is None and model[3].b is None  # BN's β does the bias's job
    assert model[6].b is not None
    out = model.forward(np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32))
    assert out.shape == (16, 1) and out.dtype == np.float32


def test_float64_model():
    model = mlp([3, 4, 4, 2], activation="prelu", batchnorm=True, dtype=np.float64)
    for p in model.parameters():
        assert p.value.dtype == p.grad.dtype == np.float64
    assert model.forward(np.ones((5, 3))).dtype == np.float64


def test_mlp_matches_the_same_torch_model(rng):
    """The same weights in torch.nn: forward output and every parameter gradient agree."""
    model = mlp([3, 5, 4, 2], activation="tanh", dtype=np.float64, seed=0)
    x, g = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    out = model.forward(x)
    model.backward(g)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4),
                                 torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    dense = [m for m in model if isinstance(m, Dense)]
    linear = [m for m in tmodel if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for d, lin in zip(dense, linear):
            lin.weight.copy_(torch.tensor(d.W.value))
            lin.bias.copy_(torch.tensor(d.b.value))
    outt = tmodel(torch.tensor(x))
    (outt * torch.tensor(g)).sum().backward()
    assert rel_error(out, outt.detach().numpy()) <= 1e-6
    for d, lin in zip(dense, linear):
        assert rel_error(d.W.grad, lin.weight.grad.numpy()) <= 1e-6
        assert rel_error(d.b.grad, lin.bias.grad.numpy()) <= 1e-6


def test_mlp_learns_xor():
    """A 2-8-1 tanh network with BCE and plain gradient descent separates XOR, which no linear
    model can (question A10): accuracy 1 and loss below 0.05 after 1000 full-batch steps."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    model, loss = mlp([2, 8, 1], activation="tanh", seed=0), BCEWithLogits()
    for _ in range(1000):
        model.zero_grad()
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        for p in model.parameters():
            p.value -= 0.5 * p.grad
    assert loss.accuracy(model.forward(x), y) == 1.0
    assert value < 0.05


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [[2], [], [2, 0, 1], [2, 3.5, 1], "2,3,1", [2, True]])
def test_bad_sizes(sizes):
    with pytest.raises(ConfigError) as e:
        mlp(sizes)
    assert "mlp: sizes" in str(e.value) and repr(sizes) in str(e.value)


def test_activation_list_of_wrong_length():
    with pytest.raises(ConfigError) as e:
        mlp([2, 4, 4, 1], activation=["relu"])
    assert "2 for sizes [2, 4, 4, 1]" in str(e.value) and "got 1" in str(e.value)


@pytest.mark.parametrize("p", [1.0, -0.1, 2])
def test_bad_dropout(p):
    with pytest.raises(ConfigError) as e:
        mlp([2, 4, 1], dropout=p)
    assert "mlp: dropout" in str(e.value) and repr(p) in str(e.value)


def test_unknown_activation():
    with pytest.raises(UnknownNameError) as e:
        mlp([2, 4, 1], activation="relu7")
    assert "'relu7'" in str(e.value)


def test_layers_are_fresh_objects():
    """A shared activation instance would overwrite its forward cache; each layer has its own."""
    model = mlp([2, 4, 4, 1])
    assert model[1] is not model[3]
    assert isinstance(model[1], ReLU) and not isinstance(model[1], Dropout)
