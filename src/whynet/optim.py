"""Optimisers, learning-rate schedules and gradient clipping, with PyTorch's equations and defaults.

Backprop gives the gradient ``g = ∂L/∂θ``; the optimiser decides the step. Every optimiser here
updates each :class:`~whynet.nn.module.Parameter` *in place* from its ``grad``, keeps its state per
parameter in ``optimizer.state[i]`` (a dict with PyTorch's names: ``momentum_buffer``,
``sum``, ``square_avg``, ``grad_avg``, ``exp_avg``, ``exp_avg_sq``, ``step``), and is checked
against ``torch.optim`` after many steps (``tests/test_optim.py``).

=========  =========================================================  ========================
name       update, with g = grad + weight_decay·θ                     defaults (as PyTorch)
=========  =========================================================  ========================
sgd        b ← μb + (1−τ)g  (b = g at the first step);                lr 0.01 (torch: 1e-3),
           θ ← θ − η·(g + μb if nesterov else b)                      μ = τ = 0
adagrad    s ← s + g²;  θ ← θ − η·g / (√s + ε)                        lr 0.01, ε 1e-10
rmsprop    v ← αv + (1−α)g²;  θ ← θ − η·g / (√v + ε)                  lr 0.01, α 0.99, ε 1e-8
adam       m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;                    lr 1e-3, β (0.9, 0.999),
           θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)                 ε 1e-8
adamw      θ ← θ(1 − ηλ), then Adam without the λθ term               weight_decay 0.01
=========  =========================================================  ========================

``weight_decay`` in SGD, AdaGrad, RMSProp and Adam adds ``λθ`` to the gradient (coupled decay),
which is the gradient of the L2 penalty ``(λ/2)·Σθ²`` of :class:`whynet.nn.regularizers.L2`;
unlike that regulariser it applies to *every* parameter, biases included, as in PyTorch. AdamW
decouples the decay from the adaptive step (Loshchilov & Hutter 2019).

Each optimiser's ``reference_update`` writes its rule as the table does, one line per equation;
``_update`` is the fused in-place form, tested against it.

Speed: updates use ``out=`` and in-place operators on per-parameter scratch buffers (kept in the
state under names starting with ``_``), so a step allocates nothing after the first one, and every
hyperparameter is cast to the parameter's dtype first (a float64 scalar would silently turn a
float32 update into float64 arithmetic).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .dtypes import scalar
from .errors import ConfigError, check_int, check_number, lookup
from .i18n import _
from .nn._threads import Workers
from .nn.module import Module, Parameter


def _as_parameters(owner: str, params) -> list[Parameter]:
    """A list of Parameters from a Module or an iterable of Parameters."""
    if isinstance(params, Module):
        params = params.parameters()
    params = list(params)
    if not params:
        raise ConfigError(_("{owner}: got an empty parameter list; pass model.parameters()")
                            .format(owner=owner))
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise ConfigError(_("{owner}: params[{i}] is a {type}, expected a Parameter")
                                .format(owner=owner, i=i, type=type(p).__name__))
    return params


class Optimizer:
    """Base class: holds the parameters, the learning rate and one state dict per parameter.

    Subclasses implement ``_update(p, state)`` for one parameter. ``lr`` can be changed between
    steps (that is what the schedules below do).
    """

    #: Below this many values in all, a step runs on the calling thread (a thread hand-off
    #: costs more than the update of a small network; see ``nn._threads.MIN_PARALLEL_SIZE``).
    PARALLEL_MIN_SIZE = 2**19

    def __init__(self, params, lr: float):
        self.params = _as_parameters(type(self).__name__, params)
        self.lr = lr
        self.state: list[dict] = [{} for _ in self.params]
        self._size = sum(p.value.size for p in self.params)  # a parameter keeps its shape
        self._all = list(range(len(self.params)))
        # Threads are not state: a copy or an unpickled optimiser gets fresh ones.
        self._workers = Workers("whynet-optim")

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_number(type(self).__name__, "lr", value, low=0.0)

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """One update of every parameter from its current ``grad``.

        Each parameter's update is independent of the others', so when NumPy's BLAS may use
        several threads (a ``threadpool_limits`` around the caller applies here too) the
        parameters are shared among as many threads, largest first to balance them (NumPy
        releases the GIL in element-wise loops): the element-wise update of a large network
        would otherwise run on one core while its matrix products use all. Results are bitwise
        those of the sequential loop."""
        groups = self._thread_groups()
        if len(groups) == 1:
            for i in groups[0]:
                self._update(self.params[i], self.state[i])
            return

        def run(group: list[int]) -> None:
            for i in group:
                self._update(self.params[i], self.state[i])
        self._workers.map(run, groups)

    def _thread_groups(self) -> list[list[int]]:
        """Parameter indices per thread: one group unless the step is large and BLAS may use
        several threads; then greedy bins (largest parameter to the lightest bin)."""
        if self._size < self.PARALLEL_MIN_SIZE or len(self.params) == 1:
            return [self._all]
        sizes = [p.value.size for p in self.params]
        threads = min(self._workers.threads(), len(sizes))
        if threads <= 1:
            return [self._all]
        bins: list[list[int]] = [[] for _ in range(threads)]
        load = [0] * threads
        for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
            k = load.index(min(load))
            bins[k].append(i)
            load[k] += sizes[i]
        return [b for b in bins if b]

    def _update(self, p: Parameter, state: dict) -> None:
        raise NotImplementedError

    def reference_update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        """The update rule as written in the class docstring, one readable line per equation:
        returns the new θ from θ and the raw gradient ``g``, updating ``state`` (fresh arrays,
        nothing in place). ``_update`` is the fused, in-place form of the same rule, tested
        against this one (``tests/test_optim.py``)."""
        raise NotImplementedError

    @staticmethod
    def _buffer(state: dict, name: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """The state array ``name``, created (filled with ``fill``) on first use."""
        buf = state.get(name)
        if buf is None:
            buf = state[name] = np.full_like(like, fill)
        return buf

    def _decayed_grad(self, p: Parameter, state: dict, weight_decay: float) -> np.ndarray:
        """``g = grad + λθ`` in a scratch buffer (``grad`` itself when λ = 0; never modified)."""
        if not weight_decay:
            return p.grad
        g = self._buffer(state, "_g", p.value)
        np.multiply(p.value, scalar(weight_decay, p.value.dtype), out=g)
        g += p.grad
        return g

    def extra_repr(self) -> str:
        return f"lr={self.lr:g}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

    PyTorch's ``torch.optim.SGD``, with ``g = grad + λθ``::

        b ← g                          at the first step (no dampening, as PyTorch)
        b ← μ·b + (1 − τ)·g            afterwards
        d = g + μ·b  if nesterov,  else  b      (d = g when μ = 0)
        θ ← θ − η·d

    This is the "PyTorch form" of momentum: the velocity accumulates raw gradients and the learning
    rate multiplies it at the step. cs231n's form ``v ← μv − ηg; θ ← θ + v`` gives the same
    trajectory at constant η. deeplearning.ai's ``v ← βv + (1−β)g`` is ``dampening = μ`` here
    (except at the first step, where PyTorch does not dampen).

    Args:
        lr (η): learning rate, ≥ 0 (default 0.01, the contract's and cs231n's; PyTorch ≥ 2.2
            defaults to 1e-3).
        momentum (μ): in [0, 1). dampening (τ): in [0, 1].
        nesterov: Nesterov momentum (Sutskever et al. 2013); needs μ > 0 and τ = 0.
        weight_decay (λ): ≥ 0.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check_number("SGD", "momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.dampening = check_number("SGD", "dampening", dampening, low=0.0, high=1.0)
        self.weight_decay = check_number("SGD", "weight_decay", weight_decay, low=0.0)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ConfigError(_("SGD: nesterov needs momentum > 0 and dampening = 0, got "
                                "momentum={momentum!r}, dampening={dampening!r}")
                                .format(momentum=momentum, dampening=dampening))
        self.nesterov = bool(nesterov)

    def _update(self, p: Parameter, state: dict) -> None:
        dt = p.value.dtype
        d = g = self._decayed_grad(p, state, self.weight_decay)
        if self.momentum:
            mu = scalar(self.momentum, dt)
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                if self.dampening:
                    scaled = self._buffer(state, "_step", p.value)
                    np.multiply(g, scalar(1 - self.dampening, dt), out=scaled)
                    buf += scaled
                else:
                    buf += g
            d = buf
            if self.nesterov:
                d = self._buffer(state, "_d", p.value)
                np.multiply(buf, mu, out=d)
                d += g
        step = self._buffer(state, "_step", p.value)
        np.multiply(d, scalar(self.lr, dt), out=step)
        p.value -= step

    def reference_update(self, theta, g, state):
        g = g + self.weight_decay * theta
        d = g
        if self.momentum:
            b = state.get("momentum_buffer")
            b = g if b is None else self.momentum * b + (1 - self.dampening) * g
            state["momentum_buffer"] = b
            d = g + self.momentum * b if self.nesterov else b
        return theta - self.lr * d

    def extra_repr(self) -> str:
        s = f"lr={self.lr:g}"
        if self.momentum:
            s += f", momentum={self.momentum:g}" + (", nesterov" if self.nesterov else "")
        if self.dampening:
            s += f", dampening={self.dampening:g}"
        if self.weight_decay:
            s += f", weight_decay={self.weight_decay:g}"
        return s


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): a per-coordinate step that shrinks with the gradients seen.

    PyTorch's ``torch.optim.Adagrad`` (without ``lr_decay``), with ``g = grad + λθ``::

        s ← s + g²                 (s starts at 0)
        θ ← θ − η · g / (√s + ε)

    The effective step η/√s only decreases, so AdaGrad eventually stops learning on long runs.

    Args: lr (η) ≥ 0, default 0.01; eps (ε) ≥ 0, default 1e-10; weight_decay (λ) ≥ 0.
    """

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.eps = check_number("AdaGrad", "eps", eps, low=0.0)
        self.weight_decay = check_number("AdaGrad", "weight_decay", weight_decay, low=0.0)

    def _update(self, p: Parameter, state: dict) -> None:
        dt = p.value.dtype
        state["step"] = state.get("step", 0) + 1
        g = self._decayed_grad(p, state, self.weight_decay)
        s = self._buffer(state, "sum", p.value)
        tmp = self._buffer(state, "_tmp", p.value)
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += scalar(self.eps, dt)
        np.divide(g, tmp, out=tmp)
        tmp *= scalar(self.lr, dt)
        p.value -= tmp

    def reference_update(self, theta, g, state):
        g = g + self.weight_decay * theta
        state["sum"] = s = state.get("sum", 0) + g * g
        return theta - self.lr * g / (np.sqrt(s) + self.eps)

    def extra_repr(self) -> str:
        wd = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"lr={self.lr:g}, eps={self.eps:g}{wd}"


