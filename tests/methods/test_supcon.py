import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from tests import reference


@pytest.fixture(scope="module")
def images():
    (x, y), _ = keras_ssl.data.load_sample()
    return x[:64], y[:64]


def make_model(**kwargs):
    keras.utils.set_random_seed(1)
    model = keras_ssl.SupCon(keras_ssl.backbones.small_cnn((32, 32, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    return model


def test_construction_defaults_and_attributes():
    model = make_model()
    assert model.temperature == 0.1 and model.base_temperature is None
    assert model.projection_dims == (256, 128)
    assert model.projector.output_shape == (None, 128)
    assert not any("batch_norm" in l.name for l in model.projector.layers)
    assert model.num_views == 2 and model.uses_labels
    assert int(model.step) == 0 and model.count_params() > 0


def test_training_loss_equals_reference_with_labels():
    model = make_model()
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (6, 32, 32, 3)).astype("float32") for _ in range(2))
    labels = np.array([0, 1, 0, 2, 1, 0])
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y=labels, y_pred=outputs, training=True)
    z = np.stack([np.asarray(p) for p in outputs["projections"]], axis=1)
    assert float(loss) == pytest.approx(reference.supcon(z, labels, 0.1), rel=1e-5)
    assert int(model.step) == 1


def test_fit_on_real_images_lowers_the_loss(images):
    # Each image twice under independent augmentations, labelled by image: a
    # class structure a few steps can learn (16 CIFAR images per class of the
    # sample cannot, the loss then sits at chance, ln(63)).
    x = np.concatenate([images[0][:16]] * 2)
    y = np.concatenate([np.arange(16)] * 2)
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    views = tuple(np.asarray(v) for v in model.augmenter(x, training=True))
    ds = tf.data.Dataset.from_tensors((views, y))
    before = model.evaluate(ds, verbose=0)
    losses = model.fit(ds.repeat(5), epochs=3, verbose=0).history["loss"]
    after = model.evaluate(ds, verbose=0)
    assert losses[-1] < losses[0] and after < before - 0.1, (before, losses, after)
    assert int(model.step) == 15


def test_missing_labels_raise_and_leave_the_model_usable(images):
    x, y = images
    model = make_model(num_classes=10)
    with pytest.raises(ValueError, match="trains on labels"):
        model.fit(x, batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="trains on labels"):
        model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0)
    assert int(model.step) == 0
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert {"loss", "probe_accuracy"} <= set(history.history) and int(model.step) == 2
