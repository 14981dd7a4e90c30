"""Class-balanced labelled subsets for the semi-supervised protocol.

Reference:
- [Chen et al., 2020](https://arxiv.org/abs/2002.05709), "A Simple Framework
  for Contrastive Learning of Visual Representations", section 4.2: fine-tune
  on 1% and 10% of the ImageNet labels, drawn class-balanced.
"""

import numpy as np

# The fixed seed of the library's CIFAR subsets (docs/methods.md, Evaluation protocols), so
# that 1% / 10% figures of different runs use the same images.
DEFAULT_SEED = 0


def subset_indices(labels, fraction, seed=DEFAULT_SEED):
    """Indices of a class-balanced, reproducible subset of a labelled set.

    Every class keeps `round(fraction * count)` of its examples (at least
    one), drawn with `numpy.random.default_rng(seed)`; on CIFAR-10 the 1% and
    10% subsets hold 50 and 500 images of each class.

    Args:
        labels: `(N,)` integer labels.
        fraction: share of each class to keep, in `(0, 1]`.
        seed: seed of the draw.

    Returns:
        Sorted int64 NumPy array of indices into `labels`.
    """
    if not 0 < fraction <= 1:
        raise ValueError(
            f"`fraction` must be in (0, 1], got fraction={fraction!r}."
        )
    labels = np.reshape(np.asarray(labels), (-1,))
    if labels.size == 0:
        raise ValueError("`labels` is empty: no examples to draw a subset from.")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = max(1, int(round(fraction * len(members))))
        chosen.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(chosen))


def semi_supervised_subsets(data, fraction=0.1, seed=DEFAULT_SEED):
    """The labelled subset of the semi-supervised protocol (1% or 10%).

    Class-balanced and reproducible: the same `data`, `fraction` and `seed`
    always give the same examples (see `subset_indices`). Defaults: docs/methods.md,
    Evaluation protocols (CIFAR analogue of SimCLR's 1% / 10% ImageNet lists, drawn
    with a fixed, shipped seed).

    Args:
        data: an `(x, y)` tuple of arrays, or a batched `tf.data.Dataset` of
            `(images, labels)`. A dataset is read once for its labels and
            streamed again for the images.
        fraction: share of each class to keep, usually 0.01 or 0.1.
        seed: seed of the draw; default `DEFAULT_SEED`.

    Returns:
        The subset in the form of `data`: an `(x, y)` tuple of arrays, or a
        dataset of `(images, labels)` batches of the input's batch size.

    Example:

    ```python
    (x_train, y_train), _ = keras_ssl.data.load_sample()
    x_10, y_10 = keras_ssl.evaluation.semi_supervised_subsets(
        (x_train, y_train), fraction=0.1
    )
    ```
    """
    if isinstance(data, (tuple, list)):
        if len(data) != 2 or data[1] is None:
            raise ValueError(
                "`data` must be an `(x, y)` tuple of arrays with labels or a "
                "dataset of `(images, labels)` batches."
            )
        x, y = data
        index = subset_indices(y, fraction, seed)
        return np.asarray(x)[index], np.asarray(y)[index]
    return _dataset_subset(data, fraction, seed)


def _dataset_subset(dataset, fraction, seed):
    import tensorflow as tf

    labels, batch_size = [], None
    for element in dataset:
        if not isinstance(element, (tuple, list)) or len(element) < 2:
            raise ValueError(
                "`data` must be a dataset of `(images, labels)` batches."
            )
        batch_labels = np.reshape(np.asarray(element[1]), (-1,))
        batch_size = batch_size or len(batch_labels)
        labels.append(batch_labels)
    if not labels:
        raise ValueError("`data` is empty: no examples to draw a subset from.")
    index = subset_indices(np.concatenate(labels), fraction, seed)
    keep = tf.constant(index, dtype=tf.int64)

    def selected(position, element):
        return tf.reduce_any(tf.equal(keep, position))

    return (
        dataset.unbatch()
        .enumerate()
        .filter(selected)
        .map(lambda position, element: element)
        .batch(batch_size)
    )
