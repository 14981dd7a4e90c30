"""The header of the MirroredStrategy checks of this folder: 2 logical CPU
devices (set when this module is imported, before TensorFlow starts: import it
first), the global batch, a backbone and one step's loss and gradients on one
device or split between the replicas.

The one-device reference models run their steps eagerly (the same kernels;
tracing a tiny step costs more than running it), the replicated ones as
`fit` runs by default, compiled.

Each check runs in its own process, `python -m tests.distribute.<name>` from
the repository root, prints ALL OK and exits non-zero on a mismatch; driven by
tests/test_distribute.py.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

GLOBAL_BATCH, SIZE = 8, 16


def mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    return strategy


def random_views(rng, sizes=((SIZE, SIZE),) * 2):
    """A global batch of float32 views in [0, 255], one per `(h, w)` size."""
    return tuple(
        tf.constant(rng.uniform(0, 255, (GLOBAL_BATCH, h, w, 3)), tf.float32) for h, w in sizes
    )


def backbone(batch_norm=False, size=SIZE):
    """One strided conv. No BatchNorm unless asked: per-replica batch
    statistics differ from the global ones by design (the heads' BatchNorm
    is synchronized under the strategy)."""
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(8, 3, strides=2)(inputs)
    if batch_norm:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def split(value, ctx, n):
    """The replica `ctx`'s `n` rows of every tensor of `value` (or None)."""
    if value is None:
        return None
    start = ctx.replica_id_in_sync_group * n
    return tf.nest.map_structure(lambda v: v[start : start + n], value)


def dense(gradient):
    """NumPy value of a gradient (token embeddings get `IndexedSlices`)."""
    return np.asarray(tf.convert_to_tensor(gradient))


def loss_and_grads(model, x, y=None, strategy=None):
    """The training loss and its gradients on the global batch `(x, y)`: on
    one device, or each replica on its share, summed over the replicas."""

    def step(local_x, local_y):
        with tf.GradientTape() as tape:
            outputs = model(local_x, training=True)
            loss = model.compute_loss(x=local_x, y=local_y, y_pred=outputs, training=True)
        return loss, tape.gradient(loss, model.trainable_weights)

    if strategy is None:
        loss, grads = tf.function(step)(x, y)
        return float(loss), [dense(g) for g in grads]
    n = GLOBAL_BATCH // strategy.num_replicas_in_sync
    local_x = strategy.experimental_distribute_values_from_function(lambda c: split(x, c, n))
    local_y = strategy.experimental_distribute_values_from_function(lambda c: split(y, c, n))
    loss, grads = strategy.run(tf.function(step), args=(local_x, local_y))
    loss = strategy.reduce("SUM", loss, axis=None)
    grads = [dense(strategy.reduce("SUM", g, axis=None)) for g in grads]
    return float(loss), grads
