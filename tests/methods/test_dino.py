"""DINO: loss over 2 global + local crops vs NumPy, center and temperature
schedules exact, last-layer freeze, learning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl.augmentation import RandomResizedCrop
from keras_ssl.augmentation import ViewAugmenter
from tests import reference
from tests.methods.momentum_utils import sample_images

HEAD = dict(projection_dims=(32, 32, 16), num_prototypes=64)


def multicrop(seed=0):
    """2 global crops of 16 px and 2 local crops of 8 px."""
    sizes = (16, 16, 8, 8)
    scales = ((0.4, 1.0),) * 2 + ((0.05, 0.4),) * 2
    return ViewAugmenter(
        [[RandomResizedCrop(s, s, scale=sc, seed=seed + i)] for i, (s, sc) in enumerate(zip(sizes, scales))]
    )


def build(backbone=None, lr=0.05, **kwargs):
    keras.utils.set_random_seed(1)
    backbone = backbone or keras_ssl.backbones.small_cnn((None, None, 3))
    kwargs = {**HEAD, **kwargs}
    model = keras_ssl.DINO(backbone, augmenter=multicrop(), preprocessing="cifar10", **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9))
    return model


@pytest.fixture(scope="module")
def images():
    return sample_images(128)[0]


def fixed_views(model, images, batches=2, batch_size=16):
    views = [np.asarray(v) for v in model.augmenter(images[: batches * batch_size], training=True)]
    return tf.data.Dataset.from_tensor_slices(tuple(views)).batch(batch_size).map(lambda *v: (v,))


def test_loss_center_and_entropy_against_numpy(images):
    model = build(momentum=1.0)
    (views,) = next(iter(fixed_views(model, images)))
    teacher = np.asarray(model.target(tf.concat(views[:2], 0), training=True))
    outputs = model(views, training=True)
    loss = float(model.compute_loss(x=views, y_pred=outputs, training=True))
    student = [np.asarray(s) for s in outputs["logits"]]
    assert len(student) == 4 and student[2].shape == (16, 64)
    expected = reference.dino(student, np.split(teacher, 2), np.zeros(64), 0.1, 0.04)
    assert loss == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(
        np.asarray(model.center), 0.1 * teacher.mean(axis=0), rtol=1e-5, atol=1e-7
    )
    p = reference.softmax(teacher / 0.04)
    entropy = np.mean(-np.sum(p * np.log(np.maximum(p, 1e-12)), axis=-1))
    assert float(model.teacher_entropy.result()) == pytest.approx(entropy, rel=1e-4, abs=1e-6)
    assert float(model.kl.result()) == pytest.approx(loss - entropy, rel=1e-4, abs=1e-5)


def test_teacher_temperature_schedule():
    schedule = keras_ssl.callbacks.TeacherTemperature()
    expected = np.linspace(0.04, 0.07, 30)
    for epoch in (0, 15, 29):
        assert schedule.temperature(epoch) == pytest.approx(expected[epoch], abs=1e-9)
    assert schedule.temperature(15) == pytest.approx(0.0555172, abs=1e-7)
    assert schedule.temperature(100) == 0.07
    with pytest.raises(ValueError, match="Temperatures"):
        keras_ssl.callbacks.TeacherTemperature(start=0.0)


def test_last_layer_frozen_in_the_first_epoch_and_schedules_set_by_fit(images):
    model = build(warmup_teacher_temperature_epochs=3)
    data = fixed_views(model, images)
    names = sorted(type(c).__name__ for c in model.default_callbacks())
    assert names == ["MomentumSchedule", "TeacherTemperature"]
    direction = np.asarray(model.last_layer.direction).copy()
    first_conv = np.asarray(model.backbone.weights[0]).copy()
    model.fit(data, epochs=1, verbose=0)
    np.testing.assert_array_equal(np.asarray(model.last_layer.direction), direction)
    assert not np.allclose(np.asarray(model.backbone.weights[0]), first_conv)
    model.fit(data, epochs=2, initial_epoch=1, verbose=0)
    assert not np.allclose(np.asarray(model.last_layer.direction), direction)
    assert float(model.teacher_temperature.numpy()) == pytest.approx(0.055, rel=1e-6)
    assert float(model.last_layer.frozen.numpy()) == 0.0


def test_student_learns_against_a_fixed_teacher(images):
    # A fixed teacher (momentum 1, center momentum 1): the student's loss must
    # go down. (With a moving teacher and center, DINO's loss at this scale
    # mostly tracks the teacher's entropy; EMA and center are checked above.)
    model = build(
        lr=0.05,
        momentum=1.0,
        center_momentum=1.0,
        warmup_teacher_temperature_epochs=0,
        teacher_temperature=0.04,
        freeze_prototypes_epochs=0,
    )
    data = fixed_views(model, images, batches=4)
    losses = model.fit(data, epochs=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0] - 0.05, losses


def test_vit_backbone_trains(images):
    vit = keras_ssl.backbones.vit((None, None, 3), patch_size=4, width=16, depth=1, num_heads=2)
    model = build(vit)
    history = model.fit(fixed_views(model, images, batches=1), verbose=0).history
    assert np.isfinite(history["loss"][0]) and int(model.step.numpy()) == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_global_crops"):
        build(num_global_crops=5)
    with pytest.raises(ValueError, match="student_temperature"):
        build(student_temperature=0.0)
