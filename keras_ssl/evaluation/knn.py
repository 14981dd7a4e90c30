"""Weighted k-nearest-neighbour evaluation of frozen features.

Reference:
- [Wu et al., 2018](https://arxiv.org/abs/1805.01978), "Unsupervised Feature
  Learning via Non-Parametric Instance Discrimination", section 3.5.
"""

import keras
import numpy as np
from keras import ops

from keras_ssl.evaluation.batches import image_label_batches
from keras_ssl.evaluation.checks import check_finite
from keras_ssl.evaluation.checks import check_knn_args


def _encode(encoder, images):
    if isinstance(encoder, keras.Model):
        return encoder.predict_on_batch(images)
    if isinstance(encoder, keras.layers.Layer):
        return encoder(images, training=False)
    return encoder(images)


def embed(encoder, data, batch_size=256, normalize=True, verbose=0):
    """Compute the features of a dataset with a frozen encoder.

    Args:
        encoder: a callable from raw images, float32 in [0, 255] of shape
            `(B, H, W, C)`, to features `(B, D)`: `model.encoder`, a model
            returned by `keras_ssl.load_encoder`, any `keras.Model` or
            function. Keras models and layers run in inference mode.
        data: a batched `tf.data.Dataset` of `(images, labels)` or of
            `images`, or an `(x, y)` tuple of arrays (`y` may be `None`).
        batch_size: batch size used to split `(x, y)` arrays.
        normalize: whether to l2-normalize each feature vector.
        verbose: 1 shows a progress bar over the batches.

    Returns:
        `(features, labels)`: float32 NumPy `(N, D)` and int32 `(N,)`, or
        `None` for labels when the data has none.

    Example:

    ```python
    (x, y), _ = keras_ssl.data.load_sample()
    features, labels = keras_ssl.evaluation.embed(model.encoder, (x, y))
    ```
    """
    features, labels = [], []
    progress = keras.utils.Progbar(None, verbose=verbose, unit_name="batch")
    for images, batch_labels in image_label_batches(data, batch_size):
        if len(ops.shape(images)) != 4:
            raise ValueError(
                "`data` must hold batches of images of shape (B, H, W, C), "
                f"got a batch of shape {tuple(ops.shape(images))}."
            )
        batch = _encode(encoder, ops.cast(images, "float32"))
        batch = ops.cast(batch, "float32")
        if len(ops.shape(batch)) != 2:
            raise ValueError(
                "`encoder` must return features of shape (B, D), got shape "
                f"{tuple(ops.shape(batch))}."
            )
        if normalize:
            norm = ops.norm(batch, axis=-1, keepdims=True)
            batch = batch / ops.maximum(norm, 1e-12)
        features.append(ops.convert_to_numpy(batch))
        if batch_labels is not None:
            labels.append(np.reshape(ops.convert_to_numpy(batch_labels), (-1,)))
        progress.add(1)
    if not features:
        raise ValueError("`data` is empty.")
    labels = np.concatenate(labels).astype(np.int32) if labels else None
    features = check_finite(
        np.concatenate(features), "The features `encoder` gives for `data`"
    )
    return features, labels


