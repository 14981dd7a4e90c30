"""MoCo v1, v2 and v3.

- v1: He et al. 2020, "Momentum Contrast for Unsupervised Visual
  Representation Learning", https://arxiv.org/abs/1911.05722.
- v2: Chen et al. 2020, "Improved Baselines with Momentum Contrastive
  Learning", https://arxiv.org/abs/2003.04297.
- v3: Chen, Xie and He 2021, "An Empirical Study of Training Self-Supervised
  Vision Transformers", https://arxiv.org/abs/2104.02057.
"""

import keras
import numpy as np
from keras import ops

from keras_ssl import distribute
from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_temperature
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.momentum import MomentumModel
from keras_ssl.ops_utils import l2_normalize

def _is_vit(backbone):
    return any(
        isinstance(layer, keras.layers.MultiHeadAttention)
        for layer in backbone._flatten_layers()
    )


@keras.saving.register_keras_serializable(package="keras_ssl")
class MoCo(MomentumModel):
    """Momentum Contrast, versions 1, 2 and 3.

    A query encoder (`encoder` + `projector`, and `predictor` in v3) and a
    key encoder (`target_encoder` + `target_projector`) that follows it by
    EMA (`MomentumModel`).

    - v1/v2: the query of view 1 is contrasted with the key of view 2 and
      with a queue of past keys (`model.queue`, a `layers.FeatureQueue`),
      InfoNCE at temperature `T`; then the keys of the global batch are
      enqueued. The key encoder's batch statistics are computed on shuffled
      samples (shuffling BN, paper section 3.3): across replicas under a
      `tf.distribute` strategy, and on one device with
      `layers.SplitBatchNormalization(bn_splits)` in the key encoder, as the
      MoCo CIFAR-10 demo does. v1's projector is one linear layer to 128;
      v2's is an MLP (D -> D -> 128, ReLU, no BN).
    - v3 (`MoCoV3`, built by `MoCo(version=3)`): no queue; `2T (ctr(q1, k2) + ctr(q2, k1))` with the keys of the
      whole global batch (`losses.moco_v3_loss`); projector D -> 4096 -> 256
      and predictor 256 -> 4096 -> 256, with BN after every layer (the last
      without affine) and no biases; with a ViT backbone the projector has
      three layers (4096 -> 4096 -> 256), as the official ViT recipe;
      momentum 0.99 -> 1 (cosine). Multi-crop
      (`augmenter=augmentation.MultiCrop(...)`): every crop is a query, the
      global crops are the keys, and the loss sums `2T ctr(q_v, k_t)` over
      each global crop `t` and every other crop `v` (`methods/crop_pairs.py`,
      the pairing of solo-learn's BYOL); with two crops that is the loss
      above.

    Defaults (`keras_ssl.recipes`: `"moco_v1"`, `"moco_v2"`, `"moco_v3"` or,
    with a ViT backbone, `"moco_v3_vit"`; docs/methods.md, MoCo): paper values for ImageNet-size
    images: v1 T 0.07, v2 T 0.2, queue 65,536, constant momentum 0.999; v3
    T 1.0 for ResNets and 0.2 for ViTs. For images of at most 64 px, the
    CIFAR reference (the MoCo authors' CIFAR-10 demo, lightly's benchmark):
    queue 4,096, T 0.1, momentum 0.99 (v1/v2), T 0.2 (v3, solo-learn).
    `symmetric=False` (the paper's one-directional loss) is the default;
    `symmetric=True` averages both directions and enqueues both views' keys,
    as the CIFAR references do. Augmentation: `moco_v1_views`,
    `moco_v2_views` or `byol_views` (v3; crops from 0.2 for ResNets, 0.08 for
    ViTs). The learning-rate schedule (v2: cosine) is the optimizer's.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features; for the
            key encoder it must be clonable (functional or Sequential).
        version: 1, 2 or 3 (`MoCo(version=3)` builds a `MoCoV3`).
        projection_dims: projector widths, the last the embedding size.
        prediction_dims: v3 predictor widths; default `(4096, 256)`. v1 and
            v2 have no predictor: leave it None.
        queue_size: v1/v2 queue length, >= 1; must hold the global batch
            (twice it with `symmetric=True`). v3 has no queue: None or 0.
        temperature: softmax temperature `T > 0`.
        momentum: key-encoder momentum `m` (v3: its start `m0`).
        symmetric: v1/v2 only, both directions of the loss (v3's loss is
            always symmetric).
        shuffle_bn: v1/v2 only, shuffling BN for the key encoder (default on).
        bn_splits: v1/v2 only, groups of `SplitBatchNormalization` on one
            device.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones.

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.MoCo(backbone, version=2)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=200, batch_size=256)
    """

    momentum_schedule = "constant"

    def __new__(cls, *args, **kwargs):
        # `MoCo(version=3)`, the documented entry point, builds a `MoCoV3`.
        version = kwargs.get("version", args[1] if len(args) > 1 else 2)
        if cls is MoCo and version == 3:
            cls = MoCoV3
        return super().__new__(cls, *args, **kwargs)

    def __init__(
        self,
        backbone,
        version=2,
        projection_dims=None,
        prediction_dims=None,
        queue_size=None,
        temperature=None,
        momentum=None,
        symmetric=False,
        shuffle_bn=True,
        bn_splits=8,
        **kwargs,
    ):
        if version not in (1, 2):
            raise ValueError(f"`version` must be 1, 2 or 3. Received: version={version!r}")
        if prediction_dims is not None:
            raise ValueError(
                f"MoCo v{version} has no predictor (v3 has one): leave `prediction_dims=None`. "
                f"Received: prediction_dims={prediction_dims!r}"
            )
        if not isinstance(bn_splits, int) or bn_splits < 1:
            raise ValueError(f"`bn_splits` must be an int >= 1. Received: {bn_splits!r}")
        if queue_size is not None and (
            isinstance(queue_size, bool) or not isinstance(queue_size, (int, np.integer))
            or queue_size < 1
        ):
            raise ValueError(
                f"MoCo v{version} needs a queue: `queue_size` must be an int >= 1, or "
                f"None for the recipe's size. Received: queue_size={queue_size!r}"
            )
        self.version = version
        self.symmetric = bool(symmetric)
        self.shuffle_bn = bool(shuffle_bn)
        self.bn_splits = bn_splits
        self._build_shared(backbone, projection_dims, temperature, momentum, kwargs)
        # v1's projector is one linear layer, v2's an MLP without BN.
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, batch_norm=False, name="projector"
        )
        # Shuffling BN, decided with the variables: `SplitBatchNormalization`
        # groups in the key encoder on one device, the batch shuffled across
        # replicas under a strategy. A model is built in the scope of the
        # strategy that trains it (its variables are that strategy's), so the
        # replicas at construction are the replicas of every step; the key
        # encoder's weights are the same either way, so a saved model loads
        # under any number of replicas (and picks that one's shuffling).
        self._split_bn = self.shuffle_bn and bn_splits > 1 and distribute.num_replicas() == 1
        self.build_target(self._split_batch_norm if self._split_bn else None)
        self.queue_size = int(self.recipe.default("queue_size", queue_size))
        self.queue = layers.FeatureQueue(self.queue_size, self.projection_dims[-1])
        self.built = True

    def _build_shared(self, backbone, projection_dims, temperature, momentum, kwargs):
        """What every version shares: the base class, the temperature, the
        projector's widths (default the recipe's; v2's is D -> D -> 128,
        sized by the backbone) and the logged positive similarity."""
        self.vit = _is_vit(backbone)
        super(MoCo, self).__init__(backbone, momentum=momentum, **kwargs)
        recipe = self.recipe
        temperature = recipe.default("temperature", temperature)
        check_temperature(temperature)
        self.temperature = float(temperature)
        d = self.feature_dim
        projection_dims = projection_dims or recipe.model.get("projection_dims", (d, 128))
        self.projection_dims = tuple(int(w) for w in projection_dims)
        self.positive_similarity = keras.metrics.Mean(name="positive_similarity")

    def _split_batch_norm(self, layer):
        if type(layer) in (keras.layers.BatchNormalization, layers.FusedBatchNormalization):
            config = layer.get_config()
            config.pop("synchronized", None)
            return layers.SplitBatchNormalization(num_splits=self.bn_splits, **config)
        return layer.__class__.from_config(layer.get_config())

    @property
    def recipe_name(self):
        """`moco_v1`, `moco_v2`, `moco_v3`, or `moco_v3_vit` for a ViT."""
        return f"moco_v{self.version}" + ("_vit" if self.version == 3 and self.vit else "")

    @property
    def no_gradient_passes(self):
        """The key encoder's passes per step: the second view, and the first
        with `symmetric=True`."""
        return 2 if self.symmetric else 1

    def check_batch_size(self, batch):
        needed = batch * (2 if self.symmetric else 1)
        if needed > self.queue_size:
            raise ValueError(
                f"MoCo's queue (queue_size={self.queue_size}) must hold the keys "
                f"of a global batch ({needed} keys for batches of {batch}"
                f"{', both views' if self.symmetric else ''}). Use a larger "
                "`queue_size` or a smaller batch."
            )

    def forward(self, views, training):
        views_in = views if self.symmetric else views[:1]
        features = [self.encoder(v, training=training) for v in views_in]
        queries = [self.projector(f, training=training) for f in features]
        return {"views": views, "features": tuple(features), "queries": tuple(queries)}

    def _keys(self, view, training):
        if self.shuffle_bn and not self._split_bn:
            return distribute.across_replicas_shuffled(
                lambda v: self.target(v, training=training), view
            )
        return self.target(view, training=training)

    def compute_ssl_loss(self, outputs, training):
        views, queries = outputs["views"], outputs["queries"]
        negatives = self.queue(None)  # read before this step's keys enter
        pairs = [(queries[0], self._keys(views[1], training))]
        if self.symmetric:
            pairs.append((queries[1], self._keys(views[0], training)))
        loss = ops.mean(
            ops.stack(
                [
                    losses.info_nce_loss(q, k, negatives, temperature=self.temperature)
                    for q, k in pairs
                ]
            )
        )
        self._log_similarity(*pairs[0])
        if training:
            self.queue.enqueue(ops.concatenate([k for _, k in pairs], axis=0))
        return loss

    def _log_similarity(self, query, key):
        cosine = ops.sum(l2_normalize(query) * l2_normalize(key), axis=-1)
        self.positive_similarity.update_state(ops.mean(cosine))

    def get_config(self):
        config = super().get_config()
        config.update(
            version=self.version,
            projection_dims=self.projection_dims,
            queue_size=self.queue_size,
            temperature=self.temperature,
            symmetric=self.symmetric,
            shuffle_bn=self.shuffle_bn,
            bn_splits=self.bn_splits,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ssl")
class MoCoV3(MoCo):
    """MoCo v3 (Chen, Xie and He 2021), built by `MoCo(version=3)`.

    No queue and no shuffling BN: the loss is `2T (ctr(q1, k2) + ctr(q2, k1))`
    with the keys of the whole global batch (`losses.moco_v3_loss`);
    `predictor` after the projector, BN after every head layer (the last
    without affine) and no biases; momentum `m0` -> 1 on a cosine schedule;
    multi-crop as described in `MoCo`.

    Args:
        backbone: a clonable `keras.Model` from images to `(B, D)` features.
        version: 3.
        projection_dims: projector widths; default the recipe's
            (`(4096, 256)`, `(4096, 4096, 256)` with a ViT backbone).
        prediction_dims: predictor widths; default `(4096, 256)`.
        queue_size: None or 0 (no queue).
        temperature: softmax temperature `T > 0`.
        momentum: the key encoder's momentum at the first step, `m0`.
        **kwargs: `SSLModel` arguments and `keras.Model` ones.
    """

    momentum_schedule = "cosine"
    accepts_multi_crop = True
    shuffle_bn = False
    symmetric = True
    # The key encoder runs on the target crops (not on MoCo v1/v2's key view).
    no_gradient_passes = MomentumModel.no_gradient_passes

    def __init__(
        self,
        backbone,
        version=3,
        projection_dims=None,
        prediction_dims=None,
        queue_size=None,
        temperature=None,
        momentum=None,
        **kwargs,
    ):
        if version != 3:
            raise ValueError(f"MoCoV3 is version 3. Received: version={version!r}")
        if queue_size not in (None, 0):
            raise ValueError(
                "MoCo v3 has no queue: leave `queue_size=None` (or 0). "
                f"Received: queue_size={queue_size!r}"
            )
        self.version = version
        self._build_shared(backbone, projection_dims, temperature, momentum, kwargs)
        head = dict(batch_norm=True, last_bn=True, last_bn_affine=False)
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, name="projector", **head
        )
        prediction_dims = self.recipe.default("prediction_dims", prediction_dims)
        self.prediction_dims = tuple(int(w) for w in prediction_dims)
        self.predictor = layers.mlp(
            self.projection_dims[-1], self.prediction_dims, name="predictor", **head
        )
        self.build_target()
        self.queue = None
        self.queue_size = None
        self.built = True

    def check_batch_size(self, batch):
        """Any global batch: no queue to hold its keys."""

    def forward(self, views, training):
        features = [self.encoder(v, training=training) for v in views]
        queries = [
            self.predictor(self.projector(f, training=training), training=training)
            for f in features
        ]
        return {"views": views, "features": tuple(features), "queries": tuple(queries)}

    def compute_ssl_loss(self, outputs, training):
        views, queries = outputs["views"], outputs["queries"]
        num_targets = crop_pairs.num_target_crops(self.augmenter)
        keys = [self.target(v, training=training) for v in views[:num_targets]]

        def contrast(t, v):  # `losses.moco_v3_loss`'s term 2T ctr(q, k)
            return (2.0 * self.temperature) * losses.info_nce_loss(
                queries[v], ops.stop_gradient(keys[t]), temperature=self.temperature
            )

        self._log_similarity(queries[1], keys[0])
        return ops.mean(
            crop_pairs.over_crop_pairs(contrast, len(views), num_targets, reduction="sum")
        )

    def get_config(self):
        config = super(MoCo, self).get_config()
        config.update(
            version=self.version,
            projection_dims=self.projection_dims,
            prediction_dims=self.prediction_dims,
            temperature=self.temperature,
        )
        return config
