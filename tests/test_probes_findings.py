"""Findings: each rule on planted rows, both ways (where its context makes it fire and where the
same symptom has another cause), and on real networks that are sick in a known way — and silence
on a healthy one trained on the same data (issue 4, point 3; issue 17, "Findings that are right").
The scenario battery on small runs, for whynet and PyTorch, is tests/test_findings_scenarios.py."""

import math

import pytest

from whynet.datasets import digits
from whynet.errors import ConfigError
from whynet.i18n import use_language
from whynet.nn import mlp
from whynet.probes import RULE_QUESTIONS, RULES, Context, Finding, FindingRules, Probe, \
    Thresholds, diagnose
from whynet.probes.findings import rank
from whynet.train import fit

RELU_NET = Context(layers=("0:dense", "1:relu", "2:dense", "3:relu", "4:dense"),
                   activations={"1:relu": "relu", "3:relu": "relu"},
                   units={"0:dense": 16, "2:dense": 16}, input_rms=1.0, input_max=3.0)
TANH_NET = Context(layers=("0:dense", "1:tanh", "2:dense", "3:tanh", "4:dense"),
                   activations={"1:tanh": "tanh", "3:tanh": "tanh"},
                   saturating=frozenset({"1:tanh", "3:tanh"}),
                   units={"0:dense": 16, "2:dense": 16}, init={"0:dense": "xavier_uniform"},
                   input_rms=1.0, input_max=3.0)


def _with(context: Context, **changes) -> Context:
    return Context(**{**context.__dict__, **changes})


# -- the language of a finding ---------------------------------------------------------------------
def test_a_finding_is_said_in_the_language_in_force_and_can_be_said_again_in_another():
    """The sentence is made where the rule fires, in the language in force (Korean here, as
    `whynet train --lang ko` or a Korean lab session); the same finding says itself in English."""
    with use_language("ko"):
        (f,) = FindingRules(context=RELU_NET).check(20, [("1:relu", "dead", 0.41)])
        assert str(f).startswith("20단계, 1:relu: relu 유닛의 41%가 20단계부터 죽어 있습니다")
    assert "학습률을 낮추거나" in f.message
    english = f.text("en")
    assert "41% of the relu units are dead since step 20" in english
    assert "lower the learning rate" in english
    with use_language("en"):
        assert str(f).startswith("step 20, 1:relu: 41% of the relu units")
        assert f.text() == english
    assert f.text("qps").startswith("⟦") and "⟦relu 41%" not in f.text("qps")
    # A finding made by hand has only its sentence.
    assert Finding(1, "model", "flat_loss", 0.0, "as written", "T1").text("ko") == "as written"


# -- the rules on planted rows ---------------------------------------------------------------------
def test_dead_units_fire_once_per_rule_with_the_first_step():
    rules = FindingRules(context=RELU_NET)
    assert rules.check(10, [("1:relu", "dead", 0.1)]) == []
    (f,) = rules.check(20, [("1:relu", "dead", 0.41)])
    assert (f.step, f.layer, f.rule, f.value, f.question) == (20, "1:relu", "dead_units", 0.41,
                                                             "A6")
    assert "41% of the relu units are dead since step 20" in f.message
    assert "lower the learning rate" in f.message
    assert str(f).startswith("step 20, 1:relu: 41%")
    assert rules.check(30, [("1:relu", "dead", 0.6)]) == []          # reported once
    assert rules.check(30, [("3:relu", "dead", 0.3)]) == []          # once per rule, not per layer


def test_dead_units_at_initialisation_are_not_blamed_on_the_learning_rate():
    rows = [("1:relu", "dead", 0.5), ("3:relu", "dead", 0.3)]
    (f,) = FindingRules(context=RELU_NET).check(1, rows)
    assert "from the start (step 1, before any update)" in f.message
    assert "(and 30% in 3:relu)" in f.message
    assert "learning rate is not the cause" in f.message and "lower the" not in f.message
    assert f.question == "A6"
    # inputs far from zero: the cause named is the inputs, and the question the one on scaling
    (g,) = FindingRules(context=_with(RELU_NET, input_rms=10.0, input_max=12.0)).check(1, rows)
    assert "standardise the inputs" in g.message and g.question == "R4"
    # the same rows at a later first measurement: units that died during training
    (h,) = FindingRules(context=RELU_NET).check(40, rows)
    assert "lower the learning rate" in h.message and "from the start" not in h.message


def test_a_saturating_activation_at_zero_is_not_a_dead_unit():
    assert FindingRules(context=TANH_NET).check(5, [("1:tanh", "dead", 0.9)]) == []
    assert [f.rule for f in FindingRules(context=RELU_NET).check(5, [("1:relu", "dead", 0.9)])] \
        == ["dead_units"]


