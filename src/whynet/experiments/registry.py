"""Finds the experiments: every module of ``whynet.experiments`` that defines ``EXPERIMENT``.

Discovery is plain ``pkgutil`` over the package directory, done once on first use. Tests and
plug-ins add experiments with :func:`register`, which returns a handle to take them out again.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from ..errors import ConfigError, unknown_name
from ..i18n import _
from . import __path__ as PACKAGE_PATH
from .base import Experiment
from .questions import QUESTIONS

# Modules of the package that are machinery, not experiments.
_NOT_EXPERIMENTS = {"base", "registry", "questions", "recipes", "figures"}

_discovered: dict[str, Experiment] | None = None
_registered: dict[str, Experiment] = {}


def _discover() -> dict[str, Experiment]:
    global _discovered
    if _discovered is None:
        found: dict[str, Experiment] = {}
        for info in pkgutil.iter_modules(PACKAGE_PATH):
            if info.name in _NOT_EXPERIMENTS or info.name.startswith("_"):
                continue
            try:
                module = importlib.import_module(f"{__package__}.{info.name}")
            except Exception as e:  # one line naming the module, not a traceback from the CLI
                raise ConfigError(_("experiment module {package}.{name} failed to import: "
                                    "{type}: {reason}")
                                    .format(package=__package__, name=info.name,
                                            type=type(e).__name__, reason=e)) from e
            experiment = getattr(module, "EXPERIMENT", None)
            if experiment is not None:
                _check(experiment, where=f"module {module.__name__}")
                if experiment.id in found:
                    raise ConfigError(_("experiment id {id!r} defined twice (second time in "
                                        "{module})")
                                        .format(id=experiment.id, module=module.__name__))
                found[experiment.id] = experiment
        _discovered = found
    return _discovered


def _check(experiment, where: str) -> None:
    if not isinstance(experiment, Experiment):
        raise ConfigError(_("{where}: EXPERIMENT must be an Experiment instance, got {type}")
                            .format(where=where, type=type(experiment).__name__))
    if not experiment.id or experiment.id != experiment.id.lower():
        raise ConfigError(_("{where}: experiment id must be a non-empty lower-case string, got "
                            "{id!r}").format(where=where, id=experiment.id))
    if not experiment.questions:
        raise ConfigError(_("{where}: experiment {id!r} answers no question")
                            .format(where=where, id=experiment.id))
    for qid in experiment.questions:
        if qid not in QUESTIONS:
            raise ConfigError(_("{where}: experiment {id!r} names question {qid!r}; known: "
                                "{questions}")
                                .format(where=where, id=experiment.id, qid=qid,
                                        questions=', '.join(QUESTIONS)))
    if experiment.seeds_quick < 2:
        raise ConfigError(_("{where}: experiment {id!r}: seeds_quick must be ≥ 2 so seeds can "
                            "disagree, got {seeds_quick}")
                            .format(where=where, id=experiment.id,
                                    seeds_quick=experiment.seeds_quick))


def _table() -> dict[str, Experiment]:
    return {**_discover(), **_registered}


def all_experiments() -> list[Experiment]:
    """Every known experiment, sorted by id (a2 before a10)."""
    return sorted(_table().values(), key=lambda e: _natural(e.id))


def ids() -> list[str]:
    return [e.id for e in all_experiments()]


def get(experiment_id: str) -> Experiment:
    """The experiment with this id; an unknown id raises UnknownNameError listing the known ones."""
    table = _table()
    if experiment_id not in table:
        raise unknown_name(_("experiment"), experiment_id, table)
    return table[experiment_id]


def by_question(qid: str) -> list[Experiment]:
    """The experiments that answer question ``qid`` (e.g. ``"A4"``)."""
    return [e for e in all_experiments() if qid in e.questions]


class _Registration:
    def __init__(self, experiment_id: str):
        self.id = experiment_id

    def remove(self) -> None:
        _registered.pop(self.id, None)


def register(experiment: Experiment) -> _Registration:
    """Add an experiment that does not live in the package (tests, plug-ins)."""
    _check(experiment, where=f"register({experiment!r})")
    _registered[experiment.id] = experiment
    return _Registration(experiment.id)


def _natural(text: str):
    """Sort key that puts a2 before a10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]
