"""The SwAV swapped-prediction loss (Caron et al. 2020, "Unsupervised Learning
of Visual Features by Contrasting Cluster Assignments",
https://arxiv.org/abs/2006.09882)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.arg_checks import check_temperature
from keras_ssl.losses.sinkhorn import sinkhorn


def swav_codes(scores, queue_scores=None, epsilon=0.05, num_iters=3):
    """Sinkhorn codes of the local rows, equipartitioned over the global batch.

    The scores of every replica are gathered, the queue's rows (the same on
    every replica) are put first, `sinkhorn` runs on the whole matrix and the
    rows of this replica's samples are returned. No gradient.

    Args:
        scores: `(N, K)` local scores of one crop.
        queue_scores: optional `(L, K)` scores of queued embeddings.
        epsilon: Sinkhorn's entropy regularization. Default 0.05.
        num_iters: Sinkhorn iterations. Default 3.

    Returns:
        `(N, K)` float32 codes, rows summing to 1.
    """
    scores = ops.stop_gradient(ops.cast(scores, "float32"))
    everything = distribute.all_gather(scores)
    offset = 0
    if queue_scores is not None:
        queue_scores = ops.stop_gradient(ops.cast(queue_scores, "float32"))
        everything = ops.concatenate([queue_scores, everything], axis=0)
        offset = ops.shape(queue_scores)[0]
    codes = sinkhorn(everything, epsilon, num_iters)
    rows = offset + distribute.global_positive_indices(ops.shape(scores)[0])
    return ops.take(codes, rows, axis=0)


def swav_loss(
    scores,
    temperature=0.1,
    epsilon=0.05,
    num_iters=3,
    assign_crops=(0, 1),
    queue_scores=None,
    codes=None,
):
    """Per-sample SwAV swapped-prediction loss over all crops.

    For each assignment crop `a` (the high-resolution crops) the codes `q_a`
    come from `swav_codes` (Sinkhorn over the global batch, the queue
    prepended when given, no gradient); every other crop `v`, small ones
    included, predicts them: `l(a, v) = -sum_k q_a[k] log softmax(s_v / T)[k]`,
    and `L = mean_a sum_{v != a} l(a, v) / (V - 1)` (docs/methods.md, SwAV).
    Chance value, uniform codes and predictions: `ln K`.

    Args:
        scores: list of `V >= 2` tensors `(N, K)`, one per crop: similarities
            of the l2-normalized embeddings to the unit-norm prototypes.
        temperature: softmax temperature of the predictions, > 0. Default 0.1
            (SwAV repo).
        epsilon: Sinkhorn's entropy regularization. Default 0.05.
        num_iters: Sinkhorn iterations. Default 3.
        assign_crops: indices of the crops that give codes. Default `(0, 1)`,
            the two high-resolution crops.
        queue_scores: optional list, one `(L, K)` tensor per assignment crop:
            the queued embeddings of that crop scored by the current
            prototypes.
        codes: optional list, one `(N, K)` tensor per assignment crop: codes
            computed by the caller (e.g. `swav_codes`); then `epsilon`,
            `num_iters` and `queue_scores` are not used.

    Returns:
        `(N,)` float32 per-sample losses; their mean is the paper's loss.
    """
    check_temperature(temperature)
    scores = [ops.cast(s, "float32") for s in scores]
    assign_crops = tuple(int(a) for a in assign_crops)
    if len(scores) < 2 or not assign_crops or any(
        a < 0 or a >= len(scores) for a in assign_crops
    ):
        raise ValueError(
            "`scores` must hold at least 2 crops and `assign_crops` valid crop "
            f"indices. Received: {len(scores)} crops, assign_crops={assign_crops}"
        )
    log_predictions = [ops.log_softmax(s / temperature, axis=-1) for s in scores]
    total = 0.0
    for i, a in enumerate(assign_crops):
        if codes is not None:
            q = ops.stop_gradient(ops.cast(codes[i], "float32"))
        else:
            queue = None if queue_scores is None else queue_scores[i]
            q = swav_codes(scores[a], queue, epsilon, num_iters)
        for v, log_p in enumerate(log_predictions):
            if v != a:
                total = total - ops.sum(q * log_p, axis=-1)
    return total / (len(assign_crops) * (len(scores) - 1))


@keras.saving.register_keras_serializable(package="keras_ssl")
class SwAVLoss(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `swav_loss` for two crops.

    Call it as `loss(scores_1, scores_2)`: `y_true` is the first crop's
    prototype scores and `y_pred` the second's; each crop's codes are
    predicted from the other.
    """

    def __init__(
        self, temperature=0.1, epsilon=0.05, num_iters=3, name="swav", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        check_temperature(temperature)
        self.temperature = temperature
        self.epsilon = epsilon
        self.num_iters = num_iters

    def call(self, y_true, y_pred):
        return swav_loss(
            [y_true, y_pred], self.temperature, self.epsilon, self.num_iters
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            temperature=self.temperature,
            epsilon=self.epsilon,
            num_iters=self.num_iters,
        )
        return config
