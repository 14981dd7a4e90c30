"""SwAV (Caron et al. 2020, "Unsupervised Learning of Visual Features by
Contrasting Cluster Assignments", https://arxiv.org/abs/2006.09882)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_temperature
from keras_ssl.callbacks.epoch_counter import EpochCounter
from keras_ssl.methods.any_size import encode_by_size
from keras_ssl.methods.base import SSLModel
from keras_ssl.ops_utils import l2_normalize


@keras.saving.register_keras_serializable(package="keras_ssl")
class SwAV(SSLModel):
    """SwAV: predict each global crop's cluster codes from every other crop.

    Crops of one resolution go through the backbone as one batch (all global
    crops together, all local crops together), then through the projector;
    the l2-normalized embeddings are scored against trainable unit-norm
    prototypes (`layers.Prototypes`). The codes of the global crops come from
    Sinkhorn-Knopp over the global batch (float32, no gradient); every other
    crop predicts them with a softmax at temperature 0.1
    (`losses.swav_loss`).

    Defaults (`keras_ssl.recipes`, docs/methods.md, SwAV; SwAV repo): projector
    `Linear(D -> 2048) -> BN -> ReLU -> Linear(2048 -> 128)` (also for
    CIFAR, as solo-learn); 3000 prototypes; Sinkhorn epsilon 0.05 with 3
    iterations; temperature 0.1; prototypes frozen during the first epoch;
    augmentation `swav_multicrop(size)` (2 global + 6 local crops), or only
    the 2 global crops for images of at most 64 px, as solo-learn's and
    lightly's CIFAR recipes: at 32 px the local crops are 7-12 px regions,
    and with them SwAV did not learn in the short CIFAR-10 runs of
    `benchmarks/RESULTS.md`, where two crops did.

    Prototype freezing and the queue count epochs: the model's `epoch`
    variable, which a callback that `fit` adds sets at the start of each
    epoch (`initial_epoch` included), decides in the graph. While frozen the
    prototypes get no gradient; with SGD (momentum or not) they then do not
    move at all, weight decay included, since the `UnitNorm` constraint
    undoes its shrinking.

    Queue (small batches): with `queue_size > 0` the model keeps, per
    assignment crop, a FIFO of the last `queue_size` embeddings of the global
    batch (a non-trainable float32 variable `queue`, shape
    `(2, queue_size, d)`, filled from the first step). From epoch
    `queue_start_epoch` on, once full, its rows, scored by the current
    prototypes, join the Sinkhorn batch. The repo keeps one queue per GPU;
    this one holds the gathered batch and is the same on every replica.

    The loss is `ln K` when nothing is learned (uniform codes and
    predictions); a loss flat at `ln K` for many epochs means no learning.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features that takes
            every crop size, e.g. `small_cnn(input_shape=(None, None, 3))`, or
            a fixed-size functional or Sequential one whose layers can take
            them (rebuilt on an any-size input, `needs_any_size`); the
            constructor tries each size and raises `ValueError` naming the
            size that fails.
        projection_dims: widths of the projector layers; default
            `(2048, 128)`.
        num_prototypes: number of prototypes `K`. Default 3000.
        temperature: softmax temperature of the predictions. Default 0.1.
        epsilon: Sinkhorn's entropy regularization. Default 0.05 (use 0.03
            if training collapses).
        sinkhorn_iterations: Default 3.
        freeze_prototypes_epochs: epochs at the start during which the
            prototypes are not updated. Default 1 (repo: 313 iterations at
            batch 4096, about one epoch).
        queue_size: length of each crop's queue, 0 for none; None: the
            recipe's, 0 (the repo uses 3840 at batch 256).
        queue_start_epoch: first epoch (0-based) that uses the queue. Default
            15 (repo at batch 256; solo-learn CIFAR: 50).
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`: the global crop size, `num_classes`) and
            `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.small_cnn(input_shape=(None, None, 3))
    >>> model = keras_ssl.SwAV(backbone, input_shape=(32, 32, 3), queue_size=3840)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.06, momentum=0.9))
    >>> model.fit(images, epochs=200, batch_size=256)
    """

    multi_crop = True
    recipe_name = "swav"
    needs_any_size = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        num_prototypes=None,
        temperature=None,
        epsilon=None,
        sinkhorn_iterations=None,
        freeze_prototypes_epochs=None,
        queue_size=None,
        queue_start_epoch=None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        default = self.recipe.default
        projection_dims = default("projection_dims", projection_dims)
        num_prototypes = default("num_prototypes", num_prototypes)
        temperature = default("temperature", temperature)
        epsilon = default("epsilon", epsilon)
        sinkhorn_iterations = default("sinkhorn_iterations", sinkhorn_iterations)
        freeze_prototypes_epochs = default("freeze_prototypes_epochs", freeze_prototypes_epochs)
        queue_size = default("queue_size", queue_size)
        queue_start_epoch = default("queue_start_epoch", queue_start_epoch)
        check_temperature(temperature)
        if epsilon <= 0 or sinkhorn_iterations < 1:
            raise ValueError(
                "`epsilon` must be > 0 and `sinkhorn_iterations` >= 1. Received: "
                f"epsilon={epsilon}, sinkhorn_iterations={sinkhorn_iterations}"
            )
        if queue_size < 0 or freeze_prototypes_epochs < 0 or queue_start_epoch < 0:
            raise ValueError(
                "`queue_size`, `freeze_prototypes_epochs` and `queue_start_epoch` "
                f"must be >= 0. Received: queue_size={queue_size}, "
                f"freeze_prototypes_epochs={freeze_prototypes_epochs}, "
                f"queue_start_epoch={queue_start_epoch}"
            )
        self.projection_dims = tuple(int(d) for d in projection_dims)
        self.num_prototypes = int(num_prototypes)
        self.temperature = float(temperature)
        self.epsilon = float(epsilon)
        self.sinkhorn_iterations = int(sinkhorn_iterations)
        self.freeze_prototypes_epochs = int(freeze_prototypes_epochs)
        self.queue_size = int(queue_size)
        self.queue_start_epoch = int(queue_start_epoch)
        self.assign_crops = tuple(
            range(getattr(self.augmenter, "num_global_crops", min(2, self.num_views)))
        )
        self.projector = layers.mlp(
            self.feature_dim, self.projection_dims, name="projector"
        )
        self.prototypes = layers.Prototypes(self.num_prototypes, name="prototypes")
        self.prototypes.build((None, self.projection_dims[-1]))
        self.epoch = distribute.add_state_variable(self, "epoch", dtype="int32")
        self.queue = None
        if self.queue_size:
            self.queue = distribute.add_state_variable(
                self,
                "queue",
                shape=(len(self.assign_crops), self.queue_size, self.projection_dims[-1]),
            )
        self.built = True

    def no_gradient_matmuls(self, batch_size):
        """With a queue: its rows scored by the prototypes, per assignment
        crop and in every step (`_codes_with_queue`)."""
        if self.queue is None:
            return ()
        shape = (self.queue_size, self.projection_dims[-1], self.num_prototypes)
        return (shape,) * len(self.assign_crops)

    def default_callbacks(self):
        return [EpochCounter()]

    def forward(self, views, training):
        features = encode_by_size(self.encoder, views, training)
        projections = self.projector(ops.concatenate(features, axis=0), training=training)
        embeddings = l2_normalize(projections)
        frozen = self.epoch < self.freeze_prototypes_epochs
        scores = self.prototypes(embeddings, frozen=frozen)
        return {
            "features": features,
            "embeddings": tuple(ops.split(embeddings, len(views), axis=0)),
            "scores": tuple(ops.split(scores, len(views), axis=0)),
        }

    def compute_ssl_loss(self, outputs, training):
        scores = outputs["scores"]
        codes = None
        if self.queue is not None:
            codes = self._codes_with_queue(scores)
            if training:
                self._enqueue([outputs["embeddings"][a] for a in self.assign_crops])
        per_sample = losses.swav_loss(
            scores,
            self.temperature,
            self.epsilon,
            self.sinkhorn_iterations,
            self.assign_crops,
            codes=codes,
        )
        return ops.mean(per_sample)

    def _codes_with_queue(self, scores):
        """Codes of the assignment crops, with the queue's rows in Sinkhorn
        once the queue is active and full."""
        full = ops.all(ops.any(ops.not_equal(self.queue[:, -1], 0.0), axis=-1))
        active = ops.logical_and(self.epoch >= self.queue_start_epoch, full)
        codes = []
        for i, a in enumerate(self.assign_crops):
            queue_scores = ops.stop_gradient(self.prototypes(self.queue[i]))
            with_queue = losses.swav_codes(
                scores[a], queue_scores, self.epsilon, self.sinkhorn_iterations
            )
            without = losses.swav_codes(
                scores[a], None, self.epsilon, self.sinkhorn_iterations
            )
            codes.append(ops.where(active, with_queue, without))
        return codes

    def _enqueue(self, embeddings):
        """Puts the global batch's embeddings first, dropping the oldest."""
        new = [
            ops.concatenate(
                [distribute.all_gather(ops.stop_gradient(z)), self.queue[i]], axis=0
            )[: self.queue_size]
            for i, z in enumerate(embeddings)
        ]
        self.queue.assign(ops.stack(new))

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            num_prototypes=self.num_prototypes,
            temperature=self.temperature,
            epsilon=self.epsilon,
            sinkhorn_iterations=self.sinkhorn_iterations,
            freeze_prototypes_epochs=self.freeze_prototypes_epochs,
            queue_size=self.queue_size,
            queue_start_epoch=self.queue_start_epoch,
        )
        return config
