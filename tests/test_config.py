"""One run configuration: the four front doors (train, search, lab, estimator) build the same run,
and every setting is checked once, with errors that name the key (and the file and line)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from whynet.cli import main, train_config
from whynet.config import FIELDS, RunConfig, build, build_data, read_toml
from whynet.datasets import Splits
from whynet.errors import ConfigError, UnknownNameError
from whynet.estimator import MLPClassifier
from whynet.search import MLPObjective, load_data, search
from whynet.web.schema import LabConfig, LayerSpec
from whynet.web.session import LabSession


def _weights(model) -> list[np.ndarray]:
    return [p.value.copy() for p in model.parameters()]


def _first_step_loss(run) -> float:
    return run.fit(record_steps=True).steps[0]


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y)
                                    for x, y in zip(a, b))


# -- the same settings through every door -------------------------------------------------------

# moons, 200 points, a [2, 8, 8, 2] tanh net, Adam at lr 0.01, L2 λ = 1e-3, batches of 16, seed 3;
# split 60/20/20 and standardised, as the search's data are.
TRAIN_TOML = """[train]
data = "moons"
n = 200
val = 0.2
standardize = true
hidden = [8, 8]
activation = "tanh"
optimizer = "adam"
regularizer = "l2"
lam = 1e-3
epochs = 1
"""
TRAIN_CLI = ["--lr", "0.01", "--batch-size", "16", "--seed", "3"]


@pytest.fixture
def train_door(tmp_path, monkeypatch):
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    path = tmp_path / "run.toml"
    path.write_text(TRAIN_TOML)
    return path


def test_train_search_and_estimator_build_the_same_weights_and_first_step_loss(train_door):
    # whynet train: TOML file + command-line options (the translation the command runs)
    cfg = train_config(train_door, {"lr": 0.01, "batch_size": 16, "seed": 3})
    train_run = build(cfg)
    # whynet search: data settings + a trial's hyperparameters (width × depth for hidden)
    data = load_data("moons", n=200, val=0.2, test=0.2, standardize=True, seed=3)
    objective = MLPObjective(data, seed=3)
    params = {"width": 8, "depth": 2, "activation": "tanh", "optimizer": "adam", "lr": 0.01,
              "regularizer": "l2", "lam": 1e-3, "batch_size": 16, "epochs": 1}
    search_run = build(objective.run_config(params), Splits(data.train, data.val, data.test))
    # the estimator, on the same training set
    train = train_run.data.train
    # (scikit-learn's alpha is per batch: α = λ · batch_size)
    clf = MLPClassifier(hidden_layer_sizes=(8, 8), activation="tanh", solver="adam",
                        learning_rate_init=0.01, alpha=16e-3, batch_size=16, max_iter=1,
                        random_state=3)
    est_run = build(clf.run_config(n_samples=len(train)), data=train)

    assert np.array_equal(search_run.data.train.X, train.X)  # the same data recipe
    w = _weights(train_run.model)
    assert len(w) == 6 and _same(_weights(search_run.model), w) \
        and _same(_weights(est_run.model), w)
    first = [_first_step_loss(r) for r in (train_run, search_run, est_run)]
    assert first[0] > 0 and first == [first[0]] * 3

    # and each door's own training gives the same first epoch
    out = json.loads(CliRunner().invoke(main, ["train", "--config", str(train_door), *TRAIN_CLI,
                                               "--json"]).stdout)
    clf.fit(train.X, train.y)
    assert clf.history_.epochs["loss"][0] == out["epochs"]["loss"][0]
    assert out["used"]["lr"] == 0.01
    result = search({**params, "lr": {"choices": [0.01]}}, data=data, seed=3, n_trials=1,
                    storage=None, pruner="none", sampler="grid")
    assert result.best["value"] == pytest.approx(out["epochs"]["val_acc"][0], abs=1e-12)


def test_the_lab_and_train_build_the_same_weights_and_first_step_loss(tmp_path):
    lab = LabConfig(dataset="moons", noise=0.2, n_points=200, train_ratio=0.5,
                    features=["x1", "x2", "x1sq"], layers=[LayerSpec(units=4, activation="tanh"),
                                                           LayerSpec(units=3, activation="relu")],
                    optimizer="momentum", lr=0.1, batch_size=10, regularizer="l1",
                    reg_rate=0.01, seed=5)
    path = tmp_path / "lab.toml"
    path.write_text('data = "moons"\nnoise = 0.2\nn = 200\ntest = 0.5\n'
                    'features = ["x1", "x2", "x1^2"]\nhidden = [4, 3]\n'
                    'activation = ["tanh", "relu"]\nloss = "bce"\noptimizer = "sgd"\n'
                    'momentum = 0.9\nlr = 0.1\nbatch_size = 10\nregularizer = "l1"\n'
                    'lam = 0.01\nseed = 5\n')
    lab_run, train_run = build(lab.to_run_config()), build(train_config(path))
    assert lab_run.model.layers[0].n_in == 3  # x1, x2, x1²
    assert _same(_weights(lab_run.model), _weights(train_run.model))
    first = _first_step_loss(train_run)
    assert _first_step_loss(lab_run) == first > 0
    # The lab's live session, not only its config: the same points, weights and first step.
    live = LabSession(lab)
    fresh = build(train_config(path))
    assert np.array_equal(live.X_train, fresh.data.train.X) \
        and np.array_equal(live.y_train, fresh.data.train.y)
    assert _same(_weights(live.model), _weights(fresh.model))
    live.train(1)
    assert live.step == 1 and live.step_loss == first
    # … and the same weights after that step as train's own loop after its first step
    step_one = build(train_config(path))
    step_one.fit(callbacks=[_StopAfterFirstStep()])
    assert _same(_weights(live.model), _weights(step_one.model))


class _StopAfterFirstStep:
    def on_step_end(self, step, loss, ctx):
        ctx.stop = True


def test_a_different_seed_through_one_door_gives_different_weights_and_loss(train_door):
    """The comparison above can fail: one setting changed in one door shows."""
    a = build(train_config(train_door, {"seed": 3}))
    b = build(train_config(train_door, {"seed": 4}))
    assert not _same(_weights(a.model), _weights(b.model))
    assert _first_step_loss(a) != _first_step_loss(b)


# -- the checks, once ---------------------------------------------------------------------------

@pytest.mark.parametrize("changes, match", [
    ({"batchnorm": "no"}, "batchnorm must be true or false, got 'no'"),
    ({"epochs": 2.5}, r"epochs must be an integer ≥ 1, got 2.5"),
    ({"epochs": True}, r"epochs must be an integer ≥ 1, got True"),
    ({"hidden": [8, 0]}, r"hidden\[1\] must be an integer ≥ 1, got 0"),
    ({"hidden": "16,16"}, "hidden must be a list of layer sizes"),
    ({"lr": 0.0}, "lr must be a finite number > 0, got 0.0"),
    ({"lr": float("nan")}, "lr must be a finite number > 0"),
    ({"dropout": 1.0}, r"dropout must be a finite number in \[0, 1\), got 1.0"),
    ({"test": 0.0}, r"test must be a finite number in \(0, 1\)"),
    ({"val": 0.5, "test": 0.5}, "val \\+ test must be < 1"),
    ({"seed": -1}, "seed must be an integer ≥ 0"),
    ({"lam": 0.1}, "lam = 0.1 has no effect without a regularizer"),
    ({"optimizer": "adam", "momentum": 0.9}, "momentum is a setting of sgd and rmsprop"),
    ({"nesterov": True}, "nesterov needs optimizer 'sgd' with momentum > 0"),
    ({"hidden": [4, 4], "activation": ["tanh"]}, "activation lists 1 names for 2 hidden layers"),
    ({"batchnorm": True, "batch_size": 1}, "batchnorm needs batch_size ≥ 2"),
    ({"features": ["x1", "x1"]}, "must not repeat"),
    ({"data_args": {"seed": 1}}, "data_args must not hold seed"),
])
def test_bad_settings_raise_naming_the_setting(changes, match):
    with pytest.raises(ConfigError, match=match):
        RunConfig(**changes)


@pytest.mark.parametrize("changes, kind", [
    ({"data": "mnist2d"}, "data set"), ({"activation": "relux"}, "activation"),
    ({"init": "he"}, "initialiser"), ({"loss": "l2"}, "loss"), ({"optimizer": "adan"}, "optimizer"),
    ({"regularizer": "l3"}, "regulariser"), ({"features": ["x3"]}, "input feature"),
])
def test_unknown_names_list_the_known_ones(changes, kind):
    with pytest.raises(UnknownNameError, match=f"unknown {kind} .*; known: "):
        RunConfig(**changes)


def test_every_key_has_a_type():
    """A value of the wrong type is refused for every field: nothing is taken on trust."""
    for name in FIELDS:
        wrong = "x" if name == "data_args" else {"a": 1}
        with pytest.raises((ConfigError, UnknownNameError)):
            RunConfig(**{name: wrong})


def test_names_are_normalised_and_lists_become_tuples():
    cfg = RunConfig(activation="Leaky-ReLU", hidden=[3], optimizer="SGD")
    assert cfg.activation == "leaky_relu" and cfg.hidden == (3,) and cfg.optimizer == "sgd"
    assert cfg.replace(hidden=[2, 2]).hidden == (2, 2)
    with pytest.raises(ConfigError):
        cfg.replace(epochs=0)  # replace checks again


def test_mnist1d_keeps_its_test_set_and_cuts_val_from_its_training_set():
    train, val, test = build_data(RunConfig(data="mnist1d", n=500, val=0.2, test=0.2))
    assert len(test) == 100  # MNIST-1D's own 80/20 split of 500
    assert len(train) + len(val) == 400 and len(val) == 100  # 0.2 of all = 0.25 of train
    assert build_data(RunConfig(data="mnist1d", n=500)).val is None


def test_data_settings_a_set_does_not_take_are_refused():
    with pytest.raises(ConfigError, match="data set 'digits' takes no noise"):
        build_data(RunConfig(data="digits", noise=0.1))


# -- the TOML file ------------------------------------------------------------------------------

def _train(*args):
    return CliRunner().invoke(main, ["train", *args], catch_exceptions=False)


def test_a_wrongly_typed_toml_value_names_the_key_file_and_line(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('data = "moons"\nbatchnorm = "no"\n')
    r = _train("--config", str(path))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"error: train config {path}, line 2: batchnorm must be true or false, "
                        f"got 'no'\n")


def test_an_unknown_toml_key_lists_the_known_ones(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[train]\nwidth = 8\n')
    r = _train("--config", str(path))
    assert r.exit_code == 2
    assert "unknown key(s) width; allowed: " + ", ".join(FIELDS) in r.stderr


def test_a_non_utf8_toml_file_is_one_clear_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('data = "moons"\n# café\n'.encode("latin-1"))
    before = path.read_bytes()
    r = _train("--config", str(path))
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"error: train config {path}: not UTF-8 text (byte 0xe9 on line "
                                f"2); TOML files must be UTF-8")
    assert path.read_bytes() == before
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_toml(path)


def test_an_unknown_name_in_toml_names_the_file_and_key(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('activation = "relux"\n')
    r = _train("--config", str(path))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: train config {path}, line 1: activation: unknown "
                               f"activation 'relux'; known: ")


def test_the_run_summary_prints_the_learning_rate_used(tmp_path, monkeypatch):
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    r = _train("--data", "moons", "--n", "100", "--epochs", "1", "--optimizer", "sgd")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("moons: MLP 2 → 16 → 16 → 2, relu, sgd lr=0.01,")


# -- TensorFlow Playground's sets through every door ---------------------------------------------

def test_the_playground_sets_are_data_sets_of_every_door(tmp_path, monkeypatch):
    from whynet.datasets import REGRESSION_SETS, TOY_2D
    from whynet.web.schema import DATASETS as LAB_SETS

    assert set(LAB_SETS) == set(TOY_2D) | set(REGRESSION_SETS)  # the lab offers exactly these
    disc = build(RunConfig(data="disc", n=120, hidden=[4], epochs=1))
    assert disc.data.train.n_classes == 2 and type(disc.loss).__name__ == "SoftmaxCrossEntropy"
    plane = build(RunConfig(data="plane", n=120, hidden=[4], epochs=1))
    assert type(plane.loss).__name__ == "MSE" and plane.model.layers[-1].n_out == 1
    with pytest.raises(ConfigError, match="loss 'softmax_ce' needs classes.*use loss mse"):
        build(RunConfig(data="multigauss", loss="softmax_ce"))
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    out = CliRunner().invoke(main, ["train", "--data", "multigauss", "--n", "120", "--epochs",
                                    "2", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["used"]["loss"] == "mse" and result["epochs"]["acc"] == [None, None]
    assert CliRunner().invoke(main, ["train", "--data", "disc", "--epochs", "1"]).exit_code == 0
    data = load_data("disc", n=120, seed=0)
    assert data.train.n_classes == 2 and data.config.data == "disc"


def test_noise_is_refused_by_a_set_without_it():
    with pytest.raises(ConfigError, match="data set 'digits' takes no noise; noise is a setting "
                                          "of the 2-D sets: moons, circles"):
        build_data(RunConfig(data="digits", noise=0.1))
