"""Conv1d, Conv2d and the pools: values and gradients against PyTorch autograd (float64) and
finite differences over shapes, strides and paddings; fans; dtypes; errors; persistence."""

import json
import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from whynet.errors import ConfigError, ShapeError, UnknownNameError
from whynet.gradcheck import check_module, rel_error
from whynet.nn import (AvgPool1d, AvgPool2d, Conv1d, Conv2d, Dense, Flatten, GlobalAvgPool,
                       MaxPool1d, MaxPool2d, ReLU, Sequential)
from whynet.nn import io as nn_io
from whynet.nn.init import compute_fans

TOL = 1e-6  # the bar for agreement with PyTorch autograd in float64
FD_TOL = 1e-7  # centred differences in float64 (h = 1e-6)


def _torch_conv(layer):
    nd = len(layer.kernel_size)
    cls = torch.nn.Conv1d if nd == 1 else torch.nn.Conv2d
    t = cls(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
            padding=layer.padding, bias=layer.b is not None).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(layer.W.value))
        if layer.b is not None:
            t.bias.copy_(torch.from_numpy(layer.b.value))
    return t


def _check_against_torch(layer, tfn, x, rng, params=()):
    """Relative errors of out and dx (and of the named grads vs the torch tensors given)."""
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    layer.zero_grad()
    dx = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tout = tfn(tx)
    assert out.shape == tuple(tout.shape)
    tout.backward(torch.from_numpy(g))
    errors = {"out": rel_error(out, tout.detach().numpy()), "dx": rel_error(dx, tx.grad.numpy())}
    for name, tensor in params:
        errors[name] = rel_error(layer._params[name].grad, tensor.grad.numpy())
    return errors


CONV2D_CASES = [
    # (C_in, C_out, kernel, stride, padding, bias, input H×W)
    (3, 4, 3, 1, 1, True, (7, 6)),
    (2, 5, (2, 3), (2, 1), (0, 2), True, (8, 9)),
    (1, 2, 5, 3, 2, False, (5, 5)),
    (4, 3, 1, 1, 0, True, (4, 4)),
    (2, 2, 3, 2, 0, True, (3, 3)),      # one output pixel
    (3, 6, (3, 1), (1, 3), (1, 0), False, (6, 10)),
    (2, 3, 4, 4, 3, True, (5, 7)),      # padding ≥ kernel/2, windows of pure padding
]


@pytest.mark.parametrize("c_in,c_out,k,s,p,bias,hw", CONV2D_CASES)
def test_conv2d_matches_torch(c_in, c_out, k, s, p, bias, hw, rng):
    layer = Conv2d(c_in, c_out, k, stride=s, padding=p, bias=bias, rng=1, dtype=np.float64)
    if bias:
        layer.b.value[...] = rng.normal(size=c_out)
    t = _torch_conv(layer)
    params = [("W", t.weight)] + ([("b", t.bias)] if bias else [])
    errors = _check_against_torch(layer, t, rng.normal(size=(3, c_in) + hw), rng, params)
    assert max(errors.values()) <= TOL, errors


CONV1D_CASES = [(1, 4, 5, 1, 2, True, 40), (3, 2, 3, 2, 0, True, 11), (2, 3, 4, 3, 1, False, 9),
                (2, 2, 7, 1, 3, True, 7)]


@pytest.mark.parametrize("c_in,c_out,k,s,p,bias,length", CONV1D_CASES)
def test_conv1d_matches_torch(c_in, c_out, k, s, p, bias, length, rng):
    layer = Conv1d(c_in, c_out, k, stride=s, padding=p, bias=bias, rng=2, dtype=np.float64)
    if bias:
        layer.b.value[...] = rng.normal(size=c_out)
    t = _torch_conv(layer)
    params = [("W", t.weight)] + ([("b", t.bias)] if bias else [])
    errors = _check_against_torch(layer, t, rng.normal(size=(4, c_in, length)), rng, params)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("layer,shape", [
    (Conv2d(2, 3, 3, stride=2, padding=1, rng=3), (2, 2, 5, 4)),
    (Conv2d(1, 2, (2, 3), padding=(1, 0), rng=4), (2, 1, 3, 4)),
    (Conv1d(2, 3, 3, stride=2, padding=1, rng=5), (3, 2, 7)),
])
def test_conv_finite_differences(layer, shape, rng):
    layer.astype(np.float64)
    layer.b.value[...] = rng.normal(size=layer.b.shape)
    errors = check_module(layer, rng.normal(size=shape), rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) <= FD_TOL, errors


