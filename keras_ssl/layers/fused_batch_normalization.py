"""`FusedBatchNormalization`: Keras BatchNormalization on TensorFlow's fused kernel."""

import keras


@keras.saving.register_keras_serializable(package="keras_ssl")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` that runs TensorFlow's fused kernel.

    Keras 3 computes BatchNormalization from separate moments, normalize,
    scale and shift ops on every backend. On the TensorFlow backend this
    layer runs the same arithmetic as one `FusedBatchNormV3` op (oneDNN on
    CPU, cuDNN on GPU), forward and backward, which is faster than the
    separate ops (`benchmarks/RESULTS.md` holds the current figures).
    Outputs, gradients and moving statistics are
    Keras's (biased batch variance, Keras's `momentum`) to float32 rounding;
    `tests/layers/` checks them against `keras.layers.BatchNormalization`.

    Under `mixed_bfloat16` (or `mixed_float16`) the kernel takes the
    half-precision inputs as they are and keeps its statistics in float32,
    where Keras's layer casts the inputs to float32 and back. Convolutions
    and BatchNormalization then stay in bfloat16, so oneDNN's bfloat16
    convolutions run without casts between them.

    Inputs of rank 4 with channels last and of rank 2 take the fused kernel.
    Everything else falls back to `keras.layers.BatchNormalization`: other
    backends, other ranks or axes, masks, `renorm`, and `synchronized=True`
    (cross-replica statistics). The variables and the config arguments are
    `keras.layers.BatchNormalization`'s, so `get_weights()` of one class
    sets the other; `.weights.h5` files name layers by class, so a file
    saved with one class does not load into the other.

    Args:
        **kwargs: `keras.layers.BatchNormalization` arguments.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._can_fuse(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        return self._fused_call(inputs, training=bool(training and self.trainable))

    def _can_fuse(self, inputs, mask=None):
        rank = len(inputs.shape)
        return (
            keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.renorm
            and not self.synchronized
            and rank in (2, 4)
            and self.axis % rank == rank - 1
        )

    def _fused_call(self, inputs, training, groups=1):
        """The fused kernel; in training, `groups > 1` normalizes the rows
        `i % groups` of each group with their own statistics (the batch size
        must be a multiple of `groups`), and the moving statistics follow the
        mean of the groups' statistics."""
        import tensorflow as tf

        # The kernel takes float16/bfloat16 inputs with float32 statistics
        # (Keras 2's fused BN did the same under mixed precision).
        half = inputs.dtype in (tf.float16, tf.bfloat16)
        x = inputs if half else tf.cast(inputs, "float32")
        shape = tf.shape(x)
        channels = inputs.shape[-1]
        # (B, ..., C) -> (B / groups, pixels, 1, groups * C): the rows of one
        # group become one block of channels.
        pixels = tf.reduce_prod(shape[1:-1])
        if groups > 1:
            x = tf.transpose(tf.reshape(x, (-1, groups, pixels, channels)), (0, 2, 1, 3))
        x = tf.reshape(x, (-1, pixels, 1, groups * channels))
        gamma = tf.cast(self.gamma, "float32") if self.scale else tf.ones((channels,))
        beta = tf.cast(self.beta, "float32") if self.center else tf.zeros((channels,))
        if training:
            empty = tf.zeros((0,))
            outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=tf.tile(gamma, [groups]), offset=tf.tile(beta, [groups]),
                mean=empty, variance=empty, epsilon=self.epsilon, is_training=True,
            )
            # The kernel returns the unbiased variance; Keras's moving
            # variance follows the biased one that normalized the batch.
            count = tf.cast(tf.size(x) // (groups * channels), "float32")
            variance = variance * tf.maximum(count - 1.0, 0.0) / count
            for variable, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
                value = tf.reduce_mean(tf.reshape(value, (groups, channels)), axis=0)
                variable.assign(variable * self.momentum + value * (1.0 - self.momentum))
        else:
            outputs = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=gamma, offset=beta,
                mean=tf.cast(self.moving_mean, "float32"),
                variance=tf.cast(self.moving_variance, "float32"),
                epsilon=self.epsilon, is_training=False,
            )[0]
        if groups > 1:
            outputs = tf.reshape(outputs, (-1, pixels, groups, channels))
            outputs = tf.transpose(outputs, (0, 2, 1, 3))
        return tf.cast(tf.reshape(outputs, shape), self.compute_dtype)
