"""Input validation for `SSLModel.fit`, `evaluate` and `predict`.

Everything is read from array shapes or a dataset's `element_spec` before Keras
traces anything, so a bad call raises a `ValueError` and writes no state.
"""

import collections
import warnings

import numpy as np
from keras import tree

_IMAGE_DTYPES = ("uint8", "float16", "bfloat16", "float32", "float64")


def _dtype_name(dtype):
    name = getattr(dtype, "name", None) or str(dtype)
    return name.replace("tf.", "")


def _shape(value):
    shape = getattr(value, "shape", None)
    if shape is None:
        value = np.asarray(value)
        shape = value.shape
    return tuple(None if d is None else int(d) for d in shape)


def _is_sequence(value):
    return isinstance(value, (tuple, list))


def _unpack_spec(spec):
    """Splits a dataset element spec the way Keras splits its elements."""
    if _is_sequence(spec):
        if len(spec) == 1:
            return spec[0], None
        if len(spec) in (2, 3):
            return spec[0], spec[1]
    return spec, None


def unpack_inputs(x, y):
    """`(inputs, labels)` of the data of `fit` / `evaluate`: `x` and `y`, or
    a dataset's element spec split the way Keras splits its elements."""
    spec = getattr(x, "element_spec", None)
    return (x, y) if spec is None else _unpack_spec(spec)


def check_dict_keys(inputs, keys, requirement):
    """Raises `ValueError` stating `requirement` (the dict a method takes)
    unless `inputs` is a dict with exactly `keys` (CLIP, PIRL, Siamese)."""
    if not isinstance(inputs, dict) or set(inputs) != set(keys):
        received = f"keys {sorted(inputs)}" if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(f"{requirement} Received: {received}.")


def dataset_batch_size(dataset):
    """`n` of the last `batch(n)` stage of a `tf.data` pipeline, or None.

    A dataset batched without `drop_remainder` has a dynamic batch dimension
    in its `element_spec`; its batches hold at most `n` elements (the first
    ones exactly `n`), so `n` is what batch checks (a queue that must hold a
    batch) are made against. Read from the pipeline's stages, without
    iterating it (which would draw a shuffle order).
    """
    while dataset is not None:
        size = getattr(dataset, "_batch_size", None)
        if size is not None:
            try:
                return int(np.asarray(size))
            except (TypeError, ValueError):
                return None
        dataset = getattr(dataset, "_input_dataset", None)
    return None


def _describe(value):
    return f"shape={_shape(value)}, dtype={_dtype_name(value.dtype)}"


def check_images(model, images, argument, raw):
    """Checks one batch spec of images: rank, channels, dtype, size."""
    shape = _shape(images)
    if len(shape) != 4:
        raise ValueError(
            f"`{argument}` must be a batch of images of shape (batch, height, "
            f"width, channels). Received a tensor of rank {len(shape)}: "
            f"{_describe(images)}. Batch single images with `ds.batch(n)` or "
            f"`x[None]`."
        )
    channels = model.image_shape[-1]
    if channels is not None and shape[-1] != channels:
        raise ValueError(
            f"`{argument}` must have {channels} channels, as the backbone "
            f"expects input_shape={model.image_shape}. Received: {_describe(images)}"
        )
    dtype = _dtype_name(images.dtype)
    if dtype not in _IMAGE_DTYPES:
        raise ValueError(
            f"`{argument}` must be uint8 or float images in [0, 255]. "
            f"Received dtype={dtype}."
        )
    if not raw:
        return
    height, width = shape[1:3]
    for size in model.augmenter.output_sizes:
        if size is None or height is None or width is None:
            continue
        if size[0] > height or size[1] > width:
            raise ValueError(
                f"The augmenter's crop size {size[0]}x{size[1]} is larger than "
                f"the images in `{argument}` ({height}x{width}). Use an "
                f"augmenter with a crop size <= {min(height, width)}."
            )


def check_labels(model, labels, argument):
    """Checks labels: only with `num_classes`, rank 1 (or (B, 1)), in range."""
    if labels is None:
        if model.uses_labels:
            raise ValueError(
                f"{type(model).__name__} trains on labels: give `(images, labels)` "
                f"data (or `x` and `{argument}`). Received no labels."
            )
        return
    if model.num_classes is None and not model.uses_labels:
        raise ValueError(
            f"Labels were given as `{argument}` but the model has no online probe: "
            f"pass `num_classes=` to the constructor to train a linear probe on "
            f"them, or give images only (labels never feed the SSL loss)."
        )
    shape = _shape(labels)
    if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise ValueError(
            f"`{argument}` must be integer class ids of shape (batch,). "
            f"Received: {_describe(labels)}"
        )
    if model.num_classes is not None and isinstance(labels, np.ndarray) and labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < -1 or high >= model.num_classes:
            raise ValueError(
                f"`{argument}` must hold class ids in [0, {model.num_classes}) "
                f"(-1 marks unlabeled samples). Received values in [{low}, {high}]."
            )


