"""The 224 px view pipeline alone, side by side with lightly: from JPEG files
to two SimCLR views per image, with the same number of worker processes or
threads on both sides and no model.

- ours: `keras_ssl.data.image_dataset` (parallel decode, resize to
  `--load_size`) and `augmentation.simclr_views(224)` applied in `tf.data`
  (a parallel map over batches), tf.data limited to `--workers` threads;
- lightly: torchvision's `ImageFolder` (PIL decode per item) and
  `SimCLRTransform(input_size=224)` in a `DataLoader` with `--workers`
  worker processes, as lightly's own examples train.

Images/s are source images (two views each) over the wall time of `--batches`
batches after `--warmup` batches, the median over `--rounds` rounds whose
order alternates. Run from the repository root:

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

    augmenter = keras_ssl.augmentation.simclr_views(args.size, seed=0)
    options = tf.data.Options()
    options.threading.private_threadpool_size = args.workers
    images = keras_ssl.data.image_dataset(
        args.data_dir, args.load_size, args.batch_size, seed=0, repeat=True
    )
    views = images.map(
        lambda x: augmenter(x, training=True), num_parallel_calls=args.workers
    ).prefetch(2).with_options(options)
    return iter(views)


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


def serve(args):
    """Line protocol: prints `{"ready": true}`, then answers each `run` line
    with `{"images_per_second": ...}` until `quit`."""
    batches = ours_batches(args) if args.side == "ours" else lightly_batches(args)
    for _ in range(args.warmup):
        next(batches)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        for _ in range(args.warmup):
            next(batches)
        start = time.perf_counter()
        for _ in range(args.batches):
            next(batches)
        seconds = time.perf_counter() - start
        print(json.dumps({"images_per_second": args.batches * args.batch_size / seconds}), flush=True)


def _json_line(process):
    for line in process.stdout:
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("a side exited without answering")


def compare(args):
    """Starts both sides, runs them in alternating rounds, prints the ratio."""
    flags = [f"--{name}={getattr(args, name)}" for name in (
        "data_dir", "size", "load_size", "batch_size", "workers", "batches", "warmup")]
    commands = {
        "ours": [sys.executable, "-m", "benchmarks.peer.view_pipeline", "--side=ours", *flags],
        "lightly": [PEER_PYTHON, os.path.join(HERE, "view_pipeline.py"), "--side=lightly", *flags],
    }
    processes = {}
    for side, command in commands.items():
        processes[side] = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        _json_line(processes[side])
    rates = {side: [] for side in processes}
    for round_ in range(args.rounds):
        for side in (("ours", "lightly") if round_ % 2 == 0 else ("lightly", "ours")):
            processes[side].stdin.write("run\n")
            processes[side].stdin.flush()
            rates[side].append(_json_line(processes[side])["images_per_second"])
    for process in processes.values():
        process.stdin.write("quit\n")
        process.stdin.close()
        process.wait()
    ours, theirs = (statistics.median(rates[side]) for side in ("ours", "lightly"))
    print(json.dumps({"ours": rates["ours"], "lightly": rates["lightly"]}))
    print(f"view pipeline, {args.size} px, 2 views, {args.workers} workers: ours {ours:.1f} "
          f"img/s, lightly {theirs:.1f} img/s, ratio {ours / theirs:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", choices=["both", "ours", "lightly"], default="both")
    parser.add_argument("--data_dir", required=True, help="<class>/*.jpg (ImageFolder layout).")
    parser.add_argument("--size", type=int, default=224, help="Side of the views.")
    parser.add_argument("--load_size", type=int, default=256, help="Our decode size.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=8, help="Timed batches per round.")
    parser.add_argument("--warmup", type=int, default=2, help="Untimed batches per round.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.side == "both":
        compare(args)
    else:
        serve(args)


if __name__ == "__main__":
    main()
