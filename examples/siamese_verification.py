"""Pair verification with a Siamese network and the contrastive margin loss.

Trains `keras_ssl.SiameseContrastive` on pairs of training images (similar =
same class, from `keras_ssl.data.make_pairs`) or self-supervised (similar =
two augmentations of one image), then scores held-out pairs of test images by
the distance of their embeddings and reports the ROC AUC of "same class"
against the AUC of the random-init network.

Runs on the CIFAR-10 sample bundled with keras_ssl by default:

    python examples/siamese_verification.py
    python examples/siamese_verification.py --mode self_supervised
    python examples/siamese_verification.py --epochs 1 --max_train 256   # smoke test
"""

import os
import time

from absl import app
from absl import flags

import keras
import numpy as np
import tensorflow as tf

import keras_ssl

FLAGS = flags.FLAGS
flags.DEFINE_enum("mode", "labelled", ["labelled", "self_supervised"], "Pairs to train on.")
flags.DEFINE_string("data_dir", None, "Image folder with train/<class>/ and test/<class>/.")
flags.DEFINE_integer("max_train", None, "Use only N training images (drawn at random).")
flags.DEFINE_integer("epochs", 10, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Batch size (pairs or images).")
flags.DEFINE_float("lr", 1e-3, "Adam learning rate.")
flags.DEFINE_float("margin", 1.0, "Margin m of the loss.")
flags.DEFINE_integer("test_pairs", 2000, "Held-out test pairs (half similar).")
flags.DEFINE_string("output_dir", "outputs/siamese_verification", "Where the encoder goes.")
flags.DEFINE_integer("seed", 0, "Random seed.")


def load_data():
    if FLAGS.data_dir:
        x_train, y_train, classes = keras_ssl.data.load_image_folder(
            os.path.join(FLAGS.data_dir, "train"), 32
        )
        x_test, y_test, _ = keras_ssl.data.load_image_folder(
            os.path.join(FLAGS.data_dir, "test"), 32, class_names=classes
        )
        train, test = (x_train, y_train), (x_test, y_test)
    else:
        train, test = keras_ssl.data.load_sample()
    if FLAGS.max_train:
        keep = np.random.default_rng(FLAGS.seed).permutation(len(train[0]))[: FLAGS.max_train]
        train = tuple(a[keep] for a in train)
    return train, test


def roc_auc(scores, positive):
    """Area under the ROC curve: the probability that a random positive scores
    above a random negative (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def verification_auc(model, pairs, batch_size=500):
    """ROC AUC of -distance(embed(first), embed(second)) for "same class"."""
    distances = []
    for start in range(0, len(pairs["first"]), batch_size):
        a = np.asarray(model.embed(pairs["first"][start : start + batch_size]))
        b = np.asarray(model.embed(pairs["second"][start : start + batch_size]))
        distances.append(np.linalg.norm(a - b, axis=1))
    return roc_auc(-np.concatenate(distances), pairs["is_similar"])


def training_data(train):
    x, y = train
    if FLAGS.mode == "self_supervised":
        data = tf.data.Dataset.from_tensor_slices(x)
    else:
        pairs = keras_ssl.data.make_pairs((x, y), positive_fraction=0.5, seed=FLAGS.seed)
        data = tf.data.Dataset.from_tensor_slices(pairs)
    return (
        data.shuffle(len(x), seed=FLAGS.seed)
        .batch(FLAGS.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    train, test = load_data()
    print(f"Data: {len(train[0])} train / {len(test[0])} test images, mode {FLAGS.mode}")
    test_pairs = keras_ssl.data.make_pairs(
        test, positive_fraction=0.5, num_pairs=FLAGS.test_pairs, seed=FLAGS.seed + 1
    )
    model = keras_ssl.SiameseContrastive(
        keras_ssl.backbones.small_cnn(train[0].shape[1:]), margin=FLAGS.margin
    )
    model.compile(optimizer=keras.optimizers.Adam(FLAGS.lr))
    floor = verification_auc(model, test_pairs)
    print(f"Random-init ROC AUC on {FLAGS.test_pairs} held-out test pairs: {floor:.4f}")

    start = time.perf_counter()
    model.fit(training_data(train), epochs=FLAGS.epochs, verbose=2)
    print(f"Training: {time.perf_counter() - start:.0f} s")
    auc = verification_auc(model, test_pairs)
    print(f"ROC AUC on {FLAGS.test_pairs} held-out test pairs: {auc:.4f} "
          f"(random init {floor:.4f}, chance 0.5)")
    encoder_dir = os.path.join(FLAGS.output_dir, "encoder")
    model.export_encoder(encoder_dir)
    print(f"Encoder exported to {encoder_dir} (reload: keras_ssl.load_encoder)")


if __name__ == "__main__":
    app.run(main)
