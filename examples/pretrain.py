"""Self-supervised pretraining with keras_ssl, then kNN evaluation and export.

Runs on the CIFAR-10 sample bundled with keras_ssl by default (4,000 train and
1,000 test images), so it works offline:

    python examples/pretrain.py
    python examples/pretrain.py --data_dir ../shared/datasets/cifar10 --epochs 20
    python examples/pretrain.py --dataset cifar10   # tensorflow-datasets, online

It prints the kNN accuracy (k=200, T=0.1) of the pretrained encoder next to the
random-init floor of the same backbone, exports the encoder as a SavedModel and
writes an augmentation grid and a nearest-neighbour grid (PNG) to --output_dir.
"""

import os
import time

from absl import app
from absl import flags

import keras
import numpy as np
import tensorflow as tf

import keras_ssl

METHODS = {"simclr": keras_ssl.SimCLR}
BACKBONES = {
    "small_cnn": lambda shape: keras_ssl.backbones.small_cnn(shape),
    "resnet18": lambda shape: keras_ssl.backbones.resnet18(shape, stem="cifar"),
    "resnet34": lambda shape: keras_ssl.backbones.resnet34(shape, stem="cifar"),
    "resnet50": lambda shape: keras_ssl.backbones.resnet50(shape, stem="cifar"),
}

FLAGS = flags.FLAGS
flags.DEFINE_enum("method", "simclr", list(METHODS), "Self-supervised method.")
flags.DEFINE_enum("backbone", "small_cnn", list(BACKBONES), "Backbone network.")
flags.DEFINE_integer("epochs", 10, "Pretraining epochs.")
flags.DEFINE_integer("batch_size", 128, "Global batch size.")
flags.DEFINE_float(
    "lr", None, "Peak SGD learning rate, cosine decay to 0 per step; default "
    "0.06 x batch_size / 128 (lightly's CIFAR-10 setting)."
)
flags.DEFINE_float("weight_decay", 5e-4, "SGD weight decay.")
flags.DEFINE_string(
    "data_dir", None, "Image folder with train/<class>/ and test/<class>/."
)
flags.DEFINE_enum("dataset", None, ["cifar10"], "Load a tensorflow-datasets dataset (online).")
flags.DEFINE_integer("image_size", 32, "Resize folder images to this size.")
flags.DEFINE_integer("max_per_class", None, "Cap on training images per class.")
flags.DEFINE_string("output_dir", "outputs/pretrain", "Where the encoder and PNGs go.")
flags.DEFINE_integer("seed", 0, "Random seed.")


def load_data():
    """`(x_train, y_train), (x_test, y_test)`, uint8 images and int labels."""
    if FLAGS.data_dir:
        size = (FLAGS.image_size, FLAGS.image_size)
        x_train, y_train, classes = keras_ssl.data.load_image_folder(
            os.path.join(FLAGS.data_dir, "train"), size, max_per_class=FLAGS.max_per_class,
            shuffle=FLAGS.max_per_class is not None, seed=FLAGS.seed,
        )
        x_test, y_test, _ = keras_ssl.data.load_image_folder(
            os.path.join(FLAGS.data_dir, "test"), size, class_names=classes
        )
        return (x_train, y_train), (x_test, y_test)
    if FLAGS.dataset:
        return (
            keras_ssl.data.load_tfds(FLAGS.dataset, "train"),
            keras_ssl.data.load_tfds(FLAGS.dataset, "test"),
        )
    return keras_ssl.data.load_sample()


def spread(images, count=8):
    """`count` images evenly spaced through the set (so every class shows)."""
    return images[np.linspace(0, len(images) - 1, count).astype(int)]


def save_pictures(model, train, test, output_dir):
    x_train, _ = train
    x_test, _ = test
    augmentation_png = os.path.join(output_dir, "augmentations.png")
    keras_ssl.plots.save_augmentation_grid(model.augmenter, spread(x_train), augmentation_png)
    bank, _ = keras_ssl.evaluation.embed(model.encoder, (x_train, None))
    queries, _ = keras_ssl.evaluation.embed(model.encoder, (spread(x_test), None))
    nearest = np.argsort(-queries @ bank.T, axis=1)[:, :8]
    neighbours_png = os.path.join(output_dir, "neighbours.png")
    keras_ssl.plots.save_neighbour_grid(spread(x_test), x_train[nearest], neighbours_png)
    return augmentation_png, neighbours_png


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    train, test = load_data()
    x_train = train[0]
    print(
        f"Data: {len(x_train)} train and {len(test[0])} test images "
        f"of shape {x_train.shape[1:]}"
    )

    backbone = BACKBONES[FLAGS.backbone](x_train.shape[1:])
    model = METHODS[FLAGS.method](backbone)
    floor = keras_ssl.evaluation.knn_accuracy(model.encoder, train, test)
    print(f"Random-init kNN accuracy (floor): {floor:.4f}")

    steps_per_epoch = len(x_train) // FLAGS.batch_size
    lr = FLAGS.lr or 0.06 * FLAGS.batch_size / 128
    schedule = keras.optimizers.schedules.CosineDecay(lr, FLAGS.epochs * steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=0.9, weight_decay=FLAGS.weight_decay)
    )
    images = (
        tf.data.Dataset.from_tensor_slices(x_train)
        .shuffle(len(x_train), seed=FLAGS.seed)
        .batch(FLAGS.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    start = time.perf_counter()
    model.fit(images, epochs=FLAGS.epochs)
    seconds = time.perf_counter() - start
    seen = FLAGS.epochs * steps_per_epoch * FLAGS.batch_size
    print(f"Pretraining: {seconds:.0f} s, {seen / seconds:.0f} images/s")

    accuracy = keras_ssl.evaluation.knn_accuracy(model.encoder, train, test)
    print(f"kNN accuracy: {accuracy:.4f} (random-init floor {floor:.4f}, "
          f"{100 * (accuracy - floor):+.1f} points)")

    encoder_dir = os.path.join(FLAGS.output_dir, "encoder")
    model.export_encoder(encoder_dir)
    print(f"Encoder exported to {encoder_dir} (reload: keras_ssl.load_encoder)")
    for png in save_pictures(model, train, test, FLAGS.output_dir):
        print(f"Wrote {png}")


if __name__ == "__main__":
    app.run(main)
