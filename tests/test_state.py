"""PyTorch-style state: buffers, state_dict, load_state_dict, and the whynet ↔ torch converter
(issue 11, item 3), with BatchNorm's cumulative average (momentum=None) against PyTorch's."""

import numpy as np
import pytest

from whynet.errors import StateDictError
from whynet.nn import (RNN, BatchNorm1d, BatchNorm2d, Conv2d, Dense, Flatten, LastStep,
                       LayerNorm, Maxout, ReLU, Sequential, mlp)
from whynet.nn.activations import PReLU
from whynet.nn.losses import SoftmaxCrossEntropy
from whynet.nn.torch_state import from_torch, to_torch, torch_keys
from whynet.optim import SGD
from whynet.train import EarlyStopping, Trainer, fit

torch = pytest.importorskip("torch")
nn = torch.nn
F64 = np.float64


def _bn_model(dtype=F64):
    return Sequential(Dense(3, 4, rng=0, dtype=dtype), BatchNorm1d(4, dtype=dtype), ReLU(),
                      Sequential(Dense(4, 2, rng=1, dtype=dtype)))


# -- the Module API ----------------------------------------------------------------------------

def test_state_dict_names_and_order_follow_pytorch():
    model = _bn_model()
    assert list(model.state_dict()) == [
        "0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "3.0.W", "3.0.b"]
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var",
                                                      "1.num_batches_tracked"]
    assert model.buffers()[2].dtype == np.int64 and model.buffers()[2].shape == ()
    assert [n for n, _ in model[1].named_parameters(recurse=False)] == ["gamma", "beta"]
    assert list(model.named_buffers(recurse=False)) == []


def test_state_dict_is_live_unless_copied_and_load_is_in_place():
    model = _bn_model()
    live, snap = model.state_dict(), model.state_dict(copy=True)
    W = model[0].W.value
    W += 1.0
    assert np.array_equal(live["0.W"], W) and not np.array_equal(snap["0.W"], W)
    opt = SGD(model.parameters(), lr=0.1)
    model.load_state_dict(snap)
    assert model[0].W.value is W and np.array_equal(W, snap["0.W"])  # same array: opt tracks it
    assert opt.params[0].value is W


def test_load_state_dict_round_trip_restores_a_trained_model():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    model = _bn_model()
    snap = model.state_dict(copy=True)
    before = model.predict(X)
    fit(model, X, y, loss="softmax_ce", epochs=2, batch_size=8)
    assert int(model[1].num_batches_tracked) == 10
    assert not np.allclose(model.predict(X), before)
    model.load_state_dict(snap)
    assert np.array_equal(model.predict(X), before) and int(model[1].num_batches_tracked) == 0


def test_strict_false_reports_and_loads_what_fits():
    model = mlp([2, 3, 2], seed=0)
    other = mlp([2, 3, 2], seed=1)
    keys = model.load_state_dict({"0.W": other[0].W.value, "7.x": np.zeros(1)}, strict=False)
    assert keys.missing_keys == ["0.b", "2.W", "2.b"] and keys.unexpected_keys == ["7.x"]
    assert np.array_equal(model[0].W.value, other[0].W.value)
    with pytest.raises(StateDictError, match=r"size mismatch for '0\.W'"):
        model.load_state_dict({"0.W": np.zeros((9, 9))}, strict=False)  # as PyTorch: always


def test_astype_keeps_the_batch_count_an_integer():
    model = _bn_model(np.float32).astype(np.float64)
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64


def test_early_stopping_restores_buffers_through_state_dict():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.integers(0, 2, size=64)
    model = _bn_model()
    es = EarlyStopping(monitor="loss", patience=1, restore_best=True)
    fit(model, X, y, loss="softmax_ce", epochs=4, batch_size=8, callbacks=[es],
        optimizer="sgd", lr=0.0)  # lr 0: the loss never improves after epoch 1
    assert es.best_epoch == 1
    assert int(model[1].num_batches_tracked) == 8  # epoch 1's 8 batches, not 16


# -- the torch converter -----------------------------------------------------------------------

def _pairs():
    """(whynet model, torch model of the same layers, input) for every convertible layer."""
    rng = np.random.default_rng(0)
    yield (Sequential(Dense(5, 4, rng=0, dtype=F64), PReLU(num_parameters=4, dtype=F64),
                      LayerNorm(4, dtype=F64), Dense(4, 3, rng=1, dtype=F64)),
           nn.Sequential(nn.Linear(5, 4), nn.PReLU(4), nn.LayerNorm(4), nn.Linear(4, 3)),
           rng.normal(size=(6, 5)))
    yield (Sequential(Conv2d(2, 3, 3, padding=1, rng=0, dtype=F64), BatchNorm2d(3, dtype=F64),
                      ReLU(), Flatten(), Dense(3 * 5 * 5, 2, rng=1, dtype=F64)),
           nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(75, 2)),
           rng.normal(size=(4, 2, 5, 5)))
    yield (Sequential(Dense(5, 4, rng=0, dtype=F64), BatchNorm1d(4, dtype=F64), ReLU()),
           nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU()),
           rng.normal(size=(6, 5)))


def _randomise(model, seed):
    rng = np.random.default_rng(seed)
    for name, value in model.state_dict().items():
        if value.dtype.kind == "f":
            value[...] = rng.uniform(0.5, 1.5, size=value.shape) if "var" in name \
                else rng.normal(size=value.shape)
        else:
            value[...] = 7


