import itertools
import numbers

from keras_ssl.augmentation.color_jitter import ColorJitter
from keras_ssl.augmentation.flip import RandomFlip
from keras_ssl.augmentation.gaussian_blur import GaussianBlur
from keras_ssl.augmentation.gaussian_blur import blur_kernel_size
from keras_ssl.augmentation.grayscale import RandomGrayscale
from keras_ssl.augmentation.jigsaw import Jigsaw
from keras_ssl.augmentation.multi_crop import MultiCrop
from keras_ssl.augmentation.random_apply import RandomApply
from keras_ssl.augmentation.random_resized_crop import RandomResizedCrop
from keras_ssl.augmentation.solarize import Solarize
from keras_ssl.augmentation.view_augmenter import ViewAugmenter
from keras_ssl.recipes import is_small


def simclr_views(
    size, strength=None, blur=None, cifar=None, num_views=2, seed=None
):
    """SimCLR's symmetric augmentation (Chen et al., 2020, appendix A).

    Every view: `RandomResizedCrop(size, size, scale=(0.08, 1))`, horizontal
    flip with probability 0.5, `ColorJitter(0.8 s, 0.8 s, 0.8 s, 0.2 s)` with
    probability 0.8, grayscale with probability 0.2, and
    `GaussianBlur(blur_kernel_size(size))` with probability 0.5. The CIFAR
    variant (SimCLR's CIFAR-10 README, lightly's CIFAR benchmark) uses
    strength `s = 0.5` and no blur; otherwise `s = 1.0` with blur.

    Args:
        size: int > 0, output side of every view.
        strength: float >= 0, color jitter strength `s`. Defaults to 0.5 for
            the CIFAR variant, 1.0 otherwise.
        blur: bool, whether views are blurred. Defaults to False for the
            CIFAR variant, True otherwise.
        cifar: bool or None, picks the CIFAR variant; None means
            `size <= 64`.
        num_views: int >= 1, number of views. Defaults to 2.
        seed: int or None. With an int, the pipeline layers get the seeds
            `seed, seed + 1, ...`; with None each draws its own. Either way
            each view has its own, independent, randomness.

    Returns:
        A `ViewAugmenter` with `num_views` pipelines.

    Example:

    ```python
    augmenter = simclr_views(32)  # CIFAR variant
    view_1, view_2 = augmenter(images)
    ```
    """
    size = _check_size(size)
    if not isinstance(num_views, numbers.Integral) or num_views < 1:
        raise ValueError(
            "`num_views` must be an int >= 1. "
            f"Received: num_views={num_views!r}"
        )
    cifar = _is_cifar(size, cifar)
    if strength is None:
        strength = 0.5 if cifar else 1.0
    if strength < 0:
        raise ValueError(
            f"`strength` must be >= 0. Received: strength={strength}"
        )
    if blur is None:
        blur = not cifar
    seeds = _seeds(seed)
    s = strength
    return ViewAugmenter(
        [
            _pipeline(
                size,
                seeds,
                scale=(0.08, 1.0),
                jitter=(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s),
                blur=0.5 if blur else 0.0,
            )
            for _ in range(num_views)
        ]
    )


def moco_v1_views(size, seed=None):
    """MoCo v1's augmentation (He et al., 2020, section 3.3; MoCo repo).

    Both views: `RandomResizedCrop(size, size, scale=(0.2, 1))`, grayscale
    with probability 0.2, `ColorJitter(0.4, 0.4, 0.4, 0.4)` always, horizontal
    flip. No blur, so there is no separate CIFAR variant.

    Args:
        size: int > 0, output side of both views.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with two pipelines.
    """
    size = _check_size(size)
    seeds = _seeds(seed)
    return ViewAugmenter(
        [
            _pipeline(
                size,
                seeds,
                scale=(0.2, 1.0),
                jitter=(0.4, 0.4, 0.4, 0.4),
                jitter_rate=1.0,
                grayscale_first=True,
            )
            for _ in range(2)
        ]
    )


def moco_v2_views(size, cifar=None, seed=None):
    """MoCo v2's augmentation (Chen et al., 2020, "Improved Baselines with
    Momentum Contrastive Learning", https://arxiv.org/abs/2003.04297).

    Both views: `RandomResizedCrop(size, size, scale=(0.2, 1))`,
    `ColorJitter(0.4, 0.4, 0.4, 0.1)` with probability 0.8, grayscale with
    probability 0.2, Gaussian blur (sigma in [0.1, 2]) with probability 0.5,
    horizontal flip. The CIFAR variant (MoCo's CIFAR-10 demo, lightly) drops
    the blur, which only smears 32 px images.

    Args:
        size: int > 0, output side of both views.
        cifar: bool or None, picks the CIFAR variant; None means `size <= 64`.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with two pipelines.
    """
    size = _check_size(size)
    blur = 0.0 if _is_cifar(size, cifar) else 0.5
    seeds = _seeds(seed)
    return ViewAugmenter(
        [
            _pipeline(size, seeds, scale=(0.2, 1.0), jitter=(0.4, 0.4, 0.4, 0.1), blur=blur)
            for _ in range(2)
        ]
    )


