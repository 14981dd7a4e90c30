"""TensorFlow Datasets' native elements as the `(x, y)` a method takes."""

import tensorflow as tf

IMAGE_KEY, LABEL_KEY = "image", "label"


def _is_tfds_dict(value):
    # Only "image" marks TFDS's form: CLIP's {"images", "tokens"} and PIRL's
    # {"images", "index"} are method inputs of their own.
    return isinstance(value, dict) and IMAGE_KEY in value


def from_tfds_elements(x, y=None, keep_labels=True):
    """Turns TFDS's `{"image": ..., "label": ...}` elements into `(x, y)`.

    `fit`, `evaluate` and `predict` call it first, so that a dataset from
    `tfds.load(name)` (batched) trains directly. Anything else is returned
    unchanged, including `(image, label)` pairs, which Keras already splits.

    Args:
        x: a `tf.data.Dataset` of dicts with an `"image"` key (and optionally
            `"label"`; other keys are dropped), a dict of arrays of that
            form, or any other input (returned as it is).
        y: the labels given beside `x` (kept when `x` is not TFDS's form).
        keep_labels: keep `"label"` as `y` (the online probe's labels, when
            the model has `num_classes`); when `False` it is dropped.

    Returns:
        `(x, y)`: a dataset of `images` or `(images, labels)`, or arrays.
    """
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        if not _is_tfds_dict(spec):
            return x, y
        if keep_labels and LABEL_KEY in spec:
            return x.map(lambda e: (e[IMAGE_KEY], e[LABEL_KEY])), y
        return x.map(lambda e: e[IMAGE_KEY]), y
    if _is_tfds_dict(x) and y is None:
        return x[IMAGE_KEY], (x.get(LABEL_KEY) if keep_labels else None)
    return x, y
