"""Optimisers, schedules and clipping against torch.optim, plus dtype, in-place and error checks.

Each optimiser runs N steps on the same parameters with the same gradient sequence in whynet and
in PyTorch (float64); the gradient at each step depends on the current parameters
(g = sin θ + noise), so a wrong update changes every later gradient and the error grows instead of
staying at one step's size. Agreement to 1e-10 relative means the same equations (round-off only).
"""

import json
import math

import numpy as np
import pytest
import torch

from whynet.errors import ConfigError, UnknownNameError
from whynet.gradcheck import rel_error
from whynet.nn import Dense
from whynet.nn.module import Parameter
from whynet.optim import (OPTIMIZERS, SGD, AdaGrad, Adam, AdamW, CosineAnnealingLR, ExponentialLR,
                          RMSProp, StepLR, clip_grad_norm, get_optimizer)

SHAPES = [(5, 3), (3,), (2, 2, 3)]
N_STEPS = 30

TORCH = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
         "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}

CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.5}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.05}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.5, "eps": 1e-6, "weight_decay": 0.1}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop", {"lr": 0.01, "centered": True}),
    ("rmsprop", {"lr": 0.003, "alpha": 0.9, "momentum": 0.5, "centered": True,
                 "weight_decay": 0.1}),
    ("adam", {}),
    ("adam", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw", {}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.3, "betas": (0.8, 0.99)}),
]


def _make_params(rng, dtype=np.float64):
    return [Parameter(rng.normal(size=s).astype(dtype), name=f"p{i}") for i, s in enumerate(SHAPES)]


def _run_both(name, kwargs, n_steps=N_STEPS, lr_change=None):
    rng = np.random.default_rng(0)
    params = _make_params(rng)
    tparams = [torch.tensor(p.value.copy(), requires_grad=True) for p in params]
    opt = get_optimizer(name, params, **kwargs)
    topt = TORCH[name](tparams, **kwargs)
    noise = np.random.default_rng(1)
    for step in range(n_steps):
        if lr_change is not None and step == n_steps // 2:
            opt.lr = lr_change
            for group in topt.param_groups:
                group["lr"] = lr_change
        for p, tp in zip(params, tparams):
            eps = noise.normal(size=p.shape)
            p.grad[...] = np.sin(p.value) + eps
            tp.grad = torch.sin(tp.detach()) + torch.from_numpy(eps)
        opt.step()
        topt.step()
    return params, tparams


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{json.dumps(k)}" for n, k in CASES])
def test_matches_torch_after_many_steps(name, kwargs):
    params, tparams = _run_both(name, kwargs)
    for p, tp in zip(params, tparams):
        err = rel_error(p.value, tp.detach().numpy())
        assert err <= 1e-10, f"{name} {kwargs}: {p.name} differs from torch by {err:.2e}"


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{json.dumps(k)}" for n, k in CASES])
def test_fused_update_equals_the_readable_formula(name, kwargs, dtype, tol):
    """``_update`` (in place, out=, scratch buffers) and ``reference_update`` (the docstring's
    equations, one per line, float64) agree step after step, in float64 and in float32: the
    fused form is the formula, to round-off."""
    rng = np.random.default_rng(0)
    params = _make_params(rng, dtype)
    opt = get_optimizer(name, params, **kwargs)
    thetas = [p.value.astype(np.float64) for p in params]
    states = [{} for _ in params]
    noise = np.random.default_rng(1)
    for _ in range(N_STEPS):
        for i, p in enumerate(params):
            g = np.sin(thetas[i]) + noise.normal(size=p.shape)
            p.grad[...] = g
            thetas[i] = opt.reference_update(thetas[i], p.grad.astype(np.float64), states[i])
        opt.step()
    for p, theta in zip(params, thetas):
        assert p.value.dtype == dtype
        assert rel_error(p.value, theta) <= tol, f"{name} {kwargs}: {p.name}"


@pytest.mark.parametrize("name, kwargs", [("sgd", {"lr": 0.1, "momentum": 0.9}),
                                          ("adam", {"lr": 0.01}), ("rmsprop", {"lr": 0.01})])
