"""I-JEPA (Assran et al., 2023, "Self-Supervised Learning from Images with a
Joint-Embedding Predictive Architecture", https://arxiv.org/abs/2301.08243)."""

import math

import keras
from keras import ops

from keras_ssl import augmentation
from keras_ssl import losses
from keras_ssl.backbones.vit import vit_parts
from keras_ssl.layers.multi_block_mask import mask_indices
from keras_ssl.layers.multi_block_mask import multi_block_mask
from keras_ssl.methods.masked_modeling import MaskSeed
from keras_ssl.methods.masked_modeling import TokenPredictor
from keras_ssl.methods.masked_modeling import gather_tokens
from keras_ssl.methods.masked_modeling import preprocess
from keras_ssl.methods.momentum import MomentumModel

# The context's patch count as a fraction of the grid: the official collator
# trims every sample's context to the smallest in the batch; with the
# paper's block ranges that minimum is 0.29-0.30 of the patches at batch 128
# on 8 x 8 and 14 x 14 grids (300 simulated batches each).
CONTEXT_FRACTION = 0.3


def _max_block_area(grid, scale, aspect):
    """The largest `h * w` that `multi_block_mask`'s rounding gives for the
    scale and aspect ranges (scanned over the aspect range at the largest
    scale)."""
    area = scale[1] * grid[0] * grid[1]
    best = 1
    for i in range(1001):
        a = aspect[0] + (aspect[1] - aspect[0]) * i / 1000
        h = min(max(round(math.sqrt(area * a)), 1), grid[0])
        w = min(max(round(math.sqrt(area / a)), 1), grid[1])
        best = max(best, h * w)
    return best


