"""MAE's `random_masking` and I-JEPA's `multi_block_mask` / `mask_indices`."""

import keras
import numpy as np
import pytest

from keras_ssl import layers


def test_random_masking_exact_ratio_and_independent_per_sample():
    visible, masked = layers.random_masking(64, 64, 0.75, seed=keras.random.SeedGenerator(0))
    visible, masked = np.asarray(visible), np.asarray(masked)
    assert visible.shape == (64, 16) and masked.shape == (64, 48)
    for v, m in zip(visible, masked):
        np.testing.assert_array_equal(np.sort(np.concatenate([v, m])), np.arange(64))
    # Samples draw their own subsets: no two of 64 alike, and every patch is
    # visible in some sample.
    sets = {tuple(sorted(v)) for v in visible}
    assert len(sets) == 64 and len(np.unique(visible)) == 64
    with pytest.raises(ValueError, match="mask_ratio"):
        layers.random_masking(2, 4, 0.9)
    with pytest.raises(ValueError, match="mask_ratio"):
        layers.random_masking(2, 4, 1.0)


def _box(mask, grid):
    rows, cols = np.nonzero(mask.reshape(grid))
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


@pytest.mark.parametrize("grid", [(8, 8), (14, 14)])
def test_multi_block_blocks_in_range_and_targets_excluded(grid):
    n = grid[0] * grid[1]
    generator = keras.random.SeedGenerator(1)
    areas, aspects = set(), set()
    for _ in range(6):  # batches: one block size each
        context, targets = layers.multi_block_mask(16, grid, seed=generator)
        context, targets = np.asarray(context), np.asarray(targets)
        assert context.shape == (16, n) and targets.shape == (16, 4, n)
        sizes = set()
        for sample_context, sample_targets in zip(context, targets):
            for target in sample_targets:
                top, bottom, left, right = _box(target, grid)
                h, w = bottom - top, right - left
                assert target.sum() == h * w  # a full rectangle
                sizes.add((h, w))
                # The rounding of sqrt(s N a) moves a side by at most 1/2.
                s, a = h * w / n, h / w
                assert (np.sqrt(0.15 * n * 0.75) - 0.5) ** 2 / n <= s
                assert s <= (np.sqrt(0.2 * n * 1.5) + 0.5) ** 2 / n
                assert (np.sqrt(0.15 * n * 0.75) - 0.5) / (np.sqrt(0.2 * n / 0.75) + 0.5) <= a
                areas.add(s)
                aspects.add(a)
            assert sample_context.sum() > 0
            if sample_context.sum() and (sample_context * sample_targets.max(0)).sum():
                # Only the fallback (targets cover the whole context block).
                top, bottom, left, right = _box(sample_context, grid)
                assert sample_context.sum() == (bottom - top) * (right - left)
            else:
                assert not np.any(sample_context * sample_targets.max(0))
        assert len(sizes) == 1  # one target size per batch (official collator)
    assert len(areas) > 1


def test_context_block_scale_before_targets_removed():
    grid = (14, 14)
    # One 1 x 1 target: removing one patch leaves the block's bounding box.
    context, _ = layers.multi_block_mask(
        32, grid, num_targets=1, target_scale=(0.005, 0.005), target_aspect=(1, 1), seed=3
    )
    for row in np.asarray(context):
        top, bottom, left, right = _box(row, grid)
        side = bottom - top
        assert side == right - left  # aspect 1
        assert round(np.sqrt(0.85 * 196)) <= side <= 14


def test_mask_indices_fixed_count_repeats_and_weights():
    mask = np.zeros((3, 10), "float32")
    mask[0, [1, 4, 7]] = 1
    mask[1, :] = 1
    mask[2, [9]] = 1
    indices, weights = layers.mask_indices(mask, 5)
    np.testing.assert_array_equal(
        np.asarray(indices), [[1, 4, 7, 1, 4], [0, 1, 2, 3, 4], [9, 9, 9, 9, 9]]
    )
    np.testing.assert_array_equal(
        np.asarray(weights), [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]
    )


def test_invalid_ranges_raise():
    with pytest.raises(ValueError, match="target_scale"):
        layers.multi_block_mask(2, (8, 8), target_scale=(0.3, 0.2))
    with pytest.raises(ValueError, match="context_scale"):
        layers.multi_block_mask(2, (8, 8), context_scale=(0.85, 1.5))
