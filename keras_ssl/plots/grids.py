"""Image grids people look at: augmented views and nearest neighbours."""

import numpy as np


def image_grid(rows, pad=2):
    """Tiles a list of rows of images (each `(n, H, W, 3)`, [0, 255]) into one
    uint8 image with `pad` white pixels between tiles."""
    rows = [np.clip(np.asarray(r, np.float32), 0, 255).astype(np.uint8) for r in rows]
    height, width = rows[0].shape[1:3]
    columns = max(len(r) for r in rows)
    grid = np.full(
        (len(rows) * (height + pad) + pad, columns * (width + pad) + pad, 3),
        255,
        np.uint8,
    )
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            top, left = pad + i * (height + pad), pad + j * (width + pad)
            grid[top : top + height, left : left + width] = image
    return grid


def save_png(image, path, scale=1):
    """Writes a uint8 `(H, W, 3)` image as PNG, enlarged `scale` times."""
    import tensorflow as tf

    image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    tf.io.write_file(path, tf.io.encode_png(image))


def save_augmentation_grid(augmenter, images, path, num_draws=4, scale=3):
    """One row per image: the original, then `num_draws` draws of every view."""
    images = np.asarray(images)
    draws = [augmenter(images, training=True) for _ in range(num_draws)]
    columns = [np.asarray(view) for views in draws for view in views]
    size = columns[0].shape[1:3]
    if images.shape[1:3] != size:
        import keras

        images = np.asarray(keras.ops.image.resize(images.astype("float32"), size))
    rows = [[images[i]] + [c[i] for c in columns] for i in range(len(images))]
    save_png(image_grid(rows), path, scale=scale)


def save_neighbour_grid(queries, neighbours, path, scale=3):
    """One row per query: the query image, then its nearest neighbours.

    Args:
        queries: `(Q, H, W, 3)` images.
        neighbours: `(Q, k, H, W, 3)` images, nearest first.
    """
    rows = [[q] + list(n) for q, n in zip(np.asarray(queries), np.asarray(neighbours))]
    save_png(image_grid(rows), path, scale=scale)
