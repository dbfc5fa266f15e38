"""Seeded Optuna samplers whose draws depend on the trial number, so that a resumed study or a
second process sharing a storage never repeats an earlier trial's draw."""

from __future__ import annotations

import zlib

import numpy as np

from ..errors import ConfigError, unknown_name
from ..i18n import _
from .space import Space

SAMPLERS = ("grid", "random", "tpe")


def optuna_module():
    """Optuna, imported when a search runs (it is an extra: ``pip install 'whynet[search]'``)."""
    try:
        import optuna
    except ImportError:
        raise ConfigError(_("whynet search needs Optuna: pip install 'whynet[search]'")) from None
    return optuna


_optuna = optuna_module


def trial_seeded_random_sampler(seed: int):
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


def seeded_start_tpe_sampler(seed: int, n_startup_trials: int = 10):
    """TPE (Bergstra et al. 2011) whose random start-up trials are drawn per trial number.

    Optuna's TPE draws its first ``n_startup_trials`` from a ``RandomSampler(seed)`` stream that
    restarts in every process, so a resumed study would repeat its first trials exactly; here
    those draws come from :func:`trial_seeded_random_sampler` and the rest from TPE itself.
    """
    optuna = _optuna()
    tpe = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    start = trial_seeded_random_sampler(seed)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)

    class SeededStartTPESampler(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return tpe.infer_relative_search_space(study, trial)

        def sample_relative(self, study, trial, search_space):
            return tpe.sample_relative(study, trial, search_space)

        def sample_independent(self, study, trial, param_name, param_distribution):
            done = study.get_trials(deepcopy=False, states=finished)
            sampler = start if len(done) < n_startup_trials else tpe
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
        return trial_seeded_random_sampler(seed)
    if name == "tpe":
        return seeded_start_tpe_sampler(seed)
    raise unknown_name(_("sampler"), name, SAMPLERS)
