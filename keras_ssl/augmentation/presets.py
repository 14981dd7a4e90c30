import itertools
import numbers

import keras

from keras_ssl.augmentation.color_jitter import ColorJitter
from keras_ssl.augmentation.gaussian_blur import GaussianBlur
from keras_ssl.augmentation.gaussian_blur import blur_kernel_size
from keras_ssl.augmentation.grayscale import RandomGrayscale
from keras_ssl.augmentation.random_apply import RandomApply
from keras_ssl.augmentation.random_resized_crop import RandomResizedCrop
from keras_ssl.augmentation.view_augmenter import ViewAugmenter


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
    if not isinstance(size, numbers.Integral) or size <= 0:
        raise ValueError(
            f"`size` must be a positive int. Received: size={size!r}"
        )
    if not isinstance(num_views, numbers.Integral) or num_views < 1:
        raise ValueError(
            "`num_views` must be an int >= 1. "
            f"Received: num_views={num_views!r}"
        )
    size = int(size)
    if cifar is None:
        cifar = size <= 64
    if strength is None:
        strength = 0.5 if cifar else 1.0
    if strength < 0:
        raise ValueError(
            f"`strength` must be >= 0. Received: strength={strength}"
        )
    if blur is None:
        blur = not cifar

    if seed is None:
        seeds = itertools.repeat(None)
    else:
        seeds = itertools.count(seed)
    pipelines = []
    for _ in range(num_views):
        pipeline = [
            RandomResizedCrop(size, size, scale=(0.08, 1.0), seed=next(seeds)),
            keras.layers.RandomFlip(
                "horizontal", seed=next(seeds), dtype="float32"
            ),
            RandomApply(
                ColorJitter(
                    0.8 * strength,
                    0.8 * strength,
                    0.8 * strength,
                    0.2 * strength,
                    seed=next(seeds),
                ),
                rate=0.8,
                seed=next(seeds),
            ),
            RandomGrayscale(0.2, seed=next(seeds)),
        ]
        if blur:
            pipeline.append(
                RandomApply(
                    GaussianBlur(blur_kernel_size(size), seed=next(seeds)),
                    rate=0.5,
                    seed=next(seeds),
                )
            )
        pipelines.append(pipeline)
    return ViewAugmenter(pipelines)
