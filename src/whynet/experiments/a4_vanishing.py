"""A4 — sigmoid′ ≤ ¼ and tanh′ ≤ 1, so gradients vanish with depth; large weights make them explode.

Notes 001 and 003: back-propagation multiplies the gradient by f′(z) once per layer, and
sigmoid′ ≤ 0.25, so "a 10-layer sigmoid net passes 0.25^10 of the gradient to the weights next to
the input"; with large weights the product grows instead. We measure it on one batch: a net of 10
hidden layers (width 64) on standardised digits, one forward and backward pass, and per layer the
norm of the back-propagated signal δ_l = ∂L/∂z_l and of the weight gradient ∂L/∂W_l, for sigmoid,
tanh and ReLU, at each activation's standard initialisation and at N(0, 1) weights.

The bound: δ_l = f′(z_l) ⊙ W_{l+1}ᵀ δ_{l+1}, so ‖δ_l‖ ≤ max f′ · ‖W_{l+1}‖₂ · ‖δ_{l+1}‖. The
note's 0.25^L is this bound for a chain of single units with |w| ≤ 1; for matrices it is
∏ 0.25·‖W_k‖₂, which exceeds 1 per layer as soon as ‖W‖₂ > 4.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .base import Experiment, Row, Tally, Verdict, combine, group, held_in, mean_spread, tally
from .recipes import SCALES, gradient_ratios

ACTIVATIONS = ("sigmoid", "tanh", "relu")
VANISHED = 1e-2   # δ at layer 1 below 1/100 of δ at layer 10: the first layer barely learns
EXPLODED = 1e2    # δ at layer 1 above 100× δ at layer 10
RULE = N_("Per activation, vanishing holds at standard init when the gradient reaching hidden "
          "layer 1 is below {vanished:g} of the one at layer 10 in every seed (tested for "
          "sigmoid and tanh, whose f′ ≤ ¼ and ≤ 1); exploding holds with N(0, 1) weights when "
          "it is above {exploded:g}× (every activation). All hold → holds, some → depends on "
          "the activation and the weight scale.")
"""The rule, shown as ``_(RULE).format(vanished=VANISHED, exploded=EXPLODED)``."""


class Vanishing(Experiment):
    id = "a4"
    questions = ("A4",)
    title = N_("Vanishing and exploding gradients")
    question = (N_("Do gradients shrink by ≤ 0.25 per layer in a deep sigmoid net, and explode "
                "instead when the weights are large?"))
    what = (N_("A net of 10 hidden layers of width 64 (plus a 10-way softmax output) on a batch of "
            "standardised digits: one forward and backward pass at the activation's standard "
            "initialisation (Xavier for sigmoid, Xavier with gain 5/3 for tanh, He for ReLU) and "
            "with N(0, 1) weights. Per layer: the norm of the back-propagated gradient "
            "δ_l = ∂L/∂z_l and of ∂L/∂W_l, the mean f′(z) and the fraction of saturated units; "
            "the ratio layer 1 / layer 10; and the bound ∏ 0.25·‖W_k‖₂ next to sigmoid's profile."))
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        batch = 256 if quick else 1000
        return [{"activation": a, "scale": s, "depth": 10, "width": 64, "batch": batch}
                for s in SCALES for a in ACTIVATIONS]

    def run(self, spec: dict, seed: int) -> dict:
        return gradient_ratios(spec, seed)

    def verdicts(self, results):
        by = group(results, ("activation", "scale"))
        ratio = {k: [r.result["delta_ratio"] for r in runs] for k, runs in by.items()}
        vanish_t = {a: tally([x < VANISHED for x in ratio[(a, "standard")]]) for a in ACTIVATIONS}
        explode_t = {a: tally([x > EXPLODED for x in ratio[(a, "N(0,1)")]]) for a in ACTIVATIONS}
        counts = {(a, s): held_in([x < VANISHED if s == "standard" else x > EXPLODED
                                   for x in ratio[(a, s)]]) for a in ACTIVATIONS for s in SCALES}
        vanish = {a: t.status for a, t in vanish_t.items()}
        explode = {a: t.status for a, t in explode_t.items()}
        stat = {k: mean_spread(v) for k, v in ratio.items()}
        fprime = {a: mean_spread([np.mean(r.result["fprime"]) for r in by[(a, "standard")]])
                  for a in ACTIVATIONS}
        fprime_large = {a: mean_spread([np.mean(r.result["fprime"]) for r in by[(a, "N(0,1)")]])
                        for a in ACTIVATIONS}
        claims = {"vanishes at standard init": {a: vanish[a] for a in ("sigmoid", "tanh")},
                  "explodes with N(0, 1) weights": explode}
        status = combine([s for c in claims.values() for s in c.values()])

        def fmt(k):
            return f"{stat[k].mean:.2g} ± {stat[k].std:.1g}"

        def where(claim, wanted):
            names = [a for a, s in claims[claim].items() if s == wanted]
            return ", ".join(names) if names else _("none")

        sentence = self._sentence(status, fmt, where, stat, fprime, fprime_large)
        numbers = {f"δ ratio layer 1/10, {a}, {s}": stat[(a, s)]
                   for s in SCALES for a in ACTIVATIONS}
        numbers.update({f"mean f′, {a}, standard init": fprime[a] for a in ACTIVATIONS})
        numbers.update({f"mean f′, {a}, N(0,1)": fprime_large[a] for a in ACTIVATIONS})
        tallies = [vanish_t["sigmoid"], vanish_t["tanh"], *explode_t.values()]
        agree = Tally(status, sum(t.agree for t in tallies), sum(t.n for t in tallies))
        if status == "holds":
            answer = (_("Yes: at standard init sigmoid's and tanh's gradients vanish over 10 "
                        "layers, and with N(0, 1) weights every activation's explodes."))
        else:
            answer = (_("Vanishes for {where_vanishes_at_standard_init_holds} at standard init "
                        "(sigmoid: {stat_sigmoid_standard:.0e} of layer 10), not for "
                        "{where_vanishes_at_standard_init_fails}; explodes with N(0, 1) "
                        "weights for {where_explodes_with_n_0_1_weights_holds}, not for "
                        "{where_explodes_with_n_0_1_weights_fails}.").format(
                          where_vanishes_at_standard_init_holds=where('vanishes at standard init', 'holds'),
                          stat_sigmoid_standard=stat['sigmoid', 'standard'].mean,
                          where_vanishes_at_standard_init_fails=where('vanishes at standard init', 'fails'),
                          where_explodes_with_n_0_1_weights_holds=where('explodes with N(0, 1) weights', 'holds'),
                          where_explodes_with_n_0_1_weights_fails=where('explodes with N(0, 1) weights', 'fails')))
        evidence = _evidence(stat, fprime, fprime_large, counts)
        rule = _(RULE).format(vanished=VANISHED, exploded=EXPLODED)
        return [Verdict("A4", status, sentence + " " + rule, numbers, answer=answer,
                        evidence=evidence, rule=rule,
                        depends_on=(_("activation"), _("weight scale")) if status == "depends" else (),
                        agree=agree)]

    @staticmethod
    def _sentence(status, fmt, where, stat, fprime, fprime_large):
        """The long form: the gradient ratios per activation and scale, and where each claim held."""
        sentence = (
            _("At standard init the gradient reaching hidden layer 1 is {sigmoid_standard} "
              "(n={stat_sigmoid_standard} seeds) of the one at layer 10 for sigmoid (mean σ′ "
              "{fprime_sigmoid:.2f} per layer; the note's 0.25⁹ = 3.8e-06), but "
              "{tanh_standard} for tanh and {relu_standard} for ReLU; with N(0, 1) weights it "
              "is {sigmoid_n_0_1} for sigmoid (mean σ′ {fprime_large_sigmoid:.2f}: saturated), "
              "{tanh_n_0_1} for tanh and {relu_n_0_1} for ReLU. Vanishing (ratio < "
              "{vanished:g} in every seed) holds for {where_vanishes_at_standard_init_holds} "
              "and fails for {where_vanishes_at_standard_init_fails}; exploding with large "
              "weights (ratio > {exploded:g}) holds for "
              "{where_explodes_with_n_0_1_weights_holds} and fails for "
              "{where_explodes_with_n_0_1_weights_fails}").format(
                sigmoid_standard=fmt(('sigmoid', 'standard')),
                stat_sigmoid_standard=stat['sigmoid', 'standard'].n,
                fprime_sigmoid=fprime['sigmoid'].mean, tanh_standard=fmt(('tanh', 'standard')),
                relu_standard=fmt(('relu', 'standard')), sigmoid_n_0_1=fmt(('sigmoid', 'N(0,1)')),
                fprime_large_sigmoid=fprime_large['sigmoid'].mean,
                tanh_n_0_1=fmt(('tanh', 'N(0,1)')), relu_n_0_1=fmt(('relu', 'N(0,1)')),
                vanished=VANISHED,
                where_vanishes_at_standard_init_holds=where('vanishes at standard init', 'holds'),
                where_vanishes_at_standard_init_fails=where('vanishes at standard init', 'fails'),
                exploded=EXPLODED,
                where_explodes_with_n_0_1_weights_holds=where('explodes with N(0, 1) weights', 'holds'),
                where_explodes_with_n_0_1_weights_fails=where('explodes with N(0, 1) weights', 'fails'))
            + (_(": it depends on the activation and the weight scale, not on max f′ alone.")
               if status == "depends" else "."))
        return sentence

    def figures(self, results):
        by = group(results, ("activation", "scale"))
        colours = {"sigmoid": "tab:orange", "tanh": "tab:green", "relu": "tab:blue"}
        fig = Figure(figsize=(7.5, 4.6))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, scale in zip(axes, SCALES):
            for a in ACTIVATIONS:
                runs = by[(a, scale)]
                depth = runs[0].spec["depth"]
                d = np.array([r.result["delta"][:depth] for r in runs])
                d = d / d[:, -1:]  # relative to layer 10: the factor back-prop applied
                layers = np.arange(1, depth + 1)
                ax.plot(layers, np.exp(np.log(d).mean(0)), marker="o", ms=3, color=colours[a],
                        label=a)
                if a == "sigmoid":
                    ax.plot(layers, 0.25 ** (depth - layers), ls=":", color="black",
                            label=_("0.25^(10−l) (note 003)"))
                    spec = np.array([r.result["spectral"][1:depth] for r in runs])
                    bound = np.exp(np.log(0.25 * spec).mean(0))  # ‖W_{l+1}‖₂ for l = 1…9
                    ax.plot(layers, np.append(np.cumprod(bound[::-1])[::-1], 1.0), ls="--",
                            color="tab:orange", alpha=0.6, label=_("bound ∏ 0.25‖W‖₂ (sigmoid)"))
            ax.set(yscale="log", xlabel=_("hidden layer l (1 = next to the input)"),
                   title=_("{scale} init").format(scale=scale))
        axes[0].set_ylabel("‖∂L/∂z_l‖ / ‖∂L/∂z_10‖")
        for ax in axes:
            ax.set_xlabel(_("hidden layer l (1 = input side)"))
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
        fig.suptitle(_("Gradient reaching each layer of a 10-layer net"))
        fig.tight_layout(rect=(0, 0.14, 1, 1))
        return [(_("Back-propagated gradient per layer relative to layer 10 (geometric mean "
                   "over seeds). Left: at standard init sigmoid's falls by about 4× per layer, "
                   "on the note's 0.25^L line and under the matrix bound; tanh and ReLU keep "
                   "their size. Right: with N(0, 1) weights ReLU's and tanh's grow towards the "
                   "input (explode) while sigmoid, saturated, still shrinks."), fig)]


def _evidence(stat, fprime, fprime_large, counts) -> list:
    """One row per (activation, weight scale): the layer-1 / layer-10 gradient ratio, the mean
    f′ and how many seeds passed the threshold."""
    return [Row(_("{activation}, {scale} init").format(activation=a, scale=s), {
        _("gradient at layer 1 / layer 10"): stat[(a, s)],
        _("mean f′"): (fprime if s == "standard" else fprime_large)[a],
        _("seeds below {vanished:g}").format(vanished=VANISHED) if s == "standard" else _("seeds above {exploded:g}").format(
                                                                exploded=EXPLODED):
            counts[(a, s)]})
        for s in SCALES for a in ACTIVATIONS]


EXPERIMENT = Vanishing()
