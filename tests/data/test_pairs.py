import numpy as np
import pytest
import tensorflow as tf

import keras_ssl


def data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (60, 8, 8, 3)).astype("uint8")
    labels = np.repeat(np.arange(6), 10)
    return images, labels


def test_pairs_follow_their_labels_and_the_fraction():
    images, labels = data()
    pairs = keras_ssl.data.make_pairs((images, labels), positive_fraction=0.3, num_pairs=500, seed=1)
    assert pairs["first"].shape == pairs["second"].shape == (500, 8, 8, 3)
    assert 0.22 < pairs["is_similar"].mean() < 0.38
    # Recover each image's label from its pixels (all images are distinct).
    index = {img.tobytes(): i for i, img in enumerate(images)}
    first = np.array([index[img.tobytes()] for img in pairs["first"]])
    second = np.array([index[img.tobytes()] for img in pairs["second"]])
    assert (first != second).all()
    np.testing.assert_array_equal(labels[first] == labels[second], pairs["is_similar"])


def test_dataset_input_and_errors():
    images, labels = data()
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    pairs = keras_ssl.data.make_pairs(ds, positive_fraction=1.0, seed=0)
    assert pairs["is_similar"].all() and len(pairs["first"]) == 60
    with pytest.raises(ValueError, match="positive_fraction"):
        keras_ssl.data.make_pairs((images, labels), positive_fraction=1.5)
    with pytest.raises(ValueError, match="two labels"):
        keras_ssl.data.make_pairs((images, np.zeros(60, int)), positive_fraction=0.5)
    with pytest.raises(ValueError, match="at least two images"):
        keras_ssl.data.make_pairs((images[:6], np.arange(6)), positive_fraction=0.5)
