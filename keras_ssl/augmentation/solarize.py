import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class Solarize(keras.layers.Layer):
    """Inverts the pixels at or above a threshold: `x -> 255 - x`.

    The solarization of BYOL's asymmetric recipe (second view, probability
    0.2) and torchvision's `RandomSolarize` on [0, 255] images (threshold 128
    is 0.5 on [0, 1] data). Deterministic: wrap it in `RandomApply` for a
    per-image probability.

    Args:
        threshold: float in [0, 255]; pixels `>= threshold` are inverted.
            Defaults to 128.

    Call arguments:
        images: (B, H, W, C) uint8 or float images in [0, 255].
        training: ignored.

    Returns:
        float32 (B, H, W, C) images in [0, 255].

    Example:

    ```python
    solarize = RandomApply(Solarize(), rate=0.2)
    outputs = solarize(images)
    ```
    """

    def __init__(self, threshold=128, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not 0 <= threshold <= 255:
            raise ValueError(
                "`threshold` must be in [0, 255]. "
                f"Received: threshold={threshold}"
            )
        self.threshold = float(threshold)

    def call(self, images, training=True):
        images = ops.cast(images, "float32")
        return ops.where(images >= self.threshold, 255.0 - images, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"threshold": self.threshold})
        return config
