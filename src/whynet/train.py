"""The training loop: minibatches, epochs, callbacks, history, early stopping, a progress bar.

Two levels, as in cs231n's ``Solver``:

* :class:`Trainer` does one step: ``train_step(xb, yb)`` = zero_grad → forward → loss (+ penalty)
  → backward → regulariser gradient → callbacks' ``on_before_update`` → clip → optimiser step →
  regulariser ``after_step``. The web lab and experiments that need their own loop use it alone.
* :func:`fit` runs epochs of seeded, shuffled minibatches through a Trainer, evaluates on
  validation data, records a :class:`History`, and stops early or on divergence.

Numbering: steps and epochs count from 1. Step k is the k-th minibatch update (``History.steps``
holds the loss of step k at index k − 1); epoch e is the e-th pass over the data.

Divergence, as a PyTorch user means it: the loss of step k is not finite (NaN or ±inf, or NumPy
overflowed / hit an invalid operation during the step — each step runs under
``np.errstate(over="raise", invalid="raise", divide="raise")``), or it is more than
:data:`DIVERGENCE_FACTOR` (100) times the *starting loss*: the loss of the initial weights on the
first (up to) 1024 training examples, measured once before the first step in evaluation mode
(no randomness drawn, hooks paused, so the run is unchanged). Either stops the fit, keeps the
history so far (the steps of the interrupted epoch in ``history.partial_epoch``) and sets
``history.diverged`` and ``history.stopped`` ("diverged at step k …") — a finding, not a
traceback. A non-finite loss stops *before* the update; a loss above the bound is recorded (the
update was made) and then training stops. Pass ``raise_on_divergence=True`` to get a
:class:`~whynet.errors.DivergenceError` carrying the history, ``divergence_factor=None`` to stop
only on non-finite losses.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from .errors import (ConfigError, DivergenceError, NonFiniteError, ShapeError, check_finite,
                     check_int, check_number)
from .i18n import _
from .nn.losses import get_loss
from .notebook import html_table
from .nn.module import Module, Sequential
from .nn.norm import BatchNorm1d
from .optim import Optimizer, clip_grad_norm, get_optimizer
from .random import make_rng

#: fit stops when a step's loss exceeds this many times the starting loss. 100× is far beyond
#: minibatch noise (a healthy run's loss falls from its starting value) and far below what a
#: diverging run reaches (Adam at lr 1e3 on moons: ~5000×; SGD at lr 10: ~1e25).
DIVERGENCE_FACTOR = 100.0

#: How many training examples the starting loss is measured on.
STARTING_EXAMPLES = 1024

CALLBACK_METHODS = ("on_train_begin", "on_before_update", "on_step_end", "on_epoch_end",
                    "on_train_end")


class Callback:
    """Base class of training callbacks; every method is optional (these defaults do nothing).

    ``ctx`` is the :class:`TrainContext` of the run: ``ctx.model``, ``ctx.optimizer``,
    ``ctx.loss_fn``, ``ctx.history``, ``ctx.step``, ``ctx.epoch``; set ``ctx.stop = True`` to end
    training after the current step. Any object with some of these methods works as a callback
    (the LR schedules of :mod:`whynet.optim` do: they step in ``on_epoch_end``).
    """

    def on_train_begin(self, ctx: "TrainContext") -> None:
        """Before the first step."""

    def on_before_update(self, step: int, ctx: "TrainContext") -> None:
        """Gradients are ready (regulariser included), weights not yet changed."""

    def on_step_end(self, step: int, loss: float, ctx: "TrainContext") -> None:
        """After the optimiser's update; ``loss`` is the step's loss (before the update)."""

    def on_epoch_end(self, epoch: int, logs: dict, ctx: "TrainContext") -> None:
        """After validation; ``logs`` holds ``loss``, ``acc``, ``lr`` and ``val_*`` if any."""

    def on_train_end(self, ctx: "TrainContext") -> None:
        """After the last step, also after early stopping or divergence."""


class Every(Callback):
    """Call ``fn(step, ctx)`` every ``k`` optimiser steps (after the update), and once before
    the first step when ``at_start``; whatever ``fn`` returns (if not None) is appended to
    ``self.values``, with the step in ``self.steps``.

    >>> norms = Every(10, lambda step, ctx: float(np.linalg.norm(ctx.model.layers[0].W.value)))
    """

    def __init__(self, k: int, fn, at_start: bool = True):
        self.k, self.fn, self.at_start = check_int("Every", "k", k), fn, at_start
        self.steps: list[int] = []
        self.values: list = []

    def _call(self, step: int, ctx: "TrainContext") -> None:
        out = self.fn(step, ctx)
        if out is not None:
            self.steps.append(step)
            self.values.append(out)

    def on_train_begin(self, ctx: "TrainContext") -> None:
        if self.at_start:
            self._call(0, ctx)

    def on_step_end(self, step: int, loss: float, ctx: "TrainContext") -> None:
        if step % self.k == 0:
            self._call(step, ctx)


class TrainContext:
    """What callbacks see: the objects of the run and where it stands.

    ``metrics`` lists the keys that ``on_epoch_end`` logs will carry.
    """

    def __init__(self, model, optimizer, loss_fn, regularizer=None, history=None):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.regularizer = regularizer
        self.history = history if history is not None else History()
        self.step = 0
        self.epoch = 0
        self.stop = False
        self.metrics: tuple[str, ...] = ("loss", "acc", "lr")


class History:
    """What a fit recorded, ready for plots and JSON.

    Attributes:
        epochs: dict of per-epoch lists: ``loss`` and ``acc`` (means over the epoch's minibatches,
            weighted by their sizes, in training mode while the weights move, as Keras reports
            them; ``acc`` is None for regression losses), ``val_loss`` and ``val_acc`` (after the
            epoch, in evaluation mode; empty without validation data), ``lr`` (the lr used).
            Losses include the regulariser's penalty.
        steps: the loss of every step, when ``record_steps=True`` (else empty).
        stopped: why training ended before its last epoch (early stopping, divergence, a
            callback), or None.
        diverged: True when divergence (a non-finite loss, or one above ``divergence_factor``
            times the starting loss) stopped training.
        partial_epoch: the epoch divergence interrupted, when it had made steps: a dict with
            ``epoch``, ``steps`` (made in it), ``examples``, ``loss`` and ``acc`` (means over those
            steps, as for a whole epoch) and ``lr``; else None. ``epochs`` holds whole epochs.
        best_epoch: the epoch whose weights early stopping restored, or None.
    """

    def __init__(self):
        self.epochs: dict[str, list] = {"loss": [], "acc": [], "val_loss": [], "val_acc": [],
                                        "lr": []}
        self.steps: list[float] = []
        self.stopped: str | None = None
        self.diverged = False
        self.divergence_loss: float | None = None  # the finite loss that stopped it, if any
        self.best_epoch: int | None = None
        self.partial_epoch: dict | None = None
        self._steps_per_epoch: list[int] = []

    def __len__(self) -> int:
        return len(self.epochs["loss"])

    def to_dict(self) -> dict:
        """Plain lists, floats, None and strings only: ``json.dumps(history.to_dict())`` works."""
        def clean(v):
            return None if v is None else float(v)
        return {"epochs": {k: [clean(v) for v in vals] for k, vals in self.epochs.items()},
                "steps": [float(v) for v in self.steps],
                "stopped": self.stopped, "diverged": self.diverged, "best_epoch": self.best_epoch,
                "partial_epoch": None if self.partial_epoch is None else
                {k: clean(v) if k in ("loss", "acc", "lr") else v
                 for k, v in self.partial_epoch.items()}}

    def steps_before(self, epoch: int) -> int:
        """Steps made in the whole epochs before ``epoch``."""
        return sum(self._steps_per_epoch[:epoch - 1])

    def __repr__(self) -> str:
        last = f", last loss {self.epochs['loss'][-1]:.4g}" if len(self) else ""
        if self.partial_epoch:
            last += f", then {self.partial_epoch['steps']} step(s) of epoch " \
                    f"{self.partial_epoch['epoch']}"
        end = f", stopped: {self.stopped}" if self.stopped else ""
        return f"History({len(self)} epochs{last}{end})"

    def _repr_html_(self) -> str:
        keys = [k for k, v in self.epochs.items() if any(x is not None for x in v)]
        rows = [[e + 1, *(self.epochs[k][e] for k in keys)] for e in range(len(self))]
        caption = repr(self) if self.stopped else f"History: {len(self)} epochs"
        return html_table(["epoch", *keys], rows, caption, max_rows=50)


class _divergence_guard:
    """Turn NumPy floating-point errors (overflow, invalid operations, division by zero raise
    here instead of printing RuntimeWarnings) and non-finite values caught by a loss into a
    DivergenceError naming the step.

    A class rather than a ``contextmanager`` generator: a training step enters three of these,
    and a tiny network's step takes ~0.1 ms."""

    __slots__ = ("step", "_errstate")

    def __init__(self, step: int):
        self.step = step
        self._errstate = np.errstate(over="raise", invalid="raise", divide="raise")

    def __enter__(self) -> None:
        self._errstate.__enter__()

    def __exit__(self, kind, exc, tb) -> bool:
        self._errstate.__exit__(kind, exc, tb)
        if isinstance(exc, (FloatingPointError, NonFiniteError)) and not isinstance(
                exc, DivergenceError):
            raise DivergenceError(_("training diverged at step {step}: {reason}")
                                    .format(step=self.step, reason=exc), self.step) from exc
        return False


