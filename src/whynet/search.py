"""Hyperparameter search with Optuna: ``whynet search`` and its Python API.

A search samples hyperparameters from a *space*, trains a whynet MLP with each sample
(:func:`whynet.train.fit` on a named data set) and keeps the validation accuracy; the test accuracy
of every finished trial is recorded next to it but never used for choosing. Optuna does the rest:

* samplers ``grid`` (every combination; ranges cut into ``points`` values, log-spaced where the
  range is log), ``random`` and ``tpe`` (Bergstra et al. 2011), all seeded;
* pruning: each epoch's validation accuracy is reported, and Optuna's ``MedianPruner`` stops a
  trial that is below the median of earlier trials at the same epoch;
* storage: SQLite by default (``sqlite:///whynet-search.db``), or any URL Optuna accepts
  (``postgresql://…``, ``mysql://…``). The same storage and study name *resume* a study:
  ``n_trials`` is the number of finished (complete or pruned) trials the study should have, so
  an interrupted search, run again, does only the trials it had left, and several processes
  pointed at one storage share the work. Each trial sends a heartbeat; a trial whose process was
  killed is marked failed after :data:`GRACE_PERIOD` seconds and does not count.

A space maps hyperparameter names to a range, a list of choices, or a fixed value — in a TOML
file (``[space]``) or on the command line (``-p``)::

    lr = {low = 1e-4, high = 1, log = true}     # float, sampled log-uniformly
    width = {choices = [8, 16, 32]}             # categorical
    depth = {low = 1, high = 3}                 # int (both bounds are ints)
    epochs = 20                                 # fixed, not searched

    whynet search -p lr=1e-4:1:log -p width=8,16,32 -p epochs=20 --data moons

Random search reseeds per trial (the draw of trial k depends only on the seed and k), so a
resumed or shared random search never repeats an earlier trial's draw and stays reproducible.

Python::

    from whynet.search import search
    result = search({"lr": {"low": 1e-4, "high": 1, "log": True}}, data="digits",
                    sampler="random", n_trials=20, storage=None)   # None: in memory
    result.best["params"], result.table(), result.figure()

Optuna is an extra (``pip install whynet[search]``) imported only when a search runs.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .errors import ConfigError, UnknownNameError, WhynetError, unknown_name

DEFAULT_STORAGE = "sqlite:///whynet-search.db"
SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("median", "none")
HEARTBEAT_INTERVAL = 5  # seconds between a running trial's heartbeats in an RDB storage
GRACE_PERIOD = 20  # seconds without a heartbeat before a running trial counts as failed


@dataclass(frozen=True)
class Hyperparameter:
    """One knob of the MLP objective: its type, its default and what it does."""

    kind: type
    default: Any
    help: str


HYPERPARAMETERS: dict[str, Hyperparameter] = {
    "lr": Hyperparameter(float, None, "learning rate (default: the optimiser's)"),
    "optimizer": Hyperparameter(str, "sgd", "sgd, adam, rmsprop, adagrad, adamw"),
    "momentum": Hyperparameter(float, 0.0, "momentum of sgd / rmsprop"),
    "width": Hyperparameter(int, 32, "units per hidden layer"),
    "depth": Hyperparameter(int, 2, "number of hidden layers"),
    "activation": Hyperparameter(str, "relu", "hidden activation"),
    "init": Hyperparameter(str, None, "weight initialiser (default: the activation's suggested)"),
    "batch_size": Hyperparameter(int, 32, "minibatch size"),
    "epochs": Hyperparameter(int, 20, "passes over the training set"),
    "l2": Hyperparameter(float, 0.0, "L2 penalty λ, (λ/2)·Σw² added to the loss"),
    "dropout": Hyperparameter(float, 0.0, "drop probability after each hidden activation"),
    "batchnorm": Hyperparameter(bool, False, "BatchNorm between each hidden Dense and activation"),
}

SEARCH_SETTINGS = ("sampler", "seed", "n_trials", "timeout", "storage", "study_name", "pruner",
                   "grid_points", "plot", "top")
DATA_SETTINGS = ("name", "examples", "val", "test", "standardize")  # plus the data set's own args
RANGE_FIELDS = ("low", "high", "log", "step", "points")
CONFIG_SECTIONS = ("search", "data", "space")


# -- the space ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Range:
    """A numeric range ``[low, high]``: integers when both bounds are ints, else floats.

    ``log=True`` samples uniformly in log space (``low`` must be > 0); ``step`` discretises it
    (not with ``log``); ``points`` is how many values the grid sampler takes from it.
    """

    low: float
    high: float
    log: bool = False
    step: float | None = None
    points: int | None = None

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high))

    def grid(self, points: int) -> list:
        """``points`` values from low to high (both included), log-spaced for a log range."""
        n = self.points or points
        values = (np.geomspace if self.log else np.linspace)(self.low, self.high, n)
        if self.integer:
            return sorted({int(round(v)) for v in values})
        return [float(v) for v in values]

    def suggest(self, trial, name: str):
        if self.integer:
            return trial.suggest_int(name, self.low, self.high, log=self.log,
                                     step=int(self.step or 1))
        return trial.suggest_float(name, float(self.low), float(self.high), log=self.log,
                                   step=self.step)

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}]{' log' if self.log else ''}"


@dataclass(frozen=True)
class Choice:
    """A list of values to choose from (categorical)."""

    choices: tuple

    def grid(self, points: int) -> list:
        return list(self.choices)

    def suggest(self, trial, name: str):
        return trial.suggest_categorical(name, list(self.choices))

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.choices)) + "}"


@dataclass(frozen=True)
class Space:
    """What a search samples (``dims``: name → :class:`Range` or :class:`Choice`) and the values
    it holds fixed (``fixed``: name → value)."""

    dims: dict
    fixed: dict = field(default_factory=dict)

    def sample(self, trial) -> dict:
        """The trial's parameters: one suggestion per dimension, plus the fixed values."""
        params = {name: dim.suggest(trial, name) for name, dim in self.dims.items()}
        return {**self.fixed, **params}

    def grid(self, points: int) -> dict[str, list]:
        return {name: dim.grid(points) for name, dim in self.dims.items()}

    def grid_size(self, points: int) -> int:
        return math.prod(len(v) for v in self.grid(points).values())


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_dim(name: str, spec: Mapping, kind: type | None = None) -> Range | Choice:
    """A :class:`Range` or :class:`Choice` from a TOML-style table, checked against ``kind``.

    ``{low=…, high=…, log=…, step=…, points=…}`` or ``{choices=[…]}``; any other field raises
    naming it and the allowed ones.
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(f"search space: {name!r} must be a table such as "
                          f"{{low = 1e-4, high = 1, log = true}} or {{choices = [8, 16]}}, "
                          f"got {spec!r}")
    if "choices" in spec:
        extra = sorted(set(spec) - {"choices"})
        if extra:
            raise ConfigError(f"search space: {name!r} has choices and also {', '.join(extra)}; "
                              f"a choice table holds only 'choices'")
        choices = spec["choices"]
        if not isinstance(choices, (list, tuple)) or not choices:
            raise ConfigError(f"search space: {name!r}: choices must be a non-empty list, "
                              f"got {choices!r}")
        for c in choices:
            _check_value(name, c, kind)
        return Choice(tuple(choices))
    unknown = sorted(set(spec) - set(RANGE_FIELDS))
    if unknown:
        raise ConfigError(f"search space: {name!r}: unknown field(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(RANGE_FIELDS)} (or choices)")
    if "low" not in spec or "high" not in spec:
        raise ConfigError(f"search space: {name!r} needs both low and high (or choices), "
                          f"got {dict(spec)!r}")
    low, high = spec["low"], spec["high"]
    log, step, points = spec.get("log", False), spec.get("step"), spec.get("points")
    if not (_is_number(low) and _is_number(high) and math.isfinite(low)
            and math.isfinite(high) and low < high):
        raise ConfigError(f"search space: {name!r} needs finite numbers low < high, "
                          f"got low={low!r}, high={high!r}")
    if not isinstance(log, bool):
        raise ConfigError(f"search space: {name!r}: log must be true or false, got {log!r}")
    if log and low <= 0:
        raise ConfigError(f"search space: {name!r}: a log range needs low > 0, got low={low!r}")
    if step is not None and (log or not _is_number(step) or step <= 0):
        raise ConfigError(f"search space: {name!r}: step must be a number > 0 and cannot be "
                          f"combined with log, got step={step!r}, log={log}")
    if points is not None and (not isinstance(points, int) or isinstance(points, bool)
                               or points < 2):
        raise ConfigError(f"search space: {name!r}: points must be an integer ≥ 2, "
                          f"got {points!r}")
    dim = Range(low, high, log, step, points)
    if kind is not None:
        if kind in (str, bool):
            raise ConfigError(f"search space: {name!r} takes a {kind.__name__}; give choices, "
                              f"not a range")
        if kind is int and not dim.integer:
            raise ConfigError(f"search space: {name!r} is an integer; give integer bounds, "
                              f"got low={low!r}, high={high!r}")
    return dim


def _check_value(name: str, value, kind: type | None) -> None:
    if kind is None or value is None:
        return
    ok = {bool: lambda v: isinstance(v, bool), int: lambda v: isinstance(v, int)
          and not isinstance(v, bool), float: _is_number,
          str: lambda v: isinstance(v, str)}[kind](value)
    if not ok:
        raise ConfigError(f"search space: {name!r} takes a {kind.__name__}, got {value!r}")


def parse_space(entries: Mapping, allowed: Mapping | None = HYPERPARAMETERS) -> Space:
    """A :class:`Space` from ``{name: table | Range | Choice | fixed value}``.

    ``allowed`` names the hyperparameters the objective understands (their types are checked);
    an unknown name raises naming it and the allowed ones. ``allowed=None`` accepts any name
    (for a custom objective).
    """
    dims, fixed = {}, {}
    for name, spec in entries.items():
        if allowed is not None and name not in allowed:
            raise ConfigError(f"search space: unknown hyperparameter {name!r}; allowed: "
                              f"{', '.join(allowed)}")
        kind = allowed[name].kind if allowed is not None else None
        if isinstance(spec, (Range, Choice)):
            dims[name] = spec
        elif isinstance(spec, Mapping):
            dims[name] = parse_dim(name, spec, kind)
        else:
            _check_value(name, spec, kind)
            fixed[name] = spec
    return Space(dims, fixed)


def _scalar(text: str):
    """A command-line value as bool, int, float or str (``none`` → None)."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def parse_option(text: str) -> tuple[str, Any]:
    """One ``-p`` option: ``lr=1e-4:1:log`` (range, ``log`` optional), ``width=8,16,32``
    (choices), ``epochs=20`` (fixed). Returns ``(name, table or value)`` for :func:`parse_space`.
    """
    name, sep, rest = text.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not name or not rest:
        raise ConfigError(f"search: a -p option must look like NAME=LOW:HIGH[:log], "
                          f"NAME=A,B,C or NAME=VALUE, got {text!r}")
    if "," in rest:
        return name, {"choices": [_scalar(v) for v in rest.split(",")]}
    if ":" in rest:
        parts = rest.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip() != "log"):
            raise ConfigError(f"search: range option {text!r} must be NAME=LOW:HIGH or "
                              f"NAME=LOW:HIGH:log")
        low, high = _scalar(parts[0]), _scalar(parts[1])
        return name, {"low": low, "high": high, "log": len(parts) == 3}
    return name, _scalar(rest)


