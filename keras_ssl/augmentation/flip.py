import keras

MODES = ("horizontal", "vertical", "horizontal_and_vertical")


@keras.saving.register_keras_serializable(package="keras_ssl")
class RandomFlip(keras.layers.RandomFlip):
    """`keras.layers.RandomFlip` with a fast path for one image.

    The flip of every SSL recipe (torchvision's `RandomHorizontalFlip`,
    probability 0.5). Batches, dicts and `training=False` go through Keras's
    layer unchanged. One (H, W, C) image, the per-image route of
    `data.image_dataset(augmenter=)`, draws its flip as Keras does (one
    uniform from the same generator, flipped when `<= 0.5`, the same draw
    flipping both axes in `"horizontal_and_vertical"` mode) and flips only
    when drawn, in a `cond`, instead of Keras's batch machinery (a batch axis
    added, both the image and its flip computed, a broadcast select): the
    same output as `keras.layers.RandomFlip` with the same seed, on the image
    or on a batch of one.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"`
            (the default, as Keras).
        seed: int or None, seed of the layer's random generator.
        data_format: `"channels_last"` or `"channels_first"`; None: Keras's
            image data format.

    Call arguments:
        data: (B, H, W, C) images or one (H, W, C) image (channels first
            with `data_format="channels_first"`), or Keras's dict of images
            and boxes.
        training: whether to flip; `False` returns the images.

    Returns:
        The images (in the layer's compute dtype), flipped or not.

    Example:

    ```python
    flip = RandomFlip("horizontal", seed=0, dtype="float32")
    outputs = flip(images)
    ```
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}")
        super().__init__(mode=mode, seed=seed, data_format=data_format, **kwargs)

    def call(self, data, training=True):
        if not training or isinstance(data, dict) or len(data.shape) != 3:
            return super().call(data, training=training)
        backend = self.backend
        image = backend.cast(backend.convert_to_tensor(data), self.compute_dtype)
        draw = backend.random.uniform(
            (1, 1, 1), seed=self._get_seed_generator(backend._backend)
        )
        width, height = (-2, -3) if self.data_format == "channels_last" else (-1, -2)
        axes = []
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            axes.append(width)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            axes.append(height)

        def flipped():
            output = image
            for axis in axes:
                output = backend.numpy.flip(output, axis=axis)
            return output

        return backend.core.cond(draw[0, 0, 0] <= 0.5, flipped, lambda: image)
