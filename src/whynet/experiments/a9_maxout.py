"""A9 — Maxout generalises ReLU and Leaky ReLU, but costs k times the parameters and compute.

Note 002 (cs231n lecture 6): a maxout unit outputs max(w₁ᵀx + b₁, w₂ᵀx + b₂) (Goodfellow et al.
2013). With w₁ = 0, b₁ = 0 it is ReLU(w₂ᵀx + b₂); with (w₁, b₁) = 0.01·(w₂, b₂) it is Leaky ReLU —
so it "generalises" both — but each unit has k sets of weights. We check the two special cases
numerically, count parameters, time training steps and compare accuracy with ReLU and Leaky ReLU
nets of the same widths.
"""

from __future__ import annotations

import time

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..nn import Dense, Maxout, Sequential, mlp
from ..nn.activations import LeakyReLU, ReLU
from ..optim import SGD
from ..random import make_rng, spawn
from ..train import Trainer, fit
from .recipes import digits_split
from .base import Experiment, Row, Verdict, demonstration, group, held_in, mean_spread, tally

NETS = ("relu", "leaky_relu", "maxout")
K = 2
CASE_TOL = 1e-6   # float32 round-off of the special cases is ~1e-7 relative
COST = 1.2        # a maxout step must cost more than this many ReLU steps
ACC_TOL = 0.02    # maxout within 2 points of the better of ReLU and Leaky ReLU


def maxout_net(sizes, k: int, seed: int) -> Sequential:
    """Maxout hidden layers (no separate activation) and a Dense output, one Generator each."""
    rngs = spawn(make_rng(seed), len(sizes) - 1)
    layers = [Maxout(sizes[i], sizes[i + 1], k=k, rng=rngs[i]) for i in range(len(sizes) - 2)]
    return Sequential(*layers, Dense(sizes[-2], sizes[-1], rng=rngs[-1]))


def special_cases(seed: int) -> dict:
    """Largest |maxout − ReLU| and |maxout − LeakyReLU| when the pieces are set as in the note."""
    rng = make_rng(seed)
    x = rng.standard_normal((256, 20)).astype(np.float32)
    unit = Maxout(20, 30, k=2, rng=rng)
    W2, b2 = unit.W.value[1].copy(), unit.b.value[1].copy()
    z = x @ W2.T + b2
    unit.W.value[0], unit.b.value[0] = 0, 0
    relu_err = float(np.max(np.abs(unit.forward(x) - ReLU().forward(z))))
    slope = 0.01
    unit.W.value[0], unit.b.value[0] = slope * W2, slope * b2
    leaky_err = float(np.max(np.abs(unit.forward(x) - LeakyReLU(slope).forward(z))))
    scale = float(np.max(np.abs(z)))
    return {"relu_error": relu_err / scale, "leaky_error": leaky_err / scale}


def step_times(models, X, y, steps: int, batch: int = 32, repeats: int = 5) -> list[float]:
    """CPU ms per training step (forward, loss, backward, optimiser update) of each model on
    ``steps`` minibatches of ``batch``: the best of ``repeats`` rounds, the models timed in turn
    within each round, so that a busy machine slows them alike and their ratio stays fair. The
    optimisers have lr 0, so the models are left as they were."""
    trainers = [Trainer(m, "softmax_ce", SGD(m.parameters(), lr=0.0, momentum=0.9))
                for m in models]
    batches = [(X[i:i + batch], y[i:i + batch]) for i in range(0, batch * steps, batch)
               if i + batch <= len(X)]
    best = [float("inf")] * len(models)
    for _rep in range(repeats):
        for k, trainer in enumerate(trainers):
            start = time.process_time()
            for xb, yb in batches:
                trainer.train_step(xb, yb)
            best[k] = min(best[k], time.process_time() - start)
    return [1e3 * b / len(batches) for b in best]


