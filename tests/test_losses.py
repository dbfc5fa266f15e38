"""Losses: values and gradients against PyTorch (float64) and finite differences, stability at
extreme logits, predictions, and validation errors."""

import math

import numpy as np
import pytest

from whynet.errors import ConfigError, NonFiniteError, ShapeError, UnknownNameError, WhynetError
from whynet.gradcheck import numerical_gradient, rel_error
from whynet.nn.losses import (MSE, BCEWithLogits, Loss, MulticlassHinge, SoftmaxCrossEntropy,
                              get_loss, log_softmax, sigmoid, softmax)

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _cases(rng):
    """(loss, logits, y, torch function) for each loss, float64, with both hinge sides active."""
    m, c = 6, 4
    y_cls = rng.integers(0, c, size=m)
    y_bin = rng.integers(0, 2, size=(m, 1)).astype(np.float64)
    y_reg = rng.normal(size=(m, 3))
    return [
        (SoftmaxCrossEntropy(), rng.normal(size=(m, c)), y_cls,
         lambda z, y: F.cross_entropy(z, torch.tensor(y))),
        (MulticlassHinge(), rng.normal(size=(m, c)), y_cls,
         lambda z, y: F.multi_margin_loss(z, torch.tensor(y))),
        (BCEWithLogits(), rng.normal(size=(m, 1)) * 3, y_bin,
         lambda z, y: F.binary_cross_entropy_with_logits(z, torch.tensor(y))),
        (BCEWithLogits(), rng.normal(size=(m, 1)), y_bin[:, 0],  # targets (m,) for logits (m, 1)
         lambda z, y: F.binary_cross_entropy_with_logits(z[:, 0], torch.tensor(y))),
        (MSE(), rng.normal(size=(m, 3)), y_reg,
         lambda z, y: F.mse_loss(z, torch.tensor(y))),
    ]


CASE_IDS = ["softmax_ce", "hinge", "bce", "bce_flat_targets", "mse"]


@pytest.mark.parametrize("i", range(5), ids=CASE_IDS)
def test_loss_and_gradient_match_torch_float64(rng, i):
    loss, z, y, torch_fn = _cases(rng)[i]
    value = loss.forward(z, y)
    grad = loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    vt = torch_fn(zt, y)
    vt.backward()
    assert isinstance(value, float)
    assert value == pytest.approx(vt.item(), rel=1e-12)
    assert grad.shape == z.shape and grad.dtype == np.float64
    assert rel_error(grad, zt.grad.numpy()) <= 1e-6


@pytest.mark.parametrize("i", range(5), ids=CASE_IDS)
def test_gradient_matches_finite_differences(rng, i):
    loss, z, y, _ = _cases(rng)[i]
    loss.forward(z, y)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(z, y), z)
    assert rel_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("i", range(5), ids=CASE_IDS)
def test_float32_logits_give_float32_gradient(rng, i):
    loss, z, y, _ = _cases(rng)[i]
    value = loss.forward(z.astype(np.float32), y)
    assert isinstance(value, float)
    assert loss.backward().dtype == np.float32


# -- known values --------------------------------------------------------------------------------
def test_softmax_ce_of_equal_logits_is_log_C():
    """Equal scores over 10 classes: loss = ln 10 ≈ 2.303, the plateau of question T1."""
    loss = SoftmaxCrossEntropy().forward(np.zeros((5, 10), np.float32), np.arange(5))
    assert loss == pytest.approx(math.log(10), rel=1e-6)


def test_hinge_cs231n_example_divided_by_C():
    """cs231n's example: scores (3.2, 5.1, −1.7), true class 0 → SVM loss 2.9. PyTorch's
    MultiMarginLoss, which we follow, divides by C = 3."""
    loss = MulticlassHinge().forward(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    assert loss == pytest.approx(2.9 / 3, rel=1e-12)


def test_hinge_margin_argument():
    # margins 2 − 3.2 + 5.1 = 3.9 and 2 − 3.2 − 1.7 < 0
    loss = MulticlassHinge(margin=2.0).forward(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    assert loss == pytest.approx(3.9 / 3, rel=1e-12)


def test_bce_at_zero_logit_is_log_2_and_gradient_half():
    fn = BCEWithLogits()
    assert fn.forward(np.zeros((4, 1)), np.array([0, 1, 0, 1])) == pytest.approx(math.log(2))
    np.testing.assert_allclose(fn.backward(), [[0.125], [-0.125], [0.125], [-0.125]])


def test_bce_with_multilabel_logits_is_mean_over_all_elements(rng):
    z, y = rng.normal(size=(3, 2)), rng.integers(0, 2, size=(3, 2)).astype(float)
    expected = F.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y)).item()
    assert BCEWithLogits().forward(z, y) == pytest.approx(expected, rel=1e-12)


