"""The keras_ssl side of the peer benchmark; runs in keras_ssl's environment.

The protocol's method (`benchmarks.fixed_budget.METHODS`: SimCLR, MoCo v2,
BYOL, SwAV) on small_cnn or ResNet-18 with the CIFAR stem, every method with the
SimCLR CIFAR augmentation (`simclr_views(32)`: jitter strength 0.5, no blur)
as in `lightly_runner.py`, made inside the model; images decoded once by
`keras_ssl.data.load_image_folder` and batched by `tf.data`;
`keras_ssl.optimizers.SGD` (torch.optim.SGD's update: momentum 0.9, weight
decay 5e-4 added to the gradient); TF intra- and inter-op threads set by
`--threads`.

Modes and line protocol as `lightly_runner.py` (README.md):
`--mode throughput` prints `{"ready": ...}`, then answers each `run` line
on stdin with `{"images_per_second": ...}` until `quit`; `--mode quality`
runs the fixed-budget protocol and prints `{"knn_top1": ...,
"train_wall_seconds": ...}`.

    python -m benchmarks.peer.ours_runner --method simclr --max_images 512
"""

import json
import sys

from absl import app
from absl import flags

import keras
import tensorflow as tf

import keras_ssl
from benchmarks.fixed_budget import OPTIMIZERS
from benchmarks.fixed_budget import build_method
from benchmarks.fixed_budget import pretrain
from benchmarks.timing import fit_step_seconds

FLAGS = flags.FLAGS
flags.DEFINE_enum("mode", "throughput", ["throughput", "quality"], "What to measure.")
flags.DEFINE_enum("method", "simclr", ["simclr", "byol", "moco_v2", "swav"], "Method.")
flags.DEFINE_enum(
    "backbone", "small_cnn",
    ["small_cnn", "resnet18", "resnet18_imagenet", "resnet50_imagenet"], "Backbone.",
)
flags.DEFINE_integer(
    "image_size", 32, "Side of the views. Above 32 the train images are streamed from "
    "files by `keras_ssl.data.image_dataset`, which makes the views of each image at its "
    "own size with SimCLR's ImageNet recipe (strength 1, blur), as lightly's transforms do."
)
flags.DEFINE_string("data_dir", "../shared/datasets/cifar10", "CIFAR-10 image folder.")
flags.DEFINE_integer("batch_size", 256, "Batch size.")
flags.DEFINE_integer("max_images", 0, "Read at most this many train images (0: all).")
flags.DEFINE_integer("steps", 10, "Timed steps per run.")
flags.DEFINE_integer("warmup", 5, "Untimed steps per run.")
flags.DEFINE_integer("train_steps", 390, "Optimizer steps of the quality mode.")
flags.DEFINE_float("lr", 0.12, "Learning rate (peak of the cosine in quality mode).")
flags.DEFINE_integer("threads", 2, "TF intra- and inter-op threads.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_string(
    "dtype_policy", None, "Keras dtype policy of the model, e.g. mixed_bfloat16 (default float32)."
)


def load(split, max_images=0):
    max_per_class = max_images // 10 if max_images else None
    x, y, _ = keras_ssl.data.load_image_folder(
        f"{FLAGS.data_dir}/{split}", max_per_class=max_per_class
    )
    return x, y


def build(x):
    return build_method(
        FLAGS.method,
        x.shape[1:],
        FLAGS.backbone,
        augmenter=keras_ssl.augmentation.simclr_views(x.shape[1], seed=FLAGS.seed),
    )


def emit(record):
    print(json.dumps(record), flush=True)


def library():
    policy = keras.config.dtype_policy().name
    return f"keras_ssl, keras {keras.__version__}, tensorflow {tf.__version__}, {policy}"


def throughput():
    if FLAGS.image_size > 32:
        size = FLAGS.image_size
        augmenter = keras_ssl.augmentation.simclr_views(size, seed=FLAGS.seed)
        model = build_method(FLAGS.method, (size, size, 3), FLAGS.backbone, augmenter=augmenter)
        images = keras_ssl.data.image_dataset(
            f"{FLAGS.data_dir}/train", None, FLAGS.batch_size, seed=FLAGS.seed,
            augmenter=augmenter,
        )
    else:
        x, _ = load("train", FLAGS.max_images)
        model = build(x)
        images = keras_ssl.data.shuffled_batches(x, FLAGS.batch_size, FLAGS.seed)
    model.compile(optimizer=OPTIMIZERS["sgd_coupled"](FLAGS.lr))
    fit_step_seconds(model, images, 1, FLAGS.warmup)  # tracing
    emit({"ready": True, "library": library()})
    for line in sys.stdin:
        if line.strip() == "quit":
            return
        times = fit_step_seconds(model, images, FLAGS.steps, FLAGS.warmup)
        emit({"images_per_second": FLAGS.batch_size * len(times) / sum(times)})


def quality():
    train = load("train", FLAGS.max_images)
    test = load("test")
    model = build(train[0])
    seconds = pretrain(
        model, FLAGS.method, train[0], FLAGS.train_steps, FLAGS.batch_size, FLAGS.lr, FLAGS.seed,
        optimizer="sgd_coupled",
    )
    emit(
        {
            "knn_top1": keras_ssl.evaluation.knn_accuracy(model.encoder, train, test),
            "train_wall_seconds": seconds,
            "images_per_second": FLAGS.train_steps * FLAGS.batch_size / seconds,
            "library": library(),
        }
    )


def main(argv):
    del argv
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.dtype_policy:
        keras.config.set_dtype_policy(FLAGS.dtype_policy)
    (quality if FLAGS.mode == "quality" else throughput)()


if __name__ == "__main__":
    app.run(main)
