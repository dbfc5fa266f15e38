"""whynet's one dtype policy.

float32 is the default for speed; float64 is used for gradient checks and equivalence tests.
A model is built in one dtype (``dtype=`` on each layer, or ``model.astype(np.float64)``) and every
array it creates, returns or stores as a gradient has that dtype.

Why this module exists: NumPy promotes ``float32_array * np.float64(x)`` to float64, which silently
halves the speed and doubles memory. Scalars that enter a hot path are cast with :func:`scalar`.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .i18n import _

DEFAULT = np.dtype(np.float32)
SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64))


def resolve(dtype=None) -> np.dtype:
    """Return a supported floating dtype: ``None`` gives the default (float32)."""
    dt = DEFAULT if dtype is None else np.dtype(dtype)
    if dt not in SUPPORTED:
        raise ConfigError(_("dtype must be float32 or float64, got {dt}").format(dt=dt))
    return dt


#: (value, dtype) → scalar, for the few constants a training step uses again and again (an
#: optimiser's rates): a lookup is 0.1 µs, making a NumPy scalar 0.35 µs.
_SCALARS: dict = {}


def scalar(value, dtype) -> np.generic:
    """``value`` as a NumPy scalar of ``dtype``, so it does not promote a float32 array."""
    key = (value, dtype)
    try:
        return _SCALARS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable value (an array)
        pass
    out = np.dtype(dtype).type(value)
    # Not zeros (0.0 and −0.0 are one key) nor NaN (never equal to itself), nor once the table
    # is full (a schedule's many rates).
    if type(value) is float and value != 0 and value == value and len(_SCALARS) < 1024:
        _SCALARS[key] = out
    return out
