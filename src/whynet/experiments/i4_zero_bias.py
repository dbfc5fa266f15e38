"""I4 — biases may start at zero; weights must not.

Note 001 ("b는 0으로 초기화, w는 random"): symmetry is broken by the weights alone, so zero biases
cost nothing, while zero weights leave every unit of a layer identical (I1). We train the same
[2, 10, 5, 1] ReLU network from four starts — random W and zero b, random W and random b, zero W
and random b, and all zero — on two data sets, and compare distinct units and accuracy.

Why the data set matters for zero W with random biases: the biases make the units different
(ReLU(b_j) differs per unit), so it is not symmetry that stops them. At the start every hidden
unit outputs the constant ReLU(b_j), whatever the input; the first-layer weights then move by
ΔW₁ ∝ Σᵢ δᵢ xᵢᵀ, where the error δᵢ reaching a unit is, early on, the same multiple of the
residual pᵢ − yᵢ for every example. So W₁ moves only as far as the residual correlates
*linearly* with the input. On circles (centred, radially symmetric) that correlation is ≈ 0 and
W₁ stays near 0: no unit ever sees the input. On moons the classes differ in their mean, W₁ grows
and the net learns.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from .. import datasets
from ..nn import mlp
from ..nn.layers import Dense
from ..nn.init import normal
from ..optim import SGD
from ..probes.stats import distinct_units
from ..random import make_rng
from ..train import accuracy, fit
from .base import (Experiment, Row, Tally, Verdict, combine, group, mean_spread, status_word,
                   tally, values)
from .recipes import circles_split

STARTS = {  # name → (weights random?, biases random?); the names are shown as _(name)
    N_("random W, zero b"): (True, False),
    N_("random W, random b"): (True, True),
    N_("zero W, random b"): (False, True),
    N_("zero W, zero b"): (False, False),
}
DATASETS = ("circles", "moons")
COST = 0.05  # zero biases may cost at most 5 points of test accuracy against random biases
MARGIN = 0.2  # a zero-weight start "fails to learn" when it trails by more than 20 points
ESCAPED = 0.1  # ‖W₁‖ above this at the end: the first layer left its zero start


def data_split(name: str, seed: int):
    """(X, y, X_test, y_test): circles as in I1, or moons (noise 0.2), 300 train / 100 test."""
    if name == "circles":
        return circles_split(seed)
    data = datasets.moons(n=400, noise=0.2, seed=seed)
    return data.X[:300], data.y[:300], data.X[300:], data.y[300:]


def linear_signal(X: np.ndarray, y: np.ndarray) -> float:
    """‖mean((y − ȳ)·x)‖: how far the labels correlate linearly with the inputs, the direction
    the first step of zero first-layer weights can take."""
    X = X.astype(np.float64)
    return float(np.linalg.norm(((y - y.mean())[:, None] * (X - X.mean(0))).mean(0)))


def build(start: str, seed: int):
    """The I1 network with weights He-normal or zero, biases N(0, 0.1²) or zero."""
    weights_random, biases_random = STARTS[start]
    model = mlp([2, 10, 5, 1], activation="relu", init=None if weights_random else "zeros",
                seed=seed, dtype=np.float64)
    rng = make_rng(seed + 1)
    for layer in model.layers:
        if isinstance(layer, Dense) and biases_random:
            layer.b.value[:] = normal(std=0.1)(layer.b.shape, rng, np.float64)
    return model


class ZeroBias(Experiment):
    id = "i4"
    questions = ("I4",)
    title = N_("Zero biases vs zero weights")
    question = N_("May biases start at zero while weights must not?")
    what = (N_("The [2, 10, 5, 1] ReLU net of I1 on circles and on moons (noise 0.2; 300 train / 100 "
            "test each), trained in float64 by full-batch gradient descent with momentum 0.9 "
            "(lr 0.1) from four starts: He weights with zero or N(0, 0.1²) biases, zero weights "
            "with N(0, 0.1²) biases, and all zero. We report test accuracy, the distinct units of "
            "hidden layer 1 and ‖W₁‖ at the end, and each data set's linear signal "
            "‖mean((y − ȳ)·x)‖."))
    seeds_quick = 3
    seeds_full = 10
    version = 2

    def grid(self, quick: bool) -> list[dict]:
        return [{"data": d, "start": s, "steps": 600 if quick else 2000}
                for d in DATASETS for s in STARTS]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, Xt, yt = data_split(spec.get("data", "circles"), seed)
        model = build(spec["start"], seed)
        h = fit(model, X, y, loss="bce", optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9),
                epochs=spec["steps"], batch_size=len(X), seed=seed, progress=False)
        first = model.layers[0]
        return {"test_acc": accuracy(model, Xt, yt, "bce"), "train_acc": accuracy(model, X, y, "bce"),
                "distinct_layer1": distinct_units(first.W.value, first.b.value),
                "w1_norm": float(np.linalg.norm(first.W.value)),
                "linear_signal": linear_signal(X, y),
                "loss": h.epochs["loss"][:: max(1, spec["steps"] // 100)]}

    def _per_data(self, results):
        out = {}
        for data, runs in group(results, lambda r: r.spec.get("data", "circles")).items():
            by = group(runs, "start")
            zb, rb = by["random W, zero b"], by["random W, random b"]
            zw, zz = by["zero W, random b"], by["zero W, zero b"]
            bias_ok = [a.result["test_acc"] >= b.result["test_acc"] - COST
                       and a.result["distinct_layer1"] == 10 for a, b in zip(zb, rb)]
            weights_needed = [a.result["test_acc"] > w.result["test_acc"] + MARGIN
                              and a.result["test_acc"] > z.result["test_acc"] + MARGIN
                              for a, w, z in zip(zb, zw, zz)]
            out[data] = {"by": by, "bias": tally(bias_ok), "weights": tally(weights_needed),
                         "tally": tally([b and w for b, w in zip(bias_ok, weights_needed)])}
        return out

    def verdicts(self, results):
        per = self._per_data(results)
        status = combine(p["tally"].status for p in per.values())
        agree = Tally(status, sum(p["tally"].agree for p in per.values()),
                      sum(p["tally"].n for p in per.values()))
        rows, parts, numbers = [], [], {}
        for data, p in per.items():
            by = p["by"]
            signal = mean_spread(values(by["random W, zero b"], "linear_signal"))
            for start, runs in by.items():
                acc = mean_spread(values(runs, "test_acc"))
                numbers[f"{data}: test accuracy, {start}"] = acc
                rows.append(Row(f"{data}, {_(start)}", {
                    _("test accuracy"): acc,
                    _("distinct units, layer 1 (of 10)"): mean_spread(values(runs,
                                                                          "distinct_layer1")),
                    _("‖W₁‖ at the end"): mean_spread(values(runs, "w1_norm"))}))
            numbers[f"{data}: linear signal ‖mean((y − ȳ)x)‖"] = signal
            acc = {k: mean_spread(values(v, "test_acc")) for k, v in by.items()}
            parts.append(
                _("{data} (linear signal {signal_3f}): random W with zero b "
                  "{acc_random_w_zero_b}, with random b {acc_random_w_random_b}; zero W with "
                  "random b {acc_zero_w_random_b} (‖W₁‖ = {mean_spread_values_by} at the end); "
                  "all zero {acc_zero_w_zero_b} — zero biases harmless: {p_bias_status} "
                  "({p_bias}), weights must be random: {p_weights_status} ({p_weights})").format(
                    data=data, signal_3f=signal.fmt('.3f'),
                    acc_random_w_zero_b=acc['random W, zero b'].fmt('.0%'),
                    acc_random_w_random_b=acc['random W, random b'].fmt('.0%'),
                    acc_zero_w_random_b=acc['zero W, random b'].fmt('.0%'),
                    mean_spread_values_by=mean_spread(values(by['zero W, random b'], 'w1_norm')),
                    acc_zero_w_zero_b=acc['zero W, zero b'].fmt('.0%'),
                    p_bias_status=status_word(p['bias'].status), p_bias=p['bias'],
                    p_weights_status=status_word(p['weights'].status), p_weights=p['weights']))
        sig = {d: mean_spread(values(p["by"]["random W, zero b"], "linear_signal")).mean
               for d, p in per.items()}
        escaped = {d: sum(r.result["w1_norm"] > ESCAPED for r in p["by"]["zero W, random b"])
                   for d, p in per.items()}
        n_seeds = {d: len(p["by"]["zero W, random b"]) for d, p in per.items()}
        bias_fine = all(p["bias"].status == "holds" for p in per.values())
        answer = ((_("Zero biases are harmless. ") if bias_fine else _("Zero biases cost accuracy "
                                                                    "somewhere (see evidence). "))
                  + _("Zero weights, random biases: W₁ left zero in ")
                  + ", ".join(_("{escaped_d}/{n_seeds_d} seeds on {d}").format(
                                  escaped_d=escaped[d], n_seeds_d=n_seeds[d], d=d) for d in per)
                  + _(", moved only by the inputs' linear signal."))
        numbers.update({f"{d}: seeds where W₁ left 0 (‖W₁‖ > {ESCAPED:g}), zero W random b":
                        f"{escaped[d]} of {n_seeds[d]}" for d in per})
        rule = (_("Per data set, holds when in every seed zero biases cost under "
                  "{cost_100:.0f} points against random biases and keep all 10 units distinct, "
                  "and random W with zero b beats both zero-W starts (random or zero b) by "
                  "more than {margin_100:.0f} points; holds on some data sets and fails on "
                  "others → depends on the data set.").format(
                    cost_100=COST * 100, margin_100=MARGIN * 100))
        sentence = self._sentence(rule, sig, parts)
        return [Verdict("I4", status, sentence, numbers, answer=answer, evidence=rows,
                        rule=rule, depends_on=(_("data set"),) if status == "depends" else (),
                        agree=agree)]

    @staticmethod
    def _sentence(rule, sig, parts):
        """The long form: per data set, then zero weights with random biases."""
        sentence = ("; ".join(parts) + _(". With W = 0 and random biases the units differ (no "
                                         "symmetry), but each outputs a constant; W₁ then "
                                         "moves only by the linear correlation of the residual "
                                         "with the input, ≈ 0 on circles ")
                    + (f"({sig.get('circles', float('nan')):.3f}) " if "circles" in sig else "")
                    + _("and clearly non-zero on moons ")
                    + (f"({sig.get('moons', float('nan')):.3f})" if "moons" in sig else "")
                    + _(". The upper weights start at 0 too, so W₁'s growth is second order: a "
                        "saddle the net leaves slowly, and only where there is a linear signal "
                        "to follow. With every weight and bias zero the ReLU net is frozen "
                        "(I1). ")
                    + rule)
        return sentence

    def figures(self, results):
        per = self._per_data(results)
        fig = Figure(figsize=(7.2, 3.0 * len(per) + 0.4))
        axes = np.atleast_1d(fig.subplots(len(per), 1))
        for ax, (data, p) in zip(axes, per.items()):
            for key, runs in p["by"].items():
                curve = np.mean([r.result["loss"] for r in runs], axis=0)
                ax.plot(np.linspace(0, runs[0].spec["steps"], len(curve)), curve, label=_(key))
            ax.set(title=_("{data}: training loss from four starts (mean over seeds)").format(
                             data=data),
                   xlabel=_("step"), ylabel=_("BCE loss"))
            ax.legend(fontsize=9, ncol=2)
        fig.tight_layout()
        return [(_("Zero biases train as well as random ones on both data sets. Zero weights "
                   "with random biases stay at ln 2 on circles (no linear signal) but learn on "
                   "moons; all-zero weights and biases never move."), fig)]


EXPERIMENT = ZeroBias()
