"""One lab session: a data set, a network and its trainer, the probe that watches it, and the
views the page draws. Plain synchronous Python; the server decides when it runs.

A frame (``frame(budget_s)``) trains for about ``budget_s`` seconds, then measures once:

* train and test loss and accuracy (evaluation mode, data loss without the penalty, as
  TensorFlow Playground shows it), appended to the history;
* the probe (:class:`whynet.probes.Probe`) on a fixed probe batch (up to 256 training points):
  gradient norm, update ratio ‖ΔW‖/‖W‖, dead and saturated fractions and weight sparsity per layer,
  the activation histograms, and the findings;
* the network's output on a grid over the data (the decision boundary) and every hidden unit's
  output on the same grid (the small heat maps).

The probe measures on the first step of the next frame, inside the trainer (``on_before_update``
/ ``on_step_end``), so the update ratio is that of a real training step.
"""

from __future__ import annotations

import base64
import math
import time

import numpy as np

from ..config import build, build_regularizer
from ..errors import DivergenceError, WhynetError
from ..i18n import _
from ..nn.activations import Activation
from ..nn.layers import Dense
from ..probes import RULE_QUESTIONS, Probe, stats
from ..probes.findings import Finding, rank
from ..random import make_rng
from ..train import Trainer
from .schema import LabConfig

GRID = 100         # the boundary image is GRID × GRID (TensorFlow Playground's resolution)
UNIT_GRID = 50     # each unit's heat map is UNIT_GRID × UNIT_GRID (every second grid point): small
                   # in the network drawing, and large enough to show alone in the output panel
UNBOUNDED_PCT = 98  # an unbounded unit's map is coloured up to this percentile of its |value|
PROBE_POINTS = 256
HIST_BINS = 30
MAX_HISTORY = 2000  # rows; above it every other row is dropped (curves keep their shape)

# Fields that change how the network trains from now on, not what it is: changing only these
# keeps the data, the weights and the history (the optimiser and the penalty are updated in place).
TUNABLE = frozenset({"lr", "reg_rate", "regularizer"})


class ParameterError(WhynetError, ValueError):
    """A hand edit names a weight or bias the network does not have."""


def _unit_map(values: np.ndarray, lo: float, hi: float) -> dict:
    """One unit's (or input's) output over the picture as a colour map: bytes 0…255 for
    t ∈ [-1, 1] (orange … white … blue), and the range of the values.

    A bounded activation is coloured on its own range (sigmoid's 0.5 and tanh's 0 are white);
    an unbounded one (ReLU…) on ±the 98th percentile of |value|, so one large corner does not
    wash the rest out; ``scale`` says what full colour means.
    """
    if math.isfinite(lo) and math.isfinite(hi):
        t, scale = (values - (lo + hi) / 2) / ((hi - lo) / 2), (hi - lo) / 2
    else:
        scale = float(np.percentile(np.abs(values), UNBOUNDED_PCT)) if values.size else 0.0
        t = values / scale if scale > 0 else values * 0
    q = np.round((np.clip(t, -1, 1) + 1) * 127.5)
    return {"map": _b64(q), "min": _num(values.min()), "max": _num(values.max()),
            "scale": _num(scale)}


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def _num(v) -> float | None:
    """A JSON-safe float: NaN and ±inf become None (JSON has no spelling for them)."""
    v = float(v)
    return v if math.isfinite(v) else None


class _FrameCadence:
    """The probe's cadence: measure at the one step the session asks for (the first of a frame)."""

    every = "frame"

    def __init__(self):
        self.step: int | None = None

    def due(self, step: int) -> bool:
        return step == self.step


