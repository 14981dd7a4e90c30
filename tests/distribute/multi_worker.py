"""SimCLR and MoCo v2 under MultiWorkerMirroredStrategy, 2 worker processes
on 127.0.0.1, vs one process on the same global batches.

`python -m tests.distribute.multi_worker` is the coordinator: it builds
both models with fixed weights, saves them, picks two free ports and starts
two workers (this script with `worker`, `TF_CONFIG` set per worker, each
bounded in time and both killed when one fails). Each worker builds
`tf.distribute.MultiWorkerMirroredStrategy()` (one CPU replica per worker,
collectives over gRPC on localhost), loads the weights, runs `fit` for three
steps on a dataset of global batches (Keras splits every global batch between
the workers: worker 0 gets its first half) and `evaluate`, then writes its
losses and final weights. The coordinator trains the same models in one
process and checks that the losses (each step's and evaluate's) and weights
(MoCo's queue and pointer included) are equal, that the queue holds the keys
of the whole global batch in global order and that both workers end
identical. Prints ALL OK. Driven by
tests/test_distribute.py.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""

WORKERS, GLOBAL_BATCH, STEPS, SIZE = 2, 8, 3, 16
WORKER_TIMEOUT_S = 300
METHODS = ("SimCLR", "MoCo")


def free_ports(count):
    """Ports the OS reports free on 127.0.0.1 (bound to port 0, then closed)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def import_keras_ssl():
    import keras
    import keras_ssl

    return keras, keras_ssl


def backbone(keras):
    # No BatchNorm in the backbone: per-replica batch statistics would differ
    # from the global ones by design. SimCLR's projector BN is synchronized.
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def make(name):
    keras, keras_ssl = import_keras_ssl()
    keras.utils.set_random_seed(0)
    if name == "SimCLR":
        model = keras_ssl.SimCLR(backbone(keras), projection_dims=(16, 8), temperature=0.5)
    else:
        model = keras_ssl.MoCo(
            backbone(keras), version=2, queue_size=32, momentum=0.99, projection_dims=(16, 8)
        )
    model.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9))
    return model


def views():
    """Two fixed crops of real images, STEPS global batches of each."""
    _, keras_ssl = import_keras_ssl()
    (images, _), _ = keras_ssl.data.load_sample()
    images = images[: STEPS * GLOBAL_BATCH].astype("float32")
    return images[:, :SIZE, :SIZE], images[:, -SIZE:, -SIZE:]


def dataset(view_1, view_2):
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(((view_1, view_2),))
    return data.batch(GLOBAL_BATCH, drop_remainder=True)


def train(model, data):
    """Runs `fit` for one epoch, then `evaluate`; returns the loss logged
    after each training step and the evaluation loss."""
    import keras

    losses = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"]))
    )
    model.fit(data, epochs=1, verbose=0, callbacks=[record])
    return losses + [model.evaluate(data, verbose=0, return_dict=True)["loss"]]


def state(model, losses):
    weights = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    return dict(weights, losses=losses, step=int(model.step.numpy()))


def worker(folder):
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == WORKERS, strategy.num_replicas_in_sync
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    data = dataset(*views())
    for name in METHODS:
        with strategy.scope():
            model = make(name)
        initial = np.load(os.path.join(folder, f"{name}_initial.npz"))
        model.set_weights([initial[f"w{i}"] for i in range(len(initial.files))])
        if name == "MoCo":
            assert not model._split_bn and model.shuffle_bn
        else:
            sync = [l for l in model.projector.layers if "batch_norm" in l.name]
            assert sync and all(l.synchronized for l in sync), "projector BN not synchronized"
        losses = train(model, data)
        np.savez(os.path.join(folder, f"{name}_worker{index}.npz"), **state(model, losses))
        print(f"worker {index} {name}: losses {losses}", flush=True)


def run_workers(folder):
    """Starts one process per worker, each with its `TF_CONFIG`, logging to
    `folder`."""
    hosts = [f"127.0.0.1:{port}" for port in free_ports(WORKERS)]
    processes = []
    for index in range(WORKERS):
        config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(config))
        with open(os.path.join(folder, f"worker{index}.log"), "w") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.distribute.multi_worker", "worker", folder],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                )
            )
    return processes


def wait(processes, folder):
    """Waits for the workers; kills both when one fails or time runs out."""
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    try:
        while any(p.poll() is None for p in processes):
            failed = [p.returncode for p in processes if p.returncode not in (None, 0)]
            if failed or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    codes = [p.returncode for p in processes]
    if codes != [0] * WORKERS:
        for index in range(WORKERS):
            with open(os.path.join(folder, f"worker{index}.log")) as log:
                print(f"---- worker {index} (exit {codes[index]}) ----\n{log.read()[-6000:]}")
        raise SystemExit(f"workers failed or timed out after {WORKER_TIMEOUT_S} s: {codes}")


def coordinator():
    with tempfile.TemporaryDirectory() as folder:
        models = {name: make(name) for name in METHODS}
        for name, model in models.items():
            np.savez(
                os.path.join(folder, f"{name}_initial.npz"),
                **{f"w{i}": w for i, w in enumerate(model.get_weights())},
            )
        # MoCo's first keys: the key encoder equals the query encoder at the
        # start, so the first step's EMA leaves it as it is.
        view_1, view_2 = views()
        first_keys = np.array(models["MoCo"].target(view_2[:GLOBAL_BATCH], training=True))
        first_keys /= np.linalg.norm(first_keys, axis=1, keepdims=True)

        processes = run_workers(folder)
        single = {name: state(m, train(m, dataset(view_1, view_2))) for name, m in models.items()}
        wait(processes, folder)

        for name in METHODS:
            workers = [np.load(os.path.join(folder, f"{name}_worker{i}.npz")) for i in range(WORKERS)]
            print(f"{name}: loss single={single[name]['losses']} workers={workers[0]['losses']}")
            for result in workers:
                np.testing.assert_allclose(result["losses"], single[name]["losses"], rtol=1e-5)
                assert int(result["step"]) == STEPS, result["step"]
                weights = [k for k in single[name] if k.startswith("w")]
                for key in weights:
                    np.testing.assert_allclose(
                        result[key], single[name][key], atol=1e-5, err_msg=f"{name} {key}"
                    )
            for key in workers[0].files:
                np.testing.assert_array_equal(workers[0][key], workers[1][key], err_msg=key)
            print(f"{name}: fit and evaluate losses, {len(weights)} weights and step "
                  "equal one process; both workers identical")

        # The queue equals the one-process queue (checked above); its first
        # global batch of keys (half from each worker) is also checked
        # against keys computed here, and its pointer moved by whole global
        # batches.
        queue, weights = models["MoCo"].queue, models["MoCo"].weights
        keys = workers[0][f"w{next(i for i, w in enumerate(weights) if w is queue.keys)}"]
        pointer = workers[0][f"w{next(i for i, w in enumerate(weights) if w is queue.pointer)}"]
        assert int(pointer) == STEPS * GLOBAL_BATCH, pointer
        np.testing.assert_allclose(keys[:GLOBAL_BATCH], first_keys, atol=1e-5)
        print("MoCo v2: the queue holds both workers' keys of every global batch, in global order")
    print("ALL OK")


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        coordinator()
