"""scikit-learn estimators on whynet's engine, spoken in scikit-learn's words.

:class:`MLPClassifier` and :class:`MLPRegressor` take the parameters of
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` with their names *and* meanings
(``learning_rate`` is the schedule, ``learning_rate_init`` the step size, ``max_iter`` the epochs,
``solver`` the optimiser, ``alpha`` the L2 term scaled by the batch as scikit-learn scales it), so
code written for scikit-learn runs unchanged with ``from whynet.estimator import MLPClassifier``.
They sit in a ``Pipeline``, ``cross_val_score`` or ``GridSearchCV`` and pass scikit-learn's own
estimator checks. Input validation and label handling are scikit-learn's helpers; the network,
the loss and the training loop are whynet's, built from one :class:`whynet.config.RunConfig`
(:meth:`run_config`).

Where whynet differs, on purpose:

* ``random_state=None`` is seed 0 (whynet's rule: same code, same numbers), not fresh entropy;
* the weights start from each activation's suggested initialiser (He for ReLU, Xavier for tanh),
  not scikit-learn's Glorot-uniform (``init=`` picks another);
* the classifier has one logit per class and a softmax, also for two classes (scikit-learn: one
  logistic unit); the probabilities have the same shape and meaning;
* the regressor's loss is the mean squared error (PyTorch's ``MSELoss``); scikit-learn halves it,
  so its ``loss_curve_`` reads half of ours and its gradient is half as large;
* ``solver="lbfgs"`` is refused (whynet trains with minibatch steps); ``"adagrad"``,
  ``"rmsprop"`` and ``"adamw"`` are whynet's extras.

``callbacks=`` takes whynet training callbacks, or factories that build one on the network being
fitted: ``ProbeCallback(every=10)`` puts a :class:`whynet.probes.Probe` on it, fed with the rows
the estimator sees (after the Pipeline's transforms). The callbacks of the last fit are in
``callbacks_``.
"""

from __future__ import annotations

import math
import re
import warnings
from numbers import Integral

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

from .config import RunConfig, build_model, build_optimizer, build_regularizer
from .errors import (ConfigError, NonFiniteError, ShapeError, WhynetError, check_bool, check_int,
                     check_number)
from .i18n import _
from .nn.activations import ACTIVATIONS
from .nn.layers import Dense
from .nn.losses import get_loss
from .optim import OPTIMIZERS
from .probes import Probe
from .train import CALLBACK_METHODS, Callback, fit

#: scikit-learn's activation names → whynet's (whynet's own names are accepted as well).
SKLEARN_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh",
                       "relu": "relu"}
#: scikit-learn's learning-rate schedules (used with ``solver="sgd"``, as in scikit-learn).
SCHEDULES = ("constant", "invscaling", "adaptive")
#: ``batch_size="auto"`` is ``min(AUTO_BATCH, n_samples)``, scikit-learn's rule.
AUTO_BATCH = 200
#: The ``adaptive`` schedule divides the step by this, and stops below MIN_ADAPTIVE_LR.
ADAPTIVE_DIVISOR, MIN_ADAPTIVE_LR = 5.0, 1e-6


# -- parameter checks (scikit-learn's names in every message) ----------------------------------

def _sizes(owner, arg, v):
    if isinstance(v, Integral) and not isinstance(v, bool):
        v = (v,)
    if not isinstance(v, (list, tuple, np.ndarray)):
        raise ConfigError(_("{owner}: {arg} must be an int or a sequence of ints such as (64, "
                            "32), got {value!r}").format(owner=owner, arg=arg, value=v))
    return tuple(check_int(owner, f"{arg}[{i}]", s) for i, s in enumerate(v))


def _activation(owner, arg, v):
    if isinstance(v, str) and v.lower() in SKLEARN_ACTIVATIONS:
        return SKLEARN_ACTIVATIONS[v.lower()]
    if isinstance(v, str) and v.lower().replace("-", "_") in ACTIVATIONS:
        return v.lower().replace("-", "_")
    raise ConfigError(_("{owner}: {arg} must be one of {sklearn_activations} (or a whynet "
                        "activation: {activations}), got {value!r}")
                        .format(owner=owner, arg=arg,
                                sklearn_activations=', '.join(SKLEARN_ACTIVATIONS),
                                activations=', '.join(ACTIVATIONS), value=v))


