import keras
from keras import ops

_LUMA = (0.299, 0.587, 0.114)


def gray_matrix(channels=3):
    """The (3, channels) channel mixing that turns RGB pixels gray: each
    output channel is the luma `0.299 R + 0.587 G + 0.114 B` (ITU-R
    BT.601)."""
    return ops.tile(ops.convert_to_tensor(_LUMA, "float32")[:, None], (1, channels))


def mix_channels(images, matrix):
    """Mixes the channels of each pixel: `out[..., j] = sum_i x[..., i] m[i, j]`.

    On TensorFlow one small matrix product; on the other backends
    (XLA-compiled) a sum over the input channels, which XLA fuses into one
    pass. Each form runs 10-20x slower than the other on the other backend
    (measured on CPU). Either way a batch and one image get the same math.

    Args:
        images: float (..., C) images.
        matrix: (C, D), the same for every image, or (B, C, D), one per
            image of (B, H, W, C) images.

    Returns:
        float (..., D) images.
    """
    if keras.backend.backend() == "tensorflow":
        if len(matrix.shape) == 2:
            return ops.matmul(images, matrix)
        return ops.einsum("bhwc,bcd->bhwd", images, matrix)
    if len(matrix.shape) == 3:
        matrix = matrix[:, None, None]  # (B, 1, 1, C, D): per image
    outputs = images[..., :1] * matrix[..., 0, :]
    for i in range(1, matrix.shape[-2]):
        outputs = outputs + images[..., i : i + 1] * matrix[..., i, :]
    return outputs


@keras.saving.register_keras_serializable(package="keras_ssl")
class RandomGrayscale(keras.layers.Layer):
    """Converts each image to grayscale with probability `rate`.

    torchvision's `RandomGrayscale` (SimCLR, MoCo, BYOL: rate 0.2), drawn per
    image: the luma `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as PIL's
    `convert("L")`) is copied to the three channels, one channel mixing
    (`mix_channels(images, gray_matrix())`) on a batch or one image.
    Written here rather than reusing `keras.layers.RandomGrayscale`, which
    uses 0.2989 for red, keeps uint8 inputs as (truncated) uint8 and does
    not record its seed.

    Args:
        rate: float in [0, 1], probability of converting an image.
            Defaults to 0.2.
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, 3) uint8 or float RGB images in [0, 255], or one
            (H, W, 3) image, drawn as a batch of one and converted only when
            drawn (the per-image route of `data.image_dataset(augmenter=)`).
        training: ignored; the draw is always random.

    Returns:
        float32 images in [0, 255], of the input's shape.

    Example:

    ```python
    gray = RandomGrayscale(rate=0.2, seed=0)
    outputs = gray(images)
    ```
    """

    def __init__(self, rate=0.2, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(
                f"`rate` must be in [0, 1]. Received: rate={rate}"
            )
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        images = ops.cast(images, "float32")
        if len(images.shape) == 3:
            # One image: drawn as a batch of one; converted only when drawn.
            draw = keras.random.uniform((1, 1, 1, 1), seed=self.seed_generator)
            return ops.cond(
                draw[0, 0, 0, 0] < self.rate,
                lambda: mix_channels(images, gray_matrix()),
                lambda: images,
            )
        draws = keras.random.uniform(
            (ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator
        )
        return ops.where(draws < self.rate, mix_channels(images, gray_matrix()), images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
