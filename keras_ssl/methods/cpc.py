"""CPC (van den Oord et al. 2018, "Representation Learning with Contrastive
Predictive Coding", https://arxiv.org/abs/1807.03748; CPC v2: Hénaff et al.
2020, "Data-Efficient Image Recognition with Contrastive Predictive Coding",
https://arxiv.org/abs/1905.09272)."""

import keras
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl import recipes
from keras_ssl.methods.any_size import ANY_SIZE_HINT
from keras_ssl.methods.base import SSLModel


def context_network(grid, dim, width=256, num_blocks=3, name="context"):
    """CPC v2's causal (top-down) context network over a `(grid, grid, dim)` map.

    Each residual block: 1x1 conv `width` -> ReLU -> 1x3 conv (same) -> one
    row of zeros on top -> 2x1 conv (valid) -> ReLU -> 1x1 conv `dim`, added
    to its input; ReLU at the end. Output row `i` depends on input rows
    `<= i` only.
    """
    inputs = keras.Input((grid, grid, dim))
    x = inputs
    for i in range(num_blocks):
        h = keras.layers.Conv2D(width, 1, activation="relu", name=f"{name}_block{i}_in")(x)
        h = keras.layers.Conv2D(width, (1, 3), padding="same", name=f"{name}_block{i}_row")(h)
        h = keras.layers.ZeroPadding2D(((1, 0), (0, 0)), name=f"{name}_block{i}_pad_top")(h)
        h = keras.layers.Conv2D(width, (2, 1), activation="relu", name=f"{name}_block{i}_up")(h)
        h = keras.layers.Conv2D(dim, 1, name=f"{name}_block{i}_out")(h)
        x = keras.layers.Add(name=f"{name}_block{i}_add")([x, h])
    outputs = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="keras_ssl")