@keras.saving.register_keras_serializable(package="keras_ssl")
class IJEPA(MomentumModel):
    """Image-based joint-embedding predictive architecture: from a context
    block, predict the target encoder's embeddings of several target blocks.

    Per image (`layers.multi_block_mask`): `M = num_targets` target blocks
    (scale 0.15-0.2 of the grid, aspect 0.75-1.5) and a context block (scale
    0.85-1.0, aspect 1) with the target blocks removed. The context encoder
    (the backbone's ViT on the context patches only, via
    `backbones.vit_parts`) encodes the context; a narrow ViT predictor
    (`TokenPredictor`) gets the context tokens plus one mask token with the
    position embedding of each target patch and predicts its embedding, once
    per target block; the target encoder (`target_encoder`, an EMA of the
    encoder, momentum 0.996 -> 1 on `MomentumModel`'s cosine schedule; the
    official code ramps it linearly) embeds the whole image, and its patch
    embeddings, layer-normalized (no affine), are the targets under
    `stop_gradient`. Loss: the paper's average squared L2 distance
    (`losses.ijepa_loss`).

    Static shapes (so that the step compiles once on every backend): every
    context holds `num_context_patches` patches (the official collator trims
    each to the batch's smallest; `CONTEXT_FRACTION` of the grid by default)
    and every target block `max(h * w)` slots; a smaller block repeats its
    own patches, weighted 0 in the loss (`layers.mask_indices`). The masks
    are drawn in the step with `keras.ops` (one block size per batch, as the
    official collator), so `fit` takes raw images like every method.

    The class token of the backbone passes through the context encoder and
    the predictor (a prefix without position); the targets are the patch
    tokens. The exported encoder, `model.encoder`, is the ViT on whole
    images: its class-token features.

    Recipe (`keras_ssl.recipes`, "ijepa"): AdamW (weight decay 0.04 -> 0.4), lr 1e-3 per 2048
    images with 15 warm-up epochs, cosine; augmentation
    `augmentation.ijepa_views` (random resized crop, scale 0.3-1, only).

    Args:
        backbone: a `keras_ssl.backbones.vit` network with a static input
            size.
        predictor_width: predictor token width; default the recipe's, 384
            above 64 px, 96 at <= 64 px.
        predictor_depth: predictor blocks; default the recipe's, 12 above
            64 px, 4 below.
        predictor_num_heads: predictor heads; default the backbone's, as in
            the official code.
        num_targets: target blocks per image, `M` (paper: 4).
        target_scale: `(low, high)` grid fraction of a target block.
        target_aspect: `(low, high)` height / width of a target block.
        context_scale: `(low, high)` grid fraction of the context block.
        num_context_patches: patches of every context; default
            `round(CONTEXT_FRACTION * N)`.
        momentum: `m0`, the EMA momentum at the first step (paper: 0.996).
        seed: int or None, seed of the masks.
        **kwargs: `SSLModel` arguments and `keras.Model` ones.

    Example:
    >>> backbone = keras_ssl.backbones.vit_tiny((32, 32, 3), patch_size=4)
    >>> model = keras_ssl.IJEPA(backbone)
    >>> model.compile(optimizer=keras.optimizers.AdamW(1.25e-4, weight_decay=0.04))
    >>> model.fit(images, epochs=300, batch_size=256)
    """

    min_batch_size = 1

    recipe_name = "ijepa"

    def __init__(
        self,
        backbone,
        predictor_width=None,
        predictor_depth=None,
        predictor_num_heads=None,
        num_targets=None,
        target_scale=None,
        target_aspect=None,
        context_scale=None,
        num_context_patches=None,
        momentum=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(backbone, momentum=momentum, **kwargs)
        self.vit = vit_parts(backbone)
        if self.image_size is None:
            raise ValueError(
                "IJEPA masks a fixed number of patches: give the backbone or "
                f"`input_shape=` a static size. Received: input_shape={self.image_shape}"
            )
        self.grid_size = self.vit.grid_size(self.image_shape)
        num_patches = self.grid_size[0] * self.grid_size[1]
        default = self.recipe.default
        self.num_targets = int(default("num_targets", num_targets))
        self.target_scale = tuple(float(s) for s in default("target_scale", target_scale))
        self.target_aspect = tuple(float(a) for a in default("target_aspect", target_aspect))
        self.context_scale = tuple(float(s) for s in default("context_scale", context_scale))
        self.seed = seed
        # Checks the ranges and `num_targets` (a ValueError before any state).
        multi_block_mask(1, self.grid_size, **self._mask_arguments(), seed=0)
        if num_context_patches is None:
            num_context_patches = max(1, round(CONTEXT_FRACTION * num_patches))
        if not 1 <= int(num_context_patches) <= num_patches:
            raise ValueError(
                f"`num_context_patches` must be in [1, {num_patches}] (the patches "
                f"of the grid). Received: num_context_patches={num_context_patches}"
            )
        self.num_context_patches = int(num_context_patches)
        self.num_target_slots = _max_block_area(
            self.grid_size, self.target_scale, self.target_aspect
        )
        self.predictor_width = int(default("predictor_width", predictor_width))
        self.predictor_depth = int(default("predictor_depth", predictor_depth))
        heads = self.vit.blocks[0]["attention"].num_heads if self.vit.blocks else 1
        self.predictor_num_heads = int(predictor_num_heads or heads)
        self.predictor = TokenPredictor(
            self.grid_size,
            self.vit.width,
            self.predictor_width,
            self.predictor_depth,
            self.predictor_num_heads,
            output_dim=self.vit.width,
            name="predictor",
        )
        self.predictor.build()
        self.projector = keras.Sequential(
            [keras.Input((self.feature_dim,)), keras.layers.Identity()], name="projector"
        )
        self.build_target()
        self.target_vit = vit_parts(self.target_encoder.get_layer(backbone.name))
        self.mask_seed = MaskSeed(seed, name="mask_seed")
        self.built = True

    def _mask_arguments(self):
        return dict(
            num_targets=self.num_targets,
            target_scale=self.target_scale,
            target_aspect=self.target_aspect,
            context_scale=self.context_scale,
        )

    def default_augmenter(self, image_size):
        return augmentation.ijepa_views(image_size)

    def sample_masks(self, batch_size):
        """`(context, targets)` 0/1 masks of a batch, `(B, N)` and
        `(B, M, N)` (`layers.multi_block_mask`)."""
        return multi_block_mask(
            batch_size, self.grid_size, **self._mask_arguments(), seed=self.mask_seed.generator
        )

    def forward(self, views, training):
        images = preprocess(self.encoder, views[0])
        tokens = self.vit.embed_patches(images)
        context_mask, target_masks = self.sample_masks(ops.shape(tokens)[0])
        context, _ = mask_indices(context_mask, self.num_context_patches)
        targets, weights = mask_indices(target_masks, self.num_target_slots)
        encoded = self.vit.encode(gather_tokens(tokens, context), training=training)
        # The predictor runs once per target block: the context repeated M times.
        m, slots = self.num_targets, self.num_target_slots
        predictions = self.predictor(
            ops.repeat(encoded, m, axis=0),
            ops.repeat(context, m, axis=0),
            ops.reshape(targets, (-1, slots)),
            training=training,
        )[:, self.num_context_patches :]
        return {
            "views": views,
            "features": (encoded[:, 0],),
            "predictions": ops.reshape(predictions, (-1, m, slots, self.vit.width)),
            "targets": targets,
            "weights": weights,
        }

    def target_embeddings(self, images, training=True):
        """The targets: the target encoder's patch tokens of whole images
        (raw pixels), layer-normalized without affine parameters, float32,
        under `stop_gradient`; `(B, N, width)`."""
        x = preprocess(self.encoder, images)
        tokens = self.target_vit.encode(self.target_vit.embed_patches(x), training=training)
        tokens = ops.cast(tokens[:, self.target_vit.num_prefix_tokens :], "float32")
        mean = ops.mean(tokens, axis=-1, keepdims=True)
        var = ops.var(tokens, axis=-1, keepdims=True)
        # F.layer_norm's epsilon, as the official code normalizes them.
        return ops.stop_gradient((tokens - mean) / ops.sqrt(var + 1e-5))

    def compute_ssl_loss(self, outputs, training):
        embeddings = self.target_embeddings(outputs["views"][0], training=training)
        targets = gather_tokens(embeddings, outputs["targets"])  # (B, M, T, width)
        return ops.mean(
            losses.ijepa_loss(outputs["predictions"], targets, outputs["weights"])
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            predictor_width=self.predictor_width,
            predictor_depth=self.predictor_depth,
            predictor_num_heads=self.predictor_num_heads,
            num_targets=self.num_targets,
            target_scale=self.target_scale,
            target_aspect=self.target_aspect,
            context_scale=self.context_scale,
            num_context_patches=self.num_context_patches,
            seed=self.seed,
        )
        return config
