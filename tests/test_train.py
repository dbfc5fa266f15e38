"""fit and Trainer: batches, history, callbacks, early stopping, divergence, progress, errors."""

import json
import math

import numpy as np
import pytest

from whynet.errors import ConfigError, DivergenceError, NonFiniteError, ShapeError, UnknownNameError
from whynet.nn import L2, Dense, Dropout, ReLU, Sequential, SoftmaxCrossEntropy, mlp
from whynet.optim import SGD, ExponentialLR, StepLR
from whynet.train import Callback, EarlyStopping, History, Trainer, fit


def _blobs(m=103, n=4, classes=3, seed=0, dtype=np.float32):
    """Separable-ish classes: class k is centred at 2·e_k."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=m)
    X = rng.normal(size=(m, n)) + 2.0 * np.eye(classes, n)[y]
    return X.astype(dtype), y


class Recorder(Callback):
    """Records every callback call as (name, step/epoch) and what fit looked like at the time."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, ctx):
        self.calls.append(("begin", ctx.step))

    def on_before_update(self, step, ctx):
        self.calls.append(("before", step))

    def on_step_end(self, step, loss, ctx):
        self.calls.append(("step", step))

    def on_epoch_end(self, epoch, logs, ctx):
        self.calls.append(("epoch", epoch))
        self.last_logs = dict(logs)

    def on_train_end(self, ctx):
        self.calls.append(("end", ctx.step))


def test_history_lengths_and_last_partial_batch():
    """103 examples in batches of 10: 11 steps per epoch, the 11th of 3 examples."""
    X, y = _blobs()
    model = mlp([4, 8, 3], seed=0)
    sizes = []
    model.register_forward_hook(lambda m, i, x, out: sizes.append(len(x)) if i == 0 else None)
    rec = Recorder()
    h = fit(model, X, y, loss="softmax_ce", epochs=4, batch_size=10, record_steps=True,
            validation_data=(X[:20], y[:20]), callbacks=[rec])
    assert len(h) == 4
    for key in ("loss", "acc", "val_loss", "val_acc", "lr"):
        assert len(h.epochs[key]) == 4, key
    assert len(h.steps) == 44
    train_sizes = [s for s in sizes if s != 20]  # the validation forward sees 20 rows at once
    assert train_sizes == ([10] * 10 + [3]) * 4
    steps = [s for name, s in rec.calls if name == "step"]
    assert steps == list(range(1, 45))
    assert rec.calls[0] == ("begin", 0) and rec.calls[-1] == ("end", 44)
    assert [s for name, s in rec.calls if name == "epoch"] == [1, 2, 3, 4]
    assert set(rec.last_logs) == {"loss", "acc", "lr", "val_loss", "val_acc"}
    assert h.stopped is None and not h.diverged


