import keras
import numpy as np
import pytest

from keras_ssl.layers import SplitBatchNormalization


def reference(x, splits, gamma, beta, eps):
    """Each group i % splits normalized with its own biased statistics."""
    out = np.empty_like(x)
    means, variances = [], []
    for g in range(splits):
        rows = x[g::splits]
        mean = rows.mean(axis=(0, 1, 2))
        var = rows.var(axis=(0, 1, 2))
        out[g::splits] = (rows - mean) / np.sqrt(var + eps) * gamma + beta
        means.append(mean)
        variances.append(var)
    return out, np.mean(means, 0), np.mean(variances, 0)


@pytest.mark.parametrize("batch", [8, 7])
def test_training_normalizes_each_group_and_updates_moving_stats(batch):
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (batch, 3, 3, 5)).astype("float32")
    layer = SplitBatchNormalization(num_splits=4, momentum=0.9, epsilon=1e-3)
    layer.build(x.shape)
    gamma = rng.normal(size=5).astype("float32")
    beta = rng.normal(size=5).astype("float32")
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    out = np.asarray(layer(x, training=True))
    expected, mean, var = reference(x, 4, gamma, beta, 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(layer.moving_mean), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(
        np.asarray(layer.moving_variance), 0.9 + 0.1 * var, rtol=1e-5
    )


def test_inference_and_one_split_equal_batch_normalization():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4, 4, 3)).astype("float32")
    split = SplitBatchNormalization(num_splits=1)
    plain = keras.layers.BatchNormalization()
    for training in (True, False):
        np.testing.assert_allclose(
            np.asarray(split(x, training=training)),
            np.asarray(plain(x, training=training)),
            rtol=1e-5,
            atol=1e-5,
        )
    split8 = SplitBatchNormalization(num_splits=8)
    fresh = keras.layers.BatchNormalization()
    np.testing.assert_allclose(
        np.asarray(split8(x, training=False)), np.asarray(fresh(x, training=False)), atol=1e-5
    )


def test_config_round_trip_and_bad_splits():
    layer = SplitBatchNormalization(num_splits=2, momentum=0.5)
    clone = SplitBatchNormalization.from_config(layer.get_config())
    assert clone.num_splits == 2 and clone.momentum == 0.5
    with pytest.raises(ValueError, match="num_splits"):
        SplitBatchNormalization(num_splits=0)
