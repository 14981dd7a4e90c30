"""NNCLR's loss (Dwibedi et al. 2021, "With a Little Help from My Friends:
Nearest-Neighbor Contrastive Learning of Visual Representations",
https://arxiv.org/abs/2104.14548)."""

from keras import ops

from keras_ssl.arg_checks import check_temperature
from keras_ssl.losses.info_nce import info_nce_loss


def nearest_neighbours(queries, support_set):
    """The row of `support_set` closest (cosine) to each query, no gradient.

    The support set's rows must be l2-normalized, as NNCLR's support set of
    past `l2n(z1)` is (`layers.FeatureQueue` keeps its rows so): the dot
    product then ranks them as the cosine does, and the queries' norms do not
    change the argmax, so neither side is normalized again here.

    Args:
        queries: `(N, d)` embeddings.
        support_set: `(M, d)` l2-normalized candidates, e.g.
            `FeatureQueue.keys`.

    Returns:
        `(N, d)` rows of `support_set`, under `stop_gradient`.
    """
    support_set = ops.stop_gradient(support_set)
    scores = ops.matmul(ops.stop_gradient(queries), ops.transpose(support_set))
    # The argmax of each row, found by `top_k` (the lowest index of ties, as
    # `argmax`): `ops.argmax` first rewrites the negative zeros of the whole
    # (N, M) score matrix, passes over it that made the search 20-25 % slower
    # on TensorFlow's CPU at NNCLR's 512 x 65,536 (`benchmarks/LOG.md`).
    nearest = ops.top_k(scores, k=1)[1][:, 0]
    return ops.take(support_set, nearest, axis=0)


def nnclr_loss(z1, z2, p1, p2, support_set, temperature=0.1):
    """Per-sample NNCLR loss: nearest neighbours of the projections as positives.

    `nn_v = S[argmax(l2n(z_v) S^T)]` (no gradient) replaces view `v`'s
    projection, and is contrasted with the other view's predictions over the
    batch: `L = (CE(nn1 p2^T / T, arange) + CE(nn2 p1^T / T, arange)) / 2`
    with cosine similarities. The predictions are gathered across replicas
    (with gradient) and each local row's positive sits at global row
    `replica_id * N + i` (`info_nce_loss`'s in-batch form). When the support
    set holds the projections themselves, this is two-view InfoNCE between
    `z` and `p`.

    Args:
        z1, z2: `(N, d)` projections of the two views (their neighbours are
            looked up; no gradient flows through them).
        p1, p2: `(N, d)` predictions of the two views.
        support_set: `(M, d)` support set `S`: l2-normalized past
            projections, e.g. `FeatureQueue.keys`.
        temperature: `T > 0`. Default 0.1 (paper, docs/methods.md, NNCLR).

    Returns:
        `(N,)` float32 per-sample losses, the mean of the two directions.

    Example:
    >>> loss = ops.mean(nnclr_loss(z1, z2, p1, p2, model.queue.keys))
    """
    check_temperature(temperature)
    # One search for both views: a single pass over the support set.
    nn1, nn2 = ops.split(
        nearest_neighbours(ops.concatenate([z1, z2], axis=0), support_set), 2
    )
    return (
        info_nce_loss(nn1, p2, temperature=temperature)
        + info_nce_loss(nn2, p1, temperature=temperature)
    ) / 2

