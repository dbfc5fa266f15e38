"""A6 — dead ReLUs: a unit negative on every input gets no gradient and never recovers.

Notes 001, 002 and 004 (cs231n lecture 6, p27–28): if a ReLU unit's pre-activation z is negative
for every example, its output and its gradient are 0 for every example, so nothing moves its
incoming weights again; Leaky ReLU keeps a small slope so such a unit can come back. We push
units into that state — with a negative bias at initialisation, or with a large learning rate —
and follow, on a fixed probe batch (the whole training set), which units have z ≤ 0 for every
example ("dead" for ReLU; "inactive" for the others, which still pass a gradient), and whether
they come back.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import Dense, mlp
from ..optim import SGD
from ..probes import stats
from ..random import make_rng
from ..train import Every, fit
from .base import (Experiment, Row, Tally, Verdict, combine, demonstration, group, mean_spread,
                   status_word, tally)

ACTIVATIONS = ("relu", "leaky_relu", "prelu", "elu")
CONDITIONS = {N_("negative bias"): {"data": "moons", "bias": -1.0, "lr": 0.1, "clip_norm": None,
                                "epochs": 40},
              N_("large learning rate"): {"data": "digits", "bias": 0.0, "lr": 1.0, "clip_norm": 5.0,
                                      "epochs": 15}}
MARGIN = 0.05  # a cure must leave at least 5 points fewer units dead than ReLU


def load(name: str, seed: int):
    """(X, y, layer sizes, loss): 300 moons or 500 digits, standardised."""
    if name == "moons":
        data = datasets.moons(n=300, noise=0.2, seed=seed)
        X, = datasets.standardize(data.X)[:1]
        return X, data.y, [2, 32, 32, 32, 1], "bce"
    data = datasets.digits()
    rows = make_rng(seed).permutation(len(data.X))[:500]
    X, = datasets.standardize(data.X[rows])[:1]
    return X, data.y[rows], [64, 64, 64, 64, 10], "softmax_ce"


def dead_probe(X):
    """``fn(step, ctx)`` for :class:`whynet.train.Every`: per hidden layer, which units have
    z ≤ 0 for every example of ``X`` — the probes' ``dead_units`` (output 0 on every example)
    applied to max(z, 0), so that for ReLU it is exactly the probes' "dead" and for the other
    activations it means "would be dead as a ReLU" (inactive; they still pass a gradient).

    When the weights no longer give finite z, nothing is recorded and training stops (the run
    counts as diverged, as ``fit`` would call it at the next step)."""
    def fn(step, ctx):
        z = []
        handle = ctx.model.register_forward_hook(
            lambda m, i, x, out: z.append(out) if isinstance(m, Dense) else None)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                ctx.model.predict(X)
        finally:
            handle.remove()
        if not all(np.isfinite(a).all() for a in z):
            ctx.stop = True
            return None
        return [stats.dead_units(np.maximum(a, 0)) for a in z[:-1]]
    return fn


class DeadRelu(Experiment):
    id = "a6"
    questions = ("A6",)
    title = N_("Dead ReLUs and their cures")
    question = (N_("Do ReLU units that are negative on every input stay dead for good, and do "
                "Leaky ReLU, PReLU and ELU bring them back?"))
    what = (N_("Two stresses, plain SGD with batch 32 and the same He (ReLU) init for every "
            "activation: a [2, 32, 32, 32, 1] net on moons "
            "(300 points, noise 0.2) with every hidden bias initialised to −1 (lr 0.1, 40 "
            "epochs), and a [64, 64, 64, 64, 10] net on 500 digits at a large learning rate "
            "(1.0, gradient norm clipped at 5 so that no run overflows; 15 epochs); inputs "
            "standardised; the full grid trains three times longer. Hidden units are ReLU, "
            "Leaky ReLU (slope 0.01), PReLU (α from 0.25) or ELU. Every 10 steps, on all "
            "training points: the fraction of hidden units whose pre-activation is ≤ 0 for "
            "every example, and per "
            "unit whether it was ever in that state and whether it left it by the end."))
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 paired seeds: a sign-test p of 0.002

    def grid(self, quick: bool) -> list[dict]:
        scale = 1 if quick else 3
        return [{"condition": c, "activation": a, **CONDITIONS[c],
                 "epochs": CONDITIONS[c]["epochs"] * scale}
                for c in CONDITIONS for a in ACTIVATIONS]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, sizes, loss = load(spec["data"], seed)
        # the same He (ReLU) init for every activation: the same weights and z in layer 1 at start
        model = mlp(sizes, activation=spec["activation"], init="he_normal", seed=seed)
        for layer in [m for m in model.layers if isinstance(m, Dense)][:-1]:
            layer.b.value[:] = spec["bias"]
        probe = Every(10, dead_probe(X))
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            h = fit(model, X, y, loss=loss, optimizer=SGD(model.parameters(), lr=spec["lr"]),
                    epochs=spec["epochs"], batch_size=32, seed=seed, callbacks=[probe],
                    clip_norm=spec["clip_norm"],
                    progress=False)
        dead = np.array([np.concatenate(d) for d in probe.values])      # (probes, units)
        layer_of = np.concatenate([np.full(len(d), i) for i, d in enumerate(probe.values[0])])
        ever = dead.any(axis=0)
        # a unit recovered if it is alive at the end after having been dead at some probe
        recovered = ever & ~dead[-1]
        per_layer = [dead[:, layer_of == i].mean(axis=1) for i in range(layer_of.max() + 1)]
        stride = max(1, len(probe.steps) // 100)
        return {"steps": probe.steps[::stride],
                "dead_fraction": dead.mean(axis=1)[::stride].tolist(),
                "dead_per_layer": [p[::stride].tolist() for p in per_layer],
                "dead_start": float(dead[0].mean()), "dead_max": float(dead.mean(axis=1).max()),
                "dead_end": float(dead[-1].mean()),
                "ever_dead": int(ever.sum()), "recovered": int(recovered.sum()),
                "ever_dead_layer1": int(ever[layer_of == 0].sum()),
                "recovered_layer1": int(recovered[layer_of == 0].sum()),
                "units": int(dead.shape[1]),
                # only dead_probe stops a run early: when the weights overflowed
                "diverged": bool(h.diverged or h.stopped),
                "final_loss": h.epochs["loss"][-1] if h.epochs["loss"] else None}

    # -- evaluation -----------------------------------------------------------------------------
    @staticmethod
    def _cures(results) -> dict:
        """Per (stress, cure): the paired per-seed test "fewer units with z ≤ 0 on every example
        at the end than ReLU, by more than MARGIN" (same seed: same data, same initial
        weights), diverged runs left out. Returns the tallies and, per (stress, cure), the text
        "k of n seeds" where the cure had fewer."""
        by = group(results, ("condition", "activation"))
        out, fewer = {}, {}
        for c in CONDITIONS:
            end = {a: {r.seed: r.result["dead_end"] for r in by.get((c, a), [])
                       if not r.result["diverged"]} for a in ACTIVATIONS}
            for a in ACTIVATIONS[1:]:
                seeds = sorted(set(end[a]) & set(end["relu"]))
                flags = [end[a][i] < end["relu"][i] - MARGIN for i in seeds]
                out[(c, a)] = tally(flags)
                fewer[(c, a)] = _("{sum_flags} of {len_flags} seeds").format(
                                    sum_flags=sum(flags), len_flags=len(flags))
        return out, fewer

    @staticmethod
    def _evidence(by, ok, fewer, first, back) -> list:
        evidence = []
        for c in CONDITIONS:
            for a in ACTIVATIONS:
                m = {_("at start"): _stat(by, "dead_start", c, a),
                     _("at peak"): _stat(by, "dead_max", c, a),
                     _("at end"): _stat(by, "dead_end", c, a)}
                m = {k: v for k, v in m.items() if v is not None}
                if a != "relu":
                    m[_("{margin:.0f}+ points fewer than ReLU at end").format(margin=MARGIN * 100)] = fewer[(c, a)]
                evidence.append(Row(f"{_(c)}, {a}", m))
        relu = [r for r in ok if r.spec["activation"] == "relu"]
        evidence.append(Row(_("first hidden layer, ReLU (shown)"), {
            _("dead units that came back"): sum(r.result["recovered_layer1"] for r in relu),
            _("of units ever dead"): sum(r.result["ever_dead_layer1"] for r in relu),
            _("runs"): str(first)}))
        evidence.append(Row(_("deeper hidden layers"), {
            _("share of dead units back at end, {a}").format(a=a): back[a] for a in ACTIVATIONS}))
        return evidence

    def verdicts(self, results):
        by = group(results, ("condition", "activation"))
        ok = [r for r in results if not r.result["diverged"]]
        # 1. shown: a dead ReLU whose inputs never change (hidden layer 1: the data) gets no
        #    gradient, so nothing can bring it back — unless the engine has a bug
        first = demonstration([r.result["recovered_layer1"] == 0 for r in ok
                               if r.spec["activation"] == "relu"
                               and r.result["ever_dead_layer1"] > 0])
        # 2. tested: does Leaky ReLU leave fewer units dead than ReLU, under each stress?
        cures, fewer = self._cures(results)
        leaky = {c: cures[(c, "leaky_relu")] for c in CONDITIONS}
        status = combine(t.status for t in leaky.values())
        if first.status == "fails":
            status = "fails"  # a first-layer dead ReLU came back: "never recovers" is false

        back = {a: _share_back(ok, a) for a in ACTIVATIONS}
        diverged = [_("{activation} ({condition}, seed {seed})").format(
                        activation=r.spec['activation'], condition=_(r.spec['condition']), seed=r.seed)
                    for r in results if r.result["diverged"]]
        evidence = self._evidence(by, ok, fewer, first, back)
        rule = (_("Per stress, Leaky ReLU fixes dead units when it ends with more than "
                  "{margin:.0%} fewer units with z ≤ 0 on every example than ReLU, in every "
                  "seed (paired: same data and initial weights); both stresses → holds, one → "
                  "depends on the stress, none → fails, seeds that disagree → inconclusive. "
                  "That a first-layer dead ReLU never comes back is shown (no gradient, fixed "
                  "inputs), not tested.").format(margin=MARGIN))
        answer = _answer(status, first, leaky, lambda c: _duo(by, c),
                         {c: fewer[(c, "leaky_relu")] for c in CONDITIONS})
        sentence = _sentence(by, first, back, cures, fewer, diverged) + " " + rule
        numbers = {}
        for c in CONDITIONS:
            for a in ACTIVATIONS:
                st = _stat(by, "dead_end", c, a)
                if st is not None:
                    numbers[f"dead at end, {c}, {a}"] = st
        numbers.update({f"share of deeper dead units that came back, {a}": back[a]
                        for a in ACTIVATIONS})
        n = sum(t.n for t in leaky.values())
        agree = Tally(status, sum(t.agree for t in leaky.values()), n)
        return [Verdict("A6", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, depends_on=("stress",) if status == "depends" else (),
                        agree=agree)]

    def figures(self, results):
        by = group(results, ("condition", "activation"))
        colours = {"relu": "tab:blue", "leaky_relu": "tab:cyan", "prelu": "tab:purple",
                   "elu": "tab:red"}
        fig = Figure(figsize=(7.5, 4.4))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, c in zip(axes, CONDITIONS):
            for a in ACTIVATIONS:
                runs = [r for r in by[(c, a)] if not r.result["diverged"]]
                for r in runs:
                    ax.plot(r.result["steps"], r.result["dead_fraction"], color=colours[a],
                            alpha=0.25, lw=0.8)
                if runs:
                    n = min(len(r.result["steps"]) for r in runs)
                    mean = np.mean([r.result["dead_fraction"][:n] for r in runs], axis=0)
                    ax.plot(runs[0].result["steps"][:n], mean, color=colours[a], lw=2, label=a)
            ax.set(title=_(c), xlabel=_("step"))
        top = max(max(r.result["dead_fraction"]) for r in results if not r.result["diverged"])
        axes[0].set(ylabel=_("units with z ≤ 0 on all inputs"), ylim=(0, min(1, 1.15 * top)))
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
        fig.suptitle(_("Dead (ReLU) or inactive units (thin: seeds, thick: mean)"))
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        return [(_("Fraction of hidden units whose pre-activation is ≤ 0 for every training "
                   "point. For ReLU these units are dead: they pass no gradient. Leaky ReLU's "
                   "slope of 0.01 lets them out only slowly; PReLU and ELU, with larger "
                   "negative-side gradients, bring many back."), fig)]


def _stat(by, key, condition, activation):
    """Mean and spread of ``key`` over the runs that did not diverge, or None."""
    vals = [r.result[key] for r in by.get((condition, activation), [])
            if not r.result["diverged"]]
    return mean_spread(vals) if vals else None


def _pct(st) -> str:
    return _("n/a") if st is None else st.fmt(".0%")


def _share_back(ok, activation) -> float:
    """Of the deeper units (not layer 1) ever in the all-negative state, the share that had left
    it at the end."""
    runs = [r for r in ok if r.spec["activation"] == activation]
    ever = sum(r.result["ever_dead"] - r.result["ever_dead_layer1"] for r in runs)
    back = sum(r.result["recovered"] - r.result["recovered_layer1"] for r in runs)
    return back / ever if ever else float("nan")


def _duo(by, condition) -> str:
    """Leaky vs ReLU dead at the end, means only (the answer is one plain line)."""
    leak, relu = (_stat(by, "dead_end", condition, a) for a in ("leaky_relu", "relu"))
    return _("n/a") if leak is None or relu is None else _("{leaky:.0%} vs {relu:.0%}").format(leaky=leak.mean, relu=relu.mean)


def _answer(status, first, leaky, duo, fewer) -> str:
    """The one-line answer from the statuses of the demonstration and of each stress; ``duo``
    gives Leaky vs ReLU dead at the end, ``fewer`` the seeds where Leaky had fewer."""
    nb, lr = "negative bias", "large learning rate"
    if status == "holds":
        return (_("Yes under both stresses: Leaky ReLU ended with fewer units dead than ReLU "
                  "({duo_nb} with biases at −1, {duo_lr} at lr 1).").format(
                    duo_nb=duo(nb), duo_lr=duo(lr)))
    if status == "depends":
        good = [c for c in CONDITIONS if leaky[c].status == "holds"]
        bad = [c for c in CONDITIONS if leaky[c].status != "holds"]
        return (_("Depends on the stress: Leaky ReLU left fewer units dead under {good} "
                  "({duo_good}), not under {bad} ({duo_bad}). First-layer dead ReLUs never "
                  "returned.").format(
                    good=_(good[0]), duo_good=duo(good[0]), bad=_(bad[0]), duo_bad=duo(bad[0])))
    if status == "fails" and first.status == "fails":
        return _("No: a dead ReLU of the first layer came back, which should be impossible.")
    if status == "fails":
        return (_("No: Leaky ReLU did not leave fewer units dead than ReLU ({duo_nb} with "
                  "biases at −1, {duo_lr} at lr 1).").format(duo_nb=duo(nb), duo_lr=duo(lr)))
    short = {nb: "biases −1", lr: f"lr {CONDITIONS[lr]['lr']:g}"}
    return (_("Unclear. Leaky vs ReLU dead at end, {short_nb}: {duo_nb} ({margin_100:.0f}+ "
              "points fewer in {fewer_nb}); {short_lr}: {duo_lr} ({fewer_lr_removesuffix}).").format(
                short_nb=short[nb], duo_nb=duo(nb), margin_100=MARGIN * 100, fewer_nb=fewer[nb],
                short_lr=short[lr], duo_lr=duo(lr),
                fewer_lr_removesuffix=fewer[lr].removesuffix(' seeds')))

def _sentence(by, first, back, cures, fewer, diverged) -> str:
    """The long form: every number behind the verdict, in words."""
    nb, lr = "negative bias", "large learning rate"

    def stat(key, c, a):
        return _stat(by, key, c, a)

    return (
        _("With every hidden bias at −1, {pct_stat_dead_start} of ReLU units start dead and "
          "{pct_stat_dead_end} are dead after {by_nb_relu} epochs; units with z ≤ 0 on every "
          "example end at {pct_stat_dead_end_2} with Leaky ReLU (slope 0.01), "
          "{pct_stat_dead_end_3} with PReLU and {pct_stat_dead_end_4} with ELU. At lr "
          "{by_lr_relu:g} on digits, ReLU peaks at {pct_stat_dead_max} dead and ends at "
          "{pct_stat_dead_end_5} (Leaky {pct_stat_dead_max_2} → {pct_stat_dead_end_6}, PReLU "
          "{pct_stat_dead_max_3} → {pct_stat_dead_end_7}, ELU {pct_stat_dead_max_4} → "
          "{pct_stat_dead_end_8}). A dead ReLU of the first hidden layer, whose inputs are the "
          "fixed data, never came back ({first}); deeper ones can, when the layers below them "
          "change (of the deeper units ever in that state, ").format(
            pct_stat_dead_start=_pct(stat('dead_start', nb, 'relu')),
            pct_stat_dead_end=_pct(stat('dead_end', nb, 'relu')),
            by_nb_relu=by[nb, 'relu'][0].spec['epochs'],
            pct_stat_dead_end_2=_pct(stat('dead_end', nb, 'leaky_relu')),
            pct_stat_dead_end_3=_pct(stat('dead_end', nb, 'prelu')),
            pct_stat_dead_end_4=_pct(stat('dead_end', nb, 'elu')),
            by_lr_relu=by[lr, 'relu'][0].spec['lr'],
            pct_stat_dead_max=_pct(stat('dead_max', lr, 'relu')),
            pct_stat_dead_end_5=_pct(stat('dead_end', lr, 'relu')),
            pct_stat_dead_max_2=_pct(stat('dead_max', lr, 'leaky_relu')),
            pct_stat_dead_end_6=_pct(stat('dead_end', lr, 'leaky_relu')),
            pct_stat_dead_max_3=_pct(stat('dead_max', lr, 'prelu')),
            pct_stat_dead_end_7=_pct(stat('dead_end', lr, 'prelu')),
            pct_stat_dead_max_4=_pct(stat('dead_max', lr, 'elu')),
            pct_stat_dead_end_8=_pct(stat('dead_end', lr, 'elu')), first=first)
        + ", ".join(f"{a} {back[a]:.0%}" for a in ACTIVATIONS) + _(" had left it at the end). "
                                                                   "Fewer dead than ReLU by "
                                                                   "more than {margin:.0%} in "
                                                                   "every seed: ").format(
                                                                     margin=MARGIN)
        + "; ".join(f"{_(c)}: " + ", ".join(_("{a} {cures_c_a} (fewer in {fewer_c_a})").format(
                                             a=a, cures_c_a=status_word(cures[c, a].status),
                                             fewer_c_a=fewer[c, a])
                                        for a in ACTIVATIONS[1:]) for c in CONDITIONS)
        + "." + (_(" Diverged: {runs}.").format(runs=", ".join(diverged)) if diverged else ""))


EXPERIMENT = DeadRelu()
