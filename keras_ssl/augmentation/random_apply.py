import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class RandomApply(keras.layers.Layer):
    """Applies a layer to each image with probability `rate`.

    torchvision's `RandomApply`, drawn per image: one uniform draw per image
    decides whether that image is replaced by the wrapped layer's output
    (SimCLR applies color jitter with rate 0.8 and blur with rate 0.5). The
    wrapped layer runs on the whole batch and must keep its shape.

    Args:
        layer: a `keras.layers.Layer` mapping (B, H, W, C) images to images
            of the same shape, called with `training=True`.
        rate: float in [0, 1], probability of applying `layer` to an image.
            Defaults to 0.5.
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, C) uint8 or float images in [0, 255], or one
            (H, W, C) image, drawn as a batch of one; `layer` then runs (and
            advances its own random generator) only when it applies (the
            per-image route of `data.image_dataset(augmenter=)`).
        training: ignored; the draw is always random.

    Returns:
        float32 images in [0, 255], of the layer's output shape.

    Example:

    ```python
    blur = RandomApply(GaussianBlur(23), rate=0.5)
    outputs = blur(images)
    ```
    """

    def __init__(self, layer, rate=0.5, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not isinstance(layer, keras.layers.Layer):
            raise ValueError(
                "`layer` must be a keras.layers.Layer. "
                f"Received: layer={layer!r}"
            )
        if not 0 <= rate <= 1:
            raise ValueError(
                f"`rate` must be in [0, 1]. Received: rate={rate}"
            )
        self.layer = layer
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        # No weights of its own; `layer` builds on its first call (without
        # this, Keras would trace `call` once more to build it).
        pass

    def call(self, images, training=True):
        images = ops.cast(images, "float32")
        if len(images.shape) == 3:
            # One image: drawn as a batch of one; the layer runs only when
            # it applies.
            draw = keras.random.uniform((1, 1, 1, 1), seed=self.seed_generator)
            return ops.cond(
                draw[0, 0, 0, 0] < self.rate,
                lambda: ops.cast(self.layer(images, training=True), "float32"),
                lambda: images,
            )
        draws = keras.random.uniform(
            (ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator
        )
        outputs = ops.cast(self.layer(images, training=True), "float32")
        return ops.where(draws < self.rate, outputs, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer": keras.saving.serialize_keras_object(self.layer),
                "rate": self.rate,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(
            config["layer"]
        )
        return cls(**config)
