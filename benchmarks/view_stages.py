"""Where the time of one 224 px SimCLR view goes, per image, single-threaded.

    python -m benchmarks.view_stages --input_dir /tmp/large_jpegs --repeats 5

The per-image route of `keras_ssl.data.image_dataset(augmenter=
simclr_views(224))`: each stage of the first view of `simclr_views(224)` is
mapped over the images in a `tf.data` pipeline limited to one thread (one
core), as one of the map's parallel calls runs it. Stages: decode+crop (the
file's bytes decoded at its own size, then `RandomResizedCrop`), flip, color
jitter, grayscale, blur, each on the previous stage's outputs; total: the
whole view from the file's bytes. Prints milliseconds per image, the median
over `--repeats` passes, of each stage as the preset draws it (jitter with
probability 0.8, grayscale 0.2, blur 0.5) and, for the drawn operations,
when it always applies (the cost of one image that draws it). Wall time:
run it on a quiet machine.
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
    """`ds` run by one thread, each op on one core."""
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    return ds.with_options(options)


def map_seconds(function, inputs):
    """Seconds per element of `function` mapped over `inputs` (a tensor, one
    element per row) single-threaded, and the outputs in one batch."""
    count = len(inputs)
    ds = tf.data.Dataset.from_tensor_slices(inputs).map(function).batch(count)
    start = time.perf_counter()
    outputs = next(iter(single_threaded(ds)))
    return (time.perf_counter() - start) / count, outputs


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
    first pipeline of `simclr_views(size)`."""
    crop, *layers = keras_ssl.augmentation.simclr_views(size, seed=seed).pipelines[0]

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
    `repeats` passes, and the total ms of the whole view."""
    functions, view = stage_functions(size, seed)
    times = {name: ([], []) for name in functions}
    totals = []
    for _ in range(repeats + 1):  # the first pass warms up (tracing, file cache)
        inputs = contents
        for name, (drawn, applied) in functions.items():
            seconds, outputs = map_seconds(drawn, inputs)
            times[name][0].append(seconds)
            if applied is not None:
                times[name][1].append(map_seconds(applied, inputs)[0])
            inputs = outputs
        totals.append(map_seconds(view, contents)[0])

    def median_ms(values):
        return 1000 * float(np.median(values[1:])) if values else None

    stages = {name: (median_ms(drawn), median_ms(applied)) for name, (drawn, applied) in times.items()}
    return stages, median_ms(totals)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input_dir", required=True, help="A folder of JPEGs (recursive).")
    parser.add_argument("--count", type=int, default=200, help="Images per pass (the first ones).")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=224, help="Side of the view.")
    args = parser.parse_args()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    paths, _, _ = keras_ssl.data.list_image_files(args.input_dir)
    contents = tf.stack([tf.io.read_file(path) for path in paths[: args.count]])
    stages, total = measure(contents, args.repeats, args.size)
    print(f"one SimCLR {args.size} px view per image, {len(contents)} images, "
          f"single-threaded, medians of {args.repeats} passes")
    print("| stage | ms as drawn | ms when applied |")
    print("|---|---|---|")
    for name, (drawn, applied) in stages.items():
        print(f"| {name} | {drawn:.3f} | " + ("" if applied is None else f"{applied:.3f}") + " |")
    print(f"| total (whole view) | {total:.3f} | |")


if __name__ == "__main__":
    main()