def _solver(owner, arg, v):
    if v == "lbfgs":
        raise ConfigError(_("{owner}: {arg}='lbfgs' is not supported: whynet trains with "
                            "minibatch gradient steps; use 'adam' or 'sgd'")
                            .format(owner=owner, arg=arg))
    if not isinstance(v, str) or v.lower() not in OPTIMIZERS:
        others = ", ".join(o for o in OPTIMIZERS if o not in ("adam", "sgd"))
        raise ConfigError(_("{owner}: {arg} must be 'adam' or 'sgd' (or whynet's {others}), got "
                            "{value!r}").format(owner=owner, arg=arg, others=others, value=v))
    return v.lower()


def _schedule(owner, arg, v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise ConfigError(_("{owner}: {arg} is scikit-learn's schedule, one of {map}; the step "
                            "size is learning_rate_init (got learning_rate={value!r})")
                            .format(owner=owner, arg=arg,
                                    map=', '.join(map(repr, SCHEDULES)), value=v))
    if v not in SCHEDULES:
        raise ConfigError(_("{owner}: {arg} must be one of {map}, got {value!r}")
                            .format(owner=owner, arg=arg,
                                    map=', '.join(map(repr, SCHEDULES)), value=v))
    return v


def _batch(owner, arg, v):
    return v if v == "auto" else check_int(owner, arg, v)


def _random_state(owner, arg, v):
    if v is None or isinstance(v, (np.random.RandomState, np.random.Generator)):
        return v
    return check_int(owner, arg, v, low=0)


def _verbose(owner, arg, v):
    if isinstance(v, (bool, np.bool_)) or (isinstance(v, Integral) and v >= 0):
        return bool(v)
    raise ConfigError(_("{owner}: {arg} must be true or false, got {value!r}")
                        .format(owner=owner, arg=arg, value=v))


def _init(owner, arg, v):
    return RunConfig(init=v).init if v is not None else None


def _callbacks(owner, arg, v):
    if v is None:
        return ()
    if not isinstance(v, (list, tuple)):
        raise ConfigError(_("{owner}: {arg} must be a list of whynet callbacks or callback "
                            "factories, got {type}")
                            .format(owner=owner, arg=arg, type=type(v).__name__))
    for i, cb in enumerate(v):
        if not (callable(cb) or any(hasattr(cb, m) for m in CALLBACK_METHODS)):
            raise ConfigError(_("{owner}: {arg}[{i}] is neither a whynet callback (a method such "
                                "as on_epoch_end) nor a factory f(model, X, y, loss), got {type}")
                                .format(owner=owner, arg=arg, i=i, type=type(cb).__name__))
    return tuple(v)


def _num(**bounds):
    return lambda owner, arg, v: check_number(owner, arg, v, **bounds)


def _int(low=1):
    return lambda owner, arg, v: check_int(owner, arg, v, low=low)


#: Every parameter's check (which also normalises the value), scikit-learn's names.
CHECKS = {
    "hidden_layer_sizes": _sizes, "activation": _activation, "solver": _solver,
    "alpha": _num(low=0.0), "batch_size": _batch, "learning_rate": _schedule,
    "learning_rate_init": _num(low=0.0, low_open=True), "power_t": _num(low=0.0),
    "max_iter": _int(), "shuffle": check_bool, "random_state": _random_state,
    "tol": _num(low=0.0), "verbose": _verbose, "warm_start": check_bool,
    "momentum": _num(low=0.0, high=1.0, high_open=True), "nesterovs_momentum": check_bool,
    "early_stopping": check_bool, "validation_fraction": _num(low=0.0, high=1.0, low_open=True,
                                                              high_open=True),
    "beta_1": _num(low=0.0, high=1.0, high_open=True),
    "beta_2": _num(low=0.0, high=1.0, high_open=True), "epsilon": _num(low=0.0, low_open=True),
    "n_iter_no_change": _int(), "max_fun": _int(), "init": _init,
    "dropout": _num(low=0.0, high=1.0, high_open=True), "callbacks": _callbacks,
}


# -- scikit-learn's training rules as a callback ---------------------------------------------------

def _checked_data(est, *args, **kwargs):
    """scikit-learn's ``validate_data(est, *args, **kwargs)``, its refusals (NaN, lengths that
    differ, a 1-D X, strings…) raised as whynet errors (still ValueErrors, with scikit-learn's
    words): a caller catching :class:`~whynet.errors.WhynetError` catches them too."""
    try:
        return validate_data(est, *args, **kwargs)
    except NotFittedError:
        raise
    except ValueError as e:
        raise _data_error(type(est).__name__, e) from None


def _data_error(owner: str, e: ValueError) -> WhynetError:
    """The whynet error for scikit-learn's data error ``e``: non-finite values, a shape, or
    (anything else) a value."""
    message = f"{owner}: {e}"
    if re.search(r"NaN|infinity", message):
        return NonFiniteError(message)
    if re.search(r"samples|features|dim|[12]D array|1d array|shape", message):
        return ShapeError(message)
    return ConfigError(message)


class SklearnRules(Callback):
    """scikit-learn's end-of-epoch rules, on the estimator's fitted state (so ``partial_fit``
    continues them): ``t_ += n`` (samples seen), the no-improvement count (training loss not
    below ``best_loss_ − tol``, or with ``early_stopping`` the validation score not above
    ``best_validation_score_ + tol``), ``invscaling`` (η = η₀ / (t_ + 1)^power_t) and, after
    more than ``n_iter_no_change`` epochs without improvement, a stop, or with ``adaptive`` the
    step divided by 5 (a stop once η ≤ 1e-6). With ``early_stopping`` the weights of the best
    validation score are put back at the end. Schedules act with ``solver="sgd"`` only, as in
    scikit-learn."""

    def __init__(self, est, n_samples: int, validation=None):
        self.est, self.n_samples, self.validation = est, n_samples, validation
        self._best_state = None

    def on_epoch_end(self, epoch, logs, ctx) -> None:
        est = self.est
        est.t_ += self.n_samples
        if est.verbose:
            print(f"Iteration {epoch}, loss = {logs['loss']:.8f}")
        self._count(logs["loss"], ctx)
        sgd = est.solver == "sgd"
        if sgd and est.learning_rate == "invscaling":
            ctx.optimizer.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation else "Training loss"
            msg = (f"{what} did not improve more than tol={est.tol:g} for "
                   f"{est.n_iter_no_change} consecutive epochs")
            if sgd and est.learning_rate == "adaptive" and ctx.optimizer.lr > MIN_ADAPTIVE_LR:
                ctx.optimizer.lr /= ADAPTIVE_DIVISOR
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"{msg}. Setting learning rate to {ctx.optimizer.lr:f}")
                return
            ctx.stop = True
            ctx.history.stopped = f"{msg} (epoch {epoch})"
            if est.verbose:
                print(f"{msg}. Stopping.")

    def _count(self, loss: float, ctx) -> None:
        """scikit-learn's ``_update_no_improvement_count``."""
        est = self.est
        if self.validation is None:
            est._no_improvement_count = (est._no_improvement_count + 1
                                         if loss > est.best_loss_ - est.tol else 0)
            est.best_loss_ = min(est.best_loss_, loss)
            return
        score = est._score_model(*self.validation)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        est._no_improvement_count = (est._no_improvement_count + 1
                                     if score < est.best_validation_score_ + est.tol else 0)
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            self._best_state = ctx.model.state_dict(copy=True)

    def on_train_end(self, ctx) -> None:
        if self._best_state is not None:
            ctx.model.load_state_dict(self._best_state)


