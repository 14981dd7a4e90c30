import numbers

import keras
from keras import ops


def blur_kernel_size(image_size):
    """SimCLR's blur kernel size: 10% of the image side, made odd (>= 3).

    `2 * (image_size // 20) + 1`, as SimCLR's TF code (`image_size // 10`,
    then radius `// 2`): 224 -> 23, 96 -> 9, 32 -> 3.
    """
    if not isinstance(image_size, numbers.Integral) or image_size <= 0:
        raise ValueError(
            "`image_size` must be a positive int. "
            f"Received: image_size={image_size!r}"
        )
    return max(3, 2 * (int(image_size) // 20) + 1)


def _blur_matrix(kernels, size):
    """Per-sample banded matrices (B, size, size) for a 1-D convolution.

    `kernels` is (B, K); borders are reflected without repeating the edge
    pixel (`numpy.pad(mode="reflect")`, torchvision's padding).
    """
    kernel_size = ops.shape(kernels)[1]
    taps = ops.arange(size)[:, None] + ops.arange(kernel_size)[None, :]
    taps = taps - kernel_size // 2
    period = ops.maximum(2 * (size - 1), 1)
    taps = ops.mod(taps, period)
    taps = ops.where(taps < size, taps, period - taps)
    one_hot = ops.cast(
        ops.equal(taps[..., None], ops.arange(size)[None, None, :]), "float32"
    )
    return ops.einsum("bt,ith->bih", kernels, one_hot)


def _gaussian_kernels(sigma, kernel_size):
    """(B, kernel_size) normalized Gaussian taps, one row per sigma."""
    offsets = ops.arange(kernel_size, dtype="float32") - kernel_size // 2
    kernels = ops.exp(-0.5 * ops.square(offsets[None, :] / sigma[:, None]))
    return kernels / ops.sum(kernels, axis=1, keepdims=True)


def gaussian_blur_image(image, sigma, kernel_size):
    """Blurs one (H, W, C) image with a Gaussian of std `sigma` (a (1,)
    tensor): two depthwise convolutions over its reflect-padded borders, the
    same result as `gaussian_blur` on a batch of one at a fraction of the
    cost for large images. H and W must exceed `kernel_size // 2`."""
    taps = _gaussian_kernels(sigma, kernel_size)[0]
    channels = image.shape[-1]
    radius = kernel_size // 2
    x = ops.pad(
        ops.cast(image, "float32")[None],
        ((0, 0), (radius, radius), (radius, radius), (0, 0)),
        mode="reflect",
    )
    column = ops.tile(ops.reshape(taps, (kernel_size, 1, 1, 1)), (1, 1, channels, 1))
    x = ops.depthwise_conv(x, column, padding="valid")
    x = ops.depthwise_conv(x, ops.reshape(column, (1, kernel_size, channels, 1)), padding="valid")
    return x[0]


def gaussian_blur(images, sigma, kernel_size):
    """Blurs each image with its own Gaussian, separably, reflect padding.

    Args:
        images: float tensor (B, H, W, C).
        sigma: float tensor (B,), one standard deviation per image.
        kernel_size: odd int, kernel side.

    Returns:
        float32 tensor (B, H, W, C).
    """
    images = ops.cast(images, "float32")
    kernels = _gaussian_kernels(sigma, kernel_size)
    shape = ops.shape(images)
    rows = _blur_matrix(kernels, shape[1])
    cols = _blur_matrix(kernels, shape[2])
    outputs = ops.einsum("bih,bhwc->biwc", rows, images)
    return ops.einsum("bjw,biwc->bijc", cols, outputs)


@keras.saving.register_keras_serializable(package="keras_ssl")
class GaussianBlur(keras.layers.Layer):
    """Gaussian blur with one random standard deviation per image.

    SimCLR / BYOL / MoCo v2 blur (torchvision's `GaussianBlur` semantics):
    sigma `U(sigma)` drawn per image, a separable kernel of side
    `kernel_size` (`blur_kernel_size(image_size)`: 23 at 224 px) and
    reflect padding. On a batch, each image's two 1-D convolutions are
    banded matrices applied with two einsums (dynamic batch and image sizes
    need no reshaping); a single image takes two depthwise convolutions,
    whose cost grows with the side rather than its square.

    Args:
        kernel_size: odd int >= 3, kernel side in pixels.
        sigma: `(min, max)` range of the standard deviation in pixels,
            `0 < min <= max`. Defaults to `(0.1, 2.0)` (SimCLR).
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, C) uint8 or float images in [0, 255], or one
            (H, W, C) image, drawn as a batch of one and blurred by two
            depthwise convolutions (the per-image route of
            `data.image_dataset(augmenter=)`).
        training: ignored; sigma is always random.

    Returns:
        float32 images in [0, 255], of the input's shape.

    Example:

    ```python
    blur = RandomApply(GaussianBlur(blur_kernel_size(224)), rate=0.5)
    outputs = blur(images)
    ```
    """

    def __init__(self, kernel_size, sigma=(0.1, 2.0), seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if (
            not isinstance(kernel_size, numbers.Integral)
            or kernel_size < 3
            or kernel_size % 2 == 0
        ):
            raise ValueError(
                "`kernel_size` must be an odd int >= 3. "
                f"Received: kernel_size={kernel_size!r}"
            )
        sigma = tuple(float(s) for s in sigma)
        if len(sigma) != 2 or not 0 < sigma[0] <= sigma[1]:
            raise ValueError(
                "`sigma` must be (min, max) with 0 < min <= max. "
                f"Received: sigma={sigma}"
            )
        self.kernel_size = int(kernel_size)
        self.sigma = sigma
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        single = len(images.shape) == 3
        sigma = keras.random.uniform(
            (1,) if single else (ops.shape(images)[0],),
            self.sigma[0],
            self.sigma[1],
            seed=self.seed_generator,
        )
        if single:
            shape = ops.shape(images)
            return ops.cond(
                ops.minimum(shape[0], shape[1]) > self.kernel_size // 2,
                lambda: gaussian_blur_image(images, sigma, self.kernel_size),
                lambda: gaussian_blur(images[None], sigma, self.kernel_size)[0],
            )
        return gaussian_blur(images, sigma, self.kernel_size)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": self.kernel_size,
                "sigma": self.sigma,
                "seed": self.seed,
            }
        )
        return config
