"""The built-in objective of a search: train an MLP on a named data set, score it on the
validation set (the test set is recorded, never used for choosing).

The score is the accuracy for a classification set, and for a regression set (plane,
multigauss: squared error) the coefficient of determination
``R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)²`` — 1 for a perfect fit, 0 for predicting the mean — so that
a search always maximises, whatever the set."""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .. import datasets
from ..config import RunConfig, build, build_data
from ..errors import ConfigError, unknown_name
from ..i18n import _
from .space import HYPERPARAMETERS, Space

DATA_SETTINGS = ("name", "examples", "val", "test", "standardize")  # plus the data set's own args


@dataclass(frozen=True)
class Data:
    """Train, validation and test sets (standardised on the training set), their name, and the
    :class:`~whynet.config.RunConfig` that made them (its data fields)."""

    train: Any
    val: Any
    test: Any
    name: str
    config: RunConfig | None = None

    @property
    def n_classes(self) -> int:
        return self.train.n_classes

    @property
    def score_name(self) -> str:
        """What a trial's value is: ``"accuracy"``, or ``"R²"`` for a regression set."""
        return "accuracy" if self.n_classes else "R²"


def load_data(name: str = "moons", *, examples: int | None = None, val: float = 0.2,
              test: float = 0.2, standardize: bool = True, seed: int = 0, **kwargs) -> Data:
    """A named data set split into train / validation / test (stratified, shuffled by ``seed``):
    :func:`whynet.config.build_data` with the search's defaults (a validation set, standardised).

    Args:
        name: a name of :data:`whynet.datasets.DATASETS`; ``kwargs`` go to its function (``n``,
            ``noise`` and the set's own arguments). MNIST-1D keeps its own test set and cuts the
            validation set from its training set.
        examples: use a random subset of this many examples (before splitting).
        val, test: fractions of the examples for validation and test.
        standardize: scale every feature to mean 0, std 1 on the training set.
    """
    if name not in datasets.DATASETS:
        raise unknown_name(_("data set"), name, datasets.DATASETS)
    accepted = inspect.signature(datasets.DATASETS[name]).parameters
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        own = [a for a in accepted if a != "seed"]
        allowed = ", ".join([*DATA_SETTINGS, *own]) + ("" if own else
                                                        _(" (it takes no arguments)"))
        raise ConfigError(_("search: unknown data setting(s) {unknown} for {name!r}; allowed: "
                            "{allowed}").format(unknown=", ".join(unknown), name=name,
                                                allowed=allowed))
    if not val:
        raise ConfigError(_("search: val must be > 0: trials are scored on the validation set"))
    if "seed" in kwargs:
        raise ConfigError(_("search: the data set takes the search's seed; give seed once"))
    n, noise = kwargs.pop("n", None), kwargs.pop("noise", None)
    cfg = RunConfig(data=name, n=n, noise=noise, data_args=kwargs, examples=examples, val=val,
                    test=test, standardize=standardize, seed=seed)
    train, val_set, test_set = build_data(cfg)
    return Data(train, val_set, test_set, name, cfg)


def r2_score(pred: np.ndarray, y: np.ndarray) -> float:
    """``R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)²`` of predictions (m,) or (m, 1) for targets (m,)."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64)
    spread = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((pred - y) ** 2)) / spread if spread > 0 else math.nan


def _score(model, loss, ds) -> float:
    """The validation score of ``model`` on ``ds``: accuracy, or R² for a regression set."""
    out = model.predict(ds.X)
    if ds.n_classes:
        return float(loss.accuracy(out, ds.y))
    return r2_score(out, ds.y)


class _EpochReport:
    """Callback for :func:`whynet.train.fit`: records each epoch's validation score (accuracy,
    or R² for a regression set), reports it to the Optuna trial and stops training when the
    pruner says so."""

    def __init__(self, trial, val):
        self.trial = trial
        self.val = val
        self.pruned_at: int | None = None
        self.history = None
        self.scores: list[float] = []

    def on_train_begin(self, ctx):
        self.history = ctx.history

    def on_epoch_end(self, epoch, logs, ctx):
        self.scores.append(float(logs["val_acc"]) if self.val.n_classes
                           else _score(ctx.model, ctx.loss_fn, self.val))
        if self.trial is None:
            return
        self.trial.report(self.scores[-1], epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            ctx.stop = True


class TrialPruned(Exception):
    """Raised by :class:`MLPObjective` when the pruner stopped a trial; the study turns it into
    Optuna's ``TrialPruned``."""


