"""The Probe: attach to a model through its hooks, measure on a fixed probe batch, record.

How a measurement works (``probe.measure(step)``):

1. the model's parameter gradients are set aside (the arrays themselves, not copies) and
   fresh zero arrays put in their place;
2. the model is put in the probe's mode (``"eval"`` by default: Dropout off and BatchNorm on its
   running statistics, so nothing random or stateful is touched; ``"train"`` saves and restores
   BatchNorm's running statistics and every random generator a layer holds);
3. one forward and backward pass on the probe batch ``(X, y)`` with hooks on every layer captures
   inputs, outputs, f′(z), ∂L/∂out, ∂L/∂in and the parameter gradients of the *data loss* (no
   regulariser);
4. the gradients and modes are put back, so training continues exactly as without the probe;
5. the captured arrays become records, histograms and findings.

Inside ``fit`` the probe is a callback: at a due step, ``on_before_update`` (gradients of the
training batch ready, weights not yet changed) snapshots the weights and measures;
``on_step_end`` then records ‖ΔW‖/‖W‖ of that step. Outside ``fit``, call ``measure(step)`` (and,
for the update ratio, ``on_before_update(step)`` / ``on_step_end(step)`` around your update).

The same measurement logic serves PyTorch models (:mod:`whynet.probes.torch`): a subclass only has
to capture the arrays.
"""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral
from typing import Iterable

import numpy as np

from ..errors import ConfigError, ShapeError, check_finite, check_int, check_number
from ..i18n import _
from ..nn.activations import Activation
from ..nn.layers import Dense
from ..nn.losses import get_loss
from ..notebook import html_table
from . import stats
from .findings import Context, Finding, FindingRules, Thresholds, rank
from .records import MODEL, Histograms, Records, make_entry
from .replay import save_html

#: Measure every this many steps by default. On the benchmark MLP (784-1024-1024-10, batches of
#: 256) one measurement with a 256-example probe batch costs about 2.5 training steps (a forward
#: and backward pass, then the statistics), so every 50 steps adds about 5%
#: (bench/bench_probes.py). Pass ``every=`` for a finer view of a short run.
DEFAULT_EVERY = 50


class Cadence:
    """Which steps a probe measures at.

    ``every``: an int k (steps 1, k, 2k, 3k, …: ``fit`` counts steps from 1, and step 1 shows the
    network as initialised; step 0 is due too, for loops that count from 0), ``"log"`` (about ten
    steps per decade: 0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 79, 100, …,
    dense early when things change fast), or an iterable of explicit steps.
    """

    def __init__(self, every=DEFAULT_EVERY):
        self.every = every
        self._steps: frozenset[int] | None = None
        if isinstance(every, Iterable) and not isinstance(every, str):
            self._steps = frozenset(int(s) for s in every)
        elif every != "log" and not (isinstance(every, Integral) and not isinstance(every, bool)
                                     and every >= 1):
            raise ConfigError(_("Probe: every must be an int ≥ 1, 'log' or a list of steps, got "
                                "{every!r}").format(every=every))

    def due(self, step: int) -> bool:
        if self._steps is not None:
            return step in self._steps
        if self.every == "log":
            if step <= 0:
                return step == 0
            k = round(10 * math.log10(step))
            return step == round(10 ** (k / 10))
        return step % self.every == 0 or step == 1

    def __repr__(self) -> str:
        return f"Cadence({self.every!r})"


@dataclass(frozen=True)
class ActivationInfo:
    """What the probes need to know about an activation (the class attributes of whynet's)."""

    name: str
    output_range: tuple[float, float] = (-math.inf, math.inf)
    saturating: bool = False
    max_derivative: float = 1.0


@dataclass
class LayerCapture:
    """The arrays one layer produced in a probe pass (all NumPy, never copied).

    ``weights`` maps a weight-like parameter's name (2-D or more: Dense/Linear, Conv) to
    ``(value, grad, bias)``, bias being the layer's bias value or None.
    """

    label: str
    kind: str
    x: np.ndarray | None = None
    out: np.ndarray | None = None
    activation: ActivationInfo | None = None
    fprime: np.ndarray | None = None
    dout: np.ndarray | None = None
    dx: np.ndarray | None = None
    weights: dict = field(default_factory=dict)
    slopes: np.ndarray | None = None
    batchnorm: tuple | None = None  # (running_mean, running_var, eps)


