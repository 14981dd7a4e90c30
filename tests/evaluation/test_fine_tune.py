import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl.evaluation import fine_tune
from keras_ssl.evaluation.fine_tune import GradientScale


@pytest.fixture(scope="module")
def sample():
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    return (x_train[:1000], y_train[:1000]), (x_test[:200], y_test[:200])


def tiny_encoder():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x, name="encoder")


def test_gradient_scale_scales_only_the_gradient():
    import tensorflow as tf

    x = tf.constant([[1.0, -2.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = GradientScale(0.1)(x)
        loss = tf.reduce_sum(3.0 * y)
    np.testing.assert_allclose(y, x)
    np.testing.assert_allclose(tape.gradient(loss, x), [[0.3, 0.3]], rtol=1e-6)


def test_fine_tune_on_a_tenth_of_the_labels(sample):
    train, test = sample
    encoder = tiny_encoder()
    before = [np.asarray(w) for w in encoder.weights]
    result = fine_tune(encoder, train, test, fraction=0.1, epochs=15, batch_size=32, verbose=0)
    assert set(result) == {"top1", "top5"}
    assert result["top1"] > 0.15 and result["top5"] > result["top1"]  # chance: 0.1 / 0.5
    for old, new in zip(before, encoder.weights):  # the given encoder is untouched
        np.testing.assert_array_equal(old, np.asarray(new))


def test_fine_tune_dataset_and_exported_encoder_error(sample, tmp_path):
    import tensorflow as tf

    (x, y), test = sample
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    result = fine_tune(tiny_encoder(), train, test, fraction=0.01, epochs=1, verbose=0)
    assert 0.0 <= result["top1"] <= result["top5"] <= 1.0
    model = keras_ssl.SimCLR(tiny_encoder())
    model.export_encoder(str(tmp_path / "encoder"))
    exported = keras_ssl.load_encoder(str(tmp_path / "encoder"))
    with pytest.raises(ValueError, match="inference only"):
        fine_tune(exported, train, test, epochs=1, verbose=0)


def test_bad_input(sample):
    train, test = sample
    with pytest.raises(ValueError, match="keras.Model"):
        fine_tune(lambda x: x, train, test, epochs=1)
    with pytest.raises(ValueError, match="encoder_learning_rate_scale"):
        fine_tune(tiny_encoder(), train, test, encoder_learning_rate_scale=2)
    with pytest.raises(ValueError, match="`test` must hold labels"):
        fine_tune(tiny_encoder(), train, (test[0], None), epochs=1, verbose=0)
