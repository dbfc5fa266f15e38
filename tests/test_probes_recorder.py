"""whynet.probes.Probe: known answers through the hooks, records/histograms API, and the promise
that probing does not change training."""

import math

import numpy as np
import pytest

from whynet.errors import ConfigError, NonFiniteError, ShapeError, UnknownNameError
from whynet.nn import Dense, Sequential
from whynet.nn.activations import Identity, PReLU, ReLU, Sigmoid, Tanh
from whynet.nn.layers import Dropout
from whynet.nn.losses import SoftmaxCrossEntropy
from whynet.nn.norm import BatchNorm1d
from whynet.probes import Cadence, Probe, Records, stats
from whynet.train import fit


def _data(rng, m=64, n=4, classes=3):
    X = rng.normal(size=(m, n)).astype(np.float32)
    y = rng.integers(0, classes, size=m)
    return X, y


def _forward_outputs(model, X):
    """Each layer's output, by a plain forward pass outside the probe (eval mode)."""
    outs = []
    model.eval()
    for layer in model.layers:
        X = layer.forward(X)
        outs.append(X)
    model.train()
    return outs


# -- known answers through the probe --------------------------------------------------------------
def test_planted_dead_units_give_dead_fraction_exactly(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 10, rng=0), ReLU(), Dense(10, 3, rng=1))
    W, b = model[0].W.value, model[0].b.value
    W[[2, 5, 7]] = 0.0
    b[[2, 5, 7]] = -1.0          # z = −1 for every example: these three units never fire
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "1:relu", "dead") == pytest.approx(0.3)
    # A dead unit passes no gradient back: its rows of ∂L/∂W are exactly zero, so it cannot agree.
    assert rows.value(1, "0:dense", "sign_agreement") <= 0.7


def test_saturated_tanh_layer_fraction_matches_the_threshold(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 16, rng=0), Tanh(), Dense(16, 3, rng=1))
    model[0].W.value *= 30.0     # |z| of several units: tanh pinned at ±1
    a = _forward_outputs(model, X)[1]
    expected = np.mean(np.abs(a) >= 0.97)
    assert expected > 0.6        # the planted case really is mostly saturated
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "1:tanh", "saturated") == pytest.approx(expected)
    # and the mean f′ is small where saturated: tanh′ = 1 − a²
    assert rows.value(1, "1:tanh", "deriv_mean") == pytest.approx(np.mean(1 - a * a), rel=1e-6)


def test_small_weights_tanh_is_not_saturated(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 16, rng=0), Tanh(), Dense(16, 3, rng=1))
    model[0].W.value *= 0.01
    assert Probe(model, X, y, "softmax_ce").measure(1).value(1, "1:tanh", "saturated") == 0.0


def test_sigmoid_at_zero_has_mean_derivative_a_quarter_and_no_saturation(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, init="zeros", rng=0), Sigmoid(), Dense(8, 3, rng=1))
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "1:sigmoid", "deriv_mean") == 0.25
    assert rows.value(1, "1:sigmoid", "saturated") == 0.0
    assert rows.value(1, "1:sigmoid", "act_mean") == 0.5


def test_zero_initialised_layer_has_one_distinct_unit(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 12, init="zeros", rng=0), Sigmoid(), Dense(12, 3, rng=1))
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "0:dense", "distinct_units") == 1
    assert rows.value(1, "2:dense", "distinct_units") == 3       # random rows: all distinct
    assert rows.value(1, "0:dense", "weight_zero") == 1.0


def test_positive_inputs_give_full_sign_agreement(rng):
    # One example (the classical argument): ∂L/∂W[j, k] = δⱼ·aₖ with every aₖ = σ(·) > 0.
    X, y = _data(rng, m=1, n=5)
    X[0] = [1.0, -2.0, 0.5, -0.3, 0.8]       # mixed signs into the first layer
    model = Sequential(Dense(5, 8, rng=0), Sigmoid(), Dense(8, 3, rng=1))
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "2:dense", "sign_agreement") == 1.0     # fed sigmoid outputs: all agree
    assert rows.value(1, "0:dense", "sign_agreement") == 0.0     # fed mixed signs: none do


