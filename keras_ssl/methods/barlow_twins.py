"""Barlow Twins (Zbontar et al. 2021, "Barlow Twins: Self-Supervised Learning
via Redundancy Reduction", https://arxiv.org/abs/2103.03230)."""

import keras

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.base import SSLModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class BarlowTwins(SSLModel):
    """Barlow Twins: drive the views' cross-correlation matrix to the identity.

    Each view goes through encoder and projector in its own batch (BatchNorm
    per view, docs/methods.md, Conventions). The loss (`losses.barlow_twins_loss`)
    standardizes each projection dimension over the global batch, forms the
    `(D, D)` cross-correlation of the two views and penalizes its distance
    to the identity: `sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2`. The
    views are gathered across replicas, so `C` is the global batch's.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, Barlow Twins: projector
    of three layers of 8192 (`Linear -> BN -> ReLU` twice, then a bias-free `Linear`), three of 2048
    for images of at most 64 px (solo-learn CIFAR); `lambda_ = 0.0051`
    (repo); augmentation `byol_views(size)` (BYOL's asymmetric recipe; the
    repo crops with bicubic resampling, ours is bilinear).

    Multi-crop (`augmenter=augmentation.MultiCrop(...)`): the loss is the
    mean over the pairs of a global crop and every other crop, each pair
    once (`methods/crop_pairs.py`; solo-learn's Barlow Twins takes two crops
    only); with two crops that is the loss above.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        projection_dims: widths of the projector layers; default
            `(8192, 8192, 8192)`, or `(2048, 2048, 2048)` for images of at
            most 64 px.
        lambda_: weight of the off-diagonal (redundancy) term.
        scale_loss: constant factor on the loss; solo-learn's CIFAR recipe
            uses 0.1 with LARS (docs/methods.md, Barlow Twins), the repo 1.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.BarlowTwins(backbone)
    >>> model.compile(optimizer=keras_ssl.optimizers.LARS(
    ...     0.3, weight_decay=1e-4, eta=0.02, clip_lr=True))  # solo-learn CIFAR
    >>> model.fit(images, epochs=200, batch_size=256)
    """

    recipe_name = "barlow_twins"

    accepts_multi_crop = True

    def __init__(self, backbone, projection_dims=None, lambda_=None, scale_loss=None, **kwargs):
        super().__init__(backbone, **kwargs)
        projection_dims = self.recipe.default("projection_dims", projection_dims)
        lambda_ = self.recipe.default("lambda_", lambda_)
        scale_loss = self.recipe.default("scale_loss", scale_loss)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        if lambda_ < 0:
            raise ValueError(f"`lambda_` must be >= 0. Received: lambda_={lambda_}")
        self.lambda_ = float(lambda_)
        if scale_loss <= 0:
            raise ValueError(f"`scale_loss` must be > 0. Received: scale_loss={scale_loss}")
        self.scale_loss = float(scale_loss)
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, last_bias=False, name="projector"
        )
        self.built = True

    def forward(self, views, training):
        return self.project_views(views, training)

    def compute_ssl_loss(self, outputs, training):
        z = outputs["projections"]
        return self.scale_loss * crop_pairs.over_crop_pairs(
            lambda t, v: losses.barlow_twins_loss(z[t], z[v], self.lambda_),
            len(z),
            crop_pairs.num_target_crops(self.augmenter),
            symmetric=True,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims, lambda_=self.lambda_, scale_loss=self.scale_loss
        )
        return config
