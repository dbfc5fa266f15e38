"""I3 — Xavier suits tanh but collapses with ReLU in deep nets; He init keeps ReLU activations spread.

Note 004 (cs231n lecture 6, p48–50): Xavier assumes a linear, zero-centred unit; ReLU zeroes half
its inputs, so under Xavier the variance halves at every layer and the activations of a deep ReLU
net collapse towards 0. He et al. (2015) double the variance (std √(2/fan_in)) to compensate.
Three measurements: (1) the forward statistics of a 10-layer ReLU net under ×0.01, Xavier and He;
(2) whether a 30-layer ReLU net trains under Xavier vs He (He et al. 2015, Figure 3);
(3) Glorot & Bengio (2010)'s observation that with the "standard" init U(±1/√fan_in) the top
hidden layer of a sigmoid net saturates towards 0 early in training.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.activations import Sigmoid
from ..optim import SGD, Adam
from ..train import Every, fit
from .base import (Experiment, Published, Row, Tally, Verdict, combine, group, mean_spread,
                   outcome, status_word, tally)
from .figures import histogram_figure
from .recipes import layer_statistics

LN10 = math.log(10)
#: The 30-layer net's optimisers: SGD with momentum (He et al.'s setting) and Adam.
OPTIMIZERS = {"sgd": ("SGD + momentum 0.9, lr 0.003",
                      lambda params: SGD(params, lr=0.003, momentum=0.9)),
              "adam": ("Adam, lr 0.001", lambda params: Adam(params, lr=1e-3))}
COLLAPSED = 0.2  # Xavier "collapses": layer-10 std below 0.2 of layer 1's …
KEPT = 0.1  # … He "keeps": above 0.1 of layer 1's
STALL = 0.02  # "stalls": final loss within 0.02 of ln 10
TRAINS = 0.8  # "trains": final loss below 0.8·ln 10


def digits_standardized(n: int):
    data = datasets.digits()
    X, = datasets.standardize(data.X[:n])[:1]
    return X, data.y[:n]


def standard_init(shape, rng, dtype):
    """Glorot & Bengio's "standard" initialisation: W ~ U(−1/√fan_in, 1/√fan_in)."""
    bound = 1.0 / math.sqrt(shape[1])
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def sigmoid_means(model, X):
    """``fn(step, ctx)`` for :class:`whynet.train.Every`: the mean activation of every sigmoid
    layer on the fixed batch ``X``."""
    def fn(step, ctx):
        a, means = X, []
        for layer in model.layers:
            a = layer.forward(a)
            if isinstance(layer, Sigmoid):
                means.append(float(a.mean()))
        return means
    return fn


