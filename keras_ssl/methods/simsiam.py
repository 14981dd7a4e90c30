"""SimSiam (Chen & He 2021, "Exploring Simple Siamese Representation Learning",
https://arxiv.org/abs/2011.10566)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.base import SSLModel
from keras_ssl.ops_utils import l2_normalize


@keras.saving.register_keras_serializable(package="keras_ssl")
class SimSiam(SSLModel):
    """SimSiam: a predictor on one branch, stop-gradient on the other.

    Each view goes through encoder and projector in its own batch (BatchNorm
    per view, docs/methods.md, Conventions); the predictor maps one view's projection
    `z` to `p`, and the loss is the symmetric negative cosine
    `D(p1, sg(z2)) / 2 + D(p2, sg(z1)) / 2` (`losses.simsiam_loss`). No
    negatives, no momentum encoder: the stop-gradient alone prevents collapse.

    Defaults (`keras_ssl.recipes`, docs/methods.md, SimSiam; SimSiam repo): projector of three
    `Linear -> BN` layers of 2048 (ReLU between, the last BN without gamma
    and beta), two of them for images of at most 64 px (paper appendix,
    CIFAR); predictor bottleneck `2048 -> 512 -> 2048` (hidden BN + ReLU, the
    output with bias and no BN); augmentation `moco_v2_views(size)`.

    Multi-crop (`augmenter=augmentation.MultiCrop(...)`): the loss is the
    mean of `D(p_v, sg(z_t))` over each global crop `t` and every other crop
    `v` (`methods/crop_pairs.py`; solo-learn's SimSiam takes two crops
    only); with two crops that is the loss above.

    Collapse monitor: `z_std`, the mean over channels of the batch standard
    deviation of `l2n(z)`, is logged; healthy training keeps it near
    `1 / sqrt(d)` (0.0221 for d = 2048), collapse sends it to 0.

    Fixed predictor learning rate: the repo keeps the predictor's learning
    rate at its initial value while the rest follows the schedule
    (`fix_pred_lr`). With `fix_predictor_lr=True` and an optimizer whose
    learning rate is a `LearningRateSchedule`, the predictor's weights get
    their gradient multiplied by `lr(0) / lr(step)`. For Keras `SGD` (with or
    without momentum), which folds the learning rate into the momentum
    buffer, that is exactly an update at the initial learning rate
    (decoupled weight decay still uses the scheduled rate); adaptive
    optimizers (Adam, ...) cancel such a scale, so it has no effect there.
    It costs a second pass through the small predictor (whose BatchNorm
    moving statistics, unused by the encoder, then update twice a step).

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        projection_dims: widths of the projector layers; default
            `(2048, 2048, 2048)`, or `(2048, 2048)` for images of at most
            64 px.
        prediction_dims: widths of the predictor layers, the last one equal
            to the projection width; default `(d // 4, d)` for projection
            width `d` (2048 -> 512 -> 2048).
        fix_predictor_lr: keep the predictor at the initial learning rate
            (see above). Default True, as the repo's reported runs.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.SimSiam(backbone)
    >>> lr = keras.optimizers.schedules.CosineDecay(0.06, 800 * 97)
    >>> model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9, weight_decay=5e-4))
    >>> model.fit(images, epochs=800, batch_size=512)
    """

    recipe_name = "simsiam"
    accepts_multi_crop = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        prediction_dims=None,
        fix_predictor_lr=None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        projection_dims = self.recipe.default("projection_dims", projection_dims)
        fix_predictor_lr = self.recipe.default("fix_predictor_lr", fix_predictor_lr)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        width = self.projection_dims[-1]
        if prediction_dims is None:
            prediction_dims = (max(width // 4, 1), width)
        self.prediction_dims = tuple(int(d) for d in prediction_dims)
        if self.prediction_dims and self.prediction_dims[-1] != width:
            raise ValueError(
                "The predictor must map back to the projection width: "
                f"`prediction_dims[-1]` must be {width}. Received: "
                f"prediction_dims={self.prediction_dims}"
            )
        self.fix_predictor_lr = bool(fix_predictor_lr)
        self.projector = layers.mlp(
            self.feature_dim,
            self.projection_dims,
            last_bn=True,
            last_bn_affine=False,
            name="projector",
        )
        self.predictor = layers.mlp(width, self.prediction_dims, name="predictor")
        self.z_std = keras.metrics.Mean(name="z_std")
        self.built = True

    def forward(self, views, training):
        outputs = self.project_views(views, training)
        outputs["predictions"] = tuple(
            self._predict(z, training) for z in outputs["projections"]
        )
        return outputs

    def _predict(self, z, training):
        p = self.predictor(z, training=training)
        scale = self._predictor_gradient_scale() if training else None
        if scale is None:
            return p
        # Same value as `p`; the predictor's weights get `scale` times their
        # gradient, the encoder and projector their usual one.
        weights_only = self.predictor(ops.stop_gradient(z), training=training)
        return p + (scale - 1.0) * (weights_only - ops.stop_gradient(weights_only))

    def _predictor_gradient_scale(self):
        """`lr(0) / lr(step)` when the predictor's learning rate is fixed and
        the optimizer follows a schedule, else None."""
        schedule = getattr(getattr(self, "optimizer", None), "_learning_rate", None)
        if not self.fix_predictor_lr or not isinstance(
            schedule, keras.optimizers.schedules.LearningRateSchedule
        ):
            return None
        initial = ops.cast(schedule(0), "float32")
        current = ops.cast(schedule(self.step), "float32")
        return ops.stop_gradient(initial / ops.maximum(current, 1e-12))

    def compute_ssl_loss(self, outputs, training):
        p, z = outputs["predictions"], outputs["projections"]
        self.z_std.update_state(
            ops.mean(ops.std(l2_normalize(z[0]), axis=0))
        )
        return ops.mean(
            crop_pairs.over_crop_pairs(
                lambda t, v: losses.negative_cosine_similarity(p[v], z[t]),
                len(z),
                crop_pairs.num_target_crops(self.augmenter),
            )
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            prediction_dims=self.prediction_dims,
            fix_predictor_lr=self.fix_predictor_lr,
        )
        return config
