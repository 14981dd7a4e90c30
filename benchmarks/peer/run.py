"""Side by side with lightly (PyTorch) on this machine: ratios ours / theirs.

Optional, never part of the test suite. The peer runs in its own venv,
`benchmarks/peer/.venv`, which `--setup` (or the first use) creates with
`pip install torch==2.14.1 torchvision==0.29.1 lightly` (those torch wheels
lie on this machine's disk for Python 3.11; plain `torch` would download
CUDA builds of several GB).

Both sides get the same backbone (small_cnn re-implemented in PyTorch, or
ResNet-18 with a 3x3 stem and no max-pool), heads, losses, momentum, queue,
augmentation recipe (SimCLR's CIFAR transform: 32 px, jitter strength 0.5, no
blur) and SGD (momentum 0.9, weight decay 5e-4), each through its own data
pipeline: lightly with torchvision's `ImageFolder` and a `DataLoader` with 2
workers, ours with `keras_ssl.data.load_image_folder` (JPEGs decoded once),
`tf.data` and augmentation inside the model. Each side gets `--threads`
compute threads. See README.md.

Throughput (default): per method, both runners are started and warmed up
(tracing excluded), then asked in turn, for `--rounds` rounds (who goes first
alternates), to time `--warmup` + `--steps` steps; images/s of source images
is the median over rounds, and the ratio is ours / theirs.

Quality (`--quality`): the fixed-budget kNN protocol of
`benchmarks/fixed_budget.py` for both (full CIFAR-10 train, batch 256, 390
steps, lr 0.12 per-step cosine, weighted kNN k=200 T=0.1 on the test set),
one after the other; prints accuracy (difference in points) and train wall
time (ratio). With `--time_budget 0.7`, ours then trains once more for as
many steps as fit in 0.7x lightly's measured time (the same cosine schedule
over the longer run) and gets a row of its own: what each library gives
in a given time. `--seeds 0,1,2` runs all of it once per seed (the seed
passed to both runners) and adds the means over seeds. SwAV (`--methods
swav`, two crops of the same SimCLR transform, no queue) is a cross-check
outside the three methods of the performance issue.

    python -m benchmarks.peer.run --setup
    python -m benchmarks.peer.run --methods simclr,byol,moco_v2
    python -m benchmarks.peer.run --quality --output /tmp/peer_quality.json
"""

import json
import os
import subprocess
import sys

import numpy as np
from absl import app
from absl import flags

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")
PEER_PYTHON = os.path.join(VENV, "bin", "python")
PEER_PACKAGES = ["torch==2.14.1", "torchvision==0.29.1", "lightly"]
# Backbone -> batch size of the throughput mode (the quality protocol: 256).
BATCH_SIZES = {"small_cnn": 256, "resnet18": 128, "resnet18_imagenet": 32, "resnet50_imagenet": 16}

FLAGS = flags.FLAGS
flags.DEFINE_bool("setup", False, "Only create the peer venv, then exit.")
flags.DEFINE_bool("quality", False, "Run the fixed-budget kNN protocol instead of throughput.")
flags.DEFINE_list(
    "methods", ["simclr", "byol", "moco_v2"],
    "Methods: simclr, byol, moco_v2, and swav (two crops, no queue, 512 prototypes).",
)
flags.DEFINE_enum("backbone", "small_cnn", list(BATCH_SIZES), "Backbone.")
flags.DEFINE_integer(
    "image_size", 32, "Side of the views; above 32 both sides use SimCLR's ImageNet "
    "augmentation on files of any size (e.g. benchmarks/make_large_jpegs.py)."
)
flags.DEFINE_string("data_dir", os.path.join(REPO, "..", "shared", "datasets", "cifar10"), "CIFAR-10 image folder (train/, test/).")
flags.DEFINE_integer("batch_size", None, "Batch size; default 256 (small_cnn, quality) or 128 (resnet18).")
flags.DEFINE_integer("rounds", 5, "Alternating timed rounds per method (throughput).")
flags.DEFINE_integer("steps", 10, "Timed steps per round (throughput).")
flags.DEFINE_integer("warmup", 5, "Untimed steps before each round's timed steps.")
flags.DEFINE_integer("max_images", 0, "Train on at most this many images (0: all 50,000).")
flags.DEFINE_integer("train_steps", 390, "Optimizer steps of the quality protocol.")
flags.DEFINE_integer("threads", 2, "Compute threads of each side.")
flags.DEFINE_list(
    "seeds", ["0"],
    "Quality only: seeds of the runs; each seed trains both sides, and with several the "
    "table adds their means (lightly's kNN figure moves by up to 1.4 points between seeds).",
)
flags.DEFINE_float(
    "time_budget", None,
    "Quality only: after the equal-steps runs, train ours again for as many steps as "
    "fit in this fraction of lightly's measured train wall time (e.g. 0.7).",
)
flags.DEFINE_string(
    "ours_dtype_policy", None,
    "Keras dtype policy of our side, e.g. mixed_bfloat16 (default float32; lightly stays float32).",
)
flags.DEFINE_string("output", None, "Write the figures as JSON here.")


