import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def mean_supcon(features, labels, temperature, **kwargs):
    return float(ops.mean(losses.supcon_loss(features, labels, temperature, **kwargs)))


@pytest.mark.parametrize("temperature, expected", [(0.1, 1.0986728), (0.5, 1.2645055)])
def test_methods_md_fixture_repeated_labels(temperature, expected):
    e = np.eye(2, dtype=np.float32)
    features = np.stack([e[[0, 0, 1, 1]]] * 2, axis=1)  # (4, 2 views, 2)
    value = mean_supcon(features, np.array([0, 0, 1, 1]), temperature)
    assert value == pytest.approx(expected, rel=1e-5)


def test_distinct_labels_equal_nt_xent():
    features = np.stack([np.eye(4, dtype=np.float32)] * 2, axis=1)
    assert mean_supcon(features, np.arange(4), 0.1) == pytest.approx(2.7236e-4, rel=1e-3)
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(2, 6, 5)).astype(np.float32)
    expected = reference.nt_xent(z1, z2, 0.5)
    value = mean_supcon(np.stack([z1, z2], axis=1), np.arange(6), 0.5)
    assert value == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("n, v, temperature", [(6, 2, 0.1), (8, 3, 0.5), (5, 2, 0.07)])
def test_matches_numpy_reference_with_repeated_labels(n, v, temperature):
    rng = np.random.default_rng(n)
    features = rng.normal(size=(n, v, 4)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    expected = reference.supcon(features, labels, temperature)
    assert mean_supcon(features, labels, temperature) == pytest.approx(expected, rel=1e-5)
    scaled = mean_supcon(features, labels, temperature, base_temperature=0.07)
    assert scaled == pytest.approx(expected * temperature / 0.07, rel=1e-5)


def test_single_view_drops_anchors_without_positive():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(5, 1, 4)).astype(np.float32)
    labels = np.array([0, 0, 1, 1, 2])  # sample 4 has no positive
    per_sample = np.asarray(losses.supcon_loss(features, labels, 0.1))
    assert per_sample[4] == 0.0
    assert per_sample[:4].mean() == pytest.approx(
        reference.supcon(features, labels, 0.1), rel=1e-5
    )


def test_gradients_match_reference():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(4, 2, 3))
    labels = np.array([0, 1, 0, 1])
    value, (grad,) = value_and_gradients(
        lambda f: ops.mean(losses.supcon_loss(f, labels, 0.5)), features
    )
    assert value == pytest.approx(reference.supcon(features, labels, 0.5), rel=1e-5)
    expected = reference.numerical_gradient(
        lambda f: reference.supcon(f, labels, 0.5), features
    )
    np.testing.assert_allclose(grad, expected, atol=1e-5)


def test_loss_class_and_validation():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(4, 2, 3)).astype(np.float32)
    labels = np.array([0, 1, 1, 0])
    loss = losses.SupConLoss(temperature=0.2)
    assert float(loss(labels, features)) == pytest.approx(
        reference.supcon(features, labels, 0.2), rel=1e-5
    )
    assert losses.SupConLoss.from_config(loss.get_config()).temperature == 0.2
    with pytest.raises(ValueError, match="temperature"):
        losses.supcon_loss(features, labels, 0.0)
    with pytest.raises(ValueError, match=r"\(N, V, d\)"):
        losses.supcon_loss(features[:, 0], labels, 0.1)
