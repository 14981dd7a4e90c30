"""BYOL (Grill et al. 2020, "Bootstrap Your Own Latent: A New Approach to
Self-Supervised Learning", https://arxiv.org/abs/2006.07733)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.momentum import MomentumModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class BYOL(MomentumModel):
    """Bootstrap Your Own Latent: predict the target's projection of the
    other view.

    Online network: `encoder`, `projector`, `predictor`; target network:
    `target_encoder`, `target_projector`, an EMA of the online ones
    (`MomentumModel`) with momentum rising from `m0` to 1 on a cosine
    schedule. Each view goes through the networks on its own (BatchNorm per
    view). Loss: `l(p1, sg(z2')) + l(p2, sg(z1'))` with
    `l(p, z) = 2 - 2 cos(p, z)` (`losses.byol_loss`, summed over both
    directions as in the BYOL repo).

    Defaults (`keras_ssl.recipes`, docs/methods.md, BYOL): projector D -> 4096 -> 256 and predictor
    256 -> 4096 -> 256 (Linear -> BN -> ReLU -> Linear, the repo's sizes, also
    solo-learn's CIFAR ones); `m0 = 0.996` (the 1000-epoch preset; 0.99 for
    100-300 epochs); the target starts as a copy of the online network;
    augmentation `byol_views(size)` (asymmetric blur and solarization; the
    CIFAR variant without blur).

    Multi-crop (`augmenter=augmentation.MultiCrop(...)`, e.g.
    `swav_multicrop(size)`): every crop goes through the online networks on
    its own, the target networks see the global crops only, and the loss is
    the sum of `l(p_v, sg(z_t'))` over each global crop `t` and every other
    crop `v`, as solo-learn's BYOL does (`methods/crop_pairs.py`); with two
    crops that is the loss above.

    Args:
        backbone: a clonable `keras.Model` from images to `(B, D)` features.
        projection_dims: projector widths, the last the embedding size.
        prediction_dims: predictor widths, the last equal to the embedding.
        momentum: `m0`, the target momentum at the first step.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones.

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.BYOL(backbone, momentum=0.99)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=200, batch_size=256)
    """

    recipe_name = "byol"
    accepts_multi_crop = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        prediction_dims=None,
        momentum=None,
        **kwargs,
    ):
        super().__init__(backbone, momentum=momentum, **kwargs)
        projection_dims = self.recipe.default("projection_dims", projection_dims)
        prediction_dims = self.recipe.default("prediction_dims", prediction_dims)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        self.prediction_dims = tuple(int(d) for d in prediction_dims)
        if self.prediction_dims[-1] != self.projection_dims[-1]:
            raise ValueError(
                "The predictor must output the projection width: "
                f"prediction_dims={self.prediction_dims}, "
                f"projection_dims={self.projection_dims}"
            )
        self.projector = layers.mlp(self.feature_dim, self.projection_dims, name="projector")
        self.predictor = layers.mlp(
            self.projection_dims[-1], self.prediction_dims, name="predictor"
        )
        self.build_target()
        self.built = True

    def forward(self, views, training):
        features = [self.encoder(v, training=training) for v in views]
        projections = [self.projector(f, training=training) for f in features]
        predictions = [self.predictor(z, training=training) for z in projections]
        return {
            "views": views,
            "features": tuple(features),
            "projections": tuple(projections),
            "predictions": tuple(predictions),
        }

    def compute_ssl_loss(self, outputs, training):
        views, predictions = outputs["views"], outputs["predictions"]
        num_targets = crop_pairs.num_target_crops(self.augmenter)
        targets = [self.target(v, training=training) for v in views[:num_targets]]

        def regression(t, v):  # l(p, z) = 2 - 2 cos(p, z), `losses.byol_loss`'s term
            return 2.0 + 2.0 * losses.negative_cosine_similarity(predictions[v], targets[t])

        return ops.mean(
            crop_pairs.over_crop_pairs(regression, len(views), num_targets, reduction="sum")
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims, prediction_dims=self.prediction_dims
        )
        return config
