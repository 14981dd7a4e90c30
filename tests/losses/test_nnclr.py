import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients

SUPPORT = np.array(
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [-1, 0, 0, 0]], np.float32
)
Z1 = np.array([[1, .3, 0, 0], [0, 1, .3, 0], [0, 0, 1, .3], [.3, 0, 0, 1]], np.float32)
P2 = np.array([[1, .5, 0, 0], [0, 1, .5, 0], [0, 0, 1, .5], [.5, 0, 0, 1]], np.float32)


def test_nearest_neighbours_of_the_fixture():
    neighbours = np.asarray(losses.nearest_neighbours(Z1, SUPPORT))
    np.testing.assert_allclose(neighbours, SUPPORT[:4])


@pytest.mark.parametrize("temperature, expected", [(0.1, 0.0116161), (0.5, 0.5556909)])
def test_methods_md_fixture_one_direction(temperature, expected):
    # Both directions equal the fixture's one direction when view 2 = view 1.
    value = ops.mean(losses.nnclr_loss(Z1, Z1, P2, P2, SUPPORT, temperature))
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_matches_numpy_reference_with_a_fixed_support_set():
    rng = np.random.default_rng(0)
    z1, z2, p1, p2 = rng.normal(size=(4, 6, 8)).astype(np.float32)
    support = reference.l2n(rng.normal(size=(20, 8))).astype(np.float32)
    value = ops.mean(losses.nnclr_loss(z1, z2, p1, p2, support, 0.1))
    expected = reference.nnclr(z1, z2, p1, p2, support, 0.1)
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_support_holding_the_projections_reduces_to_info_nce():
    rng = np.random.default_rng(1)
    z1, z2, p1, p2 = rng.normal(size=(4, 5, 8)).astype(np.float32)
    value = ops.mean(losses.nnclr_loss(z1, z2, p1, p2, reference.l2n(np.concatenate([z1, z2])), 0.2))
    expected = (
        reference.info_nce(z1, p2, None, 0.2) + reference.info_nce(z2, p1, None, 0.2)
    ) / 2
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_gradients_reach_predictions_only():
    rng = np.random.default_rng(2)
    z1, z2, p1, p2 = rng.normal(size=(4, 4, 3))
    support = reference.l2n(rng.normal(size=(10, 3)))
    value, grads = value_and_gradients(
        lambda a, b, c, d: ops.mean(losses.nnclr_loss(a, b, c, d, support, 0.5)),
        z1, z2, p1, p2,
    )
    assert value == pytest.approx(reference.nnclr(z1, z2, p1, p2, support, 0.5), rel=1e-5)
    assert grads[0] is None or not np.any(grads[0])
    assert grads[1] is None or not np.any(grads[1])
    ref_p1 = reference.numerical_gradient(
        lambda p: reference.nnclr(z1, z2, p, p2, support, 0.5), p1
    )
    ref_p2 = reference.numerical_gradient(
        lambda p: reference.nnclr(z1, z2, p1, p, support, 0.5), p2
    )
    np.testing.assert_allclose(grads[2], ref_p1, atol=1e-5)
    np.testing.assert_allclose(grads[3], ref_p2, atol=1e-5)
