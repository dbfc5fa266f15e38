"""The activation experiments (A1–A10): each quick grid runs, its verdicts answer its questions
with computed statuses, and the robust effects point the way the mathematics says, with margins."""

import functools
import importlib

import numpy as np
import pytest

from whynet.experiments.base import STATUSES, Correction, RunResult

MODULES = {"a1": "a1_zero_centring", "a2": "a2_relu_speed", "a3": "a3_sigmoid_output",
           "a4": "a4_vanishing", "a5": "a5_tanh_vs_sigmoid", "a6": "a6_dead_relu",
           "a7": "a7_prelu", "a8": "a8_elu_mean", "a9": "a9_maxout",
           "a10": "a10_linear_collapse"}
IDS = list(MODULES)


@functools.lru_cache(maxsize=None)
def quick_results(exp_id: str) -> tuple:
    """Each quick grid runs once per test session (about 20 s of CPU for all ten). The modules
    are imported directly, so that an unrelated experiment that fails to import does not stop
    these tests (the registry's own tests cover discovery)."""
    exp = importlib.import_module(f"whynet.experiments.{MODULES[exp_id]}").EXPERIMENT
    assert exp.id == exp_id
    results = [RunResult(spec, seed, exp.run(spec, seed))
               for spec in exp.grid(quick=True) for seed in exp.seeds(quick=True)]
    return exp, results


def where(results, **spec):
    return [r for r in results if all(r.spec.get(k) == v for k, v in spec.items())]


def values(results, key, **spec):
    return [r.result[key] for r in where(results, **spec)]


@pytest.mark.parametrize("exp_id", IDS)
def test_verdicts_answer_their_questions_with_computed_statuses(exp_id):
    exp, results = quick_results(exp_id)
    assert exp.seeds_quick >= 2
    verdicts = exp.verdicts(results)
    assert [v.question for v in verdicts] == list(exp.questions) == [exp_id.upper()]
    for v in verdicts:
        assert v.status in STATUSES
        assert v.numbers, "a verdict shows the numbers behind it"
        assert "±" in v.sentence or "%" in v.sentence, "the sentence states measured numbers"
    figures = exp.figures(results)
    assert figures, f"{exp_id} draws at least one figure"
    for f in figures:
        caption, fig = f
        assert caption and fig.axes
    for c in exp.corrections(results):
        assert isinstance(c, Correction) and c.number


def test_a1_sigmoid_fed_gradients_share_one_sign_tanh_fed_do_not():
    exp, results = quick_results("a1")
    per_example = where(results, part="per-example")
    # ∂L/∂w_k = δ·a_k with every a_k > 0: one sign, always (the update of a batch of one)
    for f in ("sigmoid", "tanh + 1"):
        assert min(values(per_example, "agreement", feed=f)) > 0.95
    for f in ("tanh", "sigmoid − ½"):
        assert max(values(per_example, "agreement", feed=f)) < 0.05  # 8 inputs of mixed sign
    # with plain SGD, two weights of a sigmoid-fed unit always move the same way
    assert values(per_example, "same_direction", feed="sigmoid") == [1.0] * 3
    minibatch = where(results, part="minibatch")
    for s, t in zip(values(minibatch, "agreement", feed="sigmoid"),
                    values(minibatch, "agreement", feed="tanh")):
        assert s > t + 0.3  # signs mix across a batch, but far less than for tanh
    steps = {f: [r.result["steps_to_target"] or r.result["total_steps"]
                 for r in where(minibatch, feed=f)] for f in ("sigmoid", "tanh")}
    assert np.mean(steps["sigmoid"]) > 3 * np.mean(steps["tanh"])
    assert exp.verdicts(results)[0].status == "holds"
    notes = [c.note for c in exp.corrections(results)]
    assert notes == ["002"]


def test_a2_relu_beats_sigmoid_and_costs_less_per_element():
    exp, results = quick_results("a2")
    best = exp._best(results, 3)
    epochs = {a: np.mean([r.result["epochs_to_target"] or 99 for r in runs])
              for a, (lr, runs) in best.items()}
    assert epochs["relu"] < epochs["sigmoid"] - 2
    cost = {a: min(values(results, "us_per_M", part="cost", activation=a))
            for a in ("relu", "sigmoid")}
    assert cost["sigmoid"] > 1.2 * cost["relu"]  # an exp and a division vs a comparison
    relu = values(results, "delta_ratio", part="profile", activation="relu")
    sigmoid = values(results, "delta_ratio", part="profile", activation="sigmoid")
    assert min(relu) > 0.1 and max(sigmoid) < 1e-3
    assert [c.note for c in exp.corrections(results)] == ["000 Q2"]
    assert exp.verdicts(results)[0].status in ("holds", "depends")


