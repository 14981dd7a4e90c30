"""The timing helpers the benchmarks share (`benchmarks/timing.py`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import timing


def test_fit_step_seconds_times_the_steps_after_warmup():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = tf.data.Dataset.from_tensors((np.ones((8, 4), "float32"), np.ones((8, 1), "float32")))
    times = timing.fit_step_seconds(model, data, steps=3, warmup=2)
    assert len(times) == 3 and all(t > 0 for t in times)
    # A second call reuses the traced step and times as many steps.
    assert len(timing.fit_step_seconds(model, data, steps=2, warmup=1)) == 2


def test_augmentation_seconds_times_each_call():
    def augmenter(images, training):
        return (tf.cast(images, "float32"), tf.reverse(images, axis=[2]))

    images = np.zeros((4, 16, 16, 3), "uint8")
    times = timing.augmentation_seconds(augmenter, images, steps=2, warmup=1)
    assert len(times) == 2 and all(t > 0 for t in times)


def test_supervised_model_classifies_with_the_backbone():
    model = timing.supervised_model((16, 16, 3), "small_cnn")
    assert model.output_shape == (None, 10)
    assert model.layers[1].name == "small_cnn"


def test_make_backbone_rejects_unknown_names():
    assert timing.make_backbone("resnet18", (32, 32, 3)).output_shape == (None, 512)
    with pytest.raises(ValueError, match="backbone='vgg'"):
        timing.make_backbone("vgg", (32, 32, 3))


def test_forward_only_model_runs_batch_norm_in_training_and_updates_no_weight():
    model = timing.forward_only_model((16, 16, 3), "small_cnn")
    assert model.trainable_weights == []
    kernels = [np.array(w) for w in model.weights if "kernel" in w.path]
    bn = model.layers[1].get_layer("block1_bn")
    moving_mean = np.array(bn.moving_mean)
    x = np.random.default_rng(0).uniform(0, 255, (8, 16, 16, 3)).astype("float32")
    data = tf.data.Dataset.from_tensors((x, np.zeros(8, "int32")))
    assert len(timing.fit_step_seconds(model, data, steps=1, warmup=1)) == 1
    for before, w in zip(kernels, [w for w in model.weights if "kernel" in w.path]):
        np.testing.assert_array_equal(before, np.array(w))
    assert np.abs(np.array(bn.moving_mean) - moving_mean).max() > 0


def test_matmul_seconds_times_each_product():
    times = timing.matmul_seconds((4, 8, 16), steps=2, warmup=1)
    assert len(times) == 2 and all(t > 0 for t in times)
