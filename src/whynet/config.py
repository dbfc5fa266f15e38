"""One run configuration: data set, input features, MLP and training, validated once, built once.

Four front doors describe the same kind of run: ``whynet train`` (options and a TOML file),
``whynet search`` (its space), the lab (:class:`whynet.web.schema.LabConfig`) and the estimator
(:class:`whynet.estimator.MLPClassifier`). Each translates its own spelling into a
:class:`RunConfig` in a few lines; :func:`build` turns a RunConfig into data, model, loss,
optimiser and regulariser. The names and the checks live here and nowhere else (nanoGPT's
``GPTConfig``)::

    from whynet.config import RunConfig, build
    cfg = RunConfig(data="circles", n=400, hidden=(8, 8), activation="tanh", lr=0.03)
    run = build(cfg)                  # Run(config, data, model, loss, optimizer, regularizer)
    history = run.fit()               # whynet.train.fit with cfg's epochs, batch size, seed

One seed drives everything: the data set's generator, the split, the weights (one child
Generator per layer, :func:`whynet.nn.mlp`) and the minibatch order, so the same RunConfig gives
the same numbers through every door.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .datasets import (DATASETS, PLAYGROUND_FEATURES, RADIUS, Dataset, Splits, Standardize,
                       get_dataset, noisy, polynomial_features, split)
from .errors import (ConfigError, UnknownNameError, check_bool, check_int, check_number,
                     check_str, unknown_name)
from .i18n import N_, _
from .nn.activations import ACTIVATIONS
from .nn.build import mlp
from .nn.init import INITIALIZERS, normal
from .nn.losses import LOSSES, MulticlassHinge, SoftmaxCrossEntropy, get_loss
from .nn.regularizers import REGULARIZERS, get_regularizer
from .optim import OPTIMIZERS, get_optimizer
from .random import make_rng
from .train import fit

# Initialisers that are a named initialiser with preset arguments: "small" is the course's
# N(0, 0.01²) (cs231n's ``0.01 * np.random.randn``), the scale question I2 asks about.
INIT_PRESETS: dict[str, Callable] = {"small": lambda: normal(std=0.01)}
MIN_EXAMPLES = 10  # a subset smaller than this cannot be split into train, val and test
#: The most examples a generated set may have: a laboratory's toy sets hold thousands; a typo
#: such as ``n = 1000000000`` (16 GB of float64) must be refused before anything is generated.
MAX_EXAMPLES = 1_000_000


def _name(kind: str, table) -> Callable:
    def check(owner, arg, v):
        key = check_str(owner, arg, v).lower().replace("-", "_")
        if key not in table:
            raise unknown_name(_(kind), v, table)
        return key
    return check


def _optional(check: Callable) -> Callable:
    return lambda owner, arg, v: None if v is None else check(owner, arg, v)


#: The most hidden layers a configuration may have (the experiments use tens at most): a depth
#: typo is refused at once, not after building a million layers.
MAX_HIDDEN_LAYERS = 1000


def _sizes(owner, arg, v) -> tuple[int, ...]:
    if not isinstance(v, (list, tuple)):
        raise ConfigError(_("{owner}: {arg} must be a list of layer sizes such as [16, 16], got "
                            "{value!r}").format(owner=owner, arg=arg, value=v))
    if len(v) > MAX_HIDDEN_LAYERS:
        raise ConfigError(_("{owner}: {arg} has {n:,} layers, more than the {most} whynet "
                            "builds").format(owner=owner, arg=arg, n=len(v), most=MAX_HIDDEN_LAYERS))
    return tuple(check_int(owner, f"{arg}[{i}]", s) for i, s in enumerate(v))


def _activations(owner, arg, v):
    one = _name(N_("activation"), ACTIVATIONS)
    if isinstance(v, (list, tuple)):
        return tuple(one(owner, f"{arg}[{i}]", a) for i, a in enumerate(v))
    return one(owner, arg, v)


def _features(owner, arg, v):
    if not isinstance(v, (list, tuple)) or not v:
        raise ConfigError(_("{owner}: {arg} must be a non-empty list of input features from "
                            "{playground_features}, got {value!r}")
                            .format(owner=owner, arg=arg,
                                    playground_features=', '.join(PLAYGROUND_FEATURES),
                                    value=v))
    for f in v:
        if f not in PLAYGROUND_FEATURES:
            raise unknown_name(_("input feature"), str(f), PLAYGROUND_FEATURES)
    if len(set(v)) != len(v):
        raise ConfigError(_("{owner}: {arg} must not repeat a feature, got {value}")
                            .format(owner=owner, arg=arg, value=list(v)))
    return tuple(v)


def _table(owner, arg, v) -> dict:
    if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
        raise ConfigError(_("{owner}: {arg} must be a table of the data set's arguments, got "
                            "{value!r}").format(owner=owner, arg=arg, value=v))
    return dict(v)


def _init(owner, arg, v):
    return _name(N_("initialiser"), {**INITIALIZERS, **INIT_PRESETS})(owner, arg, v)


@dataclass(frozen=True)
class Field:
    """One setting: its type as a user reads it, its check (which also normalises), its help."""

    kind: str
    check: Callable[[str, str, Any], Any]
    help: str


def _number(**bounds) -> Callable:
    return lambda owner, arg, v: check_number(owner, arg, v, **bounds)


def _int(**bounds) -> Callable:
    return lambda owner, arg, v: check_int(owner, arg, v, **bounds)


FIELDS: dict[str, Field] = {
    # the data
    "data": Field("str", _name(N_("data set"), DATASETS), "data set: " + ", ".join(DATASETS)),
    "n": Field("int or none", _optional(_int(high=MAX_EXAMPLES)),
               "number of examples (a generated set)"),
    "noise": Field("float or none", _optional(_number(low=0.0)),
                   "noise of a 2-D set: each point moves by Gaussian noise of std noise × the "
                   "set's radius, its label staying with it (none: the set's default)"),
    "data_args": Field("table", _table, "other arguments of the data set (centers = 2, …)"),
    "examples": Field("int or none", _optional(_int(low=MIN_EXAMPLES)),
                      "use a random subset of this many examples"),
    "val": Field("float", _number(low=0.0, high=1.0, high_open=True),
                 "validation fraction (0: validate on the test set)"),
    "test": Field("float", _number(low=0.0, high=1.0, low_open=True, high_open=True),
                  "held-out test fraction"),
    "standardize": Field("bool", check_bool, "scale each feature to mean 0, std 1 on train"),
    "features": Field("list of str or none", _optional(_features),
                      "Playground input features of a 2-D set: " + ", ".join(PLAYGROUND_FEATURES)),
    # the MLP
    "hidden": Field("list of int", _sizes, "hidden layer sizes, input side first"),
    "activation": Field("str or list of str", _activations,
                        "hidden activation (or one per hidden layer)"),
    "init": Field("str or none", _optional(_init),
                  "weight initialiser (none: each activation's suggested one)"),
    "batchnorm": Field("bool", check_bool, "BatchNorm between each hidden Dense and activation"),
    "dropout": Field("float", _number(low=0.0, high=1.0, high_open=True),
                     "drop probability after each hidden activation"),
    # the training
    "loss": Field("str or none", _optional(_name(N_("loss"), LOSSES)),
                  "softmax_ce, hinge, bce or mse (none: mse for a regression set, else "
                  "softmax_ce)"),
    "optimizer": Field("str", _name(N_("optimizer"), OPTIMIZERS), ", ".join(OPTIMIZERS)),
    "lr": Field("float or none", _optional(_number(low=0.0, low_open=True)),
                "learning rate (none: the optimiser's default)"),
    "momentum": Field("float", _number(low=0.0, high=1.0, high_open=True),
                      "momentum of sgd or rmsprop"),
    "nesterov": Field("bool", check_bool, "Nesterov momentum (sgd)"),
    "epochs": Field("int", _int(), "passes over the training set"),
    "batch_size": Field("int", _int(), "examples per minibatch"),
    "regularizer": Field("str", _name(N_("regulariser"), REGULARIZERS), "none, l1, l2 or elastic"),
    "lam": Field("float", _number(low=0.0), "regularisation strength λ"),
    "seed": Field("int", _int(low=0), "seed of the data, split, weights and minibatches"),
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run of an MLP on a named data set.

    Every field is checked on construction (and by :func:`dataclasses.replace`); a bad value
    raises :class:`~whynet.errors.ConfigError` or :class:`~whynet.errors.UnknownNameError`
    naming the field. :data:`FIELDS` holds each field's type, check and help.
    """

    data: str = "moons"
    n: int | None = None
    noise: float | None = None
    data_args: dict = field(default_factory=dict)
    examples: int | None = None
    val: float = 0.0
    test: float = 0.2
    standardize: bool = False
    features: tuple[str, ...] | None = None
    hidden: tuple[int, ...] = (16, 16)
    activation: str | tuple[str, ...] = "relu"
    init: str | None = None
    batchnorm: bool = False
    dropout: float = 0.0
    loss: str | None = None
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.0
    nesterov: bool = False
    epochs: int = 20
    batch_size: int = 32
    regularizer: str = "none"
    lam: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name in FIELDS:
            object.__setattr__(self, name, check_field("RunConfig", name, getattr(self, name)))
        self._check_together("RunConfig")

    def _check_together(self, owner: str) -> None:
        """The checks that involve two fields."""
        if isinstance(self.activation, tuple) and len(self.activation) != len(self.hidden):
            raise ConfigError(_("{owner}: activation lists {n_activation} names for {n_hidden} "
                                "hidden layers; give one per layer")
                                .format(owner=owner, n_activation=len(self.activation),
                                        n_hidden=len(self.hidden)))
        if self.val + self.test >= 1:
            raise ConfigError(_("{owner}: val + test must be < 1 to leave a training set, got "
                                "{val} + {test}")
                                .format(owner=owner, val=self.val, test=self.test))
        if self.momentum and self.optimizer not in ("sgd", "rmsprop"):
            raise ConfigError(_("{owner}: momentum is a setting of sgd and rmsprop, not of "
                                "{optimizer!r}")
                                .format(owner=owner, optimizer=self.optimizer))
        if self.nesterov and not (self.optimizer == "sgd" and self.momentum > 0):
            raise ConfigError(_("{owner}: nesterov needs optimizer 'sgd' with momentum > 0")
                                .format(owner=owner))
        if self.lam and self.regularizer == "none":
            raise ConfigError(_("{owner}: lam = {lam:g} has no effect without a regularizer; set "
                                "regularizer to l1, l2 or elastic")
                                .format(owner=owner, lam=self.lam))
        if self.batchnorm and self.batch_size < 2:
            raise ConfigError(_("{owner}: batchnorm needs batch_size ≥ 2 (the variance of one "
                                "example is 0), got {batch_size}")
                                .format(owner=owner, batch_size=self.batch_size))
        clash = sorted({"n", "noise", "seed"} & set(self.data_args))
        if clash:
            raise ConfigError(_("{owner}: data_args must not hold {clash}; they are settings of "
                                "their own").format(owner=owner, clash=', '.join(clash)))
        self._check_data_args(owner)

    def _check_data_args(self, owner: str) -> None:
        """Each key of ``data_args`` an argument of the data set, its value of the type of the
        argument's default (true/false, an integer, a number): a question file or search learns
        of a typo before its first run, not from every run failing."""
        params = inspect.signature(DATASETS[self.data]).parameters
        for key, value in self.data_args.items():
            if key not in params:
                takes = [p for p in params if p not in ("n", "noise", "seed")]
                raise ConfigError(_("{owner}: data_args: data set {data!r} takes no {key}; it "
                                    "takes: {takes}").format(owner=owner, data=self.data, key=key,
                                                             takes=', '.join(takes) or _("nothing")))
            default, arg = params[key].default, f"data_args.{key}"
            if isinstance(default, bool):
                check_bool(owner, arg, value)
            elif isinstance(default, int):
                check_int(owner, arg, value, low=None)
            elif isinstance(default, float):
                check_number(owner, arg, value)

    def replace(self, **changes) -> RunConfig:
        """A copy with ``changes``, checked again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-able values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict, source: str = "RunConfig", text: str | None = None,
                  base: RunConfig | None = None) -> RunConfig:
        """A RunConfig from ``values`` (defaults from ``base``): unknown keys raise with the list
        of known ones, and a bad value names its key, ``source`` and (from ``text``) its line."""
        check_keys(values, source)
        checked = {}
        for key, value in values.items():
            owner = where(source, key, text)
            try:
                checked[key] = check_field(owner, key, value)
            except UnknownNameError as e:
                raise UnknownNameError(_("{owner}: {key}: {reason}")
                                         .format(owner=owner, key=key, reason=e)) from None
        try:
            return dataclasses.replace(base or cls(), **checked)
        except ConfigError as e:  # a check of two fields: name the source instead of RunConfig
            raise ConfigError(str(e).replace("RunConfig", source, 1)) from None


def check_keys(values, source: str) -> None:
    """Raise naming the keys of ``values`` that are not fields, and the fields."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ConfigError(_("{source}: unknown key(s) {unknown}; allowed: {fields}")
                            .format(source=source, unknown=', '.join(unknown),
                                    fields=', '.join(FIELDS)))