class XavierVsHe(Experiment):
    id = "i3"
    questions = ("I3",)
    title = N_("Xavier vs He in deep ReLU nets")
    question = (N_("Does Xavier init collapse a deep ReLU net's activations while He keeps them "
                "spread, and does a 30-layer ReLU net train only under He?"))
    what = (N_("(1) A 10-layer ReLU net (width×width, zero biases) fed unit Gaussian inputs, weights "
            "0.01·N(0,1), Xavier N(0, 1/fan_in) or He N(0, 2/fan_in): per-layer activation std and "
            "histograms. (2) A 30-layer ReLU MLP of width 64 on standardised digits (800 examples), "
            "batch 64, under Xavier-normal vs He-normal, trained by SGD with momentum 0.9 "
            "(lr 0.003) and by Adam (lr 0.001): the loss curve. (3) A 4-hidden-layer sigmoid net (width 100) with U(±1/√fan_in) weights on "
            "digits, SGD lr 0.1, batch 10: each layer's mean activation over the first epochs."))
    seeds_quick = 3
    seeds_full = 8
    version = 2

    def grid(self, quick: bool) -> list[dict]:
        width, batch = (256, 500) if quick else (500, 1000)
        forward = [{"part": "forward", "activation": "relu", "init": init, "depth": 10,
                    "width": width, "batch": batch} for init in ("×0.01", "Xavier", "He")]
        train = [{"part": "train30", "init": init, "depth": 30, "width": 64, "n": 800,
                  "epochs": 12 if quick else 30, "optimizer": opt}
                 for opt in OPTIMIZERS for init in ("xavier_normal", "he_normal")]
        glorot = [{"part": "glorot", "epochs": 3 if quick else 10, "lr": 0.1}]
        return forward + train + glorot

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "forward":
            return layer_statistics(spec["activation"], spec["init"], spec["depth"],
                                    spec["width"], spec["batch"], seed)
        if spec["part"] == "train30":
            X, y = digits_standardized(spec["n"])
            model = mlp([64] + [spec["width"]] * spec["depth"] + [10], activation="relu",
                        init=spec["init"], seed=seed)
            optimizer = OPTIMIZERS[spec.get("optimizer", "sgd")][1](model.parameters())
            h = fit(model, X, y, loss="softmax_ce", epochs=spec["epochs"], batch_size=64,
                    optimizer=optimizer, seed=seed, progress=False)
            return {"loss": h.epochs["loss"], "acc": h.epochs["acc"],
                    "final_loss": h.epochs["loss"][-1], "diverged": h.diverged}
        X, y = digits_standardized(1797)
        model = mlp([64, 100, 100, 100, 100, 10], activation="sigmoid", init=standard_init,
                    seed=seed)
        means = Every(20, sigmoid_means(model, X[:200]), at_start=False)
        fit(model, X, y, loss="softmax_ce", optimizer="sgd", lr=spec["lr"], epochs=spec["epochs"],
            batch_size=10, seed=seed, callbacks=[means], progress=False)
        return {"steps": means.steps, "means": means.values}

    def _train(self, results):
        """{optimizer: {init: runs}} of the 30-layer net."""
        runs = [r for r in results if r.spec["part"] == "train30"]
        return {opt: group(rs, "init")
                for opt, rs in group(runs, lambda r: r.spec.get("optimizer", "sgd")).items()}

    def verdicts(self, results):
        fwd = group([r for r in results if r.spec["part"] == "forward"], "init")
        trn = self._train(results)
        ratio = {k: [r.result["std"][-1] / r.result["std"][0] for r in runs]
                 for k, runs in fwd.items()}
        forward = tally(x < COLLAPSED and h > KEPT for x, h in zip(ratio["Xavier"], ratio["He"]))
        trains = {}
        for opt, by in trn.items():
            xl = [r.result["final_loss"] for r in by["xavier_normal"]]
            hl = [r.result["final_loss"] for r in by["he_normal"]]
            trains[opt] = (tally(x > LN10 - STALL and h < TRAINS * LN10 for x, h in zip(xl, hl)),
                           mean_spread(xl), mean_spread(hl))
        status = combine([forward.status] + [t[0].status for t in trains.values()])
        agree = Tally(status, forward.agree + sum(t[0].agree for t in trains.values()),
                      forward.n + sum(t[0].n for t in trains.values()))
        numbers = {"Xavier: std layer 10 / layer 1": mean_spread(ratio["Xavier"]),
                   "He: std layer 10 / layer 1": mean_spread(ratio["He"]),
                   "×0.01: std layer 10 / layer 1": mean_spread(ratio["×0.01"])}
        rows = [Row(_("10-layer ReLU net, {k} init").format(k=k), {_("std layer 10 / layer 1"): mean_spread(v)})
                for k, v in ratio.items()]
        parts = []
        for opt, (t, xl, hl) in trains.items():
            name = OPTIMIZERS[opt][0]
            numbers[f"30-layer final loss, Xavier, {name}"] = xl
            numbers[f"30-layer final loss, He, {name}"] = hl
            rows.append(Row(_("30-layer ReLU net, {name}").format(name=name), {
                _("final loss, Xavier"): xl, _("final loss, He"): hl,
                _("Xavier stalls, He trains"): outcome(t.status, t)}))
            parts.append(_("with {name} it ends at loss {xl} under Xavier and {hl} under He "
                           "({xavier_stalls_he_trains_t_status}, {t})").format(
                             name=name, xl=xl, hl=hl,
                             xavier_stalls_he_trains_t_status=_('Xavier stalls, He trains') if t.status == 'holds' else _('not a stall') if t.status == 'fails' else _('seeds disagree'),
                             t=t))
        stalls = [opt for opt, (t, *_) in trains.items() if t.status == "holds"]
        learns = [opt for opt, (t, *_) in trains.items() if t.status == "fails"]
        names = {"sgd": "SGD", "adam": "Adam"}
        if forward.status == "holds" and stalls and learns:
            answer = (_("Xavier does shrink a deep ReLU net's activations layer by layer, but "
                        "the 30-layer net stalls only with {join_o_names}; with "
                        "{join_o_names_2} it trains.").format(
                          join_o_names=', '.join((names[o] for o in stalls)),
                          join_o_names_2=', '.join((names[o] for o in learns))))
        elif status == "holds":
            answer = (_("Yes: Xavier shrinks the activations layer by layer and the 30-layer "
                        "ReLU net stalls under Xavier with every optimiser tried, while He "
                        "trains."))
        else:
            answer = (_("Partly: forward collapse {forward_status}; ").format(
                          forward_status=status_word(forward.status))
                      + ", ".join(f"{names[o]} {status_word(t[0].status)}" for o, t in trains.items())
                      + _(". See the evidence."))
        rule = (_("Forward: holds when in every seed Xavier's layer-10 std is below "
                  "{collapsed:g}× layer 1's and He's above {kept:g}×. Training, per optimiser: "
                  "holds when in every seed Xavier's final loss stays within {stall} of ln 10 "
                  "and He's falls below {trains:g}·ln 10. Mixed outcomes → depends on the "
                  "optimiser.").format(collapsed=COLLAPSED, kept=KEPT, stall=STALL, trains=TRAINS))
        sentence = self._sentence(rule, parts, forward, numbers)
        return [Verdict("I3", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=(_("optimizer"),) if status == "depends" else (), agree=agree)]

    @staticmethod
    def _sentence(rule, parts, forward, numbers):
        """The long form: the forward std ratios and the training per optimiser."""
        sentence = (_("In a 10-layer ReLU net the activation std of layer 10 relative to layer "
                      "1 is {numbers_xavier_std_layer_10_layer_1} under Xavier (halving the "
                      "variance per layer predicts 2^-4.5 ≈ 0.044) and "
                      "{numbers_he_std_layer_10_layer_1} under He ({forward_status}, "
                      "{forward}). The 30-layer ReLU net (ln 10 = 2.303: no learning): ").format(
                        numbers_xavier_std_layer_10_layer_1=numbers['Xavier: std layer 10 / layer 1'],
                        numbers_he_std_layer_10_layer_1=numbers['He: std layer 10 / layer 1'],
                        forward_status=status_word(forward.status), forward=forward)
                    + "; ".join(parts) + _(". Adam divides each step by a running RMS of the "
                                           "gradient, so the tiny gradients that reach "
                                           "Xavier's lower layers still give full-size steps; "
                                           "SGD's steps shrink with them. ") + rule)
        return sentence

    def published(self, results):
        trn = self._train(results).get("sgd", {})
        glorot = [r for r in results if r.spec["part"] == "glorot"]
        top_start = mean_spread([r.result["means"][0][-1] for r in glorot])
        top_end = mean_spread([r.result["means"][-1][-1] for r in glorot])
        low_end = mean_spread([np.mean(r.result["means"][-1][:-1]) for r in glorot])
        return [
            Published("I3", _("He et al. 2015, Figure 3 (30-layer ReLU net)"),
                      _("Xavier init stalls, He init converges"),
                      _("final loss Xavier {mean_spread_final_loss_trn}, He "
                        "{mean_spread_final_loss_trn_2}").format(
                          mean_spread_final_loss_trn=mean_spread([r.result['final_loss'] for r in trn['xavier_normal']]),
                          mean_spread_final_loss_trn_2=mean_spread([r.result['final_loss'] for r in trn['he_normal']])),
                      _("Their net is a 30-layer conv net on ImageNet trained by SGD; ours a "
                        "width-64 MLP on digits for a few hundred SGD steps — the same stall, "
                        "at a thousandth of the cost. With Adam the Xavier net trains (see the "
                        "verdict).")),
            Published("I3", _("Glorot & Bengio 2010, Figure 2 (sigmoid net, standard init)"),
                      _("the top hidden layer's activations are driven towards 0 early in "
                        "training, lower layers stay near 0.5"),
                      _("top layer mean {top_start} → {top_end} after {glorot_steps_1} steps; "
                        "lower layers {low_end}").format(
                          top_start=top_start, top_end=top_end,
                          glorot_steps_1=glorot[0].result['steps'][-1], low_end=low_end),
                      _("4 hidden layers of 100 units on digits instead of 5 of 1000 on "
                        "Shapeset; the same direction, measured on 200 fixed examples.")),
        ]

    def figures(self, results):
        fwd = group([r for r in results if r.spec["part"] == "forward"], "init")
        trn = self._train(results)
        glorot = [r for r in results if r.spec["part"] == "glorot"]
        colours = {"×0.01": "tab:grey", "Xavier": "tab:red", "He": "tab:blue"}

        std = Figure(figsize=(7.2, 3.8))
        ax = std.subplots()
        for key, runs in fwd.items():
            stds = np.array([r.result["std"] for r in runs])
            layers = np.arange(1, stds.shape[1] + 1)
            ax.plot(layers, np.exp(np.log(stds).mean(0)), "o-", color=colours.get(key),
                    label=_("{key} (geometric mean over seeds)").format(key=key))
            ax.fill_between(layers, stds.min(0), stds.max(0), color=colours.get(key), alpha=0.2)
        x0 = np.exp(np.log([r.result["std"][0] for r in fwd["Xavier"]]).mean())
        layers = np.arange(1, len(fwd["Xavier"][0].result["std"]) + 1)
        ax.plot(layers, x0 * 2 ** (-(layers - 1) / 2), "k:", label=_("Xavier theory: ×1/√2 per "
                                                                     "layer"))
        ax.set(yscale="log", xlabel=_("layer"), ylabel=_("activation std (log scale)"),
               title=_("10-layer ReLU net: activation std per layer"))
        ax.set_xticks(layers)
        ax.legend(fontsize=9)
        std.tight_layout()

        hist = histogram_figure(fwd, _("10-layer ReLU net: activations per layer (clipped at 3)"))

        curves = Figure(figsize=(7.2, 3.2 * len(trn) + 0.3))
        axes = np.atleast_1d(curves.subplots(len(trn), 1, sharex=True))
        for ax, (opt, by) in zip(axes, trn.items()):
            for key, runs in by.items():
                for i, r in enumerate(runs):
                    ax.plot(np.arange(1, len(r.result["loss"]) + 1), r.result["loss"],
                            color="tab:red" if key == "xavier_normal" else "tab:blue", alpha=0.7,
                            label=key.replace(_("_normal"), "") if i == 0 else None)
            ax.axhline(LN10, color="grey", ls=":", lw=1)
            ax.set(title=_("30-layer ReLU MLP on digits, {optimizers_opt}").format(
                             optimizers_opt=OPTIMIZERS[opt][0]), xlabel=_("epoch"),
                   ylabel=_("training loss"))
            ax.legend(fontsize=9)
        curves.tight_layout()

        sig = Figure(figsize=(7.2, 3.4))
        ax2 = sig.subplots()
        r = glorot[0].result
        means = np.array(r["means"])
        for j in range(means.shape[1]):
            ax2.plot(r["steps"], means[:, j], label=_("hidden layer {j_1}").format(j_1=j + 1))
        ax2.set(title=_("Sigmoid net, standard init U(±1/√fan_in), seed 0"), xlabel=_("step"),
                ylabel=_("mean activation"))
        ax2.legend(fontsize=9)
        sig.tight_layout()
        return [(_("Activation std per layer (band: min–max over seeds): under Xavier it falls "
                   "by about 1/√2 per layer, as halving the variance predicts (dotted); under "
                   "He it stays; ×0.01 collapses at once."), std),
                (_("Histograms per layer (seed 0): under Xavier the spread shrinks layer by "
                   "layer, under He it stays; ×0.01 collapses at once."), hist),
                (_("A 30-layer ReLU net, every seed: with SGD it does not learn under Xavier "
                   "(loss pinned at ln 10, dotted) and does under He; with Adam both train."), curves),
                (_("The top sigmoid layer's mean activation drifts towards 0 while the lower "
                   "layers stay at 0.5 (Glorot & Bengio)."), sig)]


EXPERIMENT = XavierVsHe()
