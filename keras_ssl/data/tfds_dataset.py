"""Stream a TensorFlow Datasets image dataset into `fit`."""

import tensorflow as tf

from keras_ssl.data import decoding
from keras_ssl.data import streaming


def _builder(name, data_dir, download):
    import tensorflow_datasets as tfds

    if isinstance(name, tfds.core.DatasetBuilder):
        return name
    if not isinstance(name, str):
        raise ValueError(
            "`name` must be a TFDS dataset name (e.g. 'imagenet2012') or a "
            f"`tfds.core.DatasetBuilder`. Received: {type(name).__name__}"
        )
    builder = tfds.builder(name, data_dir=data_dir)
    if download:
        builder.download_and_prepare()
    return builder


def tfds_dataset(
    name,
    split,
    image_size,
    batch_size,
    data_dir=None,
    labels=None,
    shuffle=True,
    seed=None,
    crop="resize",
    with_index=False,
    cache=None,
    shard="auto",
    repeat=False,
    drop_remainder=True,
    shuffle_buffer=10_000,
    augmenter=None,
    image_key="image",
    label_key="label",
    download=True,
):
    """A `tf.data.Dataset` of uint8 image batches streamed from TFDS.

    The same pipeline as `keras_ssl.data.image_dataset`, reading the records
    of a TensorFlow Datasets split instead of files: the encoded images are
    decoded here (`tfds.decode.SkipDecoding`), so that `crop` decodes only
    the region it keeps of a JPEG, and the split is never held in memory
    (no `batch_size=-1`). Records that fail to decode are skipped and
    reported once, by index.

    Args:
        name: a TFDS name (`"imagenet2012"`, `"cifar10"`, ...) or a
            `tfds.core.DatasetBuilder`, e.g.
            `tfds.folder_dataset.ImageFolder(root)`.
        split: a TFDS split, e.g. `"train"` or `"train[:10%]"`.
        image_size: an int (square) or `(height, width)` of the batches.
        batch_size: images per batch (the global batch under a strategy).
        data_dir: TFDS's data directory (default `~/tensorflow_datasets`).
        labels: `None` (images only) or `"inferred"`: batches are
            `(images, labels)` with the `label_key` feature.
        shuffle: shuffle the split's files (`shuffle_files`) and the records
            in a buffer of `shuffle_buffer`.
        seed: seed of the shuffles and of random crops.
        crop, cache, shard, repeat, drop_remainder, augmenter: as in
            `image_dataset` (`image_size=None` with an augmenter).
        with_index: `{"images", "index"}` elements for `keras_ssl.PIRL`
            (the record's position in the split; its files are then read in
            order, shuffled by the record buffer only).
        shuffle_buffer: records in the shuffle buffer.
        image_key, label_key: the features holding the image and the label.
        download: download and prepare the dataset when it is not in
            `data_dir` (needs network access the first time).

    Returns:
        A batched `tf.data.Dataset` of uint8 `(batch, height, width, 3)`
        images, `(images, labels)`, or `{"images", "index"}` (+ labels).

    Example:

    ```python
    ds = keras_ssl.data.tfds_dataset("imagenet2012", "train", 224, 256)
    ```
    """
    import tensorflow_datasets as tfds

    size, crop = streaming.check_options(
        image_size, batch_size, crop, cache, shard, repeat, augmenter, with_index
    )
    if labels not in (None, "inferred"):
        raise ValueError(f"`labels` must be None or 'inferred'. Received: labels={labels!r}")
    builder = _builder(name, data_dir, download)
    features = builder.info.features
    keys = [image_key] + ([label_key] if labels else [])
    for key in keys:
        if key not in features:
            raise ValueError(
                f"{builder.name!r} has no feature {key!r}: its features are "
                f"{sorted(features.keys())}. Pass `image_key=` / `label_key=`."
            )
    num_items = builder.info.splits[split].num_examples
    encoded = isinstance(features[image_key], tfds.features.Image)
    ds = builder.as_dataset(
        split=split,
        shuffle_files=shuffle and not with_index,
        decoders={image_key: tfds.decode.SkipDecoding()} if encoded else None,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    shard = streaming.worker_shard(shard)
    ds = ds.enumerate()
    if shard is not None:
        ds = ds.shard(*shard)
    if shuffle and cache is None:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = streaming.random_seeds(ds, seed)

    def load(item, item_seed):
        index, example = item
        image = example[image_key]
        if image.dtype == tf.string:
            image = decoding.decode(image, size, crop, item_seed)
        else:
            image = decoding.resize(decoding.crop_image(image, size, crop, item_seed), size)
        element = {"image": image, "index": index}
        if labels:
            element["label"] = tf.cast(example[label_key], tf.int32)
        return element

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    report = streaming.UnreadableReport(
        num_items, shard, lambda i: f"{builder.name} {split} #{i}", "records"
    )
    return streaming.finish(
        ds, report, labels is not None, batch_size, shuffle, seed, with_index,
        cache, shard, repeat, drop_remainder, shuffle_buffer, fill=drop_remainder,
        augmenter=augmenter,
    )
