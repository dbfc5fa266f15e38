"""The initialisation (I1–I4) and training-watching (T1–T3) experiments: each quick grid runs, and
the robust effects point the way the literature and the notes say."""

import math

import numpy as np
import pytest

from whynet.experiments.base import STATUSES, RunResult
from whynet.experiments.i1_symmetry import mechanism
from whynet.experiments.registry import get


def quick_results(exp_id: str) -> tuple:
    exp = get(exp_id)
    results = [RunResult(spec, seed, exp.run(spec, seed))
               for spec in exp.grid(quick=True) for seed in exp.seeds(quick=True)]
    return exp, results


@pytest.fixture(scope="module", params=["i1", "i2", "i3", "i4", "t1", "t2", "t3"])
def experiment(request):
    return quick_results(request.param)


def by(results, key, value):
    return [r for r in results if r.spec.get(key) == value]


def test_verdicts_answer_their_questions_with_computed_statuses(experiment):
    exp, results = experiment
    verdicts = exp.verdicts(results)
    assert [v.question for v in verdicts] == list(exp.questions)
    for v in verdicts:
        assert v.status in STATUSES
        assert v.numbers, "a verdict must show the numbers behind it"
        assert v.problems() == [], v.problems()
    figures = exp.figures(results)
    assert figures, f"{exp.id} draws at least one figure"


def test_i1_zero_init_leaves_one_distinct_unit_per_layer():
    exp, results = quick_results("i1")
    for r in by(results, "init", "zeros"):
        assert r.result["final_distinct"] == [1, 1]
        assert abs(r.result["test_acc"] - 0.5) < 0.1  # a constant predictor on balanced circles
        # ReLU and tanh: f(0) = 0, every weight gradient is exactly 0 — frozen, not symmetric.
        # Sigmoid: σ(0) = ½, the weights move, as identical copies.
        expected = "symmetric" if r.spec["activation"] == "sigmoid" else "frozen"
        assert mechanism(r.result) == expected, (r.spec, r.result["weights_moved"])
    for r in by(results, "init", "random"):
        assert r.result["final_distinct"] == [10, 5]
        assert r.result["test_acc"] > 0.85
    v = exp.verdicts(results)[0]
    assert v.status == "holds"
    assert "nothing moves" in v.answer and "sigmoid" in v.answer


def test_i1_rule_goes_the_other_way_when_zero_init_breaks_symmetry():
    exp, results = quick_results("i1")
    broken = [RunResult(r.spec, r.seed, {**r.result, "final_distinct": [10, 5]})
              if r.spec["activation"] == "tanh" and r.spec["init"] == "zeros" else r
              for r in results]
    v = exp.verdicts(broken)[0]
    assert v.status == "depends" and v.depends_on == ("activation",)
    assert mechanism({"final_distinct": [1, 1], "weights_moved": 0.0}) == "frozen"
    assert mechanism({"final_distinct": [1, 1], "weights_moved": 0.1}) == "symmetric"
    assert mechanism({"final_distinct": [3, 1], "weights_moved": 0.1}) == "broken"


def test_i2_small_weights_vanish_large_saturate_xavier_spreads():
    exp, results = quick_results("i2")
    for r in by(results, "init", "×0.01"):
        assert r.result["std"][-1] < 1e-3 * r.result["std"][0]
    for r in by(results, "init", "×1"):
        assert min(r.result["saturated"][1:]) > 0.5
    for r in by(results, "init", "Xavier"):
        assert 0.1 < r.result["std"][-1] / r.result["std"][0] < 1.0


def test_i3_he_keeps_relu_spread_xavier_collapses_and_30_layers_train_only_under_he():
    exp, results = quick_results("i3")
    fwd = by(results, "part", "forward")
    for r in by(fwd, "init", "He"):
        assert 0.1 < r.result["std"][-1] / r.result["std"][0] < 10  # within 10× of layer 1
    for r in by(fwd, "init", "×0.01"):
        assert r.result["std"][-1] / r.result["std"][0] < 1e-3
    for r in by(fwd, "init", "Xavier"):
        ratio = r.result["std"][-1] / r.result["std"][0]
        assert 0.01 < ratio < 0.2  # theory: (1/√2)^9 ≈ 0.044
    sgd = by(by(results, "part", "train30"), "optimizer", "sgd")
    for r in by(sgd, "init", "xavier_normal"):
        assert abs(r.result["final_loss"] - math.log(10)) < 0.02
    for r in by(sgd, "init", "he_normal"):
        assert r.result["final_loss"] < 0.8 * math.log(10)
    for r in by(by(results, "part", "train30"), "optimizer", "adam"):
        assert r.result["final_loss"] < 0.8 * math.log(10)  # Adam trains even the Xavier net
    for r in by(results, "part", "glorot"):
        top = [m[-1] for m in r.result["means"]]
        assert top[-1] < top[0] - 0.05  # the top sigmoid layer drifts towards 0


    v = exp.verdicts(results)[0]
    assert v.status == "depends" and v.depends_on == ("optimizer",)


