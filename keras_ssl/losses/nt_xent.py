"""NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (Chen et al.
2020, "A Simple Framework for Contrastive Learning of Visual Representations",
https://arxiv.org/abs/2002.05709)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.arg_checks import check_temperature
from keras_ssl.ops_utils import l2_normalize

_MASKED = -1e9


def nt_xent_loss(z1, z2, temperature=0.5):
    """Per-sample NT-Xent loss of two views, negatives gathered across replicas.

    With `z = l2n(concat(z1, z2))` and `s_ij = z_i . z_j / T`, anchor `i` with
    partner `p(i)` has `l_i = -s_i,p(i) + log sum_{k != i} exp(s_ik)`: one
    positive and `2N - 2` negatives, itself excluded. The paper's loss is the
    mean of `l` over all `2N` anchors, which is the mean of this function's
    output. (The SimCLR TF repo reports twice that value.) Chance value, all
    embeddings equal: `ln(2N - 1)`.

    Under a `tf.distribute` strategy each replica's local view-1 anchors get the
    logits `[z1 . Z2_all, z1 . Z1_all]` over the gathered views (own entry in
    the second block masked) with the positive at `replica_id * N + i`, as in
    the SimCLR TF repo; view-2 anchors symmetrically.

    Args:
        z1: `(N, d)` projections of the first view.
        z2: `(N, d)` projections of the second view, row `i` the partner of
            `z1[i]`.
        temperature: `T > 0`. Default 0.5, the SimCLR CIFAR-10 value
            (the paper's ImageNet runs use 0.1).

    Returns:
        `(N,)` float32: `(l_i + l_{i+N}) / 2` for each local pair `i`, so that
        its mean is the paper's loss.
    """
    check_temperature(temperature)
    z1 = l2_normalize(z1)
    z2 = l2_normalize(z2)
    z1_all = distribute.all_gather(z1)
    z2_all = distribute.all_gather(z2)
    labels = distribute.global_positive_indices(ops.shape(z1)[0])
    self_mask = ops.one_hot(labels, ops.shape(z1_all)[0]) * _MASKED

    def anchor_loss(anchor, partners, same_view):
        logits = ops.concatenate(
            [
                ops.matmul(anchor, ops.transpose(partners)) / temperature,
                ops.matmul(anchor, ops.transpose(same_view)) / temperature + self_mask,
            ],
            axis=1,
        )
        return keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True
        )

    return (anchor_loss(z1, z2_all, z1_all) + anchor_loss(z2, z1_all, z2_all)) / 2


@keras.saving.register_keras_serializable(package="keras_ssl")
class NTXent(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `nt_xent_loss`.

    Call it as `loss(z1, z2)`: `y_true` is the first view's projections and
    `y_pred` the second's.
    """

    def __init__(self, temperature=0.5, name="nt_xent", **kwargs):
        super().__init__(name=name, **kwargs)
        check_temperature(temperature)
        self.temperature = temperature

    def call(self, y_true, y_pred):
        return nt_xent_loss(y_true, y_pred, temperature=self.temperature)

    def get_config(self):
        config = super().get_config()
        config.update(temperature=self.temperature)
        return config
