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
from .base import Experiment, Verdict, decide, group, mean_spread

NETS = ("relu", "leaky_relu", "maxout")
K = 2


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


def step_time(model, X, y, steps: int, batch: int = 32) -> float:
    """Best of three CPU-time measurements of ``steps`` training steps (forward, loss, backward,
    optimiser update) on minibatches of ``batch``, in ms per step. The optimiser has lr 0, so the
    model is left as it was."""
    trainer = Trainer(model, "softmax_ce", SGD(model.parameters(), lr=0.0, momentum=0.9))
    batches = [(X[i:i + batch], y[i:i + batch]) for i in range(0, batch * steps, batch)
               if i + batch <= len(X)]
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for xb, yb in batches:
            trainer.train_step(xb, yb)
        best = min(best, time.process_time() - start)
    return 1e3 * best / len(batches)


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
            "CPU time per training step (best of 3 × 18 steps of batch 32), validation accuracy; "
            "and, numerically, maxout with w₁ = 0 against ReLU and with w₁ = 0.01·w₂ against "
            "Leaky ReLU (relative difference).")
    seeds_quick = 3
    seeds_full = 8

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
        ms = step_time(model, X, y, steps=18)  # before training: cost does not depend on values
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            h = fit(model, X, y, loss="softmax_ce", epochs=spec["epochs"], batch_size=32,
                    optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), seed=seed,
                    validation_data=(Xv, yv), progress=False)
        curve = h.epochs["val_acc"]
        out = {"params_hidden": int(hidden), "params_total": int(model.num_parameters()),
               "ms_per_step": ms, "diverged": h.diverged,
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
        flags = []
        for i in sorted(set.intersection(*(set(v) for v in seed.values()))):
            r, lk, m = seed["relu"][i], seed["leaky_relu"][i], seed["maxout"][i]
            flags.append(m["params_hidden"] == K * r["params_hidden"]
                         and max(m["relu_error"], m["leaky_error"]) < 1e-6
                         and m["ms_per_step"] > 1.2 * r["ms_per_step"]
                         and m["val_acc"] >= max(r["val_acc"], lk["val_acc"]) - 0.02)
        p = {n: runs[n][0].result for n in NETS}
        ms = {n: mean_spread([r.result["ms_per_step"] for r in runs[n]]) for n in NETS}
        acc = {n: mean_spread([r.result["val_acc"] for r in runs[n]]) for n in NETS}
        cases = max(max(r.result["relu_error"], r.result["leaky_error"]) for r in runs["maxout"])
        ratio = ms["maxout"].mean / ms["relu"].mean
        sentence = (
            f"With w₁ = 0 a maxout unit equals ReLU, and with w₁ = 0.01·w₂ Leaky ReLU, to a "
            f"relative {cases:.1e}. Its hidden layers hold {p['maxout']['params_hidden']:,} "
            f"parameters against {p['relu']['params_hidden']:,} "
            f"(×{p['maxout']['params_hidden'] / p['relu']['params_hidden']:g}; whole net "
            f"{p['maxout']['params_total']:,} vs {p['relu']['params_total']:,}); a training step "
            f"takes {ms['maxout'].fmt('.3f')} ms of CPU vs {ms['relu'].fmt('.3f')} (ReLU) and "
            f"{ms['leaky_relu'].fmt('.3f')} (Leaky), ×{ratio:.2f} — "
            + (f"less than ×{K}: the output layer and the per-step overhead are shared. "
               if ratio < K else
               f"more than ×{K}: besides the doubled matrix products, picking and scattering "
               f"through the winning piece (arg-max) costs extra. ")
            + f"Validation accuracy: maxout {acc['maxout'].fmt('.1%')}, ReLU "
            f"{acc['relu'].fmt('.1%')}, Leaky {acc['leaky_relu'].fmt('.1%')}. Holds when, in "
            f"every seed, the special cases agree to 1e-6, the hidden layers have exactly ×{K} "
            f"the parameters, a step costs "
            f"more than 1.2× ReLU's, and maxout is within 2 points of the better of the two.")
        numbers = {"parameters in hidden layers, maxout": p["maxout"]["params_hidden"],
                   "parameters in hidden layers, ReLU": p["relu"]["params_hidden"]}
        numbers.update({f"ms per step, {n}": ms[n] for n in NETS})
        numbers.update({f"validation accuracy, {n} (lr {best[n][0]:g})": acc[n] for n in NETS})
        numbers["maxout vs ReLU/Leaky special cases, max relative difference"] = cases
        return [Verdict("A9", decide(flags), sentence, numbers)]

    def figures(self, results):
        best = self._best(results)
        colours = {"relu": "tab:blue", "leaky_relu": "tab:cyan", "maxout": "tab:purple"}
        fig = Figure(figsize=(7.2, 3.3))
        ax1, ax2, ax3 = fig.subplots(1, 3)
        x = np.arange(len(NETS))
        params = [best[n][1][0].result["params_hidden"] for n in NETS]
        ms = [np.mean([r.result["ms_per_step"] for r in best[n][1]]) for n in NETS]
        ax1.bar(x, params, color=[colours[n] for n in NETS])
        ax1.set(title="Hidden-layer parameters", xticks=x)
        ax1.set_xticklabels(NETS, fontsize=7)
        ax2.bar(x, ms, color=[colours[n] for n in NETS])
        ax2.set(title="CPU ms per training step", xticks=x)
        ax2.set_xticklabels(NETS, fontsize=7)
        for n in NETS:
            for i, r in enumerate(best[n][1]):
                c = r.result["val_curve"]
                ax3.plot(np.arange(1, len(c) + 1), c, color=colours[n], alpha=0.8,
                         label=n if i == 0 else None)
        ax3.set(title="Validation accuracy", xlabel="epoch", ylim=(0.8, 1.0))
        ax3.legend(fontsize=7)
        for ax in (ax1, ax2, ax3):
            ax.title.set_fontsize(9)
        fig.tight_layout()
        return [("Maxout (k = 2) doubles the hidden layers' parameters (left) and costs more per "
                 "training step (middle); right, validation accuracy per epoch at each net's best "
                 "learning rate.", fig)]


EXPERIMENT = MaxoutCost()