def test_changing_lr_mid_run_matches_torch(name, kwargs):
    params, tparams = _run_both(name, kwargs, lr_change=kwargs["lr"] / 3)
    for p, tp in zip(params, tparams):
        assert rel_error(p.value, tp.detach().numpy()) <= 1e-10


def test_parameters_move_in_every_case():
    """Guard for the comparison above: after N steps no parameter is still at its start."""
    start = [p.value.copy() for p in _make_params(np.random.default_rng(0))]
    for name, kwargs in CASES:
        params, _ = _run_both(name, kwargs, n_steps=3)
        for p, s in zip(params, start):
            assert not np.allclose(p.value, s), f"{name} {kwargs} did not move {p.name}"


def test_plain_sgd_is_exactly_w_minus_lr_grad():
    """W := W − η·∂E/∂W with no rounding beyond that formula's own (experiment T2 relies on it)."""
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        p = Parameter(rng.normal(size=(7, 4)).astype(dtype))
        p.grad[...] = rng.normal(size=(7, 4))
        expected = p.value - dtype(0.3) * p.grad
        SGD([p], lr=0.3).step()
        assert np.array_equal(p.value, expected)


def test_sgd_momentum_first_step_is_not_dampened():
    """PyTorch starts the buffer at g (no (1 − τ) factor at step 1): with τ = 0.5 and η = 1 the
    first step is exactly −g, not −g/2."""
    p = Parameter(np.zeros(3))
    p.grad[...] = [1.0, -2.0, 4.0]
    SGD([p], lr=1.0, momentum=0.9, dampening=0.5).step()
    assert np.array_equal(p.value, [-1.0, 2.0, -4.0])


def test_adam_first_step_is_lr_times_sign():
    """With bias correction, Adam's first step is η·g/(|g| + ε) ≈ η·sign(g) whatever |g| is."""
    p = Parameter(np.zeros(3))
    p.grad[...] = [1e-3, -5.0, 300.0]
    Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.value, [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{json.dumps(k)}" for n, k in CASES])
def test_float32_stays_float32_and_updates_in_place(name, kwargs):
    """No float64 promotion (a float64 lr included), the same arrays updated in place, grads
    untouched (weight decay must not write λθ into p.grad), no new state arrays after step 1."""
    rng = np.random.default_rng(0)
    params = _make_params(rng, np.float32)
    values = [p.value for p in params]
    opt = get_optimizer(name, params, **kwargs)
    opt.lr = np.float64(opt.lr)
    for p in params:
        p.grad[...] = rng.normal(size=p.shape)
    grads = [p.grad.copy() for p in params]
    opt.step()
    state_ids = [{k: id(v) for k, v in s.items() if isinstance(v, np.ndarray)} for s in opt.state]
    opt.step()
    for p, v, g, s, ids in zip(params, values, grads, opt.state, state_ids):
        assert p.value is v and p.value.dtype == np.float32
        assert np.array_equal(p.grad, g)
        for key, arr in s.items():
            if isinstance(arr, np.ndarray):
                assert arr.dtype == np.float32, f"state {key} is {arr.dtype}"
                assert id(arr) == ids[key], f"state {key} was reallocated"


def test_zero_grad_and_module_params():
    layer = Dense(3, 2, rng=0)
    opt = SGD(layer, lr=0.1)  # a Module is accepted: its parameters() are used
    assert opt.params == layer.parameters()
    layer.W.grad += 1
    opt.zero_grad()
    assert not layer.W.grad.any()


def test_per_parameter_state_uses_torch_names():
    p = Parameter(np.ones(2))
    p.grad += 1
    opt = Adam([p])
    opt.step()
    opt.step()
    assert opt.state[0]["step"] == 2
    assert {"exp_avg", "exp_avg_sq"} <= set(opt.state[0])


# -- schedules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("ours, theirs, kw", [
    (StepLR, torch.optim.lr_scheduler.StepLR, {"step_size": 3, "gamma": 0.5}),
    (ExponentialLR, torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.9}),
    (CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": 10}),
    (CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR,
     {"T_max": 7, "eta_min": 0.001}),
])
def test_schedules_match_torch(ours, theirs, kw):
    """30 epochs (past T_max, where the cosine rises again) give torch's lr at every epoch."""
    p = Parameter(np.zeros(1))
    opt = SGD([p], lr=0.1)
    sched = ours(opt, **kw)
    tp = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1)
    tsched = theirs(topt, **kw)
    assert opt.lr == pytest.approx(tsched.get_last_lr()[0], rel=1e-12)
    for epoch in range(30):
        topt.step()
        tsched.step()
        sched.step()
        expected = tsched.get_last_lr()[0]
        assert abs(opt.lr - expected) <= 1e-10 * max(expected, 1e-3), (epoch, opt.lr, expected)
    assert sched.last_epoch == 30


