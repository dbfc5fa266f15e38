"""A1 — non-zero-centred inputs make a neuron's weight gradients share one sign (zig-zag updates).

Notes 000 (Q1), 002 and 004 (cs231n lecture 6, p21 and p36): for a neuron with inputs a_k,
∂L/∂w_k = δ·a_k, so if every a_k > 0 (sigmoid or ReLU outputs) all its incoming-weight gradients
have the sign of δ: the weights can only all grow or all shrink together, and reaching a target in
a mixed direction takes a zig-zag. tanh outputs have both signs.

We watch the hidden layer *fed* by the activation under test in a [2, 8, 8, 1] net on moons: per
neuron, the fraction of steps whose incoming-weight gradients all share one sign (the probes'
``same_sign_units``), the direction of each update of two of its weights, and the steps to a target
loss. Two controls separate zero-centring from everything else that differs between sigmoid and
tanh (sigmoid′ ≤ ¼, tanh′ ≤ 1): "sigmoid − ½" (zero-centred, sigmoid's derivative) and "tanh + 1"
(outputs in (0, 2), tanh's derivative), built by adding a constant after the activation. With the
same seed, "tanh + 1" starts from exactly the weights of "tanh", and "sigmoid − ½" from sigmoid's.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import datasets
from ..nn import Dense, Module, Sequential, mlp
from ..nn.losses import BCEWithLogits
from ..optim import SGD
from ..probes import stats
from ..train import Callback, fit
from .recipes import gradient_ratios
from .base import Correction, Experiment, Verdict, decide, group, mean_spread

# feed name → (activation of hidden layer 1, constant added to its output)
FEEDS = {"sigmoid": ("sigmoid", 0.0), "sigmoid − ½": ("sigmoid", -0.5),
         "tanh": ("tanh", 0.0), "tanh + 1": ("tanh", 1.0)}
NOT_CENTRED = ("sigmoid", "tanh + 1")
CENTRED = ("sigmoid − ½", "tanh")
TARGET_LOSS = 0.25  # moons (noise 0.2): a linear model stops near 0.30, the nets reach ~0.1
ANGLE_BINS = 36


class Shift(Module):
    """f(x) = x + c; f′ = 1. Moves an activation's mean without touching its derivative."""

    def __init__(self, c: float):
        super().__init__()
        self.c = float(c)

    def forward(self, x):
        return x + x.dtype.type(self.c)

    def backward(self, dout):
        return dout

    def extra_repr(self) -> str:
        return f"c={self.c:g}"


def build(feed: str, seed: int) -> Sequential:
    """[2, 8, 8, 1]: hidden layer 1 is the feed (plus its shift), hidden layer 2 is tanh."""
    act, shift = FEEDS[feed]
    model = mlp([2, 8, 8, 1], activation=[act, "tanh"], seed=seed)
    if shift:
        layers = model.layers
        model = Sequential(layers[0], layers[1], Shift(shift), *layers[2:])
    return model


class ZigZag(Callback):
    """Per step: which units of ``layer`` have one-signed incoming gradients, the update of
    weights (0, 1) of every unit, and every ``every`` steps the loss on the whole training set."""

    def __init__(self, layer: Dense, X, y, every: int, keep: int):
        self.layer, self.X, self.y, self.every, self.keep = layer, X, y, every, keep
        self.same_sign: list[np.ndarray] = []
        self.moves: list[np.ndarray] = []
        self.path = [layer.W.value[0, :2].astype(np.float64).tolist()]
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.loss_fn = BCEWithLogits()

    def record_loss(self, step, model):
        self.steps.append(step)
        self.losses.append(float(self.loss_fn.forward(model.predict(self.X), self.y)))

    def on_train_begin(self, ctx):
        self.record_loss(0, ctx.model)

    def on_before_update(self, step, ctx):
        self.same_sign.append(stats.same_sign_units(self.layer.W.grad))
        self._before = self.layer.W.value[:, :2].copy()

    def on_step_end(self, step, loss, ctx):
        self.moves.append(self.layer.W.value[:, :2] - self._before)
        if len(self.path) <= self.keep:
            self.path.append(self.layer.W.value[0, :2].astype(np.float64).tolist())
        if step % self.every == 0:
            self.record_loss(step, ctx.model)


def steps_to(steps, losses, target: float):
    """First recorded step with loss ≤ target, or None if never."""
    return next((s for s, v in zip(steps, losses) if v <= target), None)


