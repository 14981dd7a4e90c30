"""Throughput of the SSL methods, in source images per second.

For each method and backbone, in one run, with the protocol's SGD (momentum
0.9, weight decay 5e-4):

- (a) the SSL training step on pre-made views (the model alone);
- (b) the SSL training step end to end, augmentation included, made in the
  model (`--augment_in model`, the default) or in `tf.data`
  (`--augment_in data`: `keras_ssl.data.with_views`, parallel map, prefetch);
- (c) a supervised cross-entropy step of the same encoder (CIFAR-10
  normalization + backbone + Dense(10)) and batch;
- (d) the forward-only step of that supervised model (BatchNorm in training
  mode, no gradient: `timing.forward_only_model`);
- the matrix products each method runs without gradient
  (`no_gradient_matmuls`: NNCLR's support-set search), each shape alone;
- the augmentation alone (all views of one batch, in a `tf.function`).

The step bound (`benchmarks/step_bound.py`, issue 27) is what the SSL step
on pre-made views (a) should stay within 1.15x of:

    views x (c) + no-gradient passes x (d) + the no-gradient matmuls,

where the passes are the method's `no_gradient_passes` (a momentum target's
forward on each view it sees: 2 for BYOL, symmetric MoCo v2, MoCo v3 and
DINO's two global crops) and every figure comes from the same run. The older
ratio, (a) over views x (c), is printed too.

Backbones: `small_cnn` at 32 px, batch 256, and `resnet18` with the CIFAR stem
at 32 px, batch 128 with fewer steps. Steps are timed inside `fit` (warm-up
excluded); the variants are interleaved over `--repeats` rounds and each
figure is the median step. It prints two markdown tables (throughput, and
the step bound) and, with `--output`, writes the figures as JSON. Images are
the bundled CIFAR-10 sample (`--data sample`) or random uint8 pixels
(`--data random`): the step time does not depend on their content.

Variants for finding bottlenecks: `--augment_in data`,
`--dtype_policy mixed_bfloat16`, `--jit_compile true` (XLA; `auto`, the Keras
default, leaves it off on CPU), `--threads N` (TF intra- and inter-op
threads).

    python -m benchmarks.throughput
    python -m benchmarks.throughput --methods simclr --backbones small_cnn \
        --augment_in data --output /tmp/throughput_data.json
"""

import json
import platform

from absl import app
from absl import flags

import keras
import numpy as np
import tensorflow as tf

import keras_ssl
from benchmarks.fixed_budget import METHODS
from benchmarks.fixed_budget import build_method
from benchmarks.step_bound import BOUND_FACTOR
from benchmarks.step_bound import SETTINGS
from benchmarks.step_bound import step_bound
from benchmarks.timing import augmentation_seconds
from benchmarks.timing import fit_step_seconds
from benchmarks.timing import forward_only_model
from benchmarks.timing import matmul_seconds
from benchmarks.timing import supervised_model

IMAGE_SHAPE = (32, 32, 3)
# The timed steps and calls that are also reported as images/s.
STEP_RATES = (
    "supervised", "forward_only", "ssl_premade_views", "ssl_end_to_end", "augmentation_only"
)

FLAGS = flags.FLAGS
flags.DEFINE_list("methods", ["simclr", "moco_v2", "byol"], "Methods (names of fixed_budget.METHODS).")
flags.DEFINE_list("backbones", list(SETTINGS), "Backbones: small_cnn, resnet18.")
flags.DEFINE_integer("batch_size", None, "Batch size; default 256 for small_cnn, 128 for resnet18.")
flags.DEFINE_integer("steps", None, "Timed steps per variant and round; default 8 for small_cnn, 3 for resnet18.")
flags.DEFINE_integer("warmup", 2, "Untimed steps at the start of every timed block.")
flags.DEFINE_integer("repeats", 3, "Interleaved rounds; figures are medians over all timed steps.")
flags.DEFINE_enum("augment_in", "model", ["model", "data"], "Where the end-to-end step makes its views.")
flags.DEFINE_string("dtype_policy", None, "Keras dtype policy, e.g. mixed_bfloat16.")
flags.DEFINE_enum("jit_compile", "auto", ["auto", "true", "false"], "`jit_compile` of every compile().")
flags.DEFINE_integer("threads", 0, "TF intra- and inter-op threads (0: TF's default).")
flags.DEFINE_enum("data", "sample", ["sample", "random"], "Bundled CIFAR-10 sample or random pixels.")
flags.DEFINE_string("output", None, "Write the figures as JSON here.")
flags.DEFINE_integer("seed", 0, "Random seed.")


