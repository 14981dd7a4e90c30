import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl.callbacks.collapse_monitor import effective_rank
from keras_ssl.callbacks.collapse_monitor import embedding_std


def test_statistics_on_known_embeddings():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(4000, 64))
    assert embedding_std(spread) == pytest.approx(1 / np.sqrt(64), rel=0.02)
    collapsed = np.ones((100, 64)) + 1e-9 * rng.normal(size=(100, 64))
    assert embedding_std(collapsed) < 1e-8
    # Two orthogonal directions with equal energy: effective rank 2.
    two = np.concatenate([np.eye(8)[[0, 1]], -np.eye(8)[[0, 1]]])
    assert effective_rank(two) == pytest.approx(2.0, rel=1e-6)
    assert effective_rank(spread) > 60
    assert effective_rank(np.ones((5, 3))) == 1.0


class Constant(keras.layers.Layer):
    """A backbone head that collapses every image to one embedding."""

    def call(self, x):
        return keras.ops.zeros_like(x) + 1.0


def test_logs_and_warns_on_collapse():
    (x, _), _ = keras_ssl.data.load_sample()
    inputs = keras.Input((16, 16, 3))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    backbone = keras.Model(inputs, Constant()(features))
    model = keras_ssl.SimSiam(backbone, projection_dims=(8, 8))
    model.compile(optimizer="sgd")
    monitor = keras_ssl.callbacks.CollapseMonitor(x[:32, :16, :16])
    monitor.set_model(model)
    monitor.params = {"epochs": 1}
    logs = {}
    with pytest.warns(UserWarning, match="collapsing"):
        monitor.on_epoch_end(0, logs)
    assert logs["embedding_std"] < 1e-6 and logs["effective_rank"] == pytest.approx(1.0)
    assert monitor.history[0][0] == 1


def test_healthy_encoder_does_not_warn_and_fit_logs(recwarn):
    (x, _), _ = keras_ssl.data.load_sample()
    model = keras_ssl.SimSiam(keras_ssl.backbones.small_cnn((16, 16, 3)), projection_dims=(8, 8))
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    monitor = keras_ssl.callbacks.CollapseMonitor(x[:64, :16, :16], every=2)
    import tensorflow as tf

    views = tuple(np.asarray(v) for v in model.augmenter(x[:16], training=True))
    data = tf.data.Dataset.from_tensors((views,))  # pre-made: no augmenter trace
    history = model.fit(data, epochs=1, verbose=0, callbacks=[monitor])
    assert "embedding_std" in history.history and "effective_rank" in history.history
    assert not [w for w in recwarn if "collapsing" in str(w.message)]
    assert history.history["effective_rank"][0] > 1.5


def test_argument_errors():
    with pytest.raises(ValueError, match="every"):
        keras_ssl.callbacks.CollapseMonitor(np.zeros((4, 8, 8, 3)), every=0)
    with pytest.raises(ValueError, match="at least 2 images"):
        keras_ssl.callbacks.CollapseMonitor(np.zeros((8, 8, 3)))
