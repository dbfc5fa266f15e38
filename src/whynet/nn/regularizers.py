"""Weight penalties: L1, L2 and elastic net, added to the mean batch loss.

whynet's scaling (the objective the optimiser sees is ``mean batch loss + penalty``)::

    L1:  λ·Σ|w|          gradient  λ·sign(w)      (sign(0) = 0, PyTorch's subgradient)
    L2:  (λ/2)·Σw²       gradient  λ·w            (= PyTorch's SGD ``weight_decay=λ``)

Only parameters with ``regularize=True`` are penalised: weights, not biases, BatchNorm γ/β or
PReLU α (set ``p.regularize = True`` to include one).

Other conventions, and the λ that gives the same objective here:

=========================================  ==================================  ====================
source                                     penalty                             whynet's λ
=========================================  ==================================  ====================
Keras ``regularizers.l2(l)``               l·Σw² (no ½)                        λ = 2·l
Keras ``regularizers.l1(l)``               l·Σ|w|                              λ = l
cs231n assignment 1 (softmax, SVM)         reg·Σw²                             λ = 2·reg
cs231n assignment 2 (``FullyConnectedNet``)  0.5·reg·Σw²                       λ = reg
deeplearning.ai (course 2, week 1)         (λ/2m)·Σₗ‖W[l]‖²_F added to the     λ = λ_dl / m
                                           cost, m = number of examples
PyTorch ``SGD(weight_decay=wd)``           adds wd·w to the gradient           λ = wd
=========================================  ==================================  ====================

(AdamW's decoupled weight decay is not a penalty on the loss and has no λ here.)

Proximal L1 (``L1(lam, proximal=True)``): the subgradient λ·sign(w) makes weights jitter around 0
and rarely *equal* 0. The proximal step instead leaves the gradient alone and, after each
optimiser step with learning rate η, soft-thresholds every penalised weight::

    w ← sign(w)·max(|w| − η·λ, 0)

which sets small weights exactly to zero (question R1). It is ``torch.nn.functional.softshrink``
with ``lambd = η·λ``.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ConfigError, check_number, lookup
from ..i18n import _
from .module import Parameter


def _penalised(params) -> list[Parameter]:
    """The parameters with ``regularize=True``, from a list of Parameters or a Module."""
    if hasattr(params, "parameters"):
        params = params.parameters()
    return [p for p in params if p.regularize]


class Regularizer:
    """No penalty; the base of the others. ``after_step`` is a no-op unless a subclass needs it."""

    name = "none"

    def penalty(self, params) -> float:
        """The value added to the mean batch loss (a Python float)."""
        return 0.0

    def add_grad(self, params) -> None:
        """Add ∂penalty/∂w into each penalised ``p.grad``."""

    def after_step(self, params, lr: float) -> None:
        """Called after each optimiser step with its learning rate."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class L1(Regularizer):
    """``λ·Σ|w|``, gradient ``λ·sign(w)``; with ``proximal=True`` the penalty is applied by
    soft-thresholding after each step instead (see the module docstring)."""

    name = "l1"

    def __init__(self, lam: float, proximal: bool = False):
        self.lam = check_number("L1", "lam", lam, low=0.0)
        self.proximal = bool(proximal)

    def penalty(self, params) -> float:
        return self.lam * sum(float(np.abs(p.value).sum(dtype=np.float64))
                              for p in _penalised(params))

    def add_grad(self, params) -> None:
        if self.proximal or self.lam == 0:
            return
        for p in _penalised(params):
            p.grad += dtypes.scalar(self.lam, p.grad.dtype) * np.sign(p.value)

    def after_step(self, params, lr: float) -> None:
        if not self.proximal or self.lam == 0:
            return
        for p in _penalised(params):
            threshold = dtypes.scalar(lr * self.lam, p.value.dtype)
            shrunk = np.maximum(np.abs(p.value) - threshold, 0)
            p.value[...] = np.sign(p.value) * shrunk  # in place: optimisers hold the same array

    def __repr__(self) -> str:
        return f"L1(lam={self.lam:g}{', proximal=True' if self.proximal else ''})"


class L2(Regularizer):
    """``(λ/2)·Σw²``, gradient ``λ·w`` — the same update as SGD's ``weight_decay=λ``."""

    name = "l2"

    def __init__(self, lam: float):
        self.lam = check_number("L2", "lam", lam, low=0.0)

    def penalty(self, params) -> float:
        return 0.5 * self.lam * sum(float(np.square(p.value).sum(dtype=np.float64))
                                    for p in _penalised(params))

    def add_grad(self, params) -> None:
        if self.lam == 0:
            return
        for p in _penalised(params):
            p.grad += dtypes.scalar(self.lam, p.grad.dtype) * p.value

    def __repr__(self) -> str:
        return f"L2(lam={self.lam:g})"


class ElasticNet(Regularizer):
    """``l1·Σ|w| + (l2/2)·Σw²`` (Zou & Hastie 2005), gradient ``l1·sign(w) + l2·w``.

    scikit-learn's ``alpha, l1_ratio`` form ``α·ρ·Σ|w| + (α(1−ρ)/2)·Σw²`` is ``l1 = α·ρ``,
    ``l2 = α·(1 − ρ)``.
    """

    name = "elastic"

    def __init__(self, l1: float, l2: float):
        self._l1 = L1(check_number("ElasticNet", "l1", l1, low=0.0))
        self._l2 = L2(check_number("ElasticNet", "l2", l2, low=0.0))
        self.l1, self.l2 = self._l1.lam, self._l2.lam

    def penalty(self, params) -> float:
        return self._l1.penalty(params) + self._l2.penalty(params)

    def add_grad(self, params) -> None:
        self._l1.add_grad(params)
        self._l2.add_grad(params)

    def __repr__(self) -> str:
        return f"ElasticNet(l1={self.l1:g}, l2={self.l2:g})"


REGULARIZERS = {"none": Regularizer, "l1": L1, "l2": L2, "elastic": ElasticNet}


def get_regularizer(name: str | Regularizer | None, lam: float = 0.0, **kwargs) -> Regularizer:
    """A regulariser by name: ``"none"``, ``"l1"``, ``"l2"`` or ``"elastic"``.

    ``lam`` is λ; for ``"elastic"`` it is either one number (used for both terms) or a pair
    ``(l1, l2)``. Extra keyword arguments go to the class (``proximal=True`` for L1).
    A :class:`Regularizer` is returned as is and None means ``"none"``.
    """
    if isinstance(name, Regularizer):
        return name
    key = "none" if name is None else name
    kind = key.lower() if isinstance(key, str) else None
    if kind == "elastic":
        pair = tuple(lam) if isinstance(lam, (tuple, list)) else (lam, lam)
        if len(pair) != 2:
            raise ConfigError(_("regulariser 'elastic': lam must be a number or a pair (l1, l2), "
                                "got {lam!r}").format(lam=lam))
        kwargs = {"l1": pair[0], "l2": pair[1], **kwargs}
    elif kind != "none":
        kwargs = {"lam": lam, **kwargs}
    return lookup(_("regulariser"), REGULARIZERS, key, kwargs)
