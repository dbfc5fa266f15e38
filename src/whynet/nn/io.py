"""Saving and loading models: ``path.npz`` for the arrays, ``path.json`` for the architecture.

Nothing is pickled. ``save(model, "runs/net")`` writes

* ``runs/net.npz`` — one array per parameter (``"0.W"``, ``"0.b"``, ``"2.alpha"``…) and per buffer
  (``"3.running_mean"``…), named by the layer's position, via ``np.savez``;
* ``runs/net.json`` — ``{"format": "whynet-model", "format_version": 1, "whynet_version": …,
  "dtype": "float32", "layers": [{"class": "Dense", "config": {"n_in": 784, …}}, …]}``, each
  layer's ``get_config()`` being its constructor's keyword arguments.

The arrays are the model's :meth:`~whynet.nn.module.Module.state_dict`; both files are written
under temporary names and renamed, so a failed save leaves no half-written model.

``load("runs/net")`` checks before it builds anything: the JSON's structure and classes (only
those named in :data:`LAYERS` can be built), every array of the ``.npz`` (read in full by
:func:`read_npz`, without pickle, each member's declared size checked first), and that each layer's
declared weights are present (:data:`MIN_ELEMENTS`), so a crafted file cannot make it allocate
more than the file holds. Then it rebuilds the layers and loads the arrays through
``load_state_dict`` after checking every name and shape. Every problem is a
:class:`~whynet.errors.ModelFileError` naming the file, the layer and the shapes.
"""

from __future__ import annotations

import inspect
import json
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .. import __version__, dtypes
from ..atomic import replacing
from ..errors import ModelFileError, WhynetError
from ..i18n import _
from . import activations as _activations
from .conv import AvgPool1d, AvgPool2d, Conv1d, Conv2d, GlobalAvgPool, MaxPool1d, MaxPool2d
from .layers import Dense, Dropout, Flatten, Maxout
from .module import Module, Sequential
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .recurrent import RNN, LastStep

FORMAT = "whynet-model"
FORMAT_VERSION = 1

#: Class name → class of every module ``load`` may build. Activations come from their registry.
LAYERS: dict[str, type[Module]] = {"Sequential": Sequential}
LAYERS.update({cls.__name__: cls for cls in _activations.ACTIVATIONS.values()})
LAYERS.update({cls.__name__: cls for cls in (
    _activations.Identity, _activations.Sigmoid, _activations.Tanh, _activations.ReLU,
    Dense, Dropout, Flatten, Maxout, BatchNorm1d, BatchNorm2d, LayerNorm, Conv1d, Conv2d,
    MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, GlobalAvgPool, RNN, LastStep)})

#: Buffers added after format version 1 was fixed: a file without them still loads, and the
#: freshly built layer's value (a batch count of 0, as PyTorch assumes for old checkpoints) stays.
OPTIONAL_BUFFERS = ("num_batches_tracked",)

#: Refuse a .npz whose arrays would take more memory than this (a crafted header can declare any
#: shape); far above any model whynet trains.
MAX_BYTES = 4 * 2**30


def _ints(config: dict, *names: str) -> list[int]:
    """The config's integer sizes (a list for kernel sizes), 1 where absent or not an int."""
    out = []
    for name in names:
        v = config.get(name, 1)
        vals = v if isinstance(v, list) else [v]
        out.append(math.prod(int(x) if isinstance(x, int) and not isinstance(x, bool) and x > 0
                             else 1 for x in vals))
    return out


#: Class name → the fewest array elements a layer built from ``config`` holds (its weights, no
#: bias). ``load`` checks the file holds at least that many for the layer *before* building it,
#: so a crafted .json (``Dense(10**6, 10**6)``) cannot make it allocate what the .npz lacks.
MIN_ELEMENTS = {
    "Dense": lambda c: math.prod(_ints(c, "n_in", "n_out")),
    "Maxout": lambda c: math.prod(_ints(c, "n_in", "n_out", "k")),
    "Conv1d": lambda c: math.prod(_ints(c, "in_channels", "out_channels", "kernel_size")),
    "Conv2d": lambda c: math.prod(_ints(c, "in_channels", "out_channels", "kernel_size")),
    "BatchNorm1d": lambda c: _ints(c, "num_features")[0],
    "BatchNorm2d": lambda c: _ints(c, "num_features")[0],
    "LayerNorm": lambda c: _ints(c, "normalized_shape")[0],
    "PReLU": lambda c: _ints(c, "num_parameters")[0],
    "RNN": lambda c: (lambda i, h: h * i + h * h)(*_ints(c, "n_in", "n_hidden")),
}


