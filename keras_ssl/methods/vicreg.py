"""VICReg (Bardes et al. 2022, "VICReg: Variance-Invariance-Covariance
Regularization for Self-Supervised Learning", https://arxiv.org/abs/2105.04906)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.base import SSLModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class VICReg(SSLModel):
    """VICReg: invariance between views, variance and decorrelation within each.

    Each view goes through encoder and expander in its own batch (BatchNorm
    per view, docs/methods.md, Conventions). The loss (`losses.vicreg_loss`) is
    `25 inv + 25 var + 1 cov`: mean squared distance between the views'
    embeddings, a hinge keeping each dimension's standard deviation above 1,
    and the squared off-diagonal covariances; statistics over the global
    batch. The three terms are logged as `invariance`, `variance` and
    `covariance`.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, VICReg: expander
    of three layers of 8192 (`Linear -> BN -> ReLU` twice, then a bias-free `Linear`), three of 2048
    for images of at most 64 px (solo-learn CIFAR); weights 25 / 25 / 1 with
    the repo's normalization (`paper_form=False`); augmentation
    `byol_views(size)` (BYOL's asymmetric recipe, as the repo).

    Multi-crop (`augmenter=augmentation.MultiCrop(...)`): each term is the
    mean over the pairs of a global crop and every other crop, each pair
    once (`methods/crop_pairs.py`; solo-learn's VICReg takes two crops
    only); with two crops that is the loss above.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        projection_dims: widths of the expander layers; default
            `(8192, 8192, 8192)`, or `(2048, 2048, 2048)` for images of at
            most 64 px.
        invariance_weight: lambda, default 25.
        variance_weight: mu, default 25.
        covariance_weight: nu, default 1.
        paper_form: use the paper's normalization of the terms instead of
            the repo's (see `losses.vicreg_terms`).
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.VICReg(backbone)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=200, batch_size=256)
    """

    recipe_name = "vicreg"
    accepts_multi_crop = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        invariance_weight=None,
        variance_weight=None,
        covariance_weight=None,
        paper_form=False,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        default = self.recipe.default
        projection_dims = default("projection_dims", projection_dims)
        invariance_weight = default("invariance_weight", invariance_weight)
        variance_weight = default("variance_weight", variance_weight)
        covariance_weight = default("covariance_weight", covariance_weight)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        weights = (invariance_weight, variance_weight, covariance_weight)
        if min(weights) < 0:
            raise ValueError(
                "The VICReg weights must be >= 0. Received: "
                f"invariance_weight={invariance_weight}, variance_weight="
                f"{variance_weight}, covariance_weight={covariance_weight}"
            )
        self.invariance_weight, self.variance_weight, self.covariance_weight = (
            float(w) for w in weights
        )
        self.paper_form = bool(paper_form)
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, last_bias=False, name="projector"
        )
        self.invariance = keras.metrics.Mean(name="invariance")
        self.variance = keras.metrics.Mean(name="variance")
        self.covariance = keras.metrics.Mean(name="covariance")
        self.built = True

    def forward(self, views, training):
        return self.project_views(views, training)

    def compute_ssl_loss(self, outputs, training):
        z = outputs["projections"]
        terms = crop_pairs.over_crop_pairs(
            lambda t, v: ops.stack(losses.vicreg_terms(z[t], z[v], paper_form=self.paper_form)),
            len(z),
            crop_pairs.num_target_crops(self.augmenter),
            symmetric=True,
        )
        invariance, variance, covariance = terms[0], terms[1], terms[2]
        self.invariance.update_state(invariance)
        self.variance.update_state(variance)
        self.covariance.update_state(covariance)
        return (
            self.invariance_weight * invariance
            + self.variance_weight * variance
            + self.covariance_weight * covariance
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            invariance_weight=self.invariance_weight,
            variance_weight=self.variance_weight,
            covariance_weight=self.covariance_weight,
            paper_form=self.paper_form,
        )
        return config