def _i3_results(adam_xavier_loss):
    """I3 runs with a collapsing forward pass, SGD stalling Xavier, and Adam's Xavier loss."""
    out = []
    for seed in range(3):
        for init, last in (("×0.01", 1e-9), ("Xavier", 0.04), ("He", 0.8)):
            out.append(RunResult({"part": "forward", "init": init}, seed,
                                 {"std": [1.0] + [0.5] * 8 + [last]}))
        for opt, xl, hl in (("sgd", math.log(10), 1.5), ("adam", adam_xavier_loss, 0.5)):
            for init, loss in (("xavier_normal", xl), ("he_normal", hl)):
                out.append(RunResult({"part": "train30", "init": init, "optimizer": opt}, seed,
                                     {"final_loss": loss, "loss": [loss]}))
    return out


def test_i3_depends_on_the_optimizer_when_adam_trains_xavier():
    exp = get("i3")
    v = exp.verdicts(_i3_results(adam_xavier_loss=1.4))[0]
    assert v.status == "depends" and v.depends_on == ("optimizer",)  # the old rule said holds
    assert "Adam" in v.answer
    v = exp.verdicts(_i3_results(adam_xavier_loss=math.log(10)))[0]
    assert v.status == "holds"  # had Adam stalled too, the note would hold as stated


def test_i4_zero_bias_is_harmless_zero_weights_are_not():
    exp, results = quick_results("i4")
    for data in ("circles", "moons"):
        runs = by(results, "data", data)
        acc = {s: np.mean([r.result["test_acc"] for r in by(runs, "start", s)])
               for s in {r.spec["start"] for r in runs}}
        assert acc["random W, zero b"] > 0.9
        assert acc["random W, zero b"] > acc["zero W, zero b"] + 0.3
        assert all(r.result["distinct_layer1"] == 1 for r in by(runs, "start", "zero W, zero b"))
        # Zero W with random biases: the units differ (no symmetry) …
        assert all(r.result["distinct_layer1"] == 10 for r in by(runs, "start", "zero W, random b"))
    # … but W₁ can only follow the linear signal, which circles lacks and moons has.
    sig = {d: np.mean([r.result["linear_signal"] for r in by(results, "data", d)])
           for d in ("circles", "moons")}
    assert sig["circles"] < 0.03 < 0.2 < sig["moons"]


def test_i4_depends_on_the_data_set_when_zero_weights_learn_on_moons():
    exp, results = quick_results("i4")
    learned = [RunResult(r.spec, r.seed, {**r.result, "test_acc": 0.92, "w1_norm": 1.0})
               if r.spec["data"] == "moons" and r.spec["start"] == "zero W, random b" else r
               for r in results]
    v = exp.verdicts(learned)[0]
    assert v.status == "depends" and v.depends_on == ("data set",)
    assert "3/3 seeds on moons" in v.answer


def test_t1_loss_stays_near_ln10_while_accuracy_rises():
    exp, results = quick_results("t1")
    for r in by(results, "lr", 0.01):
        assert abs(r.result["loss_last"] - math.log(10)) < 0.1
        assert r.result["acc_last"] >= 0.2
        assert r.result["acc_last"] > r.result["acc_first"] + 0.15


def test_t2_same_gradient_different_steps():
    exp, results = quick_results("t2")
    checksums = {}
    for r in results:
        checksums.setdefault(r.seed, set()).add(r.result["first_grad_checksum"])
    assert all(len(c) == 1 for c in checksums.values()), "every optimiser saw the same gradient"
    assert exp.verdicts(results)[0].status == "holds"
    same = [RunResult(r.spec, r.seed, {**r.result, "cosine_mean": 1.0}) for r in results]
    assert exp.verdicts(same)[0].status == "fails"  # adaptive steps along −g: the rule turns
    for r in by(results, "optimiser", "SGD"):
        assert r.result["sgd_formula_error"] == 0.0
        assert min(r.result["cosine"]) > 0.999999
    for r in by(results, "optimiser", "Adam"):
        assert r.result["cosine_mean"] < 0.95


def test_t3_loop_and_batch_agree_and_batch_is_faster():
    exp, results = quick_results("t3")
    for r in results:
        assert r.result["max_abs_difference"] <= 1e-12
    for r in by(results, "batch", 256):
        assert r.result["speedup"] > 5  # measured ≈ 28× on one thread; generous for busy machines
