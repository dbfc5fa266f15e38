"""I1 — zero initialisation keeps hidden units identical, so many units act as one.

Note 001 (deeplearning.ai course 1, "Random initialization"): with W = 0 every hidden unit of a
layer computes the same function, receives the same gradient and so stays the same after any
number of updates. We train the initialisation assignment's network [2, 10, 5, 1] on circles with
zero weights and with He weights, and count the distinct hidden units as training goes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..nn import mlp
from ..nn.layers import Dense
from ..probes.stats import distinct_units
from ..optim import SGD
from ..train import Callback, accuracy, fit
from .base import (Experiment, Published, Verdict, decide, group, mean_spread, values)
from .recipes import circles_split


def hidden_dense(model) -> list[Dense]:
    """The Dense layers that feed a hidden activation (all but the output layer)."""
    return [m for m in model.layers if isinstance(m, Dense)][:-1]


def _denoise(a: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Entries below ``floor`` set to 0. A zero-initialised layer on balanced data only collects
    BLAS rounding noise (~1e-18), which a *relative* tolerance would count as distinct units."""
    return np.where(np.abs(a) < floor, 0, a)


class DistinctUnits(Callback):
    """Counts the distinct units of every hidden Dense layer every ``every`` steps."""

    def __init__(self, layers, every: int):
        self.layers, self.every = layers, every
        self.steps: list[int] = []
        self.counts: list[list[int]] = []

    def record(self, step: int) -> None:
        self.steps.append(step)
        self.counts.append([distinct_units(_denoise(d.W.value), _denoise(d.b.value))
                            for d in self.layers])

    def on_train_begin(self, ctx):
        self.record(0)

    def on_step_end(self, step, loss, ctx):
        if step % self.every == 0:
            self.record(step)


