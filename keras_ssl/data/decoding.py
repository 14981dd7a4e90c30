"""Decoding one image file to a fixed-size uint8 image inside `tf.data`,
with the first crop fused into the JPEG decoder."""

import tensorflow as tf

CROPS = ("resize", "center")


def check_crop(crop):
    """Validates `crop`: 'resize', 'center' or `(scale, ratio)` ranges."""
    if isinstance(crop, str):
        if crop not in CROPS:
            raise ValueError(
                f"`crop` must be 'resize', 'center' or a (scale, ratio) pair of "
                f"ranges such as ((0.08, 1.0), (3 / 4, 4 / 3)). Received: crop={crop!r}"
            )
        return crop
    try:
        (low_scale, high_scale), (low_ratio, high_ratio) = crop
        valid = 0 < low_scale <= high_scale <= 1 and 0 < low_ratio <= high_ratio
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            "A random `crop` is a pair of ranges (scale, ratio), as in "
            "RandomResizedCrop: 0 < scale[0] <= scale[1] <= 1 and "
            f"0 < ratio[0] <= ratio[1]. Received: crop={crop!r}"
        )
    return (tuple(map(float, crop[0])), tuple(map(float, crop[1])))


def crop_window(shape, size, crop, seed):
    """`[y, x, h, w]` int32 of the region to keep of an image of `shape`."""
    height, width = shape[0], shape[1]
    if crop == "resize":
        return tf.stack([0, 0, height, width])
    if crop == "center":
        # The largest centred region with the output's aspect ratio.
        target = size[1] / size[0]
        h = tf.minimum(height, tf.cast(tf.cast(width, tf.float32) / target, tf.int32))
        w = tf.minimum(width, tf.cast(tf.cast(h, tf.float32) * target, tf.int32))
        h, w = tf.maximum(h, 1), tf.maximum(w, 1)
        return tf.stack([(height - h) // 2, (width - w) // 2, h, w])
    # Inception-style random crop (Szegedy et al., 2015), the
    # `sample_distorted_bounding_box` call of TensorFlow's ImageNet and
    # SimCLR input pipelines; the whole image when 10 tries fail.
    scale, ratio = crop
    begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.stack([height, width, 3]),
        bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
        seed=seed,
        min_object_covered=0.0,
        aspect_ratio_range=ratio,
        area_range=scale,
        max_attempts=10,
        use_image_if_no_bounding_boxes=True,
    )
    return tf.stack([begin[0], begin[1], extent[0], extent[1]])


def resize(image, size):
    """Bilinear resize (antialiased when shrinking) to uint8 `size + (3,)`."""
    if size is None:
        return image
    image = tf.image.resize(image, size, antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def crop_image(image, size, crop, seed):
    """Cuts `crop_window` out of a decoded image `(H, W, C)`."""
    if crop == "resize":
        return image
    y, x, h, w = tf.unstack(crop_window(tf.shape(image), size, crop, seed))
    return image[y : y + h, x : x + w]


def decode(contents, size, crop="resize", seed=None, fused=True):
    """Decodes one encoded image (JPEG, PNG, BMP, GIF's first frame, WebP)
    to uint8 RGB, crops it (`crop_window`) and resizes it to `size`.

    For a JPEG (`fused=True`) only the crop window is decoded
    (`tf.image.decode_and_crop_jpeg`, the image size read from its header).
    Raises `tf.errors.InvalidArgumentError` on data that is not an image:
    `image_dataset` drops those elements with `ignore_errors` and reports
    their files.
    """
    seed = tf.zeros((2,), tf.int64) if seed is None else seed

    def jpeg():
        window = crop_window(tf.image.extract_jpeg_shape(contents), size, crop, seed)
        return tf.image.decode_and_crop_jpeg(contents, window, channels=3)

    def whole():
        image = tf.io.decode_image(contents, channels=3, expand_animations=False)
        return crop_image(image, size, crop, seed)

    image = tf.cond(tf.io.is_jpeg(contents), jpeg, whole) if fused and crop != "resize" else whole()
    image.set_shape((None, None, 3))
    return resize(image, size)