def test_jacobian_singular_values_of_a_linear_layer(rng):
    X, y = _data(rng, m=8)
    model = Sequential(Dense(4, 6, rng=0, dtype=np.float64), Identity(),
                       Dense(6, 3, rng=1, dtype=np.float64))
    U, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    V, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    s = np.array([3.0, 2.0, 0.5, 0.1])
    model[0].W.value[...] = U[:, :4] @ np.diag(s) @ V.T
    rows = Probe(model, X, y, "softmax_ce", jacobian=True).measure(1)
    assert rows.value(1, "0:dense", "jac_sv_mean") == pytest.approx(s.mean())
    assert rows.value(1, "0:dense", "jac_sv_min") == pytest.approx(0.1)
    assert rows.value(1, "0:dense", "jac_sv_max") == pytest.approx(3.0)
    # off by default, and skipped for layers above the size limit
    assert "jac_sv_mean" not in Probe(model, X, y, "softmax_ce").measure(1).quantities()
    limited = Probe(model, X, y, "softmax_ce", jacobian=True, jacobian_max_units=5).measure(1)
    assert "jac_sv_mean" not in limited.quantities()            # both layers have 6 units
    # the output layer (no activation after it) is linear: J = W
    assert rows.value(1, "2:dense", "jac_sv_max") == pytest.approx(
        np.linalg.norm(model[2].W.value, 2))


def test_jacobian_of_a_relu_layer_uses_its_derivative(rng):
    X, y = _data(rng, m=4)
    model = Sequential(Dense(4, 5, rng=0, dtype=np.float64), ReLU(),
                       Dense(5, 3, rng=1, dtype=np.float64))
    rows = Probe(model, X, y, "softmax_ce", jacobian=True).measure(1)
    z = X.astype(np.float64) @ model[0].W.value.T + model[0].b.value
    sv = [np.linalg.svd((z[i] > 0)[:, None] * model[0].W.value, compute_uv=False) for i in range(4)]
    assert rows.value(1, "0:dense", "jac_sv_mean") == pytest.approx(np.mean(sv))


def test_activation_statistics_are_those_of_the_layer_output(rng):
    X, y = _data(rng, m=200)
    model = Sequential(Dense(4, 32, rng=0), ReLU(), Dense(32, 3, rng=1))
    a = _forward_outputs(model, X)[1]
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    for name, value in stats.summary(a).items():
        assert rows.value(1, "1:relu", "act_" + name) == pytest.approx(value)


def test_gradient_norms_are_those_of_a_manual_backward_pass(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0, dtype=np.float64), Tanh(),
                       Dense(8, 3, rng=1, dtype=np.float64))
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    loss = SoftmaxCrossEntropy()
    model.zero_grad()
    loss.forward(model.forward(X.astype(np.float64)), y)
    dlogits = loss.backward()
    dX = model.backward(dlogits)
    assert rows.value(1, "2:dense", "output_grad_norm") == pytest.approx(np.linalg.norm(dlogits))
    assert rows.value(1, "0:dense", "input_grad_norm") == pytest.approx(np.linalg.norm(dX))
    assert rows.value(1, "0:dense", "weight_grad_norm") == pytest.approx(
        np.linalg.norm(model[0].W.grad))
    assert rows.value(1, "0:dense", "weight_grad_mean_abs") == pytest.approx(
        np.abs(model[0].W.grad).mean())
    first = rows.value(1, "0:dense", "output_grad_norm")
    assert rows.value(1, "model", "grad_ratio") == pytest.approx(first / np.linalg.norm(dlogits))


def test_prelu_slopes_are_recorded(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 4, rng=0), PReLU(num_parameters=4), Dense(4, 3, rng=1))
    model[1].alpha.value[...] = [0.1, 0.2, 0.3, 0.6]
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "1:prelu", "alpha_mean") == pytest.approx(0.3)
    assert rows.value(1, "1:prelu", "alpha_min") == pytest.approx(0.1)
    assert rows.value(1, "1:prelu", "alpha_max") == pytest.approx(0.6)
    one = Sequential(Dense(4, 4, rng=0), PReLU(), Dense(4, 3, rng=1))
    rows = Probe(one, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "1:prelu", "alpha_mean") == 0.25          # PyTorch's initial α
    assert "alpha_min" not in rows.quantities()


