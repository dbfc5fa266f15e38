"""The module contract: ``Parameter``, ``Module`` and ``Sequential``.

Every layer and activation is a :class:`Module`:

* ``forward(x)`` returns the output and keeps in ``self`` exactly what ``backward`` needs;
* ``backward(dout)`` returns ``dx`` (same shape as the last ``x``) and *accumulates* into each
  ``Parameter.grad`` (always the same shape and dtype as ``Parameter.value``);
* ``train()`` / ``eval()`` switch the behaviour of Dropout and BatchNorm.

State, as PyTorch names it: ``named_parameters()`` and ``named_buffers()`` (arrays a layer keeps
beyond its parameters, such as BatchNorm's running statistics) walk the module tree in a fixed
order with dotted names (``"0.W"``, ``"3.running_mean"``); ``state_dict()`` is both in one
ordered dict and ``load_state_dict()`` puts one back, checking every key and shape first. Saving
(:mod:`whynet.nn.io`), early stopping and the probes all go through these.

A :class:`Sequential` chains modules and calls registered hooks after each module's forward and
backward. Hooks are how the probes look inside a network without changing layer code.
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping, NamedTuple

import numpy as np

from .. import dtypes
from ..errors import ShapeError, StateDictError, WhynetError, key_problems
from ..i18n import _
from ._threads import Workers


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` left out, as PyTorch returns it."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Parameter:
    """A learnable array and its gradient.

    Attributes:
        value: the array, shape ``S``.
        grad: ∂L/∂value, shape ``S`` (same dtype); zeroed by ``zero_grad``, accumulated by backward.
        name: the name inside its module (``"W"``, ``"b"``, ``"alpha"``, ``"gamma"``…).
        regularize: whether weight penalties (L1/L2) apply; True for weights, False for biases
            and normalisation parameters, as is conventional.

    ``zero_grad`` only marks the gradient as zero; the array is filled with zeros when ``grad``
    is next read, unless :meth:`add_matmul` writes a product straight into it first (``grad =
    A @ B`` instead of zeros, a temporary, and ``grad += temporary``: three passes over the
    array saved per step). Either way ``grad`` reads as zero plus whatever was accumulated.
    """

    __slots__ = ("value", "_grad", "_zero_pending", "name", "regularize")

    def __init__(self, value: np.ndarray, name: str = "", regularize: bool = True):
        self.value = value
        self._grad = np.zeros_like(value)
        self._zero_pending = False
        self.name = name
        self.regularize = regularize

    @property
    def grad(self) -> np.ndarray:
        if self._zero_pending:
            self._grad.fill(0)
            self._zero_pending = False
        return self._grad

    @grad.setter
    def grad(self, array: np.ndarray) -> None:
        self._grad = array
        self._zero_pending = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def size(self) -> int:
        return self.value.size

    def zero_grad(self) -> None:
        self._zero_pending = True

    def add_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``; written straight into ``grad`` when it was just zeroed (the
        product must have the gradient's shape either way)."""
        if self._zero_pending:
            np.matmul(a, b, out=self._grad)
            self._zero_pending = False
        else:
            self._grad += a @ b

    def __repr__(self) -> str:
        return f"Parameter({self.name}, shape={self.value.shape}, dtype={self.value.dtype})"