@pytest.mark.parametrize("index", [0, 1, 2])
def test_whynet_to_torch_and_back_gives_the_same_function(index):
    wn, tn, x = list(_pairs())[index]
    _randomise(wn, index)  # running statistics too: both modes must agree
    tn = tn.double()
    tn.load_state_dict(to_torch(wn))
    back = list(_pairs())[index][0]
    from_torch(back, tn.state_dict())
    for k, v in wn.state_dict().items():
        assert np.array_equal(back.state_dict()[k], v), k
    for training in (False, True):  # eval first: a training pass moves the running statistics
        wn.train(training)
        tn.train(training)
        out = wn.forward(x.copy())
        tout = tn(torch.from_numpy(x)).detach().numpy()
        assert np.allclose(out, tout, rtol=1e-10, atol=1e-12)


def test_torch_to_whynet_from_a_torch_initialised_model():
    wn, tn, x = list(_pairs())[1]
    tn = tn.double()
    with torch.no_grad():
        tn[1].running_mean.uniform_(-1, 1)
        tn[1].running_var.uniform_(0.5, 2)
    tn.eval()
    from_torch(wn, tn.state_dict())
    assert np.allclose(wn.predict(x), tn(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


def test_single_bias_rnn_is_the_sum_of_torchs_two_biases():
    rnn = RNN(3, 4, rng=0, dtype=F64)
    assert torch_keys(rnn) == {"W_xh": ["weight_ih_l0"], "W_hh": ["weight_hh_l0"],
                               "b": ["bias_ih_l0", "bias_hh_l0"]}
    t = nn.RNN(3, 4, batch_first=True).double()  # torch draws both biases at random
    from_torch(rnn, t.state_dict())
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    assert np.allclose(rnn.forward(x), t(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-10)
    exported = to_torch(rnn)
    assert np.array_equal(exported["bias_ih_l0"].numpy(), rnn.b.value)
    assert not exported["bias_hh_l0"].numpy().any()
    # and inside a model (torch's RNN returns a tuple, so only the keys are compared there)
    keys = list(to_torch(Sequential(RNN(3, 4), LastStep(), Dense(4, 2)), tensors=False))
    assert keys == ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0",
                    "2.weight", "2.bias"]


def test_what_cannot_be_converted_is_named():
    with pytest.raises(StateDictError, match=r"layer 1 \(Maxout\) has state 'W' with no PyTorch "
                                             r"counterpart"):
        to_torch(Sequential(Dense(2, 3), Maxout(3, 2)))
    wn = mlp([2, 3, 2], seed=0)
    t = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 5))
    with pytest.raises(StateDictError, match=r"size mismatch for '2\.W'"):
        from_torch(wn, t.state_dict())
    with pytest.raises(StateDictError, match=r"missing key\(s\): '2\.weight', '2\.bias'; "
                                             r"unexpected key\(s\): '1\.weight'"):
        from_torch(wn, {"0.weight": torch.zeros(3, 2), "0.bias": torch.zeros(3),
                        "1.weight": torch.zeros(1)})


# -- BatchNorm momentum=None: PyTorch's cumulative moving average --------------------------------

def test_batchnorm_cumulative_average_trajectory_matches_torch():
    """30 SGD steps on the same minibatches: per-step losses, running statistics, the batch
    count and the evaluation output agree with torch.nn.BatchNorm1d(momentum=None)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(96, 5)), rng.integers(0, 3, size=96)
    wn = Sequential(Dense(5, 8, rng=0, dtype=F64), BatchNorm1d(8, momentum=None, dtype=F64),
                    ReLU(), Dense(8, 3, rng=1, dtype=F64))
    tn = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8, momentum=None), nn.ReLU(),
                       nn.Linear(8, 3)).double()
    tn.load_state_dict(to_torch(wn))
    trainer = Trainer(wn, SoftmaxCrossEntropy(), SGD(wn.parameters(), lr=0.1, momentum=0.9))
    topt = torch.optim.SGD(tn.parameters(), lr=0.1, momentum=0.9)
    batch_means = []
    for step in range(30):
        idx = rng.choice(96, size=16, replace=False)
        batch_means.append((X[idx] @ wn[0].W.value.T + wn[0].b.value).mean(axis=0))
        ours = trainer.train_step(X[idx], y[idx])
        topt.zero_grad()
        loss = nn.functional.cross_entropy(tn(torch.from_numpy(X[idx])), torch.from_numpy(y[idx]))
        loss.backward()
        topt.step()
        assert abs(ours - loss.item()) < 1e-10, step
    bn, tbn = wn[1], tn[1]
    assert int(bn.num_batches_tracked) == int(tbn.num_batches_tracked) == 30
    assert np.allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=1e-10, atol=1e-12)
    assert np.allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-10, atol=1e-12)
    # cumulative: the plain mean of every batch's mean (momentum 0.1 would weigh recent ones)
    assert np.allclose(bn.running_mean, np.mean(batch_means, axis=0), rtol=1e-10)
    tn.eval()
    assert np.allclose(wn.predict(X), tn(torch.from_numpy(X)).detach().numpy(), rtol=1e-9)


def test_batchnorm_momentum_none_is_saved_and_described(tmp_path):
    from whynet.nn.io import load, save

    layer = BatchNorm1d(3, momentum=None)
    assert repr(layer) == "BatchNorm1d(3, momentum=None)"
    layer.forward(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    save(layer, tmp_path / "bn")
    back = load(tmp_path / "bn")[0]
    assert back.momentum is None and int(back.num_batches_tracked) == 1
    assert np.array_equal(back.running_mean, layer.running_mean)