class ProbeCallback:
    """A factory for ``callbacks=``: at fit time, a :class:`whynet.probes.Probe` on the network
    being fitted, watching its first ``examples`` training rows (as the estimator sees them,
    after a Pipeline's transforms), every ``every`` steps; ``options`` go to ``Probe``.

    >>> clf = MLPClassifier(callbacks=[ProbeCallback(every=10)])   # doctest: +SKIP
    >>> clf.fit(X, y).callbacks_[0].report()                       # doctest: +SKIP
    """

    def __init__(self, every=10, examples: int = 256, **options):
        self.every = every
        self.examples = check_int("ProbeCallback", "examples", examples)
        self.options = options

    def __call__(self, model, X, y, loss):
        return Probe(model, X[:self.examples], y[:self.examples], loss, every=self.every,
                     **self.options)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"ProbeCallback(every={self.every!r}, examples={self.examples}{extra})"


# -- the estimators -----------------------------------------------------------------------------

class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, fit, partial_fit, state."""

    _loss = "softmax_ce"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 init=None, dropout=0.0, callbacks=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.callbacks = callbacks

    def _checked(self) -> dict:
        """Every parameter checked; a bad one raises a ConfigError (a ValueError) naming it."""
        owner = type(self).__name__
        return {name: check(owner, name, getattr(self, name)) for name, check in CHECKS.items()}

    def run_config(self, n_samples: int | None = None) -> RunConfig:
        """These parameters in whynet's one configuration (:class:`whynet.config.RunConfig`):
        ``hidden_layer_sizes`` → ``hidden``, ``solver`` → ``optimizer``, ``learning_rate_init``
        → ``lr``, ``momentum``/``nesterovs_momentum`` → ``momentum``/``nesterov`` (sgd),
        ``max_iter`` → ``epochs``, ``batch_size`` (``"auto"``: min(200, ``n_samples``)),
        ``alpha`` → an L2 penalty with ``lam = alpha / batch_size`` (scikit-learn adds
        ``alpha·‖W‖²/(2·batch)`` to the batch's mean loss), ``random_state`` → ``seed``."""
        p = self._checked()
        batch = p["batch_size"]
        if batch == "auto":
            batch = min(AUTO_BATCH, n_samples or AUTO_BATCH)
        elif n_samples is not None:
            batch = min(batch, n_samples)
        sgd = p["solver"] == "sgd"
        return RunConfig(hidden=p["hidden_layer_sizes"], activation=p["activation"],
                         init=p["init"], optimizer=p["solver"], lr=p["learning_rate_init"],
                         momentum=p["momentum"] if sgd else 0.0,
                         nesterov=sgd and p["nesterovs_momentum"] and p["momentum"] > 0,
                         epochs=p["max_iter"], batch_size=batch,
                         regularizer="l2" if p["alpha"] else "none", lam=p["alpha"] / batch,
                         dropout=p["dropout"], loss=self._loss, seed=self._seed())

    def _seed(self) -> int:
        """An int seed from ``random_state``: an int as is, None as 0 (whynet's rule), one draw
        from a ``Generator`` or ``RandomState`` (scikit-learn's convention)."""
        rs = self.random_state
        if rs is None:
            return 0
        if isinstance(rs, Integral):
            return int(rs)
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(np.iinfo(np.int32).max))
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, X, y):
        """Train on ``(X, y)`` for up to ``max_iter`` epochs; a fresh network unless
        ``warm_start`` and already fitted. Returns ``self``."""
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental: bool, classes=None):
        p = self._checked()
        fresh = not ((incremental or p["warm_start"]) and hasattr(self, "model_"))
        X, y = self._validate(X, y, fresh, classes)
        if p["early_stopping"] and incremental:
            raise ConfigError(_("{type}: partial_fit does not support early_stopping=True")
                                .format(type=type(self).__name__))
        cfg = self.run_config(len(X))
        if fresh:
            self._start(cfg, X.shape[1])
        elif tuple(d.n_out for d in self._dense()[:-1]) != cfg.hidden:
            raise ConfigError(_("{type}: hidden_layer_sizes is {hidden} but the fitted network "
                                "has {value}; warm_start and partial_fit continue the same "
                                "network (set warm_start=False for a new one)")
                                .format(type=type(self).__name__, hidden=cfg.hidden,
                                        value=tuple(d.n_out for d in self._dense()[:-1])))
        if fresh or not incremental:  # a new optimiser, as scikit-learn's fit (also warm)
            self._optimizer = self._make_optimizer(cfg, p)
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: fit names it
            X = X.astype(self.model_.dtype, copy=False)
        train, val = self._split(X, y, cfg) if p["early_stopping"] else ((X, y), None)
        if fresh:
            self.callbacks_ = [cb(self.model_, *train, get_loss(self._loss))
                               if callable(cb) else cb for cb in p["callbacks"]]
        history = fit(self.model_, *train, loss=self._loss, optimizer=self._optimizer,
                      epochs=1 if incremental else cfg.epochs, batch_size=cfg.batch_size,
                      seed=self._rng, regularizer=build_regularizer(cfg),
                      callbacks=[SklearnRules(self, len(train[0]), val), *self.callbacks_],
                      shuffle=p["shuffle"], progress=False)
        self._record(history, incremental, cfg)
        return self

    def _start(self, cfg: RunConfig, n_in: int) -> None:
        """A fresh network and fresh training state (scikit-learn's ``_initialize``)."""
        self.model_ = build_model(cfg, n_in, self.n_outputs_)
        self._rng = np.random.default_rng(cfg.seed)
        self.loss_curve_, self.n_iter_, self.t_, self._no_improvement_count = [], 0, 0, 0
        if self.early_stopping:  # scikit-learn's attributes, None where they do not apply
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = \
                [], -math.inf, None
        else:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = \
                None, None, math.inf

    def _make_optimizer(self, cfg: RunConfig, p: dict):
        optimizer = build_optimizer(cfg, self.model_.parameters())
        if cfg.optimizer in ("adam", "adamw"):
            optimizer.betas, optimizer.eps = (p["beta_1"], p["beta_2"]), p["epsilon"]
        return optimizer

    def _split(self, X, y, cfg: RunConfig):
        """scikit-learn's validation split for ``early_stopping`` (stratified for classes)."""
        stratify = y if is_classifier(self) else None
        X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=self.validation_fraction,
                                                    random_state=cfg.seed, stratify=stratify)
        if len(X_val) < 2:
            raise ConfigError(_("{type}: the validation set is too small ({n_x_val} row); "
                                "increase validation_fraction or the data")
                                .format(type=type(self).__name__, n_x_val=len(X_val)))
        return (X_tr, y_tr), (X_val, y_val)

    def _record(self, history, incremental: bool, cfg: RunConfig) -> None:
        self.history_ = history
        self.loss_curve_ += history.epochs["loss"]
        self.n_iter_ = len(history)  # the epochs of this call, as scikit-learn counts
        if history.diverged:
            warnings.warn(f"{type(self).__name__}.fit: {history.stopped}; the weights are those "
                          f"before the diverging step (try a smaller learning_rate_init)",
                          ConvergenceWarning, stacklevel=3)
        elif not incremental and history.stopped is None and len(history) == cfg.epochs:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({cfg.epochs}) reached and "
                          f"the optimization hasn't converged yet.", ConvergenceWarning,
                          stacklevel=3)

    # -- what a fitted estimator shows ------------------------------------------------------------

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = _checked_data(self, X, dtype=[np.float32, np.float64], reset=False)
        # float64 outputs, so that softmax and the probabilities' sums are exact to float64
        return self.model_.predict(X.astype(self.model_.dtype, copy=False)).astype(np.float64)

    def _dense(self) -> list:
        check_is_fitted(self)
        return [m for m in self.model_.layers if isinstance(m, Dense)]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """scikit-learn's view of the weights: layer i's matrix, shape (n_in, n_out) (whynet's
        ``Dense.W`` transposed; a view, so writing to it changes the network)."""
        return [d.W.value.T for d in self._dense()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Each layer's bias, shape (n_out,) (a view)."""
        return [d.b.value for d in self._dense()]

    @property
    def n_layers_(self) -> int:
        """Layers counted as scikit-learn does: input, hidden and output."""
        return len(self._dense()) + 1


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier with scikit-learn's parameters, on whynet's engine.

    The network is ``Dense → activation [→ Dropout]`` per entry of ``hidden_layer_sizes``, then
    a ``Dense`` layer with one logit per class, trained with softmax cross-entropy (+ L2):
    ``L = −(1/m) Σᵢ log softmax(zᵢ)_{yᵢ} + (α / 2b)·Σ‖W‖²`` for a minibatch of b rows.
    Inputs (m, n_features) are cast to float32; ``predict_proba`` is (m, n_classes) in float64.

    Parameters: those of ``sklearn.neural_network.MLPClassifier`` (same names, defaults and
    meanings; see the module docstring for the differences; ``max_fun`` is accepted and unused,
    as it is for scikit-learn's stochastic solvers), plus ``init`` (a whynet initialiser name),
    ``dropout`` (drop probability after each hidden activation) and ``callbacks``.

    Attributes (after ``fit``): ``classes_``, ``n_features_in_``, ``n_outputs_``, ``loss_curve_``
    (training loss per epoch over every fit and partial_fit, penalty included), ``best_loss_``, ``validation_scores_`` and
    ``best_validation_score_`` (with ``early_stopping``), ``n_iter_`` (epochs of the last call), ``t_`` (samples seen),
    ``coefs_``, ``intercepts_``, ``n_layers_``, ``out_activation_``; whynet's ``model_`` (the
    :class:`whynet.nn.Sequential`, outputs logits), ``history_`` (the last fit's
    :class:`whynet.train.History`) and ``callbacks_``.

    Example:
        >>> from sklearn.datasets import make_moons
        >>> from whynet.estimator import MLPClassifier
        >>> X, y = make_moons(200, noise=0.1, random_state=0)
        >>> clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, batch_size=20,
        ...                     max_iter=60, random_state=0).fit(X, y)
        >>> clf.predict(X[:3]).tolist() == y[:3].tolist()
        True
        >>> bool(clf.score(X, y) > 0.95)
        True
    """

    _loss = "softmax_ce"
    out_activation_ = "softmax"

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)`` from the current weights (and optimiser state); the first
        call needs ``classes``, every label that will ever appear. Returns ``self``."""
        if not hasattr(self, "classes_") and classes is None:
            raise ConfigError(_("MLPClassifier.partial_fit: the first call needs classes=, every "
                                "class label that will appear"))
        return self._fit(X, y, incremental=True, classes=classes)

    def _validate(self, X, y, fresh: bool, classes=None):
        X, y = _checked_data(self, X, y, dtype=[np.float32, np.float64], reset=fresh)
        try:
            check_classification_targets(y)
        except ValueError as e:  # continuous or multi-output y
            raise _data_error("MLPClassifier", e) from None
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ConfigError(_("MLPClassifier: y must hold one label per row, got "
                                "{type_of_target} targets")
                                .format(type_of_target=type_of_target(y)))
        if fresh:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ConfigError(f"MLPClassifier.fit: y needs at least 2 classes, got 1 class "
                                  f"({labels[0]!r})")
            self.classes_, self.n_outputs_ = labels, len(labels)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                        self.classes_):
            raise ConfigError(f"MLPClassifier.partial_fit: classes={list(classes)!r} differs from "
                              f"the first call's {self.classes_.tolist()}; the network's outputs "
                              f"are fixed (fit anew for other classes)")
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ConfigError(_("MLPClassifier: y has labels {labels} not in classes_ {classes}")
                                .format(labels=unseen.tolist(),
                                        classes=self.classes_.tolist()))
        return X, np.searchsorted(self.classes_, y).astype(np.int64)

    def _score_model(self, X, y) -> float:
        """Accuracy of the network on encoded labels (the early-stopping score)."""
        return float(np.mean(self.model_.predict(X).argmax(axis=1) == y))

    def decision_function(self, X) -> np.ndarray:
        """Logits, shape (m, n_classes); for two classes the margin ``z₁ − z₀``, shape (m,)."""
        z = self._outputs(X)  # first: it raises NotFittedError before classes_ is read
        return z[:, 1] - z[:, 0] if len(self.classes_) == 2 else z

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the logits), shape (m, n_classes), rows sum to 1."""
        return softmax(self._outputs(X), axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        """log of :meth:`predict_proba`, computed stably from the logits."""
        return log_softmax(self._outputs(X), axis=1)

    def predict(self, X) -> np.ndarray:
        """The most probable class label for each row, shape (m,)."""
        z = self._outputs(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(z, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor with scikit-learn's parameters, on whynet's engine.

    Hidden layers as :class:`MLPClassifier`; the output layer is linear with one unit per target
    column, trained on the mean squared error (+ L2): ``L = (1/(m·k)) Σ (ŷ − y)² +
    (α / 2b)·Σ‖W‖²`` (scikit-learn's loss is half the first term). ``y`` is (m,) or (m, k);
    ``predict`` returns the same shape.

    Parameters and attributes: as :class:`MLPClassifier` (no ``classes_``); the early-stopping
    score is R².

    Example:
        >>> from sklearn.datasets import make_regression
        >>> X, y = make_regression(200, n_features=4, noise=1.0, random_state=0)
        >>> reg = MLPRegressor((32,), learning_rate_init=0.01, max_iter=300, random_state=0)
        >>> bool(reg.fit(X, y / y.std()).score(X, y / y.std()) > 0.95)
        True
    """

    _loss = "mse"
    out_activation_ = "identity"

    def partial_fit(self, X, y):
        """One epoch over ``(X, y)`` from the current weights and optimiser state."""
        return self._fit(X, y, incremental=True)

    def _validate(self, X, y, fresh: bool, classes=None):
        X, y = _checked_data(self, X, y, dtype=[np.float32, np.float64], multi_output=True,
                             y_numeric=True, reset=fresh)
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if fresh:
            self.n_outputs_, self._ravel = n_out, y.ndim == 1
        elif n_out != self.n_outputs_:
            raise ConfigError(_("MLPRegressor: y has {n_out} column(s), the fitted network "
                                "{n_outputs_}")
                                .format(n_out=n_out, n_outputs_=self.n_outputs_))
        return X, y.reshape(len(y), self.n_outputs_).astype(np.float32)

    def _score_model(self, X, y) -> float:
        """R² of the network (the early-stopping score)."""
        return float(r2_score(y, self.model_.predict(X)))

    def predict(self, X) -> np.ndarray:
        """Predictions, shape (m,) when fitted on a 1-D y, else (m, n_outputs)."""
        out = self._outputs(X)
        return out.ravel() if self._ravel else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
