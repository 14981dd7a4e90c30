"""Fine-tuning: the whole encoder and a new linear head, on all or a few labels.

Reference:
- [Chen et al., 2020](https://arxiv.org/abs/2002.05709), "A Simple Framework
  for Contrastive Learning of Visual Representations", section 4.2 and
  appendix B.5 (semi-supervised fine-tuning on 1% / 10% of the labels).
"""

import keras
import numpy as np
from keras import ops

from keras_ssl.evaluation.batches import image_label_batches
from keras_ssl.evaluation.checks import check_finite
from keras_ssl.evaluation.linear_probe import check_labels
from keras_ssl.evaluation.linear_probe import top1_top5
from keras_ssl.evaluation.subsets import DEFAULT_SEED
from keras_ssl.evaluation.subsets import semi_supervised_subsets


class GradientScale(keras.layers.Layer):
    """Identity in the forward pass; multiplies the gradient by `scale`.

    Placed after the encoder, it gives the encoder `scale` times the head's
    learning rate under SGD (exactly so without weight decay), on every
    backend and with one optimizer.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        return self.scale * inputs + (1.0 - self.scale) * ops.stop_gradient(inputs)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def _trainable_copy(encoder):
    if not isinstance(encoder, keras.Model):
        raise ValueError(
            "`encoder` must be a keras.Model to fine-tune (e.g. `model.encoder` "
            f"or `keras_ssl.load_encoder(path)`), got {type(encoder).__name__}."
        )
    if any(isinstance(layer, keras.layers.TFSMLayer) for layer in encoder._flatten_layers()):
        raise ValueError(
            "`encoder` is an exported SavedModel (keras_ssl.load_encoder), which "
            "serves inference only: Keras optimizers cannot train its variables. "
            "Fine-tune the live `model.encoder` or a `.keras` checkpoint's."
        )
    copy = keras.models.clone_model(encoder)
    copy.set_weights(encoder.get_weights())
    copy.trainable = True
    return copy


def fine_tune(
    encoder,
    train,
    test,
    num_classes=None,
    fraction=None,
    seed=DEFAULT_SEED,
    epochs=None,
    batch_size=256,
    learning_rate=None,
    encoder_learning_rate_scale=0.1,
    augment=True,
    verbose=1,
):
    """Top-1 / top-5 accuracy after fine-tuning the encoder with a new head.

    A copy of `encoder` (the given one is left unchanged) followed by a new
    `Dense(num_classes)` is trained end to end on `train`, or on its
    class-balanced `fraction` (`semi_supervised_subsets`), with SimCLR's
    fine-tuning recipe (docs/methods.md, Evaluation protocols): Nesterov SGD momentum 0.9,
    learning rate `0.05 * batch_size / 256`, no weight decay, 60 epochs on 1%
    of the labels and 30 otherwise, augmentation random crop + flip only (on
    small images: pad-4 random crop as a random translation of up to 4
    pixels, and horizontal flip). The learning rate decays to 0 on a per-step
    cosine. The encoder learns at `encoder_learning_rate_scale` times the
    head's rate (library default 0.1, so the head settles before the
    features move), applied by scaling the encoder's gradient.

    Args:
        encoder: a live `keras.Model` from raw images in [0, 255] to
            features, e.g. `model.encoder` (an exported SavedModel serves
            inference only: use it with `linear_probe` and `knn_accuracy`).
        train: labelled data, a batched dataset of `(images, labels)` or an
            `(x, y)` tuple of arrays.
        test: labelled data in the same forms.
        num_classes: number of classes; default the largest training label
            + 1.
        fraction: fine-tune on this class-balanced share of `train` (0.01 or
            0.1 for the semi-supervised protocol); `None` uses all of it.
        seed: seed of the subset draw.
        epochs: default 60 when `fraction <= 0.01`, else 30.
        batch_size: batch size for `(x, y)` arrays.
        learning_rate: head learning rate; default `0.05 * batch_size / 256`.
        encoder_learning_rate_scale: encoder learning rate over the head's,
            in [0, 1].
        augment: random crop (translation) and horizontal flip in training.
        verbose: 0 silent, 1 one line per epoch.

    Returns:
        `{"top1": float, "top5": float}`, accuracies in [0, 1] on `test`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    keras_ssl.evaluation.fine_tune(
        model.encoder, (x_train, y_train), (x_test, y_test), fraction=0.1
    )
    ```
    """
    if not 0 <= encoder_learning_rate_scale <= 1:
        raise ValueError(
            "`encoder_learning_rate_scale` must be in [0, 1], got "
            f"encoder_learning_rate_scale={encoder_learning_rate_scale!r}."
        )
    if fraction is not None:
        train = semi_supervised_subsets(train, fraction, seed)
    if epochs is None:
        epochs = 60 if fraction is not None and fraction <= 0.01 else 30
    if epochs < 1:
        raise ValueError(f"`epochs` must be >= 1, got epochs={epochs!r}.")
    if isinstance(train, (tuple, list)):
        train_labels = np.reshape(np.asarray(train[1]), (-1,))
        steps_per_epoch = -(-len(train_labels) // batch_size)
    else:
        batches = [y for _, y in image_label_batches(train, batch_size)]
        if any(y is None for y in batches):
            check_labels("train", None, 0)
        train_labels = np.concatenate([np.reshape(np.asarray(y), (-1,)) for y in batches])
        steps_per_epoch = len(batches)
    if num_classes is None:
        num_classes = int(train_labels.max()) + 1
    check_labels("train", train_labels, num_classes)

    backbone = _trainable_copy(encoder)
    inputs = keras.Input(backbone.input_shape[1:], name="images")
    x = inputs
    if augment:
        height, width = backbone.input_shape[1:3]
        x = keras.layers.RandomFlip("horizontal")(x)
        if height and width:
            x = keras.layers.RandomTranslation(
                4 / height, 4 / width, fill_mode="constant"
            )(x)
    features = GradientScale(encoder_learning_rate_scale)(backbone(x))
    logits = keras.layers.Dense(num_classes, name="head")(features)
    classifier = keras.Model(inputs, logits, name="fine_tune")
    if learning_rate is None:
        learning_rate = 0.05 * batch_size / 256
    classifier.compile(
        optimizer=keras.optimizers.SGD(
            keras.optimizers.schedules.CosineDecay(
                learning_rate, epochs * steps_per_epoch
            ),
            momentum=0.9,
            nesterov=True,
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    if isinstance(train, (tuple, list)):
        classifier.fit(
            np.asarray(train[0]), train_labels, batch_size=batch_size,
            epochs=epochs, shuffle=True, verbose=2 if verbose else 0,
        )
    else:
        classifier.fit(
            train.repeat(), epochs=epochs, steps_per_epoch=steps_per_epoch,
            verbose=2 if verbose else 0,
        )

    logits, labels = [], []
    for images, batch_labels in image_label_batches(test, batch_size):
        if batch_labels is None:
            check_labels("test", None, num_classes)
        logits.append(
            ops.convert_to_numpy(classifier.predict_on_batch(ops.cast(images, "float32")))
        )
        labels.append(np.reshape(np.asarray(batch_labels), (-1,)))
    labels = np.concatenate(labels)
    check_labels("test", labels, num_classes)
    logits = check_finite(
        np.concatenate(logits), "The fine-tuned classifier's logits on `test`"
    )
    return top1_top5(logits, labels)
