"""The activation experiments (A1–A10): each quick grid runs, its verdicts answer its questions
with computed statuses, and the robust effects point the way the mathematics says, with margins."""

import functools
import importlib

import matplotlib.text
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
    # the per-example 100% is a demonstration, never what makes the badge green
    assert exp._tests(results)["shown"].status == "shown"
    assert exp.verdicts(results)[0].status in ("holds", "inconclusive")
    corrections = exp.corrections(results)
    assert [c.note for c in corrections] == ["002"]
    # note 002 itself says tanh still saturates: the correction keeps only what it got wrong
    assert not any("saturat" in f"{c.measured} {c.number}" for c in corrections)


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
    verdict = exp.verdicts(results)[0]
    assert verdict.status in ("holds", "depends")
    notes = [c.note for c in exp.corrections(results)]
    assert "000 Q2" in notes
    if verdict.status == "depends":  # ReLU not faster than tanh: the notes' "much faster" is wrong
        assert "000 Q2, 001" in notes and "activation compared" in verdict.depends_on


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
    assert [c.note for c in exp.corrections(results)] == ["002"]  # "solves zero mean": no


def test_a9_maxout_has_twice_the_parameters_and_contains_relu():
    exp, results = quick_results("a9")
    relu = where(results, net="relu")[0].result
    maxout = where(results, net="maxout")[0].result
    assert maxout["params_hidden"] == 2 * relu["params_hidden"] == 2 * (64 * 64 + 64) * 2
    for r in where(results, net="maxout"):
        assert r.result["relu_error"] < 1e-6 and r.result["leaky_error"] < 1e-6
    assert min(values(results, "cost_vs_relu", net="maxout")) > 1.3  # timed in turn with ReLU
    assert exp.verdicts(results)[0].status == "holds"


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
    assert exp.verdicts(results)[0].status == "shown"  # algebra: a demonstration, not a test


# -- every verdict complete, every figure legible ---------------------------------------------------

@pytest.mark.parametrize("exp_id", IDS)
def test_verdicts_are_complete(exp_id):
    exp, results = quick_results(exp_id)
    for v in exp.verdicts(results):
        assert v.problems() == []
        assert v.agree is not None and v.agree.n >= 2
        d = v.as_dict()
        assert d["answer"] and d["evidence"] and d["rule"]


@pytest.mark.parametrize("exp_id", IDS)
def test_figures_are_legible_at_report_width(exp_id):
    """About 7.2–7.5 in wide in the report: no text below 9 pt."""
    exp, results = quick_results(exp_id)
    for caption, fig in exp.figures(results):
        width, height = fig.get_size_inches()
        assert width >= 7.2
        fig.canvas.draw()  # creates the tick labels
        for t in fig.findobj(matplotlib.text.Text):
            if t.get_visible() and t.get_text().strip():
                assert t.get_fontsize() >= 9, (exp_id, t.get_text(), t.get_fontsize())


# -- each fix, on constructed results: the old rule said "holds", the new one must not -------------

def _a5_results(diffs):
    """Two seeds per data set, one learning rate; tanh − sigmoid = diffs[data set]."""
    out = []
    for d, diff in diffs.items():
        for seed in range(4):
            for a, acc in (("tanh", 0.8 + diff), ("sigmoid", 0.8)):
                out.append(RunResult({"dataset": d, "activation": a, "lr": 0.1, "epochs": 1},
                                     seed, {"val_acc": acc, "test_acc": acc + 0.001 * seed,
                                            "loss_curve": [1.0], "diverged": False}))
    return out


