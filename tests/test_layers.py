"""Dropout, Flatten and Maxout: values and gradients against PyTorch autograd (float64) and
finite differences, dtypes, configuration and errors."""

import json

import numpy as np
import pytest

from whynet.errors import ConfigError, ShapeError
from whynet.gradcheck import check_module, rel_error
from whynet.nn import Dropout, Flatten, Maxout, ReLU, Sequential
from whynet.nn.init import normal

torch = pytest.importorskip("torch")


# -- Dropout -------------------------------------------------------------------------------------
class _SameMaskDropout(Dropout):
    """Dropout that draws the same mask on every forward: finite differences see one function."""

    def forward(self, x):
        self.rng = np.random.default_rng(7)
        return super().forward(x)


def test_dropout_same_rng_same_mask_other_seed_other_mask():
    x = np.ones((8, 50), np.float32)
    a, b, c = Dropout(0.5, rng=1), Dropout(0.5, rng=1), Dropout(0.5, rng=2)
    a.forward(x), b.forward(x), c.forward(x)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.mask, c.mask)


def test_dropout_masks_differ_between_steps():
    layer = Dropout(0.5, rng=0)
    x = np.ones((4, 50), np.float32)
    layer.forward(x)
    first = layer.mask.copy()
    layer.forward(x)
    assert not np.array_equal(first, layer.mask)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_is_zero_or_inverse_keep_in_input_dtype(dtype):
    """Inverted dropout: survivors are scaled by 1/(1 − p) = 1/0.75, at training time."""
    layer = Dropout(0.25, rng=0)
    x = np.ones((64, 64), dtype)
    out = layer.forward(x)
    assert layer.mask.dtype == out.dtype == dtype
    assert set(np.unique(layer.mask).tolist()) == {0.0, float(dtype(1 / 0.75))}


def test_dropout_drops_fraction_p_and_keeps_the_mean():
    """Over 200 000 units the dropped fraction is p within 5 binomial σ (σ ≈ 0.001), and the mean
    of the output stays ≈ x (E[mask] = 1; σ of the mean ≈ 0.0015)."""
    p = 0.3
    out = Dropout(p, rng=0).forward(np.ones((200, 1000), np.float64))
    assert abs(np.mean(out == 0) - p) < 0.006
    assert abs(out.mean() - 1.0) < 0.008


def test_dropout_eval_is_identity_forward_and_backward(rng):
    layer = Dropout(0.5, rng=0).eval()
    x = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x), x)
    assert layer.mask is None
    g = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(g), g)


def test_dropout_p_zero_is_identity_in_training(rng):
    x = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_dropout_matches_torch_with_the_same_mask(rng):
    """torch's dropout is out = x ⊙ bernoulli(1 − p)/(1 − p); with our mask as that factor,
    forward and autograd gradient agree."""
    layer = Dropout(0.4, rng=3)
    x = rng.normal(size=(5, 6))
    g = rng.normal(size=(5, 6))
    out = layer.forward(x)
    dx = layer.backward(g)
    keep = torch.tensor(layer.mask != 0, dtype=torch.float64)
    xt = torch.tensor(x, requires_grad=True)
    outt = xt * keep / (1 - 0.4)
    (outt * torch.tensor(g)).sum().backward()
    assert rel_error(out, outt.detach().numpy()) <= 1e-6
    assert rel_error(dx, xt.grad.numpy()) <= 1e-6


