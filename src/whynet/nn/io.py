"""Saving and loading models: ``path.npz`` for the arrays, ``path.json`` for the architecture.

Nothing is pickled. ``save(model, "runs/net")`` writes

* ``runs/net.npz`` — one array per parameter (``"0.W"``, ``"0.b"``, ``"2.alpha"``…) and per buffer
  (``"3.running_mean"``…), named by the layer's position, via ``np.savez``;
* ``runs/net.json`` — ``{"format": "whynet-model", "format_version": 1, "whynet_version": …,
  "dtype": "float32", "layers": [{"class": "Dense", "config": {"n_in": 784, …}}, …]}``, each
  layer's ``get_config()`` being its constructor's keyword arguments.

``load("runs/net")`` rebuilds the layers from the classes named in :data:`LAYERS` (an explicit
list: a JSON file can only name classes listed here), then copies the arrays in after checking
that every expected array is present with the expected shape, reading the ``.npz`` with
``allow_pickle=False``. Every mismatch is a :class:`~whynet.errors.ModelFileError` naming the
file, the layer and the shapes.
"""

from __future__ import annotations

import importlib
import inspect
import json
import zipfile
from pathlib import Path

import numpy as np

from .. import __version__, dtypes
from ..errors import ModelFileError, WhynetError
from . import activations as _activations
from . import layers as _layers
from .module import Module, Sequential

FORMAT = "whynet-model"
FORMAT_VERSION = 1

#: Class name → class of every module ``load`` may build. Activations come from their registry.
LAYERS: dict[str, type[Module]] = {"Sequential": Sequential}
LAYERS.update({cls.__name__: cls for cls in getattr(_activations, "ACTIVATIONS", {}).values()})
LAYERS.update({cls.__name__: cls for cls in (_activations.Identity, _activations.Sigmoid,
                                             _activations.Tanh, _activations.ReLU)})
for _name in ("Dense", "Dropout", "Flatten", "Maxout"):
    if hasattr(_layers, _name):
        LAYERS[_name] = getattr(_layers, _name)


def _register_optional(module: str, names: tuple[str, ...]) -> None:
    """Add ``names`` from ``whynet.nn.<module>`` when that module imports (it may be absent)."""
    try:
        mod = importlib.import_module(f"whynet.nn.{module}")
    except ImportError:
        return
    for name in names:
        if hasattr(mod, name):
            LAYERS[name] = getattr(mod, name)


_register_optional("norm", ("BatchNorm1d", "BatchNorm2d", "LayerNorm"))
_register_optional("conv", ("Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
                            "AvgPool2d", "GlobalAvgPool"))
_register_optional("recurrent", ("RNN", "LastStep"))


def _paths(path) -> tuple[Path, Path]:
    """``path`` without a ``.npz``/``.json`` suffix → (path.npz, path.json)."""
    p = Path(path)
    if p.suffix in (".npz", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".npz"), p.with_name(p.name + ".json")


def _describe(module: Module, prefix: str, arrays: dict[str, np.ndarray]) -> dict:
    """The JSON entry of ``module`` (recursing into Sequentials); fills ``arrays``."""
    cls = type(module).__name__
    where = prefix.rstrip(".") or "(model)"
    if LAYERS.get(cls) is not type(module):
        raise ModelFileError(f"save: layer {where} is a {cls}, which load() would not know; "
                             f"known layers: {', '.join(sorted(LAYERS))}")
    if isinstance(module, Sequential):
        return {"class": cls, "layers": [_describe(child, f"{prefix}{i}.", arrays)
                                         for i, child in enumerate(module.layers)]}
    if not hasattr(module, "get_config"):
        raise ModelFileError(f"save: layer {where} ({cls}) has no get_config()")
    config = module.get_config()
    for name, p in module._params.items():
        arrays[prefix + name] = p.value
    for name in getattr(module, "_buffers", ()):
        arrays[prefix + name] = np.asarray(getattr(module, name))
    return {"class": cls, "config": config}


def save(model: Module, path) -> tuple[Path, Path]:
    """Write ``path.npz`` (parameters and buffers) and ``path.json`` (architecture).

    A ``.npz`` or ``.json`` suffix on ``path`` is dropped. Returns the two paths written.
    A model that is not a Sequential is saved as a one-layer Sequential.
    """
    if not isinstance(model, Module):
        raise ModelFileError(f"save: expected a whynet Module, got {type(model).__name__}")
    if not isinstance(model, Sequential):
        model = Sequential(model)
    npz_path, json_path = _paths(path)
    arrays: dict[str, np.ndarray] = {}
    spec = {"format": FORMAT, "format_version": FORMAT_VERSION, "whynet_version": __version__,
            "dtype": str(np.dtype(model.dtype)), **_describe(model, "", arrays)}
    try:
        text = json.dumps(spec, indent=1, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"save: the architecture of {json_path} is not JSON-serialisable "
                             f"({e}); every get_config() must return plain values") from e
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    with open(npz_path, "wb") as f:  # a file object, so np.savez does not append another .npz
        np.savez(f, **arrays)
    json_path.write_text(text + "\n", encoding="utf-8")
    return npz_path, json_path