# -- the objective: train an MLP ------------------------------------------------------------------

@dataclass(frozen=True)
class Data:
    """Train, validation and test sets (standardised on the training set), and their name."""

    train: Any
    val: Any
    test: Any
    name: str

    @property
    def n_classes(self) -> int:
        return self.train.n_classes


def load_data(name: str = "moons", *, examples: int | None = None, val: float = 0.2,
              test: float = 0.2, standardize: bool = True, seed: int = 0, **kwargs) -> Data:
    """A named data set split into train / validation / test (stratified, shuffled by ``seed``).

    Args:
        name: a name of :data:`whynet.datasets.DATASETS`; ``kwargs`` go to its function (a toy
            set gets ``seed`` unless given). MNIST-1D keeps its own test set and cuts the
            validation set from its training set.
        examples: use a random subset of this many examples (before splitting).
        val, test: fractions of the examples for validation and test.
        standardize: scale every feature to mean 0, std 1 on the training set.
    """
    import inspect

    from . import datasets

    if name not in datasets.DATASETS:
        raise unknown_name("data set", name, datasets.DATASETS)
    accepted = inspect.signature(datasets.DATASETS[name]).parameters
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        own = [a for a in accepted if a != "seed"]
        raise ConfigError(f"search: unknown data setting(s) {', '.join(unknown)} for {name!r}; "
                          f"allowed: {', '.join(DATA_SETTINGS)}"
                          + (f", {', '.join(own)}" if own else " (it takes no arguments)"))
    if "seed" in accepted:
        kwargs.setdefault("seed", seed)
    ds = datasets.get_dataset(name, **kwargs)
    rng = np.random.default_rng(seed)
    if isinstance(ds, datasets.Splits):  # MNIST-1D: keep its test set
        train_all, test_set = ds.train, ds.test
        if examples is not None:
            train_all = _subset(train_all, int(round(examples * (1 - test))), rng)
            test_set = _subset(test_set, int(round(examples * test)), rng)
        train, _, val_set = datasets.split(train_all, val=0.0, test=val / (1 - test), seed=rng)
    else:
        if examples is not None:
            ds = _subset(ds, examples, rng)
        if not ds.n_classes:
            raise ConfigError(f"search: data set {name!r} is a regression set; the search "
                              f"objective is classification accuracy")
        train, val_set, test_set = datasets.split(ds, val=val, test=test, seed=rng)
    if standardize:
        train, val_set, test_set, _ = datasets.standardize(train, val_set, test_set)
    return Data(train, val_set, test_set, name)


