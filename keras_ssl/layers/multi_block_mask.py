"""I-JEPA's multi-block masks: one context block, several target blocks."""

import keras
from keras import ops


def _check_range(name, value, upper=None):
    low, high = value
    if not 0 < low <= high or (upper is not None and high > upper):
        bound = f" <= {upper}" if upper is not None else ""
        raise ValueError(
            f"`{name}` must be (low, high) with 0 < low <= high{bound}. Received: {name}={value}"
        )


def _block_side(area, aspect, limit):
    """`round(sqrt(area * aspect))` clipped to [1, limit], as float32."""
    return ops.clip(ops.round(ops.sqrt(area * aspect)), 1.0, float(limit))


def _block_masks(top, left, height, width, grid):
    """0/1 float32 masks `(..., rows * columns)` of the blocks whose top-left
    patch is (`top`, `left`) (tensors of one shape) and whose size is
    `height` x `width` patches."""
    rows = ops.arange(grid[0], dtype="float32")
    cols = ops.arange(grid[1], dtype="float32")
    in_rows = (rows >= top[..., None]) & (rows < (top + height)[..., None])
    in_cols = (cols >= left[..., None]) & (cols < (left + width)[..., None])
    mask = ops.logical_and(in_rows[..., :, None], in_cols[..., None, :])
    return ops.reshape(ops.cast(mask, "float32"), (*ops.shape(top), grid[0] * grid[1]))


def multi_block_mask(
    batch_size,
    grid_size,
    num_targets=4,
    target_scale=(0.15, 0.2),
    target_aspect=(0.75, 1.5),
    context_scale=(0.85, 1.0),
    seed=None,
):
    """Samples I-JEPA's masks over a grid of patches (Assran et al., 2023,
    "Self-Supervised Learning from Images with a Joint-Embedding Predictive
    Architecture", https://arxiv.org/abs/2301.08243, section 3).

    As the official mask collator does, one target block size and one
    context block size are drawn per batch, positions per sample and block:

    - target size: scale `s ~ U(target_scale)`, aspect `a ~ U(target_aspect)`
      (height / width); `h = round(sqrt(s N a))`, `w = round(sqrt(s N / a))`
      patches, `N` the grid's patches, clipped to the grid;
    - context size: scale `U(context_scale)`, aspect 1;
    - `num_targets` target blocks and one context block per sample, each at a
      uniform position inside the grid (target blocks may overlap);
    - the context is the context block minus every target block, so no target
      patch is ever seen by the context encoder. When the targets cover the
      whole context block (rare: in 38,400 simulated draws with the paper's
      ranges, none on a 14 x 14 grid and one on 8 x 8), the context falls
      back to the whole block, as the official
      collator relaxes its constraint when it finds too few context patches.

    Args:
        batch_size: int or scalar tensor, `B`.
        grid_size: `(rows, columns)` of the patch grid.
        num_targets: target blocks per sample, `M` (paper: 4).
        target_scale: `(low, high)` fraction of the grid a target block covers
            (paper: 0.15-0.2).
        target_aspect: `(low, high)` height / width of a target block (paper:
            0.75-1.5).
        context_scale: `(low, high)` fraction of the grid the context block
            covers before the targets are removed (paper: 0.85-1.0).
        seed: int or `keras.random.SeedGenerator`.

    Returns:
        `(context, targets)`: float32 0/1 masks over the patches in raster
        order, `(B, N)` and `(B, M, N)`.

    Example:

    ```python
    context, targets = multi_block_mask(8, (8, 8), seed=0)  # (8, 64), (8, 4, 64)
    ```
    """
    _check_range("target_scale", target_scale, upper=1.0)
    _check_range("target_aspect", target_aspect)
    _check_range("context_scale", context_scale, upper=1.0)
    if int(num_targets) < 1:
        raise ValueError(f"`num_targets` must be >= 1. Received: num_targets={num_targets}")
    rows, cols = int(grid_size[0]), int(grid_size[1])
    num_patches = rows * cols
    # One draw for everything, so that an int seed gives independent numbers:
    # per sample two positions per block, and from the first row the sizes.
    u = keras.random.uniform((batch_size, 2 * num_targets + 5), seed=seed)

    def uniform(value, bounds):
        return bounds[0] + value * (bounds[1] - bounds[0])

    area = uniform(u[0, -3], target_scale) * num_patches
    aspect = uniform(u[0, -2], target_aspect)
    height = _block_side(area, aspect, rows)
    width = _block_side(area, 1.0 / aspect, cols)
    top = ops.floor(u[:, :num_targets] * (rows - height + 1.0))
    left = ops.floor(u[:, num_targets : 2 * num_targets] * (cols - width + 1.0))
    targets = _block_masks(top, left, height, width, (rows, cols))

    area = uniform(u[0, -1], context_scale) * num_patches
    height = _block_side(area, 1.0, rows)
    width = _block_side(area, 1.0, cols)
    top = ops.floor(u[:, 2 * num_targets] * (rows - height + 1.0))
    left = ops.floor(u[:, 2 * num_targets + 1] * (cols - width + 1.0))
    block = _block_masks(top, left, height, width, (rows, cols))
    context = block * (1.0 - ops.max(targets, axis=1))
    empty = ops.sum(context, axis=-1, keepdims=True) == 0
    return ops.where(empty, block, context), targets


def mask_indices(mask, count):
    """Fixed-size index lists of the patches of 0/1 masks.

    The first `count` patches of each mask in raster order (the official
    collator trims every mask to the smallest in the batch the same way,
    keeping its first patches); a mask with fewer than `count` patches repeats
    its own from the first (a mask with none repeats patch 0). So the shapes
    stay static and no other patch enters.

    Args:
        mask: float 0/1 `(..., N)`.
        count: int, slots per mask.

    Returns:
        `(indices, weights)`: int32 `(..., count)` and float32 `(..., count)`,
        1 for the first occurrence of each patch of the mask and 0 for the
        repeats (so a sum over slots weighted by them is a sum over the mask's
        patches, up to `count` of them).
    """
    num_patches = mask.shape[-1]
    position = ops.arange(num_patches, dtype="float32")
    # Mask patches first, in raster order.
    order = ops.argsort(ops.where(mask > 0, position, position + num_patches), axis=-1)
    size = ops.sum(ops.cast(mask > 0, "int32"), axis=-1, keepdims=True)
    slots = ops.arange(count, dtype="int32")
    indices = ops.take_along_axis(
        ops.cast(order, "int32"), slots % ops.maximum(size, 1), axis=-1
    )
    weights = ops.cast(slots < size, "float32")
    return indices, weights
