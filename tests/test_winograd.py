"""Winograd's F(2×2, 3×3) path of the 2-D convolution (:mod:`whynet.nn.winograd`): values and
gradients against PyTorch autograd (float64), finite differences, the im2col reference in both
dtypes (chunked, V kept or rebuilt, one or two threads), which layers "auto" sends there, and a
whole CNN with a Winograd layer following PyTorch's loss curve."""

import copy
import pickle

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from whynet.errors import ConfigError
from whynet.gradcheck import check_module, rel_error
from whynet.nn import Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential, SoftmaxCrossEntropy
from whynet.nn import winograd
from whynet.optim import SGD
from whynet.train import Trainer

TOL = 1e-6  # the bar for agreement with PyTorch autograd in float64


def _layer(c_in, c_out, padding=1, bias=True, dtype=np.float64, mode="always", rng=1):
    layer = Conv2d(c_in, c_out, 3, padding=padding, bias=bias, rng=rng, dtype=dtype)
    layer.engine.winograd = mode
    return layer


def _torch(layer):
    t = torch.nn.Conv2d(layer.in_channels, layer.out_channels, 3, padding=layer.padding,
                        bias=layer.b is not None).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(layer.W.value))
        if layer.b is not None:
            t.bias.copy_(torch.from_numpy(layer.b.value))
    return t


# (C_in, C_out, padding, bias, input H×W): even and odd outputs, no padding and wide padding
CASES = [(3, 4, 1, True, (6, 8)), (2, 5, 1, True, (7, 5)), (4, 3, 0, False, (7, 9)),
         (3, 2, 2, True, (3, 4)), (16, 8, 1, True, (5, 6)), (2, 3, 0, True, (3, 3)),
         (3, 2, (1, 0), True, (5, 6)), (2, 2, (0, 2), False, (6, 3))]


@pytest.mark.parametrize("c_in,c_out,p,bias,hw", CASES)
def test_winograd_matches_torch(c_in, c_out, p, bias, hw, rng):
    layer = _layer(c_in, c_out, p, bias)
    if bias:
        layer.b.value[...] = rng.normal(size=c_out)
    t = _torch(layer)
    x = rng.normal(size=(3, c_in) + hw)
    out = layer.forward(x)
    assert layer.engine._winograd_call  # the Winograd path really ran
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tout = t(tx)
    tout.backward(torch.from_numpy(g))
    errors = {"out": rel_error(out, tout.detach().numpy()), "dx": rel_error(dx, tx.grad.numpy()),
              "W": rel_error(layer.W.grad, t.weight.grad.numpy())}
    if bias:
        errors["b"] = rel_error(layer.b.grad, t.bias.grad.numpy())
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("shape,padding", [((2, 2, 5, 4), 1), ((2, 3, 6, 5), 0)])
def test_winograd_finite_differences(shape, padding, rng):
    layer = _layer(shape[1], 3, padding)
    layer.b.value[...] = rng.normal(size=3)
    errors = check_module(layer, rng.normal(size=shape), rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) <= 1e-7, errors


def _both(x, g, c_out, padding, dtype, configure=lambda layer: None, need_dx=True):
    """out, dx, dW and db of the im2col engine and of Winograd's, same weights and data."""
    results = []
    for mode in ("never", "always"):
        layer = _layer(x.shape[1], c_out, padding, dtype=dtype, mode=mode, rng=3)
        layer.b.value[...] = np.arange(c_out, dtype=dtype)
        configure(layer)
        out = layer.forward(x)
        assert layer.engine._winograd_call == (mode == "always")
        dx = layer.backward(g) if need_dx else layer.backward_params(g)
        results.append((out, dx, layer.W.grad, layer.b.grad))
    return results


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("shape,padding,chunk_bytes,keep_bytes", [
    ((7, 3, 9, 8), 1, None, None),          # odd output width: through the padded grid
    ((7, 3, 10, 10), 1, 4000, None),        # in chunks of the batch
    ((7, 3, 10, 10), 1, 4000, 0),           # … V rebuilt in backward from the kept input
    ((5, 4, 11, 7), 0, 3000, 0),
    ((4, 16, 12, 12), 2, None, None)])