def test_batchnorm_gap_compares_the_probe_batch_with_running_statistics(rng):
    X, y = _data(rng, m=128)
    X = X * 3 + 2                               # far from the fresh running stats (0, 1)
    model = Sequential(Dense(4, 6, rng=0), BatchNorm1d(6), ReLU(), Dense(6, 3, rng=1))
    z = X @ model[0].W.value.T + model[0].b.value
    gap, ratio = stats.batchnorm_gap(z, np.zeros(6), np.ones(6))
    assert gap > 0.5                            # the planted case is really off
    for mode in ("eval", "train"):
        rows = Probe(model, X, y, "softmax_ce", mode=mode).measure(1)
        assert rows.value(1, "1:batchnorm1d", "bn_mean_gap") == pytest.approx(gap, rel=1e-5)
        assert rows.value(1, "1:batchnorm1d", "bn_var_ratio") == pytest.approx(ratio, rel=1e-5)
        np.testing.assert_array_equal(model[1].running_mean, np.zeros(6))  # left untouched


def test_conv_layers_are_probed_per_channel(rng):
    from whynet.nn.conv import Conv2d
    from whynet.nn.layers import Flatten

    X = rng.normal(size=(8, 1, 6, 6)).astype(np.float32)
    y = rng.integers(0, 2, size=8)
    model = Sequential(Conv2d(1, 4, 3, rng=0), ReLU(), Flatten(), Dense(4 * 4 * 4, 2, rng=1))
    model[0].W.value[2] = 0.0
    model[0].b.value[2] = -1.0                   # channel 2 never fires
    rows = Probe(model, X, y, "softmax_ce").measure(1)
    assert rows.value(1, "1:relu", "dead") == 0.25
    assert rows.value(1, "0:conv2d", "distinct_units") == 4
    assert rows.value(1, "0:conv2d", "sign_agreement") <= 0.75   # the dead channel never agrees


# -- probing leaves training alone -----------------------------------------------------------------
def test_measure_restores_gradients_and_modes(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), Dropout(0.5, rng=3), ReLU(), Dense(8, 3, rng=1))
    grads = [p.grad for p in model.parameters()]
    for g in grads:
        g[...] = 7.0
    model[1].training = True
    model[2].training = False                   # mixed modes survive too
    Probe(model, X, y, "softmax_ce").measure(1)
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))
    assert all(np.all(g == 7.0) for g in grads)
    assert [m.training for m in model.layers] == [True, True, False, True]


