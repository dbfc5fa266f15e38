"""A2 — does ReLU train much faster than sigmoid and tanh?

Notes 000 (Q2), 001 and 002: ReLU's derivative is 1 or 0, it does not saturate for z > 0 and it
needs no exp, so "learning is much faster" (Krizhevsky et al. 2012 measured 6× fewer epochs than
tanh for a 4-layer CNN on CIFAR-10). We time the same net on the same data with each activation,
each at its own best learning rate from a small set: epochs and (CPU) seconds until a target
validation accuracy; and, separately, the forward + backward cost of each activation per element.
"""

from __future__ import annotations

import time

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..nn import mlp
from ..optim import SGD
from ..train import Callback, fit
from .recipes import digits_split, elementwise_cost, gradient_ratios
from .base import (Correction, Experiment, Published, Row, Tally, Verdict, combine, group, held_in,
                   mean_spread, tally)


ACTIVATIONS = ("relu", "tanh", "sigmoid")
TARGET_ACC = 0.9


class TargetClock(Callback):
    """CPU seconds of this process at the end of every epoch; stops once val_acc ≥ target.

    CPU time rather than wall time: in a single-threaded worker it is the wall time the run
    would take alone, and it does not count the time other processes take on a shared machine.
    """

    def __init__(self, target: float):
        self.target = target
        self.times: list[float] = []

    def on_train_begin(self, ctx):
        self.start = time.process_time()

    def on_epoch_end(self, epoch, logs, ctx):
        self.times.append(time.process_time() - self.start)
        if logs["val_acc"] >= self.target:
            ctx.stop = True