def _nonfinite_fraction(arrays) -> float:
    """The largest fraction of NaN/inf entries among ``arrays`` (0.0 when all are finite)."""
    worst = 0.0
    for a in arrays:
        if a is None:
            continue
        flat = a.ravel()
        # A dot product (BLAS, no temporary) is finite exactly when every entry is, barring an
        # overflow of the sum, which the exact test below then settles.
        with np.errstate(over="ignore", invalid="ignore"):
            if math.isfinite(float(np.dot(flat, flat))):
                continue
        bad = np.count_nonzero(~np.isfinite(flat))
        worst = max(worst, bad / flat.size)
    return worst


def _input_scale(X) -> tuple[float | None, float | None]:
    """(largest root mean square of an input feature, largest |input|) of the probe batch: a
    standardised feature has RMS 1."""
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.number) or X.size == 0:
        return None, None
    flat = X.reshape(len(X), -1).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        rms = float(np.sqrt(np.mean(flat ** 2, axis=0)).max())
        top = float(np.abs(flat).max())
    return (rms, top) if math.isfinite(rms) and math.isfinite(top) else (None, None)


class BaseProbe:
    """Measurement, records, histograms, findings and the callback protocol; subclasses capture.

    Subclasses implement ``_capture() -> (loss, accuracy or None, [LayerCapture…])`` (one probe
    pass, leaving training untouched) and ``_weight_arrays() -> [(label, suffix, array)…]`` (live
    weight arrays, for ‖ΔW‖/‖W‖).
    """

    def __init__(self, X, y, every=DEFAULT_EVERY, *, mode: str = "eval", bins: int = 50,
                 percentiles=stats.PERCENTILES, histograms: bool = True, jacobian: bool = False,
                 jacobian_max_units: int = 256, jacobian_examples: int = 16,
                 sparsity_eps: float = stats.SPARSITY_EPS, symmetry_tol: float = stats.SYMMETRY_TOL,
                 thresholds: Thresholds | None = None):
        owner = type(self).__name__
        if mode not in ("eval", "train"):
            raise ConfigError(_("{owner}: mode must be 'eval' or 'train', got {mode!r}")
                                .format(owner=owner, mode=mode))
        for arg, value in (("bins", bins), ("jacobian_max_units", jacobian_max_units),
                           ("jacobian_examples", jacobian_examples)):
            check_int(owner, arg, value)
        percentiles = tuple(check_number(owner, f"percentiles[{i}]", q, low=0.0, high=100.0)
                            for i, q in enumerate(percentiles))
        for arg, value in (("sparsity_eps", sparsity_eps), ("symmetry_tol", symmetry_tol)):
            check_number(owner, arg, value, low=0.0, low_open=True)
        if len(X) != len(y):
            raise ShapeError(_("{owner}: X has {n_x} examples but y has {n_y}")
                               .format(owner=owner, n_x=len(X), n_y=len(y)))
        if len(X) == 0:
            raise ShapeError(_("{owner}: the probe batch is empty").format(owner=owner))
        self.cadence = Cadence(every)
        self.mode = mode
        self.bins = int(bins)
        self.percentiles = percentiles
        self.keep_histograms = bool(histograms)
        self.jacobian = bool(jacobian)
        self.jacobian_max_units = int(jacobian_max_units)
        self.jacobian_examples = int(jacobian_examples)
        self.sparsity_eps = float(sparsity_eps)
        self.symmetry_tol = float(symmetry_tol)
        self.records = Records()
        self.histograms = Histograms()
        self.findings: list[Finding] = []
        self._rules = FindingRules(thresholds)
        self.context: Context | None = None
        self._input_scale = _input_scale(X)
        self._ranges: dict[str, tuple[float, float]] = {}
        self._snapshot: tuple[int, dict] | None = None
        self._last_step: int | None = None

    @property
    def thresholds(self) -> Thresholds:
        return self._rules.thresholds

    # -- what subclasses provide -------------------------------------------------------------------
    def _capture(self) -> tuple[float, float | None, list[LayerCapture]]:
        raise NotImplementedError

    def _weight_arrays(self) -> list[tuple[str, str, np.ndarray]]:
        raise NotImplementedError

    def _save_state(self):
        """What a train-mode probe pass would move (buffers, random generators)."""
        raise NotImplementedError

    def _restore_state(self, state) -> None:
        raise NotImplementedError

    @contextmanager
    def _untouched(self, params, modules):
        """Around a probe pass: put back the parameters' gradients, every module's train/eval
        mode and, for ``mode="train"``, the state the pass moves (:meth:`_save_state`)."""
        saved_grads = [p.grad for p in params]
        modes = [(m, m.training) for m in modules]
        saved_state = self._save_state() if self.mode == "train" else None
        try:
            yield
        finally:
            for p, g in zip(params, saved_grads):
                p.grad = g
            for m, flag in modes:
                m.training = flag
            if saved_state is not None:
                self._restore_state(saved_state)

    def _init_names(self) -> dict[str, str]:
        """Weight layer label → initialiser name, where the model keeps it."""
        return {}

    def _make_context(self, captures: list[LayerCapture], hidden: dict[str, int]) -> Context:
        """What the findings need to know beyond the records, from the first probe pass."""
        acts = {c.label: c.activation.name for c in captures if c.activation is not None}
        saturating = frozenset(c.label for c in captures
                               if c.activation is not None and c.activation.saturating)
        n_params = sum(int(w.size) for c in captures for w, _, _ in c.weights.values())
        rms, top = self._input_scale
        return Context(layers=tuple(c.label for c in captures), activations=acts,
                       saturating=saturating, units=dict(hidden), init=self._init_names(),
                       input_rms=rms, input_max=top, n_params=n_params,
                       n_examples=len(self.y))

    # -- measuring ---------------------------------------------------------------------------------
    def due(self, step: int) -> bool:
        """Whether ``step`` is on this probe's cadence."""
        return self.cadence.due(step)

    def measure(self, step: int) -> Records:
        """One probe pass at ``step``: append its records, histograms and findings; return the rows
        of this step."""
        loss, accuracy, captures = self._capture()
        rows = Records()
        rows.append(step, MODEL, "loss", loss)
        if accuracy is not None:
            rows.append(step, MODEL, "accuracy", accuracy)
        units: dict[str, int] = {}
        delta_norms: dict[str, float] = {}
        for i, cap in enumerate(captures):
            nxt = captures[i + 1] if i + 1 < len(captures) else None
            for quantity, value in self._layer_quantities(step, cap, nxt):
                rows.append(step, cap.label, quantity, value)
                if quantity == "output_grad_norm":
                    delta_norms[cap.label] = value
            for value, _grad, _delta in cap.weights.values():
                units[cap.label] = value.shape[0]
        weight_layers = [c.label for c in captures if c.weights]
        # The output layer's units start equal harmlessly: each class's target sets its row's
        # gradient apart. Symmetry matters for hidden units only.
        if weight_layers:
            units.pop(weight_layers[-1], None)
        if self.context is None:
            self.context = self._make_context(captures, units)
            self._rules.context = self.context
        # ‖∂L/∂z‖ is preserved from layer to layer by He (fan-in) initialisation whatever the
        # widths, so the first/last ratio reads directly as gradient flow through the depth.
        if len(weight_layers) >= 2 and all(la in delta_norms for la in weight_layers) \
                and delta_norms[weight_layers[-1]] > 0:
            rows.append(step, MODEL, "grad_ratio",
                        delta_norms[weight_layers[0]] / delta_norms[weight_layers[-1]])
        self.records.extend(rows)
        self._add_findings(step, rows)
        self._last_step = step
        return rows

    def _layer_quantities(self, step: int, cap: LayerCapture, nxt: LayerCapture | None):
        grads = [g for _, g, _ in cap.weights.values()]
        bad = _nonfinite_fraction([cap.out, cap.dx, cap.dout, *grads])
        if bad > 0:
            yield "nonfinite", bad
            return
        if cap.dx is not None:
            yield "input_grad_norm", stats.norm(cap.dx)
            yield "input_grad_mean_abs", stats.mean_abs(cap.dx)
        if cap.activation is not None and cap.out is not None:
            yield from self._activation_quantities(step, cap)
        if cap.weights:
            yield from self._weight_quantities(step, cap, nxt)
        if cap.batchnorm is not None and cap.x is not None:
            gap, ratio = stats.batchnorm_gap(cap.x, *cap.batchnorm)
            yield "bn_mean_gap", gap
            yield "bn_var_ratio", ratio

    def _activation_quantities(self, step: int, cap: LayerCapture):
        info, out = cap.activation, cap.out
        for name, value in stats.summary(out, self.percentiles).items():
            yield "act_" + name, value
        if out.ndim >= 2:
            yield "dead", stats.dead_fraction(out)
        sat = stats.saturation(out, cap.fprime, info.output_range, info.saturating,
                               info.max_derivative)
        if sat is not None:
            yield "saturated", sat
        if cap.fprime is not None:
            yield "deriv_mean", stats.mean_derivative(cap.fprime)
        if cap.slopes is not None:
            yield "alpha_mean", float(np.mean(cap.slopes))
            if cap.slopes.size > 1:
                yield "alpha_min", float(np.min(cap.slopes))
                yield "alpha_max", float(np.max(cap.slopes))
        if self.keep_histograms:
            if cap.label not in self._ranges:
                self._ranges[cap.label] = stats.histogram_range(out, info.output_range)
            self.histograms.add(make_entry(step, cap.label, "activation", out, self.bins,
                                           self._ranges[cap.label]))

    def _weight_quantities(self, step: int, cap: LayerCapture, nxt: LayerCapture | None):
        if cap.dout is not None:
            yield "output_grad_norm", stats.norm(cap.dout)
            yield "output_grad_mean_abs", stats.mean_abs(cap.dout)
            if self.keep_histograms:
                reach = float(np.abs(cap.dout).max())
                reach = reach if reach > 0 else 1.0
                self.histograms.add(make_entry(step, cap.label, "gradient", cap.dout, self.bins,
                                               (-reach, reach)))
        several = len(cap.weights) > 1
        for pname, (W, grad, bias) in cap.weights.items():
            sfx = f"[{pname}]" if several else ""
            yield "weight_norm" + sfx, stats.norm(W)
            yield "weight_scale" + sfx, stats.weight_scale(W)
            yield "weight_grad_norm" + sfx, stats.norm(grad)
            yield "weight_grad_mean_abs" + sfx, stats.mean_abs(grad)
            zero, small = stats.weight_sparsity(W, self.sparsity_eps)
            yield "weight_zero" + sfx, zero
            yield "weight_small" + sfx, small
            yield "sign_agreement" + sfx, stats.sign_agreement(grad)
            yield "distinct_units" + sfx, stats.distinct_units(W, bias, self.symmetry_tol)
            if self.jacobian and W.ndim == 2 and max(W.shape) <= self.jacobian_max_units:
                fprime = None
                if nxt is not None and nxt.fprime is not None and nxt.fprime.ndim == 2 \
                        and nxt.fprime.shape[1] == W.shape[0]:
                    fprime = nxt.fprime[:self.jacobian_examples]
                sv = stats.jacobian_singular_values(W, fprime)
                yield "jac_sv_mean" + sfx, float(sv.mean())
                yield "jac_sv_min" + sfx, float(sv.min())
                yield "jac_sv_max" + sfx, float(sv.max())

    def _add_findings(self, step: int, rows: Records) -> None:
        self.findings += self._rules.check(step, [(la, q, v) for _, la, q, v in rows])

    # -- the training-callback protocol (whynet.train.Callback) ---------------------------------
    def on_train_begin(self, ctx=None) -> None:
        self._snapshot = None

    def on_before_update(self, step: int, ctx=None) -> None:
        """At a due step: snapshot the weights (for ‖ΔW‖/‖W‖) and measure."""
        if not self.due(step):
            return
        self._snapshot = (step, {(label, sfx): w.copy() for label, sfx, w in self._weight_arrays()})
        self.measure(step)

    def on_step_end(self, step: int, loss: float | None = None, ctx=None) -> None:
        """Record ‖ΔW‖/‖W‖ of the step just taken (and the training loss) at a due step; a
        non-finite training loss at any step (a divergence is never missed between two
        measurements)."""
        if not self.due(step):
            if loss is not None and not math.isfinite(loss):
                rows = Records([(step, MODEL, "train_loss", loss)])
                self.records.extend(rows)
                self._add_findings(step, rows)
            return
        if self._last_step != step:  # a trainer that does not call on_before_update
            self.measure(step)
        rows = Records()
        if loss is not None:
            rows.append(step, MODEL, "train_loss", loss)
        if self._snapshot is not None and self._snapshot[0] == step:
            before = self._snapshot[1]
            for label, sfx, w in self._weight_arrays():
                if (label, sfx) in before:
                    ratio = stats.update_ratio(before[(label, sfx)], w)
                    if ratio is not None:
                        rows.append(step, label, "update_ratio" + sfx, ratio)
            self._snapshot = None
        self.records.extend(rows)
        self._add_findings(step, rows)

    def on_epoch_end(self, epoch: int, logs=None, ctx=None) -> None:
        pass

    def on_train_end(self, ctx=None) -> None:
        """Inside ``fit``: :meth:`finish` (a divergence that stopped the run between two
        measurements becomes a finding first)."""
        self._snapshot = None
        step = getattr(ctx, "step", None)
        history = getattr(ctx, "history", None)
        if step and getattr(history, "diverged", False):
            last = getattr(history, "divergence_loss", None)
            if last is not None and math.isfinite(last) and self._last_step != step:
                self.measure(step)  # stopped by a finite loss far above the start: look at it
            else:  # a non-finite loss stopped it
                rows = Records([(step, MODEL, "train_loss", math.nan)])
                self.records.extend(rows)
                self._add_findings(step, rows)
        self.finish()

    def finish(self) -> list[Finding]:
        """End of training: apply the end-of-run rules (underfitting, a run too short) to the
        measurements so far, once; returns the findings this added. ``fit`` calls it; a PyTorch
        loop calls it after its last step (measure that step for the freshest verdict)."""
        found = self._rules.finish()
        self.findings += found
        return found

    # -- presenting --------------------------------------------------------------------------------
    def ranked(self, lesson: str | None = None) -> list[Finding]:
        """The findings so far, most important first (``lesson``, a rule ID, before all)."""
        return rank(self.findings, lesson)

    def _repr_html_(self) -> str:
        rows = [[f.step, f.layer, f.question or "", f.message] for f in self.ranked()]
        caption = (f"{type(self).__name__}: {len(self.records.steps())} measurements, "
                   f"{len(self.findings)} findings")
        return html_table(["step", "layer", "question", "finding"], rows, caption)

    def save_html(self, path, title: str | None = None):
        """Write this run as a self-contained HTML replay (see :mod:`whynet.probes.replay`)."""
        return save_html(self, path, title)

    def report(self, lesson: str | None = None) -> str:
        """The findings so far, most important first, one per line (or a line saying there are
        none)."""
        if not self.findings:
            return "no findings"
        return "\n".join(str(f) for f in self.ranked(lesson))


