import numpy as np
import pytest

from keras_ssl import augmentation


def test_patches_come_from_their_cells_in_a_random_order():
    # No crop change (scale 1 on a 6x6 image = 3x3 cells of 2 px), 1 px
    # patches: each patch is one pixel of its own cell. Colours mark the cell;
    # the colour ops may change them, so compare with the photometric
    # pipeline removed.
    layer = augmentation.Jigsaw(patch_size=1, cell_size=2, grid=3, scale=(1.0, 1.0), seed=0)
    layer.patch_pipeline = []
    cell_of_pixel = np.repeat(np.repeat(np.arange(9).reshape(3, 3), 2, 0), 2, 1)
    image = np.stack([cell_of_pixel * 20.0] * 3, axis=-1)[None].repeat(16, axis=0)
    patches = np.asarray(layer(image))
    assert patches.shape == (16, 9, 1, 1, 3)
    cells = patches[:, :, 0, 0, 0] / 20.0
    for order in cells:
        assert sorted(np.rint(order).astype(int)) == list(range(9))
    assert len({tuple(np.rint(o).astype(int)) for o in cells}) > 8  # orders differ


def test_shapes_values_and_per_patch_randomness():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (4, 40, 40, 3)).astype("float32")
    layer = augmentation.Jigsaw(seed=1)
    patches = np.asarray(layer(images))
    assert patches.shape == (4, 9, 24, 24, 3) == layer.compute_output_shape((4, 40, 40, 3))
    assert patches.min() >= 0 and patches.max() <= 255
    assert not np.allclose(patches, np.asarray(layer(images)))


def test_bad_arguments_raise_and_config_round_trip():
    with pytest.raises(ValueError, match="patch_size"):
        augmentation.Jigsaw(patch_size=40, cell_size=32)
    layer = augmentation.Jigsaw(patch_size=8, cell_size=10, grid=2, seed=3)
    clone = augmentation.Jigsaw.from_config(layer.get_config())
    assert (clone.patch_size, clone.cell_size, clone.grid, clone.seed) == (8, 10, 2, 3)
