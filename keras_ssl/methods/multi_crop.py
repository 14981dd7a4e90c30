"""Helpers of the multi-crop methods (SwAV, DINO): crops of several sizes
through one encoder."""

import itertools

from keras import ops


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
                "crop size, e.g. `small_cnn(input_shape=(None, None, 3))` or "
                f"`resnet18(input_shape=(None, None, 3))`. The error was: {error}"
            ) from error


def encode_by_size(encoder, views, training):
    """Encodes views, one batch per run of consecutive views of equal size.

    Multi-crop methods run all global crops through the backbone as one batch
    and all local crops as another (METHODS.md section 3), so BatchNorm
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
