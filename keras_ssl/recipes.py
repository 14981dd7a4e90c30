"""Training recipes: per method and image regime, the one place defaults live.

A `Recipe` holds what a method trains with by default: its constructor's
defaults (heads, temperatures, queue sizes, momentum, ...), its augmentation
preset and its optimizer (SGD, LARS or AdamW, a base learning rate per 256
images, weight decay, linear warm-up, cosine decay). Two regimes per method:
"small" images (at most `SMALL_IMAGE_SIZE` = 64 px, the CIFAR references) and
larger ones (the papers' ImageNet recipes). The constructors read their
defaults from here, and `fit` on an uncompiled method compiles it with
`optimizer(recipe, ...)`.

Sources: docs/methods.md (per method, with the papers and their code),
the papers' repositories for ImageNet; for small images the CIFAR reference
each method's defaults follow: solo-learn's CIFAR configs (`scripts/pretrain/
cifar/*.yaml`: LARS with eta 0.02 and `clip_lr`, biases and norms excluded,
10 warm-up epochs, cosine), lightly's CIFAR-10 benchmark (SGD 0.06 per 128
images, i.e. 0.12 per 256, momentum 0.9, weight decay 5e-4, cosine, no
warm-up) or the method's own CIFAR setting. Values marked "unconfirmed" are
the unconfirmed ones of docs/methods.md; "library choice" where no source gives one.

Example:

```python
recipe = keras_ssl.recipes.get("byol", image_size=224)
recipe.model["momentum"]                       # 0.996
optimizer = keras_ssl.recipes.optimizer(recipe, batch_size=256, epochs=100, steps_per_epoch=5000)
model = keras_ssl.BYOL(backbone)               # same defaults as the recipe
model.compile(optimizer=optimizer)             # or just model.fit(...)
```
"""

import dataclasses
import types

import keras

from keras_ssl.optimizers.lars import LARS
from keras_ssl.optimizers.sgd import SGD
from keras_ssl.optimizers.warmup_cosine_decay import WarmupCosineDecay

# Methods switch to their small-image (CIFAR) recipes at or below this size.
SMALL_IMAGE_SIZE = 64

# Warm-up takes at most this fraction of training (the papers' 10 of 100
# epochs), so that short runs still spend most steps near the peak.
MAX_WARMUP_FRACTION = 0.1


