import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.evaluation import semi_supervised_subsets
from keras_ssl.evaluation.subsets import subset_indices


def labelled(n=1000, classes=10):
    labels = np.repeat(np.arange(classes), n // classes).astype(np.int32)
    np.random.default_rng(0).shuffle(labels)
    images = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    return images, labels


@pytest.mark.parametrize("fraction, per_class", [(0.01, 1), (0.1, 10), (1.0, 100)])
def test_class_balanced(fraction, per_class):
    x, y = labelled()
    x_sub, y_sub = semi_supervised_subsets((x, y), fraction=fraction)
    np.testing.assert_array_equal(np.bincount(y_sub), [per_class] * 10)
    np.testing.assert_array_equal(y[subset_indices(y, fraction)], y_sub)
    np.testing.assert_array_equal(x[subset_indices(y, fraction)], x_sub)


def test_reproducible_and_seeded():
    _, y = labelled()
    first = subset_indices(y, 0.1, seed=0)
    np.testing.assert_array_equal(first, subset_indices(y, 0.1, seed=0))
    assert not np.array_equal(first, subset_indices(y, 0.1, seed=1))
    assert np.all(np.diff(first) > 0)


def test_dataset_gives_the_same_subset():
    x, y = labelled()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    subset = semi_supervised_subsets(ds, fraction=0.1)
    batches = list(subset)
    assert len(batches[0][1]) == 64
    x_ds = np.concatenate([b[0] for b in batches])
    y_ds = np.concatenate([b[1] for b in batches])
    x_arr, y_arr = semi_supervised_subsets((x, y), fraction=0.1)
    np.testing.assert_array_equal(y_ds, y_arr)
    np.testing.assert_array_equal(x_ds, x_arr)


def test_bad_input():
    x, y = labelled()
    with pytest.raises(ValueError, match="fraction=0"):
        semi_supervised_subsets((x, y), fraction=0)
    with pytest.raises(ValueError, match="fraction=1.5"):
        semi_supervised_subsets((x, y), fraction=1.5)
    with pytest.raises(ValueError, match="with labels"):
        semi_supervised_subsets((x, None), fraction=0.1)
    with pytest.raises(ValueError, match="labels"):
        semi_supervised_subsets(tf.data.Dataset.from_tensor_slices(x).batch(8), 0.1)
