"""The experiment contract and the helpers that keep verdicts honest.

An experiment answers one or more questions of ``QUESTIONS.md`` with numbers over several seeds.
It declares a grid of run specs (plain dicts), runs one ``(spec, seed)`` pair at a time, and turns
the results into a :class:`Verdict` per question whose status is *computed* from the numbers::

    class ZeroCentring(Experiment):
        id = "a1"
        questions = ("A1",)
        title = "Zero-centred inputs and zig-zag updates"
        question = "Do non-zero-centred inputs make a neuron's weight gradients share one sign?"
        what = "A 2-layer net on circles; per neuron, the fraction of steps where ..."

        def grid(self, quick):
            return [{"feed": f, "epochs": 5 if quick else 50} for f in ("sigmoid", "tanh")]

        def run(self, spec, seed):
            ...
            return {"agreement": 0.98, "loss": [...]}

        def verdicts(self, results):
            by = group(results, "feed")
            sig, tanh = values(by["sigmoid"], "agreement"), values(by["tanh"], "agreement")
            status = decide([s > t + 0.2 for s, t in zip(sig, tanh)])
            return [Verdict("A1", status, f"...", {"sigmoid-fed": mean_spread(sig), ...})]

See ``docs/contracts.md``, section "Experiments", for the full contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError

STATUSES = ("holds", "fails", "depends", "inconclusive")


@dataclass(frozen=True)
class RunResult:
    """One finished ``(spec, seed)`` pair: the spec, the seed, what ``run`` returned, its time."""

    spec: dict
    seed: int
    result: dict
    seconds: float = 0.0


@dataclass(frozen=True)
class Stat:
    """Mean and spread of one number over seeds. ``str(stat)`` → ``"0.93 ± 0.02 (n=3)"``."""

    mean: float
    std: float
    n: int
    min: float
    max: float

    def fmt(self, spec: str | None = None) -> str:
        """``mean ± std (n=…)``; by default the spread gets one significant digit (two if it
        starts with 1) and the mean the same decimals; or give a format spec, e.g. ``".1%"``."""
        if spec is not None:
            return f"{self.mean:{spec}} ± {self.std:{spec}} (n={self.n})"
        return f"{_mean_and_spread(self.mean, self.std)} (n={self.n})"

    def __str__(self) -> str:
        return self.fmt()

    def as_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "n": self.n, "min": self.min, "max": self.max}


def _mean_and_spread(mean: float, std: float) -> str:
    if not (math.isfinite(mean) and math.isfinite(std)):
        return f"{mean:.3g} ± {std:.3g}"
    if std <= 1e-9 * abs(mean):  # seeds equal up to float round-off: no spread to print
        return f"{mean:.3g} ± 0"
    big = max(abs(mean), std)
    if big < 1e-3 or big >= 1e5:  # fixed-point would be all zeros or all digits
        return f"{mean:.2e} ± {std:.1e}"
    lead = math.floor(math.log10(std))
    digits = 2 if f"{std:e}".startswith("1") else 1
    decimals = max(0, -lead + digits - 1)
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def mean_spread(values) -> Stat:
    """Mean, population std (ddof=0), count, min and max of per-seed values.

    NaN values are counted in ``n`` and make the mean NaN: a diverged seed must show, not vanish.
    """
    a = np.asarray(list(values), dtype=np.float64).ravel()
    if a.size == 0:
        raise ConfigError("mean_spread: expected at least one value, got none")
    with np.errstate(invalid="ignore"):  # NaN/inf from a diverged run propagate on purpose
        return Stat(float(a.mean()), float(a.std()), int(a.size), float(a.min()), float(a.max()))


def decide(flags) -> str:
    """``"holds"`` if the claim held in every seed, ``"fails"`` if in none, else ``"inconclusive"``.

    ``flags`` are per-seed booleans (numpy bools are fine). No seeds → inconclusive.
    """
    flags = [bool(f) for f in flags]
    if flags and all(flags):
        return "holds"
    if flags and not any(flags):
        return "fails"
    return "inconclusive"


def combine(statuses) -> str:
    """One status from the statuses of several conditions (data sets, depths, activations…).

    All holds → holds; all fails → fails; any inconclusive → inconclusive; holds in some
    conditions and fails in others → ``"depends"`` (say on what in the sentence).
    """
    statuses = list(statuses)
    for s in statuses:
        _check_status(s)
    if not statuses or "inconclusive" in statuses:
        return "inconclusive"
    if all(s == "holds" for s in statuses):
        return "holds"
    if all(s == "fails" for s in statuses):
        return "fails"
    return "depends"


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ConfigError(f"verdict status must be one of {', '.join(STATUSES)}, got {status!r}")


@dataclass(frozen=True)
class Verdict:
    """The answer to one question: a computed status, one sentence, and the numbers behind it."""

    question: str
    status: str
    sentence: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        _check_status(self.status)

    def as_dict(self) -> dict:
        return {"question": self.question, "status": self.status, "sentence": self.sentence,
                "numbers": {k: format_number(v) for k, v in self.numbers.items()}}


@dataclass(frozen=True)
class Correction:
    """Where a note was wrong or loose: which note, what it says, what we measured, the number."""

    question: str
    note: str
    says: str
    measured: str
    number: str


@dataclass(frozen=True)
class Published:
    """A published baseline next to our number for the same setting."""

    question: str
    source: str
    theirs: str
    ours: str
    comment: str = ""


def format_number(value) -> str:
    """How a verdict number is printed: a Stat as ``mean ± std (n)``, floats to 3 significant digits."""
    if isinstance(value, Stat):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else f"{float(value):.3g}"
    return str(value)


def group(results, by) -> dict:
    """Split results by a spec key, a tuple of spec keys, or a function of a RunResult.

    Keys keep the order in which they first appear (the grid's order).
    """
    if callable(by):
        key_of: Callable = by
    elif isinstance(by, tuple):
        key_of = lambda r: tuple(r.spec.get(k) for k in by)  # noqa: E731
    else:
        key_of = lambda r: r.spec.get(by)  # noqa: E731
    out: dict = {}
    for r in results:
        out.setdefault(key_of(r), []).append(r)
    return out


def values(results, name: str) -> list:
    """``result[name]`` of every run, in order."""
    return [r.result[name] for r in results]


class Experiment:
    """Base class of every experiment. Subclasses set the attributes and implement the methods.

    Attributes:
        id: short lower-case id, e.g. ``"a1"``; the module is named after it.
        questions: the question IDs answered, e.g. ``("A1",)``.
        title: a few words. question: one line. what: one paragraph on what is run and measured.
        seeds_quick, seeds_full: seeds per spec for the quick and the full grid.
        version: bump when ``run`` changes meaning, so stored results are recomputed.
    """

    id: str = ""
    questions: tuple[str, ...] = ()
    title: str = ""
    question: str = ""
    what: str = ""
    seeds_quick: int = 3
    seeds_full: int = 5
    version: int = 1

    def grid(self, quick: bool) -> list[dict]:
        raise NotImplementedError

    def run(self, spec: dict, seed: int) -> dict:
        raise NotImplementedError

    def verdicts(self, results: list[RunResult]) -> list[Verdict]:
        raise NotImplementedError

    def figures(self, results: list[RunResult]) -> list:
        return []

    def corrections(self, results: list[RunResult]) -> list[Correction]:
        return []

    def published(self, results: list[RunResult]) -> list[Published]:
        return []

    def seeds(self, quick: bool, n: int | None = None) -> list[int]:
        """Seeds 0 … n−1 (n defaults to ``seeds_quick`` or ``seeds_full``)."""
        n = (self.seeds_quick if quick else self.seeds_full) if n is None else n
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"{self.id}: number of seeds must be an int ≥ 1, got {n!r}")
        return list(range(n))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, questions={self.questions})"
