"""Backbones: networks from images to a feature vector `(B, D)`.

Any `keras.Model` with that contract is a backbone, including
`keras.applications.*(include_top=False, pooling="avg")`.
"""

from keras_ssl.backbones.resnet import resnet18, resnet34, resnet50
from keras_ssl.backbones.small_cnn import small_cnn
from keras_ssl.backbones.text_transformer import text_transformer
from keras_ssl.backbones.vit import vit, vit_base, vit_parts, vit_small, vit_tiny

__all__ = [
    "resnet18",
    "resnet34",
    "resnet50",
    "small_cnn",
    "text_transformer",
    "vit",
    "vit_base",
    "vit_parts",
    "vit_small",
    "vit_tiny",
]
