"""A small convolutional backbone for tests and CPU benchmarks."""

import keras

from keras_ssl.layers.fused_batch_normalization import FusedBatchNormalization

_CHANNELS = (32, 64, 128, 256)
_STRIDES = (1, 2, 2, 2)


def small_cnn(input_shape=(32, 32, 3), name="small_cnn"):
    """Builds a four-block CNN that maps images to a 256-d feature vector.

    Each block is a 3x3 `Conv2D` (padding `"same"`, no bias) followed by
    BatchNormalization (`layers.FusedBatchNormalization`) and ReLU; the
    blocks have 32, 64, 128 and 256 channels and strides 1, 2, 2 and 2, and a
    global average pool ends the network. It has about 0.4M parameters and
    trains in seconds on a CPU, which makes it the backbone of the test suite
    and of the CPU benchmarks; use `resnet18(stem="cifar")` to reproduce
    papers.

    Args:
        input_shape: shape of one image, `(height, width, channels)`. Use
            `(None, None, 3)` for a backbone that takes any image size
            (multi-crop methods).
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from images `(B, H, W, C)`, already
        normalized floats, to features `(B, 256)`.

    Example:

    ```python
    backbone = keras_ssl.backbones.small_cnn(input_shape=(32, 32, 3))
    features = backbone(np.zeros((2, 32, 32, 3)))  # (2, 256)
    ```
    """
    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    for i, (channels, strides) in enumerate(zip(_CHANNELS, _STRIDES), 1):
        x = keras.layers.Conv2D(
            channels,
            3,
            strides=strides,
            padding="same",
            use_bias=False,
            name=f"block{i}_conv",
        )(x)
        x = FusedBatchNormalization(name=f"block{i}_bn")(x)
        x = keras.layers.ReLU(name=f"block{i}_relu")(x)
    outputs = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, outputs, name=name)