class CPC(SSLModel):
    """Contrastive predictive coding on an image's grid of patches (CPC v2).

    Images are cut into an overlapping `G x G` grid of patches
    (`patch_size`, `stride`); the backbone (the patch encoder) maps every
    patch to `z_ij` (`grid_encoder`: images -> `(B, G, G, D)`). A causal
    context network (`context`) gives `c_ij` from rows `<= i`; for each
    offset `k` a linear head predicts `0.1 * W_k c_ij` for the target
    `t_{i+k, j}` (a 1x1 conv of `z`), scored by `losses.cpc_loss` against
    every target of the (gathered) batch; the loss is the mean over offsets.
    `encoder` (for downstream use, export and evaluation) is the patch
    encoder averaged over the grid.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, CPC (library's
    small-image version):
    patches of a quarter of the image side with half-patch stride (7 x 7
    grid: 8/4 px at 32, 16/8 at 64, 56/28 at 224, 64/32 at 256 as in CPC
    v1); 3 context blocks of width 256; targets of width 64; scale 0.1;
    offsets 1, 2, 3; top-down only; image-level augmentation: crop
    (0.3, 1), flip, jitter (0.4, 0.4, 0.4, 0.1) with probability 0.8,
    grayscale 0.2. CPC v2 uses LayerNorm in the patch encoder: BatchNorm
    lets the patches of one image see each other's statistics.

    The backbone runs on the patches: a fixed-size one, e.g.
    `small_cnn((32, 32, 3))`, is rebuilt on an any-size input with the same
    layers (`needs_any_size`) and gives the image size; `backbone` stays that
    network.

    Args:
        backbone: the patch encoder, a `keras.Model` from
            `(patch_size, patch_size, C)` patches (or any size) to `(B, D)`.
        input_shape: `(H, W, C)` of the images (square); default the
            backbone's input shape, required when it takes any size.
        patch_size: side of each patch; default `H // 4`.
        stride: step between patches; default `H // 8`.
        context_width: width of the context blocks.
        context_blocks: number of context blocks.
        target_dim: width of targets and predictions.
        offsets: rows ahead to predict.
        prediction_scale: factor of the predictions (0.1 in CPC v2).
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> patch_encoder = my_layernorm_cnn(input_shape=(64, 64, 3))
    >>> model = keras_ssl.CPC(patch_encoder)  # 64 px images, 16 px patches
    >>> model.compile(optimizer=keras.optimizers.Adam(2e-4))
    >>> model.fit(images_64px, epochs=100, batch_size=32)
    """

    recipe_name = "cpc"
    needs_any_size = True

    def __init__(
        self,
        backbone,
        input_shape=None,
        patch_size=None,
        stride=None,
        context_width=None,
        context_blocks=None,
        target_dim=None,
        offsets=None,
        prediction_scale=None,
        **kwargs,
    ):
        input_shape = self.image_shape_of(backbone, input_shape)
        if input_shape[0] is None or input_shape[0] != input_shape[1]:
            raise ValueError(
                "CPC needs the square image shape: pass `input_shape=(H, H, C)` "
                "when the backbone (the patch encoder) takes any size. "
                f"Received: input_shape={input_shape}"
            )
        size = int(input_shape[0])
        default = recipes.get(self.recipe_name, size).default
        context_width = default("context_width", context_width)
        context_blocks = default("context_blocks", context_blocks)
        target_dim = default("target_dim", target_dim)
        offsets = default("offsets", offsets)
        prediction_scale = default("prediction_scale", prediction_scale)
        self.patch_size = int(patch_size or size // 4)
        self.stride = int(stride or size // 8)
        if not 0 < self.patch_size <= size or self.stride <= 0:
            raise ValueError(
                f"`patch_size` and `stride` must be positive with patch_size <= {size}. "
                f"Received: patch_size={patch_size}, stride={stride}"
            )
        self.grid = (size - self.patch_size) // self.stride + 1
        self.offsets = tuple(int(k) for k in offsets)
        if not self.offsets or min(self.offsets) < 1 or max(self.offsets) >= self.grid:
            raise ValueError(
                f"`offsets` must be in [1, {self.grid - 1}] for a {self.grid}x{self.grid} "
                f"grid. Received: offsets={offsets}"
            )
        super().__init__(backbone, input_shape=input_shape, **kwargs)
        self.context_width = context_width
        self.context_blocks = context_blocks
        self.target_dim = target_dim
        self.prediction_scale = float(prediction_scale)
        dim = self.feature_dim
        self.context = context_network(self.grid, dim, context_width, context_blocks)
        self.target_head = keras.Sequential(
            [keras.Input((self.grid, self.grid, dim)), keras.layers.Conv2D(target_dim, 1)],
            name="target_head",
        )
        self.prediction_heads = [
            keras.Sequential(
                [keras.Input((self.grid, self.grid, dim)), keras.layers.Conv2D(target_dim, 1)],
                name=f"prediction_head_{k}",
            )
            for k in self.offsets
        ]
        self.built = True

    def _build_encoder(self, backbone, shape, preprocessing):
        inputs = keras.Input(shape, name="images")
        x = inputs
        layer = self._preprocessing_layer(preprocessing, shape)
        if layer is not None:
            x = layer(x)
        patches = layers.PatchGrid(self.patch_size, self.stride, name="patch_grid")(x)
        try:
            backbone = self._any_size_backbone(backbone)
            backbone(ops.zeros((1, *patches.shape[1:])), training=False)
            features = backbone(patches)
        except Exception as error:
            raise ValueError(
                f"CPC runs the backbone on {self.patch_size}x{self.patch_size} "
                f"patches, which it does not take ({error}). {ANY_SIZE_HINT}"
            ) from error
        grid = layers.ToGrid(self.grid, name="to_grid")(features)
        self.grid_encoder = keras.Model(inputs, grid, name="grid_encoder")
        pooled = keras.layers.GlobalAveragePooling2D(name="grid_pool")(grid)
        return keras.Model(inputs, pooled, name="encoder")

    def forward(self, views, training):
        z = self.grid_encoder(views[0], training=training)
        context = self.context(z, training=training)
        predictions = tuple(
            self.prediction_scale * head(context, training=training)[:, : self.grid - k]
            for k, head in zip(self.offsets, self.prediction_heads)
        )
        return {
            "features": (ops.mean(z, axis=(1, 2)),),
            "grid": z,
            "context": context,
            "targets": self.target_head(z, training=training),
            "predictions": predictions,
        }

    def compute_ssl_loss(self, outputs, training):
        terms = [
            ops.mean(losses.cpc_loss(p, outputs["targets"], k))
            for k, p in zip(self.offsets, outputs["predictions"])
        ]
        return ops.mean(ops.stack(terms))

    def get_config(self):
        config = super().get_config()
        config.update(
            patch_size=self.patch_size,
            stride=self.stride,
            context_width=self.context_width,
            context_blocks=self.context_blocks,
            target_dim=self.target_dim,
            offsets=self.offsets,
            prediction_scale=self.prediction_scale,
        )
        return config
