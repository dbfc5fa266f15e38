"""Initialisers: statistics with known answers, fans and gains against torch.nn.init, errors.

Sample sizes are chosen so the tolerances are many standard errors wide: the std of N normal
draws has relative standard error ≈ 1/√(2N), 0.2% for N = 131 072, against a 3% tolerance.
"""

import math

import numpy as np
import pytest

from whynet.errors import ConfigError, UnknownNameError
from whynet.nn import init
from whynet.nn.activations import ACTIVATIONS, TORCH_GAINS

torch = pytest.importorskip("torch")

SHAPE = (512, 256)  # (fan_out, fan_in) = (512, 256), 131 072 draws


def _draw(name, shape=SHAPE, seed=0, dtype=np.float64, **kwargs):
    return init.get_initializer(name, **kwargs)(shape, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize("name,kwargs,expected_std", [
    ("he_normal", {}, math.sqrt(2 / 256)),
    ("he_normal", {"mode": "fan_out"}, math.sqrt(2 / 512)),
    ("he_normal", {"nonlinearity": "leaky_relu", "a": 0.2}, math.sqrt(2 / 1.04 / 256)),
    ("he_uniform", {}, math.sqrt(2 / 256)),
    ("xavier_normal", {}, math.sqrt(2 / (256 + 512))),
    ("xavier_normal", {"gain": 5 / 3}, 5 / 3 * math.sqrt(2 / (256 + 512))),
    ("xavier_uniform", {}, math.sqrt(2 / (256 + 512))),
    ("lecun_normal", {}, math.sqrt(1 / 256)),
    ("lecun_uniform", {}, math.sqrt(1 / 256)),
    ("normal", {"std": 0.01}, 0.01),  # deeplearning.ai's randn(...) * 0.01
])
def test_std_of_each_initialiser(name, kwargs, expected_std):
    w = _draw(name, **kwargs)
    assert abs(w.std() / expected_std - 1) < 0.03
    assert abs(w.mean()) < 0.03 * expected_std * 3


def test_he_normal_scale_equals_torch_kaiming_normal():
    t = torch.empty(SHAPE, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(t, nonlinearity="relu")
    ours = _draw("he_normal")
    assert abs(ours.std() / t.std().item() - 1) < 0.03


@pytest.mark.parametrize("name,kwargs,bound", [
    ("xavier_uniform", {}, math.sqrt(6 / (256 + 512))),
    ("xavier_uniform", {"gain": 5 / 3}, 5 / 3 * math.sqrt(6 / (256 + 512))),
    ("he_uniform", {}, math.sqrt(2) * math.sqrt(3 / 256)),
    ("lecun_uniform", {}, math.sqrt(3 / 256)),
    ("uniform", {"a": -0.5, "b": 0.5}, 0.5),
])
def test_uniform_initialisers_fill_their_bound(name, kwargs, bound):
    """Every draw lies in [−bound, bound] and 131 072 draws come within 1% of the edge."""
    w = np.abs(_draw(name, **kwargs))
    assert w.max() <= bound
    assert w.max() > 0.99 * bound


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (8, 3, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = _draw("orthogonal", shape=shape, gain=2.0).reshape(shape[0], -1) / 2.0
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 5), (16, 3, 3, 3), (8, 4, 5), (2, 3, 4, 5, 6), (1, 1)])
def test_fans_equal_torchs(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.compute_fans(shape) == expected


TORCH_GAIN_NAMES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                    "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                    "leaky_relu", "selu"]


@pytest.mark.parametrize("name", TORCH_GAIN_NAMES)
def test_calculate_gain_equals_torchs(name):
    assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name),
                                                      rel=1e-15)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0])
def test_leaky_relu_gain_with_slope_equals_torchs(slope):
    expected = torch.nn.init.calculate_gain("leaky_relu", slope)
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(expected, rel=1e-15)


def test_whynet_activation_names_get_relu_or_unit_gain():
    assert init.calculate_gain("gelu") == init.calculate_gain("elu") == math.sqrt(2)
    assert init.calculate_gain("identity") == 1.0
    assert init.calculate_gain("softsign") == init.calculate_gain("hardtanh") == 1.0


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_name_gets_its_class_gain_from_the_one_table(name):
    """calculate_gain knows every activation name through its class's gain_name, a key of
    PyTorch's table (no second list of names)."""
    family = ACTIVATIONS[name].gain_name
    assert family in TORCH_GAINS or family == "leaky_relu"
    assert init.calculate_gain(name) == init.calculate_gain(family)


@pytest.mark.parametrize("name", ["zeros", "ones", "he_normal", "xavier_uniform", "orthogonal"])
@pytest.mark.parametrize("dtype", [None, np.float32, np.float64])
def test_dtype_default_float32_or_as_asked(name, dtype):
    w = init.get_initializer(name)((4, 3), np.random.default_rng(0), dtype)
    assert w.dtype == (np.float32 if dtype is None else dtype)
    assert w.shape == (4, 3)


def test_constants():
    rng = np.random.default_rng(0)
    assert (init.get_initializer("zeros")((2, 2), rng, None) == 0).all()
    assert (init.get_initializer("ones")((2, 2), rng, None) == 1).all()
    assert (init.get_initializer("constant", value=0.25)((2,), rng, None) == 0.25).all()


def test_same_seed_same_draws():
    np.testing.assert_array_equal(_draw("he_normal", seed=5), _draw("he_normal", seed=5))
    assert not np.array_equal(_draw("he_normal", seed=5), _draw("he_normal", seed=6))


def test_aliases_and_callables():
    np.testing.assert_array_equal(_draw("glorot_uniform", (4, 3)), _draw("xavier_uniform", (4, 3)))
    np.testing.assert_array_equal(_draw("kaiming_normal", (4, 3)), _draw("he_normal", (4, 3)))
    np.testing.assert_array_equal(_draw("He_Normal", (4, 3)), _draw("he_normal", (4, 3)))
    fn = init.normal(0.5)
    assert init.get_initializer(fn) is fn


# -- errors --------------------------------------------------------------------------------------
def test_unknown_initialiser_names_it_and_lists_known():
    with pytest.raises(UnknownNameError) as e:
        init.get_initializer("xavier_unifrom")
    assert "'xavier_unifrom'" in str(e.value) and "xavier_uniform" in str(e.value)


def test_bad_initialiser_arguments_name_them():
    with pytest.raises(ConfigError) as e:
        init.get_initializer("he_normal", gain=2.0)
    assert "he_normal" in str(e.value) and "gain" in str(e.value)


def test_bad_he_mode_fails_at_construction():
    with pytest.raises(ConfigError) as e:
        init.get_initializer("he_normal", mode="fan_avg")
    assert "mode" in str(e.value) and "'fan_avg'" in str(e.value)


def test_unknown_nonlinearity_names_it():
    with pytest.raises(UnknownNameError) as e:
        init.calculate_gain("swishy")
    assert "'swishy'" in str(e.value) and "relu" in str(e.value)


@pytest.mark.parametrize("name", ["he_normal", "xavier_uniform", "orthogonal"])
def test_fans_need_rank_two(name):
    with pytest.raises(ConfigError) as e:
        _draw(name, shape=(5,))
    assert "rank ≥ 2" in str(e.value) and "(5,)" in str(e.value)


def test_bad_distribution_arguments():
    with pytest.raises(ConfigError) as e:
        init.normal(std=-1.0)
    assert "std" in str(e.value) and "-1.0" in str(e.value)
    with pytest.raises(ConfigError) as e:
        init.uniform(1.0, 0.0)
    assert "a=1.0" in str(e.value) and "b=0.0" in str(e.value)
