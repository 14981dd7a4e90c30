"""Where SimCLR's step time goes, relative to a supervised step of the same
backbone and batch: one concatenated pass over both views (the default, as in
the SimCLR TF repo) vs one pass per view, with and without augmentation in the
model, at several batch sizes. Medians of steps timed inside `fit`, warm-up
excluded.

    python benchmarks/simclr_step_ablation.py --batch_sizes 128,256
"""

from absl import app
from absl import flags

import keras
import numpy as np

import keras_ssl
import tensorflow as tf

from benchmarks.timing import fit_step_seconds
from benchmarks.timing import supervised_model

FLAGS = flags.FLAGS
flags.DEFINE_list("batch_sizes", ["128", "256"], "Batch sizes (source images).")
flags.DEFINE_integer("timed_steps", 10, "Timed steps per variant (inside fit).")


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
        images = tf.data.Dataset.from_tensor_slices(x[: 8 * batch_size]).batch(
            batch_size, drop_remainder=True
        )
        labelled = tf.data.Dataset.from_tensor_slices(
            (x[: 8 * batch_size].astype("float32"), y[: 8 * batch_size])
        ).batch(batch_size, drop_remainder=True)
        supervised = supervised_model((32, 32, 3))
        base = np.median(fit_step_seconds(supervised, labelled, FLAGS.timed_steps))
        for cls in (keras_ssl.SimCLR, PerViewSimCLR):
            model = cls(keras_ssl.backbones.small_cnn((32, 32, 3)))
            model.compile(
                optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=5e-4)
            )
            views = tuple(
                np.asarray(v) for v in model.augmenter(x[:batch_size], training=True)
            )
            premade_views = tf.data.Dataset.from_tensors((views,))
            premade = np.median(fit_step_seconds(model, premade_views, FLAGS.timed_steps))
            augmented = np.median(fit_step_seconds(model, images, FLAGS.timed_steps))
            print(
                f"| {batch_size} | {cls.__name__} | {premade:.3f} s ({premade / base:.2f}x) "
                f"| {augmented:.3f} s ({augmented / base:.2f}x) | {base:.3f} s |",
                flush=True,
            )


if __name__ == "__main__":
    app.run(main)