def test_cosine_reaches_eta_min_at_t_max():
    opt = SGD([Parameter(np.zeros(1))], lr=0.5)
    sched = CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    lrs = [sched.step() for _ in range(4)]
    assert lrs[-1] == pytest.approx(0.01, abs=1e-15)
    assert lrs == sorted(lrs, reverse=True)


# -- clipping -----------------------------------------------------------------------------------

@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, math.inf),
                                                 (2.0, 1.0), (1.5, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    rng = np.random.default_rng(5)
    params = _make_params(rng)
    tparams = [torch.tensor(p.value, requires_grad=True) for p in params]
    for p, tp in zip(params, tparams):
        p.grad[...] = rng.normal(size=p.shape)
        tp.grad = torch.from_numpy(p.grad.copy())
    total = clip_grad_norm(params, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(params, tparams):
        assert rel_error(p.grad, tp.grad.numpy()) <= 1e-12


def test_clip_grad_norm_keeps_direction_and_float32():
    rng = np.random.default_rng(6)
    params = _make_params(rng, np.float32)
    for p in params:
        p.grad[...] = 10 * rng.normal(size=p.shape)
    before = np.concatenate([p.grad.ravel() for p in params]).astype(np.float64)
    total = clip_grad_norm(params, 1.0)
    after = np.concatenate([p.grad.ravel() for p in params]).astype(np.float64)
    assert total == pytest.approx(np.linalg.norm(before), rel=1e-6)
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after, before / np.linalg.norm(before), rtol=1e-5, atol=1e-7)
    assert all(p.grad.dtype == np.float32 for p in params)


# -- errors -------------------------------------------------------------------------------------

def test_get_optimizer_unknown_name_lists_known():
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adamax'.*adagrad.*sgd"):
        get_optimizer("adamax", _make_params(np.random.default_rng(0)))


def test_get_optimizer_unknown_kwarg_names_it():
    with pytest.raises(ConfigError,
                       match="optimizer 'sgd': unknown argument.*betas.*allowed: lr, momentum"):
        get_optimizer("sgd", _make_params(np.random.default_rng(0)), betas=(0.9, 0.99))


def test_get_optimizer_is_case_insensitive_and_passes_instances():
    params = _make_params(np.random.default_rng(0))
    assert isinstance(get_optimizer("Adam", params), Adam)
    opt = RMSProp(params)
    assert get_optimizer(opt, params) is opt
    assert set(OPTIMIZERS) == {"sgd", "adagrad", "rmsprop", "adam", "adamw"}


@pytest.mark.parametrize("cls, kwargs, match", [
    (SGD, {"lr": -0.1}, r"SGD: lr must be a finite number ≥ 0, got -0.1"),
    (SGD, {"lr": float("nan")}, r"SGD: lr .* got nan"),
    (SGD, {"lr": "fast"}, r"SGD: lr .* got 'fast'"),
    (SGD, {"momentum": 1.0}, r"SGD: momentum must be a finite number in \[0, 1\), got 1.0"),
    (SGD, {"momentum": -0.5}, r"SGD: momentum .* got -0.5"),
    (SGD, {"nesterov": True}, r"SGD: nesterov needs momentum > 0 and dampening = 0, "
                              r"got momentum=0.0"),
    (SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, r"dampening=0.1"),
    (SGD, {"weight_decay": -1e-4}, r"SGD: weight_decay .* got -0.0001"),
    (AdaGrad, {"eps": -1.0}, r"AdaGrad: eps .* got -1.0"),
    (RMSProp, {"alpha": 1.0}, r"RMSProp: alpha must be a finite number in \[0, 1\), got 1.0"),
    (RMSProp, {"momentum": 2}, r"RMSProp: momentum .* got 2"),
    (Adam, {"betas": (1.0, 0.999)}, r"Adam: betas\[0\] must be a finite number in \[0, 1\), "
                                    r"got 1.0"),
    (Adam, {"betas": (0.9, -0.1)}, r"Adam: betas\[1\] .* got -0.1"),
    (Adam, {"betas": (0.9,)}, r"Adam: betas must be a pair"),
    (AdamW, {"weight_decay": -0.01}, r"AdamW: weight_decay .* got -0.01"),
])
def test_invalid_hyperparameters_raise_naming_them(cls, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        cls(_make_params(np.random.default_rng(0)), **kwargs)


def test_lr_setter_validates():
    opt = Adam(_make_params(np.random.default_rng(0)))
    with pytest.raises(ConfigError, match="Adam: lr .* got -1"):
        opt.lr = -1
    assert opt.lr == 1e-3


def test_empty_or_wrong_params_raise():
    with pytest.raises(ConfigError, match="SGD: got an empty parameter list"):
        SGD([])
    with pytest.raises(ConfigError, match=r"Adam: params\[0\] is a ndarray, expected a Parameter"):
        Adam([np.zeros(3)])


def test_schedule_and_clip_errors():
    opt = SGD(_make_params(np.random.default_rng(0)))
    with pytest.raises(ConfigError, match="StepLR: step_size must be an integer ≥ 1, got 0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ConfigError, match="CosineAnnealingLR: T_max must be an integer ≥ 1"):
        CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ConfigError, match="ExponentialLR: gamma .* got -0.5"):
        ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(ConfigError,
                       match="clip_grad_norm: max_norm must be a finite number > 0, got 0"):
        clip_grad_norm(opt.params, 0.0)


def test_repr_shows_hyperparameters():
    opt = SGD(_make_params(np.random.default_rng(0)), lr=0.1, momentum=0.9, nesterov=True)
    assert repr(opt) == "SGD(lr=0.1, momentum=0.9, nesterov, 3 parameters)"


@pytest.mark.skipif((__import__("os").cpu_count() or 1) < 2, reason="needs two cores")
@pytest.mark.parametrize("name, kwargs", [("sgd", {"lr": 0.1, "momentum": 0.9}),
                                          ("adam", {"lr": 0.01, "weight_decay": 0.1})])
def test_threaded_step_is_bitwise_the_sequential_one(name, kwargs):
    """With several BLAS threads allowed, a large step shares its parameters among threads;
    every value and state array is bitwise what the one-thread loop gives."""
    from threadpoolctl import threadpool_limits
    results = []
    for threads in (1, 2):
        rng = np.random.default_rng(0)
        params = [Parameter(rng.normal(size=s)) for s in [(300, 400), (400,), (200, 300), (7,)]]
        opt = get_optimizer(name, params, **kwargs)
        opt.PARALLEL_MIN_SIZE = 0  # these parameters are below the size that takes threads
        with threadpool_limits(limits=threads, user_api="blas"):
            groups = opt._thread_groups()
            for _ in range(5):
                for p in params:
                    p.grad[...] = np.sin(p.value)
                opt.step()
        results.append(([p.value for p in params], opt.state, groups))
    assert len(results[0][2]) == 1
    assert len(results[1][2]) == 2  # the threaded path ran
    assert sorted(i for g in results[1][2] for i in g) == [0, 1, 2, 3]
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    for sa, sb in zip(results[0][1], results[1][1]):
        for key in sa:
            np.testing.assert_array_equal(sa[key], sb[key])
