"""The CIFAR-10 sample bundled with keras_ssl."""

import os

import numpy as np
import tensorflow as tf

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

SAMPLE_PATH = os.path.join(os.path.dirname(__file__), "cifar10_sample.npz")


def _decode(jpeg, offsets):
    """Decode concatenated JPEG files into a uint8 (N, H, W, 3) array."""
    blobs = [jpeg[a:b].tobytes() for a, b in zip(offsets[:-1], offsets[1:])]
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(blobs, dtype=tf.string))
    ds = ds.map(
        lambda b: tf.io.decode_jpeg(b, channels=3),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return next(iter(ds.batch(len(blobs)))).numpy()


def load_sample():
    """Load the bundled class-balanced sample of CIFAR-10.

    4,000 training images (400 per class) and 1,000 test images (100 per
    class) of CIFAR-10 (Krizhevsky, 2009), drawn with a fixed seed by
    `keras_ssl.data.make_sample` and shipped as their original JPEG bytes.
    Enough to run the examples and tests offline; use `load_tfds` or
    `load_image_folder` for the full dataset.

    Returns:
        `(x_train, y_train), (x_test, y_test)`, as
        `keras.datasets.cifar10.load_data()` returns them but with flat
        labels: images uint8 `(N, 32, 32, 3)`, labels int32 `(N,)` indexing
        `CIFAR10_CLASSES`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    x_train.shape, keras_ssl.data.CIFAR10_CLASSES[y_train[0]]
    # ((4000, 32, 32, 3), 'airplane')
    ```
    """
    with np.load(SAMPLE_PATH) as archive:
        splits = []
        for split in ("train", "test"):
            images = _decode(
                archive[f"{split}_jpeg"], archive[f"{split}_offsets"]
            )
            labels = archive[f"{split}_labels"].astype(np.int32)
            splits.append((images, labels))
    return tuple(splits)
