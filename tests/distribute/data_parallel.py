"""JAX `keras.distribution.DataParallel` on 2 CPU devices vs one device.

SimCLR, MoCo v2, BYOL, SwAV and DINO (tests/tiny_methods.py) train three
steps on the same global batches, with and without the distribution: the
losses, the weights and the methods' state (MoCo's queue and pointer, DINO's
center) must agree. The check runs in float64: in float32, XLA's
DataParallel program on an AVX-512 machine computed the first step's update
of small_cnn's third conv block 2 % away from a float64 reference while one
device came within 2e-6 (float64 DataParallel: 6e-7), so float32 would test
XLA's kernels rather than the methods' cross-device arithmetic. Own process
(the device count is fixed before JAX starts):
`python -m tests.distribute.data_parallel`; prints ALL OK.
Driven by tests/test_distribute.py.
"""

import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import keras  # noqa: E402

keras.config.set_floatx("float64")
keras.config.set_dtype_policy("float64")
import numpy as np  # noqa: E402

from tests import tiny_methods  # noqa: E402

METHODS = ("simclr", "moco_v2", "byol", "swav", "dino")
STATE = {"moco_v2": ("queue",), "dino": ("center",)}


def train(name, weights=None):
    model = tiny_methods.build(name)
    if weights is not None:
        model.set_weights(weights)
    initial = model.get_weights()
    losses = [
        float(model.train_on_batch(*tiny_methods.batch(model, name, seed), return_dict=True)["loss"])
        for seed in range(3)
    ]
    return model, initial, losses


def main():
    assert len(jax.devices()) == 2, jax.devices()
    for name in METHODS:
        keras.distribution.set_distribution(None)
        single, initial, single_losses = train(name)
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        parallel, _, parallel_losses = train(name, initial)
        sharding = parallel.encoder.weights[0].value.sharding
        assert len(sharding.device_set) == 2, sharding
        np.testing.assert_allclose(parallel_losses, single_losses, rtol=1e-5, atol=1e-6)
        for w1, w2 in zip(single.weights, parallel.weights):
            np.testing.assert_allclose(
                np.asarray(w2), np.asarray(w1), rtol=1e-5, atol=1e-5, err_msg=f"{name}: {w1.path}"
            )
        state = [w.path for w in single.weights if any(s in w.path for s in STATE.get(name, ()))]
        assert all(any(s in path for path in state) for s in STATE.get(name, ())), state
        print(name, "OK", single_losses, "state compared:", state, flush=True)
    print("ALL OK")


if __name__ == "__main__":
    main()