def check_ids(ids, argument, shape, what):
    """Raises `ValueError` unless `ids` (an array or a spec) are integer
    `what` (token ids, dataset indices) of the named `shape`, e.g.
    `("B", "L")`. Their range is `check_id_ranges`'s."""
    dtype = _dtype_name(ids.dtype)
    if len(ids.shape) != len(shape) or "int" not in dtype:
        named = "(" + ", ".join(shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(
            f"`{argument}` must be integer {what} of shape {named}. "
            f"Received: shape={tuple(ids.shape)}, dtype={dtype}"
        )


class IdInput(collections.namedtuple("IdInput", ["key", "limit", "what", "fix"])):
    """An integer input `x[key]` whose values index a table of `limit` rows
    (CLIP's token ids, PIRL's dataset indices): `what` names the values,
    `fix` says how to bring them into `[0, limit)`."""

    def error_message(self, low, high):
        return (
            f"`x['{self.key}']` must hold {self.what} in [0, {self.limit}). Received "
            f"values in [{low}, {high}]. {self.fix}"
        )


def check_id_ranges(model, x):
    """Raises `ValueError` when an array of `x` that `model.id_inputs()`
    names holds a value outside its range. Only arrays are checked here: a
    dataset's values are only known in the step, which refuses a batch out
    of range (`SSLModel.train_step`)."""
    for id_input in model.id_inputs():
        ids = x[id_input.key]
        if not isinstance(ids, np.ndarray) or not ids.size:
            continue
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= id_input.limit:
            raise ValueError(id_input.error_message(low, high))


def check_batch(model, batch, argument):
    if batch is None:
        return
    if batch < model.min_batch_size:
        raise ValueError(
            f"{type(model).__name__} needs batches of at least "
            f"{model.min_batch_size} images; `{argument}` gives batches of "
            f"{batch}. Use a larger `batch_size`."
        )
    model.check_batch_size(batch)


def _first_images(x, batch_size):
    """The float image batches (rank 4) of the first batch of `x`, as NumPy
    arrays; a dataset is read for one element, and only when its spec holds
    float images."""
    if hasattr(x, "element_spec"):
        specs = [s for s in tree.flatten(x.element_spec) if _is_float_images(s)]
        if not specs or not hasattr(x, "take"):
            return []
        x = next(iter(x.take(1)))
        batch_size = None
    leaves = [leaf for leaf in tree.flatten(x) if _is_float_images(leaf)]
    return [np.asarray(leaf[: batch_size or 32]) for leaf in leaves]


def _is_float_images(value):
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    return shape is not None and len(shape) == 4 and "float" in _dtype_name(dtype)


def check_pixel_range(model, x, batch_size=None):
    """Warns, once per model, when the float images of the first batch of `x`
    lie within [0, 1]: the methods take pixels in [0, 255]."""
    if getattr(model, "_pixel_range_checked", False) or x is None:
        return
    if hasattr(x, "element_spec"):
        model._pixel_range_checked = True  # read a dataset once per model
    for images in _first_images(x, batch_size):
        low, high = float(np.min(images)), float(np.max(images))
        if 0.0 <= low and high <= 1.0:
            model._pixel_range_checked = True
            warnings.warn(
                f"The float images given to {type(model).__name__} lie within "
                f"[0, 1] (first batch: min {low:.3g}, max {high:.3g}), but "
                "keras_ssl's methods take pixels in [0, 255]: the augmentation "
                "and the encoder's `preprocessing` assume that range, and "
                "[0, 1] images train to much worse features. Rescale them, "
                "e.g. `x * 255.0` or `ds.map(lambda x: x * 255.0)`. A backbone "
                "that wants [0, 1] itself gets it from "
                "`preprocessing=keras.layers.Rescaling(1 / 255)`.",
                stacklevel=3,
            )
            return


def check_inputs(model, x, y=None, batch_size=None, needs_loss=True):
    """Validates the data of `fit` / `evaluate` (`needs_loss`) or `predict`."""
    if x is None:
        return
    if hasattr(x, "element_spec"):
        images, labels = _unpack_spec(x.element_spec)
        batch = None
    elif isinstance(x, dict):
        images, labels, batch = x, y, None
    elif _is_sequence(x) or hasattr(x, "shape"):
        images, labels = x, y
        first = x[0] if _is_sequence(x) else x
        size = _shape(first)[0] if _shape(first) else None
        batch = min(batch_size or 32, size) if size is not None else None
    else:
        return  # generators and PyDatasets: Keras checks at trace time
    argument = "x"
    if isinstance(images, dict):
        raise ValueError(
            f"{type(model).__name__} takes batches of images (B, H, W, C), "
            f"`(images, labels)` or TFDS's {{'image': ..., 'label': ...}} dicts. "
            f"Received a dict with keys {sorted(images)}."
        )
    views = _is_sequence(images)
    if views:
        if needs_loss and len(images) != model.num_views:
            raise ValueError(
                f"`x` holds {len(images)} views but {type(model).__name__}'s "
                f"augmenter makes {model.num_views}."
            )
        for i, view in enumerate(images):
            check_images(model, view, f"{argument}[{i}]", raw=False)
        first = images[0]
    else:
        check_images(model, images, argument, raw=needs_loss)
        first = images
    if batch is None:
        batch = _shape(first)[0]
    if batch is None and hasattr(x, "element_spec"):
        batch = dataset_batch_size(x)
    if needs_loss:
        check_batch(model, batch, argument)
        check_labels(model, labels, "y")
