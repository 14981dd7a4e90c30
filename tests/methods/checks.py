"""Checks every method's tests run: learning, save/load resume, export."""

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


def check_save_load_resumes(model, x, path):
    """`.keras` round-trip restores every variable and training resumes with
    the same next-step loss. Trains on pre-made views: tracing the augmenter
    would dominate the test's time."""
    views = premade_views(model, x[:48])
    batches = [tuple(v[i : i + 16] for v in views) for i in (0, 16, 32)]
    for batch in batches[:2]:  # train_on_batch: one trace, shared with the resume
        model.train_on_batch(batch)
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    assert int(loaded.step) == int(model.step) == 2
    assert int(loaded.optimizer.iterations) == 2
    for w1, w2 in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(np.asarray(w1), np.asarray(w2), atol=1e-6, err_msg=w1.path)
    loss_loaded = loaded.train_on_batch(batches[2], return_dict=True)["loss"]
    loss_original = model.train_on_batch(batches[2], return_dict=True)["loss"]
    assert loss_loaded == pytest.approx(loss_original, rel=1e-4, abs=1e-6)
    for w1, w2 in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(np.asarray(w1), np.asarray(w2), atol=1e-5, err_msg=w1.path)
    return loaded


def check_export_round_trip(model, x, path):
    """`export_encoder` + `load_encoder` equal `predict`."""
    import keras_ssl

    expected = model.predict(x, verbose=0)
    model.export_encoder(path)
    encoder = keras_ssl.load_encoder(path)
    np.testing.assert_allclose(
        encoder.predict(x.astype("float32"), verbose=0), expected, atol=1e-5
    )