def setup():
    """Create the peer venv with torch, torchvision and lightly, once."""
    if os.path.exists(PEER_PYTHON):
        return
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([PEER_PYTHON, "-m", "pip", "install", *PEER_PACKAGES], check=True)


def runner_args(method, batch_size):
    """Command-line arguments both runners share."""
    names = ("data_dir", "max_images", "steps", "warmup", "train_steps", "threads", "image_size")
    args = [f"--{name}={getattr(FLAGS, name)}" for name in names]
    mode = "quality" if FLAGS.quality else "throughput"
    return args + [
        f"--mode={mode}", f"--method={method}", f"--backbone={FLAGS.backbone}",
        f"--batch_size={batch_size}",
    ]


def commands(method, batch_size, seed=0):
    """Command lines of our runner and lightly's, by side."""
    args = runner_args(method, batch_size) + [f"--seed={seed}"]
    policy = [f"--dtype_policy={FLAGS.ours_dtype_policy}"] if FLAGS.ours_dtype_policy else []
    return {
        "ours": [sys.executable, "-m", "benchmarks.peer.ours_runner", *args, *policy],
        "lightly": [PEER_PYTHON, os.path.join(HERE, "lightly_runner.py"), *args],
    }


class Runner:
    """A runner process speaking the line protocol on its stdin/stdout."""

    def __init__(self, command):
        env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def read(self):
        """The next JSON record the runner prints (other lines are logs)."""
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
            print(line, end="", file=sys.stderr)
        raise RuntimeError(f"Runner {self.process.args} ended with code {self.process.wait()}.")

    def ask(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()


def throughput(method, batch_size):
    """Median images/s of each side over alternating rounds."""
    runners, libraries = {}, {}
    for side, command in commands(method, batch_size).items():
        runners[side] = Runner(command)
        libraries[side] = runners[side].read()["library"]  # ready: warmed up
    rates = {side: [] for side in runners}
    for round_ in range(FLAGS.rounds):
        order = list(runners) if round_ % 2 == 0 else list(runners)[::-1]
        for side in order:
            rates[side].append(runners[side].ask("run")["images_per_second"])
    for runner in runners.values():
        runner.close()
    medians = {side: float(np.median(r)) for side, r in rates.items()}
    return {
        "images_per_second": medians,
        "rounds": rates,
        "ratio_ours_over_lightly": medians["ours"] / medians["lightly"],
        "libraries": libraries,
    }


def quality(method, batch_size):
    """The fixed-budget protocol for each seed of `--seeds`; with several,
    also the means over seeds."""
    runs = [quality_run(method, batch_size, int(seed)) for seed in FLAGS.seeds]
    result = {"runs": runs}
    if len(runs) > 1:
        result["mean"] = mean_run(runs)
    return result


def quality_run(method, batch_size, seed):
    """Both sides, one after the other, with seed `seed`; with
    `--time_budget`, ours once more on the steps that fit in that fraction of
    lightly's wall time, extrapolated linearly from ours' equal-steps run with
    a 5 % margin."""
    results = {}
    for side, command in commands(method, batch_size, seed).items():
        results[side] = run_quality(command)
    row = {"seed": seed, **results, **compare(results["ours"], results["lightly"])}
    if FLAGS.time_budget:
        budget = FLAGS.time_budget * results["lightly"]["train_wall_seconds"]
        # 5 % below the linear extrapolation: a first run at 1.0 came out at
        # 0.73x instead of 0.70x (the machine's drift between runs).
        steps = int(0.95 * FLAGS.train_steps * budget / results["ours"]["train_wall_seconds"])
        command = commands(method, batch_size, seed)["ours"] + [f"--train_steps={steps}"]
        timed = dict(run_quality(command), train_steps=steps)
        row["ours_time_budget"] = {**timed, **compare(timed, results["lightly"])}
    return row


def mean_run(runs):
    """A row of the means over seeds: accuracies, wall times and steps, the
    differences and ratios taken between the means."""
    def mean(records):
        keys = ("knn_top1", "train_wall_seconds", "train_steps")
        return {k: float(np.mean([r[k] for r in records])) for k in keys if k in records[0]}

    sides = {side: mean([r[side] for r in runs]) for side in ("ours", "lightly")}
    row = {**sides, **compare(sides["ours"], sides["lightly"])}
    if "ours_time_budget" in runs[0]:
        timed = mean([r["ours_time_budget"] for r in runs])
        row["ours_time_budget"] = {**timed, **compare(timed, sides["lightly"])}
    return row


def compare(ours, lightly):
    """kNN points ours - lightly and the train wall-time ratio ours / lightly."""
    return {
        "knn_points_ours_minus_lightly": 100 * (ours["knn_top1"] - lightly["knn_top1"]),
        "wall_time_ratio_ours_over_lightly": ours["train_wall_seconds"]
        / lightly["train_wall_seconds"],
    }


def run_quality(command):
    runner = Runner(command)
    record = runner.read()
    runner.process.wait()
    return record


def quality_line(label, ours, lightly, comparison):
    return (
        f"| {label} | {100 * ours['knn_top1']:.1f} % | {100 * lightly['knn_top1']:.1f} % "
        f"| {comparison['knn_points_ours_minus_lightly']:+.1f} "
        f"| {ours['train_wall_seconds']:.0f} | {lightly['train_wall_seconds']:.0f} "
        f"| {comparison['wall_time_ratio_ours_over_lightly']:.2f} |"
    )


def table(rows):
    if FLAGS.quality:
        lines = [
            "| method | ours kNN top-1 | lightly kNN top-1 | points ours - lightly "
            "| ours train s | lightly train s | wall time ours / lightly |",
            "|---|---|---|---|---|---|---|",
        ]
        for method, result in rows.items():
            labelled = [(f"{method}, seed {r['seed']}", r) for r in result["runs"]]
            if "mean" in result:
                labelled.append((f"{method}, mean of {len(result['runs'])} seeds", result["mean"]))
            for label, r in labelled:
                lines.append(quality_line(label, r["ours"], r["lightly"], r))
                timed = r.get("ours_time_budget")
                if timed:
                    lines.append(
                        quality_line(f"{label}, ours {timed['train_steps']:.0f} steps",
                                     timed, r["lightly"], timed)
                    )
    else:
        lines = [
            "| method | backbone | ours img/s | lightly img/s | ours / lightly |",
            "|---|---|---|---|---|",
        ]
        for method, r in rows.items():
            rate = r["images_per_second"]
            lines.append(
                f"| {method} | {FLAGS.backbone} | {rate['ours']:.0f} | {rate['lightly']:.0f} "
                f"| {r['ratio_ours_over_lightly']:.2f} |"
            )
    return "\n".join(lines)


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.methods) - {"simclr", "byol", "moco_v2", "swav"})
    if unknown:
        raise ValueError(
            f"`--methods` must be among simclr, byol, moco_v2, swav. Received: {unknown}"
        )
    setup()
    if FLAGS.setup:
        return
    batch_size = FLAGS.batch_size or (256 if FLAGS.quality else BATCH_SIZES[FLAGS.backbone])
    measure = quality if FLAGS.quality else throughput
    rows = {}
    for method in FLAGS.methods:
        rows[method] = measure(method, batch_size)
        print(json.dumps({method: rows[method]}), flush=True)
    print(table(rows))
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(
                {"backbone": FLAGS.backbone, "batch_size": batch_size, "rows": rows,
                 "command": " ".join(sys.argv)},
                f, indent=2,
            )


if __name__ == "__main__":
    app.run(main)
