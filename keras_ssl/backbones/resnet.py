"""ResNet-18/34/50 backbones (He et al., 2016, https://arxiv.org/abs/1512.03385).

The layers follow torchvision's `resnet.py`, the reference of the self-supervised
methods' code: the stride of a bottleneck sits on its 3x3 convolution ("ResNet v1.5"),
a shape change uses a 1x1 convolution + BatchNormalization projection shortcut,
convolutions have no bias and start from He-normal weights (fan-out), and
BatchNormalization (`layers.FusedBatchNormalization`) uses PyTorch's defaults
(momentum 0.1, that is Keras `momentum=0.9`, epsilon 1e-5). Strided convolutions pad
explicitly like PyTorch's `padding=k // 2`, so feature maps line up with torchvision's
and its weights can be ported.

Two stems:

- `"imagenet"`: 7x7 convolution with stride 2, BatchNormalization, ReLU, 3x3 max-pool
  with stride 2 (the paper's network, used at 224 px).
- `"cifar"`: 3x3 convolution with stride 1, BatchNormalization, ReLU, no max-pool (the
  variant of the SimCLR and MoCo CIFAR-10 references and solo-learn, which keeps
  32 px images at 4x4 in the last stage).

`zero_init_residual=True` starts the last BatchNormalization gamma of every residual
block at zero, so each block starts as the identity (Goyal et al., 2017,
https://arxiv.org/abs/1706.02677); SimSiam, Barlow Twins, VICReg and MoCo v3 turn it on.
"""

import keras

from keras_ssl.layers.fused_batch_normalization import FusedBatchNormalization

_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5
_STEMS = ("cifar", "imagenet")
_STAGE_FILTERS = (64, 128, 256, 512)
_BOTTLENECK_EXPANSION = 4


def _conv(x, filters, kernel_size, strides, name):
    """Bias-free convolution padded like PyTorch's `padding=kernel_size // 2`."""
    padding = "same"
    if strides > 1 and kernel_size > 1:
        x = keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=False,
        kernel_initializer=keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_out", distribution="untruncated_normal"
        ),
        name=name,
    )(x)


def _batch_norm(x, name, zero_gamma=False):
    return FusedBatchNormalization(
        momentum=_BN_MOMENTUM,
        epsilon=_BN_EPSILON,
        gamma_initializer="zeros" if zero_gamma else "ones",
        name=name,
    )(x)


