"""Vision Transformer backbones (Dosovitskiy et al., 2021, "An Image is Worth 16x16
Words: Transformers for Image Recognition at Scale", https://arxiv.org/abs/2010.11929).

The self-supervised variant of MoCo v3 (Chen, Xie and He, 2021, "An Empirical Study of
Training Self-Supervised Vision Transformers", https://arxiv.org/abs/2104.02057) and
DINO (Caron et al., 2021, https://arxiv.org/abs/2104.14294), at the DeiT sizes
(Touvron et al., 2021, https://arxiv.org/abs/2012.12877):

- a strided convolution cuts the image into `patch_size x patch_size` patches and
  projects each to `width` channels;
- fixed 2-D sin-cos position embeddings (MoCo v3, docs/methods.md, MoCo), computed for
  the actual patch grid at call time, so one network takes several image sizes
  (DINO's multi-crop);
- a learned class token; pre-norm Transformer blocks (LayerNormalization, epsilon
  1e-6, then multi-head self-attention or a GELU MLP, each with a residual);
- a final LayerNormalization; the features are its class token (B, width), the output
  both methods train and evaluate.

Initialization follows DINO's and DeiT's `vision_transformer.py`: truncated-normal
weights with standard deviation 0.02 for the class token and every Dense and attention
projection (Keras truncates at two standard deviations), zero biases, LayerNormalization
at ones and zeros. The patch projection starts as MoCo v3's `vits.py` initializes it,
Xavier-uniform over the flattened `(patch_size**2 * channels, width)` matrix, which
matters when `freeze_patch_embedding=True` keeps it at that random init.
"""

import math

import keras
from keras import ops

_LAYER_NORM_EPSILON = 1e-6
_INIT_STDDEV = 0.02
_TEMPERATURE = 10000.0


def _trunc_normal():
    return keras.initializers.TruncatedNormal(stddev=_INIT_STDDEV)