def _paths(path) -> tuple[Path, Path]:
    """``path`` without a ``.npz``/``.json`` suffix → (path.npz, path.json)."""
    try:
        p = Path(path)
    except TypeError:
        raise ModelFileError(_("a model path must be a file path, got {path!r}")
                             .format(path=path)) from None
    if p.suffix in (".npz", ".json"):
        p = p.with_suffix("")
    if p.name in ("", ".", ".."):
        raise ModelFileError(_("a model path must end in a file name such as model, got "
                               "{path!r}").format(path=str(path)))
    return p.with_name(p.name + ".npz"), p.with_name(p.name + ".json")


def _describe(module: Module, prefix: str) -> dict:
    """The JSON entry of ``module`` (recursing into Sequentials)."""
    cls = type(module).__name__
    where = prefix.rstrip(".") or "(model)"
    if LAYERS.get(cls) is not type(module):
        raise ModelFileError(_("save: layer {where} is a {cls}, which load() would not know; "
                               "known layers: {layers}")
                               .format(where=where, cls=cls,
                                       layers=', '.join(sorted(LAYERS))))
    if isinstance(module, Sequential):
        return {"class": cls, "layers": [_describe(child, f"{prefix}{i}.")
                                         for i, child in enumerate(module.layers)]}
    if not hasattr(module, "get_config"):
        raise ModelFileError(_("save: layer {where} ({cls}) has no get_config()")
                               .format(where=where, cls=cls))
    return {"class": cls, "config": module.get_config()}


