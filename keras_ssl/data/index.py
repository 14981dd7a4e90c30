"""Attach each item's dataset index, for methods with a per-item memory
(PIRL's memory bank)."""

import tensorflow as tf


def with_index(data):
    """Pairs each image with its position in the dataset.

    Elements become `{"images": image, "index": int32 i}` (or
    `({"images": ..., "index": ...}, label)` for labelled data), the input
    PIRL's memory bank needs. Index before shuffling and batching, so that
    an image keeps its index across epochs:
    `with_index(ds).shuffle(n).batch(256)`.

    Args:
        data: an unbatched `tf.data.Dataset` of `image` or `(image, label)`,
            or arrays `x` / `(x, y)`.

    Returns:
        The unbatched dataset with the index attached.

    Example:
    >>> (x, _), _ = keras_ssl.data.load_sample()
    >>> ds = keras_ssl.data.with_index(x).shuffle(4000).batch(256)
    >>> keras_ssl.PIRL(backbone, num_items=len(x)).fit(ds, epochs=10)
    """
    if not isinstance(data, tf.data.Dataset):
        data = tf.data.Dataset.from_tensor_slices(
            tuple(data) if isinstance(data, list) else data
        )
    spec = data.element_spec
    labelled = isinstance(spec, tuple) and len(spec) == 2
    image_spec = spec[0] if labelled else spec
    if not isinstance(image_spec, tf.TensorSpec) or image_spec.shape.rank != 3:
        raise ValueError(
            "`data` must be an unbatched dataset (or arrays) of images (H, W, C) "
            f"or (image, label) pairs; the index is each element's position, so "
            f"batch after `with_index`. Received element spec: {spec}"
        )

    def attach(index, element):
        index = tf.cast(index, tf.int32)
        if labelled:
            return {"images": element[0], "index": index}, element[1]
        return {"images": element, "index": index}

    return data.enumerate().map(attach)
