"""Load labelled images into NumPy arrays: image folders and TFDS."""

import os

import numpy as np
import tensorflow as tf

from keras_ssl.data import streaming
from keras_ssl.data.image_dataset import decoded_files
from keras_ssl.data.image_files import list_image_files


def _select(paths, labels, num_classes, max_per_class, rng):
    """Paths and labels class by class, at most `max_per_class` of each."""
    by_class = [[] for _ in range(num_classes)]
    for path, label in zip(paths, labels):
        by_class[label].append(path)
    chosen_paths, chosen_labels = [], []
    for label, files in enumerate(by_class):
        if rng is not None:
            rng.shuffle(files)
        files = files[:max_per_class]
        chosen_paths.extend(files)
        chosen_labels.extend([label] * len(files))
    return chosen_paths, np.asarray(chosen_labels, dtype=np.int32)


def decode_files(paths, image_size=None, batch_size=1024, what="images"):
    """Decodes image files in order into uint8 `(N, H, W, 3)`.

    Unreadable files are skipped and reported once (a warning naming their
    count and first paths). Returns `(images, kept)`: the images and the
    positions in `paths` of the files they come from.
    """
    ds = decoded_files(paths, None, image_size, "resize", False, None, None, None)
    report = streaming.UnreadableReport(len(paths), None, lambda i: paths[i], "image files")
    ds = streaming.finish(
        ds, report, labelled=False, batch_size=batch_size, shuffle=False, seed=None,
        with_index=True, cache=None, shard=None, repeat=False, drop_remainder=False,
        shuffle_buffer=None, fill=False,
    )
    try:
        batches = [(b["images"].numpy(), b["index"].numpy()) for b in ds]
    except tf.errors.InvalidArgumentError as e:
        raise ValueError(
            f"The {what} have different sizes; pass `image_size` to resize "
            f"them. ({e.message.splitlines()[0]})"
        ) from None
    if not batches:
        raise ValueError(f"None of the {len(paths)} {what} could be read (e.g. {paths[0]!r}).")
    images, kept = zip(*batches)
    return np.concatenate(images), np.concatenate(kept)


def load_image_folder(
    directory,
    image_size=None,
    class_names=None,
    max_per_class=None,
    shuffle=False,
    seed=None,
):
    """Load a folder of images, one sub-folder per class, into arrays.

    Reads `<directory>/<class>/**/*.{jpg,jpeg,png,bmp,gif,webp}`
    (case-insensitive extensions; images in nested folders belong to their
    top class folder), decodes the files in a parallel `tf.data` pipeline and
    returns NumPy arrays ready for `keras_ssl.data.with_views`, `fit` or
    evaluation. Loading the 50,000-image CIFAR-10 training folder takes
    seconds on two CPU cores. Unreadable files (corrupt, empty, not images)
    are skipped and reported in one warning naming them. For collections
    that do not fit in memory, stream them with
    `keras_ssl.data.image_dataset`.

    Args:
        directory: root folder with one sub-folder per class.
        image_size: `(height, width)` or an int for square images. Images are
            resized with bilinear interpolation (antialiased when shrinking).
            When `None`, images are kept as they are and must all have the
            same size.
        class_names: class folders to read, in label order. Defaults to all
            sub-folders of `directory` holding images, sorted alphabetically. Give it to fix
            the label order (e.g. `keras_ssl.data.CIFAR10_CLASSES`) or to
            read a subset of classes.
        max_per_class: if set, read at most this many images of each class:
            the first ones in file-name order, or random ones with `shuffle`.
        shuffle: whether to draw `max_per_class` images at random and return
            the images in random order instead of class by class.
        seed: seed of the shuffle.

    Returns:
        `(images, labels, class_names)`: uint8 `(N, H, W, 3)`, int32 `(N,)`
        indexing `class_names`, and the tuple of class names.

    Example:

    ```python
    x, y, names = keras_ssl.data.load_image_folder(
        "cifar10/train",
        image_size=32,
        class_names=keras_ssl.data.CIFAR10_CLASSES,
    )
    ```
    """
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {directory!r} is not a directory.")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(
            f"`max_per_class` must be >= 1 or None, got {max_per_class}."
        )
    paths, labels, class_names = list_image_files(directory, "inferred", class_names)
    rng = np.random.default_rng(seed) if shuffle else None
    paths, labels = _select(paths, labels, len(class_names), max_per_class, rng)
    if rng is not None:
        order = rng.permutation(len(paths))
        paths = [paths[i] for i in order]
        labels = labels[order]
    images, kept = decode_files(paths, image_size, what=f"images in {directory!r}")
    return images, labels[kept], class_names


def load_tfds(name="cifar10", split="train", data_dir=None):
    """Load a labelled image dataset from TensorFlow Datasets into arrays.

    Downloads the dataset on first use (needs network access) and caches it
    in `data_dir` (TFDS's default, `~/tensorflow_datasets`, when `None`).
    The split is read in batches into the returned arrays; to train on a
    split larger than memory, stream it with `keras_ssl.data.tfds_dataset`.

    Args:
        name: TFDS name of a dataset with `(image, label)` supervised keys,
            e.g. `"cifar10"`, `"cifar100"`, `"stl10"`.
        split: TFDS split string, e.g. `"train"`, `"test"`, `"train[:10%]"`.
        data_dir: TFDS data directory.

    Returns:
        `(images, labels)`: uint8 `(N, H, W, C)` and int32 `(N,)`.

    Example:

    ```python
    x_test, y_test = keras_ssl.data.load_tfds("cifar10", split="test")
    ```
    """
    import tensorflow_datasets as tfds

    ds = tfds.load(name, split=split, data_dir=data_dir, as_supervised=True)
    images, labels = [], []
    for x, y in tfds.as_numpy(ds.batch(1024)):  # streamed, never batch_size=-1
        images.append(x)
        labels.append(y)
    return (
        np.concatenate(images).astype(np.uint8),
        np.concatenate(labels).astype(np.int32).reshape(-1),
    )
