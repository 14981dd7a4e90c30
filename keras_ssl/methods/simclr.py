"""SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive Learning of
Visual Representations", https://arxiv.org/abs/2002.05709)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_temperature
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.base import SSLModel

# The contrastive losses `objective=` chooses from; each is symmetric in its views.
_LOSSES = {
    "nt_xent": losses.nt_xent_loss,
    "dcl": losses.dcl_loss,
    "dclw": losses.dclw_loss,
}


@keras.saving.register_keras_serializable(package="keras_ssl")
class SimCLR(SSLModel):
    """SimCLR: two augmented views of each image, an MLP projector, NT-Xent.

    Both views go through the encoder in one concatenated batch, as in the
    SimCLR TF repo, so BatchNorm statistics cover all 2N views. The loss is the
    paper's NT-Xent, the mean over the 2N anchors (`losses.nt_xent_loss`),
    with negatives gathered across replicas; `objective="dcl"` or `"dclw"` swaps
    in the decoupled losses of Yeh et al. 2022 (`losses.dcl_loss`,
    `losses.dclw_loss`, sigma 0.5), which drop the positive from the
    denominator.

    Multi-crop: with `augmenter=augmentation.swav_multicrop(...)` (or any
    `MultiCrop`), crops of one size go through the encoder as one batch and
    the loss is the mean of the two-view loss over the pairs of a global
    crop with every other crop, each pair counted once
    (`methods/crop_pairs.py`); with two crops that is the two-view loss.
    (solo-learn's SimCLR instead treats all crops of an image as positives
    of each other, local-local pairs included.)

    Defaults (`keras_ssl.recipes`, docs/methods.md, SimCLR): projector Linear(D -> D) -> BN ->
    ReLU -> Linear(D -> 128) (paper v1, hidden width = backbone width as in the
    CIFAR reference); temperature 0.1 (paper, ImageNet) or 0.5 for images of at
    most 64 px (SimCLR repo's CIFAR-10 setting); augmentation
    `simclr_views(size)` (strength 1 with blur, or the CIFAR variant:
    strength 0.5, no blur).

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        projection_dims: widths of the projector layers, the last one the
            output; default `(D, 128)`. `(D, D, 128)` is SimCLR v2's head.
        temperature: NT-Xent temperature, > 0.
        objective: the loss, `"nt_xent"` (default), `"dcl"` or `"dclw"`.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.SimCLR(backbone)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=100, batch_size=512)
    """

    recipe_name = "simclr"

    accepts_multi_crop = True

    def __init__(
        self, backbone, projection_dims=None, temperature=None, objective="nt_xent", **kwargs
    ):
        if objective not in _LOSSES:
            raise ValueError(
                f"`objective` must be one of {tuple(_LOSSES)}. Received: objective={objective!r}"
            )
        self.objective = objective
        super().__init__(backbone, **kwargs)
        temperature = self.recipe.default("temperature", temperature)
        check_temperature(temperature)
        self.temperature = float(temperature)
        if projection_dims is None:
            projection_dims = (self.feature_dim, 128)
        self.projection_dims = tuple(int(d) for d in projection_dims)
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, name="projector"
        )
        self.built = True

    def forward(self, views, training):
        return self.project_views(views, training, concatenate=True)

    def compute_ssl_loss(self, outputs, training):
        z = outputs["projections"]
        loss = _LOSSES[self.objective]
        return ops.mean(
            crop_pairs.over_crop_pairs(
                lambda t, v: loss(z[t], z[v], temperature=self.temperature),
                len(z),
                crop_pairs.num_target_crops(self.augmenter),
                symmetric=True,
            )
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            temperature=self.temperature,
            objective=self.objective,
        )
        return config
