"""What a browser tab may ask the lab for, and the limits that keep one tab from exhausting the
machine.

Every request body is one of the pydantic models below; FastAPI validates it before any handler
runs, so a 1,000-layer net, a negative learning rate, an unknown activation or malformed JSON is
answered with a 422 and a message that names the field, the allowed range and the given value.
Names are closed sets (``Literal``), so nothing a client sends is ever looked up as code or as a
file path. The same bounds appear in the OpenAPI schema (``/openapi.json``), which the fuzz test
reads.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import RunConfig
from ..datasets import REGRESSION_SETS
from ..i18n import _

# -- the closed sets a client chooses from ---------------------------------------------------------

Dataset = Literal["circles", "xor", "gaussian", "spiral", "moons", "flower", "blobs", "disc",
                  "plane", "multigauss"]
DATASETS = get_args(Dataset)  # whynet.datasets.TOY_2D + REGRESSION_SETS (a test checks it)

# TensorFlow Playground's inputs, in URL-safe spellings of x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂.
Feature = Literal["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]
FEATURES = get_args(Feature)
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂",
                  "sinx1": "sin x₁", "sinx2": "sin x₂"}
# The same features in whynet.datasets.polynomial_features' spelling.
FEATURE_FORMULAS = {"x1": "x1", "x2": "x2", "x1sq": "x1^2", "x2sq": "x2^2", "x1x2": "x1*x2",
                    "sinx1": "sin(x1)", "sinx2": "sin(x2)"}

# Names in whynet.nn.activations.ACTIVATIONS; the lab offers the ones that make sense element-wise
# on a 2-D toy problem (Maxout changes the layer shape, so it is not an activation here).
Activation = Literal["relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "softplus",
                     "tanh", "sigmoid", "identity"]
ACTIVATIONS = get_args(Activation)

# "default" is each activation's suggested initialiser (He for ReLU, Xavier for tanh…), as mlp();
# "small" is N(0, 0.01²), the course's ×0.01 (question I2); "zeros" shows symmetry (I1).
Init = Literal["default", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
               "lecun_normal", "orthogonal", "small", "zeros"]
INITS = get_args(Init)

Regularizer = Literal["none", "l1", "l2"]
REGULARIZERS = get_args(Regularizer)

# "momentum" and "nesterov" are SGD with momentum 0.9 (PyTorch's SGD with those flags).
Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
OPTIMIZERS = get_args(Optimizer)

# -- size limits ----------------------------------------------------------------------------------

MAX_LAYERS = 6
MAX_UNITS = 16
MAX_POINTS = 2000
MAX_BATCH = 256
MAX_STEPS_PER_REQUEST = 1000


@dataclasses.dataclass(frozen=True)
class Limits:
    """Server-wide limits (the per-request size limits are the Field bounds below).

    Attributes:
        max_sessions: open sessions at once, over all tabs; one more is refused with 429.
        max_steps: training steps one session may run before it pauses itself; a reset (or a new
            configuration) starts the count again.
        idle_timeout_s: a session with no open stream and no request for this long is ended
            (a tab that never connected, or a client that vanished without closing).
        max_body_bytes: largest request body accepted (413 above it).
    """

    max_sessions: int = 8
    max_steps: int = 200_000
    idle_timeout_s: float = 60.0
    max_body_bytes: int = 16_384


Float = Annotated[float, Field(allow_inf_nan=False)]


class LayerSpec(BaseModel):
    """One hidden layer: its width and its activation."""

    model_config = ConfigDict(extra="forbid")

    units: int = Field(4, ge=1, le=MAX_UNITS, description="number of hidden units")
    activation: Activation = Field("tanh", description="activation after the layer")


class LabConfig(BaseModel):
    """Everything that defines a run in the lab: the page's controls, and its URL.

    ``noise`` is TensorFlow Playground's slider (0 to 0.5) with the front door's one meaning
    (:func:`whynet.datasets.noisy`): each point moves by Gaussian noise of standard deviation
    noise × the set's radius, its label staying with it; blobs are two clusters.
    ``train_ratio`` is the fraction of the ``n_points`` that train; the rest are the test set.
    Output: one logit and binary cross-entropy for a classification set; one linear unit and the
    mean squared error (:class:`whynet.nn.losses.MSE`) for a regression set
    (:data:`whynet.datasets.REGRESSION_SETS`: plane, multigauss).
    ``standardize`` rescales every input feature to mean 0, standard deviation 1 on the
    training set (the same shift and scale for the test set and the pictures).
    """

    model_config = ConfigDict(extra="forbid")

    dataset: Dataset = "circles"
    noise: Float = Field(0.1, ge=0.0, le=0.5)
    n_points: int = Field(400, ge=40, le=MAX_POINTS)
    train_ratio: Float = Field(0.5, ge=0.1, le=0.9)
    features: list[Feature] = Field(default_factory=lambda: ["x1", "x2"], min_length=1,
                                    max_length=len(FEATURES))
    layers: list[LayerSpec] = Field(
        default_factory=lambda: [LayerSpec(units=4), LayerSpec(units=2)],
        max_length=MAX_LAYERS, description="hidden layers, input side first (0 to 6)")
    init: Init = "default"
    regularizer: Regularizer = "none"
    reg_rate: Float = Field(0.0, ge=0.0, le=1.0, description="λ of the L1/L2 penalty")
    dropout: Float = Field(0.0, ge=0.0, le=0.8, description="probability of dropping a unit")
    batchnorm: bool = False
    standardize: bool = Field(False, description="inputs to mean 0, std 1 on the training set")
    optimizer: Optimizer = "sgd"
    lr: Float = Field(0.03, gt=0.0, le=10.0, description="learning rate")
    batch_size: int = Field(10, ge=1, le=MAX_BATCH)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the data, weights and batches")

    @model_validator(mode="after")
    def _consistent(self) -> LabConfig:
        # Said in the language of the request being validated (the server sets it).
        if len(set(self.features)) != len(self.features):
            raise ValueError(_("features must not repeat, got {features}").format(
                features=self.features))
        n_train = self.n_train
        if self.batch_size > n_train:
            raise ValueError(_("batch_size must be ≤ the number of training points ({n_train} of "
                               "{n_points} at train_ratio {ratio}), got {batch}").format(
                n_train=n_train, n_points=self.n_points, ratio=self.train_ratio,
                batch=self.batch_size))
        if self.batchnorm and self.batch_size < 2:
            raise ValueError(_("batch_size must be ≥ 2 with batchnorm (the variance of one "
                               "example is 0), got 1"))
        return self

    def to_run_config(self) -> RunConfig:
        """This run in whynet's one configuration (:class:`whynet.config.RunConfig`), from which
        the lab's session builds everything: one logit with binary cross-entropy (squared error
        for a regression set); blobs as two clusters; "momentum" and "nesterov" as SGD with
        momentum 0.9; ``reg_rate`` counts only with a regulariser."""
        sgd_momentum = self.optimizer in ("momentum", "nesterov")
        return RunConfig(
            data=self.dataset, n=self.n_points, noise=self.noise,
            data_args={"centers": 2} if self.dataset == "blobs" else {},
            test=1.0 - self.train_ratio, standardize=self.standardize,
            features=[FEATURE_FORMULAS[f] for f in self.features],
            hidden=[layer.units for layer in self.layers],
            activation=[layer.activation for layer in self.layers],
            init=None if self.init == "default" else self.init, batchnorm=self.batchnorm,
            dropout=self.dropout, loss="mse" if self.regression else "bce",
            optimizer="sgd" if sgd_momentum else self.optimizer,
            momentum=0.9 if sgd_momentum else 0.0, nesterov=self.optimizer == "nesterov",
            lr=self.lr, batch_size=self.batch_size, regularizer=self.regularizer,
            lam=self.reg_rate if self.regularizer != "none" else 0.0, seed=self.seed)

    @property
    def regression(self) -> bool:
        """Whether the data set has a real-valued target (squared error) rather than classes."""
        return self.dataset in REGRESSION_SETS

    @property
    def n_train(self) -> int:
        """Training points: scikit-learn's split rounds the test set up."""
        return self.n_points - math.ceil((1.0 - self.train_ratio) * self.n_points)


class StepRequest(BaseModel):
    """Run this many training steps now (the page's "step" button sends 1)."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(1, ge=1, le=MAX_STEPS_PER_REQUEST)


SESSION_ID = r"^[A-Za-z0-9_-]{16,64}$"
