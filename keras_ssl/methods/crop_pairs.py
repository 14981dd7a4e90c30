"""Multi-crop for the two-view methods: which crops are paired, and the loss
over the pairs.

Multi-crop (Caron et al. 2020, "Unsupervised Learning of Visual Features by
Contrasting Cluster Assignments", https://arxiv.org/abs/2006.09882, section
3.2) adds small local crops to the two global views. A two-view method then
pairs crops the way solo-learn's BYOL does: each global crop is a target (a
key, a stop-gradient projection, a nearest-neighbour lookup), every other
crop a prediction (a query) against it. With two crops the pairs are
`(0, 1)` and `(1, 0)`, the method's two directions, so the loss is the
two-view loss.
"""

from keras import ops


def several_sizes(augmenter):
    """Whether the augmenter makes views of more than one size (its encoder
    input must then take any size)."""
    return len(set(augmenter.output_sizes)) > 1


def num_target_crops(augmenter):
    """How many leading views are targets: `MultiCrop`'s global crops, or
    every view of a plain `ViewAugmenter`."""
    return getattr(augmenter, "num_global_crops", augmenter.num_views)


def crop_pairs(num_views, num_targets, symmetric=False):
    """`(target, prediction)` view indices: every view against each of the
    first `num_targets` views, itself excluded; with `symmetric=True` (a
    loss symmetric in its two views) a pair of two targets only once.

    Example:
    >>> crop_pairs(4, 2)
    ((0, 1), (0, 2), (0, 3), (1, 0), (1, 2), (1, 3))
    >>> crop_pairs(4, 2, symmetric=True)
    ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3))
    """
    return tuple(
        (target, view)
        for target in range(num_targets)
        for view in range(num_views)
        if view != target and not (symmetric and view < target)
    )


def over_crop_pairs(pair_loss, num_views, num_targets, reduction="mean", symmetric=False):
    """Sum or mean of `pair_loss(target, prediction)` over `crop_pairs`.

    A method whose two-view loss sums its two directions (BYOL, MoCo v3:
    `l(p1, z2) + l(p2, z1)`) sums over the pairs, as solo-learn's BYOL does
    with multi-crop; one that averages them (SimSiam, NNCLR) averages; a
    loss symmetric in its views (NT-Xent, Barlow Twins, VICReg) is the mean
    over the pairs, each counted once (`symmetric=True`). Each reduces to
    the two-view loss with two crops.

    Args:
        pair_loss: function of `(target, prediction)` indices returning a
            scalar or per-sample `(N,)` loss.
        num_views: number of views.
        num_targets: number of leading views that are targets.
        reduction: `"sum"` or `"mean"` over the pairs.
        symmetric: `pair_loss(t, v) == pair_loss(v, t)`: count each pair of
            targets once.

    Returns:
        The reduced loss, of `pair_loss`'s shape.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"`reduction` must be 'sum' or 'mean'. Received: {reduction!r}")
    pairs = crop_pairs(num_views, num_targets, symmetric)
    total = ops.sum(ops.stack([pair_loss(t, v) for t, v in pairs]), axis=0)
    return total / len(pairs) if reduction == "mean" else total
