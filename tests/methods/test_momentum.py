"""MomentumModel mechanics: exact EMA, schedule, stopped gradients, target BN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from tests import reference
from tests.utils import is_zero
from tests.utils import variable_gradients
from tests.methods.momentum_utils import HEADS
from tests.methods.momentum_utils import build
from tests.methods.momentum_utils import fixed_views
from tests.methods.momentum_utils import online_and_target
from tests.methods.momentum_utils import sample_images


@pytest.fixture(scope="module")
def images():
    return sample_images()[0]


class RecordOnline(keras.callbacks.Callback):
    """The online weights each step's EMA reads (before the step's update)."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_begin(self, batch, logs=None):
        online, _ = online_and_target(self.model)
        self.steps.append([np.asarray(w) for w in online])


def test_ema_follows_the_numpy_recurrence_with_the_cosine_schedule(images):
    model = build(keras_ssl.BYOL, momentum=0.9, **HEADS)
    online, target = online_and_target(model)
    trainable = [w.trainable for w in online]
    expected = [np.asarray(w, np.float64) for w in online]
    for o, t in zip(online, target):
        np.testing.assert_array_equal(np.asarray(o), np.asarray(t))  # copied at init
    recorder = RecordOnline()
    model.fit(fixed_views(model, images), epochs=2, verbose=0, callbacks=[recorder])
    total = 8  # epochs x steps, set by the MomentumSchedule that fit added
    assert int(model.momentum_steps.numpy()) == total and int(model.step.numpy()) == total
    for k, weights in enumerate(recorder.steps):
        m = reference.cosine_momentum(k, total, 0.9)
        for i, w in enumerate(weights):
            if trainable[i]:
                expected[i] = m * expected[i] + (1 - m) * w
    for i, t in enumerate(target):
        if trainable[i]:
            np.testing.assert_allclose(np.asarray(t), expected[i], rtol=1e-6, atol=1e-6)
    assert float(model.momentum.numpy()) == pytest.approx(
        reference.cosine_momentum(7, total, 0.9), rel=1e-6
    )
    assert not model.target_encoder.trainable_weights
    assert not model.target_projector.trainable_weights


class TargetRegression(keras_ssl.MomentumModel):
    """A new momentum method that never calls `update_target` itself."""

    recipe_name = "byol"
    momentum_schedule = "constant"

    def __init__(self, backbone, **kwargs):
        super().__init__(backbone, **kwargs)
        self.projector = keras_ssl.layers.mlp(self.feature_dim, (16, 8), name="projector")
        self.build_target()
        self.built = True

    def forward(self, views, training):
        return dict(self.project_views(views, training), views=views)

    def compute_ssl_loss(self, outputs, training):
        target = self.target(outputs["views"][1], training=training)
        return keras.ops.mean(keras.ops.square(outputs["projections"][0] - target))


def test_a_new_momentum_method_gets_its_target_updated_by_the_base_class(images):
    model = build(TargetRegression, momentum=0.75)
    assert model.default_callbacks() == []  # constant: no MomentumSchedule
    online, target = online_and_target(model)
    trainable = [w.trainable for w in online]
    expected = [np.asarray(w, np.float64) for w in target]
    recorder = RecordOnline()
    model.fit(fixed_views(model, images), epochs=1, verbose=0, callbacks=[recorder])
    assert len(recorder.steps) == 4 and int(model.step.numpy()) == 4
    for weights in recorder.steps:
        for i, w in enumerate(weights):
            if trainable[i]:
                expected[i] = 0.75 * expected[i] + 0.25 * w
    for i, t in enumerate(target):
        if trainable[i]:
            np.testing.assert_allclose(np.asarray(t), expected[i], rtol=1e-6, atol=1e-6)
    assert float(model.momentum.numpy()) == 0.75
    assert "momentum_schedule" not in model.get_config()


def test_schedule_matches_methods_md_fixture():
    model = build(keras_ssl.BYOL, momentum=0.996, **HEADS)
    model.momentum_steps.assign(400)
    expected = {0: 0.996, 100: 0.9965858, 200: 0.998, 300: 0.9994142, 400: 1.0, 500: 1.0}
    for k, m in expected.items():
        assert float(model.momentum_at(k)) == pytest.approx(m, abs=1e-7)