class MLPObjective:
    """Train an MLP with the trial's hyperparameters; its value is the validation score
    (accuracy, or R² for a regression set).

    The model's weights and the minibatch order come from ``seed`` in every trial, so trials
    differ only in their hyperparameters. A run that diverges is scored by the validation
    score of its last finished epoch (or the majority-class rate, or R² 0 — the mean's — if none
    finished) and flagged ``diverged``. Each finished trial records ``test_acc`` and
    ``train_acc`` (``test_r2`` and ``train_r2`` for a regression set), ``epochs`` and ``seconds``
    as Optuna user attributes; the test set is never used for choosing.
    """

    def __init__(self, data: Data, seed: int = 0):
        self.data = data
        self.seed = seed

    def run_config(self, params: Mapping) -> RunConfig:
        """The :class:`~whynet.config.RunConfig` of a trial: the search's defaults, overridden by
        ``params``, with ``hidden = [width] * depth`` and ``l2`` as an L2 penalty; checked."""
        unknown = sorted(set(params) - set(HYPERPARAMETERS))
        if unknown:
            raise ConfigError(_("search: unknown hyperparameter(s) {unknown}; allowed: "
                                "{hyperparameters}")
                                .format(unknown=', '.join(unknown),
                                        hyperparameters=', '.join(HYPERPARAMETERS)))
        p = {name: h.default for name, h in HYPERPARAMETERS.items()} | dict(params)
        hidden = (p.pop("width"),) * p.pop("depth")
        l2 = p.pop("l2")
        if l2:
            if p["regularizer"] != "none" or p["lam"]:
                raise ConfigError(_("search: give l2, or regularizer and lam, not both"))
            p["regularizer"], p["lam"] = "l2", l2
        base = self.data.config or RunConfig(data=self.data.name)
        return RunConfig.from_dict({**p, "hidden": hidden, "seed": self.seed}, "search",
                                   base=base)

    def check(self, space: Space) -> None:
        """Every value each dimension can take, with the other settings at their fixed values
        or first choice, makes a valid configuration (so that a clash such as momentum with
        Adam is found before the first trial, not in it)."""
        first = {name: dim.values()[0] for name, dim in space.dims.items()}
        for name, dim in space.dims.items():
            for v in dim.values():
                self.run_config({**space.fixed, **first, name: v})
        if not space.dims:
            self.run_config(space.fixed)

    def __call__(self, params: Mapping, trial=None) -> float:
        cfg = self.run_config(params)
        data, start = self.data, time.perf_counter()
        run = build(cfg, data=datasets.Splits(data.train, data.val, data.test))
        report = _EpochReport(trial, data.val)
        try:
            # An exploding run must stop as a divergence, not flood the terminal with warnings.
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                history = run.fit(callbacks=[report])
            diverged = history.diverged
        except FloatingPointError:  # overflow while evaluating, after the last good step
            diverged = True
        scores, kind = report.scores, "acc" if data.n_classes else "r2"
        if report.pruned_at is not None:
            raise TrialPruned(f"pruned at epoch {report.pruned_at} "
                              f"(validation {data.score_name} {scores[-1]:.3f})")
        if diverged:
            value = scores[-1] if scores else (_majority(data.val.y) if data.n_classes else 0.0)
            attrs = {"diverged": True, f"test_{kind}": None, f"train_{kind}": None}
        else:
            value = scores[-1]
            attrs = {"diverged": False, f"test_{kind}": _score(run.model, run.loss, data.test),
                     f"train_{kind}": _score(run.model, run.loss, data.train)}
        attrs.update(epochs=len(scores), seconds=round(time.perf_counter() - start, 4))
        if trial is not None:
            for key, v in attrs.items():
                trial.set_user_attr(key, v)
        return value


def _majority(y) -> float:
    return float(np.bincount(y).max() / len(y))

