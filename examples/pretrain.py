"""Self-supervised pretraining with keras_ssl, then kNN evaluation and export.

Runs on the CIFAR-10 sample bundled with keras_ssl by default (4,000 train and
1,000 test images), so it works offline:

    python examples/pretrain.py
    python examples/pretrain.py --data_dir ../shared/datasets/cifar10 --epochs 20
    python examples/pretrain.py --dataset cifar10   # tensorflow-datasets, online

It prints the kNN accuracy (k=200, T=0.1) of the pretrained encoder next to the
random-init floor of the same backbone, exports the encoder as a SavedModel and
writes an augmentation grid, a nearest-neighbour grid and the training curves
(PNG) to --output_dir. The same run: `keras-ssl pretrain` (keras_ssl/cli.py).
"""

from absl import app
from absl import flags

import keras_ssl
from keras_ssl import cli

FLAGS = flags.FLAGS
flags.DEFINE_enum("method", "simclr", list(cli.METHODS), "Self-supervised method.")
flags.DEFINE_enum("backbone", "small_cnn", list(cli.BACKBONES), "Backbone network.")
flags.DEFINE_integer("epochs", 10, "Pretraining epochs.")
flags.DEFINE_integer("batch_size", 128, "Global batch size.")
flags.DEFINE_enum(
    "optimizer", None, list(cli.OPTIMIZERS), "'recipe': the method's recipe "
    "(keras_ssl.recipes); 'sgd': momentum SGD with cosine decay. Default: sgd on "
    "train/test data and the bundled sample, recipe on an image folder."
)
flags.DEFINE_float(
    "lr", None, "Peak SGD learning rate, cosine decay to 0 per step; default "
    "0.06 x batch_size / 128 (lightly's CIFAR-10 setting)."
)
flags.DEFINE_float("weight_decay", 5e-4, "SGD weight decay.")
flags.DEFINE_string(
    "data_dir", None, "Image folder: with train/<class>/ and test/<class>/ it pretrains "
    "on train and reports kNN accuracy on test; otherwise it streams every image "
    "under it (unlabeled, any layout) and only pretrains and exports."
)
flags.DEFINE_enum("dataset", None, ["cifar10"], "Load a tensorflow-datasets dataset (online).")
flags.DEFINE_integer("image_size", 32, "Size of the views (folder images are resized or cropped to it).")
flags.DEFINE_integer("max_per_class", None, "Cap on training images per class.")
flags.DEFINE_string("output_dir", "outputs/pretrain", "Where the encoder and PNGs go.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_enum(
    "distribute", "none", list(keras_ssl.distribute.DISTRIBUTIONS),
    "Multi-device training (docs/scaling_out.md); --batch_size is the global batch.",
)


def main(argv):
    del argv
    scope = keras_ssl.distribute.distribution_scope(FLAGS.distribute)  # before other TF work
    common = dict(
        method=FLAGS.method,
        backbone=FLAGS.backbone,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        lr=FLAGS.lr,
        weight_decay=FLAGS.weight_decay,
        seed=FLAGS.seed,
        output_dir=FLAGS.output_dir,
        scope=scope,
    )
    if FLAGS.data_dir and not cli.has_splits(FLAGS.data_dir):
        cli.pretrain_folder(
            FLAGS.data_dir, image_size=FLAGS.image_size,
            optimizer=FLAGS.optimizer or "recipe", **common,
        )
        return
    train, test = cli.load_data(
        FLAGS.data_dir, FLAGS.dataset, FLAGS.image_size, FLAGS.max_per_class, FLAGS.seed
    )
    cli.pretrain(train, test, optimizer=FLAGS.optimizer or "sgd", **common)


if __name__ == "__main__":
    app.run(main)
