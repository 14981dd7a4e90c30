import numpy as np
import pytest
import tensorflow as tf

import keras_ssl


def test_index_is_the_position_and_survives_shuffling():
    x = np.arange(5 * 2 * 2 * 3, dtype="uint8").reshape(5, 2, 2, 3)
    ds = keras_ssl.data.with_index(x).shuffle(5, seed=0).batch(5)
    batch = next(iter(ds))
    np.testing.assert_array_equal(x[batch["index"].numpy()], batch["images"].numpy())
    assert batch["index"].dtype == tf.int32


def test_labels_are_kept():
    x, y = np.zeros((4, 2, 2, 3), "uint8"), np.array([3, 1, 2, 0])
    features, labels = next(iter(keras_ssl.data.with_index((x, y)).batch(4)))
    np.testing.assert_array_equal(features["index"], np.arange(4))
    np.testing.assert_array_equal(labels, y)


def test_batched_data_raises():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 2, 2, 3))).batch(2)
    with pytest.raises(ValueError, match="batch after"):
        keras_ssl.data.with_index(ds)
