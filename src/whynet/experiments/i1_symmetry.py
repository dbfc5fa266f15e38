"""I1 — zero initialisation keeps hidden units identical, so many units act as one.

Note 001 (deeplearning.ai course 1, "Random initialization"): with W = 0 every hidden unit of a
layer computes the same function, receives the same gradient and so stays the same after any
number of updates. We train the initialisation assignment's network [2, 10, 5, 1] on circles with
zero weights for ReLU, tanh and sigmoid hidden units, and with He weights for ReLU, and count the
distinct hidden units as training goes.

Why the mechanism depends on the activation: with W = 0 and b = 0 every hidden pre-activation is
0. ReLU(0) = tanh(0) = 0, so every hidden activation is 0; the gradient of a weight is (the error
at its output unit) × (its input activation), and for every weight one of the two factors is 0
(the error reaching a hidden unit passes through the zero weights above it). Every weight
gradient is exactly 0: nothing moves but the output bias, and the net predicts a constant. This
is a frozen net, not symmetry. σ(0) = ½ ≠ 0, so with sigmoid units the upper weights do receive
gradients: the units move, but as identical copies, which is symmetry.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import N_, _
from ..nn import mlp
from ..nn.layers import Dense
from ..probes.stats import distinct_units
from ..optim import SGD
from ..train import Every, accuracy, fit
from .base import (Experiment, Published, Row, Tally, Verdict, combine, group, mean_spread,
                   status_word, tally, values)
from .recipes import circles_split

ACTIVATIONS = ("relu", "tanh", "sigmoid")
MARGIN = 0.2  # random init must beat zero init by more than 20 points of test accuracy


def hidden_dense(model) -> list[Dense]:
    """The Dense layers that feed a hidden activation (all but the output layer)."""
    return [m for m in model.layers if isinstance(m, Dense)][:-1]


def _denoise(a: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Entries below ``floor`` set to 0. A zero-initialised layer on balanced data only collects
    BLAS rounding noise (~1e-18), which a *relative* tolerance would count as distinct units."""
    return np.where(np.abs(a) < floor, 0, a)


def distinct_counter(layers):
    """``fn(step, ctx)`` for :class:`whynet.train.Every`: the distinct units of every layer (the
    probes' :func:`~whynet.probes.stats.distinct_units`, one definition for the project)."""
    return lambda step, ctx: [distinct_units(_denoise(d.W.value), _denoise(d.b.value))
                              for d in layers]


def mechanism(result: dict) -> str:
    """How a zero-initialised run stayed put: ``frozen`` (no weight moved at all), ``symmetric``
    (weights moved, one distinct unit per layer) or ``broken`` (more than one distinct unit)."""
    if any(c > 1 for c in result["final_distinct"]):
        return N_("broken")  # N_: the mechanism is data; it is translated where shown
    return N_("frozen") if result["weights_moved"] == 0.0 else N_("symmetric")


