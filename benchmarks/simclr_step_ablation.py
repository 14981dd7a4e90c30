"""Where SimCLR's step time goes, relative to a supervised step of the same
backbone and batch: one concatenated pass over both views (the default, as in
the SimCLR TF repo) vs one pass per view, with and without augmentation in the
model, at several batch sizes. Medians of repeated steps, warm-up excluded.

    python benchmarks/simclr_step_ablation.py --batch_sizes 128,256
"""

from absl import app
from absl import flags

import keras
import numpy as np

import keras_ssl
from benchmarks.simclr_fixed_budget import median_step_seconds

FLAGS = flags.FLAGS
flags.DEFINE_list("batch_sizes", ["128", "256"], "Batch sizes (source images).")
flags.DEFINE_integer("repeats", 6, "Timed steps per variant.")


class PerViewSimCLR(keras_ssl.SimCLR):
    """SimCLR with one encoder pass per view (BN statistics per view)."""

    def forward(self, views, training):
        features = tuple(self.encoder(v, training=training) for v in views)
        projections = tuple(self.projector(f, training=training) for f in features)
        return {"features": features, "projections": projections}


def main(argv):
    del argv
    (x, y), _ = keras_ssl.data.load_sample()
    print("| batch | variant | pre-made views | with augmentation | supervised step |")
    print("|---|---|---|---|---|")
    for batch_size in map(int, FLAGS.batch_sizes):
        images, labels = x[:batch_size], y[:batch_size]
        supervised = keras.Sequential(
            [keras_ssl.backbones.small_cnn((32, 32, 3)), keras.layers.Dense(10)]
        )
        supervised.compile(
            optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        float_images = images.astype("float32")
        base = median_step_seconds(
            lambda: supervised.train_on_batch(float_images, labels), FLAGS.repeats
        )
        for cls in (keras_ssl.SimCLR, PerViewSimCLR):
            model = cls(keras_ssl.backbones.small_cnn((32, 32, 3)))
            model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
            views = tuple(np.asarray(v) for v in model.augmenter(images, training=True))
            premade = median_step_seconds(lambda: model.train_on_batch(views), FLAGS.repeats)
            augmented = median_step_seconds(
                lambda: model.train_on_batch(images), FLAGS.repeats
            )
            print(
                f"| {batch_size} | {cls.__name__} | {premade:.3f} s ({premade / base:.2f}x) "
                f"| {augmented:.3f} s ({augmented / base:.2f}x) | {base:.3f} s |",
                flush=True,
            )


if __name__ == "__main__":
    app.run(main)
