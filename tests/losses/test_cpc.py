import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


@pytest.mark.parametrize("offset", [1, 2])
def test_matches_numpy_reference_over_a_tiny_grid(offset):
    rng = np.random.default_rng(offset)
    targets = rng.normal(size=(2, 3, 2, 4)).astype(np.float32)
    predictions = rng.normal(size=(2, 3 - offset, 2, 4)).astype(np.float32)
    value = ops.mean(losses.cpc_loss(predictions, targets, offset))
    assert float(value) == pytest.approx(reference.cpc(predictions, targets, offset), rel=1e-5)


def test_chance_value_and_perfect_predictions():
    targets = np.zeros((4, 7, 7, 8), np.float32)
    predictions = np.zeros((4, 5, 7, 8), np.float32)
    value = ops.mean(losses.cpc_loss(predictions, targets, 2))
    assert float(value) == pytest.approx(np.log(4 * 7 * 7), rel=1e-6)
    one_hot = 30 * np.eye(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2, 12)
    value = ops.mean(losses.cpc_loss(one_hot[:, 1:], one_hot, 1))
    assert float(value) < 1e-6


def test_gradients_reach_predictions_and_targets():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(2, 3, 2, 3))
    predictions = rng.normal(size=(2, 2, 2, 3))
    value, (g_p, g_t) = value_and_gradients(
        lambda p, t: ops.mean(losses.cpc_loss(p, t, 1)), predictions, targets
    )
    assert value == pytest.approx(reference.cpc(predictions, targets, 1), rel=1e-5)
    np.testing.assert_allclose(
        g_p, reference.numerical_gradient(lambda p: reference.cpc(p, targets, 1), predictions), atol=1e-5
    )
    np.testing.assert_allclose(
        g_t, reference.numerical_gradient(lambda t: reference.cpc(predictions, t, 1), targets), atol=1e-5
    )


def test_mismatched_rows_raise():
    with pytest.raises(ValueError, match="offset"):
        losses.cpc_loss(np.zeros((1, 3, 2, 4), "float32"), np.zeros((1, 3, 2, 4), "float32"), 1)