def test_saturation_names_its_cause():
    rows = [("0:dense", "weight_scale", 0.9), ("1:tanh", "saturated", 0.4)]
    # Xavier weights and inputs of RMS 2.9: the inputs
    (f,) = FindingRules(context=_with(TANH_NET, input_rms=2.9, input_max=5.0)).check(1, rows)
    assert "(xavier_uniform) are not the cause" in f.message
    assert "Standardise the inputs" in f.message and "Use Xavier" not in f.message
    assert f.question == "R4"
    # standardised inputs, weights of norm 4 per unit: the weights
    big = [("0:dense", "weight_scale", 4.0), ("1:tanh", "saturated", 0.4)]
    (g,) = FindingRules(context=TANH_NET).check(1, big)
    assert "too large for tanh" in g.message and "Use Xavier" in g.message
    assert "Standardise" not in g.message and g.question == "I2"
    # saturation that appears during training: the weights grew
    rules = FindingRules(context=TANH_NET)
    assert rules.check(1, [("0:dense", "weight_scale", 0.9), ("1:tanh", "saturated", 0.1)]) == []
    (h,) = rules.check(300, rows)
    assert "since step 300, not at initialisation" in h.message and "weight decay" in h.message


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
    (f,) = FindingRules().check(1, rows)
    assert f.rule == rule and f.question == RULE_QUESTIONS[rule]


@pytest.mark.parametrize("rows", [
    [("model", "grad_ratio", 0.02)], [("model", "grad_ratio", 50.0)],
    [("1:tanh", "saturated", 0.2)], [("0:dense", "update_ratio", 0.05)],
    [("0:dense", "update_ratio", 2e-5)], [("1:relu", "nonfinite", 0.0)],
    [("1:relu", "dead", 0.2)], [("0:dense", "distinct_units", 33)],
])
def test_no_rule_fires_inside_its_threshold(rows):
    assert FindingRules().check(1, rows, {"0:dense": 64}) == []


def test_one_verdict_on_the_learning_rate_per_step():
    """One layer far above, another far below: the learning rate is one number, so one finding
    (too high; the slow layer is a gradient-flow matter), never both."""
    rules = FindingRules(context=RELU_NET)
    rows = [("0:dense", "update_ratio", 1e-6), ("2:dense", "update_ratio", 0.5),
            ("4:dense", "update_ratio", 0.3)]
    assert [f.rule for f in rules.check(1, rows)] == ["update_ratio_high"]
    # and "too low" never follows "too high" in the same run
    low = [(la, "update_ratio", 1e-7) for la in ("0:dense", "2:dense", "4:dense")]
    assert rules.check(50, low) == []
    # one slow layer among healthy ones is not a learning rate too low
    mixed = [("0:dense", "update_ratio", 1e-6), ("2:dense", "update_ratio", 1e-3)]
    assert FindingRules(context=RELU_NET).check(1, mixed) == []


def test_small_updates_of_a_converged_model_are_not_a_learning_rate_too_low():
    low = [(la, "update_ratio", 1e-7) for la in ("0:dense", "2:dense", "4:dense")]
    rules = FindingRules(context=RELU_NET)
    rules.check(1, [("model", "loss", 0.69), ("model", "accuracy", 0.5)])
    assert rules.check(900, [("model", "loss", 0.01), ("model", "accuracy", 0.99)] + low) == []
    # the same ratios while the loss has not moved: too low
    rules = FindingRules(context=RELU_NET)
    rules.check(1, [("model", "loss", 0.69), ("model", "accuracy", 0.5)])
    (f,) = rules.check(900, [("model", "loss", 0.68), ("model", "accuracy", 0.52)] + low)
    assert f.rule == "update_ratio_low" and "raise it" in f.message


def test_no_update_ratio_for_weights_near_zero_or_identical_units():
    """After zero initialisation ‖W‖ ≈ 0, so ‖ΔW‖/‖W‖ ≈ 1 says nothing about the learning rate."""
    tiny = [("4:dense", "weight_scale", 1e-3), ("4:dense", "update_ratio", 1.1)]
    assert FindingRules(context=RELU_NET).check(10, tiny) == []
    grown = [("4:dense", "weight_scale", 0.8), ("4:dense", "update_ratio", 1.1)]
    assert [f.rule for f in FindingRules(context=RELU_NET).check(10, grown)] \
        == ["update_ratio_high"]
    symmetric = [("0:dense", "distinct_units", 1), ("0:dense", "update_ratio", 1.1)]
    assert [f.rule for f in FindingRules(context=RELU_NET).check(10, symmetric)] == ["symmetry"]


