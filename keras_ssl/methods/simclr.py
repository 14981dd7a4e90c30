"""SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive Learning of
Visual Representations", https://arxiv.org/abs/2002.05709)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.methods.base import SSLModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class SimCLR(SSLModel):
    """SimCLR: two augmented views of each image, an MLP projector, NT-Xent.

    Both views go through the encoder in one concatenated batch, as in the
    SimCLR TF repo, so BatchNorm statistics cover all 2N views. The loss is the
    paper's NT-Xent, the mean over the 2N anchors (`losses.nt_xent_loss`),
    with negatives gathered across replicas.

    Defaults (`keras_ssl.recipes`, METHODS.md section 5): projector Linear(D -> D) -> BN ->
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
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.SimCLR(backbone)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=100, batch_size=512)
    """

    recipe_name = "simclr"

    def __init__(self, backbone, projection_dims=None, temperature=None, **kwargs):
        super().__init__(backbone, **kwargs)
        temperature = self.recipe.default("temperature", temperature)
        losses.check_temperature(temperature)
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
        z1, z2 = outputs["projections"]
        return ops.mean(losses.nt_xent_loss(z1, z2, self.temperature))

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims, temperature=self.temperature
        )
        return config
