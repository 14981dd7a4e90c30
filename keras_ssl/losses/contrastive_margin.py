"""Siamese margin losses: Chopra, Hadsell and LeCun 2005, "Learning a
Similarity Metric Discriminatively, with Application to Face Verification"
(https://doi.org/10.1109/CVPR.2005.202), and Hadsell, Chopra and LeCun 2006,
"Dimensionality Reduction by Learning an Invariant Mapping" (DrLIM,
https://doi.org/10.1109/CVPR.2006.100)."""

import keras
from keras import ops

from keras_ssl.arg_checks import check_positive

_EPSILON = 1e-12


def contrastive_margin_loss(embeddings_a, embeddings_b, is_similar, margin=1.0):
    """Per-pair DrLIM contrastive loss with a margin.

    `D = ||a - b||_2` and
    `L = is_similar * D^2 / 2 + (1 - is_similar) * max(0, m - D)^2 / 2`:
    similar pairs are pulled together, dissimilar pairs pushed until they
    are at least `m` apart, then left alone. `D = sqrt(sum + 1e-12)` keeps the
    gradient finite at `D = 0`; the margin acts on `D`, not `D^2`.
    `is_similar` is explicit (True = same) because libraries disagree on the
    sign of the label (the papers write `Y = 0` for similar pairs).

    Args:
        embeddings_a: `(N, d)` embeddings of the first items.
        embeddings_b: `(N, d)` embeddings of their partners.
        is_similar: `(N,)` bool or 0/1, whether each pair is similar.
        margin: `m > 0`. Default 1.0 (library choice, docs/methods.md, SiameseContrastive); on
            l2-normalized embeddings use `m <= 2`.

    Returns:
        `(N,)` float32 per-pair losses; their mean is the paper's loss.

    Example:
    >>> loss = ops.mean(contrastive_margin_loss(g(x1), g(x2), same_person))
    """
    check_positive("margin", margin)
    a = ops.cast(embeddings_a, "float32")
    b = ops.cast(embeddings_b, "float32")
    similar = ops.cast(ops.reshape(is_similar, (-1,)), "float32")
    squared = ops.sum(ops.square(a - b), axis=-1)
    distance = ops.sqrt(squared + _EPSILON)
    pull = squared / 2
    push = ops.square(ops.relu(margin - distance)) / 2
    return similar * pull + (1.0 - similar) * push


def siamese_energy_loss(embeddings_a, embeddings_b, is_similar, q=10.0):
    """Per-pair loss of Chopra et al. 2005 on the L1 energy.

    `E = ||a - b||_1`, `L = is_similar * (2 / Q) E^2 + (1 - is_similar) *
    2 Q exp(-2.77 E / Q)`, with `Q` the constant upper bound of `E`.

    Args:
        embeddings_a: `(N, d)` embeddings of the first items.
        embeddings_b: `(N, d)` embeddings of their partners.
        is_similar: `(N,)` bool or 0/1 (True = genuine pair, the paper's
            `Y = 0`).
        q: the bound `Q > 0` of the energy.

    Returns:
        `(N,)` float32 per-pair losses.
    """
    check_positive("q", q)
    a = ops.cast(embeddings_a, "float32")
    b = ops.cast(embeddings_b, "float32")
    similar = ops.cast(ops.reshape(is_similar, (-1,)), "float32")
    energy = ops.sum(ops.abs(a - b), axis=-1)
    genuine = (2.0 / q) * ops.square(energy)
    impostor = 2.0 * q * ops.exp(-2.77 * energy / q)
    return similar * genuine + (1.0 - similar) * impostor


@keras.saving.register_keras_serializable(package="keras_ssl")
class ContrastiveMarginLoss(keras.losses.Loss):
    """`keras.losses.Loss` wrapper of `contrastive_margin_loss` for a model
    whose output is the pair distance's inputs stacked: `y_true` is
    `is_similar` `(N,)`, `y_pred` is `(N, 2, d)` (both embeddings)."""

    def __init__(self, margin=1.0, name="contrastive_margin", **kwargs):
        super().__init__(name=name, **kwargs)
        check_positive("margin", margin)
        self.margin = margin

    def call(self, y_true, y_pred):
        return contrastive_margin_loss(y_pred[:, 0], y_pred[:, 1], y_true, self.margin)

    def get_config(self):
        config = super().get_config()
        config.update(margin=self.margin)
        return config
