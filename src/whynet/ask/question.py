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
import math
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
        self.label = _("question") + f" {path}"  # as read_toml names the file
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


def _unknown_key(key: str, allowed) -> str:
    """``unknown key; did you mean 'batch_size'? allowed: …``."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = _("did you mean {names}? ").format(names=repr(close[0])) if close else ""
    return _("unknown key; {hint}allowed: {allowed}").format(hint=hint,
                                                              allowed=", ".join(allowed))


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
            raise where.error(name, key, _("seeds are set by the top-level key seeds = N (seeds "
                                           "0 … N−1), not in [run]"))
        if key not in FIELDS:
            raise where.error(name, key, _unknown_key(key, [k for k in FIELDS
                                                            if k not in NOT_IN_RUN]))
        if key == "data_args" and isinstance(value, list):
            raise where.error(name, key, _("cannot be a dimension (it is one table of the data "
                                           "set's arguments); ask one question per table, or "
                                           "make noise or n the dimension"))
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
                            .format(sizes=sizes or _("1 spec"), seeds=seeds,
                                    n_runs=grid.n_runs, max_runs=MAX_RUNS))
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
        return ConfigError(_("{label}: [{table}] the run {together} is not valid: {why}")
                             .format(label=where.label, table=table, together=together,
                                     why=why))
    key = culprits[-1]
    in_table = table if where.line(table, key) else "run"
    setting = ", ".join(f"{k} = {_show(values[k])}" for k in culprits)
    return where.error(in_table, key, _("not a valid run with {setting}: {why}")
                                        .format(setting=setting, why=why))


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
    why = _("is not defined for activation {activation}: it is unbounded, so its units never "
            "saturate (they can die instead: measure 'dead'); saturation is measured for "
            "{bounded}").format(activation=_show(unbounded[0]), bounded=bounded)
    for key in ("metric", "best_by"):
        name = getattr(claim, key)
        if name is not None and name.split(".")[0] == "saturated":
            raise where.error("claim", key, _("{name!r} {why}").format(name=name, why=why))
    asked = [m for m in metrics if m.split(".")[0] == "saturated"]
    if asked and len(unbounded) == len(settings):
        raise where.error("measure", "metrics", _("{asked!r} {why}")
                                                  .format(asked=asked[0], why=why))


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
    pairs = _pairs(table["expect"], compare, dims[compare], where)
    best_over, best_by = _best(table, compare, dims, metrics, where)
    _check_epochs_to_target(table, compare, metric, best_over, best_by, where)
    margin = _margin(table.get("margin", 0.0), where)
    if any(r == "==" for _, r, _ in pairs) and margin == 0:
        key = "margin" if "margin" in table else "expect"
        raise where.error("claim", key, _("'==' needs margin = a number > 0 in [claim] (equal "
                                          "within what?)"))
    return Claim(compare, tuple(pairs), metric, best_over, best_by, float(margin))


def _check_epochs_to_target(table, compare, metric, best_over, best_by, where: _Where) -> None:
    """``epochs_to_target`` counts epochs + 1 for a run that never reaches the target, so across
    values of ``epochs`` a shorter run that never got there would look faster: refused there."""
    for key, used in (("metric", metric), ("best_by", best_by)):
        if used == "epochs_to_target" and "epochs" in (compare, best_over):
            raise where.error("claim", key, _(
                "epochs_to_target cannot compare runs of different epochs (a run that never "
                "reaches the target counts its epochs + 1); use steps_to_target (never reached: "
                "infinite) or reached_target"))


def _pairs(expect, compare: str, values: list, where: _Where) -> list:
    """``expect`` ("A < B" or a list of them) as (a, relation, b) triples of ``values``."""
    texts = expect if isinstance(expect, list) else [expect]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise where.error("claim", "expect", _("must be 'A < B' or a list of them, got {expect!r}")
                                               .format(expect=expect))
    pairs = []
    for text in texts:
        text = text.replace("≤", "<=").replace("≥", ">=")
        m = re.fullmatch(r"\s*(.+?)\s*(" + "|".join(map(re.escape, RELATIONS)) + r")\s*(.+?)\s*",
                         text)
        if not m:
            raise where.error("claim", "expect", _("must read 'A < B' with a relation from "
                                                   "{relations}, got {text!r}")
                                                   .format(relations=', '.join(RELATIONS),
                                                           text=text))
        sides = []
        for word in (m.group(1), m.group(3)):
            value = _value_named(word, values)
            if value is None:
                raise where.error("claim", "expect", _("{word!r} is not a value of {compare}; "
                                                       "values: {values}")
                                                       .format(word=word, compare=compare,
                                                               values=", ".join(map(_show,
                                                                                    values))))
            sides.append(value)
        if sides[0] == sides[1]:
            raise where.error("claim", "expect", _("{text!r} compares a value with itself")
                                                   .format(text=text))
        pairs.append((sides[0], m.group(2), sides[1]))
    return pairs


def _best(table: dict, compare: str, dims: dict, metrics, where: _Where) -> tuple:
    """``best_over`` (another dimension, or None) and ``best_by`` (a measured training metric)."""
    best_over = table.get("best_over")
    if best_over is not None:
        if best_over not in dims or best_over == compare:
            why = (_("{best_over!r} is the compared dimension") if best_over == compare else
                   _("{best_over!r} is not a dimension of [run] (give it a list of values there)")
                   ).format(best_over=best_over)
            others = [d for d in dims if d != compare]
            raise where.error("claim", "best_over", _("{why}; best_over must be another "
                                                      "dimension: {others}")
                                                      .format(why=why,
                                                              others=', '.join(others) or _("none")))
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


def _margin(margin, where: _Where) -> float:
    """[claim] margin: a finite number ≥ 0 (a NaN margin would make every comparison false)."""
    finite = isinstance(margin, (int, float)) and not isinstance(margin, bool) \
        and math.isfinite(margin)
    if not finite or margin < 0:
        # NaN and ±inf are no number ≥ 0 here (a NaN margin made every comparison false)
        raise where.error("claim", "margin", _("must be a number ≥ 0, got {margin!r}")
                                               .format(margin=margin))
    return margin


def load_question(path) -> Question:
    """Read and validate a question file (see the module docstring); nothing is run."""
    what = _("question")
    label = f"{what} {path}"  # as read_toml names the file
    try:
        values, text = read_toml(path, what)
    except ConfigError as e:  # read_toml's "not valid TOML (…)" with the line as the others
        head, _mark, tail = _("{label}: not valid TOML ({reason})").format(
            label=label, reason="\0").partition("\0")
        inner = str(e).removeprefix(head)
        raise (ConfigError(_toml_error(label, inner.removesuffix(tail))) if inner != str(e)
               else e) from None
    return _parse(values, text, path)


def loads_question(text: str, name: str = "question.toml") -> Question:
    """:func:`load_question` of TOML text (the lab's "Ask as a question"); ``name`` stands for
    the file in messages and is the default id."""
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_toml_error(_("question") + f" {name}", str(e))) from None
    return _parse(values, text, name)


def _toml_error(label: str, message: str) -> str:
    """tomllib's "Expected … (at line 7, column 8)" as ``question q.toml, line 7: not valid TOML:
    Expected … (column 8)``, the line where the other errors name it."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if not m:
        return _("{label}: not valid TOML ({reason})").format(label=label, reason=message)
    return _("{label}, line {line}: not valid TOML: {reason} (column {column})").format(
        label=label, line=m.group(2), reason=m.group(1), column=m.group(3))


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
    _check_saturation(metrics, claim, full, where)
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
    if "measure" not in values:
        raise where.error(None, "measure", _("missing; a question needs a [measure] table with "
                                             "metrics = [\"final_val_acc\", …]"))
    measure = _table(values, "measure", where)
    _check_keys(measure, MEASURE_KEYS, "measure", where)
    metrics = measure.get("metrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise where.error("measure", "metrics", _("must be a non-empty list of metric names; "
                                                  "known: {metrics}")
                                                  .format(metrics=', '.join(METRICS)))
    for m in metrics:
        check_metric(m, where("measure", "metrics"))
    if len(set(metrics)) < len(metrics):
        twice = sorted({m for m in metrics if metrics.count(m) > 1})
        raise where.error("measure", "metrics",
                          _("names {names} more than once").format(names=', '.join(twice)))
    target = measure.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not 0 < target <= 1):
        raise where.error("measure", "target", _("must be an accuracy in (0, 1], got {target!r}")
                                                 .format(target=target))
    if any(m in TARGET_METRICS for m in metrics) and target is None:
        raise where.error("measure", "metrics", _("{target_metrics} need target = <validation "
                                                  "accuracy> in [measure]")
                                                  .format(target_metrics=', '.join(TARGET_METRICS)))
    return metrics, target
