"""Weighted kNN accuracy of the encoder, measured during training."""

import keras

from keras_ssl.evaluation.checks import check_knn_args
from keras_ssl.evaluation.knn import knn_accuracy


class KNNMonitor(keras.callbacks.Callback):
    """Log the weighted kNN top-1 accuracy of `model.encoder` during `fit`.

    Every `every` epochs, and at the last epoch of `fit`, embeds `train_data`
    as the bank and classifies `test_data` with the weighted kNN of
    [Wu et al., 2018](https://arxiv.org/abs/1805.01978) (see
    `keras_ssl.evaluation.knn_accuracy`). The value is written to the epoch
    logs as `knn_accuracy`, so the progress bar, `History` and later callbacks
    (`ModelCheckpoint(monitor="knn_accuracy", mode="max")`) see it; epochs
    without a measurement have no `knn_accuracy` entry.

    Args:
        train_data: labelled bank data, a batched dataset of
            `(images, labels)` or an `(x, y)` tuple of arrays, without
            augmentation.
        test_data: labelled query data, in the same forms.
        k: number of neighbours. Default 200.
        temperature: temperature of the votes, > 0. Default 0.1.
        every: measure every `every` epochs.
        batch_size: batch size for embedding arrays.
        verbose: whether to print a line after each measurement.

    Attributes:
        history: list of `(epoch, accuracy)`, epochs counted from 1 as the
            progress bar shows them.
        best: the highest accuracy measured so far, `None` before the first.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras_ssl.data.load_sample()
    monitor = keras_ssl.callbacks.KNNMonitor(
        (x_train, y_train), (x_test, y_test), every=5
    )
    model.fit(images_ds, epochs=100, callbacks=[monitor])
    monitor.best
    ```
    """

    def __init__(
        self,
        train_data,
        test_data,
        k=200,
        temperature=0.1,
        every=1,
        batch_size=256,
        verbose=1,
    ):
        super().__init__()
        check_knn_args(k, temperature)
        if every < 1:
            raise ValueError(f"`every` must be >= 1, got every={every!r}.")
        self.train_data = train_data
        self.test_data = test_data
        self.k = k
        self.temperature = temperature
        self.every = every
        self.batch_size = batch_size
        self.verbose = verbose
        self.history = []
        self.best = None

    def on_train_begin(self, logs=None):
        if not hasattr(self.model, "encoder"):
            raise ValueError(
                "KNNMonitor needs a model with an `encoder` attribute (a "
                "keras_ssl method), got a model of type "
                f"{type(self.model).__name__}."
            )

    def on_epoch_end(self, epoch, logs=None):
        epoch += 1
        last = epoch == self.params.get("epochs")
        if epoch % self.every and not last:
            return
        accuracy = knn_accuracy(
            self.model.encoder,
            self.train_data,
            self.test_data,
            k=self.k,
            temperature=self.temperature,
            batch_size=self.batch_size,
        )
        self.history.append((epoch, accuracy))
        self.best = accuracy if self.best is None else max(self.best, accuracy)
        if logs is not None:
            logs["knn_accuracy"] = accuracy
        if self.verbose:
            print(
                f"Epoch {epoch}: knn_accuracy = {accuracy:.4f} "
                f"(best {self.best:.4f})"
            )
