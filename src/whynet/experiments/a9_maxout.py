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
    for _ in range(repeats):
        for k, trainer in enumerate(trainers):
            start = time.process_time()
            for xb, yb in batches:
                trainer.train_step(xb, yb)
            best[k] = min(best[k], time.process_time() - start)
    return [1e3 * b / len(batches) for b in best]


class MaxoutCost(Experiment):
    id = "a9"
    questions = ("A9",)
    title = "Maxout: general, but k× the cost"
    question = ("Does Maxout generalise ReLU and Leaky ReLU, at twice the parameters and compute "
                "(k = 2)?")
    what = (f"Nets [64, 64, 64, 10] on 600 standardised digits with ReLU, Leaky ReLU (0.01) or "
            f"Maxout (k = {K}) hidden layers, SGD with momentum 0.9, batch 32, 10 epochs (30 in "
            "the full grid), each at its best learning rate of a small set (by validation "
            "accuracy on 500 other digits). Measured: parameters of the hidden layers and in all, "
            "CPU time per training step (best of 5 rounds of 18 steps of batch 32, timed in turn "
            "with a ReLU net of the same sizes), validation accuracy; "
            "and, numerically, maxout with w₁ = 0 against ReLU and with w₁ = 0.01·w₂ against "
            "Leaky ReLU (relative difference).")
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
        rule = (f"Shown, not tested: with w₁ = 0 (and w₁ = 0.01·w₂) maxout equals ReLU (Leaky "
                f"ReLU) to a relative {CASE_TOL:g}, and its hidden layers hold exactly {K}× the "
                f"parameters. Tested, per seed: a training step costs more than {COST}× that of a "
                f"ReLU net of the same sizes timed in turn with it, "
                f"and maxout's validation accuracy is within {ACC_TOL * 100:.0f} points of the "
                f"better of ReLU and Leaky ReLU (each at its best learning rate). Every seed → "
                f"holds, none → fails, mixed → inconclusive.")
        answer = _answer(status, shown, held_in(flags), ratio)
        evidence = [Row(n, {"hidden-layer parameters": p[n]["params_hidden"],
                            "all parameters": p[n]["params_total"], "CPU ms per step": ms[n],
                            "validation accuracy": acc[n], "learning rate": best[n][0]})
                    for n in NETS]
        evidence.append(Row("maxout step / ReLU step, timed in turn", {
            "ratio": mean_spread([r.result["cost_vs_relu"] for r in runs["maxout"]]),
            f"seeds above {COST}×": sum(r.result["cost_vs_relu"] > COST for r in runs["maxout"])}))
        evidence.append(Row("maxout special cases (shown)", {
            "largest relative difference from ReLU / Leaky ReLU": cases, "runs": str(shown)}))
        sentence = (
            f"With w₁ = 0 a maxout unit equals ReLU, and with w₁ = 0.01·w₂ Leaky ReLU, to a "
            f"relative {cases:.1e}. Its hidden layers hold {p['maxout']['params_hidden']:,} "
            f"parameters against {p['relu']['params_hidden']:,} "
            f"(×{p['maxout']['params_hidden'] / p['relu']['params_hidden']:g}; whole net "
            f"{p['maxout']['params_total']:,} vs {p['relu']['params_total']:,}); a training step "
            f"takes {ms['maxout'].fmt('.3f')} ms of CPU vs {ms['relu'].fmt('.3f')} (ReLU) and "
            f"{ms['leaky_relu'].fmt('.3f')} (Leaky); timed in turn with a ReLU net of the same "
            f"sizes it costs ×{ratio:.2f} — "
            + (f"less than ×{K}: the output layer and the per-step overhead are shared. "
               if ratio < K else
               f"more than ×{K}: besides the doubled matrix products, picking and scattering "
               f"through the winning piece (arg-max) costs extra. ")
            + f"Validation accuracy: maxout {acc['maxout'].fmt('.1%')}, ReLU "
            f"{acc['relu'].fmt('.1%')}, Leaky {acc['leaky_relu'].fmt('.1%')}. " + rule)
        numbers = {"parameters in hidden layers, maxout": p["maxout"]["params_hidden"],
                   "parameters in hidden layers, ReLU": p["relu"]["params_hidden"]}
        numbers.update({f"ms per step, {n}": ms[n] for n in NETS})
        numbers.update({f"validation accuracy, {n} (lr {best[n][0]:g})": acc[n] for n in NETS})
        numbers["maxout vs ReLU/Leaky special cases, max relative difference"] = cases
        return [Verdict("A9", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=agree)]

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
        ax1.set(title="Hidden-layer parameters")
        ax2.bar(x, ms, color=[colours[n] for n in NETS])
        ax2.set_xticks(x, NETS)
        ax2.set(title="CPU ms per training step")
        for n in NETS:
            for i, r in enumerate(best[n][1]):
                c = r.result["val_curve"]
                ax3.plot(np.arange(1, len(c) + 1), c, color=colours[n], alpha=0.8,
                         label=n if i == 0 else None)
        ax3.set(title="Validation accuracy at each net's best learning rate", xlabel="epoch",
                ylabel="accuracy", ylim=(0.8, 1.0))
        ax3.legend(loc="lower right")
        fig.tight_layout()
        return [("Maxout (k = 2) doubles the hidden layers' parameters (top left) and costs more "
                 "per training step (top right); bottom, validation accuracy per epoch (one "
                 "line per seed).", fig)]


def _answer(status, shown, held: str, ratio: float) -> str:
    """The one-line answer; ``ratio``: maxout's step time over ReLU's, timed in turn."""
    if status == "holds":
        return (f"Yes: maxout contains ReLU and Leaky ReLU exactly, has {K}× their hidden "
                f"parameters and took {ratio:.1f}× ReLU's time per step.")
    if status == "fails" and shown.status == "fails":
        return "No: maxout did not reproduce ReLU or Leaky ReLU, or its parameter count is off."
    if status == "fails":
        return (f"Not the compute: maxout contains ReLU and has {K}× the parameters, but a step "
                f"took {ratio:.1f}× ReLU's time or it learned worse.")
    return (f"Contains ReLU and Leaky ReLU with {K}× the parameters; the extra compute "
            f"({ratio:.1f}× per step on average) held in {held} only.")


EXPERIMENT = MaxoutCost()
