"""Saving and loading models: exact round trips, and a clear ModelFileError for every bad file."""

import json
import zipfile

import numpy as np
import pytest

from whynet.errors import ModelFileError
from whynet.nn import (BatchNorm1d, Conv1d, Dense, Flatten, LastStep, MaxPool1d, Module, ReLU,
                       RNN, Sequential, mlp)
from whynet.nn.activations import GELU, PReLU
from whynet.nn.io import LAYERS, load, save
from whynet.train import fit


def _trained(model, X, y, epochs=2):
    """A few training steps, so weights, PReLU α and running statistics differ from a fresh
    model's and a loader that ignored the file would be caught."""
    fit(model, X, y, loss="softmax_ce", optimizer="adam", lr=0.01, epochs=epochs, batch_size=16)
    return model


def _xy(shape=(64, 6), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape).astype(np.float32), rng.integers(0, classes, size=shape[0])


def _assert_same(a: Sequential, b: Sequential, X):
    assert [type(m) for m in a.modules()] == [type(m) for m in b.modules()]
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and pa.value.dtype == pb.value.dtype and np.array_equal(pa.value, pb.value)
        assert pb.grad.shape == pb.value.shape and pb.grad.dtype == pb.value.dtype
    assert np.array_equal(a.predict(X), b.predict(X))


def test_round_trip_mlp_with_prelu_gelu_batchnorm_dropout(tmp_path):
    X, y = _xy()
    model = Sequential(Dense(6, 16, rng=0), BatchNorm1d(16), PReLU(num_parameters=16),
                       Dense(16, 8, init="he_normal", rng=1), GELU(approximate="tanh"),
                       mlp([8, 8, 3], dropout=0.3, seed=2))
    _trained(model, X, y)
    npz, js = save(model, tmp_path / "net")
    assert npz.name == "net.npz" and js.name == "net.json"
    loaded = load(tmp_path / "net")
    _assert_same(model, loaded, X)
    bn = loaded.layers[1]
    assert np.array_equal(bn.running_mean, model.layers[1].running_mean)
    assert not np.allclose(bn.running_var, 1.0)  # training moved them, and they came back
    assert loaded.layers[4].get_config() == {"approximate": "tanh"}


def test_round_trip_float64_and_suffixes(tmp_path):
    X, y = _xy()
    model = mlp([6, 5, 3], activation="tanh", seed=1, dtype=np.float64)
    save(model, tmp_path / "m.npz")  # a suffix is dropped: m.npz + m.json
    assert (tmp_path / "m.json").is_file()
    loaded = load(tmp_path / "m.json")
    assert loaded.dtype == np.float64
    _assert_same(model, loaded, X.astype(np.float64))
    spec = json.loads((tmp_path / "m.json").read_text())
    assert spec["dtype"] == "float64" and spec["format"] == "whynet-model"
    assert [layer["class"] for layer in spec["layers"]] == ["Dense", "Tanh", "Dense"]


def test_round_trip_conv_and_rnn(tmp_path):
    X, y = _xy((32, 2, 12))
    cnn = Sequential(Conv1d(2, 4, 3, padding=1, rng=0), ReLU(), MaxPool1d(2), Flatten(),
                     Dense(24, 3, rng=1))
    _trained(cnn, X, y, epochs=1)
    save(cnn, tmp_path / "cnn")
    _assert_same(cnn, load(tmp_path / "cnn"), X)
    Xs = X.transpose(0, 2, 1).copy()  # (m, T=12, n=2)
    rnn = Sequential(RNN(2, 5, rng=0), LastStep(), Dense(5, 3, rng=1))
    _trained(rnn, Xs, y, epochs=1)
    save(rnn, tmp_path / "rnn")
    _assert_same(rnn, load(tmp_path / "rnn"), Xs)


def test_a_single_layer_is_saved_as_a_sequential(tmp_path):
    layer = Dense(3, 2, rng=0)
    save(layer, tmp_path / "one")
    loaded = load(tmp_path / "one")
    assert isinstance(loaded, Sequential) and len(loaded) == 1
    assert np.array_equal(loaded.layers[0].W.value, layer.W.value)


def test_layers_registry_is_explicit_and_complete():
    for name in ("Sequential", "Dense", "Dropout", "Flatten", "Maxout", "ReLU", "Tanh", "PReLU",
                 "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Conv1d", "Conv2d", "MaxPool2d",
                 "RNN", "LastStep"):
        assert name in LAYERS, name
    assert all(LAYERS[name].__name__ == name for name in LAYERS)


# -- errors -------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    model = mlp([4, 3, 2], seed=0)
    save(model, tmp_path / "m")
    return tmp_path / "m"


def _edit_json(path, fn):
    js = path.with_name(path.name + ".json")
    spec = json.loads(js.read_text())
    fn(spec)
    js.write_text(json.dumps(spec))


def _rewrite_npz(path, arrays):
    with open(path.with_name(path.name + ".npz"), "wb") as f:
        np.savez(f, **arrays)