def test_winograd_agrees_with_im2col(shape, padding, chunk_bytes, keep_bytes, dtype, tol, rng):
    x = rng.normal(size=shape).astype(dtype)
    out_hw = tuple(n + 2 * padding - 2 for n in shape[2:])
    g = np.cos(np.arange(shape[0] * 5 * np.prod(out_hw))).reshape(
        (shape[0], 5) + out_hw).astype(dtype)

    def configure(layer):
        if chunk_bytes:
            layer.engine.chunk_bytes = chunk_bytes
        if keep_bytes is not None:
            layer.engine.keep_bytes = keep_bytes

    (ref, fast) = _both(x, g, 5, padding, dtype, configure)
    for name, want, got in zip(("out", "dx", "dW", "db"), ref, fast):
        assert got.dtype == dtype
        assert rel_error(got, want) <= tol, name


def test_winograd_chunks_and_rebuild_really_ran(rng):
    layer = _layer(3, 4, dtype=np.float64)
    layer.engine.chunk_bytes, layer.engine.keep_bytes = 4000, 0
    layer.forward(rng.normal(size=(7, 3, 10, 10)))
    plan, _ = layer.engine._winograd
    assert plan.chunk < 7 and not layer.engine._cols_kept


def test_backward_params_gives_the_same_parameter_gradients(rng):
    x, g = rng.normal(size=(3, 4, 6, 6)), rng.normal(size=(3, 2, 6, 6))
    grads = []
    for method in ("backward", "backward_params"):
        layer = _layer(4, 2)
        layer.forward(x)
        dx = getattr(layer, method)(g)
        assert (dx is None) == (method == "backward_params")
        grads.append((layer.W.grad, layer.b.grad))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_reused_buffers_give_fresh_results(rng):
    """Batches of changing sizes and image sizes, chunked or not, each after an evaluation pass
    on a larger batch (the kept padded input and scratch buffers are reused), still give the
    reference's values and gradients."""
    fast = _layer(3, 4)
    ref = Conv2d(3, 4, 3, padding=1, rng=1, dtype=np.float64, impl="reference")
    fast.engine.chunk_bytes = 16 * 7 * 16 * 8 * 2  # two 6×6 images per chunk
    for m, hw in ((5, 6), (2, 6), (5, 7), (1, 6), (5, 6)):
        x = rng.normal(size=(m, 3, hw, hw))
        g = rng.normal(size=(m, 4, hw, hw))
        results = []
        for layer in (ref, fast):
            layer.eval()
            layer.forward(rng.normal(size=(7, 3, hw, hw)))
            layer.train()
            layer.zero_grad()
            out = layer.forward(x)
            results.append((out, layer.backward(g), layer.W.grad.copy(), layer.b.grad.copy()))
        for name, want, got in zip(("out", "dx", "dW", "db"), *results):
            assert rel_error(got, want) <= 1e-12, (m, hw, name)


def test_two_threads_agree_and_repeat_bitwise(rng):
    """On two threads the chunks are shared (their dW sums in chunk order): the same values as
    one thread to round-off, and bitwise the same from run to run."""
    x = rng.normal(size=(8, 16, 10, 10)).astype(np.float32)
    g = rng.normal(size=(8, 8, 10, 10)).astype(np.float32)
    runs = {}
    for threads in (1, 2, 2):
        layer = _layer(16, 8, dtype=np.float32)
        layer.engine.chunk_bytes = 2**16
        layer.engine.min_shared_macs = 0  # a small layer: shared only when told to
        with threadpool_limits(threads):
            out = layer.forward(x)
            dx = layer.backward(g)
        result = (out, dx, layer.W.grad, layer.b.grad)
        if threads in runs:
            for want, got in zip(runs[threads], result):
                np.testing.assert_array_equal(got, want)
        runs[threads] = result
    for want, got in zip(runs[1], runs[2]):
        assert rel_error(got, want) <= 1e-5


