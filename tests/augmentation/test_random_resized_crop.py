import math

import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.augmentation import RandomResizedCrop
from keras_ssl.augmentation.random_resized_crop import resized_crop


def _bilinear_reference(image, box, height, width):
    """PyTorch `interpolate(bilinear, align_corners=False)` of a crop."""
    top, left, crop_h, crop_w = (int(v) for v in box)
    crop = image[top : top + crop_h, left : left + crop_w].astype(np.float64)
    out = np.zeros((height, width, image.shape[-1]))

    def source(index, in_size, out_size):
        s = max((index + 0.5) * in_size / out_size - 0.5, 0.0)
        low = int(math.floor(s))
        return low, min(low + 1, in_size - 1), s - low

    for i in range(height):
        y0, y1, ly = source(i, crop_h, height)
        for j in range(width):
            x0, x1, lx = source(j, crop_w, width)
            out[i, j] = (
                (1 - ly) * (1 - lx) * crop[y0, x0]
                + (1 - ly) * lx * crop[y0, x1]
                + ly * (1 - lx) * crop[y1, x0]
                + ly * lx * crop[y1, x1]
            )
    return out


def _images(batch, height, width, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, height, width, 3)).astype("uint8")


def test_full_crop_is_identity():
    images = _images(3, 16, 16)
    outputs = RandomResizedCrop(16, 16, scale=(1, 1), ratio=(1, 1))(images)
    assert outputs.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(outputs), images)


@pytest.mark.parametrize(
    "size, ratio, box",
    [
        ((16, 16), (2.0, 2.0), (4, 0, 8, 16)),  # image wider than allowed
        ((16, 16), (0.5, 0.5), (0, 4, 16, 8)),  # image taller than allowed
        ((16, 24), (1.0, 1.0), (0, 4, 16, 16)),  # no attempt fits
    ],
)
def test_fallback_is_torchvision_center_crop(size, ratio, box):
    layer = RandomResizedCrop(8, 8, scale=(1.0, 1.0), ratio=ratio, seed=0)
    boxes = np.asarray(layer.sample_boxes(5, *size))
    np.testing.assert_array_equal(boxes, np.tile(box, (5, 1)))


def test_resized_crop_matches_numpy_bilinear():
    images = _images(3, 12, 10).astype("float32")
    boxes = np.array([[2, 1, 5, 7], [0, 0, 12, 10], [6, 3, 3, 2]], "float32")
    for height, width in [(8, 9), (4, 3), (20, 15)]:
        outputs = np.asarray(resized_crop(images, boxes, height, width))
        for b in range(3):
            expected = _bilinear_reference(images[b], boxes[b], height, width)
            np.testing.assert_allclose(outputs[b], expected, atol=1e-3)


def test_half_size_resize_averages_2x2_blocks():
    images = _images(2, 8, 8).astype("float32")
    boxes = np.array([[0, 0, 8, 8]] * 2, "float32")
    outputs = np.asarray(resized_crop(images, boxes, 4, 4))
    blocks = images.reshape(2, 4, 2, 4, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(outputs, blocks, atol=1e-4)


def test_boxes_follow_scale_and_ratio():
    scale, ratio, (height, width) = (0.2, 0.6), (0.5, 2.0), (32, 48)
    layer = RandomResizedCrop(8, 8, scale=scale, ratio=ratio, seed=1)
    top, left, h, w = np.asarray(layer.sample_boxes(2000, height, width)).T
    boxes = np.stack([top, left, h, w])
    np.testing.assert_array_equal(np.round(boxes), boxes)
    assert (top >= 0).all() and (top + h <= height).all()
    assert (left >= 0).all() and (left + w <= width).all()
    # Rounding w and h moves the area by at most (w + h) / 2 + 1/4.
    slack = (w + h) / 2 + 0.25
    area = h * w
    assert (area >= scale[0] * height * width - slack).all()
    assert (area <= scale[1] * height * width + slack).all()
    assert ((w + 0.5) / (h - 0.5) >= ratio[0]).all()
    assert ((w - 0.5) / (h + 0.5) <= ratio[1]).all()
    # Spread: areas and ratios fill their ranges, offsets cover the valid
    # positions.
    fraction = area / (height * width)
    assert fraction.min() < 0.25 and fraction.max() > 0.55
    assert (w / h).min() < 0.6 and (w / h).max() > 1.7
    assert top.min() == 0 and (top == height - h).any()


def test_per_sample_boxes_and_dynamic_shapes():
    images = np.repeat(_images(1, 24, 20), 6, axis=0)
    eager = np.asarray(RandomResizedCrop(10, 12, seed=3)(images))
    assert eager.shape == (6, 10, 12, 3)
    assert len({eager[b].tobytes() for b in range(6)}) == 6

    layer = RandomResizedCrop(10, 12, seed=3)
    spec = tf.TensorSpec((None, None, None, 3), tf.uint8)
    traced = tf.function(lambda x: layer(x), input_signature=[spec])
    np.testing.assert_allclose(traced(images).numpy(), eager, atol=1e-3)


def test_config_round_trip():
    layer = RandomResizedCrop(8, 6, scale=(0.2, 0.9), ratio=(0.5, 2), seed=4)
    clone = RandomResizedCrop.from_config(layer.get_config())
    images = _images(4, 16, 16)
    np.testing.assert_array_equal(clone(images), layer(images))
    assert layer.compute_output_shape((None, 16, 16, 3)) == (None, 8, 6, 3)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"height": 0, "width": 8}, "height"),
        ({"height": 8, "width": 2.5}, "width"),
        ({"height": 8, "width": 8, "scale": (0.5, 0.2)}, "scale"),
        ({"height": 8, "width": 8, "scale": (0.0, 1.0)}, "scale"),
        ({"height": 8, "width": 8, "scale": (0.5, 1.2)}, "scale"),
        ({"height": 8, "width": 8, "ratio": (2.0, 1.0)}, "ratio"),
        ({"height": 8, "width": 8, "ratio": (0.0, 1.0)}, "ratio"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RandomResizedCrop(**kwargs)
