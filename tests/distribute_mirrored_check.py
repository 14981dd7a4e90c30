"""SimCLR on 2 logical CPU devices under MirroredStrategy vs one device.

Run in its own process (logical devices must be set before TensorFlow starts):
`python tests/distribute_mirrored_check.py`. Exits non-zero on any mismatch.
Driven by tests/test_distribute.py.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import keras_ssl  # noqa: E402

GLOBAL_BATCH, SIZE = 8, 16


def backbone():
    # No BatchNorm in the backbone: per-replica batch statistics would differ
    # from the global ones by design. The projector's BN is synchronized.
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def make(strategy=None):
    keras.utils.set_random_seed(0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    with scope:
        model = keras_ssl.SimCLR(backbone(), projection_dims=(16, 8), temperature=0.5)
        model.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9))
    return model


def loss_and_grads(model, views, strategy=None):
    def step(local_views):
        with tf.GradientTape() as tape:
            outputs = model(local_views, training=True)
            loss = model.compute_loss(x=local_views, y_pred=outputs, training=True)
        return loss, tape.gradient(loss, model.trainable_weights)

    if strategy is None:
        loss, grads = tf.function(step)(views)
        return float(loss), [np.asarray(g) for g in grads]
    n = GLOBAL_BATCH // strategy.num_replicas_in_sync
    local = strategy.experimental_distribute_values_from_function(
        lambda ctx: tuple(
            v[ctx.replica_id_in_sync_group * n : (ctx.replica_id_in_sync_group + 1) * n]
            for v in views
        )
    )
    loss, grads = strategy.run(tf.function(step), args=(local,))
    loss = strategy.reduce("SUM", loss, axis=None)
    grads = [np.asarray(strategy.reduce("SUM", g, axis=None)) for g in grads]
    return float(loss), grads


def main():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    rng = np.random.default_rng(0)
    views = tuple(
        tf.constant(rng.uniform(0, 255, (GLOBAL_BATCH, SIZE, SIZE, 3)), tf.float32)
        for _ in range(2)
    )
    single, mirrored = make(), make(strategy)
    mirrored.set_weights(single.get_weights())
    sync = [l for l in mirrored.projector.layers if "batch_norm" in l.name]
    assert sync and all(l.synchronized for l in sync), "projector BN not synchronized"

    loss_1, grads_1 = loss_and_grads(single, views)
    loss_2, grads_2 = loss_and_grads(mirrored, views, strategy)
    print(f"loss single={loss_1:.7f} mirrored={loss_2:.7f}")
    np.testing.assert_allclose(loss_2, loss_1, rtol=1e-5)
    for w, g1, g2 in zip(single.trainable_weights, grads_1, grads_2):
        np.testing.assert_allclose(g2, g1, atol=1e-5, err_msg=w.path)
    print(f"gradients equal ({len(grads_1)} tensors)")

    # A whole Keras fit step: dataset split over replicas, scale_loss, summed
    # gradients, SGD update: the weights must end up equal.
    single, mirrored = make(), make(strategy)
    mirrored.set_weights(single.get_weights())
    data = tf.data.Dataset.from_tensors((views,)).repeat(2)
    history_1 = single.fit(data, epochs=1, verbose=0).history["loss"][0]
    history_2 = mirrored.fit(data, epochs=1, verbose=0).history["loss"][0]
    print(f"fit loss single={history_1:.7f} mirrored={history_2:.7f}")
    np.testing.assert_allclose(history_2, history_1, rtol=1e-5)
    for w1, w2 in zip(single.weights, mirrored.weights):
        np.testing.assert_allclose(np.asarray(w2), np.asarray(w1), atol=1e-5, err_msg=w1.path)
    assert int(mirrored.step.numpy()) == 2, mirrored.step.numpy()
    print("fit: weights and step counter equal")

    # steps_per_execution > 1 is refused under the strategy, naming the issue.
    with strategy.scope():
        mirrored.compile(optimizer="sgd", steps_per_execution=2)
    try:
        mirrored.fit(data, epochs=1, verbose=0)
    except ValueError as error:
        assert "19246" in str(error), error
        print("steps_per_execution=2 refused:", error)
    else:
        raise AssertionError("steps_per_execution=2 under MirroredStrategy was accepted")
    print("ALL OK")


if __name__ == "__main__":
    main()
