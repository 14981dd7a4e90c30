"""The 224 px view pipeline alone, side by side with lightly: from JPEG files
to two SimCLR views per image, with the same number of worker processes or
threads on both sides and no model.

- ours: `keras_ssl.data.image_dataset(augmenter=simclr_views(224))`: each
  file decoded at its own size (or resized to `--load_size` first when it
  is given) and augmented alone in a parallel `tf.data` map, tf.data
  limited to `--workers` threads;
- lightly: torchvision's `ImageFolder` (PIL decode per item) and
  `SimCLRTransform(input_size=224)` in a `DataLoader` with `--workers`
  worker processes, as lightly's own examples train.

Images/s are source images (two views each) over the wall time of `--batches`
batches after `--warmup` batches, the median over `--rounds` rounds whose
order alternates; each side runs alone, in a fresh process per round. Run from the repository root:

    python -m benchmarks.make_large_jpegs --output_dir /tmp/large_jpegs --count 1000
    python -m benchmarks.peer.view_pipeline --data_dir /tmp/large_jpegs
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_PYTHON = os.path.join(HERE, ".venv", "bin", "python")


def ours_batches(args):
    import tensorflow as tf

    import keras_ssl

    options = tf.data.Options()
    options.threading.private_threadpool_size = args.workers
    views = keras_ssl.data.image_dataset(
        args.data_dir, args.load_size or None, args.batch_size, seed=0, repeat=True,
        augmenter=keras_ssl.augmentation.simclr_views(args.size, seed=0),
    )
    return iter(views.with_options(options))


def lightly_batches(args):
    import torch
    import torchvision
    from lightly.transforms import SimCLRTransform

    torch.set_num_threads(1)
    transform = SimCLRTransform(input_size=args.size)
    dataset = torchvision.datasets.ImageFolder(args.data_dir, transform=transform)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
        drop_last=True, persistent_workers=True,
    )

    def forever():
        while True:
            yield from loader

    return forever()


def measure(args):
    """Times `--batches` batches after `--warmup` and prints
    `{"images_per_second": ...}`."""
    batches = ours_batches(args) if args.side == "ours" else lightly_batches(args)
    for _ in range(args.warmup):
        next(batches)
    start = time.perf_counter()
    for _ in range(args.batches):
        next(batches)
    seconds = time.perf_counter() - start
    print(json.dumps({"images_per_second": args.batches * args.batch_size / seconds}), flush=True)


def compare(args):
    """Runs each side alone in a fresh process, in alternating rounds (so that
    neither side's prefetching runs while the other is timed), prints the
    ratio of the medians."""
    flags = [f"--{name}={getattr(args, name)}" for name in (
        "data_dir", "size", "load_size", "batch_size", "workers", "batches", "warmup")]
    commands = {
        "ours": [sys.executable, "-m", "benchmarks.peer.view_pipeline", "--side=ours", *flags],
        "lightly": [PEER_PYTHON, os.path.join(HERE, "view_pipeline.py"), "--side=lightly", *flags],
    }
    rates = {side: [] for side in commands}
    for round_ in range(args.rounds):
        for side in (("ours", "lightly") if round_ % 2 == 0 else ("lightly", "ours")):
            process = subprocess.run(
                commands[side], stdout=subprocess.PIPE, text=True, check=True)
            line = [line for line in process.stdout.splitlines() if line.startswith("{")][-1]
            rates[side].append(json.loads(line)["images_per_second"])
    ours, theirs = (statistics.median(rates[side]) for side in ("ours", "lightly"))
    print(json.dumps({"ours": rates["ours"], "lightly": rates["lightly"]}))
    print(f"view pipeline, {args.size} px, 2 views, {args.workers} workers: ours {ours:.1f} "
          f"img/s, lightly {theirs:.1f} img/s, ratio {ours / theirs:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", choices=["both", "ours", "lightly"], default="both")
    parser.add_argument("--data_dir", required=True, help="<class>/*.jpg (ImageFolder layout).")
    parser.add_argument("--size", type=int, default=224, help="Side of the views.")
    parser.add_argument(
        "--load_size", type=int, default=0,
        help="Our decode size before augmenting; 0: each image's own size, as lightly.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=20, help="Timed batches per round.")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed batches first.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.side == "both":
        compare(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
