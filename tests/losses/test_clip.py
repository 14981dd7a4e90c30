import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients


def mean_clip(images, texts, scale):
    return float(ops.mean(losses.clip_loss(images, texts, scale)))


@pytest.mark.parametrize("scale, expected", [(1 / 0.07, 1.8746e-6), (1.0, 0.7436684)])
def test_methods_md_fixtures(scale, expected):
    eye = np.eye(4, dtype=np.float32)
    # float32: 1e-7 absolute is the resolution of log(1 + tiny)
    assert mean_clip(eye, eye, scale) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_chance_value_is_ln_n():
    ones = np.ones((8, 5), np.float32)
    assert mean_clip(ones, ones, 14.3) == pytest.approx(np.log(8), rel=1e-6)


@pytest.mark.parametrize("n, d, scale", [(4, 8, 1.0), (16, 32, 14.285714), (7, 3, 100.0)])
def test_matches_numpy_reference_with_a_given_logit_scale(n, d, scale):
    rng = np.random.default_rng(n)
    images, texts = rng.normal(size=(2, n, d)).astype(np.float32)
    expected = reference.clip(images, texts, scale)
    assert mean_clip(images, texts, scale) == pytest.approx(expected, rel=1e-5)


def test_asymmetric_inputs_use_both_directions():
    # Row and column cross-entropies differ here; the loss is their mean.
    images = np.array([[1, 0], [1, 0.1], [0, 1]], np.float32)
    texts = np.array([[1, 0], [0, 1], [0, 1]], np.float32)
    assert mean_clip(images, texts, 5.0) == pytest.approx(
        reference.clip(images, texts, 5.0), rel=1e-5
    )


def test_gradients_reach_both_towers_and_the_scale():
    rng = np.random.default_rng(0)
    images, texts = rng.normal(size=(2, 5, 4))
    scale = np.array(3.0)
    value, (g_images, g_texts, g_scale) = value_and_gradients(
        lambda i, t, s: ops.mean(losses.clip_loss(i, t, s)), images, texts, scale
    )
    assert value == pytest.approx(reference.clip(images, texts, 3.0), rel=1e-5)
    for grad, fn, x in (
        (g_images, lambda a: reference.clip(a, texts, 3.0), images),
        (g_texts, lambda b: reference.clip(images, b, 3.0), texts),
        (g_scale, lambda s: reference.clip(images, texts, s), scale),
    ):
        np.testing.assert_allclose(grad, reference.numerical_gradient(fn, x), atol=1e-5)
