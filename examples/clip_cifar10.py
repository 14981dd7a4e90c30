"""CLIP on CIFAR-10 images paired with templated captions, then zero-shot
classification of the test set from text prompts alone, and text -> image
search with the exported towers.

Each training image is paired with a caption drawn anew every epoch from
several templates ("a photo of a {class}.", "a blurry photo of a {class}.",
...). After training, each class is represented by the mean text embedding of
its prompts under all templates (CLIP's prompt ensembling) and each test image
is assigned the class whose prompt embedding is closest: no classifier is
trained on labels (`model.zero_shot_classifier`). Both towers are then
exported (`model.export_encoder`: `image/` and `text/` SavedModels), reloaded,
and the test images indexed (`retrieval.EmbeddingIndex`) so that a text query
such as "a photo of a cat." finds its images.

Runs on the CIFAR-10 sample bundled with keras_ssl by default (4,000 train and
1,000 test images), so it works offline:

    python examples/clip_cifar10.py
    python examples/clip_cifar10.py --epochs 2 --max_train 512   # smoke test
    python examples/clip_cifar10.py --data_dir ../shared/datasets/cifar10
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
flags.DEFINE_string("data_dir", None, "Image folder with train/<class>/ and test/<class>/.")
flags.DEFINE_integer("max_per_class", None, "Cap on training images per class (--data_dir).")
flags.DEFINE_integer("max_train", None, "Use only the first N training images.")
flags.DEFINE_integer("epochs", 15, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Global batch size (image-caption pairs).")
flags.DEFINE_float("lr", 2e-3, "Peak AdamW learning rate, cosine decay per step.")
flags.DEFINE_float("weight_decay", 0.1, "AdamW decoupled weight decay (not on the scale).")
flags.DEFINE_integer("embedding_dim", 128, "Joint embedding width.")
flags.DEFINE_integer("text_width", 128, "Text Transformer width.")
flags.DEFINE_integer("text_layers", 2, "Text Transformer blocks.")
flags.DEFINE_integer("sequence_length", 12, "Caption length in tokens.")
flags.DEFINE_string("output_dir", "outputs/clip_cifar10", "Where the encoder goes.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_integer("top_k", 10, "Images returned per text query.")


def load_data():
    """`(x_train, y_train), (x_test, y_test), class_names`."""
    if FLAGS.data_dir:
        x_train, y_train, classes = keras_ssl.data.load_image_folder(
            os.path.join(FLAGS.data_dir, "train"), 32, max_per_class=FLAGS.max_per_class,
            shuffle=True, seed=FLAGS.seed,
        )
        x_test, y_test, _ = keras_ssl.data.load_image_folder(
            os.path.join(FLAGS.data_dir, "test"), 32, class_names=classes
        )
        train, test = (x_train, y_train), (x_test, y_test)
    else:
        train, test = keras_ssl.data.load_sample()
        classes = keras_ssl.data.CIFAR10_CLASSES
    if FLAGS.max_train:
        train = tuple(a[: FLAGS.max_train] for a in train)
    return train, test, list(classes)


def pairs_dataset(x, y, tokenizer, classes):
    """`{"images", "tokens"}` batches; each image's caption template is drawn
    anew every epoch."""
    batches = (
        tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
        .shuffle(len(x), seed=FLAGS.seed)
        .batch(FLAGS.batch_size, drop_remainder=True)
    )
    return keras_ssl.data.with_captions(batches, tokenizer, classes).prefetch(tf.data.AUTOTUNE)


def zero_shot_accuracy(model, tokenizer, classes, x, y):
    """Top-1 accuracy of `model.zero_shot_classifier`: the nearest class
    prompt embedding (mean over templates, re-normalized) for each image."""
    classifier = model.zero_shot_classifier(classes, tokenizer=tokenizer)
    logits = classifier.predict(x.astype("float32"), batch_size=500, verbose=0)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def text_to_image_search(export_dir, tokenizer, classes, x, y):
    """Indexes the images with the exported image tower and queries the index
    with one prompt per class through the exported text tower; prints the
    share of the `top_k` images found that show the queried class."""
    image_tower, text_tower = keras_ssl.methods.load_clip_towers(export_dir)
    embeddings = np.concatenate(
        [np.asarray(image_tower(x[i : i + 500].astype("float32"))) for i in range(0, len(x), 500)]
    )
    index = keras_ssl.retrieval.EmbeddingIndex(embeddings.shape[1], metadata={"encoder": export_dir})
    index.add(embeddings, ids=np.arange(len(x)))
    queries = [f"a photo of a {name}." for name in classes]
    tokens = np.asarray(tokenizer(queries)).astype("int32")
    _, ids = index.search(np.asarray(text_tower(tokens)), k=FLAGS.top_k)
    precision = [np.mean(y[found] == label) for label, found in enumerate(ids)]
    for query, found, share in zip(queries, ids, precision):
        print(f"  {query!r:28} -> images {found[:5].tolist()} ..., {share:.0%} of the class")
    print(f"Text -> image search: precision@{FLAGS.top_k} {np.mean(precision):.3f} "
          f"(chance {1 / len(classes):.2f})")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test), classes = load_data()
    print(f"Data: {len(x_train)} train / {len(x_test)} test images, classes {classes}")

    captions = [t.format(c) for c in classes for t in keras_ssl.data.CAPTION_TEMPLATES]
    tokenizer = keras_ssl.data.caption_tokenizer(captions, FLAGS.sequence_length)
    text_encoder = keras_ssl.backbones.text_transformer(
        tokenizer.vocabulary_size(), FLAGS.sequence_length, width=FLAGS.text_width,
        num_layers=FLAGS.text_layers, num_heads=4,
    )
    model = keras_ssl.CLIP(
        keras_ssl.backbones.small_cnn(x_train.shape[1:]), text_encoder,
        embedding_dim=FLAGS.embedding_dim,
    )
    steps = FLAGS.epochs * (len(x_train) // FLAGS.batch_size)
    optimizer = keras.optimizers.AdamW(
        keras.optimizers.schedules.CosineDecay(FLAGS.lr, max(steps, 1)),
        weight_decay=FLAGS.weight_decay,
    )
    optimizer.exclude_from_weight_decay(var_names=["logit_scale"])
    model.compile(optimizer=optimizer)
    before = zero_shot_accuracy(model, tokenizer, classes, x_test, y_test)
    print(f"Zero-shot accuracy before training: {before:.4f} (chance {1 / len(classes):.2f})")

    start = time.perf_counter()
    model.fit(pairs_dataset(x_train, y_train, tokenizer, classes), epochs=FLAGS.epochs, verbose=2)
    seconds = time.perf_counter() - start
    print(f"Training: {seconds:.0f} s, {steps * FLAGS.batch_size / seconds:.0f} pairs/s, "
          f"logit scale {float(np.exp(model.logit_scale)):.1f}")

    accuracy = zero_shot_accuracy(model, tokenizer, classes, x_test, y_test)
    print(f"Zero-shot accuracy on {len(x_test)} test images: {accuracy:.4f} "
          f"(chance {1 / len(classes):.2f})")
    export_dir = os.path.join(FLAGS.output_dir, "towers")
    model.export_encoder(export_dir)
    print(f"Image and text towers exported to {export_dir}/image and {export_dir}/text "
          "(reload: keras_ssl.methods.load_clip_towers)")
    text_to_image_search(export_dir, tokenizer, classes, x_test, y_test)


if __name__ == "__main__":
    app.run(main)
