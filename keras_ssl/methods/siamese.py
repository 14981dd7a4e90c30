"""Siamese network with the contrastive margin loss (Chopra, Hadsell and LeCun
2005, "Learning a Similarity Metric Discriminatively, with Application to Face
Verification", https://doi.org/10.1109/CVPR.2005.202; Hadsell, Chopra and
LeCun 2006, "Dimensionality Reduction by Learning an Invariant Mapping",
https://doi.org/10.1109/CVPR.2006.100)."""

import keras
from keras import ops

from keras_ssl import losses
from keras_ssl.arg_checks import check_positive
from keras_ssl.methods import input_checks
from keras_ssl.methods.base import SSLModel

_PAIR_KEYS = ("first", "second", "is_similar")
_NEEDS_PAIRS = "Labelled pairs must be a dict with keys 'first', 'second', 'is_similar'."
_LOSSES = ("margin", "energy")


@keras.saving.register_keras_serializable(package="keras_ssl")
class SiameseContrastive(SSLModel):
    """A shared network `G` trained so that similar pairs are close and
    dissimilar pairs at least `margin` apart (`losses.contrastive_margin_loss`).

    Two ways to train:

    - labelled pairs: `x` is a dict `{"first": images, "second": images,
      "is_similar": bool (B,)}`, e.g. from `keras_ssl.data.make_pairs`; each
      image gets its own random augmentation (view 1 for `first`, view 2 for
      `second`);
    - self-supervised: `x` is a batch of images (or pre-made views); two
      augmented views of an image form a similar pair, and each first view is
      paired with the second view of `num_negatives` other images of the
      local batch (rows shifted by 1, 2, ...) as dissimilar pairs.

    The loss is the mean over all pairs of `objective="margin"`, the DrLIM
    margin loss (Hadsell et al. 2006, `losses.contrastive_margin_loss`), or
    `objective="energy"`, the 2005 paper's loss on the L1 energy with bound `q`
    (Chopra et al. 2005, `losses.siamese_energy_loss`). `embed(images)` gives `G(x)` for
    verification (threshold on the distance); `encoder` and `export_encoder`
    give the backbone features as for every method.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, SiameseContrastive: `G` = backbone + Linear(-> 128),
    no normalization (the margin acts on raw distances); margin 1.0 (library
    choice); augmentation `simclr_views(size)`.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        embedding_dim: width of `G`'s output.
        margin: `m > 0` of the margin loss.
        objective: the loss, `"margin"` (default) or `"energy"`.
        q: the energy loss's bound `Q > 0` of the L1 energy; default the
            recipe's, 10 (the fixture value of docs/methods.md, SiameseContrastive; the paper sets it to
            the energy's upper bound).
        num_negatives: dissimilar partners per image in the self-supervised
            pairing, `1 <= num_negatives < batch`.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> model = keras_ssl.SiameseContrastive(keras_ssl.backbones.small_cnn())
    >>> model.compile(optimizer=keras.optimizers.Adam(1e-3))
    >>> model.fit(keras_ssl.data.make_pairs((x, y)), batch_size=128, epochs=10)
    >>> distance = np.linalg.norm(model.embed(a) - model.embed(b), axis=1)
    """

    recipe_name = "siamese"

    def __init__(
        self,
        backbone,
        embedding_dim=None,
        margin=None,
        num_negatives=None,
        objective="margin",
        q=None,
        **kwargs,
    ):
        if objective not in _LOSSES:
            raise ValueError(
                f"`objective` must be one of {_LOSSES}. Received: objective={objective!r}"
            )
        if q is not None and q <= 0:
            raise ValueError(f"`q` must be > 0. Received: q={q}")
        super().__init__(backbone, **kwargs)
        default = self.recipe.default
        q = default("q", q)
        embedding_dim = default("embedding_dim", embedding_dim)
        margin = default("margin", margin)
        num_negatives = default("num_negatives", num_negatives)
        if not isinstance(embedding_dim, int) or embedding_dim <= 0:
            raise ValueError(
                f"`embedding_dim` must be a positive int. Received: {embedding_dim!r}"
            )
        if not isinstance(num_negatives, int) or num_negatives < 1:
            raise ValueError(
                f"`num_negatives` must be an int >= 1. Received: {num_negatives!r}"
            )
        check_positive("margin", margin)
        self.embedding_dim = embedding_dim
        self.margin = float(margin)
        self.num_negatives = num_negatives
        self.objective = objective
        self.q = float(q)
        self.min_batch_size = num_negatives + 1
        self.projector = keras.Sequential(
            [keras.Input((self.feature_dim,)), keras.layers.Dense(embedding_dim)],
            name="projector",
        )
        self.built = True

    def embed(self, images, training=False):
        """`G(x)`: the `(B, embedding_dim)` embeddings of raw images."""
        features = self.encoder(ops.cast(images, "float32"), training=training)
        return self.projector(features, training=training)

    # ---------------------------------------------------------------- the step
    def make_views(self, x):
        """`(view_1, view_2, is_similar)`; `is_similar` is None without labels."""
        if isinstance(x, dict):
            input_checks.check_dict_keys(x, _PAIR_KEYS, _NEEDS_PAIRS)
            first = self.augmenter(x["first"], training=True)[0]
            second = self.augmenter(x["second"], training=True)[-1]
            return first, second, x["is_similar"]
        return (*super().make_views(x), None)

    def forward(self, views, training):
        *views, is_similar = views
        features = self.encoder(ops.concatenate(views, axis=0), training=training)
        embeddings = self.projector(features, training=training)
        return {
            "features": tuple(ops.split(features, len(views), axis=0)),
            "embeddings": tuple(ops.split(embeddings, len(views), axis=0)),
            "is_similar": is_similar,
        }

    def compute_ssl_loss(self, outputs, training):
        first, second = outputs["embeddings"]
        if outputs["is_similar"] is not None:
            return ops.mean(self._pair_loss(first, second, outputs["is_similar"]))
        anchors = [first] * (1 + self.num_negatives)
        partners = [second] + [
            ops.roll(second, shift, axis=0) for shift in range(1, self.num_negatives + 1)
        ]
        n = ops.shape(first)[0]
        is_similar = ops.concatenate(
            [ops.ones((n,), "bool")] + [ops.zeros((n,), "bool")] * self.num_negatives
        )
        return ops.mean(
            self._pair_loss(
                ops.concatenate(anchors, axis=0), ops.concatenate(partners, axis=0), is_similar
            )
        )

    def _pair_loss(self, first, second, is_similar):
        if self.objective == "energy":
            return losses.siamese_energy_loss(first, second, is_similar, self.q)
        return losses.contrastive_margin_loss(first, second, is_similar, self.margin)

    def call(self, inputs, training=False):
        if training:
            return self.forward(self.make_views(inputs), training=True)
        if isinstance(inputs, dict):
            inputs = inputs["first"]
        return super().call(inputs, training=False)

    # ------------------------------------------------------------- checking
    def check_inputs(self, x, y, batch_size, needs_loss):
        pairs, labels = input_checks.unpack_inputs(x, y)
        if not (needs_loss and isinstance(pairs, dict)):
            return super().check_inputs(x, y, batch_size, needs_loss)
        input_checks.check_dict_keys(pairs, _PAIR_KEYS, _NEEDS_PAIRS)
        for key in ("first", "second"):
            input_checks.check_images(self, pairs[key], f"x['{key}']", raw=True)
        if len(pairs["is_similar"].shape) != 1:
            raise ValueError(
                "`x['is_similar']` must have shape (B,). "
                f"Received: shape={tuple(pairs['is_similar'].shape)}"
            )
        sizes = {pairs[key].shape[0] for key in _PAIR_KEYS} - {None}
        if len(sizes) > 1:
            raise ValueError(
                f"`x['first']`, `x['second']` and `x['is_similar']` must hold "
                f"as many rows each. Received: {sorted(sizes)}"
            )
        input_checks.check_labels(self, labels, "y")

    def get_config(self):
        config = super().get_config()
        config.update(
            embedding_dim=self.embedding_dim,
            margin=self.margin,
            num_negatives=self.num_negatives,
            objective=self.objective,
            q=self.q,
        )
        return config