def _build(entry, where: str, json_path: Path, dtype: np.dtype) -> Module:
    """A module from its JSON entry (recursing into Sequentials)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class"), str):
        raise ModelFileError(f"{json_path}: layer {where} must be an object with a \"class\", "
                             f"got {entry!r:.80}")
    name = entry["class"]
    cls = LAYERS.get(name)
    if cls is None:
        raise ModelFileError(f"{json_path}: layer {where} has unknown class {name!r}; "
                             f"known: {', '.join(sorted(LAYERS))}")
    if cls is Sequential:
        children = entry.get("layers")
        if not isinstance(children, list):
            raise ModelFileError(f"{json_path}: Sequential {where} needs a \"layers\" list")
        prefix = "" if where == "(model)" else f"{where}."
        return Sequential(*[_build(c, f"{prefix}{i}", json_path, dtype)
                            for i, c in enumerate(children)])
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"{json_path}: layer {where} ({name}) config must be an object, "
                             f"got {config!r:.80}")
    kwargs = dict(config)
    if "dtype" in inspect.signature(cls).parameters:
        kwargs["dtype"] = dtype
    try:
        return cls(**kwargs)
    except (TypeError, WhynetError) as e:
        raise ModelFileError(f"{json_path}: cannot build layer {where} ({name}) from config "
                             f"{config}: {e}") from e


def _fill(model: Sequential, arrays, npz_path: Path) -> None:
    """Copy the arrays into the freshly built model, checking names and shapes."""
    expected = set()
    for m_prefix, module in _leaves(model, ""):
        layer = f"layer {m_prefix.rstrip('.')} ({type(module).__name__})"
        for name, p in module._params.items():
            key = m_prefix + name
            expected.add(key)
            value = _array(arrays, key, p.value.shape, npz_path, layer)
            p.value = np.ascontiguousarray(value, dtype=p.value.dtype)
            p.grad = np.zeros_like(p.value)
        for name in getattr(module, "_buffers", ()):
            key = m_prefix + name
            expected.add(key)
            current = getattr(module, name)
            value = _array(arrays, key, np.shape(current), npz_path, layer)
            if isinstance(current, np.ndarray):
                setattr(module, name, value.astype(current.dtype))
            else:
                setattr(module, name, type(current)(value.item()))
    extra = sorted(set(arrays.files) - expected)
    if extra:
        raise ModelFileError(f"{npz_path}: arrays {', '.join(extra)} belong to no parameter of "
                             f"the architecture in the .json file")


def _leaves(module: Module, prefix: str):
    if isinstance(module, Sequential):
        for i, child in enumerate(module.layers):
            yield from _leaves(child, f"{prefix}{i}.")
    else:
        yield prefix, module


def _array(arrays, key: str, shape: tuple, npz_path: Path, layer: str) -> np.ndarray:
    if key not in arrays.files:
        raise ModelFileError(f"{npz_path}: {layer} needs array {key!r} of shape {shape}, "
                             f"which is missing")
    try:
        value = arrays[key]
    except ValueError as e:  # object arrays need pickle, which we refuse
        raise ModelFileError(f"{npz_path}: array {key!r} of {layer} cannot be read without "
                             f"pickle ({e})") from e
    if value.shape != tuple(shape):
        raise ModelFileError(f"{npz_path}: {layer} array {key!r} has shape {value.shape}, "
                             f"expected {tuple(shape)}")
    if value.dtype.kind not in "fiub":
        raise ModelFileError(f"{npz_path}: {layer} array {key!r} has dtype {value.dtype}, "
                             f"expected a number type")
    return value


def load(path) -> Sequential:
    """The model saved at ``path`` (``path.npz`` + ``path.json``), in training mode as a freshly
    built model is; call ``.eval()`` or ``predict`` for inference."""
    npz_path, json_path = _paths(path)
    for p in (json_path, npz_path):
        if not p.is_file():
            raise ModelFileError(f"load: file {p} does not exist (a model is saved as "
                                 f"{npz_path.name} + {json_path.name})")
    try:
        spec = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{json_path}: not valid JSON ({e})") from e
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelFileError(f"{json_path}: not a whynet model file (expected \"format\": "
                             f"\"{FORMAT}\")")
    version = spec.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{json_path}: format_version {version!r} is not supported by this "
                             f"whynet {__version__} (supports ≤ {FORMAT_VERSION})")
    try:
        dtype = dtypes.resolve(spec.get("dtype"))
    except WhynetError as e:
        raise ModelFileError(f"{json_path}: {e}") from e
    model = _build(spec, "(model)", json_path, dtype)
    if not isinstance(model, Sequential):
        raise ModelFileError(f"{json_path}: the top level must be a Sequential, "
                             f"got {spec.get('class')!r}")
    try:
        arrays = np.load(npz_path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{npz_path}: not a readable .npz file ({e})") from e
    with arrays:
        _fill(model, arrays, npz_path)
    return model