def _arrays(path):
    with np.load(path.with_name(path.name + ".npz")) as z:
        return dict(z)


def test_missing_files(tmp_path, saved):
    with pytest.raises(ModelFileError, match=r"load: file .*nothing\.json does not exist"):
        load(tmp_path / "nothing")
    (tmp_path / "m.npz").unlink()
    with pytest.raises(ModelFileError, match=r"load: file .*m\.npz does not exist"):
        load(saved)


def test_bad_json(saved):
    (saved.parent / "m.json").write_text("{not json")
    with pytest.raises(ModelFileError, match=r"m\.json: not valid JSON"):
        load(saved)
    (saved.parent / "m.json").write_text('{"hello": 1}')
    with pytest.raises(ModelFileError, match=r"m\.json: not a whynet model file"):
        load(saved)


def test_newer_format_version(saved):
    _edit_json(saved, lambda s: s.update(format_version=99))
    with pytest.raises(ModelFileError, match=r"format_version 99 is not supported"):
        load(saved)


def test_unknown_layer_class(saved):
    _edit_json(saved, lambda s: s["layers"][1].update({"class": "Swoosh"}))
    with pytest.raises(ModelFileError, match=r"m\.json: layer 1 has unknown class 'Swoosh'; "
                                             r"known: .*Dense"):
        load(saved)


def test_bad_layer_config(saved):
    _edit_json(saved, lambda s: s["layers"][0]["config"].update(n_out=-3))
    with pytest.raises(ModelFileError, match=r"cannot build layer 0 \(Dense\) from config"):
        load(saved)
    _edit_json(saved, lambda s: s["layers"][0]["config"].update(n_out=3, colour="red"))
    with pytest.raises(ModelFileError, match=r"layer 0 \(Dense\).*colour"):
        load(saved)


def test_missing_array(saved):
    arrays = _arrays(saved)
    del arrays["2.b"]
    _rewrite_npz(saved, arrays)
    with pytest.raises(ModelFileError, match=r"m\.npz: layer 2 \(Dense\) needs array '2\.b' of "
                                             r"shape \(2,\), which is missing"):
        load(saved)


def test_mis_shaped_array(saved):
    arrays = _arrays(saved)
    arrays["0.W"] = np.zeros((3, 5), np.float32)
    _rewrite_npz(saved, arrays)
    with pytest.raises(ModelFileError, match=r"m\.npz: layer 0 \(Dense\) array '0\.W' has shape "
                                             r"\(3, 5\), expected \(3, 4\)"):
        load(saved)


def test_architecture_and_arrays_disagree(saved):
    """A .json for a deeper model next to this .npz: extra arrays are reported too."""
    arrays = _arrays(saved)
    arrays["5.W"] = np.zeros(3, np.float32)
    _rewrite_npz(saved, arrays)
    with pytest.raises(ModelFileError, match=r"arrays 5\.W belong to no parameter"):
        load(saved)


def test_pickled_object_arrays_are_refused(saved):
    arrays = _arrays(saved)
    arrays["0.W"] = np.array([{"evil": 1}] * 12, dtype=object).reshape(3, 4)
    _rewrite_npz(saved, arrays)
    with pytest.raises(ModelFileError, match=r"'0\.W'.*cannot be read without pickle"):
        load(saved)


def test_corrupt_npz(saved):
    (saved.parent / "m.npz").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ModelFileError, match=r"m\.npz: not a readable \.npz file"):
        load(saved)
    assert not zipfile.is_zipfile(saved.parent / "m.npz")


def test_saving_an_unknown_layer_class_fails_early(tmp_path):
    class Custom(Module):
        def forward(self, x):
            return x

    with pytest.raises(ModelFileError, match=r"save: layer 1 is a Custom, which load\(\) would "
                                             r"not know"):
        save(Sequential(Dense(2, 2), Custom()), tmp_path / "c")
    assert not (tmp_path / "c.npz").exists()


def test_non_json_config_fails_at_save(tmp_path):
    layer = Dense(2, 2)
    layer.get_config = lambda: {"n_in": 2, "n_out": 2, "init": np.zeros}
    with pytest.raises(ModelFileError, match=r"c\.json is not JSON-serialisable"):
        save(Sequential(layer), tmp_path / "c")


def test_an_rnn_saved_before_the_two_bias_form_still_loads(tmp_path):
    import json as _json

    from whynet.nn import RNN, Sequential
    from whynet.nn import io as nn_io

    model = Sequential(RNN(3, 5, rng=0, biases=1))
    model[0].b.value[...] = 0.3  # a bias the file must carry back
    nn_io.save(model, tmp_path / "old")
    spec_path = tmp_path / "old.json"
    spec = _json.loads(spec_path.read_text())
    del spec["layers"][0]["config"]["biases"]  # what a file from whynet before the change holds
    spec_path.write_text(_json.dumps(spec))
    loaded = nn_io.load(tmp_path / "old")
    x = np.random.default_rng(0).standard_normal((4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