class ReluSpeed(Experiment):
    id = "a2"
    questions = ("A2",)
    title = N_("Does ReLU train faster?")
    question = N_("Does ReLU reach a target accuracy much sooner than sigmoid or tanh?")
    what = N_("An MLP with 3 hidden layers of 32 units (the full grid adds 5) on 600 "
               "standardised digits, SGD with momentum 0.9, batch 32, He init for ReLU and "
               "Xavier for tanh (gain 5/3) and sigmoid; every activation tried at each "
               "learning rate of a small set and judged at its best one. Measured: epochs and "
               "CPU seconds until the validation accuracy (500 other digits) reaches "
               "{target_acc:.0%}; the forward + backward time of each activation per million "
               "float32 elements; and, for the correction of note 000, experiment A4's "
               "per-layer gradient ratio for ReLU and sigmoid.")
    what_values = {"target_acc": TARGET_ACC}
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 paired seeds: a sign-test p of 0.002

    def grid(self, quick: bool) -> list[dict]:
        lrs = (0.03, 0.1, 0.3) if quick else (0.01, 0.03, 0.1, 0.3, 1.0)
        depths = (3,) if quick else (3, 5)
        specs = [{"part": "train", "activation": a, "lr": lr, "depth": d, "width": 32,
                  "epochs": 30 if quick else 60}
                 for d in depths for a in ACTIVATIONS for lr in lrs]
        specs += [{"part": "cost", "activation": a, "elements": 2 ** 18 if quick else 2 ** 21,
                   "repeats": 5 if quick else 20} for a in ACTIVATIONS]
        specs += [{"part": "profile", "activation": a, "scale": "standard", "depth": 10,
                   "width": 64, "batch": 256} for a in ("relu", "sigmoid")]
        return specs

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "cost":
            return elementwise_cost(spec["activation"], spec["elements"], spec["repeats"], seed)
        if spec["part"] == "profile":
            r = gradient_ratios({k: spec[k] for k in ("activation", "scale", "depth", "width", "batch")},
                       seed)
            return {"delta_ratio": r["delta_ratio"], "fprime": r["fprime"]}
        X, y, Xv, yv = digits_split(seed)
        model = mlp([X.shape[1]] + [spec["width"]] * spec["depth"] + [10],
                    activation=spec["activation"], seed=seed)
        clock = TargetClock(TARGET_ACC)
        # A learning rate too large for an activation must end as a recorded divergence, not as
        # overflow warnings and NaNs: floating-point errors raise, and fit turns them into one.
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            h = fit(model, X, y, loss="softmax_ce", epochs=spec["epochs"], batch_size=32,
                    optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), seed=seed,
                    validation_data=(Xv, yv), callbacks=[clock], progress=False)
        val = h.epochs["val_acc"]
        hit = next((i for i, a in enumerate(val) if a >= TARGET_ACC), None)
        return {"epochs_to_target": None if hit is None else hit + 1,
                "seconds_to_target": None if hit is None else clock.times[hit],
                "seconds_total": clock.times[-1] if clock.times else 0.0,
                "seconds_per_epoch": clock.times[-1] / len(clock.times) if clock.times else None,
                "val_acc": val, "best_val_acc": max(val) if val else None,
                "diverged": h.diverged, "max_epochs": spec["epochs"]}

    # -- evaluation -----------------------------------------------------------------------------
    @staticmethod
    def _best(results, depth):
        """Per activation, the runs at its best learning rate: fewest median epochs to target
        (a run that never got there counts max_epochs + 1), ties to the smaller rate."""
        train = [r for r in results if r.spec["part"] == "train" and r.spec["depth"] == depth]
        best = {}
        for act, runs in group(train, "activation").items():
            by_lr = group(runs, "lr")
            score = {lr: float(np.median([_epochs(r) for r in rs])) for lr, rs in by_lr.items()}
            lr = min(score, key=lambda k: (score[k], k))
            best[act] = (lr, by_lr[lr])
        return best

    def _comparisons(self, results) -> dict:
        """Per depth: each activation's best learning rate and runs, epochs to the target per
        seed, and per other activation the paired test "ReLU needs fewer epochs" (same seed:
        same data split and initialisation stream)."""
        depths = sorted({r.spec["depth"] for r in results if r.spec["part"] == "train"})
        out = {}
        for depth in depths:
            best = self._best(results, depth)
            epochs = {a: {r.seed: _epochs(r) for r in runs} for a, (lr, runs) in best.items()}
            seeds = sorted(set.intersection(*(set(v) for v in epochs.values())))
            flags = {o: [epochs["relu"][i] < epochs[o][i] for i in seeds]
                     for o in ("sigmoid", "tanh")}
            out[depth] = {"best": best, "epochs": epochs, "seeds": seeds,
                          "faster": {o: tally(f) for o, f in flags.items()},
                          "won": {o: held_in(f) for o, f in flags.items()}}
        return out

    def verdicts(self, results):
        cmp = self._comparisons(results)
        depths = list(cmp)
        cost = {a: mean_spread([r.result["us_per_M"] for r in runs])
                for a, runs in group([r for r in results if r.spec["part"] == "cost"],
                                     "activation").items()}
        parts, numbers, evidence = [], {}, []
        for depth, c in cmp.items():
            best = c["best"]
            e = {a: mean_spread(v.values()) for a, v in c["epochs"].items()}
            ms = {a: mean_spread([1e3 * _seconds(r) for r in runs])
                  for a, (lr, runs) in best.items()}
            cap = best["relu"][1][0].result["max_epochs"]
            for a in ACTIVATIONS:
                m = {_("epochs to {target_acc:.0%}").format(target_acc=TARGET_ACC): e[a],
                     _("CPU ms to target"): ms[a], _("learning rate"): best[a][0]}
                if a != "relu":
                    m[_("seeds where ReLU needed fewer epochs")] = c["won"][a]
                evidence.append(Row(_("{depth} hidden layers, {a}").format(depth=depth, a=a), m))
            parts.append(
                _("with {depth} hidden layers, ").format(depth=depth) +
                ", ".join(_("{a} {e_a} epochs ({ms_a:.0f} ms of CPU, lr {best_a:g})").format(
                              a=a, e_a=e[a].fmt('.1f'), ms_a=ms[a].mean, best_a=best[a][0]) for a in ACTIVATIONS) +
                _(" — ReLU needs fewer epochs than sigmoid in {c_won_sigmoid} and than tanh in "
                  "{c_won_tanh} (never reached = {cap_1} epochs)").format(
                    c_won_sigmoid=c['won']['sigmoid'], c_won_tanh=c['won']['tanh'], cap_1=cap + 1))
            numbers.update({f"epochs to {TARGET_ACC:.0%}, {depth} layers, {a} (lr {best[a][0]:g})":
                            e[a] for a in ACTIVATIONS})
            numbers.update({f"CPU ms to {TARGET_ACC:.0%}, {depth} layers, {a}": ms[a]
                            for a in ACTIVATIONS})
        evidence.append(Row(_("cost per element, forward + backward"), {
            _("µs per million, {a}").format(a=a): cost[a] for a in ACTIVATIONS if a in cost}))
        verdict_of = {(d, o): c["faster"][o].status for d, c in cmp.items() for o in c["faster"]}
        status = combine(verdict_of.values())
        depends_on = _depends_on(verdict_of, depths) if status == "depends" else []
        beaten = [o for o in ("sigmoid", "tanh") if all(verdict_of[(d, o)] == "holds"
                                                        for d in depths)]
        not_beaten = [o for o in ("sigmoid", "tanh") if o not in beaten]
        rule = (_("Each activation at its best learning rate (fewest median epochs to "
                  "{target_acc:.0%} validation accuracy, never reached = cap + 1). Per depth "
                  "and per other activation, ReLU is faster when it needs fewer epochs in "
                  "every seed (paired by seed); all comparisons → holds, none → fails, some → "
                  "depends on {and_join_depends_on}; seeds that disagree → inconclusive.").format(
                    target_acc=TARGET_ACC,
                    and_join_depends_on=_(' and ').join(depends_on) or _('the comparison')))
        first = cmp[depths[0]]
        mean_e = {a: np.mean(list(first["epochs"][a].values())) for a in ACTIVATIONS}
        answer = _answer(status, beaten, not_beaten, mean_e, depths, cmp)
        sentence = (
            _("At each activation's best learning rate, epochs to {target_acc:.0%} validation "
              "accuracy on digits: ").format(target_acc=TARGET_ACC) + "; ".join(parts) + ". " + _cost_sentence(cost, first)
            + " " + rule)
        numbers.update({f"µs per million elements, {a}": cost[a] for a in cost})
        tallies = [t for c in cmp.values() for t in c["faster"].values()]
        agree = Tally(status, sum(t.agree for t in tallies), sum(t.n for t in tallies))
        return [Verdict("A2", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, depends_on=depends_on, agree=agree)]

    def corrections(self, results):
        out = []
        cmp = self._comparisons(results)
        won = {o: sum(sum(c["epochs"]["relu"][i] < c["epochs"][o][i] for i in c["seeds"])
                      for c in cmp.values()) for o in ("sigmoid", "tanh")}
        n = sum(len(c["seeds"]) for c in cmp.values())
        if won["tanh"] < n:
            epochs = "; ".join(
                _("{d} hidden layers: ").format(d=d) + ", ".join(
                    f"{a} {mean_spread(c['epochs'][a].values()).fmt('.1f')}"
                    for a in ACTIVATIONS) for d, c in cmp.items())
            out.append(Correction(
                "A2", "000 Q2, 001",
                _("with ReLU the network learns much faster than with sigmoid or tanh"),
                _("each activation at its own best learning rate, ReLU needed fewer epochs to "
                  "{target_acc:.0%} validation accuracy than sigmoid in {won_sigmoid} of {n} "
                  "paired comparisons but than tanh in only {won_tanh} of {n}").format(
                    target_acc=TARGET_ACC, won_sigmoid=won['sigmoid'], n=n, won_tanh=won['tanh']),
                _("epochs to {target_acc:.0%}: {epochs}").format(
                    target_acc=TARGET_ACC, epochs=epochs),
                so_what=_("ReLU's speed-up is over saturating nets: a shallow, "
                          "well-initialised tanh MLP does not saturate and keeps up; the 6× of "
                          "Krizhevsky et al. is for a deep convolutional net. Tune the "
                          "learning rate for each before comparing")))
        prof = group([r for r in results if r.spec["part"] == "profile"], "activation")
        if "relu" not in prof or "sigmoid" not in prof:
            return out
        relu = mean_spread([r.result["delta_ratio"] for r in prof["relu"]])
        sig = mean_spread([r.result["delta_ratio"] for r in prof["sigmoid"]])
        active = mean_spread([np.mean(r.result["fprime"]) for r in prof["relu"]])
        out.append(Correction(
            "A2", "000 Q2", _("ReLU's derivative of 1 or 0 is good because it “switches off "
                              "features with small influence”"),
            _("what matters is that the derivative is exactly 1 wherever the unit is active, "
              "so the back-propagated gradient is not multiplied down layer after layer as "
              "with sigmoid (σ′ ≤ 0.25); the zeros are a cost (dead units, A6), not the benefit"),
            _("gradient reaching layer 1 of a 10-layer net relative to layer 10 (experiment "
              "A4): ReLU {relu:.3g}, sigmoid {sig:.2g} (n={relu_n}); ReLU′ is 1 on "
              "{active:.0%} of units and 0 on the rest").format(
                relu=relu.mean, sig=sig.mean, relu_n=relu.n, active=active.mean),
            so_what=_("ReLU helps deep nets because its gradient does not shrink with depth; a "
                      "unit switched off on every example learns nothing (A6)")))
        return out

    def published(self, results):
        depth = min(r.spec["depth"] for r in results if r.spec["part"] == "train")
        best = self._best(results, depth)
        relu = {r.seed: _epochs(r) for r in best["relu"][1]}
        tanh = {r.seed: _epochs(r) for r in best["tanh"][1]}
        ratio = mean_spread([tanh[i] / relu[i] for i in sorted(set(relu) & set(tanh))])
        return [Published(
            "A2", _("Krizhevsky, Sutskever & Hinton 2012, Figure 1"),
            _("a 4-layer CNN with ReLUs reaches 25% training error on CIFAR-10 six times "
              "faster (in epochs) than the same net with tanh"),
            _("epochs to {target_acc:.0%} validation accuracy, tanh / ReLU: {ratio}").format(
                target_acc=TARGET_ACC, ratio=ratio.fmt('.2f')),
            _("Ours is a {depth}-hidden-layer MLP on 8×8 digits, theirs a convolutional net on "
              "CIFAR-10; both choose each network's learning rate to train as fast as "
              "possible. ").format(depth=depth)
            + (_("A shallow MLP with Xavier-initialised tanh barely saturates, so tanh keeps "
                 "up with ReLU here; the gap opens with depth and saturation (see sigmoid, and "
                 "A4).")
               if ratio.mean < 2 else _("ReLU's advantage over tanh shows here too.")))]

    def figures(self, results):
        train = [r for r in results if r.spec["part"] == "train"]
        depth = min(r.spec["depth"] for r in train)
        best = self._best(results, depth)
        colours = {"relu": "tab:blue", "tanh": "tab:green", "sigmoid": "tab:orange"}
        fig = Figure(figsize=(7.5, 3.8))
        ax1, ax2 = fig.subplots(1, 2)
        for a in ACTIVATIONS:
            lr, runs = best[a]
            for i, r in enumerate(runs):
                acc = r.result["val_acc"]
                ax1.plot(np.arange(1, len(acc) + 1), acc, color=colours[a], alpha=0.8,
                         label=_("{a} (lr {lr:g})").format(a=a, lr=lr) if i == 0 else None)
        ax1.axhline(TARGET_ACC, color="grey", ls=":", lw=1)
        ax1.set(title=_("Validation accuracy ({depth} hidden layers)").format(depth=depth), xlabel=_("epoch"),
                ylabel=_("accuracy"), ylim=(0, 1))
        ax1.legend(loc="lower right")
        for a, runs in group(train, "activation").items():
            runs = [r for r in runs if r.spec["depth"] == depth]
            by_lr = group(runs, "lr")
            lrs = sorted(by_lr)
            ax2.plot(lrs, [np.mean([_epochs(r) for r in by_lr[lr]]) for lr in lrs], marker="o",
                     color=colours[a], label=a)
        lrs = sorted({r.spec["lr"] for r in train})
        ax2.set_xscale("log")
        ax2.set_xticks(lrs, [f"{v:g}" for v in lrs])
        ax2.set_xticks([], minor=True)
        cap = train[0].spec["epochs"]
        ax2.axhline(cap + 1, color="grey", ls=":", lw=1)
        ax2.set(title=_("Epochs to target vs learning rate"), xlabel=_("learning rate"),
                ylabel=_("epochs to {target_acc:.0%} ({cap_1} = never)").format(
                           target_acc=TARGET_ACC, cap_1=cap + 1))
        ax2.legend()
        fig.tight_layout()
        return [(_("Left: validation accuracy per epoch at each activation's best learning "
                   "rate (training stops at the {target_acc:.0%} target, dotted). Right: the "
                   "learning rate scan behind that choice (mean over seeds; the dotted line "
                   "means never).").format(target_acc=TARGET_ACC),
                 fig)]


