"""Running a study: storage, the optimisation loop, and what it returns.

A search samples hyperparameters from a :class:`~whynet.search.space.Space`, trains with each
sample and keeps the validation accuracy; Optuna does the rest:

* samplers ``grid``, ``random`` and ``tpe``, all seeded (:mod:`whynet.search.samplers`);
* pruning: each epoch's validation accuracy is reported, and Optuna's ``MedianPruner`` stops a
  trial that is below the median of earlier trials at the same epoch;
* storage: by default the SQLite file ``search.db`` beside the results store (the folder of
  :func:`whynet.store.default_path`: ``$WHYNET_STORE``'s, else the user cache folder), or a
  file name, or any URL Optuna accepts. The
  same storage and study name *resume* a study: ``n_trials`` is the number of finished
  (complete or pruned) trials the study should have, so an interrupted search, run again, does
  only the trials it had left, and several processes pointed at one storage share the work.
  Each trial sends a heartbeat; a trial whose process was killed is marked failed after
  :data:`GRACE_PERIOD` seconds and does not count.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import ConfigError, WhynetError, check_int, check_number, unknown_name
from ..i18n import _
from ..store import default_path
from .objective import Data, MLPObjective, TrialPruned, load_data
from .results import best_table, plot_trials
from .samplers import SAMPLERS, make_sampler, optuna_module as _optuna
from .space import HYPERPARAMETERS, Space, parse_space

#: ``storage=DEFAULT_STORAGE``: :func:`default_storage_path`, beside the results store.
DEFAULT_STORAGE = "default"
SEARCH_DB = "search.db"
PRUNERS = ("median", "none")
HEARTBEAT_INTERVAL = 5  # seconds between a running trial's heartbeats in an RDB storage
GRACE_PERIOD = 20  # seconds without a heartbeat before a running trial counts as failed


def default_storage_path() -> Path:
    """``search.db`` in the folder of the results store (:func:`whynet.store.default_path`)."""
    return default_path().parent / SEARCH_DB


def make_storage(storage: str | None):
    """``None`` → in memory; a URL → Optuna's RDB storage with heartbeats; a bare file name →
    SQLite at that path; :data:`DEFAULT_STORAGE` → :func:`default_storage_path` (its folder
    created). SQLite waits up to 60 s for a lock held by another process."""
    optuna = _optuna()
    if storage is None:
        return None, "memory"
    if not isinstance(storage, str) or not storage:
        raise ConfigError(_("search: storage must be a URL such as 'sqlite:///search.db', a file "
                            "name, or None, got {storage!r}").format(storage=storage))
    if storage == DEFAULT_STORAGE:
        path = default_storage_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(_("search: cannot create the folder {parent} for {search_db} "
                                "({reason}); pass --storage")
                                .format(parent=path.parent, search_db=SEARCH_DB,
                                        reason=e.strerror)) from e
        storage = str(path)
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
                raise ConfigError(_("search: cannot open storage {url!r}: {reason}")
                                    .format(url=url, reason=_reason(e))) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _reason(e: Exception) -> str:
    """SQLAlchemy's error without its "[SQL: …]" and "(Background on this error at: …)" lines:
    the driver's own message when there is one, else the first line."""
    text = str(getattr(e, "orig", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


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
            ``data`` (:class:`MLPObjective`) and returns its validation score (accuracy, or R²
            for a regression set).
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
    _check_search_args(seed, n_trials, timeout, grid_points, pruner, sampler)
    space, objective, default_name = _objective_and_space(space, objective, data, seed)
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
            raise ConfigError(_("search: study {study_name!r} in {url} minimises; whynet "
                                "searches maximise a score — use another study name")
                                .format(study_name=study.study_name, url=url))
        result = SearchResult(study, space, url)
        done = len(study.get_trials(deepcopy=False, states=_finished_states()))
        if done < target:
            _optimize(result, objective, target - done, timeout, shared=rdb is not None,
                      target=target, callbacks=callbacks)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return result


def _check_search_args(seed, n_trials, timeout, grid_points, pruner, sampler) -> None:
    """search's scalar arguments, checked before Optuna is touched."""
    check_int("search", "seed", seed, low=0)
    check_int("search", "n_trials", n_trials)
    if timeout is not None:
        check_number("search", "timeout (seconds)", timeout, low=0.0, low_open=True)
    check_int("search", "grid_points", grid_points, low=2)
    if pruner not in PRUNERS:
        raise unknown_name(_("pruner"), pruner, PRUNERS)
    if sampler not in SAMPLERS:
        raise unknown_name(_("sampler"), sampler, SAMPLERS)


def _objective_and_space(space, objective, data, seed) -> tuple[Space, Callable, str]:
    """``(space, objective, default study name)``: the built-in MLP objective on ``data`` when
    ``objective`` is None (its space checked against :data:`HYPERPARAMETERS`), else the
    caller's objective over a free space."""
    if objective is None:
        space = space if isinstance(space, Space) else parse_space(space, HYPERPARAMETERS)
        if isinstance(data, str):
            data = load_data(data, seed=seed)
        elif isinstance(data, Mapping):
            data = load_data(**{"seed": seed, **data})
        objective = MLPObjective(data, seed=seed)
        objective.check(space)
        default_name = f"{data.name}:" + "+".join(space.dims) if space.dims else data.name
    else:
        space = space if isinstance(space, Space) else parse_space(space, None)
        default_name = "custom:" + "+".join(space.dims)
    if not space.dims:
        raise ConfigError(_("search: the space has nothing to search; give at least one range or "
                            "list of choices"))
    return space, objective, default_name


def _optimize(result: SearchResult, objective: Callable, n_trials: int, timeout, *,
              shared: bool, target: int, callbacks) -> None:
    """Run ``n_trials`` more trials of ``result.study``, noting the finished ones in
    ``result.ran``; ``shared``: the study is stored, so other processes may add trials too."""
    optuna = _optuna()
    study, space, url = result.study, result.space, result.storage

    def record(study, frozen):
        if frozen.state in _finished_states():
            result.ran.append(frozen.number)

    def run_trial(trial):
        try:
            return objective(space.sample(trial), trial)
        except TrialPruned as e:
            raise optuna.TrialPruned(str(e)) from None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # Other processes may be adding trials to a stored study: stop when the study, not
        # this process, has its n_trials. (It costs a query per trial, so not in memory, where
        # no one else can add any.)
        limit = [optuna.study.MaxTrialsCallback(target, _finished_states())] if shared else []
        try:
            study.optimize(run_trial, n_trials=n_trials, timeout=timeout,
                           callbacks=[record, *limit, *callbacks])
        except ValueError as e:
            if isinstance(e, WhynetError):
                raise
            # Optuna's: a parameter's kind (float, int, choices) differs from the study's
            # earlier trials.
            raise ConfigError(_("search: study {study_name!r} in {url}: {reason} — a study keeps "
                                "one space; use another study name")
                                .format(study_name=study.study_name, url=url, reason=e)) from None


