import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients

LOSSES = {"dcl": (losses.dcl_loss, {}), "dclw": (losses.dclw_loss, {"sigma": 0.5})}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("n, d, temperature", [(4, 8, 0.5), (16, 32, 0.1), (7, 3, 0.2)])
def test_matches_numpy_reference(name, n, d, temperature):
    loss, kwargs = LOSSES[name]
    rng = np.random.default_rng(n)
    z1, z2 = rng.normal(size=(2, n, d)).astype(np.float32)
    value = float(ops.mean(loss(z1, z2, temperature=temperature)))
    assert value == pytest.approx(reference.dcl(z1, z2, temperature, **kwargs), rel=1e-5)


@pytest.mark.parametrize("name", LOSSES)
def test_gradients_match_reference_for_both_views(name):
    loss, kwargs = LOSSES[name]
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(2, 5, 4))
    value, (g1, g2) = value_and_gradients(
        lambda a, b: ops.mean(loss(a, b, temperature=0.5)), z1, z2
    )
    assert value == pytest.approx(reference.dcl(z1, z2, 0.5, **kwargs), rel=1e-5)
    ref_g1 = reference.numerical_gradient(lambda a: reference.dcl(a, z2, 0.5, **kwargs), z1)
    ref_g2 = reference.numerical_gradient(lambda b: reference.dcl(z1, b, 0.5, **kwargs), z2)
    # The DCLW weight is part of the graph, as in the official code.
    np.testing.assert_allclose(g1, ref_g1, atol=1e-5)
    np.testing.assert_allclose(g2, ref_g2, atol=1e-5)


def test_dcl_removes_the_positive_from_the_denominator():
    # Views equal: NT-Xent keeps exp(1 / T) of the positive in the denominator,
    # DCL only the 2N - 2 negatives: L_DCL = L_NT-Xent - log(1 + e^(1/T) / negatives).
    z = np.eye(4, dtype=np.float32)
    nt_xent = float(ops.mean(losses.nt_xent_loss(z, z, 0.5)))
    dcl = float(ops.mean(losses.dcl_loss(z, z, 0.5)))
    assert dcl == pytest.approx(-2.0 + np.log(6.0), rel=1e-6)  # 6 negatives at cos 0
    assert nt_xent == pytest.approx(-2.0 + np.log(6.0 + np.exp(2.0)), rel=1e-6)


def test_dclw_with_equal_positives_is_dcl_and_validates_sigma():
    z = np.eye(4, dtype=np.float32)  # every positive pair has the same cosine: w = 1
    assert float(ops.mean(losses.dclw_loss(z, z, 0.5))) == pytest.approx(
        float(ops.mean(losses.dcl_loss(z, z, 0.5))), rel=1e-6
    )
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="sigma"):
            losses.dclw_loss(z, z, 0.5, sigma=bad)
    with pytest.raises(ValueError, match="temperature"):
        losses.dcl_loss(z, z, 0.0)