class Trainer:
    """One training step at a time, in the contract's order.

    Args:
        model: a :class:`~whynet.nn.module.Module` (usually a Sequential).
        loss: a loss object or a name for :func:`whynet.nn.losses.get_loss`.
        optimizer: an :class:`~whynet.optim.Optimizer`, or a name (default hyperparameters).
        regularizer: an L1/L2/ElasticNet object or None; its penalty is added to the loss.
        clip_norm: if set, gradients are clipped to this joint norm before each update.
        callbacks: objects with any of the :class:`Callback` methods.

    Attributes: ``step`` (updates done), ``logits`` (output of the last step), ``last_grad_norm``
    (norm before clipping, when clipping), ``ctx`` (the :class:`TrainContext`).
    """

    def __init__(self, model: Module, loss, optimizer, regularizer=None, clip_norm=None,
                 callbacks=()):
        if not isinstance(model, Module):
            raise ConfigError(_("Trainer: model must be a whynet Module, got {type}")
                                .format(type=type(model).__name__))
        self.model = model
        self.loss_fn = get_loss(loss) if isinstance(loss, str) else loss
        self.params = model.parameters()
        self.optimizer = get_optimizer(optimizer, self.params) if isinstance(optimizer, str) \
            else optimizer
        if not isinstance(self.optimizer, Optimizer):
            raise ConfigError(_("Trainer: optimizer must be a name or an Optimizer, got {type}")
                                .format(type=type(optimizer).__name__))
        self.regularizer = regularizer
        if clip_norm is not None:
            check_number("Trainer", "clip_norm", clip_norm, low=0.0, low_open=True)
        self.clip_norm = clip_norm
        self.callbacks = list(callbacks)
        self._hooks = {name: [getattr(cb, name) for cb in self.callbacks if hasattr(cb, name)]
                       for name in CALLBACK_METHODS}
        self.ctx = TrainContext(model, self.optimizer, self.loss_fn, regularizer)
        self.step = 0
        self.logits: np.ndarray | None = None
        self.last_grad_norm: float | None = None

    def _call(self, hook: str, *args) -> None:
        for fn in self._hooks[hook]:
            fn(*args, self.ctx)

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> float:
        """One update on the minibatch ``(xb, yb)``; returns its loss (penalty included).

        Raises :class:`~whynet.errors.DivergenceError` (weights not updated) if the loss is not
        finite or NumPy raised a floating-point error during the step.
        """
        step = self.step + 1
        ctx = self.ctx
        ctx.step = step
        params = self.params
        with _divergence_guard(step):
            for p in params:
                p.zero_grad()
            logits = self.model.forward(xb)
            loss = float(self.loss_fn.forward(logits, yb))
            if self.regularizer is not None:
                loss += float(self.regularizer.penalty(params))
        if not math.isfinite(loss):
            raise DivergenceError(_("training diverged at step {step}: the loss is {loss}")
                                    .format(step=step, loss=loss), step)
        with _divergence_guard(step):
            # The data takes no gradient: skip the first layer's dx, as PyTorch does.
            self.model.backward_params(self.loss_fn.backward())
            if self.regularizer is not None:
                self.regularizer.add_grad(params)
        self._call("on_before_update", step)
        with _divergence_guard(step):
            if self.clip_norm is not None:
                self.last_grad_norm = clip_grad_norm(params, self.clip_norm)
            self.optimizer.step()
            if self.regularizer is not None:
                self.regularizer.after_step(params, self.optimizer.lr)
        self.step = step
        self.logits = logits
        self._call("on_step_end", step, loss)
        return loss

    def evaluate(self, X: np.ndarray, y: np.ndarray, batch_size: int = 4096
                 ) -> tuple[float, float | None]:
        """``(loss, accuracy)`` on ``(X, y)`` in evaluation mode (the mode is restored after).

        The loss includes the regulariser's penalty, so it compares with the training loss;
        accuracy is None for regression losses.
        """
        logits = self.model.predict(X, batch_size)
        loss = float(self.loss_fn.forward(logits, y))
        if self.regularizer is not None:
            loss += float(self.regularizer.penalty(self.params))
        acc = self.loss_fn.accuracy(logits, y)
        return loss, None if acc is None else float(acc)


