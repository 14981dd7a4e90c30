import functools

import keras
from keras import ops

from keras_ssl.augmentation.grayscale import luma

_BRIGHTNESS, _CONTRAST, _SATURATION, _HUE = range(4)


def _adjust_hue(images, shift):
    """Rotates the hue by `shift` (a fraction of the hue circle) in HSV."""
    hsv = ops.image.rgb_to_hsv(images / 255.0)
    hue = ops.mod(hsv[..., :1] + shift, 1.0)
    rgb = ops.image.hsv_to_rgb(ops.concatenate([hue, hsv[..., 1:]], axis=-1))
    return ops.clip(rgb * 255.0, 0.0, 255.0)


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
    image, each followed by clipping to [0, 255]. The batch is processed in
    vectorized stages, stage j applying to each image the j-th operation of
    its order; the hue rotation, an HSV round trip, runs once per batch
    between the stages before and after each image's hue position. A factor
    of 0 disables its operation. Unlike
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
        """One stage of brightness, contrast and saturation.

        torchvision's three blends `clip(f * x + (1 - f) * target)` with
        black, the mean gray level and the grayscale image; each image gets
        the operation `operation` names, the others `f = 1` (identity).
        """
        factor = 1.0
        for index, value in factors.items():
            factor = ops.where(operation == index, value, factor)
        target = 0.0
        if _CONTRAST in factors or _SATURATION in factors:
            gray = luma(images)
            if _SATURATION in factors:
                target = ops.where(operation == _SATURATION, gray, target)
            if _CONTRAST in factors:
                mean = ops.mean(gray, axis=(1, 2, 3), keepdims=True)
                target = ops.where(operation == _CONTRAST, mean, target)
        return ops.clip(factor * images + (1.0 - factor) * target, 0.0, 255.0)

    def call(self, images, training=True):
        images = ops.cast(images, "float32")
        if len(images.shape) == 3:
            return self._jitter_image(images)
        factors, shift, order = self._draws(ops.shape(images)[0])
        if self.hue == 0:
            return self._blend_stages(images, order, factors, range(4))
        # The hue rotation (an HSV round trip, the costly operation) runs
        # once on the batch: each image gets the blends before its hue stage,
        # the rotation, then the blends after it (the same sequence).
        hue_stage = ops.argmax(ops.equal(order, _HUE), axis=1)[:, None, None, None]
        images = self._blend_stages(images, order, factors, range(3), hue_stage, before=True)
        images = _adjust_hue(images, shift)
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
            operations[index] = functools.partial(self._blend_image, index=index, factor=factor[0])
        if self.hue > 0:
            operations[_HUE] = lambda x: _adjust_hue(x, shift[0])
        for stage in range(4):
            image = ops.switch(order[0, stage], operations, image)
        return image

    @staticmethod
    def _blend_image(image, index, factor):
        """torchvision's blend of one image with black (brightness), its mean
        gray level (contrast) or its grayscale version (saturation)."""
        target = 0.0
        if index == _CONTRAST:
            target = ops.mean(luma(image))
        elif index == _SATURATION:
            target = luma(image)
        return ops.clip(factor * image + (1.0 - factor) * target, 0.0, 255.0)

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
