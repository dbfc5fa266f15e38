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

from ..i18n import N_, _
from .. import datasets
from ..nn import Dense, Module, Sequential, mlp
from ..nn.losses import BCEWithLogits
from ..optim import SGD
from ..probes import stats
from ..train import Callback, Every, fit
from .base import (Correction, Experiment, Row, Verdict, demonstration, group, held_in,
                   mean_spread, tally)

# feed name → (activation of hidden layer 1, constant added to its output)
FEEDS = {"sigmoid": ("sigmoid", 0.0), "sigmoid − ½": ("sigmoid", -0.5),
         "tanh": ("tanh", 0.0), "tanh + 1": ("tanh", 1.0)}
NOT_CENTRED = ("sigmoid", "tanh + 1")
CENTRED = ("sigmoid − ½", "tanh")
TARGET_LOSS = 0.25  # moons (noise 0.2): a linear model stops near 0.30, the nets reach ~0.1
MARGIN = 0.2        # batch 32: non-centred feeds must be one-signed this much more often
ANGLE_BINS = 36
COLOURS = {"sigmoid": "tab:orange", "sigmoid − ½": "tab:red", "tanh": "tab:green",
           "tanh + 1": "tab:purple"}


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


class UpdateSigns(Callback):
    """Per step: which units of ``layer`` got a non-zero gradient and, of those, which have
    one-signed incoming gradients (the probes' ``same_sign_units``), and the move of weights
    (0, 1) of every unit; the path of unit 0's two weights for the first ``keep`` steps.

    Not a :class:`~whynet.probes.Probe`: the probe measures gradients on its fixed probe batch,
    and zig-zag is about the gradient of each training step (one example, or one minibatch)."""

    def __init__(self, layer: Dense, keep: int):
        self.layer, self.keep = layer, keep
        self.same_sign: list[np.ndarray] = []
        self.active: list[np.ndarray] = []
        self.moves: list[np.ndarray] = []
        self.path = [layer.W.value[0, :2].astype(np.float64).tolist()]

    def on_before_update(self, step, ctx):
        grad = self.layer.W.grad
        self.same_sign.append(stats.same_sign_units(grad))
        self.active.append(np.any(grad != 0, axis=1))
        self._before = self.layer.W.value[:, :2].copy()

    def on_step_end(self, step, loss, ctx):
        self.moves.append(self.layer.W.value[:, :2] - self._before)
        if len(self.path) <= self.keep:
            self.path.append(self.layer.W.value[0, :2].astype(np.float64).tolist())


def training_loss(X, y):
    """``fn(step, ctx)`` for :class:`whynet.train.Every`: the loss on the whole training set."""
    loss_fn = BCEWithLogits()
    return lambda step, ctx: float(loss_fn.forward(ctx.model.predict(X), y))


def steps_to(steps, losses, target: float):
    """First recorded step with loss ≤ target, or None if never."""
    return next((s for s, v in zip(steps, losses) if v <= target), None)


