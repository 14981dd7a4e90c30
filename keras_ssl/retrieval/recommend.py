"""Item-to-item recommendation from image embeddings."""

import numpy as np


def recommend(index, liked, k=10, exclude=None):
    """Items nearest to what a user liked, the liked items left out.

    The user vector is the mean of the l2-normalized embeddings of the liked
    items (docs/methods.md, Downstream uses, visual cold start); the result is its `k`
    nearest items in `index` whose ids are not in `exclude`.

    Args:
        index: a `keras_ssl.retrieval.EmbeddingIndex` of the catalogue.
        liked: `(L, D)` embeddings of the liked items.
        k: items to return.
        exclude: ids never to return, usually the liked items' own ids.

    Returns:
        `(scores, ids)`, NumPy arrays `(k,)`, nearest first (fewer when the
        index has fewer than `k` items outside `exclude`).

    Example:

    ```python
    scores, ids = keras_ssl.retrieval.recommend(
        index, catalogue[liked_ids], k=8, exclude=liked_ids
    )
    ```
    """
    liked = np.asarray(liked, np.float32)
    if liked.ndim != 2 or len(liked) == 0:
        raise ValueError(
            f"`liked` must have shape (L >= 1, D), got shape {liked.shape}."
        )
    liked = liked / np.maximum(np.linalg.norm(liked, axis=1, keepdims=True), 1e-12)
    user = np.mean(liked, axis=0, keepdims=True)
    exclude = np.asarray([] if exclude is None else exclude)
    wanted = min(len(index), k + len(exclude))
    scores, ids = index.search(user, k=wanted)
    keep = ~np.isin(ids[0], exclude)
    return scores[0][keep][:k], ids[0][keep][:k]
