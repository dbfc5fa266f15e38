"""whynet.estimator.MLPClassifier: it learns, and it keeps scikit-learn's estimator contract."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from whynet.estimator import MLPClassifier
from whynet.nn.layers import Dense


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(600, noise=0.15, random_state=0)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _fast(**kw):
    return MLPClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, epochs=40, **kw)


def test_learns_moons(moons):
    """Two interleaved half-moons are not linearly separable; a 32-unit ReLU layer should reach
    ≥ 95 % held-out accuracy (noise 0.15 leaves the Bayes error near 1–2 %)."""
    X_tr, X_te, y_tr, y_te = moons
    clf = _fast().fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.95
    assert clf.n_features_in_ == 2 and clf.classes_.tolist() == [0, 1]
    assert clf.n_iter_ == 40 == len(clf.history_) and not clf.history_.diverged
    losses = clf.history_.epochs["loss"]
    assert losses[-1] < 0.5 * losses[0]  # the loss actually went down, not a lucky init
    assert clf.model_.dtype == np.float32  # float64 data was cast, the model stays float32
    proba = clf.predict_proba(X_te)
    assert proba.shape == (len(X_te), 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the three outputs agree: argmax of proba = predict = sign of the binary margin
    assert np.array_equal(clf.predict(X_te), proba.argmax(axis=1))
    assert clf.decision_function(X_te).shape == (len(X_te),)
    assert np.array_equal(clf.decision_function(X_te) > 0, clf.predict(X_te) == 1)


def test_architecture_and_multiclass_decision():
    """hidden_layer_sizes (64, 32) on 64-pixel digits gives Dense 64→64→32→10, and the
    multiclass decision_function is the (m, 10) logits."""
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier((64, 32), epochs=1).fit(X[:200], y[:200])
    shapes = [layer.W.value.shape for layer in clf.model_.layers if isinstance(layer, Dense)]
    assert shapes == [(64, 64), (32, 64), (10, 32)]
    assert clf.decision_function(X[:5]).shape == (5, 10)


def test_pipeline_cross_val_score_digits():
    """Inside Pipeline(StandardScaler, MLPClassifier), 3-fold cross-validation on sklearn's 8×8
    digits (unshuffled folds, so harder than a random split) is on par with scikit-learn's own
    MLPClassifier of the same width (measured: whynet 0.943, sklearn 0.936 mean accuracy)."""
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    X, y = load_digits(return_X_y=True)
    ours = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier((64,), alpha=1e-3)),
                           X, y, cv=3)
    theirs = cross_val_score(make_pipeline(StandardScaler(),
                                           SklearnMLP((64,), max_iter=300, random_state=0)),
                             X, y, cv=3)
    assert ours.shape == (3,) and ours.min() >= 0.91, ours
    assert ours.mean() >= theirs.mean() - 0.01, (ours, theirs)


def test_string_labels_round_trip(moons):
    """String labels come back as the same strings, and since classes_ is sorted ("cat" → 0,
    "dog" → 1) the fit is bit-identical to the one on integer labels."""
    X_tr, X_te, y_tr, _ = moons
    names = np.array(["cat", "dog"])
    clf_s = _fast().fit(X_tr, names[y_tr])
    clf_i = _fast().fit(X_tr, y_tr)
    assert clf_s.classes_.tolist() == ["cat", "dog"]
    pred = clf_s.predict(X_te)
    assert pred.dtype.kind == "U" and set(pred) == {"cat", "dog"}
    assert np.array_equal(pred, names[clf_i.predict(X_te)])


def test_random_state_determinism(moons):
    """Same random_state → identical probabilities; another → different initial weights and
    batches, hence different probabilities."""
    X_tr, X_te, y_tr, _ = moons
    p0 = _fast(random_state=3).fit(X_tr, y_tr).predict_proba(X_te)
    p1 = _fast(random_state=3).fit(X_tr, y_tr).predict_proba(X_te)
    p2 = _fast(random_state=4).fit(X_tr, y_tr).predict_proba(X_te)
    assert np.array_equal(p0, p1)
    assert not np.allclose(p0, p2)


def test_clone_refits_identically(moons):
    """clone copies the hyperparameters only: the clone is unfitted, and fitting it reproduces
    the original's predictions exactly."""
    X_tr, X_te, y_tr, _ = moons
    clf = _fast(alpha=1e-3, dropout=0.1).fit(X_tr, y_tr)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(twin)
    assert np.array_equal(twin.fit(X_tr, y_tr).predict_proba(X_te), clf.predict_proba(X_te))


def test_alpha_shrinks_weights(moons):
    """alpha is whynet's L2 λ: a large λ must leave a smaller Σw² than λ = 0."""
    X_tr, _, y_tr, _ = moons

    def sq(clf):
        return sum(float(np.square(p.value).sum()) for p in clf.model_.parameters()
                   if p.regularize)

    assert sq(_fast(alpha=0.1).fit(X_tr, y_tr)) < 0.5 * sq(_fast().fit(X_tr, y_tr))


def test_divergence_warns_and_keeps_finite_weights(moons):
    """SGD with lr = 1e4 on inputs scaled by 1000 overflows within the first epoch: fit warns
    (ConvergenceWarning naming the step), records the divergence, and the kept weights (those
    before the bad step) are finite."""
    from sklearn.exceptions import ConvergenceWarning

    X_tr, _, y_tr, _ = moons
    clf = MLPClassifier(optimizer="sgd", learning_rate=1e4, epochs=5)
    with pytest.warns(ConvergenceWarning, match="diverged at step"):
        clf.fit(X_tr * 1e3, y_tr)
    assert clf.history_.diverged and clf.n_iter_ == 0  # stopped inside epoch 1
    assert all(np.isfinite(p.value).all() for p in clf.model_.parameters())


def test_random_state_conventions(moons):
    """None is whynet's seed 0; a RandomState (sklearn's other convention) is accepted and, like
    an int, gives the same fit every time it is rebuilt with the same seed."""
    X_tr, X_te, y_tr, _ = moons
    p_none = _fast(random_state=None).fit(X_tr, y_tr).predict_proba(X_te)
    p_zero = _fast(random_state=0).fit(X_tr, y_tr).predict_proba(X_te)
    assert np.array_equal(p_none, p_zero)
    rs = [_fast(random_state=np.random.RandomState(7)).fit(X_tr, y_tr).predict_proba(X_te)
          for _ in range(2)]
    assert np.array_equal(rs[0], rs[1])


def test_docstring_example():
    """The example in MLPClassifier's docstring runs and its outputs are right."""
    import doctest

    import whynet.estimator as module

    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted >= 5


def _expected_failures(estimator):
    return {
        "check_methods_subset_invariance":
            "the network computes in float32, and BLAS picks its blocking by batch size, so a "
            "row's logits can differ by 1 ulp (~2e-7) between a subset and the full batch; the "
            "check's tolerance is 1e-7",
    }


@parametrize_with_checks([MLPClassifier(epochs=20, learning_rate=0.01)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    """scikit-learn's own checker: fit/predict API, validation, cloning, pickling, invariances."""
    check(estimator)
