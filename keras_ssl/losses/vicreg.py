"""The VICReg loss (Bardes et al. 2022, "VICReg: Variance-Invariance-Covariance
Regularization for Self-Supervised Learning", https://arxiv.org/abs/2105.04906)."""

import keras
from keras import ops

from keras_ssl import distribute


def _variance(z, epsilon):
    """Mean over dimensions of the hinge `relu(1 - sqrt(Var_j + eps))`, with
    the unbiased variance."""
    n = ops.cast(ops.shape(z)[0], "float32")
    std = ops.sqrt(ops.var(z, axis=0) * n / (n - 1.0) + epsilon)
    return ops.mean(ops.relu(1.0 - std))


def _covariance(z):
    """Sum of the squared off-diagonal covariances, divided by `D`."""
    z = z - ops.mean(z, axis=0, keepdims=True)
    n = ops.cast(ops.shape(z)[0], "float32")
    cov = ops.matmul(ops.transpose(z), z) / (n - 1.0)
    off_diagonal = ops.sum(ops.square(cov)) - ops.sum(ops.square(ops.diagonal(cov)))
    return off_diagonal / ops.cast(ops.shape(z)[1], "float32")


def vicreg_terms(z_a, z_b, epsilon=1e-4, paper_form=False):
    """The invariance, variance and covariance terms of VICReg.

    Both views are gathered across replicas (with gradient) first, so every
    statistic covers the global batch. Repo form (default, docs/methods.md,
    VICReg): `inv = mean over N*D of (z_a - z_b)^2`;
    `var = (v(z_a) + v(z_b)) / 2` with `v(z) = mean_j relu(1 - sqrt(Var_j +
    eps))` (unbiased variance); `cov = c(z_a) + c(z_b)` with
    `c(z) = sum_{i != j} Cov_ij^2 / D`. The paper form sums the invariance
    over `D` and drops the 1/2 of the variance term.

    Args:
        z_a: `(N, D)` embeddings of the first view.
        z_b: `(N, D)` embeddings of the second view.
        epsilon: added to the variance under the square root. Default 1e-4.
        paper_form: use the paper's normalization instead of the repo's.

    Returns:
        A tuple `(invariance, variance, covariance)` of float32 scalars.
    """
    z_a = distribute.all_gather(ops.cast(z_a, "float32"))
    z_b = distribute.all_gather(ops.cast(z_b, "float32"))
    invariance = ops.mean(ops.square(z_a - z_b))
    variance = _variance(z_a, epsilon) + _variance(z_b, epsilon)
    if paper_form:
        invariance = invariance * ops.cast(ops.shape(z_a)[1], "float32")
    else:
        variance = variance / 2.0
    return invariance, variance, _covariance(z_a) + _covariance(z_b)


def vicreg_loss(
    z_a,
    z_b,
    invariance_weight=25.0,
    variance_weight=25.0,
    covariance_weight=1.0,
    epsilon=1e-4,
    paper_form=False,
):
    """VICReg loss `25 inv + 25 var + 1 cov` of two views' embeddings.

    See `vicreg_terms` for the terms. The weights 25/25/1 are the paper's and
    repo's (docs/methods.md, VICReg), tuned with the repo form, the default.

    Args:
        z_a: `(N, D)` embeddings of the first view.
        z_b: `(N, D)` embeddings of the second view.
        invariance_weight: weight of the invariance term (lambda). Default 25.
        variance_weight: weight of the variance term (mu). Default 25.
        covariance_weight: weight of the covariance term (nu). Default 1.
        epsilon: added to the variance under the square root. Default 1e-4.
        paper_form: use the paper's normalization instead of the repo's.

    Returns:
        A float32 scalar: the loss is a statistic of the whole batch.

    Example:
    >>> z = np.zeros((8, 4), "float32")
    >>> vicreg_loss(z, z)  # 25 * (1 - sqrt(1e-4)) = 24.75
    """
    invariance, variance, covariance = vicreg_terms(z_a, z_b, epsilon, paper_form)
    return (
        invariance_weight * invariance
        + variance_weight * variance
        + covariance_weight * covariance
    )


@keras.saving.register_keras_serializable(package="keras_ssl")
class VICRegLoss(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `vicreg_loss`.

    Call it as `loss(z_a, z_b)`: `y_true` is the first view's embeddings and
    `y_pred` the second's.
    """

    def __init__(
        self,
        invariance_weight=25.0,
        variance_weight=25.0,
        covariance_weight=1.0,
        paper_form=False,
        name="vicreg",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.invariance_weight = invariance_weight
        self.variance_weight = variance_weight
        self.covariance_weight = covariance_weight
        self.paper_form = paper_form

    def call(self, y_true, y_pred):
        return vicreg_loss(
            y_true,
            y_pred,
            self.invariance_weight,
            self.variance_weight,
            self.covariance_weight,
            paper_form=self.paper_form,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            invariance_weight=self.invariance_weight,
            variance_weight=self.variance_weight,
            covariance_weight=self.covariance_weight,
            paper_form=self.paper_form,
        )
        return config
