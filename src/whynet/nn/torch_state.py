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

Whole models, layers built and weights copied (``whynet.to_torch`` / ``whynet.from_torch``)::

    torch_model = to_torch_module(model)            # a torch.nn.Sequential, same function
    model = from_torch_module(torch_model)          # a whynet Sequential, same function

The single-bias RNN's ``b`` is the sum of torch's two biases: exported as ``bias_ih_l0 = b``,
``bias_hh_l0 = 0``; imported as their sum. The function is the same; an optimiser moves the sum
twice as fast in torch, so a training run continues identically only with the two-bias form
(parameters ``b_ih`` and ``b_hh``, mapped one to one). A layer with state but no PyTorch
counterpart (Maxout) raises :class:`~whynet.errors.StateDictError` naming it.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict

import numpy as np

from ..errors import StateDictError, key_problems
from ..i18n import _
from . import activations, conv, layers, norm
from .module import IncompatibleKeys, Module, Sequential

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
        raise StateDictError(_("torch_state: expected a whynet Module, got {type}")
                               .format(type=type(model).__name__))
    for key, owner, name, _slot in model._state_slots():
        prefix = key[: len(key) - len(name)]
        cls = type(owner).__name__
        table = TORCH_NAMES.get(cls)
        if cls == "RNN" and name == "b":
            yield key, [prefix + t for t in _RNN_BIAS_SUM]
        elif table is None or name not in table:
            where = prefix.rstrip(".") or "(model)"
            raise StateDictError(_("torch_state: layer {where} ({cls}) has state {name!r} with "
                                   "no PyTorch counterpart; convertible layers: {torch_names}")
                                   .format(where=where, cls=cls, name=name,
                                           torch_names=', '.join(sorted(TORCH_NAMES))))
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
        raise StateDictError(_("from_torch: expected a state dict, got {type}")
                               .format(type=type(state).__name__))
    slots = list(_slots(model))
    wanted = [t for _, names in slots for t in names]
    missing = [t for t in wanted if t not in state]
    unexpected = [k for k in state if k not in set(wanted)]
    problems = key_problems(missing, unexpected) if strict else []
    if problems:
        raise StateDictError(_("from_torch: {problems}").format(problems="; ".join(problems)),
                             missing, unexpected)
    converted = {}
    for key, names in slots:
        if all(t in state for t in names):
            values = [_numpy(state[t]) for t in names]
            if len(values) == 2 and values[0].shape != values[1].shape:
                raise StateDictError(_("from_torch: {names!r} has shape {shape} but {names2!r} "
                                       "has {shape2}")
                                       .format(names=names[0], shape=values[0].shape,
                                               names2=names[1], shape2=values[1].shape))
            converted[key] = values[0] if len(values) == 1 else values[0] + values[1]
    model.load_state_dict(converted, strict=False)
    return IncompatibleKeys(missing, unexpected)


# -- whole models: a whynet Sequential ↔ a torch.nn.Sequential -----------------------------------

#: whynet layer class → (torch.nn class, {whynet constructor argument: torch attribute}). The
#: layers both libraries have, with the same function (PyTorch's defaults are whynet's).
TORCH_MODULES: dict[str, tuple[str, dict[str, str]]] = {
    "Dense": ("Linear", {"n_in": "in_features", "n_out": "out_features", "bias": "bias"}),
    "Conv1d": ("Conv1d", {k: k for k in ("in_channels", "out_channels", "kernel_size", "stride",
                                         "padding", "bias")}),
    "Conv2d": ("Conv2d", {k: k for k in ("in_channels", "out_channels", "kernel_size", "stride",
                                         "padding", "bias")}),
    "BatchNorm1d": ("BatchNorm1d", {"num_features": "num_features", "eps": "eps",
                                    "momentum": "momentum"}),
    "BatchNorm2d": ("BatchNorm2d", {"num_features": "num_features", "eps": "eps",
                                    "momentum": "momentum"}),
    "LayerNorm": ("LayerNorm", {"normalized_shape": "normalized_shape", "eps": "eps"}),
    "MaxPool1d": ("MaxPool1d", {k: k for k in ("kernel_size", "stride", "padding")}),
    "MaxPool2d": ("MaxPool2d", {k: k for k in ("kernel_size", "stride", "padding")}),
    "AvgPool1d": ("AvgPool1d", {k: k for k in ("kernel_size", "stride", "padding")}),
    "AvgPool2d": ("AvgPool2d", {k: k for k in ("kernel_size", "stride", "padding")}),
    "Dropout": ("Dropout", {"p": "p"}),
    "Flatten": ("Flatten", {}),
    "Identity": ("Identity", {}),
    "Sigmoid": ("Sigmoid", {}),
    "Tanh": ("Tanh", {}),
    "ReLU": ("ReLU", {}),
    "ReLU6": ("ReLU6", {}),
    "LeakyReLU": ("LeakyReLU", {"negative_slope": "negative_slope"}),
    "PReLU": ("PReLU", {"num_parameters": "num_parameters"}),
    "ELU": ("ELU", {"alpha": "alpha"}),
    "SELU": ("SELU", {}),
    "CELU": ("CELU", {"alpha": "alpha"}),
    "GELU": ("GELU", {"approximate": "approximate"}),
    "SiLU": ("SiLU", {}),
    "Mish": ("Mish", {}),
    "Softplus": ("Softplus", {"beta": "beta", "threshold": "threshold"}),
    "Softsign": ("Softsign", {}),
    "Hardtanh": ("Hardtanh", {"min_val": "min_val", "max_val": "max_val"}),
}

