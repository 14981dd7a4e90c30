import functools

import keras
from keras import ops

from keras_ssl.augmentation.grayscale import gray_matrix
from keras_ssl.augmentation.grayscale import mix_channels

_BRIGHTNESS, _CONTRAST, _SATURATION, _HUE = range(4)


def _adjust_hue(images, shift):
    """`_rotate_hue`, compiled by XLA on TensorFlow.

    Its ~40 elementwise operations on the channel planes then run as one
    fused pass instead of one kernel each, in a `tf.data` map as in a
    training step (speed in `benchmarks/RESULTS.md`, section 2). The other
    backends compile the whole training step already.
    """
    images = ops.cast(images, "float32")
    shift = ops.cast(shift, "float32")
    if keras.backend.backend() == "tensorflow":
        return _compiled_rotate_hue()(images, shift)
    return _rotate_hue(images, shift)


@functools.cache
def _compiled_rotate_hue():
    import tensorflow as tf

    return tf.function(_rotate_hue, jit_compile=True)


def _rotate_hue(images, shift):
    """Rotates the hue of RGB images in [0, 255] by `shift`, a fraction of
    the hue circle, in HSV (the hexcone model of Smith 1978, as `colorsys`
    and torchvision's `adjust_hue`), saturation and value kept.

    In closed form, elementwise on the channel planes, so that a batch and
    one image share the same math and the same cost per pixel: per pixel,
    the value `V` (largest channel), the chroma `C` (largest minus smallest)
    and the rotated hue `h` in sextants, in [0, 6) (red 0, green 2, blue 4);
    each channel is then `V - C * clip(d - 1, 0, 1)`, `d` the distance from
    `h` to the channel's own hue on the circle (HSV to RGB). The outputs
    stay between each pixel's smallest and largest channel.

    Args:
        images: float (..., H, W, 3) images in [0, 255].
        shift: float, or per image a tensor broadcastable to the images
            without their channel axis, e.g. (B, 1, 1).

    Returns:
        float32 images of the input's shape.
    """
    red, green, blue = ops.unstack(ops.moveaxis(images, -1, 0))
    value = ops.maximum(ops.maximum(red, green), blue)
    chroma = value - ops.minimum(ops.minimum(red, green), blue)
    hue = ops.where(
        value == red,
        green - blue,
        ops.where(value == green, blue - red + 2.0 * chroma, red - green + 4.0 * chroma),
    )
    hue = hue * ops.divide_no_nan(1.0, chroma) + 6.0 * shift  # gray pixels: 0
    hue = hue - 6.0 * ops.floor(hue * (1.0 / 6.0))
    # Distances to red (0 or 6), green and blue; those to green and blue
    # exceed the circle's only where both are >= 2, where the clip saturates.
    distances = (3.0 - ops.abs(hue - 3.0), ops.abs(hue - 2.0), ops.abs(hue - 4.0))
    channels = [value - chroma * ops.clip(d - 1.0, 0.0, 1.0) for d in distances]
    return ops.moveaxis(ops.stack(channels), 0, -1)


def _saturation_matrix(factor):
    """`f I + (1 - f) G`: the channel mixing that blends pixels with their
    grayscale version (torchvision's `adjust_saturation`); `factor` a scalar
    or (B, 1, 1)."""
    return factor * ops.eye(3) + (1.0 - factor) * gray_matrix()


def _mean_gray(images):
    """The mean gray level of each image, (..., 1, 1, 1) (the target of
    torchvision's `adjust_contrast`): the luma of its mean color."""
    return mix_channels(ops.mean(images, axis=(-3, -2), keepdims=True), gray_matrix(1))


