"""`augmentation.RandomFlip`: Keras's flip, one image drawn in a `cond`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl import augmentation

MODES = ["horizontal", "vertical", "horizontal_and_vertical"]


def _image(seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (7, 5, 3)).astype("float32")


@pytest.mark.parametrize("mode", MODES)
def test_one_image_draws_as_keras_with_the_same_seed(mode):
    image = _image()
    ours = augmentation.RandomFlip(mode, seed=11)
    keras_one = keras.layers.RandomFlip(mode, seed=11)
    keras_batch = keras.layers.RandomFlip(mode, seed=11)
    flips = []
    for _ in range(12):
        output = keras.ops.convert_to_numpy(ours(image))
        np.testing.assert_array_equal(output, keras_one(image))
        batch = keras.ops.convert_to_numpy(keras_batch(image[None]))
        np.testing.assert_array_equal(output, batch[0])
        flips.append(not np.array_equal(output, image))
    # Both outcomes occur in 12 draws with this seed.
    assert 0 < sum(flips) < 12


def test_flipped_axes_per_mode():
    image = _image()
    expected = {
        "horizontal": image[:, ::-1],
        "vertical": image[::-1],
        "horizontal_and_vertical": image[::-1, ::-1],
    }
    for mode in MODES:
        layer = augmentation.RandomFlip(mode, seed=0)
        outputs = [keras.ops.convert_to_numpy(layer(image)) for _ in range(8)]
        assert all(
            np.array_equal(o, image) or np.array_equal(o, expected[mode]) for o in outputs
        )
        assert any(np.array_equal(o, expected[mode]) for o in outputs)


def test_batches_inference_and_dtype_are_keras():
    images = np.random.default_rng(1).integers(0, 256, (16, 6, 4, 3)).astype("uint8")
    np.testing.assert_array_equal(
        augmentation.RandomFlip("horizontal", seed=2)(images),
        keras.layers.RandomFlip("horizontal", seed=2)(images),
    )
    layer = augmentation.RandomFlip(seed=2, dtype="float32")
    np.testing.assert_array_equal(layer(images[0], training=False), images[0])
    assert keras.ops.convert_to_numpy(layer(images[0])).dtype == np.float32


def test_one_image_in_tf_data_and_config_round_trip():
    layer = augmentation.RandomFlip("horizontal", seed=4, dtype="float32")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is augmentation.RandomFlip and clone.mode == "horizontal"
    images = np.stack([_image(i) for i in range(6)])
    ds = tf.data.Dataset.from_tensor_slices(images).map(lambda x: layer(x, training=True))
    outputs = np.stack(list(ds.as_numpy_iterator()))
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(outputs, images)]
    kept = [np.array_equal(o, i) for o, i in zip(outputs, images)]
    assert all(f != k for f, k in zip(flipped, kept))


def test_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode='diagonal'"):
        augmentation.RandomFlip("diagonal")
