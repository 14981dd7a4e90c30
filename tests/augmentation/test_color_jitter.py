import colorsys

import keras
import numpy as np
import pytest

from keras_ssl.augmentation import ColorJitter
from keras_ssl.augmentation.color_jitter import _adjust_hue

LUMA = np.array([0.299, 0.587, 0.114])


def _images(batch, size, low=0, high=256, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(low, high, (batch, size, size, 3)).astype("float32")


def _shift_hue(image, shift):
    out = np.empty_like(image)
    for index in np.ndindex(image.shape[:-1]):
        h, s, v = colorsys.rgb_to_hsv(*(image[index] / 255.0))
        out[index] = np.array(colorsys.hsv_to_rgb((h + shift) % 1.0, s, v))
    return np.clip(out * 255.0, 0, 255)


def _torchvision_jitter(image, factors, shift, order):
    """torchvision's ColorJitter.forward on one [0, 255] image."""
    x = image.astype(np.float64)
    for op in order:
        if op == 0 and 0 in factors:
            x = np.clip(factors[0] * x, 0, 255)
        elif op == 1 and 1 in factors:
            mean = (x @ LUMA).mean()
            x = np.clip(factors[1] * x + (1 - factors[1]) * mean, 0, 255)
        elif op == 2 and 2 in factors:
            gray = (x @ LUMA)[..., None]
            x = np.clip(factors[2] * x + (1 - factors[2]) * gray, 0, 255)
        elif op == 3 and shift is not None:
            x = _shift_hue(x, shift)
    return x


def test_matches_torchvision_reference_with_replayed_draws():
    amounts, seed, batch = (0.8, 0.8, 0.8, 0.2), 7, 8
    images = _images(batch, 6)
    outputs = np.asarray(ColorJitter(*amounts, seed=seed)(images))

    # Replay the layer's draws: same seed, same calls, same order.
    generator = keras.random.SeedGenerator(seed)

    def draw(low, high):
        values = keras.random.uniform(
            (batch, 1, 1, 1), low, high, seed=generator
        )
        return np.asarray(values).reshape(batch)

    factors = [draw(1 - a, 1 + a) for a in amounts[:3]]
    shifts = draw(-amounts[3], amounts[3])
    noise = keras.random.uniform((batch, 4), seed=generator)
    orders = np.argsort(np.asarray(noise), axis=1)
    assert len({tuple(order) for order in orders}) > 1

    for b in range(batch):
        factors_b = {k: f[b] for k, f in enumerate(factors)}
        expected = _torchvision_jitter(
            images[b], factors_b, shifts[b], orders[b]
        )
        np.testing.assert_allclose(outputs[b], expected, atol=0.05)


def test_brightness_multiplies_pixels():
    images = _images(16, 4, low=1, high=100)
    outputs = np.asarray(ColorJitter(0.5, 0, 0, 0, seed=1)(images))
    ratio = outputs / images
    factor = ratio[:, :1, :1, :1]
    np.testing.assert_allclose(ratio, factor + 0 * ratio, rtol=1e-5)
    assert (factor >= 0.5).all() and (factor <= 1.5).all()
    assert len(np.unique(factor.round(4))) == 16


@pytest.mark.parametrize("operation", ["contrast", "saturation"])
def test_blend_against_numpy_formula(operation):
    images = _images(16, 5, low=60, high=190)
    gray = (images.astype(np.float64) @ LUMA)[..., None]
    if operation == "contrast":
        target = gray.mean(axis=(1, 2, 3), keepdims=True) + 0 * images
        layer = ColorJitter(0, 0.3, 0, 0, seed=2)
    else:
        target = gray + 0 * images
        layer = ColorJitter(0, 0, 0.3, 0, seed=2)
    outputs = np.asarray(layer(images), np.float64)
    # out = f * x + (1 - f) * target, one f per image: solve for f.
    dx, dy = images - target, outputs - target
    factor = (dx * dy).sum(axis=(1, 2, 3)) / (dx * dx).sum(axis=(1, 2, 3))
    expected = factor[:, None, None, None] * dx + target
    np.testing.assert_allclose(outputs, expected, atol=2e-3)
    assert (factor >= 0.7 - 1e-6).all() and (factor <= 1.3 + 1e-6).all()
    assert factor.std() > 0.05


def test_hue_rotation_keeps_saturation_and_value():
    rng = np.random.default_rng(3)
    images = rng.uniform(0, 255, (8, 4, 4, 3)).astype("float32")
    images[..., 0] = 250.0  # saturated colours: well-defined hue
    images[..., 1] = 10.0
    outputs = np.asarray(ColorJitter(0, 0, 0, 0.3, seed=3)(images))
    hsv_in, hsv_out = (
        np.array([colorsys.rgb_to_hsv(*p) for p in x.reshape(-1, 3)])
        for x in (images, outputs)
    )
    np.testing.assert_allclose(hsv_out[:, 1:], hsv_in[:, 1:], atol=1e-3)
    shift = ((hsv_out[:, 0] - hsv_in[:, 0] + 0.5) % 1.0 - 0.5).reshape(8, 16)
    np.testing.assert_allclose(shift, shift[:, :1] + 0 * shift, atol=1e-3)
    assert (np.abs(shift) <= 0.3 + 1e-3).all() and shift[:, 0].std() > 0.02


def test_hue_rotation_of_primaries_ties_and_grays():
    pixels = np.array(
        [[255, 0, 0], [255, 255, 0], [0, 0, 255], [100, 100, 100], [0, 0, 0], [30, 200, 200]],
        "float32",
    )[None]
    for shift in (1 / 3, -1 / 3, 1 / 6, 0.5, -0.5, 0.07):
        expected = _shift_hue(pixels[0], shift)
        np.testing.assert_allclose(np.asarray(_adjust_hue(pixels, shift))[0], expected, atol=1e-3)
    # Red by a third of the circle is green; grays have no hue to rotate.
    np.testing.assert_allclose(np.asarray(_adjust_hue(pixels, 1 / 3))[0, 0], [0, 255, 0], atol=1e-3)
    np.testing.assert_array_equal(np.asarray(_adjust_hue(pixels, 0.3))[0, 3:5], pixels[0, 3:5])
    # One shift per image, broadcast over its pixels.
    images = np.concatenate([pixels, pixels])[:, None]  # (2, 1, 6, 3)
    shifts = np.array([1 / 3, -1 / 3], "float32")[:, None, None]
    outputs = np.asarray(_adjust_hue(images, shifts))
    np.testing.assert_allclose(outputs[0, 0], _shift_hue(pixels[0], 1 / 3), atol=1e-3)
    np.testing.assert_allclose(outputs[1, 0], _shift_hue(pixels[0], -1 / 3), atol=1e-3)


def test_hue_round_trip_and_disabled_operations_are_identity():
    images = _images(4, 6)
    np.testing.assert_allclose(
        np.asarray(_adjust_hue(images, 0.0)), images, atol=2e-3
    )
    outputs = ColorJitter(0, 0, 0, 0, seed=0)(images.astype("uint8"))
    assert outputs.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(outputs), images)


def test_uint8_input_and_config_round_trip():
    images = _images(4, 6).astype("uint8")
    layer = ColorJitter(0.8, 0.8, 0.8, 0.2, seed=5)
    clone = ColorJitter.from_config(layer.get_config())
    outputs = np.asarray(layer(images))
    assert outputs.dtype == np.float32
    assert outputs.min() >= 0 and outputs.max() <= 255
    np.testing.assert_array_equal(np.asarray(clone(images)), outputs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"brightness": -0.1}, "brightness"),
        ({"contrast": -1}, "contrast"),
        ({"saturation": -0.5}, "saturation"),
        ({"hue": 0.6}, "hue"),
        ({"hue": -0.1}, "hue"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ColorJitter(**kwargs)
