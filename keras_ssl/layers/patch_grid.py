"""`PatchGrid` and `ToGrid`: an image's overlapping grid of patches, flattened
into the batch and back (CPC v2, Hénaff et al. 2020, "Data-Efficient Image
Recognition with Contrastive Predictive Coding",
https://arxiv.org/abs/1905.09272)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class PatchGrid(keras.layers.Layer):
    """Cuts images into an overlapping grid of patches, flattened into the batch.

    Call arguments:
        images: `(B, H, W, C)`.

    Returns:
        `(B * G * G, patch_size, patch_size, C)`, row-major over the grid,
        `G = (H - patch_size) // stride + 1`.
    """

    def __init__(self, patch_size, stride, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size
        self.stride = stride

    def call(self, images):
        p = self.patch_size
        patches = ops.image.extract_patches(images, p, strides=self.stride, padding="valid")
        return ops.reshape(patches, (-1, p, p, images.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (None, self.patch_size, self.patch_size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.patch_size, stride=self.stride)
        return config


@keras.saving.register_keras_serializable(package="keras_ssl")
class ToGrid(keras.layers.Layer):
    """Reshapes `(B * G * G, D)` patch features to the grid `(B, G, G, D)`."""

    def __init__(self, grid, **kwargs):
        super().__init__(**kwargs)
        self.grid = grid

    def call(self, features):
        return ops.reshape(features, (-1, self.grid, self.grid, features.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (None, self.grid, self.grid, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(grid=self.grid)
        return config
