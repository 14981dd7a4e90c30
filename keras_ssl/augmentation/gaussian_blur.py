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


def _blur_columns(image, taps):
    """Blurs one (H, W, C) image down its columns with the 1-D `taps`, over
    its reflect-padded borders (`numpy.pad(mode="reflect")`). Each row of W *
    C values is one channel of a depthwise convolution over the H positions:
    hundreds of channels vectorize where 3 do not. H must exceed the radius.
    """
    kernel_size = taps.shape[0]
    radius = kernel_size // 2
    height, width, channels = ops.shape(image)
    padded = ops.concatenate(
        [
            ops.flip(image[1 : radius + 1], axis=0),
            image,
            ops.flip(image[height - radius - 1 : height - 1], axis=0),
        ],
        axis=0,
    )
    rows = ops.reshape(padded, (1, height + 2 * radius, 1, width * channels))
    kernel = ops.broadcast_to(
        ops.reshape(taps, (kernel_size, 1, 1, 1)), (kernel_size, 1, width * channels, 1)
    )
    blurred = ops.depthwise_conv(rows, kernel, padding="valid")
    return ops.reshape(blurred, (height, width, channels))


def gaussian_blur_image(image, sigma, kernel_size):
    """Blurs one (H, W, C) image with a Gaussian of std `sigma` (a (1,)
    tensor): down the columns, then, transposed, along the rows
    (`_blur_columns`), the same result as `gaussian_blur` on a batch of one
    at a fraction of the cost for large images. H and W must exceed
    `kernel_size // 2`."""
    taps = _gaussian_kernels(sigma, kernel_size)[0]
    x = _blur_columns(ops.cast(image, "float32"), taps)
    x = _blur_columns(ops.transpose(x, (1, 0, 2)), taps)
    return ops.transpose(x, (1, 0, 2))


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
    one channel per row, whose cost grows with the side rather than its
    square.

    Args:
        kernel_size: odd int >= 3, kernel side in pixels.
        sigma: `(min, max)` range of the standard deviation in pixels,
            `0 < min <= max`. Defaults to `(0.1, 2.0)` (SimCLR).
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, C) uint8 or float images in [0, 255], or one
            (H, W, C) image, drawn as a batch of one and blurred by two
            depthwise convolutions, one channel per row (the per-image
            route of `data.image_dataset(augmenter=)`).
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
        if not single:
            return gaussian_blur(images, sigma, self.kernel_size)

        def convolutions():
            return gaussian_blur_image(images, sigma, self.kernel_size)

        def matrices():  # images no larger than the kernel's radius
            return gaussian_blur(images[None], sigma, self.kernel_size)[0]

        radius = self.kernel_size // 2
        if None not in images.shape[:2]:  # static sizes: only one branch is built
            return convolutions() if min(images.shape[:2]) > radius else matrices()
        shape = ops.shape(images)
        return ops.cond(ops.minimum(shape[0], shape[1]) > radius, convolutions, matrices)

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
