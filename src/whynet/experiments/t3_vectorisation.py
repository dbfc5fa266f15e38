"""T3 — vectorising over examples gives the same numbers, much faster.

Note 001 (deeplearning.ai course 1, week 4): stacking the m examples as columns, Z = W X + b with
shapes (n[l], n[l−1])·(n[l−1], m), replaces a loop over examples. We compute the loss and every
gradient of a minibatch twice — one example at a time in a Python loop, and as one batch — and
compare the numbers and the time.
"""

from __future__ import annotations

import time

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.losses import SoftmaxCrossEntropy
from .base import Experiment, Row, Verdict, group, mean_spread, tally, values


def batch_gradients(model, loss_fn, X, y):
    model.zero_grad()
    loss = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    return loss, [p.grad.copy() for p in model.parameters()]


def looped_gradients(model, loss_fn, X, y):
    """Mean loss and gradients from one example at a time: Σᵢ ∂Lᵢ/∂θ / m."""
    m = len(X)
    model.zero_grad()
    total = 0.0
    for i in range(m):
        total += loss_fn.forward(model.forward(X[i:i + 1]), y[i:i + 1])
        model.backward(loss_fn.backward() / m)  # grads accumulate across examples
    return total / m, [p.grad.copy() for p in model.parameters()]


def best_time(fn, repeats: int) -> float:
    times = []
    for _rep in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


class Vectorisation(Experiment):
    id = "t3"
    questions = ("T3",)
    title = N_("Loop vs vectorised batch")
    question = N_("Does vectorising over examples give the same numbers and make training much faster?")
    what = (N_("A [64, 128, 64, 10] ReLU network on a batch of digits: the mean cross-entropy loss and "
            "every parameter gradient computed by a Python loop over the examples (one forward "
            "and backward each, gradients accumulated) and by one batched forward and backward, "
            "in float64. We report the largest difference and the best-of-5 time of each, for "
            "batch sizes 32 and 256."))
    seeds_quick = 2
    seeds_full = 5

    def grid(self, quick: bool) -> list[dict]:
        return [{"batch": b} for b in ((32, 256) if quick else (32, 256, 1024))]

    def run(self, spec: dict, seed: int) -> dict:
        data = datasets.digits()
        rows = np.random.default_rng(seed).choice(len(data.X), spec["batch"], replace=False)
        X, y = data.X[rows].astype(np.float64), data.y[rows]
        model = mlp([64, 128, 64, 10], activation="relu", seed=seed, dtype=np.float64)
        loss_fn = SoftmaxCrossEntropy()
        loss_b, grads_b = batch_gradients(model, loss_fn, X, y)
        loss_l, grads_l = looped_gradients(model, loss_fn, X, y)
        max_diff = max(abs(loss_b - loss_l),
                       max(float(np.max(np.abs(a - b))) for a, b in zip(grads_b, grads_l)))
        t_batch = best_time(lambda: batch_gradients(model, loss_fn, X, y), 5)
        t_loop = best_time(lambda: looped_gradients(model, loss_fn, X, y), 3)
        return {"max_abs_difference": max_diff, "batch_seconds": t_batch, "loop_seconds": t_loop,
                "speedup": t_loop / t_batch}

    def verdicts(self, results):
        by = group(results, "batch")
        largest = max(by)
        flags = [r.result["max_abs_difference"] <= 1e-12 and r.result["speedup"] >= 10
                 for r in by[largest]]
        diff = max(values(results, "max_abs_difference"))
        speed = {b: mean_spread(values(runs, "speedup")) for b, runs in by.items()}
        sentence = (_("Loop and batch agree to {diff:.1e} (float64) for every loss and "
                      "gradient; the batch is faster by ").format(diff=diff) +
                    ", ".join(_("{speed}× at m = {m}").format(speed=v.fmt('.0f'), m=b) for b, v in speed.items()) +
                    _(". Holds when, in every seed at m = {largest}, the numbers agree to "
                      "1e-12 and the batch is at least 10× faster.").format(largest=largest))
        numbers = {"largest difference": diff}
        numbers.update({f"speed-up at m = {b}": v for b, v in speed.items()})
        t = tally(flags)
        rule = (_("Holds when, in every seed at m = {largest}, loop and batch agree to 1e-12 "
                  "(float64) and the batch is at least 10× faster.").format(largest=largest))
        rows = [Row(_("batch of {b}").format(b=b), {_("speed-up (loop time / batch time)"): v,
                                       _("largest |difference|"): max(values(by[b],
                                                                          "max_abs_difference"))})
                for b, v in speed.items()]
        answer = (_("Yes: the same numbers to {diff:.0e}, and the batched pass is "
                    "{speed_largest:.0f}× faster than a Python loop at m = {largest}.").format(
                      diff=diff, speed_largest=speed[largest].mean, largest=largest)
                  if t.status == "holds" else
                  _("Not here ({t}): see the speed-ups per batch size.").format(t=t))
        return [Verdict("T3", t.status, sentence, numbers, answer=answer, evidence=rows,
                        rule=rule, agree=t)]

    def figures(self, results):
        by = group(results, "batch")
        fig = Figure(figsize=(5.0, 3.2))
        ax = fig.subplots()
        sizes = list(by)
        loop = [np.mean(values(by[b], "loop_seconds")) * 1e3 for b in sizes]
        batch = [np.mean(values(by[b], "batch_seconds")) * 1e3 for b in sizes]
        ax.plot(sizes, loop, marker="o", label=_("loop over examples"))
        ax.plot(sizes, batch, marker="o", label=_("one batched pass"))
        ax.set(xscale="log", yscale="log", xlabel=_("batch size m"), ylabel=_("ms per "
                                                                           "forward+backward"),
               title=_("Same numbers, different cost"))
        ax.legend(fontsize=9)
        fig.tight_layout()
        return [(_("The loop's cost grows with m at Python speed; the batch pays one matrix "
                   "product per layer."), fig)]


EXPERIMENT = Vectorisation()
