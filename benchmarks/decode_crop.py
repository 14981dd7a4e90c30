"""`tf.image.decode_and_crop_jpeg` against decoding the whole JPEG and then
cropping, for the first random crop of `keras_ssl.data.image_dataset`.

    python -m benchmarks.decode_crop --count 300 --repeats 3

Makes `--count` JPEGs of 256-500 px (`benchmarks/make_large_jpegs.py`) in a
temporary folder, then times one pass of the decoding pipeline per variant
(RandomResizedCrop's scale (0.08, 1) and ratio (3/4, 4/3), resized to
224 px, uint8 batches of 64), alternating the variants `--repeats` times
in one run. Prints images/s and CPU milliseconds per image (process time,
steadier than wall time on a shared machine) of each pass, and the ratios
of the medians.
"""

import argparse
import tempfile
import time

import numpy as np
import tensorflow as tf

from benchmarks.make_large_jpegs import CIFAR_TRAIN
from benchmarks.make_large_jpegs import make_large_jpegs
from keras_ssl.data import decoding

CROP = ((0.08, 1.0), (3 / 4, 4 / 3))


def one_pass(paths, fused, size=224, batch_size=64):
    files = tf.constant(paths)
    ds = tf.data.Dataset.range(len(paths))
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.random(seed=0).batch(2)).map(
        lambda i, seed: decoding.decode(tf.io.read_file(files[i]), (size, size), CROP, seed, fused),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    start, cpu = time.perf_counter(), time.process_time()
    count = sum(len(b) for b in ds.batch(batch_size).prefetch(tf.data.AUTOTUNE))
    return count / (time.perf_counter() - start), 1000 * (time.process_time() - cpu) / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", default=CIFAR_TRAIN, help="JPEGs to upscale.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = make_large_jpegs(folder, args.count, args.source)
        one_pass(paths, True)  # warm-up: page cache, tracing
        one_pass(paths, False)
        rates = {True: [], False: []}
        for _ in range(args.repeats):
            for fused in (True, False):
                rates[fused].append(one_pass(paths, fused))
    for fused, name in ((True, "decode_and_crop_jpeg"), (False, "decode, then crop")):
        print(f"{name:>22}: " + ", ".join(f"{r:.0f}" for r, _ in rates[fused]) + " images/s; "
              + ", ".join(f"{c:.2f}" for _, c in rates[fused]) + " CPU ms/image")
    medians = {fused: np.median(rates[fused], axis=0) for fused in rates}
    print(f"fused / unfused, medians: {medians[True][0] / medians[False][0]:.2f}x images/s, "
          f"{medians[False][1] / medians[True][1]:.2f}x fewer CPU ms per image")

if __name__ == "__main__":
    main()
