"""whynet.probes.stats: each quantity on a case whose answer is known in advance."""

import math

import numpy as np
import pytest

from whynet.errors import ConfigError, ShapeError
from whynet.probes import stats


# -- activation statistics ----------------------------------------------------------------------
def test_summary_matches_numpy_on_a_known_array():
    a = np.arange(101, dtype=np.float32).reshape(1, 101)  # 0 … 100: percentile q is exactly q
    s = stats.summary(a)
    assert s["mean"] == 50.0
    assert s["std"] == pytest.approx(np.arange(101).std())
    for q in stats.PERCENTILES:
        assert s[f"p{q}"] == pytest.approx(q)
    assert all(isinstance(v, float) for v in s.values())


def test_summary_rejects_an_empty_array():
    with pytest.raises(ShapeError, match="size 0"):
        stats.summary(np.zeros((0, 3)))


def test_histogram_keeps_every_value_by_clipping_into_the_end_bins():
    a = np.array([-5.0, 0.1, 0.3, 0.6, 0.9, 7.0])  # -5 and 7 lie outside [0, 1]
    counts = stats.histogram(a, 2, (0.0, 1.0))
    assert counts.tolist() == [3, 3]  # [-5, 0.1, 0.3] and [0.6, 0.9, 7]


def test_histogram_range_bounded_activation_uses_its_bounds_else_twice_the_reach():
    assert stats.histogram_range(np.array([0.2]), (-1.0, 1.0)) == (-1.0, 1.0)
    assert stats.histogram_range(np.array([0.0, 1.5]), (0.0, math.inf)) == (0.0, 3.0)
    assert stats.histogram_range(np.array([-2.0, 1.0]), (-math.inf, math.inf)) == (-4.0, 4.0)
    assert stats.histogram_range(np.zeros(4), (0.0, math.inf)) == (0.0, 1.0)  # all zero: ±1


def test_saturated_tanh_thresholds_are_0_97():
    out = np.tanh(np.array([0.0, 0.5, 2.0, 2.2, -2.2, 3.0]))
    # tanh(2.0) = 0.964 (not saturated), tanh(2.2) = 0.976 (saturated): 3 of 6 beyond ±0.97.
    assert stats.saturated_fraction(out, (-1.0, 1.0)) == pytest.approx(0.5)


def test_saturated_sigmoid_thresholds_are_0_015_from_the_bounds():
    out = np.array([0.01, 0.02, 0.5, 0.98, 0.99])
    assert stats.saturated_fraction(out, (0.0, 1.0)) == pytest.approx(2 / 5)


def test_saturation_margin_matches_the_derivative_threshold():
    # The two definitions agree for tanh: |a| = 0.97 is exactly where tanh′ = SATURATION_DERIVATIVE.
    assert 1 - 0.97 ** 2 == pytest.approx(stats.SATURATION_DERIVATIVE)
    # and for sigmoid: at a = 0.015, σ′ = 0.985·0.015 ≈ 5.9% of its maximum ¼.
    assert 0.985 * 0.015 / 0.25 == pytest.approx(stats.SATURATION_DERIVATIVE, rel=0.01)


def test_saturation_is_none_for_relu_and_derivative_based_for_one_sided_bounds():
    out = np.array([[0.0, 1.0]])
    assert stats.saturation(out, None, (0.0, math.inf), False, 1.0) is None
    fprime = np.array([[0.01, 0.5, 1.0, 0.05]])  # 0.01 and 0.05 are below 0.0591
    assert stats.saturation(out, fprime, (-1.0, math.inf), True, 1.0) == pytest.approx(0.5)


def test_saturated_fraction_rejects_unbounded_ranges():
    with pytest.raises(ConfigError, match="output_range"):
        stats.saturated_fraction(np.zeros(3), (0.0, math.inf))


def test_planted_dead_units_are_counted_per_unit_over_the_whole_batch():
    rng = np.random.default_rng(0)
    a = np.abs(rng.normal(size=(50, 10))) + 0.1
    a[:, [2, 5, 7]] = 0.0     # planted: zero for every example
    a[:49, 8] = 0.0           # zero for 49 of 50 examples only: alive
    assert stats.dead_units(a).tolist() == [j in (2, 5, 7) for j in range(10)]
    assert stats.dead_fraction(a) == pytest.approx(0.3)


def test_dead_units_of_a_conv_map_are_channels():
    a = np.ones((4, 3, 5, 5))
    a[:, 1] = 0.0
    a[0, 2, 0, 0] = 0.0  # one zero pixel does not kill channel 2
    assert stats.dead_units(a).tolist() == [False, True, False]


def test_mean_derivative_of_sigmoid_at_zero_is_a_quarter():
    s = 1 / (1 + np.exp(-np.zeros((3, 4))))
    assert stats.mean_derivative(s * (1 - s)) == 0.25


# -- gradients and weights ------------------------------------------------------------------------
def test_norm_and_mean_abs():
    g = np.array([[3.0, -4.0]], dtype=np.float32)
    assert stats.norm(g) == 5.0
    assert stats.mean_abs(g) == 3.5


def test_norm_of_huge_float32_values_does_not_overflow():
    g = np.full(4, 3e30, dtype=np.float32)  # squares overflow float32; the norm does not
    assert stats.norm(g) == pytest.approx(6e30, rel=1e-6)


