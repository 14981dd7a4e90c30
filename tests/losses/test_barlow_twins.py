import numpy as np
import pytest

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients

SQUARE = [[1, 1], [1, -1], [-1, 1], [-1, -1]]


@pytest.mark.parametrize(
    "z_a, z_b, expected",
    [
        (SQUARE, SQUARE, 0.0),
        ([[1, 1], [1, 1], [-1, -1], [-1, -1]], [[1, 1], [1, 1], [-1, -1], [-1, -1]], 0.0102),
        (SQUARE, -np.asarray(SQUARE), 8.0),
    ],
)
def test_methods_md_fixtures(z_a, z_b, expected):
    value = float(losses.barlow_twins_loss(np.float32(z_a), np.float32(z_b)))
    assert value == pytest.approx(expected, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("n, d, lambd", [(8, 4, 0.0051), (16, 6, 0.1)])
def test_matches_reference_values_and_gradients_of_both_views(n, d, lambd):
    rng = np.random.default_rng(n)
    z_a, z_b = rng.normal(size=(2, n, d))
    value, (g_a, g_b) = value_and_gradients(
        lambda a, b: losses.barlow_twins_loss(a, b, lambd), z_a, z_b
    )
    assert value == pytest.approx(reference.barlow_twins(z_a, z_b, lambd), rel=1e-5)
    # No stop-gradient: both views receive the paper's gradient.
    ref_a = reference.numerical_gradient(lambda a: reference.barlow_twins(a, z_b, lambd), z_a)
    ref_b = reference.numerical_gradient(lambda b: reference.barlow_twins(z_a, b, lambd), z_b)
    np.testing.assert_allclose(g_a, ref_a, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(g_b, ref_b, rtol=1e-3, atol=1e-4)


def test_loss_class():
    rng = np.random.default_rng(1)
    z_a, z_b = rng.normal(size=(2, 8, 3)).astype(np.float32)
    loss = losses.BarlowTwinsLoss(lambda_=0.01)
    assert float(loss(z_a, z_b)) == pytest.approx(reference.barlow_twins(z_a, z_b, 0.01), rel=1e-5)
    assert losses.BarlowTwinsLoss.from_config(loss.get_config()).lambda_ == 0.01
