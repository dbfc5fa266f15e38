"""R6 — a dev set used for choosing is optimistically biased; only an untouched test set is not.

Note 000 (Q4) asks what the course means by "if you don't need an unbiased estimate of
performance, a dev set without a test set may be fine", and leaves it open ("let's just use a test
set"). The meaning: once a set has been used to *choose* among models, the chosen model's score on
it is too high — it won partly because its errors happened to miss those particular examples.
A set the choice never saw is an unbiased estimate. We run a random search (Optuna through
``whynet.search``) over a small MLP on noisy data, pick the best configuration on a small dev set,
and compare its dev accuracy with its accuracy on fresh test data.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.regularizers import L2
from ..search import search
from ..train import fit
from .base import Experiment, Row, Verdict, mean_spread, tally, values

SPACE = {
    "lr": {"low": 1e-3, "high": 1.0, "log": True},
    "width": {"choices": [2, 4, 8, 16, 32, 64]},
    "depth": {"choices": [1, 2]},
    "l2": {"low": 1e-5, "high": 1e-1, "log": True},
}
MARGIN = 0.005  # selection bias must exceed the no-selection baseline by half a point


def signed(stat) -> str:
    """``+0.032 ± 0.018 (n=3)``: accuracy differences with their sign."""
    return f"{stat.mean:+.3f} ± {stat.std:.3f} (n={stat.n})"


def noisy_moons(spec: dict, seed: int):
    """Train / dev pool / test sets of moons with noise 0.35, standardised on the training set."""
    n_train, pool, n_test = spec["n_train"], spec["pool"], spec["n_test"]
    total = n_train + pool + n_test
    data = datasets.moons(n=total, noise=0.35, seed=seed)
    train, dev, test = datasets.split(data, val=pool / total, test=n_test / total, seed=seed)
    return datasets.standardize(train, dev, test)[:3]


class TrainedPool:
    """The search's objective: train an MLP with the trial's hyperparameters, return its accuracy
    on the dev set, and keep which dev-pool and test examples it gets right (for the analysis)."""

    def __init__(self, train, dev, test, dev_size: int, epochs: int, seed: int):
        self.train, self.dev, self.test = train, dev, test
        self.dev_size, self.epochs, self.seed = dev_size, epochs, seed
        self.correct: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, params, trial) -> float:
        sizes = [2] + [params["width"]] * params["depth"] + [2]
        model = mlp(sizes, activation="relu", seed=self.seed)
        h = fit(model, self.train.X, self.train.y, loss="softmax_ce", optimizer="sgd",
                lr=params["lr"], epochs=self.epochs, batch_size=32,
                regularizer=L2(params["l2"]), seed=self.seed, progress=False)
        if h.diverged:
            return 0.0  # never chosen, left out of the analysis
        try:
            dev_ok = model.predict(self.dev.X).argmax(axis=1) == self.dev.y
            test_ok = model.predict(self.test.X).argmax(axis=1) == self.test.y
        except FloatingPointError:  # overflow in a run that blew up without a non-finite loss
            return 0.0
        self.correct[trial.number] = (dev_ok, test_ok)
        return float(dev_ok[:self.dev_size].mean())


def selection_bias(dev_ok: np.ndarray, test_acc: np.ndarray, dev_size: int, k: int,
                   draws: int, rng: np.random.Generator) -> tuple[float, float]:
    """Mean over ``draws`` searches of (dev − test accuracy of the config with the best dev score)
    and of the test-accuracy regret, each search choosing among ``k`` random configs with a
    random dev set of ``dev_size`` examples from the pool. The first maximum wins ties, as in
    ``SearchResult.best``.

    Shapes: ``dev_ok`` (n_configs, pool) booleans, ``test_acc`` (n_configs,).
    """
    n, pool = dev_ok.shape
    configs = np.sort(rng.random((draws, n)).argsort(axis=1)[:, :k], axis=1)  # (draws, k)
    idx = rng.random((draws, pool)).argsort(axis=1)[:, :dev_size]  # (draws, dev_size)
    dev_acc = dev_ok[configs[:, :, None], idx[:, None, :]].mean(axis=2)  # (draws, k)
    chosen = configs[np.arange(draws), dev_acc.argmax(axis=1)]
    gaps = dev_acc.max(axis=1) - test_acc[chosen]
    regrets = test_acc[configs].max(axis=1) - test_acc[chosen]
    return float(gaps.mean()), float(regrets.mean())


class DevBias(Experiment):
    id = "r6"
    questions = ("R6",)
    title = N_("Dev-set selection bias")
    question = (N_("Is the dev-set score of the configuration a search picked an optimistic "
                "estimate of how it does on new data?"))
    what = (N_("A random search (Optuna's random sampler through whynet.search) over learning rate "
            "[1e-3, 1] (log), width {2…64}, depth {1, 2} and L2 λ [1e-5, 0.1] (log) for a ReLU "
            "MLP trained by SGD (batch 32, 10 epochs) on 200 points of moons with noise 0.35. "
            "Each trial is "
            "scored on a dev set of 50 points; the best one is compared on 1000 fresh test "
            "points. Because the trained models can be scored on any dev set, we also repeat the "
            "choice for 400 random dev sets (of 25, 50 or 200 points from a pool of 1000) and "
            "random subsets of k configurations: the mean of dev − test accuracy of the chosen "
            "configuration is the selection bias, and with k = 1 (no choice) it is the baseline "
            "that should be 0."))
    seeds_quick = 3
    seeds_full = 10
    version = 1

    def grid(self, quick: bool) -> list[dict]:
        return [{"n_trials": 20 if quick else 60, "epochs": 10, "n_train": 200, "pool": 1000,
                 "n_test": 1000, "dev": 50, "dev_sizes": [25, 50, 200],
                 "draws": 400}]

    def run(self, spec: dict, seed: int) -> dict:
        train, dev, test = noisy_moons(spec, seed)
        objective = TrainedPool(train, dev, test, spec["dev"], spec["epochs"], seed)
        result = search(SPACE, objective=objective, sampler="random", seed=seed,
                        n_trials=spec["n_trials"], storage=None, pruner="none")
        trials = [t for t in result.trials(("complete",)) if t["number"] in objective.correct]
        numbers = [t["number"] for t in trials]
        dev_ok = np.array([objective.correct[n][0] for n in numbers])
        test_acc = np.array([objective.correct[n][1].mean() for n in numbers])
        best = max(trials, key=lambda t: t["value"])  # first maximum: SearchResult.best's rule
        best_test = float(test_acc[numbers.index(best["number"])])
        rng = np.random.default_rng([seed, 6])
        n = len(trials)
        ks = sorted({k for k in (1, 2, 5, 10, 20, 40, n) if k <= n})
        by_k = [selection_bias(dev_ok, test_acc, spec["dev"], k, spec["draws"], rng)
                for k in ks]
        by_dev = [selection_bias(dev_ok, test_acc, d, n, spec["draws"], rng)
                  for d in spec["dev_sizes"]]
        bias, regret = by_dev[spec["dev_sizes"].index(spec["dev"])]
        return {
            "search_dev": float(best["value"]), "search_test": best_test,
            "search_gap": float(best["value"]) - best_test,
            "best_params": best["params"],
            "selection_bias": bias, "baseline": by_k[0][0], "regret": regret,
            "ks": ks, "bias_by_k": [b for b, _ in by_k],
            "dev_sizes": spec["dev_sizes"], "bias_by_dev": [b for b, _ in by_dev],
            "oracle_test": float(test_acc.max()), "completed": n,
            "trials": [[t["params"]["lr"], t["params"]["width"], t["params"]["depth"],
                        t["params"]["l2"], t["value"], float(a)] for t, a in zip(trials, test_acc)],
        }

    def verdicts(self, results):
        bias = values(results, "selection_bias")
        base = values(results, "baseline")
        flags = [b > c + MARGIN for b, c in zip(bias, base)]
        gap = mean_spread(values(results, "search_gap"))
        spec = results[0].spec
        n = len(results)
        se = gap.std / math.sqrt(max(n - 1, 1))
        chosen_dev = mean_spread(values(results, "search_dev"))
        chosen_test = mean_spread(values(results, "search_test"))
        numbers = {
            "dev accuracy of the search's choice": chosen_dev,
            "test accuracy of the search's choice": chosen_test,
            "dev − test, the search's choice": gap,
            f"selection bias, mean over {spec['draws']} dev sets": mean_spread(bias),
            "baseline without choosing (k = 1)": mean_spread(base),
            "best test accuracy among the configs": mean_spread(values(results, "oracle_test")),
        }
        by_dev = ", ".join(
            f"{d} examples {signed(mean_spread([r.result['bias_by_dev'][i] for r in results]))}"
            for i, d in enumerate(spec["dev_sizes"]))
        sentence = (
            _("The configuration the search picked out of {spec_n_trials} scores "
              "{chosen_dev_1} on its {spec_dev}-example dev set but {chosen_test_1} on 1000 "
              "fresh test points (dev − test {signed_gap}, standard error {se:.3f} over {n} "
              "searches). Averaged over {spec_draws} dev sets per seed, the chosen "
              "configuration's dev score exceeds its test score by {signed_mean_spread_bias}, "
              "against {signed_mean_spread_base} for a configuration taken without choosing; "
              "the bias shrinks as the dev set grows ({by_dev}). Holds when, in every seed, "
              "the selection bias exceeds the no-choice baseline by more than {margin}.").format(
                spec_n_trials=spec['n_trials'], chosen_dev_1=chosen_dev.fmt('.1%'),
                spec_dev=spec['dev'], chosen_test_1=chosen_test.fmt('.1%'),
                signed_gap=signed(gap), se=se, n=n, spec_draws=spec['draws'],
                signed_mean_spread_bias=signed(mean_spread(bias)),
                signed_mean_spread_base=signed(mean_spread(base)), by_dev=by_dev, margin=MARGIN))
        t = tally(flags)
        rule = (_("Holds when, in every seed, the selection bias (dev − test of the chosen "
                  "configuration, averaged over {spec_draws} dev sets) exceeds the no-choice "
                  "baseline by more than {margin}.").format(
                    spec_draws=spec['draws'], margin=MARGIN))
        rows = [Row(_("the search's choice"), {_("dev accuracy"): chosen_dev,
                                             _("test accuracy"): chosen_test, _("dev − test"): gap}),
                Row(_("chosen by a {spec_dev}-example dev set (average over dev sets)").format(
                        spec_dev=spec['dev']),
                    {_("dev − test"): mean_spread(bias)}),
                Row(_("taken without choosing (k = 1)"), {_("dev − test"): mean_spread(base)})]
        rows += [Row(_("chosen with a {d}-example dev set").format(d=d), {_("dev − test"): mean_spread(
            [r.result["bias_by_dev"][i] for r in results])})
            for i, d in enumerate(spec["dev_sizes"])]
        answer = (_("Yes: the chosen configuration scores {mean_spread_bias_100:.1f} points "
                    "higher on its dev set than on fresh data; an unchosen one "
                    "{mean_spread_base_100:+.1f}.").format(
                      mean_spread_bias_100=mean_spread(bias).mean * 100,
                      mean_spread_base_100=mean_spread(base).mean * 100)
                  if t.status == "holds" else
                  _("Not clearly ({t}): the chosen configuration's dev optimism did not beat "
                    "the no-choice baseline in every seed.").format(t=t))
        return [Verdict("R6", t.status, sentence, numbers, answer=answer, evidence=rows,
                        rule=rule, agree=t)]

    def figures(self, results):
        fig = Figure(figsize=(7.2, 6.8))
        ax1, ax2 = fig.subplots(2, 1)
        r0 = results[0].result
        trials = np.array(r0["trials"])
        ax1.scatter(trials[:, 4], trials[:, 5], s=14, color="tab:grey", label=_("trials (seed "
                                                                                "0)"))
        for i, r in enumerate(results):
            ax1.scatter(r.result["search_dev"], r.result["search_test"], marker="*", s=110,
                        color="tab:red", label=_("chosen on dev") if i == 0 else None)
        # Zoom on the better half of the trials, where the choice is made.
        lo = float(np.median(trials[:, 5])) - 0.08
        hi = max(trials[:, 4].max(), trials[:, 5].max()) + 0.03
        ax1.plot([lo, hi], [lo, hi], "k:", lw=1, label=_("dev = test"))
        ax1.set(title=_("Dev vs test accuracy"), xlabel=_("dev accuracy ({results_spec_dev} ex.)").format(
                                                         results_spec_dev=results[0].spec['dev']),
                ylabel=_("test accuracy (1000 ex.)"), xlim=(lo, hi), ylim=(lo, hi))
        ax1.legend(fontsize=9, loc="upper left")
        ks = r0["ks"]
        bias_k = np.array([r.result["bias_by_k"][:len(ks)] for r in results])
        ax2.errorbar(ks, bias_k.mean(axis=0), yerr=bias_k.std(axis=0), marker="o",
                     color="tab:red", label=_("dev set of {results_spec_dev}").format(
                                                results_spec_dev=results[0].spec['dev']))
        ax2.axhline(0, color="k", lw=0.8)
        ax2.set(xscale="log", title=_("Selection bias"),
                xlabel=_("configurations compared (k)"), ylabel=_("dev − test accuracy of the "
                                                               "choice"))
        ax2.legend(fontsize=9)
        fig.tight_layout()
        return [(_("Top: each grey dot is one trained configuration (the better half shown); a "
                   "dot under the dotted line did better on the dev set than on new data. The "
                   "stars (the search's choice, one per seed) sit under the line: the winner "
                   "is picked partly for its luck on the dev set. Bottom: that optimism grows "
                   "with the number of configurations the dev set chose among; with k = 1 (no "
                   "choice) the dev score is unbiased."), fig)]


EXPERIMENT = DevBias()