def test_mse_is_mean_over_all_elements():
    # errors 1, 2 / 3, 4: (1 + 4 + 9 + 16) / 4 elements
    assert MSE().forward(np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))) == 7.5


# -- extreme logits ------------------------------------------------------------------------------
def test_extreme_logits_float32_softmax_ce():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], np.float32)
    fn = SoftmaxCrossEntropy()
    # Right class with margin 1e4: loss 0; wrong class behind by 2e4: loss 2e4. Mean 1e4.
    assert fn.forward(z, np.array([0, 0])) == pytest.approx(1e4, rel=1e-6)
    grad = fn.backward()
    assert np.isfinite(grad).all() and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-7)


@pytest.mark.parametrize("z,y,expected_loss,expected_grad", [
    (1e4, 0.0, 1e4, 1.0), (1e4, 1.0, 0.0, 0.0), (-1e4, 1.0, 1e4, -1.0), (-1e4, 0.0, 0.0, 0.0),
])
def test_extreme_logits_float32_bce(z, y, expected_loss, expected_grad):
    """log σ(−1e4) would be log 0 = −inf if σ were formed first; the stable form gives 1e4."""
    fn = BCEWithLogits()
    assert fn.forward(np.array([[z]], np.float32), np.array([y])) == pytest.approx(expected_loss)
    grad = fn.backward()
    assert np.isfinite(grad).all() and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [[expected_grad]])


@pytest.mark.parametrize("fn", [MulticlassHinge(), MSE()])
def test_extreme_logits_float32_hinge_and_mse_are_finite(fn):
    z = np.array([[1e4, -1e4], [-1e4, 1e4]], np.float32)
    y = np.array([1, 0]) if isinstance(fn, MulticlassHinge) else np.zeros((2, 2))
    value = fn.forward(z, y)
    assert math.isfinite(value) and np.isfinite(fn.backward()).all()
    expected = (2e4 + 1) / 2 if isinstance(fn, MulticlassHinge) else 1e8
    assert value == pytest.approx(expected, rel=1e-6)


def test_extreme_logits_match_torch_float32():
    z = np.array([[88.0, -1e4, 1e4], [-88.0, 30.0, -1e4]], np.float32)
    y = np.array([2, 0])
    fn = SoftmaxCrossEntropy()
    zt = torch.tensor(z, requires_grad=True)
    F.cross_entropy(zt, torch.tensor(y)).backward()
    assert fn.forward(z, y) == pytest.approx(
        F.cross_entropy(torch.tensor(z), torch.tensor(y)).item(), rel=1e-6)
    np.testing.assert_allclose(fn.backward(), zt.grad.numpy(), atol=1e-7)


# -- helpers, predictions, accuracy --------------------------------------------------------------
def test_stable_helpers(rng):
    z = rng.normal(size=(4, 5)) * 50
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(log_softmax(z), torch.log_softmax(torch.tensor(z), 1).numpy(),
                               rtol=1e-12, atol=1e-12)
    s = sigmoid(np.array([-1e4, -1.0, 0.0, 1.0, 1e4], np.float32))
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, [0.0, 0.26894142, 0.5, 0.73105858, 1.0], rtol=1e-6)


def test_predict_accuracy_and_probabilities():
    z = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [4.0, 0.0, 0.0]])
    y = np.array([0, 1, 0, 0])
    for fn in (SoftmaxCrossEntropy(), MulticlassHinge()):
        np.testing.assert_array_equal(fn.predict(z), [0, 1, 2, 0])
        assert fn.accuracy(z, y) == 0.75
        np.testing.assert_allclose(fn.probabilities(z).sum(axis=1), 1.0)
    zb = np.array([[2.0], [-1.0], [0.5]])
    bce = BCEWithLogits()
    np.testing.assert_array_equal(bce.predict(zb), [1, 0, 1])
    assert bce.accuracy(zb, np.array([1, 1, 1])) == pytest.approx(2 / 3)
    np.testing.assert_allclose(bce.probabilities(zb), 1 / (1 + np.exp(-zb)))
    mse = MSE()
    assert mse.accuracy(zb, zb) is None
    np.testing.assert_array_equal(mse.predict(zb), zb)