POOL_CASES = [
    # (whynet class, torch function, kernel, stride, padding, input shape)
    (MaxPool2d, F.max_pool2d, 2, None, 0, (2, 3, 6, 6)),
    (MaxPool2d, F.max_pool2d, 3, 2, 1, (2, 3, 7, 8)),
    (MaxPool2d, F.max_pool2d, (2, 3), (1, 2), (1, 1), (1, 2, 5, 6)),
    (MaxPool2d, F.max_pool2d, 2, None, 0, (1, 1, 5, 5)),   # odd size: last row/column dropped
    (AvgPool2d, F.avg_pool2d, 2, None, 0, (2, 3, 6, 6)),
    (AvgPool2d, F.avg_pool2d, 3, 2, 1, (2, 3, 7, 8)),
    (MaxPool1d, F.max_pool1d, 2, None, 0, (2, 3, 9)),
    (MaxPool1d, F.max_pool1d, 3, 1, 1, (2, 2, 8)),
    (AvgPool1d, F.avg_pool1d, 4, 2, 2, (2, 3, 10)),
]


@pytest.mark.parametrize("cls,tfn,k,s,p,shape", POOL_CASES)
def test_pools_match_torch(cls, tfn, k, s, p, shape, rng):
    layer = cls(k, stride=s, padding=p)

    def reference(t):
        return tfn(t, k, stride=s, padding=p)

    errors = _check_against_torch(layer, reference, rng.normal(size=shape), rng)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("layer,shape", [(MaxPool2d(2), (2, 2, 4, 4)),
                                         (MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
                                         (AvgPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
                                         (MaxPool1d(3, stride=2), (2, 2, 7)),
                                         (GlobalAvgPool(), (2, 3, 4, 5))])
def test_pools_finite_differences(layer, shape, rng):
    # Continuous random inputs have no ties, so max pooling is differentiable at them.
    errors = check_module(layer.astype(np.float64), rng.normal(size=shape), rng)
    assert errors["x"] <= FD_TOL, errors


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_as_torch():
    x = np.zeros((1, 1, 4, 4))
    layer = MaxPool2d(2)
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1  # the top-left of each window
    np.testing.assert_array_equal(dx[0, 0], expected)
    tx = torch.tensor(x, requires_grad=True)
    F.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(dx, tx.grad.numpy())


def test_overlapping_max_pool_accumulates_into_a_shared_winner():
    """With stride 1 one large input wins every window it is in, and gets all their gradients."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0
    layer = MaxPool2d(2, stride=1)
    np.testing.assert_array_equal(layer.forward(x), np.full((1, 1, 2, 2), 5.0))
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert dx[0, 0, 1, 1] == 10.0 and dx.sum() == 10.0


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 7)])
def test_global_avg_pool_matches_torch(shape, rng):
    errors = _check_against_torch(GlobalAvgPool(), lambda t: t.mean(dim=tuple(range(2, t.ndim))),
                                  rng.normal(size=shape), rng)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("shape", [(16, 3, 3, 3), (8, 4, 5), (32, 16, 3, 3), (4, 2, 1, 7)])
def test_fans_equal_torch(shape):
    assert compute_fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_default_init_is_kaiming_uniform_with_conv_fans():
    layer = Conv2d(16, 64, 3, rng=0)  # fan_in = 16·3·3 = 144
    bound = math.sqrt(6 / 144)
    w = layer.W.value
    assert w.shape == (64, 16, 3, 3)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    np.testing.assert_array_equal(layer.b.value, 0)


def test_pytorch_default_init_by_name():
    """PyTorch's own default, Kaiming uniform with a = √5, is U(±1/√fan_in)."""
    layer = Conv1d(4, 32, 5, init="he_uniform", nonlinearity="leaky_relu", a=math.sqrt(5), rng=0)
    bound = 1 / math.sqrt(4 * 5)
    assert bound * 0.98 < np.abs(layer.W.value).max() <= bound


def test_same_seed_same_weights_and_different_seed_different_weights():
    a, b, c = Conv2d(2, 3, 3, rng=7), Conv2d(2, 3, 3, rng=7), Conv2d(2, 3, 3, rng=8)
    np.testing.assert_array_equal(a.W.value, b.W.value)
    assert not np.array_equal(a.W.value, c.W.value)


@pytest.mark.parametrize("layer,shape", [(Conv2d(3, 4, 3, padding=1), (2, 3, 5, 5)),
                                         (Conv1d(2, 3, 3), (2, 2, 6)),
                                         (MaxPool2d(2), (2, 3, 4, 4)),
                                         (AvgPool1d(2), (2, 3, 4)),
                                         (GlobalAvgPool(), (2, 3, 4, 4))])
def test_float32_in_float32_out(layer, shape, rng):
    x = rng.normal(size=shape).astype(np.float32)
    x_copy = x.copy()
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert dx.shape == x.shape
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    np.testing.assert_array_equal(x, x_copy)  # the caller's array is never modified


def test_conv_casts_a_float64_input_to_its_dtype(rng):
    out = Conv2d(1, 2, 3).forward(rng.normal(size=(1, 1, 4, 4)))
    assert out.dtype == np.float32


def test_backward_accumulates_parameter_gradients(rng):
    layer = Conv2d(2, 2, 3, padding=1, dtype=np.float64)
    x, g = rng.normal(size=(2, 2, 4, 4)), rng.normal(size=(2, 2, 4, 4))
    layer.forward(x)
    layer.backward(g)
    once = layer.W.grad.copy()
    layer.forward(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.W.grad, 2 * once, rtol=1e-14)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2))
