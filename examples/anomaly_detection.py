"""One-class anomaly detection with a self-supervised encoder.

For each class in turn, the training images of that class are the normal
data: their embeddings form the index, and every test image is scored by its
mean cosine distance to its k nearest normal embeddings
(`keras_ssl.retrieval.one_class_aurocs`). Test images of other classes are
the anomalies; the script reports the AUROC per class and the mean, and
writes, per class, the most normal and the most anomalous test images.

    python examples/anomaly_detection.py --encoder_dir outputs/pretrain/encoder
    python examples/anomaly_detection.py \
        --data_dir ../shared/datasets/cifar10 --encoder_dir ENCODER
"""

import os

from absl import app
from absl import flags

import numpy as np

import keras_ssl
from keras_ssl import cli

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "encoder_dir", None, "Exported encoder (examples/pretrain.py writes one); "
    "default: pretrain SimCLR for --epochs first."
)
flags.DEFINE_integer("epochs", 3, "Pretraining epochs when no --encoder_dir.")
flags.DEFINE_string("data_dir", None, "Image folder with train/<class>/ and test/<class>/.")
flags.DEFINE_integer("k", 2, "Nearest normal embeddings averaged per score.")
flags.DEFINE_integer("shown", 6, "Most normal / most anomalous images shown per class.")
flags.DEFINE_string("output_dir", "outputs/anomaly_detection", "Where the PNG goes.")


def main(argv):
    del argv
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = cli.load_data(FLAGS.data_dir)
    encoder = cli.encoder_for(
        FLAGS.encoder_dir, (x_train, y_train), (x_test, y_test), FLAGS.epochs,
        os.path.join(FLAGS.output_dir, "pretrain"),
    )
    train = keras_ssl.evaluation.embed(encoder, (x_train, y_train))
    test = keras_ssl.evaluation.embed(encoder, (x_test, y_test))
    aurocs, scores = keras_ssl.retrieval.one_class_aurocs(
        train, test, k=FLAGS.k, return_scores=True
    )

    names = keras_ssl.data.CIFAR10_CLASSES if FLAGS.data_dir is None else None
    print(f"{'normal class':>12} {'AUROC':>7}")
    for label, value in aurocs.items():
        print(f"{names[label] if names else label:>12} {value:7.3f}")
    print(f"{'mean':>12} {np.mean(list(aurocs.values())):7.3f}")

    rows = []
    for label in aurocs:
        order = np.argsort(scores[label])
        rows.append(list(x_test[order[: FLAGS.shown]]) + list(x_test[order[-FLAGS.shown :]]))
    path = os.path.join(FLAGS.output_dir, "most_normal_and_anomalous.png")
    keras_ssl.plots.save_png(keras_ssl.plots.image_grid(rows), path, scale=3)
    print(f"Wrote {path}: per normal class, its {FLAGS.shown} most normal test "
          f"images (left) and {FLAGS.shown} most anomalous (right)")


if __name__ == "__main__":
    app.run(main)
