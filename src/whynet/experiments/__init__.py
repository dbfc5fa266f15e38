"""Experiments: one module per question group member, each answering question IDs of
``QUESTIONS.md`` with numbers over seeds and a computed verdict. See ``base.py`` for the contract
and ``registry.py`` for how they are found."""

from .base import (Correction, Experiment, Published, RunResult, Stat, Verdict,  # noqa: F401
                   combine, decide, group, mean_spread, values)
