"""Retrieval metrics."""

import numpy as np


def recall_at_k(query_labels, retrieved_labels, k):
    """Recall@k: the share of queries with at least one of their `k` first
    results of the query's own label (the retrieval metric of docs/methods.md,
    Downstream uses, as in deep metric learning).

    Args:
        query_labels: `(Q,)` labels of the queries.
        retrieved_labels: `(Q, K)` labels of each query's results, nearest
            first, `K >= k` (e.g. `labels[ids]` of `EmbeddingIndex.search`).
        k: results to look at.

    Returns:
        A float in [0, 1].

    Example:

    ```python
    _, ids = index.search(query_features, k=5)
    keras_ssl.retrieval.recall_at_k(query_labels, bank_labels[ids], k=1)
    ```
    """
    query_labels = np.reshape(np.asarray(query_labels), (-1, 1))
    retrieved_labels = np.asarray(retrieved_labels)
    if retrieved_labels.ndim != 2 or len(retrieved_labels) != len(query_labels):
        raise ValueError(
            f"`retrieved_labels` must have shape (Q={len(query_labels)}, K), got "
            f"shape {retrieved_labels.shape}."
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= retrieved_labels.shape[1]:
        raise ValueError(
            f"`k` must be an integer in [1, {retrieved_labels.shape[1]}] (results "
            f"per query), got k={k!r}."
        )
    hits = np.any(retrieved_labels[:, :k] == query_labels, axis=1)
    return float(np.mean(hits))
