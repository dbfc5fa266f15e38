"""C1 — convolution keeps the signal's structure instead of flattening it.

Note 004 (cs231n lecture 5, p31 and p67) asks what a convolution buys over a flattened vector:
each unit sees a small neighbourhood (local connectivity) and the same filter slides over every
position (shared weights), so the layer is built for signals whose neighbours belong together.
Greydanus (2020) made MNIST-1D to show it: on the 40-point signals a small CNN beats an MLP by a
wide margin, and when the 40 positions are shuffled by one fixed permutation — the same
information, no neighbourhoods — the CNN loses that edge while the MLP, which never used the order,
does not care. We train a 1-D CNN and an MLP of about the same number of parameters (and a
logistic regression) on both versions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..datasets import mnist1d
from ..nn import Conv1d, Dense, Flatten, MaxPool1d, ReLU, Sequential, mlp
from ..random import make_rng, spawn
from ..train import fit
from .base import Experiment, Published, Row, Verdict, group, mean_spread, tally

MODELS = ("logistic", "mlp", "cnn", "mlp_paper")
MIN_EDGE = 0.10     # the CNN must beat the MLP by 10 points on the ordered signals
#: Greydanus (2020), README table: test accuracy (ordered, shuffled) per model.
PUBLISHED = {"logistic": (0.32, 0.32), "mlp": (0.68, 0.68), "cnn": (0.94, 0.56)}


def _points(diffs) -> str:
    """Accuracy differences as signed percentage points: ``"+32 ± 1 points (n=3)"``."""
    stat = mean_spread(diffs)
    return f"{stat.mean * 100:+.0f} ± {stat.std * 100:.0f} points (n={stat.n})"


def build(model: str, seed) -> Sequential:
    """``cnn``: Conv1d(1→16, k5) → ReLU → MaxPool 2 → Conv1d(16→16, k3) → ReLU → MaxPool 2 →
    Dense(160 → 10), 2,490 parameters; ``mlp``: Dense(40 → 50) → ReLU → Dense(50 → 10), 2,560;
    ``logistic``: Dense(40 → 10), 410; ``mlp_paper``: the size of Greydanus's MLP,
    40 → 100 → 100 → 10 with ReLU (15,210; his adds a residual connection around layer 2)."""
    r1, r2, r3 = spawn(make_rng(seed), 3)
    if model == "mlp_paper":
        return mlp([40, 100, 100, 10], activation="relu", seed=seed)
    if model == "cnn":
        return Sequential(Conv1d(1, 16, 5, padding=2, rng=r1), ReLU(), MaxPool1d(2),
                          Conv1d(16, 16, 3, padding=1, rng=r2), ReLU(), MaxPool1d(2),
                          Flatten(), Dense(16 * 10, 10, rng=r3))
    if model == "mlp":
        return Sequential(Dense(40, 50, init="he_uniform", rng=r1), ReLU(),
                          Dense(50, 10, rng=r3))
    return Sequential(Dense(40, 10, rng=r1))


@lru_cache(maxsize=4)
def _data(shuffled: bool, n_train: int):
    """MNIST-1D (one fixed data set, generated from seed 0 like the published pickle); the first
    ``n_train`` training examples and the whole 1,000-example test set."""
    sp = mnist1d(seed=0, shuffle_seq=shuffled)
    return sp.train.X[:n_train], sp.train.y[:n_train], sp.test.X, sp.test.y


class CnnVsMlp(Experiment):
    id = "c1"
    questions = ("C1",)
    title = N_("CNN vs MLP, ordered and shuffled")
    question = (N_("Does a CNN beat an MLP of the same size because it uses the order of the "
                "inputs — and lose that edge when the positions are shuffled?"))
    what = (N_("MNIST-1D (Greydanus 2020; 4,000 training and 1,000 test signals of 40 points, "
            "generated from seed 0), as is and with one fixed permutation of the 40 positions "
            "applied to every signal. Three models: a 1-D CNN (two convolutions of 16 channels "
            "with max pooling, 2,490 parameters), an MLP with one hidden layer of 50 ReLU units "
            "(2,560 parameters) and a logistic regression (410). Each is trained by Adam "
            "(lr 1e-2, batches of 100) for the same number of epochs; we report test accuracy. "
            "The quick grid trains on the first 2,000 training signals for 10 epochs (200 "
            "steps), the full grid on all 4,000 for 40 (1,600 steps) and adds an MLP of the "
            "published size (40-100-100-10, 15,210 parameters). Seeds change the initial "
            "weights and the batch order, not the data."))
    seeds_quick = 3
    seeds_full = 8

    def grid(self, quick: bool) -> list[dict]:
        n_train, epochs = (2000, 10) if quick else (4000, 40)
        models = MODELS[:3] if quick else MODELS
        return [{"model": model, "shuffled": shuffled, "n_train": n_train, "epochs": epochs,
                 "lr": 1e-2} for shuffled in (False, True) for model in models]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, Xt, yt = _data(spec["shuffled"], spec["n_train"])
        model = build(spec["model"], seed)
        if spec["model"] == "cnn":  # one channel of 40 positions
            X, Xt = X[:, None, :], Xt[:, None, :]
        history = fit(model, X, y, loss="softmax_ce", optimizer="adam", lr=spec["lr"],
                      epochs=spec["epochs"], batch_size=100, seed=seed, progress=False)
        train_acc = float(np.mean(model.predict(X).argmax(axis=1) == y))
        test_acc = float(np.mean(model.predict(Xt).argmax(axis=1) == yt))
        return {"test_acc": test_acc, "train_acc": train_acc,
                "parameters": model.num_parameters(), "loss": history.epochs["loss"]}

    def _accuracies(self, results) -> dict:
        by = group(results, ("model", "shuffled"))
        return {key: [r.result["test_acc"] for r in runs] for key, runs in by.items()}

    def verdicts(self, results):
        acc = self._accuracies(results)
        seed_acc = {(r.spec["model"], r.spec["shuffled"], r.seed): r.result["test_acc"]
                    for r in results}
        needed = [(model, shuffled) for model in ("cnn", "mlp") for shuffled in (False, True)]
        # Seeds whose four runs all finished: the edges compare runs of the same seed.
        seeds = sorted({r.seed for r in results
                        if all((m, s, r.seed) in seed_acc for m, s in needed)})
        edge_ordered = [seed_acc["cnn", False, s] - seed_acc["mlp", False, s] for s in seeds]
        edge_shuffled = [seed_acc["cnn", True, s] - seed_acc["mlp", True, s] for s in seeds]
        flags = [eo > MIN_EDGE and es < eo / 2 for eo, es in zip(edge_ordered, edge_shuffled)]
        stat = {key: mean_spread(v) for key, v in acc.items()}
        params = {r.spec["model"]: r.result["parameters"] for r in results}
        numbers = {f"{model}{', shuffled' if shuffled else ''}: test accuracy":
                   stat[model, shuffled]
                   for shuffled in (False, True) for model in MODELS if (model, shuffled) in stat}
        numbers.update({"CNN − MLP, ordered": mean_spread(edge_ordered),
                        "CNN − MLP, shuffled": mean_spread(edge_shuffled),
                        "parameters (CNN, MLP, logistic)":
                            f"{params.get('cnn')}, {params.get('mlp')}, {params.get('logistic')}"})
        sentence = (_("With about the same number of parameters ({params_get_cnn:,} vs "
                      "{params_get_mlp:,}), the CNN reaches {stat_cnn_false} test accuracy on "
                      "the ordered signals against the MLP's {stat_mlp_false}; with the "
                      "positions shuffled the CNN falls to {stat_cnn_true} while the MLP stays "
                      "at {stat_mlp_true} (its inputs are the same numbers in another order). "
                      "The CNN's edge over the MLP goes from {points_edge_ordered} to "
                      "{points_edge_shuffled}. Holds when, in every seed, the CNN beats the "
                      "MLP by more than {min_edge_100:.0f} points on the ordered signals and "
                      "by less than half that margin once shuffled.").format(
                        params_get_cnn=params.get('cnn'), params_get_mlp=params.get('mlp'),
                        stat_cnn_false=stat['cnn', False].fmt('.0%'),
                        stat_mlp_false=stat['mlp', False].fmt('.0%'),
                        stat_cnn_true=stat['cnn', True].fmt('.0%'),
                        stat_mlp_true=stat['mlp', True].fmt('.0%'),
                        points_edge_ordered=_points(edge_ordered),
                        points_edge_shuffled=_points(edge_shuffled), min_edge_100=MIN_EDGE * 100))
        t = tally(flags)
        rule = (_("Holds when, in every seed, the CNN beats the size-matched MLP by more than "
                  "{min_edge_100:.0f} points on the ordered signals and by less than half that "
                  "seed's ordered margin once the positions are shuffled.").format(
                    min_edge_100=MIN_EDGE * 100))
        rows = [Row(_("{model}, positions shuffled").format(model=model) if shuffled else model,
                    {_("test accuracy"): stat[model, shuffled],
                     _("parameters"): params.get(model, "")})
                for model in MODELS for shuffled in (False, True) if (model, shuffled) in stat]
        rows += [Row(_("CNN − MLP, ordered"), {_("points"): mean_spread([d * 100
                                                                   for d in edge_ordered])}),
                 Row(_("CNN − MLP, shuffled"), {_("points"): mean_spread([d * 100
                                                                    for d in edge_shuffled])})]
        eo, es = mean_spread(edge_ordered).mean * 100, mean_spread(edge_shuffled).mean * 100
        answer = (_("Yes: the CNN leads a same-size MLP by {eo:.0f} points on ordered signals "
                    "but {leads_es_trails} by {abs_es:.0f} once positions are shuffled; the "
                    "MLP does not notice.").format(
                      eo=eo, leads_es_trails=_('leads') if es > 0 else _('trails'), abs_es=abs(es))
                  if t.status == "holds" else
                  _("Not in every seed ({t}): CNN − MLP {eo:+.0f} points ordered, {es:+.0f} "
                    "shuffled.").format(t=t, eo=eo, es=es))
        return [Verdict("C1", t.status, sentence, numbers, answer=answer, evidence=rows,
                        rule=rule, agree=t)]

    def published(self, results):
        acc = self._accuracies(results)
        spec = results[0].spec if results else {"n_train": 4000, "epochs": 8}
        steps = spec["epochs"] * -(-spec["n_train"] // 100)
        mean = {key: float(np.mean(v)) for key, v in acc.items()}
        ours = "; ".join(
            f"{model}: {mean_spread(acc[model, False]).fmt('.0%')}, shuffled "
            f"{mean_spread(acc[model, True]).fmt('.0%')}" for model in MODELS
            if (model, False) in acc and (model, True) in acc)
        theirs = "; ".join(f"{model}: {o:.0%}, shuffled {s:.0%}"
                           for model, (o, s) in PUBLISHED.items())
        gaps = ", ".join(f"{model} {(mean[model, False] - PUBLISHED[model][0]) * 100:+.0f}"
                         for model in PUBLISHED if (model, False) in mean)
        paper = ""
        if ("mlp_paper", False) in mean:
            gap = (PUBLISHED["mlp"][0] - mean["mlp", False]) * 100
            closed = (mean["mlp_paper", False] - mean["mlp", False]) * 100
            paper = (_(" An MLP of their size reaches {mlp_paper_false:.0%} here, closing "
                       "{closed:.0f} of the MLP's {gap:.0f}-point gap; the rest is their "
                       "longer training (and the residual connection in their MLP).").format(
                         mlp_paper_false=mean['mlp_paper', False], closed=closed, gap=gap))
        return [Published(
            "C1", _("Greydanus 2020, MNIST-1D (README table)"), theirs, ours,
            _("Gaps on the ordered data (ours − theirs, points): {gaps}. Their MLP has two "
              "hidden layers of 100 (15,210 parameters, 6× our size-matched MLP) and their CNN "
              "three strided convolutions of 25 channels (5,210, 2× ours); they train by Adam "
              "(lr 1e-2, batch 100) for 6,000–8,000 steps, we for {steps:,}, on a regenerated "
              "copy of the data set (same recipe, other random draws).{paper} The pattern is "
              "theirs: the CNN leads only while the positions keep their order, and the MLP "
              "does not notice the shuffle.").format(gaps=gaps, steps=steps, paper=paper))]

    def figures(self, results):
        acc = self._accuracies(results)
        fig = Figure(figsize=(6.4, 3.4))
        ax = fig.subplots()
        models = [m for m in MODELS if (m, False) in acc]
        width = 0.8 / len(models)
        colours = {"logistic": "tab:grey", "mlp": "tab:blue", "cnn": "tab:red",
                   "mlp_paper": "tab:cyan"}
        labels = {"logistic": _("logistic (410)"), "mlp": "MLP (2,560)", "cnn": "CNN (2,490)",
                  "mlp_paper": _("MLP, paper size (15,210)")}
        for k, model in enumerate(models):
            for j, shuffled in enumerate((False, True)):
                values = acc.get((model, shuffled))
                if not values:
                    continue
                x = j + (k - (len(models) - 1) / 2) * width
                ax.bar(x, np.mean(values), width=width * 0.9, color=colours[model],
                       alpha=1.0 if not shuffled else 0.6,
                       label=labels[model] if j == 0 else None)
                ax.plot(np.full(len(values), x), values, "k.", ms=4)
                # Their MLP is the paper-size one: draw its number there when it was run.
                ref = "mlp" if model == "mlp_paper" else model
                if ref in PUBLISHED and not (model == "mlp" and "mlp_paper" in models):
                    ax.plot([x - width * 0.45, x + width * 0.45], [PUBLISHED[ref][j]] * 2,
                            color="k", ls="--", lw=1,
                            label=_("published (Greydanus 2020)") if k == 0 and j == 0 else None)
        ax.axhline(0.1, color="grey", ls=":", lw=1)
        ax.set(xticks=[0, 1], ylim=(0, 1), ylabel=_("test accuracy"),
               title=_("MNIST-1D: ordered vs shuffled positions"))
        ax.set_xticklabels([_("ordered positions"), _("shuffled positions")])
        ax.legend(fontsize=9, loc="upper right")
        fig.tight_layout()
        return [(_("Test accuracy per model (bars: mean, dots: seeds, dashed: the published "
                   "numbers). The CNN's lead over an MLP of the same size exists only while "
                   "the 40 positions keep their order; the MLP and the logistic regression do "
                   "not notice the shuffle."), fig)]


EXPERIMENT = CnnVsMlp()