def test_output_length_follows_the_formula(size, k, s, p):
    """L_out = ⌊(L + 2p − k)/s⌋ + 1 whenever the kernel fits in the padded input; else an error."""
    layer = Conv1d(1, 1, k, stride=s, padding=p)
    x = np.zeros((1, 1, size), np.float32)
    if size + 2 * p < k:
        with pytest.raises(ShapeError, match="larger than the padded input"):
            layer.forward(x)
    else:
        assert layer.forward(x).shape == (1, 1, (size + 2 * p - k) // s + 1)


def test_errors_name_the_layer_and_the_shapes():
    conv = Conv2d(3, 16, 3, padding=1)
    with pytest.raises(ShapeError, match=r"Conv2d\(3 → 16, kernel 3×3, padding 1×1\): expected "
                                         r"input of shape \(m, 3, H, W\) \(3 channels\), got "
                                         r"\(8, 4, 28, 28\) \(4 channels\)"):
        conv.forward(np.zeros((8, 4, 28, 28), np.float32))
    with pytest.raises(ShapeError, match=r"Conv2d\(3 → 16.*\): expected input of rank 4, "
                                         r"\(m, C, H, W\), got \(3, 28, 28\)"):
        conv.forward(np.zeros((3, 28, 28), np.float32))
    with pytest.raises(ShapeError, match=r"Conv2d\(3 → 8, kernel 5×5, padding 1×1\): kernel 5×5 "
                                         r"is larger than the padded input 4×6 \(input "
                                         r"\(2, 3, 2, 4\), padding 1×1\)"):
        Conv2d(3, 8, 5, padding=1).forward(np.zeros((2, 3, 2, 4), np.float32))
    with pytest.raises(ShapeError, match=r"Conv1d\(1 → 4, kernel 5\): expected input of rank 3, "
                                         r"\(m, C, L\), got \(8, 40\)"):
        Conv1d(1, 4, 5).forward(np.zeros((8, 40), np.float32))
    with pytest.raises(ShapeError, match=r"MaxPool2d\(kernel 3×3\): kernel 3×3 is larger than "
                                         r"the padded input 2×2"):
        MaxPool2d(3).forward(np.zeros((1, 1, 2, 2), np.float32))
    with pytest.raises(ShapeError, match=r"GlobalAvgPool\(\): expected input of rank 3 or 4"):
        GlobalAvgPool().forward(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("make,error,match", [
    (lambda: Conv2d(0, 4, 3), ConfigError, "Conv2d: in_channels must be an integer ≥ 1, got 0"),
    (lambda: Conv2d(1, 4, 0), ConfigError, "Conv2d: kernel_size must be an integer ≥ 1, got 0"),
    (lambda: Conv2d(1, 4, (3, 3, 3)), ConfigError, "kernel_size must be an int or 2 ints"),
    (lambda: Conv1d(1, 4, 3, stride=0), ConfigError, "Conv1d: stride must be an integer ≥ 1"),
    (lambda: Conv1d(1, 4, 3, padding=-1), ConfigError, "padding must be an integer ≥ 0"),
    (lambda: MaxPool2d(2, padding=2), ConfigError, "padding must be at most half the kernel"),
    (lambda: Conv2d(1, 4, 3, init="nope"), UnknownNameError, "unknown initialiser 'nope'"),
])
def test_bad_configuration_raises(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_get_config_rebuilds_the_same_layer(rng):
    layer = Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, bias=False, init="he_normal",
                   nonlinearity="leaky_relu", a=0.1, rng=4)
    config = layer.get_config()
    json.dumps(config)
    again = Conv2d(**config, rng=4)
    np.testing.assert_array_equal(again.W.value, layer.W.value)  # same init, same seed
    assert again.get_config() == config
    assert again.b is None and again.stride == (2, 1)
    assert MaxPool2d(**MaxPool2d(3, 2, 1).get_config()).get_config() == \
        {"kernel_size": [3, 3], "stride": [2, 2], "padding": [1, 1]}


def test_save_and_load_a_cnn(tmp_path, rng):
    model = Sequential(Conv2d(1, 4, 3, padding=1, rng=1), ReLU(), MaxPool2d(2),
                       Conv2d(4, 4, 3, rng=2), AvgPool2d(2, stride=1), GlobalAvgPool(),
                       Dense(4, 3, rng=3))
    nn_io.save(model, tmp_path / "cnn")
    loaded = nn_io.load(tmp_path / "cnn")
    x = rng.normal(size=(5, 1, 10, 10)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    model1d = Sequential(Conv1d(1, 2, 5, stride=2, rng=0), MaxPool1d(2), AvgPool1d(2), Flatten())
    nn_io.save(model1d, tmp_path / "cnn1d")
    x1 = rng.normal(size=(3, 1, 40)).astype(np.float32)
    np.testing.assert_array_equal(nn_io.load(tmp_path / "cnn1d").predict(x1), model1d.predict(x1))


def test_repr_shows_the_shape_of_the_layer():
    assert repr(Conv2d(3, 16, 3, padding=1)) == "Conv2d(3 → 16, kernel 3×3, padding 1×1)"
    assert repr(Conv1d(1, 8, 5, stride=2, bias=False)) == \
        "Conv1d(1 → 8, kernel 5, stride 2, bias=False)"
    assert repr(MaxPool2d(3, stride=2)) == "MaxPool2d(kernel 3×3, stride 2×2)"


@pytest.mark.parametrize("keep_bytes", [None, 0], ids=["kept", "rebuilt"])
@pytest.mark.parametrize("layer_args,shape", [((Conv2d, 3, 4, 3, 2, 1), (5, 3, 7, 6)),
                                              ((Conv1d, 2, 3, 4, 1, 2), (5, 2, 9)),
                                              ((Conv2d, 3, 4, 3, 1, 1), (5, 3, 7, 6))])
def test_chunked_batches_match_torch(layer_args, shape, keep_bytes, rng):
    """A batch cut into chunks (2 + 2 + 1 images here) gives PyTorch's values and gradients,
    with the columns kept from forward or (``keep_bytes=0``) rebuilt chunk by chunk."""
    cls, c_in, c_out, k, s, p = layer_args
    layer = cls(c_in, c_out, k, stride=s, padding=p, rng=1, dtype=np.float64)
    layer.b.value[...] = rng.normal(size=c_out)
    out_len = math.prod((n + 2 * p - k) // s + 1 for n in shape[2:])
    layer.engine.chunk_bytes = 2 * c_in * k ** (len(shape) - 2) * out_len * 8
    if keep_bytes is not None:
        layer.engine.keep_bytes = keep_bytes
    t = _torch_conv(layer)
    errors = _check_against_torch(layer, t, rng.normal(size=shape), rng,
                                  [("W", t.weight), ("b", t.bias)])
    assert layer.engine._chunk == 2
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("c_in,c_out,k,s,p,bias,hw", CONV2D_CASES)
def test_conv2d_reference_path_matches_torch(c_in, c_out, k, s, p, bias, hw, rng):
    """The readable im2col (conv_forward / conv_backward) is itself right, not only the fast
    path: PyTorch's values and gradients in float64."""
    layer = Conv2d(c_in, c_out, k, stride=s, padding=p, bias=bias, rng=1, dtype=np.float64,
                   impl="reference")
    if bias:
        layer.b.value[...] = rng.normal(size=c_out)
    t = _torch_conv(layer)
    params = [("W", t.weight)] + ([("b", t.bias)] if bias else [])
    errors = _check_against_torch(layer, t, rng.normal(size=(3, c_in) + hw), rng, params)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("cls,c_in,c_out,k,s,p,shape,chunk_bytes", [
    (Conv2d, 3, 5, 3, 1, 1, (7, 3, 9, 8), None),        # stride 1: shifted flat slices
    (Conv2d, 3, 5, 3, 1, 1, (7, 3, 9, 8), 2000),        # … in chunks of the batch
    (Conv2d, 2, 4, (3, 2), (2, 1), (1, 0), (5, 2, 9, 7), None),   # strided windows
    (Conv2d, 2, 4, (3, 2), (2, 1), (1, 0), (5, 2, 9, 7), 500),
    (Conv1d, 2, 3, 5, 1, 2, (6, 2, 30), 600),
    (Conv1d, 2, 3, 4, 3, 1, (6, 2, 30), None)])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_fast_and_reference_paths_agree(cls, c_in, c_out, k, s, p, shape, chunk_bytes, dtype,
                                        tol, rng):
    """Same weights, same data: out, dx, dW and db of the ConvEngine equal the plain im2col's
    to round-off (they sum in different orders), in both dtypes, chunked or not."""
    x = rng.normal(size=shape).astype(dtype)
    results = []
    for impl in ("reference", "fast"):
        layer = cls(c_in, c_out, k, stride=s, padding=p, rng=3, dtype=dtype, impl=impl)
        layer.b.value[...] = np.arange(c_out, dtype=dtype)
        if chunk_bytes:
            layer.engine.chunk_bytes = chunk_bytes
        out = layer.forward(x)
        g = np.cos(np.arange(out.size, dtype=dtype)).reshape(out.shape)
        dx = layer.backward(g)
        results.append((out, dx, layer.W.grad, layer.b.grad))
        assert out.dtype == dx.dtype == layer.W.grad.dtype == dtype
    if chunk_bytes:
        assert layer.engine._chunk < shape[0]  # the chunked path really ran
    for name, ref, fast in zip(("out", "dx", "dW", "db"), *results):
        assert rel_error(fast, ref) <= tol, name


def test_reused_buffers_give_fresh_results(rng):
    """The engine reuses its buffers from call to call (kept columns, a zeroed dZ grid whose
    border is never written): batches of changing sizes, chunked or not, each after an
    evaluation pass on a larger batch, still give the reference's values and gradients."""
    fast = Conv2d(3, 4, 3, padding=1, rng=2, dtype=np.float64)
    ref = Conv2d(3, 4, 3, padding=1, rng=2, dtype=np.float64, impl="reference")
    fast.engine.chunk_bytes = 3 * 9 * 36 * 8 * 2  # two 6×6 images per chunk
    for m in (5, 2, 5, 1):
        x = rng.normal(size=(m, 3, 6, 6))
        g = rng.normal(size=(m, 4, 6, 6))
        results = []
        for layer in (ref, fast):
            layer.eval()
            layer.forward(rng.normal(size=(7, 3, 6, 6)))
            layer.train()
            layer.zero_grad()
            out = layer.forward(x)
            results.append((out, layer.backward(g), layer.W.grad.copy(), layer.b.grad.copy()))
        for name, want, got in zip(("out", "dx", "dW", "db"), *results):
            assert rel_error(got, want) <= 1e-12, (m, name)


@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_backward_params_skips_dx_but_not_the_parameter_gradients(impl, rng):
    x = rng.normal(size=(4, 2, 6, 6))
    grads = []
    for method in ("backward", "backward_params"):
        layer = Conv2d(2, 3, 3, padding=1, rng=0, dtype=np.float64, impl=impl)
        out = layer.forward(x)
        dx = getattr(layer, method)(np.ones_like(out))
        grads.append((layer.W.grad, layer.b.grad))
        assert (dx is None) == (method == "backward_params")
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_impl_is_checked_and_switchable(rng):
    with pytest.raises(ConfigError, match="impl must be one of"):
        Conv2d(1, 2, 3, impl="fft")
    layer = Conv2d(1, 2, 3, rng=0, dtype=np.float64)
    x = rng.normal(size=(2, 1, 5, 5))
    fast = layer.forward(x)
    layer.impl = "reference"
    np.testing.assert_allclose(layer.forward(x), fast, rtol=1e-12, atol=1e-12)


def test_a_copied_layer_gets_its_own_engine(rng):
    import copy
    import pickle
    layer = Conv2d(1, 2, 3, padding=1, rng=0)
    x = rng.normal(size=(3, 1, 5, 5)).astype(np.float32)
    out = layer.forward(x)
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert twin.engine is not layer.engine
        np.testing.assert_array_equal(twin.forward(x), out)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="sharing needs two cores")
@pytest.mark.parametrize("winograd", ["never", "always"])
def test_only_layers_with_enough_work_share_their_chunks_among_threads(winograd, rng,
                                                                        monkeypatch):
    """Below ``min_shared_macs`` multiply-adds of its products the calling thread runs every
    chunk, BLAS single-threaded (as on one thread); from it on the chunks are shared. Same values
    either way."""
    x, g = rng.normal(size=(8, 8, 10, 10)), rng.normal(size=(8, 4, 10, 10))
    # m · C_out · C_in · (kernel area · outputs, or 16 · 2×2 tiles) per image
    macs = 8 * 4 * 8 * (16 * 5 * 5 if winograd == "always" else 9 * 10 * 10)
    results = []
    for threshold, shared in ((macs + 1, False), (macs, True)):
        layer = Conv2d(8, 4, 3, padding=1, rng=0, dtype=np.float64)
        engine = layer.engine
        engine.winograd, engine.chunk_bytes, engine.min_shared_macs = winograd, 2**14, threshold
        handed, blas_one = [], []
        real_map, real_single = engine._threads.map, engine._threads.single_threaded_blas
        monkeypatch.setattr(engine._threads, "map",
                            lambda fn, items: handed.append(len(items)) or real_map(fn, items))
        monkeypatch.setattr(engine._threads, "single_threaded_blas",
                            lambda: blas_one.append(1) or real_single())
        with threadpool_limits(2):
            out = layer.forward(x)
            dx = layer.backward(g)
        assert engine._winograd_call == (winograd == "always")
        assert engine._shared is shared and bool(handed) is shared, (threshold, handed)
        assert len(blas_one) == 2  # each pass's products on one BLAS thread, shared or not
        results.append((out, dx, layer.W.grad, layer.b.grad))
    for want, got in zip(*results):
        assert rel_error(got, want) <= 1e-12


def test_the_sharing_threshold_is_checked_and_copied():
    import copy
    import pickle
    layer = Conv2d(1, 2, 3, padding=1, rng=0)
    layer.engine.min_shared_macs = 123
    assert copy.deepcopy(layer).engine.min_shared_macs == 123
    assert pickle.loads(pickle.dumps(layer)).engine.min_shared_macs == 123
    for bad in (-1, 1.5, "many", None):
        with pytest.raises(ConfigError, match="min_shared_macs"):
            layer.engine.min_shared_macs = bad


def test_max_pool_with_many_ties_matches_torch(rng):
    """Integer inputs in {0, 1, 2} tie in most windows; overlapping 3×3 windows with padding
    still send each gradient to the same input PyTorch picks."""
    x = rng.integers(0, 3, size=(2, 3, 9, 8)).astype(np.float64)
    layer = MaxPool2d(3, stride=2, padding=1)
    errors = _check_against_torch(layer, lambda t: F.max_pool2d(t, 3, stride=2, padding=1), x,
                                  rng)
    assert errors == {"out": 0.0, "dx": 0.0}


def test_batch_of_one_and_of_zero(rng):
    conv = Conv2d(2, 3, 3, padding=1, dtype=np.float64)
    assert conv.forward(rng.normal(size=(1, 2, 4, 4))).shape == (1, 3, 4, 4)
    assert conv.backward(np.ones((1, 3, 4, 4))).shape == (1, 2, 4, 4)
    assert conv.forward(np.zeros((0, 2, 4, 4))).shape == (0, 3, 4, 4)
