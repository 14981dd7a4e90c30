"""`SplitBatchNormalization`: BatchNorm over groups of the batch ("ghost" BN)."""

import keras
from keras import ops

from keras_ssl.layers.fused_batch_normalization import FusedBatchNormalization


@keras.saving.register_keras_serializable(package="keras_ssl")
class SplitBatchNormalization(FusedBatchNormalization):
    """BatchNormalization whose training-mode statistics come from groups of
    the batch.

    MoCo's shuffling BN (He et al. 2020, "Momentum Contrast for Unsupervised
    Visual Representation Learning", https://arxiv.org/abs/1911.05722,
    section 3.3) keeps the key encoder's batch statistics from leaking which
    key is the positive. On one device the MoCo CIFAR-10 demo and lightly
    emulate the paper's per-GPU BN by normalizing `num_splits` sub-batches
    separately; this layer does that. Sample `i` belongs to group
    `i % num_splits`, so any batch size works (a short last batch included);
    on TensorFlow, a batch of known size that `num_splits` divides runs the
    fused kernel of `FusedBatchNormalization`, with the groups as channels.
    The moving statistics follow the mean of the groups' statistics. In
    inference mode the layer is a `FusedBatchNormalization`.

    Args:
        num_splits: number of groups, >= 1 (8 in the MoCo CIFAR demo).
        **kwargs: `keras.layers.BatchNormalization` arguments.
    """

    def __init__(self, num_splits=8, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_splits, int) or num_splits < 1:
            raise ValueError(
                f"`num_splits` must be an int >= 1. Received: num_splits={num_splits!r}"
            )
        self.num_splits = num_splits

    def call(self, inputs, training=None, mask=None):
        if not training or not self.trainable or self.num_splits == 1:
            return super().call(inputs, training=training, mask=mask)
        batch = inputs.shape[0]
        if self._can_fuse(inputs, mask) and batch and batch % self.num_splits == 0:
            return self._fused_call(inputs, training=True, groups=self.num_splits)
        x = ops.cast(inputs, "float32")
        axis = self.axis % len(x.shape)
        channels = x.shape[axis]
        # (B, ..., C) -> (B, C): per-sample sums over the reduced axes.
        per_sample_axes = [a for a in range(1, len(x.shape)) if a != axis]
        batch = ops.shape(x)[0]
        groups = ops.arange(batch, dtype="int32") % self.num_splits
        sizes = ops.segment_sum(ops.ones((batch,)), groups, self.num_splits)
        count = ops.maximum(sizes, 1.0)[:, None]
        for a in per_sample_axes:
            count = count * ops.cast(ops.shape(x)[a], "float32")

        def group_mean(values):
            sums = ops.sum(values, axis=per_sample_axes) if per_sample_axes else values
            return ops.segment_sum(sums, groups, self.num_splits) / count

        def per_sample(stat):
            # (num_splits, C) -> broadcastable to x, row i = stat of i's group.
            rows = ops.take(stat, groups, axis=0)
            shape = [-1] + [channels if a == axis else 1 for a in range(1, len(x.shape))]
            return ops.reshape(rows, shape)

        mean = group_mean(x)
        centered = x - per_sample(mean)
        variance = group_mean(ops.square(centered))
        outputs = centered * per_sample(ops.rsqrt(variance + self.epsilon))
        shape = [1] * len(x.shape)
        shape[axis] = channels
        if self.scale:
            outputs = outputs * ops.reshape(ops.cast(self.gamma, "float32"), shape)
        if self.center:
            outputs = outputs + ops.reshape(ops.cast(self.beta, "float32"), shape)
        used = ops.cast(sizes > 0, "float32")[:, None]
        groups_used = ops.sum(used)
        batch_mean = ops.sum(mean * used, axis=0) / groups_used
        batch_variance = ops.sum(variance * used, axis=0) / groups_used
        for variable, value in (
            (self.moving_mean, batch_mean),
            (self.moving_variance, batch_variance),
        ):
            variable.assign(self.momentum * variable + (1.0 - self.momentum) * value)
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(num_splits=self.num_splits)
        return config