def test_every_example_once_per_epoch_in_a_seeded_order():
    X = np.arange(23, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    y = np.zeros(23, dtype=int)
    model = Sequential(Dense(2, 2, rng=0))
    seen = []
    model.register_forward_hook(lambda m, i, x, out: seen.append(x[:, 0].astype(int).tolist()))
    fit(model, X, y, loss="softmax_ce", epochs=2, batch_size=5, seed=7, optimizer="sgd", lr=0.0)
    first = sum(seen[:5], [])
    second = sum(seen[5:], [])
    assert sorted(first) == list(range(23)) and sorted(second) == list(range(23))
    rng = np.random.default_rng(7)
    assert first == rng.permutation(23).tolist() and second == rng.permutation(23).tolist()


def test_epoch_loss_is_size_weighted_mean_of_step_losses():
    X, y = _blobs(m=25)
    h = fit(mlp([4, 8, 3], seed=1), X, y, loss="softmax_ce", epochs=1, batch_size=10,
            record_steps=True)
    weights = np.array([10, 10, 5])
    assert h.epochs["loss"][0] == pytest.approx(np.dot(h.steps, weights) / 25, rel=1e-12)


def test_regulariser_penalty_is_in_reported_loss():
    """One full-batch step: the reported loss is data loss + (λ/2)·Σw² of the initial weights."""
    X, y = _blobs(m=30, dtype=np.float64)
    model = mlp([4, 6, 3], seed=2, dtype=np.float64)
    lam = 0.3
    data_loss = SoftmaxCrossEntropy().forward(model.forward(X), y)
    penalty = 0.5 * lam * sum(np.sum(d.W.value ** 2) for d in model.layers if isinstance(d, Dense))
    h = fit(model, X, y, loss="softmax_ce", epochs=1, batch_size=30, regularizer=L2(lam),
            record_steps=True)
    assert penalty > 0.1  # large enough that leaving it out would fail the comparison
    assert h.steps[0] == pytest.approx(data_loss + penalty, rel=1e-12)


def test_trainer_step_order_callbacks_see_grads_before_update_and_before_clipping():
    X, y = _blobs(m=16, dtype=np.float64)
    model = mlp([4, 5, 3], seed=3, dtype=np.float64)
    lam, lr, clip = 0.1, 0.5, 0.05
    seen = {}

    class Snapshot(Callback):
        def on_before_update(self, step, ctx):
            seen["W"] = [p.value.copy() for p in ctx.model.parameters()]
            seen["g"] = [p.grad.copy() for p in ctx.model.parameters()]

    trainer = Trainer(model, "softmax_ce", SGD(model.parameters(), lr=lr), regularizer=L2(lam),
                      clip_norm=clip, callbacks=[Snapshot()])
    # the gradient the callback sees must include the regulariser's λ·W
    loss_fn = SoftmaxCrossEntropy()
    model.zero_grad()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    data_grads = [p.grad.copy() for p in model.parameters()]
    trainer.train_step(X, y)
    for p, g, dg, w in zip(model.parameters(), seen["g"], data_grads, seen["W"]):
        expected = dg + (lam * w if p.regularize else 0)
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)
    norm = math.sqrt(sum(float(np.sum(g ** 2)) for g in seen["g"]))
    assert trainer.last_grad_norm == pytest.approx(norm, rel=1e-12)
    assert norm > clip  # so clipping did act
    scale = clip / (norm + 1e-6)
    for p, g, w in zip(model.parameters(), seen["g"], seen["W"]):
        np.testing.assert_allclose(p.value, w - lr * scale * g, rtol=1e-12, atol=1e-15)
    assert trainer.step == 1


def test_model_in_train_mode_for_steps_eval_for_validation_and_restored_after():
    X, y = _blobs(m=40)
    model = mlp([4, 8, 3], dropout=0.5, seed=0)
    modes = []
    model.register_forward_hook(
        lambda m, i, x, out: modes.append((len(x), m.training)) if i == 0 else None)
    model.eval()
    fit(model, X, y, loss="softmax_ce", epochs=2, batch_size=40, validation_data=(X[:7], y[:7]))
    assert modes == [(40, True), (7, False), (40, True), (7, False)]
    assert model.training is False  # the mode it had before fit


def test_ctx_stop_ends_training_after_that_step():
    X, y = _blobs()

    class StopAt(Callback):
        def on_step_end(self, step, loss, ctx):
            if step == 13:
                ctx.stop = True

    h = fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=5, batch_size=10, record_steps=True,
            callbacks=[StopAt()])
    assert len(h.steps) == 13 and len(h) == 2
    assert h.stopped == "stopped by a callback at epoch 2, step 13"


def test_schedule_as_callback_sets_lr_per_epoch():
    X, y = _blobs(m=20)
    model = mlp([4, 8, 3])
    opt = SGD(model.parameters(), lr=0.1)
    h = fit(model, X, y, loss="softmax_ce", optimizer=opt, epochs=4, batch_size=20,
            callbacks=[StepLR(opt, step_size=1, gamma=0.5)])
    assert h.epochs["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125], rel=1e-15)


def test_history_to_dict_is_strict_json():
    X, y = _blobs(m=20)
    h = fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=2, batch_size=8, record_steps=True)
    d = json.loads(json.dumps(h.to_dict(), allow_nan=False))
    assert d["epochs"]["loss"] == h.epochs["loss"] and len(d["steps"]) == 6
    assert d["epochs"]["val_loss"] == [] and d["diverged"] is False
    assert repr(h).startswith("History(2 epochs, last loss")


