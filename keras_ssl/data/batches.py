"""Shuffled training batches of data held in memory."""

import numbers

import tensorflow as tf

# Batches prefetched ahead of the training step: one being consumed, one ready.
_PREFETCH = 2


def shuffled_batches(data, batch_size, seed=None, repeat=False):
    """Shuffles, batches and prefetches in-memory data for `fit`, with
    tf.data's autotuning turned off.

    Each pass visits every element once in a new random order, and the last
    incomplete batch is dropped (contrastive losses want full batches). With
    the augmentation inside the model, the pipeline only slices memory, so
    there is nothing for tf.data to tune; its autotuning thread, on the
    other hand, holds up the destruction of every iterator until its current
    wait ends, which Keras does at the end of each `fit` epoch (seconds to
    tens of seconds on a 2-core CPU; `benchmarks/LOG.md`, 2026-12-02).

    Args:
        data: images `(N, H, W, C)` (or a tuple/dict of arrays), or an
            unbatched `tf.data.Dataset` of known length, e.g.
            `keras_ssl.data.with_index(x)`.
        batch_size: images per batch; at most the number of elements.
        seed: shuffling seed, for a reproducible order.
        repeat: repeat the passes forever (then give `fit` its
            `steps_per_epoch`).

    Returns:
        A batched `tf.data.Dataset`.

    Example:
    >>> (x, _), _ = keras_ssl.data.load_sample()
    >>> model.fit(keras_ssl.data.shuffled_batches(x, 256, seed=0), epochs=10)
    """
    if not isinstance(data, tf.data.Dataset):
        data = tf.data.Dataset.from_tensor_slices(data)
    size = int(data.cardinality())
    if size < 0:
        raise ValueError(
            "`data` must have a known number of elements (arrays, or a dataset "
            "of known cardinality); shuffling holds all of it in the buffer. "
            f"Received a dataset of cardinality {size}."
        )
    if not isinstance(batch_size, numbers.Integral) or not 1 <= batch_size <= size:
        raise ValueError(
            f"`batch_size` must be an int in [1, {size}] (the number of elements), "
            f"as the incomplete last batch is dropped. Received: batch_size={batch_size!r}"
        )
    data = data.shuffle(size, seed=seed).batch(int(batch_size), drop_remainder=True)
    if repeat:
        data = data.repeat()
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.prefetch(_PREFETCH).with_options(options)
