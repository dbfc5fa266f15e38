"""Each preset shows what its paragraph promises: trained here for a few thousand steps (the
lab's own session, no server), with the numbers the page would show.

The thresholds leave room around what was measured on this machine (given in each comment);
every run is seeded, so they are also reproducible.
"""

import pytest

from whynet.web.presets import PRESETS
from whynet.web.schema import LabConfig
from whynet.web.session import LabSession

P = {p.id: p for p in PRESETS}


def trained(preset: str, steps: int, **change) -> LabSession:
    config = LabConfig(**{**P[preset].config.model_dump(), **change})
    lab = LabSession(config)
    if steps:
        lab.train(steps)
    return lab


def column(lab, key):
    return [layer[key] for layer in lab.view["layers"]]


def metric(lab, key):
    return lab.state()["metrics"][key]


def test_dead_relu_kills_a_layer_and_leaky_relu_does_not():
    lab = trained("dead-relu", 2000)
    dead = column(lab, "dead")[:-1]
    # Measured [0.0, 0.5, 1.0]: the last hidden layer is entirely dead, the output constant.
    assert dead[-1] >= 0.75 and metric(lab, "test_acc") <= 0.6
    assert any(f["rule"] == "dead_units" and f["question"] == "A6" for f in lab.findings)
    leaky = trained("dead-relu", 2000, layers=[{"units": 8, "activation": "leaky_relu"}] * 3)
    assert column(leaky, "dead")[:-1] == [0.0, 0.0, 0.0] and leaky.stopped is None
    assert metric(leaky, "test_acc") > metric(lab, "test_acc") + 0.1  # measured 0.73 vs 0.5


def test_vanishing_sigmoid_gradients_shrink_with_depth_and_batchnorm_rescues_it():
    lab = trained("vanishing-sigmoid", 1000)
    grads = column(lab, "grad_norm")
    # Measured ≈ 1e-6 at the first hidden layer against ≈ 3e-2 at the output.
    assert grads[0] / grads[-1] < 1e-3
    assert grads[:-1] == sorted(grads[:-1])  # smaller at every step down
    assert metric(lab, "test_loss") > 0.68  # still ln 2: nothing learnt
    assert any(f["rule"] == "vanishing_gradient" and f["question"] == "A4" for f in lab.findings)
    bn = trained("batchnorm-rescue", 1000)
    assert metric(bn, "test_acc") >= 0.9  # measured 0.945


def test_zero_init_keeps_units_identical_and_random_init_does_not():
    lab = trained("zero-init", 500)
    assert column(lab, "distinct_units")[:-1] == [1, 1]
    rand = trained("zero-init", 500, init="he_normal")
    assert column(rand, "distinct_units")[:-1] == [6, 6]


def test_xavier_narrows_relu_activations_with_depth_and_he_keeps_them():
    xavier, he = trained("xavier-relu", 0), trained("he-relu", 0)
    sx, sh = column(xavier, "act_std")[:-1], column(he, "act_std")[:-1]
    # Measured at initialisation: Xavier 0.129 → 0.035, He 0.39 → 0.60.
    assert sx[-1] / sx[0] < 0.35
    assert sh[-1] / sh[0] > 0.7
    xavier.train(300)
    he.train(300)
    assert metric(he, "test_loss") < 0.6 * metric(xavier, "test_loss")  # 0.12 vs 0.63
    assert metric(xavier, "test_loss") > 0.6  # the text: "still above 0.6 at step 300"


def test_small_init_in_a_deep_tanh_net_trains_nothing():
    lab = trained("small-init-tanh", 1000)
    assert max(column(lab, "grad_norm")[:-1]) < 1e-6  # measured ≈ 4e-10
    assert metric(lab, "test_loss") == pytest.approx(0.693, abs=0.01)


def test_l1_zeroes_the_weights_of_useless_inputs_and_l2_does_not():
    l1 = trained("l1-sparsity", 3000)
    l2 = trained("l1-sparsity", 3000, regularizer="l2")
    # First layer, 7 inputs × 8 units: measured 91% of |w| < 1e-3 with L1, none with L2.
    assert column(l1, "weight_small")[0] >= 0.6
    assert column(l2, "weight_small")[0] <= 0.1
    assert metric(l1, "test_acc") >= 0.95  # the two useful inputs still do the job


def test_a_linear_network_cannot_separate_circles_and_tanh_can():
    lab = trained("linear-collapse", 2000)
    tanh = trained("linear-collapse", 2000, layers=[{"units": 8, "activation": "tanh"}] * 3)
    assert metric(lab, "test_acc") <= 0.7 and metric(tanh, "test_acc") >= 0.9


def test_tanh_learns_xor_faster_than_sigmoid_here():
    sig = trained("tanh-vs-sigmoid", 1000)
    tanh = trained("tanh-vs-sigmoid", 1000, layers=[{"units": 8, "activation": "tanh"}] * 2)
    assert metric(tanh, "test_loss") < 0.5 * metric(sig, "test_loss")  # 0.065 vs 0.62


def test_overfitting_and_what_l2_or_dropout_do_to_it():
    plain = trained("overfitting", 3000)
    assert metric(plain, "test_loss") > 5 * max(metric(plain, "train_loss"), 0.1)  # 1.4 vs 0.0
    for change in ({"regularizer": "l2", "reg_rate": 0.01}, {"dropout": 0.3}):
        fixed = trained("overfitting", 3000, **change)
        assert metric(fixed, "test_loss") < 0.5 * metric(plain, "test_loss"), change