def test_vanishing_gradients_read_in_context():
    # behind dead ReLUs the gradient stops at the dead units: that finding alone
    rows = [("model", "grad_ratio", 1e-4), ("1:relu", "dead", 0.8)]
    assert [f.rule for f in FindingRules(context=RELU_NET).check(50, rows)] == ["dead_units"]
    # a ReLU net without dead units: too-small weights, not "saturating activations"
    (f,) = FindingRules(context=RELU_NET).check(1, [("model", "grad_ratio", 1e-4)])
    assert "saturating" not in f.message and "He initialisation" in f.message
    assert f.question == "I3"
    (g,) = FindingRules(context=TANH_NET).check(1, [("model", "grad_ratio", 1e-4)])
    assert "saturating activation" in g.message and g.question == "A4"


def test_vanishing_gradients_from_small_weights_and_batchnorm_at_initialisation():
    small = [("model", "grad_ratio", 1e-6)] + [(la, "weight_scale", 0.04)
                                               for la in ("0:dense", "2:dense", "4:dense")]
    (f,) = FindingRules(context=TANH_NET).check(1, small)
    assert "weights are too small" in f.message and "saturating" not in f.message
    assert f.question == "I2"
    # with BatchNorm the evaluation-mode pass before any update uses running statistics no
    # update has set: no verdict at initialisation, one later (without "add batch normalisation")
    bn = _with(TANH_NET, layers=("0:dense", "1:batchnorm1d", "2:tanh", "3:dense"))
    rules = FindingRules(context=bn)
    assert rules.check(0, [("model", "grad_ratio", 1e-4)]) == []
    (g,) = rules.check(100, [("model", "grad_ratio", 1e-4)])
    assert g.rule == "vanishing_gradient" and "batch normalisation" not in g.message


def test_symmetry_needs_half_the_units_or_fewer_to_be_equal():
    rules = FindingRules()
    (f,) = rules.check(1, [("0:dense", "distinct_units", 1)], {"0:dense": 64})
    assert f.rule == "symmetry" and "only 1 distinct unit(s) out of 64" in f.message
    assert f.question == "I1"
    # a layer whose width is unknown (the output layer, left out by the probe) never fires
    assert FindingRules().check(1, [("4:dense", "distinct_units", 1)], {}) == []


def test_nonfinite_is_reported_once_and_silences_the_rest():
    rules = FindingRules(context=RELU_NET)
    found = rules.check(5, [("1:relu", "nonfinite", 1.0), ("3:relu", "nonfinite", 1.0),
                            ("model", "loss", math.nan), ("0:dense", "update_ratio", 5.0)])
    assert [(f.rule, f.layer) for f in found] == [("nonfinite", "1:relu")]
    assert rules.check(6, [("5:relu", "nonfinite", 1.0), ("1:relu", "dead", 1.0)]) == []


def test_flat_loss_needs_the_accuracy_to_rise():
    rules = FindingRules()
    assert rules.check(1, [("model", "loss", 2.30), ("model", "accuracy", 0.10)]) == []
    assert rules.check(5, [("model", "loss", 2.29), ("model", "accuracy", 0.15)]) == []
    (f,) = rules.check(9, [("model", "loss", 2.28), ("model", "accuracy", 0.22)])
    assert f.rule == "flat_loss" and "2.3 → 2.28" in f.message and "rose from 10% to 22%" \
        in f.message
    # the case: accuracy fell from 52% to 38% — not "the ranking improves"
    rules = FindingRules()
    rules.check(1, [("model", "loss", 0.69), ("model", "accuracy", 0.52)])
    assert rules.check(9, [("model", "loss", 0.70), ("model", "accuracy", 0.38)]) == []
    # a loss that falls with the accuracy is healthy
    rules = FindingRules()
    rules.check(1, [("model", "loss", 2.30), ("model", "accuracy", 0.10)])
    assert rules.check(9, [("model", "loss", 1.5), ("model", "accuracy", 0.6)]) == []


def _curve(rules, points):
    for step, loss, acc in points:
        rules.check(step, [("model", "loss", loss), ("model", "accuracy", acc)])


def test_underfitting_at_the_end_of_a_run_both_ways():
    small = _with(RELU_NET, n_params=8, n_examples=200)
    plateau = [(1, 0.69, 0.5), (100, 0.67, 0.6), (200, 0.665, 0.62), (300, 0.664, 0.62)]
    rules = FindingRules(context=small)
    _curve(rules, plateau)
    (f,) = rules.finish()
    assert f.rule == "underfitting" and "too small to fit them" in f.message
    assert f.question is None and f.step == 300
    assert rules.finish() == []                                        # once
    # the same plateau with a model larger than the data: not its size first
    rules = FindingRules(context=_with(RELU_NET, n_params=320, n_examples=160))
    _curve(rules, plateau)
    (g,) = rules.finish()
    assert g.rule == "underfitting" and "raise the learning rate" in g.message
    # still falling at the end: too short
    rules = FindingRules(context=small)
    _curve(rules, [(1, 0.69, 0.5), (10, 0.62, 0.6), (20, 0.55, 0.7), (30, 0.45, 0.75)])
    assert [f.rule for f in rules.finish()] == ["train_longer"]
    # a model that has learnt its data: nothing, whatever the trend
    rules = FindingRules(context=small)
    _curve(rules, [(1, 0.69, 0.5), (10, 0.1, 0.98), (20, 0.05, 0.99), (30, 0.02, 1.0)])
    assert rules.finish() == []
    # a cause already found explains the underfitting: no second diagnosis
    rules = FindingRules(context=RELU_NET)
    rules.check(1, [("1:relu", "dead", 0.9)])
    _curve(rules, plateau)
    assert rules.finish() == []


