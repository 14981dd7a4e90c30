import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from tests import reference


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[:64]


def make_model(**kwargs):
    keras.utils.set_random_seed(1)
    kwargs.setdefault("queue_size", 64)
    model = keras_ssl.NNCLR(
        keras_ssl.backbones.small_cnn((32, 32, 3)),
        projection_dims=(64, 32),
        prediction_dims=(64, 32),
        **kwargs,
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    return model


def test_construction_defaults_and_attributes():
    model = keras_ssl.NNCLR(keras_ssl.backbones.small_cnn((32, 32, 3)), queue_size=256)
    assert model.temperature == 0.1
    assert model.projector.output_shape == (None, 256)
    assert model.predictor.output_shape == (None, 256)
    assert model.queue.keys.shape == (256, 256) and model.queue_size == 256
    assert int(model.step) == 0 and model.count_params() > 0
    assert keras_ssl.NNCLR(keras_ssl.backbones.small_cnn((32, 32, 3))).queue_size == 65536
    with pytest.raises(ValueError, match="prediction_dims"):
        keras_ssl.NNCLR(
            keras_ssl.backbones.small_cnn((32, 32, 3)), prediction_dims=(64, 16)
        )
    with pytest.raises(ValueError, match="needs a queue.*queue_size=0"):
        keras_ssl.NNCLR(keras_ssl.backbones.small_cnn((32, 32, 3)), queue_size=0)


def test_loss_uses_the_support_set_as_it_was_then_enqueues_z1():
    model = make_model()
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32") for _ in range(2))
    support = np.asarray(model.queue.keys)
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    z1, z2 = (np.asarray(z) for z in outputs["projections"])
    p1, p2 = (np.asarray(p) for p in outputs["predictions"])
    assert float(loss) == pytest.approx(reference.nnclr(z1, z2, p1, p2, support, 0.1), rel=1e-5)
    keys = np.asarray(model.queue.keys)
    np.testing.assert_allclose(keys[:8], reference.l2n(z1), atol=1e-6)
    np.testing.assert_array_equal(keys[8:], support[8:])
    assert int(model.queue.pointer) == 8 and int(model.step) == 1
    # evaluate-mode loss writes no state
    model.compute_loss(x=views, y_pred=model(views), training=False)
    assert int(model.queue.pointer) == 8 and int(model.step) == 1


def test_fit_on_real_images_lowers_the_loss(images):
    model = make_model(queue_size=32)
    views = tuple(np.asarray(v) for v in model.augmenter(images[:32], training=True))
    ds = tf.data.Dataset.from_tensors((views,))
    # Training-mode losses: after 20 steps the heads' BatchNorm moving
    # statistics, which `evaluate` uses, still lag far behind.
    losses = model.fit(ds.repeat(10), epochs=2, verbose=0).history["loss"]
    assert losses[-1] < losses[0] - 0.5, losses


def test_queue_smaller_than_batch_raises(images):
    model = make_model(queue_size=8)
    with pytest.raises(ValueError, match="queue_size"):
        model.fit(images[:16], batch_size=16, epochs=1, verbose=0)