def test_no_gradient_reaches_the_target(images):
    model = build(keras_ssl.BYOL, **HEADS)
    views = next(iter(fixed_views(model, images)))[0]
    _, target = online_and_target(model)
    def loss():
        outputs = model(views, training=True)
        return model.compute_loss(x=views, y_pred=outputs, training=True)

    grads = variable_gradients(loss, model.trainable_weights + list(target))
    online, to_target = grads[: len(model.trainable_weights)], grads[len(model.trainable_weights) :]
    assert all(is_zero(g) for g in to_target)
    assert not any(is_zero(g) for g in online)
    trained = {id(w) for w in model.trainable_weights}
    assert not any(id(t) in trained for t in target)


def test_target_bn_statistics_change_only_by_its_own_forward_pass(images):
    # m = 1: the EMA leaves the target's weights as they are, so its key
    # forward pass is reproducible by a copy of the target.
    model = build(keras_ssl.BYOL, momentum=1.0, **HEADS)
    views = next(iter(fixed_views(model, images)))[0]
    copy = keras.models.clone_model(model.target_encoder)
    copy.set_weights(model.target_encoder.get_weights())
    def moving(network):
        return [w for w in network.weights if "moving" in w.name]

    online_bn_before = [np.asarray(w) for w in moving(model.encoder)]
    for view in views:  # the target sees view 1 then view 2, in training mode
        copy(view, training=True)
    model.fit(tf.data.Dataset.from_tensors((views,)), verbose=0)
    assert len(moving(copy)) == 8  # small_cnn: 4 BatchNorms
    for t, c in zip(moving(model.target_encoder), moving(copy)):
        np.testing.assert_allclose(np.asarray(t), np.asarray(c), rtol=1e-5, atol=1e-6)
    for t, o in zip(moving(model.target_encoder), online_bn_before):
        assert not np.allclose(np.asarray(t), o)  # its own statistics, not the online ones
    # evaluate runs the target in inference mode: nothing changes
    before = [np.asarray(w) for w in model.target_encoder.weights]
    model.evaluate(tf.data.Dataset.from_tensors((views,)), verbose=0)
    for t, b in zip(model.target_encoder.weights, before):
        np.testing.assert_array_equal(np.asarray(t), b)
    assert int(model.step.numpy()) == 1


def test_momentum_schedule_callback_and_errors():
    with pytest.raises(ValueError, match="total_steps"):
        keras_ssl.callbacks.MomentumSchedule(total_steps=0)
    with pytest.raises(ValueError, match="momentum"):
        build(keras_ssl.BYOL, momentum=1.5, **HEADS)
    model = build(keras_ssl.BYOL, **HEADS)
    assert [type(c).__name__ for c in model.default_callbacks()] == ["MomentumSchedule"]
    schedule = keras_ssl.callbacks.MomentumSchedule(total_steps=123)
    schedule.set_model(model)
    schedule.on_train_begin()
    assert int(model.momentum_steps.numpy()) == 123


@pytest.mark.parametrize("method", ["byol", "moco_v2"])
def test_lambda_backbone_clones_without_touching_safe_mode(method):
    """A backbone with a `Lambda` layer (already in memory) gets a target
    network and trains, without `enable_unsafe_deserialization`: a later
    `load_model` of an untrusted file still refuses Python code."""
    from keras.src.saving import serialization_lib

    safe_mode = serialization_lib.in_safe_mode()
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Lambda(lambda t: t * 0.5, name="halve")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    backbone = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    keras.utils.set_random_seed(0)
    if method == "byol":
        model = keras_ssl.BYOL(backbone, projection_dims=(8, 4), prediction_dims=(8, 4))
    else:
        model = keras_ssl.MoCo(backbone, version=2, projection_dims=(8, 4), queue_size=16)
    target_lambda = model.target_encoder.get_layer(backbone.name).get_layer("halve")
    assert target_lambda is not backbone.get_layer("halve")  # a clone, same function
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    images = np.random.default_rng(0).integers(0, 256, (8, 16, 16, 3)).astype("uint8")
    history = model.fit(images, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and int(model.step) == 1
    assert serialization_lib.in_safe_mode() == safe_mode
    config = keras.saving.serialize_keras_object(keras.layers.Lambda(lambda t: t))
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.deserialize_keras_object(config)