def knn_scores(
    query_features,
    bank_features,
    bank_labels,
    num_classes,
    k=200,
    temperature=0.1,
    batch_size=1024,
):
    """Class scores of the weighted kNN classifier (Wu et al., 2018).

    For each query, the `k` bank entries of highest cosine similarity `s`
    vote for their class with weight `exp(s / temperature)`; the score of a
    class is the sum of its votes.

    Args:
        query_features: `(N, D)` l2-normalized features to classify.
        bank_features: `(M, D)` l2-normalized features of labelled examples,
            usually the whole training set.
        bank_labels: `(M,)` integer labels in `[0, num_classes)`.
        num_classes: number of classes.
        k: number of neighbours, clipped to `M`. Default 200 (lightly's
            CIFAR-10 protocol; Wu et al. use 200 too).
        temperature: softmax temperature of the votes. Default 0.1 (lightly;
            Wu et al. use 0.07).
        batch_size: queries per step; memory grows as
            `batch_size * (M + k * num_classes)`.

    Returns:
        float32 NumPy array `(N, num_classes)`.
    """
    check_knn_args(k, temperature)
    check_finite(query_features, "`query_features`")
    check_finite(bank_features, "`bank_features`")
    bank_labels = np.reshape(np.asarray(bank_labels), (-1,)).astype(np.int32)
    if not 0 <= bank_labels.min() <= bank_labels.max() < num_classes:
        raise ValueError(
            f"`bank_labels` must lie in [0, num_classes={num_classes}), got "
            f"values in [{bank_labels.min()}, {bank_labels.max()}]."
        )
    bank = ops.convert_to_tensor(bank_features, dtype="float32")
    bank_labels = ops.convert_to_tensor(bank_labels)
    k = min(int(k), int(ops.shape(bank)[0]))
    scores = []
    for start in range(0, len(query_features), batch_size):
        query = ops.convert_to_tensor(
            query_features[start : start + batch_size], dtype="float32"
        )
        similarity = ops.matmul(query, ops.transpose(bank))
        top_similarity, top_index = ops.top_k(similarity, k)
        weights = ops.exp(top_similarity / temperature)
        votes = ops.one_hot(ops.take(bank_labels, top_index), num_classes)
        scores.append(
            ops.convert_to_numpy(ops.sum(votes * weights[..., None], axis=1))
        )
    return np.concatenate(scores)


def knn_predict(
    query_features,
    bank_features,
    bank_labels,
    num_classes,
    k=200,
    temperature=0.1,
    batch_size=1024,
):
    """Predict labels with the weighted kNN classifier (Wu et al., 2018).

    The arg-max of `knn_scores`; see there for the arguments.

    Returns:
        int32 NumPy array `(N,)` of predicted labels.

    Example:

    ```python
    bank, bank_labels = keras_ssl.evaluation.embed(encoder, (x_train, y_train))
    query, _ = keras_ssl.evaluation.embed(encoder, (x_test, None))
    predictions = keras_ssl.evaluation.knn_predict(query, bank, bank_labels, 10)
    ```
    """
    scores = knn_scores(
        query_features,
        bank_features,
        bank_labels,
        num_classes,
        k=k,
        temperature=temperature,
        batch_size=batch_size,
    )
    return np.argmax(scores, axis=-1).astype(np.int32)


def knn_accuracy(
    encoder,
    train,
    test,
    k=200,
    temperature=0.1,
    batch_size=256,
    num_classes=None,
):
    """Top-1 accuracy of the weighted kNN classifier on frozen features.

    The standard quick evaluation of self-supervised features (Wu et al.,
    2018): embed and l2-normalize the training set as the bank, classify
    each test image by a temperature-weighted vote of its `k` nearest
    neighbours (cosine similarity), report top-1 accuracy. Images are used
    as given: no augmentation.

    Args:
        encoder: a callable from raw images in [0, 255] to features, e.g.
            `model.encoder` or `keras_ssl.load_encoder(path)`.
        train: labelled bank data, a dataset of `(images, labels)` batches or
            an `(x, y)` tuple of arrays.
        test: labelled query data, in the same forms.
        k: number of neighbours. Default 200.
        temperature: temperature of the votes, > 0. Default 0.1.
        batch_size: batch size for embedding arrays.
        num_classes: number of classes; inferred as the largest label + 1
            when `None`.

    Returns:
        Top-1 accuracy, a float in [0, 1].

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    keras_ssl.evaluation.knn_accuracy(
        model.encoder, (x_train, y_train), (x_test, y_test)
    )
    ```
    """
    check_knn_args(k, temperature)
    bank, bank_labels = embed(encoder, train, batch_size=batch_size)
    query, query_labels = embed(encoder, test, batch_size=batch_size)
    for name, labels in (("train", bank_labels), ("test", query_labels)):
        if labels is None:
            raise ValueError(f"`{name}` must hold labels: `(images, labels)`.")
    if num_classes is None:
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    predictions = knn_predict(
        query, bank, bank_labels, num_classes, k=k, temperature=temperature
    )
    return float(np.mean(predictions == query_labels))