def _cost_sentence(cost: dict, first: dict) -> str:
    """Per-element cost of each activation against the whole step (shallowest net)."""
    per_epoch = {a: mean_spread([1e3 * r.result["seconds_per_epoch"] for r in runs])
                 for a, (lr, runs) in first["best"].items()}
    depth = first["best"]["relu"][1][0].spec["depth"]
    return (_("Per element a forward + backward pass costs ") +
            ", ".join(_("{cost_a:.0f} µs per million with {a}").format(cost_a=cost[a].mean, a=a) for a in ACTIVATIONS
                      if a in cost) +
            _(", but matrix products and Python overhead dominate a training step: ms per "
              "epoch ({depth} hidden layers) ").format(depth=depth) +
            ", ".join(f"{a} {per_epoch[a].mean:.1f}" for a in ACTIVATIONS) + ".")


def _depends_on(verdict_of: dict, depths) -> list[str]:
    """What a "depends" varies with: the activation ReLU is compared with, the depth, or both."""
    out = []
    if any(len({verdict_of[(d, o)] for o in ("sigmoid", "tanh")}) > 1 for d in depths):
        out.append(_("activation compared"))
    if any(len({verdict_of[(d, o)] for d in depths}) > 1 for o in ("sigmoid", "tanh")):
        out.append(_("depth"))
    return out


