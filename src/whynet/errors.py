"""The errors whynet raises.

Every error is a :class:`WhynetError`, so a caller can catch all of them at once. Each message
names *where* (the layer, argument or file), *what was expected* and *what was given*, e.g.::

    ShapeError: Dense(784 → 128): expected input of shape (m, 784), got (32, 785)
"""

from __future__ import annotations

import inspect
import math
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from . import i18n


def _(message: str) -> str:
    """``message`` in the language in force (:func:`whynet.i18n._`; reached through the module
    because :mod:`whynet.i18n` raises these errors: the two modules import each other)."""
    return i18n._(message)


class WhynetError(Exception):
    """Base class of every error raised by whynet."""


class ShapeError(WhynetError, ValueError):
    """An array has the wrong rank or size for the layer, loss or function it was given to."""


class NonFiniteError(WhynetError, ValueError):
    """Data or a computed value holds NaN or ±inf where finite numbers are required."""


class UnknownNameError(WhynetError, KeyError):
    """A name (activation, initialiser, optimiser, data set, experiment…) is not known.

    The message lists the names that are.
    """

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence.
        return str(self.args[0]) if self.args else ""


class ConfigError(WhynetError, ValueError):
    """A hyperparameter or setting is outside its valid range or of the wrong type."""


class ModelFileError(WhynetError, ValueError):
    """A saved model or results file is missing, corrupt, or does not match the architecture."""


class DivergenceError(WhynetError, FloatingPointError):
    """Training diverged: a non-finite loss, or one far above the starting loss. Carries the
    step, the history up to it, and the loss that stopped it (None when it was not finite)."""

    def __init__(self, message: str, step: int | None = None, history=None,
                 loss: float | None = None):
        super().__init__(message)
        self.step = step
        self.history = history
        self.loss = loss


def unknown_name(kind: str, name: str, known) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that lists the known names of this kind."""
    return UnknownNameError(_("unknown {kind} {name!r}; known: {known}").format(
        kind=kind, name=name, known=", ".join(sorted(known))))


def check_int(owner: str, arg: str, value, *, low: int | None = 1,
              high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (None: unbounded), else a :class:`ConfigError`
    naming ``owner``'s ``arg``. A bool is not an int here (``True`` is not a layer size)."""
    ok = isinstance(value, Integral) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise ConfigError(_("{owner}: {arg} must be an integer{bounds}, got {value!r}").format(
            owner=owner, arg=arg, bounds=_bounds(low, high), value=value))
    return int(value)


def check_number(owner: str, arg: str, value, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False,
                 high_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (each bound closed
    unless ``*_open``; None: unbounded), else a :class:`ConfigError` naming ``owner``'s ``arg``."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low is None or (value > low if low_open else value >= low))
    ok = ok and (high is None or (value < high if high_open else value <= high))
    if not ok:
        raise ConfigError(_("{owner}: {arg} must be a finite number{bounds}, got {value!r}")
                          .format(owner=owner, arg=arg, value=value,
                                  bounds=_bounds(low, high, low_open, high_open)))
    return float(value)


def check_bool(owner: str, arg: str, value) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0, 1 or "no"), else a :class:`ConfigError`."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(_("{owner}: {arg} must be true or false, got {value!r}").format(
            owner=owner, arg=arg, value=value))
    return bool(value)


def check_str(owner: str, arg: str, value) -> str:
    """``value`` if it is a string, else a :class:`ConfigError` naming ``owner``'s ``arg``."""
    if not isinstance(value, str):
        raise ConfigError(_("{owner}: {arg} must be a string, got {value!r}").format(
            owner=owner, arg=arg, value=value))
    return value


def check_file_path(owner: str, arg: str, value) -> Path:
    """``value`` as a :class:`~pathlib.Path` that can name a file to write: a non-empty path
    whose last part is a name (not ``""``, ``"."`` or ``".."``) and that is not an existing
    directory; else a :class:`ConfigError` naming ``owner``'s ``arg``."""
    try:
        text = os.fspath(value)
    except TypeError:
        raise ConfigError(_("{owner}: {arg} must be a file path, got {value!r}")
                          .format(owner=owner, arg=arg, value=value)) from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    path = Path(text)
    if not text.strip() or path.name in ("", ".", ".."):
        raise ConfigError(_("{owner}: {arg} must name a file, got {text!r}")
                          .format(owner=owner, arg=arg, text=text))
    if path.is_dir():
        raise ConfigError(_("{owner}: {arg} {text} is a directory; give a file name inside it")
                          .format(owner=owner, arg=arg, text=text))
    return path


