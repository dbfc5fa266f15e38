"""H2 — random search beats grid search when one hyperparameter matters and another does not.

Note 004 (p80), on cs231n's copy of Bergstra & Bengio's (2012) figure 1: of two hyperparameters
one is important and one is not; a 3 × 3 grid spends 9 trials on only 3 values of the important
one, while 9 random trials try 9 different values and so are more likely to land near its best.
We run both layouts through :func:`whynet.search.search` (Optuna's grid and random samplers) on
an analytic objective like the paper's — a narrow bump in the important parameter plus a small
ripple in the other, with the bump moved at random in every repetition — and on a real one:
the learning rate (important) and the L2 penalty (unimportant) of an MLP trained with Adam.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..random import make_rng
from ..search import Choice, Range, expected_best, load_data, parse_space, plot_trials, search
from .base import (Experiment, Published, Row, Tally, Verdict, combine, group, mean_spread,
                   outcome, status_word, tally, values)

GAIN = 0.01  # random "beats" grid when its best is higher by more than this
BUMP_WIDTH = 0.08  # std of the important parameter's Gaussian bump, on [0, 1]
RIPPLE = 0.05  # height of the unimportant parameter's effect (the bump's height is 1)


class Bumps:
    """Bergstra & Bengio's picture as a function: ``f(x, y) = g(x) + RIPPLE · h(y)`` with
    ``g(x) = exp(−(x − c)² / (2·0.08²))`` (important) and ``h(y) = ½ + ½ sin 2π(y + φ)``
    (unimportant), for a bump centre ``c`` and a phase ``φ`` drawn per repetition."""

    def __init__(self, centre: float, phase: float):
        self.centre, self.phase = centre, phase

    def important(self, x):
        return np.exp(-((np.asarray(x) - self.centre) ** 2) / (2 * BUMP_WIDTH ** 2))

    def unimportant(self, y):
        return RIPPLE * (0.5 + 0.5 * np.sin(2 * np.pi * (np.asarray(y) + self.phase)))

    def __call__(self, params, trial=None) -> float:
        return float(self.important(params["x"]) + self.unimportant(params["y"]))


def cell_centres(dim: Range, n: int) -> Choice:
    """The grid H2 uses: ``n`` points at the centres of ``n`` equal cells of the range,
    ``low + (i + ½)/n·(high − low)`` (in log space for a log range), as in the cs231n / Bergstra &
    Bengio figure. ``Range.grid`` puts the points on both endpoints instead, so a 2-point grid on
    [1e-4, 1] would try only 1e-4 and 1, the two worst learning rates: not a fair opponent."""
    u = (np.arange(n) + 0.5) / n
    if dim.log:
        values = np.exp(np.log(dim.low) + u * (np.log(dim.high) - np.log(dim.low)))
    else:
        values = dim.low + u * (dim.high - dim.low)
    return Choice(tuple(float(v) for v in values))


def grid_space(space: dict, n: int) -> dict:
    """``space`` with every :class:`Range` replaced by its ``n`` cell centres."""
    return {k: cell_centres(v, n) if isinstance(v, Range) else v for k, v in space.items()}


def distinct(xs) -> int:
    return len(np.unique(np.round(np.asarray(xs, dtype=np.float64), 12)))


def main_effects(points, scores, names) -> dict[str, float]:
    """Share of the variance of a full grid's scores explained by each parameter alone (the
    variance of its marginal means over the total), a two-way ANOVA's main effects."""
    scores = np.asarray(scores, dtype=np.float64)
    total = scores.var()
    out = {}
    for name in names:
        keys = np.array([p[name] for p in points])
        means = {k: scores[keys == k].mean() for k in np.unique(keys)}
        out[name] = float(np.var([means[k] for k in keys]) / total) if total > 0 else 0.0
    return out


def _grid_search(space, objective, n, seed, data=None):
    kwargs = {"objective": objective} if data is None else {"data": data}
    return search(grid_space(space, n), **kwargs, sampler="grid", seed=seed, n_trials=n * n,
                  storage=None, pruner="none").trials()


def _random_search(space, objective, n_trials, seed, data=None):
    kwargs = {"objective": objective} if data is None else {"data": data}
    return search(space, **kwargs, sampler="random", seed=seed, n_trials=n_trials,
                  storage=None, pruner="none").trials()