def test_mse_has_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = X.sum(axis=1, keepdims=True)
    h = fit(mlp([3, 8, 1]), X, y, loss="mse", epochs=2, batch_size=10,
            validation_data=(X[:5], y[:5]))
    assert h.epochs["acc"] == [None, None] and h.epochs["val_acc"] == [None, None]
    assert all(v > 0 for v in h.epochs["val_loss"])


def test_fit_learns_a_separable_problem():
    """Sanity of the whole loop: Adam on blobs 5 noise-σ apart (Bayes accuracy > 99.9%)
    reaches ≥ 95% training accuracy."""
    X, y = _blobs(m=200, seed=4)
    X += 3.0 * np.eye(3, 4, dtype=np.float32)[y]
    h = fit(mlp([4, 16, 3], seed=0), X, y, loss="softmax_ce", optimizer="adam", lr=0.01,
            epochs=30, batch_size=32)
    assert h.epochs["acc"][-1] >= 0.95
    assert h.epochs["loss"][-1] < h.epochs["loss"][0] / 3


# -- early stopping -----------------------------------------------------------------------------

class WeightLog(Callback):
    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs, ctx):
        self.weights.append([p.value.copy() for p in ctx.model.parameters()])


def test_early_stopping_restores_best_weights():
    """Validation labels are the training labels shifted by one class, so the better the model
    fits the training set the worse its validation loss: the best epoch is an early one, training
    stops `patience` epochs later, and the weights are those of the best epoch."""
    X, y = _blobs(m=60)
    model = mlp([4, 16, 3], seed=0)
    log = WeightLog()
    h = fit(model, X, y, loss="softmax_ce", optimizer="adam", lr=0.02, epochs=50, batch_size=20,
            validation_data=(X, (y + 1) % 3),
            early_stopping=EarlyStopping(patience=3), callbacks=[log])
    best = int(np.argmin(h.epochs["val_loss"])) + 1
    assert len(h) == best + 3 < 50
    assert h.best_epoch == best
    assert h.stopped.startswith(f"early stopping at epoch {best + 3}: val_loss did not improve")
    for p, w in zip(model.parameters(), log.weights[best - 1]):
        assert np.array_equal(p.value, w)
    assert not all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), log.weights[-1]))


def test_early_stopping_min_delta_and_int_shorthand():
    """min_delta larger than any possible improvement: stops after exactly `patience` epochs."""
    X, y = _blobs(m=30)
    h = fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=20, batch_size=10,
            early_stopping=EarlyStopping(monitor="loss", patience=2, min_delta=100.0))
    assert len(h) == 3 and h.best_epoch == 1
    h = fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=20, batch_size=10, early_stopping=2,
            validation_data=(X, (y + 1) % 3), optimizer="adam", lr=0.05)
    assert h.stopped is not None and "val_loss" in h.stopped


def test_early_stopping_on_accuracy_maximises():
    es = EarlyStopping(monitor="val_acc", patience=1)
    assert es.mode == "max"
    X, y = _blobs(m=30)
    h = fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=30, batch_size=10,
            validation_data=(X, y), early_stopping=es)
    best = max(h.epochs["val_acc"])
    assert h.epochs["val_acc"][h.best_epoch - 1] == best