class Module:
    """Base class of layers, activations and containers.

    Subclasses set ``self._params`` (a dict name → Parameter) and, for containers,
    ``self._children`` (a list of Modules). A layer that keeps arrays beyond its parameters
    names the attributes in the class attribute ``_buffers`` (e.g. ``("running_mean",
    "running_var", "num_batches_tracked")``); each must hold a NumPy array. ``training`` is True
    after construction.
    """

    _buffers: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._params: dict[str, Parameter] = {}
        self._children: list[Module] = []
        self.training = True

    # -- the contract -------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward_params(self, dout: np.ndarray) -> None:
        """As :meth:`backward` when nobody needs ∂L/∂x (PyTorch: an input without
        ``requires_grad``): parameter gradients are accumulated, the input gradient may be
        skipped, and None is returned. Layers whose input gradient costs a matrix product
        (Dense, convolutions) override it; the default runs ``backward`` and drops dx."""
        self.backward(dout)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- parameters -----------------------------------------------------------------------------
    def add_parameter(self, name: str, value: np.ndarray, regularize: bool = True) -> Parameter:
        p = Parameter(value, name=name, regularize=regularize)
        self._params[name] = p
        return p

    def parameters(self) -> list[Parameter]:
        """All parameters of this module and its children, in a fixed order."""
        return [p for _, p in self.named_parameters()]

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(qualified_name, Parameter)`` pairs, e.g. ``("0.W", …)`` inside a Sequential;
        ``recurse=False``: this module's own only."""
        for name, p in self._params.items():
            yield prefix + name, p
        if recurse:
            for i, child in enumerate(self._children):
                yield from child.named_parameters(f"{prefix}{i}.")

    # -- buffers and state (PyTorch's names and semantics) ---------------------------------------
    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, np.ndarray]]:
        """``(qualified_name, array)`` for every buffer (``"1.running_mean"``…), in the same
        module order as :meth:`named_parameters`; ``recurse=False``: this module's own only."""
        for name in self._buffers:
            yield prefix + name, getattr(self, name)
        if recurse:
            for i, child in enumerate(self._children):
                yield from child.named_buffers(f"{prefix}{i}.")

    def buffers(self) -> list[np.ndarray]:
        """Every buffer array of this module and its children, in :meth:`named_buffers` order."""
        return [b for _, b in self.named_buffers()]

    def _state_slots(self, prefix: str = "") -> Iterator[tuple[str, "Module", str, bool]]:
        """``(key, owner, attribute name, is_parameter)``: per module its parameters, then its
        buffers, then its children — PyTorch's ``state_dict`` order."""
        for name in self._params:
            yield prefix + name, self, name, True
        for name in self._buffers:
            yield prefix + name, self, name, False
        for i, child in enumerate(self._children):
            yield from child._state_slots(f"{prefix}{i}.")

    def state_dict(self, copy: bool = False) -> dict[str, np.ndarray]:
        """Every parameter value and buffer by dotted name, in a fixed order.

        As in PyTorch the arrays are the live ones (``copy=False``): an optimiser step changes
        the parameters seen through an earlier state dict. ``copy=True`` returns copies, a
        snapshot to restore later (early stopping, the probes).
        """
        state = {}
        for key, owner, name, is_param in self._state_slots():
            value = owner._params[name].value if is_param else getattr(owner, name)
            state[key] = np.array(value, copy=True) if copy else value
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy ``state`` (from :meth:`state_dict`) into this module; nothing changes on error.

        Every key and shape is checked before anything is copied. A shape mismatch, or (with
        ``strict``, the default) a missing or unexpected key, raises
        :class:`~whynet.errors.StateDictError` naming them all. Values are cast to the module's
        dtypes; parameters are overwritten in place, so an optimiser keeps tracking them.
        Returns the missing and unexpected keys (both empty under ``strict``).
        """
        if not isinstance(state, Mapping):
            raise StateDictError(_("load_state_dict: expected a mapping of name → array, got "
                                   "{type}").format(type=type(state).__name__))
        slots = {key: (owner, name, is_param)
                 for key, owner, name, is_param in self._state_slots()}
        missing = [k for k in slots if k not in state]
        unexpected = [k for k in state if k not in slots]
        mismatched, values = {}, {}
        for key, (owner, name, is_param) in slots.items():
            if key not in state:
                continue
            current = owner._params[name].value if is_param else getattr(owner, name)
            value = state[key]
            if not isinstance(value, (np.ndarray, np.number, int, float)) \
                    or np.asarray(value).dtype.kind not in "fiub":
                raise StateDictError(_("load_state_dict: {key!r} must be an array of numbers, "
                                       "got {type}")
                                       .format(key=key, type=type(value).__name__),
                                     missing, unexpected)
            value = np.asarray(value)
            if value.shape != np.shape(current):
                mismatched[key] = (value.shape, np.shape(current))
            values[key] = value
        problems = [_("size mismatch for {key!r}: got shape {got}, the model has {want}").format(
            key=k, got=got, want=want) for k, (got, want) in mismatched.items()]
        problems += [_("{key!r} holds finite values beyond {dtype}'s range (they would become "
                       "inf)").format(key=k, dtype=_target_dtype(slots[k])) for k, v in values.items()
                     if k not in mismatched and _overflows(v, _target_dtype(slots[k]))]
        problems += key_problems(missing if strict else (), unexpected if strict else ())
        if problems:
            raise StateDictError(_("load_state_dict for {type}: {problems}").format(
                type=type(self).__name__, problems="; ".join(problems)),
                missing, unexpected, mismatched)
        for key, value in values.items():
            owner, name, is_param = slots[key]
            if is_param:
                p = owner._params[name]
                np.copyto(p.value, value, casting="unsafe")
            else:
                current = getattr(owner, name)
                setattr(owner, name, np.array(value, dtype=np.asarray(current).dtype))
        return IncompatibleKeys(missing, unexpected)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def modules(self) -> Iterator["Module"]:
        """This module and all its descendants, depth first."""
        yield self
        for child in self._children:
            yield from child.modules()

    # -- modes and dtype ------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    @property
    def dtype(self) -> np.dtype:
        params = self.parameters()
        if params:
            return params[0].value.dtype
        return getattr(self, "_dtype", dtypes.DEFAULT)

    def astype(self, dtype) -> "Module":
        """Convert every parameter and floating-point buffer to ``dtype``, in place (integer
        buffers such as a batch counter stay integers)."""
        dt = dtypes.resolve(dtype)
        for m in self.modules():
            m._dtype = dt
            for p in m._params.values():
                p.value = p.value.astype(dt)
                p.grad = np.zeros_like(p.value)
            for name, buf in m.named_buffers(recurse=False):
                if buf.dtype.kind == "f":
                    setattr(m, name, buf.astype(dt))
        return self

    def predict(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Forward in evaluation mode (restoring the previous mode), in chunks of ``batch_size``."""
        was_training = self.training
        self.eval()
        try:
            outs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        finally:
            self.train(was_training)
        return np.concatenate(outs) if outs else self.forward(x)

    # -- description ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    # -- helpers for subclasses -----------------------------------------------------------------
    @property
    def workers(self) -> Workers:
        """This module's threads for element-wise work over slices of the batch (see
        :mod:`whynet.nn._threads`), created on first use."""
        w = self.__dict__.get("_workers")
        if w is None:
            w = self._workers = Workers(f"whynet-{type(self).__name__.lower()}")
        return w

    def _check_input(self, x, ndim: int | tuple[int, ...], features: int | None = None,
                     axis: int = -1) -> np.ndarray:
        """Validate rank (and size along ``axis``) of an input; raise ShapeError naming ``self``."""
        if not isinstance(x, np.ndarray):
            raise ShapeError(_("{self!r}: expected a NumPy array, got {type}")
                               .format(self=self, type=type(x).__name__))
        ndims = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in ndims:
            raise ShapeError(
                _("{self!r}: expected input of rank {ranks}, got shape {shape}")
                  .format(self=self, ranks=' or '.join(map(str, ndims)), shape=x.shape)
            )
        if features is not None and x.shape[axis] != features:
            want = list(x.shape)
            want[axis] = features
            want[0] = "m"
            raise ShapeError(
                _("{self!r}: expected input of shape ({dims}), got {shape}")
                  .format(self=self, dims=', '.join(map(str, want)), shape=x.shape)
            )
        return x


