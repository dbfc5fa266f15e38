"""The search space: what each hyperparameter may be, and how a range or a list is written.

A space maps hyperparameter names to a range, a list of choices, or a fixed value — in a TOML
file (``[space]``) or on the command line (``-p``)::

    lr = {low = 1e-4, high = 1, log = true}     # float, sampled log-uniformly
    width = {choices = [8, 16, 32]}             # categorical
    depth = {low = 1, high = 3}                 # int (both bounds are ints)
    epochs = 20                                 # fixed, not searched

    whynet search -p lr=1e-4:1:log -p width=8,16,32 -p epochs=20 --data moons

The names are those of :class:`whynet.config.RunConfig` (``lr``, ``lam``, ``activation``…) plus
three shorthands of the search: ``width`` and ``depth`` for ``hidden = [width] * depth``, and
``l2`` for ``regularizer = "l2", lam = l2``. Every value a
range or a list can take is checked against that setting's valid values before any trial runs
(a range's two ends suffice: each numeric setting's valid values form an interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..config import FIELDS, check_field
from ..errors import ConfigError, UnknownNameError, check_int, check_number
from ..i18n import _

RANGE_FIELDS = ("low", "high", "log", "step", "points")


@dataclass(frozen=True)
class Hyperparameter:
    """One knob of the MLP objective: its type, the search's default, its check and help."""

    kind: type
    default: Any
    help: str
    check: Callable[[str, Any], Any]


def _setting(name: str, kind: type, default) -> Hyperparameter:
    return Hyperparameter(kind, default, FIELDS[name].help,
                          lambda owner, v: check_field(owner, name, v))


HYPERPARAMETERS: dict[str, Hyperparameter] = {
    "lr": _setting("lr", float, None),
    "optimizer": _setting("optimizer", str, "sgd"),
    "momentum": _setting("momentum", float, 0.0),
    "nesterov": _setting("nesterov", bool, False),
    "width": Hyperparameter(int, 32, "units per hidden layer",
                            lambda owner, v: check_int(owner, "width", v)),
    "depth": Hyperparameter(int, 2, "number of hidden layers",
                            lambda owner, v: check_int(owner, "depth", v, low=0)),
    "activation": _setting("activation", str, "relu"),
    "init": _setting("init", str, None),
    "batch_size": _setting("batch_size", int, 32),
    "epochs": _setting("epochs", int, 20),
    "regularizer": _setting("regularizer", str, "none"),
    "lam": _setting("lam", float, 0.0),
    "l2": Hyperparameter(float, 0.0, "L2 penalty λ of (λ/2)·Σw²: regularizer l2 with lam λ",
                         lambda owner, v: check_number(owner, "l2", v, low=0.0)),
    "dropout": _setting("dropout", float, 0.0),
    "batchnorm": _setting("batchnorm", bool, False),
    "loss": _setting("loss", str, None),
}


@dataclass(frozen=True)
class Range:
    """A numeric range ``[low, high]``: integers when both bounds are ints, else floats.

    ``log=True`` samples uniformly in log space (``low`` must be > 0); ``step`` discretises it
    (not with ``log``); ``points`` is how many values the grid sampler takes from it.
    """

    low: float
    high: float
    log: bool = False
    step: float | None = None
    points: int | None = None

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high))

    def values(self) -> list:
        """The values that bound what the range can give: its two ends."""
        return [self.low, self.high]

    def grid(self, points: int) -> list:
        """``points`` values from low to high (both included), log-spaced for a log range."""
        n = self.points or points
        values = (np.geomspace if self.log else np.linspace)(self.low, self.high, n)
        if self.integer:
            return sorted({int(round(v)) for v in values})
        return [float(v) for v in values]

    def suggest(self, trial, name: str):
        if self.integer:
            return trial.suggest_int(name, self.low, self.high, log=self.log,
                                     step=int(self.step or 1))
        return trial.suggest_float(name, float(self.low), float(self.high), log=self.log,
                                   step=self.step)

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}]{' log' if self.log else ''}"