def test_early_stopping_errors():
    X, y = _blobs(m=20)
    with pytest.raises(ConfigError, match=r"monitor 'val_loss' is not logged \(pass "
                                          r"validation_data\); logged: loss, acc, lr"):
        fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", early_stopping=EarlyStopping())
    with pytest.raises(ConfigError, match="EarlyStopping: patience must be an integer ≥ 1, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ConfigError, match="EarlyStopping: min_delta .* got -1"):
        EarlyStopping(min_delta=-1)


# -- divergence ---------------------------------------------------------------------------------

def _regression(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(dtype)
    return X, (X @ np.array([1.0, -2.0, 0.5]))[:, None].astype(dtype)


def test_divergence_keeps_history_and_names_the_step():
    """lr × 10 every epoch: fine for a while, then the loss overflows. Under the test suite's
    np.errstate(over='raise') that is a FloatingPointError, reported as divergence."""
    X, y = _regression()
    model = mlp([3, 16, 1], seed=0, dtype=np.float64)
    opt = SGD(model.parameters(), lr=1e-3)
    h = fit(model, X, y, loss="mse", optimizer=opt, epochs=20, batch_size=8, record_steps=True,
            callbacks=[ExponentialLR(opt, gamma=10.0)], divergence_factor=None)
    assert h.diverged
    step = len(h.steps) + 1
    assert step > 8 and len(h) == (step - 1) // 8  # at least one full epoch before diverging
    assert h.stopped.startswith(f"training diverged at step {step}: ")
    assert f"(epoch {len(h) + 1}); history kept up to step {step - 1}" in h.stopped
    # the interrupted epoch's steps, when it made any, are kept beside the whole epochs
    made = (step - 1) % 8
    assert (h.partial_epoch is None) == (made == 0)
    if made:
        assert h.partial_epoch["steps"] == made and h.partial_epoch["epoch"] == len(h) + 1
    assert all(math.isfinite(v) for v in h.steps)


def test_divergence_without_floating_point_errors_is_a_non_finite_loss():
    """A caller's np.errstate(all="ignore") does not hide divergence: each step runs under
    errstate(raise) of its own, so the overflow is reported by name (no RuntimeWarning leaks)."""
    X, y = _regression()
    with np.errstate(all="ignore"):
        h = fit(mlp([3, 16, 1], seed=0, dtype=np.float64), X, y, loss="mse", lr=3.0, epochs=5,
                batch_size=8, record_steps=True, divergence_factor=None)
    assert h.diverged and len(h.steps) >= 1
    assert f"training diverged at step {len(h.steps) + 1}" in h.stopped
    assert "overflow encountered" in h.stopped


def test_raise_on_divergence_carries_history():
    X, y = _regression()
    with pytest.raises(DivergenceError, match="training diverged at step") as info:
        fit(mlp([3, 16, 1], seed=0, dtype=np.float64), X, y, loss="mse", lr=3.0, epochs=5,
            batch_size=8, record_steps=True, raise_on_divergence=True, divergence_factor=None)
    assert isinstance(info.value.history, History) and info.value.history.diverged
    assert info.value.step == len(info.value.history.steps) + 1


def test_trainer_step_raises_divergence_without_updating():
    X, y = _regression()
    model = mlp([3, 4, 1], seed=0, dtype=np.float64)
    model.layers[0].W.value[0, 0] = 1e200  # the forward pass overflows
    before = [p.value.copy() for p in model.parameters()]
    trainer = Trainer(model, "mse", "sgd")
    with pytest.raises(DivergenceError, match="training diverged at step 1: overflow"):
        trainer.train_step(X, y)
    assert trainer.step == 0
    assert all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))


# -- progress bar -------------------------------------------------------------------------------

def test_progress_off_when_stdout_is_not_a_terminal(capsys):
    X, y = _blobs(m=20)
    fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=2, batch_size=10)
    assert capsys.readouterr().out == ""


def test_progress_on_request_shows_epochs_and_loss(capsys):
    X, y = _blobs(m=20)
    fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", epochs=2, batch_size=10, progress=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0].startswith("epoch 1/2  loss ") and " acc " in lines[0]
    assert lines[1].startswith("epoch 2/2  loss ")


