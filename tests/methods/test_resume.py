"""Fault tolerance: `keras.callbacks.BackupAndRestore` restores every piece of
a method's state (weights, optimizer, step counter, augmentation seeds, and
queues / momentum / memory banks where the method has them), so a run
interrupted mid-epoch and restarted ends with the weights of an uninterrupted
run; with the documented recipe (`save_freq="epoch"`,
`double_checkpoint=True`) that holds for a process killed while writing a
backup too; an integer `save_freq` is refused; `keras.callbacks.TensorBoard`
logs the methods' metrics.

Add a method by adding a factory to `MODEL_FACTORIES`: a function returning a
fresh, compiled model, identical each time it is called (same seed).
"""

import glob
import os
import subprocess
import sys
import textwrap

import h5py
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
        # TensorFlow: XLA's compile time would dominate this tiny test. JAX:
        # without jit every op is its own dispatch, 5x slower than compiling.
        jit_compile=keras.backend.backend() == "jax",
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


def sample_images():
    (x, y), _ = keras_ssl.data.load_sample()
    x = np.asarray(keras.ops.image.resize(x[:64].astype("float32"), (SIZE, SIZE)))
    return np.round(x).astype("uint8"), y[:64]


@pytest.fixture(scope="module")
def images():
    return sample_images()


def dataset(x, y=None):
    """Same order every epoch and every run (no shuffle): 4 batches."""
    data = x if y is None else (x, y)
    return tf.data.Dataset.from_tensor_slices(data).batch(BATCH)


@pytest.fixture(scope="module")
def uninterrupted(images):
    """`uninterrupted(name)`: the step counter and `state` after `EPOCHS`
    uninterrupted epochs of `MODEL_FACTORIES[name]`, run once per module for
    both resume checks."""
    runs = {}

    def run(name):
        if name not in runs:
            model = MODEL_FACTORIES[name]()
            model.fit(dataset(images[0]), epochs=EPOCHS, verbose=0)
            runs[name] = int(model.step), state(model)
        return runs[name]

    return run


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
def test_interrupted_run_resumes_to_the_same_weights(name, images, uninterrupted, tmp_path):
    factory = MODEL_FACTORIES[name]
    x, _ = images

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
    step, expected = uninterrupted(name)
    assert int(restarted.step) == step == EPOCHS * 4
    actual = state(restarted)
    assert len(expected) == len(actual)
    for (name, want), (_, got) in zip(expected, actual):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)


def recipe(backup_dir):
    """The documented exact-resume recipe."""
    return keras.callbacks.BackupAndRestore(
        backup_dir, save_freq="epoch", double_checkpoint=True
    )


# Runs the documented recipe and SIGKILLs its own process halfway through the
# backup written at the end of epoch 2 (the h5 file then holds some layers'
# weights only), as a machine that dies mid-write would.
KILLED_RUN = """
import os, signal, sys
import keras
from keras.src.saving import saving_lib
from tests.methods import test_resume as t

factory, backup = t.MODEL_FACTORIES[sys.argv[1]], sys.argv[2]
written = {"objects": None}
save_state = saving_lib._save_state

def save_then_die(*args, **kwargs):
    if written["objects"] is not None:
        written["objects"] += 1
        if written["objects"] == 6:
            os.kill(os.getpid(), signal.SIGKILL)
    return save_state(*args, **kwargs)

saving_lib._save_state = save_then_die

class KillDuringBackup(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):  # runs before the backup's
        if epoch == 1:
            written["objects"] = 0

x, _ = t.sample_images()
factory().fit(t.dataset(x), epochs=t.EPOCHS, verbose=0,
              callbacks=[KillDuringBackup(), t.recipe(backup)])
"""


@pytest.mark.parametrize(
    "name", ["simclr", pytest.param("moco_v2", marks=pytest.mark.slow)]
)
@pytest.mark.backend_specific
def test_run_killed_during_a_backup_write_resumes_exactly(name, images, uninterrupted, tmp_path):
    x, _ = images
    backup = str(tmp_path / "backup")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_RUN), name, backup],
        env=env, cwd=root, capture_output=True, text=True, timeout=600,
    )
    assert killed.returncode == -9, killed.stderr[-3000:]
    latest = os.path.join(backup, "latest.weights.h5")
    assert os.path.exists(latest + ".bkp")  # the backup of epoch 1, kept
    with pytest.raises(OSError):  # the one being written when the process died
        h5py.File(latest, "r")

    resumed = MODEL_FACTORIES[name]()
    history = resumed.fit(dataset(x), epochs=EPOCHS, verbose=0, callbacks=[recipe(backup)])
    assert len(history.history["loss"]) == EPOCHS - 1  # from the end of epoch 1

    step, expected = uninterrupted(name)
    assert int(resumed.step) == step == EPOCHS * 4
    actual = state(resumed)
    assert len(expected) == len(actual)
    for (variable, want), (_, got) in zip(expected, actual):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=variable)


def test_mid_epoch_backups_are_refused_before_training(images, tmp_path):
    x, _ = images
    model = make_simclr()
    before = state(model)
    with pytest.raises(ValueError, match=r'save_freq=2\).*save_freq="epoch", double_checkpoint=True'):
        model.fit(
            dataset(x),
            epochs=1,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path), save_freq=2)],
        )
    for (variable, want), (_, got) in zip(before, state(model)):
        np.testing.assert_array_equal(got, want, err_msg=variable)
    history = model.fit(dataset(x), epochs=2, verbose=0, callbacks=[recipe(str(tmp_path))])
    assert history.history["loss"][-1] < history.history["loss"][0]


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
