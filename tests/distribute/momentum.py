"""Momentum methods on 2 logical CPU devices under MirroredStrategy vs one device.

BYOL, MoCo v3 and DINO: loss and weights (center included) after a fit step
equal one device on the same global batch. MoCo v2: the queue receives the keys of the whole global
batch in global order, and the cross-replica shuffling BN path gives the same
keys as one device (no BatchNorm in the backbone, so shuffling must be exact);
with BatchNorm in the backbone it runs. Own process (logical devices are set
before TensorFlow starts): `python -m tests.distribute.momentum`; prints
ALL OK. Driven by tests/test_distribute.py.
"""

# First: sets up the 2 logical CPUs before TensorFlow starts.
from tests.distribute.two_replicas import GLOBAL_BATCH
from tests.distribute.two_replicas import SIZE
from tests.distribute.two_replicas import backbone
from tests.distribute.two_replicas import mirrored_strategy
from tests.distribute.two_replicas import random_views

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_ssl  # noqa: E402

HEADS = dict(projection_dims=(16, 8), prediction_dims=(16, 8))


def make(cls, strategy=None, batch_norm=False, **kwargs):
    keras.utils.set_random_seed(0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    size = None if cls is keras_ssl.DINO else SIZE
    with scope:
        model = cls(backbone(batch_norm, size), **kwargs)
        # At lr 0.5 float32 summation-order differences between 1 and 2
        # devices grew past 1e-5 in two steps (MoCo v3, AVX-512 machine); at
        # 0.05 the steps still move the weights by orders more than 1e-5.
        model.compile(  # two_replicas.py: the one-device reference eager
            optimizer=keras.optimizers.SGD(0.05, momentum=0.9), run_eagerly=strategy is None
        )
    return model


def fit_both(cls, strategy, views, **kwargs):
    single, mirrored = make(cls, **kwargs), make(cls, strategy, **kwargs)
    mirrored.set_weights(single.get_weights())
    data = tf.data.Dataset.from_tensors((views,)).repeat(2)
    losses = [
        m.fit(data, epochs=1, verbose=0).history["loss"][0] for m in (single, mirrored)
    ]
    print(f"{cls.__name__} {kwargs.get('version', '')}: fit loss single={losses[0]:.7f} "
          f"mirrored={losses[1]:.7f}")
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    for w1, w2 in zip(single.weights, mirrored.weights):
        np.testing.assert_allclose(np.asarray(w2), np.asarray(w1), atol=1e-5, err_msg=w1.path)
    assert int(mirrored.step.numpy()) == 2
    return single, mirrored


def main():
    strategy = mirrored_strategy()
    rng = np.random.default_rng(0)
    views = random_views(rng)
    fit_both(keras_ssl.BYOL, strategy, views, momentum=0.9, **HEADS)
    fit_both(keras_ssl.MoCo, strategy, views, version=3, momentum=0.9, **HEADS)
    print("BYOL and MoCo v3: losses and weights (online, target) equal")

    crops = views + tuple(v[:, :8, :8] for v in views)  # 2 global + 2 local crops
    multicrop = keras_ssl.augmentation.ViewAugmenter(
        [[keras_ssl.augmentation.RandomResizedCrop(s, s)] for s in (SIZE, SIZE, 8, 8)]
    )
    _, dino = fit_both(
        keras_ssl.DINO, strategy, crops, augmenter=multicrop, input_shape=(SIZE, SIZE, 3),
        projection_dims=(16, 16, 8), num_prototypes=32, momentum=0.9,
    )
    assert np.abs(np.asarray(dino.center)).max() > 0
    print("DINO: loss, weights and center (mean over both replicas) equal")

    # MoCo v2: momentum 1 keeps the key encoder fixed, so keys are comparable.
    single, mirrored = fit_both(
        keras_ssl.MoCo, strategy, views, version=2, queue_size=32, momentum=1.0,
        projection_dims=(16, 8),
    )
    assert int(mirrored.queue.pointer.numpy()) == 2 * GLOBAL_BATCH
    keys = np.array(single.target(views[1], training=True))
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    queue = np.asarray(mirrored.queue.keys)
    np.testing.assert_allclose(queue[:GLOBAL_BATCH], keys, atol=1e-5)
    np.testing.assert_allclose(queue[GLOBAL_BATCH : 2 * GLOBAL_BATCH], keys, atol=1e-5)
    assert not mirrored._split_bn and mirrored.shuffle_bn
    print("MoCo v2: queue holds both replicas' keys in global order; shuffle exact")

    model = make(keras_ssl.MoCo, strategy, batch_norm=True, version=2, queue_size=32)
    model.fit(tf.data.Dataset.from_tensors((views,)), verbose=0)
    assert int(model.queue.pointer.numpy()) == GLOBAL_BATCH
    print("MoCo v2 with BatchNorm in the backbone: shuffling BN across replicas runs")
    print("ALL OK")


if __name__ == "__main__":
    main()
