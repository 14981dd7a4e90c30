import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.evaluation import knn_accuracy
from keras_ssl.evaluation import linear_probe
from keras_ssl.evaluation.linear_probe import top1_top5

sklearn = pytest.importorskip("sklearn", reason="scikit-learn (dev extra) checks the probe")


def identity_encoder(dim):
    """Images `(B, 1, 1, dim)` -> features `(B, dim)`: the data are features."""
    inputs = keras.Input((1, 1, dim))
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


@pytest.fixture(scope="module")
def gaussians():
    """Four overlapping Gaussian classes in 8-D: neither task is trivial."""
    rng = np.random.default_rng(0)
    means = rng.normal(0, 1.2, (4, 8))

    def split(n):
        y = rng.integers(0, 4, n).astype(np.int32)
        x = means[y] + rng.normal(0, 1, (n, 8)) + 3.0
        return x.reshape(n, 1, 1, 8).astype(np.float32), y

    return split(1000), split(2000)


def test_top1_top5():
    logits = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5]])
    result = top1_top5(logits, np.array([1, 2, 0]))
    assert result == {"top1": pytest.approx(1 / 3), "top5": 1.0}


def test_linear_probe_agrees_with_sklearn_logistic_regression(gaussians):
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = gaussians
    keras.utils.set_random_seed(0)
    result = linear_probe(
        identity_encoder(8), (x_train, y_train), (x_test, y_test), verbose=0
    )
    classifier = LogisticRegression(C=1e4, max_iter=1000)
    classifier.fit(x_train.reshape(-1, 8), y_train)
    expected = classifier.score(x_test.reshape(-1, 8), y_test)
    assert 0.5 < expected < 0.95  # a task where the probes can disagree
    assert abs(result["top1"] - expected) <= 0.01, (result, expected)
    assert result["top5"] == 1.0  # 4 classes: top-5 covers them all


def test_knn_agrees_with_sklearn_brute_force(gaussians):
    from sklearn.neighbors import KNeighborsClassifier

    (x_train, y_train), (x_test, y_test) = gaussians
    accuracy = knn_accuracy(
        identity_encoder(8), (x_train, y_train), (x_test, y_test), k=20, temperature=0.1
    )
    classifier = KNeighborsClassifier(
        n_neighbors=20,
        metric="cosine",
        algorithm="brute",
        weights=lambda distance: np.exp((1 - distance) / 0.1),
    )
    classifier.fit(x_train.reshape(-1, 8), y_train)
    expected = classifier.score(x_test.reshape(-1, 8), y_test)
    assert abs(accuracy - expected) <= 0.01, (accuracy, expected)


def test_linear_probe_on_datasets_and_exported_encoder(gaussians, tmp_path):
    (x_train, y_train), (x_test, y_test) = gaussians
    encoder = identity_encoder(8)
    path = str(tmp_path / "encoder")
    encoder.export(path, verbose=False)
    inputs = keras.Input((1, 1, 8))
    exported = keras.Model(inputs, keras.layers.TFSMLayer(path, call_endpoint="serve")(inputs))

    def batched(x, y):
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(500)

    results = []
    for model, train, test in (
        (encoder, (x_train, y_train), (x_test, y_test)),
        (exported, batched(x_train, y_train), batched(x_test, y_test)),
    ):
        keras.utils.set_random_seed(0)
        results.append(linear_probe(model, train, test, epochs=3, verbose=0))
    assert results[0]["top1"] == pytest.approx(results[1]["top1"], abs=0.01)


def test_linear_probe_bad_input(gaussians):
    (x_train, y_train), (x_test, y_test) = gaussians
    encoder = identity_encoder(8)
    with pytest.raises(ValueError, match="`test` must hold labels"):
        linear_probe(encoder, (x_train, y_train), (x_test, None), verbose=0)
    with pytest.raises(ValueError, match=r"num_classes=3"):
        linear_probe(encoder, (x_train, y_train), (x_test, y_test), num_classes=3)
    with pytest.raises(ValueError, match="epochs=0"):
        linear_probe(encoder, (x_train, y_train), (x_test, y_test), epochs=0)