class MaxoutCost(Experiment):
    id = "a9"
    questions = ("A9",)
    title = N_("Maxout: general, but k× the cost")
    question = (N_("Does Maxout generalise ReLU and Leaky ReLU, at twice the parameters and compute "
                "(k = 2)?"))
    what = N_("Nets [64, 64, 64, 10] on 600 standardised digits with ReLU, Leaky ReLU (0.01) "
               "or Maxout (k = {k}) hidden layers, SGD with momentum 0.9, batch 32, 10 epochs "
               "(30 in the full grid), each at its best learning rate of a small set (by "
               "validation accuracy on 500 other digits). Measured: parameters of the hidden "
               "layers and in all, CPU time per training step (best of 5 rounds of 18 steps of "
               "batch 32, timed in turn with a ReLU net of the same sizes), validation "
               "accuracy; and, numerically, maxout with w₁ = 0 against ReLU and with w₁ = "
               "0.01·w₂ against Leaky ReLU (relative difference).")
    what_values = {"k": K}
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 paired seeds: a sign-test p of 0.002
    version = 2      # step time measured in turn with a ReLU reference net (cost_vs_relu)

    def grid(self, quick: bool) -> list[dict]:
        lrs = (0.03, 0.1) if quick else (0.01, 0.03, 0.1)
        return [{"net": n, "lr": lr, "epochs": 10 if quick else 30, "width": 64}
                for n in NETS for lr in lrs]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, Xv, yv = digits_split(seed)
        sizes = [X.shape[1], spec["width"], spec["width"], 10]
        if spec["net"] == "maxout":
            model = maxout_net(sizes, K, seed)
        else:
            model = mlp(sizes, activation=spec["net"], seed=seed)
        hidden = sum(p.size for m in model.layers[:-1] for p in m.parameters())
        # before training (cost does not depend on the values), in turn with a ReLU net of the
        # same sizes: the ratio is the cost relative to ReLU under the same machine load
        reference = mlp(sizes, activation="relu", seed=seed)
        ms, ms_relu = step_times([model, reference], X, y, steps=18)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            h = fit(model, X, y, loss="softmax_ce", epochs=spec["epochs"], batch_size=32,
                    optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), seed=seed,
                    validation_data=(Xv, yv), progress=False)
        curve = h.epochs["val_acc"]
        out = {"params_hidden": int(hidden), "params_total": int(model.num_parameters()),
               "ms_per_step": ms, "cost_vs_relu": ms / ms_relu, "diverged": h.diverged,
               "val_acc": 0.0 if h.diverged or not curve else curve[-1], "val_curve": curve}
        if spec["net"] == "maxout":
            out.update(special_cases(seed))
        return out

    # -- evaluation -----------------------------------------------------------------------------
    @staticmethod
    def _best(results) -> dict:
        best = {}
        for net, runs in group(results, "net").items():
            by_lr = group(runs, "lr")
            lr = max(by_lr, key=lambda k: (np.mean([r.result["val_acc"] for r in by_lr[k]]), -k))
            best[net] = (lr, by_lr[lr])
        return best

    def verdicts(self, results):
        best = self._best(results)
        runs = {n: best[n][1] for n in NETS}
        seed = {n: {r.seed: r.result for r in runs[n]} for n in NETS}
        seeds = sorted(set.intersection(*(set(v) for v in seed.values())))
        # shown: the special cases and the parameter count hold by construction
        shown = demonstration([max(seed["maxout"][i]["relu_error"],
                                   seed["maxout"][i]["leaky_error"]) < CASE_TOL
                               and seed["maxout"][i]["params_hidden"]
                               == K * seed["relu"][i]["params_hidden"] for i in seeds])
        # tested: the compute cost, and that the general unit learns as well as its cases
        flags = [seed["maxout"][i]["cost_vs_relu"] > COST
                 and seed["maxout"][i]["val_acc"] >= max(seed["relu"][i]["val_acc"],
                                                         seed["leaky_relu"][i]["val_acc"])
                 - ACC_TOL for i in seeds]
        agree = tally(flags)
        status = agree.status if shown.status == "shown" else "fails"
        p = {n: runs[n][0].result for n in NETS}
        ms = {n: mean_spread([r.result["ms_per_step"] for r in runs[n]]) for n in NETS}
        acc = {n: mean_spread([r.result["val_acc"] for r in runs[n]]) for n in NETS}
        cases = max(max(r.result["relu_error"], r.result["leaky_error"]) for r in runs["maxout"])
        ratio = float(np.mean([r.result["cost_vs_relu"] for r in runs["maxout"]]))
        rule = (_("Shown, not tested: with w₁ = 0 (and w₁ = 0.01·w₂) maxout equals ReLU (Leaky "
                  "ReLU) to a relative {case_tol:g}, and its hidden layers hold exactly {k}× "
                  "the parameters. Tested, per seed: a training step costs more than {cost}× "
                  "that of a ReLU net of the same sizes timed in turn with it, and maxout's "
                  "validation accuracy is within {acc_tol_100:.0f} points of the better of "
                  "ReLU and Leaky ReLU (each at its best learning rate). Every seed → holds, "
                  "none → fails, mixed → inconclusive.").format(
                    case_tol=CASE_TOL, k=K, cost=COST, acc_tol_100=ACC_TOL * 100))
        answer = _answer(status, shown, held_in(flags), ratio)
        evidence = [Row(n, {_("hidden-layer parameters"): p[n]["params_hidden"],
                            _("all parameters"): p[n]["params_total"], _("CPU ms per step"): ms[n],
                            _("validation accuracy"): acc[n], _("learning rate"): best[n][0]})
                    for n in NETS]
        evidence.append(Row(_("maxout step / ReLU step, timed in turn"), {
            _("ratio"): mean_spread([r.result["cost_vs_relu"] for r in runs["maxout"]]),
            _("seeds above {cost}×").format(cost=COST): sum(r.result["cost_vs_relu"] > COST for r in runs["maxout"])}))
        evidence.append(Row(_("maxout special cases (shown)"), {
            _("largest relative difference from ReLU / Leaky ReLU"): cases, _("runs"): str(shown)}))
        sentence = self._sentence(rule, cases, ratio, p, acc, ms)
        numbers = {"parameters in hidden layers, maxout": p["maxout"]["params_hidden"],
                   "parameters in hidden layers, ReLU": p["relu"]["params_hidden"]}
        numbers.update({f"ms per step, {n}": ms[n] for n in NETS})
        numbers.update({f"validation accuracy, {n} (lr {best[n][0]:g})": acc[n] for n in NETS})
        numbers["maxout vs ReLU/Leaky special cases, max relative difference"] = cases
        return [Verdict("A9", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=agree)]

    @staticmethod
    def _sentence(rule, cases, ratio, p, acc, ms):
        """The long form: the special cases, the cost and the accuracies, then the rule."""
        sentence = (
            _("With w₁ = 0 a maxout unit equals ReLU, and with w₁ = 0.01·w₂ Leaky ReLU, to a "
              "relative {cases:.1e}. Its hidden layers hold {p_maxout_params_hidden:,} "
              "parameters against {p_relu_params_hidden:,} (×{p_maxout_params_hidden_2:g}; "
              "whole net {p_maxout_params_total:,} vs {p_relu_params_total:,}); a training "
              "step takes {ms_maxout_3f} ms of CPU vs {ms_relu_3f} (ReLU) and "
              "{ms_leaky_relu_3f} (Leaky); timed in turn with a ReLU net of the same sizes it "
              "costs ×{ratio:.2f} — ").format(
                cases=cases, p_maxout_params_hidden=p['maxout']['params_hidden'],
                p_relu_params_hidden=p['relu']['params_hidden'],
                p_maxout_params_hidden_2=p['maxout']['params_hidden'] / p['relu']['params_hidden'],
                p_maxout_params_total=p['maxout']['params_total'],
                p_relu_params_total=p['relu']['params_total'],
                ms_maxout_3f=ms['maxout'].fmt('.3f'), ms_relu_3f=ms['relu'].fmt('.3f'),
                ms_leaky_relu_3f=ms['leaky_relu'].fmt('.3f'), ratio=ratio)
            + (_("less than ×{k}: the output layer and the per-step overhead are shared. ").format(
                   k=K)
               if ratio < K else
               _("more than ×{k}: besides the doubled matrix products, picking and scattering "
                 "through the winning piece (arg-max) costs extra. ").format(k=K))
            + _("Validation accuracy: maxout {acc_maxout_1}, ReLU {acc_relu_1}, Leaky "
                "{acc_leaky_relu_1}. ").format(
                  acc_maxout_1=acc['maxout'].fmt('.1%'), acc_relu_1=acc['relu'].fmt('.1%'),
                  acc_leaky_relu_1=acc['leaky_relu'].fmt('.1%')) + rule)
        return sentence

    def figures(self, results):
        best = self._best(results)
        colours = {"relu": "tab:blue", "leaky_relu": "tab:cyan", "maxout": "tab:purple"}
        fig = Figure(figsize=(7.5, 7.0))
        grid = fig.add_gridspec(2, 2)
        ax1, ax2 = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        ax3 = fig.add_subplot(grid[1, :])
        x = np.arange(len(NETS))
        params = [best[n][1][0].result["params_hidden"] for n in NETS]
        ms = [np.mean([r.result["ms_per_step"] for r in best[n][1]]) for n in NETS]
        ax1.bar(x, params, color=[colours[n] for n in NETS])
        ax1.set_xticks(x, NETS)
        ax1.set(title=_("Hidden-layer parameters"))
        ax2.bar(x, ms, color=[colours[n] for n in NETS])
        ax2.set_xticks(x, NETS)
        ax2.set(title=_("CPU ms per training step"))
        for n in NETS:
            for i, r in enumerate(best[n][1]):
                c = r.result["val_curve"]
                ax3.plot(np.arange(1, len(c) + 1), c, color=colours[n], alpha=0.8,
                         label=n if i == 0 else None)
        ax3.set(title=_("Validation accuracy at each net's best learning rate"), xlabel=_("epoch"),
                ylabel=_("accuracy"), ylim=(0.8, 1.0))
        ax3.legend(loc="lower right")
        fig.tight_layout()
        return [(_("Maxout (k = 2) doubles the hidden layers' parameters (top left) and costs "
                   "more per training step (top right); bottom, validation accuracy per epoch "
                   "(one line per seed)."), fig)]


def _answer(status, shown, held: str, ratio: float) -> str:
    """The one-line answer; ``ratio``: maxout's step time over ReLU's, timed in turn."""
    if status == "holds":
        return (_("Yes: maxout contains ReLU and Leaky ReLU exactly, has {k}× their hidden "
                  "parameters and took {ratio:.1f}× ReLU's time per step.").format(
                    k=K, ratio=ratio))
    if status == "fails" and shown.status == "fails":
        return _("No: maxout did not reproduce ReLU or Leaky ReLU, or its parameter count is "
                 "off.")
    if status == "fails":
        return (_("Not the compute: maxout contains ReLU and has {k}× the parameters, but a "
                  "step took {ratio:.1f}× ReLU's time or it learned worse.").format(
                    k=K, ratio=ratio))
    return (_("Contains ReLU and Leaky ReLU with {k}× the parameters; the extra compute "
              "({ratio:.1f}× per step on average) held in {held} only.").format(
                k=K, ratio=ratio, held=held))


EXPERIMENT = MaxoutCost()
