"""The non-finite guard (DESIGN.md, "Non-finite steps") on every method of
tests/tiny_methods.py: a NaN pixel and a learning rate of 1e20 each stop
`fit` at the first bad step with a `NonFiniteStepError` naming it, and every
variable of the model and its optimizer (weights, target network, queues,
bank, center, step counters, optimizer slots and iterations, seeds) equals
its value before that step, exactly. Also: a good step still trains, the
latch covers the rest of a `steps_per_execution` loop, the off switch lets a
NaN through, and evaluation, retrieval and the monitors refuse non-finite
embeddings. Runs on the backend of `KERAS_BACKEND`.
"""

import types

import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl.callbacks import NonFiniteStepError
from tests import tiny_methods

# Steps given a learning rate of 1e20 to overflow; the test fails for a
# method that trains through them.
MAX_STEPS = 6


def state(model):
    """Every variable of the model and its optimizer but the guard's own."""
    variables = model.variables + model.optimizer.variables
    guard = (model.nonfinite_step, model.refused_ids)
    return [(v.path, np.array(v)) for v in variables if not any(v is g for g in guard)]


def assert_same_state(actual, expected):
    assert [p for p, _ in actual] == [p for p, _ in expected]
    changed = [p for (p, a), (_, e) in zip(actual, expected) if not np.array_equal(a, e)]
    assert not changed, f"changed by a refused step: {changed}"


def with_nan_pixel(x):
    """`x` with one NaN pixel in its first image array."""
    leaves = keras.tree.flatten(x)
    leaves = [np.array(leaf) for leaf in leaves]
    first = next(leaf for leaf in leaves if leaf.ndim == 4)
    first[0, 1, 2, 0] = np.nan
    return keras.tree.pack_sequence_as(x, leaves)


class StateByStep(keras.callbacks.Callback):
    """The state before each step (`read(model)`, default `state`), by the
    model's `step` counter."""

    def __init__(self, read=None):
        super().__init__()
        self.read = read or state
        self.states = {}

    def on_train_batch_begin(self, batch, logs=None):
        self.states[int(self.model.step.numpy())] = self.read(self.model)


def fit(model, x, y, **kwargs):
    return model.fit(x, y, batch_size=tiny_methods.BATCH, verbose=0, **kwargs)


@pytest.mark.parametrize("name", list(tiny_methods.METHODS))
def test_nan_pixel_and_huge_learning_rate_stop_at_the_first_bad_step(name):
    model = tiny_methods.build(name)
    # Eager steps: tracing each tiny method costs more than its steps. The
    # compiled step is checked by the multi-step test below.
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), run_eagerly=True)
    x, y = tiny_methods.batch(model, name)
    start = state(model)

    # A good step trains: the loss is finite, weights and the step move.
    loss = fit(model, x, y).history["loss"][0]
    assert np.isfinite(loss)
    trained = state(model)
    assert int(model.step.numpy()) == 1
    moved = [p for (p, a), (_, b) in zip(trained, start) if not np.array_equal(a, b)]
    assert any(v.path in moved for v in model.trainable_variables), moved

    # One NaN pixel: step 1 is refused and changes nothing.
    with pytest.raises(NonFiniteStepError, match="Training step 1 ") as error:
        fit(model, with_nan_pixel(x), y)
    assert error.value.step == 1
    assert "learning rate" in str(error.value) and "pixels" in str(error.value)
    assert_same_state(state(model), trained)

    # A learning rate of 1e20: the first step whose update overflows is
    # refused, with the state as the last good step left it.
    model.optimizer.learning_rate.assign(1e20)
    states = StateByStep()
    with pytest.raises(NonFiniteStepError) as error:
        fit(model, x, y, epochs=MAX_STEPS, callbacks=[states])
    bad = error.value.step
    assert 1 <= bad < 1 + MAX_STEPS and f"Training step {bad} " in str(error.value)
    assert int(model.step.numpy()) == bad
    assert_same_state(state(model), states.states[bad])


def batches(model, name, count):
    """`count` tiny batches in one `(x, y)`, for `batch_size=BATCH`."""
    parts = [tiny_methods.batch(model, name, seed) for seed in range(count)]
    x = keras.tree.map_structure(lambda *a: np.concatenate(a), *[p[0] for p in parts])
    return x, None


