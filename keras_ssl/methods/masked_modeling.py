"""Blocks shared by the masked image modeling methods (MAE, I-JEPA): the
token predictor and token gathering."""

import keras
from keras import ops

from keras_ssl.backbones.vit import sincos_position_embedding_2d
from keras_ssl.backbones.vit import transformer


def gather_tokens(tokens, indices):
    """`tokens[b, indices[b, ...]]`: `(B, N, D)` tokens and int `(B, ...)`
    indices to `(B, ..., D)`."""
    batch, num_tokens, dim = ops.shape(tokens)[0], tokens.shape[1], tokens.shape[2]
    offsets = ops.arange(batch, dtype="int32") * num_tokens
    offsets = ops.reshape(offsets, (-1,) + (1,) * (len(indices.shape) - 1))
    flat = ops.reshape(tokens, (-1, dim))
    return ops.take(flat, ops.cast(indices, "int32") + offsets, axis=0)


def preprocess(encoder, images):
    """The method's input preprocessing, the layers of `encoder` (an
    `SSLModel.encoder`) between its input and the backbone: raw pixels to
    the backbone's input."""
    x = images
    for layer in encoder.layers[1:-1]:
        x = layer(x)
    return x


@keras.saving.register_keras_serializable(package="keras_ssl")
class TokenPredictor(keras.layers.Layer):
    """A narrow ViT that predicts the tokens of hidden patches from the
    encoder's tokens of the visible ones: MAE's decoder (He et al., 2021,
    section 3) and I-JEPA's predictor (Assran et al., 2023, section 3).

    The encoder tokens are projected to `width` and each visible patch gets
    the fixed 2-D sin-cos position embedding of its place in the grid (both
    papers); prefix tokens (the class token) get none (MAE's decoder gives it
    zeros). Each hidden patch is one shared learned mask token plus its
    position embedding. All tokens go through `depth` pre-norm Transformer
    blocks and a LayerNormalization (`backbones.vit.transformer`); a linear
    head maps each patch token to `output_dim`. Attention does not depend on
    the order of the tokens, so visible and hidden ones are simply
    concatenated. Initialization as the ViT's: truncated normal, standard
    deviation 0.02, for the mask token and every projection.

    Args:
        grid_size: `(rows, columns)` of the patch grid.
        input_dim: width of the encoder's tokens.
        width: the predictor's token width (MAE at 224 px: 512; I-JEPA: 384).
        depth: number of Transformer blocks (MAE: 8; I-JEPA: 12).
        num_heads: attention heads, dividing `width`.
        output_dim: size of each predicted token (MAE: the pixels of a patch;
            I-JEPA: the encoder's width).
        mlp_ratio: hidden size of the block MLP as a multiple of `width`.

    Call arguments:
        tokens: `(B, P + K, input_dim)`, `P` prefix tokens then the encoder's
            tokens of `K` visible patches.
        visible: int `(B, K)`, the visible patches' indices in the grid.
        hidden: int `(B, T)`, the indices of the patches to predict.

    Returns:
        `(B, K + T, output_dim)`: the outputs at the visible patches, then
        at the hidden ones.

    Example:

    ```python
    predictor = TokenPredictor((8, 8), input_dim=192, width=96, depth=2,
                               num_heads=3, output_dim=192)
    out = predictor(tokens, visible, hidden)  # (B, K + T, 192)
    ```
    """

    def __init__(
        self, grid_size, input_dim, width, depth, num_heads, output_dim, mlp_ratio=4.0, **kwargs
    ):
        super().__init__(**kwargs)
        for name, value in (("width", width), ("depth", depth), ("num_heads", num_heads)):
            if int(value) < 1:
                raise ValueError(f"`{name}` must be >= 1. Received: {name}={value}")
        if width % num_heads or width % 4:
            raise ValueError(
                "`width` must be divisible by `num_heads` and by 4 (2-D sin-cos "
                f"position embedding). Received: width={width}, num_heads={num_heads}"
            )
        self.grid_size = tuple(int(g) for g in grid_size)
        self.input_dim = int(input_dim)
        self.width = int(width)
        self.depth = int(depth)
        self.num_heads = int(num_heads)
        self.output_dim = int(output_dim)
        self.mlp_ratio = float(mlp_ratio)
        initializer = dict(kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))
        self.embed = keras.layers.Dense(self.width, name="embed", **initializer)
        self.blocks = transformer(self.width, self.depth, self.num_heads, self.mlp_ratio)
        self.head = keras.layers.Dense(self.output_dim, name="head", **initializer)

    def build(self, input_shape=None):
        self.embed.build((None, None, self.input_dim))
        self.head.build((None, None, self.width))
        self.mask_token = self.add_weight(
            shape=(self.width,),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="mask_token",
        )
        self.built = True

    def call(self, tokens, visible, hidden, training=None):
        num_prefix = tokens.shape[1] - visible.shape[1]
        x = self.embed(tokens)
        position = sincos_position_embedding_2d(*self.grid_size, self.width)
        position = ops.cast(ops.reshape(position, (-1, self.width)), x.dtype)
        patches = x[:, num_prefix:] + ops.take(position, ops.cast(visible, "int32"), axis=0)
        masked = ops.cast(self.mask_token, x.dtype) + ops.take(
            position, ops.cast(hidden, "int32"), axis=0
        )
        x = ops.concatenate([x[:, :num_prefix], patches, masked], axis=1)
        x = self.blocks(x, training=training)
        return self.head(x[:, num_prefix:])

    def get_config(self):
        config = super().get_config()
        config.update(
            grid_size=self.grid_size,
            input_dim=self.input_dim,
            width=self.width,
            depth=self.depth,
            num_heads=self.num_heads,
            output_dim=self.output_dim,
            mlp_ratio=self.mlp_ratio,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ssl")
class MaskSeed(keras.layers.Layer):
    """The random state of a method's masks, saved with the model.

    Keras does not save a `keras.random.SeedGenerator`'s state; this layer
    does (as `ViewAugmenter` does for its pipelines), so that a model resumed
    from a `.keras` file draws the masks an uninterrupted run would have.

    Args:
        seed: int or None, the generator's seed.

    Attributes:
        generator: the `keras.random.SeedGenerator` to pass as `seed=`.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        self.built = True

    def save_own_variables(self, store):
        store["state"] = self.generator.state

    def load_own_variables(self, store):
        self.generator.state.assign(store["state"])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
