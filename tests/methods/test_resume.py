"""Fault tolerance: `keras.callbacks.BackupAndRestore` restores every piece of
a method's state (weights, optimizer, step counter, augmentation seeds, and
queues / momentum / memory banks where the method has them), so a run
interrupted mid-epoch and restarted ends with the weights of an uninterrupted
run; `keras.callbacks.TensorBoard` logs the methods' metrics.

Add a method by adding a factory to `MODEL_FACTORIES`: a function returning a
fresh, compiled model, identical each time it is called (same seed).
"""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl

SIZE = 16
BATCH = 16
EPOCHS = 3


def compiled(model):
    schedule = keras.optimizers.schedules.CosineDecay(0.05, EPOCHS * 4)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=0.9, weight_decay=5e-4),
        jit_compile=False,  # XLA compile time would dominate this tiny test
    )
    return model


def make_simclr(**kwargs):
    keras.utils.set_random_seed(7)
    backbone = keras_ssl.backbones.small_cnn((SIZE, SIZE, 3))
    return compiled(keras_ssl.SimCLR(backbone, **kwargs))


def make_moco_v2():
    keras.utils.set_random_seed(7)
    backbone = keras_ssl.backbones.small_cnn((SIZE, SIZE, 3))
    return compiled(keras_ssl.MoCo(backbone, version=2, queue_size=64))


def make_byol():
    keras.utils.set_random_seed(7)
    backbone = keras_ssl.backbones.small_cnn((SIZE, SIZE, 3))
    return compiled(keras_ssl.BYOL(backbone))


def make_swav():
    """Prototypes frozen in epoch 1 and the queue used from epoch 2, so the
    restarted run must restore the epoch counter and the queue's contents."""
    keras.utils.set_random_seed(7)
    backbone = keras_ssl.backbones.small_cnn((None, None, 3))
    return compiled(
        keras_ssl.SwAV(
            backbone,
            input_shape=(SIZE, SIZE, 3),
            projection_dims=(32, 16),
            num_prototypes=16,
            freeze_prototypes_epochs=1,
            queue_size=32,
            queue_start_epoch=1,
        )
    )


MODEL_FACTORIES = {
    "simclr": make_simclr,
    "moco_v2": make_moco_v2,
    "byol": make_byol,
    "swav": make_swav,
}
# Three fits per case: the momentum methods and SwAV take 30-90 s on 2 shared cores.
SLOW = {"moco_v2", "byol", "swav"}


@pytest.fixture(scope="module")
def images():
    (x, y), _ = keras_ssl.data.load_sample()
    x = np.asarray(keras.ops.image.resize(x[:64].astype("float32"), (SIZE, SIZE)))
    return np.round(x).astype("uint8"), y[:64]


def dataset(x, y=None):
    """Same order every epoch and every run (no shuffle): 4 batches."""
    data = x if y is None else (x, y)
    return tf.data.Dataset.from_tensor_slices(data).batch(BATCH)


class Interrupt(keras.callbacks.Callback):
    """Raises after batch `batch` of epoch `epoch` (0-based), as a crash would."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("simulated crash")


def state(model):
    """Every variable of the model and its optimizer, in creation order (names
    differ between models built in one process: dense_1, dense_5...)."""
    return [(v.name, np.asarray(v)) for v in model.weights + model.optimizer.variables]


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(MODEL_FACTORIES)],
)
@pytest.mark.backend_specific
def test_interrupted_run_resumes_to_the_same_weights(name, images, tmp_path):
    factory = MODEL_FACTORIES[name]
    x, _ = images

    uninterrupted = factory()
    uninterrupted.fit(dataset(x), epochs=EPOCHS, verbose=0)

    backup = str(tmp_path / "backup")
    crashed = factory()
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit(
            dataset(x),
            epochs=EPOCHS,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(1, 1)],
        )
    assert int(crashed.step) == 6  # crashed mid-epoch 2: 4 + 2 steps

    restarted = factory()  # a new process would build the model afresh
    history = restarted.fit(
        dataset(x),
        epochs=EPOCHS,
        verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(backup)],
    )
    assert len(history.history["loss"]) == EPOCHS - 1  # resumed at epoch 2
    assert int(restarted.step) == int(uninterrupted.step) == EPOCHS * 4
    expected, actual = state(uninterrupted), state(restarted)
    assert len(expected) == len(actual)
    for (name, want), (_, got) in zip(expected, actual):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)


def event_tags(log_dir):
    tags = set()
    for path in glob.glob(os.path.join(log_dir, "*", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_tensorboard_logs_the_method_metrics(images, tmp_path):
    pytest.importorskip("tensorboard", reason="keras.callbacks.TensorBoard needs tensorboard")
    x, y = images
    model = make_simclr(num_classes=10)
    log_dir = str(tmp_path / "logs")
    model.fit(
        dataset(x, y),
        epochs=2,
        verbose=0,
        validation_data=dataset(x, y),
        callbacks=[keras.callbacks.TensorBoard(log_dir, update_freq="epoch")],
    )
    tags = event_tags(log_dir)
    for metric in ("loss", "probe_loss", "probe_accuracy"):
        assert f"epoch_{metric}" in tags, tags
    assert "epoch_learning_rate" in tags, tags
