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

import difflib
import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..config import FIELDS, RunConfig, check_field, read_toml
from ..errors import ConfigError, UnknownNameError
from ..i18n import _
from ..nn.activations import ACTIVATIONS
from .metrics import METRICS, PROBE_METRICS, TARGET_METRICS, check_metric, goal

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
        self.label = f"question {path}"
        self.lines = text.splitlines()

    def line(self, table: str | None, key: str) -> int | None:
        current = None
        for i, line in enumerate(self.lines, 1):
            head = re.match(r"\s*\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
            if head:
                current = head.group(1)
                if table is None and current == key:  # a top-level key written as a table
                    return i
            elif current == table and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
                return i
        return None

    def __call__(self, table: str | None, key: str) -> str:
        n = self.line(table, key)
        place = f"{self.label}, line {n}" if n else self.label
        return f"{place}: " + (f"[{table}] {key}" if table else key)

    def error(self, table, key, message) -> ConfigError:
        return ConfigError(f"{self(table, key)}: {message}")


def _table(values, name, where: _Where) -> dict:
    v = values.get(name, {})
    if not isinstance(v, dict):
        raise where.error(None, name, f"must be a table ([{name}]), got {v!r}")
    return v


def _unknown_key(key: str, allowed) -> str:
    """``unknown key; did you mean 'batch_size'? allowed: …``."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}allowed: {', '.join(allowed)}"


def _check_keys(values: dict, allowed, table, where: _Where) -> None:
    for key in values:
        if key not in allowed:
            raise where.error(table, key, _unknown_key(key, allowed))


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
            raise where.error(name, key, "seeds are set by the top-level key seeds = N "
                                         "(seeds 0 … N−1), not in [run]")
        if key not in FIELDS:
            raise where.error(name, key, _unknown_key(key, [k for k in FIELDS
                                                            if k not in NOT_IN_RUN]))
        if key == "data_args" and isinstance(value, list):
            raise where.error(name, key, "cannot be a dimension (it is one table of the data "
                                         "set's arguments); ask one question per table, or make "
                                         "noise or n the dimension")
        if _is_dimension(key, value):
            if len(value) < 2:
                raise where.error(name, key, f"a dimension needs at least two values, got "
                                             f"{value!r} (give a single value without brackets)")
            checked = [_check_value(name, key, v, where) for v in value]
            if len({repr(c) for c in checked}) != len(checked):
                raise where.error(name, key, f"a dimension must not repeat a value, got {value!r}")
            dims[key] = checked
        else:
            fixed[key] = _check_value(name, key, value, where)
    return fixed, dims


def _check_value(table, key, value, where: _Where):
    try:
        checked = check_field("question", key, value)
    except UnknownNameError as e:
        raise UnknownNameError(f"{where(table, key)}: {e}") from None
    except ConfigError as e:
        raise ConfigError(f"{where(table, key)}: {str(e).removeprefix('question: ')}") from None
    # Store plain JSON values: tuples to lists, so specs hash the same after a round trip.
    return list(checked) if isinstance(checked, tuple) else checked


def _seeds(value, table, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEEDS:
        raise where.error(table, "seeds", f"must be an integer from 1 to {MAX_SEEDS}, "
                                          f"got {value!r}")
    return value


def _grid(fixed, dims, seeds, table, where: _Where) -> Grid:
    grid = Grid(fixed, dims, seeds)
    if grid.n_runs > MAX_RUNS:
        biggest = max(dims, key=lambda k: len(dims[k])) if dims else "seeds"
        sizes = " × ".join(f"{len(v)} {k}" for k, v in dims.items())
        raise where.error(table if dims else None, biggest,
                          f"the grid is too large: {sizes or '1 spec'} × {seeds} seeds = "
                          f"{grid.n_runs} runs (at most {MAX_RUNS}); drop values or seeds")
    # Every combination must be a valid RunConfig (two-field checks: momentum with adam, …).
    for spec in grid.specs():
        try:
            RunConfig.from_dict({**fixed, **spec}, where.label)
        except ConfigError as e:
            raise _combination_error({**fixed, **spec}, table, where,
                                     str(e).removeprefix(where.label + ": ")) from None
    return grid


def _combination_error(values: dict, table: str, where: _Where, why: str) -> ConfigError:
    """One run of the grid that ``whynet train`` would refuse: the error names the key whose
    removal makes it valid (the last such in the file) and the other keys that take part."""
    def valid(cfg):
        try:
            RunConfig.from_dict(cfg, where.label)
        except ConfigError:
            return False
        return True

    culprits = [k for k in values if valid({j: v for j, v in values.items() if j != k})]
    if not culprits:
        together = ", ".join(f"{k} = {_show(v)}" for k, v in values.items())
        return ConfigError(f"{where.label}: [{table}] the run {together} is not valid: {why}")
    key = culprits[-1]
    in_table = table if where.line(table, key) else "run"
    setting = ", ".join(f"{k} = {_show(values[k])}" for k in culprits)
    return where.error(in_table, key, f"not a valid run with {setting}: {why}")


def _check_saturation(metrics, claim: Claim, grid: Grid, where: _Where) -> None:
    """``saturated`` is measured only on activations bounded on both sides (sigmoid, tanh…); a run
    whose hidden activations are all unbounded (ReLU…) has none. A claim (or ``best_by``) on it
    needs it in every run; a measured-only ``saturated`` needs it in some run (the others show it
    as undefined)."""
    settings = grid.dims.get("activation", [grid.base.get("activation", RunConfig().activation)])
    unbounded = [a for a in settings
                 if not any(ACTIVATIONS[n].saturating for n in (a if isinstance(a, list) else [a]))]
    if not unbounded:
        return
    bounded = ", ".join(sorted(n for n, a in ACTIVATIONS.items() if a.saturating))
    why = (f"is not defined for activation {_show(unbounded[0])}: it is unbounded, so its units "
           f"never saturate (they can die instead: measure 'dead'); saturation is measured for "
           f"{bounded}")
    for key in ("metric", "best_by"):
        name = getattr(claim, key)
        if name is not None and name.split(".")[0] == "saturated":
            raise where.error("claim", key, f"{name!r} {why}")
    asked = [m for m in metrics if m.split(".")[0] == "saturated"]
    if asked and len(unbounded) == len(settings):
        raise where.error("measure", "metrics", f"{asked[0]!r} {why}")


def _claim(table: dict, dims: dict, metrics, where: _Where) -> Claim:
    _check_keys(table, CLAIM_KEYS, "claim", where)
    for key in ("compare", "expect", "metric"):
        if key not in table:
            raise where.error("claim", key, "missing; a claim needs compare, expect and metric")
        if key != "expect" and not isinstance(table[key], str):
            raise where.error("claim", key, f"must be a string, got {table[key]!r}")
    compare = table["compare"]
    if compare not in dims:
        raise where.error("claim", "compare", f"{compare!r} is not a dimension of [run]; "
                                              f"dimensions: {', '.join(dims) or 'none'}")
    metric = table["metric"]
    check_metric(metric, where("claim", "metric"))
    if metric not in metrics:
        raise where.error("claim", "metric", f"{metric!r} is not measured; add it to [measure] "
                                             f"metrics (measured: {', '.join(metrics)})")
    pairs = _pairs(table["expect"], compare, dims[compare], where)
    best_over, best_by = _best(table, compare, dims, metrics, where)
    margin = table.get("margin", 0.0)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or margin < 0:
        raise where.error("claim", "margin", f"must be a number ≥ 0, got {margin!r}")
    if any(r == "==" for _, r, _ in pairs) and margin == 0:
        key = "margin" if "margin" in table else "expect"
        raise where.error("claim", key, "'==' needs margin = a number > 0 in [claim] (equal "
                                        "within what?)")
    return Claim(compare, tuple(pairs), metric, best_over, best_by, float(margin))


def _pairs(expect, compare: str, values: list, where: _Where) -> list:
    """``expect`` ("A < B" or a list of them) as (a, relation, b) triples of ``values``."""
    texts = expect if isinstance(expect, list) else [expect]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise where.error("claim", "expect", f"must be 'A < B' or a list of them, got {expect!r}")
    pairs = []
    for text in texts:
        text = text.replace("≤", "<=").replace("≥", ">=")
        m = re.fullmatch(r"\s*(.+?)\s*(" + "|".join(map(re.escape, RELATIONS)) + r")\s*(.+?)\s*",
                         text)
        if not m:
            raise where.error("claim", "expect", f"must read 'A < B' with a relation from "
                                                 f"{', '.join(RELATIONS)}, got {text!r}")
        sides = []
        for word in (m.group(1), m.group(3)):
            value = _value_named(word, values)
            if value is None:
                raise where.error("claim", "expect", f"{word!r} is not a value of {compare}; "
                                                     f"values: {', '.join(map(_show, values))}")
            sides.append(value)
        if sides[0] == sides[1]:
            raise where.error("claim", "expect", f"{text!r} compares a value with itself")
        pairs.append((sides[0], m.group(2), sides[1]))
    return pairs


def _best(table: dict, compare: str, dims: dict, metrics, where: _Where) -> tuple:
    """``best_over`` (another dimension, or None) and ``best_by`` (a measured training metric)."""
    best_over = table.get("best_over")
    if best_over is not None:
        if best_over not in dims or best_over == compare:
            why = (f"{best_over!r} is the compared dimension" if best_over == compare else
                   f"{best_over!r} is not a dimension of [run] (give it a list of values there)")
            others = [d for d in dims if d != compare]
            raise where.error("claim", "best_over", f"{why}; best_over must be another "
                                                    f"dimension: {', '.join(others) or 'none'}")
    best_by = table.get("best_by")
    if best_by is not None:
        if best_over is None:
            raise where.error("claim", "best_by", "needs best_over")
        check_metric(best_by, where("claim", "best_by"))
        if best_by not in metrics:
            raise where.error("claim", "best_by", f"{best_by!r} is not measured; measured: "
                                                  f"{', '.join(metrics)}")
        if goal(best_by) is None:
            raise where.error("claim", "best_by", f"{best_by!r} has no better direction; use "
                                                  f"one of the training metrics")
    return best_over, best_by


def _value_named(word: str, values: list):
    """The value of a dimension that ``word`` spells (as the file does, any case, quotes
    ignored, spaces too; a number also by value: ``2`` names 2.0), or None."""
    word = word.strip("\"'").strip()
    for v in values:  # "[32,32]" names [32, 32]: spaces do not count
        if _show(v).lower().replace(" ", "") == word.lower().replace(" ", ""):
            return v
    try:
        number = float(word)
    except ValueError:
        return None
    return next((v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                 and float(v) == number), None)


def load_question(path) -> Question:
    """Read and validate a question file (see the module docstring); nothing is run."""
    label = f"question {path}"
    try:
        values, text = read_toml(path, "question")
    except ConfigError as e:
        inner = str(e).removeprefix(f"{label}: not valid TOML (")
        raise (ConfigError(_toml_error(label, inner[:-1])) if inner != str(e) else e) from None
    return _parse(values, text, path)


def loads_question(text: str, name: str = "question.toml") -> Question:
    """:func:`load_question` of TOML text (the lab's "Ask as a question"); ``name`` stands for
    the file in messages and is the default id."""
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_toml_error(f"question {name}", str(e))) from None
    return _parse(values, text, name)


def _toml_error(label: str, message: str) -> str:
    """tomllib's "Expected … (at line 7, column 8)" as ``question q.toml, line 7: not valid TOML:
    Expected … (column 8)``, the line where the other errors name it."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if not m:
        return f"{label}: not valid TOML ({message})"
    return f"{label}, line {m.group(2)}: not valid TOML: {m.group(1)} (column {m.group(3)})"


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
        raise where.error(None, "claim", "missing; a question needs a [claim] table")
    claim = _claim(claim_table, dims, metrics, where)
    full = _grid(fixed, dims, seeds, "run", where)
    quick = _grid(q_fixed, q_dims, quick_seeds, "quick" if quick_table else "run", where)
    _check_saturation(metrics, claim, full, where)
    for grid, table in ((full, "run"), (quick, "quick")):
        for side in claim.sides:
            if side not in grid.dims[claim.compare]:
                raise where.error(table, claim.compare, f"the claim compares {_show(side)}, "
                                                        f"which this grid leaves out")
    return Question(qid, words.strip(), source, str(path), full, quick, tuple(metrics),
                    None if target is None else float(target), claim)


def _heading(values: dict, path, where: _Where) -> tuple[str, str, str]:
    """The question in words, its id (default: the file's stem) and its source."""
    words = values.get("question")
    if not isinstance(words, str) or not words.strip():
        raise where.error(None, "question", "missing or empty; write the question in words")
    qid = values.get("id", Path(path).stem)
    if not isinstance(qid, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", qid):
        raise where.error(None, "id", f"must be letters, digits, '-', '_' or '.', got {qid!r}")
    source = values.get("source", "")
    if not isinstance(source, str):
        raise where.error(None, "source", f"must be a string, got {source!r}")
    return words, qid, source


def _run_table(values: dict, where: _Where) -> tuple[dict, dict]:
    """[run]'s fixed values and its dimensions (at least one)."""
    run = _table(values, "run", where)
    if not run:
        raise where.error(None, "run", "missing; a question needs a [run] table with at least "
                                       "one dimension (a list of values)")
    fixed, dims = _run_values(run, "run", where)
    if not dims:
        raise where.error(None, "run", "has no dimension; give one key a list of values to "
                                       "compare, e.g. activation = [\"relu\", \"tanh\"]")
    return fixed, dims


def _quick_table(quick_table: dict, fixed: dict, dims: dict, where: _Where) -> tuple[dict, dict]:
    """The quick grid's fixed values and dimensions: [run]'s, with [quick]'s shorter lists and
    extra fixed values (it may shrink a dimension, never add or remove one)."""
    qfixed, qdims = _run_values(quick_table, "quick", where)
    for key in qdims:
        if key not in dims:
            raise where.error("quick", key, "is not a dimension of [run]; [quick] may shrink "
                                            "a dimension, not add one")
    q_fixed = {**fixed, **{k: v for k, v in qfixed.items() if k not in dims}}
    q_dims = {k: qdims.get(k, v) for k, v in dims.items()}
    for key in qfixed:
        if key in dims:
            raise where.error("quick", key, "is a dimension of [run]; in [quick] give it a "
                                            "shorter list of values, not one value")
    return q_fixed, q_dims


def _measure_table(values: dict, where: _Where) -> tuple[list, float | None]:
    """[measure]'s metric names and its target accuracy (None when not given)."""
    if "measure" not in values:
        raise where.error(None, "measure", "missing; a question needs a [measure] table with "
                                           "metrics = [\"final_val_acc\", …]")
    measure = _table(values, "measure", where)
    _check_keys(measure, MEASURE_KEYS, "measure", where)
    metrics = measure.get("metrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise where.error("measure", "metrics", f"must be a non-empty list of metric names; "
                                                f"known: {', '.join(METRICS)}")
    for m in metrics:
        check_metric(m, where("measure", "metrics"))
    target = measure.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not 0 < target <= 1):
        raise where.error("measure", "target", f"must be an accuracy in (0, 1], got {target!r}")
    if any(m in TARGET_METRICS for m in metrics) and target is None:
        raise where.error("measure", "metrics", f"{', '.join(TARGET_METRICS)} need "
                                                f"target = <validation accuracy> in [measure]")
    return metrics, target
