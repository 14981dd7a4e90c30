"""Vectorized, per-image random augmentation layers and SSL view presets."""

from keras_ssl.augmentation.color_jitter import ColorJitter
from keras_ssl.augmentation.flip import RandomFlip
from keras_ssl.augmentation.gaussian_blur import GaussianBlur
from keras_ssl.augmentation.gaussian_blur import blur_kernel_size
from keras_ssl.augmentation.grayscale import RandomGrayscale
from keras_ssl.augmentation.jigsaw import Jigsaw
from keras_ssl.augmentation.multi_crop import MultiCrop
from keras_ssl.augmentation.presets import byol_views
from keras_ssl.augmentation.presets import clip_views
from keras_ssl.augmentation.presets import cpc_views
from keras_ssl.augmentation.presets import dino_multicrop
from keras_ssl.augmentation.presets import ijepa_views
from keras_ssl.augmentation.presets import mae_views
from keras_ssl.augmentation.presets import moco_v1_views
from keras_ssl.augmentation.presets import moco_v2_views
from keras_ssl.augmentation.presets import pirl_views
from keras_ssl.augmentation.presets import simclr_views
from keras_ssl.augmentation.presets import swav_multicrop
from keras_ssl.augmentation.random_apply import RandomApply
from keras_ssl.augmentation.random_resized_crop import RandomResizedCrop
from keras_ssl.augmentation.solarize import Solarize
from keras_ssl.augmentation.view_augmenter import ViewAugmenter

__all__ = [
    "ColorJitter",
    "GaussianBlur",
    "Jigsaw",
    "MultiCrop",
    "RandomApply",
    "RandomFlip",
    "RandomGrayscale",
    "RandomResizedCrop",
    "Solarize",
    "ViewAugmenter",
    "blur_kernel_size",
    "byol_views",
    "clip_views",
    "cpc_views",
    "dino_multicrop",
    "ijepa_views",
    "mae_views",
    "moco_v1_views",
    "moco_v2_views",
    "pirl_views",
    "simclr_views",
    "swav_multicrop",
]
