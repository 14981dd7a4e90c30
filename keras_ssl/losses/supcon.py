"""Supervised contrastive loss (Khosla et al. 2020, "Supervised Contrastive
Learning", https://arxiv.org/abs/2004.11362)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.arg_checks import check_positive
from keras_ssl.arg_checks import check_temperature
from keras_ssl.ops_utils import l2_normalize

_MASKED = -1e9


def supcon_loss(features, labels, temperature=0.1, base_temperature=None):
    """Per-sample supervised contrastive loss `L_out` over several views.

    Every view of every sample is an anchor `i`. Its candidates `A(i)` are all
    other views in the (global) batch, its positives `P(i)` the candidates
    with the same label:
    `l_i = -(1 / |P(i)|) sum_{p in P(i)} log(exp(z_i . z_p / T) /
    sum_{a in A(i)} exp(z_i . z_a / T))`, scaled by `T / base_temperature`
    (the SupCon repo's factor; 1 by default). With all labels distinct and
    two views it equals NT-Xent.

    Under a `tf.distribute` strategy the local anchors are compared with the
    views and labels gathered from every replica (with gradient), so the loss
    equals the single-device loss on the global batch.

    Args:
        features: `(N, V, d)` embeddings, `V` views of each of `N` samples
            (l2-normalized here).
        labels: `(N,)` integer class ids.
        temperature: `T > 0`. Default 0.1 (paper and README, docs/methods.md, SupCon).
        base_temperature: `T_base` of the repo's `T / T_base` factor; default
            `temperature` (factor 1, docs/methods.md, SupCon).

    Returns:
        `(N,)` float32: each sample's mean of `l_i` over its views that have
        a positive. With `V >= 2` every view has one and the mean of this
        output is the paper's loss; with `V = 1` anchors without a positive
        are dropped (0 here), so divide the sum by the number of samples
        whose label occurs twice.

    Example:
    >>> z = keras.random.normal((8, 2, 128))        # two views of 8 images
    >>> loss = ops.mean(supcon_loss(z, labels))      # labels: (8,) int
    """
    check_temperature(temperature)
    if base_temperature is None:
        base_temperature = temperature
    check_positive("base_temperature", base_temperature)
    if len(features.shape) != 3:
        raise ValueError(
            "`features` must have shape (N, V, d), V views of N samples. "
            f"Received: features.shape={tuple(features.shape)}"
        )
    num_views = features.shape[1]
    features = l2_normalize(features)
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    anchors = ops.reshape(features, (-1, ops.shape(features)[-1]))
    candidates = ops.reshape(
        distribute.all_gather(features), (-1, ops.shape(features)[-1])
    )
    anchor_labels = ops.repeat(labels, num_views)
    candidate_labels = ops.repeat(distribute.all_gather(labels), num_views)

    own = distribute.global_positive_indices(ops.shape(anchors)[0])
    is_self = ops.one_hot(own, ops.shape(candidates)[0])
    logits = ops.matmul(anchors, ops.transpose(candidates)) / temperature
    logits = logits + is_self * _MASKED
    log_prob = ops.log_softmax(logits, axis=1)
    positives = ops.cast(
        ops.equal(anchor_labels[:, None], candidate_labels[None, :]), "float32"
    ) * (1.0 - is_self)
    count = ops.sum(positives, axis=1)
    per_anchor = -ops.sum(positives * log_prob, axis=1) / ops.maximum(count, 1.0)
    per_anchor = per_anchor * (temperature / base_temperature)
    has_positive = ops.cast(count > 0, "float32")
    per_anchor = ops.reshape(per_anchor, (-1, num_views))
    has_positive = ops.reshape(has_positive, (-1, num_views))
    return ops.sum(per_anchor, axis=1) / ops.maximum(ops.sum(has_positive, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="keras_ssl")
class SupConLoss(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `supcon_loss`.

    Call it as `loss(labels, features)`: `y_true` holds the `(N,)` labels and
    `y_pred` the `(N, V, d)` embeddings, as in supervised Keras losses.
    """

    def __init__(self, temperature=0.1, base_temperature=None, name="supcon", **kwargs):
        super().__init__(name=name, **kwargs)
        check_temperature(temperature)
        self.temperature = temperature
        self.base_temperature = base_temperature

    def call(self, y_true, y_pred):
        return supcon_loss(y_pred, y_true, self.temperature, self.base_temperature)

    def get_config(self):
        config = super().get_config()
        config.update(
            temperature=self.temperature, base_temperature=self.base_temperature
        )
        return config
