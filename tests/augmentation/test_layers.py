import keras
import numpy as np
import pytest

from keras_ssl.augmentation import GaussianBlur
from keras_ssl.augmentation import RandomApply
from keras_ssl.augmentation import RandomFlip
from keras_ssl.augmentation import RandomGrayscale
from keras_ssl.augmentation import Solarize
from keras_ssl.augmentation import blur_kernel_size
from keras_ssl.augmentation.gaussian_blur import gaussian_blur
from keras_ssl.augmentation.grayscale import gray_matrix
from keras_ssl.augmentation.grayscale import mix_channels


def _images(batch, height, width=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (batch, height, width or height, 3)
    return rng.integers(0, 256, shape).astype("uint8")


def _numpy_blur(image, sigma, kernel_size):
    """Separable Gaussian, `numpy.pad(mode="reflect")` borders."""
    radius = kernel_size // 2
    taps = np.arange(kernel_size) - radius
    kernel = np.exp(-0.5 * (taps / sigma) ** 2)
    kernel /= kernel.sum()
    height, width = image.shape[:2]
    pad = ((radius, radius), (radius, radius), (0, 0))
    padded = np.pad(image.astype(np.float64), pad, "reflect")
    rows = sum(k * padded[t : t + height] for t, k in enumerate(kernel))
    return sum(k * rows[:, t : t + width] for t, k in enumerate(kernel))


def test_mix_channels_with_one_matrix_or_one_per_image():
    images = _images(4, 5, 6).astype("float32")
    luma = images @ np.array([0.299, 0.587, 0.114], "float32")
    np.testing.assert_allclose(mix_channels(images, gray_matrix(1))[..., 0], luma, rtol=1e-6)
    gray = np.stack([luma[0]] * 3, axis=-1)
    np.testing.assert_allclose(mix_channels(images[0], gray_matrix()), gray, rtol=1e-6)
    matrices = np.random.default_rng(1).normal(size=(4, 3, 2)).astype("float32")
    expected = np.einsum("bhwc,bcd->bhwd", images, matrices)
    np.testing.assert_allclose(mix_channels(images, matrices), expected, rtol=1e-5, atol=1e-3)


def test_grayscale_is_luma_per_image():
    images = _images(32, 4)
    outputs = np.asarray(RandomGrayscale(0.5, seed=0)(images))
    luma = images.astype(np.float64) @ [0.299, 0.587, 0.114]
    gray = np.repeat(luma[..., None], 3, axis=-1)
    converted = np.array(
        [np.allclose(o, g, atol=1e-3) for o, g in zip(outputs, gray)]
    )
    kept = np.array([np.array_equal(o, i) for o, i in zip(outputs, images)])
    assert (converted ^ kept).all()
    assert 4 < converted.sum() < 28
    np.testing.assert_allclose(RandomGrayscale(1.0)(images), gray, atol=1e-3)
    np.testing.assert_array_equal(RandomGrayscale(0.0)(images), images)


def test_solarize_is_exact():
    images = _images(2, 5)
    expected = np.where(images >= 100, 255.0 - images, images)
    outputs = Solarize(threshold=100)(images)
    assert outputs.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(outputs), expected)
    edge = np.array([[[[127.0, 128.0, 255.0]]]])
    np.testing.assert_array_equal(Solarize()(edge), [[[[127.0, 127.0, 0.0]]]])


@pytest.mark.parametrize("size, kernel_size", [((10, 7), 5), ((4, 6), 11)])
def test_blur_matches_numpy_separable_gaussian(size, kernel_size):
    images = _images(2, *size)
    outputs = np.asarray(GaussianBlur(kernel_size, sigma=(0.8, 0.8))(images))
    for output, image in zip(outputs, images):
        expected = _numpy_blur(image, 0.8, kernel_size)
        np.testing.assert_allclose(output, expected, atol=2e-3)


def test_blur_per_image_sigma_and_tiny_sigma_identity():
    images = _images(3, 8)
    tiny = GaussianBlur(5, sigma=(0.01, 0.01))(images)
    np.testing.assert_allclose(np.asarray(tiny), images, atol=1e-4)
    sigma = np.array([0.3, 1.0, 2.0], "float32")
    outputs = np.asarray(gaussian_blur(images, sigma, 7))
    for b in range(3):
        expected = _numpy_blur(images[b], sigma[b], 7)
        np.testing.assert_allclose(outputs[b], expected, atol=2e-3)


def test_blur_kernel_size_is_simclr_rule():
    assert [blur_kernel_size(n) for n in (224, 96, 64, 32, 8)] == [
        23, 9, 7, 3, 3
    ]
    with pytest.raises(ValueError, match="image_size"):
        blur_kernel_size(0)


def test_random_apply_rates_and_config():
    images = _images(4, 6)
    solarized = np.where(images >= 128, 255.0 - images, images)
    always, never = RandomApply(Solarize(), 1.0), RandomApply(Solarize(), 0.0)
    np.testing.assert_array_equal(always(images), solarized)
    np.testing.assert_array_equal(never(images), images)
    layer = RandomApply(GaussianBlur(3), rate=0.3, seed=1)
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert isinstance(clone.layer, GaussianBlur) and clone.rate == 0.3
    np.testing.assert_allclose(clone(images), layer(images), atol=1e-4)


def test_flip_is_per_image_horizontal():
    images = _images(32, 4)
    outputs = np.asarray(RandomFlip("horizontal", seed=0)(images))
    flipped = np.array(
        [np.array_equal(o, i[:, ::-1]) for o, i in zip(outputs, images)]
    )
    kept = np.array([np.array_equal(o, i) for o, i in zip(outputs, images)])
    assert (flipped ^ kept).all() and 4 < flipped.sum() < 28


@pytest.mark.parametrize(
    "factory, name",
    [
        (lambda: RandomGrayscale(1.5), "rate"),
        (lambda: RandomApply(Solarize(), rate=-0.1), "rate"),
        (lambda: RandomApply("blur"), "layer"),
        (lambda: Solarize(300), "threshold"),
        (lambda: GaussianBlur(4), "kernel_size"),
        (lambda: GaussianBlur(1), "kernel_size"),
        (lambda: GaussianBlur(3, sigma=(0.0, 1.0)), "sigma"),
        (lambda: GaussianBlur(3, sigma=(2.0, 1.0)), "sigma"),
    ],
)
def test_invalid_arguments(factory, name):
    with pytest.raises(ValueError, match=name):
        factory()
