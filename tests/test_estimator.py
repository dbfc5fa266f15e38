"""whynet.estimator.MLPClassifier: it learns, and it keeps scikit-learn's estimator contract."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from whynet.estimator import MLPClassifier, MLPRegressor
from whynet.nn.layers import Dense

# max_iter is reached on purpose in most tests here (as scikit-learn warns, so does whynet)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(600, noise=0.15, random_state=0)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _fast(**kw):
    return MLPClassifier(**{"hidden_layer_sizes": (32,), "learning_rate_init": 0.01,
                            "max_iter": 40, "batch_size": 32, "n_iter_no_change": 40, **kw})


def test_learns_moons(moons):
    """Two interleaved half-moons are not linearly separable; a 32-unit ReLU layer should reach
    ≥ 95 % held-out accuracy (noise 0.15 leaves the Bayes error near 1–2 %)."""
    X_tr, X_te, y_tr, y_te = moons
    clf = _fast().fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.95
    assert clf.n_features_in_ == 2 and clf.classes_.tolist() == [0, 1]
    assert clf.n_iter_ == 40 == len(clf.history_) and not clf.history_.diverged
    losses = clf.loss_curve_
    assert losses == clf.history_.epochs["loss"]
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
    clf = MLPClassifier((64, 32), max_iter=1).fit(X[:200], y[:200])
    shapes = [layer.W.value.shape for layer in clf.model_.layers if isinstance(layer, Dense)]
    assert shapes == [(64, 64), (32, 64), (10, 32)]
    # scikit-learn's view: coefs_ (n_in, n_out), the same arrays transposed
    assert [c.shape for c in clf.coefs_] == [(64, 64), (64, 32), (32, 10)]
    assert [b.shape for b in clf.intercepts_] == [(64,), (32,), (10,)] and clf.n_layers_ == 4
    assert clf.decision_function(X[:5]).shape == (5, 10)


def test_pipeline_cross_val_score_digits():
    """Inside Pipeline(StandardScaler, MLPClassifier), 3-fold cross-validation on sklearn's 8×8
    digits (unshuffled folds, so harder than a random split) is on par with scikit-learn's own
    MLPClassifier given the same parameters (measured: whynet 0.953/0.938/0.932, mean 0.941;
    sklearn 0.938/0.945/0.925, mean 0.936)."""
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    X, y = load_digits(return_X_y=True)
    params = dict(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=300, random_state=0)
    ours = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**params)), X, y, cv=3)
    theirs = cross_val_score(make_pipeline(StandardScaler(), SklearnMLP(**params)), X, y, cv=3)
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
    """alpha is scikit-learn's L2 term, α‖W‖²/(2·batch): run_config turns it into whynet's λ =
    α / batch_size, and a large α must leave a smaller Σw² than α = 0."""
    X_tr, _, y_tr, _ = moons

    def sq(clf):
        return sum(float(np.square(p.value).sum()) for p in clf.model_.parameters()
                   if p.regularize)

    assert _fast(alpha=3.2).run_config().lam == pytest.approx(0.1, rel=1e-12)
    assert sq(_fast(alpha=3.2).fit(X_tr, y_tr)) < 0.5 * sq(_fast(alpha=0.0).fit(X_tr, y_tr))


def test_divergence_warns_and_keeps_finite_weights(moons):
    """SGD with lr = 1e4 on inputs scaled by 1000 overflows within the first epoch: fit warns
    (ConvergenceWarning naming the step), records the divergence, and the kept weights (those
    before the bad step) are finite."""
    from sklearn.exceptions import ConvergenceWarning

    X_tr, _, y_tr, _ = moons
    clf = MLPClassifier(solver="sgd", learning_rate_init=1e4, max_iter=5)
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
    assert result.failed == 0 and result.attempted >= 8


def _expected_failures(estimator):
    return {
        "check_methods_subset_invariance":
            "the network computes in float32, and BLAS picks its blocking by batch size, so a "
            "row's logits can differ by 1 ulp (~2e-7) between a subset and the full batch; the "
            "check's tolerance is 1e-7",
    }


@parametrize_with_checks([MLPClassifier(max_iter=20, learning_rate_init=0.01),
                          MLPRegressor(max_iter=50, learning_rate_init=0.01)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    """scikit-learn's own checker on both estimators: fit/predict API, validation, cloning,
    pickling, invariances (the regressor's also multi-output targets)."""
    check(estimator)


# -- the swap: the same script with scikit-learn's estimators and with whynet's ----------------

#: Every parameter the issue names, spelled and meant as scikit-learn does.
SWAP_PARAMS = dict(hidden_layer_sizes=(32,), activation="relu", solver="adam", alpha=1e-4,
                   batch_size=32, learning_rate="constant", learning_rate_init=0.01,
                   max_iter=150, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                   validation_fraction=0.1, random_state=0, warm_start=False, verbose=False)


def _script(MLPClassifier, **changes):
    """A user's scikit-learn script; only the class it is given changes."""
    X, y = make_moons(600, noise=0.2, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    clf = MLPClassifier(**{**SWAP_PARAMS, **changes})
    clf.fit(X_tr, y_tr)
    out = {"acc": clf.score(X_te, y_te), "n_iter": clf.n_iter_, "curve": list(clf.loss_curve_),
           "proba": clf.predict_proba(X_te[:5]), "pred": clf.predict(X_te),
           "hidden_coefs": [c.shape for c in clf.coefs_[:-1]], "classes": clf.classes_.tolist()}
    if clf.early_stopping:
        try:
            clf.partial_fit(X_tr, y_tr)
        except ValueError as e:
            out["partial_refused"] = str(e)
        return out
    clf.partial_fit(X_tr, y_tr)  # one more epoch from where fit stopped
    out["after_partial"] = (clf.n_iter_, len(clf.loss_curve_), clf.score(X_te, y_te))
    return out


@pytest.mark.parametrize("changes", [
    {},
    {"solver": "sgd", "learning_rate": "adaptive", "learning_rate_init": 0.05},
    {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.1, "power_t": 0.25},
    {"early_stopping": True},
    {"activation": "tanh", "batch_size": "auto"},
], ids=["adam", "sgd-adaptive", "sgd-invscaling", "early-stopping", "tanh-auto-batch"])
def test_swap_sklearn_for_whynet(changes):
    """The same script runs with sklearn.neural_network.MLPClassifier and with whynet's: the same
    parameters are accepted, fit/predict/predict_proba/score/partial_fit/loss_curve_/n_iter_/
    coefs_ work, and held-out accuracy on noisy moons (noise 0.2, Bayes error ≈ 5 %) is in the
    same range: both ≥ 0.83, at most 0.1 apart. Measured (sklearn / whynet): adam 0.940 / 0.947,
    sgd-adaptive 0.940 / 0.947, sgd-invscaling 0.887 / 0.933, early stopping 0.873 (21 epochs) /
    0.913 (35), tanh with batch 'auto' 0.860 (its training loss stalled by tol at epoch 42) /
    0.947. The initialisations differ (Glorot-uniform vs He/Xavier), so the runs are not
    identical; the rules that stop them are the same."""
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs, ours = _script(SklearnMLP, **changes), _script(MLPClassifier, **changes)
    for out in (theirs, ours):
        assert out["acc"] >= 0.83, out["acc"]
        assert out["n_iter"] == len(out["curve"]) <= SWAP_PARAMS["max_iter"]
        assert out["curve"][-1] < 0.7 * out["curve"][0]  # it learned from the start's loss
        assert out["proba"].shape == (5, 2) and np.allclose(out["proba"].sum(axis=1), 1)
        if "early_stopping" in changes:  # both refuse partial_fit with early stopping
            assert "partial_fit does not support early_stopping" in out["partial_refused"]
        else:  # n_iter_ counts the last call's epochs; loss_curve_ keeps growing
            assert out["after_partial"][:2] == (1, out["n_iter"] + 1)
            assert out["after_partial"][2] >= 0.8
    assert abs(ours["acc"] - theirs["acc"]) <= 0.1, (ours["acc"], theirs["acc"])
    assert ours["hidden_coefs"] == theirs["hidden_coefs"] == [(2, 32)]
    assert ours["classes"] == theirs["classes"] == [0, 1]
    assert np.mean(ours["pred"] == theirs["pred"]) >= 0.9  # they mostly agree row by row


def test_swap_regressor():
    """The same regression script with scikit-learn's MLPRegressor and whynet's: R² in the same
    range on a smooth 3-feature target, partial_fit, and 2-D targets giving 2-D predictions."""
    from sklearn.datasets import make_friedman1
    from sklearn.neural_network import MLPRegressor as SklearnReg

    X, y = make_friedman1(500, n_features=5, noise=0.3, random_state=0)
    y = (y - y.mean()) / y.std()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    scores = {}
    for cls in (SklearnReg, MLPRegressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg = cls(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=300,
                      batch_size=32, random_state=0).fit(X_tr, y_tr)
        n = reg.n_iter_
        reg.partial_fit(X_tr, y_tr)
        assert reg.n_iter_ == 1 and len(reg.loss_curve_) == n + 1
        assert reg.predict(X_te).shape == (len(X_te),)
        scores[cls.__module__.split(".")[0]] = reg.score(X_te, y_te)
        Y = np.column_stack([y_tr, -y_tr])
        assert cls(max_iter=5).fit(X_tr, Y).predict(X_te).shape == (len(X_te), 2)
    assert min(scores.values()) >= 0.85 and abs(scores["sklearn"] - scores["whynet"]) <= 0.05, \
        scores


# -- scikit-learn's parameters: names, meanings, refusals ------------------------------------

@pytest.mark.parametrize("kwargs, words", [
    ({"learning_rate": 0.01}, ["learning_rate is scikit-learn's schedule", "learning_rate_init"]),
    ({"learning_rate": "cosine"}, ["learning_rate must be one of", "'adaptive'"]),
    ({"solver": "lbfgs"}, ["solver='lbfgs' is not supported"]),
    ({"activation": "softmax"}, ["activation must be one of identity, logistic, tanh, relu"]),
    ({"hidden_layer_sizes": (16, 0)}, ["hidden_layer_sizes[1]"]),
    ({"batch_size": "big"}, ["batch_size"]),
    ({"max_iter": 0}, ["max_iter"]),
    ({"momentum": 1.5}, ["momentum"]),
    ({"validation_fraction": 1.0}, ["validation_fraction"]),
    ({"callbacks": [42]}, ["callbacks[0] is neither a whynet callback"]),
])
def test_bad_parameters_are_named(kwargs, words):
    """A bad value raises at fit a ValueError (whynet's ConfigError) naming the parameter."""
    X, y = make_moons(40, random_state=0)
    with pytest.raises(ValueError) as e:
        MLPClassifier(**kwargs).fit(X, y)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_whynet_old_names_are_unknown():
    """The old whynet spellings (epochs, optimizer) are refused naming the parameter, as by
    scikit-learn's own estimator, instead of being silently ignored."""
    with pytest.raises(TypeError, match="epochs"):
        MLPClassifier(epochs=5)
    with pytest.raises(ValueError, match="optimizer"):
        MLPClassifier().set_params(optimizer="sgd")


def test_run_config_translation():
    """scikit-learn's spelling becomes whynet's one RunConfig: solver → optimizer, sgd's
    Nesterov momentum, max_iter → epochs, batch 'auto' = min(200, n), α → λ = α / batch."""
    clf = MLPClassifier((8, 4), activation="logistic", solver="sgd", learning_rate_init=0.1,
                        momentum=0.8, max_iter=7, alpha=0.5, random_state=3)
    cfg = clf.run_config(n_samples=150)
    assert (cfg.hidden, cfg.activation, cfg.optimizer, cfg.lr) == ((8, 4), "sigmoid", "sgd", 0.1)
    assert (cfg.momentum, cfg.nesterov, cfg.epochs, cfg.batch_size) == (0.8, True, 7, 150)
    assert cfg.regularizer == "l2" and cfg.lam == 0.5 / 150 and cfg.seed == 3
    assert clf.run_config(n_samples=1000).batch_size == 200
    adam = MLPClassifier(alpha=0.0).run_config(n_samples=50)
    assert adam.momentum == 0.0 and not adam.nesterov and adam.regularizer == "none"


class _Ctx:
    """The part of fit's TrainContext that the rules touch."""

    def __init__(self, lr):
        from whynet.train import History

        self.optimizer = type("Opt", (), {"lr": lr})()
        self.history, self.stop, self.model = History(), False, None


@pytest.mark.parametrize("schedule, expect", [
    # losses 1.0, 0.9, then flat: epochs 3, 4, 5 do not improve by tol; the count passes
    # n_iter_no_change = 2 at epoch 5: 'constant' stops there, 'adaptive' divides the step by 5
    ("constant", {"stop": 5, "lrs": [0.1] * 5}),
    ("adaptive", {"stop": None, "lrs": [0.1] * 4 + [0.02, 0.02, 0.02, 0.004]}),
])
def test_no_improvement_rule_is_sklearns(schedule, expect):
    """SklearnRules on a scripted loss sequence: scikit-learn's count (loss > best − tol) and its
    reaction after more than n_iter_no_change epochs (stop, or η/5 with 'adaptive')."""
    from whynet.estimator import SklearnRules

    clf = MLPClassifier(solver="sgd", learning_rate=schedule, learning_rate_init=0.1,
                        n_iter_no_change=2, tol=1e-4)
    clf.t_, clf._no_improvement_count, clf.best_loss_, clf.n_iter_ = 0, 0, np.inf, 0
    rules, ctx = SklearnRules(clf, n_samples=10), _Ctx(0.1)
    lrs, stopped = [], None
    for epoch, loss in enumerate([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 1):
        rules.on_epoch_end(epoch, {"loss": loss}, ctx)
        lrs.append(ctx.optimizer.lr)
        if ctx.stop:
            stopped = epoch
            break
    assert stopped == expect["stop"] and lrs == pytest.approx(expect["lrs"])
    assert clf.t_ == 10 * len(lrs) and clf.best_loss_ == 0.9


def test_invscaling_steps_follow_sklearns_formula(moons):
    """With 'invscaling' the step of epoch e is η₀ / (t + 1)^power_t, t = samples seen before it
    (scikit-learn's iteration_ends); with adam the schedule is ignored, as in scikit-learn."""
    X_tr, _, y_tr, _ = moons
    clf = MLPClassifier((8,), solver="sgd", learning_rate="invscaling", learning_rate_init=0.5,
                        power_t=0.5, max_iter=4).fit(X_tr, y_tr)
    n = len(X_tr)
    assert clf.history_.epochs["lr"] == pytest.approx([0.5] + [0.5 / (e * n + 1) ** 0.5
                                                                for e in (1, 2, 3)])
    adam = MLPClassifier((8,), learning_rate="invscaling", max_iter=3).fit(X_tr, y_tr)
    assert adam.history_.epochs["lr"] == [0.001] * 3


def test_early_stopping_keeps_the_best_validation_weights(moons):
    """early_stopping holds out validation_fraction (stratified, seeded by random_state), scores
    accuracy each epoch, and leaves the weights of the best score: re-scoring the same split
    with the final network gives best_validation_score_ exactly."""
    X_tr, _, y_tr, _ = moons
    clf = MLPClassifier((16,), early_stopping=True, validation_fraction=0.2, max_iter=200,
                        learning_rate_init=0.01, random_state=5).fit(X_tr, y_tr)
    assert clf.n_iter_ < 200 and clf.history_.stopped.startswith("Validation score did not")
    assert len(clf.validation_scores_) == clf.n_iter_ and clf.best_loss_ is None
    assert _fast().fit(X_tr, y_tr).validation_scores_ is None  # as scikit-learn
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    _, X_val, _, y_val = train_test_split(X_tr, y_tr, test_size=0.2, random_state=5,
                                          stratify=y_tr)
    assert clf.score(X_val, y_val) == clf.best_validation_score_
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        clf.partial_fit(X_tr, y_tr)


def test_warm_start_and_partial_fit_continue(moons):
    """warm_start: a second fit starts from the first one's weights (its first epoch's loss is
    far below a fresh start's) and extends loss_curve_; partial_fit needs classes on its first
    call, then each call is one epoch."""
    X_tr, X_te, y_tr, y_te = moons
    clf = _fast(warm_start=True, max_iter=20).fit(X_tr, y_tr)
    first = list(clf.loss_curve_)
    clf.fit(X_tr, y_tr)
    assert clf.n_iter_ == 20 and len(clf.loss_curve_) == 40 and clf.loss_curve_[:20] == first
    assert clf.loss_curve_[20] < 0.6 * first[0]
    inc = MLPClassifier((32,), learning_rate_init=0.01, batch_size=32)
    with pytest.raises(ValueError, match="first call needs classes"):
        inc.partial_fit(X_tr, y_tr)
    for _ in range(20):
        inc.partial_fit(X_tr, y_tr, classes=[0, 1])
    assert inc.n_iter_ == 1 and len(inc.loss_curve_) == 20 and inc.score(X_te, y_te) >= 0.95
    assert inc.t_ == 20 * len(X_tr)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes is \(8,\) but the fitted network "
                                         r"has \(32,\)"):
        clf.set_params(hidden_layer_sizes=(8,)).fit(X_tr, y_tr)


def test_verbose_prints_sklearns_lines(moons, capsys):
    X_tr, _, y_tr, _ = moons
    MLPClassifier((4,), max_iter=2, verbose=True).fit(X_tr, y_tr)
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(",")[0] for ln in lines] == ["Iteration 1", "Iteration 2"]
    assert lines[0].startswith("Iteration 1, loss = ")


# -- a Probe inside a Pipeline, tuned by GridSearchCV -----------------------------------------

def test_probe_inside_gridsearch_pipeline():
    """callbacks=[ProbeCallback(...)] survives clone: every candidate fit gets its own Probe on
    its own network; the refit best estimator's probe watched the rows the network saw (after
    StandardScaler: mean ≈ 0, std ≈ 1) every 5 steps, and the search still picks by score."""
    from sklearn.model_selection import GridSearchCV

    from whynet.estimator import ProbeCallback
    from whynet.probes import Probe

    X, y = make_moons(300, noise=0.2, random_state=0)
    X = X * 50 + 100  # far from standardised: only the pipeline's scaler makes it so
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        (16,), max_iter=15, batch_size=30, learning_rate_init=0.01,
        callbacks=[ProbeCallback(every=5, examples=64)]))
    search = GridSearchCV(pipe, {"mlpclassifier__activation": ["relu", "tanh"]}, cv=2).fit(X, y)
    best = search.best_estimator_[-1]
    probe = best.callbacks_[0]
    assert isinstance(probe, Probe) and probe.model is best.model_
    assert len(probe.X) == 64 and abs(probe.X.mean()) < 0.3 and 0.7 < probe.X.std() < 1.3
    steps = probe.records.steps()
    assert steps[0] == 1 and steps[-1] == 150 and len(steps) == 31  # 15 epochs × 10 steps
    assert pipe[-1].callbacks[0] is not search.best_estimator_[-1].callbacks[0]
    assert len(search.cv_results_["mean_test_score"]) == 2 and search.best_score_ >= 0.85
