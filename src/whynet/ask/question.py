"""A question file: the words, the runs (``whynet train``'s vocabulary), what to measure, the claim.

::

    question = "Does swish reach 90% validation accuracy in fewer epochs than ReLU?"
    seeds = 3

    [run]                       # RunConfig's keys; a list is a dimension of the grid
    data = "digits"
    activation = ["swish", "relu"]
    lr = [0.01, 0.03]
    epochs = 20

    [quick]                     # what --quick changes (any [run] key, and seeds)
    epochs = 8

    [measure]
    metrics = ["epochs_to_target", "best_val_acc"]
    target = 0.9

    [claim]
    compare = "activation"      # a dimension
    expect = "swish < relu"     # two of its values and <, >, <=, >= or == (or a list)
    metric = "epochs_to_target" # one of the measured metrics
    best_over = "lr"            # optional: each side at its best value of this dimension
    margin = 0                  # optional tie margin

Everything is checked before anything runs: an unknown key, name or metric, a dimension of one
value, a claim on a metric that is not measured, a grid larger than :data:`MAX_RUNS` each raise
one :class:`~whynet.errors.ConfigError` naming the file, the line and the key. Names come from
the registries (activations, initialisers, data sets, optimisers…); a question file holds no code.
The format is documented in ``docs/ask.md``.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..config import FIELDS, RunConfig, check_field, read_toml
from ..errors import ConfigError, UnknownNameError
from ..i18n import _
from .metrics import METRICS, PROBE_METRICS, check_metric, goal

TOP_KEYS = ("id", "question", "source", "seeds", "run", "quick", "measure", "claim")
MEASURE_KEYS = ("metrics", "target")
CLAIM_KEYS = ("compare", "expect", "metric", "best_over", "best_by", "margin")
RELATIONS = ("<=", ">=", "==", "<", ">")  # longest first, for parsing
#: Fields whose single value is itself a list: a list of lists is their dimension.
LIST_FIELDS = ("hidden", "features")
#: Keys of [run] that a question file may not set: the seeds come from ``seeds``.
NOT_IN_RUN = ("seed",)
MAX_RUNS = 400  # the largest grid × seeds a question may ask for
MAX_SEEDS = 20
DEFAULT_SEEDS = 3


@dataclass(frozen=True)
class Claim:
    """``a relation b`` on ``metric`` for each pair of values of dimension ``compare``."""

    compare: str
    pairs: tuple  # ((a, relation, b), …)
    metric: str
    best_over: str | None = None
    best_by: str | None = None
    margin: float = 0.0

    def text(self) -> str:
        """``"relu < sigmoid and relu < tanh on epochs_to_target"``, in the language in force."""
        pairs = _(" and ").join(f"{_show(a)} {r} {_show(b)}" for a, r, b in self.pairs)
        return _("{pairs} on {metric}").format(pairs=pairs, metric=self.metric)

    @property
    def sides(self) -> list:
        return [v for a, _, b in self.pairs for v in (a, b)]


@dataclass(frozen=True)
class Grid:
    """One grid: the fixed RunConfig values, the dimensions (key → values) and the seeds."""

    base: dict
    dims: dict
    seeds: int

    def specs(self) -> list[dict]:
        """Every combination of the dimensions, in file order (the last key varies fastest)."""
        keys = list(self.dims)
        return [dict(zip(keys, combo)) for combo in itertools.product(*self.dims.values())]

    @property
    def n_runs(self) -> int:
        return len(self.specs()) * self.seeds


@dataclass(frozen=True)
class Question:
    """A validated question file."""

    id: str
    question: str
    source: str
    path: str
    full: Grid
    quick: Grid
    metrics: tuple[str, ...]
    target: float | None
    claim: Claim

    def grid(self, quick: bool) -> Grid:
        return self.quick if quick else self.full

    def needs_probe(self) -> bool:
        return any(m.split(".")[0] in PROBE_METRICS for m in self.metrics)


def _show(v) -> str:
    """A value as the file spells it: ``true``, ``[32, 32]``, ``relu``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


