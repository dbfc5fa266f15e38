"""Every activation: values and gradients against PyTorch (float64) and finite differences,
dtypes, named edge points in float32, the truth of the metadata, shape/mutation properties,
and the errors for unknown names and invalid hyperparameters."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from whynet.errors import ConfigError, ShapeError, UnknownNameError
from whynet.gradcheck import check_module, rel_error
from whynet.nn.activations import (
    ACTIVATIONS, CELU, ELU, GELU, SELU, SELU_ALPHA, SELU_SCALE, Activation, Hardtanh, Identity,
    LeakyReLU, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softplus, Softsign, Swish, Tanh,
    get_activation)
from whynet.nn.init import calculate_gain, get_initializer

T = torch.nn

# id → (whynet factory, torch factory (float64), kinks: points where f′ jumps).
CASES = {
    "identity": (Identity, T.Identity, ()),
    "sigmoid": (Sigmoid, T.Sigmoid, ()),
    "tanh": (Tanh, T.Tanh, ()),
    "relu": (ReLU, T.ReLU, (0.0,)),
    "leaky_relu": (LeakyReLU, T.LeakyReLU, (0.0,)),
    "leaky_relu_0.2": (lambda: LeakyReLU(0.2), lambda: T.LeakyReLU(0.2), (0.0,)),
    "prelu": (PReLU, lambda: T.PReLU().double(), (0.0,)),
    "elu": (ELU, T.ELU, (0.0,)),
    "elu_0.5": (lambda: ELU(0.5), lambda: T.ELU(0.5), (0.0,)),
    "elu_2": (lambda: ELU(2.0), lambda: T.ELU(2.0), (0.0,)),
    "selu": (SELU, T.SELU, (0.0,)),
    "celu": (CELU, T.CELU, (0.0,)),
    "celu_0.5": (lambda: CELU(0.5), lambda: T.CELU(0.5), (0.0,)),
    "gelu": (GELU, T.GELU, ()),
    "gelu_tanh": (lambda: GELU("tanh"), lambda: T.GELU("tanh"), ()),
    "silu": (SiLU, T.SiLU, ()),
    "mish": (Mish, T.Mish, ()),
    "softplus": (Softplus, T.Softplus, (20.0,)),
    "softplus_b2_t5": (lambda: Softplus(2.0, 5.0), lambda: T.Softplus(2.0, 5.0), (2.5,)),
    "softsign": (Softsign, T.Softsign, ()),
    "hardtanh": (Hardtanh, T.Hardtanh, (-1.0, 1.0)),
    "hardtanh_-2_3": (lambda: Hardtanh(-2.0, 3.0), lambda: T.Hardtanh(-2.0, 3.0), (-2.0, 3.0)),
    "relu6": (ReLU6, T.ReLU6, (0.0, 6.0)),
}
IDS = list(CASES)
SHAPES = [(1, 6), (7, 5), (3, 2, 4, 5)]


def make(case: str) -> Activation:
    return CASES[case][0]()


def torch_reference(case: str, x: np.ndarray, g: np.ndarray):
    """PyTorch's f(x) and ∂(Σ f·g)/∂x in float64."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = CASES[case][1]()(xt)
    y.backward(torch.tensor(g, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy()


def away_from_kinks(x: np.ndarray, kinks, margin: float = 0.05) -> np.ndarray:
    """Shift entries within ``margin`` of a kink by 2·margin: centred differences see one piece."""
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] += 2 * margin
    return x


# -- 1. values and gradients against PyTorch ------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("case", IDS)
def test_forward_and_backward_match_pytorch(case, shape):
    """f(x) and dx = dout·f′(x) agree with autograd to round-off (≤ 1e-6 required, ~1e-16 seen)."""
    rng = np.random.default_rng(hash((case, shape)) % 2**32)
    x = rng.normal(scale=3.0, size=shape)   # reaches Softplus(β=2, threshold=5)'s linear part
    g = rng.normal(size=shape)
    act = make(case)
    y = act.forward(x)
    dx = act.backward(g)
    y_ref, dx_ref = torch_reference(case, x, g)
    assert rel_error(y, y_ref) <= 1e-6
    assert rel_error(dx, dx_ref) <= 1e-6
    # derivative() is the f′ that backward used.
    np.testing.assert_allclose(act.derivative() * g, dx, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", IDS)
def test_derivative_at_kinks_follows_pytorch(case):
    """At the kinks (0, ±1, 6, the softplus threshold…) f′ takes exactly PyTorch's value."""
    z = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 6.0, 7.0, 20.0, 21.0]
                 + list(CASES[case][2]))
    act = make(case)
    y = act.forward(z)
    y_ref, d_ref = torch_reference(case, z, np.ones_like(z))
    np.testing.assert_allclose(y, y_ref, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(act.derivative(), d_ref, rtol=1e-14, atol=1e-15)


def test_kink_conventions_by_name():
    """The conventions the docstrings state, one by one (all PyTorch's)."""
    zero = np.zeros(1)

    def d(act, z):
        act.forward(np.atleast_1d(np.asarray(z, dtype=np.float64)))
        return float(act.derivative()[0])

    assert d(ReLU(), zero) == 0.0                           # ReLU′(0) = 0
    assert d(LeakyReLU(), zero) == 0.01                     # LeakyReLU′(0) = slope
    assert d(PReLU(init=0.3), zero) == pytest.approx(0.3)   # PReLU′(0) = α (float32 α)
    assert d(ELU(2.0), zero) == 2.0                         # ELU′(0) = α, the left derivative
    assert d(SELU(), zero) == SELU_SCALE * SELU_ALPHA       # ≈ 1.7581
    assert d(CELU(0.5), zero) == 1.0                        # CELU is C¹: 1 on both sides
    assert d(Hardtanh(), -1.0) == 0.0 and d(Hardtanh(), 1.0) == 0.0
    assert d(ReLU6(), 0.0) == 0.0 and d(ReLU6(), 6.0) == 0.0


def test_softplus_threshold_rule_is_exact():
    """Where βz > threshold, f(z) = z and f′(z) = 1 exactly; just below, the log form is used."""
    act = Softplus(beta=2.0, threshold=5.0)
    z = np.array([2.5 + 1e-9, 3.0, 7.25, 1e3])
    assert np.array_equal(act.forward(z), z)
    assert np.array_equal(act.derivative(), np.ones_like(z))
    at = act.forward(np.array([2.5]))                      # βz = threshold: not linear (PyTorch: >)
    assert at[0] == pytest.approx(2.5 + np.log1p(np.exp(-5.0)) / 2, rel=1e-15)
    assert act.derivative()[0] == pytest.approx(1 / (1 + np.exp(-5.0)), rel=1e-15)   # σ(5)


# -- PReLU's learnable α --------------------------------------------------------------------------

@pytest.mark.parametrize("shape, n", [((6, 4), 1), ((6, 4), 4), ((1, 4), 4), ((3, 5, 4, 2), 1),
                                      ((3, 5, 4, 2), 5)])
def test_prelu_alpha_gradient_matches_pytorch(shape, n):
    """dα (one α, or one per unit/channel along axis 1) and dx match autograd."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape)
    g = rng.normal(size=shape)
    alpha = rng.uniform(-0.5, 1.5, size=n)
    act = PReLU(n, dtype=np.float64)
    act.alpha.value[...] = alpha
    y = act.forward(x)
    dx = act.backward(g)

    ref = T.PReLU(n).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(alpha))
    xt = torch.tensor(x, requires_grad=True)
    ref(xt).backward(torch.tensor(g))
    assert rel_error(y, ref(xt).detach().numpy()) <= 1e-6
    assert rel_error(dx, xt.grad.numpy()) <= 1e-6
    assert rel_error(act.alpha.grad, ref.weight.grad.numpy()) <= 1e-6
    assert act.alpha.grad.shape == (n,)


def test_prelu_parameter_contract():
    """α is a non-regularised Parameter named "alpha", init 0.25; backward accumulates dα."""
    act = PReLU(3)
    (name, p), = act.named_parameters()
    assert name == "alpha" and p.regularize is False
    assert p.value.dtype == np.float32 and np.array_equal(p.value, np.full(3, 0.25, np.float32))
    x = -np.ones((2, 3), np.float32)
    act.forward(x)
    act.backward(np.ones((2, 3), np.float32))
    act.backward(np.ones((2, 3), np.float32))
    # dα_c = Σ_rows dout·min(0, z) = 2·(−1) per call, twice.
    assert np.array_equal(p.grad, np.full(3, -4.0, np.float32))
    assert act.astype(np.float64).alpha.value.dtype == np.float64


def test_prelu_checks_the_channel_axis():
    with pytest.raises(ShapeError, match=r"PReLU.*\(m, 3, …\).*\(4, 5\)"):
        PReLU(3).forward(np.zeros((4, 5), np.float32))
    with pytest.raises(ShapeError, match=r"\(5,\)"):
        PReLU(3).forward(np.zeros(5, np.float32))


# -- 2. finite differences ------------------------------------------------------------------------

@pytest.mark.parametrize("case", IDS)
def test_gradient_matches_finite_differences(case):
    """backward (and PReLU's dα) agrees with centred differences away from the kinks."""
    rng = np.random.default_rng(3)
    x = away_from_kinks(rng.normal(scale=2.0, size=(4, 5)), CASES[case][2])
    act = make(case).astype(np.float64)
    errors = check_module(act, x, rng=np.random.default_rng(1))
    assert set(errors) == {"x"} | {n for n, _ in act.named_parameters()}
    for name, err in errors.items():
        assert err <= 1e-6, f"{case}: {name} rel error {err:.2e}"


def test_prelu_per_channel_finite_differences():
    rng = np.random.default_rng(4)
    x = away_from_kinks(rng.normal(size=(2, 3, 2, 2)), (0.0,))
    act = PReLU(3, dtype=np.float64)
    act.alpha.value[...] = [0.1, 0.5, -0.2]
    errors = check_module(act, x)
    assert errors["x"] <= 1e-6 and errors["alpha"] <= 1e-6


# -- 3. dtypes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", IDS)
def test_dtype_is_preserved(case, dtype):
    """float32 stays float32 (no silent promotion by a float64 constant); float64 stays float64."""
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(dtype)
    act = make(case)
    assert act.forward(x).dtype == dtype
    assert act.derivative().dtype == dtype
    assert act.backward(np.ones_like(x)).dtype == dtype


# -- 4. edge points in float32 --------------------------------------------------------------------

EDGES = [0.0, 1.0, -1.0, 88.0, -88.0, 1e4, -1e4]


@pytest.mark.parametrize("z", EDGES, ids=lambda z: f"z={z:+g}")
@pytest.mark.parametrize("case", IDS)
def test_edge_points_float32(case, z):
    """Finite f and f′ at 0, ±1, ±88 (float32's exp limit) and ±1e4, with no warning (the conftest
    turns overflow into an error), and equal to PyTorch's float64 values to float32 precision."""
    x = np.full((1, 3), z, np.float32)
    act = make(case)
    y = act.forward(x)
    d = act.derivative()
    assert np.isfinite(y).all() and np.isfinite(d).all()
    y_ref, d_ref = torch_reference(case, x.astype(np.float64), np.ones((1, 3)))
    # atol only absorbs values below float32's smallest normal (σ′(88) ≈ 6e-39 rounds to 0).
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(d, d_ref, rtol=1e-5, atol=1e-30)


def test_sigmoid_keeps_relative_precision_in_the_left_tail():
    """σ(−88) ≈ 6.05e-39 in float32, not 0: the stable form does not round 1 + e^{88} away."""
    y = Sigmoid().forward(np.array([-88.0, -30.0], np.float32))
    np.testing.assert_allclose(y, [6.0546018e-39, 9.3576230e-14], rtol=1e-5)
    # A few float32 ulps from the exact value over the whole normal range, both tails included.
    z = np.linspace(-80, 80, 16_001, dtype=np.float32)
    exact = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(Sigmoid().forward(z), exact, rtol=5e-7, atol=0)


# -- 5. the metadata is true ----------------------------------------------------------------------

GRID = np.concatenate([np.linspace(-30.0, 30.0, 600_001),
                       [0.0, 6.0, 1e2, -1e2, 1e3, -1e3, 1e4, -1e4]])


@pytest.mark.parametrize("case", IDS)
def test_max_derivative_is_a_tight_bound(case):
    """sup f′ over a fine grid is ≤ max_derivative and within 1e-3 of it (sigmoid 0.25, tanh 1…)."""
    act = make(case)
    act.forward(GRID)
    top = act.derivative().max()
    assert top <= act.max_derivative + 1e-12
    assert top >= act.max_derivative - 1e-3


@pytest.mark.parametrize("case", IDS)
def test_outputs_lie_in_output_range_and_fill_it(case):
    act = make(case)
    low, high = act.output_range
    y = act.forward(GRID)
    assert low <= y.min() and y.max() <= high
    if np.isfinite(low):
        assert y.min() <= low + 1e-3, "the lower bound is approached"
    if np.isfinite(high):
        assert y.max() >= high - 1e-3, "the upper bound is approached"


def _gaussian_mean(act: Activation, power: int = 1) -> float:
    """E[f(z)^power] for z ~ N(0, 1), by the trapezoid rule on [−30, 30] (error ≪ 1e-8)."""
    z = np.linspace(-30.0, 30.0, 600_001)
    pdf = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return float(np.trapezoid(act.forward(z) ** power * pdf, z))


@pytest.mark.parametrize("case", IDS)
def test_zero_centred_flag(case):
    """zero_centred ⇔ f(0) = 0 and E[f(z)] = 0 for z ~ N(0, 1); the others are off by > 1e-3."""
    act = make(case)
    f0 = act.forward(np.zeros(1))[0]
    mean = _gaussian_mean(act)
    if act.zero_centred:
        assert f0 == 0.0 and abs(mean) < 1e-8
    else:
        assert f0 != 0.0 or abs(mean) > 1e-3


def test_selu_self_normalises():
    """Klambauer et al.'s constants give mean 0 and second moment 1 for N(0, 1) inputs."""
    assert abs(_gaussian_mean(SELU())) < 1e-8
    assert _gaussian_mean(SELU(), power=2) == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("case", IDS)
def test_saturating_flag(case):
    """saturating ⇔ bounded output ⇔ f′(±1e4) ≈ 0; the others keep f′ ≥ 1 on one side."""
    act = make(case)
    low, high = act.output_range
    assert act.saturating == (np.isfinite(low) and np.isfinite(high))
    act.forward(np.array([-1e4, 1e4]))
    d = act.derivative()
    if act.saturating:
        assert np.all(np.abs(d) < 1e-7)
    else:
        assert d.max() >= 1.0


@pytest.mark.parametrize("case", IDS)
def test_names_gains_and_inits_are_usable(case):
    """name rebuilds the same activation; gain_name and suggested_init are known to init.py."""
    act = make(case)
    config = act.get_config()
    json.dumps(config)
    again = get_activation(act.name, **config)
    assert type(again) is type(act) and again.get_config() == config
    z = np.linspace(-5, 5, 11)
    np.testing.assert_array_equal(again.forward(z), act.forward(z))
    if act.gain_name == "leaky_relu":   # He et al. 2015: √(2 / (1 + slope²)), slope = s or α
        slope = act.negative_slope if isinstance(act, LeakyReLU) else act.init
        assert act.gain() == pytest.approx(np.sqrt(2 / (1 + slope**2)))
    else:
        assert act.gain() == calculate_gain(act.gain_name)
    assert callable(get_initializer(act.suggested_init))


def test_registry_and_aliases():
    assert all(isinstance(c, type) and issubclass(c, Activation) for c in ACTIVATIONS.values())
    assert {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "celu",
            "gelu", "gelu_tanh", "silu", "swish", "mish", "softplus", "softsign", "hardtanh",
            "relu6"} <= set(ACTIVATIONS)
    assert Swish is SiLU and type(get_activation("swish")) is SiLU
    assert get_activation("gelu_tanh").approximate == "tanh"
    assert get_activation("GELU").approximate == "none"
    assert get_activation("leaky-relu", negative_slope=0.2).negative_slope == 0.2
    assert type(get_activation("LeakyReLU")) is LeakyReLU
    assert type(get_activation(ELU, alpha=0.5)) is ELU
    tanh = Tanh()
    assert get_activation(tanh) is tanh


# -- 6. properties over random shapes -------------------------------------------------------------

arrays = st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
                          elements=st.floats(-1e4, 1e4, width=32)))