def test_a5_ties_make_it_depend_on_the_data_set():
    exp, _ = quick_results("a5")
    # old rule: a tie counted as "holds", so this was green while the correction said "wrong"
    tied = exp.verdicts(_a5_results({"moons": 0.0, "circles": 0.1, "spiral": 0.2,
                                     "digits": 0.005}))[0]
    assert tied.status == "depends" and tied.depends_on == ("data set",)
    assert [c.note for c in exp.corrections(_a5_results(
        {"moons": 0.0, "circles": 0.1, "spiral": 0.2, "digits": 0.005}))] == ["001"]
    better = _a5_results({d: 0.05 for d in ("moons", "circles", "spiral", "digits")})
    assert exp.verdicts(better)[0].status == "holds"
    assert exp.corrections(better) == []  # nothing to correct when tanh wins everywhere
    assert exp.verdicts(_a5_results({d: 0.0 for d in ("moons", "circles", "spiral",
                                                      "digits")}))[0].status == "fails"


def _a6_results(ends, relu_layer1_back=0):
    """ends[(stress, activation)] = dead fraction at the end, the same in 3 seeds."""
    from whynet.experiments.a6_dead_relu import CONDITIONS

    out = []
    for (c, a), end in ends.items():
        for seed in range(3):
            out.append(RunResult({"condition": c, "activation": a, **CONDITIONS[c]}, seed, {
                "dead_start": 0.3, "dead_max": 0.35, "dead_end": end + 0.01 * seed,
                "ever_dead": 10, "recovered": 2, "ever_dead_layer1": 4,
                "recovered_layer1": relu_layer1_back if a == "relu" else 0,
                "diverged": False, "steps": [0, 10], "dead_fraction": [0.3, end]}))
    return out


def _a6_ends(leaky_nb, leaky_lr):
    nb, lr = "negative bias", "large learning rate"
    ends = {(c, a): 0.3 for c in (nb, lr) for a in ("relu", "prelu", "elu")}
    ends.update({(nb, "leaky_relu"): leaky_nb, (lr, "leaky_relu"): leaky_lr})
    return ends


def test_a6_leaky_relu_is_judged_under_both_stresses():
    exp, _ = quick_results("a6")
    # old rule: only the negative-bias stress counted, so this one "held"
    only_nb = exp.verdicts(_a6_results(_a6_ends(leaky_nb=0.1, leaky_lr=0.3)))[0]
    assert only_nb.status == "depends" and only_nb.depends_on == ("stress",)
    only_lr = exp.verdicts(_a6_results(_a6_ends(leaky_nb=0.3, leaky_lr=0.1)))[0]
    assert only_lr.status == "depends" and "large learning rate" in only_lr.answer
    assert exp.verdicts(_a6_results(_a6_ends(0.1, 0.1)))[0].status == "holds"
    assert exp.verdicts(_a6_results(_a6_ends(0.3, 0.3)))[0].status == "fails"
    # the demonstration: a first-layer dead ReLU that comes back means an engine bug
    assert exp.verdicts(_a6_results(_a6_ends(0.1, 0.1), relu_layer1_back=1))[0].status == "fails"


def _a1_results(steps):
    """steps[feed] = steps to the target with batch 32 (3 seeds); per example one-signed."""
    from whynet.experiments.a1_zero_centring import FEEDS, NOT_CENTRED

    out = []
    for f in FEEDS:
        for seed in range(3):
            centred = f not in NOT_CENTRED
            out.append(RunResult({"part": "per-example", "feed": f}, seed, {
                "agreement": 0.0 if centred else 1.0, "same_direction": 0.5,
                "steps_to_target": 100, "total_steps": 400}))
            out.append(RunResult({"part": "minibatch", "feed": f}, seed, {
                "agreement": 0.0 if centred else 0.6, "same_direction": 0.5,
                "steps_to_target": steps[f] + seed, "total_steps": 1050}))
    return out


def test_a1_slower_learning_is_tested_with_the_centring_controls():
    exp, _ = quick_results("a1")
    # sigmoid slower than tanh (the old rule: holds), but shifting tanh off zero costs nothing
    v = exp.verdicts(_a1_results({"sigmoid": 400, "sigmoid − ½": 200, "tanh": 40,
                                  "tanh + 1": 30}))[0]
    assert v.status == "fails"
    v = exp.verdicts(_a1_results({"sigmoid": 400, "sigmoid − ½": 200, "tanh": 40,
                                  "tanh + 1": 80}))[0]
    assert v.status == "holds" and str(v.agree) == "3 of 3 seeds"


