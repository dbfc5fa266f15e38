"""The findings scenario battery (issue 17, "Findings that are right"): one small run per
situation, each with the findings it must produce and those it must not, on a whynet network and
on the same network in PyTorch (weights copied, same data, batches and optimiser), watched by
``Probe`` and ``TorchProbe`` respectively.

Every rule appears in some scenario's ``must`` and in other scenarios' ``must_not``, so each is
shown to fire where its situation holds and to stay silent where it does not
(``test_every_rule_goes_both_ways``). The situations are the ones the issue found wrong: "learning
rate too low" on converged or overfitting models, "use Xavier" when the inputs were the cause,
"learning rate too large" for ReLUs dead before any update, an update ratio after zero
initialisation, "nothing wrong" at the end of a run that had not learnt its data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from whynet.datasets import circles, moons, spiral
from whynet.nn import mlp
from whynet.nn.init import normal
from whynet.probes import RULES, Probe, diagnose
from whynet.train import fit


@dataclass(frozen=True)
class Scenario:
    name: str
    data: tuple                       # (generator, n, noise) or ("uniform8", n, scale)
    sizes: list
    activation: str
    optimizer: str
    lr: float
    epochs: int
    init: object = None
    shift: float = 0.0                # added to the standardised inputs
    batch_size: int = 32
    every: int = 10
    must: frozenset = frozenset()
    must_not: frozenset = frozenset()
    text: tuple = ()                  # (rule, phrase that must appear, phrase that must not)
    why: str = ""


LR_RULES = frozenset({"update_ratio_high", "update_ratio_low", "loss_rising"})
UNDERFIT = frozenset({"underfitting", "train_longer"})
SICK = frozenset(RULES) - {"flat_loss"}

SCENARIOS = [
    Scenario("healthy", ("moons", 200, 0.1), [2, 16, 16, 2], "relu", "adam", 0.01, 15,
             must_not=SICK, why="He/ReLU, Adam at 0.01: 98% of the training data in 105 steps"),
    Scenario("converged", ("moons", 200, 0.0), [2, 16, 16, 2], "tanh", "sgd", 0.5, 60,
             every=20, must_not=SICK,
             why="trained to ~100%: its updates shrink, which is not a learning rate too low"),
    Scenario("overfitting", ("moons", 60, 0.4), [2, 64, 64, 2], "tanh", "adam", 0.01, 100,
             batch_size=10, every=50, must_not=SICK - {"saturation"},
             why="60 noisy points, 4 k weights: fits the training set, not the test set (its "
                 "weights grow until tanh saturates, which the saturation finding may say)"),
    Scenario("small_model", ("spiral", 200, 0.0), [2, 2, 2], "relu", "adam", 0.01, 40,
             must={"underfitting"}, must_not=LR_RULES | {"train_longer"},
             text=("underfitting", "too small to fit them", "train much longer"),
             why="two hidden units cannot draw a spiral: a plateau at about 60%"),
    Scenario("short_run", ("circles", 200, 0.05), [2, 16, 16, 2], "relu", "adam", 0.003, 4,
             every=3, must={"train_longer"}, must_not=LR_RULES | {"underfitting"},
             why="a good model stopped after 28 steps, its loss still falling"),
    Scenario("lr_too_low", ("moons", 200, 0.1), [2, 16, 16, 2], "relu", "sgd", 1e-5, 10,
             must={"update_ratio_low"},
             must_not={"update_ratio_high", "loss_rising", "underfitting", "train_longer",
                       "dead_units"},
             why="SGD at 1e-5: each step moves the weights by ~1e-6 of their norm"),
    Scenario("diverging", ("moons", 200, 0.1), [2, 16, 16, 2], "relu", "sgd", 100.0, 10,
             must={"update_ratio_high", "loss_rising"},
             must_not={"update_ratio_low", "underfitting", "train_longer"},
             why="SGD at 100: the first step moves the weights by 10× their norm"),
    Scenario("diverging_nan", ("moons", 200, 0.1), [2, 16, 16, 2], "relu", "sgd", 1e6, 10,
             must={"nonfinite"}, must_not={"update_ratio_low", "underfitting", "train_longer"},
             why="SGD at 1e6: the loss is no longer finite at step 3, between two measurements"),
    Scenario("dead_at_init", ("moons", 200, 0.1), [2, 16, 16, 2], "relu", "sgd", 0.01, 10,
             shift=10.0, must={"dead_units"}, must_not=LR_RULES,
             text=("dead_units", "from the start", "lower the learning rate"),
             why="inputs centred at 10 (not standardised): half the ReLUs are off for every "
                 "example before the first update"),
    Scenario("dead_from_lr", ("spiral", 200, 0.1), [2, 8, 8, 8, 2], "relu", "sgd", 1.0, 10,
             batch_size=10, must={"dead_units"}, must_not={"update_ratio_low", "saturation"},
             text=("dead_units", "lower the learning rate", "from the start"),
             why="SGD at 1.0: units alive at step 1 die during training"),
    Scenario("saturated_inputs", ("uniform8", 200, 1.0), [8, 16, 16, 2], "tanh", "sgd", 0.05,
             10, init="xavier_uniform", must={"saturation"}, must_not=LR_RULES,
             text=("saturation", "Standardise the inputs", "Use Xavier"),
             why="inputs uniform on ±5 with Xavier/tanh: the inputs, not the weights, saturate"),
    Scenario("standardised_inputs", ("uniform8", 200, 1 / 2.89), [8, 16, 16, 2], "tanh",
             "sgd", 0.05, 10, init="xavier_uniform", must_not=SICK | {"saturation"},
             why="the same data standardised: the same network does not saturate"),
    Scenario("large_weights", ("moons", 200, 0.1), [2, 16, 16, 2], "tanh", "sgd", 0.05, 10,
             init=normal(std=1.0), must={"saturation"}, must_not=LR_RULES,
             text=("saturation", "Use Xavier", "Standardise the inputs"),
             why="standardised inputs, weights of std 1: the weights saturate tanh"),
    Scenario("zero_init", ("circles", 200, 0.1), [2, 8, 8, 2], "sigmoid", "sgd", 1.0, 10,
             init="zeros", must={"symmetry"},
             must_not=LR_RULES | {"vanishing_gradient", "underfitting"},
             why="all weights zero: every hidden unit identical; ‖W‖ ≈ 0, so no update ratio"),
    Scenario("deep_sigmoid", ("circles", 200, 0.1), [2] + [16] * 8 + [2], "sigmoid", "sgd",
             0.1, 10, must={"vanishing_gradient"},
             must_not={"exploding_gradient", "dead_units", "update_ratio_low"},
             text=("vanishing_gradient", "saturating", "He initialisation keeps"),
             why="eight sigmoid layers: ‖∂L/∂z‖ shrinks by ~1e-5 down the stack"),
    Scenario("small_init", ("circles", 200, 0.1), [2] + [16] * 5 + [2], "tanh", "sgd", 0.1, 10,
             init=normal(std=0.01), must={"vanishing_gradient"},
             must_not={"exploding_gradient", "saturation", "update_ratio_low"},
             text=("vanishing_gradient", "weights are too small", "saturating activation"),
             why="weights of std 0.01 in five tanh layers: the signal shrinks ×0.04 a layer"),
    Scenario("exploding", ("circles", 200, 0.1), [2] + [16] * 8 + [2], "relu", "sgd", 1e-4,
             3, init=normal(std=1.0), must={"exploding_gradient"},
             must_not={"vanishing_gradient", "update_ratio_low"},
             why="ReLU weights of std 1 (He: 0.35): each layer multiplies ‖∂L/∂z‖ by ~2.8"),
]
BY_NAME = {s.name: s for s in SCENARIOS}


def make_data(s: Scenario):
    kind, n, arg = s.data
    if kind == "uniform8":
        rng = np.random.default_rng(0)
        X = rng.uniform(-5, 5, size=(n, 8))
        return (X * arg).astype(np.float32), (X[:, :4].sum(axis=1) > 0).astype(np.int64)
    ds = {"moons": moons, "circles": circles, "spiral": spiral}[kind](n=n, noise=arg, seed=0)
    X = (ds.X - ds.X.mean(axis=0)) / ds.X.std(axis=0)
    return (X + s.shift).astype(np.float32), ds.y.astype(np.int64)


def run_whynet(s: Scenario):
    X, y = make_data(s)
    model = mlp(s.sizes, activation=s.activation, init=s.init, seed=0)
    probe = Probe(model, X, y, "softmax_ce", every=s.every, histograms=False)
    with np.errstate(all="ignore"):   # a diverging scenario overflows on purpose
        fit(model, X, y, loss="softmax_ce", optimizer=s.optimizer, lr=s.lr, epochs=s.epochs,
            batch_size=s.batch_size, seed=0, callbacks=[probe], progress=False)
    return probe


def run_torch(s: Scenario):
    """The same network in PyTorch (weights copied from the whynet one), the same optimiser and
    shuffled minibatches, watched by TorchProbe through its two calls per step."""
    torch = pytest.importorskip("torch")
    from whynet.nn.layers import Dense
    from whynet.probes.torch import TorchProbe

    X, y = make_data(s)
    source = mlp(s.sizes, activation=s.activation, init=s.init, seed=0)
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}
    layers = []
    for m in source.layers:
        if isinstance(m, Dense):
            lin = torch.nn.Linear(m.W.value.shape[1], m.W.value.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.W.value))
                lin.bias.copy_(torch.from_numpy(m.b.value))
            layers.append(lin)
        else:
            layers.append(acts[m.name]())
    net = torch.nn.Sequential(*layers)
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[s.optimizer](net.parameters(),
                                                                          lr=s.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    probe = TorchProbe(net, X, y, loss_fn, every=s.every, histograms=False)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    step = 0
    for _ in range(s.epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), s.batch_size):
            idx = torch.from_numpy(order[i:i + s.batch_size])
            step += 1
            opt.zero_grad()
            loss = loss_fn(net(Xt[idx]), yt[idx])
            if not math.isfinite(loss.item()):
                probe.on_step_end(step, loss.item())   # the divergence, as fit stops on it
                probe.finish()
                return probe
            loss.backward()
            probe.on_before_update(step)
            opt.step()
            probe.on_step_end(step, loss.item())
    probe.finish()
    return probe


_RUNS: dict = {}


def probe_of(name: str, backend: str):
    if (name, backend) not in _RUNS:
        run = run_whynet if backend == "whynet" else run_torch
        _RUNS[(name, backend)] = run(BY_NAME[name])
    return _RUNS[(name, backend)]


def produced(probe) -> set[str]:
    return {f.rule for f in probe.findings}


BACKENDS = ["whynet", "torch"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_scenario_produces_its_findings_and_not_the_wrong_ones(name, backend):
    s = BY_NAME[name]
    probe = probe_of(name, backend)
    got = produced(probe)
    report = f"{name} ({s.why}) on {backend}:\n{probe.report()}"
    assert s.must <= got, report
    assert not (s.must_not & got), report
    # one finding per rule, none contradicting another
    assert len(got) == len(probe.findings), report
    assert not {"update_ratio_high", "update_ratio_low"} <= got
    assert not {"vanishing_gradient", "exploding_gradient"} <= got
    if s.text:
        rule, said, unsaid = s.text
        (f,) = [f for f in probe.findings if f.rule == rule]
        assert said in f.message and unsaid not in f.message, report


@pytest.mark.parametrize("backend", BACKENDS)
def test_replaying_the_records_gives_the_probes_findings(backend):
    """``diagnose(records, context)`` and the probe's findings while it trained are one set of
    rules: the same findings, ranked."""
    for name in ("dead_at_init", "small_model", "zero_init", "diverging"):
        probe = probe_of(name, backend)
        again = diagnose(probe.records, probe.context)
        assert again == probe.ranked(), name


def test_every_rule_goes_both_ways():
    """Each rule is required by some scenario and forbidden in another: the battery shows it fire
    and shows it stay silent."""
    for rule in RULES:
        fires = [s.name for s in SCENARIOS if rule in s.must]
        silent = [s.name for s in SCENARIOS if rule in s.must_not]
        if rule == "flat_loss":   # a normal phase of training (T1), never forbidden
            fires = [s.name for s in SCENARIOS if rule in produced(probe_of(s.name, "whynet"))]
            silent = [s.name for s in SCENARIOS
                      if rule not in produced(probe_of(s.name, "whynet"))]
        assert fires and silent, (rule, fires, silent)


def test_the_scenarios_are_what_they_say():
    """The situations hold on the whynet runs: converged at ~100%, the overfitting net fits its
    training points far better than fresh ones, the small model ends far below the healthy one,
    the inputs of the saturated scenario are large while the standardised ones are not."""
    acc = {n: probe_of(n, "whynet").records.series("model", "accuracy")[1][-1]
           for n in ("healthy", "converged", "small_model", "overfitting")}
    assert acc["converged"] == 1.0 and acc["healthy"] > 0.95
    assert acc["small_model"] < 0.7
    over = probe_of("overfitting", "whynet")
    train = moons(n=60, noise=0.4, seed=0).X
    new = moons(n=400, noise=0.4, seed=1)
    X = ((new.X - train.mean(axis=0)) / train.std(axis=0)).astype(np.float32)
    fresh = over.model.predict(X).argmax(axis=1) == new.y
    assert acc["overfitting"] - fresh.mean() > 0.1, (acc["overfitting"], fresh.mean())
    assert probe_of("saturated_inputs", "whynet").context.input_rms > 2.5
    assert probe_of("standardised_inputs", "whynet").context.input_rms < 1.1


def test_the_lesson_comes_first():
    probe = probe_of("diverging", "whynet")
    assert [f.rule for f in probe.ranked()][0] == "loss_rising"
    assert [f.rule for f in probe.ranked(lesson="update_ratio_high")][0] == "update_ratio_high"
    assert [f.rule for f in diagnose(probe.records, probe.context,
                                     lesson="update_ratio_high")][0] == "update_ratio_high"


def test_the_issues_spiral_run_is_not_nothing_wrong():
    """`whynet train --data spiral --epochs 30` ended at 62% test accuracy with "findings: none"
    (50 steps between measurements): it underfits its training data, and says so."""
    from whynet.cli import train_model

    history, _, _, probe = train_model({"data": "spiral", "epochs": 30}, probe=True)
    assert history.epochs["acc"][-1] < 0.75
    assert len(probe.records.steps()) >= 20          # about 20 measurements by default
    assert [f.rule for f in probe.findings] == ["underfitting"], probe.report()