def test_a_compiled_multi_step_execution_refuses_every_step_after_a_bad_one():
    # MoCo v2 (queue, EMA target, shuffling BN) compiled, four steps per
    # execution: four good steps train; then the first batch of an execution
    # has a NaN pixel, and neither it nor the three good batches after it
    # change anything.
    name = "moco_v2"
    model = tiny_methods.build(name)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), steps_per_execution=4)
    x, _ = batches(model, name, 4)
    fit(model, x, None, shuffle=False)
    assert int(model.step.numpy()) == 4
    trained = state(model)
    bad = keras.tree.map_structure(np.copy, x)
    next(leaf for leaf in keras.tree.flatten(bad) if leaf.ndim == 4)[0, 0, 0, 0] = np.nan
    with pytest.raises(NonFiniteStepError, match="Training step 4 "):
        fit(model, bad, None, shuffle=False)
    assert_same_state(state(model), trained)


def test_the_off_switch_lets_a_nan_through():
    backbone = tiny_methods.backbone()
    model = keras_ssl.SimCLR(
        backbone, projection_dims=(16, 8), input_shape=(16, 16, 3), nonfinite_guard=False
    )
    assert model.get_config()["nonfinite_guard"] is False
    model.compile(optimizer=keras.optimizers.SGD(0.01), run_eagerly=True)
    x, y = tiny_methods.batch(model, "simclr")
    fit(model, with_nan_pixel(x), y)
    # The step ran: NaN reached the state (the loss itself can come out
    # finite, e.g. where a ReLU turns NaN into 0).
    assert int(model.step.numpy()) == 1
    poisoned = [v.path for v in model.variables if not np.isfinite(np.asarray(v)).all()]
    assert poisoned


def test_the_switch_must_be_a_bool():
    with pytest.raises(ValueError, match="nonfinite_guard"):
        keras_ssl.SimCLR(tiny_methods.backbone(), input_shape=(16, 16, 3), nonfinite_guard=1)


# ----------------------------------------- evaluation, retrieval, monitors

def nan_encoder():
    """A keras encoder whose features of any image are NaN."""
    encoder = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4)]
    )
    kernel, bias = encoder.layers[-1].get_weights()
    encoder.layers[-1].set_weights([np.full_like(kernel, np.nan), bias])
    return encoder


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (12, 8, 8, 3)).astype("float32")
    return images, np.arange(12, dtype="int32") % 3


NOT_FINITE = "non-finite values"


@pytest.mark.parametrize(
    "evaluate",
    [
        lambda e, d: keras_ssl.evaluation.embed(e, d),
        lambda e, d: keras_ssl.evaluation.knn_accuracy(e, d, d, k=3),
        lambda e, d: keras_ssl.evaluation.linear_probe(e, d, d, epochs=1, verbose=0),
        lambda e, d: keras_ssl.evaluation.fine_tune(e, d, d, epochs=1, verbose=0),
    ],
    ids=["embed", "knn_accuracy", "linear_probe", "fine_tune"],
)
def test_evaluation_refuses_nan_features(evaluate, labelled):
    with pytest.raises(ValueError, match=NOT_FINITE):
        evaluate(nan_encoder(), labelled)


def test_knn_refuses_nan_feature_arrays():
    bank = np.eye(4, dtype="float32")
    query = bank.copy()
    query[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"`query_features` hold .* 1 of 4 rows .* row 2"):
        keras_ssl.evaluation.knn_predict(query, bank, np.arange(4), 4, k=2)


def test_embedding_index_refuses_nan_vectors_and_queries():
    index = keras_ssl.retrieval.EmbeddingIndex(4, backend="exact")
    vectors = np.eye(4, dtype="float32")
    with pytest.raises(ValueError, match="`vectors` hold"):
        index.add(np.where(np.eye(4) > 0, np.nan, 1.0))
    assert len(index) == 0  # nothing was added
    index.add(vectors)
    with pytest.raises(ValueError, match="`queries` hold"):
        index.search(np.full((1, 4), np.nan), k=1)


def monitored(callback, encoder):
    callback.set_model(types.SimpleNamespace(encoder=encoder))
    callback.set_params({"epochs": 1})
    return callback


def test_monitors_refuse_nan_features(labelled):
    images, labels = labelled
    collapse = monitored(keras_ssl.callbacks.CollapseMonitor(images), nan_encoder())
    with pytest.raises(ValueError, match="Epoch 1: the encoder's features of `images`"):
        collapse.on_epoch_end(0, {})
    knn = monitored(
        keras_ssl.callbacks.KNNMonitor(labelled, labelled, k=3, verbose=0), nan_encoder()
    )
    with pytest.raises(ValueError, match=NOT_FINITE):
        knn.on_epoch_end(0, {})
    assert knn.history == [] and collapse.history == []
