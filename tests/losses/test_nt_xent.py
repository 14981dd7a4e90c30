import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def mean_nt_xent(z1, z2, temperature):
    return float(ops.mean(losses.nt_xent_loss(z1, z2, temperature)))


@pytest.mark.parametrize(
    "z, temperature, expected",
    [
        (np.eye(4), 0.5, 0.5944377),
        (np.eye(4), 0.1, 2.7236e-4),
        ([[1, 0], [0, 1], [-1, 0], [0, -1]], 0.5, 0.4561407),
        (np.ones((4, 3)), 0.5, np.log(7)),
    ],
)
def test_methods_md_fixtures(z, temperature, expected):
    z = np.asarray(z, np.float32)
    # abs 5e-7: at T 0.1 the loss is logsumexp(...) - 10 in float32, whose
    # spacing near 10 is 9.5e-7 (JAX lands 1.1e-7 from the exact 2.72362e-4).
    assert mean_nt_xent(z, z, temperature) == pytest.approx(expected, rel=1e-4, abs=5e-7)


@pytest.mark.parametrize("n, d, temperature", [(4, 8, 0.5), (16, 32, 0.1), (7, 3, 0.2)])
def test_matches_numpy_reference(n, d, temperature):
    rng = np.random.default_rng(n)
    z1, z2 = rng.normal(size=(2, n, d)).astype(np.float32)
    expected = reference.nt_xent(z1, z2, temperature)
    assert mean_nt_xent(z1, z2, temperature) == pytest.approx(expected, rel=1e-5)


def test_gradients_match_reference_for_both_views():
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(2, 5, 4))
    value, (g1, g2) = value_and_gradients(
        lambda a, b: ops.mean(losses.nt_xent_loss(a, b, 0.5)), z1, z2
    )
    assert value == pytest.approx(reference.nt_xent(z1, z2, 0.5), rel=1e-5)
    ref_g1 = reference.numerical_gradient(lambda a: reference.nt_xent(a, z2, 0.5), z1)
    ref_g2 = reference.numerical_gradient(lambda b: reference.nt_xent(z1, b, 0.5), z2)
    # No stop-gradient in SimCLR: both views receive the paper's gradient.
    np.testing.assert_allclose(g1, ref_g1, atol=1e-5)
    np.testing.assert_allclose(g2, ref_g2, atol=1e-5)


def test_chance_value_for_collapsed_embeddings():
    z = np.ones((256, 16), np.float32)
    assert mean_nt_xent(z, z, 0.5) == pytest.approx(np.log(511), rel=1e-5)


def test_loss_class_and_temperature_validation():
    rng = np.random.default_rng(1)
    z1, z2 = rng.normal(size=(2, 6, 4)).astype(np.float32)
    loss = losses.NTXent(temperature=0.2)
    assert float(loss(z1, z2)) == pytest.approx(reference.nt_xent(z1, z2, 0.2), rel=1e-5)
    assert losses.NTXent.from_config(loss.get_config()).temperature == 0.2
    for bad in (0.0, -0.1):
        with pytest.raises(ValueError, match="temperature"):
            losses.nt_xent_loss(z1, z2, bad)
        with pytest.raises(ValueError, match="temperature"):
            losses.NTXent(temperature=bad)
