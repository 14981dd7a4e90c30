"""Embedding-collapse monitor: per-channel std of normalized embeddings and
effective rank."""

import warnings

import keras
import numpy as np

from keras_ssl.evaluation.checks import check_finite

def embedding_std(embeddings):
    """Mean over channels of the batch std of the l2-normalized embeddings.

    About `1 / sqrt(d)` for embeddings spread over the sphere, 0 when they
    collapse to one point (SimSiam, Chen & He 2021,
    https://arxiv.org/abs/2011.10566, section 4.1).
    """
    z = np.asarray(embeddings, np.float64)
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.std(z, axis=0)))


def effective_rank(embeddings):
    """`exp(entropy)` of the normalized singular values of the centred
    embeddings (Roy & Vetterli 2007, "The effective rank: a measure of
    effective dimensionality"): from 1 (one direction) up to `min(N, d)`."""
    z = np.asarray(embeddings, np.float64)
    singular = np.linalg.svd(z - z.mean(axis=0), compute_uv=False)
    if singular.sum() <= 0:
        return 1.0
    p = singular / singular.sum()
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


class CollapseMonitor(keras.callbacks.Callback):
    """Logs `embedding_std` and `effective_rank` of `model.encoder`'s features
    and warns when the std falls below a threshold.

    At the end of every `every` epochs (and the last one), embeds `images`
    with the encoder in inference mode and writes to the epoch logs:

    - `embedding_std`: mean over channels of the std of the l2-normalized
      embeddings (`embedding_std`); healthy is near `1 / sqrt(d)`, collapse
      drives it to 0 (docs/methods.md, SimSiam).
    - `effective_rank`: the embeddings' effective rank (`effective_rank`);
      dimensional collapse shows as a rank far below `d`.

    Args:
        images: a batch of raw images `(N, H, W, C)` in [0, 255], e.g. a few
            hundred training images; fixed, so epochs are comparable.
        threshold: warn when `embedding_std` is below it. Default
            `0.1 / sqrt(d)`, a tenth of the healthy value.
        every: measure every `every` epochs.
        batch_size: batch size of the embedding pass.

    Attributes:
        history: list of `(epoch, embedding_std, effective_rank)`, epochs
            counted from 1.

    Example:

    ```python
    monitor = keras_ssl.callbacks.CollapseMonitor(x_train[:512])
    model.fit(images, epochs=100, callbacks=[monitor])
    ```
    """

    def __init__(self, images, threshold=None, every=1, batch_size=256):
        super().__init__()
        if every < 1:
            raise ValueError(f"`every` must be >= 1. Received: every={every!r}")
        if threshold is not None and threshold < 0:
            raise ValueError(f"`threshold` must be >= 0. Received: threshold={threshold}")
        shape = np.shape(images)
        if len(shape) != 4 or shape[0] < 2:
            raise ValueError(
                "`images` must be a batch of at least 2 images (N, H, W, C). "
                f"Received shape={shape}"
            )
        self.images = images
        self.threshold = threshold
        self.every = every
        self.batch_size = batch_size
        self.history = []

    def on_train_begin(self, logs=None):
        if not hasattr(self.model, "encoder"):
            raise ValueError(
                "CollapseMonitor needs a model with an `encoder` attribute (a "
                f"keras_ssl method), got a model of type {type(self.model).__name__}."
            )

    def on_epoch_end(self, epoch, logs=None):
        epoch += 1
        if epoch % self.every and epoch != self.params.get("epochs"):
            return
        features = self.model.encoder.predict(
            self.images, batch_size=self.batch_size, verbose=0
        )
        check_finite(features, f"Epoch {epoch}: the encoder's features of `images`")
        std, rank = embedding_std(features), effective_rank(features)
        self.history.append((epoch, std, rank))
        if logs is not None:
            logs["embedding_std"] = std
            logs["effective_rank"] = rank
        threshold = self.threshold
        if threshold is None:
            threshold = 0.1 / np.sqrt(features.shape[-1])
        if std < threshold:
            warnings.warn(
                f"Epoch {epoch}: embedding_std = {std:.2e} is below {threshold:.2e} "
                f"(healthy is about 1/sqrt(d) = {1 / np.sqrt(features.shape[-1]):.2e}): "
                "the embeddings are collapsing.",
                stacklevel=2,
            )