def test_auto_runs_winograd_from_min_channels_on_eligible_layers_only(rng):
    def ran(layer, x):
        layer.forward(x)
        return layer.engine._winograd_call

    c = winograd.MIN_CHANNELS
    x = rng.normal(size=(2, c, 6, 6))
    assert ran(Conv2d(c, 2, 3, padding=1, rng=0, dtype=np.float64), x)
    assert not ran(Conv2d(c - 1, 2, 3, padding=1, rng=0, dtype=np.float64), x[:, 1:])
    assert not ran(Conv2d(c, 2, 3, stride=2, rng=0, dtype=np.float64), x)   # stride 2
    assert not ran(Conv2d(c, 2, 5, padding=2, rng=0, dtype=np.float64), x)  # 5×5
    never = Conv2d(c, 2, 3, padding=1, rng=0, dtype=np.float64)
    never.engine.winograd = "never"
    assert not ran(never, x)
    always = Conv2d(1, 2, 3, padding=1, rng=0, dtype=np.float64)
    always.engine.winograd = "always"
    assert ran(always, x[:, :1])
    always.stride = (2, 2)  # "always" only where F(2×2, 3×3) applies
    assert not ran(always, x[:, :1])


def test_the_mode_is_checked_and_survives_copies():
    layer = Conv2d(2, 2, 3)
    with pytest.raises(ConfigError, match="winograd must be one of .*'sometimes'"):
        layer.engine.winograd = "sometimes"
    layer.engine.winograd = "never"
    assert copy.deepcopy(layer).engine.winograd == "never"
    assert pickle.loads(pickle.dumps(layer.engine)).winograd == "never"


def test_cnn_with_a_winograd_layer_follows_torchs_loss_curve(rng):
    """Conv(1→16)-ReLU-Conv(16→16, Winograd by "auto")-ReLU-MaxPool-Dense, float64, 60 SGD
    steps from the same weights on the same batches: the same losses as PyTorch."""
    y = rng.integers(0, 3, size=48)
    X = rng.normal(0, 0.5, size=(48, 1, 8, 8))
    for i, c in enumerate(y):
        X[i, 0, 2 * c:2 * c + 3, 2:5] += 2.0
    model = Sequential(Conv2d(1, 16, 3, padding=1, rng=1), ReLU(),
                       Conv2d(16, 16, 3, padding=1, rng=2), ReLU(), MaxPool2d(2), Flatten(),
                       Dense(16 * 4 * 4, 3, rng=3)).astype(np.float64)
    nn = torch.nn
    tmodel = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(256, 3)).double()
    with torch.no_grad():
        for p, t in zip(model.parameters(), tmodel.parameters()):
            t.copy_(torch.from_numpy(p.value))
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.05,
                                                       momentum=0.9))
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=0.9)
    order = np.random.default_rng(0)
    ours, theirs = [], []
    for _ in range(60):
        idx = order.choice(len(X), size=16, replace=False)
        ours.append(trainer.train_step(X[idx], y[idx]))
        topt.zero_grad()
        loss = nn.functional.cross_entropy(tmodel(torch.from_numpy(X[idx])),
                                           torch.from_numpy(y[idx]))
        loss.backward()
        topt.step()
        theirs.append(loss.item())
    assert model[2].engine._winograd_call and not model[0].engine._winograd_call
    ours, theirs = np.array(ours), np.array(theirs)
    assert np.abs(ours - theirs).max() <= 1e-9
    assert ours[-10:].mean() < 0.7 * ours[:10].mean()  # it trained


@pytest.mark.parametrize("mode", ["never", "always"])
def test_an_empty_batch_gives_empty_outputs_and_no_gradient(mode):
    layer = _layer(16, 4, mode=mode, dtype=np.float32)
    z = layer.forward(np.zeros((0, 16, 6, 6), np.float32))
    dx = layer.backward(np.zeros(z.shape, np.float32))
    assert z.shape == (0, 4, 6, 6) and dx.shape == (0, 16, 6, 6)
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_switching_between_the_paths_keeps_each_ones_own_buffers(rng):
    """The im2col engine and Winograd's keep different padded inputs: a layer switched from
    one to the other and back between batches of one size still gives the reference's values."""
    fast = _layer(3, 4)
    ref = Conv2d(3, 4, 3, padding=1, rng=1, dtype=np.float64, impl="reference")
    for mode in ("always", "never", "always", "never"):
        fast.engine.winograd = mode
        x, g = rng.normal(size=(5, 3, 6, 6)), rng.normal(size=(5, 4, 6, 6))
        results = []
        for layer in (ref, fast):
            layer.zero_grad()
            out = layer.forward(x)
            results.append((out, layer.backward(g), layer.W.grad.copy(), layer.b.grad.copy()))
        for name, want, got in zip(("out", "dx", "dW", "db"), *results):
            assert rel_error(got, want) <= 1e-12, (mode, name)