def check_field(owner: str, name: str, value):
    """``value`` checked (and normalised: names lower-case, lists to tuples) as field ``name``."""
    return FIELDS[name].check(owner, name, value)


def where(source: str, key: str, text: str | None) -> str:
    """``source`` plus the line of ``text`` that sets ``key`` (``run.toml, line 3``)."""
    if text:
        for i, line in enumerate(text.splitlines(), 1):
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return _("{label}, line {line}").format(label=source, line=i)
    return source


def read_toml(path, what: str = "config") -> tuple[dict, str]:
    """A TOML file's table and its text; unreadable, non-UTF-8 or invalid TOML raise naming the
    file as ``what PATH`` (tomllib needs UTF-8; another encoding is refused, never guessed; a
    UTF-8 byte-order mark is skipped)."""
    label = f"{what} {path}"
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(_("{label}: cannot read it ({reason})")
                            .format(label=label, reason=e.strerror)) from None
    try:  # a byte-order mark (Windows editors write one) is not part of the TOML
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(_("{label}: not UTF-8 text (byte {raw:#04x} on line {line}); TOML "
                            "files must be UTF-8")
                            .format(label=label, raw=raw[e.start], line=line)) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_("{label}: not valid TOML ({reason})")
                            .format(label=label, reason=e)) from None


