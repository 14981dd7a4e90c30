"""Three training steps of every method (tests/tiny_methods.py) on the backend
of `KERAS_BACKEND`, from weights and inputs written by the TensorFlow run.

    KERAS_BACKEND=tensorflow python tests/backend_loss_history.py DIR [NAME ...]  # writes
    KERAS_BACKEND=jax python tests/backend_loss_history.py DIR [NAME ...]         # reads

The TensorFlow run saves each model's initial weights and its three batches
in DIR; every run writes its loss history to DIR/<backend>.json. Driven by
tests/test_backends.py.
"""

import json
import os
import pickle
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from tests import tiny_methods  # noqa: E402

STEPS = 3


def main(directory, names):
    backend = keras.backend.backend()
    histories = {}
    for name in names or tiny_methods.METHODS:
        model = tiny_methods.build(name)
        weights = os.path.join(directory, f"{name}.weights.h5")
        batches = os.path.join(directory, f"{name}.pkl")
        if backend == "tensorflow":
            data = [tiny_methods.batch(model, name, seed) for seed in range(STEPS)]
            model.save_weights(weights)
            with open(batches, "wb") as f:
                pickle.dump(data, f)
        else:
            model.load_weights(weights)
            with open(batches, "rb") as f:
                data = pickle.load(f)
        histories[name] = [
            float(model.train_on_batch(x, y, return_dict=True)["loss"]) for x, y in data
        ]
        print(name, histories[name], flush=True)
    with open(os.path.join(directory, f"{backend}.json"), "w") as f:
        json.dump(histories, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
