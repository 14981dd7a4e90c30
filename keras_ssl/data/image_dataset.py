"""Stream image files into `fit`: a `tf.data` pipeline that decodes as
training goes."""

import tensorflow as tf

from keras_ssl.data import decoding
from keras_ssl.data import streaming
from keras_ssl.data.image_files import list_image_files


def decoded_files(paths, labels, size, crop, shuffle, seed, shard, cache, fused=True):
    """Unbatched `{"image", "index"[, "label"]}` of the files, decoded in
    parallel, before `streaming.finish`. `size=None` keeps each image's own
    size (`load_image_folder`)."""
    files = tf.constant(paths)
    classes = None if labels is None else tf.constant(labels, tf.int32)
    ds = streaming.item_indices(len(paths), shard)
    if shuffle and cache is None:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = streaming.random_seeds(ds, seed)

    def load(index, item_seed):
        image = decoding.decode(tf.io.read_file(files[index]), size, crop, item_seed, fused)
        element = {"image": image, "index": index}
        if classes is not None:
            element["label"] = classes[index]
        return element

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)


def image_dataset(
    source,
    image_size,
    batch_size,
    labels=None,
    shuffle=True,
    seed=None,
    crop="resize",
    with_index=False,
    class_names=None,
    cache=None,
    shard="auto",
    repeat=False,
    drop_remainder=True,
    shuffle_buffer=10_000,
    augmenter=None,
):
    """A `tf.data.Dataset` of uint8 image batches streamed from files.

    Lists the files (decoding nothing), then reads and decodes them in a
    parallel `tf.data` pipeline as training goes: memory does not grow with
    the number of files (the list of paths aside). Each image is decoded to
    RGB (grayscale and alpha converted, a GIF's first frame), cut by `crop`
    and resized (bilinear, antialiased when shrinking) to `image_size`; the
    method's augmenter then makes the views from these batches on the
    model's device.

    Unreadable files (corrupt, truncated, empty, or not images despite their
    extension) never stop an epoch: they are skipped, and their count and
    first paths are reported once, as a warning at the end of the first
    pass. Files without an image extension are not listed. With
    `drop_remainder` (the default) every pass yields one image per listed
    file, the places of unreadable ones taken by the next pass's first
    images, so that the number of batches is known to `fit`.

    Args:
        source: a folder (searched recursively: flat, nested or one
            sub-folder per class), a glob pattern (`"photos/**/*.jpg"`) or a
            list of paths. Extensions jpg, jpeg, png, bmp, gif, webp, in any
            case.
        image_size: an int (square) or `(height, width)` of the batches;
            with an `augmenter`, the size the images are resized to before
            it, or None to keep each image's own size.
        batch_size: images per batch (the global batch under a strategy).
        labels: `None` (images only), `"inferred"` (class = the first folder
            under `source`; batches are `(images, labels)`) or a list of int
            labels, one per file in listing order (sorted paths for a folder
            or pattern, the given order for a list).
        shuffle: whether to shuffle the files in each pass.
        seed: seed of the shuffle and of random crops.
        crop: the region kept before resizing: `"resize"` (the whole image,
            aspect ratio not kept, as `keras.utils.image_dataset_from_directory`
            does), `"center"` (the largest centered region of the output's
            aspect ratio) or `(scale, ratio)` ranges for a random crop of
            RandomResizedCrop's kind (Szegedy et al., 2015), e.g.
            `((0.08, 1.0), (3 / 4, 4 / 3))`, drawn anew in every pass. For
            JPEGs, `"center"` and random crops decode only the region kept
            (`tf.image.decode_and_crop_jpeg`; speed measured in
            `benchmarks/RESULTS.md`). The augmenter's own crops then apply to
            the result, so a random crop here is a first, coarse crop.
        with_index: elements `{"images": ..., "index": ...}` (int32 position
            of each file in the listing, fixed across passes), the input of
            `keras_ssl.PIRL` (`num_items=` the number of files).
        class_names: with `labels="inferred"`, the class folders in label
            order (default: all, sorted).
        cache: `None`, `"memory"`, or a file path prefix: keep the decoded,
            resized images of the first pass (with `crop` `"resize"` or
            `"center"` only); later passes then shuffle them in a buffer of
            `shuffle_buffer` images.
        shard: `"auto"` (under `tf.distribute.MultiWorkerMirroredStrategy`,
            i.e. a `TF_CONFIG` cluster of several workers, each worker reads
            its own files), `None` (read all), or `(num_shards, index)`.
        repeat: `False` (one pass per iteration), `True` (endless; pass
            `steps_per_epoch` to `fit`) or a number of passes.
        drop_remainder: drop the last, smaller batch of a pass (the default:
            batch-size checks, queues and BatchNorm expect full batches).
            `False` yields every readable image exactly once per pass
            (unreadable ones dropped, the length then unknown): use it with
            `shuffle=False` to embed or evaluate a folder.
        shuffle_buffer: images in the shuffle buffer used with `cache`.
        augmenter: None (the model augments the batches in its training
            step), or a view augmenter such as
            `keras_ssl.augmentation.simclr_views(224)` run here on each image
            in parallel (TensorFlow backend): each image is augmented alone,
            its crops taken from the image at its own size and random
            operations computed only when drawn, as torchvision transforms
            do. The batches then hold the views, `((v1, ..., vn),)` or
            `((v1, ..., vn), labels)`, which every method's `fit` takes as
            they are. The route for large images on CPUs (throughput in
            `benchmarks/RESULTS.md`).

    Returns:
        A batched `tf.data.Dataset` of uint8 `(batch, height, width, 3)`
        images, `(images, labels)`, or `{"images", "index"}` (+ labels);
        float32 views with an `augmenter`.

    Example:

    ```python
    ds = keras_ssl.data.image_dataset("photos/", image_size=224, batch_size=256)
    model = keras_ssl.SimCLR(keras_ssl.backbones.resnet50(stem="imagenet"))
    model.compile(optimizer="adamw")
    model.fit(ds, epochs=100)

    # The views made on the CPU, per image, from the images at their own size:
    ds = keras_ssl.data.image_dataset(
        "photos/", None, 256, augmenter=keras_ssl.augmentation.simclr_views(224)
    )
    ```
    """
    size, crop = streaming.check_options(
        image_size, batch_size, crop, cache, shard, repeat, augmenter, with_index
    )
    paths, file_labels, _ = list_image_files(source, labels, class_names)
    shard = streaming.worker_shard(shard)
    report = streaming.UnreadableReport(
        len(paths), shard, lambda i: paths[i], "image files"
    )
    ds = decoded_files(paths, file_labels, size, crop, shuffle, seed, shard, cache)
    return streaming.finish(
        ds, report, file_labels is not None, batch_size, shuffle, seed, with_index,
        cache, shard, repeat, drop_remainder, shuffle_buffer, fill=drop_remainder,
        augmenter=augmenter,
    )