# -- building ------------------------------------------------------------------------------------

def build_examples(cfg: RunConfig) -> Splits:
    """The examples of ``cfg`` as the data set has them (a 2-D set's points), before features
    and scaling: generated with ``cfg.seed`` (a 2-D set with the front door's ``noise``,
    :func:`whynet.datasets.noisy`), subset to ``examples`` and split (stratified) by a Generator
    from the same seed. ``val`` is None when ``cfg.val`` is 0."""
    ds = _generate(cfg)
    rng = make_rng(cfg.seed)
    if isinstance(ds, Splits):  # MNIST-1D keeps its own test set; val comes off its training set
        train, test = ds.train, ds.test
        if cfg.examples is not None:
            train = _subset(train, round(cfg.examples * (1 - cfg.test)), rng)
            test = _subset(test, round(cfg.examples * cfg.test), rng)
        val = None
        if cfg.val:
            train, _empty, val = split(train, val=0.0, test=cfg.val / (1 - cfg.test), seed=rng)
        return Splits(train, val, test)
    if cfg.examples is not None:
        ds = _subset(ds, cfg.examples, rng)
    return split(ds, val=cfg.val, test=cfg.test, seed=rng)


def _generate(cfg: RunConfig):
    """The data set of ``cfg`` (a Dataset, or Splits for MNIST-1D), before subset and split."""
    kwargs = dict(cfg.data_args)
    if cfg.n is not None:
        kwargs["n"] = cfg.n
    if cfg.data in RADIUS:
        return noisy(cfg.data, cfg.noise, seed=cfg.seed, **kwargs)
    accepted = inspect.signature(DATASETS[cfg.data]).parameters
    if cfg.noise is not None:
        raise ConfigError(_("data set {data!r} takes no noise; noise is a setting of the 2-D "
                            "sets: {sets}").format(data=cfg.data, sets=', '.join(RADIUS)))
    if "n" in kwargs and "n" not in accepted:
        raise ConfigError(_("data set {data!r} takes no {key}; it takes: {accepted}")
                            .format(data=cfg.data, key="n",
                                    accepted=', '.join(accepted) or _("nothing")))
    if "seed" in accepted:
        kwargs["seed"] = cfg.seed
    return get_dataset(cfg.data, **kwargs)


