"""Which backbones work at 224 px, with `weights=None`: ours and `keras.applications`.

For each backbone, built for fixed `(S, S, 3)` images (S = `--image_size`):

- trainable parameters and feature width;
- SimCLR: a forward pass of 2 images through `model.encoder`, then training
  steps on pre-made views (batch `--batch_size`, two views), seconds per step
  as the median of `--steps` after one untimed step (pre-made views: the
  network's step, not the augmentation);
- a momentum method (BYOL): construction (it clones the encoder) and one step
  at batch 2;
- the any-size rebuild: SwAV with its multi-crop augmenter (crops of S and
  0.43 S), whose constructor rebuilds the fixed-size backbone on an any-size
  input and runs it on each crop size.

Backbones whose network rescales raw pixels itself (`keras.applications`
EfficientNet, EfficientNetV2, ConvNeXt, MobileNetV3) get `preprocessing=None`.
Steps run without XLA (`jit_compile=False`): compiling a 224 px graph on a
small CPU takes minutes and is not what the table compares.

    python -m benchmarks.backbones_224 --image_size 224 --batch_size 8 --steps 2
"""

import json
import statistics
import time

from absl import app
from absl import flags

import keras
import numpy as np

import keras_ssl

flags.DEFINE_integer("image_size", 224, "side of the images")
flags.DEFINE_integer("batch_size", 8, "images per SimCLR step")
flags.DEFINE_integer("steps", 2, "timed SimCLR steps (after one untimed)")
flags.DEFINE_list("backbones", None, "names from BACKBONES; default all")
flags.DEFINE_string("output", None, "write the rows as JSON here")


def _application(name, **kwargs):
    def build(shape):
        return getattr(keras.applications, name)(
            input_shape=shape, include_top=False, pooling="avg", weights=None, **kwargs
        )

    return build


# name -> (builder of a backbone for an image shape, SSLModel preprocessing).
BACKBONES = {
    "keras_ssl resnet50 (imagenet stem)": (keras_ssl.backbones.resnet50, "auto"),
    "keras_ssl vit_small /16": (keras_ssl.backbones.vit_small, "auto"),
    "keras_ssl vit_base /16": (keras_ssl.backbones.vit_base, "auto"),
    "ResNet50": (_application("ResNet50"), "auto"),
    "MobileNetV2": (_application("MobileNetV2"), "auto"),
    "MobileNetV3Small": (_application("MobileNetV3Small"), None),
    "EfficientNetB0": (_application("EfficientNetB0"), None),
    "EfficientNetV2B0": (_application("EfficientNetV2B0"), None),
    "ConvNeXtTiny": (_application("ConvNeXtTiny"), None),
    "DenseNet121": (_application("DenseNet121"), "auto"),
}


def _views(size, batch, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(0, 255, (batch, size, size, 3)).astype("float32") for _ in range(2))


def _attempt(row, key, fn):
    """Runs `fn`, storing its result (or the error's first line) in `row[key]`."""
    try:
        row[key] = fn()
    except Exception as error:  # a finding of the sweep, recorded, not raised
        row[key] = f"fails: {type(error).__name__}: {str(error).strip().splitlines()[0][:160]}"
        print(f"  {key}: {row[key]}", flush=True)


def measure(name, size, batch, steps):
    build, preprocessing = BACKBONES[name]
    shape = (size, size, 3)
    row = {"backbone": name}
    keras.utils.set_random_seed(0)
    backbone = build(shape)
    row["params"] = sum(int(np.prod(w.shape)) for w in backbone.trainable_weights)
    row["feature_dim"] = int(backbone.output_shape[-1])

    def simclr():
        model = keras_ssl.SimCLR(backbone, preprocessing=preprocessing)
        features = model.encoder(np.zeros((2, *shape), "float32"))
        assert tuple(features.shape) == (2, row["feature_dim"]), features.shape
        model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
        views = _views(size, batch)
        model.train_on_batch(views)
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            loss = model.train_on_batch(views, return_dict=True)["loss"]
            times.append(time.perf_counter() - start)
        assert np.isfinite(loss), loss
        return round(statistics.median(times), 2)

    def momentum():
        model = keras_ssl.BYOL(build(shape), preprocessing=preprocessing)
        model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
        loss = model.train_on_batch(_views(size, 2), return_dict=True)["loss"]
        assert np.isfinite(loss), loss
        return "yes"

    def any_size():
        model = keras_ssl.SwAV(
            build(shape), preprocessing=preprocessing, augmenter=keras_ssl.augmentation.swav_multicrop(size)
        )
        return "yes: " + ", ".join(sorted({f"{h}" for h, _ in model.augmenter.output_sizes}))

    _attempt(row, "simclr_seconds_per_step", simclr)
    _attempt(row, "momentum_byol", momentum)
    _attempt(row, "any_size_swav", any_size)
    return row


def main(argv):
    del argv
    names = flags.FLAGS.backbones or list(BACKBONES)
    rows = []
    for name in names:
        print(f"{name} ...", flush=True)
        rows.append(
            measure(name, flags.FLAGS.image_size, flags.FLAGS.batch_size, flags.FLAGS.steps)
        )
        print(json.dumps(rows[-1]), flush=True)
    print("| backbone | params | feature dim | SimCLR s/step | BYOL (clone) | any-size (SwAV) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backbone']} | {r['params']:,} | {r['feature_dim']} | "
            f"{r['simclr_seconds_per_step']} | {r['momentum_byol']} | {r['any_size_swav']} |"
        )
    if flags.FLAGS.output:
        with open(flags.FLAGS.output, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    app.run(main)
