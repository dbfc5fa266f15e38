"""Findings: the probes' quantities, read in context, turned into sentences a person can act on.

A finding names what is wrong, when it began, what causes it *in this run*, and what usually fixes
it, with the question of the catalogue that explains it::

    step 1, 1:tanh: 64% of the tanh outputs are saturated from the start (step 1, before any
    update) … the inputs are large (RMS up to 2.9, |x| up to 5): standardise the inputs …

Context decides the cause and the advice: whether the condition held at initialisation (the
first measurement, step ≤ 1, is taken before any update) or appeared later, the activations in
use, the scale of the inputs and of each layer's weights, and whether the loss still falls. The
rules never contradict each other: "learning rate too high" and "too low" are one decision for
the whole model (the learning rate is one number), and a rule whose symptom another finding
explains stays silent (vanishing gradients behind dead ReLUs, slow updates of a converged model,
the update ratio of weights that are still near zero).

Each rule reports once, at the first step its condition holds, for every layer where it holds
then. :data:`RULES` ranks the rules by importance (the first one is the one to fix first);
:func:`rank` orders findings that way, with a lesson (a preset's own rule) first.

Two ways in, one set of rules: a probe feeds :class:`FindingRules` step by step while it trains
(``probe.findings``), and :func:`diagnose` replays a table of records (a finished run, a stored
one, the lab's) through the same rules and ranks the result.

The thresholds are in :class:`Thresholds`, each with the reason for its value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ..errors import ConfigError
from ..i18n import _, use_language
from .records import MODEL

#: The rules, most important first: a network that diverged or whose units are dead, identical
#: or saturated has to be fixed before its gradient flow or learning rate can be judged, and
#: those before the length of the run.
RULES = ("nonfinite", "loss_rising", "dead_units", "symmetry", "saturation",
         "vanishing_gradient", "exploding_gradient", "update_ratio_high", "update_ratio_low",
         "underfitting", "train_longer", "flat_loss")

#: The question of the catalogue (``whynet.experiments.questions``) that explains each rule, when
#: the cause does not pick another one (saturation and dead units caused by unscaled inputs point
#: to R4; vanishing gradients in a ReLU net to I3). The two underfitting rules have none: no
#: question of the catalogue is about capacity or the length of a run.
RULE_QUESTIONS = {
    "nonfinite": "T2", "loss_rising": "T2", "dead_units": "A6", "symmetry": "I1",
    "saturation": "I2", "vanishing_gradient": "A4", "exploding_gradient": "A4",
    "update_ratio_high": "T2", "update_ratio_low": "T2", "underfitting": None,
    "train_longer": None, "flat_loss": "T1",
}

# Rules that would say opposite things about one knob: the first to fire keeps the floor.
_OPPOSITES = {
    "update_ratio_high": {"update_ratio_low"}, "loss_rising": {"update_ratio_low"},
    "update_ratio_low": {"update_ratio_high", "loss_rising"},
    "vanishing_gradient": {"exploding_gradient"}, "exploding_gradient": {"vanishing_gradient"},
}

# A finding of one of these explains a model that learns badly; the underfitting rules (whose
# advice is "more capacity" or "train longer") then stay silent.
_CAUSES = frozenset(RULES[:RULES.index("underfitting")])


@dataclass(frozen=True)
class Thresholds:
    """When each rule fires.

    Attributes:
        vanishing: ``grad_ratio`` = ‖∂L/∂z‖ at the first weight layer / at the last below this:
            two orders of magnitude lost on the way down (a 10-layer sigmoid chain loses up to
            0.25⁹ ≈ 4e-6, question A4). He-initialised ReLU keeps ‖∂L/∂z‖ per layer about equal.
        exploding: ``grad_ratio`` above this: two orders of magnitude gained.
        dead: fraction of units zero for every probe example (question A6). A healthy ReLU layer
            has a few percent at most.
        saturated: fraction of activations within the saturation margin of a bound
            (see :data:`whynet.probes.stats.SATURATION_MARGIN`).
        update_low, update_high: ‖ΔW‖/‖W‖ for one step outside [1e-5, 1e-1], i.e. more than 100×
            away from the ~1e-3 that cs231n (lecture 6) calls healthy.
        symmetric: distinct units / units at or below this (question I1).
        flat_loss: relative change of the probe loss since the first measurement below this…
        accuracy_move: …while the probe accuracy rose by at least this (question T1).
        input_scale: an input feature whose root mean square is above this is not standardised
            (a standardised feature has RMS 1; uniform on ±5 has 2.9).
        weight_scale: ``weight_scale`` (RMS norm of a unit's incoming weights) above this is large
            for a saturating activation: Xavier gives about 1 (5/3 with tanh's gain), He √2.
        tiny_weights: ``weight_scale`` below this: the weights are still near zero (zero
            initialisation), so ‖ΔW‖/‖W‖ measures nothing about the learning rate.
        small_weights: median ``weight_scale`` below this (a quarter of Xavier's): vanishing
            gradients come from weights too small (question I2), not from the activation.
        converged: a probe loss at or below this fraction of the first one, or…
        converged_accuracy: …a probe accuracy at or above this, is a model that has learnt its
            training data: small updates are then expected, not a learning rate too low.
        loss_rise: the probe loss above this multiple of the first one: the steps make it worse.
        underfit_accuracy: at the end of the run, a probe (training) accuracy below this is a
            model that does not fit the examples it trains on (a large enough model fits nearly
            all of them, even on noisy data)…
        still_falling: …with a relative fall of the probe loss over the last third of the run at
            or above this, the run is too short; below it, the loss is on a plateau and the
            model underfits.
    """

    vanishing: float = 1e-2
    exploding: float = 1e2
    dead: float = 0.25
    saturated: float = 0.25
    update_low: float = 1e-5
    update_high: float = 1e-1
    symmetric: float = 0.5
    flat_loss: float = 0.02
    accuracy_move: float = 0.10
    input_scale: float = 2.0
    weight_scale: float = 2.5
    tiny_weights: float = 0.05
    small_weights: float = 0.25
    converged: float = 0.2
    converged_accuracy: float = 0.97
    loss_rise: float = 1.5
    underfit_accuracy: float = 0.9
    still_falling: float = 0.03

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0:
                raise ConfigError(f"Thresholds: {f.name} must be a finite number > 0, got {v!r}")


@dataclass(frozen=True)
class Context:
    """What the rules know about the network beyond its records (a probe fills it in).

    Attributes:
        layers: every layer's label, input side first.
        activations: activation layer label → activation name (``"relu"``).
        saturating: labels of the activations bounded on a side (sigmoid, tanh, ELU…).
        units: hidden weight layer label → number of units (the symmetry rule; the output layer
            is left out: its units start equal harmlessly).
        init: weight layer label → initialiser name, where known (whynet's ``Dense``).
        input_rms: the largest root mean square of an input feature over the probe batch.
        input_max: the largest |input| of the probe batch.
        n_params: number of weights in the weight layers.
        n_examples: number of examples in the probe batch.
    """

    layers: tuple[str, ...] = ()
    activations: dict = field(default_factory=dict)
    saturating: frozenset = frozenset()
    units: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    input_rms: float | None = None
    input_max: float | None = None
    n_params: int | None = None
    n_examples: int | None = None


Say = Callable[[], str]
"""A finding's sentence, made when called, in the language in force then (see :mod:`whynet.i18n`):
the rules build it from values they captured when they fired, so it can be said again later in
another language (the lab switches language without losing its findings)."""


@dataclass(frozen=True)
class Finding:
    """One finding: the rule that fired, where (the worst layer) and when, the value there, a
    sentence, and the question of the catalogue that explains it (None when none does).

    ``message`` is the sentence in the language in force when the rule fired; ``say`` (from the
    rules; None for a finding made by hand) makes it again, so :meth:`text` can give it in any
    language."""

    step: int
    layer: str
    rule: str
    value: float
    message: str
    question: str | None = None
    say: Say | None = field(default=None, compare=False, repr=False)

    def text(self, lang: str | None = None) -> str:
        """The sentence in ``lang`` (None: the language in force now)."""
        if self.say is None:
            return self.message
        if lang is None:
            return self.say()
        with use_language(lang):
            return self.say()

    def __str__(self) -> str:
        return _("step {step}, {layer}: {message}").format(step=self.step, layer=self.layer,
                                                          message=self.text())


def _kind(layer: str) -> str:
    return layer.rsplit(":", 1)[-1]


def _pct(v: float) -> str:
    return f"{v:.0%}"


def _share(hits: list[tuple[str, float]], noun: str) -> str:
    """``"41% of the relu units (and 30% in 3:relu)"``: the worst layer (named by the finding's
    ``layer``) first, then the others. ``noun``: ``"units"`` or ``"outputs"``."""
    hits = sorted(hits, key=lambda h: -h[1])
    (layer, v), rest = hits[0], hits[1:]
    template = (_("{pct} of the {kind} units") if noun == "units"
                else _("{pct} of the {kind} outputs"))
    head = template.format(pct=_pct(v), kind=_kind(layer))
    if not rest:
        return head
    also = "; ".join(_("{pct} in {layer}").format(pct=_pct(w), layer=la) for la, w in rest)
    return _("{head} (and {also})").format(head=head, also=also)


def _finite(v) -> bool:
    return v is not None and math.isfinite(v)


class FindingRules:
    """The rules, with the state they need: the values at the first measurement, the probe loss
    and accuracy over time, what already fired.

    ``check(step, rows)`` takes one measurement's ``(layer, quantity, value)`` rows (a step may
    come in several calls: the probe pass, then the update ratio after the update) and returns the
    new findings; ``finish()`` applies the end-of-run rules (underfitting) once training is over.
    """

    def __init__(self, thresholds: Thresholds | None = None, context: Context | None = None):
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise ConfigError(f"thresholds must be a whynet.probes.Thresholds, "
                              f"got {type(thresholds).__name__}")
        if context is not None and not isinstance(context, Context):
            raise ConfigError(f"context must be a whynet.probes.findings.Context, "
                              f"got {type(context).__name__}")
        self.thresholds = thresholds or Thresholds()
        self.context = context or Context()
        self.fired: dict[str, Finding] = {}
        self._step: int | None = None
        self._now: dict[tuple[str, str], float] = {}
        self._first_step: int | None = None
        self._first: dict[tuple[str, str], float] = {}
        self._curve: dict[int, tuple[float, float | None]] = {}   # step → (loss, accuracy)
        self._finished = False

    # -- feeding -----------------------------------------------------------------------------------
    def check(self, step: int, rows, units: dict[str, int] | None = None) -> list[Finding]:
        step = int(step)
        if units:
            self.context = Context(**{**self.context.__dict__,
                                      "units": {**self.context.units, **units}})
        if step != self._step:
            self._step, self._now = step, {}
        rows = [(la, q, float(v)) for la, q, v in rows]
        for la, q, v in rows:
            self._now[(la, q)] = v
        if self._first_step is None:
            self._first_step = step
        if step == self._first_step:
            self._first.update(self._now)
        loss = self._now.get((MODEL, "loss"))
        if loss is not None:
            self._curve[step] = (loss, self._now.get((MODEL, "accuracy")))
        found = []
        for rule, layer, value, say, question in self._candidates(step, rows):
            if rule in self.fired or self.fired.keys() & _OPPOSITES.get(rule, set()):
                continue
            if "nonfinite" in self.fired:
                break  # after divergence the statistics of the network mean nothing
            f = Finding(step, layer, rule, float(value), say(), question, say)
            self.fired[rule] = f
            found.append(f)
        return found

    def finish(self) -> list[Finding]:
        """The end-of-run rules (underfitting, a run too short), once; call after the last
        measurement of the trained network."""
        if self._finished or self.fired.keys() & _CAUSES:
            self._finished = True
            return []
        self._finished = True
        found = []
        for rule, value, say in self._end_of_run():
            f = Finding(self._step, MODEL, rule, value, say(), RULE_QUESTIONS[rule], say)
            self.fired[rule] = f
            found.append(f)
        return found

    # -- helpers -----------------------------------------------------------------------------------
    def _at_init(self, step: int) -> bool:
        """The first measurement, taken before the first update (fit measures step 1 before it)."""
        return step == self._first_step and step <= 1

    def _converged(self) -> bool:
        t = self.thresholds
        loss = self._now.get((MODEL, "loss"))
        acc = self._now.get((MODEL, "accuracy"))
        loss0 = self._first.get((MODEL, "loss"))
        if _finite(acc) and acc >= t.converged_accuracy:
            return True
        return _finite(loss) and _finite(loss0) and loss0 > 0 and loss <= t.converged * loss0

    def _inputs_large(self) -> bool:
        rms = self.context.input_rms
        return rms is not None and rms > self.thresholds.input_scale

    def _inputs_text(self) -> Say:
        rms, top = self.context.input_rms, self.context.input_max
        if top is None:
            return lambda: _("the inputs are not standardised (RMS of a feature up to "
                             "{rms:.3g})").format(rms=rms)
        return lambda: _("the inputs are not standardised (RMS of a feature up to {rms:.3g}, "
                         "|x| up to {top:.3g})").format(rms=rms, top=top)

    def _dense_before(self, layer: str) -> str | None:
        """The weight layer that feeds activation ``layer`` (the nearest one before it)."""
        layers = self.context.layers
        if layer not in layers:
            return None
        for la in reversed(layers[:layers.index(layer)]):
            if (la, "weight_scale") in self._now or (la, "weight_norm") in self._now \
                    or la in self.context.init:
                return la
        return None

    def _first_activation(self) -> str | None:
        return next(iter(self.context.activations), None)

    def _tiny(self, layer: str) -> bool:
        scale = self._now.get((layer, "weight_scale"))
        return scale is not None and scale < self.thresholds.tiny_weights

    # -- the rules, in the order of RULES ----------------------------------------------------------
    # Each rule yields ``(rule, layer, value, say, question)``; ``say`` makes the sentence from
    # values captured here (never from state that changes later), in the language in force.
    def _candidates(self, step, rows):
        t = self.thresholds
        now = self._now
        yield from self._nonfinite(step, rows)
        loss, loss0 = now.get((MODEL, "loss")), self._first.get((MODEL, "loss"))
        if step != self._first_step and _finite(loss) and _finite(loss0) \
                and loss > t.loss_rise * loss0:
            yield ("loss_rising", MODEL, loss,
                   lambda: _("the loss on the probe batch rose from {loss0:.3g} to {loss:.3g}: "
                             "the steps make the network worse, so the learning rate is too "
                             "high; lower it (or clip the gradient norm).").format(
                       loss0=loss0, loss=loss), RULE_QUESTIONS["loss_rising"])
        # A saturating activation at exactly zero (sigmoid underflowing) is saturated, not dead.
        dead = [(la, v) for (la, q), v in now.items() if q == "dead" and v >= t.dead
                and la not in self.context.saturating]
        if dead:
            yield self._dead(step, dead)
        sym = self._symmetric_layers()
        if sym:
            yield self._symmetry(step, sym)
        sat = [(la, v) for (la, q), v in now.items() if q == "saturated" and v >= t.saturated]
        if sat:
            yield self._saturation(step, sat)
        yield from self._gradient_flow(step, bool(dead), bool(sym))
        yield from self._update_ratio(step, bool(dead))
        yield from self._flat_loss(step)

    def _nonfinite(self, step, rows):
        for layer, q, v in rows:
            if (q == "nonfinite" and v > 0) \
                    or (q in ("loss", "train_loss") and not math.isfinite(v)):
                def say(q=q, v=v, layer=layer):
                    what = (_("the loss") if q != "nonfinite"
                            else _("{pct} of the values captured").format(pct=_pct(v)))
                    return _("non-finite values (NaN or inf) since step {step}: {what} in "
                             "{layer}. Training has diverged; lower the learning rate, clip the "
                             "gradient norm, or check the inputs for NaN.").format(
                        step=step, what=what, layer=layer)
                yield ("nonfinite", layer, v, say, RULE_QUESTIONS["nonfinite"])
                return

    def _dead(self, step, dead):
        worst = max(dead, key=lambda h: h[1])
        if self._at_init(step):
            return self._dead_at_init(step, dead, worst)
        layer = self._dense_before(worst[0])
        he = self.context.init.get(layer, "").startswith("he") if layer else False
        first = None if self._first_step is None or self._first_step > 1 else self._first_step

        def say():
            alive = "" if first is None else _(" (fewer were at step {step}, before any "
                                               "update)").format(step=first)
            advice = (_("lower the learning rate, or use Leaky ReLU, PReLU or ELU.") if he else
                      _("lower the learning rate, use He initialisation, or use Leaky ReLU, "
                        "PReLU or ELU."))
            return _("{where} are dead since step {step}{alive}: they output zero for every "
                     "probe example, so they get no gradient and do not recover. Units that die "
                     "during training were pushed there by large steps: {advice}").format(
                where=_share(dead, "units"), step=step, alive=alive, advice=advice)
        return ("dead_units", worst[0], worst[1], say, RULE_QUESTIONS["dead_units"])

    def _dead_at_init(self, step, dead, worst):
        large = self._inputs_large()
        inputs = self._inputs_text()

        def say():
            if large:
                cause = _("{inputs}, which puts these units' pre-activations below zero for "
                          "every example: standardise the inputs (zero mean, unit variance), or "
                          "use Leaky ReLU, PReLU or ELU.").format(inputs=inputs())
            else:
                cause = _("the initial weights and biases put these units' pre-activations "
                          "below zero for every example: start the biases at zero (or slightly "
                          "positive), check the initialisation, or use Leaky ReLU, PReLU or ELU.")
            return _("{where} are dead from the start (step {step}, before any update): they "
                     "output zero for every probe example and get no gradient. The learning rate "
                     "is not the cause; {cause}").format(where=_share(dead, "units"), step=step,
                                                         cause=cause)
        return ("dead_units", worst[0], worst[1], say,
                "R4" if large else RULE_QUESTIONS["dead_units"])

    def _symmetry(self, step, sym):
        layer, v = min(sym, key=lambda h: h[1])
        n = self.context.units[layer]
        others = [la for la, _v in sym if la != layer]

        def say():
            also = _(" ({layers} too)").format(layers=", ".join(others)) if others else ""
            return _("only {k} distinct unit(s) out of {n}{also}: the units compute the same "
                     "function (symmetry), so the layer acts as {k} unit(s). Weights that start "
                     "equal (e.g. all zeros) get equal gradients and stay equal; initialise the "
                     "weights randomly (biases may start at zero).").format(k=int(v), n=n,
                                                                            also=also)
        return ("symmetry", layer, v, say, RULE_QUESTIONS["symmetry"])

    def _saturation(self, step, sat):
        t = self.thresholds
        worst = max(sat, key=lambda h: h[1])
        kind = _kind(worst[0])

        def head():
            return _("{share} are saturated (near the ends of the range, where f′ is under 0.06 × "
                     "its maximum)").format(share=_share(sat, "outputs"))
        if not self._at_init(step):
            return ("saturation", worst[0], worst[1], lambda: _(
                "{head} since step {step}, not at initialisation: the weights grew during "
                "training, so little gradient passes. Lower the learning rate, add weight decay "
                "(L2), or add batch normalisation.").format(head=head(), step=step), "I2")
        dense = self._dense_before(worst[0])
        scale = self._now.get((dense, "weight_scale")) if dense else None
        init = self.context.init.get(dense) if dense else None
        named = f" ({init})" if init and init.isidentifier() else ""
        big = scale is not None and scale > t.weight_scale
        if self._inputs_large() and worst[0] == self._first_activation() and not big:
            inputs = self._inputs_text()
            return ("saturation", worst[0], worst[1], lambda: _(
                "{head} from the start (step {step}, before any update). The weights{named} are "
                "not the cause: {inputs}, so even unit-scale weights give pre-activations in the "
                "flat ends. Standardise the inputs (zero mean, unit variance), or add batch "
                "normalisation.").format(head=head(), step=step, named=named, inputs=inputs()),
                "R4")
        if big:
            return ("saturation", worst[0], worst[1], lambda: _(
                "{head} from the start (step {step}, before any update): the initial "
                "weights{named} are too large for {kind} (a unit's incoming weights have norm "
                "{scale:.3g}; Xavier gives about 1). Use Xavier initialisation, or add batch "
                "normalisation.").format(head=head(), step=step, named=named, kind=kind,
                                         scale=scale), "I2")
        return ("saturation", worst[0], worst[1], lambda: _(
            "{head} from the start (step {step}, before any update): the pre-activations are "
            "large although the weights are not. Add batch normalisation, or use a "
            "non-saturating activation such as ReLU.").format(head=head(), step=step), "I2")

    def _gradient_flow(self, step, dead: bool, symmetric: bool):
        t = self.thresholds
        ratio = self._now.get((MODEL, "grad_ratio"))
        if not _finite(ratio):
            return
        batchnorm = any("batchnorm" in _kind(la) for la in self.context.layers)
        if batchnorm and self._at_init(step):
            # The probe's evaluation-mode pass normalises with BatchNorm's running statistics,
            # which no update has set yet: not the network that trains.
            return
        if ratio < t.vanishing:
            # Dead units and identical units stop the gradient too; their own findings say why.
            if dead or symmetric or "dead_units" in self.fired or "symmetry" in self.fired:
                return
            why, question = self._why_vanishing(batchnorm)
            yield ("vanishing_gradient", MODEL, ratio, lambda: _(
                "gradients vanish: ‖∂L/∂z‖ at the first layer is {ratio:.1e} of that at the "
                "last, so the early layers barely learn; {why}").format(ratio=ratio, why=why()),
                question)
        elif ratio > t.exploding:
            yield ("exploding_gradient", MODEL, ratio, lambda: (_(
                "gradients explode: ‖∂L/∂z‖ at the first layer is {ratio:.1e} times that at the "
                "last, so the early layers take huge steps. The weights are too large for the "
                "depth: use Xavier/He initialisation, a lower learning rate, or gradient "
                "clipping.") if batchnorm else _(
                "gradients explode: ‖∂L/∂z‖ at the first layer is {ratio:.1e} times that at the "
                "last, so the early layers take huge steps. The weights are too large for the "
                "depth: use Xavier/He initialisation, a lower learning rate, batch "
                "normalisation, or gradient clipping.")).format(ratio=ratio),
                RULE_QUESTIONS["exploding_gradient"])

    def _why_vanishing(self, batchnorm: bool) -> tuple[Say, str]:
        """Why gradients vanish here, and the question that explains it: weights too small (I2),
        saturating activations (A4), or a non-saturating net whose init is too small (I3)."""
        scales = sorted(v for (la, q), v in self._now.items() if q == "weight_scale")
        scale = scales[len(scales) // 2] if scales else None
        if scale is not None and scale < self.thresholds.small_weights:
            return (lambda: _("the weights are too small (a unit's incoming weights have norm "
                              "{scale:.2g} in the median layer; Xavier gives about 1), so each "
                              "layer shrinks the signal and its gradient: use Xavier "
                              "initialisation (He for ReLU).").format(scale=scale), "I2")
        if self.context.saturating or not self.context.activations:
            return ((lambda: _("each saturating activation (sigmoid, tanh) multiplies the "
                               "gradient by f′ ≤ 1 (σ′ ≤ ¼), so it shrinks with depth: use ReLU "
                               "with He initialisation, or fewer layers.")) if batchnorm else
                    (lambda: _("each saturating activation (sigmoid, tanh) multiplies the "
                               "gradient by f′ ≤ 1 (σ′ ≤ ¼), so it shrinks with depth: use ReLU "
                               "with He initialisation, batch normalisation, or fewer layers.")),
                    "A4")
        inits = set(self.context.init.values())
        he = bool(inits) and all(i.startswith("he") for i in inits)

        def say():
            advice = (_("Use fewer layers.") if he and batchnorm
                      else _("Add batch normalisation or use fewer layers.") if he
                      else _("Use He initialisation (std √(2/fan_in)) for ReLU."))
            return _("the activations do not saturate, so the weights are too small for the "
                     "depth: each layer shrinks the signal. {advice}").format(advice=advice)
        return say, "I3"

    def _update_ratio(self, step, dead: bool):
        """One verdict on the learning rate for the whole model (it is one number): too high when
        the median layer moves by more than ``update_high`` of its norm in one step, or any layer
        by more than its whole norm; too low only when every layer moves by less than
        ``update_low`` (one slow layer among fast ones is gradient flow, not the learning rate).

        Layers whose weights are still near zero are left out (‖ΔW‖/‖W‖ of weights growing from
        zero says nothing about the learning rate), and so is a network with identical units (the
        symmetry finding says what to fix first)."""
        t = self.thresholds
        if "symmetry" in self.fired or self._symmetric_layers():
            return
        ratios = [(la, v) for (la, q), v in self._now.items()
                  if q.startswith("update_ratio") and _finite(v) and not self._tiny(la)]
        if not ratios:
            return
        values = sorted(v for _la, v in ratios)
        median = values[len(values) // 2] if len(values) % 2 \
            else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2
        la, top = max(ratios, key=lambda h: h[1])
        if median > t.update_high or top > 1:
            yield ("update_ratio_high", la, top, lambda: _(
                "one step changes the weights by {median:.1e} of their norm in the median layer "
                "and {top:.1e} in {layer} (about 1e-3 is healthy): the learning rate is too "
                "high; lower it.").format(median=median, top=top, layer=la),
                RULE_QUESTIONS["update_ratio_high"])
            return
        if top < t.update_low and not dead and not self._converged() \
                and not self.fired.keys() & {"vanishing_gradient", "dead_units"}:
            yield ("update_ratio_low", la, top, lambda: _(
                "one step changes the weights by at most {top:.1e} of their norm in every layer "
                "(about 1e-3 is healthy) while the model has not learnt its training data: the "
                "learning rate is too low; raise it (or train much longer).").format(top=top),
                RULE_QUESTIONS["update_ratio_low"])

    def _symmetric_layers(self) -> list[tuple[str, float]]:
        """``(layer, distinct units)`` of the hidden layers with half their units or fewer
        distinct (question I1)."""
        t, units = self.thresholds, self.context.units
        return [(la, v) for (la, q), v in self._now.items() if q == "distinct_units"
                and units.get(la, 0) >= 2 and v <= t.symmetric * units[la]]

    def _flat_loss(self, step):
        loss, acc = self._now.get((MODEL, "loss")), self._now.get((MODEL, "accuracy"))
        first = self._curve.get(self._first_step)
        if step == self._first_step or first is None or not (_finite(loss) and _finite(acc)):
            return
        loss0, acc0 = first
        t = self.thresholds
        if _finite(loss0) and _finite(acc0) and abs(loss - loss0) <= t.flat_loss * abs(loss0) \
                and acc - acc0 >= t.accuracy_move:
            yield ("flat_loss", MODEL, loss, lambda: _(
                "the loss is flat ({loss0:.3g} → {loss:.3g}) while accuracy rose from {acc0} to "
                "{acc}: the ranking of the classes improves while the predicted probabilities "
                "stay near uniform. Normal in the first steps at a small learning rate; if it "
                "persists, raise the learning rate.").format(loss0=loss0, loss=loss,
                                                             acc0=_pct(acc0), acc=_pct(acc)),
                RULE_QUESTIONS["flat_loss"])

    def _end_of_run(self):
        """The end of the run: a model that has not learnt its training data (probe accuracy
        below ``underfit_accuracy``). Loss still falling over the last third of the run → the run
        is too short; loss on a plateau → underfitting, whose cure depends on the model's size
        (fewer weights than probe examples: more capacity; otherwise a higher learning rate or a
        much longer run). Yields ``(rule, value, say)``."""
        t = self.thresholds
        steps = sorted(s for s, (loss, _acc) in self._curve.items() if _finite(loss))
        if len(steps) < 3:
            return
        last = steps[-1]
        loss_end, acc_end = self._curve[last]
        if not _finite(acc_end) or acc_end >= t.underfit_accuracy:
            return
        cut = steps[0] + 2 * (last - steps[0]) / 3
        start = max([s for s in steps if s <= cut], default=steps[-2])
        loss_a = self._curve[start][0]
        fall = (loss_a - loss_end) / loss_a if loss_a > 0 else 0.0
        facts = {"loss_a": loss_a, "start": start, "loss_end": loss_end, "last": last,
                 "fall": f"{max(fall, 0):.1%}", "right": _pct(acc_end)}
        if fall >= t.still_falling:
            yield ("train_longer", fall, lambda: _(
                "the run ended while the loss was still falling ({loss_a:.3g} at step {start} → "
                "{loss_end:.3g} at step {last}, −{fall} over the last third of the run), with "
                "{right} of the probe (training) examples right: train longer (more epochs), or "
                "raise the learning rate.").format(**facts))
        else:
            advice = self._underfit_advice()
            yield ("underfitting", acc_end, lambda: _(
                "the model underfits: {right} of the probe (training) examples right at the end "
                "and the loss barely falls any more ({loss_a:.3g} at step {start} → "
                "{loss_end:.3g} at step {last}, −{fall} over the last third of the run). "
                "{advice}").format(advice=advice(), **facts))

    def _underfit_advice(self) -> Say:
        c = self.context
        known = c.n_params is not None and c.n_examples is not None
        if known and c.n_params < c.n_examples:
            return lambda: _("A model of {n_params:,} weights for {n_examples:,} examples is too "
                             "small to fit them: add units or layers (or better input "
                             "features).").format(n_params=c.n_params, n_examples=c.n_examples)
        if known:
            return lambda: _("The model is not small ({n_params:,} weights for {n_examples:,} "
                             "examples), so its size is not the first suspect: raise the "
                             "learning rate or train much longer; add units or layers if that "
                             "does not help.").format(n_params=c.n_params,
                                                      n_examples=c.n_examples)
        return lambda: _("The model is not small, so its size is not the first suspect: raise "
                         "the learning rate or train much longer; add units or layers if that "
                         "does not help.")


def rank(found, lesson: str | None = None) -> list:
    """Findings in order of importance (:data:`RULES`), then step; the ``lesson`` rule (a preset's
    own point) first."""
    if lesson is not None and lesson not in RULES:
        raise ConfigError(f"lesson must be a finding rule, got {lesson!r}; "
                          f"rules: {', '.join(RULES)}")
    return sorted(found, key=lambda f: (f.rule != lesson, RULES.index(f.rule), f.step))


def diagnose(records, context: Context | None = None, lesson: str | None = None,
             thresholds: Thresholds | None = None, finished: bool = True) -> list[Finding]:
    """The findings of a table of records, ranked: the rules of :class:`FindingRules` applied step
    by step (as a probe applies them while training), then, when ``finished``, the end-of-run
    rules; ``lesson`` (a rule ID, e.g. a preset's) comes first when it fired.

    ``records``: a :class:`~whynet.probes.Records` or ``(step, layer, quantity, value)`` rows.
    ``context``: a :class:`Context` (``probe.context``); without one the rules read only the
    records (no input scale, no initialiser names, no symmetry check).
    """
    rules = FindingRules(thresholds, context)
    by_step: dict[int, list] = {}
    for step, layer, quantity, value in records:
        by_step.setdefault(int(step), []).append((layer, quantity, value))
    found = []
    for step, rows in by_step.items():
        found += rules.check(step, rows)
    if finished:
        found += rules.finish()
    return rank(found, lesson)
