"""What a question can measure: training metrics from the history, probe quantities per layer.

Training metrics (one number per run):

=====================  ====  ==============================================================
name                   goal  what
=====================  ====  ==============================================================
final_val_acc          max   held-out accuracy after the last epoch
best_val_acc           max   best held-out accuracy over the epochs
final_val_loss         min   held-out loss after the last epoch
best_val_loss          min   lowest held-out loss over the epochs
final_loss             min   training loss of the last epoch
final_acc              max   training accuracy of the last epoch
epochs_to_target       min   first epoch whose held-out accuracy ≥ ``target`` (epochs + 1 if never)
steps_to_target        min   optimiser steps until the end of that epoch (inf if never)
seconds_to_target      min   CPU seconds until the end of that epoch (inf if never)
reached_target         max   1 if the held-out accuracy reached ``target``, else 0
seconds                min   CPU seconds of the whole run
diverged               min   1 if the loss became NaN or inf, else 0
=====================  ====  ==============================================================

Probe quantities (:class:`whynet.probes.Probe` on up to 256 training examples, measured at 10
steps spread over training; the mean over the layers that record it): ``dead``, ``saturated``,
``act_std``, ``deriv_mean``, ``grad_ratio`` (‖∂L/∂z‖ of the first weight layer over the last),
``distinct_units`` (groups of identical hidden units over units: 1/width when every unit
copies one, 1 when no two are alike), ``saturated`` only for activations bounded on both sides, ``update_ratio``
(‖ΔW‖/‖W‖ per step), ``weight_zero`` and ``weight_small`` (fraction of weights exactly zero /
below 1e-3), ``weight_grad_norm``. Plain name: at the end of training; ``.start``: as
initialised (step 1); ``.mean``: averaged over the measurements. They have no better direction.
"""

from __future__ import annotations

import difflib
import math

import numpy as np

from ..errors import UnknownNameError
from ..i18n import _

TRAINING_METRICS: dict[str, str] = {
    "final_val_acc": "max", "best_val_acc": "max", "final_val_loss": "min",
    "best_val_loss": "min", "final_loss": "min", "final_acc": "max",
    "epochs_to_target": "min", "steps_to_target": "min", "seconds_to_target": "min",
    "reached_target": "max", "seconds": "min", "diverged": "min",
}
#: The metrics that need ``target`` in [measure].
TARGET_METRICS = ("epochs_to_target", "steps_to_target", "seconds_to_target", "reached_target")
PROBE_METRICS = ("dead", "saturated", "act_std", "deriv_mean", "grad_ratio", "distinct_units",
                 "update_ratio", "weight_zero", "weight_small", "weight_grad_norm")
WHEN = ("start", "mean")  # suffixes of a probe metric; none = at the end
METRICS = (*TRAINING_METRICS, *PROBE_METRICS)
PROBE_POINTS = 10  # probe measurements per run
PROBE_EXAMPLES = 256


def check_metric(name: str, where: str) -> None:
    """Raise :class:`UnknownNameError` naming ``where`` unless ``name`` is a metric."""
    base, _sep, when = name.partition(".")
    ok = name in TRAINING_METRICS or (base in PROBE_METRICS and when in ("", *WHEN))
    if not ok:
        close = ([m for m in METRICS if base in m or m in base]
                 or difflib.get_close_matches(base, METRICS, n=1, cutoff=0.75))
        hint = (_("did you mean {names}? ").format(names=_(" or ").join(map(repr, close)))
                if close else "")
        raise UnknownNameError(
            _("{where}: unknown metric {name!r}; {hint}known: {training_metrics}, and the probe "
              "quantities {probe_metrics} (each also as NAME.start or NAME.mean)")
            .format(where=where, name=name, hint=hint,
                    training_metrics=", ".join(TRAINING_METRICS),
                    probe_metrics=", ".join(PROBE_METRICS)))


def goal(name: str) -> str | None:
    """``"min"``, ``"max"`` or None (a probe quantity: neither direction is better)."""
    return TRAINING_METRICS.get(name)


def probe_steps(epochs: int, steps_per_epoch: int) -> list[int]:
    """:data:`PROBE_POINTS` steps from 1 (as initialised) to the last (``fit`` counts from 1)."""
    total = epochs * steps_per_epoch
    return sorted({int(s) for s in np.linspace(1, total, PROBE_POINTS).round()})


def training_metrics(epochs: dict, diverged: bool, seconds: list[float], target,
                     n_epochs: int, steps_per_epoch: int = 1) -> dict:
    """The training metrics of one run from ``history.epochs`` and CPU seconds per epoch.

    Never reaching ``target``: ``epochs_to_target`` = ``n_epochs + 1`` (so a mean over seeds
    stays finite), ``steps_to_target`` and ``seconds_to_target`` = inf: a run that stopped short
    must not look faster than one that got there, whatever the runs' lengths.
    """
    val_acc = [a for a in epochs.get("val_acc", []) if a is not None]
    val_loss = epochs.get("val_loss", [])
    nan = float("nan")

    def last(xs):
        return float(xs[-1]) if len(xs) and not diverged else nan

    hit = None
    if target is not None and not diverged:
        hit = next((i for i, a in enumerate(val_acc) if a >= target), None)
    total = seconds[-1] if seconds else 0.0
    acc = [a for a in epochs.get("acc", []) if a is not None]
    finite_loss = [v for v in val_loss if v is not None and math.isfinite(v)]
    out = {
        "final_val_acc": last(val_acc), "best_val_acc": max(val_acc) if val_acc else nan,
        "final_val_loss": last(val_loss), "best_val_loss": min(finite_loss) if finite_loss else nan,
        "final_loss": last(epochs.get("loss", [])), "final_acc": last(acc),
        "epochs_to_target": n_epochs + 1 if hit is None else hit + 1,
        "steps_to_target": math.inf if hit is None else (hit + 1) * steps_per_epoch,
        "seconds_to_target": math.inf if hit is None else seconds[hit],
        "reached_target": float(hit is not None),
        "seconds": total, "diverged": float(bool(diverged)),
    }
    if target is None:  # no target, nothing to reach
        for name in TARGET_METRICS:
            del out[name]
    return out


def probe_metrics(records, widths: dict[str, int], output_layer: str | None) -> dict:
    """Probe quantities at the start, the end and averaged over time, each the mean over layers.

    ``widths`` maps a weight layer's label to its number of units (for ``distinct_units`` as a
    fraction); ``output_layer`` is left out of ``distinct_units`` (its units differ by target).
    """
    wanted = set(PROBE_METRICS)
    table: dict = {}  # one pass over the records: (quantity, step) → [(layer, value), …]
    for step, layer, quantity, value in records:
        if quantity in wanted:
            table.setdefault((quantity, step), []).append((layer, value))
    steps = records.steps()
    out = {}
    for q in PROBE_METRICS:
        per_step = []
        for step in steps:
            rows = table.get((q, step), [])
            if q == "distinct_units":
                rows = [(la, v / widths[la]) for la, v in rows
                        if la in widths and la != output_layer]
            vals = [v for _, v in rows]
            per_step.append(float(np.mean(vals)) if vals else None)
        known = [v for v in per_step if v is not None]
        out[q] = known[-1] if known else float("nan")
        out[q + ".start"] = known[0] if known else float("nan")
        out[q + ".mean"] = float(np.mean(known)) if known else float("nan")
    return out
