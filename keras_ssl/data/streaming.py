"""What `image_dataset` and `tfds_dataset` share: argument checks, worker
shards, the report of unreadable items and the batching tail."""

import json
import os
import warnings

import tensorflow as tf

from keras_ssl.data import decoding
from keras_ssl.data import views

# Items named in the report of unreadable files.
REPORTED_NAMES = 5


def check_options(image_size, batch_size, crop, cache, shard, repeat,
                  augmenter=None, with_index=False):
    """Validates the options both streaming readers take; returns
    `(size, crop)` with `size` as `(height, width)`, or None for the
    images' own sizes (with an augmenter only)."""
    if augmenter is not None:
        views.check_augmenter(augmenter, "augmenter=")
        if with_index:
            raise ValueError(
                "`with_index=True` feeds PIRL, whose jigsaw augmentation runs in its "
                "training step: leave `augmenter=None` with `with_index`."
            )
        if image_size is None and crop != "resize":
            raise ValueError(
                f"`crop={crop!r}` needs an `image_size`; with `image_size=None` each "
                "image keeps its own size and the augmenter's crops make the views."
            )
    size = (image_size, image_size) if isinstance(image_size, int) else image_size
    if size is None and augmenter is not None:
        return None, decoding.check_crop(crop)
    if not (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, int) and s > 0 for s in size)
    ):
        raise ValueError(
            "`image_size` must be a positive int or a (height, width) pair of "
            "ints: every batch is (batch_size, height, width, 3); None only with "
            f"an `augmenter`. Received: image_size={image_size!r}"
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an int >= 1. Received: batch_size={batch_size!r}")
    crop = decoding.check_crop(crop)
    if cache is not None and not isinstance(cache, str):
        raise ValueError(
            "`cache` must be None, 'memory' or a file path prefix. "
            f"Received: cache={cache!r}"
        )
    if cache is not None and not isinstance(crop, str):
        raise ValueError(
            "`cache` stores the decoded images of the first pass, which would "
            f"freeze a random crop (crop={crop}): use crop='resize' or "
            "'center' with `cache`, and random crops in the augmenter."
        )
    if not (shard in ("auto", None) or _is_shard_pair(shard)):
        raise ValueError(
            "`shard` must be 'auto' (one shard per MultiWorkerMirroredStrategy "
            "worker of TF_CONFIG), None (read everything) or a pair "
            f"(num_shards, index) with 0 <= index < num_shards. Received: shard={shard!r}"
        )
    if not (isinstance(repeat, bool) or (isinstance(repeat, int) and repeat >= 1)):
        raise ValueError(
            "`repeat` must be False (one pass), True (endless) or an int >= 1 "
            f"(passes). Received: repeat={repeat!r}"
        )
    return tuple(size), crop


def _is_shard_pair(shard):
    return (
        isinstance(shard, (tuple, list))
        and len(shard) == 2
        and all(isinstance(s, int) for s in shard)
        and 0 <= shard[1] < shard[0]
    )


def worker_shard(shard="auto"):
    """`(num_shards, index)` of this process, or `None` to read everything.

    `"auto"` reads the cluster of `TF_CONFIG`, as
    `tf.distribute.MultiWorkerMirroredStrategy` does: with several workers
    (chief included), worker `i` of `n` reads items `i, i + n, ...`.
    """
    if shard != "auto":
        return None if shard is None else tuple(shard)
    if "TF_CONFIG" not in os.environ:
        return None
    config = json.loads(os.environ["TF_CONFIG"])
    cluster, task = config.get("cluster", {}), config.get("task", {})
    workers = [(kind, i) for kind in ("chief", "worker") for i in range(len(cluster.get(kind, [])))]
    if len(workers) < 2 or (task.get("type"), task.get("index")) not in workers:
        return None
    return len(workers), workers.index((task["type"], task["index"]))


def item_indices(num_items, shard):
    """The dataset of item indices (int64) this worker reads."""
    ds = tf.data.Dataset.range(num_items)
    return ds if shard is None else ds.shard(*shard)


class UnreadableReport:
    """Records which items got through decoding and warns once, at the end
    of the first pass, about the others (`ignore_errors` drops them
    silently): their count and first names.

    The record is a hash table of decoded indices, filled by the pipeline
    and emptied after the report.
    """

    def __init__(self, num_items, shard, names, what):
        self.expected = range(num_items) if shard is None else range(shard[1], num_items, shard[0])
        self.names = names
        self.what = what
        self.seen = tf.lookup.experimental.MutableHashTable(tf.int64, tf.int32, 0)
        self.reported = False

    def record(self, element):
        """Marks `element["index"]` decoded (until the report)."""
        index = tf.reshape(element["index"], (1,))
        insert = tf.cond(
            self.seen.lookup(tf.constant(-1, tf.int64)) == 0,
            lambda: self.seen.insert(index, tf.ones((1,), tf.int32)),
            tf.no_op,
        )
        with tf.control_dependencies([insert]):
            return {key: tf.identity(value) for key, value in element.items()}

    def _report(self):
        if self.reported:
            return False
        self.reported = True
        keys = set(self.seen.export()[0].numpy().tolist())
        self.seen.remove(tf.constant(sorted(keys), tf.int64))
        self.seen.insert(tf.constant([-1], tf.int64), tf.constant([1], tf.int32))
        missing = [i for i in self.expected if i not in keys]
        if missing:
            first = ", ".join(repr(self.names(i)) for i in missing[:REPORTED_NAMES])
            more = ", ..." if len(missing) > REPORTED_NAMES else ""
            warnings.warn(
                f"Skipped {len(missing)} unreadable {self.what} of "
                f"{len(self.expected)} (corrupt, truncated, empty or not an "
                f"image): {first}{more}",
                stacklevel=2,
            )
        return False

    def after(self, ds):
        """`ds` followed by an element that triggers the report and is
        dropped: it is pulled only once every item of a pass went through."""
        dummy = tf.nest.map_structure(
            lambda s: tf.zeros([d or 0 for d in s.shape], s.dtype), ds.element_spec
        )
        trigger = tf.data.Dataset.from_tensors(dummy).filter(
            lambda element: tf.py_function(self._report, [], tf.bool)
        )
        return ds.concatenate(trigger)


def random_seeds(ds, seed):
    """Zips each element of `ds` with a fresh `(2,)` int64 stateless seed,
    new draws in every pass."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return tf.data.Dataset.zip(ds, seeds)


def model_elements(element, labelled, with_index):
    """Internal `{"image", "index"[, "label"]}` (or `"views"`) -> what `fit`
    takes: images, `(images, labels)`, PIRL's `{"images", "index"}` (+
    labels), or the views `((v1, ..., vn),)` / `((v1, ..., vn), labels)`."""
    if "views" in element:
        return (element["views"], element["label"]) if labelled else (element["views"],)
    x = element["image"]
    if with_index:
        x = {"images": x, "index": tf.cast(element["index"], tf.int32)}
    return (x, element["label"]) if labelled else x


def finish(ds, report, labelled, batch_size, shuffle, seed, with_index,
           cache, shard, repeat, drop_remainder, shuffle_buffer, fill=True,
           augmenter=None):
    """Decoded elements -> reported, cached, shuffled, (augmented,)
    batched and prefetched model batches.

    With `fill`, a pass yields exactly one element per item: the places of
    unreadable items are taken by the next pass's first images, so that the
    dataset's length is known (Keras's progress bar and epoch length, a
    schedule's number of steps).
    """
    ds = ds.ignore_errors().map(report.record, num_parallel_calls=tf.data.AUTOTUNE)
    ds = report.after(ds)
    if fill:
        ds = ds.repeat().take(len(report.expected))
    if cache is not None:
        ds = ds.cache("" if cache == "memory" else cache)
    if cache is not None and shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if augmenter is not None:

        def make_views(element):
            element = dict(element)
            element["views"] = views.augment(augmenter, element.pop("image"))
            return element

        ds = ds.map(make_views, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    ds = ds.map(lambda e: model_elements(e, labelled, with_index))
    if repeat:
        ds = ds.repeat(None if repeat is True else repeat)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    if shard is not None:
        # Each worker already reads only its items: tf.distribute must not
        # shard again (its fallback would drop most of each worker's data).
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF
        )
        ds = ds.with_options(options)
    return ds