def test_update_ratio_of_a_known_step():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(5, 4))
    assert stats.update_ratio(W, W * 1.001) == pytest.approx(1e-3)  # ‖0.001 W‖ / ‖W‖
    assert stats.update_ratio(np.zeros((2, 2)), np.ones((2, 2))) is None  # undefined at W = 0
    with pytest.raises(ShapeError):
        stats.update_ratio(W, W[:2])


def test_weight_sparsity_counts_exact_and_near_zeros():
    W = np.array([[0.0, 5e-4, -2e-4, 0.5], [0.0, -1.0, 2.0, 1e-3]])
    zero, small = stats.weight_sparsity(W, eps=1e-3)
    assert zero == 2 / 8             # two exact zeros
    assert small == 4 / 8            # plus 5e-4 and -2e-4 (1e-3 itself is not < eps)


def test_sign_agreement_is_total_for_one_example_with_positive_inputs():
    # One example: ∂L/∂W[j, k] = δⱼ·xₖ; with every xₖ > 0 each row has δⱼ's sign throughout.
    rng = np.random.default_rng(2)
    x = rng.uniform(0.1, 1.0, size=(1, 30))     # positive, like sigmoid outputs
    delta = rng.normal(size=(1, 12))
    assert stats.sign_agreement(delta.T @ x) == 1.0
    # Zero-centred inputs: a row agrees only if all 30 xₖ share a sign, probability 2⁻²⁹.
    x_centred = rng.normal(size=(1, 30))
    assert stats.sign_agreement(delta.T @ x_centred) == 0.0


def test_sign_agreement_zero_rows_do_not_agree_and_zero_entries_are_neutral():
    G = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [-1.0, 3.0, 0.0]])
    assert stats.same_sign_units(G).tolist() == [True, False, False]


def test_distinct_units_zero_init_is_one_and_random_init_is_all():
    assert stats.distinct_units(np.zeros((64, 20)), np.zeros(64)) == 1
    rng = np.random.default_rng(3)
    assert stats.distinct_units(rng.normal(size=(64, 20)), np.zeros(64)) == 64


def test_distinct_units_groups_copies_up_to_the_tolerance():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(3, 8))
    W = np.repeat(base, [5, 2, 1], axis=0)          # 3 distinct rows, copied 5, 2 and 1 times
    W[1] += 1e-7                                    # round-off on a copy: still the same unit
    assert stats.distinct_units(W) == 3
    W[2, 0] += 0.1                                  # a real difference: a fourth unit
    assert stats.distinct_units(W) == 4


def test_distinct_units_bias_tells_otherwise_equal_units_apart():
    W = np.ones((4, 3))
    assert stats.distinct_units(W) == 1
    assert stats.distinct_units(W, b=np.array([0.0, 0.0, 1.0, 2.0])) == 3


def test_distinct_units_is_fast_on_the_benchmark_layer_size():
    rng = np.random.default_rng(5)
    W = rng.normal(size=(1024, 1024)).astype(np.float32)
    assert stats.distinct_units(W) == 1024


def test_jacobian_singular_values_of_a_linear_layer_are_those_planted():
    rng = np.random.default_rng(6)
    U, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    V, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    s = np.array([3.0, 2.0, 0.5, 0.1])
    W = U[:, :4] @ np.diag(s) @ V.T                  # (6, 4) with singular values s
    np.testing.assert_allclose(stats.jacobian_singular_values(W), s, rtol=1e-12)
    # With an activation: J = diag(f′) W; a constant f′ = 0.25 (sigmoid at 0) scales every value.
    sv = stats.jacobian_singular_values(W, np.full((3, 6), 0.25))
    assert sv.shape == (3, 4)
    np.testing.assert_allclose(sv, np.tile(0.25 * s, (3, 1)), rtol=1e-12)


def test_jacobian_singular_values_shape_errors():
    with pytest.raises(ShapeError, match=r"fprime of shape \(m, 6\)"):
        stats.jacobian_singular_values(np.ones((6, 4)), np.ones((3, 4)))


def test_batchnorm_gap_zero_when_running_stats_match_and_in_std_units_otherwise():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 3))
    mean, var = x.mean(axis=0), x.var(axis=0)
    gap, ratio = stats.batchnorm_gap(x, mean, var)
    assert gap == pytest.approx(0.0, abs=1e-12)
    assert ratio == pytest.approx(1.0)
    # running mean 2 running-std below the batch mean in every channel
    gap, ratio = stats.batchnorm_gap(x, mean - 2 * np.sqrt(var + 1e-5), var)
    assert gap == pytest.approx(2.0)
    assert ratio == pytest.approx(1.0)
    # running variance (+ε) 4× the batch's: the ratio of the normalisers is ¼
    gap, ratio = stats.batchnorm_gap(x, mean, 4 * var + 3e-5)
    assert gap == pytest.approx(0.0, abs=1e-12)
    assert ratio == pytest.approx(0.25)


def test_summary_percentiles_equal_numpys_linear_method():
    rng = np.random.default_rng(8)
    for a in (rng.normal(size=(256, 300)).astype(np.float32), np.maximum(rng.normal(size=77), 0),
              np.array([[2.5]])):
        s = stats.summary(a)
        expected = np.percentile(a.astype(np.float64), stats.PERCENTILES)
        np.testing.assert_allclose([s[f"p{q}"] for q in stats.PERCENTILES], expected,
                                   rtol=1e-12, atol=1e-12)