@keras.saving.register_keras_serializable(package="keras_ssl")
class ColorJitter(keras.layers.Layer):
    """Randomly changes brightness, contrast, saturation and hue, per image.

    torchvision's `ColorJitter` on [0, 255] images, as used by SimCLR, MoCo,
    SwAV, DINO, Barlow Twins and VICReg. For each image: a brightness factor
    `U[max(0, 1 - b), 1 + b]` multiplies the pixels; a contrast factor
    `U[max(0, 1 - c), 1 + c]` blends the image with its mean gray level; a
    saturation factor `U[max(0, 1 - s), 1 + s]` blends it with its grayscale
    version (luma 0.299 R + 0.587 G + 0.114 B); a hue shift `U[-h, h]` rotates
    the hue in HSV. The four operations run in a random order drawn per
    image, each followed by clipping to [0, 255] (the hue rotation stays in
    range). The batch is processed in vectorized stages, stage j applying to
    each image the j-th operation of its order as one channel mixing per
    image (`grayscale.mix_channels`); the hue rotation, HSV's in closed form
    (`_adjust_hue`), runs once per batch between the stages before and after
    each image's hue position. One image computes the same math for its own
    operations only. A factor of 0 disables its operation. Unlike
    `keras.layers.RandomColorJitter`, brightness is multiplicative, as in
    torchvision and the SimCLR v2 code.

    Args:
        brightness: float >= 0, `b`. Defaults to 0.4.
        contrast: float >= 0, `c`. Defaults to 0.4.
        saturation: float >= 0, `s`. Defaults to 0.4.
        hue: float in [0, 0.5], `h`. Defaults to 0.1. The defaults are MoCo
            v2's; SimCLR uses `(0.8, 0.8, 0.8, 0.2)` times its strength.
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, 3) uint8 or float RGB images in [0, 255], or one
            (H, W, 3) image, drawn as a batch of one, whose stages compute
            only its own operations (the per-image route of
            `data.image_dataset(augmenter=)`).
        training: ignored; the jitter is always random.

    Returns:
        float32 images in [0, 255], of the input's shape.

    Example:

    ```python
    jitter = RandomApply(ColorJitter(0.8, 0.8, 0.8, 0.2), rate=0.8)
    outputs = jitter(images)
    ```
    """

    def __init__(
        self,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        seed=None,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (
            ("brightness", brightness),
            ("contrast", contrast),
            ("saturation", saturation),
        ):
            if value < 0:
                raise ValueError(
                    f"`{name}` must be >= 0. Received: {name}={value}"
                )
        if not 0 <= hue <= 0.5:
            raise ValueError(f"`hue` must be in [0, 0.5]. Received: hue={hue}")
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.hue = float(hue)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, batch_size, low, high):
        return keras.random.uniform(
            (batch_size, 1, 1, 1), low, high, seed=self.seed_generator
        )

    def _blend(self, images, operation, factors):
        """One stage of brightness, contrast and saturation on a batch.

        Each image gets the blend `operation` names, the others `f = 1`
        (identity): `clip(x M + t)` with one small channel matrix per image,
        `M = f I` (brightness, contrast) or `_saturation_matrix(f)`, and `t`
        the contrast target `(1 - f) * _mean_gray(x)` (0 otherwise), the
        math of `_blend_image`.
        """
        factor = 1.0
        for index, value in factors.items():
            factor = ops.where(operation == index, value, factor)
        per_image = factor[..., 0]  # (B, 1, 1), for (B, 3, 3) matrices
        matrix = per_image * ops.eye(3)
        if _SATURATION in factors:
            saturated = operation[..., 0] == _SATURATION
            matrix = ops.where(saturated, _saturation_matrix(per_image), matrix)
        outputs = mix_channels(images, matrix)
        if _CONTRAST in factors:
            target = (1.0 - factor) * _mean_gray(images)
            outputs = outputs + ops.where(operation == _CONTRAST, target, 0.0)
        return ops.clip(outputs, 0.0, 255.0)

    def call(self, images, training=True):
        images = ops.cast(images, "float32")
        if len(images.shape) == 3:
            return self._jitter_image(images)
        factors, shift, order = self._draws(ops.shape(images)[0])
        if self.hue == 0:
            return self._blend_stages(images, order, factors, range(4))
        # The hue rotation runs once on the batch: each image gets the blends
        # before its hue stage, the rotation, then the blends after it (the
        # same sequence).
        hue_stage = ops.argmax(ops.equal(order, _HUE), axis=1)[:, None, None, None]
        images = self._blend_stages(images, order, factors, range(3), hue_stage, before=True)
        images = _adjust_hue(images, shift[..., 0])
        return self._blend_stages(images, order, factors, range(1, 4), hue_stage, before=False)

    def _draws(self, batch_size):
        """Per image: the factors of the enabled blends (by operation), the
        hue shift (None without hue) and a random order of the four
        operations (stage j applies the operation at position j)."""
        factors = {
            index: self._uniform(batch_size, max(0.0, 1.0 - amount), 1.0 + amount)
            for index, amount in (
                (_BRIGHTNESS, self.brightness),
                (_CONTRAST, self.contrast),
                (_SATURATION, self.saturation),
            )
            if amount > 0
        }
        shift = self._uniform(batch_size, -self.hue, self.hue) if self.hue > 0 else None
        order = ops.argsort(
            keras.random.uniform((batch_size, 4), seed=self.seed_generator), axis=1
        )
        return factors, shift, order

    def _jitter_image(self, image):
        """One (H, W, 3) image, drawn as a batch of one: its four
        operations run in its order, each stage computing only its own."""
        factors, shift, order = self._draws(1)
        operations = [lambda x: x] * 4
        for index, factor in factors.items():
            operations[index] = functools.partial(
                self._blend_image, index=index, factor=factor[0, 0, 0, 0]
            )
        if self.hue > 0:
            operations[_HUE] = lambda x: _adjust_hue(x, shift[0, 0, 0, 0])
        for stage in range(4):
            image = ops.switch(order[0, stage], operations, image)
        return image

    @staticmethod
    def _blend_image(image, index, factor):
        """`_blend`'s math for one image and its one operation: torchvision's
        `clip(f x + (1 - f) target)` with black (brightness), its mean gray
        level (contrast) or its grayscale version (saturation, one channel
        mixing)."""
        if index == _SATURATION:
            return ops.clip(mix_channels(image, _saturation_matrix(factor)), 0.0, 255.0)
        outputs = factor * image
        if index == _CONTRAST:
            outputs = outputs + (1.0 - factor) * _mean_gray(image)
        return ops.clip(outputs, 0.0, 255.0)

    def _blend_stages(self, images, order, factors, stages, hue_stage=None, before=True):
        """Stages of `_blend`; with `hue_stage`, only each image's stages
        before (or after) its hue stage apply, the others are identity."""
        if not factors:
            return images
        for stage in stages:
            operation = order[:, stage][:, None, None, None]
            if hue_stage is not None:
                selected = hue_stage > stage if before else hue_stage < stage
                operation = ops.where(selected, operation, _HUE)
            images = self._blend(images, operation, factors)
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "brightness": self.brightness,
                "contrast": self.contrast,
                "saturation": self.saturation,
                "hue": self.hue,
                "seed": self.seed,
            }
        )
        return config
