"""Labelled image pairs for Siamese verification."""

import numpy as np


def _arrays(data):
    if hasattr(data, "element_spec"):
        batches = list(data.as_numpy_iterator())
        images = np.concatenate([np.asarray(b[0]).reshape((-1,) + b[0].shape[-3:]) for b in batches])
        labels = np.concatenate([np.asarray(b[1]).reshape(-1) for b in batches])
        return images, labels
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(
            "`data` must be `(images, labels)` arrays or a tf.data.Dataset of "
            f"`(images, labels)`. Received: {type(data).__name__}"
        )
    return np.asarray(data[0]), np.asarray(data[1]).reshape(-1)


def make_pairs(data, positive_fraction=0.5, num_pairs=None, seed=None):
    """Pairs of images with the same label (similar) or different labels.

    For each pair an anchor is drawn at random; with probability
    `positive_fraction` its partner is another image of the same label,
    otherwise an image of another label. The result is the input of
    `SiameseContrastive.fit` (and of a verification ROC).

    Args:
        data: `(images, labels)` NumPy arrays, or a `tf.data.Dataset` of
            `(images, labels)` (batched or not; read into memory).
        positive_fraction: share of similar pairs, in [0, 1].
        num_pairs: number of pairs; default the number of images.
        seed: seed of the draws.

    Returns:
        A dict of NumPy arrays: `"first"` and `"second"` `(P, H, W, C)`
        images and `"is_similar"` `(P,)` bool.

    Example:
    >>> (x, y), _ = keras_ssl.data.load_sample()
    >>> pairs = keras_ssl.data.make_pairs((x, y), positive_fraction=0.5)
    >>> model.fit(pairs, batch_size=128, epochs=10)
    """
    if not 0.0 <= positive_fraction <= 1.0:
        raise ValueError(
            f"`positive_fraction` must be in [0, 1]. Received: {positive_fraction}"
        )
    images, labels = _arrays(data)
    if len(images) != len(labels):
        raise ValueError(
            f"`data` holds {len(images)} images but {len(labels)} labels."
        )
    classes, counts = np.unique(labels, return_counts=True)
    if positive_fraction > 0 and counts.max() < 2:
        raise ValueError("Similar pairs need a label with at least two images.")
    if positive_fraction < 1 and len(classes) < 2:
        raise ValueError("Dissimilar pairs need at least two labels.")
    num_pairs = len(images) if num_pairs is None else int(num_pairs)
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    pairable = np.flatnonzero(np.isin(labels, classes[counts >= 2]))
    is_similar = rng.random(num_pairs) < positive_fraction
    first = np.empty(num_pairs, int)
    second = np.empty(num_pairs, int)
    for i, similar in enumerate(is_similar):
        anchor = rng.choice(pairable) if similar else rng.integers(len(images))
        if similar:
            candidates = by_class[labels[anchor]]
            candidates = candidates[candidates != anchor]
        else:
            candidates = np.flatnonzero(labels != labels[anchor])
        first[i], second[i] = anchor, rng.choice(candidates)
    return {"first": images[first], "second": images[second], "is_similar": is_similar}
