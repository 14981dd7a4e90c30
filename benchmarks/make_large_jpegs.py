"""Full-size JPEGs for the streaming benchmarks: CIFAR-10 JPEGs upscaled to
random sizes of 256 to 500 px (each side drawn on its own) and re-encoded.

    python -m benchmarks.make_large_jpegs --output_dir /tmp/large_jpegs --count 300

Writes `<output_dir>/<class>/<name>.jpg` (quality 90), the classes of the
source folder kept. Existing files are overwritten.
"""

import argparse
import os

import numpy as np
import tensorflow as tf

CIFAR_TRAIN = "../shared/datasets/cifar10/train"


def make_large_jpegs(output_dir, count, source=CIFAR_TRAIN, min_size=256, max_size=500, seed=0):
    """Writes `count` upscaled JPEGs; returns their paths."""
    import keras_ssl

    sources, _, _ = keras_ssl.data.list_image_files(source)
    rng = np.random.default_rng(seed)
    paths = []
    for i in rng.choice(len(sources), count, replace=False):
        image = tf.io.decode_jpeg(tf.io.read_file(sources[i]), channels=3)
        height, width = rng.integers(min_size, max_size + 1, 2)
        image = tf.cast(tf.round(tf.image.resize(image, (height, width), "bicubic")), tf.float32)
        image = tf.cast(tf.clip_by_value(image, 0, 255), tf.uint8)
        relative = os.path.relpath(sources[i], source)
        path = os.path.join(output_dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tf.io.write_file(path, tf.io.encode_jpeg(image, quality=90))
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--source", default=CIFAR_TRAIN, help="A folder of JPEGs (recursive).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = make_large_jpegs(args.output_dir, args.count, args.source, seed=args.seed)
    print(f"Wrote {len(paths)} JPEGs of 256-500 px under {args.output_dir}")


if __name__ == "__main__":
    main()
