import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def unit(similarity):
    """A 2-d unit vector at cosine `similarity` from e0."""
    return [similarity, np.sqrt(1 - similarity**2)]


def test_methods_md_fixture():
    x = np.array([[1.0, 0.0]], np.float32)
    positive = np.array([unit(0.5)], np.float32)
    negatives = np.array([unit(s) for s in (0.0, 0.1, -0.1, 0.2)], np.float32)
    z = losses.nce_normalizer(x, positive, negatives, 1000, 0.07)
    assert float(z) == pytest.approx(257572.343, rel=1e-5)
    value = losses.pirl_nce_loss(x, positive, negatives, 1000, z, 0.07)
    assert float(value[0]) == pytest.approx(0.6177767, rel=1e-5)


def test_matches_numpy_reference_with_a_fixed_bank_sample():
    rng = np.random.default_rng(0)
    x, positives = rng.normal(size=(2, 6, 8)).astype(np.float32)
    negatives = rng.normal(size=(32, 8)).astype(np.float32)
    z = reference.nce_normalizer(x, positives, negatives, 5000, 0.07)
    assert float(losses.nce_normalizer(x, positives, negatives, 5000, 0.07)) == pytest.approx(z, rel=1e-5)
    value = ops.mean(losses.pirl_nce_loss(x, positives, negatives, 5000, z, 0.07))
    assert float(value) == pytest.approx(
        reference.pirl_nce(x, positives, negatives, 5000, z, 0.07), rel=1e-5
    )


def test_gradients_match_reference():
    rng = np.random.default_rng(1)
    x, positives = rng.normal(size=(2, 4, 3))
    negatives = rng.normal(size=(5, 3))
    value, grads = value_and_gradients(
        lambda a, b, c: ops.mean(losses.pirl_nce_loss(a, b, c, 100, 1000.0, 0.5)),
        x, positives, negatives,
    )
    for grad, fn, arg in (
        (grads[0], lambda a: reference.pirl_nce(a, positives, negatives, 100, 1000.0, 0.5), x),
        (grads[1], lambda b: reference.pirl_nce(x, b, negatives, 100, 1000.0, 0.5), positives),
        (grads[2], lambda c: reference.pirl_nce(x, positives, c, 100, 1000.0, 0.5), negatives),
    ):
        np.testing.assert_allclose(grad, reference.numerical_gradient(fn, arg), atol=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        losses.pirl_nce_loss(x, positives, negatives, 100, 1000.0, 0.0)
