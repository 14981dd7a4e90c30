"""Linear probe: a linear classifier trained on frozen features.

Reference:
- [He et al., 2020](https://arxiv.org/abs/1911.05722), "Momentum Contrast for
  Unsupervised Visual Representation Learning", section 4.1 (linear
  classification protocol).
- [He et al., 2022](https://arxiv.org/abs/2111.06377), "Masked Autoencoders Are
  Scalable Vision Learners", appendix A.2: a BatchNorm without affine
  parameters before the linear layer makes the learning rate robust.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_ssl.evaluation.knn import embed


def top1_top5(logits, labels):
    """`{"top1", "top5"}` accuracies of `(N, C)` scores against `(N,)` labels
    (top-5 is top-C when there are fewer than 5 classes)."""
    labels = np.reshape(np.asarray(labels), (-1, 1))
    ranked = np.argsort(-np.asarray(logits), axis=-1)
    return {
        "top1": float(np.mean(ranked[:, :1] == labels)),
        "top5": float(np.mean(np.any(ranked[:, :5] == labels, axis=-1))),
    }


def check_labels(name, labels, num_classes):
    if labels is None:
        raise ValueError(f"`{name}` must hold labels: `(images, labels)`.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"`{name}` labels must lie in [0, num_classes={num_classes}), got "
            f"values in [{labels.min()}, {labels.max()}]."
        )


def linear_probe(
    encoder,
    train,
    test,
    num_classes=None,
    epochs=100,
    batch_size=256,
    learning_rate=None,
    batch_norm=True,
    verbose=1,
):
    """Top-1 / top-5 accuracy of a linear classifier on frozen features.

    The features of `train` and `test` are computed once (encoder in
    inference mode, no augmentation), then a Keras head
    `BatchNormalization(center=False, scale=False) -> Dense(num_classes)` is
    trained on the training features with the library's CIFAR recipe
    (docs/methods.md, Evaluation protocols): SGD momentum 0.9, learning rate
    `0.1 * batch_size / 256` with per-step cosine decay to 0, no weight decay,
    100 epochs. The affine-free BatchNorm (MAE's probing trick) standardizes
    the features, so the learning rate needs no sweep.

    Args:
        encoder: a callable from raw images in [0, 255] to features:
            `model.encoder`, `keras_ssl.load_encoder(path)`, any `keras.Model`.
        train: labelled data, a batched dataset of `(images, labels)` or an
            `(x, y)` tuple of arrays.
        test: labelled data in the same forms.
        num_classes: number of classes; default the largest label + 1.
        epochs: training epochs of the head.
        batch_size: batch size of the head's training and of embedding arrays.
        learning_rate: peak learning rate; default `0.1 * batch_size / 256`.
        batch_norm: put the affine-free BatchNorm before the linear layer.
        verbose: 0 silent, 1 progress bars of embedding and training.

    Returns:
        `{"top1": float, "top5": float}`, accuracies in [0, 1] on `test`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    keras_ssl.evaluation.linear_probe(
        model.encoder, (x_train, y_train), (x_test, y_test), epochs=20
    )
    ```
    """
    if epochs < 1:
        raise ValueError(f"`epochs` must be >= 1, got epochs={epochs!r}.")
    train_features, train_labels = embed(
        encoder, train, batch_size, normalize=False, verbose=verbose
    )
    test_features, test_labels = embed(
        encoder, test, batch_size, normalize=False, verbose=verbose
    )
    if num_classes is None:
        labels = [l for l in (train_labels, test_labels) if l is not None]
        num_classes = int(max(l.max() for l in labels)) + 1 if labels else 0
    check_labels("train", train_labels, num_classes)
    check_labels("test", test_labels, num_classes)

    head = keras.Sequential(name="linear_probe")
    head.add(keras.Input((train_features.shape[-1],)))
    if batch_norm:
        head.add(keras.layers.BatchNormalization(center=False, scale=False))
    head.add(keras.layers.Dense(num_classes))
    if learning_rate is None:
        learning_rate = 0.1 * batch_size / 256
    steps = epochs * -(-len(train_features) // batch_size)
    head.compile(
        optimizer=keras.optimizers.SGD(
            keras.optimizers.schedules.CosineDecay(learning_rate, steps),
            momentum=0.9,
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # One Keras epoch over all the head's epochs (a reshuffle each pass):
    # the head is so small that per-epoch overhead would dominate.
    dataset = (
        tf.data.Dataset.from_tensor_slices((train_features, train_labels))
        .shuffle(len(train_features), reshuffle_each_iteration=True)
        .batch(batch_size)
        .repeat(epochs)
        .prefetch(tf.data.AUTOTUNE)
    )
    head.fit(dataset, epochs=1, verbose=verbose)
    logits = head.predict(test_features, batch_size=batch_size, verbose=0)
    return top1_top5(logits, test_labels)
