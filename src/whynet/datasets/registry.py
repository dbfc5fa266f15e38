"""The named data sets: :data:`DATASETS` (name → generator or loader) and :func:`get_dataset`."""

from __future__ import annotations

import inspect

from ..errors import ConfigError, lookup, unknown_name
from ..i18n import _
from .digits import digits
from .mnist1d import mnist1d
from .playground import disc, multigauss, plane
from .toy import blobs, circles, flower, gaussian, moons, spiral, xor

DATASETS = {
    "moons": moons,
    "circles": circles,
    "blobs": blobs,
    "xor": xor,
    "gaussian": gaussian,
    "spiral": spiral,
    "flower": flower,
    "disc": disc,
    "plane": plane,
    "multigauss": multigauss,
    "digits": digits,
    "mnist1d": mnist1d,
}

#: The 2-D classification sets (the lab's picker, decision-boundary plots).
TOY_2D = ("moons", "circles", "blobs", "xor", "gaussian", "spiral", "flower", "disc")
#: The 2-D regression sets (TensorFlow Playground's): float32 targets, trained with squared error.
REGRESSION_SETS = ("plane", "multigauss")


def get_dataset(name: str, **kwargs):
    """``DATASETS[name](**kwargs)``, with an error listing the known names or allowed arguments.

    Returns a :class:`Dataset`, or :class:`Splits` for ``"mnist1d"``.
    """
    if name not in DATASETS:
        raise unknown_name(_("data set"), name, DATASETS)
    allowed = inspect.signature(DATASETS[name]).parameters
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigError(_("data set {name!r}: unknown argument(s) {unknown}; allowed: {allowed}")
                          .format(name=name, unknown=', '.join(unknown),
                                  allowed=', '.join(allowed) or _("none")))
    return lookup(_("data set"), DATASETS, name, kwargs)
