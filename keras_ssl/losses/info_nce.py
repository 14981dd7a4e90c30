"""InfoNCE (van den Oord et al. 2018, "Representation Learning with Contrastive
Predictive Coding", https://arxiv.org/abs/1807.03748)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.arg_checks import check_temperature
from keras_ssl.ops_utils import l2_normalize


def info_nce_loss(query, positive_key, negative_keys=None, temperature=0.1, normalize=True):
    """Per-sample InfoNCE loss of queries against one positive key each.

    `L_i = -log(exp(s(q_i, k+_i) / T) / (exp(s(q_i, k+_i) / T) + sum_j exp(s(q_i, n_j) / T)))`
    computed as a softmax cross-entropy (`logsumexp(logits) - logit[label]`), so
    small temperatures never overflow. Chance value: `ln(1 + M)` for `M`
    negatives.

    Without `negative_keys` this is the in-batch form: the keys of all replicas
    are gathered (with gradient) and each local query's positive is its own key
    at global row `replica_id * N + i`; every other key is a negative.

    Args:
        query: `(N, d)` queries.
        positive_key: `(N, d)` positive key of each query.
        negative_keys: `None` (in-batch negatives), `(M, d)` negatives shared by
            every query (a queue), or `(N, M, d)` negatives per query.
        temperature: softmax temperature `T > 0`. Default 0.1 (docs/methods.md, InfoNCE).
        normalize: compare by cosine similarity (default) or by dot product.

    Returns:
        `(N,)` float32 per-sample losses; take their mean for the paper's loss.
    """
    check_temperature(temperature)
    query = l2_normalize(query) if normalize else ops.cast(query, "float32")
    positive_key = (
        l2_normalize(positive_key) if normalize else ops.cast(positive_key, "float32")
    )
    if negative_keys is None:
        keys = distribute.all_gather(positive_key)
        logits = ops.matmul(query, ops.transpose(keys)) / temperature
        labels = distribute.global_positive_indices(ops.shape(query)[0])
        return keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True
        )
    negative_keys = (
        l2_normalize(negative_keys) if normalize else ops.cast(negative_keys, "float32")
    )
    positive_logits = ops.sum(query * positive_key, axis=-1, keepdims=True)
    if len(negative_keys.shape) == 2:
        negative_logits = ops.matmul(query, ops.transpose(negative_keys))
    else:
        negative_logits = ops.einsum("nd,nmd->nm", query, negative_keys)
    logits = ops.concatenate([positive_logits, negative_logits], axis=-1) / temperature
    labels = ops.zeros((ops.shape(query)[0],), dtype="int32")
    return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)


@keras.saving.register_keras_serializable(package="keras_ssl")
class InfoNCE(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `info_nce_loss` with in-batch negatives.

    Call it as `loss(query, positive_key)`: `y_true` is the query and `y_pred`
    the positive key.
    """

    def __init__(self, temperature=0.1, normalize=True, name="info_nce", **kwargs):
        super().__init__(name=name, **kwargs)
        check_temperature(temperature)
        self.temperature = temperature
        self.normalize = normalize

    def call(self, y_true, y_pred):
        return info_nce_loss(
            y_true, y_pred, temperature=self.temperature, normalize=self.normalize
        )

    def get_config(self):
        config = super().get_config()
        config.update(temperature=self.temperature, normalize=self.normalize)
        return config
