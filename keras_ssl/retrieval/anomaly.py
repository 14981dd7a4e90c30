"""Anomaly detection by distance to the nearest normal embeddings.

Reference:
- [Bergman et al., 2020](https://arxiv.org/abs/2002.10445), "Deep Nearest
  Neighbor Anomaly Detection": the anomaly score of an image is its mean
  distance to its k nearest normal training embeddings (k = 2 there).
"""

import numpy as np

from keras_ssl.retrieval.embedding_index import EmbeddingIndex


def knn_anomaly_scores(index, queries, k=2, exclude_self=False):
    """Anomaly scores: the mean distance of each query to its `k` nearest
    normal embeddings in `index` (higher = more anomalous).

    With a cosine index the distance is `1 - cosine similarity`, with an l2
    index the Euclidean distance (docs/methods.md, Downstream uses). Score images
    without augmentation; threshold at a high percentile (95th-99th) of the
    scores of held-out normal images.

    Args:
        index: a `keras_ssl.retrieval.EmbeddingIndex` of normal embeddings.
        queries: `(Q, D)` embeddings to score.
        k: neighbours to average, 1 to 10 usually. Default 2 (Bergman et al.).
        exclude_self: the queries are members of the index (scoring the bank
            itself): skip each query's nearest entry, itself.

    Returns:
        float32 NumPy array `(Q,)`.

    Example:

    ```python
    index = keras_ssl.retrieval.EmbeddingIndex(dim).add(normal_features)
    scores = keras_ssl.retrieval.knn_anomaly_scores(index, test_features)
    keras_ssl.retrieval.auroc(scores, test_is_anomaly)
    ```
    """
    skip = 1 if exclude_self else 0
    scores, _ = index.search(queries, k=k + skip)
    scores = scores[:, skip:]
    if index.metric == "cosine":
        scores = 1.0 - scores
    return np.mean(scores, axis=1).astype(np.float32)


def auroc(scores, is_positive):
    """Area under the ROC curve of `scores` for the binary `is_positive`.

    The probability that a random positive scores higher than a random
    negative, ties counting one half (the Mann-Whitney U statistic).

    Args:
        scores: `(N,)` scores, higher = more likely positive (anomalous).
        is_positive: `(N,)` booleans or 0/1.

    Returns:
        A float in [0, 1]; 0.5 is chance.
    """
    scores = np.reshape(np.asarray(scores, np.float64), (-1,))
    is_positive = np.reshape(np.asarray(is_positive), (-1,)).astype(bool)
    if scores.shape != is_positive.shape:
        raise ValueError(
            f"`scores` and `is_positive` must have the same length, got "
            f"{scores.shape[0]} and {is_positive.shape[0]}."
        )
    positives = int(is_positive.sum())
    negatives = len(is_positive) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(
            "`is_positive` must hold both classes, got "
            f"{positives} positives and {negatives} negatives."
        )
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks (1-based) over runs of tied scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    rank_sum = ranks[is_positive].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def one_class_aurocs(train, test, k=2, return_scores=False):
    """One-class anomaly detection, each class taken as normal in turn.

    For each label of `train`: an index of that class's training features,
    `knn_anomaly_scores` of every test feature, and the AUROC of those scores
    with the test examples of the other classes as anomalies (the one-class
    CIFAR-10 protocol).

    Args:
        train: `(features, labels)` of the training set, `(N, D)` and `(N,)`.
        test: `(features, labels)` of the test set.
        k: neighbours averaged per score.
        return_scores: also return `{label: (Q,) scores}`.

    Returns:
        `{label: AUROC}` (and the scores when `return_scores`).

    Example:

    ```python
    train = keras_ssl.evaluation.embed(encoder, (x_train, y_train))
    test = keras_ssl.evaluation.embed(encoder, (x_test, y_test))
    aurocs = keras_ssl.retrieval.one_class_aurocs(train, test)
    ```
    """
    (bank, bank_labels), (queries, labels) = train, test
    bank_labels = np.reshape(np.asarray(bank_labels), (-1,))
    labels = np.reshape(np.asarray(labels), (-1,))
    aurocs, scores = {}, {}
    for label in np.unique(bank_labels):
        index = EmbeddingIndex(np.shape(bank)[1])
        index.add(np.asarray(bank)[bank_labels == label])
        scores[int(label)] = knn_anomaly_scores(index, queries, k=k)
        aurocs[int(label)] = auroc(scores[int(label)], labels != label)
    return (aurocs, scores) if return_scores else aurocs
