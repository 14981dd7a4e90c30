"""SimCLR on 2 logical CPU devices under MirroredStrategy vs one device.

Run in its own process (logical devices must be set before TensorFlow starts):
`python -m tests.distribute.mirrored`. Exits non-zero on any mismatch.
Driven by tests/test_distribute.py.
"""

# First: sets up the 2 logical CPUs before TensorFlow starts.
from tests.distribute.two_replicas import backbone
from tests.distribute.two_replicas import loss_and_grads
from tests.distribute.two_replicas import mirrored_strategy
from tests.distribute.two_replicas import random_views

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_ssl  # noqa: E402



def make(strategy=None):
    keras.utils.set_random_seed(0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    with scope:
        model = keras_ssl.SimCLR(backbone(), projection_dims=(16, 8), temperature=0.5)
        model.compile(  # two_replicas.py: the one-device reference eager
            optimizer=keras.optimizers.SGD(0.5, momentum=0.9), run_eagerly=strategy is None
        )
    return model


def main():
    strategy = mirrored_strategy()
    rng = np.random.default_rng(0)
    views = random_views(rng)
    single, mirrored = make(), make(strategy)
    mirrored.set_weights(single.get_weights())
    sync = [l for l in mirrored.projector.layers if "batch_norm" in l.name]
    assert sync and all(l.synchronized for l in sync), "projector BN not synchronized"

    loss_1, grads_1 = loss_and_grads(single, views)
    loss_2, grads_2 = loss_and_grads(mirrored, views, strategy=strategy)
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
