import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


@pytest.mark.parametrize(
    "p, z, expected",
    [
        ([[1.0, 2.0, 0.0]], [[2.0, 4.0, 0.0]], -1.0),  # p = z (up to scale)
        ([[1.0, 0.0, 0.0]], [[0.0, 3.0, 0.0]], 0.0),  # orthogonal
        ([[1.0, 2.0, 0.0]], [[-1.0, -2.0, 0.0]], 1.0),  # p = -z
    ],
)
def test_methods_md_fixtures(p, z, expected):
    value = losses.negative_cosine_similarity(np.float32(p), np.float32(z))
    assert float(ops.mean(value)) == pytest.approx(expected, abs=1e-6)
    assert tuple(value.shape) == (1,)


def test_simsiam_loss_matches_reference_and_gradients_skip_targets():
    rng = np.random.default_rng(0)
    p1, p2, z1, z2 = rng.normal(size=(4, 5, 6))
    value, grads = value_and_gradients(
        lambda *a: ops.mean(losses.simsiam_loss(*a)), p1, p2, z1, z2
    )
    assert value == pytest.approx(reference.simsiam(p1, p2, z1, z2), rel=1e-5)
    g_p1 = reference.numerical_gradient(lambda p: reference.simsiam(p, p2, z1, z2), p1)
    g_p2 = reference.numerical_gradient(lambda p: reference.simsiam(p1, p, z1, z2), p2)
    np.testing.assert_allclose(grads[0], g_p1, atol=1e-5)
    np.testing.assert_allclose(grads[1], g_p2, atol=1e-5)
    # Stop-gradient: the projections z receive nothing.
    assert grads[2] is None or not np.any(grads[2])
    assert grads[3] is None or not np.any(grads[3])


def test_loss_class():
    rng = np.random.default_rng(1)
    p, z = rng.normal(size=(2, 4, 3)).astype(np.float32)
    loss = losses.NegativeCosineSimilarity()
    expected = np.mean(-np.sum(reference.l2n(p) * reference.l2n(z), axis=-1))
    assert float(loss(z, p)) == pytest.approx(expected, rel=1e-5)
