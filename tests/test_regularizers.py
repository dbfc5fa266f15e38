"""Regularisers: penalty values and gradients against the hand formulas and PyTorch, the proximal
L1 step (exact zeros, as torch's softshrink), which parameters are penalised, and errors."""

import numpy as np
import pytest

from whynet.errors import ConfigError, UnknownNameError
from whynet.gradcheck import rel_error
from whynet.nn import Dense, Sequential, Tanh
from whynet.nn.init import normal
from whynet.nn.regularizers import L1, L2, ElasticNet, Regularizer, get_regularizer

torch = pytest.importorskip("torch")


def _model(dtype=np.float64):
    # Non-zero biases, so a penalty that wrongly includes them changes the numbers.
    return Sequential(Dense(4, 3, bias_init=normal(1.0), rng=0, dtype=dtype), Tanh(),
                      Dense(3, 2, bias_init=normal(1.0), rng=1, dtype=dtype))


def _weights(model):
    return [model[0].W.value, model[2].W.value]


def test_l2_penalty_is_half_lambda_sum_of_squares_of_weights_only():
    model = _model()
    expected = 0.5 * 0.1 * sum((w ** 2).sum() for w in _weights(model))
    assert L2(0.1).penalty(model.parameters()) == pytest.approx(expected, rel=1e-12)
    assert L2(0.1).penalty(model) == pytest.approx(expected, rel=1e-12)  # a Module works too


def test_l1_penalty_is_lambda_sum_of_abs_of_weights_only():
    model = _model()
    expected = 0.1 * sum(np.abs(w).sum() for w in _weights(model))
    assert L1(0.1).penalty(model.parameters()) == pytest.approx(expected, rel=1e-12)


def _torch_penalty_grads(model, penalty_fn):
    ws = [torch.tensor(w, requires_grad=True) for w in _weights(model)]
    value = sum(penalty_fn(w) for w in ws)
    value.backward()
    return value.item(), [w.grad.numpy() for w in ws]


@pytest.mark.parametrize("reg,torch_fn", [
    (L2(0.3), lambda w: 0.5 * 0.3 * (w ** 2).sum()),
    (L1(0.3), lambda w: 0.3 * w.abs().sum()),
    (ElasticNet(0.2, 0.5), lambda w: 0.2 * w.abs().sum() + 0.25 * (w ** 2).sum()),
], ids=["l2", "l1", "elastic"])
def test_penalty_and_gradient_match_torch_autograd(reg, torch_fn):
    model = _model()
    value_t, grads_t = _torch_penalty_grads(model, torch_fn)
    assert reg.penalty(model.parameters()) == pytest.approx(value_t, rel=1e-12)
    reg.add_grad(model.parameters())
    for layer, gt in zip((model[0], model[2]), grads_t):
        assert rel_error(layer.W.grad, gt) <= 1e-6


def test_biases_are_untouched_by_default():
    model = _model()
    b_before = model[0].b.value.copy()
    for reg in (L1(0.5), L2(0.5), ElasticNet(0.5, 0.5), L1(0.5, proximal=True)):
        model.zero_grad()
        reg.add_grad(model.parameters())
        reg.after_step(model.parameters(), lr=10.0)
        np.testing.assert_array_equal(model[0].b.grad, 0)
        np.testing.assert_array_equal(model[2].b.grad, 0)
    np.testing.assert_array_equal(model[0].b.value, b_before)


def test_a_bias_marked_regularize_is_penalised():
    layer = Dense(2, 2, bias_init=normal(1.0), rng=0, dtype=np.float64)
    layer.b.regularize = True
    expected = 0.5 * ((layer.W.value ** 2).sum() + (layer.b.value ** 2).sum())
    assert L2(1.0).penalty(layer.parameters()) == pytest.approx(expected, rel=1e-12)


def test_l2_step_equals_torch_sgd_weight_decay(rng):
    """(λ/2)·Σw² added to the loss is PyTorch's SGD weight_decay=λ: same weights after a step."""
    lam, lr = 0.1, 0.5
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    g = rng.normal(size=layer.W.shape)
    wt = torch.tensor(layer.W.value.copy(), requires_grad=True)
    wt.grad = torch.tensor(g)
    torch.optim.SGD([wt], lr=lr, weight_decay=lam).step()
    layer.W.grad[...] = g
    L2(lam).add_grad(layer.parameters())
    layer.W.value -= lr * layer.W.grad
    np.testing.assert_allclose(layer.W.value, wt.detach().numpy(), rtol=1e-12)


def test_l1_subgradient_at_zero_is_zero():
    layer = Dense(2, 2, rng=0, dtype=np.float64)
    layer.W.value[...] = [[0.0, 2.0], [-3.0, 0.0]]
    L1(0.5).add_grad(layer.parameters())
    np.testing.assert_array_equal(layer.W.grad, [[0.0, 0.5], [-0.5, 0.0]])