def _net(seed=0, dropout=0.0, batchnorm=False):
    layers = [Dense(6, 16, rng=seed)]
    if batchnorm:
        layers.append(BatchNorm1d(16))
    layers.append(ReLU())
    if dropout:
        layers.append(Dropout(dropout, rng=seed + 7))
    layers.append(Dense(16, 3, rng=seed + 1))
    return Sequential(*layers)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_training_with_a_probe_gives_bit_identical_weights(rng, mode):
    X = rng.normal(size=(96, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=96)
    plain, probed = _net(dropout=0.3, batchnorm=True), _net(dropout=0.3, batchnorm=True)
    probe = Probe(probed, X[:32], y[:32], "softmax_ce", every=2, mode=mode)
    kw = dict(loss="softmax_ce", optimizer="sgd", lr=0.1, epochs=3, batch_size=16, seed=0)
    fit(plain, X, y, **kw)
    fit(probed, X, y, callbacks=[probe], **kw)
    assert len(probe.records.steps()) == 10     # steps 1, 2, 4, …, 18
    for (name, p), q in zip(plain.named_parameters(), probed.parameters()):
        np.testing.assert_array_equal(p.value, q.value, err_msg=name)
    np.testing.assert_array_equal(plain[1].running_mean, probed[1].running_mean)
    np.testing.assert_array_equal(plain[1].running_var, probed[1].running_var)


def test_update_ratio_in_fit_is_the_step_taken(rng):
    X, y = _data(rng, m=64)
    model = Sequential(Dense(4, 8, rng=0, dtype=np.float64), Tanh(),
                       Dense(8, 3, rng=1, dtype=np.float64))
    lr = 0.05
    expected = {}

    class Spy:  # plain SGD: ΔW = −lr·∂L/∂W, so ‖ΔW‖/‖W‖ = lr·‖g‖/‖W‖
        def on_before_update(self, step, ctx):
            W = model[0].W
            expected[step] = lr * np.linalg.norm(W.grad) / np.linalg.norm(W.value)

    probe = Probe(model, X[:16], y[:16], "softmax_ce", every=5)
    fit(model, X.astype(np.float64), y, loss="softmax_ce", optimizer="sgd", lr=lr, epochs=2,
        batch_size=8, seed=0, callbacks=[probe, Spy()])
    steps, ratios = probe.records.series("0:dense", "update_ratio")
    assert steps.tolist() == [1, 5, 10, 15]
    np.testing.assert_allclose(ratios, [expected[s] for s in steps], rtol=1e-10)
    losses = probe.records.series("model", "train_loss")[1]
    assert len(losses) == 4 and np.all(np.isfinite(losses))


def test_update_ratio_outside_fit_with_the_callback_methods(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1))
    probe = Probe(model, X, y, "softmax_ce", every=1)
    probe.on_before_update(3)
    model[0].W.value *= 1.01                  # the "update": ‖ΔW‖/‖W‖ = 0.01
    probe.on_step_end(3)
    assert probe.records.value(3, "0:dense", "update_ratio") == pytest.approx(0.01, rel=1e-5)
    assert probe.records.value(3, "2:dense", "update_ratio") == 0.0


def test_probe_on_a_diverged_model_records_nonfinite_instead_of_raising(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1))
    model[0].W.value[0, 0] = np.nan
    probe = Probe(model, X, y, "softmax_ce")
    rows = probe.measure(1)                    # strict np.errstate in tests: nothing raises
    assert math.isnan(rows.value(1, "model", "loss"))
    assert rows.value(1, "1:relu", "nonfinite") > 0
    assert [f.rule for f in probe.findings] == ["nonfinite"]


# -- cadence ---------------------------------------------------------------------------------------
def test_cadence_every_k_includes_the_first_step():
    c = Cadence(10)
    assert [s for s in range(0, 35) if c.due(s)] == [0, 1, 10, 20, 30]


def test_cadence_log_is_about_ten_per_decade():
    c = Cadence("log")
    due = [s for s in range(0, 120) if c.due(s)]
    assert due == [0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 79, 100]
    assert sum(c.due(s) for s in range(1000, 10000)) == 10


def test_cadence_explicit_steps_and_errors():
    assert [s for s in range(10) if Cadence([2, 7]).due(s)] == [2, 7]
    for bad in (0, -3, "often", 2.5, True):
        with pytest.raises(ConfigError, match="every must be"):
            Cadence(bad)


# -- the records table and histograms --------------------------------------------------------------
def _probe_after(rng, steps=(1, 2, 3)):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1))
    probe = Probe(model, X, y, "softmax_ce", bins=10)
    for s in steps:
        probe.measure(s)
        model[0].W.value *= 1.5
    return probe, X


def test_records_filters_columns_and_series(rng):
    probe, _ = _probe_after(rng)
    r = probe.records
    assert r.steps() == [1, 2, 3]
    assert r.layers() == ["model", "0:dense", "1:relu", "2:dense"]
    dead = r.where(quantity="dead")
    assert dead.column("layer").tolist() == ["1:relu"] * 3
    assert r.column("step").dtype == np.int64 and r.column("value").dtype == np.float64
    steps, norms = r.series("0:dense", "weight_norm")
    np.testing.assert_allclose(norms[1:] / norms[:-1], [1.5, 1.5], rtol=1e-6)
    two = r.where(step=[1, 3], layer=lambda la: la.endswith("dense"), quantity="weight_norm")
    assert len(two) == 4
    with pytest.raises(ConfigError, match="unknown column 'values'"):
        r.column("values")
    with pytest.raises(ConfigError, match="no row for step 9"):
        r.value(9, "0:dense", "weight_norm")


