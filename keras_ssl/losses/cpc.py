"""CPC's InfoNCE over a grid of patch features (van den Oord et al. 2018,
"Representation Learning with Contrastive Predictive Coding",
https://arxiv.org/abs/1807.03748; Hénaff et al. 2020, "Data-Efficient Image
Recognition with Contrastive Predictive Coding",
https://arxiv.org/abs/1905.09272)."""

import keras
from keras import ops

from keras_ssl import distribute


def cpc_loss(predictions, targets, offset):
    """Per-image InfoNCE of row-ahead predictions against every target.

    `predictions[b, i, j]` predicts `targets[b, i + offset, j]`; its logits
    are dot products with every target of every image of the (gathered)
    batch, `B * H * W` candidates, and its positive sits at
    `b * H * W + (i + offset) * W + j` (offset by the replica's rows when
    gathered). CPC v2's loss (docs/methods.md, CPC); chance value `ln(B H W)`.

    Args:
        predictions: `(B, H - offset, W, c)` predictions from the context of
            rows `0 .. H - offset - 1`.
        targets: `(B, H, W, c)` target features of every patch (gathered
            across replicas with gradient).
        offset: rows ahead, `1 <= offset < H`.

    Returns:
        `(B,)` float32: each image's mean cross-entropy over its predictions.

    Example:
    >>> loss = ops.mean(cpc_loss(0.1 * head(context)[:, :-2], targets, 2))
    """
    height, width, dim = targets.shape[1], targets.shape[2], targets.shape[3]
    if not 1 <= offset < height or predictions.shape[1] != height - offset:
        raise ValueError(
            f"`predictions` must hold rows 0 .. H - offset - 1 of the {height}-row "
            f"grid for offset={offset}. Received: predictions.shape="
            f"{tuple(predictions.shape)}, targets.shape={tuple(targets.shape)}"
        )
    batch = ops.shape(predictions)[0]
    queries = ops.reshape(ops.cast(predictions, "float32"), (-1, dim))
    keys = ops.reshape(ops.cast(distribute.all_gather(targets), "float32"), (-1, dim))
    logits = ops.matmul(queries, ops.transpose(keys))
    images = distribute.global_positive_indices(batch)
    rows = ops.arange(offset, height, dtype="int32")
    columns = ops.arange(width, dtype="int32")
    labels = (images[:, None, None] * height + rows[None, :, None]) * width + columns[None, None, :]
    per_prediction = keras.losses.sparse_categorical_crossentropy(
        ops.reshape(labels, (-1,)), logits, from_logits=True
    )
    return ops.mean(ops.reshape(per_prediction, (batch, -1)), axis=1)
