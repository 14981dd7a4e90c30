"""MoCo v3, BYOL and RAFT losses against the NumPy references and the
METHODS.md fixtures; which inputs receive gradients."""

import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def mean(loss_fn, *args, **kwargs):
    return ops.mean(loss_fn(*args, **kwargs))


@pytest.mark.parametrize("temperature, expected", [(1.0, 2.9746735), (0.2, 0.0160098)])
def test_moco_v3_fixture(temperature, expected):
    eye = np.eye(4, dtype="float32")
    value = float(mean(losses.moco_v3_loss, eye, eye, eye, eye, temperature=temperature))
    assert value == pytest.approx(expected, rel=1e-5)


def test_moco_v3_reference_and_gradients_only_to_queries():
    rng = np.random.default_rng(0)
    q1, q2, k1, k2 = rng.normal(size=(4, 6, 5)).astype("float32")
    value, grads = value_and_gradients(
        lambda *a: mean(losses.moco_v3_loss, *a, temperature=0.2), q1, q2, k1, k2
    )
    assert value == pytest.approx(reference.moco_v3(q1, q2, k1, k2, 0.2), rel=1e-5)
    assert np.abs(grads[0]).max() > 0 and np.abs(grads[1]).max() > 0
    assert all(g is None or not np.any(g) for g in grads[2:])


@pytest.mark.parametrize(
    "p, z, expected",
    [([1, 0], [0, 1], 2.0), ([1, 1], [1, 0], 2 - np.sqrt(2)), ([1, 0], [-1, 0], 4.0)],
)
def test_byol_fixtures(p, z, expected):
    p, z = np.array([p], "float32"), np.array([z], "float32")
    # one direction: l(p1, z2) with p2 = z1 (second term 0)
    value = float(mean(losses.byol_loss, p, z, z, z))
    assert value == pytest.approx(expected, rel=1e-6)


def test_byol_reference_and_gradients_only_to_predictions():
    rng = np.random.default_rng(1)
    p1, p2, z1, z2 = rng.normal(size=(4, 7, 3)).astype("float32")
    value, grads = value_and_gradients(
        lambda *a: mean(losses.byol_loss, *a), p1, p2, z1, z2
    )
    assert value == pytest.approx(reference.byol(p1, p2, z1, z2), rel=1e-5)
    assert np.abs(grads[0]).max() > 0 and np.abs(grads[1]).max() > 0
    assert all(g is None or not np.any(g) for g in grads[2:])


def test_raft_fixture():
    p1, p2, t = np.array([[1, 0]], "f4"), np.array([[1, 1]], "f4"), np.array([[0, 1]], "f4")
    assert float(mean(losses.raft_loss, p1, p2, t, t)) == pytest.approx(-0.7071068, rel=1e-5)


def test_raft_reference_and_gradients_only_to_online_outputs():
    rng = np.random.default_rng(2)
    p1, p2, t1, t2 = rng.normal(size=(4, 5, 4)).astype("float32")
    value, grads = value_and_gradients(
        lambda *a: mean(losses.raft_loss, *a, alpha=0.7, beta=1.3), p1, p2, t1, t2
    )
    assert value == pytest.approx(reference.raft(p1, p2, t1, t2, 0.7, 1.3), rel=1e-5)
    assert np.abs(grads[0]).max() > 0 and np.abs(grads[1]).max() > 0
    assert all(g is None or not np.any(g) for g in grads[2:])