def test_proximal_l1_is_softshrink_and_makes_exact_zeros(rng):
    lam, lr = 0.2, 0.5  # threshold lr·λ = 0.1
    layer = Dense(20, 30, init=normal(0.1), rng=0, dtype=np.float64)
    w0 = layer.W.value.copy()
    expected = torch.nn.functional.softshrink(torch.tensor(w0), lambd=lr * lam).numpy()
    reg = L1(lam, proximal=True)
    reg.add_grad(layer.parameters())
    np.testing.assert_array_equal(layer.W.grad, 0)  # the proximal form leaves gradients alone
    before = layer.W.value
    reg.after_step(layer.parameters(), lr=lr)
    assert layer.W.value is before  # in place: an optimiser's reference stays valid
    np.testing.assert_allclose(layer.W.value, expected, rtol=1e-12, atol=0)
    n_small = int((np.abs(w0) <= lr * lam).sum())
    assert n_small > 100  # N(0, 0.1²): about 68% of 600 weights are within 0.1
    assert int((layer.W.value == 0).sum()) == n_small


def test_subgradient_l1_rarely_makes_exact_zeros(rng):
    """Plain gradient steps with λ·sign(w) overshoot 0 instead of landing on it (question R1)."""
    layer = Dense(20, 30, init=normal(0.1), rng=0, dtype=np.float64)
    reg = L1(0.2)
    for _ in range(20):
        layer.zero_grad()
        reg.add_grad(layer.parameters())
        layer.W.value -= 0.5 * layer.W.grad
    assert int((layer.W.value == 0).sum()) < 10


@pytest.mark.parametrize("reg", [L1(0.1), L2(0.1), ElasticNet(0.1, 0.1), L1(0.1, proximal=True)])
def test_float32_grads_and_values_stay_float32(reg):
    model = _model(np.float32)
    reg.add_grad(model.parameters())
    reg.after_step(model.parameters(), lr=0.1)
    for p in model.parameters():
        assert p.grad.dtype == p.value.dtype == np.float32
    assert isinstance(reg.penalty(model.parameters()), float)


def test_elastic_is_l1_plus_l2():
    model = _model()
    en, l1, l2 = ElasticNet(0.2, 0.4), L1(0.2), L2(0.4)
    assert en.penalty(model) == pytest.approx(l1.penalty(model) + l2.penalty(model), rel=1e-12)


def test_none_does_nothing():
    model = _model()
    reg = get_regularizer("none")
    assert reg.penalty(model) == 0.0
    reg.add_grad(model.parameters())
    assert all((p.grad == 0).all() for p in model.parameters())


def test_zero_lambda_adds_nothing():
    model = _model()
    L2(0.0).add_grad(model.parameters())
    L1(0.0, proximal=True).after_step(model.parameters(), lr=1.0)
    assert all((p.grad == 0).all() for p in model.parameters())


def test_get_regularizer():
    assert type(get_regularizer("none")) is Regularizer
    assert type(get_regularizer(None)) is Regularizer
    assert isinstance(get_regularizer("l1", 0.1), L1) and get_regularizer("l1", 0.1).lam == 0.1
    assert get_regularizer("l1", 0.1, proximal=True).proximal
    assert isinstance(get_regularizer("L2", 0.1), L2)
    en = get_regularizer("elastic", (0.1, 0.2))
    assert isinstance(en, ElasticNet) and (en.l1, en.l2) == (0.1, 0.2)
    assert (get_regularizer("elastic", 0.3).l1, get_regularizer("elastic", 0.3).l2) == (0.3, 0.3)
    reg = L2(0.5)
    assert get_regularizer(reg) is reg


# -- errors --------------------------------------------------------------------------------------
def test_unknown_regulariser_names_it():
    with pytest.raises(UnknownNameError) as e:
        get_regularizer("l3", 0.1)
    assert "'l3'" in str(e.value) and "elastic" in str(e.value)


@pytest.mark.parametrize("make,owner,arg", [
    (lambda: L1(-0.1), "L1", "lam"), (lambda: L2(-0.1), "L2", "lam"),
    (lambda: ElasticNet(-0.1, 0.1), "ElasticNet", "l1"),
    (lambda: ElasticNet(0.1, -0.1), "ElasticNet", "l2"),
    (lambda: get_regularizer("l2", -0.1), "L2", "lam"),
])
def test_negative_lambda_names_owner_argument_and_value(make, owner, arg):
    with pytest.raises(ConfigError) as e:
        make()
    assert f"{owner}: {arg}" in str(e.value) and "-0.1" in str(e.value)


@pytest.mark.parametrize("lam", [float("nan"), float("inf"), "0.1", True])
def test_non_numeric_lambda(lam):
    with pytest.raises(ConfigError) as e:
        L2(lam)
    assert "L2: lam" in str(e.value) and repr(lam) in str(e.value)


def test_elastic_pair_of_wrong_length():
    with pytest.raises(ConfigError) as e:
        get_regularizer("elastic", (0.1, 0.2, 0.3))
    assert "(0.1, 0.2, 0.3)" in str(e.value)
