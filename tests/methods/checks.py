"""Checks that method tests share: learning on fixed views, and the method
contract (`tests/methods/test_method_contract.py` runs it on every method of
the registry; a method's own file calls it for a configuration the registry
does not build, such as SwAV with a queue)."""

import json

import keras
import numpy as np
import pytest


def premade_views(model, x):
    return tuple(np.asarray(v) for v in model.augmenter(x, training=True))


def check_fit_lowers_the_loss(model, x, steps=5, epochs=3, margin=0.0, evaluate=True):
    """A few `fit` epochs on fixed pre-made views lower the training loss and,
    with `evaluate`, the `evaluate` loss by more than `margin`. (Losses of
    batch statistics, such as VICReg's covariance, are not comparable in
    inference mode after a few steps: BatchNorm's moving statistics lag.)"""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensors((premade_views(model, x),))
    if evaluate:
        before = model.evaluate(ds, verbose=0, return_dict=True)["loss"]
    history = model.fit(ds.repeat(steps), epochs=epochs, verbose=0).history
    losses = history["loss"]
    assert losses[-1] < losses[0] - margin, losses
    if evaluate:
        after = model.evaluate(ds, verbose=0, return_dict=True)["loss"]
        assert after < before - margin, (before, losses, after)
    assert int(model.step) == steps * epochs
    return history


def state(model):
    """Every variable of the model and of its optimizer, as NumPy, in creation
    order (paths differ between two models of one process: dense_1, dense_5)."""
    variables = model.weights + list(getattr(model.optimizer, "variables", []))
    return [(v.path, np.array(v)) for v in variables]


def assert_same_state(actual, expected, atol=0.0):
    assert len(actual) == len(expected)
    for (_, got), (path, want) in zip(actual, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5 if atol else 0, atol=atol, err_msg=path)


def lookup(model, name):
    """The variable at a dotted attribute path: `"queue.keys"`."""
    for part in name.split("."):
        model = getattr(model, part)
    return np.array(model)


def config_of(model):
    """`get_config()` as JSON reads it back (tuples become lists)."""
    return json.loads(json.dumps(model.get_config(), default=str))


def check_save_load_resumes(model, batches, path, state_names=()):
    """Two steps, a `.keras` round trip, a third step: the loaded model is of
    the same class and config, holds every variable and optimizer slot as
    saved, and its third step gives the original's loss and state. Each of
    `state_names` (dotted attribute paths: `"queue.keys"`) must have changed
    in the two steps, so that the round trip has something to restore."""
    initial = {name: lookup(model, name) for name in state_names}
    for x, y in batches[:2]:
        model.train_on_batch(x, y)
    for name in state_names:
        assert not np.array_equal(lookup(model, name), initial[name]), f"{name} never changed"
    model.save(path)
    loaded = keras.models.load_model(path)
    loaded.run_eagerly = model.run_eagerly  # not saved
    assert type(loaded) is type(model)
    assert config_of(loaded) == config_of(model)
    assert int(loaded.step) == int(model.step) == 2
    assert int(loaded.optimizer.iterations) == 2
    assert_same_state(state(loaded), state(model))
    x, y = batches[2]
    loss_loaded = loaded.train_on_batch(x, y, return_dict=True)["loss"]
    loss_original = model.train_on_batch(x, y, return_dict=True)["loss"]
    assert loss_loaded == pytest.approx(loss_original, rel=1e-5, abs=1e-6)
    assert_same_state(state(loaded), state(model), atol=1e-6)
    return loaded


def check_export_equals_predict(model, images, path):
    """`export_encoder` writes a SavedModel whose `serve` function and
    `load_encoder`'s model give `predict`'s features."""
    import tensorflow as tf

    import keras_ssl

    expected = model.predict(images, verbose=0)
    model.export_encoder(path)
    saved_model = tf.saved_model.load(path)  # keeps its variables alive
    served = saved_model.serve(tf.constant(images, tf.float32))
    np.testing.assert_allclose(np.asarray(served), expected, atol=1e-5)
    encoder = keras_ssl.load_encoder(path)
    np.testing.assert_allclose(encoder.predict(images, verbose=0), expected, atol=1e-5)
    if keras.backend.backend() == "tensorflow":  # a Keras layer only on TensorFlow
        classifier = keras.Sequential([encoder, keras.layers.Dense(3)])
        assert classifier(images).shape == (len(images), 3)
    else:
        assert isinstance(encoder, keras_ssl.methods.export.ExportedEncoder)
    return encoder
