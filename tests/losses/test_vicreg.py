import numpy as np
import pytest

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients

SQUARE = np.float32([[1, 1], [1, -1], [-1, 1], [-1, -1]])


@pytest.mark.parametrize(
    "z_a, z_b, paper_form, expected",
    [
        (np.zeros((8, 4)), np.zeros((8, 4)), False, 24.75),
        (np.zeros((8, 4)), np.zeros((8, 4)), True, 49.5),
        (SQUARE, SQUARE, False, 0.0),
        (SQUARE, SQUARE + 0.1, False, 0.25),
    ],
)
def test_methods_md_fixtures(z_a, z_b, paper_form, expected):
    value = losses.vicreg_loss(np.float32(z_a), np.float32(z_b), paper_form=paper_form)
    assert float(value) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_terms():
    invariance, variance, covariance = losses.vicreg_terms(SQUARE, SQUARE + 0.1)
    assert float(invariance) == pytest.approx(0.01, rel=1e-5)
    assert float(variance) == 0.0 and float(covariance) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("paper_form", [False, True])
def test_matches_reference_values_and_gradients_of_both_views(paper_form):
    rng = np.random.default_rng(3)
    # Small spread so the variance hinge is active on some dimensions.
    z_a, z_b = rng.normal(size=(2, 10, 5)) * np.array([0.3, 0.5, 1.5, 2.0, 0.8])
    value, (g_a, g_b) = value_and_gradients(
        lambda a, b: losses.vicreg_loss(a, b, paper_form=paper_form), z_a, z_b
    )
    expected = reference.vicreg(z_a, z_b, paper_form=paper_form)
    assert value == pytest.approx(expected, rel=1e-5)
    ref_a = reference.numerical_gradient(
        lambda a: reference.vicreg(a, z_b, paper_form=paper_form), z_a
    )
    ref_b = reference.numerical_gradient(
        lambda b: reference.vicreg(z_a, b, paper_form=paper_form), z_b
    )
    np.testing.assert_allclose(g_a, ref_a, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(g_b, ref_b, rtol=1e-3, atol=1e-4)


def test_loss_class_and_weights():
    rng = np.random.default_rng(1)
    z_a, z_b = rng.normal(size=(2, 8, 3)).astype(np.float32)
    loss = losses.VICRegLoss(invariance_weight=1.0, variance_weight=2.0, covariance_weight=3.0)
    expected = reference.vicreg(z_a, z_b, weights=(1.0, 2.0, 3.0))
    assert float(loss(z_a, z_b)) == pytest.approx(expected, rel=1e-5)
    assert losses.VICRegLoss.from_config(loss.get_config()).covariance_weight == 3.0
