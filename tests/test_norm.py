"""BatchNorm1d, BatchNorm2d and LayerNorm: values and gradients against PyTorch autograd (float64)
and finite differences, running statistics against PyTorch's, dtypes, errors and persistence."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from whynet.errors import ConfigError, ShapeError
from whynet.gradcheck import check_module, rel_error
from whynet.nn import BatchNorm1d, BatchNorm2d, LayerNorm, Sequential
from whynet.nn import io as nn_io
from whynet.nn.torch_state import to_torch

TOL = 1e-6  # the bar for agreement with PyTorch autograd in float64
FD_TOL = 1e-7  # centred differences in float64 (h = 1e-6) on these small layers


def _torch_bn(layer, torch_cls):
    t = torch_cls(layer.num_features, eps=layer.eps, momentum=layer.momentum).double()
    t.load_state_dict(to_torch(layer))  # γ, β, running statistics and batch count
    return t


def _compare_with_torch(layer, tlayer, x, rng):
    """Forward and backward through both; return the relative errors of out, dx, dγ, dβ."""
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    layer.zero_grad()
    dx = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tout = tlayer(tx)
    tout.backward(torch.from_numpy(g))
    return {"out": rel_error(out, tout.detach().numpy()),
            "dx": rel_error(dx, tx.grad.numpy()),
            "gamma": rel_error(layer.gamma.grad, tlayer.weight.grad.numpy()),
            "beta": rel_error(layer.beta.grad, tlayer.bias.grad.numpy())}


def _randomise_affine(layer, rng):
    layer.gamma.value[...] = rng.uniform(0.5, 2.0, size=layer.gamma.shape)
    layer.beta.value[...] = rng.normal(size=layer.beta.shape)


@pytest.mark.parametrize("shape", [(8, 5), (2, 3), (4, 3, 7), (16, 1)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm1d_matches_torch(shape, training, rng):
    layer = BatchNorm1d(shape[1], dtype=np.float64)
    _randomise_affine(layer, rng)
    layer.running_mean[...] = rng.normal(size=shape[1])
    layer.running_var[...] = rng.uniform(0.5, 2.0, size=shape[1])
    tlayer = _torch_bn(layer, torch.nn.BatchNorm1d)
    layer.train(training)
    tlayer.train(training)
    x = rng.normal(2.0, 3.0, size=shape)
    errors = _compare_with_torch(layer, tlayer, x, rng)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 2, 3, 3), (2, 4, 1, 1)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_matches_torch(shape, training, rng):
    layer = BatchNorm2d(shape[1], eps=1e-3, momentum=0.3, dtype=np.float64)
    _randomise_affine(layer, rng)
    layer.running_mean[...] = rng.normal(size=shape[1])
    layer.running_var[...] = rng.uniform(0.5, 2.0, size=shape[1])
    tlayer = _torch_bn(layer, torch.nn.BatchNorm2d)
    layer.train(training)
    tlayer.train(training)
    x = rng.normal(-1.0, 2.0, size=shape)
    errors = _compare_with_torch(layer, tlayer, x, rng)
    assert max(errors.values()) <= TOL, errors
    # Training also moved the running statistics exactly as PyTorch's.
    assert rel_error(layer.running_mean, tlayer.running_mean.numpy()) <= 1e-12
    assert rel_error(layer.running_var, tlayer.running_var.numpy()) <= 1e-12


@pytest.mark.parametrize("cls,shape", [(BatchNorm1d, (6, 4)), (BatchNorm1d, (3, 2, 5)),
                                       (BatchNorm2d, (3, 2, 4, 3))])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_finite_differences(cls, shape, training, rng):
    layer = cls(shape[1], dtype=np.float64)
    _randomise_affine(layer, rng)
    layer.running_mean[...] = rng.normal(size=shape[1])
    layer.train(training)
    errors = check_module(layer, rng.normal(size=shape), rng)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) <= FD_TOL, errors


def test_running_statistics_equal_torch_after_50_steps(rng):
    """50 training steps (forward, backward, SGD on γ and β) on batches whose mean and spread drift:
    the running mean and (unbiased) variance equal PyTorch's, and so do the eval-mode outputs."""
    layer = BatchNorm2d(3, dtype=np.float64)
    tlayer = _torch_bn(layer, torch.nn.BatchNorm2d)
    topt = torch.optim.SGD(tlayer.parameters(), lr=0.1)
    for step in range(50):
        x = rng.normal(0.1 * step, 1 + 0.05 * step, size=(5, 3, 4, 4))
        g = rng.normal(size=x.shape)
        layer.zero_grad()
        layer.forward(x)
        layer.backward(g)
        for p in layer.parameters():
            p.value -= 0.1 * p.grad
        topt.zero_grad()
        tlayer(torch.from_numpy(x)).backward(torch.from_numpy(g))
        topt.step()
    assert rel_error(layer.running_mean, tlayer.running_mean.numpy()) <= 1e-12
    assert rel_error(layer.running_var, tlayer.running_var.numpy()) <= 1e-12
    # After 50 steps the running mean has moved most of the way to the recent batch means (~4).
    assert layer.running_mean.mean() > 3.0
    layer.eval()
    tlayer.eval()
    x = rng.normal(2.0, 2.0, size=(7, 3, 4, 4))
    assert rel_error(layer.forward(x), tlayer(torch.from_numpy(x)).detach().numpy()) <= 1e-12