def test_rank_puts_importance_then_the_lesson_first():
    found = [Finding(1, "model", "flat_loss", 0.0, "", "T1"),
             Finding(9, "1:relu", "dead_units", 0.5, "", "A6"),
             Finding(3, "0:dense", "update_ratio_high", 0.5, "", "T2")]
    assert [f.rule for f in rank(found)] == ["dead_units", "update_ratio_high", "flat_loss"]
    assert [f.rule for f in rank(found, lesson="flat_loss")][0] == "flat_loss"
    with pytest.raises(ConfigError, match="lesson must be a finding rule, got 'A6'"):
        rank(found, lesson="A6")
    assert set(RULE_QUESTIONS) == set(RULES)


def test_thresholds_and_context_are_adjustable_and_checked():
    rules = FindingRules(Thresholds(dead=0.05))
    assert [f.rule for f in rules.check(1, [("1:relu", "dead", 0.1)])] == ["dead_units"]
    with pytest.raises(ConfigError, match="dead must be a finite number > 0, got -1"):
        Thresholds(dead=-1)
    with pytest.raises(ConfigError, match="thresholds must be a whynet.probes.Thresholds"):
        FindingRules({"dead": 0.1})
    with pytest.raises(ConfigError, match="context must be a whynet.probes.findings.Context"):
        FindingRules(context={"input_rms": 3})


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
    assert (first.rule, first.step, first.question) == ("vanishing_gradient", 1, "A4")
    # each sigmoid layer multiplies ‖∂L/∂z‖ by at most ¼·‖W‖: nine of them leave < 1e-4
    assert first.value < 1e-4
    # the first layers barely move (the old rule said "learning rate too low" for them while
    # the last layer moved 100× faster); the vanishing gradient is the one cause reported
    ratios = probe.records.where(step=1, quantity="update_ratio")
    assert min(ratios.column("value")) < 1e-5 < max(ratios.column("value"))
    assert "update_ratio_low" not in _rules(probe)
    assert "dead_units" not in _rules(probe)
    assert probe.context.saturating and probe.context.input_rms <= 1


def test_relu_network_at_too_large_a_learning_rate_kills_units(data):
    probe = _train(data, [64, 64, 64, 10], "relu", lr=2.0)
    (dead,) = [f for f in probe.findings if f.rule == "dead_units"]
    assert dead.value >= 0.5 and dead.layer in {"1:relu", "3:relu"} and dead.step > 1
    assert "lower the learning rate" in dead.message


def test_zero_initialised_network_is_symmetric(data):
    probe = _train(data, [64, 32, 32, 10], "sigmoid", lr=0.5, init="zeros")
    (sym,) = [f for f in probe.findings if f.rule == "symmetry"]
    assert (sym.layer, sym.step) == ("0:dense", 1) and "(2:dense too)" in sym.message
    assert not _rules(probe) & {"update_ratio_high", "update_ratio_low", "vanishing_gradient"}
    # and it stays so: after training every hidden layer still has one distinct unit
    last = probe.records.steps()[-1]
    assert probe.records.value(last, "0:dense", "distinct_units") == 1
    assert probe.records.value(last, "2:dense", "distinct_units") == 1


def test_healthy_he_relu_network_has_no_findings(data):
    # stopped after 3 epochs, the same net is still learning: the run is too short
    short = _train(data, [64, 64, 64, 10], "relu", lr=0.05)
    assert [f.rule for f in short.findings] == ["train_longer"], short.report()
    probe = _train(data, [64, 64, 64, 10], "relu", lr=0.05, epochs=10)
    assert probe.findings == [], probe.report()
    assert probe.report() == "no findings"
    # it did learn, and its gradient flow is even across the layers
    assert probe.records.series("model", "accuracy")[1][-1] > 0.97
    assert 0.3 < probe.records.series("model", "grad_ratio")[1][0] < 3
    assert diagnose(probe.records, probe.context) == []


def test_findings_are_findings():
    assert isinstance(FindingRules().check(1, [("1:relu", "dead", 1.0)])[0], Finding)