@dataclass(frozen=True)
class Choice:
    """A list of values to choose from (categorical)."""

    choices: tuple

    def values(self) -> list:
        return list(self.choices)

    def grid(self, points: int) -> list:
        return list(self.choices)

    def suggest(self, trial, name: str):
        return trial.suggest_categorical(name, list(self.choices))

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.choices)) + "}"


@dataclass(frozen=True)
class Space:
    """What a search samples (``dims``: name → :class:`Range` or :class:`Choice`) and the values
    it holds fixed (``fixed``: name → value)."""

    dims: dict
    fixed: dict = field(default_factory=dict)

    def sample(self, trial) -> dict:
        """The trial's parameters: one suggestion per dimension, plus the fixed values."""
        params = {name: dim.suggest(trial, name) for name, dim in self.dims.items()}
        return {**self.fixed, **params}

    def grid(self, points: int) -> dict[str, list]:
        return {name: dim.grid(points) for name, dim in self.dims.items()}

    def grid_size(self, points: int) -> int:
        return math.prod(len(v) for v in self.grid(points).values())


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_dim(name: str, spec: Mapping, kind: type | None = None) -> Range | Choice:
    """A :class:`Range` or :class:`Choice` from a TOML-style table, checked against ``kind``.

    ``{low=…, high=…, log=…, step=…, points=…}`` or ``{choices=[…]}``; any other field raises
    naming it and the allowed ones.
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(_("search space: {name!r} must be a table such as {{low = 1e-4, high = "
                            "1, log = true}} or {{choices = [8, 16]}}, got {spec!r}")
                            .format(name=name, spec=spec))
    if "choices" in spec:
        extra = sorted(set(spec) - {"choices"})
        if extra:
            raise ConfigError(_("search space: {name!r} has choices and also {extra}; a choice "
                                "table holds only 'choices'")
                                .format(name=name, extra=', '.join(extra)))
        choices = spec["choices"]
        if not isinstance(choices, (list, tuple)) or not choices:
            raise ConfigError(_("search space: {name!r}: choices must be a non-empty list, got "
                                "{choices!r}").format(name=name, choices=choices))
        for c in choices:
            _check_type(name, c, kind)
        return Choice(tuple(choices))
    unknown = sorted(set(spec) - set(RANGE_FIELDS))
    if unknown:
        raise ConfigError(_("search space: {name!r}: unknown field(s) {unknown}; allowed: "
                            "{range_fields} (or choices)")
                            .format(name=name, unknown=', '.join(unknown),
                                    range_fields=', '.join(RANGE_FIELDS)))
    if "low" not in spec or "high" not in spec:
        raise ConfigError(_("search space: {name!r} needs both low and high (or choices), got "
                            "{spec!r}").format(name=name, spec=dict(spec)))
    low, high = spec["low"], spec["high"]
    log, step, points = spec.get("log", False), spec.get("step"), spec.get("points")
    if not (_is_number(low) and _is_number(high) and math.isfinite(low)
            and math.isfinite(high) and low < high):
        raise ConfigError(_("search space: {name!r} needs finite numbers low < high, got "
                            "low={low!r}, high={high!r}")
                            .format(name=name, low=low, high=high))
    if not isinstance(log, bool):
        raise ConfigError(_("search space: {name!r}: log must be true or false, got {log!r}")
                            .format(name=name, log=log))
    if log and low <= 0:
        raise ConfigError(_("search space: {name!r}: a log range needs low > 0, got low={low!r}")
                            .format(name=name, low=low))
    if step is not None and (log or not _is_number(step) or step <= 0):
        raise ConfigError(_("search space: {name!r}: step must be a number > 0 and cannot be "
                            "combined with log, got step={step!r}, log={log}")
                            .format(name=name, step=step, log=log))
    if points is not None:
        check_int(f"search space: {name!r}", "points", points, low=2)
    dim = Range(low, high, log, step, points)
    if kind in (str, bool):
        raise ConfigError(_("search space: {name!r} takes a {kind}; give choices, not a range")
                            .format(name=name, kind=kind.__name__))
    if kind is int and not dim.integer:
        raise ConfigError(_("search space: {name!r} is an integer; give integer bounds, got "
                            "low={low!r}, high={high!r}")
                            .format(name=name, low=low, high=high))
    return dim


def _check_type(name: str, value, kind: type | None) -> None:
    if kind is None or value is None:
        return
    ok = {bool: lambda v: isinstance(v, bool), int: lambda v: isinstance(v, int)
          and not isinstance(v, bool), float: _is_number,
          str: lambda v: isinstance(v, str)}[kind](value)
    if not ok:
        raise ConfigError(_("search space: {name!r} takes a {kind}, got {value!r}")
                            .format(name=name, kind=kind.__name__, value=value))


def check_values(name: str, values, hp: Hyperparameter, owner: str) -> None:
    """Each of ``values`` must be a valid value of ``hp``; the error names ``owner`` (the
    ``-p`` option or the space entry it came from)."""
    for v in values:
        if v is None and hp.default is None:
            continue
        try:
            hp.check(owner, v)
        except UnknownNameError as e:
            raise UnknownNameError(_("{owner}: {reason}").format(owner=owner, reason=e)) from None


def parse_space(entries: Mapping, allowed: Mapping | None = HYPERPARAMETERS,
                sources: Mapping | None = None) -> Space:
    """A :class:`Space` from ``{name: table | Range | Choice | fixed value}``.

    ``allowed`` names the hyperparameters the objective understands: their types are checked,
    and every value a range or list can give is checked against the setting's valid values; an
    unknown name raises naming it and the allowed ones. ``allowed=None`` accepts any name (for a
    custom objective). ``sources`` maps a name to where it was written (``-p width=0:4``), for
    the error.
    """
    dims, fixed = {}, {}
    for name, spec in entries.items():
        if allowed is not None and name not in allowed:
            raise ConfigError(_("search space: unknown hyperparameter {name!r}; allowed: "
                                "{allowed}").format(name=name, allowed=', '.join(allowed)))
        kind = allowed[name].kind if allowed is not None else None
        if isinstance(spec, (Range, Choice)):
            dims[name] = spec
        elif isinstance(spec, Mapping):
            dims[name] = parse_dim(name, spec, kind)
        else:
            _check_type(name, spec, kind)
            fixed[name] = spec
        if allowed is not None:
            owner = (sources or {}).get(name, f"search space: {name}")
            values = dims[name].values() if name in dims else [fixed[name]]
            check_values(name, values, allowed[name], owner)
    return Space(dims, fixed)


def scalar(text: str):
    """A command-line value as bool, int, float or str (``none`` → None)."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def parse_option(text: str) -> tuple[str, Any]:
    """One ``-p`` option: ``lr=1e-4:1:log`` (range, ``log`` optional), ``width=8,16,32``
    (choices), ``epochs=20`` (fixed). Returns ``(name, table or value)`` for :func:`parse_space`.
    """
    name, sep, rest = text.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not name or not rest:
        raise ConfigError(_("search: a -p option must look like NAME=LOW:HIGH[:log], NAME=A,B,C "
                            "or NAME=VALUE, got {text!r}").format(text=text))
    if "," in rest:
        return name, {"choices": [scalar(v) for v in rest.split(",")]}
    if ":" in rest:
        parts = rest.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip() != "log"):
            raise ConfigError(_("search: range option {text!r} must be NAME=LOW:HIGH or "
                                "NAME=LOW:HIGH:log").format(text=text))
        low, high = scalar(parts[0]), scalar(parts[1])
        return name, {"low": low, "high": high, "log": len(parts) == 3}
    return name, scalar(rest)