class LabSession:
    """A network training on a toy data set, measured for the page.

    Attributes: ``config``, ``step`` (updates done), ``epoch`` (passes over the training set, a
    float), ``run`` (bumped on every reset, so a stream knows to start its curves again),
    ``stopped`` (why training stopped by itself: divergence, the step limit or an error, in the
    language in force; None otherwise), ``lesson`` (a finding rule ranked first: a preset's own
    lesson; None for none), ``findings`` (ranked, said in the language in force).
    """

    def __init__(self, config: LabConfig, max_steps: int = 200_000, lesson: str | None = None):
        self.max_steps = max_steps
        self.run = 0
        self.lesson = lesson
        self.configure(config)

    # -- building ----------------------------------------------------------------------------------
    def configure(self, config: LabConfig) -> None:
        """Build everything from ``config`` (a new data set, network and history). If only
        learning rate or regularisation (:data:`TUNABLE`) changed, the run goes on with them
        instead. If the engine refuses the configuration, the session is left as it was and the
        error raised."""
        old = getattr(self, "config", None)
        if old is not None and config != old and all(
                getattr(config, f) == getattr(old, f)
                for f in LabConfig.model_fields if f not in TUNABLE):
            self._tune(config)
            return
        before = dict(self.__dict__)
        try:
            self._build(config)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _tune(self, config: LabConfig) -> None:
        """Go on training with ``config``'s learning rate and penalty: same weights, same
        optimiser state (momentum, Adam's moments), same history."""
        self.run_config = config.to_run_config()
        self.trainer.optimizer.lr = self.run_config.lr
        reg = build_regularizer(self.run_config)
        self.trainer.regularizer = reg
        self.trainer.ctx.regularizer = reg
        self.config = config

    def _build(self, config: LabConfig) -> None:
        """Data, network, optimiser and penalty through the one front door
        (:func:`whynet.config.build` of :meth:`LabConfig.to_run_config`), so the lab's run is the
        run ``whynet train`` makes of the same settings: same points, weights and batches."""
        self.config = config
        self.run_config = config.to_run_config()
        run = build(self.run_config)
        self.train_set, self.test_set = run.examples.train, run.examples.test  # the 2-D points
        self.inputs = run.inputs  # features and scaling, for the pictures' grid too
        self.data = run.data      # the network's inputs and targets
        self.X_train, self.y_train = run.data.train
        self.X_test, self.y_test = run.data.test
        self._make_grid()
        self.reset(run)

    def reset(self, run=None) -> None:
        """New weights from the config's seed, a fresh optimiser and history; same data.

        ``run`` is a :func:`whynet.config.build` of this session's configuration (built here
        on the session's data when not given)."""
        cfg = self.run_config
        if run is None:
            run = build(cfg, data=self.data)
        self.model, self.loss_fn = run.model, run.loss
        self._cadence = _FrameCadence()
        n_probe = min(PROBE_POINTS, len(self.X_train))
        # The lab draws its own histograms, on one value axis shared by all layers, so that a
        # layer narrower than the one before (questions I2, I3) looks narrower.
        self.probe = Probe(self.model, self.X_train[:n_probe], self.y_train[:n_probe],
                           type(self.loss_fn)(), histograms=False)
        self.probe.cadence = self._cadence
        self.trainer = Trainer(self.model, self.loss_fn, run.optimizer, run.regularizer,
                               callbacks=[self.probe])
        # whynet.train.fit's minibatches: a permutation per epoch from a Generator of the seed.
        self._batch_rng = make_rng(cfg.seed)
        self._order = np.empty(0, dtype=np.int64)
        self._pos = 0
        self.step = 0
        self.step_loss: float | None = None  # the loss of the last step (penalty included)
        self.epoch_count = 0
        self._stopped: tuple[str, object] | None = None  # (kind, say)
        self.run += 1
        self.history: dict[str, list] = {}
        self.history_version = 0
        self._found: list[tuple[Finding, str]] = []   # (finding, layer label)
        self.layers = self._layer_table()
        self._last: dict[str, float] = {}
        self.view: dict = {}
        self.measure()

    def _layer_table(self) -> list[dict]:
        """One row per weight layer: its probe labels and how the page names it."""
        table, current = [], None
        labels = self.probe.layer_labels()
        for label, module in zip(labels, self.model.layers):
            if isinstance(module, Dense):
                current = {"dense": label, "activation": None, "units": module.W.shape[0]}
                table.append(current)
            elif isinstance(module, Activation) and current is not None:
                current["activation"] = label
                current["saturating"] = bool(module.saturating)
        for k, row in enumerate(table):
            last = k == len(table) - 1
            row["hidden"] = None if last else k + 1
            row["act_name"] = None if last else self.config.layers[k].activation
        return table

    @staticmethod
    def _row_name(row: dict) -> str:
        """How the page names a weight layer, in the language in force."""
        return _("output") if row["hidden"] is None else _("hidden {k}").format(k=row["hidden"])

    def _make_grid(self) -> None:
        pts = np.concatenate([self.train_set.X, self.test_set.X])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * 1.1 + 1e-6
        self.extent = [float(centre[0] - half), float(centre[0] + half),
                       float(centre[1] - half), float(centre[1] + half)]
        # Row 0 is the top of the picture (largest x2), as the page's canvas draws it.
        xs = np.linspace(self.extent[0], self.extent[1], GRID, dtype=np.float32)
        ys = np.linspace(self.extent[3], self.extent[2], GRID, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)
        self.grid = self.inputs.array(np.column_stack([gx.ravel(), gy.ravel()]))
        # Each input feature over the picture, as the network drawing's first column shows it.
        sub = self.grid.reshape(GRID, GRID, -1)[::GRID // UNIT_GRID, ::GRID // UNIT_GRID]
        self.input_maps = [_unit_map(sub[..., j].astype(np.float64), -np.inf, np.inf)
                           for j in range(sub.shape[-1])]

    # -- editing one parameter -----------------------------------------------------------------
    def set_parameter(self, layer: int, kind: str, unit: int, source: int | None,
                      value: float) -> None:
        """Set one weight or bias by hand, as Playground's click-to-edit does, and redraw.

        ``layer`` counts weight layers from the input (0 … hidden layers; the last is the
        output); ``unit`` is the unit of that layer, ``source`` the unit (or input feature) of
        the layer before, for a weight. Training goes on from the edited network.
        """
        dense = [m for m in self.model.layers if isinstance(m, Dense)]
        if not 0 <= layer < len(dense):
            raise ParameterError(_("layer must be 0 to {top}, got {layer}").format(
                top=len(dense) - 1, layer=layer))
        W = dense[layer].W.value
        if not 0 <= unit < W.shape[0]:
            raise ParameterError(_("unit must be 0 to {top} in layer {layer}, got {unit}").format(
                top=W.shape[0] - 1, layer=layer, unit=unit))
        if kind == "weight":
            if source is None or not 0 <= source < W.shape[1]:
                raise ParameterError(_("source must be 0 to {top} for a weight of layer {layer}, "
                                       "got {source}").format(top=W.shape[1] - 1, layer=layer,
                                                              source=source))
            W[unit, source] = value
        else:
            if dense[layer].b is None:
                raise ParameterError(_("layer {layer} has no bias (batch norm follows it)")
                                     .format(layer=layer))
            dense[layer].b.value[unit] = value
        self.measure()

    # -- training ----------------------------------------------------------------------------------
    def _next_batch(self) -> np.ndarray:
        """The next minibatch's rows, as :func:`whynet.train.fit` draws them: each epoch a new
        permutation, every example once, the last batch smaller when the size does not divide.
        With batch norm a last batch of one example is skipped (its variance is 0)."""
        bs, m = self.config.batch_size, len(self._order)
        if self._pos >= m or (self.config.batchnorm and self._pos == m - 1):
            self._order = self._batch_rng.permutation(len(self.X_train))
            self._pos = 0
            self.epoch_count += 1
        idx = self._order[self._pos:self._pos + bs]
        self._pos += bs
        return idx

    def _train_step(self) -> bool:
        """One update; False (and ``stopped`` set) when training cannot go on."""
        if self.step >= self.max_steps:
            n = self.max_steps
            self._stopped = ("limit", lambda: _("stopped at the lab's limit of {n:,} steps; reset "
                                                "to go on").format(n=n))
            return False
        idx = self._next_batch()
        try:
            # Overflow in a diverging network is an outcome to show, not a warning to print.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                self.step_loss = self.trainer.train_step(self.X_train[idx], self.y_train[idx])
        except DivergenceError as e:
            self._diverged(self.step + 1, e.loss)
            return False
        self.step = self.trainer.step
        return True

    def _diverged(self, step: int, loss: float | None) -> None:
        """Training diverged at ``step`` (``loss``: where the loss went, None when not finite):
        stop, and say so as a finding too."""
        def said():
            if loss is None or not math.isfinite(loss):
                return _("training diverged at step {step}: the loss is not finite").format(
                    step=step)
            return _("training diverged at step {step}: the loss reached {loss:.3g}, far above "
                     "where it started").format(step=step, loss=loss)

        def say():
            return _("{what}. The learning rate is too large for this network; lower it and "
                     "reset.").format(what=said())
        self._stopped = ("diverged", said)
        self._found.append((Finding(step, "model", "nonfinite", math.nan, say(),
                                    RULE_QUESTIONS["nonfinite"], say), "model"))

    def stop_by_error(self, error: Exception) -> None:
        """Stop training because the engine raised ``error`` (a bug: this session only)."""
        name, text = type(error).__name__, str(error)
        self._stopped = ("error", lambda: _("training stopped by an error: {name}: {text}")
                         .format(name=name, text=text))

    @property
    def stopped(self) -> str | None:
        """Why training stopped by itself, in the language in force (None: it did not)."""
        return None if self._stopped is None else self._stopped[1]()

    @property
    def stopped_kind(self) -> str | None:
        """``"limit"`` (the step cap: information), ``"diverged"``, ``"error"`` or None."""
        return None if self._stopped is None else self._stopped[0]

    @property
    def findings(self) -> list[dict]:
        """The findings so far, ranked (the lesson first), said in the language in force."""
        names = {id(f): label for f, label in self._found}
        return [{"step": f.step, "layer": self._layer_name(names[id(f)]), "rule": f.rule,
                 "question": f.question, "text": f.text()}
                for f in rank([f for f, _label in self._found], self.lesson)]

    def train(self, steps: int) -> int:
        """Up to ``steps`` updates (fewer if training stops), the last one measured by the probe.
        Returns the number of steps done."""
        done = 0
        self._cadence.step = self.step + steps
        while done < steps and self._train_step():
            done += 1
        self.measure()
        return done

    def frame(self, budget_s: float, max_steps: int | None = None) -> int:
        """Train for about ``budget_s`` seconds (and at most ``max_steps`` steps), the last step
        measured by the probe. Returns the number of steps done."""
        t_end = time.perf_counter() + budget_s
        done = 0
        while max_steps is None or done < max_steps:
            last = time.perf_counter() >= t_end or (max_steps is not None
                                                    and done == max_steps - 1)
            if last:
                self._cadence.step = self.step + 1
            if not self._train_step():
                break
            done += 1
            if last:
                break
        self.measure()
        return done

    # -- measuring ---------------------------------------------------------------------------------
    def _forward_eval(self, X: np.ndarray, keep: bool = False):
        """Logits in evaluation mode, layer by layer (no hooks), and ``(activation, output)`` of
        each hidden activation when ``keep``."""
        model = self.model
        was = model.training
        model.eval()
        hidden = []
        try:
            h = X
            for module in model.layers:
                h = module.forward(h)
                if keep and isinstance(module, Activation):
                    hidden.append((module, h))
        finally:
            model.train(was)
        return h, hidden

    def _loss_acc(self, X, y) -> tuple[float | None, float | None]:
        logits, _ = self._forward_eval(X)
        if not np.isfinite(logits).all():
            return None, None
        acc = self.loss_fn.accuracy(logits, y)  # None for a regression set
        return _num(self.loss_fn.forward(logits, y)), None if acc is None else _num(acc)

    def measure(self) -> None:
        """Record one history row and rebuild the view (boundary, heat maps, histograms…)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if not len(self.probe.records):
                # No training step was measured (a reset, or training had stopped): measure now.
                self.probe.measure(self.step)
            rows = list(self.probe.records)
            # The probe's table grows without bound; the lab keeps only what it shows.
            self.probe.records = type(self.probe.records)()
            latest = {(layer, q): v for _, layer, q, v in rows}
            train = self._loss_acc(self.X_train, self.y_train)
            test = self._loss_acc(self.X_test, self.y_test)
            self._record(train, test, latest)
            self._take_findings()
            self.view = self._build_view(latest)

    def _record(self, train, test, latest) -> None:
        row = {"step": self.step, "train_loss": train[0], "test_loss": test[0],
               "train_acc": train[1], "test_acc": test[1]}
        for k, layer in enumerate(self.layers, start=1):
            d, a = layer["dense"], layer["activation"]
            row[f"grad_norm:{k}"] = latest.get((d, "weight_grad_norm"))
            row[f"update_ratio:{k}"] = latest.get((d, "update_ratio"))
            if a is not None:
                row[f"dead:{k}"] = latest.get((a, "dead"))
                row[f"saturated:{k}"] = latest.get((a, "saturated"))
        for key, value in row.items():
            self.history.setdefault(key, []).append(None if value is None else _num(value))
        if len(self.history["step"]) > MAX_HISTORY:
            for key in self.history:
                self.history[key] = self.history[key][::2]
            self.history_version += 1
        self._last = row

    def _take_findings(self) -> None:
        for f in self.probe.findings:
            if f.rule == "nonfinite" and any(g.rule == "nonfinite" for g, _la in self._found):
                continue  # the trainer's divergence already said it, naming the step
            self._found.append((f, f.layer))
        self.probe.findings.clear()
        del self._found[:-50]

    def _layer_name(self, label: str) -> str:
        for row in self.layers:
            if label in (row["dense"], row["activation"]):
                return self._row_name(row)
        return _("network") if label == "model" else label

    def _histograms(self) -> list[dict | None]:
        """Each hidden layer's activations on the probe batch, binned over one shared range."""
        _, hidden = self._forward_eval(self.probe.X, keep=True)
        acts = [a[np.isfinite(a)] for _, a in hidden]
        present = [a for a in acts if a.size]
        if not present:
            return [None] * len(acts)
        lo = min(float(a.min()) for a in present)
        hi = max(float(a.max()) for a in present)
        if not hi - lo > 1e-6:
            lo, hi = lo - 1e-3, hi + 1e-3
        edges = [_num(e) for e in np.linspace(lo, hi, HIST_BINS + 1)]
        return [{"edges": edges, "counts": stats.histogram(a, HIST_BINS, (lo, hi)).tolist()}
                if a.size else None for a in acts]

    def _build_view(self, latest) -> dict:
        logits, hidden = self._forward_eval(self.grid, keep=True)
        if self.config.regression:
            # The predicted value on the targets' scale, −1 (orange) … 1 (blue).
            p = (np.clip(np.nan_to_num(logits[:, 0]), -1, 1) + 1) / 2
        else:
            p = 1.0 / (1.0 + np.exp(-np.clip(np.nan_to_num(logits[:, 0]), -30, 30)))
        boundary = _b64(np.round(p * 255))
        units = []
        step = GRID // UNIT_GRID
        for act, out in hidden:
            maps = out.reshape(GRID, GRID, -1)[::step, ::step]
            maps = np.nan_to_num(maps, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float64)
            lo, hi = (float(v) for v in act.output_range)
            units.append([_unit_map(maps[..., j], lo, hi) for j in range(maps.shape[-1])])
        hists = self._histograms()
        layers = []
        for k, row in enumerate(self.layers, start=1):
            d, a = row["dense"], row["activation"]
            entry = {"hidden": row["hidden"], "activation": row["act_name"], "units": row["units"],
                     "saturating": row.get("saturating", False),
                     "grad_norm": _opt(latest.get((d, "weight_grad_norm"))),
                     "update_ratio": _opt(latest.get((d, "update_ratio"))),
                     "weight_norm": _opt(latest.get((d, "weight_norm"))),
                     "weight_small": _opt(latest.get((d, "weight_small"))),
                     "distinct_units": _opt(latest.get((d, "distinct_units"))),
                     "dead": None, "saturated": None, "act_std": None, "histogram": None}
            if a is not None:
                entry["dead"] = _opt(latest.get((a, "dead")))
                entry["saturated"] = _opt(latest.get((a, "saturated")))
                entry["act_std"] = _opt(latest.get((a, "act_std")))
                entry["histogram"] = hists[k - 1]
            layers.append(entry)
        return {"boundary": {"size": GRID, "extent": self.extent, "p": boundary},
                "units": units, "unit_grid": UNIT_GRID, "layers": layers,
                "inputs": self.input_maps, "network": self._parameters()}

    def _parameters(self) -> list[dict]:
        """Each weight layer's ``W`` (rows: its units; columns: the units before) and ``b``,
        rounded for the drawing (None where not finite)."""
        out = []
        for m in self.model.layers:
            if isinstance(m, Dense):
                W = np.round(m.W.value.astype(np.float64), 4)
                b = None if m.b is None else np.round(m.b.value.astype(np.float64), 4)
                out.append({"W": [[_num(v) for v in row] for row in W],
                            "b": None if b is None else [_num(v) for v in b]})
        return out

    # -- what the page receives --------------------------------------------------------------------
    def points(self) -> dict:
        def pts(ds):
            y = np.round(ds.y.astype(np.float64), 4) if self.config.regression else ds.y
            return {"x": np.round(ds.X, 4).tolist(), "y": y.tolist()}
        return {"train": pts(self.train_set), "test": pts(self.test_set)}

    def state(self, cursor: dict | None = None) -> dict:
        """Everything the page draws.

        ``cursor`` (a dict the caller keeps between calls, one per stream) makes the history
        incremental: only rows the caller has not seen are sent. After a reset, or when the
        history was thinned, ``history.full`` is true, all rows are sent, and the data points too
        (they change only then).
        """
        full = cursor is None or cursor.get("run") != self.run \
            or cursor.get("history_version") != self.history_version
        start = 0 if full else cursor["rows"]
        n = len(self.history["step"])
        if cursor is not None:
            cursor.update(run=self.run, history_version=self.history_version, rows=n)
        columns = list(self.history)
        last = self._last
        view = dict(self.view)
        view["layers"] = [{**row, "name": self._row_name(row)} for row in view.get("layers", [])]
        return {
            "run": self.run, "step": self.step, "epoch": self.epoch_count,
            "stopped": self.stopped, "stopped_kind": self.stopped_kind,
            "config": self.config.model_dump(),
            "problem": "regression" if self.config.regression else "classification",
            "metrics": {k: last.get(k) for k in ("train_loss", "test_loss", "train_acc",
                                                 "test_acc")},
            "history": {"full": full, "columns": columns,
                        "rows": [[self.history[c][i] for c in columns] for i in range(start, n)]},
            "points": self.points() if full else None,
            "findings": self.findings,
            **view,
        }


def _opt(v):
    return None if v is None else _num(v)
