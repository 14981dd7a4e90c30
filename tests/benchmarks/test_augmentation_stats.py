"""The view statistics of the peer benchmark (`benchmarks/peer/augmentation_stats.py`)."""

import numpy as np
from PIL import Image

from benchmarks.peer import augmentation_stats


def test_statistics_of_known_views():
    grey = np.full((1, 4, 4, 3), 0.5)
    red = np.zeros((1, 4, 4, 3))
    red[..., 0] = 1.0
    stripes = np.zeros((1, 4, 4, 3))
    stripes[:, :, ::2] = 1.0  # columns alternate black and white
    figures = augmentation_stats.statistics(np.concatenate([grey, red, stripes]))
    np.testing.assert_allclose(figures["pixel_mean"], [0.5, 1 / 3, 0.5])
    np.testing.assert_allclose(figures["pixel_std"], [0.0, np.sqrt(2) / 3, 0.5])
    np.testing.assert_allclose(figures["saturation"], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(figures["grey_fraction"], [1.0, 0.0, 1.0])
    # Neighbours differ by 1 along every row of the stripes, not down the columns.
    np.testing.assert_allclose(figures["neighbour_difference"], [0.0, 0.0, 1.0])


def test_source_images_are_the_first_files_of_each_class_in_order(tmp_path):
    for label, name in enumerate(["cat", "airplane"]):
        (tmp_path / name).mkdir()
        for i in range(3):
            pixels = np.full((8, 8, 3), 10 * label + i, "uint8")
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    images = augmentation_stats.source_images(str(tmp_path), per_class=2)
    assert images.shape == (4, 8, 8, 3) and images.dtype == np.uint8
    # Classes sorted by name (airplane first), files sorted within a class.
    np.testing.assert_array_equal(images[:, 0, 0, 0], [10, 11, 0, 1])


def test_ours_views_are_pairs_in_unit_range():
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype="uint8")
    views = augmentation_stats.ours_views(images, repeats=2, seed=0)
    assert views.shape == (12, 32, 32, 3)
    assert 0.0 <= views.min() and views.max() <= 1.0