class RMSProp(Optimizer):
    """RMSProp (Hinton, Coursera lecture 6e, 2012): divide by a running RMS of the gradient.

    PyTorch's ``torch.optim.RMSprop``, with ``g = grad + λθ``::

        v ← α·v + (1 − α)·g²
        centered:  ḡ ← α·ḡ + (1 − α)·g;   r = √(v − ḡ²) + ε        otherwise  r = √v + ε
        momentum μ > 0:  b ← μ·b + g / r;   θ ← θ − η·b            otherwise  θ ← θ − η·g / r

    Note PyTorch (and we) put ε *outside* the square root, as Hinton's slides; TensorFlow/Keras
    put it inside (√(v + ε)). deeplearning.ai's ``β`` is ``α`` here.

    Args: lr (η) ≥ 0, default 0.01; alpha (α) in [0, 1), default 0.99; eps (ε) ≥ 0, default 1e-8;
    momentum (μ) in [0, 1); centered; weight_decay (λ) ≥ 0.
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, centered: bool = False, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.alpha = check_number("RMSProp", "alpha", alpha, low=0.0, high=1.0, high_open=True)
        self.eps = check_number("RMSProp", "eps", eps, low=0.0)
        self.momentum = check_number("RMSProp", "momentum", momentum, low=0.0, high=1.0,
                                     high_open=True)
        self.centered = bool(centered)
        self.weight_decay = check_number("RMSProp", "weight_decay", weight_decay, low=0.0)

    def _update(self, p: Parameter, state: dict) -> None:
        dt = p.value.dtype
        one_minus_alpha = scalar(1 - self.alpha, dt)
        state["step"] = state.get("step", 0) + 1
        g = self._decayed_grad(p, state, self.weight_decay)
        v = self._buffer(state, "square_avg", p.value)
        r = self._buffer(state, "_tmp", p.value)
        v *= scalar(self.alpha, dt)
        np.multiply(g, g, out=r)
        r *= one_minus_alpha
        v += r
        if self.centered:
            gbar = self._buffer(state, "grad_avg", p.value)
            np.subtract(g, gbar, out=r)  # ḡ ← ḡ + (1−α)(g − ḡ): torch's lerp_
            r *= one_minus_alpha
            gbar += r
            np.multiply(gbar, gbar, out=r)
            np.subtract(v, r, out=r)
            np.sqrt(r, out=r)
        else:
            np.sqrt(v, out=r)
        r += scalar(self.eps, dt)
        np.divide(g, r, out=r)
        if self.momentum:
            buf = self._buffer(state, "momentum_buffer", p.value)
            buf *= scalar(self.momentum, dt)
            buf += r
            np.multiply(buf, scalar(self.lr, dt), out=r)
        else:
            r *= scalar(self.lr, dt)
        p.value -= r

    def reference_update(self, theta, g, state):
        a = self.alpha
        g = g + self.weight_decay * theta
        state["square_avg"] = v = a * state.get("square_avg", 0) + (1 - a) * g * g
        if self.centered:
            state["grad_avg"] = gbar = a * state.get("grad_avg", 0) + (1 - a) * g
            r = np.sqrt(v - gbar * gbar) + self.eps
        else:
            r = np.sqrt(v) + self.eps
        if not self.momentum:
            return theta - self.lr * g / r
        state["momentum_buffer"] = b = self.momentum * state.get("momentum_buffer", 0) + g / r
        return theta - self.lr * b

    def extra_repr(self) -> str:
        s = f"lr={self.lr:g}, alpha={self.alpha:g}, eps={self.eps:g}"
        if self.momentum:
            s += f", momentum={self.momentum:g}"
        if self.centered:
            s += ", centered"
        if self.weight_decay:
            s += f", weight_decay={self.weight_decay:g}"
        return s


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on g and RMSProp on g², both bias-corrected.

    PyTorch's ``torch.optim.Adam`` (``amsgrad=False``), with ``g = grad + λθ`` and t the step::

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    The bias corrections undo the pull of m, v ← 0 towards zero in the first steps. ε is added
    to the *corrected* √v̂, as PyTorch; the paper's form is the same.

    Args: lr (η) ≥ 0, default 1e-3; betas (β₁, β₂) each in [0, 1), default (0.9, 0.999);
    eps (ε) ≥ 0, default 1e-8; weight_decay (λ) ≥ 0 (coupled L2; see AdamW).
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        owner = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ConfigError(_("{owner}: betas must be a pair (β₁, β₂), got {betas!r}")
                                .format(owner=owner, betas=betas))
        self.betas = (check_number(owner, "betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
                      check_number(owner, "betas[1]", betas[1], low=0.0, high=1.0, high_open=True))
        self.eps = check_number(owner, "eps", eps, low=0.0)
        self.weight_decay = check_number(owner, "weight_decay", weight_decay, low=0.0)

    def _update(self, p: Parameter, state: dict) -> None:
        dt = p.value.dtype
        beta1, beta2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        if self._decoupled:
            if self.weight_decay:
                p.value *= scalar(1 - self.lr * self.weight_decay, dt)
            g = p.grad
        else:
            g = self._decayed_grad(p, state, self.weight_decay)
        m = self._buffer(state, "exp_avg", p.value)
        v = self._buffer(state, "exp_avg_sq", p.value)
        tmp = self._buffer(state, "_tmp", p.value)
        np.subtract(g, m, out=tmp)  # m ← m + (1−β₁)(g − m): torch's lerp_
        tmp *= scalar(1 - beta1, dt)
        m += tmp
        v *= scalar(beta2, dt)
        np.multiply(g, g, out=tmp)
        tmp *= scalar(1 - beta2, dt)
        v += tmp
        step_size = self.lr / (1 - beta1 ** t)
        np.sqrt(v, out=tmp)
        tmp /= scalar(math.sqrt(1 - beta2 ** t), dt)
        tmp += scalar(self.eps, dt)
        np.divide(m, tmp, out=tmp)
        tmp *= scalar(step_size, dt)
        p.value -= tmp

    def reference_update(self, theta, g, state):
        (b1, b2), lr, wd = self.betas, self.lr, self.weight_decay
        t = state["step"] = state.get("step", 0) + 1
        if self._decoupled:
            theta = theta * (1 - lr * wd)
        else:
            g = g + wd * theta
        state["exp_avg"] = m = b1 * state.get("exp_avg", 0) + (1 - b1) * g
        state["exp_avg_sq"] = v = b2 * state.get("exp_avg_sq", 0) + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def extra_repr(self) -> str:
        wd = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"lr={self.lr:g}, betas=({self.betas[0]:g}, {self.betas[1]:g}), eps={self.eps:g}{wd}"


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as ``torch.optim.AdamW``::

        θ ← θ·(1 − η·λ)                then Adam's step with g = grad (no λθ term)

    With coupled decay (Adam's ``weight_decay``) the adaptive denominator also divides the decay,
    so weights with large gradients are barely decayed; decoupling decays every weight alike.
    Defaults as PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get_optimizer(name, params, **kwargs) -> Optimizer:
    """An optimiser by name (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``).

    ``name`` may also be an :class:`Optimizer` instance (returned as is, kwargs not allowed).
    Unknown names raise :class:`~whynet.errors.UnknownNameError`; unknown keyword arguments and
    invalid values raise :class:`~whynet.errors.ConfigError` naming them.
    """
    if isinstance(name, Optimizer):
        if kwargs:
            raise ConfigError(_("get_optimizer: got an optimizer instance {name!r} and keyword "
                                "arguments {kwargs}; set them on the instance instead")
                                .format(name=name, kwargs=sorted(kwargs)))
        return name
    bound = {key: functools.partial(cls, params) for key, cls in OPTIMIZERS.items()}
    return lookup(_("optimizer"), bound, name, kwargs)


# -- learning-rate schedules --------------------------------------------------------------------

class LRSchedule:
    """Base class of the schedules: sets ``optimizer.lr`` from the epoch count, once per epoch.

    ``base_lr`` is the optimiser's lr when the schedule is created; ``last_epoch`` counts calls to
    :meth:`step` (0 at creation, as PyTorch after its constructor). Closed forms, so the lr
    depends only on the epoch, never on what set it before.

    A schedule is also a training callback: pass it in ``fit(..., callbacks=[schedule])`` and
    it steps at the end of every epoch.
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(_("{type}: expected an Optimizer, got {type2}")
                                .format(type=type(self).__name__,
                                        type2=type(optimizer).__name__))
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> float:
        """Advance one epoch and set the optimiser's lr; returns the new lr."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)
        return self.optimizer.lr

    def get_last_lr(self) -> float:
        return self.optimizer.lr

    def on_epoch_end(self, epoch, logs, ctx) -> None:
        self.step()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_lr={self.base_lr:g}, last_epoch={self.last_epoch})"


class StepLR(LRSchedule):
    """``η_t = η₀ · γ^⌊t / step_size⌋``: multiply by γ every ``step_size`` epochs, as PyTorch."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = check_int("StepLR", "step_size", step_size)
        self.gamma = check_number("StepLR", "gamma", gamma, low=0.0)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRSchedule):
    """``η_t = η₀ · γ^t``: multiply by γ every epoch (PyTorch's ExponentialLR)."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = check_number("ExponentialLR", "gamma", gamma, low=0.0)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRSchedule):
    """``η_t = η_min + (η₀ − η_min) · (1 + cos(π t / T_max)) / 2`` (Loshchilov & Hutter 2017).

    PyTorch's CosineAnnealingLR without restarts; its recursive form equals this closed form. After
    ``T_max`` epochs the cosine continues, so the lr rises again (as PyTorch).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = check_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min, low=0.0)

    def lr_at(self, epoch: int) -> float:
        cos = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return max(self.eta_min + (self.base_lr - self.eta_min) * cos, 0.0)


