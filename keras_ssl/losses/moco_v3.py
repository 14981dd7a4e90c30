"""MoCo v3's symmetric contrastive loss (Chen, Xie and He 2021, "An Empirical
Study of Training Self-Supervised Vision Transformers",
https://arxiv.org/abs/2104.02057)."""

from keras import ops

from keras_ssl.arg_checks import check_temperature
from keras_ssl.losses.info_nce import info_nce_loss


def moco_v3_loss(q1, q2, k1, k2, temperature=1.0):
    """Per-sample MoCo v3 loss `2T (ctr(q1, k2) + ctr(q2, k1))`.

    `ctr(q, k)` is InfoNCE of the local queries against the momentum keys of
    the whole global batch (`l2n(q) l2n(k_all)^T / T`, positive at global row
    `replica_id * N + i`); the keys are taken under `stop_gradient` (no
    gradient crosses replicas). The `2T` factor, from the paper's pseudo-code,
    keeps the gradient scale independent of `T`. Chance: `4 T ln(N R)`.

    Args:
        q1, q2: `(N, d)` predictor outputs of the two views.
        k1, k2: `(N, d)` momentum-encoder projections of the two views.
        temperature: `T > 0`; 1.0 for ResNets, 0.2 for ViTs (paper).

    Returns:
        `(N,)` float32 per-sample losses (their mean is the paper's loss).
    """
    check_temperature(temperature)
    k1, k2 = ops.stop_gradient(k1), ops.stop_gradient(k2)
    return (2.0 * temperature) * (
        info_nce_loss(q1, k2, temperature=temperature)
        + info_nce_loss(q2, k1, temperature=temperature)
    )