def save(model: Module, path) -> tuple[Path, Path]:
    """Write ``path.npz`` (parameters and buffers) and ``path.json`` (architecture).

    A ``.npz`` or ``.json`` suffix on ``path`` is dropped. Returns the two paths written.
    A model that is not a Sequential is saved as a one-layer Sequential.
    """
    if not isinstance(model, Module):
        raise ModelFileError(_("save: expected a whynet Module, got {type}")
                               .format(type=type(model).__name__))
    if not isinstance(model, Sequential):
        model = Sequential(model)
    npz_path, json_path = _paths(path)
    spec = {"format": FORMAT, "format_version": FORMAT_VERSION, "whynet_version": __version__,
            "dtype": str(np.dtype(model.dtype)), **_describe(model, "")}
    arrays = model.state_dict()
    try:
        text = json.dumps(spec, indent=1, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ModelFileError(_("save: the architecture of {json_path} is not JSON-serialisable "
                               "({reason}); every get_config() must return plain values")
                               .format(json_path=json_path, reason=e)) from e
    # Both files are written beside their targets, then renamed: a failure leaves no half-saved
    # model (and an earlier save at the same path intact).
    try:
        npz_path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(npz_path, "wb") as npz, replacing(json_path) as js:
            np.savez(npz, **arrays)  # a file object, so np.savez does not append a suffix
            js.write(text + "\n")
    except OSError as e:
        raise ModelFileError(_("save: cannot write {npz_path} and {json_path} ({reason})")
                               .format(npz_path=npz_path, json_path=json_path,
                                       reason=e.strerror or e)) from e
    return npz_path, json_path


def _check_entry(entry, where: str, json_path: Path, arrays: dict) -> None:
    """Validate a JSON layer entry, recursively, before anything is built: a known class, a
    config object, and (for layers with weights) at least the weights it declares in ``arrays``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class"), str):
        raise ModelFileError(_("{json_path}: layer {where} must be an object with a \"class\", "
                               "got {entry!r:.80}")
                               .format(json_path=json_path, where=where, entry=entry))
    name = entry["class"]
    cls = LAYERS.get(name)
    if cls is None:
        raise ModelFileError(_("{json_path}: layer {where} has unknown class {name!r}; known: "
                               "{layers}")
                               .format(json_path=json_path, where=where, name=name,
                                       layers=', '.join(sorted(LAYERS))))
    if cls is Sequential:
        children = entry.get("layers")
        if not isinstance(children, list):
            raise ModelFileError(_("{json_path}: Sequential {where} needs a \"layers\" list")
                                   .format(json_path=json_path, where=where))
        prefix = "" if where == "(model)" else f"{where}."
        for i, c in enumerate(children):
            _check_entry(c, f"{prefix}{i}", json_path, arrays)
        return
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(_("{json_path}: layer {where} ({name}) config must be an object, "
                               "got {config!r:.80}")
                               .format(json_path=json_path, where=where, name=name,
                                       config=config))
    if name in MIN_ELEMENTS:
        needed = MIN_ELEMENTS[name](config)
        held = sum(a.size for k, a in arrays.items() if k.startswith(f"{where}."))
        if needed > held:
            raise ModelFileError(_("{json_path}: layer {where} ({name}) declares {needed:,} "
                                   "weights (config {dumps}) but the .npz holds {held:,} values "
                                   "for it; the two files do not belong together")
                                   .format(json_path=json_path, where=where, name=name,
                                           needed=needed, dumps=json.dumps(config)[:120],
                                           held=held))


def _build(entry, where: str, json_path: Path, dtype: np.dtype) -> Module:
    """A module from its JSON entry (already checked by :func:`_check_entry`)."""
    cls = LAYERS[entry["class"]]
    if cls is Sequential:
        prefix = "" if where == "(model)" else f"{where}."
        return Sequential(*[_build(c, f"{prefix}{i}", json_path, dtype)
                            for i, c in enumerate(entry["layers"])])
    config = entry.get("config", {})
    kwargs = dict(config)
    if entry["class"] == "RNN" and "biases" not in kwargs:
        kwargs["biases"] = 1  # saved before the RNN had PyTorch's two biases: one ``b``
    if "dtype" in inspect.signature(cls).parameters:
        kwargs["dtype"] = dtype
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, OverflowError, WhynetError) as e:
        raise ModelFileError(_("{json_path}: cannot build layer {where} ({value}) from config "
                               "{config}: {reason}")
                               .format(json_path=json_path, where=where,
                                       value=entry['class'], config=config, reason=e)) from e


def _layer_of(model: Sequential, key: str) -> str:
    """``"layer 2 (Dense)"`` for state key ``"2.b"``."""
    module, parts = model, key.split(".")[:-1]
    for part in parts:
        module = module.layers[int(part)]
    return f"layer {'.'.join(parts) or '(model)'} ({type(module).__name__})"


def _fill(model: Sequential, arrays: dict, npz_path: Path) -> None:
    """Check the arrays against the freshly built model's state, then load them into it."""
    expected = model.state_dict()
    for key, current in expected.items():
        layer = _layer_of(model, key)
        if key not in arrays:
            if key.rsplit(".", 1)[-1] in OPTIONAL_BUFFERS:
                continue
            raise ModelFileError(_("{npz_path}: {layer} needs array {key!r} of shape {shape}, "
                                   "which is missing")
                                   .format(npz_path=npz_path, layer=layer, key=key,
                                           shape=np.shape(current)))
        value = arrays[key]
        if value.shape != np.shape(current):
            raise ModelFileError(_("{npz_path}: {layer} array {key!r} has shape {shape}, "
                                   "expected {shape2}")
                                   .format(npz_path=npz_path, layer=layer, key=key,
                                           shape=value.shape, shape2=np.shape(current)))
        if value.dtype.kind not in "fiub":
            raise ModelFileError(_("{npz_path}: {layer} array {key!r} has dtype {dtype}, "
                                   "expected a number type")
                                   .format(npz_path=npz_path, layer=layer, key=key,
                                           dtype=value.dtype))
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise ModelFileError(_("{npz_path}: arrays {extra} belong to no parameter of the "
                               "architecture in the .json file")
                               .format(npz_path=npz_path, extra=', '.join(extra)))
    try:
        model.load_state_dict(arrays, strict=False)
    except ModelFileError as e:  # values the model's dtype cannot hold
        raise ModelFileError(f"{npz_path}: {e}") from None


# What a damaged zip or .npy member can raise while it is read.
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
                OverflowError, UnicodeDecodeError, NotImplementedError)