def is_small(image_size):
    """Whether views of `image_size` px (None: any size) get the small-image
    recipes."""
    return image_size is not None and image_size <= SMALL_IMAGE_SIZE


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A method's defaults for one image regime.

    Attributes:
        name: the recipe's name (`NAMES`), e.g. `"moco_v2"`.
        small: whether it is the small-image (<= 64 px) regime.
        model: constructor keyword arguments and their defaults.
        augmentation: name of the `keras_ssl.augmentation` preset that makes
            the default views, called as `preset(size, **augmentation_args)`;
            None when the method builds its own (PIRL, CPC, CLIP).
        augmentation_args: keyword arguments of that preset.
        optimizer: `"sgd"` (`keras_ssl.optimizers.SGD`, weight decay added to
            the gradient as `torch.optim.SGD`), `"lars"`
            (`keras_ssl.optimizers.LARS`) or `"adamw"`
            (`keras.optimizers.AdamW`, decoupled weight decay).
        learning_rate: base learning rate per 256 images; the peak is
            `learning_rate * global_batch / 256`.
        weight_decay: the optimizer's weight decay.
        warmup_epochs: linear warm-up from 0 to the peak, in epochs ...
        warmup_steps: ... or in steps when set (CLIP). Either is capped at
            `MAX_WARMUP_FRACTION` of training.
        final_learning_rate: the cosine's end as a fraction of the peak.
        optimizer_args: other optimizer arguments (momentum, LARS's `eta` and
            `clip_lr`, AdamW's `beta_2`, `epsilon`, `clipnorm`).
        source: where the values come from.
    """

    name: str
    small: bool
    model: types.MappingProxyType
    augmentation: str
    augmentation_args: types.MappingProxyType
    optimizer: str
    learning_rate: float
    weight_decay: float
    warmup_epochs: float
    warmup_steps: int
    final_learning_rate: float
    optimizer_args: types.MappingProxyType
    source: str

    def default(self, argument, value):
        """`value`, or the recipe's default for the constructor `argument`
        when `value` is None."""
        return self.model[argument] if value is None else value


# Optimizers. LARS as the papers' repositories (eta 0.001, biases and norms
# without decay or adaptation); LARS as solo-learn's CIFAR configs (eta 0.02,
# trust ratio clipped to the global learning rate); momentum SGD; AdamW.
_LARS = dict(optimizer="lars", optimizer_args=dict(momentum=0.9, eta=0.001))
_LARS_CIFAR = dict(optimizer="lars", optimizer_args=dict(momentum=0.9, eta=0.02, clip_lr=True))
_SGD = dict(optimizer="sgd", optimizer_args=dict(momentum=0.9))
_ADAMW = dict(optimizer="adamw", optimizer_args={})
# lightly's CIFAR-10 benchmark: SGD 0.06 x batch / 128, weight decay 5e-4,
# cosine over the epochs, no warm-up (docs/methods.md, CIFAR-10 references).
_LIGHTLY_CIFAR = dict(_SGD, learning_rate=0.12, weight_decay=5e-4)

_BYOL_HEADS = dict(projection_dims=(4096, 256), prediction_dims=(4096, 256), momentum=0.996)
_MOCO_V3_HEADS = dict(projection_dims=(4096, 256), prediction_dims=(4096, 256), momentum=0.99)
_SWAV = dict(
    projection_dims=(2048, 128),
    num_prototypes=3000,
    temperature=0.1,
    epsilon=0.05,
    sinkhorn_iterations=3,
    freeze_prototypes_epochs=1,
    queue_size=0,
    queue_start_epoch=15,
)
_DINO = dict(
    projection_dims=(2048, 2048, 256),
    norm_last_layer=True,
    student_temperature=0.1,
    teacher_temperature=0.07,
    warmup_teacher_temperature=0.04,
    warmup_teacher_temperature_epochs=30,
    center_momentum=0.9,
    momentum=0.996,
    freeze_prototypes_epochs=1,
    num_global_crops=2,
)
_NNCLR = dict(projection_dims=(2048, 2048, 256), prediction_dims=(4096, 256), temperature=0.1)
_VICREG = dict(invariance_weight=25.0, variance_weight=25.0, covariance_weight=1.0)
_PIRL = dict(embedding_dim=128, temperature=0.07, jigsaw_weight=0.5, objective="nce")
_PIRL_OPTIMIZER = dict(_SGD, learning_rate=0.03, weight_decay=1e-4, final_learning_rate=0.001)
_CPC = dict(
    context_width=256, context_blocks=3, target_dim=64, offsets=(1, 2, 3), prediction_scale=0.1
)
_CPC_OPTIMIZER = dict(_ADAMW, learning_rate=2e-4, weight_decay=0.0)
_CLIP_OPTIMIZER = dict(
    optimizer="adamw",
    learning_rate=5e-4,
    weight_decay=0.2,
    warmup_steps=2000,
    optimizer_args=dict(beta_2=0.98, epsilon=1e-6),
)
_SIAMESE = dict(embedding_dim=128, margin=1.0, num_negatives=1, q=10.0)
_SIAMESE_OPTIMIZER = dict(_ADAMW, learning_rate=1e-3, weight_decay=0.0)

# name -> (larger images, small images). Heads whose width is the backbone's
# (SimCLR, SupCon: D -> D -> 128; MoCo v2: D -> D -> 128) are sized by the
# constructors from the backbone.
_TABLE = {
    "simclr": (
        dict(
            _LARS,
            model=dict(temperature=0.1),
            augmentation="simclr_views",
            learning_rate=0.3,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="SimCLR paper and TF repo, ImageNet (docs/methods.md, SimCLR)",
        ),
        dict(
            _LARS,
            model=dict(temperature=0.5),
            augmentation="simclr_views",
            learning_rate=1.0,
            weight_decay=1e-4,
            warmup_epochs=10,
            source="SimCLR repo README, CIFAR-10 (lr 1.0 per 256, wd 1e-4, T 0.5; "
            "the repo's LARS and 10 warm-up epochs)",
        ),
    ),
    "moco_v1": (
        dict(
            _SGD,
            model=dict(projection_dims=(128,), queue_size=65536, temperature=0.07, momentum=0.999),
            augmentation="moco_v1_views",
            learning_rate=0.03,
            weight_decay=1e-4,
            source="MoCo repo (docs/methods.md, MoCo); cosine instead of its steps at "
            "epochs 120 and 160, as MoCo v2",
        ),
        dict(
            _LIGHTLY_CIFAR,
            model=dict(projection_dims=(128,), queue_size=4096, temperature=0.1, momentum=0.99),
            augmentation="moco_v1_views",
            source="MoCo CIFAR-10 demo and lightly's CIFAR-10 benchmark",
        ),
    ),
    "moco_v2": (
        dict(
            _SGD,
            model=dict(queue_size=65536, temperature=0.2, momentum=0.999),
            augmentation="moco_v2_views",
            learning_rate=0.03,
            weight_decay=1e-4,
            source="MoCo v2 paper and repo (docs/methods.md, MoCo)",
        ),
        dict(
            _LIGHTLY_CIFAR,
            model=dict(queue_size=4096, temperature=0.1, momentum=0.99),
            augmentation="moco_v2_views",
            source="MoCo CIFAR-10 demo and lightly's CIFAR-10 benchmark",
        ),
    ),
    "moco_v3": (
        dict(
            _LARS,
            model=dict(_MOCO_V3_HEADS, temperature=1.0),
            augmentation="byol_views",
            augmentation_args=dict(min_scale=0.2),
            learning_rate=0.6,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="MoCo v3 repo, ResNet-50, 100 epochs (docs/methods.md, MoCo)",
        ),
        dict(
            _LARS_CIFAR,
            model=dict(_MOCO_V3_HEADS, temperature=0.2),
            augmentation="byol_views",
            augmentation_args=dict(min_scale=0.2),
            learning_rate=0.3,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="solo-learn CIFAR (docs/methods.md, MoCo)",
        ),
    ),
    # MoCo v3 with a ViT backbone (`MoCo` picks it when the backbone has
    # attention layers); no CIFAR reference: the same in both regimes.
    "moco_v3_vit": tuple(
        dict(
            _ADAMW,
            # The official ViT projector has three layers, BN in each.
            model=dict(_MOCO_V3_HEADS, projection_dims=(4096, 4096, 256), temperature=0.2),
            augmentation="byol_views",
            augmentation_args=dict(min_scale=0.08),
            learning_rate=1.5e-4,
            weight_decay=0.1,
            warmup_epochs=40,
            source="MoCo v3 repo, ViT-S/B (docs/methods.md, MoCo)",
        )
        for _ in range(2)
    ),
    "byol": (
        dict(
            _LARS,
            model=_BYOL_HEADS,
            augmentation="byol_views",
            learning_rate=0.2,
            weight_decay=1.5e-6,
            warmup_epochs=10,
            source="BYOL repo, 1000-epoch preset (docs/methods.md, BYOL)",
        ),
        dict(
            _LARS_CIFAR,
            model=_BYOL_HEADS,
            augmentation="byol_views",
            learning_rate=1.0,
            weight_decay=1e-5,
            warmup_epochs=10,
            source="solo-learn CIFAR optimizer (docs/methods.md, BYOL); momentum 0.996 "
            "as the paper (solo-learn: 0.99)",
        ),
    ),
    "simsiam": (
        dict(
            _SGD,
            model=dict(projection_dims=(2048, 2048, 2048), fix_predictor_lr=True),
            augmentation="moco_v2_views",
            learning_rate=0.05,
            weight_decay=1e-4,
            source="SimSiam repo, ImageNet (docs/methods.md, SimSiam)",
        ),
        dict(
            _SGD,
            model=dict(projection_dims=(2048, 2048), fix_predictor_lr=True),
            augmentation="moco_v2_views",
            learning_rate=0.03,
            weight_decay=5e-4,
            source="SimSiam paper appendix, CIFAR-10 (docs/methods.md, SimSiam, unconfirmed)",
        ),
    ),
    "swav": (
        dict(
            _LARS,
            model=_SWAV,
            augmentation="swav_multicrop",
            augmentation_args=dict(num_local=6),
            learning_rate=0.3,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="SwAV repo at batch 4096: lr 4.8 = 0.3 per 256, LARC (docs/methods.md, SwAV)",
        ),
        dict(
            _LARS_CIFAR,
            model=_SWAV,
            augmentation="swav_multicrop",
            augmentation_args=dict(num_local=0),
            learning_rate=0.6,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="solo-learn CIFAR optimizer; 2 crops as solo-learn and lightly (docs/methods.md, SwAV)",
        ),
    ),
    "dino": (
        dict(
            optimizer="adamw",
            optimizer_args=dict(clipnorm=3.0),
            model=dict(_DINO, num_prototypes=65536),
            augmentation="dino_multicrop",
            learning_rate=5e-4,
            weight_decay=0.04,
            warmup_epochs=10,
            source="DINO repo, ViT-S/16 (docs/methods.md, DINO); weight decay constant at "
            "its start (repo: cosine 0.04 -> 0.4), per-weight gradient clip 3.0",
        ),
        dict(
            _LARS_CIFAR,
            model=dict(_DINO, num_prototypes=4096),
            augmentation="dino_multicrop",
            learning_rate=0.3,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="solo-learn CIFAR (docs/methods.md, DINO)",
        ),
    ),
    "barlow_twins": (
        dict(
            _LARS,
            model=dict(projection_dims=(8192, 8192, 8192), lambda_=0.0051, scale_loss=1.0),
            augmentation="byol_views",
            learning_rate=0.2,
            weight_decay=1.5e-6,
            warmup_epochs=10,
            final_learning_rate=0.001,
            source="Barlow Twins repo (docs/methods.md, Barlow Twins; its biases' lr 0.0048 not separate)",
        ),
        dict(
            _LARS_CIFAR,
            model=dict(projection_dims=(2048, 2048, 2048), lambda_=0.0051, scale_loss=1.0),
            augmentation="byol_views",
            learning_rate=0.3,
            weight_decay=1e-4,
            warmup_epochs=10,
            source="solo-learn CIFAR (docs/methods.md, Barlow Twins; its loss x 0.1 is `scale_loss`)",
        ),
    ),
    "vicreg": (
        dict(
            _LARS,
            model=dict(_VICREG, projection_dims=(8192, 8192, 8192)),
            augmentation="byol_views",
            learning_rate=0.2,
            weight_decay=1e-6,
            warmup_epochs=10,
            final_learning_rate=0.001,
            source="VICReg repo (docs/methods.md, VICReg)",
        ),
        dict(
            _LARS_CIFAR,
            model=dict(_VICREG, projection_dims=(2048, 2048, 2048)),
            augmentation="byol_views",
            learning_rate=0.3,
            weight_decay=1e-4,
            warmup_epochs=10,
            source="solo-learn CIFAR (docs/methods.md, VICReg)",
        ),
    ),
    "nnclr": (
        dict(
            _LARS,
            model=dict(_NNCLR, queue_size=98304),
            augmentation="byol_views",
            learning_rate=0.3,
            weight_decay=1e-6,
            warmup_epochs=10,
            source="NNCLR paper (docs/methods.md, NNCLR, unconfirmed)",
        ),
        dict(
            _LARS_CIFAR,
            model=dict(_NNCLR, queue_size=65536),
            augmentation="byol_views",
            learning_rate=0.4,
            weight_decay=1e-5,
            warmup_epochs=10,
            source="solo-learn CIFAR (docs/methods.md, NNCLR); temperature 0.1 as the "
            "paper (solo-learn: 0.2)",
        ),
    ),
    "supcon": tuple(
        dict(
            _SGD,
            model=dict(temperature=0.1),
            augmentation="simclr_views",
            learning_rate=0.125,
            weight_decay=1e-4,
            warmup_epochs=10,
            source="SupCon repo, CIFAR: lr 0.5 at batch 1024 = 0.125 per 256, its "
            "10 warm-up epochs above batch 256 (docs/methods.md, SupCon)",
        )
        for _ in range(2)
    ),
    "siamese": tuple(
        dict(
            _SIAMESE_OPTIMIZER,
            model=_SIAMESE,
            augmentation="simclr_views",
            source="docs/methods.md, SiameseContrastive (margin); optimizer a library choice",
        )
        for _ in range(2)
    ),
    "pirl": (
        dict(
            _PIRL_OPTIMIZER,
            model=dict(_PIRL, num_negatives=32000),
            augmentation="pirl_views",
            source="PIRL paper and VISSL (docs/methods.md, PIRL)",
        ),
        dict(
            _PIRL_OPTIMIZER,
            model=dict(_PIRL, num_negatives=4096),
            augmentation="pirl_views",
            source="docs/methods.md, PIRL, small-image version (library choice)",
        ),
    ),
    "cpc": tuple(
        dict(
            _CPC_OPTIMIZER,
            model=_CPC,
            augmentation="cpc_views",
            source="docs/methods.md, CPC, small-image version; Adam 2e-4 as CPC v1 "
            "(unconfirmed), per 256 images",
        )
        for _ in range(2)
    ),
    "clip": tuple(
        dict(
            _CLIP_OPTIMIZER,
            model=dict(embedding_dim=512),
            augmentation="clip_views",
            source="CLIP paper (docs/methods.md, CLIP, unconfirmed except the scale): "
            "AdamW 5e-4 (taken per 256 images), wd 0.2, 2000 warm-up steps",
        )
        for _ in range(2)
    ),
    # MAE (He et al. 2021, appendix A.1): AdamW betas (0.9, 0.95), wd 0.05,
    # 1.5e-4 per 256 images, 40 warm-up epochs, cosine; crop and flip only;
    # mask ratio 0.75. Decoder (width, depth, heads): the paper's at 224 px
    # (table 1: 512 wide, 8 blocks; 16 heads in the official code), and at
    # <= 64 px IcarusWizard/MAE's CIFAR-10 recipe (192 wide, 4 blocks, 3
    # heads, under a ViT-Tiny encoder at 32 px).
    "mae": tuple(
        dict(
            _ADAMW,
            optimizer_args=dict(beta_2=0.95),
            model=dict(
                mask_ratio=0.75, decoder_width=width, decoder_depth=depth, decoder_num_heads=heads
            ),
            augmentation="mae_views",
            learning_rate=1.5e-4,
            weight_decay=0.05,
            warmup_epochs=40,
            source="MAE paper, appendix A.1; decoder <= 64 px: IcarusWizard/MAE",
        )
        for width, depth, heads in ((512, 8, 16), (192, 4, 3))
    ),
    # I-JEPA (Assran et al. 2023, appendix A): AdamW, 1e-3 per 2048 images,
    # 15 warm-up epochs, cosine; weight decay 0.04 (the paper ramps it to 0.4);
    # EMA 0.996 -> 1; 4 target blocks of scale 0.15-0.2 and aspect 0.75-1.5,
    # a context of scale 0.85-1 (section 3). Predictor (width, depth): the
    # paper's (section 4 and its configs: 384 wide, 12 blocks), and at <= 64 px
    # half the ViT-Tiny width and 4 blocks, a choice of ours for CIFAR-sized
    # runs (no published CIFAR recipe).
    "ijepa": tuple(
        dict(
            _ADAMW,
            model=dict(
                momentum=0.996,
                num_targets=4,
                target_scale=(0.15, 0.2),
                target_aspect=(0.75, 1.5),
                context_scale=(0.85, 1.0),
                predictor_width=width,
                predictor_depth=depth,
            ),
            augmentation="ijepa_views",
            learning_rate=1e-3 * 256 / 2048,
            weight_decay=0.04,
            warmup_epochs=15,
            source="I-JEPA paper, appendix A and section 3 (weight decay kept at its "
            "start); predictor <= 64 px a library choice",
        )
        for width, depth in ((384, 12), (96, 4))
    ),
}
# RAFT trains with BYOL's heads, optimizer and augmentation (docs/methods.md, RAFT).
_TABLE["raft"] = tuple(
    dict(entry, model=dict(entry["model"], alpha=1.0, beta=1.0), source="BYOL: " + entry["source"])
    for entry in _TABLE["byol"]
)

NAMES = tuple(sorted(_TABLE))

# Recipe name -> (its `keras_ssl` class, the constructor arguments that pick
# it). `moco_v3_vit` is MoCo v3 on a backbone with attention layers.
METHODS = {
    "barlow_twins": ("BarlowTwins", {}),
    "byol": ("BYOL", {}),
    "clip": ("CLIP", {}),
    "cpc": ("CPC", {}),
    "dino": ("DINO", {}),
    "ijepa": ("IJEPA", {}),
    "mae": ("MAE", {}),
    "moco_v1": ("MoCo", {"version": 1}),
    "moco_v2": ("MoCo", {"version": 2}),
    "moco_v3": ("MoCo", {"version": 3}),
    "moco_v3_vit": ("MoCo", {"version": 3}),
    "nnclr": ("NNCLR", {}),
    "pirl": ("PIRL", {}),
    "raft": ("RAFT", {}),
    "siamese": ("SiameseContrastive", {}),
    "simclr": ("SimCLR", {}),
    "simsiam": ("SimSiam", {}),
    "supcon": ("SupCon", {}),
    "swav": ("SwAV", {}),
    "vicreg": ("VICReg", {}),
}


def _recipe(name, small, entry):
    entry = dict(entry)
    freeze = types.MappingProxyType
    return Recipe(
        name=name,
        small=small,
        model=freeze(dict(entry.pop("model"))),
        augmentation=entry.pop("augmentation", None),
        augmentation_args=freeze(dict(entry.pop("augmentation_args", {}))),
        optimizer_args=freeze(dict(entry.pop("optimizer_args"))),
        warmup_epochs=entry.pop("warmup_epochs", 0),
        warmup_steps=entry.pop("warmup_steps", None),
        final_learning_rate=entry.pop("final_learning_rate", 0.0),
        **entry,
    )


_RECIPES = {
    (name, small): _recipe(name, small, entry)
    for name, entries in _TABLE.items()
    for small, entry in zip((False, True), entries)
}


def get(name, image_size):
    """The `Recipe` of method `name` (one of `NAMES`) for views of
    `image_size` px (None: a backbone of any size, the larger regime)."""
    if name not in _TABLE:
        raise ValueError(f"No recipe named {name!r}. Recipes: {', '.join(NAMES)}.")
    return _RECIPES[name, is_small(image_size)]


def peak_learning_rate(recipe, batch_size):
    """`recipe.learning_rate * batch_size / 256` (linear scaling, docs/methods.md, Conventions)."""
    return recipe.learning_rate * batch_size / 256


def warmup_steps(recipe, epochs, steps_per_epoch):
    """The recipe's warm-up in steps, at most `MAX_WARMUP_FRACTION` of the
    `epochs * steps_per_epoch` steps of training."""
    steps = recipe.warmup_steps
    if steps is None:
        steps = round(recipe.warmup_epochs * steps_per_epoch)
    return min(steps, int(MAX_WARMUP_FRACTION * epochs * steps_per_epoch))


def schedule(recipe, batch_size, epochs, steps_per_epoch):
    """The learning rate: linear warm-up from 0 to the peak, then cosine to
    `final_learning_rate * peak` at the end of training
    (`keras_ssl.optimizers.WarmupCosineDecay`, Keras's `CosineDecay`
    without a conditional)."""
    total = epochs * steps_per_epoch
    if total < 1:
        raise ValueError(
            "The schedule needs at least one step. Received: "
            f"epochs={epochs}, steps_per_epoch={steps_per_epoch}"
        )
    warmup = warmup_steps(recipe, epochs, steps_per_epoch)
    return WarmupCosineDecay(
        initial_learning_rate=0.0,
        decay_steps=total - warmup,
        alpha=recipe.final_learning_rate,
        warmup_target=peak_learning_rate(recipe, batch_size),
        warmup_steps=warmup,
    )


def optimizer(recipe, batch_size, epochs, steps_per_epoch):
    """The recipe's optimizer for `epochs` of `steps_per_epoch` steps on
    global batches of `batch_size` images (see `schedule`)."""
    learning_rate = schedule(recipe, batch_size, epochs, steps_per_epoch)
    args = dict(recipe.optimizer_args, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return SGD(learning_rate, **args)
    if recipe.optimizer == "lars":
        return LARS(learning_rate, **args)
    return keras.optimizers.AdamW(learning_rate, **args)


def describe(recipe, batch_size, epochs, steps_per_epoch):
    """One line: the optimizer, learning rates, weight decay and schedule
    that `optimizer` builds for these arguments."""
    warmup = warmup_steps(recipe, epochs, steps_per_epoch)
    peak = peak_learning_rate(recipe, batch_size)
    end = f"{recipe.final_learning_rate:g} x peak" if recipe.final_learning_rate else "0"
    regime = f"<= {SMALL_IMAGE_SIZE}" if recipe.small else f"> {SMALL_IMAGE_SIZE}"
    args = ", ".join(f"{k}={v}" for k, v in recipe.optimizer_args.items())
    return (
        f"recipe {recipe.name!r} (images {regime} px): {_OPTIMIZER_NAMES[recipe.optimizer]}"
        f"({args}), base lr {recipe.learning_rate:g} per 256 images -> peak {peak:.4g} at "
        f"global batch {batch_size}, weight decay {recipe.weight_decay:g}, warm-up {warmup} "
        f"steps, cosine to {end} over {epochs * steps_per_epoch} steps ({epochs} epoch(s) x "
        f"{steps_per_epoch}). compile(optimizer=...) before fit chooses another."
    )


_OPTIMIZER_NAMES = {"sgd": "SGD", "lars": "LARS", "adamw": "AdamW"}
