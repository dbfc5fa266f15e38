"""Data sets: shapes, dtypes, balance, determinism, MNIST-1D's statistics, file loading errors
and preprocessing statistics."""

import warnings

import numpy as np
import pytest

from whynet.datasets import (DATASETS, PLAYGROUND_FEATURES, RADIUS, REGRESSION_SETS, TOY_2D,
                             Dataset, LogTransform, MinMax, Splits, Standardize, blobs, circles,
                             digits, flower, gaussian, get_dataset, get_preprocessor, load_arrays,
                             load_csv, log_transform, minmax, mnist1d, moons, noisy,
                             polynomial_features, spiral, split, standardize, xor)
from whynet.errors import ConfigError, NonFiniteError, ShapeError, UnknownNameError, WhynetError


@pytest.fixture(scope="module")
def m1d():
    return mnist1d(seed=0)


# -- toy 2-D sets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TOY_2D)
def test_toy_shapes_dtypes_and_names(name):
    ds = get_dataset(name, n=101, seed=3)
    assert isinstance(ds, Dataset) and ds.name == name
    assert ds.X.shape == (101, 2) and ds.X.dtype == np.float32
    assert ds.y.shape == (101,) and ds.y.dtype == np.int64
    assert ds.feature_names == ("x1", "x2")
    assert set(np.unique(ds.y)) == set(range(ds.n_classes))
    assert np.isfinite(ds.X).all()
    X, y = ds  # a Dataset unpacks as a pair
    assert X is ds.X and y is ds.y and len(ds) == 101


@pytest.mark.parametrize("name", ["moons", "circles", "gaussian", "spiral", "flower"])
def test_two_class_sets_are_exactly_balanced(name):
    # By construction the two classes differ by at most one point.
    assert sorted(get_dataset(name, n=101).class_counts().tolist()) == [50, 51]


def test_xor_is_balanced_on_average_and_exact_without_noise():
    ds = xor(n=4000, noise=0.0, seed=1)
    # Each point falls in a random quadrant: the share of class 1 is 0.5 ± ~0.008 (1 std).
    assert abs(ds.y.mean() - 0.5) < 0.03
    assert np.array_equal(ds.y, (ds.X[:, 0] * ds.X[:, 1] < 0).astype(np.int64))
    # Playground's 0.3 gap: no point closer than 0.3 to an axis.
    assert np.abs(ds.X).min() >= 0.3
    noisy = xor(n=4000, noise=0.5, seed=1)
    flipped = (noisy.y != (noisy.X[:, 0] * noisy.X[:, 1] < 0)).mean()
    assert 0.05 < flipped < 0.5  # noise moves the label, not the point


