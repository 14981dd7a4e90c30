"""Three training steps of every method (tests/tiny_methods.py) on the backend
of `KERAS_BACKEND`, each step from the state the TensorFlow run had there.

    KERAS_BACKEND=tensorflow python tests/backend_loss_history.py DIR [NAME ...]  # writes
    KERAS_BACKEND=jax python tests/backend_loss_history.py DIR [NAME ...]         # reads

The TensorFlow run saves its three batches and each model's weights (queues,
centers, targets and step counters included) before every step and after the
last one. The JAX run loads the state before each step, trains one step on the
same batch and compares its new weights with TensorFlow's next state. Each
run writes its loss history (and JAX its weight mismatches) to
DIR/<backend>.json. Driven by tests/test_backends.py.

Starting every step from the same state keeps float32 rounding from
compounding over the steps: run freely, MoCo v3's third loss at lr 0.01 was
1.2e-5 (XLA) and 1.4e-5 (TensorFlow's Eigen kernels) from a float64 run on an
AVX-512 machine, beyond the check's 1e-5 for rounding alone.
"""

import json
import os
import pickle
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from tests import tiny_methods  # noqa: E402

STEPS = 3


def main(directory, names):
    backend = keras.backend.backend()
    histories, mismatches = {}, {}
    for name in names or tiny_methods.METHODS:
        model = tiny_methods.build(name)
        # TensorFlow's eager steps: the same kernels as its traced ones,
        # without the tracing that took most of its three steps' time.
        model.run_eagerly = backend == "tensorflow"
        batches = os.path.join(directory, f"{name}.pkl")

        def state(step):
            return os.path.join(directory, f"{name}.{step}.weights.h5")

        if backend == "tensorflow":
            data = [tiny_methods.batch(model, name, seed) for seed in range(STEPS)]
            with open(batches, "wb") as f:
                pickle.dump(data, f)
        else:
            with open(batches, "rb") as f:
                data = pickle.load(f)
        histories[name], mismatches[name] = [], []
        for step, (x, y) in enumerate(data):
            if backend == "tensorflow":
                model.save_weights(state(step))
            else:
                model.load_weights(state(step))
            histories[name].append(float(model.train_on_batch(x, y, return_dict=True)["loss"]))
            if backend == "tensorflow":
                continue
            updated = [np.asarray(w) for w in model.weights]
            model.load_weights(state(step + 1))
            mismatches[name] += [
                f"step {step}: {w.path}"
                for w, value in zip(model.weights, updated)
                if not np.allclose(value, np.asarray(w), rtol=1e-5, atol=1e-5)
            ]
        if backend == "tensorflow":
            model.save_weights(state(STEPS))
        print(name, histories[name], mismatches[name], flush=True)
    with open(os.path.join(directory, f"{backend}.json"), "w") as f:
        json.dump({"losses": histories, "mismatches": mismatches}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
