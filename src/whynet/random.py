"""Seeds and generators. Every random draw in whynet comes from a ``numpy.random.Generator``
passed in or derived here from an explicit seed; there is no global RNG."""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .i18n import _

def make_rng(rng: np.random.Generator | int | None = None) -> np.random.Generator:
    """A Generator from a Generator (returned as is), an int seed, or None (seed 0).

    ``None`` means seed 0, not fresh OS entropy: same code, same numbers, always.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ConfigError(_("rng must be a numpy Generator or a seed ≥ 0, got {rng!r}")
                        .format(rng=rng))


def spawn(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """``n`` independent child generators (for layers, shuffling, dropout…)."""
    return list(rng.spawn(n))
