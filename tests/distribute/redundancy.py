"""Barlow Twins, VICReg and SwAV on 2 logical CPU devices under
MirroredStrategy vs one device, on the same global batch.

Run in its own process (logical devices must be set before TensorFlow starts):
`python -m tests.distribute.redundancy`. Exits non-zero on any mismatch.
Driven by tests/test_distribute.py.
"""

import os

# Eigen's float32 kernels, not oneDNN's: on an AVX-512 machine oneDNN's
# summation order moved the Barlow Twins weights after two steps by 2.6e-5,
# past the 1e-5 of this check, on one device and two alike.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
# Then: sets up the 2 logical CPUs before TensorFlow starts.
from tests.distribute.two_replicas import GLOBAL_BATCH  # noqa: E402
from tests.distribute.two_replicas import backbone  # noqa: E402
from tests.distribute.two_replicas import loss_and_grads  # noqa: E402
from tests.distribute.two_replicas import mirrored_strategy  # noqa: E402
from tests.distribute.two_replicas import random_views  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_ssl  # noqa: E402

MULTICROP = keras_ssl.augmentation.MultiCrop(
    [[keras_ssl.augmentation.RandomResizedCrop(16, 16)] for _ in range(2)],
    [[keras_ssl.augmentation.RandomResizedCrop(8, 8)] for _ in range(2)],
)

METHODS = {
    "BarlowTwins": dict(projection_dims=(16, 16, 16)),
    "VICReg": dict(projection_dims=(16, 16, 16)),
    "SwAV": dict(
        projection_dims=(16, 8),
        num_prototypes=10,
        freeze_prototypes_epochs=0,
        queue_size=12,
        queue_start_epoch=0,
        augmenter=MULTICROP,
    ),
}


def make(name, strategy=None):
    keras.utils.set_random_seed(0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    with scope:
        model = getattr(keras_ssl, name)(backbone(size=None), input_shape=(16, 16, 3), **METHODS[name])
        model.compile(  # two_replicas.py: the one-device reference eager
            optimizer=keras.optimizers.SGD(0.1, momentum=0.9), run_eagerly=strategy is None
        )
    return model


def check_method(name, strategy):
    rng = np.random.default_rng(0)
    single, mirrored = make(name), make(name, strategy)
    mirrored.set_weights(single.get_weights())
    views = random_views(rng, single.augmenter.output_sizes)
    if name == "SwAV":  # a full queue, used from epoch 0: the queue path runs
        queue = rng.normal(size=tuple(single.queue.shape)).astype("float32")
        for model in (single, mirrored):
            model.queue.assign(queue)
    sync = [l for l in mirrored.projector.layers if "batch_norm" in l.name]
    assert sync and all(l.synchronized for l in sync), f"{name}: projector BN not synchronized"

    loss_1, grads_1 = loss_and_grads(single, views)
    loss_2, grads_2 = loss_and_grads(mirrored, views, strategy=strategy)
    print(f"{name}: loss single={loss_1:.7f} mirrored={loss_2:.7f}")
    np.testing.assert_allclose(loss_2, loss_1, rtol=1e-5)
    for w, g1, g2 in zip(single.trainable_weights, grads_1, grads_2):
        # float32 summation order differs: tolerance relative to the tensor.
        atol = 1e-5 * max(1.0, float(np.abs(g1).max()))
        np.testing.assert_allclose(g2, g1, rtol=1e-4, atol=atol, err_msg=f"{name} {w.path}")
    print(f"{name}: gradients equal ({len(grads_1)} tensors)")

    single, mirrored = make(name), make(name, strategy)
    mirrored.set_weights(single.get_weights())
    data = tf.data.Dataset.from_tensors((views,)).repeat(2)
    history_1 = single.fit(data, epochs=1, verbose=0).history["loss"][0]
    history_2 = mirrored.fit(data, epochs=1, verbose=0).history["loss"][0]
    print(f"{name}: fit loss single={history_1:.7f} mirrored={history_2:.7f}")
    np.testing.assert_allclose(history_2, history_1, rtol=1e-5)
    for w1, w2 in zip(single.weights, mirrored.weights):
        # One device runs the heads' BN on TensorFlow's fused kernel, two
        # replicas the synchronized moments: tolerance relative to the tensor.
        atol = 1e-5 * max(1.0, float(np.abs(w1).max()))
        np.testing.assert_allclose(
            np.asarray(w2), np.asarray(w1), rtol=1e-4, atol=atol, err_msg=f"{name} {w1.path}"
        )
    assert int(mirrored.step.numpy()) == 2, mirrored.step.numpy()
    print(f"{name}: fit weights (SwAV: queue included) and step counter equal")


def check_sinkhorn(strategy):
    """Sinkhorn codes of each replica's rows equal the single-device codes of
    the same global batch (the sums are global)."""
    rng = np.random.default_rng(1)
    scores = tf.constant(np.tanh(rng.normal(size=(GLOBAL_BATCH, 5))), tf.float32)
    queue = tf.constant(np.tanh(rng.normal(size=(6, 5))), tf.float32)
    expected = keras_ssl.losses.swav_codes(scores, queue).numpy()
    n = GLOBAL_BATCH // strategy.num_replicas_in_sync
    local = strategy.experimental_distribute_values_from_function(
        lambda ctx: scores[ctx.replica_id_in_sync_group * n : (ctx.replica_id_in_sync_group + 1) * n]
    )
    codes = strategy.run(
        tf.function(lambda s: keras_ssl.losses.swav_codes(s, queue)), args=(local,)
    )
    codes = np.concatenate([c.numpy() for c in strategy.experimental_local_results(codes)])
    np.testing.assert_allclose(codes, expected, atol=1e-6)
    print("sinkhorn: codes equal across 1 vs 2 replicas")


def main():
    strategy = mirrored_strategy()
    check_sinkhorn(strategy)
    for name in METHODS:
        check_method(name, strategy)
    print("ALL OK")


if __name__ == "__main__":
    main()
