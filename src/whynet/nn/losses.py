"""Losses on logits: binary and softmax cross-entropy, mean squared error, multiclass hinge.

Every loss takes the network's raw outputs (*logits*: no sigmoid or softmax layer before it) and
the targets, and follows one contract:

* ``loss = fn.forward(logits, y)`` — a Python float, the mean over the batch (as PyTorch's
  ``reduction="mean"``);
* ``dlogits = fn.backward()`` — ∂loss/∂logits of that forward pass, already divided by the
  batch size, with the shape and dtype of the logits;
* ``fn.probabilities(logits)``, ``fn.predict(logits)``, ``fn.accuracy(logits, y)``.

Working on logits is what makes the losses stable: ``log σ(z)`` and ``log softmax(z)`` are
computed without forming σ(z) or e^z, so logits of ±1e4 in float32 give finite losses and
gradients (where ``log(sigmoid(z))`` would give ``log 0 = −inf``). The gradients are the familiar
``σ(z) − y`` and ``softmax(z) − onehot(y)`` over m.

Targets: class indices (m,) for softmax and hinge; 0/1 (or probabilities) of shape (m,) or (m, 1)
for binary cross-entropy with logits (m, 1); the output's shape for MSE.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import (ConfigError, ShapeError, WhynetError, check_finite, check_number,
                      lookup)
from ..i18n import _
from .activations import sigmoid  # the one stable σ


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis by log-sum-exp: ``z − max − log Σ e^{z − max}``."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis, ``e^{z − max} / Σ e^{z − max}`` (the shift avoids overflow)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Loss:
    """Base class: validation and the forward/backward contract (see the module docstring)."""

    name = "loss"

    def __call__(self, logits: np.ndarray, y: np.ndarray) -> float:
        return self.forward(logits, y)

    def forward(self, logits: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        if getattr(self, "_grad", None) is None:
            raise WhynetError(_("{type}: backward() called before forward()").format(
                type=type(self).__name__))
        return self._grad

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, logits: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def accuracy(self, logits: np.ndarray, y: np.ndarray) -> float | None:
        """Fraction of examples whose predicted class equals ``y``."""
        logits = self._check_logits(logits)
        y = self._check_targets(logits, y)
        return float(np.mean(self.predict(logits) == y))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- validation ---------------------------------------------------------------------------
    _ranks: tuple[int, ...] = (2,)

    def _check_logits(self, logits) -> np.ndarray:
        owner = type(self).__name__
        if not isinstance(logits, np.ndarray):
            logits = np.asarray(logits)
        if logits.ndim not in self._ranks:
            want = " or ".join(map(str, self._ranks))
            raise ShapeError(_("{owner}: expected logits of rank {want}, got shape {shape}")
                               .format(owner=owner, want=want, shape=logits.shape))
        if logits.shape[0] == 0:
            raise ShapeError(_("{owner}: expected a non-empty batch, got logits of shape {shape}")
                               .format(owner=owner, shape=logits.shape))
        if logits.dtype not in dtypes.SUPPORTED:
            logits = logits.astype(dtypes.DEFAULT)
        check_finite(owner, "logits", logits)
        return logits

    def _check_length(self, logits: np.ndarray, y: np.ndarray) -> None:
        if y.ndim == 0 or y.shape[0] != logits.shape[0]:
            raise ShapeError(_("{type}: expected targets for {shape} examples (logits {shape2}), "
                               "got targets of shape {shape3}")
                               .format(type=type(self).__name__, shape=logits.shape[0],
                                       shape2=logits.shape, shape3=y.shape))

    def _check_targets(self, logits: np.ndarray, y) -> np.ndarray:
        raise NotImplementedError

    def _value_targets(self, logits: np.ndarray, y, shape_hint: str, kind: str) -> np.ndarray:
        """Targets with one finite number per logit (BCE, MSE), as an array not yet reshaped;
        ``shape_hint`` and ``kind`` complete the messages."""
        owner = type(self).__name__
        y = np.asarray(y)
        self._check_length(logits, y)
        if y.size != logits.size:
            raise ShapeError(_("{owner}: expected targets of shape {shape}{shape_hint}, got "
                               "{shape2}")
                               .format(owner=owner, shape=logits.shape,
                                       shape_hint=shape_hint, shape2=y.shape))
        if y.dtype.kind not in "fiub":
            raise ConfigError(_("{owner}: targets must be {kind}, got dtype {dtype}")
                                .format(owner=owner, kind=kind, dtype=y.dtype))
        check_finite(owner, "targets", y)
        return y


class _ClassIndexLoss(Loss):
    """Shared target handling of losses over C classes with integer labels (m,)."""

    def _check_targets(self, logits, y) -> np.ndarray:
        owner = type(self).__name__
        y = np.asarray(y)
        self._check_length(logits, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ShapeError(_("{owner}: expected class indices of shape ({shape},), got targets "
                               "of shape {shape2}")
                               .format(owner=owner, shape=logits.shape[0], shape2=y.shape))
        if y.dtype.kind == "f":
            check_finite(owner, "targets", y)
            if not np.all(y == np.round(y)):
                raise ConfigError(_("{owner}: targets must be integer class indices, got "
                                    "non-integer values such as {y!r}")
                                    .format(owner=owner, y=y[y != np.round(y)][0]))
        elif y.dtype.kind not in "iub":
            raise ConfigError(_("{owner}: targets must be integer class indices, got dtype "
                                "{dtype}").format(owner=owner, dtype=y.dtype))
        y = y.astype(np.intp)
        n_classes = logits.shape[1]
        if y.min() < 0 or y.max() >= n_classes:
            bad = int(y.min()) if y.min() < 0 else int(y.max())
            raise ShapeError(_("{owner}: class indices must be in [0, {n_classes}) for logits of "
                               "shape {shape}, got {bad}")
                               .format(owner=owner, n_classes=n_classes,
                                       shape=logits.shape, bad=bad))
        return y

    def predict(self, logits: np.ndarray) -> np.ndarray:
        """The class with the largest score, shape (m,)."""
        return self._check_logits(logits).argmax(axis=1)


class SoftmaxCrossEntropy(_ClassIndexLoss):
    """Softmax followed by the negative log-likelihood, PyTorch's ``CrossEntropyLoss``.

    ``L = −(1/m) Σᵢ log softmax(zᵢ)[yᵢ]``, with ``log softmax(z) = z − logsumexp(z)`` computed
    after subtracting max(z) (stable for any finite logits);
    ``∂L/∂z = (softmax(z) − onehot(y)) / m``.
    At initialisation, with near-equal logits over C classes, L ≈ ln C (question T1).

    Shapes: logits (m, C), y (m,) integer class indices in [0, C) → loss (float), dlogits (m, C).
    """

    name = "softmax_ce"

    def forward(self, logits, y) -> float:
        logits = self._check_logits(logits)
        y = self._check_targets(logits, y)
        m = logits.shape[0]
        logp = log_softmax(logits)
        rows = np.arange(m)
        grad = np.exp(logp)
        grad[rows, y] -= 1
        self._grad = grad / dtypes.scalar(m, logits.dtype)
        # −mean(logp[i, yᵢ]) in float64: np.mean's own sum and division, without its wrapper
        return -float(np.add.reduce(logp[rows, y], dtype=np.float64)) / m

    def probabilities(self, logits) -> np.ndarray:
        """softmax(z), shape (m, C); rows sum to 1."""
        return softmax(self._check_logits(logits))


class MulticlassHinge(_ClassIndexLoss):
    """The multiclass SVM (hinge) loss of cs231n, as PyTorch's ``MultiMarginLoss`` (p=1).

    ``L = (1/m) Σᵢ (1/C) Σ_{j ≠ yᵢ} max(0, Δ − z_{i,yᵢ} + z_{i,j})``, margin Δ = 1;
    ``∂L/∂z_{i,j} = [margin_{ij} > 0]/(mC)`` for j ≠ yᵢ and ``−(number of j with a positive
    margin)/(mC)`` for j = yᵢ.

    Convention: PyTorch divides each example's sum by the number of classes C; cs231n's SVM loss
    does not, so cs231n's loss = C × this one (and so are its gradients).

    Shapes: logits (m, C) scores, y (m,) integer class indices → loss (float), dlogits (m, C).
    """

    name = "hinge"

    def __init__(self, margin: float = 1.0):
        self.margin = check_number("MulticlassHinge", "margin", margin, low=0.0)

    def forward(self, logits, y) -> float:
        logits = self._check_logits(logits)
        y = self._check_targets(logits, y)
        m, c = logits.shape
        rows = np.arange(m)
        correct = logits[rows, y][:, None]
        margins = logits - correct + dtypes.scalar(self.margin, logits.dtype)
        margins[rows, y] = 0
        active = margins > 0
        grad = active.astype(logits.dtype)
        grad[rows, y] = -active.sum(axis=1)
        self._grad = grad / dtypes.scalar(m * c, logits.dtype)
        return float(np.maximum(margins, 0).sum(dtype=np.float64) / (m * c))

    def probabilities(self, logits) -> np.ndarray:
        """softmax of the scores, shape (m, C): a monotone normalisation for display only; an SVM's
        scores are not calibrated probabilities."""
        return softmax(self._check_logits(logits))

    def __repr__(self) -> str:
        extra = "" if self.margin == 1 else f"margin={self.margin:g}"
        return f"MulticlassHinge({extra})"


class BCEWithLogits(Loss):
    """Binary cross-entropy on logits, PyTorch's ``BCEWithLogitsLoss``.

    ``L = mean[ −y log σ(z) − (1 − y) log(1 − σ(z)) ]``, computed in the stable form
    ``max(z, 0) − z·y + log(1 + e^{−|z|})`` (no exp of a large positive number, no log 0);
    ``∂L/∂z = (σ(z) − y) / N``. N is the number of logits: m for the usual (m, 1) output; for
    (m, k) independent labels the mean is over all m·k, as PyTorch.

    Shapes: logits (m, 1) (or (m,), or (m, k)); y with the same number of values per example,
    0/1 labels or probabilities in [0, 1] → loss (float), dlogits of the logits' shape.
    """

    name = "bce"
    _ranks = (1, 2)

    def _check_targets(self, logits, y) -> np.ndarray:
        y = self._value_targets(logits, y, " (or one value per logit)", "numbers in [0, 1]")
        if y.min() < 0 or y.max() > 1:
            bad = y.min() if y.min() < 0 else y.max()
            raise ConfigError(_("{type}: targets must be in [0, 1], got {bad!r}")
                                .format(type=type(self).__name__, bad=bad))
        return y.reshape(logits.shape).astype(logits.dtype, copy=False)

    def forward(self, logits, y) -> float:
        logits = self._check_logits(logits)
        y = self._check_targets(logits, y)
        losses = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
        self._grad = (sigmoid(logits) - y) / dtypes.scalar(logits.size, logits.dtype)
        return float(losses.mean(dtype=np.float64))

    def probabilities(self, logits) -> np.ndarray:
        """σ(z): the probability of class 1, the logits' shape."""
        return sigmoid(self._check_logits(logits))

    def predict(self, logits) -> np.ndarray:
        """1 where z > 0 (σ(z) > ½), else 0; shape (m,) for (m, 1) logits, else the logits'."""
        logits = self._check_logits(logits)
        labels = (logits > 0).astype(np.intp)
        return labels[:, 0] if labels.ndim == 2 and labels.shape[1] == 1 else labels

    def accuracy(self, logits, y) -> float:
        """Fraction of labels predicted right, ``y`` rounded to 0/1 (soft label 0.7 counts as 1)."""
        logits = self._check_logits(logits)
        y = self._check_targets(logits, y)
        pred = self.predict(logits)
        return float(np.mean(pred == (y.reshape(pred.shape) > 0.5)))