def test_records_round_trip_through_dict(rng):
    import json

    probe, _ = _probe_after(rng)
    d = json.loads(json.dumps(probe.records.to_dict()))
    back = Records.from_dict(d)
    assert list(back) == list(probe.records)
    with pytest.raises(ConfigError, match="missing column"):
        Records.from_dict({"step": [1]})
    with pytest.raises(ShapeError, match="different lengths"):
        Records.from_dict({"step": [1], "layer": [], "quantity": [], "value": []})


def test_records_to_pandas(rng):
    probe, _ = _probe_after(rng, steps=(1,))
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="needs pandas"):
            probe.records.to_pandas()
    else:
        df = probe.records.to_pandas()
        assert list(df.columns) == ["step", "layer", "quantity", "value"]
        assert len(df) == len(probe.records)


def test_histograms_count_every_activation_with_fixed_edges(rng):
    probe, X = _probe_after(rng)
    steps, edges, counts = probe.histograms.series("1:relu")
    assert steps.tolist() == [1, 2, 3]
    assert counts.shape == (3, 10)
    assert np.all(counts.sum(axis=1) == len(X) * 8)            # clipped, never dropped
    assert np.all(edges == edges[0])                             # one set of edges over time
    assert edges[0, 0] == 0.0                                    # ReLU's lower bound
    g = probe.histograms.at(2, "0:dense", kind="gradient")
    assert g.counts.sum() == len(X) * 8 and g.edges[0] == -g.edges[-1]
    assert probe.histograms.layers("gradient") == ["0:dense", "2:dense"]
    with pytest.raises(ConfigError, match="no activation histogram of layer '0:dense'"):
        probe.histograms.at(1, "0:dense")


def test_histograms_off(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1))
    probe = Probe(model, X, y, "softmax_ce", histograms=False)
    probe.measure(1)
    assert len(probe.histograms) == 0 and len(probe.records) > 0


# -- argument checking -----------------------------------------------------------------------------
def test_probe_argument_errors(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1))
    with pytest.raises(ConfigError, match="model must be a whynet Sequential, got Dense"):
        Probe(Dense(4, 3), X, y, "softmax_ce")
    with pytest.raises(ShapeError, match="X has 64 examples but y has 10"):
        Probe(model, X, y[:10], "softmax_ce")
    with pytest.raises(ConfigError, match="mode must be 'eval' or 'train', got 'test'"):
        Probe(model, X, y, "softmax_ce", mode="test")
    with pytest.raises(ConfigError, match="bins must be an integer ≥ 1, got 0"):
        Probe(model, X, y, "softmax_ce", bins=0)
    with pytest.raises(ConfigError,
                       match=r"percentiles\[\d+\] must be a finite number in \[0, 100\]"):
        Probe(model, X, y, "softmax_ce", percentiles=(50, 101))
    with pytest.raises(UnknownNameError, match="unknown loss 'nope'"):
        Probe(model, X, y, "nope")
    bad = X.copy()
    bad[3, 1] = np.inf
    with pytest.raises(NonFiniteError, match="Probe: X contains 1 non-finite"):
        Probe(model, bad, y, "softmax_ce")
    with pytest.raises(ShapeError, match="empty"):
        Probe(model, X[:0], y[:0], "softmax_ce")


def test_repr_and_report(rng):
    probe, _ = _probe_after(rng, steps=(1,))
    assert repr(probe).startswith("Probe(3 layers, probe batch 64, every=50,")
    assert probe.report() == "no findings"


def test_measuring_between_forward_and_backward_leaves_the_loss_state_alone(rng):
    X, y = _data(rng)
    model = Sequential(Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1))
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(X[:5]), y[:5])
    expected = loss.backward().copy()
    Probe(model, X, y, loss).measure(1)          # the same loss object, another batch
    np.testing.assert_array_equal(loss.backward(), expected)
