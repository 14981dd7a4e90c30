"""Image retrieval with a self-supervised encoder: nearest-neighbour search.

Embeds the training images as the searchable bank (`keras_ssl.retrieval.
EmbeddingIndex`, faiss when installed), uses the test images as queries and
reports recall@1 and recall@5 by class (a hit: a result of the query's
class). Writes a grid of queries and their nearest neighbours and a t-SNE map
of the test embeddings (with scikit-learn) to --output_dir.

    python examples/retrieval.py --encoder_dir outputs/pretrain/encoder
    python examples/retrieval.py --epochs 3     # pretrain an encoder first
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
flags.DEFINE_integer("num_queries", 8, "Query rows in the neighbour grid.")
flags.DEFINE_integer("k", 8, "Neighbours shown per query.")
flags.DEFINE_integer("map_size", 500, "Test images in the t-SNE map (0: no map).")
flags.DEFINE_string("output_dir", "outputs/retrieval", "Where the PNGs go.")


def main(argv):
    del argv
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = cli.load_data(FLAGS.data_dir)
    encoder = cli.encoder_for(
        FLAGS.encoder_dir, (x_train, y_train), (x_test, y_test), FLAGS.epochs,
        os.path.join(FLAGS.output_dir, "pretrain"),
    )
    bank, _ = keras_ssl.evaluation.embed(encoder, (x_train, None))
    queries, _ = keras_ssl.evaluation.embed(encoder, (x_test, None))
    index = keras_ssl.retrieval.EmbeddingIndex(bank.shape[1])
    index.add(bank)
    print(f"Index: {len(index)} train embeddings of width {index.dim} ({index.backend})")

    _, ids = index.search(queries, k=max(5, FLAGS.k))
    retrieved = y_train[ids]
    names = keras_ssl.data.CIFAR10_CLASSES if FLAGS.data_dir is None else None
    print(f"{'class':>12} {'recall@1':>9} {'recall@5':>9}")
    for label in np.unique(y_test):
        mask = y_test == label
        name = names[label] if names else str(label)
        r1 = keras_ssl.retrieval.recall_at_k(y_test[mask], retrieved[mask], 1)
        r5 = keras_ssl.retrieval.recall_at_k(y_test[mask], retrieved[mask], 5)
        print(f"{name:>12} {r1:9.3f} {r5:9.3f}")
    r1 = keras_ssl.retrieval.recall_at_k(y_test, retrieved, 1)
    r5 = keras_ssl.retrieval.recall_at_k(y_test, retrieved, 5)
    print(f"{'all':>12} {r1:9.3f} {r5:9.3f}")

    shown = np.linspace(0, len(x_test) - 1, FLAGS.num_queries).astype(int)
    grid = os.path.join(FLAGS.output_dir, "neighbours.png")
    keras_ssl.plots.save_neighbour_grid(x_test[shown], x_train[ids[shown, : FLAGS.k]], grid)
    print(f"Wrote {grid}")
    if FLAGS.map_size:
        subset = np.linspace(0, len(x_test) - 1, min(FLAGS.map_size, len(x_test))).astype(int)
        path = os.path.join(FLAGS.output_dir, "embedding_map.png")
        try:
            keras_ssl.plots.save_embedding_map(
                queries[subset], y_test[subset], path, class_names=names
            )
            print(f"Wrote {path}")
        except ImportError as error:
            print(f"Skipped the embedding map: {error}")


if __name__ == "__main__":
    app.run(main)
