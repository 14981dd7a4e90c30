"""Helpers of the methods that run one backbone on inputs of several sizes:
multi-crop (SwAV, DINO), PIRL's jigsaw patches, CPC's patches."""

import itertools

import keras
from keras import ops

# What takes any input size, for the errors of the methods that need it.
ANY_SIZE_HINT = (
    "A functional or Sequential backbone of convolutions and global pooling "
    "(e.g. `small_cnn`, `resnet18`) takes any size; one with `Flatten` + "
    "`Dense` or a fixed `Reshape` does not."
)


def with_any_input_size(model):
    """`model` on images of any height and width, with the same layers.

    A functional or Sequential `keras.Model` built for a fixed image size
    (e.g. `small_cnn((32, 32, 3))`) is rebuilt on
    `keras.Input((None, None, C))` by calling its own layers on it
    (`keras.models.clone_model` with `input_tensors=` and every layer kept,
    not copied): the rebuilt model holds the very same variables, so
    training it trains `model`. Convolutions, pooling, normalizations and a
    global pooling take any size; a layer that needs the size it was built
    for (`Flatten` then `Dense`, a fixed `Reshape`) fails on other sizes
    when run (or already here, where its output shape tells).

    Args:
        model: a `keras.Model` from images `(B, H, W, C)` to features.

    Returns:
        `model` itself when its input already takes any height and width,
        else a new functional model that shares `model`'s layers.

    Raises:
        ValueError: `model` is not functional or Sequential, or its graph
            cannot be built on an input of unknown size.

    Example:
    >>> backbone = keras_ssl.backbones.small_cnn((32, 32, 3))
    >>> flexible = with_any_input_size(backbone)
    >>> flexible(np.zeros((2, 16, 16, 3))).shape  # (2, 256), same weights
    """
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) == 4:
        if shape[1] is None and shape[2] is None:
            return model
        try:
            return keras.models.clone_model(
                model,
                input_tensors=keras.Input((None, None, shape[-1]), name="images"),
                clone_function=lambda layer: layer,
            )
        except Exception as error:  # Keras's own error, re-raised below
            reason = error
    else:
        reason = "it has no single image input (B, H, W, C)"
    raise ValueError(
        f"Could not rebuild `{model.name}` (input_shape={shape}) on images of "
        "any size: only a functional or Sequential keras.Model from images "
        "(B, H, W, C) can be. Build it with input_shape=(None, None, C). The "
        f"error was: {reason}"
    )


def check_crop_sizes(encoder, sizes):
    """Runs `encoder` once on each distinct crop size; raises `ValueError`
    naming the first size it fails on.

    Args:
        encoder: a `keras.Model` from images `(B, H, W, C)` to features.
        sizes: `(height, width)` of each view (None entries are skipped), e.g.
            `augmenter.output_sizes`.
    """
    channels = encoder.input_shape[-1]
    for size in sorted({tuple(s) for s in sizes if s is not None}, reverse=True):
        try:
            encoder(ops.zeros((1, *size, channels)), training=False)
        except Exception as error:  # the backbone's own error, re-raised below
            raise ValueError(
                f"The backbone fails on {size[0]}x{size[1]} crops of the "
                "augmenter. Multi-crop methods need a backbone that takes every "
                f"crop size. {ANY_SIZE_HINT} The error was: {error}"
            ) from error


def encode_by_size(encoder, views, training):
    """Encodes views, one batch per run of consecutive views of equal size.

    Multi-crop methods run all global crops through the backbone as one batch
    and all local crops as another (docs/methods.md, Conventions), so BatchNorm
    statistics are per resolution.

    Args:
        encoder: a `keras.Model` from images to features.
        views: tuple of `(N, H_i, W_i, C)` views, the same `N` for all.
        training: passed to the encoder.

    Returns:
        A tuple of `(N, D)` features, one per view, in the views' order.
    """
    features = []
    groups = itertools.groupby(views, key=lambda view: tuple(view.shape[1:3]))
    for _, group in groups:
        group = list(group)
        encoded = encoder(ops.concatenate(group, axis=0), training=training)
        features.extend(ops.split(encoded, len(group), axis=0))
    return tuple(features)