def _subset(ds, n, rng):
    if isinstance(n, bool) or not isinstance(n, int) or n < 10:
        raise ConfigError(f"search: examples must be an integer ≥ 10, got {n!r}")
    return ds.subset(np.sort(rng.permutation(len(ds))[:min(n, len(ds))]))


class _EpochReport:
    """Callback for :func:`whynet.train.fit`: reports each epoch's validation accuracy to the
    Optuna trial and stops training when the pruner says so."""

    def __init__(self, trial):
        self.trial = trial
        self.pruned_at: int | None = None
        self.history = None

    def on_train_begin(self, ctx):
        self.history = ctx.history

    def on_epoch_end(self, epoch, logs, ctx):
        if self.trial is None:
            return
        self.trial.report(float(logs["val_acc"]), epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            ctx.stop = True


class MLPObjective:
    """Train an MLP with the trial's hyperparameters; its value is the validation accuracy.

    The model's weights and the minibatch order come from ``seed`` in every trial, so trials
    differ only in their hyperparameters. A run that diverges is scored by the validation
    accuracy of its last finished epoch (or the majority-class rate if none finished) and flagged
    ``diverged``. Each finished trial records ``test_acc``, ``train_acc``, ``epochs`` and
    ``seconds`` as Optuna user attributes; the test set is never used for choosing.
    """

    def __init__(self, data: Data, seed: int = 0):
        self.data = data
        self.seed = seed

    def config(self, params: Mapping) -> dict:
        """Every hyperparameter: the defaults, overridden by ``params``; checked."""
        unknown = sorted(set(params) - set(HYPERPARAMETERS))
        if unknown:
            raise ConfigError(f"search: unknown hyperparameter(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(HYPERPARAMETERS)}")
        cfg = {name: h.default for name, h in HYPERPARAMETERS.items()}
        cfg.update(params)
        return cfg

    def __call__(self, params: Mapping, trial=None) -> float:
        from .nn import mlp
        from .nn.losses import SoftmaxCrossEntropy
        from .nn.regularizers import L2
        from .optim import get_optimizer
        from .train import fit

        cfg = self.config(params)
        data, start = self.data, time.perf_counter()
        sizes = [data.train.n_features] + [cfg["width"]] * cfg["depth"] + [data.n_classes]
        model = mlp(sizes, activation=cfg["activation"], init=cfg["init"],
                    dropout=cfg["dropout"], batchnorm=cfg["batchnorm"], seed=self.seed)
        opt_args = {} if cfg["lr"] is None else {"lr": cfg["lr"]}
        if cfg["momentum"]:
            opt_args["momentum"] = cfg["momentum"]
        optimizer = get_optimizer(cfg["optimizer"], model.parameters(), **opt_args)
        loss = SoftmaxCrossEntropy()
        report = _EpochReport(trial)
        try:
            # An exploding run must stop as a divergence, not flood the terminal with warnings.
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                history = fit(model, data.train.X, data.train.y, loss=loss, optimizer=optimizer,
                              epochs=cfg["epochs"], batch_size=cfg["batch_size"], seed=self.seed,
                              validation_data=tuple(data.val), callbacks=[report],
                              regularizer=L2(cfg["l2"]) if cfg["l2"] else None, progress=False)
            diverged = history.diverged
        except FloatingPointError:  # overflow while evaluating, after the last good step
            history, diverged = report.history, True
        val_accs = history.epochs["val_acc"]
        if report.pruned_at is not None:
            raise _optuna().TrialPruned(f"pruned at epoch {report.pruned_at} "
                                     f"(validation accuracy {val_accs[-1]:.3f})")
        if diverged:
            value = float(val_accs[-1]) if val_accs else _majority(data.val.y)
            attrs = {"diverged": True, "test_acc": None, "train_acc": None}
        else:
            value = float(val_accs[-1])
            attrs = {"diverged": False, "test_acc": _accuracy(model, loss, data.test),
                     "train_acc": _accuracy(model, loss, data.train)}
        attrs.update(epochs=len(val_accs), seconds=round(time.perf_counter() - start, 4))
        if trial is not None:
            for key, v in attrs.items():
                trial.set_user_attr(key, v)
        return value


def _accuracy(model, loss, ds) -> float:
    return float(loss.accuracy(model.predict(ds.X), ds.y))


def _majority(y) -> float:
    return float(np.bincount(y).max() / len(y))


# -- running a study ------------------------------------------------------------------------------

def _optuna():
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is installed with the test extra
        raise ConfigError("whynet search needs Optuna: pip install 'whynet[search]'") from None
    return optuna


def _trial_seeded_random_sampler(seed: int):
    """Random search whose draw for trial k depends only on (seed, k, parameter name).

    Optuna's ``RandomSampler(seed)`` replays one stream from its start in every process, so a
    resumed study or a second process would repeat the first trials' draws.
    """
    optuna = _optuna()

    class TrialSeededRandomSampler(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, param_name, param_distribution):
            key = [seed, trial.number, zlib.crc32(param_name.encode())]
            sub = int(np.random.SeedSequence(key).generate_state(1)[0])
            return optuna.samplers.RandomSampler(seed=sub).sample_independent(
                study, trial, param_name, param_distribution)

    return TrialSeededRandomSampler()


def _seeded_start_tpe_sampler(seed: int, n_startup_trials: int = 10):
    """TPE (Bergstra et al. 2011) whose random start-up trials are drawn per trial number.

    Optuna's TPE draws its first ``n_startup_trials`` from a ``RandomSampler(seed)`` stream that
    restarts in every process, so a resumed study would repeat its first trials exactly; here
    those draws come from :func:`_trial_seeded_random_sampler` and the rest from TPE itself.
    """
    optuna = _optuna()
    tpe = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    start = _trial_seeded_random_sampler(seed)

    class SeededStartTPESampler(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return tpe.infer_relative_search_space(study, trial)

        def sample_relative(self, study, trial, search_space):
            return tpe.sample_relative(study, trial, search_space)

        def sample_independent(self, study, trial, param_name, param_distribution):
            finished = study.get_trials(deepcopy=False, states=_finished_states())
            sampler = start if len(finished) < n_startup_trials else tpe
            return sampler.sample_independent(study, trial, param_name, param_distribution)

        def before_trial(self, study, trial):
            tpe.before_trial(study, trial)

        def after_trial(self, study, trial, state, values):
            tpe.after_trial(study, trial, state, values)

    return SeededStartTPESampler()


def make_sampler(name: str, space: Space, seed: int = 0, grid_points: int = 3):
    """An Optuna sampler by name: ``"grid"`` (the grid's order shuffled by ``seed``),
    ``"random"`` or ``"tpe"`` (random draws seeded per trial number)."""
    optuna = _optuna()
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(grid_points), seed=seed)
    if name == "random":
        return _trial_seeded_random_sampler(seed)
    if name == "tpe":
        return _seeded_start_tpe_sampler(seed)
    raise unknown_name("sampler", name, SAMPLERS)


def make_storage(storage: str | None):
    """``None`` → in memory; a URL → Optuna's RDB storage with heartbeats; a bare file name →
    SQLite at that path. SQLite waits up to 60 s for a lock held by another process."""
    optuna = _optuna()
    if storage is None:
        return None, "memory"
    if not isinstance(storage, str) or not storage:
        raise ConfigError(f"search: storage must be a URL such as {DEFAULT_STORAGE!r} or None, "
                          f"got {storage!r}")
    url = storage if "://" in storage else f"sqlite:///{Path(storage).resolve()}"
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                rdb = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                 heartbeat_interval=HEARTBEAT_INTERVAL,
                                                 grace_period=GRACE_PERIOD)
                return rdb, url
            except Exception as e:  # sqlalchemy's: bad URL, missing driver, unreadable file
                # Two processes that start on a new file race to create its tables and stamp
                # its schema version; the loser finds them there and opens the file again.
                racing = ("already exists", "UNIQUE constraint failed", "database is locked")
                if any(r in str(e) for r in racing) and attempt < 4:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise ConfigError(f"search: cannot open storage {url!r}: {e}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _finished_states():
    optuna = _optuna()
    return (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def trial_record(t) -> dict:
    """A finished Optuna trial as plain JSON-able data."""
    return {"number": t.number, "state": t.state.name.lower(), "value": t.value,
            "params": dict(t.params), "attrs": dict(t.user_attrs),
            "intermediate": {int(k): float(v) for k, v in sorted(t.intermediate_values.items())}}


@dataclass
class SearchResult:
    """What :func:`search` returns: the Optuna ``study``, the ``space``, where it is stored, and
    ``ran`` — the numbers of the trials this call finished."""

    study: Any
    space: Space
    storage: str
    ran: list = field(default_factory=list)

    def trials(self, states=("complete", "pruned")) -> list[dict]:
        """Trials in the given states (all of the study's, not only this call's), by number."""
        return [trial_record(t) for t in self.study.get_trials(deepcopy=False)
                if t.state.name.lower() in states]

    @property
    def best(self) -> dict | None:
        """The complete trial with the highest value (first one on ties), or None."""
        done = self.trials(("complete",))
        return max(done, key=lambda r: r["value"]) if done else None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.study.get_trials(deepcopy=False):
            out[t.state.name.lower()] = out.get(t.state.name.lower(), 0) + 1
        return out

    def table(self, top: int = 5):
        """A rich Table of the ``top`` complete trials, best first."""
        return best_table(self.trials(), self.space, top)

    def figure(self, title: str | None = None):
        """Every trial projected on each hyperparameter: :func:`plot_trials`."""
        return plot_trials(self.trials(), self.space, title)

    def to_dict(self) -> dict:
        return {"study": self.study.study_name, "storage": self.storage, "ran": list(self.ran),
                "counts": self.counts(), "best": self.best, "trials": self.trials()}


def search(space: Mapping | Space, *, objective: Callable | None = None,
           data: str | Data | Mapping = "moons", sampler: str = "tpe", seed: int = 0,
           n_trials: int = 20, timeout: float | None = None,
           storage: str | None = DEFAULT_STORAGE, study_name: str | None = None,
           pruner: str = "median", grid_points: int = 3, callbacks=()) -> SearchResult:
    """Run (or resume) a study; return a :class:`SearchResult`.

    Args:
        space: ``{name: {low, high, log…} | {choices} | value}`` or a :class:`Space`. With the
            built-in objective the names are those of :data:`HYPERPARAMETERS`.
        objective: ``objective(params, trial) -> float`` to maximise; None trains an MLP on
            ``data`` (:class:`MLPObjective`) and returns its validation accuracy.
        data: for the built-in objective, a data set name, a :class:`Data`, or keyword
            arguments of :func:`load_data` (``{"name": "digits", "examples": 500}``).
        sampler: ``"grid"``, ``"random"`` or ``"tpe"``; ``seed`` seeds it (and the data split
            and the model's weights).
        n_trials: number of finished trials the study should end with (complete + pruned);
            only the missing ones run. A grid stops when it is exhausted.
        timeout: stop starting trials after this many seconds.
        storage: a URL Optuna accepts (default SQLite in the current directory) or None for
            memory only.
        study_name: the study to create or resume (default from the data and the space).
        pruner: ``"median"`` (Optuna's MedianPruner on per-epoch validation accuracy) or
            ``"none"``.
        grid_points: values per range for the grid sampler (a range's ``points`` overrides).
        callbacks: Optuna callbacks ``fn(study, frozen_trial)``, called after each trial.
    """
    optuna = _optuna()
    _check_seed(seed)
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ConfigError(f"search: n_trials must be an integer ≥ 1, got {n_trials!r}")
    if timeout is not None and (not _is_number(timeout) or timeout <= 0):
        raise ConfigError(f"search: timeout must be a number of seconds > 0, got {timeout!r}")
    if isinstance(grid_points, bool) or not isinstance(grid_points, int) or grid_points < 2:
        raise ConfigError(f"search: grid_points must be an integer ≥ 2, got {grid_points!r}")
    if pruner not in PRUNERS:
        raise unknown_name("pruner", pruner, PRUNERS)
    if sampler not in SAMPLERS:
        raise unknown_name("sampler", sampler, SAMPLERS)
    if objective is None:
        space = space if isinstance(space, Space) else parse_space(space, HYPERPARAMETERS)
        if isinstance(data, str):
            data = load_data(data, seed=seed)
        elif isinstance(data, Mapping):
            data = load_data(**{"seed": seed, **data})
        objective = MLPObjective(data, seed=seed)
        _check_names(space)
        default_name = f"{data.name}:" + "+".join(space.dims) if space.dims else data.name
    else:
        space = space if isinstance(space, Space) else parse_space(space, None)
        default_name = "custom:" + "+".join(space.dims)
    if not space.dims:
        raise ConfigError("search: the space has nothing to search; give at least one range or "
                          "list of choices")
    target = n_trials
    if sampler == "grid":
        target = min(n_trials, space.grid_size(grid_points))
    rdb, url = make_storage(storage)
    verbosity = optuna.logging.get_verbosity()
    # Optuna logs every trial (INFO) and a failed trial's traceback (WARNING); whynet prints its
    # own line per trial and turns a failure into one error.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.create_study(
            storage=rdb, sampler=make_sampler(sampler, space, seed, grid_points),
            pruner=(optuna.pruners.MedianPruner() if pruner == "median"
                    else optuna.pruners.NopPruner()),
            study_name=study_name or default_name, direction="maximize", load_if_exists=True)
        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ConfigError(f"search: study {study.study_name!r} in {url} minimises; whynet "
                              f"searches maximise accuracy — use another study name")
        result = SearchResult(study, space, url)
        done = len(study.get_trials(deepcopy=False, states=_finished_states()))
        if done < target:
            def record(study, frozen):
                if frozen.state in _finished_states():
                    result.ran.append(frozen.number)

            def run_trial(trial):
                return objective(space.sample(trial), trial)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                # Other processes may be adding trials to a stored study: stop when the study,
                # not this process, has its n_trials. (It costs a query per trial, so not in
                # memory, where no one else can add any.)
                shared = [] if rdb is None else [
                    optuna.study.MaxTrialsCallback(target, _finished_states())]
                try:
                    study.optimize(run_trial, n_trials=target - done, timeout=timeout,
                                   callbacks=[record, *shared, *callbacks])
                except ValueError as e:
                    if isinstance(e, WhynetError):
                        raise
                    # Optuna's: a parameter's kind (float, int, choices) differs from the
                    # study's earlier trials.
                    raise ConfigError(f"search: study {study.study_name!r} in {url}: {e} — a "
                                      f"study keeps one space; use another study name") from None
    finally:
        optuna.logging.set_verbosity(verbosity)
    return result


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"search: seed must be an integer ≥ 0, got {seed!r}")