#: torch attributes whose other values whynet's twin cannot compute (attribute: required value).
TORCH_REQUIRED = {"dilation": (1, (1,), (1, 1)), "groups": (1,), "padding_mode": ("zeros",),
                  "ceil_mode": (False,), "count_include_pad": (True,),
                  "divisor_override": (None,), "affine": (True,), "track_running_stats": (True,),
                  "elementwise_affine": (True,), "start_dim": (1,), "end_dim": (-1,),
                  "inplace": (False, True)}


def _torch_nn():
    try:
        import torch
    except ImportError as e:
        raise StateDictError(_("converting to or from PyTorch needs torch: pip install "
                               "'whynet[torch]'")) from e
    return torch


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def to_torch_module(model: Module):
    """A ``torch.nn.Sequential`` computing what ``model`` (a whynet Sequential) computes: one
    torch layer per whynet layer (:data:`TORCH_MODULES`, same positions), the weights, biases
    and running statistics copied, in the model's dtype, in the model's mode (train/eval).
    A layer torch has no twin for (Maxout, RNN, GlobalAvgPool…) raises a StateDictError."""
    torch = _torch_nn()
    layers = getattr(model, "layers", None)
    if layers is None:
        raise StateDictError(_("to_torch: expected a whynet Sequential, got {type}")
                               .format(type=type(model).__name__))
    modules = []
    for i, layer in enumerate(layers):
        name = type(layer).__name__
        if name not in TORCH_MODULES:
            raise StateDictError(_("to_torch: layer {i} ({name}) has no PyTorch twin; "
                                   "convertible: {torch_modules}")
                                   .format(i=i, name=name,
                                           torch_modules=', '.join(TORCH_MODULES)))
        torch_name, args = TORCH_MODULES[name]
        config = layer.get_config()
        modules.append(getattr(torch.nn, torch_name)(
            **{t: _plain(config[w]) for w, t in args.items()}))
    out = torch.nn.Sequential(*modules).to({np.dtype(np.float64): torch.float64}.get(
        np.dtype(model.dtype), torch.float32))
    out.load_state_dict(to_torch(model))
    return out.train(model.training)


def _torch_args(i: int, module, args: dict[str, str]) -> dict:
    """whynet's constructor arguments read from a torch module, after checking that the module
    uses none of the options whynet's twin lacks."""
    for attr, allowed in TORCH_REQUIRED.items():
        value = getattr(module, attr, allowed[0])
        if value not in allowed:
            raise StateDictError(_("from_torch: layer {i} ({type}) has {attr}={value!r}; "
                                   "whynet's twin supports only {attr}={allowed!r}")
                                   .format(i=i, type=type(module).__name__, attr=attr,
                                           value=value, allowed=allowed[0]))
    kwargs = {}
    for w, t in args.items():
        value = getattr(module, t)
        kwargs[w] = (value is not None) if t == "bias" else value
    if isinstance(kwargs.get("padding"), str):
        raise StateDictError(_("from_torch: layer {i} ({type}) has padding={padding!r}; give the "
                               "padding as numbers")
                               .format(i=i, type=type(module).__name__,
                                       padding=kwargs['padding']))
    return kwargs


def from_torch_module(module, dtype=None) -> Module:
    """A whynet ``Sequential`` computing what the ``torch.nn.Sequential`` ``module`` computes:
    its layers' twins (:data:`TORCH_MODULES`), weights and running statistics copied, in
    ``dtype`` (default: float64 for a float64 module, else float32), in the module's mode."""
    torch = _torch_nn()
    if not isinstance(module, torch.nn.Sequential):
        raise StateDictError(_("from_torch: expected a torch.nn.Sequential, got {type}")
                               .format(type=type(module).__name__))
    if dtype is None:
        params = list(module.parameters())
        dtype = np.float64 if params and params[0].dtype == torch.float64 else np.float32
    by_torch = {t: w for w, (t, _) in TORCH_MODULES.items()}
    found = []
    for i, m in enumerate(module):
        torch_name = type(m).__name__
        if torch_name not in by_torch or type(m) is not getattr(torch.nn, torch_name):
            raise StateDictError(_("from_torch: layer {i} ({torch_name}) has no whynet twin; "
                                   "convertible: {by_torch}")
                                   .format(i=i, torch_name=torch_name,
                                           by_torch=', '.join(sorted(by_torch))))
        name = by_torch[torch_name]
        cls = next(getattr(mod, name) for mod in (layers, activations, norm, conv)
                   if hasattr(mod, name))
        kwargs = _torch_args(i, m, TORCH_MODULES[name][1])
        takes_dtype = "dtype" in inspect.signature(cls).parameters
        found.append(cls(**kwargs, dtype=dtype) if takes_dtype else cls(**kwargs))
    model = Sequential(*found)
    from_torch(model, module.state_dict())
    return model.train(module.training)
