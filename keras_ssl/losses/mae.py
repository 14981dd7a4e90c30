"""MAE's pixel reconstruction loss (He et al., 2021, "Masked Autoencoders Are
Scalable Vision Learners", https://arxiv.org/abs/2111.06377)."""

from keras import ops


def patchify(images, patch_size):
    """Cuts images `(B, H, W, C)` into flattened patches `(B, N, p * p * C)`,
    raster order of the patches (the order of a ViT's patch tokens), each
    patch row by row, channels last."""
    _, height, width, channels = images.shape
    rows, cols = height // patch_size, width // patch_size
    x = ops.reshape(images, (-1, rows, patch_size, cols, patch_size, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, rows * cols, patch_size * patch_size * channels))


def mae_loss(predictions, targets, mask, norm_pix_loss=True, epsilon=1e-6):
    """Mean squared error on the masked patches only (MAE, section 3).

    With `norm_pix_loss` the target of each patch is its pixels normalized by
    the patch's own mean and standard deviation, `(t - mean) / sqrt(var +
    1e-6)` (the paper's "normalized pixels" variant, its default for the
    reported results; the variance unbiased, as the official code's
    `torch.var`). The error is averaged over a patch's values, then over the
    masked patches of each sample; visible patches count for nothing.

    Args:
        predictions: `(B, N, P)` predicted pixels of every patch.
        targets: `(B, N, P)` pixels of every patch (`patchify` of the
            encoder's input images).
        mask: `(B, N)`, 1 for a masked patch, 0 for a visible one.
        norm_pix_loss: normalize each target patch.
        epsilon: added to the variance.

    Returns:
        float32 `(B,)` per-sample losses. Their mean is MAE's loss (every
        sample masks the same number of patches).
    """
    predictions = ops.cast(predictions, "float32")
    targets = ops.cast(targets, "float32")
    mask = ops.cast(mask, "float32")
    if norm_pix_loss:
        size = targets.shape[-1]
        mean = ops.mean(targets, axis=-1, keepdims=True)
        var = ops.sum(ops.square(targets - mean), axis=-1, keepdims=True) / (size - 1)
        targets = (targets - mean) / ops.sqrt(var + epsilon)
    per_patch = ops.mean(ops.square(predictions - targets), axis=-1)
    return ops.sum(per_patch * mask, axis=-1) / ops.sum(mask, axis=-1)