@dataclass(frozen=True)
class Inputs:
    """How a data set's examples become the network's inputs: the Playground ``features`` of a
    2-D set (:func:`~whynet.datasets.polynomial_features`), flattening to (m, n_features), and
    with ``standardize`` the training set's :class:`~whynet.datasets.Standardize`.

    ``inputs(dataset)`` maps a :class:`Dataset`; ``inputs.array(X)`` maps raw points (a grid to
    draw a decision boundary on): (m, 2) or (m, …) → (m, n_features) float32.
    """

    features: tuple[str, ...] | None
    scaler: Standardize | None

    @classmethod
    def fit(cls, cfg: RunConfig, train: Dataset) -> Inputs:
        """The map of ``cfg``, its scaler fitted on the training set ``train``."""
        unscaled = cls(cfg.features, None)
        scaler = Standardize().fit(unscaled(train)) if cfg.standardize else None
        return cls(cfg.features, scaler)

    def __call__(self, ds: Dataset) -> Dataset:
        if self.features:
            ds = polynomial_features(ds, self.features)
        ds = ds.with_X(ds.X.reshape(len(ds), -1), ds.feature_names if ds.X.ndim == 2 else ())
        return ds if self.scaler is None else self.scaler.transform(ds)

    def array(self, X: np.ndarray) -> np.ndarray:
        X = polynomial_features(X, self.features) if self.features else X
        X = X.reshape(len(X), -1)
        return X if self.scaler is None else self.scaler.transform(X)