def test_dropout_scaling_is_torchs():
    """torch.nn.functional.dropout keeps x/(1 − p) where it does not drop, as ours does."""
    x = torch.linspace(1, 2, 1000, dtype=torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yt = torch.nn.functional.dropout(x, p=0.2, training=True).numpy()
    ours = Dropout(0.2, rng=0).forward(x.numpy())
    kept_t, kept = yt != 0, ours != 0
    np.testing.assert_allclose(yt[kept_t], x.numpy()[kept_t] / 0.8, rtol=1e-12)
    np.testing.assert_allclose(ours[kept], x.numpy()[kept] / 0.8, rtol=1e-12)


def test_dropout_matches_finite_differences(rng):
    errors = check_module(_SameMaskDropout(0.5, dtype=np.float64), rng.normal(size=(4, 5)))
    assert errors["x"] < 1e-7


@pytest.mark.parametrize("p", [-0.1, 1, 1.0, 1.5, True, "0.5", None])
def test_dropout_bad_p_names_p_and_value(p):
    with pytest.raises(ConfigError) as e:
        Dropout(p)
    assert "Dropout: p" in str(e.value) and repr(p) in str(e.value)


def test_dropout_config():
    layer = Dropout(0.3, rng=5)
    assert json.loads(json.dumps(layer.get_config())) == {"p": 0.3}
    assert Dropout(**layer.get_config()).p == 0.3
    assert repr(layer) == "Dropout(p=0.3)"


# -- Flatten -------------------------------------------------------------------------------------
def test_flatten_matches_torch(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    g = rng.normal(size=(2, 60))
    layer = Flatten()
    out = layer.forward(x)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    outt = torch.nn.Flatten()(xt)
    (outt * torch.tensor(g)).sum().backward()
    assert out.shape == (2, 60)
    assert rel_error(out, outt.detach().numpy()) <= 1e-6
    assert dx.shape == x.shape
    assert rel_error(dx, xt.grad.numpy()) <= 1e-6


def test_flatten_matches_finite_differences(rng):
    errors = check_module(Flatten(dtype=np.float64), rng.normal(size=(2, 3, 2)))
    assert errors["x"] < 1e-7


def test_flatten_keeps_dtype_and_batch_of_one():
    out = Flatten().forward(np.zeros((1, 2, 3), np.float32))
    assert out.shape == (1, 6) and out.dtype == np.float32


def test_flatten_of_a_matrix_is_unchanged(rng):
    x = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(Flatten().forward(x), x)


def test_flatten_rejects_rank_one():
    with pytest.raises(ShapeError) as e:
        Flatten().forward(np.zeros(5, np.float32))
    assert "Flatten()" in str(e.value) and "rank ≥ 2" in str(e.value) and "(5,)" in str(e.value)


def test_flatten_config():
    assert Flatten().get_config() == {}


# -- Maxout --------------------------------------------------------------------------------------
def _torch_maxout(layer, x, g):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.W.value, requires_grad=True)
    bt = torch.tensor(layer.b.value, requires_grad=True)
    z = torch.einsum("mi,koi->mko", xt, wt) + bt
    out = z.max(dim=1).values
    (out * torch.tensor(g)).sum().backward()
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("k", [1, 2, 4])
def test_maxout_matches_torch_autograd_float64(rng, k):
    layer = Maxout(5, 3, k=k, bias_init=normal(0.5), rng=1, dtype=np.float64)
    x = rng.normal(size=(7, 5))
    g = rng.normal(size=(7, 3))
    out = layer.forward(x)
    dx = layer.backward(g)
    outt, dxt, dwt, dbt = _torch_maxout(layer, x, g)
    assert out.shape == (7, 3)
    assert rel_error(out, outt) <= 1e-6
    assert rel_error(dx, dxt) <= 1e-6
    assert rel_error(layer.W.grad, dwt) <= 1e-6
    assert rel_error(layer.b.grad, dbt) <= 1e-6


def test_maxout_matches_finite_differences(rng):
    # Random inputs keep every unit's two pieces apart, so max is differentiable at each point.
    layer = Maxout(4, 3, k=3, bias_init=normal(0.5), rng=2, dtype=np.float64)
    errors = check_module(layer, rng.normal(size=(5, 4)))
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


def test_maxout_shapes_and_float32(rng):
    layer = Maxout(6, 4, k=3, rng=0)
    assert layer.W.value.shape == (3, 4, 6) and layer.b.value.shape == (3, 4)
    assert layer.num_parameters() == 3 * (6 * 4 + 4)  # k times a Dense layer's (question A9)
    out = layer.forward(rng.normal(size=(2, 6)).astype(np.float32))
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    for p in layer.parameters():
        assert p.grad.shape == p.value.shape and p.grad.dtype == np.float32


def test_maxout_gradient_goes_only_to_the_winning_piece():
    layer = Maxout(1, 1, k=2, rng=0, dtype=np.float64)
    layer.W.value[:] = np.array([[[1.0]], [[-1.0]]])  # out = max(x, −x) = |x|
    out = layer.forward(np.array([[2.0], [-3.0]]))
    np.testing.assert_array_equal(out, [[2.0], [3.0]])
    dx = layer.backward(np.array([[1.0], [10.0]]))
    # Example 0 is won by piece 0 (x·1·2 → dW₀ = 2), example 1 by piece 1 (dW₁ = 10·(−3)).
    np.testing.assert_array_equal(layer.W.grad, [[[2.0]], [[-30.0]]])
    np.testing.assert_array_equal(layer.b.grad, [[1.0], [10.0]])
    np.testing.assert_array_equal(dx, [[1.0], [-10.0]])


def test_maxout_with_a_zero_piece_is_relu(rng):
    """Maxout generalises ReLU: with W₀ = 0, b₀ = 0 it is ReLU(X W₁ᵀ + b₁) (question A9)."""
    layer = Maxout(4, 3, k=2, rng=0, dtype=np.float64)
    layer.W.value[0] = 0
    x = rng.normal(size=(6, 4))
    relu = ReLU().forward(x @ layer.W.value[1].T + layer.b.value[1])
    np.testing.assert_allclose(layer.forward(x), relu, rtol=1e-12)


def test_maxout_pieces_get_dense_fans():
    """Each piece is initialised as a (n_out, n_in) Dense weight: Xavier bound √(6/(n_in+n_out))."""
    layer = Maxout(300, 200, k=2, rng=0)
    bound = np.sqrt(6 / 500)
    assert bound * 0.99 < np.abs(layer.W.value).max() <= bound
    assert not np.array_equal(layer.W.value[0], layer.W.value[1])


def test_maxout_in_sequential_backprops(rng):
    model = Sequential(Maxout(3, 4, rng=0, dtype=np.float64), Maxout(4, 2, rng=1,
                                                                      dtype=np.float64))
    errors = check_module(model, rng.normal(size=(3, 3)))
    assert max(errors.values()) < 1e-7, errors


def test_maxout_errors():
    with pytest.raises(ConfigError) as e:
        Maxout(3, 2, k=0)
    assert "Maxout: k" in str(e.value) and "0" in str(e.value)
    with pytest.raises(ConfigError) as e:
        Maxout(0, 2)
    assert "Maxout: n_in" in str(e.value)
    with pytest.raises(ShapeError) as e:
        Maxout(3, 2, k=2).forward(np.zeros((4, 5), np.float32))
    assert "Maxout(3 → 2, k=2)" in str(e.value) and "(m, 3)" in str(e.value)
    assert "(4, 5)" in str(e.value)


def test_maxout_config_round_trip():
    layer = Maxout(3, 2, k=3, init="he_uniform", rng=0)
    config = json.loads(json.dumps(layer.get_config()))
    assert config == {"n_in": 3, "n_out": 2, "k": 3, "init": "he_uniform", "bias_init": "zeros"}
    np.testing.assert_array_equal(Maxout(**config, rng=0).W.value, layer.W.value)


def test_dtype_scalars_keep_value_sign_and_dtype_when_remembered():
    """dtypes.scalar remembers the constants a step reuses: the remembered scalar must be the
    one a fresh conversion gives (dtype, value), −0.0 keeps its sign and NaN is not stored."""
    from whynet import dtypes

    for _ in range(2):  # the second round reads what the first stored
        a, b = dtypes.scalar(0.1, np.float32), dtypes.scalar(0.1, np.float64)
        assert type(a) is np.float32 and a == np.float32(0.1)
        assert type(b) is np.float64 and b == 0.1
        z = dtypes.scalar(-0.0, np.float32)
        assert z == 0 and np.signbit(z)
        assert not np.signbit(dtypes.scalar(0.0, np.float32))
        assert np.isnan(dtypes.scalar(float("nan"), np.float32))
        three = dtypes.scalar(3, np.dtype("float32"))
        assert three == 3 and type(three) is np.float32
        assert dtypes.scalar(np.array(2.5), np.float32) == np.float32(2.5)  # unhashable value
    assert not any(k[0] != k[0] for k in dtypes._SCALARS)  # no NaN keys
