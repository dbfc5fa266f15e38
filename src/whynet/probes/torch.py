"""The probes on a PyTorch model: the records, histograms and findings of ``whynet.probes.Probe``.

``TorchProbe(model, X, y, loss_fn)`` attaches ``register_forward_hook`` and
``register_full_backward_hook`` to every leaf submodule (``Linear``, activations, ``Conv2d``,
``BatchNorm``…) only while it measures, runs one forward and backward pass on the fixed probe
batch, and hands the captured arrays (as NumPy) to the same measurement code as the whynet probe.
A ``torch.nn.Sequential`` gets the layer labels a whynet ``Sequential`` gets (``"0:dense"``,
``"1:relu"``…); nested modules are labelled by their qualified name (``"features.0:conv2d"``).

Training is unaffected: parameter ``.grad`` tensors are set aside and put back, the model runs in
eval mode (``mode="train"`` saves and restores BatchNorm buffers and the torch RNG), and modules
with ``inplace=True`` are switched to out-of-place for the pass (full backward hooks refuse
in-place outputs). Activations applied as functions (``F.relu``) have no module, so no hook
sees them; use the module form to have them probed. A module called several times in one forward
(one ``nn.ReLU`` reused after every layer) gets one label per call: ``"act:relu"``,
``"act@2:relu"``, …

PyTorch is an optional dependency: this module imports it only when a TorchProbe is built.

Use it in a PyTorch loop, in one line — the probe hooks the optimiser's ``step`` (PyTorch ≥ 2.0's
step pre- and post-hooks), measuring before due updates and recording ‖ΔW‖/‖W‖ after them::

    probe = TorchProbe(model, X_probe, y_probe, torch.nn.CrossEntropyLoss(), every=10)
    probe.attach(optimizer)                  # returns a handle; handle.remove() detaches
    for xb, yb in loader:
        optimizer.zero_grad(); loss_fn(model(xb), yb).backward(); optimizer.step()
    print(probe.report())

or by hand, with the two callback calls around ``optimizer.step()``::

    probe.on_before_update(step); optimizer.step(); probe.on_step_end(step, loss.item())

With PyTorch Lightning, use :class:`whynet.probes.lightning.ProbeCallback`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, WhynetError
from ..i18n import _
from ..nn.activations import get_activation
from .recorder import DEFAULT_EVERY, ActivationInfo, BaseProbe, LayerCapture

#: torch activation class → whynet activation name (whose class attributes describe it).
TORCH_ACTIVATIONS = {
    "Identity": "identity", "Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu",
    "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "SELU": "selu", "CELU": "celu",
    "GELU": "gelu", "SiLU": "silu", "Mish": "mish", "Softplus": "softplus",
    "Softsign": "softsign", "Hardtanh": "hardtanh", "ReLU6": "relu6",
}


class _Attachment:
    """The handle :meth:`TorchProbe.attach` returns: ``remove()`` takes the hooks off."""

    def __init__(self, handles):
        self._handles = handles

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _import_torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is installed wherever the tests run
        raise ConfigError(_("whynet.probes.torch needs PyTorch: pip install 'whynet[torch]'")
                          ) from e
    return torch


def _activation_info(module) -> ActivationInfo | None:
    """Activation metadata for a torch activation module, read from whynet's class of that name
    (instantiated with the module's own bound, for Hardtanh/ELU/CELU)."""
    name = TORCH_ACTIVATIONS.get(type(module).__name__)
    if name is None:
        return None
    kwargs = {}
    if name == "hardtanh":
        kwargs = {"min_val": float(module.min_val), "max_val": float(module.max_val)}
    elif name in ("elu", "celu"):
        kwargs = {"alpha": float(module.alpha)}
    elif name == "leaky_relu":
        kwargs = {"negative_slope": float(module.negative_slope)}
    try:
        act = get_activation(name, **kwargs)
    except WhynetError:  # a setting whynet does not accept: fall back to the class defaults
        act = get_activation(name)
    return ActivationInfo(name=name, output_range=tuple(act.output_range),
                          saturating=bool(act.saturating), max_derivative=float(act.max_derivative))


class _CallLog:
    """What the forward and backward hooks of one probe pass saw: one entry per forward call, in
    execution order (a module called twice has two), with x, out, f′(z), and later dx, dout."""

    def __init__(self, torch):
        self._torch = torch
        self.calls: list[dict] = []
        self._by_module: dict[int, list[dict]] = {}
        self._backward_seen: dict[int, int] = {}

    def on_forward(self, module, inputs, output) -> None:
        torch = self._torch
        x = inputs[0] if inputs else None
        entry = {"module": module, "x": x, "out": output, "fprime": None}
        if _activation_info(module) is not None and torch.is_tensor(x):
            # f′(z) by autograd on a detached copy; .forward skips the hooks (no recursion).
            with torch.enable_grad():
                z = x.detach().requires_grad_(True)
                (g,) = torch.autograd.grad(module.forward(z).sum(), z)
            entry["fprime"] = g
        self.calls.append(entry)
        self._by_module.setdefault(id(module), []).append(entry)

    def on_backward(self, module, grad_input, grad_output) -> None:
        # Backward visits a module's calls in reverse order of the forward pass.
        entries = self._by_module.get(id(module), [])
        k = self._backward_seen.get(id(module), 0)
        self._backward_seen[id(module)] = k + 1
        if k < len(entries):
            entry = entries[len(entries) - 1 - k]
            entry["dx"] = grad_input[0] if grad_input else None
            entry["dout"] = grad_output[0] if grad_output else None


def _kind(module) -> str:
    cls = type(module).__name__
    if cls == "Linear":
        return "dense"
    return TORCH_ACTIVATIONS.get(cls, cls.lower())


def _numpy(t):
    return None if t is None else t.detach().cpu().numpy()


class TorchProbe(BaseProbe):
    """Probes for a ``torch.nn.Module``, with the records of :class:`~whynet.probes.Probe`.

    Args:
        model: any ``torch.nn.Module``; its leaf submodules are probed in the order they run.
        X, y: the fixed probe batch (NumPy arrays or tensors); X is cast to the model's dtype and
            device.
        loss_fn: ``loss_fn(logits, y) -> scalar tensor``, e.g. ``torch.nn.CrossEntropyLoss()``
            (mean reduction, like whynet's losses).
        every, and the keyword options: as :class:`~whynet.probes.Probe`.

    Accuracy (layer ``"model"``) is argmax for integer class targets and ``logit > 0`` for 0/1
    targets with one output column; None (not recorded) otherwise.
    """

    def __init__(self, model, X, y, loss_fn, every=DEFAULT_EVERY, **options):
        torch = _import_torch()
        if not isinstance(model, torch.nn.Module):
            raise ConfigError(_("TorchProbe: model must be a torch.nn.Module, got {type} (for a "
                                "whynet model use whynet.probes.Probe)")
                                .format(type=type(model).__name__))
        if not callable(loss_fn):
            raise ConfigError(_("TorchProbe: loss_fn must be callable (logits, y) -> tensor, got "
                                "{type}").format(type=type(loss_fn).__name__))
        super().__init__(X, y, every, **options)
        self._torch = torch
        self.model = model
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else torch.get_default_dtype()
        device = first.device if first is not None else torch.device("cpu")
        self.X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X,
                                 dtype=dtype, device=device)
        self.y = torch.as_tensor(y, device=device)
        if torch.is_floating_point(self.y):
            self.y = self.y.to(dtype)
        self.loss_fn = loss_fn
        self._leaves = [(name, m) for name, m in model.named_modules()
                        if next(m.children(), None) is None]

    def attach(self, optimizer) -> "_Attachment":
        """Measure through ``optimizer``'s step hooks: before each due ``optimizer.step()`` the
        probe measures and snapshots the weights, after it records ‖ΔW‖/‖W‖. Steps are counted
        from 1 at the first ``step()`` after attaching. Returns a handle whose ``remove()``
        detaches the probe (also usable as a context manager)."""
        if not (hasattr(optimizer, "register_step_pre_hook")
                and hasattr(optimizer, "register_step_post_hook")):
            raise ConfigError(_("TorchProbe.attach: expected a torch.optim.Optimizer (PyTorch ≥ "
                                "2.0 has step hooks), got {type}")
                                .format(type=type(optimizer).__name__))
        counter = {"step": 0}

        def before(opt, args, kwargs):
            counter["step"] += 1
            self.on_before_update(counter["step"])

        def after(opt, args, kwargs):
            self.on_step_end(counter["step"])

        return _Attachment([optimizer.register_step_pre_hook(before),
                            optimizer.register_step_post_hook(after)])

    def __repr__(self) -> str:
        return (f"TorchProbe({len(self._leaves)} leaf modules, probe batch {len(self.X)}, "
                f"every={self.cadence.every!r}, {len(self.records)} records, "
                f"{len(self.findings)} findings)")

    def _weight_arrays(self):
        out = []
        for name, m in self._leaves:
            weights = [(pn, p) for pn, p in m.named_parameters(recurse=False) if p.ndim >= 2]
            for pn, p in weights:
                sfx = f"[{pn}]" if len(weights) > 1 else ""
                out.append((f"{name}:{_kind(m)}", sfx, _numpy(p)))
        return out

    def _accuracy(self, logits, y) -> float | None:
        torch = self._torch
        if not torch.is_floating_point(y) and logits.ndim == 2 and logits.shape[1] > 1 \
                and y.ndim == 1:
            return float((logits.argmax(dim=1) == y).double().mean())
        if logits.ndim == 1 or (logits.ndim == 2 and logits.shape[1] == 1):
            target = y.reshape(-1)
            if torch.all((target == 0) | (target == 1)):
                pred = (logits.reshape(-1) > 0).to(target.dtype)
                return float((pred == target).double().mean())
        return None

    def _capture(self):
        model = self.model
        log = _CallLog(self._torch)
        params = list(model.parameters())
        inplace = [m for _, m in self._leaves if getattr(m, "inplace", False) is True]
        running = {id(m): (_numpy(m.running_mean).copy(), _numpy(m.running_var).copy(), m.eps)
                   for _, m in self._leaves
                   if getattr(m, "running_mean", None) is not None
                   and getattr(m, "running_var", None) is not None}
        handles = []
        try:
            for _name, m in self._leaves:
                handles.append(m.register_forward_hook(log.on_forward))
                handles.append(m.register_full_backward_hook(log.on_backward))
            for m in inplace:
                m.inplace = False
            with self._untouched(params, model.modules()):
                for p in params:
                    p.grad = None
                model.train(self.mode == "train")
                loss, accuracy = self._probe_pass()
                grads = {id(p): _numpy(p.grad) if p.grad is not None
                         else np.zeros(tuple(p.shape), dtype=_numpy(p).dtype) for p in params}
        finally:
            for h in handles:
                h.remove()
            for m in inplace:
                m.inplace = True
        return loss, accuracy, self._to_captures(log.calls, grads, running)

    def _probe_pass(self) -> tuple[float, float | None]:
        """Forward and backward on the probe batch: ``(loss, accuracy)``, NaN and None when the
        logits are not finite (then no backward)."""
        torch = self._torch
        X = self.X.detach().clone().requires_grad_(True)  # so the first layer gets ∂L/∂X
        loss, accuracy = math.nan, None
        with torch.enable_grad():
            logits = self.model(X)
            if bool(torch.isfinite(logits).all()):
                loss_t = self.loss_fn(logits, self.y)
                loss = float(loss_t.detach())
                accuracy = self._accuracy(logits.detach(), self.y)
                loss_t.backward()
        return loss, accuracy

    def _to_captures(self, calls, grads, running) -> list[LayerCapture]:
        names = {id(m): name for name, m in self._leaves}
        count: dict[int, int] = {}
        captures = []
        for entry in calls:
            m = entry["module"]
            k = count.get(id(m), 0) + 1
            count[id(m)] = k
            name = names.get(id(m), type(m).__name__)
            label = f"{name}:{_kind(m)}" if k == 1 else f"{name}@{k}:{_kind(m)}"
            out = entry["out"]
            cap = LayerCapture(label=label, kind=_kind(m),
                               x=_numpy(entry["x"]) if self._torch.is_tensor(entry["x"]) else None,
                               out=_numpy(out) if self._torch.is_tensor(out) else None,
                               fprime=_numpy(entry["fprime"]), dout=_numpy(entry.get("dout")),
                               dx=_numpy(entry.get("dx")))
            cap.activation = _activation_info(m)
            if cap.activation is not None and cap.activation.name == "prelu":
                cap.slopes = _numpy(m.weight)
            own = dict(m.named_parameters(recurse=False))
            weight_like = [(pn, p) for pn, p in own.items() if p.ndim >= 2]
            bias = own.get("bias")
            for pn, p in weight_like:
                b = _numpy(bias) if bias is not None and tuple(bias.shape) == tuple(p.shape[:1]) \
                    else None
                cap.weights[pn] = (_numpy(p), grads[id(p)], b)
            cap.batchnorm = running.get(id(m))
            captures.append(cap)
        return captures

    def _save_state(self):
        torch = self._torch
        buffers = [(m, name, buf.detach().clone()) for m in self.model.modules()
                   for name, buf in m.named_buffers(recurse=False)]
        rng = torch.get_rng_state()
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        return buffers, rng, cuda

    def _restore_state(self, state) -> None:
        torch = self._torch
        buffers, rng, cuda = state
        with torch.no_grad():
            for m, name, value in buffers:
                getattr(m, name).copy_(value)
        torch.set_rng_state(rng)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