def build_data(cfg: RunConfig) -> Splits:
    """The data set of ``cfg`` as :class:`~whynet.datasets.Splits` ``(train, val, test)``:
    :func:`build_examples` mapped by :class:`Inputs` (features, flattened, standardised on the
    training set). ``val`` is None when ``cfg.val`` is 0."""
    return _mapped(build_examples(cfg), cfg)[0]


def _mapped(examples: Splits, cfg: RunConfig) -> tuple[Splits, Inputs]:
    inputs = Inputs.fit(cfg, examples.train)
    return Splits(*(None if p is None else inputs(p) for p in examples)), inputs


def _subset(ds: Dataset, n: int, rng) -> Dataset:
    """A random subset of ``n`` examples (in their order); more than ``ds`` holds is an error,
    not a quiet cap: the run would not be the one asked for."""
    if n > len(ds):
        raise ConfigError(_("examples: asks for {n} examples of {name!r}, which has {size}; ask "
                            "for fewer (or set n, for a generated set)")
                          .format(n=n, name=ds.name, size=len(ds)))
    return ds.subset(np.sort(rng.permutation(len(ds))[:n]))


def loss_name(cfg: RunConfig, train: Dataset) -> str:
    """The loss of ``cfg``; unset, the data's: ``mse`` for a regression set (no classes), else
    ``softmax_ce``."""
    if cfg.loss is not None:
        return cfg.loss
    return "softmax_ce" if train.n_classes else "mse"


def n_outputs(cfg: RunConfig, train: Dataset) -> int:
    """Output units: one logit per class for softmax cross-entropy and hinge, else one."""
    loss = loss_name(cfg, train)
    if issubclass(LOSSES[loss], (SoftmaxCrossEntropy, MulticlassHinge)):
        if not train.n_classes:
            raise ConfigError(_("loss {loss!r} needs classes; data set {name!r} has none (a "
                                "regression set: use loss mse)").format(loss=loss, name=train.name))
        return train.n_classes
    return 1


#: The largest MLP a configuration may build: 50 million weights (200 MB in float32, and as much
#: again for gradients and optimiser state). A laboratory net is thousands of times smaller; a
#: typo such as ``hidden = [100000, 100000]`` must be refused before anything is allocated.
MAX_PARAMETERS = 50_000_000


