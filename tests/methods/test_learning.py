"""Slow learning check: a short SimCLR pretraining on real images beats the
random-init kNN floor of the same backbone (runs in CI)."""

import keras
import numpy as np
import pytest

import keras_ssl


@pytest.mark.slow
def test_short_pretraining_beats_random_init_knn():
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    keep = np.concatenate([np.flatnonzero(y_train == c)[:200] for c in range(10)])
    train, test = (x_train[keep], y_train[keep]), (x_test, y_test)
    keras.utils.set_random_seed(0)
    model = keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((32, 32, 3)))
    floor = keras_ssl.evaluation.knn_accuracy(model.encoder, train, test)
    epochs, batch_size = 6, 128
    steps = epochs * (len(keep) // batch_size)
    model.compile(
        optimizer=keras.optimizers.SGD(
            keras.optimizers.schedules.CosineDecay(0.06, steps), momentum=0.9, weight_decay=5e-4
        )
    )
    history = model.fit(train[0], batch_size=batch_size, epochs=epochs, verbose=0)
    accuracy = keras_ssl.evaluation.knn_accuracy(model.encoder, train, test)
    losses = history.history["loss"]
    print(f"kNN floor {floor:.4f} -> {accuracy:.4f}; losses {losses}")
    assert losses[-1] < losses[0], losses
    assert accuracy > floor + 0.02, (floor, accuracy, losses)
