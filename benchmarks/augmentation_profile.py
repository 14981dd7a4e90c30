"""Where the augmentation time goes: each layer of a recipe's first view, alone.

For the method's protocol augmenter (`fixed_budget.build_method`), every
layer of its first pipeline is timed on its own, compiled for the backend,
on a batch of the bundled sample at the input that layer sees in the
pipeline; the whole augmenter (all views) is timed the same way. Medians
over `--steps` calls after warm-up. The shares tell which layer to speed up
when the augmentation is slower than 3x the model's rate.

    python -m benchmarks.augmentation_profile --method simclr
"""

from absl import app
from absl import flags

import numpy as np

import keras_ssl
from benchmarks.fixed_budget import METHODS
from benchmarks.fixed_budget import build_method
from benchmarks.timing import function_seconds

FLAGS = flags.FLAGS
flags.DEFINE_enum("method", "simclr", sorted(METHODS), "Method (fixed_budget.METHODS).")
flags.DEFINE_integer("batch_size", 256, "Images per batch.")
flags.DEFINE_integer("steps", 20, "Timed calls per layer.")


def main(argv):
    del argv
    (x, _), _ = keras_ssl.data.load_sample()
    images = x[: FLAGS.batch_size].astype("float32")
    augmenter = build_method(FLAGS.method, images.shape[1:]).augmenter
    total = np.median(
        function_seconds(lambda b: augmenter(b, training=True), images, FLAGS.steps)
    )
    print(f"{FLAGS.method}: {augmenter.num_views} views of {FLAGS.batch_size} images, "
          f"{total:.4f} s per batch ({FLAGS.batch_size / total:.0f} images/s)")
    print("| layer of view 1 | seconds per batch | share of one view |")
    print("|---|---|---|")
    rows, inputs = [], images
    for layer in augmenter.pipelines[0]:
        seconds = np.median(
            function_seconds(
                lambda b, layer=layer: [layer(b, training=True)], inputs, FLAGS.steps
            )
        )
        rows.append((type(layer).__name__, seconds))
        inputs = np.asarray(layer(inputs, training=True))
    view = sum(seconds for _, seconds in rows)
    for name, seconds in rows:
        print(f"| {name} | {seconds:.4f} | {seconds / view:.0%} |")


if __name__ == "__main__":
    app.run(main)
