"""Cost of the non-finite guard: the SSL training step with
`nonfinite_guard=True` (the default) against `False`, in one run.

For each method, two models of the protocol (small_cnn, 32 px, batch 256,
SGD momentum 0.9 with weight decay 5e-4) train on the same pre-made views (the
model alone, the step where the guard's share is largest); the two variants
are interleaved over `--repeats` rounds; the figures are the median step
(`benchmarks.timing.fit_step_seconds`, warm-up excluded) over all rounds and
the median and range of the per-round ratios (on a shared machine, the
ratio of neighbouring blocks is steadier than either time). With
`--replicas N` (TensorFlow) both models train under a `MirroredStrategy` of N
logical CPU devices, where the guard undoes a refused step in cross-replica
context.

    python -m benchmarks.guard_cost
    python -m benchmarks.guard_cost --replicas 2 --batch_size 64
    KERAS_BACKEND=jax python -m benchmarks.guard_cost --methods simclr
"""

import contextlib

import platform

from absl import app
from absl import flags

import keras
import numpy as np
import tensorflow as tf

import keras_ssl
from benchmarks.fixed_budget import build_method
from benchmarks.timing import fit_step_seconds
from benchmarks.timing import function_seconds
from keras_ssl.methods.base import all_finite

FLAGS = flags.FLAGS
flags.DEFINE_list("methods", ["simclr", "byol"], "Methods (names of fixed_budget.METHODS).")
flags.DEFINE_integer("batch_size", 256, "Batch size.")
flags.DEFINE_integer("steps", 8, "Timed steps per variant and round.")
flags.DEFINE_integer("warmup", 2, "Untimed steps at the start of every timed block.")
flags.DEFINE_integer("repeats", 3, "Interleaved rounds; figures are medians over all timed steps.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_integer("replicas", 1, "Logical CPU devices of a MirroredStrategy (TensorFlow).")

SHAPE = (32, 32, 3)


def views_dataset(model, batch_size, seed):
    """One batch of the method's views of random pixels, repeated."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (batch_size,) + SHAPE, dtype=np.uint8)
    views = tuple(keras.ops.convert_to_numpy(v) for v in model.augmenter(images, training=True))
    return tf.data.Dataset.from_tensors((views,))


def guard_work_seconds(model, steps):
    """Per-call seconds of the guard's added work on `model`'s state alone:
    a copy of every variable (the snapshot; on TensorFlow a copy is only
    made for variables updated in place) and the finiteness check of all of
    them. An upper bound that stands out of the noise of a shared machine."""
    variables = model._guarded_variables()

    def work(_):
        copies = [keras.ops.copy(v) for v in variables]
        return [all_finite(copies)]

    return function_seconds(work, np.zeros(()), steps)


def strategy_scope():
    """A function giving the scope the models are built in: a
    `MirroredStrategy`'s over `--replicas` logical CPU devices, or none."""
    if FLAGS.replicas == 1:
        return contextlib.nullcontext
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.replicas
    )
    devices = [f"/cpu:{i}" for i in range(FLAGS.replicas)]
    return tf.distribute.MirroredStrategy(devices).scope


def main(_):
    scope = strategy_scope()
    keras.utils.set_random_seed(FLAGS.seed)
    print(
        f"backend {keras.backend.backend()}, {platform.processor() or platform.machine()}, "
        f"{FLAGS.replicas} replica(s)"
    )
    print(
        "| method | guard off (ms/step) | guard on (ms/step) | on / off | "
        "per-round on / off: median (range) | guard work alone (ms) |"
    )
    print("|---|---|---|---|---|---|")
    for name in FLAGS.methods:
        models = {}
        for guard in (False, True):
            with scope():
                model = build_method(name, SHAPE, nonfinite_guard=guard)
                model.compile(
                    optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=5e-4)
                )
            models[guard] = model
        dataset = views_dataset(models[False], FLAGS.batch_size, FLAGS.seed)
        times = {False: [], True: []}
        ratios = []
        for _ in range(FLAGS.repeats):
            for guard, model in models.items():
                times[guard].append(fit_step_seconds(model, dataset, FLAGS.steps, FLAGS.warmup))
            ratios.append(np.median(times[True][-1]) / np.median(times[False][-1]))
        off, on = (1000 * float(np.median(times[g])) for g in (False, True))
        work = 1000 * float(np.median(guard_work_seconds(models[True], 20)))
        print(
            f"| {name} | {off:.1f} | {on:.1f} | {on / off:.3f} | "
            f"{np.median(ratios):.3f} ({min(ratios):.3f} to {max(ratios):.3f}) | "
            f"{work:.2f} ({100 * work / off:.2f} % of the step) |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