def _bounds(low, high, low_open: bool = False, high_open: bool = False) -> str:
    """" ≥ 1", " > 0", " ≤ 5" or " in [0, 1)": the words for an interval, for a message (each
    form translated whole, so a language can put it before the noun: "1 이상의 ")."""
    if low is not None and high is not None:
        interval = (f"{'(' if low_open else '['}{_num(low)}, {_num(high)}"
                    f"{')' if high_open else ']'}")
        return _(" in {interval}").format(interval=interval)
    if low is not None:
        return (_(" > {low}") if low_open else _(" ≥ {low}")).format(low=_num(low))
    if high is not None:
        return (_(" < {high}") if high_open else _(" ≤ {high}")).format(high=_num(high))
    return ""


def _num(v) -> str:
    """A bound for a message: ``0.5``, ``1e-08``; a large integer with separators, 1,000,000."""
    return f"{v:,}" if isinstance(v, Integral) and abs(v) >= 10**6 else f"{v:g}"


def lookup(kind: str, table, name, kwargs: dict | None = None):
    """``table[name](**kwargs)``: the one registry look-up behind the ``get_*`` functions.

    ``name`` is matched case-insensitively (and "-" read as "_"); an unknown name raises
    :class:`UnknownNameError` listing the known ones; an argument the entry does not take raises
    :class:`ConfigError` listing the ones it does.
    """
    key = name.lower().replace("-", "_") if isinstance(name, str) else None
    if key not in table:
        raise unknown_name(kind, str(name), table)
    entry, kwargs = table[key], kwargs or {}
    params = inspect.signature(entry).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise ConfigError(_("{kind} {name!r}: unknown argument(s) {unknown}; allowed: "
                                "{allowed}").format(kind=kind, name=name,
                                                    unknown=", ".join(unknown),
                                                    allowed=", ".join(params) or _("none")))
    try:
        return entry(**kwargs)
    except TypeError as e:  # a required argument missing
        raise ConfigError(_("{kind} {name!r}: bad arguments {kwargs}: {reason}").format(
            kind=kind, name=name, kwargs=kwargs, reason=e)) from None


def check_positive(owner: str, arg: str, value, *, allow_zero: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number > 0 (or ≥ 0)."""
    check_number(owner, arg, value, low=0.0, low_open=not allow_zero)


def check_finite(owner: str, what: str, array) -> None:
    """Raise :class:`NonFiniteError` if ``array`` holds NaN or ±inf, saying how many and where."""
    a = np.asarray(array)
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        bad = ~np.isfinite(a)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(
            _("{owner}: {what} contains {count} non-finite value(s) (NaN or inf), first at "
              "index {first}").format(owner=owner, what=what, count=int(bad.sum()), first=first))


class StateDictError(ModelFileError):
    """A state dict does not fit the model: missing or unexpected keys, or wrong shapes.

    ``missing_keys``, ``unexpected_keys`` and ``mismatched`` (``key: (got, expected)`` shapes)
    say which, as PyTorch's ``load_state_dict`` error does.
    """

    def __init__(self, message: str, missing_keys=(), unexpected_keys=(), mismatched=None):
        super().__init__(message)
        self.missing_keys = list(missing_keys)
        self.unexpected_keys = list(unexpected_keys)
        self.mismatched = dict(mismatched or {})


def key_problems(missing=(), unexpected=()) -> list[str]:
    """``["missing key(s): 'a', 'b'", "unexpected key(s): 'c'"]`` (the parts that apply): how a
    state dict's keys fail to fit a model, in :class:`StateDictError`'s messages."""
    problems = []
    if missing:
        problems.append(_("missing key(s): {keys}").format(keys=", ".join(map(repr, missing))))
    if unexpected:
        problems.append(_("unexpected key(s): {keys}").format(
            keys=", ".join(map(repr, unexpected))))
    return problems