@pytest.mark.parametrize("case", IDS)
@settings(max_examples=25, deadline=None)
@given(x=arrays)
def test_shape_dtype_kept_and_input_not_mutated(case, x):
    before = x.copy()
    act = make(case)
    y = act.forward(x)
    g = np.ones_like(x)
    dx = act.backward(g)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert dx.shape == x.shape and act.derivative().shape == x.shape
    assert np.isfinite(y).all() and np.isfinite(dx).all()
    assert x.tobytes() == before.tobytes(), "the caller's array was modified"
    assert np.array_equal(g, np.ones_like(x)), "dout was modified"


@settings(max_examples=25, deadline=None)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=5), seed=st.integers(0, 2**16))
def test_prelu_per_channel_keeps_shape(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    act = PReLU(shape[1])
    before = x.copy()
    assert act.forward(x).shape == shape
    assert act.backward(np.ones_like(x)).shape == shape
    assert act.alpha.grad.shape == (shape[1],)
    assert np.array_equal(x, before)


# -- 7. errors ------------------------------------------------------------------------------------

def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as e:
        get_activation("reluu")
    message = str(e.value)
    assert "activation" in message and "'reluu'" in message and "leaky_relu" in message
    with pytest.raises(UnknownNameError, match="42"):
        get_activation(42)


@pytest.mark.parametrize("name, kwargs, words", [
    ("elu", {"alpha": -1.0}, ["ELU", "alpha", "-1.0"]),
    ("elu", {"alpha": "1"}, ["ELU", "alpha", "'1'"]),
    ("celu", {"alpha": 0.0}, ["CELU", "alpha", "0.0"]),
    ("hardtanh", {"min_val": 1.0, "max_val": 1.0}, ["Hardtanh", "min_val=1.0", "max_val=1.0"]),
    ("hardtanh", {"min_val": 2.0, "max_val": -1.0}, ["Hardtanh", "min_val=2.0", "max_val=-1.0"]),
    ("softplus", {"beta": 0}, ["Softplus", "beta", "0"]),
    ("softplus", {"threshold": -1.0}, ["Softplus", "threshold", "-1.0"]),
    ("leaky_relu", {"negative_slope": -0.1}, ["LeakyReLU", "negative_slope", "-0.1"]),
    ("leaky_relu", {"negative_slope": 1.5}, ["LeakyReLU", "negative_slope", "1.5"]),
    ("gelu", {"approximate": "fast"}, ["GELU", "approximate", "'fast'"]),
    ("prelu", {"num_parameters": 0}, ["PReLU", "num_parameters", "0"]),
    ("prelu", {"init": float("nan")}, ["PReLU", "init", "nan"]),
    ("relu", {"alpha": 1.0}, ["relu", "alpha", "allowed: none"]),
    ("elu", {"alpah": 1.0}, ["elu", "alpah", "allowed: alpha"]),
    ("gelu_tanh", {"approximate": "none"}, ["gelu_tanh", "approximate", "'none'"]),
])
def test_invalid_arguments_raise_config_error(name, kwargs, words):
    with pytest.raises(ConfigError) as e:
        get_activation(name, **kwargs)
    for w in words:
        assert w in str(e.value), f"{w!r} missing from: {e.value}"


def test_instance_with_arguments_is_an_error():
    with pytest.raises(ConfigError, match="ELU"):
        get_activation(ELU(), alpha=2.0)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_gelu_in_place_chain_equals_its_formula(approximate, dtype, tol):
    """GELU's forward and derivative are in-place chains; GELU.reference writes the same
    functions as the docstring does. They agree to round-off over [−10, 10], kink-free region
    and tails included (absolute error, f′ scale ≈ 1)."""
    z = np.linspace(-10, 10, 4001).astype(dtype)
    act = GELU(approximate)
    out = act.forward(z)
    d = act.derivative()
    f_ref, d_ref = act.reference(z)
    assert out.dtype == d.dtype == dtype
    np.testing.assert_allclose(out, f_ref, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(d, d_ref, rtol=tol, atol=tol)
