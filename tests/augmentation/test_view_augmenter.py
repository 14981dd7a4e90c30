import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.augmentation import ColorJitter
from keras_ssl.augmentation import GaussianBlur
from keras_ssl.augmentation import RandomApply
from keras_ssl.augmentation import RandomGrayscale
from keras_ssl.augmentation import RandomResizedCrop
from keras_ssl.augmentation import Solarize
from keras_ssl.augmentation import ViewAugmenter
from keras_ssl.augmentation import simclr_views


def _images(batch, size, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, size, size, 3)).astype("uint8")


def _distinct(outputs):
    return len({np.asarray(o).tobytes() for o in outputs})


def test_randomness_is_per_sample():
    """One batch of identical images: every image gets its own draw."""
    images = np.repeat(_images(1, 16), 8, axis=0)
    boxes = RandomResizedCrop(8, 8, seed=0).sample_boxes(8, 16, 16)
    assert len({tuple(box) for box in np.asarray(boxes)}) == 8
    assert _distinct(RandomResizedCrop(8, 8, seed=0)(images)) == 8
    assert _distinct(GaussianBlur(5, seed=0)(images)) == 8  # one sigma each
    applied = np.asarray(RandomApply(Solarize(), 0.5, seed=0)(images))
    target = np.asarray(Solarize()(images[:1]))[0]
    solarized = np.array([np.array_equal(a, target) for a in applied])
    kept = np.array([np.array_equal(a, images[0]) for a in applied])
    assert (solarized ^ kept).all() and 0 < solarized.sum() < 8
    assert _distinct(ColorJitter(seed=0)(images)) == 8
    view_1, view_2 = simclr_views(16, seed=0)(images)
    assert _distinct(view_1) == 8
    assert not np.array_equal(view_1, view_2)  # views are independent


def test_simclr_views_outputs_and_variants():
    augmenter = simclr_views(16)
    views = augmenter(_images(4, 24))
    assert augmenter.num_views == 2 and isinstance(views, tuple)
    assert augmenter.output_sizes == [(16, 16), (16, 16)]
    for view in views:
        view = np.asarray(view)
        assert view.dtype == np.float32 and view.shape == (4, 16, 16, 3)
        assert view.min() >= 0 and view.max() <= 255

    cifar = simclr_views(32, num_views=3).pipelines
    assert len(cifar) == 3 and len(cifar[0]) == 4  # no blur
    jitter = cifar[0][2].layer
    assert (jitter.brightness, jitter.hue) == (0.4, 0.1)  # strength 0.5
    assert cifar[0][1].mode == "horizontal" and cifar[0][3].rate == 0.2

    imagenet = simclr_views(224).pipelines[0]
    assert imagenet[0].scale == (0.08, 1.0) and imagenet[2].rate == 0.8
    assert imagenet[2].layer.brightness == 0.8 and imagenet[2].layer.hue == 0.2
    assert imagenet[4].rate == 0.5 and imagenet[4].layer.kernel_size == 23

    custom = simclr_views(32, strength=1.0, blur=True).pipelines[0]
    assert custom[2].layer.saturation == 0.8 and len(custom) == 5
    assert len(simclr_views(224, cifar=True).pipelines[0]) == 4
    with pytest.raises(ValueError, match="size"):
        simclr_views(0)


def test_config_round_trip_reproduces_views():
    augmenter = simclr_views(8, blur=True, seed=3)
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(augmenter)
    )
    assert isinstance(clone, ViewAugmenter)
    assert clone.output_sizes == [(8, 8), (8, 8)]
    images = _images(4, 12)
    for ours, theirs in zip(augmenter(images), clone(images)):
        np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_output_sizes_without_crop_and_invalid_pipelines():
    augmenter = ViewAugmenter(
        [[RandomGrayscale(1.0)], [RandomResizedCrop(4, 6), Solarize()]]
    )
    assert augmenter.output_sizes == [None, (4, 6)]
    gray, small = augmenter(_images(2, 8))
    assert gray.shape == (2, 8, 8, 3) and small.shape == (2, 4, 6, 3)
    assert augmenter.compute_output_shape((None, 8, 8, 3)) == (
        (None, 8, 8, 3),
        (None, 4, 6, 3),
    )
    for pipelines in ([], [[]], [Solarize()], [[Solarize(), "gray"]]):
        with pytest.raises(ValueError, match="pipelines"):
            ViewAugmenter(pipelines)


def test_in_tf_data_map():
    augmenter = simclr_views(8, blur=True, seed=1)
    dataset = tf.data.Dataset.from_tensor_slices(_images(6, 12))
    dataset = dataset.batch(3).map(augmenter)
    batches = list(dataset)
    assert len(batches) == 2
    for view_1, view_2 in batches:
        assert view_1.dtype == tf.float32 and view_1.shape == (3, 8, 8, 3)
        assert view_2.shape == (3, 8, 8, 3)
        assert 0 <= tf.reduce_min(view_1) and tf.reduce_max(view_2) <= 255


def test_in_keras_model():
    augmenter = simclr_views(8, blur=True, seed=2)
    inputs = keras.Input((12, 12, 3))
    view_1, view_2 = augmenter(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()
    features = keras.layers.Concatenate()([pooled(view_1), pooled(view_2)])
    model = keras.Model(inputs, keras.layers.Dense(1)(features))
    model.compile(optimizer="sgd", loss="mse")
    images = _images(4, 12).astype("float32")
    model.fit(images, np.zeros((4, 1)), epochs=1, verbose=0)
    assert model.predict(images, verbose=0).shape == (4, 1)


def test_random_state_survives_save_and_load(tmp_path):
    inputs = keras.Input((12, 12, 3))
    augmenter = simclr_views(8, seed=5)
    model = keras.Model(inputs, augmenter(inputs)[0])
    images = _images(4, 12)
    augmenter(images)  # advance the random state past its initial value
    path = str(tmp_path / "augmenter.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    clone = [layer for layer in loaded.layers if isinstance(layer, ViewAugmenter)][0]
    for ours, theirs in zip(augmenter(images), clone(images)):
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


class CountingSolarize(Solarize):
    """`Solarize` that counts the times its `call` runs (traces included)."""

    calls = 0

    def call(self, images, training=True):
        CountingSolarize.calls += 1
        return super().call(images, training=training)


def test_a_traced_step_runs_each_pipeline_layer_once():
    # Keras builds a layer with sub-layers and no `build` of its own by
    # tracing its `call` once more: with ViewAugmenter's and RandomApply's
    # own `build`, a traced step runs each pipeline layer's `call` once.
    CountingSolarize.calls = 0
    augmenter = ViewAugmenter([[RandomApply(CountingSolarize(), 0.5, seed=0)]] * 2)
    tf.function(augmenter)(tf.constant(_images(2, 8)))
    assert CountingSolarize.calls == 2  # one per view
