"""Every method at toy size, with fixed pre-made inputs: the registry of the
cross-backend, mixed-precision and DataParallel checks.

`build(name)` returns a compiled model (SGD, seed 1) and `batch(model, name)`
a deterministic `(x, y)` batch. No random op runs in the step: the views are
given, CLIP's augmenter is the identity, PIRL's is `FixedJigsaw` and its
negatives come from `fixed_negatives`, MAE's and I-JEPA's masks from
`fixed_mask` and `fixed_blocks` (the same for every sample, so that a
replica's share of a batch gets the masks one device gives it).
"""

import keras
import numpy as np
from keras import ops

import keras_ssl
from keras_ssl import augmentation

SIZE, BATCH = 16, 8


def backbone():
    return keras_ssl.backbones.small_cnn((None, None, 3))


def patch_encoder():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = keras.layers.LayerNormalization()(x)
    x = keras.layers.ReLU()(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


@keras.saving.register_keras_serializable(package="tests")
class FixedJigsaw(augmentation.Jigsaw):
    """The top-left `3 cell_size` square cut into 9 patches in raster order."""

    def call(self, images, training=True):
        size, cells = self.patch_size, self.grid
        x = ops.cast(images[:, : cells * size, : cells * size], "float32")
        x = ops.reshape(x, (-1, cells, size, cells, size, x.shape[-1]))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, cells * cells, size, size, x.shape[-1]))


def tiny_vit():
    return keras_ssl.backbones.vit((SIZE, SIZE, 3), patch_size=4, width=16, depth=1, num_heads=2)


def multicrop():
    return augmentation.swav_multicrop(SIZE, num_local=2, local_size=8)


SHAPE = dict(input_shape=(SIZE, SIZE, 3))
METHODS = {
    "simclr": lambda: keras_ssl.SimCLR(backbone(), projection_dims=(16, 8), **SHAPE),
    "moco_v1": lambda: keras_ssl.MoCo(backbone(), version=1, queue_size=32, **SHAPE),
    "moco_v2": lambda: keras_ssl.MoCo(
        backbone(), version=2, projection_dims=(16, 8), queue_size=32, **SHAPE
    ),
    "moco_v3": lambda: keras_ssl.MoCo(
        backbone(), version=3, projection_dims=(16, 8), prediction_dims=(16, 8), **SHAPE
    ),
    "byol": lambda: keras_ssl.BYOL(
        backbone(), projection_dims=(16, 8), prediction_dims=(16, 8), **SHAPE
    ),
    "raft": lambda: keras_ssl.RAFT(
        backbone(), projection_dims=(16, 8), prediction_dims=(16, 8), **SHAPE
    ),
    "simsiam": lambda: keras_ssl.SimSiam(
        backbone(), projection_dims=(16, 16), prediction_dims=(8, 16), **SHAPE
    ),
    "swav": lambda: keras_ssl.SwAV(
        backbone(), projection_dims=(16, 8), num_prototypes=10, augmenter=multicrop(), **SHAPE
    ),
    "dino": lambda: keras_ssl.DINO(
        backbone(), projection_dims=(16, 16, 8), num_prototypes=20, augmenter=multicrop(),
        **SHAPE,
    ),
    "barlow_twins": lambda: keras_ssl.BarlowTwins(backbone(), projection_dims=(16, 16), **SHAPE),
    # 32 hidden units: with 16, a near-constant output dimension puts the variance
    # hinge where sqrt(var + 1e-4) curves hardest (second derivative 2.5e5), and
    # float32 rounding (TF vs JAX, 4e-7 in the weights) splits the runs by step 3.
    "vicreg": lambda: keras_ssl.VICReg(backbone(), projection_dims=(32, 16), **SHAPE),
    "nnclr": lambda: keras_ssl.NNCLR(
        backbone(), projection_dims=(16, 8), prediction_dims=(16, 8), queue_size=32, **SHAPE
    ),
    "supcon": lambda: keras_ssl.SupCon(backbone(), projection_dims=(16, 8), **SHAPE),
    "siamese": lambda: keras_ssl.SiameseContrastive(backbone(), embedding_dim=8, **SHAPE),
    "clip": lambda: keras_ssl.CLIP(
        backbone(),
        keras_ssl.backbones.text_transformer(20, 6, width=16, num_layers=1, num_heads=2),
        embedding_dim=8,
        augmenter=augmentation.ViewAugmenter([[keras.layers.Identity()]]),
        **SHAPE,
    ),
    # Patches of 5 px: at 4 px the last conv of `small_cnn` (3 x 3, stride 2)
    # sees a 1 x 1 map, and under mixed_bfloat16 oneDNN's gradient of its
    # kernel came out non-finite in 90 of 300 traced steps (benchmarks/LOG.md).
    "pirl": lambda: keras_ssl.PIRL(
        backbone(),
        num_items=32,
        embedding_dim=8,
        num_negatives=16,
        augmenter=augmentation.ViewAugmenter([[keras.layers.Identity()], [FixedJigsaw(patch_size=5, cell_size=5)]]),
        **SHAPE,
    ),
    "mae": lambda: keras_ssl.MAE(
        tiny_vit(), decoder_width=16, decoder_depth=1, decoder_num_heads=2
    ),
    "ijepa": lambda: keras_ssl.IJEPA(tiny_vit(), predictor_width=8, predictor_depth=1),
    "cpc": lambda: keras_ssl.CPC(
        patch_encoder(), input_shape=(32, 32, 3), context_width=8, context_blocks=1, target_dim=8
    ),
}


