"""`losses.ijepa_loss` against a NumPy reference of I-JEPA's L2 loss."""

import keras
import numpy as np
import pytest

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def test_values_and_gradients_match_the_reference():
    rng = np.random.default_rng(0)
    predictions, targets = rng.normal(size=(2, 2, 4, 3, 5))
    weights = np.ones((2, 4, 3), "float32")
    weights[0, 1, 2] = weights[1, 3, 1:] = 0.0  # repeated slots

    def fn(p, t):
        return keras.ops.mean(losses.ijepa_loss(p, t, weights))

    value, (g_p, g_t) = value_and_gradients(fn, predictions, targets)
    assert value == pytest.approx(reference.ijepa(predictions, targets, weights).mean(), rel=1e-5)
    ref = reference.numerical_gradient(
        lambda p: reference.ijepa(p, targets, weights).mean(), predictions
    )
    np.testing.assert_allclose(g_p, ref, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(g_t, -ref, rtol=1e-3, atol=1e-5)
    # A weight-0 slot's prediction changes nothing.
    changed = predictions.copy()
    changed[0, 1, 2] += 10.0
    np.testing.assert_allclose(
        np.asarray(losses.ijepa_loss(changed, targets, weights)),
        np.asarray(losses.ijepa_loss(predictions, targets, weights)),
    )
