"""Findings: thresholds on the probes' quantities, turned into sentences a person can act on.

Each rule looks at the rows one measurement produced. A finding is reported once, at the first
step its condition holds (per rule and layer), with what it means and what usually fixes it::

    step 120, 3:relu: 41% of the relu units are dead since step 120 (zero for every probe
    example, so they get no gradient and do not recover). The learning rate is usually too large
    for this initialisation: lower it, use He initialisation, or use Leaky ReLU, PReLU or ELU.

The thresholds are in :class:`Thresholds`, each with the reason for its value; pass your own to
the probe to make a rule stricter or looser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import ConfigError
from .records import MODEL


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
        accuracy_move: …while the probe accuracy moved by at least this (question T1).
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

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0:
                raise ConfigError(f"Thresholds: {f.name} must be a finite number > 0, got {v!r}")


@dataclass(frozen=True)
class Finding:
    """One finding: the rule that fired, where and when, the value, and a sentence."""

    step: int
    layer: str
    rule: str
    value: float
    message: str

    def __str__(self) -> str:
        return f"step {self.step}, {self.layer}: {self.message}"


def _kind(layer: str) -> str:
    return layer.rsplit(":", 1)[-1]


def _pct(v: float) -> str:
    return f"{v:.0%}"


class FindingRules:
    """The rules, with the state they need (what already fired, the first loss and accuracy).

    ``check(step, rows, units)`` takes one measurement's ``(layer, quantity, value)`` rows and
    ``units`` (layer → number of units, for the symmetry rule) and returns the new findings.
    """

    RULES = ("nonfinite", "vanishing_gradient", "exploding_gradient", "dead_units", "saturation",
             "update_ratio_high", "update_ratio_low", "symmetry", "flat_loss")

    def __init__(self, thresholds: Thresholds | None = None):
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise ConfigError(f"thresholds must be a whynet.probes.Thresholds, "
                              f"got {type(thresholds).__name__}")
        self.thresholds = thresholds or Thresholds()
        self._fired: set[tuple[str, str]] = set()
        self._first_loss: tuple[float, float] | None = None

    def check(self, step: int, rows, units: dict[str, int] | None = None) -> list[Finding]:
        units = units or {}
        found = []
        for layer, rule, value, message in self._candidates(step, list(rows), units):
            key = (rule, MODEL if rule == "nonfinite" else layer)
            if key in self._fired:
                continue
            self._fired.add(key)
            found.append(Finding(int(step), layer, rule, float(value), message))
        return found

    def _candidates(self, step, rows, units):
        t = self.thresholds
        model = {q: v for layer, q, v in rows if layer == MODEL}
        for layer, q, v in rows:
            if (q == "nonfinite" and v > 0) \
                    or (q in ("loss", "train_loss") and not math.isfinite(v)):
                what = "the loss" if q != "nonfinite" else f"{_pct(v)} of the values captured"
                yield (layer, "nonfinite", v,
                       f"non-finite values (NaN or inf) since step {step}: {what} in {layer}. "
                       "Training has diverged; lower the learning rate, clip the gradient norm, "
                       "or check the inputs for NaN.")
            elif q == "dead" and v >= t.dead:
                kind = _kind(layer)
                yield (layer, "dead_units", v,
                       f"{_pct(v)} of the {kind} units are dead since step {step} (zero for every "
                       "probe example, so they get no gradient and do not recover). The learning "
                       "rate is usually too large for this initialisation: lower it, use He "
                       "initialisation, or use Leaky ReLU, PReLU or ELU.")
            elif q == "saturated" and v >= t.saturated:
                kind = _kind(layer)
                yield (layer, "saturation", v,
                       f"{_pct(v)} of the {kind} outputs are saturated (near the ends of the "
                       "range, where f′ is under 6% of its maximum) since step "
                       f"{step}, so little gradient passes. The weights are usually too large "
                       "for this activation: use Xavier initialisation, standardise the inputs, "
                       "add batch normalisation, or use ReLU.")
            elif q == "update_ratio" and v > t.update_high:
                yield (layer, "update_ratio_high", v,
                       f"one step changes the weights by {v:.1e} of their norm (about 1e-3 is "
                       "healthy): the learning rate is too high for this layer; lower it.")
            elif q == "update_ratio" and v < t.update_low:
                yield (layer, "update_ratio_low", v,
                       f"one step changes the weights by only {v:.1e} of their norm (about 1e-3 "
                       "is healthy): the learning rate is too low, or the gradient reaching this "
                       "layer has vanished; raise the learning rate or fix the gradient flow.")
            elif q == "distinct_units" and units.get(layer, 0) >= 2 \
                    and v <= t.symmetric * units[layer]:
                n = units[layer]
                yield (layer, "symmetry", v,
                       f"only {int(v)} distinct unit(s) out of {n}: the units compute the same "
                       f"function (symmetry), so the layer acts as {int(v)} unit(s). Weights that "
                       "start equal (e.g. all zeros) get equal gradients and stay equal; "
                       "initialise the weights randomly (biases may start at zero).")
        ratio = model.get("grad_ratio")
        if ratio is not None and math.isfinite(ratio) and ratio < t.vanishing:
            yield (MODEL, "vanishing_gradient", ratio,
                   f"gradients vanish: ‖∂L/∂z‖ at the first layer is {ratio:.1e} of that at the "
                   "last, so the early layers barely learn. Usual with saturating activations "
                   "(sigmoid, tanh) in deep stacks or too-small weights: use ReLU with He "
                   "initialisation, batch normalisation, or fewer layers.")
        elif ratio is not None and math.isfinite(ratio) and ratio > t.exploding:
            yield (MODEL, "exploding_gradient", ratio,
                   f"gradients explode: ‖∂L/∂z‖ at the first layer is {ratio:.1e} times that at "
                   "the last, so the early layers take huge steps. Usual with weights too large "
                   "for the depth: use Xavier/He initialisation, a lower learning rate, gradient "
                   "clipping, or batch normalisation.")
        yield from self._flat_loss(model)

    def _flat_loss(self, model):
        loss, acc = model.get("loss"), model.get("accuracy")
        if loss is None or acc is None or not (math.isfinite(loss) and math.isfinite(acc)):
            return
        if self._first_loss is None:
            self._first_loss = (loss, acc)
            return
        loss0, acc0 = self._first_loss
        t = self.thresholds
        if abs(loss - loss0) <= t.flat_loss * abs(loss0) and abs(acc - acc0) >= t.accuracy_move:
            yield (MODEL, "flat_loss", loss,
                   f"the loss is flat ({loss0:.3g} → {loss:.3g}) while accuracy moved from "
                   f"{_pct(acc0)} to {_pct(acc)}: the ranking of the classes improves while the "
                   "predicted probabilities stay near uniform. Normal in the first steps at a "
                   "small learning rate (question T1); if it persists, raise the learning rate.")