ForwardHook = Callable[[Module, int, np.ndarray, np.ndarray], None]
BackwardHook = Callable[[Module, int, np.ndarray, np.ndarray], None]


class HookHandle:
    """Returned by ``register_*_hook``; call ``remove()`` to detach the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Sequential(Module):
    """A chain of modules: ``y = f_L(… f_2(f_1(x)))``, back-propagated in reverse.

    Hooks:
        ``register_forward_hook(fn)``: ``fn(module, index, x, out)`` after each module's forward.
        ``register_backward_hook(fn)``: ``fn(module, index, dout, dx)`` after each backward, where
        ``dout`` = ∂L/∂out and ``dx`` = ∂L/∂x of that module; parameter grads are already
        accumulated when it is called.

    Example::

        model = Sequential(Dense(2, 16), Tanh(), Dense(16, 1))
        logits = model.forward(X)          # (m, 1)
        dX = model.backward(dlogits)       # (m, 2); fills every Parameter.grad
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise WhynetError(_("Sequential: item {i} is {type}, not a Module").format(
                    i=i, type=type(m).__name__))
        self._children = list(modules)
        self._forward_hooks: list[ForwardHook] = []
        self._backward_hooks: list[BackwardHook] = []

    @property
    def layers(self) -> list[Module]:
        return self._children

    def __len__(self) -> int:
        return len(self._children)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self._children[i])
        return self._children[i]

    def __iter__(self):
        return iter(self._children)

    def append(self, module: Module) -> "Sequential":
        self._children.append(module)
        return self

    def register_forward_hook(self, fn: ForwardHook) -> HookHandle:
        self._forward_hooks.append(fn)
        return HookHandle(self._forward_hooks, fn)

    def register_backward_hook(self, fn: BackwardHook) -> HookHandle:
        self._backward_hooks.append(fn)
        return HookHandle(self._backward_hooks, fn)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for i, m in enumerate(self._children):
            out = m.forward(x)
            for hook in self._forward_hooks:
                hook(m, i, x, out)
            x = out
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for i in range(len(self._children) - 1, -1, -1):
            m = self._children[i]
            dx = m.backward(dout)
            for hook in self._backward_hooks:
                hook(m, i, dout, dx)
            dout = dx
        return dout

    def backward_params(self, dout: np.ndarray) -> None:
        """:meth:`backward` without the input gradient of the first module (what a training step
        needs: the data takes no gradient). Its backward hooks get ``dx=None``."""
        for i in range(len(self._children) - 1, -1, -1):
            m = self._children[i]
            dx = m.backward(dout) if i else m.backward_params(dout)
            for hook in self._backward_hooks:
                hook(m, i, dout, dx)
            dout = dx

    def __repr__(self) -> str:
        lines = [f"Sequential({len(self)} modules, {self.num_parameters():,} parameters)"]
        for i, m in enumerate(self._children):
            n = m.num_parameters()
            suffix = f"  # {n:,} params" if n else ""
            lines.append(f"  ({i}) {m!r}{suffix}")
        return "\n".join(lines)


def _target_dtype(slot) -> np.dtype:
    """The dtype a state-dict value is cast to when loaded into ``slot`` = (owner, name,
    is_param)."""
    owner, name, is_param = slot
    return np.asarray(owner._params[name].value if is_param else getattr(owner, name)).dtype


def _overflows(value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether casting ``value`` to the floating ``dtype`` turns a finite number into ±inf
    (float64 1e300 → float32); NaN and inf already there are the caller's business, as in
    PyTorch."""
    if np.dtype(dtype).kind != "f" or value.dtype.kind != "f" or value.size == 0:
        return False
    finite = value[np.isfinite(value)]
    return bool(finite.size) and float(np.abs(finite).max()) > float(np.finfo(dtype).max)

