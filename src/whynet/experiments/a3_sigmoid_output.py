"""A3 — sigmoid belongs at the output of a binary classifier.

Notes 000 (Q3) and 001: sigmoid's output lies in (0, 1), so it can be read as P(y = 1). We train
the same hidden layers with three heads on the same 0/1 targets and read each output as a
probability: a linear output through σ with binary cross-entropy (logistic regression on the last
hidden layer), a linear output with squared error, and a tanh output with squared error. On fresh
test points: how many outputs are valid probabilities, how well calibrated they are (expected
calibration error), the accuracy, and the epochs to a target accuracy.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.losses import get_loss
from ..optim import SGD
from ..train import Callback, fit
from .base import Experiment, Row, Verdict, group, held_in, mean_spread, tally

# head → (output activation, loss)
HEADS = {"sigmoid + BCE": (None, "bce"), "linear + MSE": (None, "mse"),
         "tanh + MSE": ("tanh", "mse")}
BINS = 10
TARGET_ACC = 0.85   # moons with noise 0.3: the nets end near 0.88–0.90
ECE_TOL = 0.02      # "no worse calibrated": a margin of the size of the seed-to-seed spread
# Accuracy on 1000 test points has a standard error of ~0.01 near 90%, so two heads' accuracies
# differ by up to ~0.03 (2.3 standard errors of the difference) by chance alone.
ACC_TOL = 0.03


def calibration(p: np.ndarray, y: np.ndarray, bins: int = BINS) -> dict:
    """Expected calibration error of probabilities ``p`` (clipped to [0, 1]) for 0/1 labels ``y``:
    Σ_b (n_b / n)·|mean(y in b) − mean(p in b)| over ``bins`` equal-width bins (Naeini et al.
    2015). Also the per-bin mean prediction, observed frequency and count, for a reliability
    diagram (empty bins: NaN)."""
    p = np.clip(p.astype(np.float64), 0.0, 1.0)
    index = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(index, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    sum_y = np.bincount(index, weights=y.astype(np.float64), minlength=bins)
    filled = count > 0
    mean_p = np.full(bins, np.nan)
    freq = np.full(bins, np.nan)
    mean_p[filled] = sum_p[filled] / count[filled]
    freq[filled] = sum_y[filled] / count[filled]
    ece = float(np.sum(count[filled] / len(p) * np.abs(freq[filled] - mean_p[filled])))
    return {"ece": ece, "mean_p": mean_p.tolist(), "freq": freq.tolist(), "count": count.tolist(),
            "sum_p": sum_p.tolist(), "sum_y": sum_y.tolist()}


class TestAccuracy(Callback):
    """Accuracy of ``P(y = 1) > 0.5`` on held-out data after every epoch."""

    def __init__(self, X, y, loss_fn):
        self.X, self.y, self.loss_fn = X, y, loss_fn
        self.acc: list[float] = []

    def on_epoch_end(self, epoch, logs, ctx):
        p = self.loss_fn.probabilities(ctx.model.predict(self.X)).ravel()
        self.acc.append(float(np.mean((p > 0.5) == self.y)))


class SigmoidOutput(Experiment):
    id = "a3"
    questions = ("A3",)
    title = N_("Sigmoid at the output")
    question = (N_("Is sigmoid with cross-entropy the right output for a binary classifier, rather "
                "than a linear or tanh output trained with squared error?"))
    what = N_("Moons with noise 0.3 (300 training, 1000 test points), a [2, 16, 16, 1] tanh "
               "net, SGD with momentum 0.9 (lr 0.05, batch 32). Three heads on the same 0/1 "
               "targets: σ(logit) with binary cross-entropy, a linear output with MSE, a tanh "
               "output with MSE; each output is read as P(y = 1). On the test set: the "
               "fraction of outputs in [0, 1], the expected calibration error ({bins} bins, "
               "outputs clipped to [0, 1]), the accuracy, and the epochs until the test "
               "accuracy reaches {target_acc:.0%}.")
    what_values = {"bins": BINS, "target_acc": TARGET_ACC}
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        return [{"head": h, "epochs": 60 if quick else 150, "lr": 0.05, "noise": 0.3}
                for h in HEADS]

    def run(self, spec: dict, seed: int) -> dict:
        data = datasets.moons(n=1300, noise=spec["noise"], seed=seed)
        X, y, Xt, yt = data.X[:300], data.y[:300], data.X[300:], data.y[300:]
        out_act, loss_name = HEADS[spec["head"]]
        model = mlp([2, 16, 16, 1], activation="tanh", output_activation=out_act, seed=seed)
        loss_fn = get_loss(loss_name)
        watch = TestAccuracy(Xt, yt, loss_fn)
        fit(model, X, y, loss=loss_fn, epochs=spec["epochs"], batch_size=32, seed=seed,
            optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), callbacks=[watch],
            progress=False)
        p = loss_fn.probabilities(model.predict(Xt)).ravel().astype(np.float64)
        hit = next((i + 1 for i, a in enumerate(watch.acc) if a >= TARGET_ACC), None)
        cal = calibration(p, yt)
        return {"valid": float(np.mean((p >= 0) & (p <= 1))), "below_0": float(np.mean(p < 0)),
                "above_1": float(np.mean(p > 1)), "p_min": float(p.min()),
                "p_max": float(p.max()), "ece": cal["ece"], "reliability": cal,
                "accuracy": float(np.mean((p > 0.5) == yt)), "acc_curve": watch.acc,
                "epochs_to_target": hit, "max_epochs": spec["epochs"],
                "p_hist": np.histogram(np.clip(p, -0.5, 1.5), bins=40,
                                       range=(-0.5, 1.5))[0].tolist()}

    def verdicts(self, results):
        by = group(results, "head")
        others = [h for h in HEADS if h != "sigmoid + BCE"]
        seed = {h: {r.seed: r.result for r in by[h]} for h in HEADS}
        flags = []
        for i in sorted(set.intersection(*(set(v) for v in seed.values()))):  # paired by seed
            s = seed["sigmoid + BCE"][i]
            ok = s["valid"] == 1.0
            for h in others:
                o = seed[h][i]
                ok = ok and o["valid"] < 1.0 and s["ece"] <= o["ece"] + ECE_TOL \
                    and s["accuracy"] >= o["accuracy"] - ACC_TOL
            flags.append(ok)
        agree = tally(flags)
        stat = {h: {k: mean_spread([r.result[k] for r in by[h]])
                    for k in ("valid", "ece", "accuracy")} for h in HEADS}
        ep = {h: mean_spread([_epochs(r) for r in by[h]]) for h in HEADS}
        worst = max(stat[h]["ece"].mean for h in others)
        rule = (_("Holds when, in every seed, every sigmoid output is a probability while each "
                  "squared-error head puts some outputs outside [0, 1], and sigmoid + BCE is "
                  "no worse in calibration error (by more than {ece_tol}) or accuracy (by more "
                  "than {acc_tol:.0%}, the noise of 1000 test points).").format(
                    ece_tol=ECE_TOL, acc_tol=ACC_TOL))
        s_ = stat["sigmoid + BCE"]
        if agree.status == "holds":
            answer = (_("Yes: only σ + cross-entropy keeps every output a probability; "
                        "squared-error heads left {min_1_stat:.0%}–{max_1_stat:.0%} outside "
                        "[0, 1], and σ was no less accurate.").format(
                          min_1_stat=min((1 - stat[h]['valid'].mean for h in others)),
                          max_1_stat=max((1 - stat[h]['valid'].mean for h in others))))
        elif agree.status == "fails":
            answer = (_("No: the squared-error heads did as well, with outputs inside [0, 1] "
                        "or better calibration or accuracy."))
        else:
            answer = (_("Mostly, but not in every seed (all conditions met in "
                        "{held_in_flags}); see the evidence per head.").format(
                          held_in_flags=held_in(flags)))
        evidence = [Row(h, {_("outputs in [0, 1]"): stat[h]["valid"],
                            _("calibration error (ECE)"): stat[h]["ece"],
                            _("test accuracy"): stat[h]["accuracy"],
                            _("epochs to {target_acc:.0%}").format(target_acc=TARGET_ACC): ep[h]}) for h in HEADS]
        sentence = (
            _("On fresh test points ") +
            "; ".join(_("{h}: {stat_h_valid} of outputs are valid probabilities, calibration "
                        "error {stat_h_ece}, accuracy {stat_h_accuracy}, {ep_h} epochs to "
                        "{target_acc:.0%}").format(
                          h=h, stat_h_valid=stat[h]['valid'].fmt('.1%'),
                          stat_h_ece=stat[h]['ece'].fmt('.3f'),
                          stat_h_accuracy=stat[h]['accuracy'].fmt('.1%'), ep_h=ep[h].fmt('.0f'),
                          target_acc=TARGET_ACC) for h in HEADS) +
            _(". {rule} Squared error on 0/1 targets is also a proper scoring rule (its best "
              "output is P(y = 1)); measured, its calibration error is {worst_s_max:.1f}× "
              "sigmoid's at worst, and nothing keeps its outputs in range.").format(
                rule=rule, worst_s_max=worst / max(s_['ece'].mean, 1e-12)))
        numbers = {f"{k} {h}": stat[h][k] for h in HEADS for k in ("valid", "ece", "accuracy")}
        numbers.update({f"epochs to {TARGET_ACC:.0%}, {h}": ep[h] for h in HEADS})
        return [Verdict("A3", agree.status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=agree)]

    def figures(self, results):
        by = group(results, "head")
        colours = {"sigmoid + BCE": "tab:orange", "linear + MSE": "tab:blue",
                   "tanh + MSE": "tab:green"}
        fig = Figure(figsize=(7.5, 7.0))
        ax1, ax2 = fig.subplots(2, 1)
        edges = np.linspace(-0.5, 1.5, 41)
        for h in HEADS:
            counts = np.sum([r.result["p_hist"] for r in by[h]], axis=0)
            ax1.step(edges[:-1], counts / counts.sum(), where="post", color=colours[h], label=h)
        ax1.axvspan(-0.5, 0, color="grey", alpha=0.15)
        ax1.axvspan(1, 1.5, color="grey", alpha=0.15)
        ax1.set(title=_("Outputs read as P(y = 1), test set"), xlabel=_("output (clipped to ±0.5 "
                                                                     "beyond [0, 1])"), ylabel=_("fraction of test points"))
        ax1.legend(loc="upper center")
        for h in HEADS:  # pooled over seeds
            rel = [r.result["reliability"] for r in by[h]]
            count = np.sum([c["count"] for c in rel], axis=0)
            filled = count > 0
            mp = np.sum([c["sum_p"] for c in rel], axis=0)[filled] / count[filled]
            fr = np.sum([c["sum_y"] for c in rel], axis=0)[filled] / count[filled]
            ax2.plot(mp, fr, marker="o", ms=3, color=colours[h], label=h)
        ax2.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
        ax2.set(title=_("Reliability (outputs clipped to [0, 1])"), xlabel=_("mean predicted P(y "
                                                                          "= 1)"),
                ylabel=_("observed frequency of y = 1"), xlim=(0, 1), ylim=(0, 1))
        ax2.set_aspect("equal")
        ax2.legend(loc="upper left")
        fig.tight_layout()
        return [(_("Top: the squared-error heads put outputs outside [0, 1] (shaded), where "
                   "they cannot be probabilities; σ cannot. Bottom: reliability diagram — a "
                   "calibrated head follows the diagonal."), fig)]


def _epochs(r) -> int:
    e = r.result["epochs_to_target"]
    return r.result["max_epochs"] + 1 if e is None else e


EXPERIMENT = SigmoidOutput()
