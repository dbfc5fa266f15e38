"""Recipes that several experiments share: data splits, model builders, measurements.

An experiment's stored runs are keyed by a hash that includes the *fingerprint* of every recipe
the experiment's module uses (:func:`fingerprint`): the source of the recipe, of the recipes it
calls, and the value of the constants it reads. Editing a recipe therefore recomputes exactly the
runs of the experiments that use it; the others still come from the store. Only put code here
that at least two experiments use. Figures change no number, so the figures that several
experiments share live in :mod:`whynet.experiments.figures`, outside the run key.
"""

from __future__ import annotations

import hashlib
import inspect
import time
import types

import numpy as np

from .. import datasets
from ..nn import Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential, mlp
from ..nn.activations import Activation, get_activation
from ..nn.init import normal
from ..nn.losses import SoftmaxCrossEntropy
from ..probes import stats
from ..random import make_rng, spawn

# -- data -----------------------------------------------------------------------------------------

def digits_split(seed: int, n_train: int = 600, n_val: int = 500):
    """A seeded random subset of the 8×8 digits, standardised on the training part."""
    data = datasets.digits()
    order = make_rng(seed).permutation(len(data.X))
    train, val = order[:n_train], order[n_train:n_train + n_val]
    X_train, X_val, _ = datasets.standardize(data.X[train], data.X[val])
    return X_train, data.y[train], X_val, data.y[val]


def digits_sets(seed: int, images: bool):
    """Digits split 75/25 (stratified, shuffled by ``seed``), standardised with the training
    set's statistics: per pixel for the flat vectors, one mean and std for the images (so an
    image stays an image)."""
    data = datasets.digits(images=images)
    sp = datasets.split(data, val=0.0, test=0.25, seed=seed, stratify=True)
    if images:
        mean, std = sp.train.X.mean(), sp.train.X.std()
        return ((sp.train.X - mean) / std, sp.train.y, (sp.test.X - mean) / std, sp.test.y)
    Xtr, Xte, _ = datasets.standardize(sp.train.X, sp.test.X)
    return Xtr, sp.train.y, Xte, sp.test.y


def circles_split(seed: int, n_train: int = 300, n_test: int = 100):
    """The assignment's data: ``make_circles(noise=0.05)`` (factor 0.8), 300 train / 100 test."""
    data = datasets.circles(n=n_train + n_test, noise=0.05, factor=0.8, seed=seed)
    return data.X[:n_train], data.y[:n_train], data.X[n_train:], data.y[n_train:]


def digits_batch(n: int, seed: int):
    """``n`` standardised digits drawn without replacement."""
    data = datasets.digits()
    X, = datasets.standardize(data.X)[:1]
    rows = make_rng(seed).choice(len(X), n, replace=False)
    return X[rows], data.y[rows]

# -- models -----------------------------------------------------------------------------------------

INITS = {
    "×0.01": lambda fan_in: normal(std=0.01),
    "×1": lambda fan_in: normal(std=1.0),
    "Xavier": lambda fan_in: normal(std=1.0 / np.sqrt(fan_in)),  # cs231n's randn/√fan_in
    "He": lambda fan_in: normal(std=np.sqrt(2.0 / fan_in)),
}


