"""Negative cosine similarity with a stop-gradient target, the loss of SimSiam
(Chen & He 2021, "Exploring Simple Siamese Representation Learning",
https://arxiv.org/abs/2011.10566)."""

import keras
from keras import ops

from keras_ssl.ops_utils import l2_normalize


def negative_cosine_similarity(prediction, target):
    """Per-sample `D(p, z) = -cos(p, sg(z))`, in [-1, 1].

    The target receives no gradient (SimSiam's stop-gradient, docs/methods.md,
    SimSiam): without it SimSiam collapses within an epoch.

    Args:
        prediction: `(N, d)` predictions `p`.
        target: `(N, d)` targets `z`, treated as constants.

    Returns:
        `(N,)` float32: -1 when `p` and `z` point the same way, 0 when they are
        orthogonal, +1 when opposite.

    Example:
    >>> negative_cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]])  # [-1.]
    """
    prediction = l2_normalize(prediction)
    target = ops.stop_gradient(l2_normalize(target))
    return -ops.sum(prediction * target, axis=-1)


def simsiam_loss(p1, p2, z1, z2):
    """Per-sample symmetric SimSiam loss `D(p1, z2) / 2 + D(p2, z1) / 2`.

    Args:
        p1: `(N, d)` predictor outputs of the first view.
        p2: `(N, d)` predictor outputs of the second view.
        z1: `(N, d)` projections of the first view (stop-gradient targets).
        z2: `(N, d)` projections of the second view (stop-gradient targets).

    Returns:
        `(N,)` float32 per-sample losses; their mean is the paper's loss, in
        [-1, 1] (0 for orthogonal outputs, -1 when collapsed).
    """
    return (
        negative_cosine_similarity(p1, z2) + negative_cosine_similarity(p2, z1)
    ) / 2


@keras.saving.register_keras_serializable(package="keras_ssl")
class NegativeCosineSimilarity(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `negative_cosine_similarity`.

    Call it as `loss(target, prediction)`: `y_true` is the stop-gradient
    target `z`, `y_pred` the prediction `p`.
    """

    def __init__(self, name="negative_cosine_similarity", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return negative_cosine_similarity(y_pred, y_true)
