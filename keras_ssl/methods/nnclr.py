"""NNCLR (Dwibedi et al. 2021, "With a Little Help from My Friends:
Nearest-Neighbor Contrastive Learning of Visual Representations",
https://arxiv.org/abs/2104.14548)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_temperature
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.base import SSLModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class NNCLR(SSLModel):
    """NNCLR: the nearest neighbour of a view in a support set of past
    projections is the positive of the other view's prediction.

    Each view goes through the encoder and projector on its own (BatchNorm per
    view); `z_v = projector(f(x_v))`, `p_v = predictor(z_v)`. The support set
    is a `layers.FeatureQueue` at `model.queue`; the loss is
    `losses.nnclr_loss(z1, z2, p1, p2, queue.keys)`, with the predictions of
    every replica gathered. After the loss the (gathered) `z1` enter the
    queue, in training only.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, NNCLR (solo-learn's heads; the paper's
    sizes are unconfirmed): projector Linear -> BN -> ReLU twice (2048) then
    Linear(-> 256) -> BN; predictor Linear(256 -> 4096) -> BN -> ReLU ->
    Linear(4096 -> 256); temperature 0.1 (paper); support set 98 304
    (paper) or 65 536 for images of at most 64 px (solo-learn CIFAR);
    augmentation `byol_views(size)` (the BYOL asymmetric recipe the paper
    uses).

    Multi-crop (`augmenter=augmentation.MultiCrop(...)`): the neighbours of
    the global crops' projections are the positives of every other crop's
    predictions, and the loss is the mean over these pairs
    (`methods/crop_pairs.py`; solo-learn's NNCLR takes two crops only); with
    two crops that is the loss above. The first crop's projections enter
    the support set.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        projection_dims: widths of the projector layers, the last one the
            embedding width `d`.
        prediction_dims: widths of the predictor layers, the last one `d`.
        queue_size: rows of the support set, at least the global batch
            (NNCLR needs one: 0 is refused); None: the recipe's.
        temperature: `T > 0` of the loss.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.NNCLR(backbone)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=200, batch_size=512)
    """

    recipe_name = "nnclr"
    accepts_multi_crop = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        prediction_dims=None,
        queue_size=None,
        temperature=None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        default = self.recipe.default
        projection_dims = default("projection_dims", projection_dims)
        prediction_dims = default("prediction_dims", prediction_dims)
        if queue_size is not None and (
            isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1
        ):
            raise ValueError(
                "NNCLR needs a queue (its support set): `queue_size` must be an int "
                f">= 1, or None for the recipe's size. Received: queue_size={queue_size!r}"
            )
        queue_size = default("queue_size", queue_size)
        temperature = default("temperature", temperature)
        check_temperature(temperature)
        self.temperature = float(temperature)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        self.prediction_dims = tuple(int(d) for d in prediction_dims)
        if self.prediction_dims[-1] != self.projection_dims[-1]:
            raise ValueError(
                "The predictor must end at the projection width: "
                f"prediction_dims[-1]={self.prediction_dims[-1]}, "
                f"projection_dims[-1]={self.projection_dims[-1]}."
            )
        self.queue_size = queue_size
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, last_bn=True, name="projector"
        )
        self.predictor = layers.mlp(
            self.projection_dims[-1], self.prediction_dims, name="predictor"
        )
        self.queue = layers.FeatureQueue(queue_size, self.projection_dims[-1], name="queue")
        self.built = True

    def no_gradient_matmuls(self, batch_size):
        """The support-set search: the target crops' projections, in one
        batch, against the `queue_size` rows of the support set."""
        rows = crop_pairs.num_target_crops(self.augmenter) * batch_size
        return ((rows, self.projection_dims[-1], self.queue_size),)

    def forward(self, views, training):
        features = tuple(self.encoder(v, training=training) for v in views)
        projections = tuple(self.projector(f, training=training) for f in features)
        predictions = tuple(self.predictor(z, training=training) for z in projections)
        return {
            "features": features,
            "projections": projections,
            "predictions": predictions,
        }

    def compute_ssl_loss(self, outputs, training):
        z, p = outputs["projections"], outputs["predictions"]
        num_targets = crop_pairs.num_target_crops(self.augmenter)
        # One search for all global crops: a single pass over the support set.
        neighbours = ops.split(
            losses.nearest_neighbours(
                ops.concatenate(z[:num_targets], axis=0), self.queue.keys.value
            ),
            num_targets,
        )
        loss = ops.mean(
            crop_pairs.over_crop_pairs(
                lambda t, v: losses.info_nce_loss(
                    neighbours[t], p[v], temperature=self.temperature
                ),
                len(z),
                num_targets,
            )
        )
        if training:
            self.queue.enqueue(ops.cast(z[0], "float32"))
        return loss

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            prediction_dims=self.prediction_dims,
            queue_size=self.queue_size,
            temperature=self.temperature,
        )
        return config