def load_images(kind, count, seed):
    """`count` uint8 images of 32 px and int32 labels: sample or random."""
    if kind == "sample":
        (x, y), _ = keras_ssl.data.load_sample()
        if count > len(x):
            raise ValueError(f"The sample has {len(x)} images; {count} needed.")
        return x[:count], y[:count]
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (count,) + IMAGE_SHAPE, dtype=np.uint8)
    return x, rng.integers(0, 10, count, dtype=np.int32)


def method_variants(name, backbone, x, batch_size, augment_in, jit_compile):
    """The method's model, its end-to-end dataset and its pre-made views."""
    model = build_method(name, x.shape[1:], backbone)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=5e-4),
        jit_compile=jit_compile,
    )
    images = tf.data.Dataset.from_tensor_slices(x).batch(batch_size, drop_remainder=True)
    if augment_in == "data":
        images = keras_ssl.data.with_views(images.repeat(), model.augmenter)
    views = tuple(np.asarray(v) for v in model.augmenter(x[:batch_size], training=True))
    return model, images, tf.data.Dataset.from_tensors((views,))


def backbone_rows(
    backbone, methods, batch_size, steps, repeats, warmup, augment_in, jit_compile, x, y
):
    """Median seconds per step of every variant of one backbone, interleaved,
    and each method's step bound from them."""
    image_shape = x.shape[1:]
    labelled = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y)).batch(
        batch_size, drop_remainder=True
    )
    variants = {
        "supervised": (supervised_model(image_shape, backbone, jit_compile), labelled),
        "forward_only": (forward_only_model(image_shape, backbone, jit_compile), labelled),
    }
    models = {}
    for name in methods:
        model, end_to_end, premade = method_variants(
            name, backbone, x, batch_size, augment_in, jit_compile
        )
        models[name] = model
        variants[(name, "premade")] = (model, premade)
        variants[(name, "end_to_end")] = (model, end_to_end)
    shapes = {shape for m in models.values() for shape in m.no_gradient_matmuls(batch_size)}
    times = {key: [] for key in variants}
    matmul_times = {shape: [] for shape in shapes}
    for _ in range(repeats):
        for key, (model, dataset) in variants.items():
            times[key] += fit_step_seconds(model, dataset, steps, warmup)
        for shape in shapes:
            matmul_times[shape] += matmul_seconds(shape, steps, warmup)
    median = {key: float(np.median(t)) for key, t in times.items()}
    matmul_median = {shape: float(np.median(t)) for shape, t in matmul_times.items()}
    rows = []
    for name, model in models.items():
        augmentation = augmentation_seconds(model.augmenter, x[:batch_size], steps * repeats)
        matmuls = model.no_gradient_matmuls(batch_size)
        seconds = {
            "supervised": median["supervised"],
            "forward_only": median["forward_only"],
            "no_gradient_matmuls": sum(matmul_median[shape] for shape in matmuls),
            "ssl_premade_views": median[(name, "premade")],
            "ssl_end_to_end": median[(name, "end_to_end")],
            "augmentation_only": float(np.median(augmentation)),
        }
        seconds["step_bound"] = step_bound(
            seconds["supervised"],
            seconds["forward_only"],
            model.num_views,
            model.no_gradient_passes,
            seconds["no_gradient_matmuls"],
        )
        ratio = seconds["ssl_premade_views"] / seconds["step_bound"]
        rows.append(
            {
                "backbone": backbone,
                "batch_size": batch_size,
                "method": name,
                "num_views": model.num_views,
                "no_gradient_passes": model.no_gradient_passes,
                "no_gradient_matmuls": [list(shape) for shape in matmuls],
                "seconds_per_step": seconds,
                "images_per_second": {k: batch_size / seconds[k] for k in STEP_RATES},
                "ssl_premade_over_views_x_supervised": seconds["ssl_premade_views"]
                / (model.num_views * seconds["supervised"]),
                "ssl_premade_over_step_bound": ratio,
                "step_bound_met": ratio <= BOUND_FACTOR,
                "augmentation_over_model_rate": seconds["ssl_premade_views"]
                / seconds["augmentation_only"],
            }
        )
    return rows