def _check_names(space: Space) -> None:
    """Activation, initialiser and optimiser names are checked before any trial runs."""
    from .nn.activations import ACTIVATIONS
    from .nn.init import INITIALIZERS
    from .optim import OPTIMIZERS

    known = {"activation": ACTIVATIONS, "init": INITIALIZERS, "optimizer": OPTIMIZERS}
    for name, table in known.items():
        values = list(space.dims[name].choices) if isinstance(space.dims.get(name), Choice) \
            else [space.fixed.get(name)]
        for v in values:
            if v is not None and v not in table:
                raise unknown_name(name, v, table)


def expected_best(scores, k: int) -> float:
    """The expected best of ``k`` trials drawn at random (without replacement) from ``scores``.

    Bergstra & Bengio's (2012) random-experiment efficiency curve at budget ``k``, computed
    exactly from the order statistics of a pool of N i.i.d. random-search trials: with the
    scores sorted ascending, ``E[max] = Σᵢ v₍ᵢ₎ · C(i−1, k−1) / C(N, k)``. Far less noisy than
    running one search of ``k`` trials, and free once the pool is trained.
    """
    v = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(v)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ConfigError(f"expected_best: k must be an integer in [1, {n}] (the pool size), "
                          f"got {k!r}")
    weights = np.array([math.comb(i - 1, k - 1) for i in range(1, n + 1)], dtype=np.float64)
    return float(v @ weights / math.comb(n, k))


