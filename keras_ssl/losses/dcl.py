"""Decoupled contrastive losses DCL and DCLW (Yeh et al. 2022, "Decoupled
Contrastive Learning", https://arxiv.org/abs/2110.06848)."""

from keras import ops

from keras_ssl import distribute
from keras_ssl.arg_checks import check_temperature
from keras_ssl.ops_utils import l2_normalize

_MASKED = -1e9


def _decoupled_loss(z1, z2, temperature, sigma=None):
    check_temperature(temperature)
    z1 = l2_normalize(z1)
    z2 = l2_normalize(z2)
    z1_all = distribute.all_gather(z1)
    z2_all = distribute.all_gather(z2)
    n = ops.shape(z1)[0]
    # The positive (other view) and self (same view) sit at the same global row.
    own = ops.one_hot(distribute.global_positive_indices(n), ops.shape(z1_all)[0])
    weight = 1.0
    if sigma is not None:
        # w_i = 2 - exp(s_i / sigma) / mean_j exp(s_j / sigma) over the global
        # batch's positive pairs: N * softmax, which cannot overflow.
        positives = ops.sum(z1 * z2, axis=-1) / sigma
        positives_all = distribute.all_gather(positives)
        count = ops.cast(ops.shape(positives_all)[0], "float32")
        weight = 2.0 - count * ops.exp(positives - ops.logsumexp(positives_all))

    def anchor_loss(anchor, partners, same_view):
        cross = ops.matmul(anchor, ops.transpose(partners)) / temperature
        same = ops.matmul(anchor, ops.transpose(same_view)) / temperature
        positive = ops.sum(cross * own, axis=1)
        negatives = ops.concatenate([cross + own * _MASKED, same + own * _MASKED], axis=1)
        return -weight * positive + ops.logsumexp(negatives, axis=1)

    return (anchor_loss(z1, z2_all, z1_all) + anchor_loss(z2, z1_all, z2_all)) / 2


def dcl_loss(z1, z2, temperature=0.1):
    """Per-sample decoupled contrastive loss (DCL) of two views.

    NT-Xent with the positive pair removed from the denominator (paper eq.
    6): for anchor `i` with partner `p(i)` and `s_ij = l2n(z_i) . l2n(z_j) /
    T`, `l_i = -s_i,p(i) + log sum_{k != i, p(i)} exp(s_ik)`, the `2N - 2`
    other samples of both views as negatives. The paper shows this removes
    the negative-positive coupling that makes NT-Xent need large batches.
    Negatives are gathered across replicas as in `nt_xent_loss`.

    Args:
        z1: `(N, d)` projections of the first view.
        z2: `(N, d)` projections of the second view, row `i` the partner of
            `z1[i]`.
        temperature: `T > 0`. Default 0.1 (the official code's default).

    Returns:
        `(N,)` float32: `(l_i + l_{i+N}) / 2`, so that its mean is the mean
        over the `2N` anchors (the official code sums the two directions,
        twice this value).

    Example:
    >>> loss = ops.mean(dcl_loss(z1, z2, temperature=0.1))
    """
    return _decoupled_loss(z1, z2, temperature)


def dclw_loss(z1, z2, temperature=0.1, sigma=0.5):
    """Per-sample weighted decoupled contrastive loss (DCLW) of two views.

    `dcl_loss` with the positive term weighted by the negative von
    Mises-Fisher weight (paper section 4): `l_i = -w_i s_i,p(i) + log
    sum_{k != i, p(i)} exp(s_ik)`, `w_i = 2 - exp(c_i / sigma) / mean_j
    exp(c_j / sigma)` with `c_i = cos(z1_i, z2_i)` over the global batch, so
    the weights average to 1 and harder positive pairs (lower `c_i`) weigh
    more. As in the official code, the weight is part of the graph (not
    under stop-gradient).

    Args:
        z1: `(N, d)` projections of the first view.
        z2: `(N, d)` projections of the second view.
        temperature: `T > 0`. Default 0.1.
        sigma: `sigma > 0` of the weight. Default 0.5 (paper).

    Returns:
        `(N,)` float32: `(l_i + l_{i+N}) / 2` for each local pair `i`.
    """
    if isinstance(sigma, (int, float)) and sigma <= 0:
        raise ValueError(f"`sigma` must be > 0. Received: sigma={sigma}")
    return _decoupled_loss(z1, z2, temperature, sigma=sigma)