def markdown_table(rows):
    """The rows as a markdown table of images/s and the issue's ratios."""
    lines = [
        "| backbone | batch | method | (c) supervised img/s | (a) SSL step, pre-made views img/s "
        "| (b) end to end img/s | augmentation alone img/s | (a) step / (views x (c) step) "
        "| augmentation rate / (a) rate |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        rate = row["images_per_second"]
        lines.append(
            f"| {row['backbone']} | {row['batch_size']} | {row['method']} "
            f"| {rate['supervised']:.0f} | {rate['ssl_premade_views']:.0f} "
            f"| {rate['ssl_end_to_end']:.0f} | {rate['augmentation_only']:.0f} "
            f"| {row['ssl_premade_over_views_x_supervised']:.2f} "
            f"| {row['augmentation_over_model_rate']:.1f} |"
        )
    return "\n".join(lines)


def bound_table(rows):
    """The rows' step bounds as a markdown table, in milliseconds per step."""
    lines = [
        "| backbone | batch | method | views | (a) SSL step ms | (c) supervised ms "
        "| (d) forward-only ms | no-gradient passes | no-gradient matmul ms | bound ms "
        f"| (a) / bound | <= {BOUND_FACTOR} |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ms = {k: 1000 * s for k, s in row["seconds_per_step"].items()}
        matmuls = " + ".join("x".join(map(str, shape)) for shape in row["no_gradient_matmuls"])
        matmul = f"{ms['no_gradient_matmuls']:.1f} ({matmuls})" if matmuls else "-"
        lines.append(
            f"| {row['backbone']} | {row['batch_size']} | {row['method']} | {row['num_views']} "
            f"| {ms['ssl_premade_views']:.1f} | {ms['supervised']:.1f} "
            f"| {ms['forward_only']:.1f} | {row['no_gradient_passes']} | {matmul} "
            f"| {ms['step_bound']:.1f} | {row['ssl_premade_over_step_bound']:.2f} "
            f"| {'yes' if row['step_bound_met'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.methods) - set(METHODS))
    if unknown:
        raise ValueError(f"`--methods` must name methods of {sorted(METHODS)}. Received: {unknown}")
    unknown = sorted(set(FLAGS.backbones) - set(SETTINGS))
    if unknown:
        raise ValueError(f"`--backbones` must be in {sorted(SETTINGS)}. Received: {unknown}")
    if FLAGS.threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    if FLAGS.dtype_policy:
        keras.config.set_dtype_policy(FLAGS.dtype_policy)
    jit_compile = {"auto": "auto", "true": True, "false": False}[FLAGS.jit_compile]
    keras.utils.set_random_seed(FLAGS.seed)
    rows = []
    for backbone in FLAGS.backbones:
        batch_size, steps = SETTINGS[backbone]
        batch_size = FLAGS.batch_size or batch_size
        x, y = load_images(FLAGS.data, 4 * batch_size, FLAGS.seed)
        rows += backbone_rows(
            backbone, FLAGS.methods, batch_size, FLAGS.steps or steps, FLAGS.repeats, FLAGS.warmup,
            FLAGS.augment_in, jit_compile, x, y,
        )
    settings = {
        "augment_in": FLAGS.augment_in,
        "dtype_policy": keras.config.dtype_policy().name,
        "jit_compile": FLAGS.jit_compile,
        "threads": FLAGS.threads or "default",
        "data": FLAGS.data,
        "repeats": FLAGS.repeats,
        "warmup": FLAGS.warmup,
    }
    print(", ".join(f"{k}={v}" for k, v in settings.items()))
    print(markdown_table(rows))
    print()
    print(bound_table(rows))
    results = {
        "settings": settings,
        "rows": rows,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
