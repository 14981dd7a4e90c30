import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.layers import FusedBatchNormalization

SHAPES = [(16, 5, 5, 6), (32, 6)]


def pair(shape, **kwargs):
    """A Keras BatchNormalization and a FusedBatchNormalization with the same
    random weights."""
    rng = np.random.default_rng(0)
    layers = [
        keras.layers.BatchNormalization(momentum=0.9, **kwargs),
        FusedBatchNormalization(momentum=0.9, **kwargs),
    ]
    weights = None
    for layer in layers:
        layer.build(shape)
        weights = weights or [
            rng.normal(1.0, 0.5, w.shape).astype("float32") for w in layer.weights
        ]
        weights[-1] = np.abs(weights[-1])  # moving variance
        layer.set_weights(weights)
    return layers


def value_and_grads(layer, x, training):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(y * tf.cos(y))
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    return [y] + grads


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_matches_keras_batch_normalization(shape, training):
    x = np.random.default_rng(1).normal(2.0, 3.0, shape).astype("float32")
    keras_bn, fused = pair(shape)
    for expected, got in zip(
        value_and_grads(keras_bn, x, training), value_and_grads(fused, x, training)
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    for expected, got in zip(keras_bn.weights, fused.weights):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5)


def test_moving_statistics_follow_the_biased_batch_variance():
    x = np.random.default_rng(2).normal(2.0, 3.0, (8, 3, 3, 4)).astype("float32")
    layer = FusedBatchNormalization(momentum=0.9)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean, 0.1 * x.mean((0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(
        layer.moving_variance, 0.9 + 0.1 * x.var((0, 1, 2)), rtol=1e-5
    )


def test_without_affine_and_frozen():
    shape = (16, 4, 4, 3)
    x = np.random.default_rng(3).normal(size=shape).astype("float32")
    keras_bn, fused = pair(shape, center=False, scale=False)
    np.testing.assert_allclose(fused(x, training=True), keras_bn(x, training=True), atol=1e-5)
    # A frozen layer normalizes with its moving statistics, as Keras's does.
    keras_bn.trainable = fused.trainable = False
    np.testing.assert_allclose(fused(x, training=True), keras_bn(x, training=True), atol=1e-5)
    np.testing.assert_allclose(fused.moving_mean, keras_bn.moving_mean)


def test_runs_the_fused_kernel_and_falls_back_otherwise():
    def op_types(layer, x):
        fn = tf.function(lambda x: layer(x, training=True))
        return {op.type for op in fn.get_concrete_function(x).graph.get_operations()}

    x = tf.zeros((4, 3, 3, 2))
    assert "FusedBatchNormV3" in op_types(FusedBatchNormalization(), x)
    assert "FusedBatchNormV3" not in op_types(FusedBatchNormalization(axis=1), x)
    assert "FusedBatchNormV3" not in op_types(FusedBatchNormalization(), tf.zeros((4, 3, 2)))


@pytest.mark.parametrize("half", ["bfloat16", "float16"])
def test_mixed_precision_matches_keras(half):
    shape = (16, 4, 4, 3)
    x = np.random.default_rng(4).normal(size=shape).astype("float32")
    keras_bn, fused = pair(shape, dtype=f"mixed_{half}")
    got = fused(x, training=True)
    assert got.dtype == half
    # The kernel itself takes the half-precision activations (no float32 round trip).
    fn = tf.function(lambda x: fused(x, training=True))
    graph = fn.get_concrete_function(tf.cast(x, half)).graph
    kernels = [op for op in graph.get_operations() if op.type == "FusedBatchNormV3"]
    assert [op.get_attr("T") for op in kernels] == [tf.as_dtype(half)]
    np.testing.assert_allclose(
        np.asarray(tf.cast(got, "float32")),
        np.asarray(tf.cast(keras_bn(x, training=True), "float32")),
        atol=0.05,
    )


def test_config_round_trip():
    layer = FusedBatchNormalization(momentum=0.8, epsilon=1e-5, name="bn")
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(clone, FusedBatchNormalization)
    assert clone.get_config() == layer.get_config()


def test_weights_carry_over_from_keras_batch_normalization():
    def model(bn):
        inputs = keras.Input((4, 4, 3))
        return keras.Model(inputs, bn(name="bn")(keras.layers.Conv2D(3, 1, name="conv")(inputs)))

    x = np.random.default_rng(6).normal(size=(8, 4, 4, 3)).astype("float32")
    source = model(keras.layers.BatchNormalization)
    source(x, training=True)  # moving statistics away from their start
    target = model(FusedBatchNormalization)
    target.set_weights(source.get_weights())
    np.testing.assert_allclose(target.predict(x, verbose=0), source.predict(x, verbose=0), atol=1e-5)
