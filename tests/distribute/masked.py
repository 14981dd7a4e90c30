"""MAE and I-JEPA on 2 logical CPU devices under MirroredStrategy vs one device.

The toy models of tests/tiny_methods.py (fixed masks, the same for every
sample, so each replica's half of the batch gets the masks one device gives
it): the losses and every weight (I-JEPA's EMA target included) after two
fit steps on the same global batch equal one device. Own process (logical
devices are set before TensorFlow starts): `python -m
tests.distribute.masked`; prints ALL OK. Driven by tests/test_distribute.py.
"""

# First: sets up the 2 logical CPUs before TensorFlow starts.
from tests.distribute.two_replicas import mirrored_strategy

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tests import tiny_methods  # noqa: E402


def fit(name, strategy=None, weights=None):
    with (strategy or tf.distribute.get_strategy()).scope():
        model = tiny_methods.build(name)
    model.run_eagerly = strategy is None  # two_replicas.py: the reference eager
    if weights is not None:
        model.set_weights(weights)
    views, _ = tiny_methods.batch(model, name)
    data = tf.data.Dataset.from_tensors((views,)).repeat(2)
    return model, model.fit(data, epochs=1, verbose=0).history["loss"][0]


def main():
    strategy = mirrored_strategy()
    for name in ("mae", "ijepa"):
        initial = tiny_methods.build(name).get_weights()
        single, loss_1 = fit(name, weights=initial)
        mirrored, loss_2 = fit(name, strategy, weights=initial)
        print(f"{name}: fit loss single={loss_1:.7f} mirrored={loss_2:.7f}", flush=True)
        np.testing.assert_allclose(loss_2, loss_1, rtol=1e-5)
        for w1, w2 in zip(single.weights, mirrored.weights):
            np.testing.assert_allclose(np.asarray(w2), np.asarray(w1), atol=1e-5, err_msg=w1.path)
        assert int(mirrored.step.numpy()) == 2
    print("ALL OK")


if __name__ == "__main__":
    main()