def accuracy(model: Module, X: np.ndarray, y: np.ndarray, loss="softmax_ce") -> float | None:
    """Accuracy of ``model`` on ``(X, y)`` in evaluation mode, with the loss's own rule for
    turning outputs into labels (argmax for softmax/hinge, ``z > 0`` for BCE); None for MSE."""
    return get_loss(loss).accuracy(model.predict(X), y)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Lower is better for losses, higher for accuracies (``*acc``). With ``restore_best`` the
    weights (and buffers such as BatchNorm's running statistics) of the best epoch are put back
    at the end of training, whether it stopped early or ran out of epochs — Keras's behaviour
    with ``restore_best_weights=True``, except that Keras restores only after an early stop.

    Args:
        monitor: a key of the epoch logs: ``"val_loss"`` (default), ``"val_acc"``, ``"loss"``,
            ``"acc"``.
        patience: epochs without improvement before stopping, ≥ 1.
        min_delta: the smallest change that counts as an improvement, ≥ 0.
        restore_best: put back the best epoch's weights at the end.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True):
        self.monitor = monitor
        self.patience = check_int("EarlyStopping", "patience", patience)
        self.min_delta = check_number("EarlyStopping", "min_delta", min_delta, low=0.0)
        self.restore_best = bool(restore_best)
        self.mode = "max" if monitor.endswith("acc") else "min"

    def on_train_begin(self, ctx) -> None:
        if self.monitor not in ctx.metrics:
            hint = " (pass validation_data)" if self.monitor.startswith("val_") else ""
            raise ConfigError(_("EarlyStopping: monitor {monitor!r} is not logged{hint}; logged: "
                                "{metrics}")
                                .format(monitor=self.monitor, hint=hint,
                                        metrics=', '.join(ctx.metrics)))
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.wait = 0
        self._snapshot = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs, ctx) -> None:
        value = logs.get(self.monitor)
        if value is None:
            raise ConfigError(_("EarlyStopping: monitor {monitor!r} has no value at epoch "
                                "{epoch} (accuracy is not defined for this loss)")
                                .format(monitor=self.monitor, epoch=epoch))
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._snapshot = ctx.model.state_dict(copy=True)
            return
        self.wait += 1
        if self.wait >= self.patience:
            ctx.stop = True
            ctx.history.stopped = _(
                "early stopping at epoch {epoch}: {monitor} did not improve by more than "
                "{min_delta:g} for {patience} epoch(s); best {best:.6g} at epoch {best_epoch}"
            ).format(epoch=epoch, monitor=self.monitor, min_delta=self.min_delta,
                     patience=self.patience, best=self.best, best_epoch=self.best_epoch)

    def on_train_end(self, ctx) -> None:
        if self.restore_best and self._snapshot is not None:
            # Parameters are overwritten in place: the optimiser keeps tracking the same arrays.
            ctx.model.load_state_dict(self._snapshot)
            ctx.history.best_epoch = self.best_epoch


