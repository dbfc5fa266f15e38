"""Hyperparameter search with Optuna: ``whynet search`` and its Python API.

A search samples hyperparameters from a *space* (:mod:`.space`), trains a whynet MLP with each
sample (:mod:`.objective`: :func:`whynet.config.build` on a named data set) and keeps the
validation score — the accuracy, or R² for a regression set (plane, multigauss); the test score
of every finished trial is recorded next to it but never used for choosing. :mod:`.samplers` holds the seeded samplers, :mod:`.study` runs (or resumes) a
study in a storage, :mod:`.results` draws the table and the plot, :mod:`.cli` is the command.

Python::

    from whynet.search import search
    result = search({"lr": {"low": 1e-4, "high": 1, "log": True}}, data="digits",
                    sampler="random", n_trials=20, storage=None)   # None: in memory
    result.best["params"], result.table(), result.figure()

Optuna is an extra (``pip install whynet[search]``) imported only when a search runs.
"""

from .cli import load_config, main, run_search, search_command
from .objective import Data, MLPObjective, load_data
from .results import best_table, expected_best, plot_trials
from .samplers import SAMPLERS, make_sampler
from .space import (HYPERPARAMETERS, Choice, Hyperparameter, Range, Space, parse_dim,
                    parse_option, parse_space)
from .study import (DEFAULT_STORAGE, GRACE_PERIOD, PRUNERS, SearchResult, make_storage, search,
                    trial_record)

__all__ = [
    "DEFAULT_STORAGE", "GRACE_PERIOD", "HYPERPARAMETERS", "PRUNERS", "SAMPLERS", "Choice", "Data",
    "Hyperparameter", "MLPObjective", "Range", "SearchResult", "Space", "best_table",
    "expected_best", "load_config", "load_data", "main", "make_sampler", "make_storage",
    "parse_dim", "parse_option", "parse_space", "plot_trials", "run_search", "search",
    "search_command", "trial_record",
]
