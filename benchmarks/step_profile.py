"""Where a method's step goes beyond its step bound, by ablation and by op.

The performance issues ask for an SSL step of at most 1.15 x the step bound
(`benchmarks/step_bound.py`): views x a supervised step of the same backbone
and batch, plus the method's no-gradient passes x a forward-only step, plus
its no-gradient matmuls. For one method and
backbone, in one run, this times on pre-made views (steps inside `fit`,
medians of interleaved rounds, warm-up excluded, a batch of the bundled
sample):

- the supervised cross-entropy step of the same encoder, and its
  forward-only step (`timing.forward_only_model`);
- the method's step with the protocol's settings (`fixed_budget.METHODS`);
- the same step with parts made cheap, one variant per `--ablations` entry
  (constructor arguments as JSON, e.g. `{"queue_size": 256}` shrinks NNCLR's
  support-set search to one batch);
- for momentum methods, the target branch's forward passes alone (encoder
  and projector on each view the target sees, BN in training mode, no
  gradient), to set against the bound's forward-only steps.

Each figure is printed as seconds and as ratios to (views x supervised) and
to the bound, so the difference between the full step and an ablation is the
share of that part. With `--op_profile_steps N` it then traces N steps of
the protocol's step and of the supervised one with TensorFlow's profiler and
prints their op time by direction, part of the model and op type
(`benchmarks/op_profile.py`).

    python -m benchmarks.step_profile --method nnclr \
        --ablations '{"queue_size": 256}' \
        --ablations '{"queue_size": 256, "projection_dims": [256, 256, 256], "prediction_dims": [256, 256]}'
    python -m benchmarks.step_profile --method byol --backbone resnet18 --op_profile_steps 2
"""

import json

from absl import app
from absl import flags

import keras
import numpy as np
import tensorflow as tf

import keras_ssl
from benchmarks.fixed_budget import METHODS
from benchmarks.fixed_budget import OPTIMIZERS
from benchmarks.fixed_budget import build_method
from benchmarks.op_profile import op_table
from benchmarks.op_profile import traced_op_seconds
from benchmarks.step_bound import SETTINGS
from benchmarks.step_bound import step_bound
from benchmarks.timing import fit_step_seconds
from benchmarks.timing import forward_only_model
from benchmarks.timing import function_seconds
from benchmarks.timing import matmul_seconds
from benchmarks.timing import supervised_model

IMAGE_SHAPE = (32, 32, 3)

FLAGS = flags.FLAGS
flags.DEFINE_enum("method", "nnclr", sorted(METHODS), "Method (fixed_budget.METHODS).")
flags.DEFINE_enum("backbone", "small_cnn", sorted(SETTINGS), "Backbone.")
flags.DEFINE_multi_string("ablations", [], "JSON constructor arguments of one cheaper variant.")
flags.DEFINE_integer("batch_size", None, "Batch size; default the backbone's step_bound.SETTINGS.")
flags.DEFINE_integer("steps", None, "Timed steps per variant and round; default its SETTINGS.")
flags.DEFINE_integer("rounds", 3, "Interleaved rounds.")
flags.DEFINE_integer("op_profile_steps", 0, "Steps to trace for the op profile (0: none).")
flags.DEFINE_string("dtype_policy", None, "Keras dtype policy, e.g. mixed_bfloat16.")
flags.DEFINE_string("output", None, "Write the figures as JSON here.")


def ssl_variant(name, backbone, x, batch_size, **overrides):
    model = build_method(name, IMAGE_SHAPE, backbone, **overrides)
    model.compile(optimizer=OPTIMIZERS["sgd"](0.1))
    views = tuple(np.asarray(v) for v in model.augmenter(x[:batch_size], training=True))
    return model, tf.data.Dataset.from_tensors((views,)), views


