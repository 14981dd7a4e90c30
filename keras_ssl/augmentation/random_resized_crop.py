import math
import numbers

import keras
from keras import ops

_ATTEMPTS = 10


def _interpolation_matrix(start, length, out_size, in_size):
    """Per-sample bilinear resampling matrix, shape (B, out_size, in_size).

    Row `i` of sample `b` holds the weights that output pixel `i` gives to the
    input pixels, for a crop `[start, start + length)` of an axis of size
    `in_size` resized to `out_size` (half-pixel centers, no antialiasing, as
    PyTorch's `interpolate(mode="bilinear", align_corners=False)`).
    """
    centers = ops.arange(out_size, dtype="float32") + 0.5
    source = centers[None, :] * (length / out_size)[:, None] - 0.5
    source = ops.maximum(source, 0.0)
    low = ops.floor(source)
    frac = source - low
    high = ops.minimum(low + 1.0, length[:, None] - 1.0)
    low = low + start[:, None]
    high = high + start[:, None]
    positions = ops.arange(in_size, dtype="float32")[None, None, :]
    low_weight = ops.cast(ops.equal(positions, low[..., None]), "float32")
    high_weight = ops.cast(ops.equal(positions, high[..., None]), "float32")
    return (1.0 - frac)[..., None] * low_weight + frac[..., None] * high_weight


def resized_crop(images, boxes, height, width):
    """Crops one box per image and resizes it bilinearly to (height, width).

    Args:
        images: float tensor (B, H, W, C).
        boxes: float tensor (B, 4) of integer-valued `(top, left, crop_height,
            crop_width)` in pixels, each box inside its image.
        height: int, output height.
        width: int, output width.

    Returns:
        float32 tensor (B, height, width, C).
    """
    images = ops.cast(images, "float32")
    boxes = ops.cast(boxes, "float32")
    shape = ops.shape(images)
    rows = _interpolation_matrix(boxes[:, 0], boxes[:, 2], height, shape[1])
    cols = _interpolation_matrix(boxes[:, 1], boxes[:, 3], width, shape[2])
    outputs = ops.einsum("bih,bhwc->biwc", rows, images)
    return ops.einsum("bjw,biwc->bijc", cols, outputs)


