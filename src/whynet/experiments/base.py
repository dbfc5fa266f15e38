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
import sys
from html import escape
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError
from ..i18n import N_, _
from ..notebook import html_table
from . import recipes

#: ``holds`` / ``fails`` / ``depends`` / ``inconclusive`` are *tests*: the measurement could have
#: gone either way. ``shown`` is a *demonstration*: an identity or a property that holds by
#: construction unless the engine has a bug (A9/A10's identities, B1, R5…). The overview counts
#: them apart and a demonstration never wears a test's badge.
TESTS = ("holds", "fails", "depends", "inconclusive")
STATUSES = (*TESTS, "shown")
STATUS_WORDS = {"holds": N_("holds"), "fails": N_("fails"), "depends": N_("depends"),
                "inconclusive": N_("inconclusive"), "shown": N_("shown")}
"""How a status is written inside a sentence or an evidence cell (translated where shown)."""
ANSWER_WORDS = 30  # a one-line answer is at most this many words


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
    if math.isinf(mean):  # some seed never got there (a time to a target): no spread to show
        return f"{mean:.3g}"
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
    """Mean, sample std (ddof=1; 0 for a single value), count, min and max of per-seed values.

    NaN values are counted in ``n`` and make the mean NaN: a diverged seed must show, not vanish.
    """
    a = np.asarray(list(values), dtype=np.float64).ravel()
    if a.size == 0:
        raise ConfigError(_("mean_spread: expected at least one value, got none"))
    with np.errstate(invalid="ignore"):  # NaN/inf from a diverged run propagate on purpose
        std = float(a.std(ddof=1)) if a.size > 1 else 0.0
        return Stat(float(a.mean()), std, int(a.size), float(a.min()), float(a.max()))


def decide(flags) -> str:
    """``"holds"`` if the claim held in every seed, ``"fails"`` if in none, else ``"inconclusive"``.

    ``flags`` are per-seed booleans (numpy bools are fine). No seeds → inconclusive.
    """
    return tally(flags).status


@dataclass(frozen=True)
class Tally:
    """Per-seed outcomes of one paired comparison: the status and "k of n seeds agree".

    ``agree`` counts the seeds that side with the status (held for "holds", did not hold for
    "fails"; for "inconclusive" the larger side). ``sign_p`` is the two-sided sign-test p-value of
    a unanimous result, ``2·0.5ⁿ`` (3 of 3 → 0.25, 10 of 10 → 0.002): how much unanimity means.
    """

    status: str
    agree: int
    n: int

    @property
    def sign_p(self) -> float:
        return min(1.0, 2 * 0.5 ** self.n) if self.agree == self.n else 1.0

    def __str__(self) -> str:
        return _("{k} of {n} seeds").format(k=self.agree, n=self.n)


def tally(flags) -> Tally:
    """:func:`decide` with the count: ``tally([True, True, False])`` → inconclusive, 2 of 3."""
    flags = [bool(f) for f in flags]
    k, n = sum(flags), len(flags)
    if n and k == n:
        return Tally("holds", n, n)
    if n and k == 0:
        return Tally("fails", n, n)
    return Tally("inconclusive", max(k, n - k), n)


def status_word(status: str) -> str:
    """A status as a word in the language in force: ``"holds"`` → 성립 in Korean."""
    _check_status(status)
    return _(STATUS_WORDS[status])


def outcome(status: str, agree) -> str:
    """An evidence cell: the status and the seeds behind it, ``"holds (3 of 3 seeds)"``."""
    return _("{status} ({seeds})").format(status=status_word(status), seeds=agree)


def held_in(flags) -> str:
    """``"k of n seeds"``: in how many runs a per-seed flag held (a :class:`Tally` counts the
    side of its status instead, which for "fails" is the runs where it did not)."""
    flags = [bool(f) for f in flags]
    return _("{k} of {n} seeds").format(k=sum(flags), n=len(flags))


def demonstration(flags) -> Tally:
    """The status of a demonstration: ``shown`` when it came out in every run (it holds by
    construction unless the engine has a bug), else ``fails`` with the runs where it did not.
    No runs → inconclusive."""
    flags = [bool(f) for f in flags]
    k, n = sum(flags), len(flags)
    if n == 0:
        return Tally("inconclusive", 0, 0)
    return Tally("shown", n, n) if k == n else Tally("fails", n - k, n)


def combine(statuses) -> str:
    """One status from the statuses of several conditions (data sets, depths, activations…).

    All holds → holds; all fails → fails; any inconclusive → inconclusive; holds in some
    conditions and fails in others → ``"depends"`` (name on what in ``depends_on``). ``shown``
    (a demonstration) is left out when tests are present; only demonstrations → ``shown``.
    """
    statuses = list(statuses)
    for s in statuses:
        _check_status(s)
    if statuses and all(s == "shown" for s in statuses):
        return "shown"
    statuses = [s for s in statuses if s != "shown"]
    if not statuses or "inconclusive" in statuses:
        return "inconclusive"
    if all(s == "holds" for s in statuses):
        return "holds"
    if all(s == "fails" for s in statuses):
        return "fails"
    return "depends"


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ConfigError(_("verdict status must be one of {statuses}, got {status!r}")
                            .format(statuses=', '.join(STATUSES), status=status))


@dataclass(frozen=True)
class Row:
    """One row of a verdict's evidence table: a condition and its measures over seeds.

    ``Row("tanh, lr 0.1", {"epochs to 90%": Stat(...), "final loss": Stat(...)})``
    """

    condition: str
    measures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"condition": self.condition,
                "measures": {k: format_number(v) for k, v in self.measures.items()},
                "raw": {k: _raw(v) for k, v in self.measures.items()}}