# -- presenting -----------------------------------------------------------------------------------

def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def best_table(trials: list[dict], space: Space, top: int = 5):
    """A rich Table: the ``top`` complete trials by validation accuracy, with test accuracy."""
    from rich.table import Table

    done = sorted((t for t in trials if t["state"] == "complete"),
                  key=lambda t: (-t["value"], t["number"]))
    n_pruned = sum(t["state"] == "pruned" for t in trials)
    table = Table(title=f"Best {min(top, len(done))} of {len(done)} complete trials"
                        + (f" ({n_pruned} pruned)" if n_pruned else ""))
    table.add_column("rank", justify="right")
    table.add_column("trial", justify="right")
    table.add_column("val acc", justify="right")
    table.add_column("test acc", justify="right")
    for name in space.dims:
        table.add_column(name, justify="right")
    for rank, t in enumerate(done[:top], 1):
        test = t["attrs"].get("test_acc")
        note = " (diverged)" if t["attrs"].get("diverged") else ""
        table.add_row(str(rank), str(t["number"]), f"{t['value']:.4f}{note}",
                      "—" if test is None else f"{test:.4f}",
                      *(_fmt(t["params"].get(name)) for name in space.dims))
    return table


def plot_trials(trials: list[dict], space: Space, title: str | None = None):
    """Bergstra & Bengio's projection: one panel per hyperparameter, each trial's validation
    accuracy against its value (log axis for a log range), coloured by trial number; pruned
    trials as grey crosses at their last reported accuracy; the best trial as a red star."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = list(space.dims)
    fig = Figure(figsize=(max(3.2 * len(names), 4.5), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True, squeeze=False)[0])
    done = [t for t in trials if t["state"] == "complete"]
    pruned = [t for t in trials if t["state"] == "pruned" and t["intermediate"]]
    best = max(done, key=lambda t: t["value"]) if done else None
    n_max = max((t["number"] for t in trials), default=0)
    for ax, name in zip(axes, names):
        dim = space.dims[name]
        positions = ({c: i for i, c in enumerate(dim.choices)} if isinstance(dim, Choice)
                     else None)

        def x_of(t):
            v = t["params"][name]
            return positions[v] if positions is not None else v

        if pruned:
            ax.scatter([x_of(t) for t in pruned],
                       [list(t["intermediate"].values())[-1] for t in pruned],
                       marker="x", color="0.6", s=18, label="pruned (last report)")
        if done:
            sc = ax.scatter([x_of(t) for t in done], [t["value"] for t in done],
                            c=[t["number"] for t in done], cmap="viridis", vmin=0,
                            vmax=max(n_max, 1), s=22, edgecolors="none", label="complete")
        if best is not None:
            ax.scatter([x_of(best)], [best["value"]], marker="*", s=140, color="tab:red",
                       zorder=3, label="best")
        if positions is not None:
            ax.set_xticks(range(len(dim.choices)), [str(c) for c in dim.choices])
            ax.set_xlim(-0.5, len(dim.choices) - 0.5)
        elif dim.log:
            ax.set_xscale("log")
        elif dim.integer:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel=name + (" (log scale)" if isinstance(dim, Range) and dim.log else ""))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation accuracy")
    axes[0].legend(fontsize=7, loc="lower left")
    if done:
        fig.colorbar(sc, ax=list(axes), label="trial number", pad=0.01)
    fig.suptitle(title or "Every trial projected on each hyperparameter", fontsize=10)
    return fig


# -- configuration file and command line ----------------------------------------------------------

def load_config(path) -> dict:
    """A TOML search file: ``[search]`` (sampler, seed, n_trials, …), ``[data]`` (name, examples,
    val, test, standardize and the data set's own arguments) and ``[space]``. Unknown sections or
    ``[search]`` keys raise naming them and the allowed ones; ``[space]`` names are checked by
    :func:`parse_space`, ``[data]`` arguments by the data set."""
    import tomllib

    try:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"search: cannot read config file {str(path)!r}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"search: config file {str(path)!r} is not valid TOML: {e}") from None
    unknown = sorted(set(cfg) - set(CONFIG_SECTIONS))
    if unknown:
        raise ConfigError(f"search config {str(path)!r}: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(CONFIG_SECTIONS)} (as [tables])")
    for section in CONFIG_SECTIONS:
        if section in cfg and not isinstance(cfg[section], dict):
            raise ConfigError(f"search config {str(path)!r}: {section} must be a [table]")
    unknown = sorted(set(cfg.get("search", {})) - set(SEARCH_SETTINGS))
    if unknown:
        raise ConfigError(f"search config {str(path)!r}: unknown [search] key(s) "
                          f"{', '.join(unknown)}; allowed: {', '.join(SEARCH_SETTINGS)}")
    return cfg


def _data_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"search: a --data-arg option must look like KEY=VALUE, got {text!r}")
    return key.strip(), _scalar(value)


def click_command():
    """The ``whynet search`` click command (built on call, so importing this module needs no
    click); :func:`main` runs it, and a CLI group can add it with ``group.add_command``."""
    import click

    @click.command("search", context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                  help="TOML file with [search], [data] and [space] tables.")
    @click.option("-p", "--param", "params", multiple=True, metavar="NAME=SPEC",
                  help="A hyperparameter: lr=1e-4:1:log (range), width=8,16,32 (choices), "
                       "epochs=20 (fixed). Repeatable; overrides the file. Names: "
                       + ", ".join(HYPERPARAMETERS) + ".")
    @click.option("--data", "data_name", help="Data set name (default moons).")
    @click.option("--data-arg", "data_args", multiple=True, metavar="KEY=VALUE",
                  help="A data setting (examples, val, test, standardize) or an argument of "
                       "the data set (n=500, noise=0.3). Repeatable.")
    @click.option("--sampler", type=click.Choice(SAMPLERS), help="Sampler (default tpe).")
    @click.option("--seed", type=int, help="Seed of the sampler, the split and the weights.")
    @click.option("--n-trials", type=int, help="Finished trials the study should have "
                                               "(default 20); a resumed study runs the rest.")
    @click.option("--timeout", type=float, help="Stop starting trials after this many seconds.")
    @click.option("--storage", help=f"Optuna storage URL (default {DEFAULT_STORAGE}); "
                                    f"'memory' keeps nothing.")
    @click.option("--study-name", help="Study to create or resume.")
    @click.option("--pruner", type=click.Choice(PRUNERS), help="Pruner (default median).")
    @click.option("--grid-points", type=int, help="Values per range for the grid (default 3).")
    @click.option("--plot", "plot_path", help="PNG of every trial per hyperparameter "
                                              "(default STUDY.png; 'none' to skip).")
    @click.option("--top", type=int, help="Rows in the table of best trials (default 5).")
    @click.option("--json", "as_json", is_flag=True, help="Print the results as JSON only.")
    def command(config_path, params, data_name, data_args, sampler, seed, n_trials, timeout,
                storage, study_name, pruner, grid_points, plot_path, top, as_json):
        """Search hyperparameters of an MLP on a data set with Optuna (grid, random, TPE)."""
        cfg = load_config(config_path) if config_path else {}
        settings = dict(cfg.get("search", {}))
        for key, value in (("sampler", sampler), ("seed", seed), ("n_trials", n_trials),
                           ("timeout", timeout), ("storage", storage),
                           ("study_name", study_name), ("pruner", pruner),
                           ("grid_points", grid_points), ("plot", plot_path), ("top", top)):
            if value is not None:
                settings[key] = value
        data = dict(cfg.get("data", {}))
        if data_name:
            data["name"] = data_name
        data.update(_data_option(a) for a in data_args)
        entries = dict(cfg.get("space", {}))
        entries.update(parse_option(p) for p in params)
        run_search(entries, data, settings, as_json)

    return command


def run_search(entries: Mapping, data: Mapping, settings: Mapping, as_json: bool = False,
               out=None) -> SearchResult:
    """What ``whynet search`` does once its options are merged: search, print, plot."""
    from rich.console import Console

    out = out or sys.stdout
    console = Console(file=out, highlight=False, soft_wrap=True)
    seed = settings.get("seed", 0)
    _check_seed(seed)
    storage = settings.get("storage", DEFAULT_STORAGE)
    storage = None if storage == "memory" else storage
    space = parse_space(entries, HYPERPARAMETERS)
    data = load_data(**{"seed": seed, **data})
    quiet = as_json

    def show(study, t):
        if quiet or t.state.name not in ("COMPLETE", "PRUNED", "FAIL"):
            return
        shown = "  ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
        if t.state.name == "COMPLETE":
            test = t.user_attrs.get("test_acc")
            what = f"val {t.value:.4f}" + ("" if test is None else f"  test {test:.4f}") \
                + ("  diverged" if t.user_attrs.get("diverged") else "")
        elif t.state.name == "PRUNED":
            what = f"pruned at epoch {max(t.intermediate_values)}"
        else:
            what = "failed"
        console.print(f"trial {t.number:>3}  {what}  {shown}")

    result = search(space, data=data, sampler=settings.get("sampler", "tpe"), seed=seed,
                    n_trials=settings.get("n_trials", 20), timeout=settings.get("timeout"),
                    storage=storage, study_name=settings.get("study_name"),
                    pruner=settings.get("pruner", "median"),
                    grid_points=settings.get("grid_points", 3), callbacks=[show])
    study = result.study
    plot = settings.get("plot") or f"{_safe(study.study_name)}.png"
    if plot != "none":
        fig = result.figure(f"{study.study_name}: every trial projected on each hyperparameter")
        fig.savefig(plot, dpi=110)
    if as_json:
        out.write(json.dumps({**result.to_dict(), "plot": None if plot == "none" else plot})
                  + "\n")
        return result
    counts = result.counts()
    console.print(f"study {study.study_name!r} in {result.storage}: "
                  + ", ".join(f"{n} {state}" for state, n in counts.items())
                  + f"; this run finished {len(result.ran)}")
    if counts.get("running"):
        console.print(f"({counts['running']} running: another process, or one that was "
                      f"killed — it is marked failed {GRACE_PERIOD} s after its last heartbeat)")
    console.print(result.table(settings.get("top", 5)))
    if plot != "none":
        console.print(f"plot: {plot}")
    return result


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def main(argv=None) -> int:
    """``whynet search`` as a function: parse ``argv`` (default ``sys.argv[1:]``), run, and
    return the exit code; a whynet error is one red line and exit code 2."""
    import click

    try:
        click_command().main(args=argv, prog_name="whynet search", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted: finished trials are in the storage; run the same command again "
                   "to resume", err=True)
        return 130
    except (WhynetError, UnknownNameError) as e:
        click.secho(f"error: {e}", fg="red", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
