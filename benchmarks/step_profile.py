"""Where a method's step goes beyond (views x supervised step), by ablation.

The performance issue asks for SSL step time <= 1.15 x (views x supervised
step) of the same backbone and batch. For one method, in one run, this times
on pre-made views (steps inside `fit`, medians of interleaved rounds, warm-up
excluded, batch 256 of the bundled sample on small_cnn):

- the supervised cross-entropy step of the same encoder;
- the method's step with the protocol's settings (`fixed_budget.METHODS`);
- the same step with parts made cheap, one variant per `--ablations` entry
  (constructor arguments as JSON, e.g. `{"queue_size": 256}` shrinks NNCLR's
  support-set search to one batch);
- for momentum methods, the target branch's forward pass alone (BN in
  training mode, both views, no gradient), which a supervised step has no
  counterpart of.

Each figure is printed as seconds and as a ratio to (views x supervised), so
the difference between the full step and an ablation is the share of that
part.

    python -m benchmarks.step_profile --method nnclr \
        --ablations '{"queue_size": 256}' \
        --ablations '{"queue_size": 256, "projection_dims": [256, 256, 256], "prediction_dims": [256, 256]}'
    python -m benchmarks.step_profile --method byol
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
from benchmarks.timing import fit_step_seconds
from benchmarks.timing import function_seconds
from benchmarks.timing import supervised_model

IMAGE_SHAPE = (32, 32, 3)

FLAGS = flags.FLAGS
flags.DEFINE_enum("method", "nnclr", sorted(METHODS), "Method (fixed_budget.METHODS).")
flags.DEFINE_multi_string("ablations", [], "JSON constructor arguments of one cheaper variant.")
flags.DEFINE_integer("batch_size", 256, "Batch size.")
flags.DEFINE_integer("steps", 8, "Timed steps per variant and round.")
flags.DEFINE_integer("rounds", 3, "Interleaved rounds.")
flags.DEFINE_string("output", None, "Write the figures as JSON here.")


def ssl_variant(name, x, batch_size, **overrides):
    model = build_method(name, IMAGE_SHAPE, **overrides)
    model.compile(optimizer=OPTIMIZERS["sgd"](0.1))
    views = tuple(np.asarray(v) for v in model.augmenter(x[:batch_size], training=True))
    return model, tf.data.Dataset.from_tensors((views,)), views


def target_forward_seconds(model, views, steps):
    """Per-call seconds of the target encoder and projector on all views, BN in
    training mode, compiled (the momentum step's extra forward)."""
    return function_seconds(
        lambda batch: [
            model.target_projector(model.target_encoder(v, training=True), training=True)
            for v in batch
        ],
        list(views),
        steps,
    )


def main(argv):
    del argv
    keras.utils.set_random_seed(0)
    (x, y), _ = keras_ssl.data.load_sample()
    batch_size = FLAGS.batch_size
    supervised = supervised_model(IMAGE_SHAPE)
    labelled = tf.data.Dataset.from_tensor_slices(
        (x[:batch_size].astype("float32"), y[:batch_size])
    ).batch(batch_size)
    variants = {"supervised": (supervised, labelled)}
    full, premade, views = ssl_variant(FLAGS.method, x, batch_size)
    variants["protocol"] = (full, premade)
    for ablation in FLAGS.ablations:
        model, data, _ = ssl_variant(FLAGS.method, x, batch_size, **json.loads(ablation))
        variants[ablation] = (model, data)
    times = {key: [] for key in variants}
    if hasattr(full, "target_encoder"):
        times["target forward (both views)"] = []
    for _ in range(FLAGS.rounds):
        for key, (model, data) in variants.items():
            times[key] += fit_step_seconds(model, data, FLAGS.steps)
        if hasattr(full, "target_encoder"):
            times["target forward (both views)"] += target_forward_seconds(
                full, views, FLAGS.steps
            )
    seconds = {key: float(np.median(t)) for key, t in times.items()}
    unit = full.num_views * seconds["supervised"]
    print(f"{FLAGS.method}, batch {batch_size}, {full.num_views} views; "
          f"supervised step {seconds['supervised']:.3f} s")
    print("| variant | seconds | / (views x supervised) |")
    print("|---|---|---|")
    for key, value in seconds.items():
        print(f"| {key} | {value:.3f} | {value / unit:.2f} |")
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump({"method": FLAGS.method, "batch_size": batch_size,
                       "num_views": full.num_views, "seconds": seconds}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
