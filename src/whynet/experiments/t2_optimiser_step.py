"""T2 — backprop gives the gradient; the optimiser decides the step.

Note 003: ``W := W − η·∂E/∂W`` is plain gradient descent, one choice among many. Backpropagation
computes ∂E/∂W and nothing else; SGD, momentum, RMSProp and Adam turn the *same* gradient into
different steps. We give four copies of one network the same batch and compare what each
optimiser does with the identical gradient.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.losses import SoftmaxCrossEntropy
from ..optim import SGD, Adam, RMSProp
from .base import Experiment, Row, Verdict, group, mean_spread, tally, values

ADAPTIVE = 0.95  # adaptive optimisers "decide the step": mean cosine with −g below this
OPTIMISERS = {
    "SGD": lambda p: SGD(p, lr=0.1),
    N_("SGD + momentum 0.9"): lambda p: SGD(p, lr=0.1, momentum=0.9),
    "RMSProp": lambda p: RMSProp(p, lr=0.01),
    "Adam": lambda p: Adam(p, lr=0.01),
}


def flat(arrays) -> np.ndarray:
    return np.concatenate([a.ravel() for a in arrays])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


class OptimiserStep(Experiment):
    id = "t2"
    questions = ("T2",)
    title = N_("Same gradient, different steps")
    question = N_("Does backprop only give the gradient, while the optimiser decides the step?")
    what = (N_("Four copies of one [2, 16, 16, 2] tanh network (float64, same seed) on the same batch "
            "of 200 moons points. Each takes 30 full-batch steps with SGD (lr 0.1), SGD with "
            "momentum 0.9 (lr 0.1), RMSProp (lr 0.01) or Adam (lr 0.01). We check that the first "
            "gradients are bit-identical, that SGD's step is exactly −η·g, and measure the cosine "
            "between each optimiser's step and −g, the step length, and the loss after 30 steps."))
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        return [{"optimiser": name, "steps": 30 if quick else 100} for name in OPTIMISERS]

    def run(self, spec: dict, seed: int) -> dict:
        data = datasets.moons(n=200, noise=0.2, seed=seed)
        model = mlp([2, 16, 16, 2], activation="tanh", seed=seed, dtype=np.float64)
        loss_fn = SoftmaxCrossEntropy()
        opt = OPTIMISERS[spec["optimiser"]](model.parameters())
        params = model.parameters()
        cosines, lengths, losses = [], [], []
        first_grad = None
        for step in range(spec["steps"]):
            model.zero_grad()
            loss = loss_fn.forward(model.forward(data.X), data.y)
            model.backward(loss_fn.backward())
            grad = flat(p.grad for p in params)
            before = flat(p.value for p in params)
            opt.step()
            delta = flat(p.value for p in params) - before
            if step == 0:
                first_grad = grad
                lr = opt.lr
                sgd_exact = float(np.max(np.abs((before - lr * grad) - (before + delta))))
            cosines.append(cosine(delta, -grad))
            lengths.append(float(np.linalg.norm(delta) / (opt.lr * np.linalg.norm(grad))))
            losses.append(loss)
        return {"first_grad_norm": float(np.linalg.norm(first_grad)),
                "first_grad_checksum": float(np.sum(first_grad * np.arange(1, first_grad.size + 1))),
                "sgd_formula_error": sgd_exact, "cosine": cosines, "relative_length": lengths,
                "loss": losses, "cosine_mean": float(np.mean(cosines)),
                "final_loss": losses[-1]}

    def verdicts(self, results):
        by = group(results, "optimiser")
        seeds = sorted({r.seed for r in results})
        shown, flags = [], []
        for i, _seed in enumerate(seeds):
            runs = {k: v[i] for k, v in by.items()}
            # Shown (by construction): every copy gets the same gradient; SGD steps along −g.
            same_grad = len({r.result["first_grad_checksum"] for r in runs.values()}) == 1
            sgd_exact = runs["SGD"].result["sgd_formula_error"] == 0.0
            sgd_aligned = min(runs["SGD"].result["cosine"]) > 0.999999
            shown.append(same_grad and sgd_exact and sgd_aligned)
            # Tested: the adaptive optimisers turn the step away from −g.
            flags.append(min(runs["Adam"].result["cosine_mean"],
                             runs["RMSProp"].result["cosine_mean"]) < ADAPTIVE)
        t = tally(flags)
        status = t.status if all(shown) else "fails"  # a shown part missing: an engine bug
        cos = {k: mean_spread(values(v, "cosine_mean")) for k, v in by.items()}
        final = {k: mean_spread(values(v, "final_loss")) for k, v in by.items()}
        err = max(r.result["sgd_formula_error"] for r in by["SGD"])
        rule = (_("Shown by construction (an engine bug otherwise): all copies receive "
                  "bit-identical first gradients and SGD's update is W − η·g exactly. Tested: "
                  "holds when, in every seed, RMSProp's and Adam's steps have a mean cosine "
                  "with −g below {adaptive}.").format(adaptive=ADAPTIVE))
        sentence = (_("All four copies receive bit-identical first gradients ({sum_shown} of "
                      "{len_shown} seeds); SGD's update equals W − η·g exactly (max difference "
                      "{err:g}). Mean cosine between the step and −g: ").format(
                        sum_shown=sum(shown), len_shown=len(shown), err=err)
                    + ", ".join(f"{_(k)} {v.fmt('.3f')}" for k, v in cos.items())
                    + _("; loss after the run: ") + ", ".join(f"{_(k)} {v}" for k, v in final.items())
                    + ". " + rule)
        rows = [Row(_(k), {_("cosine(step, −g), mean over steps"): cos[k], _("final loss"): final[k]})
                for k in by]
        answer = (_("Yes: all four optimisers got the same gradient; SGD stepped exactly along "
                    "−g, Adam at mean cosine {cos_adam:.2f} and RMSProp at {cos_rmsprop:.2f} "
                    "to it.").format(cos_adam=cos['Adam'].mean, cos_rmsprop=cos['RMSProp'].mean))
        numbers = {f"cosine(step, −g), {k}": v for k, v in cos.items()}
        numbers.update({f"final loss, {k}": v for k, v in final.items()})
        return [Verdict("T2", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        agree=t)]

    def figures(self, results):
        by = group(results, "optimiser")
        fig = Figure(figsize=(7.2, 6.4))
        ax1, ax2 = fig.subplots(2, 1)
        for name, runs in by.items():
            r = runs[0].result
            ax1.plot(r["cosine"], label=_(name))
            ax2.plot(r["loss"], label=_(name))
        ax1.set(title=_("cos(step, −gradient)"), xlabel=_("step"), ylabel=_("cosine"), ylim=(-0.1, 1.05))
        ax2.set(title=_("Loss on the batch"), xlabel=_("step"), ylabel=_("loss"))
        ax2.legend(fontsize=9)
        fig.tight_layout()
        return [(_("The same gradients, four different walks: SGD follows −g exactly (cosine "
                   "1), momentum turns with its history, RMSProp and Adam rescale each "
                   "coordinate."), fig)]


EXPERIMENT = OptimiserStep()
