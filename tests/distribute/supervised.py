"""CLIP and SupCon on 2 logical CPU devices under MirroredStrategy vs one device.

Run in its own process (logical devices must be set before TensorFlow starts):
`python -m tests.distribute.supervised`. Exits non-zero on any mismatch.
Driven by tests/test_distribute.py. CLIP gathers image and text
embeddings, SupCon gathers views with their labels; both must give the loss
and gradients of the global batch on one device.
"""

# First: sets up the 2 logical CPUs before TensorFlow starts.
from tests.distribute.two_replicas import GLOBAL_BATCH
from tests.distribute.two_replicas import SIZE
from tests.distribute.two_replicas import backbone
from tests.distribute.two_replicas import loss_and_grads
from tests.distribute.two_replicas import mirrored_strategy

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_ssl  # noqa: E402

LENGTH = 5


def make_clip():
    # An identity "augmenter": replicas draw other random crops than one device.
    augmenter = keras_ssl.augmentation.ViewAugmenter([[keras.layers.Identity()]])
    text = keras_ssl.backbones.text_transformer(12, LENGTH, width=8, num_layers=1, num_heads=2)
    return keras_ssl.CLIP(backbone(), text, embedding_dim=6, augmenter=augmenter)


def make_supcon():
    return keras_ssl.SupCon(backbone(), projection_dims=(16, 8), temperature=0.5)


def build(factory, strategy=None):
    keras.utils.set_random_seed(0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    with scope:
        model = factory()
        model.compile(  # two_replicas.py: the one-device reference eager
            optimizer=keras.optimizers.SGD(0.5, momentum=0.9), run_eagerly=strategy is None
        )
    return model


def check(name, factory, x, y, strategy):
    single, mirrored = build(factory), build(factory, strategy)
    mirrored.set_weights(single.get_weights())
    loss_1, grads_1 = loss_and_grads(single, x, y)
    loss_2, grads_2 = loss_and_grads(mirrored, x, y, strategy)
    print(f"{name}: loss single={loss_1:.7f} mirrored={loss_2:.7f}")
    np.testing.assert_allclose(loss_2, loss_1, rtol=1e-5)
    for w, g1, g2 in zip(single.trainable_weights, grads_1, grads_2):
        np.testing.assert_allclose(g2, g1, rtol=1e-5, atol=1e-5, err_msg=f"{name} {w.path}")
    print(f"{name}: gradients equal ({len(grads_1)} tensors)")

    single, mirrored = build(factory), build(factory, strategy)
    mirrored.set_weights(single.get_weights())
    element = (x,) if y is None else (x, y)
    data = tf.data.Dataset.from_tensors(element).repeat(2)
    history_1 = single.fit(data, epochs=1, verbose=0).history["loss"][0]
    history_2 = mirrored.fit(data, epochs=1, verbose=0).history["loss"][0]
    print(f"{name}: fit loss single={history_1:.7f} mirrored={history_2:.7f}")
    np.testing.assert_allclose(history_2, history_1, rtol=1e-5)
    for w1, w2 in zip(single.weights, mirrored.weights):
        np.testing.assert_allclose(
            np.asarray(w2), np.asarray(w1), rtol=1e-5, atol=1e-5, err_msg=f"{name} {w1.path}"
        )
    assert int(mirrored.step.numpy()) == 2, mirrored.step.numpy()
    print(f"{name}: fit weights and step counter equal")


def main():
    strategy = mirrored_strategy()
    rng = np.random.default_rng(0)

    def images():
        return tf.constant(rng.uniform(0, 255, (GLOBAL_BATCH, SIZE, SIZE, 3)), tf.float32)

    pairs = {
        "images": images(),
        "tokens": tf.constant(rng.integers(1, 12, (GLOBAL_BATCH, LENGTH)), tf.int32),
    }
    check("CLIP", make_clip, pairs, None, strategy)
    # Repeated labels that straddle the replicas: positives on the other replica.
    labels = tf.constant([0, 1, 2, 0, 1, 2, 3, 0], tf.int32)
    check("SupCon", make_supcon, (images(), images()), labels, strategy)
    print("ALL OK")


if __name__ == "__main__":
    main()
