import numpy as np
import pytest
import tensorflow as tf

import keras_ssl


def images(n):
    return np.arange(n, dtype="uint8").reshape(n, 1, 1, 1) * np.ones((1, 2, 2, 3), "uint8")


def ids(batch):
    return batch.numpy()[:, 0, 0, 0].tolist()


def test_each_pass_is_a_new_permutation_without_the_last_partial_batch():
    ds = keras_ssl.data.shuffled_batches(images(10), 4, seed=0, repeat=True)
    first, second = [], []
    for k, batch in enumerate(ds.take(4)):
        assert batch.shape == (4, 2, 2, 3)
        (first if k < 2 else second).extend(ids(batch))
    # Two full batches per pass of 10; the 2 left over are dropped.
    assert len(set(first)) == 8 and len(set(second)) == 8
    assert first != second
    assert len(list(keras_ssl.data.shuffled_batches(images(10), 4))) == 2


def test_seed_fixes_the_order_and_autotuning_is_off():
    one = keras_ssl.data.shuffled_batches(images(12), np.int64(3), seed=7)
    two = keras_ssl.data.shuffled_batches(images(12), 3, seed=7)
    assert [ids(b) for b in one] == [ids(b) for b in two]
    assert one.options().autotune.enabled is False


def test_indexed_data_keeps_images_and_indices_together():
    x = images(6)
    ds = keras_ssl.data.shuffled_batches(keras_ssl.data.with_index(x), 3, seed=1)
    for batch in ds:
        np.testing.assert_array_equal(x[batch["index"].numpy()], batch["images"].numpy())


def test_bad_batch_size_and_unknown_length_raise():
    with pytest.raises(ValueError, match="batch_size"):
        keras_ssl.data.shuffled_batches(images(5), 6)
    with pytest.raises(ValueError, match="batch_size"):
        keras_ssl.data.shuffled_batches(images(5), 0)
    endless = tf.data.Dataset.from_tensor_slices(images(5)).repeat()
    with pytest.raises(ValueError, match="known number"):
        keras_ssl.data.shuffled_batches(endless, 2)
