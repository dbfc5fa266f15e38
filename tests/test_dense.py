"""Dense: values and gradients against PyTorch autograd and finite differences, dtypes, shapes,
configuration and errors."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whynet.errors import ConfigError, ShapeError, UnknownNameError
from whynet.gradcheck import check_module, rel_error
from whynet.nn import Dense, Sequential
from whynet.nn.init import normal

torch = pytest.importorskip("torch")


def _torch_dense(layer, x, g):
    """Z = X Wᵀ + b in torch float64 and the grads of Σ Z ⊙ G."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.W.value, requires_grad=True)
    z = xt @ wt.T
    bt = None
    if layer.b is not None:
        bt = torch.tensor(layer.b.value, requires_grad=True)
        z = z + bt
    (z * torch.tensor(g)).sum().backward()
    return z.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), \
        None if bt is None else bt.grad.numpy()


@pytest.mark.parametrize("bias", [True, False])
def test_dense_matches_torch_autograd_float64(rng, bias):
    # A non-zero bias, so a wrong broadcast of b would show in the output and in db.
    layer = Dense(5, 3, bias=bias, bias_init=normal(1.0), rng=1, dtype=np.float64)
    x = rng.normal(size=(4, 5))
    g = rng.normal(size=(4, 3))
    z = layer.forward(x)
    dx = layer.backward(g)
    zt, dxt, dwt, dbt = _torch_dense(layer, x, g)
    assert rel_error(z, zt) <= 1e-6
    assert rel_error(dx, dxt) <= 1e-6
    assert rel_error(layer.W.grad, dwt) <= 1e-6
    if bias:
        assert rel_error(layer.b.grad, dbt) <= 1e-6


def test_dense_matches_finite_differences(rng):
    layer = Dense(4, 3, bias_init=normal(1.0), rng=2, dtype=np.float64)
    errors = check_module(layer, rng.normal(size=(5, 4)))
    assert set(errors) == {"x", "W", "b"}
    # A correct float64 backward agrees with centred differences to ~1e-10 (gradcheck docstring).
    assert max(errors.values()) < 1e-7, errors


def test_dW_has_the_shape_of_W_question_R5(rng):
    """dW = dZᵀX is (n_out, n_in), the shape of W, for a non-square layer (question R5)."""
    layer = Dense(7, 2, rng=0)
    layer.forward(rng.normal(size=(11, 7)).astype(np.float32))
    dx = layer.backward(np.ones((11, 2), np.float32))
    assert layer.W.value.shape == (2, 7)
    assert layer.W.grad.shape == layer.W.value.shape
    assert layer.b.grad.shape == layer.b.value.shape == (2,)
    assert dx.shape == (11, 7)


def test_float32_in_float32_out_and_grads(rng):
    layer = Dense(6, 4, rng=0)
    x = rng.normal(size=(3, 6)).astype(np.float32)
    z = layer.forward(x)
    dx = layer.backward(np.ones_like(z))
    assert z.dtype == dx.dtype == np.float32
    assert layer.W.value.dtype == layer.W.grad.dtype == np.float32
    assert layer.b.value.dtype == layer.b.grad.dtype == np.float32


def test_float64_input_into_float32_layer_gives_float32(rng):
    """The layer's dtype wins: a float64 batch does not silently promote the whole network."""
    layer = Dense(3, 2, rng=0)
    x = rng.normal(size=(4, 3))
    z = layer.forward(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, x.astype(np.float32) @ layer.W.value.T, rtol=1e-6)
    layer.backward(np.ones((4, 2), np.float32))
    assert layer.W.grad.dtype == np.float32


def test_bias_false_has_only_W_and_is_linear(rng):
    layer = Dense(3, 2, bias=False, rng=0, dtype=np.float64)
    assert [name for name, _ in layer.named_parameters()] == ["W"]
    assert layer.num_parameters() == 6
    assert layer.b is None
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(layer.forward(x), x @ layer.W.value.T, rtol=1e-12)
    assert "bias=False" in repr(layer)


def test_backward_accumulates_into_grad(rng):
    """The contract: backward adds to Parameter.grad; two calls give twice one call's grads."""
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x)
    layer.backward(g)
    once = layer.W.grad.copy(), layer.b.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.W.grad, 2 * once[0], rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad, 2 * once[1], rtol=1e-12)


def test_batch_of_one(rng):
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    x = rng.normal(size=(1, 3))
    g = rng.normal(size=(1, 2))
    layer.forward(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.W.grad, np.outer(g[0], x[0]), rtol=1e-12)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = Dense(8, 4, rng=3), Dense(8, 4, rng=3), Dense(8, 4, rng=4)
    np.testing.assert_array_equal(a.W.value, b.W.value)
    assert not np.array_equal(a.W.value, c.W.value)


def test_default_init_is_xavier_uniform_bounded():
    layer = Dense(300, 200, rng=0)
    bound = np.sqrt(6 / (300 + 200))
    assert np.abs(layer.W.value).max() <= bound
    assert np.abs(layer.W.value).max() > 0.99 * bound  # 60 000 draws reach the edge
    np.testing.assert_array_equal(layer.b.value, 0)


