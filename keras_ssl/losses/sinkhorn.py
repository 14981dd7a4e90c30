"""Sinkhorn-Knopp equipartition of SwAV (Caron et al. 2020, "Unsupervised
Learning of Visual Features by Contrasting Cluster Assignments",
https://arxiv.org/abs/2006.09882)."""

from keras import ops


def sinkhorn(scores, epsilon=0.05, num_iters=3):
    """Soft assignments of samples to prototypes with equal-sized clusters.

    The SwAV repo's Sinkhorn-Knopp (docs/methods.md, SwAV), with `B` rows
    and `K` prototypes: `Q = exp(scores / epsilon)` (a global max subtracted
    first, which cancels), normalized to sum 1, then `num_iters` times: each
    prototype's column is scaled to sum `1 / K`, then each sample's row to
    sum `1 / B`; finally rows are scaled by `B` so that each sums to 1.
    Computed in float32 with no gradient.

    It works on the matrix it is given: to equipartition over the global
    batch of several replicas, pass the gathered scores (as `swav_loss`
    does) and keep the local rows.

    Args:
        scores: `(B, K)` similarities of samples to prototypes.
        epsilon: entropy regularization; smaller is sharper. Default 0.05
            (SwAV repo; 0.03 if training collapses).
        num_iters: Sinkhorn iterations. Default 3 (SwAV repo).

    Returns:
        `(B, K)` float32 codes: rows sum to 1, and the columns approach the
        uniform marginal `B / K` as the iterations proceed.

    Example:
    >>> codes = sinkhorn(ops.matmul(embeddings, ops.transpose(prototypes)))
    """
    if epsilon <= 0 or int(num_iters) < 1:
        raise ValueError(
            "`epsilon` must be > 0 and `num_iters` >= 1. Received: "
            f"epsilon={epsilon}, num_iters={num_iters}"
        )
    scores = ops.stop_gradient(ops.cast(scores, "float32"))
    rows = ops.cast(ops.shape(scores)[0], "float32")
    prototypes = ops.cast(ops.shape(scores)[1], "float32")
    q = ops.exp((scores - ops.max(scores)) / epsilon)
    q = q / ops.sum(q)
    for _ in range(int(num_iters)):
        q = q / ops.sum(q, axis=0, keepdims=True) / prototypes
        q = q / ops.sum(q, axis=1, keepdims=True) / rows
    return q * rows