class ZeroCentring(Experiment):
    id = "a1"
    questions = ("A1",)
    title = N_("Zero-centred inputs and zig-zag updates")
    question = (N_("Do non-zero-centred inputs (sigmoid outputs) make all of a neuron's weight "
                "gradients share one sign, so updates zig-zag and learning slows?"))
    what = N_("A [2, 8, 8, 1] net on moons (200 points, noise 0.2, standardised), binary "
               "cross-entropy, plain SGD. Hidden layer 1 is the feed under test: sigmoid, "
               "tanh, and the controls sigmoid − ½ (centred, sigmoid's derivative) and tanh + "
               "1 (not centred, tanh's derivative); hidden layer 2 (tanh) is the layer "
               "watched. Per step and per unit of layer 2 that gets a gradient: whether all 8 "
               "incoming-weight gradients share one sign, and the move of two of its weights. "
               "Per example (batch 1, lr 0.3, 6 epochs; 2 in the quick grid) and with "
               "minibatches (batch 32, lr 2, 150 epochs): the fraction of one-signed steps and "
               "the steps until the training loss (on all 200 points, every step) falls below "
               "{target_loss}.")
    what_values = {"target_loss": TARGET_LOSS}
    seeds_quick = 3
    seeds_full = 10  # 10 of 10 paired seeds: a sign-test p of 0.002
    version = 2      # loss recorded every step; one-sign fraction among units with a gradient

    def grid(self, quick: bool) -> list[dict]:
        # per example the one-sign fraction is 100% by construction: two epochs show it
        specs = [{"part": "per-example", "feed": f, "batch_size": 1, "lr": 0.3,
                  "epochs": 2 if quick else 6} for f in FEEDS]
        specs += [{"part": "minibatch", "feed": f, "batch_size": 32, "lr": 2.0, "epochs": 150}
                  for f in FEEDS]
        return specs

    def run(self, spec: dict, seed: int) -> dict:
        data = datasets.moons(n=200, noise=0.2, seed=seed)
        X, = datasets.standardize(data.X)[:1]
        y = data.y
        model = build(spec["feed"], seed)
        watched = [m for m in model.layers if isinstance(m, Dense)][1]
        signs = UpdateSigns(watched, keep=200)
        # every step where the speed is judged (batch 32), every 20 for the demonstration
        loss = Every(20 if spec["batch_size"] == 1 else 1, training_loss(X, y))
        history = fit(model, X, y, loss="bce", optimizer=SGD(model.parameters(), lr=spec["lr"]),
                      epochs=spec["epochs"], batch_size=spec["batch_size"], seed=seed,
                      callbacks=[signs, loss], progress=False)
        same = np.array(signs.same_sign)            # (steps, units)
        active = np.array(signs.active)             # (steps, units): the gradient row is not 0
        moves = np.array(signs.moves)               # (steps, units, 2)
        # both weights moved (a float32 update below half an ulp of w leaves w unchanged)
        moving = np.all(moves != 0, axis=2)
        together = (np.sign(moves[..., 0]) == np.sign(moves[..., 1]))[moving]  # quadrants I, III
        angles = np.degrees(np.arctan2(moves[..., 1], moves[..., 0]))[moving]
        hist = np.histogram(angles, bins=ANGLE_BINS, range=(-180, 180))[0]
        stride = max(1, len(loss.steps) // 300)
        return {"agreement": float(same.sum() / max(active.sum(), 1)),
                "active": float(active.mean()),
                "same_direction": float(together.mean()), "angle_hist": hist.tolist(),
                "path": signs.path, "total_steps": len(same),
                "steps_to_target": steps_to(loss.steps, loss.values, TARGET_LOSS),
                "loss_steps": loss.steps[::stride], "loss": loss.values[::stride],
                "final_loss": loss.values[-1], "diverged": history.diverged}

    # -- evaluation -----------------------------------------------------------------------------
    @staticmethod
    def _parts(results):
        return group(results, ("part", "feed"))

    @staticmethod
    def _steps(runs) -> dict[int, int]:
        """Seed → steps to the target; a run that never got there counts its total (a lower
        bound)."""
        return {r.seed: r.result["steps_to_target"] if r.result["steps_to_target"] is not None
                else r.result["total_steps"] for r in runs}

    def _tests(self, results) -> dict:
        """The per-seed measurements behind the verdict, paired by seed (same data, same initial
        weights for a feed and its control)."""
        by = self._parts(results)
        agree = {k: {r.seed: r.result["agreement"] for r in runs} for k, runs in by.items()}
        steps = {k: self._steps(runs) for k, runs in by.items()}
        seeds = sorted(set.intersection(*(set(v) for v in (*agree.values(), *steps.values()))))
        mb = {f: steps[("minibatch", f)] for f in FEEDS}
        one_sign, slower = [], []
        for i in seeds:
            one_sign.append(min(agree[("minibatch", f)][i] for f in NOT_CENTRED)
                            > max(agree[("minibatch", f)][i] for f in CENTRED) + MARGIN)
            slower.append(mb["tanh + 1"][i] > mb["tanh"][i]
                          and mb["sigmoid"][i] > mb["sigmoid − ½"][i])
        shown = demonstration([agree[("per-example", f)][i] == 1.0
                               for f in NOT_CENTRED for i in seeds])
        return {"by": by, "agree": agree, "steps": steps, "seeds": seeds, "shown": shown,
                "one_sign": tally(one_sign), "slower": tally(slower),
                "both": tally([a and b for a, b in zip(one_sign, slower)]),
                "held": {"one_sign": held_in(one_sign), "slower": held_in(slower),
                         "both": held_in([a and b for a, b in zip(one_sign, slower)])}}

    def verdicts(self, results):
        t = self._tests(results)
        by, steps, seeds = t["by"], t["steps"], t["seeds"]
        status = t["both"].status if t["shown"].status == "shown" else "fails"
        stat = {k: mean_spread(v.values()) for k, v in t["agree"].items()}
        st = {k: mean_spread(v.values()) for k, v in steps.items()}
        together = {f: mean_spread([r.result["same_direction"] for r in by[("per-example", f)]])
                    for f in FEEDS}

        def ratio(a, b):
            return mean_spread([steps[("minibatch", a)][i] / steps[("minibatch", b)][i]
                                for i in seeds])

        centring = {"tanh + 1 / tanh": ratio("tanh + 1", "tanh"),
                    "sigmoid / sigmoid − ½": ratio("sigmoid", "sigmoid − ½"),
                    "sigmoid − ½ / tanh": ratio("sigmoid − ½", "tanh"),
                    "sigmoid / tanh": ratio("sigmoid", "tanh")}
        never = {f: sum(r.result["steps_to_target"] is None for r in by[("minibatch", f)])
                 for f in FEEDS}
        evidence = [Row(_("{feed}-fed").format(feed=f), {
            _("one-signed steps, batch 1"): stat[("per-example", f)],
            _("one-signed steps, batch 32"): stat[("minibatch", f)],
            _("steps to loss {target_loss}, batch 32").format(target_loss=TARGET_LOSS): st[("minibatch", f)],
            _("runs that never got there"): never[f]}) for f in FEEDS]
        evidence.append(Row(_("paired step ratios (batch 32)"), {k: v for k, v in centring.items()}))
        rule = (_("Shown, not tested: with one example per step a unit fed by positive inputs "
                  "gets one-signed gradients at every step (∂L/∂w_k = δ·a_k). Tested, per "
                  "seed: with batches of 32 the non-centred feeds' one-sign fraction exceeds "
                  "the centred ones' by more than {margin}, and centring alone slows learning "
                  "(tanh + 1 needs more steps to loss {target_loss} than tanh, and sigmoid "
                  "more than sigmoid − ½). Every seed → holds, none → fails, mixed → "
                  "inconclusive.").format(margin=MARGIN, target_loss=TARGET_LOSS))
        tr, sr = centring["tanh + 1 / tanh"].mean, centring["sigmoid / sigmoid − ½"].mean
        answer = _answer(status, t, tr, sr)
        sentence = self._sentence(rule, tr, sr, t, centring, stat, together, st)
        numbers = {f"one-sign fraction, {p}, {f}-fed": stat[(p, f)]
                   for p in ("per-example", "minibatch") for f in FEEDS}
        numbers.update({f"steps to loss {TARGET_LOSS}, batch 32, {f}": st[("minibatch", f)]
                        for f in FEEDS})
        numbers.update({f"step ratio {k}": v for k, v in centring.items()})
        return [Verdict("A1", status, sentence, numbers, answer=answer, evidence=evidence,
                        rule=rule, agree=t["both"])]

    @staticmethod
    def _sentence(rule, tr, sr, t, centring, stat, together, st):
        """The long form: what was measured per feed, and the rule."""
        sentence = (
            _("Per example, a unit fed by sigmoid or tanh + 1 gets one-signed incoming-weight "
              "gradients in {stat_per_example_sigmoid} and {stat_per_example_tanh_1} of the "
              "steps where it gets any, against {stat_per_example_tanh} fed by tanh and "
              "{stat_per_example_sigmoid_2} by sigmoid − ½; two of its weights move in the "
              "same direction in {together_sigmoid} of updates (sigmoid-fed) vs "
              "{together_tanh} (tanh-fed). With minibatches of 32 the signs mix across "
              "examples: {stat_minibatch_sigmoid} (sigmoid-fed) vs {stat_minibatch_tanh} "
              "(tanh-fed) (by more than {margin} in {t_held_one_sign}). Steps to loss "
              "{target_loss} (batch 32): ").format(
                stat_per_example_sigmoid=stat['per-example', 'sigmoid'].fmt('.0%'),
                stat_per_example_tanh_1=stat['per-example', 'tanh + 1'].fmt('.0%'),
                stat_per_example_tanh=stat['per-example', 'tanh'].fmt('.0%'),
                stat_per_example_sigmoid_2=stat['per-example', 'sigmoid − ½'].fmt('.0%'),
                together_sigmoid=together['sigmoid'].fmt('.0%'),
                together_tanh=together['tanh'].fmt('.0%'),
                stat_minibatch_sigmoid=stat['minibatch', 'sigmoid'].fmt('.0%'),
                stat_minibatch_tanh=stat['minibatch', 'tanh'].fmt('.0%'), margin=MARGIN,
                t_held_one_sign=t['held']['one_sign'], target_loss=TARGET_LOSS) +
            ", ".join(f"{f} {st[('minibatch', f)].fmt('.0f')}" for f in FEEDS) +
            _(". Centring alone: tanh + 1 needs {tr:.1f}× tanh's steps and sigmoid {sr:.1f}× "
              "centred sigmoid's (both slower in {t_held_slower}); centred sigmoid still needs "
              "{centring_sigmoid_tanh:.1f}× tanh's (same centring, a derivative at most ¼). ").format(
                tr=tr, sr=sr, t_held_slower=t['held']['slower'],
                centring_sigmoid_tanh=centring['sigmoid − ½ / tanh'].mean) + rule)
        return sentence

    def corrections(self, results):
        by = self._parts(results)
        agree = {f: mean_spread([r.result["agreement"] for r in by[("per-example", f)]])
                 for f in ("sigmoid", "tanh")}
        return [Correction(
            "A1", "002", _("tanh (cs231n lecture 6) is the fix for sigmoid's second problem, "
                           "which the note there calls the “non-linear function” problem"),
            _("a few lines earlier the same note names sigmoid's second problem correctly: its "
              "outputs are not zero-centred. That is what tanh fixes; tanh is no less "
              "non-linear than sigmoid (tanh(z) = 2σ(2z) − 1)"),
            _("one-signed gradient steps, one example per step: sigmoid-fed {agree_sigmoid}, "
              "tanh-fed {agree_tanh}").format(
                agree_sigmoid=agree['sigmoid'].fmt('.0%'), agree_tanh=agree['tanh'].fmt('.0%')),
            so_what=_("choose tanh over sigmoid in hidden layers for its zero-centred outputs; "
                      "every activation used here is non-linear, so non-linearity cannot be "
                      "what tanh adds"))]

    def figures(self, results):
        by = self._parts(results)
        return [self._speed_figure(by), self._zigzag_figure(by), self._sign_figure(by)]

    def _speed_figure(self, by):
        """The key figure: steps to the target loss, the tested part."""
        steps = {f: self._steps(by[("minibatch", f)]) for f in FEEDS}
        feeds = list(FEEDS)
        fig1 = Figure(figsize=(7.5, 6.4))
        ax1, ax2 = fig1.subplots(2, 1)
        seed0 = min(r.seed for r in by[("minibatch", feeds[0])])
        for f in feeds:
            r = next(r for r in by[("minibatch", f)] if r.seed == seed0).result
            st, lo = np.array(r["loss_steps"]), np.array(r["loss"])
            hit = r["steps_to_target"]
            ax1.plot(st[st > 0], lo[st > 0], color=COLOURS[f], lw=1.2,
                     label=_("{f}-fed: {never_hit_steps}").format(
                               f=f, never_hit_steps=_('never') if hit is None else _('{hit} steps').format(hit=hit)))
            if hit is not None:
                ax1.plot([hit], [TARGET_LOSS], "o", color=COLOURS[f], ms=9, mec="black",
                         zorder=5)
        ax1.axhline(TARGET_LOSS, color="black", ls=":", lw=1.2)
        ax1.text(0.01, TARGET_LOSS, _("target {target_loss}").format(target_loss=TARGET_LOSS), va="bottom", ha="left",
                 transform=ax1.get_yaxis_transform(), fontsize=10)
        ax1.set(xscale="log", yscale="log", xlabel=_("step (log scale)"),
                ylabel=_("training loss (BCE)"),
                title=_("Loss with batch 32 (seed {seed0}); ● = step the target was reached").format(
                          seed0=seed0))
        ax1.legend(loc="lower left", title=_("steps to target"))
        x = np.arange(len(feeds))
        for k, f in enumerate(feeds):
            v = np.array(list(steps[f].values()), dtype=float)
            ax2.plot(np.full(len(v), k) + np.linspace(-0.12, 0.12, len(v)), v, "o", ms=5,
                     color=COLOURS[f], alpha=0.8)
            ax2.plot([k - 0.25, k + 0.25], [np.median(v)] * 2, color="black", lw=2)
        cap = max(r.result["total_steps"] for r in by[("minibatch", feeds[0])])
        ax2.axhline(cap, color="grey", ls=":", lw=1)
        ax2.set_xticks(x, [_("{feed}-fed").format(feed=f) for f in feeds])
        ax2.set(yscale="log", ylabel=_("steps to loss {target_loss}").format(
                                         target_loss=TARGET_LOSS),
                title=_("Every seed (bar: median; dotted: never, {cap} steps)").format(cap=cap))
        fig1.tight_layout()
        return (_("Steps until the training loss falls below the target with minibatches of "
                  "32: top, the loss curves of one seed, each marked where it first reaches "
                  "the target; bottom, every seed. The controls separate centring from the "
                  "derivative: tanh + 1 is tanh shifted off zero, sigmoid − ½ is sigmoid "
                  "centred."), fig1)

    @staticmethod
    def _zigzag_figure(by):
        """The demonstration: one-signed updates move two weights together."""
        fig2 = Figure(figsize=(7.5, 3.7))
        ax3, ax4 = fig2.subplots(1, 2)
        for f in ("sigmoid", "tanh"):
            path = np.array(by[("per-example", f)][0].result["path"])
            ax3.plot(path[:, 0] - path[0, 0], path[:, 1] - path[0, 1], marker=".", ms=3, lw=0.8,
                     color=COLOURS[f], label=_("{feed}-fed").format(feed=f))
        ax3.axhline(0, color="grey", lw=0.5)
        ax3.axvline(0, color="grey", lw=0.5)
        ax3.set(title=_("Two weights, first 200 steps"), xlabel="w₁ − w₁(0)", ylabel="w₂ − w₂(0)")
        ax3.legend()
        centres = np.linspace(-180, 180, ANGLE_BINS + 1)[:-1] + 180 / ANGLE_BINS
        for f in ("sigmoid", "tanh"):
            h = np.sum([r.result["angle_hist"] for r in by[("per-example", f)]], axis=0)
            ax4.step(centres, h / h.sum(), where="mid", color=COLOURS[f], label=_("{f}-fed").format(
                                                                                    f=f))
        for lo in (0, -180):
            ax4.axvspan(lo, lo + 90, color="grey", alpha=0.12)
        ax4.set(title=_("Direction of each update"), xlabel=_("angle of (Δw₁, Δw₂), degrees"),
                ylabel=_("fraction of updates"), xticks=[-180, -90, 0, 90, 180])
        ax4.legend()
        fig2.tight_layout()
        return (_("The demonstration, one example per step: a unit fed by sigmoid outputs "
                  "moves its two weights the same way at every update (angles only in the "
                  "shaded quadrants I and III), a staircase; fed by tanh the updates point "
                  "anywhere."), fig2)

    @staticmethod
    def _sign_figure(by):
        """How often a unit's gradients share one sign, per example and per minibatch."""
        feeds = list(FEEDS)
        x = np.arange(len(feeds))
        fig3 = Figure(figsize=(7.5, 3.4))
        ax5 = fig3.subplots()
        for j, part in enumerate(("per-example", "minibatch")):
            m = [np.mean([r.result["agreement"] for r in by[(part, f)]]) for f in feeds]
            ax5.bar(x + (j - 0.5) * 0.38, m, width=0.38,
                    label=_("batch 1") if part == "per-example" else _("batch 32"))
        ax5.set_xticks(x, [_("{feed}-fed").format(feed=f) for f in feeds])
        ax5.set(title=_("Units whose incoming gradients all share one sign"),
                ylabel=_("fraction of steps"), ylim=(0, 1.05))
        ax5.legend(loc="upper center")
        fig3.tight_layout()
        return (_("How often all of a unit's incoming-weight gradients share a sign: always "
                  "for non-centred feeds with one example per step (by construction), less "
                  "with minibatches of 32, whose examples mix the signs."), fig3)



def _answer(status: str, t: dict, tr: float, sr: float) -> str:
    """The one-line answer; ``tr``, ``sr``: mean step ratios tanh + 1 / tanh and sigmoid /
    sigmoid − ½."""
    if status == "holds":
        return (_("Yes: positive inputs give one-signed updates, and shifting outputs off zero "
                  "alone made training {min_tr_sr:.1f}–{max_tr_sr:.1f}× slower in every seed.").format(
                    min_tr_sr=min(tr, sr), max_tr_sr=max(tr, sr)))
    if status == "fails" and t["shown"].status == "fails":
        return _("No: even with one example per step the gradient signs were mixed.")
    if status == "fails":
        return (_("One-signed updates yes, slower learning no: shifting outputs off zero did "
                  "not slow training here."))
    return (_("One-signed updates, yes; slower learning only on average: off-zero outputs cost "
              "{tr:.1f}× (tanh) and {sr:.1f}× (sigmoid) the steps; the test held in only "
              "{t_held_both}.").format(tr=tr, sr=sr, t_held_both=t['held']['both']))


EXPERIMENT = ZeroCentring()