def build(name, learning_rate=0.01, steps_per_execution=1, fixed_sampling=True):
    """A compiled model of the registry. With `fixed_sampling`, PIRL's
    negatives and MAE's and I-JEPA's masks draw no random numbers (a run
    on TensorFlow equals one on JAX); without it they come from the
    method's own seeded sampling."""
    keras.utils.set_random_seed(1)
    model = METHODS[name]()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
        steps_per_execution=steps_per_execution,
    )
    if not fixed_sampling:
        return model
    if name == "pirl":
        model.memory_bank.sample = fixed_negatives(model.memory_bank)
    if name == "mae":
        model.sample_mask = fixed_mask(model)
    if name == "ijepa":
        model.sample_masks = fixed_blocks(model)
    return model


def fixed_mask(model):
    """A `MAE.sample_mask` that draws no random numbers: one fixed
    permutation of the patches for every sample."""
    order = np.random.default_rng(0).permutation(model.num_patches).astype("int32")

    def sample_mask(batch_size):
        order_ = ops.broadcast_to(ops.convert_to_tensor(order)[None], (batch_size, len(order)))
        return order_[:, : model.num_visible], order_[:, model.num_visible :]

    return sample_mask


def fixed_blocks(model):
    """An `IJEPA.sample_masks` that draws no random numbers: on the 4 x 4
    grid, target blocks of 1 x 2 patches at fixed places (one pair twice,
    so that a block shares patches with another), the context the rest."""
    rows, cols = model.grid_size
    targets = np.zeros((model.num_targets, rows, cols), "float32")
    for i, (top, left) in enumerate([(0, 0), (1, 2), (3, 1), (0, 0)][: model.num_targets]):
        targets[i, top, left : left + 2] = 1.0
    context = 1.0 - targets.max(axis=0)
    targets = targets.reshape(model.num_targets, -1)

    def sample_masks(batch_size):
        return (
            ops.broadcast_to(ops.convert_to_tensor(context.reshape(-1))[None], (batch_size, rows * cols)),
            ops.broadcast_to(ops.convert_to_tensor(targets)[None], (batch_size, *targets.shape)),
        )

    return sample_masks


def fixed_negatives(bank):
    """A `MemoryBank.sample` that draws no random numbers: rows 0, 1, ..."""

    def sample(num, seed=None):
        return keras.ops.arange(num, dtype="int32") % bank.num_items

    return sample


def batch(model, name, seed=0):
    """`(x, y)`: pre-made views (and labels, tokens, indices) for one step."""
    rng = np.random.default_rng(seed)

    def images(h, w):
        return rng.uniform(0, 255, (BATCH, h, w, 3)).astype("float32")

    labels = rng.integers(0, 3, BATCH).astype("int32")
    if name == "clip":
        tokens = rng.integers(1, 20, (BATCH, 6)).astype("int32")
        return {"images": images(SIZE, SIZE), "tokens": tokens}, None
    if name == "pirl":
        index = rng.permutation(32)[:BATCH].astype("int32")
        return {"images": images(SIZE, SIZE), "index": index}, None
    views = tuple(images(h, w) for h, w in model.augmenter.output_sizes)
    return views, (labels if name == "supcon" else None)


def batches(model, name, count):
    """`(x, y)`: `count` batches of `batch` in one, for `batch_size=BATCH`."""
    parts = [batch(model, name, seed) for seed in range(count)]
    x = keras.tree.map_structure(lambda *a: np.concatenate(a), *[p[0] for p in parts])
    y = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
    return x, y
