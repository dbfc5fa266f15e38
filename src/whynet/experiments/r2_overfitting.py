"""R2 — shrinking hidden units' influence (weight decay, dropout) prevents overfitting.

Note 000 (Q7) asks why making each hidden unit's influence smaller prevents overfitting, and
answers that units with a large influence follow outliers and distorted features. We measure the
claim where overfitting is easy to provoke: a big network on few noisy examples. The gap between
training and test accuracy is the overfitting; we follow it as the L2 penalty λ and the dropout
rate p grow, until the network can no longer fit even the training set.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import datasets
from ..nn import mlp
from ..nn.losses import SoftmaxCrossEntropy
from ..nn.regularizers import L2
from ..optim import Adam
from ..train import fit
from .base import Experiment, Verdict, combine, decide, group, mean_spread, values

N_TRAIN, N_TEST = 100, 1000
STRONG = {"l2": 0.1, "dropout": 0.8}  # the settings the verdict compares with no regularisation
SHRINK = 0.03  # the gap must fall by more than 3 accuracy points
COLLAPSE = 0.1  # at the largest λ both accuracies must fall by more than 10 points


def noisy_moons(seed: int):
    """100 training and 1000 test points of moons with noise 0.3 (the classes overlap)."""
    data = datasets.moons(n=N_TRAIN + N_TEST, noise=0.3, seed=seed)
    train, _, test = datasets.split(data, val=0.0, test=N_TEST / (N_TRAIN + N_TEST), seed=seed)
    return train, test


class Overfitting(Experiment):
    id = "r2"
    questions = ("R2",)
    title = "Weight decay and dropout vs overfitting"
    question = ("Do weight decay and dropout shrink the gap between training and test accuracy "
                "of a big network on a small noisy data set?")
    what = ("A [2, 64, 64, 2] ReLU MLP (He init, about 4,400 weights) on 100 training points of "
            "moons with noise 0.3, tested on 1000 fresh points from the same distribution. Adam, "
            "lr 0.01, full batch. Either an L2 penalty (λ/2)·Σw² over a range of λ, or dropout "
            "after each hidden layer with drop probability p. We measure the training and test "
            "accuracy (both in evaluation mode) and their gap, the data loss on both sets, and "
            "‖W‖.")
    seeds_quick = 3
    seeds_full = 5
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        epochs = 300 if quick else 500
        lams = [0.01, 0.1, 1.0] if quick else [1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]
        ps = [0.5, 0.8] if quick else [0.2, 0.4, 0.5, 0.6, 0.8, 0.9]
        return ([{"method": "none", "value": 0.0, "epochs": epochs}]
                + [{"method": "l2", "value": lam, "epochs": epochs} for lam in lams]
                + [{"method": "dropout", "value": p, "epochs": epochs} for p in ps])

    def run(self, spec: dict, seed: int) -> dict:
        train, test = noisy_moons(seed)
        p = spec["value"] if spec["method"] == "dropout" else 0.0
        model = mlp([2, 64, 64, 2], activation="relu", dropout=p, seed=seed)
        reg = L2(spec["value"]) if spec["method"] == "l2" else None
        loss = SoftmaxCrossEntropy()
        h = fit(model, train.X, train.y, loss=loss, optimizer=Adam(model.parameters(), lr=0.01),
                epochs=spec["epochs"], batch_size=N_TRAIN, regularizer=reg, seed=seed,
                progress=False)
        out = {}
        for name, ds in (("train", train), ("test", test)):
            logits = model.predict(ds.X)
            out[f"{name}_acc"] = float(loss.accuracy(logits, ds.y))
            out[f"{name}_loss"] = float(loss.forward(logits, ds.y))
        w = np.concatenate([q.value.ravel() for q in model.parameters() if q.regularize])
        step = max(1, spec["epochs"] // 100)
        return {**out, "gap": out["train_acc"] - out["test_acc"],
                "weight_norm": float(np.linalg.norm(w)), "diverged": h.diverged,
                "loss_curve": h.epochs["loss"][::step]}

    def _split(self, results):
        none = [r for r in results if r.spec["method"] == "none"]
        by = {m: group([r for r in results if r.spec["method"] == m], "value")
              for m in ("l2", "dropout")}
        return none, by

    def verdicts(self, results):
        none, by = self._split(results)
        gap0 = values(none, "gap")
        statuses, parts, numbers = {}, [], {"gap, no regularisation": mean_spread(gap0),
                                            "test accuracy, no regularisation":
                                                mean_spread(values(none, "test_acc"))}
        label = {"l2": "λ", "dropout": "p"}
        names = {"l2": "L2", "dropout": "dropout"}
        for method, settings in by.items():
            strong = settings[STRONG[method]]
            gaps = values(strong, "gap")
            flags = [g < g0 - SHRINK for g, g0 in zip(gaps, gap0)]
            if method == "l2":
                top = settings[max(settings)]
                flags = [f and t.result["train_acc"] < n.result["train_acc"] - COLLAPSE
                         and t.result["test_acc"] < n.result["test_acc"] - COLLAPSE
                         for f, t, n in zip(flags, top, none)]
            statuses[method] = decide(flags)
            best_value = max(settings, key=lambda v: np.mean(values(settings[v], "test_acc")))
            best = mean_spread(values(settings[best_value], "test_acc"))
            g = mean_spread(gaps)
            numbers[f"gap, {method} {label[method]}={STRONG[method]:g}"] = g
            numbers[f"best test accuracy, {method} ({label[method]}={best_value:g})"] = best
            parts.append(f"{names[method]} {label[method]} = {STRONG[method]:g} brings the gap to "
                         f"{g.fmt('.1%')} (best test accuracy {best.fmt('.1%')} at "
                         f"{label[method]} = {best_value:g})")
        lam_max = max(by["l2"])
        top = by["l2"][lam_max]
        tr, te = mean_spread(values(top, "train_acc")), mean_spread(values(top, "test_acc"))
        numbers[f"train / test accuracy, l2 λ={lam_max:g}"] = f"{tr.fmt('.1%')} / {te.fmt('.1%')}"
        status = combine(statuses.values())
        sentence = (
            f"Without regularisation the net fits its 100 noisy points to "
            f"{mean_spread(values(none, 'train_acc')).fmt('.0%')} but reaches only "
            f"{numbers['test accuracy, no regularisation'].fmt('.1%')} on fresh data (gap "
            f"{numbers['gap, no regularisation'].fmt('.1%')}); " + "; ".join(parts) + ". Past a "
            f"point the penalty wins over the data: at λ = {lam_max:g} training and test accuracy "
            f"both fall, to {tr.fmt('.0%')} and {te.fmt('.0%')}. Holds when, in every seed, the "
            f"gap "
            f"at λ = {STRONG['l2']:g} and at p = {STRONG['dropout']:g} is more than "
            f"{SHRINK * 100:.0f} points below the unregularised gap, and at λ = {lam_max:g} both "
            f"accuracies are more than {COLLAPSE * 100:.0f} points below the unregularised ones"
            + ("" if status != "depends" else
               f" (here: L2 {statuses['l2']}, dropout {statuses['dropout']})") + ".")
        return [Verdict("R2", status, sentence, numbers)]

    def figures(self, results):
        none, by = self._split(results)
        fig = Figure(figsize=(7.2, 3.4))
        axes = fig.subplots(1, 2, sharey=True)
        tr0 = mean_spread(values(none, "train_acc")).mean
        te0 = mean_spread(values(none, "test_acc")).mean
        for ax, (method, settings), xlabel in zip(axes, by.items(),
                                                  ("L2 penalty λ", "dropout rate p")):
            runs = dict(settings)
            if method == "dropout":  # p = 0 is the unregularised net
                runs = {0.0: none, **runs}
            xs = list(runs)
            for key, colour, name in (("train_acc", "tab:blue", "train"),
                                      ("test_acc", "tab:red", "test")):
                s = [mean_spread(values(runs[x], key)) for x in xs]
                ax.errorbar(xs, [v.mean for v in s], yerr=[v.std for v in s], marker="o",
                            color=colour, label=name)
            ax.axhline(tr0, color="tab:blue", ls=":", lw=1, label="train, none")
            ax.axhline(te0, color="tab:red", ls=":", lw=1, label="test, none")
            ax.set(xlabel=xlabel, title=f"{'Weight decay' if method == 'l2' else 'Dropout'}")
            if method == "l2":
                ax.set_xscale("log")
        axes[0].set_ylabel("accuracy")
        axes[0].legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        return [("Training (blue) and test (red) accuracy as the regularisation grows; dotted "
                 "lines: no regularisation. The gap between blue and red is the overfitting: it "
                 "closes as λ or p grows; at the largest λ the net underfits and both fall.", fig)]


EXPERIMENT = Overfitting()
