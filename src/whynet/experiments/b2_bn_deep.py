"""B2 — batch normalisation keeps every layer's activations spread and lets deep nets train.

Note 004 (cs231n lecture 6, p48) explains why spread-out activations matter: each layer's output
is the next layer's input, so if they collapse (or saturate) the next layer cannot learn. Batch
normalisation re-centres and re-scales every pre-activation over the batch, whatever the weights
did to it. We take two nets that should not train — 10 sigmoid layers at their standard (Xavier)
initialisation, where every layer multiplies the gradient by at most ¼, and 10 tanh layers at
weights ×0.01, where the activations shrink ~12× per layer (I2) — and train each with and without
a BatchNorm1d between every hidden Dense layer and its activation, with the same optimiser, learning
rate and number of epochs.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..nn import BatchNorm1d, Dense, mlp
from ..nn.activations import Activation
from ..nn.init import normal
from ..nn.losses import SoftmaxCrossEntropy
from ..optim import Adam
from ..probes import stats
from ..train import fit
from .base import Experiment, Row, Tally, Verdict, combine, group, mean_spread, outcome, tally
from .figures import histogram_figure
from .recipes import BINS, digits_sets

#: net name → (activation, initialiser; None = the activation's suggested init).
NETS = {"sigmoid, Xavier": ("sigmoid", None), "tanh, ×0.01": ("tanh", normal(std=0.01))}
PROBE = 500          # training examples whose activations are recorded
MIN_GAIN = 0.3       # BN's test accuracy must beat the plain net's by this much ("≫")
MIN_SPREAD = 0.5     # with BN, every layer's activation std is at least this share of the largest


def build(net: str, batchnorm: bool, depth: int, width: int, seed: int):
    activation, init = NETS[net]
    return mlp([64] + [width] * depth + [10], activation=activation, init=init,
               batchnorm=batchnorm, seed=seed)


def layer_profile(model, X, y) -> dict:
    """One forward and backward pass on ``(X, y)`` in the model's current mode: per hidden
    activation its std and histogram, per Dense layer ‖∂L/∂W‖. BatchNorm's running statistics are
    put back afterwards, so probing does not change the net it probes."""
    bns = [m for m in model.layers if isinstance(m, BatchNorm1d)]
    saved = [(m.running_mean.copy(), m.running_var.copy()) for m in bns]
    outputs: list[np.ndarray] = []

    def keep(module, index, x, out):
        if isinstance(module, Activation):
            outputs.append(out)

    handle = model.register_forward_hook(keep)
    try:
        model.zero_grad()
        loss_fn = SoftmaxCrossEntropy()
        loss_fn.forward(model.forward(X), y)
        model.backward(loss_fn.backward())
    finally:
        handle.remove()
    for m, (mean, var) in zip(bns, saved):
        m.running_mean, m.running_var = mean, var
    lo, hi = next(m for m in model.layers if isinstance(m, Activation)).output_range
    grads = [stats.norm(m.W.grad) for m in model.layers if isinstance(m, Dense)]
    model.zero_grad()
    return {"std": [float(a.std()) for a in outputs],
            "hist": [stats.histogram(a, BINS, (lo, hi)).tolist() for a in outputs],
            "range": [float(lo), float(hi)], "grad_W": grads}


class BatchNormDeep(Experiment):
    id = "b2"
    questions = ("B2",)
    title = N_("BatchNorm in deep and badly initialised nets")
    question = (N_("Does batch normalisation keep every layer's activations spread and let a deep "
                "sigmoid net, or a badly initialised tanh net, train?"))
    what = N_("Two 10-hidden-layer MLPs (width 64) on standardised digits (1,347 train / 450 "
               "test): sigmoid units at their standard Xavier-uniform initialisation, and tanh "
               "units with weights drawn as 0.01·N(0, 1). Each is trained with and without a "
               "BatchNorm1d before every hidden activation (then the Dense layers drop their "
               "bias), by Adam (lr 2e-3, batches of 128) for the same number of epochs (quick "
               "8, full 40). At initialisation we record each hidden layer's activation std "
               "and histogram on {probe} training examples (BatchNorm using the batch's "
               "statistics) and each layer's weight-gradient norm; during training, the loss "
               "and the test accuracy per epoch.")
    what_values = {"probe": PROBE}
    seeds_quick = 3
    seeds_full = 8

    def grid(self, quick: bool) -> list[dict]:
        epochs = 8 if quick else 40
        return [{"net": net, "batchnorm": bn, "depth": 10, "width": 64, "epochs": epochs,
                 "lr": 2e-3, "batch": 128} for net in NETS for bn in (False, True)]

    def run(self, spec: dict, seed: int) -> dict:
        Xtr, ytr, Xte, yte = digits_sets(seed, images=False)
        model = build(spec["net"], spec["batchnorm"], spec["depth"], spec["width"], seed)
        model.train()
        init = layer_profile(model, Xtr[:PROBE], ytr[:PROBE])
        history = fit(model, Xtr, ytr, loss="softmax_ce",
                      optimizer=Adam(model.parameters(), lr=spec["lr"]), epochs=spec["epochs"],
                      batch_size=spec["batch"], seed=seed, validation_data=(Xte, yte),
                      progress=False)
        model.eval()
        trained = layer_profile(model, Xtr[:PROBE], ytr[:PROBE])
        return {"std_init": init["std"], "hist": init["hist"], "range": init["range"],
                "grad_W_init": init["grad_W"], "std_trained": trained["std"],
                "loss": history.epochs["loss"], "test_acc": history.epochs["val_acc"],
                "final_test_acc": history.epochs["val_acc"][-1],
                "final_loss": history.epochs["loss"][-1], "diverged": history.diverged}

    def verdicts(self, results):
        by = group(results, ("net", "batchnorm"))
        statuses, numbers, parts, tallies, rows = [], {}, [], [], []
        self._per_net(statuses, tallies, numbers, parts, rows, by)
        epochs = results[0].spec["epochs"] if results else 0
        sentence = ("; ".join(parts) + _(" (same Adam, lr and {epochs} epochs). Holds for a "
                                         "net when, in every seed, BN keeps every hidden "
                                         "layer's activation std at initialisation above "
                                         "{min_spread:g}× the largest and beats the plain "
                                         "net's test accuracy by more than {min_gain_100:.0f} "
                                         "points.").format(
                                           epochs=epochs, min_spread=MIN_SPREAD,
                                           min_gain_100=MIN_GAIN * 100))
        status = combine(statuses)
        rule = (_("Per net, holds when in every seed BN keeps every hidden layer's activation "
                  "std at initialisation above {min_spread:g}× the largest and beats the plain "
                  "net's test accuracy by more than {min_gain_100:.0f} points; nets disagree → "
                  "depends on the network.").format(
                    min_spread=MIN_SPREAD, min_gain_100=MIN_GAIN * 100))
        agree = Tally(status, sum(t.agree for t in tallies), sum(t.n for t in tallies))
        accs = {net: (numbers[f"{net}: test accuracy, no BN"].mean,
                      numbers[f"{net}: test accuracy, BN"].mean) for net in NETS
                if f"{net}: test accuracy, BN" in numbers}
        answer = ((_("Yes: ") if status == "holds" else _("Not for every net: ") if status == "depends"
                   else _("No: ") if status == "fails" else _("Unclear: "))
                  + "; ".join(_("{net} {p:.0%} → {b:.0%} with BN").format(net=net, p=p, b=b) for net, (p, b) in accs.items())
                  + _(", same {epochs} epochs.").format(epochs=epochs))
        return [Verdict("B2", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=("network",) if status == "depends" else (), agree=agree)]

    @staticmethod
    def _per_net(statuses, tallies, numbers, parts, rows, by):
        """Per net: its status, numbers, sentence part, tally and evidence rows (appended)."""
        for net in NETS:
            plain, bn = by.get((net, False), []), by.get((net, True), [])
            flags = []
            plain_by_seed = {r.seed: r for r in plain}
            for b in bn:
                p = plain_by_seed.get(b.seed)
                if p is None:  # its partner run failed: no comparison for this seed
                    continue
                spread = min(b.result["std_init"]) >= MIN_SPREAD * max(b.result["std_init"])
                trains = b.result["final_test_acc"] > p.result["final_test_acc"] + MIN_GAIN
                flags.append(spread and trains)
            t = tally(flags)
            statuses.append(t.status)
            tallies.append(t)
            acc_p = mean_spread([r.result["final_test_acc"] for r in plain])
            acc_b = mean_spread([r.result["final_test_acc"] for r in bn])
            ratio_p = mean_spread([r.result["std_init"][-1] / r.result["std_init"][0]
                                   for r in plain])
            ratio_b = mean_spread([r.result["std_init"][-1] / r.result["std_init"][0]
                                   for r in bn])
            grad_p = mean_spread([r.result["grad_W_init"][0] / r.result["grad_W_init"][-1]
                                  for r in plain])
            grad_b = mean_spread([r.result["grad_W_init"][0] / r.result["grad_W_init"][-1]
                                  for r in bn])
            numbers.update({f"{net}: test accuracy, no BN": acc_p,
                            f"{net}: test accuracy, BN": acc_b,
                            f"{net}: activation std layer 10 / layer 1, no BN": ratio_p,
                            f"{net}: activation std layer 10 / layer 1, BN": ratio_b,
                            f"{net}: ‖∂L/∂W‖ layer 1 / output layer, no BN": grad_p,
                            f"{net}: ‖∂L/∂W‖ layer 1 / output layer, BN": grad_b})
            rows += [Row(_("{net}, no BN").format(net=net), {_("test accuracy"): acc_p,
                                            _("std layer 10 / layer 1 at init"): ratio_p,
                                            _("‖∂L/∂W‖ layer 1 / output"): grad_p}),
                     Row(_("{net}, BN").format(net=net), {_("test accuracy"): acc_b,
                                        _("std layer 10 / layer 1 at init"): ratio_b,
                                        _("‖∂L/∂W‖ layer 1 / output"): grad_b,
                                        _("BN spreads and trains"): outcome(t.status, t)})]
            parts.append(_("{net}: test accuracy {acc_p} without BN and {acc_b} with it; at "
                           "initialisation layer 10's activation std is {ratio_p} of layer 1's "
                           "without BN and {ratio_b} with it, and the first layer's "
                           "weight-gradient norm is {grad_p} of the output layer's without BN "
                           "and {grad_b} with it").format(
                             net=net, acc_p=acc_p.fmt('.0%'), acc_b=acc_b.fmt('.0%'),
                             ratio_p=ratio_p, ratio_b=ratio_b, grad_p=grad_p, grad_b=grad_b))

    def figures(self, results):
        by = group(results, ("net", "batchnorm"))
        rows = {f"{net}\n{_('BN') if bn else _('no BN')}": runs for (net, bn), runs in by.items()}
        hist = histogram_figure(rows, _("Activations per hidden layer at initialisation"))

        fig = Figure(figsize=(7.2, 6.6))
        ax1, ax2 = fig.subplots(2, 1)
        colours = {"sigmoid, Xavier": "tab:purple", "tanh, ×0.01": "tab:orange"}
        for (net, bn), runs in by.items():
            stds = np.array([r.result["std_init"] for r in runs])
            ax1.plot(np.arange(1, stds.shape[1] + 1), np.exp(np.log(stds).mean(0)),
                     color=colours[net], ls="-" if bn else "--", marker="o", ms=3,
                     label=_("{net}, {bn_no_bn}").format(net=net, bn_no_bn=_('BN') if bn else _('no BN')))
            for i, r in enumerate(runs):
                acc = r.result["test_acc"]
                ax2.plot(np.arange(1, len(acc) + 1), acc, color=colours[net],
                         ls="-" if bn else "--", alpha=0.8,
                         label=_("{net}, {bn_no_bn}").format(
                                   net=net, bn_no_bn=_('BN') if bn else _('no BN')) if i == 0 else None)
        ax1.set(yscale="log", title=_("Activation std at initialisation"), xlabel=_("hidden layer"),
                ylabel=_("std (log; geometric mean over seeds)"))
        ax2.axhline(0.1, color="grey", ls=":", lw=1)
        ax2.set(title=_("Test accuracy while training"), xlabel=_("epoch"), ylabel=_("test accuracy"),
                ylim=(0, 1))
        ax1.legend(fontsize=9)
        ax2.legend(fontsize=9)
        fig.tight_layout()
        return [(_("Each hidden layer's activations at initialisation (one seed). Without BN "
                   "the ×0.01 tanh net collapses to a spike at 0 within a few layers; with BN "
                   "every layer of both nets is spread the same way."), hist),
                (_("Top: activation std per layer at initialisation (dashed: no BN, solid: "
                   "BN). Bottom: test accuracy per epoch for every seed; without BN both nets "
                   "stay at chance (10%, dotted) for the whole budget, with BN they learn."), fig)]


EXPERIMENT = BatchNormDeep()
