"""whynet ↔ PyTorch ``state_dict`` conversion for the layers both have.

A whynet :class:`~whynet.nn.Sequential` and a ``torch.nn.Sequential`` built layer for layer
(same positions) share their state under different parameter names::

    whynet                         torch
    Dense        W, b              Linear        weight, bias        (W is (n_out, n_in) in both)
    Conv1d/2d    W, b              Conv1d/2d     weight, bias        ((C_out, C_in, *kernel))
    BatchNorm1d/2d gamma, beta,    BatchNorm1d/2d weight, bias,
                 running_mean, running_var, num_batches_tracked (same names)
    LayerNorm    gamma, beta       LayerNorm     weight, bias
    PReLU        alpha             PReLU         weight
    RNN          W_xh, W_hh, b     RNN           weight_ih_l0, weight_hh_l0, bias_ih_l0 + bias_hh_l0

::

    torch_model.load_state_dict(to_torch(model))    # whynet → torch (tensors)
    from_torch(model, torch_model.state_dict())     # torch → whynet (in place)

The single-bias RNN's ``b`` is the sum of torch's two biases: exported as ``bias_ih_l0 = b``,
``bias_hh_l0 = 0``; imported as their sum. The function is the same; an optimiser moves the sum
twice as fast in torch, so a training run continues identically only with the two-bias form
(parameters ``b_ih`` and ``b_hh``, mapped one to one). A layer with state but no PyTorch
counterpart (Maxout) raises :class:`~whynet.errors.StateDictError` naming it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..errors import StateDictError
from .module import IncompatibleKeys, Module

#: whynet class name → {whynet state name: torch state name}.
TORCH_NAMES: dict[str, dict[str, str]] = {
    "Dense": {"W": "weight", "b": "bias"},
    "Conv1d": {"W": "weight", "b": "bias"},
    "Conv2d": {"W": "weight", "b": "bias"},
    "BatchNorm1d": {"gamma": "weight", "beta": "bias", "running_mean": "running_mean",
                    "running_var": "running_var", "num_batches_tracked": "num_batches_tracked"},
    "BatchNorm2d": {"gamma": "weight", "beta": "bias", "running_mean": "running_mean",
                    "running_var": "running_var", "num_batches_tracked": "num_batches_tracked"},
    "LayerNorm": {"gamma": "weight", "beta": "bias"},
    "PReLU": {"alpha": "weight"},
    "RNN": {"W_xh": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0",
            "b_hh": "bias_hh_l0"},
}

# The single-bias RNN's b stands for the sum of these two torch arrays.
_RNN_BIAS_SUM = ("bias_ih_l0", "bias_hh_l0")


def _slots(model: Module):
    """``(whynet key, prefix, owner, name)`` for every state entry, with its torch names."""
    if not isinstance(model, Module):
        raise StateDictError(f"torch_state: expected a whynet Module, got {type(model).__name__}")
    for key, owner, name, _ in model._state_slots():
        prefix = key[: len(key) - len(name)]
        cls = type(owner).__name__
        table = TORCH_NAMES.get(cls)
        if cls == "RNN" and name == "b":
            yield key, [prefix + t for t in _RNN_BIAS_SUM]
        elif table is None or name not in table:
            where = prefix.rstrip(".") or "(model)"
            raise StateDictError(f"torch_state: layer {where} ({cls}) has state {name!r} with no "
                                 f"PyTorch counterpart; convertible layers: "
                                 f"{', '.join(sorted(TORCH_NAMES))}")
        else:
            yield key, [prefix + table[name]]


def torch_keys(model: Module) -> dict[str, list[str]]:
    """whynet state key → the torch key(s) it becomes, e.g. ``{"0.W": ["0.weight"], …}``."""
    return dict(_slots(model))


def to_torch(model: Module, tensors: bool = True) -> "OrderedDict":
    """The model's state under PyTorch's names, ready for ``torch_module.load_state_dict``.

    Values are copies: torch tensors when ``tensors`` (needs PyTorch), else NumPy arrays.
    """
    state = model.state_dict()
    out: OrderedDict = OrderedDict()
    for key, names in _slots(model):
        value = np.array(state[key], copy=True)
        out[names[0]] = value
        if len(names) == 2:  # single-bias RNN: all of b in bias_ih, zeros in bias_hh
            out[names[1]] = np.zeros_like(value)
    if tensors:
        import torch

        out = OrderedDict((k, torch.from_numpy(v)) for k, v in out.items())
    return out


def _numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor (maybe on a GPU, maybe requiring grad)
        return value.detach().cpu().numpy()
    return np.asarray(value)


def from_torch(model: Module, state, strict: bool = True) -> IncompatibleKeys:
    """Load a PyTorch ``state_dict`` (tensors or arrays, torch's names) into ``model`` in place.

    Every key and shape is checked before anything changes (see
    :meth:`~whynet.nn.module.Module.load_state_dict`); missing or unexpected keys are named in
    torch's spelling. Returns the missing and unexpected torch keys (empty under ``strict``).
    """
    if not hasattr(state, "keys"):
        raise StateDictError(f"from_torch: expected a state dict, got {type(state).__name__}")
    slots = list(_slots(model))
    wanted = [t for _, names in slots for t in names]
    missing = [t for t in wanted if t not in state]
    unexpected = [k for k in state if k not in set(wanted)]
    problems = []
    if strict and missing:
        problems.append(f"missing key(s): {', '.join(map(repr, missing))}")
    if strict and unexpected:
        problems.append(f"unexpected key(s): {', '.join(map(repr, unexpected))}")
    if problems:
        raise StateDictError("from_torch: " + "; ".join(problems), missing, unexpected)
    converted = {}
    for key, names in slots:
        if all(t in state for t in names):
            values = [_numpy(state[t]) for t in names]
            if len(values) == 2 and values[0].shape != values[1].shape:
                raise StateDictError(f"from_torch: {names[0]!r} has shape {values[0].shape} but "
                                     f"{names[1]!r} has {values[1].shape}")
            converted[key] = values[0] if len(values) == 1 else values[0] + values[1]
    model.load_state_dict(converted, strict=False)
    return IncompatibleKeys(missing, unexpected)
