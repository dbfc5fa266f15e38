"""I2 — small random weights vanish with depth, large ones saturate tanh, Xavier keeps the spread.

Notes 001 and 004 (cs231n lecture 6, p43–48): ``W = 0.01·randn`` works for a shallow net, but in a
deep tanh net the activations shrink towards zero layer after layer; ``W = randn`` saturates every
unit at ±1; Xavier (``randn / √fan_in``) keeps them spread. We repeat the lecture's demonstration:
a 10-layer tanh net fed unit Gaussian inputs, one forward pass, the statistics of every layer.
The same forward statistics for a ReLU net are in I3.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .base import Experiment, Row, Verdict, group, mean_spread, tally
from .figures import histogram_figure
from .recipes import layer_statistics

class InitScale(Experiment):
    id = "i2"
    questions = ("I2",)
    title = N_("Weight scale in a deep tanh net")
    question = (N_("Do small random weights (×0.01) make activations vanish with depth, and ×1 "
                "saturate tanh, while Xavier keeps them spread?"))
    what = (N_("A 10-layer tanh network (all layers width×width, zero biases) is fed a batch of unit "
            "Gaussian inputs with weights drawn as 0.01·N(0,1), N(0,1), or Xavier N(0, 1/fan_in) "
            "(cs231n's randn/√fan_in). One forward pass; per layer we record the activations' "
            "mean, standard deviation, the fraction saturated (|a| > 0.99) and a histogram."))
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        width, batch = (256, 500) if quick else (500, 1000)
        return [{"activation": "tanh", "init": init, "depth": 10, "width": width, "batch": batch}
                for init in ("×0.01", "×1", "Xavier")]

    def run(self, spec: dict, seed: int) -> dict:
        return layer_statistics(spec["activation"], spec["init"], spec["depth"], spec["width"],
                                spec["batch"], seed)

    def verdicts(self, results):
        by = group(results, "init")
        small, large, xavier = by["×0.01"], by["×1"], by["Xavier"]
        flags = []
        for s, l, x in zip(small, large, xavier):
            vanishes = s.result["std"][-1] < 1e-3 * s.result["std"][0]
            saturates = min(l.result["saturated"][1:]) > 0.5
            spread = (x.result["std"][-1] > 0.1 * x.result["std"][0]
                      and max(x.result["saturated"]) < 0.2)
            flags.append(vanishes and saturates and spread)
        small_last = mean_spread([r.result["std"][-1] for r in small])
        small_first = mean_spread([r.result["std"][0] for r in small])
        large_sat = mean_spread([np.mean(r.result["saturated"][1:]) for r in large])
        x_first = mean_spread([r.result["std"][0] for r in xavier])
        x_last = mean_spread([r.result["std"][-1] for r in xavier])
        t = tally(flags)
        rows = [Row(_("{init} weights").format(init=k), {
            _("std, layer 1"): mean_spread([r.result["std"][0] for r in runs]),
            _("std, layer 10"): mean_spread([r.result["std"][-1] for r in runs]),
            _("saturated (|a| > 0.99), layers 2–10"): mean_spread(
                [np.mean(r.result["saturated"][1:]) for r in runs])}) for k, runs in by.items()]
        rule = (_("Holds when, in every seed, ×0.01's last-layer std is below 1/1000 of its "
                  "first, ×1 saturates over half the units of every layer after the first, and "
                  "Xavier keeps the last std above 1/10 of the first with saturation < 20%."))
        answer = (_("Yes: with ×0.01 weights a 10-layer tanh net's activations shrink to "
                    "almost nothing, with ×1 most units saturate near 1 or −1, and Xavier "
                    "keeps them spread.")
                  if t.status == "holds" else
                  _("Not in every seed ({t}): see the evidence per initialisation.").format(t=t))
        sentence = (_("×0.01: activation std falls from {small_first} in layer 1 to "
                      "{small_last} in layer 10; ×1: {large_sat} of units in layers 2–10 are "
                      "saturated (|a| > 0.99); Xavier: std {x_first} → {x_last}, still spread. "
                      "Holds when, in every seed, ×0.01's last-layer std is below 1/1000 of "
                      "its first, ×1 saturates over half the units of every layer after the "
                      "first, and Xavier keeps the last std above 1/10 of the first with "
                      "saturation < 20%.").format(
                        small_first=small_first, small_last=small_last,
                        large_sat=large_sat.fmt('.0%'), x_first=x_first, x_last=x_last))
        return [Verdict("I2", t.status, sentence, answer=answer, evidence=rows, rule=rule,
                        agree=t, numbers={
            "×0.01 std, layer 1": small_first, "×0.01 std, layer 10": small_last,
            "×1 saturated fraction, layers 2–10": large_sat,
            "Xavier std, layer 1": x_first, "Xavier std, layer 10": x_last})]

    def figures(self, results):
        by = group(results, "init")
        hist = histogram_figure(by, _("10-layer tanh net: activations per layer"))
        fig = Figure(figsize=(6.0, 3.2))
        ax = fig.subplots()
        for key, runs in by.items():
            stds = np.array([r.result["std"] for r in runs])
            ax.plot(np.arange(1, stds.shape[1] + 1), stds.mean(0), marker="o", label=key)
        ax.set(yscale="log", xlabel=_("layer"), ylabel=_("activation std (log)"),
               title=_("Activation spread with depth (tanh)"))
        ax.legend(fontsize=9)
        fig.tight_layout()
        return [(_("Histograms of each layer's activations: ×0.01 collapses to a spike at 0, "
                   "×1 piles up at ±1 (saturated), Xavier stays spread."), hist),
                (_("Standard deviation of the activations per layer (mean over seeds)."), fig)]


EXPERIMENT = InitScale()
