"""T1 — the loss can stay near ln(10) while the accuracy jumps to 20% and more.

Note 004 (cs231n lecture 6, p71): early in training on a 10-class problem the loss barely moves
from ln 10 ≈ 2.303 while the accuracy climbs. Accuracy only needs the right class's score to be
the largest; the loss needs its probability to be *large*. With small weights all ten
probabilities stay close to 0.1, so a tiny tilt flips many argmaxes yet hardly changes
−log p(correct).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.init import normal
from ..nn.losses import SoftmaxCrossEntropy
from ..train import Callback, fit
from .base import Experiment, Row, Verdict, group, mean_spread, tally

LN10 = math.log(10)


class EveryStep(Callback):
    """Loss and accuracy on the whole training set every ``every`` steps (evaluation mode)."""

    def __init__(self, model, X, y, every: int):
        self.model, self.X, self.y, self.every = model, X, y, every
        self.loss_fn = SoftmaxCrossEntropy()
        self.steps, self.loss, self.acc = [], [], []

    def record(self, step):
        logits = self.model.predict(self.X)
        self.steps.append(step)
        self.loss.append(self.loss_fn.forward(logits, self.y))
        self.acc.append(float(np.mean(logits.argmax(axis=1) == self.y)))

    def on_train_begin(self, ctx):
        self.record(0)

    def on_step_end(self, step, loss, ctx):
        if step % self.every == 0:
            self.record(step)


class LossVsAccuracy(Experiment):
    id = "t1"
    questions = ("T1",)
    title = N_("Flat loss, rising accuracy")
    question = (N_("Can the loss stay near ln(10) while accuracy jumps to ~20% and beyond on a 10-class "
                "problem?"))
    what = (N_("A [64, 64, 10] ReLU net with small weights (N(0, 0.01²)) on standardised digits "
            "(1,797 images, 10 classes), trained by SGD (batch 32) at a small learning rate (0.01) "
            "and, for contrast, at 0.1; every 4 steps we evaluate the loss and the accuracy on the "
            "whole training set."))
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        return [{"lr": lr, "epochs": 2 if quick else 4} for lr in (0.01, 0.1)]

    def run(self, spec: dict, seed: int) -> dict:
        data = datasets.digits()
        X, y = datasets.standardize(data.X)[0], data.y
        model = mlp([64, 64, 10], activation="relu", init=normal(std=0.01), seed=seed)
        rec = EveryStep(model, X, y, every=4)
        fit(model, X, y, loss="softmax_ce", optimizer="sgd", lr=spec["lr"], epochs=spec["epochs"],
            batch_size=32, seed=seed, callbacks=[rec], progress=False)
        return {"steps": rec.steps, "loss": rec.loss, "acc": rec.acc,
                "loss_first": rec.loss[0], "loss_last": rec.loss[-1],
                "acc_first": rec.acc[0], "acc_last": rec.acc[-1]}

    def verdicts(self, results):
        small = group(results, "lr")[0.01]
        flags = [r.result["loss_last"] > LN10 - 0.1 and r.result["acc_last"] >= 0.2 for r in small]
        loss_first = mean_spread([r.result["loss_first"] for r in small])
        loss_last = mean_spread([r.result["loss_last"] for r in small])
        acc_first = mean_spread([r.result["acc_first"] for r in small])
        acc_last = mean_spread([r.result["acc_last"] for r in small])
        steps = small[0].result["steps"][-1]
        sentence = (_("At lr 0.01, over {steps} steps the loss goes from {loss_first} to "
                      "{loss_last} (ln 10 = {ln10:.3f}) while the accuracy goes from "
                      "{acc_first} to {acc_last}. Holds when, in every seed, the loss stays "
                      "within 0.1 of ln 10 and the accuracy reaches 20%.").format(
                        steps=steps, loss_first=loss_first, loss_last=loss_last, ln10=LN10,
                        acc_first=acc_first.fmt('.0%'), acc_last=acc_last.fmt('.0%')))
        t = tally(flags)
        rule = (_("Holds when, in every seed at lr 0.01, the loss at the end stays within 0.1 "
                  "of ln 10 and the accuracy reaches 20%."))
        rows = [Row(f"lr {lr:g}", {
            _("loss at start"): mean_spread([r.result["loss_first"] for r in runs]),
            _("loss at end"): mean_spread([r.result["loss_last"] for r in runs]),
            _("accuracy at start"): mean_spread([r.result["acc_first"] for r in runs]),
            _("accuracy at end"): mean_spread([r.result["acc_last"] for r in runs])})
            for lr, runs in group(results, "lr").items()]
        answer = (_("Yes: at lr 0.01 accuracy climbed to {acc_last:.0%} while the loss only "
                    "went from {loss_first:.2f} to {loss_last:.2f}, next to ln 10 = 2.30.").format(
                      acc_last=acc_last.mean, loss_first=loss_first.mean,
                      loss_last=loss_last.mean)
                  if t.status == "holds" else
                  _("Not here ({t}): the loss left ln 10 or accuracy stayed below 20%.").format(
                      t=t))
        return [Verdict("T1", t.status, sentence, answer=answer, evidence=rows, rule=rule, agree=t,
                        numbers={
            "loss at start": loss_first, "loss at end": loss_last,
            "accuracy at start": acc_first, "accuracy at end": acc_last})]

    def figures(self, results):
        by = group(results, "lr")
        fig = Figure(figsize=(7.2, 6.4))
        ax1, ax2 = fig.subplots(2, 1)
        for lr, runs in by.items():
            r = runs[0].result
            ax1.plot(r["steps"], r["loss"], label=_("lr {lr}").format(lr=lr))
            ax2.plot(r["steps"], r["acc"], label=_("lr {lr}").format(lr=lr))
        ax1.axhline(LN10, color="grey", ls=":", lw=1)
        ax1.set(title=_("Training loss (ln 10 dotted)"), xlabel=_("step"), ylabel=_("loss"))
        ax2.set(title=_("Training accuracy"), xlabel=_("step"), ylabel=_("accuracy"), ylim=(0, 1))
        ax2.legend(fontsize=9)
        fig.tight_layout()
        return [(_("At lr 0.01 the loss hardly leaves ln 10 while the accuracy climbs far "
                   "above chance (10%): a flat loss curve does not mean nothing is learned."), fig)]


EXPERIMENT = LossVsAccuracy()
