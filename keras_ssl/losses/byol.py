"""BYOL's regression loss (Grill et al. 2020, "Bootstrap Your Own Latent",
https://arxiv.org/abs/2006.07733)."""

from keras import ops

from keras_ssl.ops_utils import l2_normalize


def byol_loss(p1, p2, z1, z2):
    """Per-sample symmetric BYOL loss `l(p1, z2) + l(p2, z1)`.

    `l(p, z) = ||l2n(p) - l2n(sg(z))||^2 = 2 - 2 cos(p, z)` (paper eq. 2);
    the two directions are summed as in the BYOL repo, so values lie in
    [0, 8]: 4 for orthogonal outputs, 0 when the predictions match.

    Args:
        p1, p2: `(N, d)` online predictions of views 1 and 2.
        z1, z2: `(N, d)` target projections of views 1 and 2 (taken under
            `stop_gradient`).

    Returns:
        `(N,)` float32 per-sample losses.
    """

    def regression(p, z):
        cosine = ops.sum(l2_normalize(p) * l2_normalize(ops.stop_gradient(z)), axis=-1)
        return 2.0 - 2.0 * cosine

    return regression(p1, z2) + regression(p2, z1)