# -- gradient clipping --------------------------------------------------------------------------

def clip_grad_norm(params, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    PyTorch's ``clip_grad_norm_``: ``N = ‖(‖g₁‖, ‖g₂‖, …)‖`` (the norm of all gradients as one
    vector), then every ``g ← g · min(1, max_norm / (N + 1e-6))``. The direction is kept, only
    the length shrinks. Returns N, the norm *before* clipping (useful to log: a spike means an
    exploding gradient, question N3).

    Args:
        params: a Module or an iterable of Parameters.
        max_norm: > 0.
        norm_type: p of the p-norm (≥ 1), or ``math.inf`` for the largest |gᵢ|.
    """
    params = _as_parameters("clip_grad_norm", params)
    max_norm = check_number("clip_grad_norm", "max_norm", max_norm, low=0.0, low_open=True)
    if norm_type != math.inf:
        norm_type = check_number("clip_grad_norm", "norm_type", norm_type, low=1.0)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(p.grad))) if p.grad.size else 0.0 for p in params)
    elif norm_type == 2:
        total = math.sqrt(sum(float(np.dot(p.grad.ravel(), p.grad.ravel())) for p in params))
    else:
        total = sum(float(np.sum(np.abs(p.grad.astype(np.float64)) ** norm_type))
                    for p in params) ** (1 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1:  # multiplying by 1 (PyTorch's clamp) changes nothing, so skip the pass
        for p in params:
            p.grad *= scalar(coef, p.grad.dtype)
    return total
