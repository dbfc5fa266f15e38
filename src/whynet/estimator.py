"""A scikit-learn compatible classifier built on whynet's engine.

:class:`MLPClassifier` wraps :func:`whynet.nn.mlp` and :func:`whynet.train.fit` behind the
scikit-learn estimator API, so a whynet network can sit in a ``Pipeline``, be cross-validated
with ``cross_val_score`` or tuned with ``GridSearchCV``. Input validation, label handling and
the fitted-state checks are scikit-learn's own helpers; the network, the loss and the training
loop are whynet's.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .config import RunConfig, build
from .datasets import Dataset


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A multilayer perceptron classifier: whynet's ``mlp`` trained with softmax cross-entropy.

    The network is ``Dense → activation [→ Dropout]`` per entry of ``hidden_layer_sizes``, then a
    ``Dense`` layer with one logit per class; ``predict_proba`` is the softmax of the logits.
    Inputs are cast to the model's float32 (float64 data is accepted and converted once).

    Args:
        hidden_layer_sizes: units per hidden layer, e.g. ``(16,)`` or ``(64, 32)``.
        activation: hidden activation name (``whynet.nn.activations.ACTIVATIONS``).
        init: weight initialiser name; None = each activation's suggested one (He for ReLU…).
        optimizer: ``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or ``"adamw"``.
        learning_rate: step size; None = the optimiser's PyTorch default (Adam: 1e-3).
        epochs: passes over the training data.
        batch_size: examples per minibatch (the last, partial batch is kept).
        alpha: L2 strength λ of the penalty ``(λ/2)·Σw²`` over the weights (not the biases).
        dropout: drop probability after each hidden activation (0 = no Dropout layers).
        random_state: int seed (None = seed 0, whynet's convention), a ``numpy.random.Generator``
            or a ``RandomState``; it fixes the initial weights, dropout masks and the shuffling,
            so the same value gives the same predictions.

    Attributes (after ``fit``):
        classes_: the sorted distinct labels, shape (n_classes,).
        n_features_in_: the number of input features (and ``feature_names_in_`` for DataFrames).
        model_: the trained :class:`whynet.nn.Sequential` (outputs logits).
        history_: the :class:`whynet.train.History` of the fit.
        n_iter_: the number of epochs run.

    Example:
        >>> from sklearn.datasets import make_moons
        >>> from whynet.estimator import MLPClassifier
        >>> X, y = make_moons(200, noise=0.1, random_state=0)
        >>> clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, epochs=60).fit(X, y)
        >>> clf.predict(X[:3]).tolist() == y[:3].tolist()
        True
        >>> bool(clf.score(X, y) > 0.95)
        True
    """

    def __init__(self, hidden_layer_sizes=(16,), activation="relu", init=None, optimizer="adam",
                 learning_rate=None, epochs=50, batch_size=32, alpha=0.0, dropout=0.0,
                 random_state=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.dropout = dropout
        self.random_state = random_state

    def fit(self, X, y):
        """Train a fresh network on ``(X, y)``; return ``self``."""
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"MLPClassifier.fit: y needs at least 2 classes, got 1 class "
                             f"({classes[0]!r})")
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: fit names it
            X32 = X.astype(np.float32, copy=False)
        run = build(self.run_config(),
                    data=Dataset(X32, y_enc.astype(np.int64), "X", n_classes=len(classes)))
        model = run.model
        history = run.fit()
        if history.diverged:
            warnings.warn(f"MLPClassifier.fit: {history.stopped}; the weights are those before "
                          f"the diverging step (try a smaller learning_rate)", ConvergenceWarning,
                          stacklevel=2)
        self.classes_ = classes
        self.model_ = model
        self.history_ = history
        self.n_iter_ = len(history)
        return self

    def run_config(self) -> RunConfig:
        """These parameters in whynet's one configuration (:class:`whynet.config.RunConfig`):
        ``hidden_layer_sizes`` → ``hidden``, ``learning_rate`` → ``lr``, ``alpha`` → an L2
        penalty's ``lam``, ``random_state`` → ``seed``; softmax cross-entropy."""
        hidden = self.hidden_layer_sizes
        return RunConfig(hidden=(hidden,) if isinstance(hidden, Integral) else tuple(hidden),
                         activation=self.activation, init=self.init, optimizer=self.optimizer,
                         lr=self.learning_rate, epochs=self.epochs, batch_size=self.batch_size,
                         regularizer="l2" if self.alpha else "none", lam=self.alpha,
                         dropout=self.dropout, loss="softmax_ce", seed=self._seed())

    def _seed(self) -> int:
        """An int seed for whynet from ``random_state``: an int as is, None as 0, and one draw
        from a ``Generator`` or ``RandomState`` (scikit-learn's convention)."""
        rs = self.random_state
        if rs is None:
            return 0
        if isinstance(rs, Integral):
            return rs
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(np.iinfo(np.int32).max))
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        # float64 logits, so that softmax and the probabilities' sums are exact to float64
        return self.model_.predict(X.astype(self.model_.dtype, copy=False)).astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        """Logits, shape (m, n_classes); for two classes the margin ``z₁ − z₀``, shape (m,)."""
        z = self._logits(X)  # first: it raises NotFittedError before classes_ is read
        return z[:, 1] - z[:, 0] if len(self.classes_) == 2 else z

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the logits), shape (m, n_classes), rows sum to 1."""
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        """log of :meth:`predict_proba`, computed stably from the logits."""
        return log_softmax(self._logits(X), axis=1)

    def predict(self, X) -> np.ndarray:
        """The most probable class label for each row, shape (m,)."""
        z = self._logits(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(z, axis=1)]