class _Where:
    """Names a key of the file by its table and line: ``question q.toml, line 7: [claim] metric``."""

    def __init__(self, path, text: str):
        self.label = _("question") + f" {path}"  # as read_toml names the file
        self.lines = text.splitlines()

    def line(self, table: str | None, key: str) -> int | None:
        current = None
        for i, line in enumerate(self.lines, 1):
            head = re.match(r"\s*\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
            if head:
                current = head.group(1)
            elif current == table and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
                return i
        return None

    def __call__(self, table: str | None, key: str) -> str:
        n = self.line(table, key)
        place = _("{label}, line {line}").format(label=self.label, line=n) if n else self.label
        return f"{place}: " + (f"[{table}] {key}" if table else key)

    def error(self, table, key, message) -> ConfigError:
        return ConfigError(f"{self(table, key)}: {message}")


def _table(values, name, where: _Where) -> dict:
    v = values.get(name, {})
    if not isinstance(v, dict):
        raise where.error(None, name, _("must be a table ([{name}]), got {value!r}")
                                        .format(name=name, value=v))
    return v


def _check_keys(values: dict, allowed, table, where: _Where) -> None:
    for key in values:
        if key not in allowed:
            raise where.error(table, key, _("unknown key; allowed: {allowed}")
                                            .format(allowed=', '.join(allowed)))


def _is_dimension(key: str, value) -> bool:
    if not isinstance(value, list):
        return False
    if key in LIST_FIELDS:
        return bool(value) and all(isinstance(v, list) for v in value)
    return key != "data_args"


def _run_values(table: dict, name: str, where: _Where) -> tuple[dict, dict]:
    """Split a [run] or [quick] table into fixed values and dimensions, each value checked."""
    fixed, dims = {}, {}
    for key, value in table.items():
        if key == "seeds" and name == "quick":
            continue
        if key in NOT_IN_RUN:
            raise where.error(name, key, _("seeds are set by the top-level key seeds = N (seeds "
                                           "0 … N−1), not in [run]"))
        if key not in FIELDS:
            allowed = ", ".join(k for k in FIELDS if k not in NOT_IN_RUN)
            raise where.error(name, key, _("unknown key; allowed: {allowed}").format(
                allowed=allowed))
        if _is_dimension(key, value):
            if len(value) < 2:
                raise where.error(name, key, _("a dimension needs at least two values, got "
                                               "{value!r} (give a single value without brackets)")
                                               .format(value=value))
            checked = [_check_value(name, key, v, where) for v in value]
            if len({repr(c) for c in checked}) != len(checked):
                raise where.error(name, key, _("a dimension must not repeat a value, got "
                                               "{value!r}").format(value=value))
            dims[key] = checked
        else:
            fixed[key] = _check_value(name, key, value, where)
    return fixed, dims


def _check_value(table, key, value, where: _Where):
    try:
        checked = check_field("question", key, value)
    except UnknownNameError as e:
        raise UnknownNameError(_("{where}: {reason}")
                                 .format(where=where(table, key), reason=e)) from None
    except ConfigError as e:
        raise ConfigError(_("{where}: {reason}").format(
            where=where(table, key), reason=str(e).removeprefix("question: "))) from None
    # Store plain JSON values: tuples to lists, so specs hash the same after a round trip.
    return list(checked) if isinstance(checked, tuple) else checked


def _seeds(value, table, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEEDS:
        raise where.error(table, "seeds", _("must be an integer from 1 to {max_seeds}, got "
                                            "{value!r}")
                                            .format(max_seeds=MAX_SEEDS, value=value))
    return value


def _grid(fixed, dims, seeds, table, where: _Where) -> Grid:
    grid = Grid(fixed, dims, seeds)
    if grid.n_runs > MAX_RUNS:
        biggest = max(dims, key=lambda k: len(dims[k])) if dims else "seeds"
        sizes = " × ".join(f"{len(v)} {k}" for k, v in dims.items())
        raise where.error(table if dims else None, biggest,
                          _("the grid is too large: {sizes} × {seeds} seeds = {n_runs} runs (at "
                            "most {max_runs}); drop values or seeds")
                            .format(sizes=sizes or '1 spec', seeds=seeds,
                                    n_runs=grid.n_runs, max_runs=MAX_RUNS))
    # Every combination must be a valid RunConfig (two-field checks: momentum with adam, …).
    for spec in grid.specs():
        try:
            RunConfig.from_dict({**fixed, **spec}, where.label)
        except ConfigError as e:
            raise ConfigError(_("{label}: [{table}] the combination {spec} is not a valid run: "
                                "{reason}")
                                .format(label=where.label, table=table, spec=spec or fixed,
                                        reason=str(e).removeprefix(where.label + ": "))) from None
    return grid


def _expect_pairs(expect, compare: str, dims: dict, where: _Where) -> list:
    """The claim's ``expect`` ("A < B" or a list of them) as (A, relation, B) of dimension
    values."""
    texts = expect if isinstance(expect, list) else [expect]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise where.error("claim", "expect", _("must be 'A < B' or a list of them, got {expect!r}")
                                               .format(expect=expect))
    names = {_show(v).lower(): v for v in dims[compare]}
    pairs = []
    for text in texts:
        m = re.fullmatch(r"\s*(.+?)\s*(" + "|".join(map(re.escape, RELATIONS)) + r")\s*(.+?)\s*",
                         text)
        if not m:
            raise where.error("claim", "expect", _("must read 'A < B' with a relation from "
                                                   "{relations}, got {text!r}")
                                                   .format(relations=', '.join(RELATIONS),
                                                           text=text))
        sides = []
        for word in (m.group(1), m.group(3)):
            if word.strip("\"'").lower() not in names:
                raise where.error("claim", "expect", _("{word!r} is not a value of {compare}; "
                                                       "values: {names}")
                                                       .format(word=word, compare=compare,
                                                               names=', '.join(names)))
            sides.append(names[word.strip("\"'").lower()])
        if sides[0] == sides[1]:
            raise where.error("claim", "expect", _("{text!r} compares a value with itself")
                                                   .format(text=text))
        pairs.append((sides[0], m.group(2), sides[1]))
    return pairs


def _best(table: dict, compare: str, dims: dict, metrics, where: _Where) -> tuple:
    """The claim's ``best_over`` and ``best_by`` (each None when not given), checked."""
    best_over = table.get("best_over")
    if best_over is not None:
        if best_over not in dims or best_over == compare:
            raise where.error("claim", "best_over", _("must be a dimension other than {compare}; "
                                                      "dimensions: {dims}")
                                                      .format(compare=compare,
                                                              dims=', '.join(dims)))
    best_by = table.get("best_by")
    if best_by is not None:
        if best_over is None:
            raise where.error("claim", "best_by", _("needs best_over"))
        check_metric(best_by, where("claim", "best_by"))
        if best_by not in metrics:
            raise where.error("claim", "best_by", _("{best_by!r} is not measured; measured: "
                                                    "{metrics}")
                                                    .format(best_by=best_by,
                                                            metrics=', '.join(metrics)))
        if goal(best_by) is None:
            raise where.error("claim", "best_by", _("{best_by!r} has no better direction; use "
                                                    "one of the training metrics")
                                                    .format(best_by=best_by))
    return best_over, best_by


def _claim(table: dict, dims: dict, metrics, where: _Where) -> Claim:
    _check_keys(table, CLAIM_KEYS, "claim", where)
    for key in ("compare", "expect", "metric"):
        if key not in table:
            raise where.error("claim", key, _("missing; a claim needs compare, expect and metric"))
        if key != "expect" and not isinstance(table[key], str):
            raise where.error("claim", key, _("must be a string, got {table!r}")
                                              .format(table=table[key]))
    compare = table["compare"]
    if compare not in dims:
        raise where.error("claim", "compare", _("{compare!r} is not a dimension of [run]; "
                                                "dimensions: {dims}")
                                                .format(compare=compare,
                                                        dims=', '.join(dims) or _("none")))
    metric = table["metric"]
    check_metric(metric, where("claim", "metric"))
    if metric not in metrics:
        raise where.error("claim", "metric", _("{metric!r} is not measured; add it to [measure] "
                                               "metrics (measured: {metrics})")
                                               .format(metric=metric,
                                                       metrics=', '.join(metrics)))
    pairs = _expect_pairs(table["expect"], compare, dims, where)
    best_over, best_by = _best(table, compare, dims, metrics, where)
    margin = table.get("margin", 0.0)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or margin < 0:
        raise where.error("claim", "margin", _("must be a number ≥ 0, got {margin!r}")
                                               .format(margin=margin))
    if any(r == "==" for _, r, _ in pairs) and margin == 0:
        raise where.error("claim", "margin", _("'==' needs a margin > 0 (equal within what?)"))
    return Claim(compare, tuple(pairs), metric, best_over, best_by, float(margin))


def load_question(path) -> Question:
    """Read and validate a question file (see the module docstring); nothing is run."""
    values, text = read_toml(path, _("question"))
    return _parse(values, text, path)


def loads_question(text: str, name: str = "question.toml") -> Question:
    """:func:`load_question` of TOML text (the lab's "Ask as a question"); ``name`` stands for
    the file in messages and is the default id."""
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_("question {name}: not valid TOML ({reason})")
                            .format(name=name, reason=e)) from None
    return _parse(values, text, name)


def _parse(values: dict, text: str, path) -> Question:
    where = _Where(path, text)
    _check_keys(values, TOP_KEYS, None, where)
    words, qid, source = _heading(values, path, where)
    seeds = _seeds(values.get("seeds", DEFAULT_SEEDS), None, where)
    fixed, dims = _run_table(values, where)
    quick_table = _table(values, "quick", where)
    q_fixed, q_dims = _quick_table(quick_table, fixed, dims, where)
    quick_seeds = (_seeds(quick_table["seeds"], "quick", where) if "seeds" in quick_table
                   else seeds)
    metrics, target = _measure_table(values, where)
    claim_table = values.get("claim")
    if not isinstance(claim_table, dict):
        raise where.error(None, "claim", _("missing; a question needs a [claim] table"))
    claim = _claim(claim_table, dims, metrics, where)
    full = _grid(fixed, dims, seeds, "run", where)
    quick = _grid(q_fixed, q_dims, quick_seeds, "quick" if quick_table else "run", where)
    for grid, table in ((full, "run"), (quick, "quick")):
        for side in claim.sides:
            if side not in grid.dims[claim.compare]:
                raise where.error(table, claim.compare, _("the claim compares {show}, which this "
                                                          "grid leaves out")
                                                          .format(show=_show(side)))
    return Question(qid, words.strip(), source, str(path), full, quick, tuple(metrics),
                    None if target is None else float(target), claim)


def _heading(values: dict, path, where: _Where) -> tuple[str, str, str]:
    """The question in words, its id (default: the file's stem) and its source."""
    words = values.get("question")
    if not isinstance(words, str) or not words.strip():
        raise where.error(None, "question", _("missing or empty; write the question in words"))
    qid = values.get("id", Path(path).stem)
    if not isinstance(qid, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", qid):
        raise where.error(None, "id", _("must be letters, digits, '-', '_' or '.', got {qid!r}")
                                        .format(qid=qid))
    source = values.get("source", "")
    if not isinstance(source, str):
        raise where.error(None, "source", _("must be a string, got {source!r}")
                                            .format(source=source))
    return words, qid, source


def _run_table(values: dict, where: _Where) -> tuple[dict, dict]:
    """[run]'s fixed values and its dimensions (at least one)."""
    run = _table(values, "run", where)
    if not run:
        raise where.error(None, "run", _("missing; a question needs a [run] table with at least "
                                         "one dimension (a list of values)"))
    fixed, dims = _run_values(run, "run", where)
    if not dims:
        raise where.error(None, "run", _("has no dimension; give one key a list of values to "
                                         "compare, e.g. activation = [\"relu\", \"tanh\"]"))
    return fixed, dims


def _quick_table(quick_table: dict, fixed: dict, dims: dict, where: _Where) -> tuple[dict, dict]:
    """The quick grid's fixed values and dimensions: [run]'s, with [quick]'s shorter lists and
    extra fixed values (it may shrink a dimension, never add or remove one)."""
    qfixed, qdims = _run_values(quick_table, "quick", where)
    for key in qdims:
        if key not in dims:
            raise where.error("quick", key, _("is not a dimension of [run]; [quick] may shrink a "
                                              "dimension, not add one"))
    q_fixed = {**fixed, **{k: v for k, v in qfixed.items() if k not in dims}}
    q_dims = {k: qdims.get(k, v) for k, v in dims.items()}
    for key in qfixed:
        if key in dims:
            raise where.error("quick", key, _("is a dimension of [run]; in [quick] give it a "
                                              "shorter list of values, not one value"))
    return q_fixed, q_dims


def _measure_table(values: dict, where: _Where) -> tuple[list, float | None]:
    """[measure]'s metric names and its target accuracy (None when not given)."""
    measure = _table(values, "measure", where)
    _check_keys(measure, MEASURE_KEYS, "measure", where)
    metrics = measure.get("metrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise where.error("measure", "metrics", _("must be a non-empty list of metric names; "
                                                  "known: {metrics}")
                                                  .format(metrics=', '.join(METRICS)))
    for m in metrics:
        check_metric(m, where("measure", "metrics"))
    target = measure.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not 0 < target <= 1):
        raise where.error("measure", "target", _("must be an accuracy in (0, 1], got {target!r}")
                                                 .format(target=target))
    if any(m.endswith("_to_target") for m in metrics) and target is None:
        raise where.error("measure", "metrics", _("epochs_to_target and seconds_to_target need "
                                                  "target = <validation accuracy> in [measure]"))
    return metrics, target
