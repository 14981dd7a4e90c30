import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def pair_at_distance(d):
    return np.array([[0.0, 0.0]], np.float32), np.array([[d, 0.0]], np.float32)


@pytest.mark.parametrize(
    "d, similar, dissimilar", [(0.0, 0.0, 0.5), (0.5, 0.125, 0.125), (1.5, 1.125, 0.0)]
)
def test_methods_md_fixtures_inside_and_beyond_the_margin(d, similar, dissimilar):
    a, b = pair_at_distance(d)
    loss = losses.contrastive_margin_loss
    assert float(loss(a, b, [True], 1.0)[0]) == pytest.approx(similar, abs=1e-6)
    # D = sqrt(0 + 1e-12) = 1e-6 at coinciding points
    assert float(loss(a, b, [False], 1.0)[0]) == pytest.approx(dissimilar, abs=2e-6)


@pytest.mark.parametrize(
    "e, genuine, impostor",
    [(0, 0, 20), (1, 0.2, 15.1611), (5, 5.0, 5.0065), (10, 20, 1.2532)],
)
def test_methods_md_fixtures_chopra_2005(e, genuine, impostor):
    a, b = np.zeros((1, 2), np.float32), np.array([[e / 2, e / 2]], np.float32)
    loss = losses.siamese_energy_loss
    assert float(loss(a, b, [1], 10.0)[0]) == pytest.approx(genuine, rel=1e-4, abs=1e-6)
    assert float(loss(a, b, [0], 10.0)[0]) == pytest.approx(impostor, rel=1e-4)


def test_matches_numpy_references():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 12, 4)).astype(np.float32) * 0.4
    is_similar = rng.integers(0, 2, 12).astype(bool)
    value = ops.mean(losses.contrastive_margin_loss(a, b, is_similar, 1.5))
    assert float(value) == pytest.approx(reference.contrastive_margin(a, b, is_similar, 1.5), rel=1e-5)
    value = ops.mean(losses.siamese_energy_loss(a, b, is_similar, 4.0))
    assert float(value) == pytest.approx(reference.siamese_energy(a, b, is_similar, 4.0), rel=1e-5)


def test_gradients_match_reference_and_vanish_beyond_the_margin():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 6, 3)) * 0.5
    is_similar = np.array([1, 0, 1, 0, 0, 1], bool)
    value, (ga, gb) = value_and_gradients(
        lambda x, y: ops.mean(losses.contrastive_margin_loss(x, y, is_similar, 1.0)), a, b
    )
    assert value == pytest.approx(reference.contrastive_margin(a, b, is_similar, 1.0), rel=1e-5)
    ref_a = reference.numerical_gradient(
        lambda x: reference.contrastive_margin(x, b, is_similar, 1.0), a
    )
    np.testing.assert_allclose(ga, ref_a, atol=1e-5)
    np.testing.assert_allclose(gb, -ref_a, atol=1e-5)
    far = np.array([[0.0, 0.0]]), np.array([[3.0, 0.0]])  # dissimilar, D > m
    _, grads = value_and_gradients(
        lambda x, y: ops.mean(losses.contrastive_margin_loss(x, y, [False], 1.0)), *far
    )
    assert not np.any(grads[0]) and not np.any(grads[1])
    same = np.array([[1.0, 2.0]]), np.array([[1.0, 2.0]])  # D = 0: finite gradient
    _, grads = value_and_gradients(
        lambda x, y: ops.mean(losses.contrastive_margin_loss(x, y, [False], 1.0)), *same
    )
    assert np.all(np.isfinite(grads[0]))


def test_loss_class_and_validation():
    a, b = pair_at_distance(0.5)
    loss = losses.ContrastiveMarginLoss(margin=1.0)
    assert float(loss(np.array([1.0]), np.stack([a, b], axis=1))) == pytest.approx(0.125)
    with pytest.raises(ValueError, match="margin"):
        losses.contrastive_margin_loss(a, b, [True], 0.0)
    with pytest.raises(ValueError, match="margin"):
        losses.ContrastiveMarginLoss(margin=-1.0)
