import keras
from keras import ops

_LUMA = (0.299, 0.587, 0.114)


@keras.saving.register_keras_serializable(package="keras_ssl")
class RandomGrayscale(keras.layers.Layer):
    """Converts each image to grayscale with probability `rate`.

    torchvision's `RandomGrayscale` (SimCLR, MoCo, BYOL: rate 0.2), drawn per
    image: the luma `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as PIL's
    `convert("L")`) is copied to the three channels. Written here rather than
    reusing `keras.layers.RandomGrayscale`, which uses 0.2989 for red, keeps
    uint8 inputs as (truncated) uint8 and does not record its seed.

    Args:
        rate: float in [0, 1], probability of converting an image.
            Defaults to 0.2.
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, 3) uint8 or float RGB images in [0, 255].
        training: ignored; the draw is always random.

    Returns:
        float32 (B, H, W, 3) images in [0, 255].

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
        draws = keras.random.uniform(
            (ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator
        )
        gray = ops.sum(
            images * ops.convert_to_tensor(_LUMA), axis=-1, keepdims=True
        )
        return ops.where(draws < self.rate, gray, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