class RandomVsGrid(Experiment):
    id = "h2"
    questions = ("H2",)
    title = N_("Random search vs grid search")
    question = (N_("Does random search beat grid search when one hyperparameter matters and "
                "another does not?"))
    what = (N_("Grid and random layouts of n × n trials (n = 2, 3, 4; full adds 5) run through "
            "whynet.search with Optuna's GridSampler and RandomSampler. Analytic objective, as in "
            "Bergstra & Bengio (2012) figure 1: f(x, y) = exp(−(x − c)²/(2·0.08²)) + "
            "0.05·(½ + ½ sin 2π(y + φ)) on [0, 1]², with c and φ drawn anew in each of 30 (full: "
            "100) repetitions; we count the distinct x values tried and the best f found. Real "
            "objective: a [64, 32, 32, 10] ReLU MLP trained with Adam for 5 epochs (batch 64) on "
            "600 digits, searching the learning rate on [1e-4, 1] (log) and the L2 penalty on "
            "[1e-6, 1e-3] (log); the grid's best at each budget against the expected best of a "
            "random search of the same budget, computed exactly from a pool of 24 (full: 64) "
            "random trials. The grid's n points per parameter sit at the centres of n equal cells of "
            "its range, (i + ½)/n of the way (in log space for a log range), as in the cs231n "
            "figure, not on the endpoints. The grid's main effects show how much each parameter "
            "matters. Each budget is judged on its own."))
    seeds_quick = 3
    seeds_full = 8
    version = 2

    def grid(self, quick: bool) -> list[dict]:
        sides = [2, 3, 4] if quick else [2, 3, 4, 5]
        return [{"part": "analytic", "sides": sides, "repeats": 30 if quick else 100},
                {"part": "training", "sides": sides, "pool": 24 if quick else 64,
                 "optimizer": "adam", "epochs": 5, "batch_size": 64, "examples": 600}]

    def run(self, spec: dict, seed: int) -> dict:
        return (self._analytic if spec["part"] == "analytic" else self._training)(spec, seed)

    def _analytic(self, spec, seed):
        rng = make_rng(seed)
        space = {"x": Range(0.0, 1.0), "y": Range(0.0, 1.0)}
        sides, budgets = spec["sides"], [n * n for n in spec["sides"]]
        grid_best = np.zeros((spec["repeats"], len(sides)))
        random_best = np.zeros_like(grid_best)
        grid_distinct, random_distinct = [], []
        example = None
        for rep in range(spec["repeats"]):
            f = Bumps(centre=float(rng.uniform()), phase=float(rng.uniform()))
            sub = int(rng.integers(2 ** 31))
            rand = _random_search(space, f, max(budgets), sub)
            for j, (n, b) in enumerate(zip(sides, budgets)):
                done = _grid_search(space, f, n, sub)
                grid_best[rep, j] = max(t["value"] for t in done)
                random_best[rep, j] = max(t["value"] for t in rand[:b])
                if rep == 0:
                    grid_distinct.append(distinct([t["params"]["x"] for t in done]))
                    random_distinct.append(distinct([t["params"]["x"] for t in rand[:b]]))
                if rep == 0 and n == 3:
                    example = {"centre": f.centre, "phase": f.phase,
                               "grid": [[t["params"]["x"], t["params"]["y"]] for t in done],
                               "random": [[t["params"]["x"], t["params"]["y"]]
                                          for t in rand[:b]],
                               "effects": main_effects([t["params"] for t in done],
                                                       [t["value"] for t in done], ("x", "y"))}
        return {"budgets": budgets, "grid_best": grid_best.mean(0).tolist(),
                "random_best": random_best.mean(0).tolist(),
                "random_wins": (random_best > grid_best + 1e-12).mean(0).tolist(),
                "grid_distinct": grid_distinct, "random_distinct": random_distinct,
                "example": example}

    def _training(self, spec, seed):
        data = load_data("digits", examples=spec["examples"], seed=seed)
        fixed = {"optimizer": spec["optimizer"], "epochs": spec["epochs"], "width": 32,
                 "depth": 2, "batch_size": spec["batch_size"]}
        space = {"lr": Range(1e-4, 1.0, log=True), "l2": Range(1e-6, 1e-3, log=True), **fixed}
        sides, budgets = spec["sides"], [n * n for n in spec["sides"]]
        pool = _random_search(space, None, spec["pool"], seed, data=data)
        scores = [t["value"] for t in pool]
        grid_best, grid_distinct, grids = [], [], {}
        for n in sides:
            done = _grid_search(space, None, n, seed, data=data)
            grid_best.append(max(t["value"] for t in done))
            grid_distinct.append(distinct([t["params"]["lr"] for t in done]))
            grids[n] = done
        largest = grids[max(sides)]
        return {"budgets": budgets, "grid_best": grid_best,
                "random_best": [expected_best(scores, b) for b in budgets],
                "grid_distinct": grid_distinct,
                "random_distinct": [distinct([t["params"]["lr"] for t in pool[:b]])
                                    for b in budgets],
                "effects": main_effects([t["params"] for t in largest],
                                        [t["value"] for t in largest], ("lr", "l2")),
                "pool": [[t["params"]["lr"], t["params"]["l2"], t["value"]] for t in pool]}

    # -- verdict ----------------------------------------------------------------------------

    def _summary(self, results):
        parts = group(results, "part")
        ana, train = parts["analytic"], parts["training"]
        budgets = ana[0].result["budgets"]
        j9 = budgets.index(9) if 9 in budgets else 0
        per_budget = []
        for j, b in enumerate(budgets):
            ad = [a.result["random_best"][j] - a.result["grid_best"][j] for a in ana]
            td = [t.result["random_best"][j] - t.result["grid_best"][j] for t in train]
            per_budget.append({
                "budget": b, "analytic": tally(d > GAIN for d in ad),
                "training": tally(d > GAIN for d in td),
                "ana_diff": mean_spread(ad), "train_diff": mean_spread(td),
                "ana_grid": mean_spread(a.result["grid_best"][j] for a in ana),
                "ana_random": mean_spread(a.result["random_best"][j] for a in ana),
                "ana_wins": mean_spread(a.result["random_wins"][j] for a in ana),
                "train_grid": mean_spread(t.result["grid_best"][j] for t in train),
                "train_random": mean_spread(t.result["random_best"][j] for t in train),
                "grid_distinct": ana[0].result["grid_distinct"][j],
                "random_distinct": ana[0].result["random_distinct"][j]})
        return {
            "budgets": budgets, "j9": j9, "per_budget": per_budget,
            "effects_lr": mean_spread(t.result["effects"]["lr"] for t in train),
            "effects_l2": mean_spread(t.result["effects"]["l2"] for t in train),
            "ana_random": per_budget[j9]["ana_random"], "ana_grid": per_budget[j9]["ana_grid"],
            "train_gap": mean_spread(float(np.mean(np.subtract(t.result["random_best"],
                                                               t.result["grid_best"])))
                                     for t in train),
            "repeats": ana[0].spec["repeats"], "pool": train[0].spec["pool"]}

    def verdicts(self, results):
        s = self._summary(results)
        pb = s["per_budget"]
        tallies = [p[k] for p in pb for k in ("analytic", "training")]
        status = combine(t.status for t in tallies)
        agree = Tally(status, sum(t.agree for t in tallies), sum(t.n for t in tallies))
        depends_on = []
        if status == "depends":
            by_budget = {p["budget"]: combine([p["analytic"].status, p["training"].status])
                         for p in pb}
            by_objective = {k: combine(p[k].status for p in pb)
                            for k in ("analytic", "training")}
            if len(set(by_budget.values())) > 1:
                depends_on.append("budget")
            if len(set(by_objective.values())) > 1 or not depends_on:
                depends_on.append("objective")
        rows = [Row(_("{p_budget} trials ({p_grid_distinct} vs {p_random_distinct} distinct "
                      "values)").format(
                        p_budget=p['budget'], p_grid_distinct=p['grid_distinct'],
                        p_random_distinct=p['random_distinct']), {
                        _("analytic: grid"): p["ana_grid"], _("analytic: random"): p["ana_random"],
                        _("analytic: random ahead"): outcome(p['analytic'].status, p['analytic']),
                        _("MLP: grid"): p["train_grid"], _("MLP: random (expected)"): p["train_random"],
                        _("MLP: random ahead"): outcome(p['training'].status, p['training'])})
                for p in pb]
        per_budget = "; ".join(
            _("{p_budget} trials: analytic random {p_ana_random:.3f} vs grid {p_ana_grid:.3f} "
              "({p_analytic_status}), MLP random {p_train_random:.3f} vs grid "
              "{p_train_grid:.3f} ({p_training_status})").format(
                p_budget=p['budget'], p_ana_random=p['ana_random'].mean,
                p_ana_grid=p['ana_grid'].mean, p_analytic_status=status_word(p['analytic'].status),
                p_train_random=p['train_random'].mean, p_train_grid=p['train_grid'].mean,
                p_training_status=status_word(p['training'].status)) for p in pb)
        ahead_ana = [p["budget"] for p in pb if p["analytic"].status == "holds"]
        ahead_mlp = [p["budget"] for p in pb if p["training"].status == "holds"]

        def budgets(bs):
            return ", ".join(map(str, bs)) if bs else _("no budget")
        answer = (_("Against a fair grid (cell centres), random search leads on the bump "
                    "objective at {budgets_ahead_ana} trials; on the MLP at {budgets_ahead_mlp}").format(
                      budgets_ahead_ana=budgets(ahead_ana), budgets_ahead_mlp=budgets(ahead_mlp))
                  + (_("; the grid does as well.") if not ahead_mlp else "."))
        rule = (_("Per budget and objective, random search is ahead when, in every seed, its "
                  "best (analytic: mean over {s_repeats} repetitions; MLP: expected best from "
                  "a pool of {s_pool}) exceeds the grid's by more than {gain}; the grid's "
                  "points sit at the centres of n equal cells of each range ((i + ½)/n, "
                  "log-spaced for log ranges). All ahead → holds, none → fails, mixed → "
                  "depends.").format(s_repeats=s['repeats'], s_pool=s['pool'], gain=GAIN))
        sentence = self._sentence(rule, per_budget, s)
        numbers = {"MLP: variance explained by the learning rate": s["effects_lr"],
                   "MLP: variance explained by the L2 penalty": s["effects_l2"]}
        for p in pb:
            b = p["budget"]
            numbers[f"analytic: best of {b}, grid"] = p["ana_grid"]
            numbers[f"analytic: best of {b}, random"] = p["ana_random"]
            numbers[f"MLP: best of {b}, grid"] = p["train_grid"]
            numbers[f"MLP: expected best of {b}, random"] = p["train_random"]
        return [Verdict("H2", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=tuple(depends_on), agree=agree)]

    @staticmethod
    def _sentence(rule, per_budget, s):
        """The long form: the search per budget and the variance explained, then the rule."""
        sentence = (
            _("A grid of n × n trials tries n distinct values of the important parameter, "
              "random search n² (by construction). On the analytic objective (bump moved in "
              "each of {s_repeats} repetitions) and on the MLP, where the learning rate "
              "explains {s_effects_lr:.0%} of the grid's variance and the L2 penalty "
              "{s_effects_l2:.0%}: ").format(
                s_repeats=s['repeats'], s_effects_lr=s['effects_lr'].mean,
                s_effects_l2=s['effects_l2'].mean) + per_budget + ". " + rule)
        return sentence

    def published(self, results):
        s = self._summary(results)
        ana = group(results, "part")["analytic"]
        j9 = s["j9"]
        g9 = sorted({a.result["grid_distinct"][j9] for a in ana})
        r9 = sorted({a.result["random_distinct"][j9] for a in ana})
        return [Published(
            "H2", _("Bergstra & Bengio 2012, Random Search for Hyper-Parameter Optimization "
                    "(JMLR 13), figure 1 and §2"),
            _("with 9 trials a grid tests 3 distinct values of the important parameter, random "
              "search 9; on neural nets, random search finds models as good or better than "
              "grid search in a fraction of the trials"),
            _("distinct values in 9 trials: grid {join_map_str}, random {join_map_str_2}; "
              "analytic best of 9: random {s_ana_random_3f}, grid {s_ana_grid_3f}; MLP random "
              "− grid over budgets {s_train_gap:+.3f}").format(
                join_map_str='/'.join(map(str, g9)), join_map_str_2='/'.join(map(str, r9)),
                s_ana_random_3f=s['ana_random'].fmt('.3f'),
                s_ana_grid_3f=s['ana_grid'].fmt('.3f'), s_train_gap=s['train_gap'].mean),
            _("Their neural-net comparison searched up to 32 hyperparameters on MNIST "
              "variants; we search 2 on a small digits MLP, so the gap on the real objective "
              "is smaller and depends on whether a grid value happens to fall near the best "
              "learning rate."))]

    # -- figures ----------------------------------------------------------------------------

    def figures(self, results):
        parts = group(results, "part")
        ex = parts["analytic"][0].result["example"]
        f = Bumps(ex["centre"], ex["phase"])
        fig1 = Figure(figsize=(6.6, 3.8), layout="constrained")
        gs = fig1.add_gridspec(2, 2, height_ratios=[1, 3])
        xs = np.linspace(0, 1, 400)
        for col, layout in enumerate(("grid", "random")):
            pts = np.array(ex[layout])
            top = fig1.add_subplot(gs[0, col])
            top.plot(xs, f.important(xs), color="tab:green")
            top.plot(pts[:, 0], f.important(pts[:, 0]), "o", color="tab:red", ms=4)
            top.set(xlim=(-0.04, 1.04), ylim=(-0.05, 1.15), xticks=[], yticks=[],
                    title=_("{layout_capitalize} layout: {distinct_pts} distinct x").format(
                              layout_capitalize=_(layout).capitalize(),
                              distinct_pts=distinct(pts[:, 0])),
                    ylabel="g(x)")
            ax = fig1.add_subplot(gs[1, col])
            ax.scatter(pts[:, 0], pts[:, 1], color="tab:red", s=25, zorder=3)
            for x in pts[:, 0]:
                ax.axvline(x, color="tab:red", lw=0.5, alpha=0.4)
            ax.set(xlim=(-0.04, 1.04), ylim=(-0.04, 1.04), xlabel=_("important parameter x"),
                   ylabel=_("unimportant parameter y") if col == 0 else None, aspect="equal")

        fig2 = Figure(figsize=(7.2, 6.4), layout="constrained")
        ax1, ax2 = fig2.subplots(2, 1)
        for ax, part, ylabel in ((ax1, "analytic", _("best f (mean over repetitions)")),
                                 (ax2, "training", _("best validation accuracy"))):
            runs = parts[part]
            budgets = runs[0].result["budgets"]
            for layout, style in (("grid", "s--"), ("random", "o-")):
                curves = np.array(values(runs, f"{layout}_best"))
                ax.errorbar(budgets, curves.mean(0), yerr=curves.std(0), fmt=style, ms=4,
                            capsize=2, color="tab:orange" if layout == "grid" else "tab:blue",
                            label=_("{layout}").format(layout=layout) + (_(" (expected best)") if part == "training"
                                                 and layout == "random" else ""))
            ax.set_xticks(budgets, [str(b) for b in budgets])
            ax.set(xlabel=_("trials (n × n)"), ylabel=ylabel,
                   title=_("Analytic objective") if part == "analytic" else _("MLP on digits "
                                                                           "(Adam)"))
            ax.legend(fontsize=9, loc="lower right")
        train = parts["training"][0]
        trials = [{"number": i, "state": "complete", "value": v, "params": {"lr": lr, "l2": l2},
                   "intermediate": {}} for i, (lr, l2, v) in enumerate(train.result["pool"])]
        space = parse_space({"lr": Range(1e-4, 1.0, log=True), "l2": Range(1e-6, 1e-3, log=True)})
        fig3 = plot_trials(trials, space, _("MLP on digits (Adam): {len_trials} random trials "
                                            "projected on each hyperparameter (seed "
                                            "{train_seed})").format(
                                              len_trials=len(trials), train_seed=train.seed))
        return [(_("Bergstra & Bengio's figure 1, measured: the same 9 trials as a 3 × 3 grid "
                   "(left) and at random (right). Top: the important parameter's effect g(x) "
                   "and the values each layout tried on it."), fig1),
                (_("Best score against the number of trials, grid at cell centres (orange) vs "
                   "random (blue), mean ± std over seeds; each budget is judged on its own."), fig2),
                (_("The real objective seen as whynet search draws it: validation accuracy "
                   "depends on the learning rate (left) and hardly on the L2 penalty (right)."),
                 fig3)]


EXPERIMENT = RandomVsGrid()
