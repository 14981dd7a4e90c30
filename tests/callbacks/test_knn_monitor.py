import keras
import numpy as np
import pytest

from keras_ssl.callbacks import KNNMonitor


class TinyModel(keras.Model):
    """A supervised stand-in for an SSL method: an `encoder` and a head."""

    def __init__(self):
        super().__init__()
        self.encoder = keras.Sequential(
            [
                keras.Input((8, 8, 3)),
                keras.layers.Rescaling(1 / 255.0),
                keras.layers.Flatten(),
                keras.layers.Dense(8),
            ]
        )
        self.head = keras.layers.Dense(3)

    def call(self, images):
        return self.head(self.encoder(images))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 8, 8, 3)).astype(np.uint8)
    y = rng.integers(0, 3, 64).astype(np.int32)
    return (x[:48], y[:48]), (x[48:], y[48:])


def compiled_model():
    model = TinyModel()
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_logs_knn_accuracy(data, capsys):
    (x_train, y_train), test = data
    monitor = KNNMonitor((x_train, y_train), test, k=5)
    history = compiled_model().fit(
        x_train, y_train, epochs=1, batch_size=16, callbacks=[monitor], verbose=0
    )
    accuracy = history.history["knn_accuracy"]
    assert len(accuracy) == 1 and 0.0 <= accuracy[0] <= 1.0
    assert monitor.history == [(1, accuracy[0])]
    assert monitor.best == accuracy[0]
    assert "Epoch 1: knn_accuracy = " in capsys.readouterr().out


def test_every_and_last_epoch(data, capsys):
    (x_train, y_train), test = data
    monitor = KNNMonitor((x_train, y_train), test, k=5, every=2, verbose=0)
    compiled_model().fit(
        x_train, y_train, epochs=3, batch_size=16, callbacks=[monitor], verbose=0
    )
    assert [epoch for epoch, _ in monitor.history] == [2, 3]
    assert monitor.best == max(acc for _, acc in monitor.history)
    assert capsys.readouterr().out == ""


def test_errors(data):
    (x_train, y_train), test = data
    with pytest.raises(ValueError, match="got k=0"):
        KNNMonitor((x_train, y_train), test, k=0)
    with pytest.raises(ValueError, match="got every=0"):
        KNNMonitor((x_train, y_train), test, every=0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten()])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="`encoder` attribute"):
        model.fit(
            x_train,
            np.zeros((48, 192)),
            epochs=1,
            callbacks=[KNNMonitor((x_train, y_train), test)],
            verbose=0,
        )