def _short(values: list, sep: str | None = None, keep: int = 8) -> str:
    """``values`` for a message: whole when short, else the first and last few and the count
    (a depth typo must not print a million numbers)."""
    tail = _(" ({n:,} sizes)").format(n=len(values)) if len(values) > keep else ""
    if tail:
        values = [*values[:keep // 2], "…", *values[-2:]]
    text = sep.join(map(str, values)) if sep else "[" + ", ".join(map(str, values)) + "]"
    return text + tail


def build_model(cfg: RunConfig, n_in: int, n_out: int):
    """The MLP ``[n_in, *hidden, n_out]`` of ``cfg`` (:func:`whynet.nn.mlp`, seeded by
    ``cfg.seed``); more than :data:`MAX_PARAMETERS` weights is a ``ConfigError``."""
    sizes = [n_in, *cfg.hidden, n_out]
    count = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise ConfigError(_("hidden {hidden}: an MLP {sizes} has {count:,} weights, more than the "
                            "{max_parameters:,} whynet builds")
                            .format(hidden=_short(list(cfg.hidden)), sizes=_short(sizes, ' → '),
                                    count=count, max_parameters=MAX_PARAMETERS))
    init = INIT_PRESETS[cfg.init]() if cfg.init in INIT_PRESETS else cfg.init
    activation = list(cfg.activation) if isinstance(cfg.activation, tuple) else cfg.activation
    return mlp([n_in, *cfg.hidden, n_out], activation=activation, init=init,
               dropout=cfg.dropout, batchnorm=cfg.batchnorm, seed=cfg.seed)


def build_optimizer(cfg: RunConfig, params):
    """The optimiser of ``cfg`` over ``params``; its ``lr`` is the one used (default filled)."""
    kwargs: dict = {} if cfg.lr is None else {"lr": cfg.lr}
    if cfg.momentum:
        kwargs["momentum"] = cfg.momentum
    if cfg.nesterov:
        kwargs["nesterov"] = True
    return get_optimizer(cfg.optimizer, params, **kwargs)


def build_regularizer(cfg: RunConfig):
    """The penalty of ``cfg``, or None when there is none (regularizer "none" or λ = 0)."""
    if cfg.regularizer == "none" or not cfg.lam:
        return None
    return get_regularizer(cfg.regularizer, cfg.lam)


@dataclass
class Run:
    """What :func:`build` returns: the configuration and the objects it describes.

    ``examples`` are the data set's examples before ``inputs`` (features, scaling) made ``data``
    of them — a 2-D set's points, for plots and the lab's pictures; both are None when the
    caller gave the data.
    """

    config: RunConfig
    data: Splits
    model: Any
    loss: Any
    optimizer: Any
    regularizer: Any
    examples: Splits | None = None
    inputs: Inputs | None = None

    def fit(self, callbacks=(), **kwargs):
        """:func:`whynet.train.fit` on the training set with the config's epochs, batch size and
        seed, validating on ``val`` (on ``test`` when there is no validation set); ``kwargs`` go
        to ``fit`` (``record_steps=True``, ``early_stopping=…``)."""
        cfg, (train, val, test) = self.config, self.data
        held_out = val if val is not None else test
        return fit(self.model, train.X, train.y, loss=self.loss, optimizer=self.optimizer,
                   epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed,
                   validation_data=None if held_out is None else (held_out.X, held_out.y),
                   regularizer=self.regularizer, callbacks=callbacks,
                   **{"progress": False, **kwargs})


def build(cfg: RunConfig, data: Splits | Dataset | None = None) -> Run:
    """Data, model, loss, optimiser and regulariser of ``cfg``.

    ``data`` replaces the configured data set (the estimator's ``X, y``): a :class:`Dataset`
    (the training set) or :class:`Splits`.
    """
    examples = inputs = None
    if isinstance(data, Dataset):
        data = Splits(data, None, None)
    elif data is None:
        examples = build_examples(cfg)
        data, inputs = _mapped(examples, cfg)
    model = build_model(cfg, data.train.n_features, n_outputs(cfg, data.train))
    return Run(cfg, data, model, get_loss(loss_name(cfg, data.train)),
               build_optimizer(cfg, model.parameters()), build_regularizer(cfg), examples, inputs)