def _a2_results(relu_epochs, tanh_epochs, sigmoid_epochs=20):
    out = []
    for depth in (3, 5):
        for a, e in (("relu", relu_epochs), ("tanh", tanh_epochs), ("sigmoid", sigmoid_epochs)):
            for seed in range(3):
                out.append(RunResult(
                    {"part": "train", "activation": a, "lr": 0.1, "depth": depth, "width": 32,
                     "epochs": 60}, seed,
                    {"epochs_to_target": e, "seconds_to_target": 0.01 * e, "seconds_total": 0.6,
                     "seconds_per_epoch": 0.01, "val_acc": [0.9] * e, "best_val_acc": 0.9,
                     "diverged": False, "max_epochs": 60}))
    out += [RunResult({"part": "cost", "activation": a}, 0, {"us_per_M": 1000.0})
            for a in ("relu", "tanh", "sigmoid")]
    return out


def test_a2_speed_correction_only_when_relu_is_not_faster():
    exp, _ = quick_results("a2")
    slower = _a2_results(relu_epochs=4, tanh_epochs=2)
    v = exp.verdicts(slower)[0]
    assert v.status == "depends" and v.depends_on == ("activation compared",)
    assert [c.note for c in exp.corrections(slower)] == ["000 Q2, 001"]
    faster = _a2_results(relu_epochs=2, tanh_epochs=4)
    assert exp.verdicts(faster)[0].status == "holds"
    assert exp.corrections(faster) == []


def _a8_results(elu_trained):
    out = []
    for a, m in (("relu", 0.8), ("elu", elu_trained), ("tanh", 0.01)):
        for seed in range(3):
            out.append(RunResult({"part": "means", "activation": a}, seed, {
                "mean_init": [m] * 5, "mean_trained": [m] * 5,
                "abs_mean_init": min(m, 0.7), "abs_mean_trained": m}))
    out += [RunResult({"part": "cost", "activation": a}, 0, {"us_per_M": c})
            for a, c in (("relu", 1000.0), ("elu", 2500.0), ("tanh", 1500.0))]
    return out


def test_a8_correction_only_when_elu_stays_far_from_zero_mean():
    exp, _ = quick_results("a8")
    far = _a8_results(elu_trained=0.55)
    assert exp.verdicts(far)[0].status == "holds"  # closer to zero than ReLU: the claim holds
    assert [c.note for c in exp.corrections(far)] == ["002"]
    near = _a8_results(elu_trained=0.02)
    assert exp.corrections(near) == []


def test_a9_and_a10_demonstrations_fail_when_the_identity_breaks():
    exp, results = quick_results("a10")
    broken = [RunResult(r.spec, r.seed, {**r.result, "float64": 1.0})
              if r.spec["part"] == "collapse" else r for r in results]
    assert exp.verdicts(broken)[0].status == "fails"
    exp, results = quick_results("a9")
    broken = [RunResult(r.spec, r.seed, {**r.result, "relu_error": 0.1})
              if r.spec["net"] == "maxout" else r for r in results]
    assert exp.verdicts(broken)[0].status == "fails"


def test_a2_unclear_answer_names_the_seed_counts_per_comparison():
    from whynet.experiments.a2_relu_speed import _answer

    cmp = {3: {"won": {"sigmoid": "10 of 10 seeds", "tanh": "0 of 10 seeds"}},
           5: {"won": {"sigmoid": "10 of 10 seeds", "tanh": "1 of 10 seeds"}}}
    answer = _answer("inconclusive", ["sigmoid"], ["tanh"], {}, [3, 5], cmp)
    assert answer == ("Unclear: ReLU needed fewer epochs than sigmoid in 10/10 and 10/10 seeds, "
                      "than tanh in 0/10 and 1/10 (3 and 5 hidden layers).")
    assert len(answer.split()) <= 30
