"""Peak memory of streaming a folder of JPEGs with `keras_ssl.data.image_dataset`.

    python -m benchmarks.streaming_memory --data_dir ../shared/datasets/cifar10/train

One shuffled pass over every file (50,000 CIFAR-10 training JPEGs by
default), uint8 batches of 256 at `--image_size`, no augmentation. Prints
the process's peak resident memory (`resource.getrusage`'s `ru_maxrss`)
minus its resident memory after the imports (psutil). Goal: under 1 GB.
"""

import argparse
import resource
import time

import psutil

import keras_ssl

CIFAR_TRAIN = "../shared/datasets/cifar10/train"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default=CIFAR_TRAIN)
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--batch_size", type=int, default=256)
    args = parser.parse_args()
    baseline = psutil.Process().memory_info().rss
    start = time.perf_counter()
    ds = keras_ssl.data.image_dataset(
        args.data_dir, args.image_size, args.batch_size, seed=0, drop_remainder=False
    )
    listed = time.perf_counter() - start
    images = sum(len(batch) for batch in ds)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"{images} images in {seconds:.1f} s ({images / seconds:.0f} images/s; "
          f"listing and pipeline {listed:.2f} s)")
    print(f"RSS after imports {baseline / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB, "
          f"growth {(peak - baseline) / 2**20:.0f} MiB (goal < 1024 MiB)")


if __name__ == "__main__":
    main()