@keras.saving.register_keras_serializable(package="keras_ssl")
class RandomResizedCrop(keras.layers.Layer):
    """Crops a random box of each image and resizes it to a fixed size.

    The Inception crop (Szegedy et al., 2015) with torchvision's
    `RandomResizedCrop` semantics, the first step of every SSL recipe
    (SimCLR, MoCo, BYOL, ...). For each image independently: draw an area
    fraction `U(scale)` and a log-uniform aspect ratio in `ratio`, take
    `w = round(sqrt(A * r))`, `h = round(sqrt(A / r))`; the first of 10
    attempts that fits inside the image is used, at an offset uniform over
    the valid positions; if none fits, a center crop with the image's aspect
    ratio clamped to `ratio`. The box is resized bilinearly (half-pixel
    centers, no antialiasing) with two per-sample interpolation matrices, so
    the whole batch is one vectorized computation for any input or output
    size.

    Args:
        height: int, output height.
        width: int, output width.
        scale: `(min, max)` fraction of the image area covered by the crop,
            `0 < min <= max <= 1`. Defaults to `(0.08, 1.0)` (torchvision,
            SimCLR, BYOL).
        ratio: `(min, max)` aspect ratio (width / height) of the crop,
            `0 < min <= max`. Defaults to `(3/4, 4/3)`.
        seed: int or None, seed of the layer's random generator.

    Call arguments:
        images: (B, H, W, C) uint8 or float images in [0, 255]; H and W may
            be dynamic. Or one (H, W, C) image of any size, drawn as a batch
            of one, whose box is sliced and resized (the per-image route of
            `data.image_dataset(augmenter=)`).
        training: ignored; the crop is always random.

    Returns:
        float32 (B, height, width, C) images in [0, 255] (no batch axis for
        one image).

    Example:

    ```python
    crop = RandomResizedCrop(32, 32, scale=(0.2, 1.0), seed=0)
    views = crop(np.zeros((8, 64, 64, 3), "uint8"))  # (8, 32, 32, 3) float32
    ```
    """

    def __init__(
        self,
        height,
        width,
        scale=(0.08, 1.0),
        ratio=(3.0 / 4.0, 4.0 / 3.0),
        seed=None,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("height", height), ("width", width)):
            if not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(
                    f"`{name}` must be a positive int. Received: "
                    f"{name}={value!r}"
                )
        scale = tuple(float(s) for s in scale)
        if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(
                "`scale` must be (min, max) with 0 < min <= max <= 1. "
                f"Received: scale={scale}"
            )
        ratio = tuple(float(r) for r in ratio)
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(
                "`ratio` must be (min, max) with 0 < min <= max. "
                f"Received: ratio={ratio}"
            )
        self.height = int(height)
        self.width = int(width)
        self.scale = scale
        self.ratio = ratio
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def sample_boxes(self, batch_size, image_height, image_width):
        """Draws one crop box per image.

        Args:
            batch_size: int or scalar tensor, number of boxes.
            image_height: int or scalar tensor, input height.
            image_width: int or scalar tensor, input width.

        Returns:
            float32 (B, 4) integer-valued `(top, left, crop_height,
            crop_width)`.
        """
        image_h = ops.cast(image_height, "float32")
        image_w = ops.cast(image_width, "float32")
        shape = (batch_size, _ATTEMPTS)
        area = image_h * image_w * keras.random.uniform(
            shape, self.scale[0], self.scale[1], seed=self.seed_generator
        )
        log_ratio = keras.random.uniform(
            shape,
            math.log(self.ratio[0]),
            math.log(self.ratio[1]),
            seed=self.seed_generator,
        )
        aspect = ops.exp(log_ratio)
        crop_w = ops.round(ops.sqrt(area * aspect))
        crop_h = ops.round(ops.sqrt(area / aspect))
        fits = (
            (crop_w > 0)
            & (crop_w <= image_w)
            & (crop_h > 0)
            & (crop_h <= image_h)
        )
        first = ops.argmax(ops.cast(fits, "int32"), axis=1)[:, None]
        crop_h = ops.take_along_axis(crop_h, first, axis=1)[:, 0]
        crop_w = ops.take_along_axis(crop_w, first, axis=1)[:, 0]
        offsets = keras.random.uniform(
            (batch_size, 2), seed=self.seed_generator
        )
        top = ops.minimum(
            ops.floor(offsets[:, 0] * (image_h - crop_h + 1)), image_h - crop_h
        )
        left = ops.minimum(
            ops.floor(offsets[:, 1] * (image_w - crop_w + 1)), image_w - crop_w
        )

        # torchvision's fallback: center crop, aspect ratio clamped to `ratio`.
        image_ratio = image_w / image_h
        fallback_h = ops.where(
            image_ratio < self.ratio[0],
            ops.round(image_w / self.ratio[0]),
            image_h,
        )
        fallback_w = ops.where(
            image_ratio > self.ratio[1],
            ops.round(image_h * self.ratio[1]),
            image_w,
        )
        fallback = ops.stack(
            [
                ops.floor((image_h - fallback_h) / 2),
                ops.floor((image_w - fallback_w) / 2),
                fallback_h,
                fallback_w,
            ]
        )
        boxes = ops.stack([top, left, crop_h, crop_w], axis=1)
        return ops.where(ops.any(fits, axis=1)[:, None], boxes, fallback)

    def call(self, images, training=True):
        shape = ops.shape(images)
        if len(images.shape) == 3:
            # One image, drawn as a batch of one: its box is sliced and
            # resized (the same sampling points as `resized_crop`), a cost
            # that grows with the output rather than with the input's area.
            box = ops.cast(self.sample_boxes(1, shape[0], shape[1])[0], "int32")
            crop = ops.slice(images, (box[0], box[1], 0), (box[2], box[3], shape[2]))
            return ops.image.resize(
                ops.cast(crop, "float32"),
                (self.height, self.width),
                interpolation="bilinear",
                antialias=False,
            )
        boxes = self.sample_boxes(shape[0], shape[1], shape[2])
        return resized_crop(images, boxes, self.height, self.width)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-3], self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height": self.height,
                "width": self.width,
                "scale": self.scale,
                "ratio": self.ratio,
                "seed": self.seed,
            }
        )
        return config