def test_momentum_is_the_weight_of_the_new_batch():
    """From running_mean = 0 and running_var = 1, one batch with per-feature mean μ and biased
    variance σ² gives 0.1·μ and 0.9 + 0.1·σ²·N/(N−1) (PyTorch's convention, not Keras')."""
    x = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 16.0], [6.0, 16.0]])  # μ = (3, 13), σ² = (5, 9)
    layer = BatchNorm1d(2, dtype=np.float64)
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, [0.3, 1.3], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [0.9 + 0.1 * 5 * 4 / 3, 0.9 + 0.1 * 9 * 4 / 3],
                               rtol=1e-15)


def test_training_output_is_standardised_per_channel(rng):
    x = rng.normal(5.0, 3.0, size=(6, 4, 5, 5))
    out = BatchNorm2d(4, dtype=np.float64).forward(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    # Biased variance is what is normalised: var = σ²/(σ² + ε), just under 1.
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-12)


def test_gamma_and_beta_can_undo_the_normalisation(rng):
    """Question B1: γ = √(σ² + ε) and β = μ give back the input exactly."""
    x = rng.normal(3.0, 2.0, size=(32, 4))
    layer = BatchNorm1d(4, dtype=np.float64)
    layer.gamma.value[...] = np.sqrt(x.var(axis=0) + layer.eps)
    layer.beta.value[...] = x.mean(axis=0)
    np.testing.assert_allclose(layer.forward(x), x, rtol=1e-12, atol=1e-12)


def test_eval_mode_uses_running_statistics_and_allows_a_single_example(rng):
    layer = BatchNorm1d(3, dtype=np.float64)
    layer.running_mean[...] = [1.0, 2.0, 3.0]
    layer.running_var[...] = [4.0, 1.0, 0.25]
    layer.eval()
    out = layer.forward(np.array([[3.0, 2.0, 2.0]]))
    np.testing.assert_allclose(out, [[2 / np.sqrt(4 + 1e-5), 0.0, -1 / np.sqrt(0.25 + 1e-5)]])
    before = layer.running_mean.copy()
    layer.forward(rng.normal(size=(5, 3)))
    np.testing.assert_array_equal(layer.running_mean, before)  # eval never updates them


@pytest.mark.parametrize("cls,shape", [(BatchNorm1d, (8, 3)), (BatchNorm2d, (4, 3, 5, 5)),
                                       (LayerNorm, (4, 3))])
def test_float32_in_float32_out(cls, shape, rng):
    layer = cls(shape[1] if cls is not LayerNorm else shape[-1])
    x = rng.normal(size=shape).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    for name, buf in layer.named_buffers():
        # The batch counter is int64 as PyTorch's; the running statistics keep the layer's dtype.
        assert buf.dtype == (np.int64 if name == "num_batches_tracked" else np.float32)
    # A float64 input to a float32 layer is cast, not promoted.
    assert layer.forward(x.astype(np.float64)).dtype == np.float32


def test_astype_converts_running_statistics():
    layer = BatchNorm2d(3).astype(np.float64)
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float64
    assert layer.gamma.value.dtype == np.float64


def test_gamma_and_beta_are_not_regularised():
    for layer in (BatchNorm1d(2), BatchNorm2d(2), LayerNorm(2)):
        assert [(p.name, p.regularize) for p in layer.parameters()] == [("gamma", False),
                                                                        ("beta", False)]


@pytest.mark.parametrize("normalized_shape,shape", [(5, (4, 5)), ((3, 4), (2, 3, 4)),
                                                    (6, (2, 3, 6)), (4, (1, 4))])
