import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.evaluation import embed
from keras_ssl.evaluation import knn_accuracy
from keras_ssl.evaluation import knn_predict
from keras_ssl.evaluation import knn_scores


def l2n(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def reference_knn_scores(query, bank, bank_labels, num_classes, k, temperature):
    """Weighted kNN of Wu et al. (2018), one query at a time, in float64."""
    k = min(k, len(bank))
    scores = np.zeros((len(query), num_classes))
    for i, q in enumerate(query):
        similarity = bank @ q
        for j in np.argsort(-similarity, kind="stable")[:k]:
            scores[i, bank_labels[j]] += np.exp(similarity[j] / temperature)
    return scores


# METHODS.md section 1, weighted kNN fixture.
BANK = l2n([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]])
BANK_LABELS = np.array([0, 0, 1, 1, 2])
QUERY = l2n([[0.7, 0.6]])


def test_methods_fixture():
    scores = knn_scores(QUERY, BANK, BANK_LABELS, 3, k=3, temperature=0.1)
    assert scores.shape == (1, 3) and scores.dtype == np.float32
    np.testing.assert_allclose(scores[0], [5868.12, 1490.05, 0], atol=0.01)
    reference = reference_knn_scores(QUERY, BANK, BANK_LABELS, 3, 3, 0.1)
    np.testing.assert_allclose(scores, reference, rtol=1e-5)
    predictions = knn_predict(QUERY, BANK, BANK_LABELS, 3, k=3, temperature=0.1)
    assert predictions.dtype == np.int32
    np.testing.assert_array_equal(predictions, [0])


def test_k_clipped_to_bank_size():
    scores = knn_scores(QUERY, BANK, BANK_LABELS, 3, k=200, temperature=0.5)
    reference = reference_knn_scores(QUERY, BANK, BANK_LABELS, 3, 5, 0.5)
    np.testing.assert_allclose(scores, reference, rtol=1e-5)


def test_knn_scores_random_and_batched():
    rng = np.random.default_rng(0)
    bank = l2n(rng.normal(size=(300, 16)))
    labels = rng.integers(0, 7, 300)
    query = l2n(rng.normal(size=(50, 16)))
    scores = knn_scores(
        query, bank, labels, 7, k=20, temperature=0.2, batch_size=16
    )
    reference = reference_knn_scores(query, bank, labels, 7, 20, 0.2)
    np.testing.assert_allclose(scores, reference, rtol=1e-4)


def flat_encoder(seed=0, input_shape=(8, 8, 3), dim=16):
    """A fixed random linear encoder of raw images."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(
        dim, kernel_initializer=keras.initializers.RandomNormal(seed=seed)
    )(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def data():
    """Clustered images: each class is a noisy copy of its own prototype."""
    rng = np.random.default_rng(1)
    prototypes = rng.integers(0, 256, (5, 8, 8, 3))

    def split(n):
        y = rng.integers(0, 5, n).astype(np.int32)
        noise = rng.normal(0, 90, (n, 8, 8, 3))
        x = np.clip(prototypes[y] + noise, 0, 255).astype(np.uint8)
        return x, y

    return split(200), split(60)


def test_knn_accuracy_matches_brute_force(data):
    (x_train, y_train), (x_test, y_test) = data
    encoder = flat_encoder()
    accuracy = knn_accuracy(
        encoder, (x_train, y_train), (x_test, y_test), k=10, temperature=0.07
    )
    bank = l2n(encoder.predict(x_train.astype("float32"), verbose=0))
    query = l2n(encoder.predict(x_test.astype("float32"), verbose=0))
    scores = reference_knn_scores(query, bank, y_train, 5, 10, 0.07)
    expected = np.mean(np.argmax(scores, axis=1) == y_test)
    assert isinstance(accuracy, float)
    assert accuracy == pytest.approx(expected)
    assert 0.2 < accuracy <= 1.0


def test_dataset_and_tuple_agree(data):
    (x_train, y_train), (x_test, y_test) = data
    encoder = flat_encoder()

    def batched(x, y):
        return tf.data.Dataset.from_tensor_slices((x, y[:, None])).batch(32)

    from_arrays = knn_accuracy(
        encoder, (x_train, y_train), (x_test, y_test), k=5, batch_size=64
    )
    from_datasets = knn_accuracy(
        encoder, batched(x_train, y_train), batched(x_test, y_test), k=5
    )
    assert from_arrays == from_datasets


def test_embed(data):
    (x_train, y_train), _ = data
    encoder = flat_encoder()
    raw = encoder.predict(x_train.astype("float32"), verbose=0)

    features, labels = embed(encoder, (x_train, y_train), batch_size=64)
    assert features.shape == (200, 16) and features.dtype == np.float32
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, y_train)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(features, l2n(raw), atol=1e-5)

    images_only = tf.data.Dataset.from_tensor_slices(x_train).batch(50)
    features, labels = embed(encoder, images_only, normalize=False)
    assert labels is None
    np.testing.assert_allclose(features, raw, rtol=1e-5, atol=1e-5)


def test_embed_calls_any_callable_on_float32(data):
    (x_train, y_train), _ = data
    seen = []

    def encoder(images):
        seen.append(keras.backend.standardize_dtype(images.dtype))
        return keras.ops.mean(images, axis=(1, 2))

    features, _ = embed(encoder, (x_train, y_train), normalize=False)
    assert set(seen) == {"float32"}
    np.testing.assert_allclose(
        features, x_train.astype(np.float32).mean(axis=(1, 2)), rtol=1e-5
    )


def test_embed_tfsm_layer(data, tmp_path):
    (x_train, y_train), _ = data
    encoder = flat_encoder()
    path = str(tmp_path / "encoder")
    encoder.export(path, verbose=False)
    inputs = keras.Input((8, 8, 3))
    reloaded = keras.Model(
        inputs, keras.layers.TFSMLayer(path, call_endpoint="serve")(inputs)
    )
    expected, _ = embed(encoder, (x_train, y_train))
    features, labels = embed(reloaded, (x_train, y_train))
    np.testing.assert_allclose(features, expected, atol=1e-5)
    np.testing.assert_array_equal(labels, y_train)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k": 0}, "`k` must be an integer >= 1, got k=0"),
        ({"k": 2.5}, "got k=2.5"),
        ({"temperature": 0.0}, "`temperature` must be > 0, got temperature=0.0"),
        ({"temperature": -1}, "got temperature=-1"),
    ],
)
def test_argument_validation(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        knn_accuracy(flat_encoder(), data[0], data[1], **kwargs)
    with pytest.raises(ValueError, match=match):
        knn_predict(QUERY, BANK, BANK_LABELS, 3, **kwargs)


def test_data_validation(data):
    (x_train, y_train), (x_test, y_test) = data
    encoder = flat_encoder()
    with pytest.raises(ValueError, match="`test` must hold labels"):
        knn_accuracy(encoder, (x_train, y_train), (x_test, None))
    with pytest.raises(ValueError, match="num_classes=3"):
        knn_accuracy(encoder, (x_train, y_train), (x_test, y_test), num_classes=3)
    with pytest.raises(ValueError, match=r"shape \(B, H, W, C\)"):
        embed(encoder, (x_train[0], y_train[:8]))
    with pytest.raises(ValueError, match=r"features of shape \(B, D\)"):
        embed(lambda images: images, (x_train, y_train))
