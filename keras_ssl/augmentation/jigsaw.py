"""`Jigsaw`: PIRL's shuffled grid of patches (Misra and van der Maaten 2019,
"Self-Supervised Learning of Pretext-Invariant Representations",
https://arxiv.org/abs/1912.01991)."""

import itertools

import keras
from keras import ops

from keras_ssl.augmentation.color_jitter import ColorJitter
from keras_ssl.augmentation.flip import RandomFlip
from keras_ssl.augmentation.grayscale import RandomGrayscale
from keras_ssl.augmentation.random_apply import RandomApply
from keras_ssl.augmentation.random_resized_crop import RandomResizedCrop


@keras.saving.register_keras_serializable(package="keras_ssl")
class Jigsaw(keras.layers.Layer):
    """Cuts each image into a shuffled `grid x grid` set of augmented patches.

    Per image: a random resized crop (area `scale`) to `grid * cell_size`
    pixels, a grid of `cell_size` cells, a random `patch_size` crop inside
    each cell (so patches do not share edges), a random permutation of the
    patches, and, per patch independently, a horizontal flip, color jitter
    (0.4, 0.4, 0.4, 0.2) with probability 0.8 and grayscale with probability
    0.2. PIRL (docs/methods.md, PIRL) uses a (0.6, 1) crop to 255 px, 85 px cells and
    64 px patches; the small-image version 96 px, 32 px cells, 24 px patches
    (the defaults).

    Args:
        patch_size: side of each patch.
        cell_size: side of each grid cell, `>= patch_size`.
        grid: cells per side (3: nine patches).
        scale: area range of the initial random resized crop.
        seed: int or None; the sub-layers get `seed, seed + 1, ...`.

    Call arguments:
        images: `(B, H, W, C)` images in [0, 255].

    Returns:
        float32 `(B, grid * grid, patch_size, patch_size, C)` patches in
        [0, 255], in a random order per image.

    Example:
    >>> patches = Jigsaw()(images)  # (B, 9, 24, 24, 3)
    """

    def __init__(
        self, patch_size=24, cell_size=32, grid=3, scale=(0.6, 1.0), seed=None, **kwargs
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("patch_size", patch_size), ("cell_size", cell_size), ("grid", grid)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        if patch_size > cell_size:
            raise ValueError(
                f"`patch_size` must be <= `cell_size`. Received: patch_size="
                f"{patch_size}, cell_size={cell_size}"
            )
        self.patch_size = patch_size
        self.cell_size = cell_size
        self.grid = grid
        self.scale = tuple(scale)
        self.seed = seed
        seeds = itertools.repeat(None) if seed is None else itertools.count(seed)
        side = grid * cell_size
        self.crop = RandomResizedCrop(side, side, scale=self.scale, seed=next(seeds))
        self.patch_pipeline = [
            RandomFlip("horizontal", seed=next(seeds), dtype="float32"),
            RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.2, seed=next(seeds)), 0.8, seed=next(seeds)),
            RandomGrayscale(0.2, seed=next(seeds)),
        ]
        self.seed_generator = keras.random.SeedGenerator(next(seeds))

    def build(self, input_shape):
        # No weights of its own; the sub-layers build on their first call.
        pass

    @property
    def num_patches(self):
        return self.grid * self.grid

    def call(self, images, training=True):
        g, c, p = self.grid, self.cell_size, self.patch_size
        x = self.crop(ops.cast(images, "float32"), training=True)
        batch, channels = ops.shape(x)[0], x.shape[-1]
        cells = ops.reshape(x, (batch, g, c, g, c, channels))
        cells = ops.transpose(cells, (0, 1, 3, 2, 4, 5))
        cells = ops.reshape(cells, (batch * g * g, c * c, channels))
        # A random p x p window inside each cell, as a flat gather.
        offsets = keras.random.randint(
            (batch * g * g, 2), 0, c - p + 1, seed=self.seed_generator, dtype="int32"
        )
        steps = ops.arange(p, dtype="int32")
        rows = offsets[:, :1] + steps[None, :]
        columns = offsets[:, 1:] + steps[None, :]
        flat = ops.reshape(rows[:, :, None] * c + columns[:, None, :], (-1, p * p, 1))
        patches = ops.take_along_axis(cells, ops.repeat(flat, channels, axis=2), axis=1)
        patches = ops.reshape(patches, (batch * g * g, p, p, channels))
        for layer in self.patch_pipeline:
            patches = layer(patches, training=True)
        # A random order of the patches of each image.
        noise = keras.random.uniform((batch, g * g), seed=self.seed_generator)
        order = ops.argsort(noise, axis=1)
        patches = ops.reshape(patches, (batch, g * g, p * p * channels))
        patches = ops.take_along_axis(patches, order[:, :, None], axis=1)
        return ops.cast(ops.reshape(patches, (batch, g * g, p, p, channels)), "float32")

    def compute_output_shape(self, input_shape):
        p = self.patch_size
        return (input_shape[0], self.num_patches, p, p, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            patch_size=self.patch_size,
            cell_size=self.cell_size,
            grid=self.grid,
            scale=self.scale,
            seed=self.seed,
        )
        return config
