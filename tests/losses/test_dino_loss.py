import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def test_methods_md_fixture():
    t1 = np.array([[2, 0, 0], [0, 1, 0]], "float32")
    t2 = np.array([[1.5, 0.5, 0], [0, 2, 0]], "float32")
    s1 = np.array([[1, 0, 0], [0, 1, 0]], "float32")
    s2 = np.array([[2, 0, 0], [0, 0.5, 0]], "float32")
    local = np.array([[0.5, 0.5, 0], [0, 1, 1]], "float32")
    center = np.full(3, 0.1, "float32")
    loss = ops.mean(losses.dino_loss([s1, s2, local], [t1, t2], center, 0.1, 0.04))
    assert float(loss) == pytest.approx(0.3491160, rel=1e-5)
    # new center from the raw teacher outputs of both global crops
    new_center = 0.9 * center + 0.1 * np.concatenate([t1, t2]).mean(axis=0)
    np.testing.assert_allclose(new_center, [0.1775, 0.1775, 0.09], rtol=1e-6)


def test_uniform_student_gives_ln_k():
    rng = np.random.default_rng(0)
    teacher = [rng.normal(size=(4, 16)).astype("float32") for _ in range(2)]
    student = [np.zeros((4, 16), "float32")] * 5
    loss = ops.mean(losses.dino_loss(student, teacher, np.zeros(16, "float32")))
    assert float(loss) == pytest.approx(np.log(16), rel=1e-6)


def test_reference_with_local_crops_and_gradients_only_to_the_student():
    rng = np.random.default_rng(1)
    student = [rng.normal(size=(3, 8)).astype("float32") for _ in range(4)]
    teacher = [rng.normal(size=(3, 8)).astype("float32") for _ in range(2)]
    center = rng.normal(size=8).astype("float32")

    def fn(s1, s2, l1, l2, t1, t2):
        return ops.mean(losses.dino_loss([s1, s2, l1, l2], [t1, t2], center, 0.1, 0.05))

    value, grads = value_and_gradients(fn, *student, *teacher)
    assert value == pytest.approx(reference.dino(student, teacher, center, 0.1, 0.05), rel=1e-5)
    assert all(np.abs(g).max() > 0 for g in grads[:4])
    assert all(g is None or not np.any(g) for g in grads[4:])
