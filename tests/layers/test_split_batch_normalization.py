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


def test_fused_groups_match_the_general_path_with_gradients():
    """A batch that `num_splits` divides takes the fused kernel on TensorFlow;
    a batch of unknown size the general path. Both give the same outputs,
    gradients and moving statistics."""
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(5).normal(1.0, 2.0, (12, 3, 3, 4)), "float32")
    results = []
    for signature in ((12, 3, 3, 4), (None, 3, 3, 4)):
        layer = SplitBatchNormalization(num_splits=3, momentum=0.5)
        layer.build(x.shape)
        layer.gamma.assign([0.5, 1.0, 1.5, 2.0])

        @tf.function(input_signature=[tf.TensorSpec(signature)])
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(tf.sin(layer(x, training=True)))
            return tape.gradient(loss, [x] + layer.trainable_weights)

        results.append([np.asarray(g) for g in step(x)] + [np.asarray(w) for w in layer.weights])
        graph = step.get_concrete_function().graph
        fused = "FusedBatchNormV3" in {op.type for op in graph.get_operations()}
        assert fused == (signature[0] is not None)
    for fused, general in zip(*results):
        np.testing.assert_allclose(fused, general, rtol=1e-4, atol=1e-4)