def test_a3_only_sigmoid_outputs_are_always_probabilities():
    exp, results = quick_results("a3")
    assert values(results, "valid", head="sigmoid + BCE") == [1.0] * 3
    for head in ("linear + MSE", "tanh + MSE"):
        assert max(values(results, "valid", head=head)) < 1.0  # some outputs leave [0, 1]
    assert min(values(results, "p_min", head="tanh + MSE")) < 0  # tanh reaches below 0
    for r in results:
        assert r.result["accuracy"] > 0.8  # every head learns moons; only the outputs differ
        assert 0 <= r.result["ece"] < 0.2


def test_a4_sigmoid_gradient_vanishes_and_relu_explodes_with_large_weights():
    exp, results = quick_results("a4")
    for r in where(results, activation="sigmoid", scale="standard"):
        assert r.result["delta_ratio"] < 1e-3   # 10 layers: ~0.23^9 ≈ 2e-6
        assert r.result["grad_ratio"] < 1e-3
        assert max(r.result["fprime"]) <= 0.25  # σ′ ≤ 1/4 in every layer
    for r in where(results, activation="relu", scale="standard"):
        assert 0.1 < r.result["delta_ratio"] < 10  # He init: neither vanishes nor explodes
    for r in where(results, activation="relu", scale="N(0,1)"):
        assert r.result["delta_ratio"] > 1e3   # √(64/2) ≈ 5.7 per layer
    assert exp.verdicts(results)[0].status == "depends"


def test_a5_tanh_ahead_on_toy_sets():
    exp, results = quick_results("a5")
    cmp = exp._compare(results)
    for d in ("moons", "circles"):
        assert cmp[d]["tanh"].mean > cmp[d]["sigmoid"].mean + 0.05
    assert cmp["digits"]["tanh"].mean > 0.85 and cmp["digits"]["sigmoid"].mean > 0.85
    assert [c.note for c in exp.corrections(results)] == ["001"]


def test_a6_dead_relus_of_layer_one_never_recover_prelu_and_elu_revive():
    exp, results = quick_results("a6")
    for r in where(results, activation="relu"):
        assert r.result["recovered_layer1"] == 0  # no gradient, fixed inputs: dead for good
    nb = where(results, condition="negative bias")
    relu = values(nb, "dead_end", activation="relu")
    assert min(values(nb, "dead_start", activation="relu")) > 0.2
    for a in ("prelu", "elu"):
        for x, r in zip(values(nb, "dead_end", activation=a), relu):
            assert x < r - 0.05


def test_a7_prelu_alpha_moves_and_its_gradient_checks():
    exp, results = quick_results("a7")
    for r in where(results, part="gradcheck"):
        for key in ("layer_shared_alpha", "layer_per_unit_alpha", "network_alpha", "layer_x"):
            assert r.result[key] < 1e-6
    for r in where(results, part="train"):
        assert r.result["alpha"][0] == [0.25] * 3  # PyTorch's and He et al.'s initial value
        assert max(abs(a - 0.25) for a in r.result["alpha_end"]) > 0.02
    assert exp.verdicts(results)[0].status == "holds"


def test_a8_elu_mean_between_relu_and_tanh_and_elu_costs_more():
    exp, results = quick_results("a8")
    for key in ("abs_mean_init", "abs_mean_trained"):
        for relu, elu, tanh in zip(*(values(results, key, part="means", activation=a)
                                     for a in ("relu", "elu", "tanh"))):
            assert tanh < 0.05 < elu < relu
    cost = {a: min(values(results, "us_per_M", part="cost", activation=a))
            for a in ("relu", "elu")}
    assert cost["elu"] > 1.1 * cost["relu"]


def test_a9_maxout_has_twice_the_parameters_and_contains_relu():
    exp, results = quick_results("a9")
    relu = where(results, net="relu")[0].result
    maxout = where(results, net="maxout")[0].result
    assert maxout["params_hidden"] == 2 * relu["params_hidden"] == 2 * (64 * 64 + 64) * 2
    for r in where(results, net="maxout"):
        assert r.result["relu_error"] < 1e-6 and r.result["leaky_error"] < 1e-6
    ms = {n: np.median(values(results, "ms_per_step", net=n)) for n in ("relu", "maxout")}
    assert ms["maxout"] > 1.3 * ms["relu"]


def test_a10_linear_layers_collapse_and_cannot_separate_circles_or_xor():
    exp, results = quick_results("a10")
    for r in where(results, part="collapse"):
        assert r.result["float64"] < 1e-10 * r.result["scale"]
        assert r.result["float32"] < 1e-4 * r.result["scale"]
        assert r.result["collapsed_weight"] == 1000.0 and r.result["max_error_vs_1000z"] == 0.0
    for d in ("circles", "xor"):
        assert max(values(results, "test_acc", dataset=d, activation="identity")) <= 0.7
        for a in ("tanh", "relu"):
            assert min(values(results, "test_acc", dataset=d, activation=a)) >= 0.9
    assert exp.verdicts(results)[0].status == "holds"