@keras.saving.register_keras_serializable(package="keras_ssl")
class SinCosPositionEmbedding2D(keras.layers.Layer):
    """Adds fixed 2-D sin-cos position embeddings to a grid of patch tokens.

    The embedding of the patch in row `h`, column `w` is
    `[sin(h * omega), cos(h * omega), sin(w * omega), cos(w * omega)]` with
    `omega_i = 1 / 10000**(i / (D / 4))`, `i = 0, ..., D / 4 - 1`: half of the
    channels encode the row, half the column (MoCo v3, arXiv 2104.02057, and its
    `build_2d_sincos_position_embedding`, whose first half follows the row index on
    square grids, as here). The embedding has no weights and is computed
    from the grid's shape at call time, so the layer takes any grid size. Computed in
    float32 and cast to the inputs' dtype.

    Call arguments:
        inputs: patch tokens `(B, H, W, D)`, `D` divisible by 4.

    Returns:
        `inputs` plus the embedding, same shape and dtype.

    Example:

    ```python
    layer = SinCosPositionEmbedding2D()
    tokens = layer(np.zeros((2, 8, 8, 64)))  # (2, 8, 8, 64)
    ```
    """

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None or dim % 4:
            raise ValueError(
                "SinCosPositionEmbedding2D needs a channel dimension divisible by 4 "
                f"(a quarter each for sin/cos of rows and columns). Received: "
                f"input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        shape = ops.shape(inputs)
        embedding = sincos_position_embedding_2d(shape[1], shape[2], inputs.shape[-1])
        return inputs + ops.cast(embedding, inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape


def sincos_position_embedding_2d(height, width, dim):
    """The `(height, width, dim)` float32 sin-cos embedding of a patch grid.

    See `SinCosPositionEmbedding2D` for the formula; `height` and `width` may be
    tensors (the grid of a dynamic image size).
    """
    quarter = dim // 4
    omega = 1.0 / _TEMPERATURE ** (ops.arange(quarter, dtype="float32") / quarter)
    rows = ops.arange(height, dtype="float32")[:, None] * omega  # (H, D/4)
    cols = ops.arange(width, dtype="float32")[:, None] * omega  # (W, D/4)
    rows = ops.concatenate([ops.sin(rows), ops.cos(rows)], axis=-1)  # (H, D/2)
    cols = ops.concatenate([ops.sin(cols), ops.cos(cols)], axis=-1)  # (W, D/2)
    rows = ops.broadcast_to(rows[:, None, :], (height, width, dim // 2))
    cols = ops.broadcast_to(cols[None, :, :], (height, width, dim // 2))
    return ops.concatenate([rows, cols], axis=-1)


@keras.saving.register_keras_serializable(package="keras_ssl")
class ClassToken(keras.layers.Layer):
    """Prepends a learned class token to a sequence of tokens.

    The token is a trainable `(dim,)` vector initialized truncated-normal with
    standard deviation 0.02 (DINO's `vision_transformer.py`). It gets no position
    embedding (MoCo v3 gives it zeros).

    Call arguments:
        inputs: tokens `(B, N, D)`.

    Returns:
        `(B, N + 1, D)`, the class token first.

    Example:

    ```python
    tokens = ClassToken()(np.zeros((2, 64, 192)))  # (2, 65, 192)
    ```
    """

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(input_shape[-1],), initializer=_trunc_normal(), name="token"
        )

    def call(self, inputs):
        token = ops.cast(self.token, inputs.dtype)
        token = ops.broadcast_to(token, (ops.shape(inputs)[0], 1, inputs.shape[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])


def _layer_norm(name):
    return keras.layers.LayerNormalization(epsilon=_LAYER_NORM_EPSILON, name=name)


_BLOCK_LAYERS = ("ln1", "attention", "add1", "ln2", "mlp1", "mlp2", "add2")


def _new_block_layers(width, num_heads, mlp_ratio, name):
    """The layers of one pre-norm block, keyed by `_BLOCK_LAYERS`."""
    dense = dict(kernel_initializer=_trunc_normal())
    return {
        "ln1": _layer_norm(f"{name}_ln1"),
        "attention": keras.layers.MultiHeadAttention(
            num_heads, key_dim=width // num_heads, name=f"{name}_attention", **dense
        ),
        "add1": keras.layers.Add(name=f"{name}_add1"),
        "ln2": _layer_norm(f"{name}_ln2"),
        "mlp1": keras.layers.Dense(
            int(width * mlp_ratio), activation="gelu", name=f"{name}_mlp1", **dense
        ),
        "mlp2": keras.layers.Dense(width, name=f"{name}_mlp2", **dense),
        "add2": keras.layers.Add(name=f"{name}_add2"),
    }


def _apply_block(block, x, training=None):
    """Pre-norm block: `x + MHSA(LN(x))`, then `x + MLP(LN(x))`."""
    y = block["ln1"](x)
    y = block["attention"](y, y, training=training)
    x = block["add1"]([x, y])
    y = block["mlp2"](block["mlp1"](block["ln2"](x)))
    return block["add2"]([x, y])


def transformer(width, depth, num_heads, mlp_ratio=4.0, name="transformer"):
    """Builds a stack of pre-norm Transformer blocks and a final LayerNormalization.

    The blocks and initialization of `vit`, on a sequence of any length: MAE's
    decoder and I-JEPA's predictor are such narrow stacks.

    Args:
        width: token dimension, divisible by `num_heads`.
        depth: number of blocks.
        num_heads: attention heads per block.
        mlp_ratio: hidden size of the block MLP as a multiple of `width`.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from tokens `(B, N, width)` to tokens
        `(B, N, width)`.

    Example:

    ```python
    blocks = transformer(width=64, depth=2, num_heads=4)
    blocks(np.zeros((2, 10, 64))).shape  # (2, 10, 64)
    ```
    """
    inputs = keras.Input((None, width), name="tokens")
    x = inputs
    for index in range(depth):
        block = _new_block_layers(width, num_heads, mlp_ratio, f"block{index + 1}")
        x = _apply_block(block, x)
    return keras.Model(inputs, _layer_norm("final_ln")(x), name=name)


def _check_arguments(input_shape, patch_size, width, num_heads):
    if len(input_shape) != 3 or input_shape[-1] is None:
        raise ValueError(
            "`input_shape` must be (height, width, channels) with known channels. "
            f"Received: input_shape={input_shape}"
        )
    for size in input_shape[:2]:
        if size is not None and size % patch_size:
            raise ValueError(
                f"`input_shape` must have a height and width divisible by "
                f"`patch_size`={patch_size}. Received: input_shape={input_shape}"
            )
    if width % 4:
        raise ValueError(
            "`width` must be divisible by 4 (2-D sin-cos position embedding). "
            f"Received: width={width}"
        )
    if width % num_heads:
        raise ValueError(
            f"`width` must be divisible by `num_heads`. Received: width={width}, "
            f"num_heads={num_heads}"
        )


def vit(
    input_shape=(224, 224, 3),
    patch_size=16,
    width=384,
    depth=12,
    num_heads=6,
    mlp_ratio=4.0,
    freeze_patch_embedding=False,
    name="vit",
):
    """Builds a Vision Transformer that maps images to its class token.

    Args:
        input_shape: shape of one image, `(height, width, channels)`. Height and
            width must be divisible by `patch_size`, or `None` for a network that
            takes any size (DINO's multi-crop). With `None`, a size that is not a
            multiple of `patch_size` loses its last pixels to the strided patch
            projection instead of raising: keep crop sizes multiples of it.
        patch_size: side of the square patches (16 at 224 px, 4 at 32 px).
        width: token dimension, divisible by 4 and by `num_heads`.
        depth: number of Transformer blocks.
        num_heads: attention heads per block.
        mlp_ratio: hidden size of the block MLP as a multiple of `width`.
        freeze_patch_embedding: if `True`, the patch projection (layer
            `"patch_embedding"`) is created with `trainable=False` and stays at its
            random initialization: MoCo v3's "random patch projection"
            (arXiv 2104.02057, its code's `stop_grad_conv1`), which avoids the
            training dips the paper reports for ViTs. Setting `trainable=True`
            on the whole model (full fine-tuning) unfreezes it.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from normalized images `(B, H, W, C)` to the
        final-LayerNormalization class token `(B, width)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.vit(
        input_shape=(None, None, 3), patch_size=4, width=192, depth=12, num_heads=3
    )
    backbone(np.zeros((2, 32, 32, 3))).shape  # (2, 192)
    backbone(np.zeros((2, 16, 16, 3))).shape  # (2, 192)
    ```
    """
    input_shape = tuple(input_shape)
    _check_arguments(input_shape, patch_size, width, num_heads)
    fan_in = patch_size * patch_size * input_shape[-1]
    limit = math.sqrt(6.0 / (fan_in + width))
    inputs = keras.Input(shape=input_shape, name="images")
    patch_embedding = keras.layers.Conv2D(
        width,
        patch_size,
        strides=patch_size,
        kernel_initializer=keras.initializers.RandomUniform(-limit, limit),
        trainable=not freeze_patch_embedding,
        name="patch_embedding",
    )
    x = patch_embedding(inputs)
    x = SinCosPositionEmbedding2D(name="position_embedding")(x)
    x = keras.layers.Reshape((-1, width), name="tokens")(x)
    x = ClassToken(name="class_token")(x)
    for index in range(depth):
        block = _new_block_layers(width, num_heads, mlp_ratio, f"block{index + 1}")
        x = _apply_block(block, x)
    x = _layer_norm("final_ln")(x)
    outputs = x[:, 0]
    return keras.Model(inputs, outputs, name=name)


def vit_tiny(
    input_shape=(224, 224, 3),
    patch_size=16,
    freeze_patch_embedding=False,
    name="vit_tiny",
):
    """Builds ViT-Tiny (DeiT-Ti): width 192, 12 blocks, 3 heads, 192-d features.

    5,486,592 trainable parameters at 224 px with 16 px patches (no weights in the
    fixed position embedding).

    Args:
        input_shape: shape of one image; see `vit`.
        patch_size: side of the square patches (16 at 224 px, 4 at 32 px).
        freeze_patch_embedding: keep the patch projection at its random init
            (MoCo v3); see `vit`.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from normalized images to the class token
        `(B, 192)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.vit_tiny(input_shape=(32, 32, 3), patch_size=4)
    backbone(np.zeros((2, 32, 32, 3))).shape  # (2, 192)
    ```
    """
    return vit(
        input_shape,
        patch_size,
        width=192,
        depth=12,
        num_heads=3,
        freeze_patch_embedding=freeze_patch_embedding,
        name=name,
    )


def vit_small(
    input_shape=(224, 224, 3),
    patch_size=16,
    freeze_patch_embedding=False,
    name="vit_small",
):
    """Builds ViT-Small (DeiT-S): width 384, 12 blocks, 6 heads, 384-d features.

    The backbone of MoCo v3's and DINO's ViT-S/16. 21,590,016 trainable parameters
    at 224 px with 16 px patches (no weights in the fixed position embedding).

    Args:
        input_shape: shape of one image; see `vit`.
        patch_size: side of the square patches (16 at 224 px, 4 at 32 px).
        freeze_patch_embedding: keep the patch projection at its random init
            (MoCo v3); see `vit`.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from normalized images to the class token
        `(B, 384)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.vit_small(freeze_patch_embedding=True)
    backbone(np.zeros((2, 224, 224, 3))).shape  # (2, 384)
    ```
    """
    return vit(
        input_shape,
        patch_size,
        width=384,
        depth=12,
        num_heads=6,
        freeze_patch_embedding=freeze_patch_embedding,
        name=name,
    )


class ViTParts:
    """The stages of a `vit` backbone, to run it on some of an image's patches.

    MAE (He et al., 2021) and I-JEPA (Assran et al., 2023) run a ViT's
    encoder on a subset of the patch tokens: patch projection, position
    embedding, then a gather of the kept tokens, then the class token and the
    Transformer blocks. `vit_parts(backbone)` returns this view of a backbone
    built by `vit` (its own layers and weights: nothing is copied), and the
    backbone itself stays the full-image network, `backbone(images)` equal to
    `encode(embed_patches(images))[:, 0]`.

    Attributes:
        patch_size: side of the square patches.
        width: token dimension.
        num_prefix_tokens: tokens `encode` puts before the patch tokens (1, the
            class token).
    """

    def __init__(self, backbone):
        def layer(name):
            try:
                return backbone.get_layer(name)
            except ValueError:
                raise ValueError(
                    "Masked image modeling needs a `keras_ssl.backbones.vit` backbone "
                    f"(layer {name!r} not found in {backbone.name!r})."
                ) from None

        self.patch_embedding = layer("patch_embedding")
        self.position_embedding = layer("position_embedding")
        self.class_token = layer("class_token")
        self.final_norm = layer("final_ln")
        names = {sub.name for sub in backbone.layers}
        depth = 0
        while f"block{depth + 1}_ln1" in names:
            depth += 1
        self.blocks = [
            {key: layer(f"block{index + 1}_{key}") for key in _BLOCK_LAYERS}
            for index in range(depth)
        ]
        self.patch_size = int(self.patch_embedding.strides[0])
        self.width = int(self.patch_embedding.filters)
        self.num_prefix_tokens = 1

    def grid_size(self, image_shape):
        """`(rows, columns)` of the patch grid of images of `(H, W, C)`."""
        return image_shape[0] // self.patch_size, image_shape[1] // self.patch_size

    def embed_patches(self, images):
        """Patch tokens with position embedding, `(B, N, width)` in raster
        order, from normalized images `(B, H, W, C)`."""
        x = self.position_embedding(self.patch_embedding(images))
        return ops.reshape(x, (ops.shape(x)[0], -1, self.width))

    def encode(self, tokens, training=None):
        """Class token, Transformer blocks and final LayerNormalization on
        tokens `(B, K, width)`; returns `(B, 1 + K, width)`."""
        x = self.class_token(tokens)
        for block in self.blocks:
            x = _apply_block(block, x, training=training)
        return self.final_norm(x)


def vit_parts(backbone):
    """`ViTParts` of a backbone built by `vit`; raises `ValueError` for other
    networks."""
    return ViTParts(backbone)


def vit_base(input_shape=(224, 224, 3), patch_size=16, freeze_patch_embedding=False, name="vit_base"):
    """Builds ViT-Base (ViT-B/16, DeiT-B): width 768, 12 blocks, 12 heads.

    The larger backbone of MoCo v3's and DINO's papers. 85,647,360 trainable
    parameters at 224 px with 16 px patches: timm's `vit_base_patch16_224` less its
    1000-way head and learned position embedding. Arguments as `vit_small`; returns
    a functional `keras.Model` from normalized images to the class token `(B, 768)`,
    e.g. `vit_base()(np.zeros((2, 224, 224, 3))).shape == (2, 768)`.
    """
    return vit(input_shape, patch_size, width=768, depth=12, num_heads=12,
               freeze_patch_embedding=freeze_patch_embedding, name=name)