def test_float_class_labels_that_are_integers_are_accepted():
    z = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert SoftmaxCrossEntropy().forward(z, np.array([1.0, 0.0])) == pytest.approx(
        SoftmaxCrossEntropy().forward(z, np.array([1, 0])), rel=1e-15)


def test_get_loss_names_and_aliases():
    assert isinstance(get_loss("bce"), BCEWithLogits)
    assert isinstance(get_loss("softmax_ce"), SoftmaxCrossEntropy)
    assert isinstance(get_loss("cross_entropy"), SoftmaxCrossEntropy)
    assert isinstance(get_loss("mse"), MSE)
    assert isinstance(get_loss("hinge"), MulticlassHinge)
    assert get_loss("hinge", margin=2.0).margin == 2.0
    fn = MSE()
    assert get_loss(fn) is fn and isinstance(fn, Loss)


# -- errors --------------------------------------------------------------------------------------
def test_unknown_loss_names_it_and_lists_known():
    with pytest.raises(UnknownNameError) as e:
        get_loss("crossentropy")
    assert "'crossentropy'" in str(e.value) and "softmax_ce" in str(e.value)


def test_wrong_logits_rank():
    with pytest.raises(ShapeError) as e:
        SoftmaxCrossEntropy().forward(np.zeros(4), np.zeros(4, int))
    assert "SoftmaxCrossEntropy" in str(e.value) and "rank 2" in str(e.value)
    assert "(4,)" in str(e.value)


def test_wrong_target_length():
    with pytest.raises(ShapeError) as e:
        SoftmaxCrossEntropy().forward(np.zeros((4, 3)), np.zeros(5, int))
    assert "4 examples" in str(e.value) and "(5,)" in str(e.value)
    with pytest.raises(ShapeError) as e:
        BCEWithLogits().forward(np.zeros((4, 1)), np.zeros((4, 2)))
    assert "BCEWithLogits" in str(e.value) and "(4, 2)" in str(e.value)


@pytest.mark.parametrize("fn", [SoftmaxCrossEntropy(), MulticlassHinge()])
@pytest.mark.parametrize("bad", [3, -1])
def test_class_index_out_of_range_names_loss_range_and_value(fn, bad):
    with pytest.raises(ShapeError) as e:
        fn.forward(np.zeros((2, 3)), np.array([0, bad]))
    msg = str(e.value)
    assert type(fn).__name__ in msg and "[0, 3)" in msg and f"got {bad}" in msg


def test_non_integer_class_labels():
    with pytest.raises(ConfigError) as e:
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0.5, 1.0]))
    assert "integer class indices" in str(e.value) and "0.5" in str(e.value)


@pytest.mark.parametrize("fn", [SoftmaxCrossEntropy(), MulticlassHinge(), BCEWithLogits(), MSE()])
def test_nan_in_logits_names_the_loss(fn):
    z = np.zeros((3, 2))
    z[1, 0] = np.nan
    y = np.zeros(3, int) if not isinstance(fn, MSE) else np.zeros((3, 2))
    if isinstance(fn, BCEWithLogits):
        z, y = z[:, :1], np.zeros(3)
    with pytest.raises(NonFiniteError) as e:
        fn.forward(z, y)
    assert type(fn).__name__ in str(e.value) and "logits" in str(e.value)
    assert "(1, 0)" in str(e.value)


def test_bce_targets_outside_0_1():
    with pytest.raises(ConfigError) as e:
        BCEWithLogits().forward(np.zeros((2, 1)), np.array([0.0, 2.0]))
    assert "BCEWithLogits" in str(e.value) and "[0, 1]" in str(e.value) and "2.0" in str(e.value)


def test_backward_before_forward():
    with pytest.raises(WhynetError) as e:
        MSE().backward()
    assert "MSE" in str(e.value) and "forward" in str(e.value)


def test_bad_hinge_margin():
    with pytest.raises(ConfigError) as e:
        MulticlassHinge(margin=-1.0)
    assert "margin" in str(e.value) and "-1.0" in str(e.value)