def byol_views(size, min_scale=0.08, cifar=None, seed=None):
    """BYOL's asymmetric augmentation (Grill et al., 2020, "Bootstrap Your Own
    Latent", https://arxiv.org/abs/2006.07733, table 6).

    Both views: `RandomResizedCrop(size, size, scale=(min_scale, 1))`,
    horizontal flip, `ColorJitter(0.4, 0.4, 0.2, 0.1)` with probability 0.8,
    grayscale with probability 0.2. View 1: Gaussian blur with probability
    1.0, no solarization; view 2: blur with probability 0.1, solarization
    with probability 0.2. Also the recipe of MoCo v3 (`min_scale=0.2` for
    ResNets), Barlow Twins, VICReg and NNCLR. The CIFAR variant (solo-learn's
    asymmetric CIFAR preset) has no blur and keeps solarization 0 / 0.2.

    Args:
        size: int > 0, output side of both views.
        min_scale: smallest crop area fraction, in (0, 1].
        cifar: bool or None, picks the CIFAR variant; None means `size <= 64`.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with two pipelines.
    """
    size = _check_size(size)
    if not 0 < min_scale <= 1:
        raise ValueError(f"`min_scale` must be in (0, 1]. Received: min_scale={min_scale}")
    cifar = _is_cifar(size, cifar)
    seeds = _seeds(seed)
    return ViewAugmenter(
        [
            _pipeline(
                size,
                seeds,
                scale=(min_scale, 1.0),
                jitter=(0.4, 0.4, 0.2, 0.1),
                blur=0.0 if cifar else blur,
                solarize=solarize,
            )
            for blur, solarize in ((1.0, 0.0), (0.1, 0.2))
        ]
    )


def pirl_views(size, cifar=None, seed=None):
    """PIRL's augmentation (Misra and van der Maaten 2019, "Self-Supervised
    Learning of Pretext-Invariant Representations",
    https://arxiv.org/abs/1912.01991; VISSL's PIRL config).

    View 1, the image: `RandomResizedCrop(size, size, scale=(0.08, 1))`,
    horizontal flip, `ColorJitter(0.4, 0.4, 0.4, 0.2)` with probability 0.8,
    grayscale with probability 0.2. View 2, the jigsaw: `Jigsaw(64, 85)`
    (a (0.6, 1) crop to 255 px, 85 px cells, 64 px patches, the paper's);
    the CIFAR variant `Jigsaw(24, 32)` (96 px, 32 px cells, 24 px patches, a
    library choice for images of at most 64 px).

    Args:
        size: int > 0, output side of the image view.
        cifar: bool or None, picks the CIFAR variant; None means `size <= 64`.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with two pipelines: images and `(B, 9, p, p, C)`
        patches.
    """
    size = _check_size(size)
    seeds = _seeds(seed)
    image = _pipeline(size, seeds, scale=(0.08, 1.0), jitter=(0.4, 0.4, 0.4, 0.2))
    cells = (24, 32) if _is_cifar(size, cifar) else (64, 85)
    return ViewAugmenter([image, [Jigsaw(*cells, seed=next(seeds))]])


def cpc_views(size, seed=None):
    """CPC's image-level augmentation (the library's small-image version of
    CPC v2, Hénaff et al. 2020, "Data-Efficient Image Recognition with
    Contrastive Predictive Coding", https://arxiv.org/abs/1905.09272): one
    view, `RandomResizedCrop(size, size, scale=(0.3, 1))`, horizontal flip,
    `ColorJitter(0.4, 0.4, 0.4, 0.1)` with probability 0.8, grayscale with
    probability 0.2. The patches are cut in the model (`layers.PatchGrid`).

    Args:
        size: int > 0, output side of the view.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with one pipeline.
    """
    size = _check_size(size)
    return ViewAugmenter(
        [_pipeline(size, _seeds(seed), scale=(0.3, 1.0), jitter=(0.4, 0.4, 0.4, 0.1))]
    )


def clip_views(size, seed=None):
    """CLIP's only augmentation (Radford et al. 2021, "Learning Transferable
    Visual Models From Natural Language Supervision",
    https://arxiv.org/abs/2103.00020, section 2.5): one view, a random
    square crop, `RandomResizedCrop(size, size, scale=(0.5, 1),
    ratio=(1, 1))`.

    Args:
        size: int > 0, output side of the view.
        seed: int or None, the crop's seed.

    Returns:
        A `ViewAugmenter` with one pipeline.
    """
    size = _check_size(size)
    crop = RandomResizedCrop(size, size, scale=(0.5, 1.0), ratio=(1.0, 1.0), seed=seed)
    return ViewAugmenter([[crop]])


