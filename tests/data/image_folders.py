"""Temporary image folders for the streaming tests: generated with NumPy and
`tf.io.encode_jpeg` / `encode_png`, plus the bad files users have."""

import numpy as np
import tensorflow as tf

# The unreadable files every generated folder holds, relative to its root.
BAD_FILES = ("cat/empty.jpg", "dog/deep/truncated.jpg", "dog/text.jpg")


def write_image(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = tf.constant(image, tf.uint8)
    encoded = tf.io.encode_png(image) if path.suffix.lower() == ".png" else tf.io.encode_jpeg(image)
    path.write_bytes(encoded.numpy())


def mixed_folder(root, per_class=150, seed=0, min_size=20, max_size=400):
    """`root/{cat,dog}/...`: `per_class` images per class of random sizes,
    JPEG (`.jpg`, `.JPEG`) and PNG, flat and in nested folders, a few large
    ones, plus a 0-byte `.jpg`, a truncated JPEG, a text file named `.jpg`
    and a `notes.txt`. Pixels are constant per image: 50 + 100 * label, so
    that a batch's labels can be read back from its pixels.

    Returns the sorted relative paths of the readable images.
    """
    rng = np.random.default_rng(seed)
    good = []
    for label, name in enumerate(("cat", "dog")):
        for i in range(per_class):
            # Mostly small images (fast to write), every 25th up to max_size.
            high = max_size if i % 25 == 0 else 64
            h, w = rng.integers(min_size, high + 1, 2)
            folder = ("", "a/", "a/b/")[i % 3]
            ext = (".jpg", ".png", ".JPEG")[i % 3]
            relative = f"{name}/{folder}{i:03d}{ext}"
            image = np.full((h, w, 3), 50 + 100 * label, np.uint8)
            image[3::7, 2::5] = rng.integers(0, 256, image[3::7, 2::5].shape)  # texture
            write_image(root / relative, image)
            good.append(relative)
    jpeg = (root / good[0]).read_bytes()
    (root / BAD_FILES[0]).write_bytes(b"")
    (root / BAD_FILES[1]).parent.mkdir(parents=True, exist_ok=True)
    (root / BAD_FILES[1]).write_bytes(jpeg[: len(jpeg) // 2])
    (root / BAD_FILES[2]).write_text("not an image")
    (root / "notes.txt").write_text("not listed")
    return sorted(good)
