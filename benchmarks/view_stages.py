"""Where the time of one 224 px SimCLR view goes, per image, single-threaded.

    python -m benchmarks.view_stages --input_dir /tmp/large_jpegs --repeats 5

The per-image route of `keras_ssl.data.image_dataset(augmenter=
simclr_views(224))`: each stage of the first view of `simclr_views(224)` is
mapped over the images in a `tf.data` pipeline limited to one thread (one
core), as one of the map's parallel calls runs it. Stages: decode+crop (the
file's bytes decoded at its own size, then `RandomResizedCrop`), flip, color
jitter, grayscale, blur, each on the previous stage's outputs; total: the
whole view from the file's bytes. Prints CPU milliseconds (process time,
steadier than wall time on a shared machine) per image, the median over
`--repeats` passes, of each stage as the preset draws it (jitter with
probability 0.8, grayscale 0.2, blur 0.5) and, for the drawn operations,
when it always applies (the cost of one image that draws it). Each row is
timed in steady state (the function built and warmed up once, as in a
training run) and includes the cost of `tf.data` handing one view through a
map, printed as the identity map's.
"""

import argparse
import time

import numpy as np
import tensorflow as tf

import keras_ssl
from keras_ssl.augmentation import RandomApply
from keras_ssl.augmentation import RandomGrayscale
from keras_ssl.data import decoding

STAGES = ("decode+crop", "flip", "jitter", "grayscale", "blur")


def single_threaded(ds):
    """`ds` run on demand by one thread, each op on one core (no prefetching
    or fused map and batch that would run ahead)."""
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    options.experimental_optimization.map_and_batch_fusion = False
    return ds.with_options(options)


def passes(function, inputs):
    """`function` mapped over `inputs` (a tensor, one element per row),
    single-threaded: an endless iterator of passes, each pass one batch, and
    the first pass (the warm-up: tracing, building the function, once)."""
    ds = tf.data.Dataset.from_tensor_slices(inputs).map(function)
    iterator = iter(single_threaded(ds.batch(len(inputs)).repeat()))
    return iterator, next(iterator)


def cpu_ms(iterator, count):
    """CPU milliseconds per element of the next pass of `iterator`."""
    start = time.process_time()
    next(iterator)
    return 1000 * (time.process_time() - start) / count


def always_applied(layer):
    """`layer` with its random application removed: the wrapped layer of a
    `RandomApply`, grayscale with rate 1; None for other layers."""
    if isinstance(layer, RandomApply):
        return layer.layer
    if isinstance(layer, RandomGrayscale):
        return RandomGrayscale(1.0, seed=layer.seed)
    return None


def stage_functions(size=224, seed=0):
    """`{stage: (as drawn, always applied or None)}` and the whole view, the
    first pipeline of `simclr_views(size)` (its large-image recipe at any
    size)."""
    augmenter = keras_ssl.augmentation.simclr_views(size, cifar=False, seed=seed)
    crop, *layers = augmenter.pipelines[0]

    def decode_crop(contents):
        return crop(decoding.decode(contents, None), training=True)

    def call(layer):
        return None if layer is None else (lambda image: layer(image, training=True))

    functions = {"decode+crop": (decode_crop, None)}
    for name, layer in zip(STAGES[1:], layers, strict=True):
        functions[name] = (call(layer), call(always_applied(layer)))

    def view(contents):
        image = decode_crop(contents)
        for layer in layers:
            image = layer(image, training=True)
        return image

    return functions, view


def measure(contents, repeats, size=224, seed=0):
    """`{stage: (drawn ms, applied ms or None)}` per image, medians over
    `repeats` passes, the total ms of the whole view and the ms of an
    identity map over the views. The passes of all rows alternate."""
    functions, view = stage_functions(size, seed)
    iterators, inputs = {}, contents
    for name, (drawn, applied) in functions.items():
        iterators[name, "drawn"], outputs = passes(drawn, inputs)
        if applied is not None:
            iterators[name, "applied"] = passes(applied, inputs)[0]
        inputs = outputs
    iterators["identity"] = passes(lambda image: image, inputs)[0]
    iterators["total"] = passes(view, contents)[0]
    times = {key: [] for key in iterators}
    for _ in range(repeats):
        for key, iterator in iterators.items():
            times[key].append(cpu_ms(iterator, len(contents)))
    medians = {key: float(np.median(values)) for key, values in times.items()}
    stages = {
        name: (medians[name, "drawn"], medians.get((name, "applied"))) for name in functions
    }
    return stages, medians["total"], medians["identity"]


def table(stages, total, identity):
    """The rows of `measure`'s figures as a Markdown table."""
    lines = ["| stage | ms as drawn | ms when applied |", "|---|---|---|"]
    for name, (drawn, applied) in stages.items():
        applied = "" if applied is None else f"{applied:.3f}"
        lines.append(f"| {name} | {drawn:.3f} | {applied} |")
    lines.append(f"| total (whole view) | {total:.3f} | |")
    lines.append(f"| (identity map, in every row) | {identity:.3f} | |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input_dir", required=True, help="A folder of JPEGs (recursive).")
    parser.add_argument("--count", type=int, default=200, help="Images per pass (the first ones).")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=224, help="Side of the view.")
    args = parser.parse_args()
    # One core for every op, the dataset's limits aside (oneDNN kernels
    # otherwise use the process's thread pools).
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    paths, _, _ = keras_ssl.data.list_image_files(args.input_dir)
    contents = tf.stack([tf.io.read_file(path) for path in paths[: args.count]])
    figures = measure(contents, args.repeats, args.size)
    print(f"one SimCLR {args.size} px view per image, {len(contents)} images, "
          f"single-threaded, CPU ms per image, medians of {args.repeats} passes")
    print("\n".join(table(*figures)))


if __name__ == "__main__":
    main()