def _multicrop_sizes(size, num_local, local_size, cifar):
    """`(size, local_size, cifar)` of a multi-crop recipe, checked; the
    local side defaults to `size // 2` (CIFAR) or `round(size * 96 / 224)`."""
    size = _check_size(size)
    if not isinstance(num_local, int) or num_local < 0:
        raise ValueError(
            f"`num_local` must be an int >= 0. Received: num_local={num_local!r}"
        )
    cifar = _is_cifar(size, cifar)
    if local_size is None:
        local_size = size // 2 if cifar else round(size * 96 / 224)
    local_size = _check_size(local_size)
    if local_size > size:
        raise ValueError(
            f"`local_size` must be <= the global crop size {size}. "
            f"Received: local_size={local_size}"
        )
    return size, local_size, cifar


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
    size, local_size, cifar = _multicrop_sizes(size, num_local, local_size, cifar)
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
    size, local_size, cifar = _multicrop_sizes(size, num_local, local_size, cifar)
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


def _check_size(size):
    if not isinstance(size, numbers.Integral) or size <= 0:
        raise ValueError(f"`size` must be a positive int. Received: size={size!r}")
    return int(size)


def _is_cifar(size, cifar):
    """`cifar`, or when None whether `size` is a small image (`recipes.is_small`)."""
    return is_small(size) if cifar is None else bool(cifar)


def _seeds(seed):
    """`seed, seed + 1, ...` for the pipeline layers, or None for each."""
    return itertools.repeat(None) if seed is None else itertools.count(seed)


def _pipeline(
    size,
    seeds,
    scale,
    jitter,
    jitter_rate=0.8,
    grayscale_first=False,
    blur=0.0,
    solarize=0.0,
):
    """One view's layers: crop, flip, jitter, grayscale, then blur and
    solarization when their probabilities are above 0."""
    crop = RandomResizedCrop(size, size, scale=scale, seed=next(seeds))
    flip = RandomFlip("horizontal", seed=next(seeds), dtype="float32")
    color = ColorJitter(*jitter, seed=next(seeds))
    if jitter_rate < 1:
        color = RandomApply(color, rate=jitter_rate, seed=next(seeds))
    gray = RandomGrayscale(0.2, seed=next(seeds))
    pipeline = [crop, gray, color, flip] if grayscale_first else [crop, flip, color, gray]
    if blur > 0:
        layer = GaussianBlur(blur_kernel_size(size), seed=next(seeds))
        pipeline.append(layer if blur == 1 else RandomApply(layer, rate=blur, seed=next(seeds)))
    if solarize > 0:
        pipeline.append(RandomApply(Solarize(), rate=solarize, seed=next(seeds)))
    return pipeline


def mae_views(size, min_scale=0.2, seed=None):
    """MAE's augmentation (He et al., 2021, "Masked Autoencoders Are Scalable
    Vision Learners", https://arxiv.org/abs/2111.06377, appendix A.1): one
    view, `RandomResizedCrop(size, size, scale=(min_scale, 1))` and a
    horizontal flip, nothing else (the masking is the task's corruption).

    Args:
        size: int > 0, output side of the view.
        min_scale: smallest crop area fraction, in (0, 1]; MAE: 0.2.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with one pipeline.
    """
    return _crop_view(size, min_scale, flip=True, seed=seed)


def ijepa_views(size, min_scale=0.3, seed=None):
    """I-JEPA's augmentation (Assran et al., 2023, arXiv 2301.08243, whose
    point is to need no hand-crafted view augmentation): one view,
    `RandomResizedCrop(size, size, scale=(min_scale, 1))` only, no flip (the
    official configs: crop scale 0.3-1.0, flip, color distortion and blur
    off).

    Args:
        size: int > 0, output side of the view.
        min_scale: smallest crop area fraction, in (0, 1]; I-JEPA: 0.3.
        seed: int or None, as in `simclr_views`.

    Returns:
        A `ViewAugmenter` with one pipeline.
    """
    return _crop_view(size, min_scale, flip=False, seed=seed)


def _crop_view(size, min_scale, flip, seed):
    size = _check_size(size)
    if not 0 < min_scale <= 1:
        raise ValueError(f"`min_scale` must be in (0, 1]. Received: min_scale={min_scale}")
    seeds = _seeds(seed)
    pipeline = [RandomResizedCrop(size, size, scale=(min_scale, 1.0), seed=next(seeds))]
    if flip:
        pipeline.append(RandomFlip("horizontal", seed=next(seeds), dtype="float32"))
    return ViewAugmenter([pipeline])