def _activation_info(module) -> ActivationInfo:
    return ActivationInfo(name=module.name, output_range=tuple(module.output_range),
                          saturating=bool(module.saturating),
                          max_derivative=float(module.max_derivative))


def _kind(module) -> str:
    if isinstance(module, Activation):
        return module.name
    if isinstance(module, Dense):
        return "dense"
    return type(module).__name__.lower()


def _weights_of(module) -> dict:
    """Weight-like parameters (≥ 2-D) of a whynet layer, with the layer's bias for each."""
    params = dict(module.named_parameters(recurse=False))
    bias = params.get("b")
    out = {}
    for name, p in params.items():
        if p.value.ndim >= 2:
            b = bias.value if bias is not None and bias.value.shape == p.value.shape[:1] else None
            out[name] = (p.value, p.grad, b)
    return out


class Probe(BaseProbe):
    """Probes for a whynet ``Sequential``: records, histograms and findings on a fixed batch.

    Args:
        model: the ``Sequential`` to watch (its layers are not changed; hooks are attached only
            while measuring).
        X, y: the probe batch (a few hundred examples is plenty), kept fixed so that steps are
            comparable.
        loss_fn: a whynet loss (``SoftmaxCrossEntropy()``…) or its name (``"softmax_ce"``).
        every: cadence: an int, ``"log"``, or a list of steps (see :class:`Cadence`).
        mode: ``"eval"`` (default) or ``"train"``: the mode of the probe pass.
        bins: bins per histogram.
        percentiles: activation percentiles recorded as ``act_p1`` … .
        histograms: keep per-layer histograms.
        jacobian: record the Jacobian singular values of dense layers with at most
            ``jacobian_max_units`` inputs and outputs, on the first ``jacobian_examples`` examples
            (off by default: it costs O(m·n³)).
        sparsity_eps: |w| below this counts as near zero.
        symmetry_tol: relative tolerance of :func:`~whynet.probes.stats.distinct_units`.
        thresholds: the findings' :class:`~whynet.probes.findings.Thresholds`.

    Example::

        probe = Probe(model, X[:256], y[:256], "softmax_ce", every=10)
        fit(model, X, y, loss="softmax_ce", callbacks=[probe])
        probe.records.where(quantity="dead").to_dict()
        print(probe.report())              # findings, most important first

    ``probe.findings`` fill in as training goes (one per rule, with its question ID);
    ``probe.context`` is what the rules know beyond the records (activations, initialisers, input
    scale), set on the first measurement. At the end of ``fit`` the probe applies the end-of-run
    rules (:meth:`finish`) to its last measurements.

    Records per layer (``"<index>:<kind>"``): activations get ``act_mean``, ``act_std``,
    ``act_p1`` … ``act_p99``, ``dead``, ``saturated`` (saturating activations), ``deriv_mean``
    (mean f′(z)), ``alpha_mean`` (PReLU); every layer ``input_grad_norm`` and
    ``input_grad_mean_abs`` (∂L/∂input); weight layers ``output_grad_norm``/``_mean_abs`` (∂L/∂z),
    ``weight_norm``, ``weight_scale`` (‖W‖/√n_out: a unit's incoming-weight norm),
    ``weight_grad_norm``, ``weight_grad_mean_abs``, ``weight_zero``, ``weight_small``,
    ``sign_agreement``, ``distinct_units``, ``update_ratio`` and, when asked,
    ``jac_sv_mean``/``_min``/``_max``; BatchNorm ``bn_mean_gap`` and ``bn_var_ratio``. A layer
    whose arrays hold NaN or inf gets only ``nonfinite`` (the fraction of such values). The layer
    ``"model"`` has ``loss``, ``accuracy``, ``grad_ratio`` (‖∂L/∂z‖ of the first weight layer
    over that of the last) and ``train_loss``. Only the top-level layers are hooked: a nested
    ``Sequential`` is seen as one layer.
    """

    def __init__(self, model, X, y, loss_fn, every=DEFAULT_EVERY, **options):
        if not hasattr(model, "register_forward_hook") or not hasattr(model, "layers"):
            raise ConfigError(_("Probe: model must be a whynet Sequential, got {type} (for a "
                                "torch.nn.Module use whynet.probes.torch.TorchProbe)")
                                .format(type=type(model).__name__))
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(model.dtype)
        check_finite("Probe", "X", X)
        super().__init__(X, y, every, **options)
        self.model = model
        self.X = X
        self.y = np.asarray(y)
        if isinstance(loss_fn, str):
            loss_fn = get_loss(loss_fn)
        if not (hasattr(loss_fn, "forward") and hasattr(loss_fn, "backward")):
            raise ConfigError(_("Probe: loss_fn must be a whynet loss or its name, got {type}")
                                .format(type=type(loss_fn).__name__))
        # A copy, so the probe's pass never overwrites what the trainer's loss object keeps
        # between its forward and backward.
        self.loss_fn = copy.copy(loss_fn)

    def __repr__(self) -> str:
        return (f"Probe({len(self.model)} layers, probe batch {len(self.X)}, "
                f"every={self.cadence.every!r}, {len(self.records)} records, "
                f"{len(self.findings)} findings)")

    def layer_labels(self) -> list[str]:
        """``"<index>:<kind>"`` of each layer, the ``layer`` column of the records."""
        return [f"{i}:{_kind(m)}" for i, m in enumerate(self.model.layers)]

    def _init_names(self) -> dict[str, str]:
        return {label: m.init_name for label, m in zip(self.layer_labels(), self.model.layers)
                if isinstance(getattr(m, "init_name", None), str)}

    def _weight_arrays(self):
        several = {}
        out = []
        for label, m in zip(self.layer_labels(), self.model.layers):
            weights = _weights_of(m)
            several[label] = len(weights) > 1
            for name, (W, _grad, _delta) in weights.items():
                out.append((label, f"[{name}]" if several[label] else "", W))
        return out

    def _capture(self):
        model = self.model
        forward: dict[int, tuple] = {}
        backward: dict[int, tuple] = {}

        def on_forward(m, i, x, out):
            forward[i] = (x, out, m.derivative() if isinstance(m, Activation) else None)

        def on_backward(m, i, dout, dx):
            backward[i] = (dout, dx)

        params = model.parameters()
        # Running statistics as they were before this pass (a train-mode pass updates them).
        running = {i: (m.running_mean.copy(), m.running_var.copy(), getattr(m, "eps", 1e-5))
                   for i, m in enumerate(model.layers)
                   if hasattr(m, "running_mean") and hasattr(m, "running_var")}
        handles = [model.register_forward_hook(on_forward),
                   model.register_backward_hook(on_backward)]
        try:
            with self._untouched(params, model.modules()):
                for p in params:
                    p.grad = np.zeros_like(p.value)
                model.train(self.mode == "train")
                loss, accuracy = self._probe_pass()
                captures = self._to_captures(forward, backward, running)
        finally:
            for h in handles:
                h.remove()
        return loss, (None if accuracy is None else float(accuracy)), captures

    def _probe_pass(self) -> tuple[float, float | None]:
        """Forward and backward on the probe batch: ``(loss, accuracy)``, NaN and None when the
        logits are not finite (then no backward)."""
        model = self.model
        X = self.X.astype(model.dtype, copy=False)
        # The probe is an instrument: a diverged network must give NaN records and a
        # finding, not a FloatingPointError in the middle of training.
        loss, accuracy = math.nan, None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            logits = model.forward(X)
            if np.isfinite(logits).all():  # the losses refuse non-finite logits
                loss = float(self.loss_fn.forward(logits, self.y))
                accuracy = self.loss_fn.accuracy(logits, self.y) \
                    if hasattr(self.loss_fn, "accuracy") else None
                model.backward(self.loss_fn.backward())
        return loss, accuracy

    def _to_captures(self, forward, backward, running) -> list[LayerCapture]:
        """One :class:`LayerCapture` per top-level layer from what the hooks saw."""
        captures = []
        for i, (label, m) in enumerate(zip(self.layer_labels(), self.model.layers)):
            x, out, fprime = forward.get(i, (None, None, None))
            dout, dx = backward.get(i, (None, None))
            cap = LayerCapture(label=label, kind=label.split(":", 1)[1], x=x, out=out,
                               fprime=fprime, dout=dout, dx=dx, weights=_weights_of(m))
            if isinstance(m, Activation):
                cap.activation = _activation_info(m)
                own = dict(m.named_parameters(recurse=False))
                if "alpha" in own:
                    cap.slopes = own["alpha"].value
            cap.batchnorm = running.get(i)
            captures.append(cap)
        return captures

    def _save_state(self):
        """Buffers (BatchNorm's running statistics and batch count) and the random generators
        of every layer (for mode="train", whose pass would move them)."""
        buffers = {name: buf.copy() for name, buf in self.model.named_buffers()}
        generators = [(value, value.bit_generator.state) for m in self.model.modules()
                      for value in vars(m).values() if isinstance(value, np.random.Generator)]
        return buffers, generators

    def _restore_state(self, state) -> None:
        buffers, generators = state
        # Buffers only: the parameters were not changed by the probe's pass.
        self.model.load_state_dict(buffers, strict=False)
        for gen, st in generators:
            gen.bit_generator.state = st
