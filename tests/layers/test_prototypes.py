import keras
import numpy as np
import pytest

from keras_ssl import layers
from tests.utils import value_and_gradients, variable_gradients


def test_unit_norm_at_start_and_scores():
    keras.utils.set_random_seed(0)
    layer = layers.Prototypes(7)
    z = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    scores = np.asarray(layer(z))
    kernel = np.asarray(layer.kernel)
    assert kernel.shape == (4, 7) and scores.shape == (5, 7)
    np.testing.assert_allclose(np.linalg.norm(kernel, axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(scores, z @ kernel, atol=1e-5)
    assert layer.compute_output_shape((None, 4)) == (None, 7)
    assert layers.Prototypes.from_config(layer.get_config()).num_prototypes == 7


def test_frozen_prototypes_get_no_gradient_and_optimizer_keeps_unit_norm():
    layer = layers.Prototypes(3)
    layer.build((None, 4))
    z = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    for frozen in (True, False):
        loss = lambda: keras.ops.sum(layer(z, frozen=keras.ops.convert_to_tensor(frozen)) ** 2)
        (grad,) = variable_gradients(loss, [layer.kernel])
        assert (grad is None or not np.any(grad)) == frozen
    optimizer = keras.optimizers.SGD(0.5, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        optimizer.apply([np.ones((4, 3), "float32")], [layer.kernel])
        np.testing.assert_allclose(np.linalg.norm(np.asarray(layer.kernel), axis=0), 1.0, atol=1e-6)


def test_gradient_reaches_the_embeddings():
    layer = layers.Prototypes(3)
    layer.build((None, 2))
    _, (grad,) = value_and_gradients(lambda z: keras.ops.sum(layer(z)), np.ones((2, 2)))
    np.testing.assert_allclose(grad, np.tile(np.asarray(layer.kernel).sum(1), (2, 1)), atol=1e-6)


def test_float32_under_mixed_precision_and_errors():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = layers.Prototypes(3)
        scores = layer(keras.ops.ones((2, 4), dtype="bfloat16"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert keras.backend.standardize_dtype(scores.dtype) == "float32"
    with pytest.raises(ValueError, match="num_prototypes"):
        layers.Prototypes(0)
