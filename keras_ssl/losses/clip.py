"""CLIP's symmetric contrastive loss (Radford et al. 2021, "Learning
Transferable Visual Models From Natural Language Supervision",
https://arxiv.org/abs/2103.00020)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.ops_utils import l2_normalize


def clip_loss(image_embeddings, text_embeddings, logit_scale):
    """Per-pair symmetric InfoNCE of matching image and text embeddings.

    With `I = l2n(image_embeddings)`, `T = l2n(text_embeddings)` and
    `logits = logit_scale * I T^T`, the loss is
    `(CE(logits, arange) + CE(logits^T, arange)) / 2`: each image must pick
    its own caption among the batch's captions and each caption its image.
    Under a `tf.distribute` strategy both embeddings are gathered across
    replicas (with gradient); local images are scored against every text and
    local texts against every image, the positive at global row
    `replica_id * N + i`, which gives the single-device loss of the global
    batch. Chance value (all logits equal): `ln N`.

    Args:
        image_embeddings: `(N, e)` projected image features.
        text_embeddings: `(N, e)` projected text features, row `i` the caption
            of image `i`.
        logit_scale: the multiplier `exp(t)` of the logits (a scalar tensor
            or float; CLIP learns `t`, initialised at `ln(1 / 0.07)`).

    Returns:
        `(N,)` float32: `(CE_image_i + CE_text_i) / 2` for each local pair; its
        mean is the paper's loss.

    Example:
    >>> loss = ops.mean(clip_loss(images_emb, texts_emb, ops.exp(t)))
    """
    images = l2_normalize(image_embeddings)
    texts = l2_normalize(text_embeddings)
    logit_scale = ops.cast(logit_scale, "float32")
    labels = distribute.global_positive_indices(ops.shape(images)[0])

    def cross_entropy(anchors, candidates):
        logits = logit_scale * ops.matmul(
            anchors, ops.transpose(distribute.all_gather(candidates))
        )
        return keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True
        )

    return (cross_entropy(images, texts) + cross_entropy(texts, images)) / 2