@pytest.mark.parametrize("name", TOY_2D)
def test_toy_determinism(name):
    a, b, c = (get_dataset(name, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_seed_accepts_a_generator_and_uses_it():
    a = spiral(seed=np.random.default_rng(5), noise=0.2)
    b = spiral(seed=np.random.default_rng(5), noise=0.2)
    assert np.array_equal(a.X, b.X)
    rng = np.random.default_rng(5)
    first, second = moons(seed=rng), moons(seed=rng)  # the generator advances between calls
    assert not np.array_equal(first.X, second.X)


def test_moons_circles_blobs_are_scikit_learns():
    from sklearn.datasets import make_blobs, make_circles, make_moons

    X, y = make_moons(n_samples=150, noise=0.3, random_state=4)
    ds = moons(n=150, noise=0.3, seed=4)
    np.testing.assert_array_equal(ds.X, X.astype(np.float32))
    np.testing.assert_array_equal(ds.y, y)
    X, y = make_circles(n_samples=150, noise=0.05, factor=0.3, random_state=4)
    np.testing.assert_array_equal(circles(n=150, noise=0.05, factor=0.3, seed=4).X,
                                  X.astype(np.float32))
    X, y = make_blobs(n_samples=90, centers=4, cluster_std=0.5, random_state=4)
    ds = blobs(n=90, centers=4, noise=0.5, seed=4)
    np.testing.assert_array_equal(ds.X, X.astype(np.float32))
    assert ds.n_classes == 4 and ds.class_counts().tolist() == [23, 23, 22, 22]


def test_gaussian_variance_follows_playground():
    # Playground: variance 0.5 at noise 0 and 4 at noise 0.5 (a linear map).
    for noise, var in ((0.0, 0.5), (0.5, 4.0)):
        ds = gaussian(n=20000, noise=noise, seed=0)
        c1 = ds.X[ds.y == 1]
        np.testing.assert_allclose(c1.mean(axis=0), [2, 2], atol=0.1)
        np.testing.assert_allclose(c1.var(axis=0), [var, var], rtol=0.05)


def test_spiral_geometry_and_k_arms():
    ds = spiral(n=300, noise=0.0, arms=3, seed=0)
    assert ds.n_classes == 3 and ds.class_counts().tolist() == [100, 100, 100]
    r = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert r.max() < 5 and r.min() == 0  # r = 5·i/n_a for i = 0 … n_a − 1
    # Without noise, arm 1 is arm 0 turned by 2π/3: the same radii.
    r0, r1 = (np.sort(r[ds.y == j]) for j in (0, 1))
    np.testing.assert_allclose(r0, r1, atol=1e-5)


def test_flower_is_a_rose_curve_of_radius_four():
    ds = flower(n=400, noise=0.0, seed=0)
    r = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert r.max() <= 4.0 + 1e-5 and r.max() > 3.9  # |4 sin 4t| peaks at 4


def test_toy_bad_arguments_name_the_generator():
    with pytest.raises(ConfigError, match="moons: n must be an integer ≥ 2, got 1"):
        moons(n=1)
    with pytest.raises(ConfigError, match="circles: noise must be a finite number ≥ 0"):
        circles(noise=-0.1)
    with pytest.raises(ConfigError, match="spiral: arms"):
        spiral(arms=1)
    with pytest.raises(ConfigError, match="rng must be"):
        xor(seed=-1)


def test_get_dataset_unknown_name_and_argument():
    with pytest.raises(UnknownNameError, match="unknown data set 'moon'; known: blobs, circles"):
        get_dataset("moon")
    with pytest.raises(ConfigError, match="data set 'moons': unknown argument.*noies.*noise"):
        get_dataset("moons", noies=0.1)
    assert set(DATASETS) >= set(TOY_2D) | {"digits", "mnist1d"}


# -- digits ---------------------------------------------------------------------------------------

def test_digits_flat_and_images():
    ds = digits()
    assert ds.X.shape == (1797, 64) and ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0  # counts 0…16 divided by 16
    assert ds.n_classes == 10 and ds.class_counts().min() >= 174
    im = digits(images=True)
    assert im.X.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(im.X.reshape(1797, 64), ds.X)
    assert im.n_features == 64


# -- MNIST-1D -------------------------------------------------------------------------------------

def test_mnist1d_shapes_split_and_standardisation(m1d):
    assert isinstance(m1d, Splits) and m1d.val is None
    tr, te = m1d.train, m1d.test
    assert tr.X.shape == (4000, 40) and te.X.shape == (1000, 40)
    assert tr.X.dtype == np.float32 and tr.y.dtype == np.int64
    assert tr.n_classes == 10 and set(np.unique(te.y)) == set(range(10))
    # 500 of each class in all; the shuffle spreads them over train and test.
    counts = tr.class_counts() + te.class_counts()
    assert counts.tolist() == [500] * 10
    assert tr.class_counts().min() > 350
    # Standardised as a whole (train and test together), as the original does.
    allx = np.concatenate([tr.X, te.X]).astype(np.float64)
    assert abs(allx.mean()) < 1e-5 and abs(allx.std() - 1) < 1e-5


def test_mnist1d_determinism(m1d):
    again = mnist1d(seed=0)
    assert np.array_equal(again.train.X, m1d.train.X) and np.array_equal(again.test.y, m1d.test.y)
    other = mnist1d(seed=1)
    assert not np.array_equal(other.train.X, m1d.train.X)


def test_mnist1d_shuffled_is_a_fixed_column_permutation(m1d):
    sh = mnist1d(seed=0, shuffle_seq=True)
    perm = [int(name[1:]) for name in sh.train.feature_names]
    assert sorted(perm) == list(range(40)) and perm != list(range(40))
    np.testing.assert_array_equal(sh.train.X, m1d.train.X[:, perm])
    np.testing.assert_array_equal(sh.test.X, m1d.test.X[:, perm])
    np.testing.assert_array_equal(sh.train.y, m1d.train.y)
    # The permutation depends on the seed only: the same for any n.
    small = mnist1d(n=100, seed=0, shuffle_seq=True)
    assert small.train.feature_names == sh.train.feature_names


def test_mnist1d_templates_are_the_originals():
    from whynet.datasets.mnist1d import templates

    t = templates()
    assert t.shape == (10, 12)
    # Whitened, shifted to start at 0, divided by 6 (so each row has std 1/6).
    np.testing.assert_allclose(t[:, 0], 0.0)
    np.testing.assert_allclose(t.std(axis=1), 1 / 6)


def test_mnist1d_logistic_regression_is_near_the_papers_32_percent(m1d):
    """The paper reports 32% test accuracy for logistic regression on the original MNIST-1D.

    Our port draws different random numbers, so the number differs by sampling noise (seeds 0–2
    gave 30.6%, 33.6%, 30.1%); a band of 25–45% catches a broken port, which makes the set either
    easy (without the translation step the same model scores 99.8%, without the noise 78%) or
    pure noise (≈ 10%), while leaving room for the seed."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on a busy 2-core machine, threaded BLAS makes this fit 100× slower.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # lbfgs' ConvergenceWarning is irrelevant here
        clf = LogisticRegression(max_iter=300).fit(m1d.train.X, m1d.train.y)
    acc = clf.score(m1d.test.X, m1d.test.y)
    assert 0.25 <= acc <= 0.45, acc


def test_mnist1d_arguments():
    small = mnist1d(n=50, seed=2)
    assert len(small.train) == 40 and len(small.test) == 10
    with pytest.raises(ConfigError, match="mnist1d: n must be an integer ≥ 10"):
        mnist1d(n=5)
    with pytest.raises(ConfigError, match="mnist1d: train_split"):
        mnist1d(train_split=1.0)


# -- load_arrays, load_csv ------------------------------------------------------------------------

def test_load_arrays_casts_and_encodes():
    ds = load_arrays(np.arange(6, dtype=np.int32).reshape(3, 2), [2, 0, 2])
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    assert ds.y.tolist() == [2, 0, 2] and ds.n_classes == 3  # labels kept as they are
    pm = load_arrays([[0.0], [1.0], [2.0]], [-1, 1, 1])  # Playground's ±1
    assert pm.y.tolist() == [0, 1, 1] and pm.class_names == ("-1", "1")
    words = load_arrays([[0.0], [1.0], [2.0]], ["cat", "dog", "cat"])
    assert words.y.tolist() == [0, 1, 0] and words.class_names == ("cat", "dog")
    reg = load_arrays([[0.0], [1.0]], [0.5, 1.25])
    assert reg.n_classes == 0 and reg.y.dtype == np.float32


def test_load_arrays_errors():
    with pytest.raises(ShapeError, match=r"X must have shape \(m, n_features\), got \(3,\)"):
        load_arrays([1.0, 2.0, 3.0], [0, 1, 0])
    with pytest.raises(ShapeError, match=r"y must have shape \(2,\) to match X"):
        load_arrays([[1.0], [2.0]], [0, 1, 0])
    with pytest.raises(NonFiniteError, match=r"X contains 1 non-finite value.*index \(1, 0\)"):
        load_arrays([[1.0], [np.nan]], [0, 1])
    with pytest.raises(ConfigError, match="X must hold numbers"):
        load_arrays([["a"], ["b"]], [0, 1])
    with pytest.raises(NonFiniteError, match="y contains"):
        load_arrays([[1.0], [2.0]], [0.5, np.inf])


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_load_csv_with_header_and_named_target(tmp_path):
    p = write(tmp_path, "x1,x2,label,x3\n1,2,cat,3\n4,5,dog,6\n\n7,8.5,cat,9\n")
    ds = load_csv(p, target="label")
    assert ds.name == "data.csv" and ds.feature_names == ("x1", "x2", "x3")
    np.testing.assert_array_equal(ds.X, np.array([[1, 2, 3], [4, 5, 6], [7, 8.5, 9]], np.float32))
    assert ds.y.tolist() == [0, 1, 0] and ds.class_names == ("cat", "dog")


def test_load_csv_header_auto(tmp_path):
    no_header = load_csv(write(tmp_path, "1,2,0\n3,4,1\n"))
    assert len(no_header) == 2 and no_header.feature_names == ("x1", "x2")
    header = load_csv(write(tmp_path, "a;b;y\n1;2;0\n3;4;1\n", "semi.csv"), delimiter=";")
    assert len(header) == 2 and header.feature_names == ("a", "b")
    # A string label in the first row is not a header: only feature cells decide.
    strings = load_csv(write(tmp_path, "1,2,yes\n3,4,no\n", "s.csv"))
    assert len(strings) == 2 and strings.class_names == ("no", "yes")


@pytest.mark.parametrize("text, error, message", [
    ("a,b,y\n1,2,0\n3,4\n", ShapeError, r"row 3 has 2 cells, expected 3 \(as in row 1\)"),
    ("a,b,y\n1,2,0\n3,oops,1\n", ConfigError, r"row 3, column 'b': 'oops' is not a number"),
    ("a,b,y\n1,2,0\n3,nan,1\n", NonFiniteError, r"row 3, column 'b': 'nan' is not finite"),
    ("a,b,y\n1,,0\n", NonFiniteError, r"row 2, column 'b': the cell is empty"),
    ("1,2,0\n3,4,\n", NonFiniteError, r"row 2, column 3: the cell is empty"),
    ("1,2,0\n3,inf,1\n", NonFiniteError, r"row 2, column 2: 'inf' is not finite"),
    ("a,b,y\n", ConfigError, "has a header but no data rows"),
    ("", ConfigError, "the file is empty"),
    ("1\n2\n", ShapeError, "need at least one feature and the target"),
])
def test_load_csv_errors_name_file_row_and_column(tmp_path, text, error, message):
    p = write(tmp_path, text)
    with pytest.raises(error, match=message) as info:
        load_csv(p)
    assert "data.csv" in str(info.value)


def test_load_csv_target_errors(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,0\n")
    with pytest.raises(UnknownNameError, match="unknown target column.*'z'; known: a, b, y"):
        load_csv(p, target="z")
    with pytest.raises(ConfigError, match=r"target column index must be in \[-3, 2\]"):
        load_csv(p, target=3)
    with pytest.raises(ConfigError, match="no such file"):
        load_csv(tmp_path / "missing.csv")
    assert isinstance(ConfigError("x"), WhynetError)


def test_load_csv_never_unpickles(tmp_path):
    import pickle

    p = tmp_path / "evil.csv"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(WhynetError):
        load_csv(p)


# -- split ----------------------------------------------------------------------------------------

def test_split_sizes_stratification_and_determinism():
    ds = moons(n=1000, seed=0)
    train, val, test = split(ds, val=0.2, test=0.2, seed=0)
    assert (len(train), len(val), len(test)) == (600, 200, 200)
    for part in (train, val, test):
        assert part.class_counts().tolist() == [len(part) // 2] * 2  # stratified: exactly 50/50
    idx = np.concatenate([train.X[:, 0], val.X[:, 0], test.X[:, 0]])
    assert np.array_equal(np.sort(idx), np.sort(ds.X[:, 0]))  # a partition: nothing lost or doubled
    again = split(ds, val=0.2, test=0.2, seed=0)
    assert np.array_equal(again.train.X, train.X)
    other = split(ds, val=0.2, test=0.2, seed=1)
    assert not np.array_equal(other.train.X, train.X)


def test_split_arrays_and_no_validation():
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.repeat([0, 1], 10)
    (Xtr, ytr), val, (Xte, yte) = split(X, y, val=0.0, test=0.25, seed=0)
    assert val is None and Xtr.shape == (15, 2) and Xte.shape == (5, 2)
    with pytest.raises(ConfigError, match=r"val \+ test must be < 1"):
        split(X, y, val=0.5, test=0.5)
    with pytest.raises(ConfigError, match="test must be a finite number in"):
        split(X, y, test=0)


# -- preprocessing --------------------------------------------------------------------------------

def test_standardize_fits_on_train_only():
    rng = np.random.default_rng(0)
    tr = (rng.normal(5, 3, size=(500, 3))).astype(np.float32)
    te = (rng.normal(5, 3, size=(100, 3))).astype(np.float32)
    tr2, te2, s = standardize(tr, te)
    assert tr2.dtype == np.float32 and te2.dtype == np.float32
    np.testing.assert_allclose(tr2.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(tr2.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(s.mean_, tr.mean(axis=0, dtype=np.float64), rtol=1e-6)
    # The test set uses the training statistics, so its mean is not exactly 0.
    np.testing.assert_allclose(te2, (te - s.mean_) / s.std_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(te2), te, rtol=1e-5, atol=1e-4)


def test_standardize_constant_feature_and_dataset_input():
    ds = load_arrays([[1.0, 7.0], [3.0, 7.0]], [0, 1])
    out, s = standardize(ds)
    assert isinstance(out, Dataset) and out.y is ds.y
    np.testing.assert_array_equal(out.X, [[-1.0, 0.0], [1.0, 0.0]])  # σ=0 → 1, no NaN
    assert s.std_.tolist() == [1.0, 1.0]


def test_minmax_maps_train_to_unit_interval():
    tr = np.array([[0.0, -2.0], [10.0, 2.0], [5.0, 0.0]], np.float32)
    tr2, te2, s = minmax(tr, np.array([[20.0, 0.0]], np.float32))
    np.testing.assert_allclose(tr2, [[0, 0], [1, 1], [0.5, 0.5]])
    np.testing.assert_allclose(te2, [[2.0, 0.5]])  # outside [0, 1] on purpose
    assert s.min_.tolist() == [0.0, -2.0] and s.max_.tolist() == [10.0, 2.0]


def test_log_transform_and_its_domain():
    x = np.array([[0.0, 1e-8], [np.e - 1, 99.0]], np.float32)
    out, _ = log_transform(x)
    np.testing.assert_allclose(out, [[0, 1e-8], [1, np.log(100)]], rtol=1e-6)
    msg = r"log1p needs x > −1, got 1 value\(s\) ≤ −1, first -1.0 at index \(0, 1\)"
    with pytest.raises(ConfigError, match=msg):
        LogTransform().transform(np.array([[0.0, -1.0]]))


def test_preprocessor_registry_and_misuse():
    assert type(get_preprocessor("standardize")) is Standardize
    assert type(get_preprocessor("minmax")) is MinMax
    with pytest.raises(UnknownNameError, match="unknown preprocessor 'zscore'; known: log, minmax"):
        get_preprocessor("zscore")
    with pytest.raises(ConfigError, match="Standardize: call fit"):
        Standardize().transform(np.ones((2, 2)))
    with pytest.raises(ShapeError, match="MinMax: fitted on 2 features, got X with 3"):
        MinMax().fit(np.ones((2, 2))).transform(np.ones((2, 3)))
    with pytest.raises(NonFiniteError):
        Standardize().fit(np.array([[np.nan]]))


def test_polynomial_features():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]], np.float32)
    out = polynomial_features(X, PLAYGROUND_FEATURES)
    expected = [[1, 2, 1, 4, 2, np.sin(1), np.sin(2)],
                [-0.5, 3, 0.25, 9, -1.5, np.sin(-0.5), np.sin(3)]]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    ds = polynomial_features(circles(n=50), ["x1^2", "x2^2"])
    assert ds.feature_names == ("x1^2", "x2^2") and ds.X.shape == (50, 2)
    with pytest.raises(UnknownNameError, match="unknown input feature 'cos\\(x1\\)'"):
        polynomial_features(X, ["cos(x1)"])
    with pytest.raises(ShapeError, match=r"X must have shape \(m, 2\)"):
        polynomial_features(np.ones((3, 3)), ["x1"])


def test_squared_features_make_circles_linearly_separable():
    """Why polynomial_features exist: circles defeat a linear model on (x1, x2) (≈ 50%), but on
    (x1², x2²) the classes are split by the line x1² + x2² = r² (clean data: 100%)."""
    from sklearn.linear_model import LogisticRegression

    ds = circles(n=400, noise=0.0, seed=0)
    raw = LogisticRegression().fit(ds.X, ds.y).score(ds.X, ds.y)
    sq = polynomial_features(ds, ["x1^2", "x2^2"])
    squared = LogisticRegression(C=100).fit(sq.X, sq.y).score(sq.X, sq.y)
    assert raw < 0.7 and squared == 1.0


def test_dataset_checks_its_arrays():
    with pytest.raises(ShapeError, match="X must be a float32 array"):
        Dataset(np.zeros((3, 2)), np.zeros(3, np.int64), "d", 2)  # float64 X
    with pytest.raises(ShapeError, match=r"y must have shape \(3,\)"):
        Dataset(np.zeros((3, 2), np.float32), np.zeros(2, np.int64), "d", 2)
    ds = Dataset(np.zeros((3, 2), np.float32), np.array([0, 1, 1]), "d", 2, ("a", "b"))
    assert "Dataset('d', X=(3, 2) float32" in repr(ds) and ds.n_features == 2


def test_split_needs_y_for_arrays_and_get_dataset_gives_mnist1d_splits():
    with pytest.raises(ConfigError, match="y is required"):
        split(np.zeros((10, 2), np.float32))
    s = get_dataset("mnist1d", n=100, seed=1)
    assert isinstance(s, Splits) and len(s.train) == 80 and len(s.test) == 20


def test_load_csv_ignores_a_byte_order_mark_and_quotes(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes('\ufeffa,"b",y\n"1.5",2,0\n3,4,1\n'.encode("utf-8"))
    ds = load_csv(p, target="y")
    assert ds.feature_names == ("a", "b") and ds.X[0].tolist() == [1.5, 2.0]


# -- the front door's noise ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(RADIUS))
def test_front_door_noise_moves_points_by_noise_times_radius(name):
    """One meaning of noise for every 2-D set: the points of the same seed without noise, moved
    by Gaussian noise of std noise × radius; labels and targets unchanged. 4000 points give 8000
    displacements, whose sample std is within ~1.6% (2σ) of the true one."""
    clean = noisy(name, 0.0, n=4000, seed=2)
    for noise in (0.05, 0.3):
        moved = noisy(name, noise, n=4000, seed=2)
        assert np.array_equal(moved.y, clean.y)
        d = (moved.X.astype(np.float64) - clean.X).ravel()
        assert abs(d.mean()) < 0.05 * noise * RADIUS[name]
        assert d.std() == pytest.approx(noise * RADIUS[name], rel=0.03)
        # Gaussian, not uniform: about 4.6% of the displacements beyond 2σ (uniform: none)
        assert 0.03 < np.mean(np.abs(d) > 2 * noise * RADIUS[name]) < 0.065


def test_front_door_noise_defaults_and_refusals():
    # Unset: moons and circles as scikit-learn's defaults, the other sets clean
    assert np.array_equal(noisy("moons", seed=1).X, moons(seed=1).X)
    assert np.array_equal(noisy("xor", seed=1).X, xor(seed=1, noise=0.0).X)
    assert np.array_equal(noisy("blobs", seed=1).X, blobs(seed=1).X)
    with pytest.raises(ConfigError, match="noise must be a finite number ≥ 0, got -0.1"):
        noisy("spiral", -0.1)
    with pytest.raises(ConfigError, match="unknown argument"):
        noisy("xor", 0.1, arms=3)


@pytest.mark.parametrize("name", ["disc", "plane", "multigauss"])
def test_playground_sets_are_registered_data_sets(name):
    ds = get_dataset(name, n=101, seed=3)
    assert ds.X.shape == (101, 2) and ds.X.dtype == np.float32 and ds.name == name
    assert (ds.n_classes == 0) is (name in REGRESSION_SETS)
    assert ds.y.dtype == (np.float32 if name in REGRESSION_SETS else np.int64)
    with pytest.raises(ConfigError, match=f"{name}: n must be an integer ≥ 2"):
        get_dataset(name, n=1)