def test_get_config_round_trips_through_json():
    layer = Dense(5, 3, init="he_normal", bias=False, rng=0, nonlinearity="leaky_relu", a=0.2)
    config = json.loads(json.dumps(layer.get_config()))
    assert config == {"n_in": 5, "n_out": 3, "bias": False, "init": "he_normal",
                      "nonlinearity": "leaky_relu", "a": 0.2, "bias_init": "zeros"}
    rebuilt = Dense(**config, rng=0)
    np.testing.assert_array_equal(rebuilt.W.value, layer.W.value)


def test_get_config_with_a_callable_init_names_the_default():
    layer = Dense(2, 2, init=normal(0.01), rng=0)
    assert layer.get_config()["init"] == "xavier_uniform"
    json.dumps(layer.get_config())


# -- property tests ------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 9), n_in=st.integers(1, 9), n_out=st.integers(1, 9),
       seed=st.integers(0, 2**16), a=st.floats(-3, 3), c=st.floats(-3, 3))
def test_dense_shapes_dtypes_and_linearity(m, n_in, n_out, seed, a, c):
    """Z has shape (m, n_out) and the layer's dtype, and X ↦ Z − b is linear:
    f(aX + cY) − b = a(f(X) − b) + c(f(Y) − b)."""
    r = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, bias_init=normal(1.0), rng=seed, dtype=np.float64)
    x, y = r.normal(size=(m, n_in)), r.normal(size=(m, n_in))
    b = layer.b.value
    fx, fy = layer.forward(x) - b, layer.forward(y) - b
    combined = layer.forward(a * x + c * y) - b
    assert combined.shape == (m, n_out) and combined.dtype == np.float64
    np.testing.assert_allclose(combined, a * fx + c * fy, rtol=1e-9, atol=1e-9)
    dx = layer.backward(np.ones((m, n_out)))
    assert dx.shape == (m, n_in)
    assert layer.W.grad.shape == (n_out, n_in)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 6), n_in=st.integers(1, 6), wrong=st.integers(1, 6))
def test_dense_rejects_every_wrong_width(m, n_in, wrong):
    layer = Dense(n_in, 2, rng=0)
    width = n_in + wrong
    with pytest.raises(ShapeError) as e:
        layer.forward(np.zeros((m, width), np.float32))
    assert f"(m, {n_in})" in str(e.value) and f"({m}, {width})" in str(e.value)


# -- errors --------------------------------------------------------------------------------------
def test_wrong_input_width_names_layer_expected_and_given():
    with pytest.raises(ShapeError) as e:
        Dense(784, 128).forward(np.zeros((32, 785), np.float32))
    msg = str(e.value)
    assert "Dense(784 → 128)" in msg and "(m, 784)" in msg and "(32, 785)" in msg


def test_wrong_rank_names_layer_and_given_shape():
    with pytest.raises(ShapeError) as e:
        Dense(4, 2).forward(np.zeros((3, 2, 2), np.float32))
    assert "Dense(4 → 2)" in str(e.value) and "rank 2" in str(e.value)
    assert "(3, 2, 2)" in str(e.value)


@pytest.mark.parametrize("arg,kwargs", [("n_in", {"n_in": 0, "n_out": 3}),
                                        ("n_out", {"n_in": 3, "n_out": -1}),
                                        ("n_in", {"n_in": 2.5, "n_out": 3}),
                                        ("n_in", {"n_in": True, "n_out": 3})])
def test_bad_sizes_raise_config_error_naming_argument_and_value(arg, kwargs):
    with pytest.raises(ConfigError) as e:
        Dense(**kwargs)
    assert f"Dense: {arg}" in str(e.value) and repr(kwargs[arg]) in str(e.value)


def test_unknown_initialiser_names_it_and_lists_known():
    with pytest.raises(UnknownNameError) as e:
        Dense(3, 2, init="he_norml")
    assert "'he_norml'" in str(e.value) and "he_normal" in str(e.value)


def test_unsupported_dtype_raises():
    with pytest.raises(ConfigError) as e:
        Dense(3, 2, dtype=np.float16)
    assert "float16" in str(e.value)


def test_dense_in_sequential_names_parameters():
    model = Sequential(Dense(2, 3, rng=0), Dense(3, 1, rng=1))
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "1.W", "1.b"]


def test_backward_params_skips_the_first_layers_dx_only(rng):
    """A training step needs no gradient for the data (PyTorch: the input has no
    requires_grad): Sequential.backward_params gives the same parameter gradients as backward,
    returns None, and its hooks see dx=None for the first module only."""
    from whynet.nn import ReLU, Sequential
    x = rng.normal(size=(5, 4))
    g = rng.normal(size=(5, 2))
    grads, seen = [], []
    for method in ("backward", "backward_params"):
        model = Sequential(Dense(4, 3, rng=0, dtype=np.float64), ReLU(),
                           Dense(3, 2, rng=1, dtype=np.float64))
        model.forward(x)
        handle = model.register_backward_hook(lambda m, i, dout, dx: seen.append((i, dx is None)))
        result = getattr(model, method)(g)
        handle.remove()
        assert (result is None) == (method == "backward_params")
        grads.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    assert seen[3:] == [(2, False), (1, False), (0, True)]
