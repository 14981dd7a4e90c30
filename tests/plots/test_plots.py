import numpy as np
import pytest

import keras_ssl

pytest.importorskip("matplotlib", reason="matplotlib (plots extra) draws the figures")


def read_png(path):
    import tensorflow as tf

    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return tf.io.decode_png(data).numpy()


def test_training_curves(tmp_path):
    history = {
        "loss": [5.0, 4.2, 3.9],
        "val_loss": [5.1, 4.5, 4.1],
        "probe_accuracy": [0.2, 0.3, 0.35],
    }
    path = str(tmp_path / "curves.png")
    keras_ssl.plots.save_training_curves(history, path, title="SimCLR")
    image = read_png(path)
    assert image.shape[0] > 200 and image.shape[1] > 500
    assert image.std() > 10  # not a blank canvas
    with pytest.raises(ValueError, match="no metrics"):
        keras_ssl.plots.save_training_curves({}, path)


def test_training_curves_from_history(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 2)), np.zeros(8), epochs=2, verbose=0)
    path = str(tmp_path / "curves.png")
    keras_ssl.plots.save_training_curves(history, path)
    read_png(path)


@pytest.fixture
def one_openmp_thread():
    """t-SNE's OpenMP threads spin against TensorFlow's on a small shared
    machine (86 s instead of 0.3 s for 60 points): one thread in tests."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


def test_embedding_map(tmp_path, one_openmp_thread):
    pytest.importorskip("sklearn", reason="t-SNE comes from scikit-learn (plots extra)")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    features = rng.normal(size=(60, 8)) + 4 * np.eye(8)[labels]
    points = keras_ssl.plots.embedding_map(features)
    assert points.shape == (60, 2) and points.dtype == np.float32
    centres = np.stack([points[labels == c].mean(0) for c in range(3)])
    spread = np.mean([points[labels == c].std(0).mean() for c in range(3)])
    assert np.min(np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(3, 1)]) > spread
    path = str(tmp_path / "map.png")
    keras_ssl.plots.save_embedding_map(features, labels, path, class_names=["a", "b", "c"])
    assert read_png(path).std() > 10
    with pytest.raises(ValueError, match="N >= 5"):
        keras_ssl.plots.embedding_map(features[:3])
