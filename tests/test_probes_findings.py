"""Findings: each rule on planted rows, and on real networks that are sick in a known way — and
silence on a healthy one trained on the same data (issue 4, point 3)."""

import math

import pytest

from whynet.datasets import digits
from whynet.errors import ConfigError
from whynet.nn import mlp
from whynet.probes import Finding, FindingRules, Probe, Thresholds
from whynet.train import fit


# -- the rules on planted rows ---------------------------------------------------------------------
def test_dead_units_fire_once_with_the_first_step():
    rules = FindingRules()
    assert rules.check(10, [("1:relu", "dead", 0.1)]) == []
    (f,) = rules.check(20, [("1:relu", "dead", 0.41)])
    assert (f.step, f.layer, f.rule, f.value) == (20, "1:relu", "dead_units", 0.41)
    assert "41% of the relu units are dead since step 20" in f.message
    assert "learning rate" in f.message
    assert str(f).startswith("step 20, 1:relu: 41%")
    assert rules.check(30, [("1:relu", "dead", 0.6)]) == []          # reported once
    assert [f.layer for f in rules.check(30, [("3:relu", "dead", 0.3)])] == ["3:relu"]


@pytest.mark.parametrize("rows, rule", [
    ([("model", "grad_ratio", 3e-3)], "vanishing_gradient"),
    ([("model", "grad_ratio", 500.0)], "exploding_gradient"),
    ([("1:tanh", "saturated", 0.3)], "saturation"),
    ([("0:dense", "update_ratio", 0.2)], "update_ratio_high"),
    ([("0:dense", "update_ratio", 1e-6)], "update_ratio_low"),
    ([("1:relu", "nonfinite", 0.5)], "nonfinite"),
    ([("model", "loss", math.nan)], "nonfinite"),
])
def test_each_rule_fires_beyond_its_threshold(rows, rule):
    assert [f.rule for f in FindingRules().check(1, rows)] == [rule]


@pytest.mark.parametrize("rows", [
    [("model", "grad_ratio", 0.02)], [("model", "grad_ratio", 50.0)],
    [("1:tanh", "saturated", 0.2)], [("0:dense", "update_ratio", 0.05)],
    [("0:dense", "update_ratio", 2e-5)], [("1:relu", "nonfinite", 0.0)],
    [("1:relu", "dead", 0.2)], [("0:dense", "distinct_units", 33)],
])
def test_no_rule_fires_inside_its_threshold(rows):
    assert FindingRules().check(1, rows, {"0:dense": 64}) == []


def test_symmetry_needs_half_the_units_or_fewer_to_be_equal():
    rules = FindingRules()
    (f,) = rules.check(1, [("0:dense", "distinct_units", 1)], {"0:dense": 64})
    assert f.rule == "symmetry" and "only 1 distinct unit(s) out of 64" in f.message
    # a layer whose width is unknown (the output layer, left out by the probe) never fires
    assert rules.check(1, [("4:dense", "distinct_units", 1)], {}) == []


def test_nonfinite_is_reported_once_for_the_whole_model():
    rules = FindingRules()
    found = rules.check(5, [("1:relu", "nonfinite", 1.0), ("3:relu", "nonfinite", 1.0),
                            ("model", "loss", math.nan)])
    assert [(f.rule, f.layer) for f in found] == [("nonfinite", "1:relu")]
    assert rules.check(6, [("5:relu", "nonfinite", 1.0)]) == []


def test_flat_loss_while_accuracy_moves():
    rules = FindingRules()
    assert rules.check(1, [("model", "loss", 2.30), ("model", "accuracy", 0.10)]) == []
    assert rules.check(5, [("model", "loss", 2.29), ("model", "accuracy", 0.15)]) == []
    (f,) = rules.check(9, [("model", "loss", 2.28), ("model", "accuracy", 0.22)])
    assert f.rule == "flat_loss" and "2.3 → 2.28" in f.message and "10% to 22%" in f.message
    # a loss that falls with the accuracy is healthy
    rules = FindingRules()
    rules.check(1, [("model", "loss", 2.30), ("model", "accuracy", 0.10)])
    assert rules.check(9, [("model", "loss", 1.5), ("model", "accuracy", 0.6)]) == []


def test_thresholds_are_adjustable_and_checked():
    rules = FindingRules(Thresholds(dead=0.05))
    assert [f.rule for f in rules.check(1, [("1:relu", "dead", 0.1)])] == ["dead_units"]
    with pytest.raises(ConfigError, match="dead must be a finite number > 0, got -1"):
        Thresholds(dead=-1)
    with pytest.raises(ConfigError, match="thresholds must be a whynet.probes.Thresholds"):
        FindingRules({"dead": 0.1})


# -- real networks on the same data ----------------------------------------------------------------
@pytest.fixture(scope="module")
def data():
    X, y = digits()
    return X[:800], y[:800]


def _train(data, sizes, activation, lr, init=None, epochs=3):
    X, y = data
    model = mlp(sizes, activation=activation, init=init, seed=0)
    probe = Probe(model, X[:256], y[:256], "softmax_ce", every=10)
    fit(model, X, y, loss="softmax_ce", optimizer="sgd", lr=lr, epochs=epochs, batch_size=32,
        seed=0, callbacks=[probe])
    return probe


def _rules(probe) -> set[str]:
    return {f.rule for f in probe.findings}


def test_ten_layer_sigmoid_network_has_vanishing_gradients(data):
    probe = _train(data, [64] + [32] * 9 + [10], "sigmoid", lr=0.1)
    first = probe.findings[0]
    assert (first.rule, first.step) == ("vanishing_gradient", 1)
    # each sigmoid layer multiplies ‖∂L/∂z‖ by at most ¼·‖W‖: nine of them leave < 1e-4
    assert first.value < 1e-4
    assert "update_ratio_low" in _rules(probe)          # the first layers barely move
    assert "dead_units" not in _rules(probe)


def test_relu_network_at_too_large_a_learning_rate_kills_units(data):
    probe = _train(data, [64, 64, 64, 10], "relu", lr=2.0)
    dead = [f for f in probe.findings if f.rule == "dead_units"]
    assert dead and dead[0].value >= 0.5
    assert {f.layer for f in dead} <= {"1:relu", "3:relu"}
    assert "update_ratio_high" in _rules(probe)         # the cause, reported at step 1


def test_zero_initialised_network_is_symmetric(data):
    probe = _train(data, [64, 32, 32, 10], "sigmoid", lr=0.5, init="zeros")
    sym = [f for f in probe.findings if f.rule == "symmetry"]
    assert [(f.layer, f.step) for f in sym] == [("0:dense", 1), ("2:dense", 1)]
    # and it stays so: after training every hidden layer still has one distinct unit
    last = probe.records.steps()[-1]
    assert probe.records.value(last, "0:dense", "distinct_units") == 1
    assert probe.records.value(last, "2:dense", "distinct_units") == 1


def test_healthy_he_relu_network_has_no_findings(data):
    probe = _train(data, [64, 64, 64, 10], "relu", lr=0.05)
    assert probe.findings == [], probe.report()
    assert probe.report() == "no findings"
    # it did learn, and its gradient flow is even across the layers
    assert probe.records.series("model", "accuracy")[1][-1] > 0.7
    assert 0.3 < probe.records.series("model", "grad_ratio")[1][0] < 3


def test_findings_are_findings():
    assert isinstance(FindingRules().check(1, [("1:relu", "dead", 1.0)])[0], Finding)