def test_layernorm_matches_torch(normalized_shape, shape, rng):
    layer = LayerNorm(normalized_shape, dtype=np.float64)
    _randomise_affine(layer, rng)
    tlayer = torch.nn.LayerNorm(normalized_shape).double()
    with torch.no_grad():
        tlayer.weight.copy_(torch.from_numpy(layer.gamma.value))
        tlayer.bias.copy_(torch.from_numpy(layer.beta.value))
    errors = _compare_with_torch(layer, tlayer, rng.normal(1.0, 2.0, size=shape), rng)
    assert max(errors.values()) <= TOL, errors


def test_layernorm_finite_differences(rng):
    layer = LayerNorm((3, 4), dtype=np.float64)
    _randomise_affine(layer, rng)
    errors = check_module(layer, rng.normal(size=(2, 3, 4)), rng)
    assert max(errors.values()) <= FD_TOL, errors


@settings(max_examples=25, deadline=None)
@given(m=st.integers(2, 6), c=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_batchnorm2d_shape_and_centring_property(m, c, h, w, seed):
    x = np.random.default_rng(seed).normal(3.0, 2.0, size=(m, c, h, w))
    layer = BatchNorm2d(c, dtype=np.float64)
    out = layer.forward(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    dx = layer.backward(np.ones_like(out))
    # A constant upstream gradient is absorbed by β: the normalised output's mean is fixed.
    np.testing.assert_allclose(dx, 0, atol=1e-10)
    np.testing.assert_allclose(layer.beta.grad, m * h * w)


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(16\): expected input of shape "
                                         r"\(m, 16, H, W\), got \(8, 3, 28, 28\)"):
        BatchNorm2d(16).forward(np.zeros((8, 3, 28, 28), np.float32))
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3\): expected input of rank 4, "
                                         r"got shape \(8, 3\)"):
        BatchNorm2d(3).forward(np.zeros((8, 3), np.float32))
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(4\): expected input of shape \(m, 4\), "
                                         r"got \(8, 5\)"):
        BatchNorm1d(4).forward(np.zeros((8, 5), np.float32))
    with pytest.raises(ShapeError, match=r"more than 1 value per channel.*\(1, 4\)"):
        BatchNorm1d(4).forward(np.zeros((1, 4), np.float32))
    with pytest.raises(ShapeError, match=r"LayerNorm\(5\): expected input of shape "
                                         r"\(m, …, 5\), got \(2, 4\)"):
        LayerNorm(5).forward(np.zeros((2, 4), np.float32))
    with pytest.raises(ShapeError, match=r"LayerNorm\(\(2, 3\)\): expected input of shape "
                                         r"\(m, …, 2, 3\), got \(2, 3\)"):
        LayerNorm((2, 3)).forward(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("kwargs,match", [({"num_features": 0}, "num_features"),
                                          ({"num_features": 3, "momentum": 1.5}, "momentum"),
                                          ({"num_features": 3, "eps": 0.0}, "eps"),
                                          ({"num_features": 3, "dtype": np.int32}, "dtype")])
def test_bad_hyperparameters_raise_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        BatchNorm1d(**kwargs)


def test_save_and_load_keep_running_statistics(tmp_path, rng):
    model = Sequential(BatchNorm1d(3, momentum=0.2, dtype=np.float64),
                       LayerNorm(3, eps=1e-4, dtype=np.float64))
    for _ in range(3):
        model.forward(rng.normal(2.0, 1.0, size=(10, 3)))
    model[0].gamma.value[...] = [1.5, 0.5, 2.0]
    json.dumps([m.get_config() for m in model.layers])  # plain JSON, no NumPy types
    nn_io.save(model, tmp_path / "net")
    loaded = nn_io.load(tmp_path / "net")
    assert [type(m) for m in loaded.layers] == [BatchNorm1d, LayerNorm]
    assert loaded[0].momentum == 0.2 and loaded[1].eps == 1e-4
    np.testing.assert_array_equal(loaded[0].running_mean, model[0].running_mean)
    np.testing.assert_array_equal(loaded[0].running_var, model[0].running_var)
    x = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_save_and_load_batchnorm2d_in_float32(tmp_path, rng):
    model = Sequential(BatchNorm2d(2))
    model.forward(rng.normal(1.0, 3.0, size=(4, 2, 3, 3)).astype(np.float32))
    nn_io.save(model, tmp_path / "bn2d")
    loaded = nn_io.load(tmp_path / "bn2d")
    assert loaded[0].running_var.dtype == np.float32
    np.testing.assert_array_equal(loaded[0].running_var, model[0].running_var)
    assert loaded[0].get_config() == {"num_features": 2, "eps": 1e-5, "momentum": 0.1}
