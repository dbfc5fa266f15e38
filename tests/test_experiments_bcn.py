"""The batch-norm (B1–B2), convolution (C1–C2) and recurrence (N1) experiments: each quick grid
runs, its verdicts answer their questions, and the robust effects point the way the literature
and the notes say."""

import math

import numpy as np
import pytest

from whynet.experiments import b1_bn_identity, b2_bn_deep, c1_cnn_vs_mlp, c2_filters, n1_bptt
from whynet.experiments.base import STATUSES, RunResult
from whynet.nn import BatchNorm1d

MODULES = {"b1": b1_bn_identity, "b2": b2_bn_deep, "c1": c1_cnn_vs_mlp, "c2": c2_filters,
           "n1": n1_bptt}
_cache: dict = {}


def quick_results(exp_id: str):
    """The experiment and its quick grid's results, computed once per test session, under the
    same strict NumPy error settings as every test."""
    if exp_id not in _cache:
        exp = MODULES[exp_id].EXPERIMENT
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            results = [RunResult(spec, seed, exp.run(spec, seed))
                       for spec in exp.grid(quick=True) for seed in exp.seeds(quick=True)]
        _cache[exp_id] = (exp, results)
    return _cache[exp_id]


def by(results, **spec):
    return [r for r in results if all(r.spec.get(k) == v for k, v in spec.items())]


@pytest.mark.parametrize("exp_id", list(MODULES))
def test_verdicts_answer_their_questions_with_computed_statuses(exp_id):
    exp, results = quick_results(exp_id)
    assert exp.id == exp_id and exp.seeds_quick >= 2
    verdicts = exp.verdicts(results)
    assert [v.question for v in verdicts] == list(exp.questions)
    for v in verdicts:
        assert v.status in STATUSES
        assert v.numbers, "a verdict must show the numbers behind it"
        assert v.rule, "the rule that decided the status is stated"
        assert v.problems() == [], v.problems()
    figures = exp.figures(results)
    assert figures, f"{exp_id} draws at least one figure"
    for item in figures:
        caption, fig = item if isinstance(item, tuple) else ("", item)
        assert caption and fig.axes
    for p in exp.published(results):
        assert p.question in exp.questions and p.theirs and p.ours


# -- B1 ------------------------------------------------------------------------------------------
def test_b1_gamma_and_beta_undo_batchnorm_to_round_off():
    exp, results = quick_results("b1")
    undo = [r for r in results if r.spec["layer"] != "bn_net"]
    assert len(undo) == 4 * exp.seeds_quick
    for r in undo:
        res = r.result
        bound = max(1.0, res["scale"])
        # float32: ≤ 80 ulps of the largest value; float64: ≤ 4500 ulps (see TOLERANCE).
        assert res["diff_float32"] <= 1e-5 * bound and res["diff_eval_float32"] <= 1e-5 * bound
        assert res["diff_float64"] <= 1e-12 * bound and res["diff_eval_float64"] <= 1e-12 * bound
        # Normalised first: per channel mean 0 and std 1 (less ε/(2σ²)).
        assert res["max_abs_mean_float64"] < 1e-12 and res["max_std_error_float64"] < 1e-3
        assert res["out_dtype_float32"] == "float32" and res["out_dtype_float64"] == "float64"
    # Real activations are not already normalised, or the test would prove nothing.
    assert max(r.result["scale"] for r in undo) > 5
    assert exp.verdicts(results)[0].status == "shown"  # an identity: a demonstration
    off = [RunResult(r.spec, r.seed, {**r.result, "diff_float32": 1.0})
           if r.spec["layer"] != "bn_net" else r for r in results]
    assert exp.verdicts(off)[0].status == "fails"  # an engine bug would show


def test_b1_training_does_not_choose_the_identity():
    """A net trained with BatchNorm keeps γ near its start (1), far from √(σ² + ε)."""
    exp, results = quick_results("b1")
    learned = by(results, layer="bn_net")
    assert learned
    for r in learned:
        assert r.result["test_acc"] > 0.9
        assert abs(r.result["gamma_median"] - 1) < 0.3
        assert r.result["identity_gamma_median"] > 1.3 * r.result["gamma_median"]
        assert r.result["near_identity"] < 0.1
    (correction,) = exp.corrections(results)
    assert correction.question == "B1" and correction.note == "004 p59"
    assert correction.says.startswith("asks") and correction.so_what  # a question, answered


def test_b1_restored_differs_from_a_wrong_gamma():
    """The measure can fail: γ = σ without ε leaves a visible error where σ² is small."""
    z = np.random.default_rng(0).normal(size=(64, 4)) * 1e-3  # σ² = 1e-6 ≪ ε = 1e-5
    bn = BatchNorm1d(4, dtype=np.float64)
    bn.forward(z)
    bn.gamma.value[...] = z.std(axis=0)
    bn.beta.value[...] = z.mean(axis=0)
    assert np.abs(bn.forward(z) - z).max() > 1e-4
    assert b1_bn_identity.undo_batchnorm(z, np.dtype("float64"))["diff"] < 1e-15


# -- B2 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("net", list(b2_bn_deep.NETS))
def test_b2_batchnorm_keeps_layers_spread_and_lets_the_net_train(net):
    exp, results = quick_results("b2")
    plain, bn = by(results, net=net, batchnorm=False), by(results, net=net, batchnorm=True)
    assert len(plain) == len(bn) == exp.seeds_quick
    for p, b in zip(plain, bn):
        # Without BN neither net learns in the budget: chance is 10% on 10 balanced classes.
        assert p.result["final_test_acc"] < 0.35
        assert b.result["final_test_acc"] > 0.85
        # With BN every hidden layer has about the same spread at initialisation.
        stds = b.result["std_init"]
        assert min(stds) > 0.5 * max(stds)
    assert exp.verdicts(results)[0].status == "holds"


