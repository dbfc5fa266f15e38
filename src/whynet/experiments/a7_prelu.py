"""A7 — PReLU's slope α is learned by back-propagation.

Note 002 (cs231n lecture 6): PReLU is f(z) = max(0, z) + α·min(0, z) with α a parameter "learned
by backprop" (He et al. 2015). We train nets whose hidden units are PReLU (one α per layer, from
0.25) and record every α as training goes; and we check ∂L/∂α against centred finite differences,
for a PReLU layer alone and through a whole network, in float64.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..gradcheck import check_module, numerical_gradient, rel_error
from ..nn import mlp
from ..nn.activations import PReLU
from ..nn.losses import SoftmaxCrossEntropy
from ..optim import SGD
from ..random import make_rng
from ..probes import Probe
from ..train import fit
from .recipes import digits_split
from .base import Experiment, Row, Verdict, held_in, mean_spread, tally

GRAD_TOL = 1e-6   # float64 centred differences agree with a correct gradient to ~1e-9
MOVED = 0.02      # α must end at least this far from 0.25 in some layer


def network_alpha_check(seed: int) -> float:
    """Relative error of ∂L/∂α for every α of a small float64 PReLU net (loss: softmax
    cross-entropy on 16 random examples) against centred differences of the loss."""
    rng = make_rng(seed)
    model = mlp([6, 5, 5, 3], activation="prelu", seed=seed, dtype=np.float64)
    # push α away from 0.25 so that the check does not rest on the initial value
    for p in model.parameters():
        if p.name == "alpha":
            p.value[:] = rng.uniform(0.05, 0.6, size=p.value.shape)
    X = rng.standard_normal((16, 6))
    y = rng.integers(0, 3, size=16)
    loss_fn = SoftmaxCrossEntropy()

    def loss() -> float:
        return loss_fn.forward(model.forward(X), y)

    model.zero_grad()
    loss()
    model.backward(loss_fn.backward())
    alphas = [p for p in model.parameters() if p.name == "alpha"]
    analytic = np.concatenate([p.grad.copy() for p in alphas])
    numeric = np.concatenate([numerical_gradient(loss, p.value) for p in alphas])
    return rel_error(analytic, numeric)


class PReLUAlpha(Experiment):
    id = "a7"
    questions = ("A7",)
    title = N_("PReLU learns its slope")
    question = N_("Is PReLU's negative slope α learned by back-propagation, and is its gradient right?")
    what = (N_("A [64, 64, 64, 64, 10] net with PReLU hidden units (one α per layer, starting at "
            "0.25, not weight-decayed), He init, on 600 standardised digits; SGD with momentum "
            "0.9 (lr 0.05, batch 32). Every 5 steps the probes record each layer's α. Gradient checks "
            "in float64: a PReLU layer alone (one shared α, and one α per unit) through "
            "whynet.gradcheck.check_module, and every α of a small PReLU network against centred "
            "differences of its loss."))
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 seeds: a sign-test p of 0.002
    version = 2      # α read from the probes' records (steps 1, 5, 10, …) and at the end

    def grid(self, quick: bool) -> list[dict]:
        return [{"part": "train", "epochs": 10 if quick else 40, "lr": 0.05, "width": 64,
                 "depth": 3},
                {"part": "gradcheck"}]

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "gradcheck":
            rng = make_rng(seed)
            x = rng.standard_normal((8, 5))
            shared = PReLU(1, init=0.3, dtype=np.float64)
            per_unit = PReLU(5, dtype=np.float64)
            per_unit.alpha.value[:] = rng.uniform(0.05, 0.6, size=5)
            e1 = check_module(shared, x, rng=make_rng(seed + 1))
            e2 = check_module(per_unit, x, rng=make_rng(seed + 2))
            return {"layer_shared_alpha": e1["alpha"], "layer_per_unit_alpha": e2["alpha"],
                    "layer_x": max(e1["x"], e2["x"]), "network_alpha": network_alpha_check(seed)}
        X, y, Xv, yv = digits_split(seed)
        sizes = [X.shape[1]] + [spec["width"]] * spec["depth"] + [10]
        model = mlp(sizes, activation="prelu", seed=seed)
        prelus = [m for m in model.layers if isinstance(m, PReLU)]
        # α per layer from the probes' alpha_mean records (steps 1, 5, 10, …; step 1 is
        # measured before the first update, so it shows the initial 0.25)
        probe = Probe(model, Xv[:64], yv[:64], "softmax_ce", every=5, histograms=False)
        h = fit(model, X, y, loss="softmax_ce", epochs=spec["epochs"], batch_size=32,
                optimizer=SGD(model.parameters(), lr=spec["lr"], momentum=0.9), seed=seed,
                validation_data=(Xv, yv), callbacks=[probe], progress=False)
        rec = probe.records.where(quantity="alpha_mean")
        steps = rec.steps()
        alpha = rec.column("value").reshape(len(steps), len(prelus))
        stride = max(1, len(steps) // 200)
        return {"steps": steps[::stride], "alpha": alpha[::stride].tolist(),
                "alpha_end": [float(p.alpha.value.mean()) for p in prelus],
                "val_acc": h.epochs["val_acc"][-1]}

    def verdicts(self, results):
        train = [r for r in results if r.spec["part"] == "train"]
        checks = [r for r in results if r.spec["part"] == "gradcheck"]
        moved = [max(abs(a - 0.25) for a in r.result["alpha_end"]) for r in train]
        worst = [max(r.result[k] for k in ("layer_shared_alpha", "layer_per_unit_alpha",
                                           "network_alpha")) for r in checks]
        flags = [m > MOVED for m in moved] + [w < GRAD_TOL for w in worst]
        agree = tally(flags)
        end = np.array([r.result["alpha_end"] for r in train])
        per_layer = [mean_spread(end[:, j]) for j in range(end.shape[1])]
        rule = (_("Holds when, in every training seed, some layer's α ends more than {moved} "
                  "away from its initial 0.25, and in every gradient-check seed ∂L/∂α agrees "
                  "with centred differences to a relative error below {grad_tol:g} (float64).").format(
                    moved=MOVED, grad_tol=GRAD_TOL))
        if agree.status == "holds":
            answer = (_("Yes: every seed's α moved (largest change {np_moved:.2f} from 0.25) "
                        "and its gradient matches finite differences to {max_worst:.0e}.").format(
                          np_moved=np.mean(moved), max_worst=max(worst)))
        else:
            answer = (_("Not in every run (held in {held_in_flags_removesuffix} runs): some α "
                        "stayed near 0.25 or its gradient missed finite differences.").format(
                          held_in_flags_removesuffix=held_in(flags).removesuffix(' seeds')))
        evidence = [Row(_("hidden layer {j_1}").format(j_1=j + 1), {_("α at end"): s}) for j, s in enumerate(per_layer)]
        evidence.append(Row(_("all layers"), {_("largest |α − 0.25| per seed"): mean_spread(moved),
                                           _("validation accuracy"): mean_spread(
                                               [r.result["val_acc"] for r in train])}))
        evidence.append(Row(_("gradient check of ∂L/∂α (float64)"), {
            _("worst relative error"): max(worst), _("checks"): len(worst)}))
        sentence = (
            _("Starting from 0.25, the learned α of hidden layers 1–{end_shape_1} end at ").format(
                end_shape_1=end.shape[1]) +
            ", ".join(s.fmt(".2f") for s in per_layer) +
            _(" after {train_spec_epochs} epochs (largest move per seed {mean_spread_moved}); "
              "∂L/∂α agrees with centred differences to a relative error of at most "
              "{max_worst:.1e} (layer alone and through a network, float64). ").format(
                train_spec_epochs=train[0].spec['epochs'],
                mean_spread_moved=mean_spread(moved).fmt('.2f'), max_worst=max(worst)) + rule)
        numbers = {f"α at end, layer {j + 1}": s for j, s in enumerate(per_layer)}
        numbers["largest |α − 0.25|"] = mean_spread(moved)
        numbers["worst gradient-check relative error"] = max(worst)
        numbers["validation accuracy"] = mean_spread([r.result["val_acc"] for r in train])
        return [Verdict("A7", agree.status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=agree)]

    def figures(self, results):
        train = [r for r in results if r.spec["part"] == "train"]
        fig = Figure(figsize=(7.5, 3.8))
        ax = fig.subplots()
        colours = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")
        for i, r in enumerate(train):
            a = np.array(r.result["alpha"])
            for j in range(a.shape[1]):
                ax.plot(r.result["steps"], a[:, j], color=colours[j % len(colours)],
                        alpha=0.9 if i == 0 else 0.35, lw=1.5 if i == 0 else 0.8,
                        label=_("layer {j_1}").format(j_1=j + 1) if i == 0 else None)
        ax.axhline(0.25, color="grey", ls=":", lw=1)
        ax.set(title=_("PReLU slope α per hidden layer during training"), xlabel=_("step"),
               ylabel="α")
        ax.legend()
        fig.tight_layout()
        return [(_("Each layer's α (seed 0 bold, other seeds faint) leaves its initial 0.25 "
                   "(dotted): back-propagation moves it like any weight."), fig)]


EXPERIMENT = PReLUAlpha()