def _add_shortcut(x, inputs, strides, name):
    """Adds the block's input, projected when its shape differs, then ReLU."""
    shortcut = inputs
    if strides != 1 or inputs.shape[-1] != x.shape[-1]:
        shortcut = _conv(inputs, x.shape[-1], 1, strides, f"{name}_shortcut_conv")
        shortcut = _batch_norm(shortcut, f"{name}_shortcut_bn")
    x = keras.layers.Add(name=f"{name}_add")([x, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(x)


def _basic_block(inputs, filters, strides, zero_init_residual, name):
    """Two 3x3 convolutions; `filters` output channels."""
    x = _conv(inputs, filters, 3, strides, f"{name}_conv1")
    x = _batch_norm(x, f"{name}_bn1")
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(x, filters, 3, 1, f"{name}_conv2")
    x = _batch_norm(x, f"{name}_bn2", zero_gamma=zero_init_residual)
    return _add_shortcut(x, inputs, strides, name)


def _bottleneck_block(inputs, filters, strides, zero_init_residual, name):
    """1x1 reduce, 3x3 (strided), 1x1 expand; `4 * filters` output channels."""
    x = _conv(inputs, filters, 1, 1, f"{name}_conv1")
    x = _batch_norm(x, f"{name}_bn1")
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(x, filters, 3, strides, f"{name}_conv2")
    x = _batch_norm(x, f"{name}_bn2")
    x = keras.layers.ReLU(name=f"{name}_relu2")(x)
    x = _conv(x, filters * _BOTTLENECK_EXPANSION, 1, 1, f"{name}_conv3")
    x = _batch_norm(x, f"{name}_bn3", zero_gamma=zero_init_residual)
    return _add_shortcut(x, inputs, strides, name)


def _resnet(block, depths, input_shape, stem, zero_init_residual, name):
    """Stem, four stages of `block` (`depths` blocks each), global average pool."""
    if stem not in _STEMS:
        raise ValueError(f"`stem` must be one of {_STEMS}. Received: stem={stem!r}")
    inputs = keras.Input(shape=input_shape, name="images")
    if stem == "imagenet":
        x = _conv(inputs, 64, 7, 2, "stem_conv")
    else:
        x = _conv(inputs, 64, 3, 1, "stem_conv")
    x = _batch_norm(x, "stem_bn")
    x = keras.layers.ReLU(name="stem_relu")(x)
    if stem == "imagenet":
        # Zero padding equals PyTorch's -inf padding here: the inputs are >= 0.
        x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
    for stage, (filters, depth) in enumerate(zip(_STAGE_FILTERS, depths), 1):
        for index in range(depth):
            strides = 2 if stage > 1 and index == 0 else 1
            x = block(
                x,
                filters,
                strides,
                zero_init_residual,
                name=f"stage{stage}_block{index + 1}",
            )
    outputs = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, outputs, name=name)


def resnet18(
    input_shape=(None, None, 3),
    stem="imagenet",
    zero_init_residual=False,
    name="resnet18",
):
    """Builds ResNet-18: basic blocks `[2, 2, 2, 2]`, 512-d features.

    The standard CIFAR backbone of self-supervised learning with `stem="cifar"`.
    11,176,512 trainable parameters with the ImageNet stem (torchvision's
    `resnet18` without its classifier), 11,168,832 with the CIFAR stem.

    Args:
        input_shape: shape of one image, `(height, width, channels)`. The default
            `(None, None, 3)` takes any image size (multi-crop methods).
        stem: `"imagenet"` (7x7 stride-2 convolution and max-pool) or `"cifar"`
            (3x3 stride-1 convolution, no max-pool).
        zero_init_residual: if `True`, the last BatchNormalization gamma of every
            residual block starts at zero.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from normalized images `(B, H, W, C)` to
        globally average-pooled features `(B, 512)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.resnet18(input_shape=(32, 32, 3), stem="cifar")
    features = backbone(np.zeros((2, 32, 32, 3)))  # (2, 512)
    ```
    """
    return _resnet(
        _basic_block, (2, 2, 2, 2), input_shape, stem, zero_init_residual, name
    )


def resnet34(
    input_shape=(None, None, 3),
    stem="imagenet",
    zero_init_residual=False,
    name="resnet34",
):
    """Builds ResNet-34: basic blocks `[3, 4, 6, 3]`, 512-d features.

    21,284,672 trainable parameters with the ImageNet stem (torchvision's
    `resnet34` without its classifier).

    Args:
        input_shape: shape of one image, `(height, width, channels)`. The default
            `(None, None, 3)` takes any image size (multi-crop methods).
        stem: `"imagenet"` (7x7 stride-2 convolution and max-pool) or `"cifar"`
            (3x3 stride-1 convolution, no max-pool).
        zero_init_residual: if `True`, the last BatchNormalization gamma of every
            residual block starts at zero.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from normalized images `(B, H, W, C)` to
        globally average-pooled features `(B, 512)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.resnet34(input_shape=(32, 32, 3), stem="cifar")
    features = backbone(np.zeros((2, 32, 32, 3)))  # (2, 512)
    ```
    """
    return _resnet(
        _basic_block, (3, 4, 6, 3), input_shape, stem, zero_init_residual, name
    )


def resnet50(
    input_shape=(None, None, 3),
    stem="imagenet",
    zero_init_residual=False,
    name="resnet50",
):
    """Builds ResNet-50: bottleneck blocks `[3, 4, 6, 3]`, 2048-d features.

    The standard ImageNet backbone of self-supervised learning (224 px inputs).
    23,508,032 trainable parameters with the ImageNet stem (torchvision's
    `resnet50` without its classifier).

    Args:
        input_shape: shape of one image, `(height, width, channels)`. The default
            `(None, None, 3)` takes any image size (multi-crop methods).
        stem: `"imagenet"` (7x7 stride-2 convolution and max-pool) or `"cifar"`
            (3x3 stride-1 convolution, no max-pool).
        zero_init_residual: if `True`, the last BatchNormalization gamma of every
            residual block starts at zero.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from normalized images `(B, H, W, C)` to
        globally average-pooled features `(B, 2048)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.resnet50(input_shape=(224, 224, 3))
    features = backbone(np.zeros((2, 224, 224, 3)))  # (2, 2048)
    ```
    """
    return _resnet(
        _bottleneck_block, (3, 4, 6, 3), input_shape, stem, zero_init_residual, name
    )
