"""Multi-crop augmentation (Caron et al. 2020, "Unsupervised Learning of Visual
Features by Contrasting Cluster Assignments", https://arxiv.org/abs/2006.09882)
and its SwAV and DINO recipes."""

import keras

from keras_ssl.augmentation.presets import _check_size
from keras_ssl.augmentation.presets import _is_cifar
from keras_ssl.augmentation.presets import _pipeline
from keras_ssl.augmentation.presets import _seeds
from keras_ssl.augmentation.view_augmenter import ViewAugmenter


@keras.saving.register_keras_serializable(package="keras_ssl")
class MultiCrop(ViewAugmenter):
    """Global (high-resolution) crops followed by local (low-resolution) ones.

    A `ViewAugmenter` whose views come in two groups: `global_pipelines`
    first (all of one size), then `local_pipelines` (all of one, smaller,
    size). Multi-crop methods take codes or teacher targets from the global
    crops only and run each resolution through the backbone as its own batch
    (SwAV, DINO).

    Args:
        global_pipelines: non-empty list of pipelines (lists of layers), one
            per global crop.
        local_pipelines: list of pipelines, one per local crop.

    Attributes:
        num_global_crops: number of global crops (the first views).
        num_local_crops: number of local crops (the last views).

    Example:

    ```python
    augmenter = keras_ssl.augmentation.swav_multicrop(32)
    views = augmenter(images)  # 2 views of 32 px, then 6 of 16 px
    augmenter.num_global_crops  # 2
    ```
    """

    def __init__(self, global_pipelines, local_pipelines=(), **kwargs):
        global_pipelines, local_pipelines = list(global_pipelines), list(local_pipelines)
        if not global_pipelines:
            raise ValueError(
                "`global_pipelines` must hold at least one pipeline. "
                f"Received: global_pipelines={global_pipelines!r}"
            )
        super().__init__(global_pipelines + local_pipelines, **kwargs)
        self.num_global_crops = len(global_pipelines)
        self.num_local_crops = len(local_pipelines)
        for group, sizes in (
            ("global", self.output_sizes[: self.num_global_crops]),
            ("local", self.output_sizes[self.num_global_crops :]),
        ):
            if len(set(sizes)) > 1:
                raise ValueError(
                    f"All {group} crops must have one size (each resolution is "
                    f"one batch through the backbone). Received sizes {sizes}."
                )

    def get_config(self):
        config = super().get_config()
        pipelines = config.pop("pipelines")
        config["global_pipelines"] = pipelines[: self.num_global_crops]
        config["local_pipelines"] = pipelines[self.num_global_crops :]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("global_pipelines", "local_pipelines"):
            config[key] = [
                [keras.saving.deserialize_keras_object(layer) for layer in pipeline]
                for pipeline in config[key]
            ]
        return cls(**config)


def _local_size(size, local_size, cifar):
    if local_size is None:
        local_size = size // 2 if cifar else round(size * 96 / 224)
    local_size = _check_size(local_size)
    if local_size > size:
        raise ValueError(
            f"`local_size` must be <= the global crop size {size}. "
            f"Received: local_size={local_size}"
        )
    return local_size


def _check_num_local(num_local):
    if not isinstance(num_local, int) or num_local < 0:
        raise ValueError(
            f"`num_local` must be an int >= 0. Received: num_local={num_local!r}"
        )


def swav_multicrop(
    size, num_local=6, local_size=None, strength=None, cifar=None, seed=None
):
    """SwAV's multi-crop augmentation (SwAV repo, docs/methods.md, SwAV).

    2 global crops `RandomResizedCrop(size, scale=(0.14, 1))` and `num_local`
    local crops `RandomResizedCrop(local_size, scale=(0.05, 0.14))`; every
    crop: horizontal flip, `ColorJitter(0.8 s, 0.8 s, 0.8 s, 0.2 s)` with
    probability 0.8, grayscale with probability 0.2, Gaussian blur with
    probability 0.5 (kernel a tenth of the crop side). ImageNet: 2 x 224 +
    6 x 96 px with `s = 1`. The CIFAR variant (DESIGN: no blur, jitter
    strength 0.5) uses local crops of half the global size (16 px for 32),
    a choice of ours: the papers give no CIFAR multi-crop recipe.

    Args:
        size: int > 0, side of the global crops.
        num_local: int >= 0, number of local crops. Default 6.
        local_size: side of the local crops; default `round(size * 96 /
            224)`, or `size // 2` for the CIFAR variant.
        strength: color jitter strength `s`; default 1, or 0.5 for CIFAR.
        cifar: bool or None, picks the CIFAR variant; None means `size <= 64`.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `MultiCrop` with 2 global and `num_local` local crops.
    """
    size = _check_size(size)
    _check_num_local(num_local)
    cifar = _is_cifar(size, cifar)
    local_size = _local_size(size, local_size, cifar)
    s = (0.5 if cifar else 1.0) if strength is None else strength
    if s < 0:
        raise ValueError(f"`strength` must be >= 0. Received: strength={strength}")
    seeds = _seeds(seed)

    def crop(side, scale):
        return _pipeline(
            side,
            seeds,
            scale=scale,
            jitter=(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s),
            blur=0.0 if cifar else 0.5,
        )

    return MultiCrop(
        [crop(size, (0.14, 1.0)) for _ in range(2)],
        [crop(local_size, (0.05, 0.14)) for _ in range(num_local)],
    )


def dino_multicrop(size, num_local=8, local_size=None, cifar=None, seed=None):
    """DINO's multi-crop augmentation (Caron et al. 2021, "Emerging Properties
    in Self-Supervised Vision Transformers", https://arxiv.org/abs/2104.14294;
    DINO repo, docs/methods.md, DINO).

    Global crops `RandomResizedCrop(size, scale=(0.4, 1))` with BYOL's
    asymmetric recipe: flip, `ColorJitter(0.4, 0.4, 0.2, 0.1)` with
    probability 0.8, grayscale 0.2; global 1 blurred always, global 2 blurred
    with probability 0.1 and solarized with probability 0.2. `num_local`
    local crops `RandomResizedCrop(local_size, scale=(0.05, 0.4))`, same
    color ops, blur 0.5. The repo resizes with bicubic interpolation; ours is
    bilinear. The CIFAR variant drops the blur (solo-learn's asymmetric CIFAR
    preset) and uses local crops of half the global size, a choice of ours.

    Args:
        size: int > 0, side of the global crops.
        num_local: int >= 0, number of local crops. Default 8 (repo; lightly
            uses 6).
        local_size: side of the local crops; default `round(size * 96 /
            224)`, or `size // 2` for the CIFAR variant.
        cifar: bool or None, picks the CIFAR variant; None means `size <= 64`.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `MultiCrop` with 2 global and `num_local` local crops.
    """
    size = _check_size(size)
    _check_num_local(num_local)
    cifar = _is_cifar(size, cifar)
    local_size = _local_size(size, local_size, cifar)
    seeds = _seeds(seed)

    def crop(side, scale, blur, solarize=0.0):
        return _pipeline(
            side,
            seeds,
            scale=scale,
            jitter=(0.4, 0.4, 0.2, 0.1),
            blur=0.0 if cifar else blur,
            solarize=solarize,
        )

    return MultiCrop(
        [crop(size, (0.4, 1.0), 1.0), crop(size, (0.4, 1.0), 0.1, 0.2)],
        [crop(local_size, (0.05, 0.4), 0.5) for _ in range(num_local)],
    )
