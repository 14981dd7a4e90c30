import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def mean_info_nce(*args, **kwargs):
    return float(ops.mean(losses.info_nce_loss(*args, **kwargs)))


@pytest.mark.parametrize("temperature, expected", [(0.2, 0.01338590), (0.07, 1.2497e-6)])
def test_methods_md_fixture(temperature, expected):
    eye = np.eye(4, dtype=np.float32)
    q = eye[:2]
    value = mean_info_nce(q, q, eye[2:], temperature=temperature)
    assert value == pytest.approx(expected, rel=1e-3, abs=1e-7)  # float32 floor


@pytest.mark.parametrize("negatives_shape", [None, (9, 6), (5, 3, 6)])
def test_matches_numpy_reference(negatives_shape):
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(2, 5, 6)).astype(np.float32)
    negatives = None
    if negatives_shape is not None:
        negatives = rng.normal(size=negatives_shape).astype(np.float32)
    expected = reference.info_nce(q, k, negatives, 0.1)
    assert mean_info_nce(q, k, negatives, temperature=0.1) == pytest.approx(expected, rel=1e-5)


def test_gradients_match_reference():
    rng = np.random.default_rng(4)
    q, k, n = rng.normal(size=(3, 4, 3))
    value, grads = value_and_gradients(
        lambda a, b, c: ops.mean(losses.info_nce_loss(a, b, c, temperature=0.5)), q, k, n
    )
    assert value == pytest.approx(reference.info_nce(q, k, n, 0.5), rel=1e-5)
    refs = [
        reference.numerical_gradient(lambda a: reference.info_nce(a, k, n, 0.5), q),
        reference.numerical_gradient(lambda b: reference.info_nce(q, b, n, 0.5), k),
        reference.numerical_gradient(lambda c: reference.info_nce(q, k, c, 0.5), n),
    ]
    for grad, ref in zip(grads, refs):
        np.testing.assert_allclose(grad, ref, atol=1e-5)


def test_dot_product_option_and_loss_class():
    rng = np.random.default_rng(5)
    q, k = rng.normal(size=(2, 4, 3)).astype(np.float32)
    logits = q @ k.T / 0.5
    expected = np.mean(reference.logsumexp(logits) - np.diag(logits))
    assert mean_info_nce(q, k, temperature=0.5, normalize=False) == pytest.approx(
        expected, rel=1e-5
    )
    loss = losses.InfoNCE(temperature=0.1)
    assert float(loss(q, k)) == pytest.approx(reference.info_nce(q, k, None, 0.1), rel=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        losses.InfoNCE(temperature=0)
