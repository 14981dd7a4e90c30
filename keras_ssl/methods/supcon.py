"""SupCon (Khosla et al. 2020, "Supervised Contrastive Learning",
https://arxiv.org/abs/2004.11362)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_temperature
from keras_ssl.methods.base import SSLModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class SupCon(SSLModel):
    """Supervised contrastive learning: views of images with the same label
    are positives.

    Two SimCLR-augmented views of each image go through the encoder in one
    concatenated batch (as the SupCon repo does) and an MLP projector; the
    loss is `losses.supcon_loss` (`L_out`) over both views, with the views and
    labels of every replica gathered. The labels are the data's `y`:
    `fit((images, labels))` or `fit(x, y)`. Stage 2 of the paper, a linear
    classifier on the frozen backbone, is `evaluation.linear_probe`.

    Defaults (`keras_ssl.recipes`, docs/methods.md, SupCon): projector Linear(D -> D) -> ReLU
    -> Linear(D -> 128), no BatchNorm (SupCon repo head); temperature 0.1
    (paper, README); augmentation `simclr_views(size)` (SimCLR recipe, CIFAR
    variant at most 64 px).

    Multi-crop (`augmenter=augmentation.MultiCrop(...)`): every crop is one
    more view of its image in `losses.supcon_loss` (the paper's multiviewed
    batch; solo-learn's SupCon treats crops likewise), crops of one size
    encoded as one batch; with two crops that is the loss above.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        projection_dims: widths of the projector layers, the last one the
            output; default `(D, 128)`.
        temperature: `T > 0` of the loss.
        base_temperature: the repo's `T / T_base` loss factor; default
            `temperature` (factor 1).
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.SupCon(backbone)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9))
    >>> model.fit(x_train, y_train, epochs=100, batch_size=512)
    """

    uses_labels = True
    recipe_name = "supcon"
    accepts_multi_crop = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        temperature=None,
        base_temperature=None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        temperature = self.recipe.default("temperature", temperature)
        check_temperature(temperature)
        self.temperature = float(temperature)
        self.base_temperature = base_temperature
        if projection_dims is None:
            projection_dims = (self.feature_dim, 128)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, batch_norm=False, name="projector"
        )
        self.built = True

    def forward(self, views, training):
        return self.project_views(views, training, concatenate=True)

    def compute_ssl_loss(self, outputs, training):
        projections = ops.stack(outputs["projections"], axis=1)
        return ops.mean(
            losses.supcon_loss(
                projections, outputs["labels"], self.temperature, self.base_temperature
            )
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            temperature=self.temperature,
            base_temperature=self.base_temperature,
        )
        return config