def test_b2_the_two_failures_have_different_causes():
    """×0.01 tanh: the forward signal collapses (≈ 0.08× per layer); sigmoid at Xavier: the
    forward signal stays spread but the gradient reaching layer 1 is ~1e-6 of the output's."""
    _, results = quick_results("b2")
    for r in by(results, net="tanh, ×0.01", batchnorm=False):
        assert r.result["std_init"][-1] < 1e-6 * r.result["std_init"][0]
    for r in by(results, net="sigmoid, Xavier", batchnorm=False):
        assert r.result["std_init"][-1] > 0.3 * r.result["std_init"][0]
        assert r.result["grad_W_init"][0] < 1e-4 * r.result["grad_W_init"][-1]
    for r in by(results, net="sigmoid, Xavier", batchnorm=True):
        assert r.result["grad_W_init"][0] > 0.1 * r.result["grad_W_init"][-1]


# -- C1 ------------------------------------------------------------------------------------------
def test_c1_cnn_wins_only_on_ordered_positions():
    exp, results = quick_results("c1")
    acc = {(m, s): np.array([r.result["test_acc"] for r in by(results, model=m, shuffled=s)])
           for m in ("logistic", "mlp", "cnn") for s in (False, True)}
    params = {r.spec["model"]: r.result["parameters"] for r in results}
    assert abs(params["cnn"] - params["mlp"]) / params["mlp"] < 0.05  # a fair comparison
    # Ordered: every CNN seed beats every MLP seed, by a wide margin on average.
    assert acc["cnn", False].min() > acc["mlp", False].max()
    assert acc["cnn", False].mean() - acc["mlp", False].mean() > 0.2
    # Shuffled: the CNN falls a long way and loses its edge; the MLP hardly moves.
    assert acc["cnn", False].mean() - acc["cnn", True].mean() > 0.25
    assert acc["cnn", True].mean() < acc["mlp", True].mean() + 0.02
    assert abs(acc["mlp", False].mean() - acc["mlp", True].mean()) < 0.04
    # Logistic regression: well above chance, well below the MLP (published: 32%).
    assert 0.2 < acc["logistic", False].mean() < acc["mlp", False].mean() - 0.1
    assert exp.verdicts(results)[0].status == "holds"


# -- C2 ------------------------------------------------------------------------------------------
def test_c2_measure_on_known_kernels():
    prewitt = np.array([[-1, 0, 1]] * 3, dtype=float)
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    blob = np.ones((3, 3))
    spectra = c2_filters.order_spectrum(np.stack([prewitt, prewitt.T, sobel, blob]))
    assert np.allclose(spectra.sum(axis=1), 1)
    assert np.allclose(spectra[:2, 1], 1)        # Prewitt: all edge
    assert math.isclose(spectra[2, 1], 8 / 9)    # Sobel: [1,2,1] = 4/3·p₀ − 1/3·p₂ → 8/9 edge
    assert math.isclose(spectra[3, 0], 1)        # a flat blob has no edge energy
    # Random filters: the expected edge share is exactly 2/9.
    shares = c2_filters.random_edge_shares("he_uniform", 4000, seed=1)
    assert abs(shares.mean() - 2 / 9) < 4 * shares.std() / math.sqrt(len(shares))


def test_c2_trained_filters_are_smoother_and_more_edge_like_with_weight_decay():
    exp, results = quick_results("c2")
    decay, plain = by(results, weight_decay=0.01), by(results, weight_decay=0.0)
    for d, p in zip(decay, plain):
        assert d.result["test_acc"] > 0.9 and p.result["test_acc"] > 0.85
        # Half again the edge energy of random filters (2/9), in every seed.
        assert d.result["edge_share"] > 1.5 * 2 / 9
        assert d.result["edge_share"] > p.result["edge_share"]
        # Noise patterns (orders 3–4: 1/3 of a random filter's energy) are pruned away.
        assert d.result["noise_share"] < 0.25
    assert exp.verdicts(results)[0].status in ("holds", "depends")


# -- N1 ------------------------------------------------------------------------------------------
def test_n1_gradient_falls_with_distance_from_the_loss_at_standard_init():
    exp, results = quick_results("n1")
    for r in by(results, part="init", radius=n1_bptt.STANDARD):
        g = np.asarray(r.result["g"])  # ‖∂L/∂h_t‖ / ‖∂L/∂h_T‖, t = 1 … T
        assert g[-1] == 1.0
        assert np.all(np.diff(g) > 0), "each step further from the loss gets less gradient"
        assert r.result["ratio"] < 1e-5  # 40 steps at ×≈0.6
        assert r.result["radius"] < 1


def test_n1_decay_rate_follows_the_spectral_radius():
    exp, results = quick_results("n1")
    for r in by(results, part="init", radius=0.5):
        assert abs(r.result["per_step"] - 0.5) < 0.05  # unsaturated: the factor is ρ
    for r in by(results, part="init", radius=3.0):
        assert r.result["ratio"] > 1e2  # explodes despite saturation
        assert r.result["per_step"] < 3.0  # saturated units damp the growth below ρ
    steps = {k: np.mean([r.result["per_step"] for r in by(results, part="init", radius=k)])
             for k in (0.5, 1.0, 1.5, 3.0)}
    assert steps[0.5] < steps[1.0] < steps[1.5] < steps[3.0]
    assert exp.verdicts(results)[0].status == "depends"
