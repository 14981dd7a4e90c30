"""`losses.mae_loss` and `losses.patchify` against NumPy references of MAE."""

import keras
import numpy as np
import pytest

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def _data(seed=0, b=3, n=6, p=5):
    rng = np.random.default_rng(seed)
    predictions, pixels = rng.normal(size=(2, b, n, p))
    mask = np.zeros((b, n), "float32")
    for row in mask:
        row[rng.permutation(n)[:4]] = 1.0
    return predictions, pixels, mask


@pytest.mark.parametrize("norm_pix_loss", [True, False])
def test_values_and_gradients_match_the_reference(norm_pix_loss):
    predictions, pixels, mask = _data()

    def fn(p, t):
        return keras.ops.mean(losses.mae_loss(p, t, mask, norm_pix_loss=norm_pix_loss))

    value, (g_p, g_t) = value_and_gradients(fn, predictions, pixels)
    expected = reference.mae(predictions, pixels, mask, norm_pix_loss).mean()
    assert value == pytest.approx(expected, rel=1e-5)
    ref_p = reference.numerical_gradient(
        lambda p: reference.mae(p, pixels, mask, norm_pix_loss).mean(), predictions
    )
    ref_t = reference.numerical_gradient(
        lambda t: reference.mae(predictions, t, mask, norm_pix_loss).mean(), pixels
    )
    np.testing.assert_allclose(g_p, ref_p, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(g_t, ref_t, rtol=1e-3, atol=1e-5)


def test_visible_patches_count_for_nothing():
    predictions, pixels, mask = _data(1)
    changed = predictions.copy()
    changed[mask == 0] += 100.0
    a = np.asarray(losses.mae_loss(np.float32(predictions), np.float32(pixels), mask))
    b = np.asarray(losses.mae_loss(np.float32(changed), np.float32(pixels), mask))
    np.testing.assert_array_equal(a, b)
    changed[mask == 1] += 1.0
    c = np.asarray(losses.mae_loss(np.float32(changed), np.float32(pixels), mask))
    assert np.all(c != a)


def test_patchify_is_raster_order_of_row_major_patches():
    images = np.arange(2 * 8 * 12 * 3, dtype="float32").reshape(2, 8, 12, 3)
    patches = np.asarray(losses.patchify(images, 4))
    assert patches.shape == (2, 6, 48)
    # Patch (row 1, column 2) of image 1: pixels [4:8, 8:12].
    np.testing.assert_array_equal(patches[1, 1 * 3 + 2], images[1, 4:8, 8:12].reshape(-1))
