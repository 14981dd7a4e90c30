"""Visual recommendation: items similar to a set of liked images.

The user vector is the mean of the l2-normalized embeddings of the liked
images; the recommendations are its nearest catalogue items, the liked ones
left out (`keras_ssl.retrieval.recommend`). The catalogue is the training
set; by default the user liked the first --num_liked images of one class.
Writes the liked images (top row) and the recommendations (bottom row).

    python examples/recommend.py --encoder_dir outputs/pretrain/encoder
    python examples/recommend.py --encoder_dir ENCODER --liked 12,40,77
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
flags.DEFINE_list("liked", None, "Catalogue indices the user liked; default: see --liked_class.")
flags.DEFINE_integer("liked_class", 8, "Class of the default liked images (8: ship).")
flags.DEFINE_integer("num_liked", 4, "Number of default liked images.")
flags.DEFINE_integer("k", 8, "Recommendations.")
flags.DEFINE_string("output_dir", "outputs/recommend", "Where the PNG goes.")


def main(argv):
    del argv
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    (x_train, y_train), test = cli.load_data(FLAGS.data_dir)
    encoder = cli.encoder_for(
        FLAGS.encoder_dir, (x_train, y_train), test, FLAGS.epochs,
        os.path.join(FLAGS.output_dir, "pretrain"),
    )
    catalogue, _ = keras_ssl.evaluation.embed(encoder, (x_train, None))
    index = keras_ssl.retrieval.EmbeddingIndex(catalogue.shape[1]).add(catalogue)
    if FLAGS.liked:
        liked = np.array([int(i) for i in FLAGS.liked])
    else:
        liked = np.flatnonzero(y_train == FLAGS.liked_class)[: FLAGS.num_liked]
    scores, ids = keras_ssl.retrieval.recommend(
        index, catalogue[liked], k=FLAGS.k, exclude=liked
    )
    names = keras_ssl.data.CIFAR10_CLASSES if FLAGS.data_dir is None else None

    def name(label):
        return names[label] if names else str(label)

    print("Liked:", ", ".join(f"{i} ({name(y_train[i])})" for i in liked))
    print("Recommended:")
    for score, item in zip(scores, ids):
        print(f"  {item:6d} ({name(y_train[item])}), cosine {score:.3f}")
    same = np.mean(np.isin(y_train[ids], y_train[liked]))
    print(f"{100 * same:.0f} % of the recommendations share a class with a liked image")
    path = os.path.join(FLAGS.output_dir, "recommendations.png")
    keras_ssl.plots.save_png(
        keras_ssl.plots.image_grid([x_train[liked], x_train[ids]]), path, scale=3
    )
    print(f"Wrote {path}: liked (top), recommended (bottom)")


if __name__ == "__main__":
    app.run(main)