def target_forward_seconds(model, views, steps):
    """Per-call seconds of the target encoder and projector on
    `no_gradient_passes` views, one at a time, BN in training mode, compiled
    (the momentum step's extra forward; which views does not change the
    time)."""
    return function_seconds(
        lambda batch: [
            model.target_projector(model.target_encoder(v, training=True), training=True)
            for v in batch
        ],
        list(views[: model.no_gradient_passes]),
        steps,
    )


def main(argv):
    del argv
    if FLAGS.dtype_policy:
        keras.config.set_dtype_policy(FLAGS.dtype_policy)
    keras.utils.set_random_seed(0)
    (x, y), _ = keras_ssl.data.load_sample()
    batch_size = FLAGS.batch_size or SETTINGS[FLAGS.backbone][0]
    steps = FLAGS.steps or SETTINGS[FLAGS.backbone][1]
    labelled = tf.data.Dataset.from_tensor_slices(
        (x[:batch_size].astype("float32"), y[:batch_size])
    ).batch(batch_size)
    variants = {
        "supervised": (supervised_model(IMAGE_SHAPE, FLAGS.backbone), labelled),
        "forward-only": (forward_only_model(IMAGE_SHAPE, FLAGS.backbone), labelled),
    }
    full, premade, views = ssl_variant(FLAGS.method, FLAGS.backbone, x, batch_size)
    variants["protocol"] = (full, premade)
    for ablation in FLAGS.ablations:
        model, data, _ = ssl_variant(
            FLAGS.method, FLAGS.backbone, x, batch_size, **json.loads(ablation)
        )
        variants[ablation] = (model, data)
    matmuls = {
        f"no-gradient matmul {'x'.join(map(str, shape))}": shape
        for shape in full.no_gradient_matmuls(batch_size)
    }
    momentum = hasattr(full, "target_encoder")
    times = {key: [] for key in list(variants) + list(matmuls)}
    if momentum:
        times["target forward (its passes)"] = []
    for _ in range(FLAGS.rounds):
        for key, (model, data) in variants.items():
            times[key] += fit_step_seconds(model, data, steps)
        for key, shape in matmuls.items():
            times[key] += matmul_seconds(shape, steps)
        if momentum:
            times["target forward (its passes)"] += target_forward_seconds(full, views, steps)
    seconds = {key: float(np.median(t)) for key, t in times.items()}
    unit = full.num_views * seconds["supervised"]
    bound = step_bound(
        seconds["supervised"],
        seconds["forward-only"],
        full.num_views,
        full.no_gradient_passes,
        sum(seconds[key] for key in matmuls),
    )
    print(
        f"{FLAGS.method} on {FLAGS.backbone}, batch {batch_size}, {full.num_views} views, "
        f"{full.no_gradient_passes} no-gradient passes, "
        f"{keras.config.dtype_policy().name}; supervised step {seconds['supervised']:.3f} s, "
        f"step bound {bound:.3f} s"
    )
    print("| variant | seconds | / (views x supervised) | / bound |")
    print("|---|---|---|---|")
    for key, value in seconds.items():
        print(f"| {key} | {value:.3f} | {value / unit:.2f} | {value / bound:.2f} |")
    ops = {}
    if FLAGS.op_profile_steps:
        for key in ("supervised", "protocol"):
            op_seconds, runs = traced_op_seconds(*variants[key], FLAGS.op_profile_steps)
            print(f"\nOp time of the {key} step (summed over threads):")
            print(op_table(op_seconds, runs))
            ops[key] = {"/".join(k): v for k, v in op_seconds.items()}
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(
                {
                    "method": FLAGS.method,
                    "backbone": FLAGS.backbone,
                    "batch_size": batch_size,
                    "num_views": full.num_views,
                    "no_gradient_passes": full.no_gradient_passes,
                    "dtype_policy": keras.config.dtype_policy().name,
                    "seconds": seconds,
                    "step_bound": bound,
                    "op_seconds": ops,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    app.run(main)
