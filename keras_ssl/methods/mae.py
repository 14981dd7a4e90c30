"""MAE (He et al., 2021, "Masked Autoencoders Are Scalable Vision Learners",
https://arxiv.org/abs/2111.06377)."""

import keras
from keras import ops

from keras_ssl import augmentation
from keras_ssl import losses
from keras_ssl.backbones.vit import vit_parts
from keras_ssl.layers.random_masking import num_visible_patches
from keras_ssl.layers.random_masking import random_masking
from keras_ssl.methods.base import SSLModel
from keras_ssl.methods.masked_modeling import MaskSeed
from keras_ssl.methods.masked_modeling import TokenPredictor
from keras_ssl.methods.masked_modeling import gather_tokens
from keras_ssl.methods.masked_modeling import preprocess

@keras.saving.register_keras_serializable(package="keras_ssl")
class MAE(SSLModel):
    """Masked autoencoder: reconstruct the pixels of randomly masked patches.

    Per image, a random `mask_ratio` of the ViT's patches is masked (each
    sample its own subset, `layers.random_masking`); the encoder (the
    backbone's patch projection, position embedding, class token, blocks and
    final norm, via `backbones.vit_parts`) sees only the visible patches; a
    lightweight decoder (`TokenPredictor`: mask tokens and fixed 2-D sin-cos
    position embeddings) predicts the pixels of every patch; the loss is the
    mean squared error on the masked patches only, against per-patch
    normalized pixels (`losses.mae_loss`, `norm_pix_loss=True`). The targets
    are the patches of the view the encoder gets (after the method's input
    normalization), as the paper's code uses its normalized images.

    The exported encoder, `model.encoder`, is the ViT on whole images (no
    masking): its class-token features. `outputs["features"]` in training
    (for the online probe) are the class token of the masked image.

    Recipe (`keras_ssl.recipes`, "mae"; the paper's appendix A.1): AdamW, betas (0.9, 0.95),
    weight decay 0.05, lr 1.5e-4 x batch / 256, 40 warm-up epochs, cosine
    decay; augmentation `augmentation.mae_views` (random resized crop with
    scale 0.2-1 and flip only). Decoder: 512 wide, 8 blocks, 16 heads above
    64 px (the paper's); at <= 64 px 192 wide, 4 blocks, 3 heads
    (IcarusWizard/MAE's CIFAR-10 recipe).

    Args:
        backbone: a `keras_ssl.backbones.vit` network with a static input
            size (e.g. `vit_tiny((32, 32, 3), patch_size=4)`).
        mask_ratio: fraction of the patches masked, in [0, 1); default the
            recipe's, the paper's 0.75.
        decoder_width: decoder token width; default the recipe's for the
            image size (above).
        decoder_depth: decoder blocks; default the recipe's.
        decoder_num_heads: decoder attention heads; default the recipe's.
        norm_pix_loss: normalize each target patch by its mean and standard
            deviation (the paper's default).
        seed: int or None, seed of the masks.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones.

    Example:
    >>> backbone = keras_ssl.backbones.vit_tiny((32, 32, 3), patch_size=4)
    >>> model = keras_ssl.MAE(backbone)
    >>> model.compile(optimizer=keras.optimizers.AdamW(
    ...     1.5e-4 * 256 / 256, beta_2=0.95, weight_decay=0.05))
    >>> model.fit(images, epochs=800, batch_size=256)
    """

    min_batch_size = 1

    recipe_name = "mae"

    def __init__(
        self,
        backbone,
        mask_ratio=None,
        decoder_width=None,
        decoder_depth=None,
        decoder_num_heads=None,
        norm_pix_loss=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        self.vit = vit_parts(backbone)
        if self.image_size is None:
            raise ValueError(
                "MAE masks a fixed number of patches: give the backbone or "
                f"`input_shape=` a static size. Received: input_shape={self.image_shape}"
            )
        default = self.recipe.default
        mask_ratio = default("mask_ratio", mask_ratio)
        grid = self.vit.grid_size(self.image_shape)
        self.num_patches = grid[0] * grid[1]
        self.num_visible = num_visible_patches(self.num_patches, mask_ratio)
        self.mask_ratio = float(mask_ratio)
        self.decoder_width = int(default("decoder_width", decoder_width))
        self.decoder_depth = int(default("decoder_depth", decoder_depth))
        self.decoder_num_heads = int(default("decoder_num_heads", decoder_num_heads))
        self.norm_pix_loss = bool(norm_pix_loss)
        self.seed = seed
        patch_pixels = self.vit.patch_size**2 * self.image_shape[-1]
        self.decoder = TokenPredictor(
            grid,
            self.vit.width,
            self.decoder_width,
            self.decoder_depth,
            self.decoder_num_heads,
            output_dim=patch_pixels,
            name="decoder",
        )
        self.decoder.build()
        self.mask_seed = MaskSeed(seed, name="mask_seed")
        self.built = True

    def default_augmenter(self, image_size):
        return augmentation.mae_views(image_size)

    def sample_mask(self, batch_size):
        """`(visible, masked)` patch indices of a batch, `(B, K)` and
        `(B, N - K)` (`layers.random_masking`)."""
        return random_masking(
            batch_size, self.num_patches, self.mask_ratio, seed=self.mask_seed.generator
        )

    def forward(self, views, training):
        images = preprocess(self.encoder, views[0])
        tokens = self.vit.embed_patches(images)
        visible, masked = self.sample_mask(ops.shape(tokens)[0])
        encoded = self.vit.encode(gather_tokens(tokens, visible), training=training)
        predictions = self.decoder(encoded, visible, masked, training=training)
        # Back to raster order: `restore[b, n]` is patch n's slot.
        restore = ops.argsort(ops.concatenate([visible, masked], axis=1), axis=-1)
        return {
            "features": (encoded[:, 0],),
            "predictions": gather_tokens(predictions, restore),
            "targets": losses.patchify(images, self.vit.patch_size),
            "mask": ops.cast(restore >= self.num_visible, "float32"),
        }

    def compute_ssl_loss(self, outputs, training):
        return ops.mean(
            losses.mae_loss(
                outputs["predictions"],
                outputs["targets"],
                outputs["mask"],
                norm_pix_loss=self.norm_pix_loss,
            )
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            mask_ratio=self.mask_ratio,
            decoder_width=self.decoder_width,
            decoder_depth=self.decoder_depth,
            decoder_num_heads=self.decoder_num_heads,
            norm_pix_loss=self.norm_pix_loss,
            seed=self.seed,
        )
        return config