def read_npz(npz_path: Path) -> dict[str, np.ndarray]:
    """Every array of a .npz, read now (not lazily), without pickle and within :data:`MAX_BYTES`.

    Each member's header is read first: an object dtype (which needs pickle) or a declared shape
    larger than the member's own size is refused before any array is allocated. Any damage to
    the file (a flipped byte, a truncated member, a bad checksum) is a ModelFileError.
    """
    arrays, total = {}, 0
    try:
        with zipfile.ZipFile(npz_path) as zf:
            for info in zf.infolist():
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _order, dtype = read_header(f)
                if dtype.hasobject:
                    raise ModelFileError(_("{npz_path}: array {key!r} cannot be read without "
                                           "pickle (dtype {dtype}), which whynet refuses")
                                           .format(npz_path=npz_path, key=key, dtype=dtype))
                nbytes = math.prod(shape) * dtype.itemsize
                total += nbytes
                if nbytes > info.file_size or total > MAX_BYTES:
                    raise ModelFileError(_("{npz_path}: array {key!r} declares shape {shape} "
                                           "({nbytes:,} bytes), more than the file holds")
                                           .format(npz_path=npz_path, key=key,
                                                   shape=shape, nbytes=nbytes))
                with zf.open(info) as f:
                    arrays[key] = np.lib.format.read_array(f, allow_pickle=False)
    except ModelFileError:
        raise
    except _READ_ERRORS as e:
        raise ModelFileError(_("{npz_path}: not a readable .npz file ({type}: {reason})")
                               .format(npz_path=npz_path, type=type(e).__name__, reason=e)) from e
    return arrays


def load(path) -> Sequential:
    """The model saved at ``path`` (``path.npz`` + ``path.json``), in training mode as a freshly
    built model is; call ``.eval()`` or ``predict`` for inference.

    Everything is checked before the model is built: the JSON's structure, every array of the
    .npz (read in full), and that each layer's declared weights are in the .npz.
    """
    npz_path, json_path = _paths(path)
    for p in (json_path, npz_path):
        if not p.is_file():
            raise ModelFileError(_("load: file {path} does not exist (a model is saved as {name} + "
                                   "{name2})")
                                   .format(path=p, name=npz_path.name, name2=json_path.name))
    try:
        spec = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ModelFileError(_("{json_path}: not valid JSON ({reason})")
                               .format(json_path=json_path, reason=e)) from e
    except OSError as e:
        raise ModelFileError(_("{json_path}: cannot read it ({reason})")
                               .format(json_path=json_path, reason=e.strerror)) from e
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelFileError(_("{json_path}: not a whynet model file (expected \"format\": "
                               "\"{format}\")").format(json_path=json_path, format=FORMAT))
    version = spec.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise ModelFileError(_("{json_path}: format_version {version!r} is not supported by this "
                               "whynet {whynet_version} (supports ≤ {format_version})")
                               .format(json_path=json_path, version=version,
                                       whynet_version=__version__,
                                       format_version=FORMAT_VERSION))
    try:
        dtype = dtypes.resolve(spec.get("dtype"))
    except WhynetError as e:
        raise ModelFileError(_("{json_path}: {reason}")
                               .format(json_path=json_path, reason=e)) from e
    if spec.get("class") != "Sequential":
        raise ModelFileError(_("{json_path}: the top level must be a Sequential, got {top!r}")
                               .format(json_path=json_path, top=spec.get('class')))
    arrays = read_npz(npz_path)
    _check_entry(spec, "(model)", json_path, arrays)
    model = _build(spec, "(model)", json_path, dtype)
    _fill(model, arrays, npz_path)
    return model
