"""Make augmented views inside a `tf.data` pipeline."""

import keras
import tensorflow as tf


def check_augmenter(augmenter, caller):
    """Raises a ValueError unless `augmenter` can run inside `tf.data`: a
    callable, and for Keras layers the TensorFlow backend."""
    if not callable(augmenter):
        raise ValueError(
            "`augmenter` must be a callable that returns a tuple of views, e.g. "
            f"`keras_ssl.augmentation.simclr_views(224)`. Received: augmenter={augmenter!r}"
        )
    if isinstance(augmenter, keras.layers.Layer) and keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"`{caller}` runs the augmenter's Keras layers inside `tf.data`, which "
            "needs the TensorFlow backend; this is "
            f"KERAS_BACKEND={keras.backend.backend()}. Pass raw images to `fit` "
            "instead: every method augments inside its training step, on any backend."
        )


def augment(augmenter, images):
    """`augmenter(images, training=True)` as a tuple of views."""
    views = augmenter(images, training=True)
    if not isinstance(views, (tuple, list)):
        raise ValueError(
            f"`augmenter` must return a tuple of views, got {type(views).__name__}."
        )
    return tuple(views)


def with_views(ds, augmenter, num_parallel_calls=tf.data.AUTOTUNE):
    """Map a batched dataset of images to tuples of augmented views.

    Moves augmentation off the accelerator into `tf.data`, where it overlaps
    with training. Elements become `((v1, ..., vn),)` for a dataset of
    `images`, or `((v1, ..., vn), labels)` for one of `(images, labels)`: the
    views are wrapped in a 1-tuple so that Keras reads them as `x` and not the
    second view as labels. Every keras_ssl method's `fit` accepts these
    elements.

    Args:
        ds: a batched `tf.data.Dataset` of `images` or `(images, labels)`,
            images of shape `(B, H, W, C)`.
        augmenter: a callable, e.g. a `keras_ssl.augmentation.ViewAugmenter`,
            called as `augmenter(images, training=True)` and returning a
            tuple (or list) of views.
        num_parallel_calls: parallelism of the map.

    Returns:
        The mapped dataset, with `prefetch(AUTOTUNE)`.

    Raises:
        ValueError: the augmenter is a Keras layer and the backend is not
            TensorFlow (its `keras.ops` would run on the backend's arrays,
            which `tf.data` cannot hold).

    Example:

    ```python
    (x, _), _ = keras_ssl.data.load_sample()
    ds = tf.data.Dataset.from_tensor_slices(x).shuffle(4000).batch(256)
    ds = keras_ssl.data.with_views(ds, keras_ssl.augmentation.simclr_views(32))
    model.fit(ds, epochs=10)
    ```
    """
    spec = ds.element_spec
    labelled = isinstance(spec, tuple) and len(spec) == 2
    image_spec = spec[0] if labelled else spec
    if not isinstance(image_spec, tf.TensorSpec):
        raise ValueError(
            "`ds` must yield `images` or `(images, labels)`, got elements "
            f"with spec {spec}."
        )
    if image_spec.shape.rank is not None and image_spec.shape.rank != 4:
        raise ValueError(
            "`ds` must be batched, with images of shape (B, H, W, C); got "
            f"images of shape {image_spec.shape}. Call `ds.batch(...)` "
            "before `with_views`."
        )

    check_augmenter(augmenter, "with_views")

    def make_views(images):
        return augment(augmenter, images)

    if labelled:
        ds = ds.map(
            lambda images, labels: (make_views(images), labels),
            num_parallel_calls=num_parallel_calls,
        )
    else:
        ds = ds.map(
            lambda images: (make_views(images),),
            num_parallel_calls=num_parallel_calls,
        )
    return ds.prefetch(tf.data.AUTOTUNE)
