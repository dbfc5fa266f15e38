"""A5 — "tanh is almost always better than sigmoid in hidden layers" (note 001).

Note 001 (deeplearning.ai course 1, week 3) says tanh "always gives better results" than sigmoid
as a hidden activation, because its outputs are centred on 0 rather than 0.5. We train the same
net with each, with the same budget, on four data sets and several seeds, and compare test
accuracy. Each activation gets its best learning rate from the same small set, chosen on a
validation split, so neither is judged at a rate that suits only the other.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..optim import SGD
from ..random import make_rng
from ..train import accuracy, fit
from .base import Correction, Experiment, Row, Tally, Verdict, combine, group, mean_spread

DATASETS = ("moons", "circles", "spiral", "digits")
TIE = 0.01  # test accuracies within one point count as equal
WINNERS = {"tanh": N_("tanh better"), "tie": N_("tied"), "sigmoid": N_("sigmoid better"),
           "tanh?": N_("tanh ahead within the noise"),
           "sigmoid?": N_("sigmoid ahead within the noise")}  # shown as _(WINNERS[w])


def load(name: str, seed: int):
    """(X_train, y_train, X_val, y_val, X_test, y_test, classes), inputs standardised on train."""
    if name == "digits":
        data = datasets.digits()
        order = make_rng(seed).permutation(len(data.X))
        parts = np.split(order[:1200], [600, 800])
        X, y = data.X, data.y
        classes = 10
    else:
        make = {"moons": lambda: datasets.moons(n=1000, noise=0.2, seed=seed),
                "circles": lambda: datasets.circles(n=1000, noise=0.1, seed=seed),
                "spiral": lambda: datasets.spiral(n=1000, noise=0.1, seed=seed)}[name]
        data = make()
        X, y = data.X, data.y
        parts = np.split(np.arange(1000), [400, 600])
        classes = 2
    (train, val, test) = parts
    Xtr, Xva, Xte, _unused = datasets.standardize(X[train], X[val], X[test])
    return Xtr, y[train], Xva, y[val], Xte, y[test], classes


class TanhVsSigmoid(Experiment):
    id = "a5"
    questions = ("A5",)
    title = N_("tanh vs sigmoid in hidden layers")
    question = N_("Is tanh better than sigmoid as a hidden activation, on every data set?")
    what = N_("The same [n, 16, 16, k] net with tanh or sigmoid hidden units (Xavier init, "
               "gain 5/3 for tanh, 1 for sigmoid) on moons (noise 0.2), circles (noise 0.1), a "
               "2-arm spiral (noise 0.1) — 400 training, 200 validation, 400 test points each "
               "— and 600/200/400 digits; SGD with momentum 0.9, batch 32, the same number of "
               "epochs. Each activation is run at every learning rate of a small set and "
               "judged at the one with the best mean validation accuracy; we compare test "
               "accuracy (ties within {tie:.0%}).")
    what_values = {"tie": TIE}
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 paired seeds: a sign-test p of 0.002

    def grid(self, quick: bool) -> list[dict]:
        lrs = (0.1, 0.3) if quick else (0.03, 0.1, 0.3, 1.0)
        return [{"dataset": d, "activation": a, "lr": lr, "epochs": 30 if quick else 80}
                for d in DATASETS for a in ("tanh", "sigmoid") for lr in lrs]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, Xv, yv, Xt, yt, classes = load(spec["dataset"], seed)
        model = mlp([X.shape[1], 16, 16, 1 if classes == 2 else classes],
                    activation=spec["activation"], seed=seed)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            h = fit(model, X, y, loss="bce" if classes == 2 else "softmax_ce",
                    optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9),
                    epochs=spec["epochs"], batch_size=32, seed=seed, progress=False)
        return {"train_loss": h.epochs["loss"][-1] if h.epochs["loss"] else None,
                "loss_curve": h.epochs["loss"], "diverged": h.diverged,
                "val_acc": accuracy(model, Xv, yv, "bce" if classes == 2 else "softmax_ce"),
                "test_acc": accuracy(model, Xt, yt, "bce" if classes == 2 else "softmax_ce")}

    # -- evaluation -----------------------------------------------------------------------------
    @staticmethod
    def _best(results) -> dict:
        """(dataset, activation) → (lr, runs) at the lr with the best mean validation accuracy."""
        best = {}
        for key, runs in group(results, ("dataset", "activation")).items():
            by_lr = group(runs, "lr")
            lr = max(by_lr, key=lambda k: (np.mean([r.result["val_acc"] for r in by_lr[k]]), -k))
            best[key] = (lr, by_lr[lr])
        return best

    def _compare(self, results):
        """Per data set, the paired test-accuracy difference d = tanh − sigmoid (same seed: same
        split, same initial weights) and what it says about the note's claim "tanh is better".

        Per data set: ``holds`` (tanh better) when mean d > TIE and tanh is never behind by more
        than TIE in a seed or ahead by more than two standard errors; ``fails`` when sigmoid is
        ahead in the same sense, or when |mean d| ≤ TIE (a tie: tanh is not better);
        ``inconclusive`` when one side is ahead on average but the seeds disagree."""
        best = self._best(results)
        out = {}
        for d in DATASETS:
            tanh = {r.seed: r.result["test_acc"] for r in best[(d, "tanh")][1]}
            sig = {r.seed: r.result["test_acc"] for r in best[(d, "sigmoid")][1]}
            seeds = sorted(set(tanh) & set(sig))
            t, s = [tanh[i] for i in seeds], [sig[i] for i in seeds]
            diff = np.array(t) - np.array(s)
            se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("inf")
            mean = float(diff.mean())
            if abs(mean) <= TIE:
                winner, status = "tie", "fails"
            elif mean > 0:
                sure = diff.min() >= -TIE or mean > 2 * se
                winner, status = ("tanh", "holds") if sure else ("tanh?", "inconclusive")
            else:
                sure = diff.max() <= TIE or -mean > 2 * se
                winner, status = ("sigmoid", "fails") if sure else ("sigmoid?", "inconclusive")
            out[d] = {"status": status, "tanh": mean_spread(t), "sigmoid": mean_spread(s),
                      "diff": mean_spread(diff), "se": se, "winner": winner,
                      "better": int(np.sum(diff > TIE)), "n": len(diff),
                      "lr_tanh": best[(d, "tanh")][0], "lr_sigmoid": best[(d, "sigmoid")][0]}
        return out

    def verdicts(self, results):
        cmp = self._compare(results)
        status = combine(c["status"] for c in cmp.values())
        on = {w: [d for d, c in cmp.items() if c["winner"] == w] for w in WINNERS}
        outcome = "; ".join(_("{outcome} on {data}").format(outcome=_(WINNERS[w]), data=", ".join(on[w]))
                            for w in WINNERS if on[w])
        rule = (_("Per data set, from the paired difference d = tanh − sigmoid over seeds: "
                  "tanh is better (holds) when mean d > {tie:.0%} and tanh is never behind by "
                  "more than {tie:.0%} in a seed or ahead by more than twice the standard "
                  "error; a tie (|mean d| ≤ {tie:.0%}) or sigmoid ahead fails; seeds that "
                  "disagree are inconclusive. Better on every data set → holds; on some only → "
                  "depends on the data set.").format(tie=TIE))
        if status == "holds":
            answer = _("Yes: tanh beat sigmoid on every data set tried, each at its best "
                       "learning rate.")
        elif status == "depends":
            answer = (_("Not always: tanh beat sigmoid on {join_on_tanh}, but ").format(
                          join_on_tanh=', '.join(on['tanh']))
                      + ", ".join(_("{outcome} on {data}").format(outcome=_(WINNERS[w]), data=", ".join(on[w]))
                                  for w in WINNERS
                                  if w != "tanh" and on[w]) + ".")
        elif status == "fails":
            answer = _("No: tanh was not better than sigmoid on any data set tried here.")
        else:
            answer = _("Unclear: on some data set the seeds disagree on which activation is "
                       "ahead.")
        evidence = [Row(d, {_("tanh test accuracy"): c["tanh"], _("sigmoid test accuracy"):
                            c["sigmoid"], _("tanh − sigmoid"): c["diff"],
                            _("seeds where tanh is better"): f"{c['better']} of {c['n']}",
                            _("learning rates (tanh, sigmoid)"): f"{c['lr_tanh']:g}, "
                                                              f"{c['lr_sigmoid']:g}",
                            _("outcome"): _(WINNERS[c["winner"]])})
                    for d, c in cmp.items()]
        parts = [_("{data} {tanh} vs {sigmoid}").format(data=d, tanh=c['tanh'].fmt('.1%'),
                                                         sigmoid=c['sigmoid'].fmt('.1%'))
                 for d, c in cmp.items()]
        sentence = (
            _("Test accuracy, tanh vs sigmoid, each at its best learning rate: ") + "; ".join(parts) +
            _(". Per data set: {outcome}. The note's claim “tanh is better” ").format(
                outcome=outcome)
            + {"holds": _("holds on every data set."),
               "depends": _("depends on the data set."),
               "fails": _("fails on every data set."),
               "inconclusive": _("is inconclusive: the seeds disagree.")}[status] + " " + rule)
        numbers = {f"{d}: tanh": c["tanh"] for d, c in cmp.items()}
        numbers.update({f"{d}: sigmoid": c["sigmoid"] for d, c in cmp.items()})
        numbers.update({f"{d}: tanh − sigmoid": c["diff"] for d, c in cmp.items()})
        n = sum(c["n"] for c in cmp.values())
        agree = Tally(status, sum(c["better"] if c["status"] == "holds" else c["n"] - c["better"]
                                  for c in cmp.values()), n)
        return [Verdict("A5", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, depends_on=(_("data set"),) if status == "depends" else (),
                        agree=agree)]

    def corrections(self, results):
        cmp = self._compare(results)
        ahead = [d for d, c in cmp.items() if c["winner"] == "tanh"]
        not_ahead = [d for d, c in cmp.items() if c["winner"] != "tanh"]
        if not not_ahead:
            return []  # the note's "always" held on every data set tried: nothing to correct
        others = ", ".join(f"{d} ({_(WINNERS[cmp[d]['winner']])})" for d in not_ahead)
        measured = (_("with the same net, budget and a learning rate chosen for each, tanh is "
                      "better on {join_ahead_no_data_set} but not on {others}: often better, "
                      "not always").format(
                        join_ahead_no_data_set=', '.join(ahead) or _('no data set'), others=others))
        number = "; ".join(_("{d}: tanh {c_tanh_1}, sigmoid {c_sigmoid_1}").format(
                               d=d, c_tanh_1=c['tanh'].fmt('.1%'),
                               c_sigmoid_1=c['sigmoid'].fmt('.1%'))
                           for d, c in cmp.items())
        return [Correction("A5", "001", _("tanh “always” gives better results than sigmoid in "
                                          "hidden layers"), measured, number,
                           so_what=_("try both: tanh's zero-centred outputs help most where "
                                     "sigmoid trains slowly (spiral, circles); on easy data "
                                     "they tie"))]

    def figures(self, results):
        cmp = self._compare(results)
        best = self._best(results)
        colours = {"tanh": "tab:green", "sigmoid": "tab:orange"}
        fig = Figure(figsize=(7.5, 7.4))
        ax1, ax2 = fig.subplots(2, 1)
        x = np.arange(len(DATASETS))
        for j, a in enumerate(("tanh", "sigmoid")):
            means = [cmp[d][a].mean for d in DATASETS]
            errs = [cmp[d][a].std for d in DATASETS]
            ax1.bar(x + (j - 0.5) * 0.38, means, width=0.38, yerr=errs, color=colours[a],
                    label=a, capsize=3)
            for i, d in enumerate(DATASETS):
                pts = [r.result["test_acc"] for r in best[(d, a)][1]]
                ax1.plot([i + (j - 0.5) * 0.38] * len(pts), pts, "k.", ms=4)
        ax1.set_xticks(x, [f"{d}\n({_(WINNERS[cmp[d]['winner']])})" for d in DATASETS])
        ax1.set(title=_("Test accuracy, each at its best learning rate"), ylabel=_("accuracy"),
                ylim=(0.4, 1.02))
        ax1.legend(loc="lower left")
        for d, style in zip(DATASETS, ("-", "--", "-.", ":")):
            for a in ("tanh", "sigmoid"):
                curve = best[(d, a)][1][0].result["loss_curve"]
                ax2.plot(np.arange(1, len(curve) + 1), curve, ls=style, color=colours[a],
                         label=_("{d}, {a}").format(d=d, a=a))
        ax2.set(yscale="log", title=_("Training loss (seed 0)"), xlabel=_("epoch"), ylabel=_("loss"))
        ax2.legend(ncol=2, fontsize=9)
        fig.tight_layout()
        return [(_("Top: test accuracy per data set (bars: mean ± std over seeds, dots: "
                   "seeds), with the per-data-set outcome. Bottom: training loss of seed 0 at "
                   "the chosen learning rates (colour: activation; line style: data set)."), fig)]


EXPERIMENT = TanhVsSigmoid()
