"""The contract every method keeps, checked on every method of the registry
(`tests/tiny_methods.py`), as keras-hub's `run_model_saving_test` checks every
model: a `.keras` round trip resumes with the same next-step loss and state;
the exported SavedModel equals `predict`; `steps_per_execution` gives the same
state; `evaluate` writes no state; an input of the wrong rank, channels or
dtype raises a `ValueError` naming the problem and writes no state;
`mixed_bfloat16` trains with a float32 loss and float32 state.

16 px images, batches of 8, at most 3 steps, run eagerly on TensorFlow where
graph mode changes nothing that is checked (tracing a step costs seconds;
only the multi-step execution and the export trace). A method's own file keeps what is
specific to it. Paths that differ per backend (saving, export, compiled
multi-step execution) are marked `backend_specific`: CI reruns them on JAX.
"""

import keras
import numpy as np
import pytest

from tests import tiny_methods
from tests.methods import checks

NAMES = list(tiny_methods.METHODS)

# The state a method's step writes besides weights and optimizer slots, by
# attribute path: each must change in two steps and survive the round trip.
# (Momentum moves with the cosine schedule's horizon set; see `horizon`.)
STATE = {
    "moco_v1": ("queue.keys", "queue.pointer"),
    "moco_v2": ("queue.keys", "queue.pointer"),
    "moco_v3": ("momentum",),
    "byol": ("momentum",),
    "raft": ("momentum",),
    "dino": ("center", "momentum"),
    "nnclr": ("queue.keys", "queue.pointer"),
    "pirl": ("memory_bank.bank", "normalizer"),
    "ijepa": ("momentum",),
}


def eager(model):
    """Eager on TensorFlow, where tracing a step costs seconds; compiled on
    JAX, whose eager ops run one dispatch each (slower than one jit)."""
    model.run_eagerly = keras.backend.backend() == "tensorflow"
    return model


def horizon(model, steps=10):
    """Sets a momentum model's cosine schedule horizon (`MomentumSchedule`
    does it in `fit`), so that its momentum moves at every step."""
    if hasattr(model, "momentum_steps"):
        model.momentum_steps.assign(steps)
    return model


def images_of(x):
    """The images a method's encoder takes, from a registry batch."""
    return x["images"] if isinstance(x, dict) else x[0]


def with_images(x, images):
    return dict(x, images=images) if isinstance(x, dict) else (images, *x[1:])


@pytest.mark.backend_specific
@pytest.mark.parametrize("name", NAMES)
def test_save_load_resumes_with_the_same_loss_and_state(name, tmp_path):
    # The method's own sampling (PIRL's negatives, MAE's and I-JEPA's masks):
    # its seed state is saved with the model.
    model = eager(horizon(tiny_methods.build(name, fixed_sampling=False)))
    batches = [tiny_methods.batch(model, name, seed) for seed in range(3)]
    checks.check_save_load_resumes(
        model, batches, str(tmp_path / f"{name}.keras"), STATE.get(name, ())
    )


@pytest.mark.backend_specific
@pytest.mark.parametrize("name", NAMES)
def test_export_equals_predict(name, tmp_path):
    model = eager(tiny_methods.build(name))
    x, y = tiny_methods.batch(model, name)
    model.train_on_batch(x, y)  # BatchNorm statistics away from their start
    images = images_of(x)
    path = str(tmp_path / "encoder")
    if name != "clip":
        checks.check_export_equals_predict(model, images, path)
        return
    import keras_ssl

    model.export_encoder(path)  # two towers
    image_tower, text_tower = keras_ssl.methods.load_clip_towers(path)
    np.testing.assert_allclose(
        image_tower.predict(images, verbose=0), np.asarray(model.encode_images(images)), atol=1e-5
    )
    tokens = x["tokens"]
    np.testing.assert_allclose(
        np.asarray(text_tower(tokens)), np.asarray(model.encode_text(tokens)), atol=1e-5
    )
    with pytest.raises(ValueError, match="two towers"):
        keras_ssl.load_encoder(path)


@pytest.mark.backend_specific
@pytest.mark.parametrize("name", NAMES)
def test_steps_per_execution_gives_the_state_of_single_steps(name):
    # Three batches, two per compiled execution (the last one runs one step)
    # against three single steps (eager on TensorFlow). (Graph and eager kernels
    # round differently: 1e-5 apart after 3 steps; a step run twice or
    # skipped is 1e-3 apart.)
    states = []
    for model in (
        eager(tiny_methods.build(name)),
        tiny_methods.build(name, steps_per_execution=2),
    ):
        x, y = tiny_methods.batches(model, name, 3)
        model.fit(x, y, batch_size=tiny_methods.BATCH, shuffle=False, verbose=0)
        assert int(model.step) == 3
        states.append(checks.state(model))
    checks.assert_same_state(states[1], states[0], atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_writes_no_state(name):
    model = eager(tiny_methods.build(name))
    x, y = tiny_methods.batch(model, name)
    before = checks.state(model)
    logs = model.evaluate(x, y, batch_size=tiny_methods.BATCH, verbose=0, return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    checks.assert_same_state(checks.state(model), before)


BAD_IMAGES = {
    "rank": (lambda images: images[..., 0], "rank 3"),
    "channels": (lambda images: images[..., :1], "3 channels"),
    "dtype": (lambda images: images.astype("int64"), "uint8 or float"),
}


@pytest.mark.parametrize("problem", list(BAD_IMAGES))
@pytest.mark.parametrize("name", NAMES)
def test_bad_images_raise_naming_the_problem_and_write_no_state(name, problem):
    model = tiny_methods.build(name)
    x, y = tiny_methods.batch(model, name)
    edit, message = BAD_IMAGES[problem]
    bad = with_images(x, edit(images_of(x)))
    before = checks.state(model)
    for call in (model.fit, model.evaluate):
        with pytest.raises(ValueError, match=message):
            call(bad, y, batch_size=tiny_methods.BATCH, verbose=0)
    checks.assert_same_state(checks.state(model), before)
    assert int(model.step) == 0


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", NAMES)
def test_mixed_bfloat16_trains_with_float32_loss_and_state(name, mixed_bfloat16):
    model = eager(tiny_methods.build(name))
    assert model.encoder.compute_dtype == "bfloat16", model.encoder.compute_dtype
    x, y = tiny_methods.batch(model, name)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    loss = model.compute_loss(x, y, model(x, training=True), training=False)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32", loss.dtype
    for variable in model.weights:  # trainable and non-trainable state
        assert variable.dtype in ("float32", "int32", "int64"), (variable.path, variable.dtype)
    assert int(model.step) == 1
    queue = getattr(model, "queue", None)
    if hasattr(queue, "keys"):  # the keys of this step, normalized in float32
        written = np.asarray(queue.keys)[: int(queue.pointer)]
        np.testing.assert_allclose(np.linalg.norm(written, axis=1), 1.0, rtol=1e-5)
