"""RAFT's loss (Shi, Luo, Tang, Wang and Zhuang 2020, "Run Away From your
Teacher: Understanding BYOL by a Novel Self-Supervised Approach",
https://arxiv.org/abs/2011.10944)."""

from keras import ops

from keras_ssl.ops_utils import l2_normalize


def raft_loss(p1, p2, t1, t2, alpha=1.0, beta=1.0, z1=None, z2=None):
    """Per-sample RAFT loss `alpha L_align - beta L_cross`.

    With every output L2-normalized: `L_align = ||p1 - p2||^2` pulls the
    online outputs of the two views together; `L_cross = (||p1 - sg(t1)||^2 +
    ||p2 - sg(t2)||^2) / 2` is the distance of each online output to the mean
    teacher's output of the same view, which RAFT maximizes ("runs away"),
    where BYOL minimizes a bound built from the same two terms. On the unit
    sphere `L_cross <= 4`, so the loss is bounded below. With `z1, z2` (the
    online outputs before the predictor) the alignment term uses them
    instead, `L_align = ||z1 - z2||^2`: the predictor then sits in the
    run-away term only.

    Args:
        p1, p2: `(N, d)` online outputs (after the predictor) of views 1 and 2.
        t1, t2: `(N, d)` mean-teacher outputs of views 1 and 2.
        alpha: weight of the alignment term (library default 1).
        beta: weight of the run-away term (library default 1).
        z1, z2: optional `(N, d)` online outputs of views 1 and 2 for the
            alignment term (both or neither).

    Returns:
        `(N,)` float32 per-sample losses.
    """
    if (z1 is None) != (z2 is None):
        raise ValueError("Pass both `z1` and `z2` (the alignment term's inputs) or neither.")
    a1, a2 = (p1, p2) if z1 is None else (z1, z2)
    a1, a2 = l2_normalize(a1), l2_normalize(a2)
    p1, p2 = l2_normalize(p1), l2_normalize(p2)
    t1, t2 = (l2_normalize(ops.stop_gradient(t)) for t in (t1, t2))
    align = ops.sum(ops.square(a1 - a2), axis=-1)
    cross = (
        ops.sum(ops.square(p1 - t1), axis=-1) + ops.sum(ops.square(p2 - t2), axis=-1)
    ) / 2.0
    return alpha * align - beta * cross