def small_cnn(channels: int, seed, kernel: int = 3) -> Sequential:
    """``Conv2d(1→C, k×k, same padding) → ReLU → MaxPool 2 → Conv2d(C→16, 3×3) → ReLU →
    MaxPool 2 → Flatten → Dense(64 → 10)`` for 8×8 digits (He-uniform convolutions)."""
    r1, r2, r3 = spawn(make_rng(seed), 3)
    return Sequential(Conv2d(1, channels, kernel, padding=kernel // 2, rng=r1), ReLU(),
                      MaxPool2d(2), Conv2d(channels, 16, 3, padding=1, rng=r2), ReLU(),
                      MaxPool2d(2), Flatten(), Dense(16 * 2 * 2, 10, rng=r3))


def deep_net(activation: str, init: str, depth: int, width: int, seed: int) -> Sequential:
    """``depth`` Dense(width → width) layers each followed by ``activation``, biases zero."""
    rngs = spawn(make_rng(seed), depth)
    layers = []
    for rng in rngs:
        layers += [Dense(width, width, init=INITS[init](width), rng=rng), get_activation(activation)]
    return Sequential(*layers)

# -- measurements -----------------------------------------------------------------------------------

#: Weight scales of experiment A4: ``None`` is the activation's suggested initialisation, a number
#: the std of N(0, std²) weights.
SCALES = {"standard": None, "N(0,1)": 1.0}


def gradient_profile(model, X, y, loss_fn=None) -> dict:
    """One forward and backward pass of ``model`` on ``(X, y)``; per Dense layer l (input side
    first): ``delta`` = ‖∂L/∂z_l‖ (the signal that reaches the layer), ``grad_W`` = ‖∂L/∂W_l‖,
    ``spectral`` = ‖W_l‖₂; per activation: ``fprime`` = mean f′(z) and ``saturated`` (the probes'
    activation-aware fraction, None for non-saturating activations)."""
    loss_fn = SoftmaxCrossEntropy() if loss_fn is None else loss_fn
    deltas: dict[int, float] = {}
    outputs: dict[int, np.ndarray] = {}

    def keep_output(module, index, x, out):
        if isinstance(module, Activation):
            outputs[index] = out

    def keep_delta(module, index, dout, dx):
        if isinstance(module, Dense):
            deltas[index] = stats.norm(dout)

    handles = [model.register_forward_hook(keep_output), model.register_backward_hook(keep_delta)]
    try:
        model.zero_grad()
        loss = loss_fn.forward(model.forward(X), y)
        model.backward(loss_fn.backward())
    finally:
        for h in handles:
            h.remove()
    dense = [(i, m) for i, m in enumerate(model.layers) if isinstance(m, Dense)]
    acts = [(i, m) for i, m in enumerate(model.layers) if isinstance(m, Activation)]
    fprime = [stats.mean_derivative(a.derivative()) for _, a in acts]
    saturated = [stats.saturation(outputs[i], a.derivative(), a.output_range, a.saturating,
                                  a.max_derivative) for i, a in acts]
    return {"loss": float(loss),
            "delta": [deltas[i] for i, _ in dense],
            "grad_W": [stats.norm(m.W.grad) for _, m in dense],
            "spectral": [float(np.linalg.norm(m.W.value.astype(np.float64), 2)) for _, m in dense],
            "fprime": fprime, "saturated": saturated}


def gradient_ratios(spec: dict, seed: int) -> dict:
    """Experiment A4's measurement: the gradient profile of an MLP of ``spec["depth"]`` hidden
    layers of ``spec["width"]`` units on a batch of ``spec["batch"]`` standardised digits, plus the
    ratios layer 1 / last hidden layer of δ (``delta_ratio``) and of ‖∂L/∂W‖ (``grad_ratio``).
    ``spec["scale"]`` picks the initialisation from :data:`SCALES`."""
    X, y = digits_batch(spec["batch"], seed)
    width, depth = spec["width"], spec["depth"]
    model = mlp([X.shape[1]] + [width] * depth + [10], activation=spec["activation"],
                init=_scale_init(SCALES[spec["scale"]]), seed=seed)
    out = gradient_profile(model, X, y)
    d, g = out["delta"], out["grad_W"]
    out["delta_ratio"] = d[0] / d[depth - 1]
    out["grad_ratio"] = g[0] / g[depth - 1]
    return out


BINS = 30


def layer_statistics(activation: str, init: str, depth: int, width: int, batch: int,
                     seed: int, saturation: float = 0.99) -> dict:
    """One forward pass of unit Gaussian inputs; per layer: mean, std, fraction with
    ``|a| > saturation`` (tanh) and a histogram of the activations."""
    model = deep_net(activation, init, depth, width, seed)
    x = make_rng(seed + 10_000).standard_normal((batch, width)).astype(np.float32)
    means, stds, saturated, hists = [], [], [], []
    lo, hi = (-1.0, 1.0) if activation == "tanh" else (0.0, 3.0)
    for layer in model.layers:
        x = layer.forward(x)
        if isinstance(layer, Dense):
            continue
        means.append(float(x.mean()))
        stds.append(float(x.std()))
        saturated.append(float(np.mean(np.abs(x) > saturation)))
        hists.append(np.histogram(np.clip(x, lo, hi), bins=BINS, range=(lo, hi))[0].tolist())
    return {"mean": means, "std": stds, "saturated": saturated, "hist": hists, "range": [lo, hi]}


def elementwise_cost(name: str, elements: int, repeats: int, seed: int) -> dict:
    """Best-of-``repeats`` time of one forward and one backward pass of activation ``name`` on a
    float32 (256, elements/256) array of N(0, 1) values, in µs per million elements."""
    act = get_activation(name)
    z = make_rng(seed).standard_normal((256, max(1, elements // 256))).astype(np.float32)
    dout = np.ones_like(z)
    fwd, bwd = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        act.forward(z)
        t1 = time.perf_counter()
        act.backward(dout)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
    per_million = 1e6 / z.size * 1e6
    return {"forward_us_per_M": min(fwd) * per_million, "backward_us_per_M": min(bwd) * per_million,
            "us_per_M": (min(fwd) + min(bwd)) * per_million}

# -- fingerprints -----------------------------------------------------------------------------------

def _scale_init(std):
    return None if std is None else normal(std=std)


def _stable(value) -> str:
    """A text for a constant that is the same in every process (functions by their code)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_stable(v)}" for k, v in value.items()) + "}"
    if inspect.isfunction(value):
        return _code_text(value)
    return repr(value)


def _code_text(fn_or_code) -> str:
    """What a function computes, independent of where it sits: its bytecode, names, constants
    (nested code objects recursively) and default arguments — not its file, line numbers,
    comments or docstring, so moving a recipe or editing its prose recomputes nothing."""
    code = getattr(fn_or_code, "__code__", fn_or_code)
    consts = list(code.co_consts)
    doc = getattr(fn_or_code, "__doc__", None)
    if doc is not None and consts and consts[0] == doc:  # the docstring is prose, not code
        consts = consts[1:]
    consts = [_code_text(c) if isinstance(c, types.CodeType) else repr(c) for c in consts]
    defaults = (repr(getattr(fn_or_code, "__defaults__", None)),
                repr(getattr(fn_or_code, "__kwdefaults__", None)))
    return "|".join([code.co_code.hex(), ",".join(code.co_names), ";".join(consts), *defaults])


def _names_used(code: types.CodeType):
    yield from code.co_names
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _names_used(c)


def fingerprint(module: types.ModuleType) -> str:
    """sha256 (16 hex digits) over the recipes that ``module`` uses — found by name in its
    globals — each with the recipes and constants it reads in turn; ``""`` when it uses none."""
    here = globals()
    seen: dict[str, str] = {}

    def visit(name: str) -> None:
        if name in seen or name not in here or name.startswith("_") or name == "fingerprint":
            return
        obj = here[name]
        if inspect.isfunction(obj) and obj.__module__ == __name__:
            seen[name] = _code_text(obj)
            for used in _names_used(obj.__code__):
                visit(used)
        elif name.isupper():
            seen[name] = _stable(obj)

    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) == __name__ or (
                name.isupper() and here.get(name) is obj):
            visit(name)
    if not seen:
        return ""
    text = "\n".join(f"{k}\n{seen[k]}" for k in sorted(seen))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
