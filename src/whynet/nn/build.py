"""The MLP builder: a whole fully connected network from a list of layer sizes.

``mlp([2, 16, 16, 1], activation="tanh")`` is::

    Sequential(Dense(2 → 16), Tanh(), Dense(16 → 16), Tanh(), Dense(16 → 1))

and returns logits (no output activation), which is what the losses in :mod:`whynet.nn.losses`
expect.
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import dtypes
from ..errors import ConfigError, check_int, check_number
from ..i18n import _
from ..random import make_rng, spawn
from .activations import get_activation
from .init import INITIALIZERS, calculate_gain
from .layers import Dense, Dropout
from .module import Sequential
from .norm import BatchNorm1d


def _check_sizes(sizes) -> list[int]:
    try:
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ConfigError("too few")  # replaced just below: never shown
        return [check_int("mlp", "size", s) for s in sizes]
    except ConfigError:  # name the whole list: the bad entry is easiest to see in it
        raise ConfigError(_("mlp: sizes must be a list of at least 2 integers ≥ 1 (e.g. [2, 16, "
                            "16, 1]), got {sizes!r}").format(sizes=sizes)) from None


def suggested_init(act) -> tuple[str, dict]:
    """``(initialiser name, kwargs)`` that suit an activation: its ``suggested_init`` with its gain.

    He initialisers get ``nonlinearity=act.gain_name`` (and, for Leaky ReLU and PReLU, the
    negative slope as ``a``); Xavier and orthogonal get ``gain=act.gain()``; the rest (LeCun, for
    SELU) take no gain. E.g. ReLU → ``he_normal(nonlinearity="relu")``, std √(2/fan_in);
    tanh → ``xavier_uniform(gain=5/3)``; sigmoid → ``xavier_uniform(gain=1)``.
    """
    name = act.suggested_init
    accepted = inspect.signature(INITIALIZERS[name]).parameters
    kwargs: dict = {}
    if "nonlinearity" in accepted:
        kwargs["nonlinearity"] = act.gain_name
        if act.gain_name == "leaky_relu":
            if hasattr(act, "negative_slope"):
                kwargs["a"] = float(act.negative_slope)
            elif hasattr(act, "alpha"):  # PReLU: the slope it starts with
                kwargs["a"] = float(np.mean(act.alpha.value))
    elif "gain" in accepted:
        gain = act.gain() if hasattr(act, "gain") else calculate_gain(act.gain_name)
        kwargs["gain"] = float(gain)
    return name, kwargs


def mlp(sizes, activation="relu", init=None, output_activation=None, dropout: float = 0.0,
        batchnorm: bool = False, seed=0, dtype=None, **act_kwargs) -> Sequential:
    """A multilayer perceptron: ``Dense → [BatchNorm1d] → activation → [Dropout]`` per hidden
    layer, then a final ``Dense`` (and ``output_activation`` if given).

    Args:
        sizes: units per layer, input first and output last, e.g. ``[2, 16, 16, 1]``.
        activation: hidden activation name (``get_activation``), or a list with one name per
            hidden layer.
        init: weight initialiser (name or callable) for every Dense layer; None gives each layer
            the suggested initialiser of the activation that follows it, with that activation's
            gain (:func:`suggested_init`: He for ReLU, Xavier with gain 5/3 for tanh…). The output
            layer follows ``output_activation``, or is treated as linear (Xavier, gain 1).
        output_activation: None (logits, for the losses) or an activation name.
        dropout: drop probability p after each hidden activation; 0 adds no Dropout layers.
        batchnorm: put a ``BatchNorm1d`` between each hidden Dense and its activation (Ioffe &
            Szegedy 2015). Those Dense layers then have no bias: BN's β takes its place.
        seed: int or Generator. One child Generator per Dense layer, and one per Dropout layer,
            via :func:`whynet.random.spawn`; the weights do not depend on ``dropout``.
        dtype: float32 (default) or float64.
        **act_kwargs: passed to every hidden activation (e.g. ``negative_slope=0.2``).

    Returns:
        A :class:`Sequential`.
    """
    sizes = _check_sizes(sizes)
    n_hidden = len(sizes) - 2
    names = _hidden_activations(activation, sizes)
    dropout = check_number("mlp", "dropout", dropout, low=0.0, high=1.0, high_open=True)
    dt = dtypes.resolve(dtype)
    root = make_rng(seed)
    dense_rngs = spawn(root, len(sizes) - 1)
    dropout_rngs = spawn(root, n_hidden)

    def dense(i: int, act) -> Dense:
        bias = not (batchnorm and i < n_hidden)
        return _dense(sizes[i], sizes[i + 1], init, act, bias, dense_rngs[i], dt)

    layers = []
    for i, name in enumerate(names):
        act = get_activation(name, **act_kwargs).astype(dt)
        layers.append(dense(i, act))
        if batchnorm:
            layers.append(BatchNorm1d(sizes[i + 1], dtype=dt))
        layers.append(act)
        if dropout > 0:
            layers.append(Dropout(dropout, rng=dropout_rngs[i]))
    out_act = None if output_activation is None else get_activation(output_activation).astype(dt)
    layers.append(dense(n_hidden, out_act))
    if out_act is not None:
        layers.append(out_act)
    return Sequential(*layers)


def _hidden_activations(activation, sizes: list[int]) -> list:
    """One activation name per hidden layer: ``activation`` repeated, or its list checked."""
    n_hidden = len(sizes) - 2
    if not isinstance(activation, (list, tuple)):
        return [activation] * n_hidden
    if len(activation) != n_hidden:
        raise ConfigError(_("mlp: activation list needs one entry per hidden layer ({n_hidden} "
                            "for sizes {sizes}), got {n_activation}")
                            .format(n_hidden=n_hidden, sizes=sizes,
                                    n_activation=len(activation)))
    return list(activation)


def _dense(n_in: int, n_out: int, init, act, bias: bool, rng, dtype) -> Dense:
    """A Dense layer initialised by ``init``, or (None) as suits ``act``, the activation after
    it (:func:`suggested_init`; Xavier with gain 1 before none)."""
    if init is None:
        name, kwargs = suggested_init(act) if act is not None else ("xavier_uniform", {})
    else:
        name, kwargs = init, {}
    return Dense(n_in, n_out, init=name, bias=bias, rng=rng, dtype=dtype, **kwargs)