def _check_data(what: str, X, y, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(X, y)`` at fit's boundary: arrays, ranks, lengths, finiteness."""
    x_name, y_name = ("X", "y") if what == "training" else ("validation X", "validation y")
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        bad = x_name if not isinstance(X, np.ndarray) else y_name
        got = type(X if bad == x_name else y).__name__
        raise ShapeError(_("fit: {bad} must be a NumPy array, got {got}")
                           .format(bad=bad, got=got))
    if X.ndim < 2:
        raise ShapeError(_("fit: {x_name} must have shape (m, features…), got {shape}")
                           .format(x_name=x_name, shape=X.shape))
    if X.shape[0] == 0:
        raise ShapeError(_("fit: {x_name} has no examples, shape {shape}")
                           .format(x_name=x_name, shape=X.shape))
    if y.ndim < 1 or y.shape[0] != X.shape[0]:
        raise ShapeError(_("fit: {y_name} must have one entry per row of {x_name} (length "
                           "{shape}), got shape {shape2}")
                           .format(y_name=y_name, x_name=x_name, shape=X.shape[0],
                                   shape2=y.shape))
    if X.dtype.kind not in "fiub" or y.dtype.kind not in "fiub":
        bad, arr = (x_name, X) if X.dtype.kind not in "fiub" else (y_name, y)
        raise ConfigError(_("fit: {bad} must be numeric, got dtype {dtype}")
                            .format(bad=bad, dtype=arr.dtype))
    check_finite("fit", x_name, X)
    check_finite("fit", y_name, y)
    if X.dtype != dtype:
        with np.errstate(over="ignore"):  # reported just below, naming the data
            X = X.astype(dtype)  # once here, not in every minibatch
        # float64 values beyond float32's range (~3.4e38) become inf in the cast: bad data,
        # not divergence.
        check_finite("fit", f"{x_name} (as {np.dtype(dtype).name})", X)
    return X, y


def _check_last_batch(model: Module, m: int, batch_size: int, drop_last: bool) -> None:
    """Refuse, before training, a last minibatch of one example when BatchNorm1d would have to
    estimate a variance from it (PyTorch fails at that batch, mid-epoch)."""
    if drop_last or m % batch_size != 1:
        return
    if any(isinstance(mod, BatchNorm1d) for mod in model.modules()):
        raise ConfigError(
            _("fit: with {m} examples and batch_size {batch_size} the last minibatch holds 1 "
              "example, from which BatchNorm1d cannot estimate a variance in training; pass "
              "drop_last=True or choose another batch size")
              .format(m=m, batch_size=batch_size))


def _make_progress(enabled: bool | None, total: int):
    """A rich progress bar on stdout, or None. ``None`` = on only when stdout is a terminal.

    The bar shows the steps of the current epoch's run and the last step's loss; one line per
    finished epoch with its metrics stays on screen above it (the bar itself disappears at the end).
    """
    if enabled is None:  # a terminal, or a Jupyter notebook (rich draws the bar there too)
        from rich.console import Console

        enabled = sys.stdout.isatty() or Console().is_jupyter
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    return Progress(TextColumn("{task.description}"), BarColumn(bar_width=24),
                    MofNCompleteColumn(), TextColumn("{task.fields[metrics]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=Console(file=sys.stdout),
                    transient=True)


def fit(model: Module, X: np.ndarray, y: np.ndarray, *, loss, optimizer="sgd", lr=None,
        epochs: int = 10, batch_size: int = 32, seed=0, validation_data=None, regularizer=None,
        callbacks=(), early_stopping=None, clip_norm=None, record_steps: bool = False,
        progress: bool | None = None, shuffle: bool = True, drop_last: bool = False,
        raise_on_divergence: bool = False,
        divergence_factor: float | None = DIVERGENCE_FACTOR) -> History:
    """Train ``model`` on ``(X, y)`` with minibatch gradient descent; return the :class:`History`.

    Each epoch draws a permutation of the rows from a Generator made from ``seed`` (same seed,
    same batches, same weights), and cuts it into minibatches of ``batch_size`` (the last,
    partial batch is kept, so every example is used once per epoch, unless ``drop_last``).

    Divergence (see the module docstring): a non-finite loss, or a step loss above
    ``divergence_factor`` × the starting loss (the initial weights' loss on the first ≤ 1024
    examples; 100× by default), stops training and sets ``history.diverged``; the epoch it
    interrupted is kept as a partial epoch.

    Args:
        model: the network (trained in place; put in training mode during fit, evaluation mode
            for validation, and left in the mode it had before).
        X: inputs, shape (m, …), finite. Cast once to the model's dtype.
        y: targets, length m (class indices, 0/1 labels or regression targets, per the loss).
        loss: a loss object or a name (``"softmax_ce"``, ``"bce"``, ``"mse"``, ``"hinge"``).
        optimizer: a name (``"sgd"``, ``"adam"``…) or an :class:`~whynet.optim.Optimizer`.
        lr: learning rate; overrides the optimiser's (default: the optimiser's default).
        epochs, batch_size: integers ≥ 1.
        seed: an int or a Generator for the shuffling.
        validation_data: ``(X_val, y_val)``, evaluated after every epoch.
        regularizer: an L1/L2/ElasticNet object (penalty added to the reported loss).
        callbacks: :class:`Callback` objects (and LR schedules).
        early_stopping: an :class:`EarlyStopping`, or an int = patience on ``val_loss`` (on
            ``loss`` without validation data).
        clip_norm: clip the joint gradient norm to this value before every update.
        record_steps: keep every step's loss in ``history.steps``.
        progress: show a progress bar; None = only when stdout is a terminal.
        shuffle: reshuffle every epoch (False: the rows in order).
        drop_last: leave out the last, smaller minibatch of each epoch (as PyTorch's
            ``DataLoader(drop_last=True)``). A model with BatchNorm1d whose last minibatch would
            hold one example is refused before training unless this is set.
        divergence_factor: stop when a step's loss exceeds this multiple of the starting loss
            (a number > 1); None: stop only on a non-finite loss.
        raise_on_divergence: raise :class:`~whynet.errors.DivergenceError` (with ``.history``)
            instead of returning the history with ``diverged = True``.
    """
    X, y, val, epochs, batch_size = _check_fit_args(model, X, y, validation_data, epochs,
                                                    batch_size, drop_last, divergence_factor)
    optimizer = _fit_optimizer(model, optimizer, lr)
    callbacks = list(callbacks) + _early_stopping(early_stopping, val is not None)
    rng = make_rng(seed)
    trainer = Trainer(model, loss, optimizer, regularizer=regularizer, clip_norm=clip_norm,
                      callbacks=callbacks)
    diverged = _train(trainer, X, y, val, epochs, batch_size, rng, shuffle=shuffle,
                      record_steps=record_steps, progress=progress, drop_last=drop_last,
                      divergence_factor=divergence_factor)
    history = trainer.ctx.history
    if diverged is not None and raise_on_divergence:
        raise DivergenceError(history.stopped, diverged.step, history) from diverged
    return history


def _check_fit_args(model, X, y, validation_data, epochs, batch_size, drop_last,
                    divergence_factor):
    """fit's checks, before anything trains: ``(X, y, (X_val, y_val) or None, epochs,
    batch_size)`` with the data cast to the model's dtype."""
    if not isinstance(model, Module):
        raise ConfigError(_("fit: model must be a whynet Module, got {type}")
                            .format(type=type(model).__name__))
    epochs = check_int("fit", "epochs", epochs)
    batch_size = check_int("fit", "batch_size", batch_size)
    X, y = _check_data("training", X, y, model.dtype)
    if divergence_factor is not None:
        check_number("fit", "divergence_factor", divergence_factor, low=1.0, low_open=True)
    if drop_last and X.shape[0] < batch_size:
        raise ConfigError(_("fit: drop_last=True with {shape} examples and batch_size "
                            "{batch_size} leaves no minibatch to train on")
                            .format(shape=X.shape[0], batch_size=batch_size))
    _check_last_batch(model, X.shape[0], batch_size, drop_last)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ConfigError(_("fit: validation_data must be a pair (X_val, y_val)"))
        val = _check_data("validation", *validation_data, model.dtype)
    return X, y, val, epochs, batch_size


def _fit_optimizer(model: Module, optimizer, lr) -> Optimizer:
    """fit's optimiser: one built by name (with ``lr`` when given), or the caller's own with its
    lr set to ``lr`` when given."""
    if isinstance(optimizer, str):
        return get_optimizer(optimizer, model.parameters(), **({} if lr is None else {"lr": lr}))
    if lr is not None:
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(_("fit: optimizer must be a name or an Optimizer, got {type}")
                                .format(type=type(optimizer).__name__))
        optimizer.lr = lr
    return optimizer


def _early_stopping(early_stopping, has_validation: bool) -> list:
    """``[]``, or the one :class:`EarlyStopping` callback fit's ``early_stopping`` asks for (an
    int is the patience on ``val_loss``, on ``loss`` without validation data)."""
    if early_stopping is None or early_stopping is False:
        return []
    if isinstance(early_stopping, EarlyStopping):
        return [early_stopping]
    return [EarlyStopping(monitor="val_loss" if has_validation else "loss",
                          patience=check_int("fit", "early_stopping", early_stopping))]


def _train(trainer: Trainer, X, y, val, epochs: int, batch_size: int, rng, *, shuffle: bool,
           record_steps: bool, progress, drop_last: bool,
           divergence_factor) -> DivergenceError | None:
    """Run fit's epochs with the progress bar and the train/eval mode restored around them;
    returns the DivergenceError that stopped training, if any."""
    model = trainer.model
    trainer.ctx.metrics = ("loss", "acc", "lr") + (("val_loss", "val_acc")
                                                   if val is not None else ())
    batches = X.shape[0] // batch_size if drop_last else math.ceil(X.shape[0] / batch_size)
    bar = _make_progress(progress, epochs * batches)
    was_training = model.training
    try:
        if bar:
            bar.start()
        trainer._call("on_train_begin")
        diverged = _run_epochs(trainer, X, y, val, epochs, batch_size, rng, shuffle,
                               record_steps, bar, drop_last, divergence_factor)
        trainer._call("on_train_end")
    finally:
        model.train(was_training)
        if bar:
            bar.stop()
    return diverged


class _EpochTally:
    """Size-weighted sums of an epoch's step losses and accuracies (or of its first steps)."""

    def __init__(self):
        self.seen, self.loss_sum, self.acc_sum, self.acc_defined = 0, 0.0, 0.0, True

    def add(self, loss: float, n: int, acc) -> None:
        self.seen += n
        self.loss_sum += loss * n
        self.acc_defined = self.acc_defined and acc is not None
        self.acc_sum += float(acc) * n if self.acc_defined else 0.0

    def means(self) -> tuple[float, float | None]:
        return self.loss_sum / self.seen, self.acc_sum / self.seen if self.acc_defined else None


def _step(trainer: Trainer, xb, yb, start_loss, factor) -> tuple[float | None, Exception | None]:
    """One training step: ``(loss, None)``, or the divergence that stopped it — with the loss
    when the step was made (above the bound), without when it was not (non-finite)."""
    try:
        loss = trainer.train_step(xb, yb)
    except DivergenceError as e:
        return None, e
    if start_loss is not None and loss > factor * start_loss:
        return loss, DivergenceError(
            _("training diverged at step {step}: the loss {loss:.4g} is more than {factor:g}× "
              "the starting loss {start_loss:.4g}")
              .format(step=trainer.step, loss=loss, factor=factor, start_loss=start_loss),
            trainer.step, loss=loss)
    return loss, None


def _run_epochs(trainer: Trainer, X, y, val, epochs, batch_size, rng, shuffle, record_steps,
                bar, drop_last=False, divergence_factor=None) -> DivergenceError | None:
    """fit's loop; returns the DivergenceError that stopped it, if any."""
    model, ctx, loss_fn = trainer.model, trainer.ctx, trainer.loss_fn
    history = ctx.history
    m = X.shape[0]
    end = m - m % batch_size if drop_last else m
    task = bar.add_task(f"epoch 1/{epochs}", total=epochs * math.ceil(end / batch_size),
                        metrics="") if bar else None
    start_loss = _starting_loss(trainer, X, y) if divergence_factor is not None else None
    for epoch in range(1, epochs + 1):
        ctx.epoch = epoch
        model.train()
        lr_used = trainer.optimizer.lr
        order = rng.permutation(m) if shuffle else np.arange(m)
        tally = _EpochTally()
        for start in range(0, end, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = X[idx], y[idx]
            step_loss, stop = _step(trainer, xb, yb, start_loss, divergence_factor)
            if step_loss is not None:  # the step was made: record it
                if record_steps:
                    history.steps.append(step_loss)
                tally.add(step_loss, len(idx), loss_fn.accuracy(trainer.logits, yb)
                          if tally.acc_defined else None)
                if bar:
                    bar.update(task, advance=1, metrics=f"loss {step_loss:.4f}")
            if stop is not None:
                return _diverged(history, stop, epoch, tally, lr_used, bar, trainer.step)
            if ctx.stop:
                break
        loss, acc = tally.means()
        logs = {"loss": loss, "acc": acc, "lr": lr_used}
        if val is not None:
            try:
                with _divergence_guard(trainer.step):
                    logs["val_loss"], logs["val_acc"] = trainer.evaluate(*val)
            except DivergenceError as e:  # weights that overflow on the validation set
                return _diverged(history, e, epoch, tally, lr_used, bar, trainer.step)
        for key in history.epochs:
            if key in logs:
                history.epochs[key].append(logs[key])
        history._steps_per_epoch.append(trainer.step - history.steps_before(epoch))
        if bar:
            shown = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if v is not None)
            bar.console.print(f"epoch {epoch}/{epochs}  {shown}")
            if epoch < epochs:
                bar.update(task, description=f"epoch {epoch + 1}/{epochs}")
        trainer._call("on_epoch_end", epoch, logs)
        if ctx.stop:
            if history.stopped is None:
                history.stopped = _("stopped by a callback at epoch {epoch}, step {step}").format(
                    epoch=epoch, step=ctx.step)
            break
    return None


def _starting_loss(trainer: Trainer, X, y) -> float | None:
    """The loss of the initial weights on the first ≤ STARTING_EXAMPLES rows (evaluation mode),
    or None when it is not a finite number > 0 (then only non-finite losses count)."""
    # Hooks watch training steps; this measurement is not one of them.
    paused = [(s, s._forward_hooks, s._backward_hooks) for s in trainer.model.modules()
              if isinstance(s, Sequential)]
    for s, _fwd, _bwd in paused:
        s._forward_hooks, s._backward_hooks = [], []
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, _acc = trainer.evaluate(X[:STARTING_EXAMPLES], y[:STARTING_EXAMPLES])
    except (FloatingPointError, NonFiniteError):
        return None
    finally:
        for s, fwd, bwd in paused:
            s._forward_hooks, s._backward_hooks = fwd, bwd
    return loss if math.isfinite(loss) and loss > 0 else None


def _diverged(history: History, e: DivergenceError, epoch: int, tally: _EpochTally, lr: float,
              bar, steps_made: int) -> DivergenceError:
    """Record divergence: the interrupted epoch's steps so far as ``history.partial_epoch``
    (``epochs`` keeps whole epochs only, each with its validation), and the reason."""
    history.diverged = True
    history.divergence_loss = e.loss
    if tally.seen:
        loss, acc = tally.means()
        history.partial_epoch = {"epoch": epoch, "steps": steps_made - history.steps_before(epoch),
                                 "examples": tally.seen, "loss": loss, "acc": acc, "lr": lr}
    where = (_("epochs 1–{last} complete").format(last=epoch - 1) if epoch > 1
             else _("no complete epoch"))
    if tally.seen:
        where += _(", epoch {epoch} partial (history.partial_epoch)").format(epoch=epoch)
    history.stopped = _("{reason} (epoch {epoch}); history kept up to step {step}: {where}").format(
        reason=e, epoch=epoch, step=steps_made, where=where)
    if bar:
        bar.console.print(f"[red]{history.stopped}[/red]")
    return e
