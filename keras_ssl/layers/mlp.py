"""The MLP head builder shared by every method's projector and predictor."""

import keras

from keras_ssl import distribute
from keras_ssl.layers.fused_batch_normalization import FusedBatchNormalization


def mlp(
    input_dim,
    dims,
    batch_norm=True,
    last_bn=False,
    last_bias=True,
    last_bn_affine=True,
    activation="relu",
    name=None,
):
    """Builds an MLP head: `[Dense -> BN -> act] * (len(dims) - 1) -> Dense [-> BN]`.

    Hidden layers follow the SimCLR / MoCo v2 / BYOL heads (Dense without bias
    when BatchNormalization follows, then ReLU). Under a TensorFlow
    `tf.distribute` strategy with several replicas the BatchNormalization layers
    are synchronized across replicas, as the papers' SyncBN heads are.

    Args:
        input_dim: width of the input features.
        dims: widths of the layers, the last one the output width, e.g.
            `(512, 128)` for SimCLR's CIFAR projector.
        batch_norm: BatchNormalization after each hidden Dense.
        last_bn: BatchNormalization after the last Dense too (SimCLR v2, MoCo
            v3, NNCLR, Barlow Twins heads).
        last_bias: bias on the last Dense when no BN follows it.
        last_bn_affine: whether the last BN has gamma and beta; False gives
            MoCo v3's "BN without affine" output layer.
        activation: hidden activation.
        name: name of the returned model.

    Returns:
        A built `keras.Sequential` from `(B, input_dim)` to `(B, dims[-1])`.

    Example:
    >>> head = mlp(512, (512, 128))
    >>> head.output_shape
    (None, 128)
    """
    dims = tuple(int(d) for d in dims)
    if not dims or min(dims) <= 0 or input_dim <= 0:
        raise ValueError(
            f"`dims` must be positive layer widths and `input_dim` > 0. "
            f"Received: input_dim={input_dim}, dims={dims}"
        )
    synchronized = distribute.num_replicas() > 1
    layers = [keras.Input((input_dim,))]
    for i, width in enumerate(dims):
        last = i == len(dims) - 1
        bn = last_bn if last else batch_norm
        use_bias = not bn and (last_bias or not last)
        layers.append(keras.layers.Dense(width, use_bias=use_bias))
        if bn:
            affine = last_bn_affine or not last
            layers.append(
                FusedBatchNormalization(
                    center=affine, scale=affine, synchronized=synchronized
                )
            )
        if not last:
            layers.append(keras.layers.Activation(activation))
    return keras.Sequential(layers, name=name)