def _raw(value):
    if isinstance(value, Stat):
        return value.as_dict()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return str(value)


@dataclass(frozen=True)
class Verdict:
    """The answer to one question, as data; the CLI, the report and the lab only render it.

    Fields:
        question: the question ID, e.g. ``"A2"``.
        status: one of :data:`STATUSES`, computed from the numbers (``shown`` for a
            demonstration that holds by construction).
        sentence: the long form: what was measured and how it came out (the report's paragraph).
        numbers: named numbers behind the sentence (kept for the JSON and older readers).
        answer: the one-line answer in plain words, at most :data:`ANSWER_WORDS` words, no ±.
        evidence: :class:`Row` s, condition → measures over seeds.
        rule: the rule that decided the status, with its thresholds, in one or two sentences.
        depends_on: for ``depends``, the variable(s) it depends on, e.g. ``("optimizer",)``.
        agree: the :class:`Tally` behind the status (k of n seeds agree), when there is one.
    """

    question: str
    status: str
    sentence: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    answer: str = ""
    evidence: tuple[Row, ...] = ()
    rule: str = ""
    depends_on: tuple[str, ...] = ()
    agree: Tally | None = None

    def __post_init__(self):
        _check_status(self.status)
        object.__setattr__(self, "evidence", tuple(self.evidence))
        object.__setattr__(self, "depends_on", tuple(self.depends_on))

    def problems(self) -> list[str]:
        """What keeps this verdict from being complete (empty when it is): used by the tests."""
        out = []
        if not self.answer:
            out.append("no one-line answer")
        elif len(self.answer.split()) > ANSWER_WORDS:
            out.append(f"answer has {len(self.answer.split())} words (at most {ANSWER_WORDS})")
        if "±" in self.answer:
            out.append("answer uses ± notation")
        if not self.evidence:
            out.append("no evidence rows")
        if not self.rule:
            out.append("no rule")
        if self.status == "depends" and not self.depends_on:
            out.append("status depends but depends_on is empty")
        return [f"{self.question}: {p}" for p in out]

    def _repr_html_(self) -> str:
        rows = [[r.condition, *(f"{k}: {format_number(v)}" for k, v in r.measures.items())]
                for r in self.evidence]
        width = max((len(r) for r in rows), default=1)
        head = f"{self.question} — {self.status}" + (
            f" (on {', '.join(self.depends_on)})" if self.depends_on else "") + (
            f", {self.agree}" if self.agree else "")
        body = html_table(["condition", *[""] * (width - 1)], [r + [""] * (width - len(r))
                                                              for r in rows], head)
        return (f"<p><b>{escape(self.answer or self.sentence)}</b></p>{body}"
                f"<p style='color:#666'>{escape(self.rule)}</p>")

    def as_dict(self) -> dict:
        return {"question": self.question, "status": self.status,
                "kind": "demonstration" if self.status == "shown" else "test",
                "answer": self.answer, "sentence": self.sentence,
                "evidence": [r.as_dict() for r in self.evidence], "rule": self.rule,
                "depends_on": list(self.depends_on),
                "seeds_agree": (None if self.agree is None else
                                {"agree": self.agree.agree, "n": self.agree.n,
                                 "sign_p": self.agree.sign_p}),
                "numbers": {k: format_number(v) for k, v in self.numbers.items()}}


@dataclass(frozen=True)
class Correction:
    """Where a note was wrong or loose: which note (file and page), what it says (paraphrased),
    what we measured, the number, and so what (what a learner should take away)."""

    question: str
    note: str
    says: str
    measured: str
    number: str
    so_what: str = ""


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
            The three are English, marked with ``N_``; :meth:`texts` gives them in the language
            in force. ``what`` may hold ``{name}`` placeholders filled from ``what_values``
            (module constants), so the English attribute reads as before.
        seeds_quick, seeds_full: seeds per spec for the quick and the full grid.
        version: bump when ``run`` changes meaning, so stored results are recomputed.
    """

    id: str = ""
    questions: tuple[str, ...] = ()
    title: str = ""
    question: str = ""
    what: str = ""
    what_values: dict = {}
    seeds_quick: int = 3
    seeds_full: int = 5
    version: int = 1

    _what_template: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "what_values" in cls.__dict__:  # keep the template for translation, show it filled
            cls._what_template = cls.what
            cls.what = cls.what.format(**cls.what_values)

    def texts(self) -> dict[str, str]:
        """``title``, ``question`` and ``what`` in the language in force (:mod:`whynet.i18n`):
        what the report, the CLI and the lab show. The attributes themselves stay English."""
        what = _(self._what_template).format(**self.what_values) if self._what_template else (
            _(self.what) if self.what else "")
        return {"title": _(self.title) if self.title else "",
                "question": _(self.question) if self.question else "", "what": what}

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

    @property
    def code_version(self) -> int | str:
        """What the store keys this experiment's runs by, besides id, spec and seed: ``version``,
        plus ``+`` and the fingerprint of the shared recipes its module uses (see
        :mod:`whynet.experiments.recipes`), so editing a recipe recomputes exactly the runs of
        the experiments that use it."""
        fp = recipes.fingerprint(sys.modules[type(self).__module__])
        return f"{self.version}+{fp}" if fp else self.version

    def seeds(self, quick: bool, n: int | None = None) -> list[int]:
        """Seeds 0 … n−1 (n defaults to ``seeds_quick`` or ``seeds_full``)."""
        n = (self.seeds_quick if quick else self.seeds_full) if n is None else n
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(_("{id}: number of seeds must be an int ≥ 1, got {n!r}")
                                .format(id=self.id, n=n))
        return list(range(n))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, questions={self.questions})"
