"""The Barlow Twins redundancy-reduction loss (Zbontar et al. 2021, "Barlow
Twins: Self-Supervised Learning via Redundancy Reduction",
https://arxiv.org/abs/2103.03230)."""

import keras
from keras import ops

from keras_ssl import distribute


def standardize(z, epsilon=1e-5):
    """Standardizes each dimension over the batch: BatchNorm without affine,
    biased variance, in float32."""
    z = ops.cast(z, "float32")
    mean = ops.mean(z, axis=0, keepdims=True)
    variance = ops.var(z, axis=0, keepdims=True)
    return (z - mean) / ops.sqrt(variance + epsilon)


def barlow_twins_loss(z_a, z_b, lambda_=0.0051, epsilon=1e-5):
    """Barlow Twins loss of two views' embeddings over the global batch.

    Each view is standardized per dimension over the batch (`standardize`);
    the cross-correlation `C = z_a~^T z_b~ / N` `(D, D)` is pushed to the
    identity:
    `L = sum_i (1 - C_ii)^2 + lambda * sum_i sum_{j != i} C_ij^2`.
    Under a `tf.distribute` strategy both views are gathered across replicas
    (with gradient), so the statistics and `C` cover the global batch, as the
    repo's all-reduced `C` does. No stop-gradient.

    Args:
        z_a: `(N, D)` projections of the first view.
        z_b: `(N, D)` projections of the second view.
        lambda_: weight of the off-diagonal (redundancy) term. Default 0.0051
            (Barlow Twins repo; the paper writes 5e-3), docs/methods.md, Barlow Twins.
        epsilon: variance epsilon of the standardization (BatchNorm's 1e-5).

    Returns:
        A float32 scalar: the loss is a statistic of the whole batch, not a
        mean of per-sample terms.

    Example:
    >>> z = [[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]
    >>> barlow_twins_loss(z, z)  # 0: C is the identity
    """
    z_a = standardize(distribute.all_gather(ops.cast(z_a, "float32")), epsilon)
    z_b = standardize(distribute.all_gather(ops.cast(z_b, "float32")), epsilon)
    batch = ops.cast(ops.shape(z_a)[0], "float32")
    c = ops.matmul(ops.transpose(z_a), z_b) / batch
    diagonal = ops.diagonal(c)
    on_diagonal = ops.sum(ops.square(1.0 - diagonal))
    off_diagonal = ops.sum(ops.square(c)) - ops.sum(ops.square(diagonal))
    return on_diagonal + lambda_ * off_diagonal


@keras.saving.register_keras_serializable(package="keras_ssl")
class BarlowTwinsLoss(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `barlow_twins_loss`.

    Call it as `loss(z_a, z_b)`: `y_true` is the first view's projections and
    `y_pred` the second's.
    """

    def __init__(self, lambda_=0.0051, name="barlow_twins", **kwargs):
        super().__init__(name=name, **kwargs)
        self.lambda_ = lambda_

    def call(self, y_true, y_pred):
        return barlow_twins_loss(y_true, y_pred, self.lambda_)

    def get_config(self):
        config = super().get_config()
        config.update(lambda_=self.lambda_)
        return config
