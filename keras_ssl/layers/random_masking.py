"""MAE's random masking of patch tokens."""

import keras
from keras import ops


def num_visible_patches(num_patches, mask_ratio):
    """`int(N (1 - mask_ratio))`, the patches MAE's encoder sees (its
    `random_masking`'s `len_keep`); raises `ValueError` when none would be."""
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"`mask_ratio` must be in [0, 1). Received: mask_ratio={mask_ratio}")
    num_visible = int(num_patches * (1.0 - mask_ratio))
    if num_visible < 1:
        raise ValueError(
            f"mask_ratio={mask_ratio} leaves no visible patch of {num_patches}: use a "
            "smaller `mask_ratio` or more patches (a smaller patch size)."
        )
    return num_visible


def random_masking(batch_size, num_patches, mask_ratio=0.75, seed=None):
    """Draws MAE's random mask: for each sample its own random subset of the
    patches stays visible, the same number `int(N (1 - mask_ratio))` in every
    sample (He et al., 2021, "Masked Autoencoders Are Scalable Vision
    Learners", https://arxiv.org/abs/2111.06377, section 3: uniform sampling
    without replacement; the order of per-sample uniform noise, as in the
    official `random_masking`).

    Args:
        batch_size: int or scalar tensor, `B`.
        num_patches: int, `N`, the patches of one image.
        mask_ratio: fraction of the patches masked, in [0, 1). MAE: 0.75.
        seed: int or `keras.random.SeedGenerator`.

    Returns:
        `(visible, masked)`: int32 patch indices `(B, K)` and `(B, N - K)`,
        each row in random order; together a permutation of `0, ..., N - 1`.

    Example:

    ```python
    visible, masked = random_masking(8, 64, 0.75, seed=0)  # (8, 16), (8, 48)
    ```
    """
    num_visible = num_visible_patches(num_patches, mask_ratio)
    noise = keras.random.uniform((batch_size, num_patches), seed=seed)
    order = ops.cast(ops.argsort(noise, axis=-1), "int32")
    return order[:, :num_visible], order[:, num_visible:]