class ZeroCentring(Experiment):
    id = "a1"
    questions = ("A1",)
    title = "Zero-centred inputs and zig-zag updates"
    question = ("Do non-zero-centred inputs (sigmoid outputs) make all of a neuron's weight "
                "gradients share one sign, so updates zig-zag and learning slows?")
    what = ("A [2, 8, 8, 1] net on moons (200 points, noise 0.2, standardised), binary "
            "cross-entropy, plain SGD. Hidden layer 1 is the feed under test: sigmoid, tanh, and "
            "the controls sigmoid − ½ (centred, sigmoid's derivative) and tanh + 1 (not centred, "
            "tanh's derivative); hidden layer 2 (tanh) is the layer watched. Per step and per "
            "unit of layer 2: whether all 8 incoming-weight gradients share one sign, and the "
            "move of two of its weights. Per example (batch 1, lr 0.3, 6 epochs) and with "
            "minibatches (batch 32, lr 2, 150 epochs): the fraction of one-signed steps and the "
            f"steps until the training loss falls below {TARGET_LOSS}. Also, for the correction "
            "of note 002: tanh's saturation in a deep net (experiment A4's measurement).")
    seeds_quick = 3
    seeds_full = 10

    def grid(self, quick: bool) -> list[dict]:
        specs = [{"part": "per-example", "feed": f, "batch_size": 1, "lr": 0.3, "epochs": 6}
                 for f in FEEDS]
        specs += [{"part": "minibatch", "feed": f, "batch_size": 32, "lr": 2.0, "epochs": 150}
                  for f in FEEDS]
        specs += [{"part": "saturation", "activation": "tanh", "scale": s, "depth": 10,
                   "width": 64, "batch": 256} for s in ("standard", "N(0,1)")]
        return specs

    def run(self, spec: dict, seed: int) -> dict:
        if spec["part"] == "saturation":
            r = gradient_ratios({k: spec[k] for k in ("activation", "scale", "depth", "width", "batch")},
                       seed)
            return {"fprime": r["fprime"], "saturated": r["saturated"],
                    "delta_ratio": r["delta_ratio"]}
        data = datasets.moons(n=200, noise=0.2, seed=seed)
        X, = datasets.standardize(data.X)[:1]
        y = data.y
        model = build(spec["feed"], seed)
        watched = [m for m in model.layers if isinstance(m, Dense)][1]
        per_example = spec["batch_size"] == 1
        watch = ZigZag(watched, X, y, every=20 if per_example else 10, keep=200)
        history = fit(model, X, y, loss="bce", optimizer=SGD(model.parameters(), lr=spec["lr"]),
                      epochs=spec["epochs"], batch_size=spec["batch_size"], seed=seed,
                      callbacks=[watch], progress=False)
        same = np.array(watch.same_sign)            # (steps, units)
        moves = np.array(watch.moves)               # (steps, units, 2)
        # both weights moved (a float32 update below half an ulp of w leaves w unchanged)
        moving = np.all(moves != 0, axis=2)
        together = (np.sign(moves[..., 0]) == np.sign(moves[..., 1]))[moving]  # quadrants I, III
        angles = np.degrees(np.arctan2(moves[..., 1], moves[..., 0]))[moving]
        hist = np.histogram(angles, bins=ANGLE_BINS, range=(-180, 180))[0]
        stride = max(1, len(watch.steps) // 150)
        return {"agreement": float(same.mean()), "agreement_per_unit": same.mean(0).tolist(),
                "same_direction": float(together.mean()), "angle_hist": hist.tolist(),
                "path": watch.path, "total_steps": len(same),
                "steps_to_target": steps_to(watch.steps, watch.losses, TARGET_LOSS),
                "loss_steps": watch.steps[::stride], "loss": watch.losses[::stride],
                "final_loss": watch.losses[-1], "diverged": history.diverged}

    # -- evaluation -----------------------------------------------------------------------------
    @staticmethod
    def _parts(results):
        runs = [r for r in results if r.spec["part"] != "saturation"]
        return group(runs, ("part", "feed"))

    @staticmethod
    def _steps(runs) -> dict[int, int]:
        """Seed → steps to the target; a run that never got there counts its total (a lower
        bound)."""
        return {r.seed: r.result["steps_to_target"] if r.result["steps_to_target"] is not None
                else r.result["total_steps"] for r in runs}

    def verdicts(self, results):
        by = self._parts(results)
        agree = {k: {r.seed: r.result["agreement"] for r in runs} for k, runs in by.items()}
        steps = {k: self._steps(runs) for k, runs in by.items()}
        seeds = sorted(set.intersection(*(set(v) for v in (*agree.values(), *steps.values()))))
        flags = []
        for i in seeds:  # paired by seed: same data, same initial weights
            one_sign = (min(agree[("per-example", f)][i] for f in NOT_CENTRED)
                        > max(agree[("per-example", f)][i] for f in CENTRED) + 0.2)
            slower = steps[("minibatch", "sigmoid")][i] > steps[("minibatch", "tanh")][i]
            flags.append(one_sign and slower)
        stat = {k: mean_spread(v.values()) for k, v in agree.items()}
        st = {k: mean_spread(v.values()) for k, v in steps.items()}
        together = {f: mean_spread([r.result["same_direction"] for r in by[("per-example", f)]])
                    for f in FEEDS}

        def ratio(a, b):
            return float(np.mean([steps[("minibatch", a)][i] / steps[("minibatch", b)][i]
                                  for i in seeds]))

        centring = {"tanh + 1 / tanh": ratio("tanh + 1", "tanh"),
                    "sigmoid / sigmoid − ½": ratio("sigmoid", "sigmoid − ½"),
                    "sigmoid − ½ / tanh": ratio("sigmoid − ½", "tanh")}
        never = sum(r.result["steps_to_target"] is None for r in by[("minibatch", "sigmoid")])
        shift = min(centring["tanh + 1 / tanh"], centring["sigmoid / sigmoid − ½"])
        lead = ("Centring alone explains part of it" if shift > 1.2
                else "Centring alone barely changes the speed")
        sentence = (
            f"Per example, all incoming-weight gradients of a unit share one sign in "
            f"{stat[('per-example', 'sigmoid')].fmt('.0%')} of steps when it is fed by sigmoid and "
            f"{stat[('per-example', 'tanh + 1')].fmt('.0%')} by tanh + 1, against "
            f"{stat[('per-example', 'tanh')].fmt('.0%')} by tanh and "
            f"{stat[('per-example', 'sigmoid − ½')].fmt('.0%')} by sigmoid − ½; two of its weights "
            f"move in the same direction in {together['sigmoid'].fmt('.0%')} of updates "
            f"(sigmoid-fed) vs {together['tanh'].fmt('.0%')} (tanh-fed). With minibatches of 32 "
            f"the signs mix across examples: {stat[('minibatch', 'sigmoid')].fmt('.0%')} "
            f"(sigmoid-fed) vs {stat[('minibatch', 'tanh')].fmt('.0%')} (tanh-fed). Steps to "
            f"loss {TARGET_LOSS} (batch 32): sigmoid {st[('minibatch', 'sigmoid')].fmt('.0f')}"
            f"{f' ({never} run(s) never got there: counted at the cap)' if never else ''}, tanh "
            f"{st[('minibatch', 'tanh')].fmt('.0f')}. "
            f"{lead}: tanh + 1 needs {centring['tanh + 1 / tanh']:.1f}× tanh's steps and sigmoid "
            f"{centring['sigmoid / sigmoid − ½']:.1f}× centred sigmoid's, while centred sigmoid "
            f"needs {centring['sigmoid − ½ / tanh']:.1f}× tanh's (same centring, a derivative "
            f"at most ¼). Holds when, in every seed, per-example one-sign fractions of the "
            f"non-centred feeds exceed the centred ones by more than 0.2 and sigmoid needs more "
            f"steps than tanh.")
        numbers = {f"one-sign fraction, {p}, {f}-fed": stat[(p, f)]
                   for p in ("per-example", "minibatch") for f in FEEDS}
        numbers.update({f"steps to loss {TARGET_LOSS}, batch 32, {f}": st[("minibatch", f)]
                        for f in FEEDS})
        numbers.update({f"step ratio {k} (mean)": v for k, v in centring.items()})
        return [Verdict("A1", decide(flags), sentence, numbers)]

    def corrections(self, results):
        by = self._parts(results)
        sat = group([r for r in results if r.spec["part"] == "saturation"], "scale")
        agree = {f: mean_spread([r.result["agreement"] for r in by[("per-example", f)]])
                 for f in ("sigmoid", "tanh")}
        large = sat.get("N(0,1)", [])
        if not large:
            return []
        fprime = mean_spread([np.mean(r.result["fprime"]) for r in large])
        saturated = mean_spread([np.mean(r.result["saturated"]) for r in large])
        return [Correction(
            "A1", "002", "tanh is the fix for sigmoid's second problem, called the "
            "“non-linear function” problem",
            "sigmoid's second problem is that it is not zero-centred, and that is what tanh "
            "fixes (it is itself non-linear); it does not fix saturation, sigmoid's first "
            "problem: tanh′ still goes to 0 for large |z|",
            f"one-signed gradient steps: sigmoid-fed {agree['sigmoid'].fmt('.0%')}, tanh-fed "
            f"{agree['tanh'].fmt('.0%')}; in a 10-layer tanh net with N(0, 1) weights "
            f"{saturated.fmt('.0%')} of units are saturated (|a| > 0.97) and the mean tanh′ is "
            f"{fprime.fmt('.2f')}")]

    def figures(self, results):
        by = self._parts(results)
        colours = {"sigmoid": "tab:orange", "sigmoid − ½": "tab:red", "tanh": "tab:green",
                   "tanh + 1": "tab:purple"}
        fig1 = Figure(figsize=(7.0, 3.4))
        ax1, ax2 = fig1.subplots(1, 2)
        for f in ("sigmoid", "tanh"):
            path = np.array(by[("per-example", f)][0].result["path"])
            ax1.plot(path[:, 0] - path[0, 0], path[:, 1] - path[0, 1], marker=".", ms=3, lw=0.8,
                     color=colours[f], label=f"{f}-fed")
        ax1.axhline(0, color="grey", lw=0.5)
        ax1.axvline(0, color="grey", lw=0.5)
        ax1.set(title="Two incoming weights, first 200 steps", xlabel="w₁ − w₁(0)",
                ylabel="w₂ − w₂(0)")
        ax1.legend(fontsize=7)
        centres = np.linspace(-180, 180, ANGLE_BINS + 1)[:-1] + 180 / ANGLE_BINS
        for f in ("sigmoid", "tanh"):
            h = np.sum([r.result["angle_hist"] for r in by[("per-example", f)]], axis=0)
            ax2.step(centres, h / h.sum(), where="mid", color=colours[f], label=f"{f}-fed")
        for lo in (0, -180):
            ax2.axvspan(lo, lo + 90, color="grey", alpha=0.12)
        ax2.set(title="Direction of each update (w₁, w₂)", xlabel="angle (degrees)",
                ylabel="fraction of updates", xticks=[-180, -90, 0, 90, 180])
        ax2.legend(fontsize=7)
        fig1.tight_layout()

        fig2 = Figure(figsize=(7.0, 3.4))
        ax3, ax4 = fig2.subplots(1, 2)
        feeds = list(FEEDS)
        x = np.arange(len(feeds))
        for j, part in enumerate(("per-example", "minibatch")):
            m = [np.mean([r.result["agreement"] for r in by[(part, f)]]) for f in feeds]
            ax3.bar(x + (j - 0.5) * 0.38, m, width=0.38,
                    label="batch 1" if part == "per-example" else "batch 32")
        ax3.set_xticks(x, feeds, fontsize=7)
        ax3.set(title="Units with one-signed gradients", ylabel="fraction of steps",
                ylim=(0, 1.05))
        ax3.legend(fontsize=7)
        for f in feeds:
            r = by[("minibatch", f)][0].result
            ax4.plot(r["loss_steps"], r["loss"], color=colours[f], label=f)
        ax4.axhline(TARGET_LOSS, color="grey", ls=":", lw=1)
        ax4.set(yscale="log", title="Training loss (batch 32, lr 2)", xlabel="step",
                ylabel="BCE on the training set")
        ax4.legend(fontsize=7)
        fig2.tight_layout()
        return [("Per-example SGD on a unit fed by sigmoid outputs: every update moves its two "
                 "weights the same way (angles only in the shaded quadrants I and III), so the "
                 "path is a staircase of up-right / down-left steps; fed by tanh the updates "
                 "point anywhere.", fig1),
                ("Left: how often all of a unit's incoming-weight gradients share a sign — "
                 "always for non-centred feeds with one example per step, less with minibatches. "
                 "Right: loss curves (seed 0); the dotted line is the target loss.", fig2)]


EXPERIMENT = ZeroCentring()