class Symmetry(Experiment):
    id = "i1"
    questions = ("I1",)
    title = "Zero initialisation and symmetry"
    question = "Does zero initialisation keep all hidden units of a layer identical?"
    what = ("The deeplearning.ai initialisation assignment's network [2, 10, 5, 1] (ReLU hidden "
            "units, sigmoid output with binary cross-entropy) is trained on circles (300 train, "
            "100 test, noise 0.05) by full-batch gradient descent with momentum 0.9 (lr 0.1), once with every weight and bias "
            "zero and once with He-initialised weights, and a sigmoid-hidden net with zero weights. Every 20 steps we count the distinct units of each "
            "hidden layer (rows of [W | b] equal to a relative tolerance of 1e-4), in float64.")
    seeds_quick = 3
    seeds_full = 5

    def grid(self, quick: bool) -> list[dict]:
        steps = 600 if quick else 2000
        return [{"activation": act, "init": init, "steps": steps, "lr": 0.1, "momentum": 0.9}
                for act, init in (("relu", "zeros"), ("relu", "random"), ("sigmoid", "zeros"))]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, Xt, yt = circles_split(seed)
        init = "zeros" if spec["init"] == "zeros" else None  # None: He for ReLU, Xavier for sigmoid
        # float64: on balanced data the gradients of a symmetric layer are sums that nearly cancel,
        # and float32 BLAS rounding (different for the remainder rows of a SIMD kernel) would
        # break the symmetry at the 1e-4 level: a numerical accident, not learning.
        model = mlp([2, 10, 5, 1], activation=spec["activation"], init=init, seed=seed,
                    dtype=np.float64)
        counter = DistinctUnits(hidden_dense(model), every=20)
        optimizer = SGD(model.parameters(), lr=spec["lr"], momentum=spec["momentum"])
        history = fit(model, X, y, loss="bce", optimizer=optimizer,
                      epochs=spec["steps"], batch_size=len(X), seed=seed, callbacks=[counter],
                      progress=False)
        counts = np.array(counter.counts)
        return {"steps": counter.steps, "distinct": counts.tolist(),
                "final_distinct": counts[-1].tolist(), "widths": [10, 5],
                "loss": history.epochs["loss"][:: max(1, spec["steps"] // 100)],
                "loss_first": history.epochs["loss"][0], "loss_last": history.epochs["loss"][-1],
                "train_acc": accuracy(model, X, y, "bce"), "test_acc": accuracy(model, Xt, yt, "bce")}

    def verdicts(self, results):
        by = group(results, ("activation", "init"))
        zero, rand = by[("relu", "zeros")], by[("relu", "random")]
        zero_sig = by[("sigmoid", "zeros")]
        flags = []
        for z, r, s in zip(zero, rand, zero_sig):
            flags.append(all(c == 1 for c in z.result["final_distinct"])
                         and all(c == 1 for c in s.result["final_distinct"])
                         and r.result["final_distinct"] == r.result["widths"]
                         and r.result["test_acc"] > z.result["test_acc"] + 0.2)
        status = decide(flags)
        zero_acc, rand_acc = mean_spread(values(zero, "test_acc")), mean_spread(values(rand, "test_acc"))
        sentence = (f"With zero weights every hidden layer keeps exactly "
                    f"{max(max(r.result['final_distinct']) for r in zero + zero_sig)} distinct "
                    f"unit(s) after training (ReLU and sigmoid alike): the network acts as a "
                    f"[2, 1, 1, 1] net and cannot bend its boundary round a circle; He init keeps all "
                    f"10 and 5 units distinct. Test accuracy: zeros {zero_acc.fmt('.0%')}, He "
                    f"{rand_acc.fmt('.0%')}. Holds when, in every seed, zero init ends with one "
                    f"distinct unit per layer and He init beats it by > 20 points.")
        return [Verdict("I1", status, sentence, {
            "zero-init test accuracy": zero_acc, "He test accuracy": rand_acc,
            "zero-init distinct units (layer 1, layer 2)": str(zero[0].result["final_distinct"]),
            "He distinct units (layer 1, layer 2)": str(rand[0].result["final_distinct"])})]

    def published(self, results):
        by = group(results, ("activation", "init"))
        z, r = by[("relu", "zeros")], by[("relu", "random")]
        return [Published(
            "I1", "deeplearning.ai course 2, week 1: Initialization assignment",
            "zeros: 50% train, 50% test; He: 99% train, 96% test",
            f"zeros: {mean_spread(values(z, 'train_acc')).fmt('.0%')} train, "
            f"{mean_spread(values(z, 'test_acc')).fmt('.0%')} test; He: "
            f"{mean_spread(values(r, 'train_acc')).fmt('.0%')} train, "
            f"{mean_spread(values(r, 'test_acc')).fmt('.0%')} test",
            "Same network and data recipe; we train by full-batch GD with momentum 0.9 "
            f"at lr 0.1 for {r[0].spec['steps']} steps instead of plain GD at lr 0.01 for 15,000 "
            "iterations.")]

    def figures(self, results):
        by = group(results, ("activation", "init"))
        fig = Figure(figsize=(6.4, 3.4))
        ax1, ax2 = fig.subplots(1, 2)
        colours = {("relu", "zeros"): "tab:red", ("relu", "random"): "tab:blue",
                   ("sigmoid", "zeros"): "tab:orange", ("sigmoid", "random"): "tab:green"}
        for key, runs in by.items():
            r = runs[0].result
            counts = np.array(r["distinct"])
            label = f"{key[0]}, {'zero' if key[1] == 'zeros' else 'random'} init"
            ax1.plot(r["steps"], counts[:, 0], color=colours[key], label=label)
            ax2.plot(np.linspace(0, runs[0].spec["steps"], len(r["loss"])), r["loss"],
                     color=colours[key], label=label)
        ax1.set(title="Distinct units in hidden layer 1 (of 10)", xlabel="step",
                ylabel="distinct units", ylim=(0, 11))
        ax2.set(title="Training loss", xlabel="step", ylabel="BCE loss")
        ax1.legend(fontsize=7)
        fig.tight_layout()
        return [("Zero init (red, orange) leaves one distinct unit per layer for the whole run and "
                 "the loss stays at ln 2; He init (blue) keeps all units distinct and learns.", fig)]


EXPERIMENT = Symmetry()
