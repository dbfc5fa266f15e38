"""The errors whynet raises.

Every error is a :class:`WhynetError`, so a caller can catch all of them at once. Each message
names *where* (the layer, argument or file), *what was expected* and *what was given*, e.g.::

    ShapeError: Dense(784 → 128): expected input of shape (m, 784), got (32, 785)
"""

from __future__ import annotations


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
    """Training produced a non-finite loss. Carries the step and the history up to it."""

    def __init__(self, message: str, step: int | None = None, history=None):
        super().__init__(message)
        self.step = step
        self.history = history


def unknown_name(kind: str, name: str, known) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that lists the known names of this kind."""
    return UnknownNameError(f"unknown {kind} {name!r}; known: {', '.join(sorted(known))}")


def check_positive(owner: str, arg: str, value, *, allow_zero: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number > 0 (or ≥ 0)."""
    import math

    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "≥ 0" if allow_zero else "> 0"
        raise ConfigError(f"{owner}: {arg} must be a finite number {bound}, got {value!r}")


def check_finite(owner: str, what: str, array) -> None:
    """Raise :class:`NonFiniteError` if ``array`` holds NaN or ±inf, saying how many and where."""
    import numpy as np

    a = np.asarray(array)
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        bad = ~np.isfinite(a)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(
            f"{owner}: {what} contains {int(bad.sum())} non-finite value(s) (NaN or inf), "
            f"first at index {first}"
        )


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