# -- input validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("X, y, error, match", [
    (np.zeros(10, np.float32), np.zeros(10, int), ShapeError,
     r"fit: X must have shape \(m, features…\), got \(10,\)"),
    (np.zeros((10, 4), np.float32), np.zeros(9, int), ShapeError,
     r"fit: y must have one entry per row of X \(length 10\), got shape \(9,\)"),
    (np.zeros((0, 4), np.float32), np.zeros(0, int), ShapeError, r"fit: X has no examples"),
    ([[0.0] * 4] * 3, np.zeros(3, int), ShapeError, r"fit: X must be a NumPy array, got list"),
    (np.array([["a"] * 4] * 3), np.zeros(3, int), ConfigError, r"fit: X must be numeric"),
])
def test_bad_shapes_raise(X, y, error, match):
    with pytest.raises(error, match=match):
        fit(mlp([4, 8, 3]), X, y, loss="softmax_ce")


def test_non_finite_data_raises_naming_the_array():
    X, y = _blobs(m=20)
    X[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"fit: X contains 1 non-finite value.*\(3, 1\)"):
        fit(mlp([4, 8, 3]), X, y, loss="softmax_ce")
    Xr, yr = _regression(np.float32)
    yr[5, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"fit: y contains 1 non-finite"):
        fit(mlp([3, 8, 1]), Xr, yr, loss="mse")
    X, y = _blobs(m=20)
    Xv = X.copy()
    Xv[0, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"fit: validation X contains"):
        fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", validation_data=(Xv, y))


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "fit: epochs must be an integer ≥ 1, got 0"),
    ({"epochs": 2.5}, "fit: epochs must be an integer ≥ 1, got 2.5"),
    ({"batch_size": 0}, "fit: batch_size must be an integer ≥ 1, got 0"),
    ({"batch_size": True}, "fit: batch_size must be an integer ≥ 1, got True"),
    ({"clip_norm": -1.0}, "Trainer: clip_norm must be a finite number > 0, got -1.0"),
    ({"validation_data": np.zeros((3, 4))}, r"fit: validation_data must be a pair"),
    ({"early_stopping": -1}, "fit: early_stopping must be an integer ≥ 1, got -1"),
    ({"lr": -0.1}, "SGD: lr must be a finite number ≥ 0, got -0.1"),
])
def test_bad_settings_raise_config_error(kwargs, match):
    X, y = _blobs(m=20)
    with pytest.raises(ConfigError, match=match):
        fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", **kwargs)


def test_unknown_optimizer_and_loss_names():
    X, y = _blobs(m=20)
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adamm'"):
        fit(mlp([4, 8, 3]), X, y, loss="softmax_ce", optimizer="adamm")
    with pytest.raises(UnknownNameError, match="crossentropy"):
        fit(mlp([4, 8, 3]), X, y, loss="crossentropy")


def test_float64_data_is_cast_once_to_the_model_dtype():
    X, y = _blobs(m=20, dtype=np.float64)
    model = Sequential(Dense(4, 3, rng=0), ReLU(), Dropout(0.1, rng=0), Dense(3, 3, rng=1))
    dtypes_seen = []
    model.register_forward_hook(lambda m, i, x, out: dtypes_seen.append(x.dtype) if i == 0
                                else None)
    fit(model, X, y, loss="softmax_ce", epochs=1, batch_size=10)
    assert dtypes_seen == [np.float32, np.float32]
    assert all(p.value.dtype == np.float32 for p in model.parameters())


def test_every_k_steps_calls_at_start_and_every_kth_step():
    from whynet.train import Every

    X = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = mlp([2, 4, 2], seed=0)
    seen = Every(3, lambda step, ctx: (step, ctx.step))
    fit(model, X, y, loss="softmax_ce", lr=0.1, epochs=2, batch_size=4, callbacks=[seen],
        progress=False)  # 20 steps
    assert seen.steps == [0, 3, 6, 9, 12, 15, 18]
    assert all(a == b for a, b in seen.values[1:])
    with pytest.raises(ConfigError, match="k must be an int"):
        Every(0, print)
