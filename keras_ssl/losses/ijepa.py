"""I-JEPA's latent prediction loss (Assran et al., 2023, "Self-Supervised
Learning from Images with a Joint-Embedding Predictive Architecture",
https://arxiv.org/abs/2301.08243)."""

from keras import ops


def ijepa_loss(predictions, targets, weights=None):
    """The paper's average L2 distance (section 3, "Loss"):
    `1/M sum_i sum_{j in B_i} ||s^_j - s_j||_2^2` over the `M` target blocks
    `B_i` of a sample, with the squared distance summed over the embedding.
    (The official code trains with a smooth-L1 mean instead; this is the
    paper's formula.)

    Args:
        predictions: `(B, M, T, D)` predicted patch embeddings of `M` blocks
            of `T` patch slots each.
        targets: `(B, M, T, D)` the target encoder's embeddings of the same
            patches (under `stop_gradient`).
        weights: optional `(B, M, T)`: 1 for a patch of the block, 0 for a
            slot that repeats one (`layers.mask_indices`), so that every
            patch counts once.

    Returns:
        float32 `(B,)` per-sample losses.
    """
    error = ops.sum(ops.square(ops.cast(predictions, "float32") - ops.cast(targets, "float32")), -1)
    if weights is not None:
        error = error * ops.cast(weights, "float32")
    return ops.mean(ops.sum(error, axis=-1), axis=-1)
