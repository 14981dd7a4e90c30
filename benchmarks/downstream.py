"""Downstream figures of a pretrained encoder on CIFAR-10.

Reads the encoder that `benchmarks/fixed_budget.py --export_dir DIR` saved
and prints three figures (METHODS.md sections 1 and 2):

- linear probe top-1: frozen features of the exported SavedModel, the
  library's CIFAR recipe (`keras_ssl.evaluation.linear_probe`, 100 epochs);
- 10 % semi-supervised fine-tune top-1: the Keras encoder with a new head on
  a class-balanced 10 % of the training labels (`fine_tune`, 30 epochs);
- one-class anomaly mean AUROC: each class as normal in turn, kNN (k=2)
  cosine-distance scores of the test set (`retrieval.one_class_aurocs`).

    python -m benchmarks.fixed_budget --method simclr --export_dir outputs/simclr_fb
    python -m benchmarks.downstream --export_dir outputs/simclr_fb \
        --output outputs/simclr_fb/downstream.json
"""

import json
import os
import time

from absl import app
from absl import flags

import keras
import numpy as np

import keras_ssl

FLAGS = flags.FLAGS
flags.DEFINE_string("export_dir", None, "Directory written by fixed_budget --export_dir.")
flags.DEFINE_string("data_dir", "../shared/datasets/cifar10", "CIFAR-10 image folder.")
flags.DEFINE_integer("max_per_class", None, "Cap on train and test images per class (smoke runs).")
flags.DEFINE_integer("probe_epochs", 100, "Linear-probe epochs.")
flags.DEFINE_float("fraction", 0.1, "Share of the labels for the semi-supervised fine-tune.")
flags.DEFINE_integer("fine_tune_epochs", None, "Fine-tune epochs; default 30 (60 at 1 %).")
flags.DEFINE_integer("k", 2, "Neighbours per anomaly score.")
flags.DEFINE_string("output", None, "Write the figures as JSON here.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.mark_flag_as_required("export_dir")


def main(argv):
    del argv
    start = time.perf_counter()
    x_train, y_train, classes = keras_ssl.data.load_image_folder(
        f"{FLAGS.data_dir}/train", max_per_class=FLAGS.max_per_class,
        shuffle=FLAGS.max_per_class is not None, seed=FLAGS.seed,
    )
    x_test, y_test, _ = keras_ssl.data.load_image_folder(
        f"{FLAGS.data_dir}/test", class_names=classes, max_per_class=FLAGS.max_per_class,
        shuffle=FLAGS.max_per_class is not None, seed=FLAGS.seed,
    )
    print(f"Loaded {len(x_train)} + {len(x_test)} images in {time.perf_counter() - start:.0f} s")
    train, test = (x_train, y_train), (x_test, y_test)
    exported = keras_ssl.load_encoder(os.path.join(FLAGS.export_dir, "saved_model"))
    results = {"export_dir": FLAGS.export_dir}

    keras.utils.set_random_seed(FLAGS.seed)
    start = time.perf_counter()
    probe = keras_ssl.evaluation.linear_probe(exported, train, test, epochs=FLAGS.probe_epochs)
    results["linear_probe"] = {**probe, "seconds": time.perf_counter() - start}
    print(f"Linear probe: {probe}")

    keras.utils.set_random_seed(FLAGS.seed)
    start = time.perf_counter()
    encoder = keras.saving.load_model(os.path.join(FLAGS.export_dir, "encoder.keras"))
    tuned = keras_ssl.evaluation.fine_tune(
        encoder, train, test, fraction=FLAGS.fraction, seed=FLAGS.seed,
        epochs=FLAGS.fine_tune_epochs,
    )
    results["fine_tune"] = {**tuned, "fraction": FLAGS.fraction,
                            "seconds": time.perf_counter() - start}
    print(f"Fine-tune on {100 * FLAGS.fraction:g} % of the labels: {tuned}")

    start = time.perf_counter()
    aurocs = keras_ssl.retrieval.one_class_aurocs(
        keras_ssl.evaluation.embed(exported, train),
        keras_ssl.evaluation.embed(exported, test),
        k=FLAGS.k,
    )
    results["anomaly"] = {
        "per_class_auroc": {classes[c]: value for c, value in aurocs.items()},
        "mean_auroc": float(np.mean(list(aurocs.values()))),
        "k": FLAGS.k,
        "seconds": time.perf_counter() - start,
    }
    print(f"One-class anomaly AUROC: mean {results['anomaly']['mean_auroc']:.4f}, "
          f"per class {json.dumps(results['anomaly']['per_class_auroc'])}")
    print(json.dumps(results, indent=2))
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