class MSE(Loss):
    """Mean squared error, PyTorch's ``MSELoss``: the mean over *all* m·k elements.

    ``L = (1/(m·k)) Σᵢ Σⱼ (ŷᵢⱼ − yᵢⱼ)²``;  ``∂L/∂ŷ = 2 (ŷ − y) / (m·k)``.

    Conventions differ by constant factors: "mean over the batch of the sum over outputs" is
    k × this, and the ½-scaled form ``(1/2m) Σ ‖ŷ − y‖²`` common in courses is k/2 × this. With one
    output (k = 1) the first equals ours.

    Shapes: outputs (m,) or (m, k), y with the same number of values per example → loss (float),
    doutputs of the outputs' shape.
    """

    name = "mse"
    _ranks = (1, 2)

    def _check_targets(self, logits, y) -> np.ndarray:
        y = self._value_targets(logits, y, "", "numbers")
        return y.reshape(logits.shape).astype(logits.dtype, copy=False)

    def forward(self, logits, y) -> float:
        logits = self._check_logits(logits)
        y = self._check_targets(logits, y)
        diff = logits - y
        self._grad = diff * dtypes.scalar(2 / logits.size, logits.dtype)
        return float(np.mean(diff * diff, dtype=np.float64))

    def probabilities(self, logits) -> np.ndarray:
        """The outputs themselves: for 0/1 targets they are the model's estimate of P(y = 1),
        which nothing keeps inside [0, 1] (question A3)."""
        return self._check_logits(logits)

    def predict(self, logits) -> np.ndarray:
        """The outputs themselves (regression)."""
        return self._check_logits(logits)

    def accuracy(self, logits, y) -> None:
        """None: accuracy is not defined for regression."""
        return None


LOSSES: dict[str, type[Loss]] = {
    "bce": BCEWithLogits, "bce_with_logits": BCEWithLogits, "binary_cross_entropy": BCEWithLogits,
    "softmax_ce": SoftmaxCrossEntropy, "cross_entropy": SoftmaxCrossEntropy,
    "mse": MSE,
    "hinge": MulticlassHinge, "multi_margin": MulticlassHinge, "svm": MulticlassHinge,
}


def get_loss(name: str | Loss, **kwargs) -> Loss:
    """A loss from its name (``"bce"``, ``"softmax_ce"`` / ``"cross_entropy"``, ``"mse"``,
    ``"hinge"``), or a :class:`Loss` instance returned as is."""
    if isinstance(name, Loss):
        return name
    return lookup(_("loss"), LOSSES, name, kwargs)