def _answer(status, beaten, not_beaten, mean_e, depths, cmp) -> str:
    """The one-line answer; ``mean_e``: mean epochs to the target (shallowest net); ``cmp``:
    per depth, the seeds where ReLU won against each other activation."""
    if status == "holds":
        return (_("Yes: at each one's best learning rate ReLU reached {target_acc:.0%} in "
                  "fewer epochs than sigmoid and tanh in every seed.").format(
                    target_acc=TARGET_ACC))
    if status == "fails":
        return (_("No: at each one's best learning rate sigmoid and tanh reached "
                  "{target_acc:.0%} in as few epochs as ReLU or fewer.").format(
                    target_acc=TARGET_ACC))
    if status == "depends" and beaten and not_beaten:
        return (_("Faster than {join_beaten}, not than {join_not_beaten}: at each one's best "
                  "learning rate {and_join_not_beaten} reached {target_acc:.0%} in as few "
                  "epochs or fewer (ReLU {mean_e_relu:.1f}, ").format(
                    join_beaten=', '.join(beaten), join_not_beaten=', '.join(not_beaten),
                    and_join_not_beaten=_(' and ').join(not_beaten), target_acc=TARGET_ACC,
                    mean_e_relu=mean_e['relu'])
                + ", ".join(f"{o} {mean_e[o]:.1f}" for o in not_beaten) + ").")
    if status == "depends":
        return (_("It depends on the depth: ReLU's lead over ") + _(" and ").join(not_beaten)
                + _(" is not the same with ") + _(" and ").join(str(d) for d in depths)
                + _(" hidden layers."))
    won = {o: " and ".join(cmp[d]["won"][o].replace(" of ", "/").replace(" seeds", "")
                           for d in depths) for o in ("sigmoid", "tanh")}
    return (_("Unclear: ReLU needed fewer epochs than sigmoid in {won_sigmoid} seeds, than "
              "tanh in {won_tanh} ({and_d_join} hidden layers).").format(
                won_sigmoid=won['sigmoid'], won_tanh=won['tanh'],
                and_d_join=_(' and ').join((str(d) for d in depths))))


def _epochs(r) -> int:
    e = r.result["epochs_to_target"]
    return r.result["max_epochs"] + 1 if e is None else e


def _seconds(r) -> float:
    """Seconds to the target; a run that never got there counts its whole time (a lower bound)."""
    s = r.result["seconds_to_target"]
    return r.result["seconds_total"] if s is None else s


EXPERIMENT = ReluSpeed()