class Symmetry(Experiment):
    id = "i1"
    questions = ("I1",)
    title = N_("Zero initialisation and symmetry")
    question = N_("Does zero initialisation keep all hidden units of a layer identical?")
    what = (N_("The deeplearning.ai initialisation assignment's network [2, 10, 5, 1] (sigmoid output "
            "with binary cross-entropy) with ReLU, tanh or sigmoid hidden units is trained on "
            "circles (300 train, 100 test, noise 0.05) by full-batch gradient descent with "
            "momentum 0.9 (lr 0.1), with every weight and bias zero (ReLU, tanh, sigmoid) and, "
            "as the baseline, a ReLU net with He weights. Every 20 steps we count the "
            "distinct units of each hidden layer (rows of [W | b] equal to a relative tolerance "
            "of 1e-4), in float64; at the end, the largest distance any weight moved from its "
            "start (exactly 0 means frozen)."))
    seeds_quick = 3
    seeds_full = 10
    version = 2

    def grid(self, quick: bool) -> list[dict]:
        steps = 600 if quick else 2000
        runs = [(act, "zeros") for act in ACTIVATIONS] + [("relu", "random")]
        return [{"activation": act, "init": init, "steps": steps, "lr": 0.1, "momentum": 0.9}
                for act, init in runs]

    def run(self, spec: dict, seed: int) -> dict:
        X, y, Xt, yt = circles_split(seed)
        init = "zeros" if spec["init"] == "zeros" else None  # None: He for ReLU, else Xavier
        # float64: on balanced data the gradients of a symmetric layer are sums that nearly cancel,
        # and float32 BLAS rounding (different for the remainder rows of a SIMD kernel) would
        # break the symmetry at the 1e-4 level: a numerical accident, not learning.
        model = mlp([2, 10, 5, 1], activation=spec["activation"], init=init, seed=seed,
                    dtype=np.float64)
        dense = [m for m in model.layers if isinstance(m, Dense)]
        start = [d.W.value.copy() for d in dense]
        counter = Every(20, distinct_counter(hidden_dense(model)))
        optimizer = SGD(model.parameters(), lr=spec["lr"], momentum=spec["momentum"])
        history = fit(model, X, y, loss="bce", optimizer=optimizer,
                      epochs=spec["steps"], batch_size=len(X), seed=seed, callbacks=[counter],
                      progress=False)
        counts = np.array(counter.values)
        moved = max(float(np.max(np.abs(d.W.value - w0))) for d, w0 in zip(dense, start))
        return {"steps": counter.steps, "distinct": counts.tolist(),
                "final_distinct": counts[-1].tolist(), "widths": [10, 5],
                "weights_moved": moved,
                "loss": history.epochs["loss"][:: max(1, spec["steps"] // 100)],
                "loss_first": history.epochs["loss"][0], "loss_last": history.epochs["loss"][-1],
                "train_acc": accuracy(model, X, y, "bce"), "test_acc": accuracy(model, Xt, yt, "bce")}

    def _per_activation(self, results):
        """Per activation, each seed's zero-init run against the He-initialised ReLU net of the
        same seed (the assignment's baseline; a sigmoid net trains too slowly at this lr for its
        own random init to be a fair yardstick)."""
        by = group(results, ("activation", "init"))
        base = {r.seed: r for r in by.get(("relu", "random"), [])}
        out = {}
        for act in ACTIVATIONS:
            zero = [z for z in by.get((act, "zeros"), []) if z.seed in base]
            if not zero:
                continue
            flags = [all(c == 1 for c in z.result["final_distinct"])
                     and base[z.seed].result["test_acc"] > z.result["test_acc"] + MARGIN
                     for z in zero]
            kinds = sorted({mechanism(z.result) for z in zero})
            out[act] = {"tally": tally(flags), "zero": zero,
                        "mechanism": kinds[0] if len(kinds) == 1 else "/".join(kinds)}
        return out, list(base.values())

    def verdicts(self, results):
        per, rand = self._per_activation(results)
        status = combine(p["tally"].status for p in per.values())
        n = sum(p["tally"].n for p in per.values())
        # each activation's seeds agree with that activation's own status
        agree = Tally(status, sum(p["tally"].agree for p in per.values()), n)
        rows, parts = [], []
        words = {"frozen": _("frozen (every weight gradient exactly 0, nothing moves)"),
                 "symmetric": _("symmetric (the weights move, every unit as the same copy)"),
                 "broken": _("symmetry broken")}
        ra = mean_spread(values(rand, "test_acc"))
        for act, p in per.items():
            z = p["zero"]
            za = mean_spread(values(z, "test_acc"))
            rows.append(Row(_("{act}, zero init").format(act=act), {
                _("distinct units, layer 1 (of 10)"): mean_spread(
                    [x.result["final_distinct"][0] for x in z]),
                _("distinct units, layer 2 (of 5)"): mean_spread(
                    [x.result["final_distinct"][1] for x in z]),
                _("largest weight change"): mean_spread(values(z, "weights_moved")),
                _("test accuracy"): za,
                _("mechanism"): "/".join(_(k) for k in p["mechanism"].split("/"))}))
            parts.append(_("{act} {words_get_p}, test accuracy {za} ({p_tally_status}, "
                           "{p_tally})").format(
                             act=act, words_get_p=words.get(p['mechanism'], p['mechanism']),
                             za=za.fmt('.0%'), p_tally_status=status_word(p['tally'].status),
                             p_tally=p['tally']))
        rows.append(Row(_("relu, He init"), {
            _("distinct units, layer 1 (of 10)"): mean_spread(
                [x.result["final_distinct"][0] for x in rand]),
            _("distinct units, layer 2 (of 5)"): mean_spread(
                [x.result["final_distinct"][1] for x in rand]),
            _("largest weight change"): mean_spread(values(rand, "weights_moved")),
            _("test accuracy"): ra}))
        frozen = [a for a, p in per.items() if p["mechanism"] == "frozen"]
        symmetric = [a for a, p in per.items() if p["mechanism"] == "symmetric"]
        if status == "holds":
            answer = (_("Yes, one distinct unit per layer, but {and_join_frozen} stay "
                        "identical because nothing moves (all weight gradients are 0); only "
                        "{and_join_symmetric} shows true symmetry.").format(
                          and_join_frozen=_(' and ').join(frozen) or _('none'),
                          and_join_symmetric=_(' and ').join(symmetric) or _('none')))
        else:
            each = ", ".join(f"{a} {status_word(p['tally'].status)}" for a, p in per.items())
            answer = _("Not for every activation ({each}); see the evidence per activation.").format(
                         each=each)
        rule = (_("Per activation, holds when in every seed the zero-initialised net ends with "
                  "one distinct unit per hidden layer and the He-initialised ReLU net beats it "
                  "by more than {margin_100:.0f} points of test accuracy; all hold → holds, "
                  "mixed → depends on the activation. Mechanism: 'frozen' when no weight moved "
                  "at all, 'symmetric' when weights moved yet stayed identical.").format(
                    margin_100=MARGIN * 100))
        sentence = self._sentence(rule, parts, ra)
        numbers = {f"test accuracy, {act} zero init": mean_spread(values(p["zero"], "test_acc"))
                   for act, p in per.items()}
        numbers["test accuracy, relu He init"] = ra
        numbers.update({f"mechanism, {act} zero init": p["mechanism"] for act, p in per.items()})
        return [Verdict("I1", status, sentence, numbers, answer=answer, evidence=rows, rule=rule,
                        depends_on=(_("activation"),) if status == "depends" else (),
                        agree=agree)]

    @staticmethod
    def _sentence(rule, parts, ra):
        """The long form: what each zero-initialised net did, against He-initialised ReLU."""
        sentence = (_("With every weight and bias zero: ") + "; ".join(parts) + _("; "
                                                                               "He-initialised "
                                                                               "ReLU net {ra}. "
                                                                               "With ReLU and "
                                                                               "tanh, f(0) = 0 "
                                                                               "makes every "
                                                                               "hidden "
                                                                               "activation 0, "
                                                                               "and each "
                                                                               "weight's "
                                                                               "gradient is a "
                                                                               "product with a "
                                                                               "zero factor, "
                                                                               "so only the "
                                                                               "output bias "
                                                                               "learns and the "
                                                                               "net predicts "
                                                                               "the base rate: "
                                                                               "the units are "
                                                                               "identical "
                                                                               "because "
                                                                               "nothing moves, "
                                                                               "not because "
                                                                               "identical "
                                                                               "units get "
                                                                               "identical "
                                                                               "updates. With "
                                                                               "sigmoid, σ(0) "
                                                                               "= ½, the upper "
                                                                               "weights "
                                                                               "receive "
                                                                               "gradients and "
                                                                               "all units move "
                                                                               "together: that "
                                                                               "is symmetry. ").format(
                                                                                 ra=ra.fmt('.0%')) + rule)
        return sentence

    def published(self, results):
        by = group(results, ("activation", "init"))
        z, r = by[("relu", "zeros")], by[("relu", "random")]
        return [Published(
            "I1", _("deeplearning.ai course 2, week 1: Initialization assignment"),
            _("zeros: 50% train, 50% test; He: 99% train, 96% test"),
            _("zeros: {mean_spread_values_z} train, {mean_spread_values_z_2} test; He: "
              "{mean_spread_values_train_acc} train, {mean_spread_values_test_acc} test").format(
                mean_spread_values_z=mean_spread(values(z, 'train_acc')).fmt('.0%'),
                mean_spread_values_z_2=mean_spread(values(z, 'test_acc')).fmt('.0%'),
                mean_spread_values_train_acc=mean_spread(values(r, 'train_acc')).fmt('.0%'),
                mean_spread_values_test_acc=mean_spread(values(r, 'test_acc')).fmt('.0%')),
            _("Same network and data recipe; we train by full-batch GD with momentum 0.9 at lr "
              "0.1 for {spec_steps} steps instead of plain GD at lr 0.01 for 15,000 iterations.").format(
                spec_steps=r[0].spec['steps']))]

    def figures(self, results):
        by = group(results, ("activation", "init"))
        fig = Figure(figsize=(7.2, 6.0))
        ax1, ax2 = fig.subplots(2, 1)
        colours = {"relu": "tab:red", "tanh": "tab:green", "sigmoid": "tab:orange"}
        for (act, init), runs in by.items():
            r = runs[0].result
            counts = np.array(r["distinct"])
            style = "-" if init == "zeros" else "--"
            label = (_("{act}, zero init") if init == "zeros" else _("{act}, random init")).format(act=act)
            ax1.plot(r["steps"], counts[:, 0], style, color=colours[act], label=label)
            ax2.plot(np.linspace(0, runs[0].spec["steps"], len(r["loss"])), r["loss"], style,
                     color=colours[act], label=label)
        ax1.set(title=_("Distinct units in hidden layer 1 (of 10), seed 0"), xlabel=_("step"),
                ylabel=_("distinct units"), ylim=(0, 11))
        ax2.set(title=_("Training loss, seed 0"), xlabel=_("step"), ylabel=_("BCE loss"))
        ax1.legend(fontsize=9, ncol=3, loc="center right")
        fig.tight_layout()
        return [(_("Zero init (solid) leaves one distinct unit per layer for the whole run; "
                   "random init (dashed) keeps the units distinct and learns. With ReLU and "
                   "tanh the zero net is frozen (its loss stays at ln 2 = 0.693); with sigmoid "
                   "it moves, as one unit."), fig)]


EXPERIMENT = Symmetry()
