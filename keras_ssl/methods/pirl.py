"""PIRL (Misra and van der Maaten 2019, "Self-Supervised Learning of
Pretext-Invariant Representations", https://arxiv.org/abs/1912.01991)."""

import keras
from keras import ops

from keras_ssl import augmentation
from keras_ssl import distribute
from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_temperature
from keras_ssl.methods import input_checks
from keras_ssl.methods.any_size import ANY_SIZE_HINT
from keras_ssl.methods.base import SSLModel
from keras_ssl.ops_utils import l2_normalize

_INDEX_KEYS = ("images", "index")
_NEEDS_INDEX = (
    "PIRL's memory bank needs each image's dataset index: give dicts "
    "{'images': (B, H, W, C), 'index': int (B,)}, e.g. "
    "`keras_ssl.data.with_index(x).shuffle(n).batch(256)`."
)


@keras.saving.register_keras_serializable(package="keras_ssl")
class PIRL(SSLModel):
    """PIRL: an image and its shuffled jigsaw patches must match the image's
    memory-bank entry.

    The augmenter makes two views of each image: an augmented image and
    `augmentation.Jigsaw` patches. The backbone is shared: image branch
    `f(v) = l2n(Linear(pool(v)))`; jigsaw branch: each patch ->
    backbone -> Linear (shared), the patch vectors concatenated in their
    shuffled order -> Linear -> l2n = `g(v_jigsaw)`. A `layers.MemoryBank`
    at `model.memory_bank` holds one row `m_I` per dataset item; the loss is
    `lambda L(m_I, g(v_jigsaw)) + (1 - lambda) L(m_I, f(v))` with `L` the NCE
    loss (`losses.pirl_nce_loss`) against `num_negatives` rows drawn
    uniformly from the bank (shared by the batch), its constant `Z` estimated
    on the first batch and stored (`nce_normalizer`, saved with the model).
    After the loss the rows of the batch move towards `f(v)`
    (`m_I <- l2n(0.5 m_I + 0.5 f(v))`), in training only.

    The data must carry each image's dataset index: `x` is a dict
    `{"images": ..., "index": ...}` from `keras_ssl.data.with_index`.

    A memory bank learns slowly: each row moves once per epoch, and the loss
    pushes embeddings away from stale rows only. On CIFAR-10 with small_cnn
    the paper's NCE, whose `Z` stays at its first-batch value, fell behind
    `objective="info_nce"` in every budget measured (benchmarks/RESULTS.md: 22.5 %
    against 37.2 % kNN after 20 epochs of 5,000 images); prefer InfoNCE for
    short schedules.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, PIRL: embeddings 128; temperature 0.07;
    lambda 0.5; NCE (`objective="info_nce"` gives VISSL's cross-entropy option);
    negatives 32 000 (paper) or 4096 for images of at most 64 px (library
    choice); image view crop (0.08, 1), flip, jitter (0.4, 0.4, 0.4, 0.2)
    with probability 0.8, grayscale 0.2; jigsaw (0.6, 1) crop to 255 px,
    85 px cells, 64 px patches, or 96 / 32 / 24 px at most 64 px. The
    backbone runs on the patches too: a fixed-size one such as
    `small_cnn((32, 32, 3))` is rebuilt on an any-size input with the same
    layers (`needs_any_size`); `backbone` stays that network.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features that
            takes both the image and the patch size, or can be rebuilt to
            (convolutions and global pooling).
        num_items: the number of dataset items (memory-bank rows). `fit`
            checks indices given as arrays against it before training, and
            the training step refuses a dataset's batch with an index out of
            range, changing no state, and stops `fit` with a `ValueError`
            (`SSLModel.id_inputs`).
        embedding_dim: width of `f`, `g` and the bank.
        num_negatives: bank rows drawn per step.
        temperature: `T > 0`.
        jigsaw_weight: lambda, the weight of the jigsaw term in [0, 1].
        objective: the loss, `"nce"` (paper) or `"info_nce"` (named so as
            not to shadow Keras's `Model.loss`, the compiled loss).
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> backbone = keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar")
    >>> model = keras_ssl.PIRL(backbone, num_items=50000)
    >>> model.compile(optimizer=keras_ssl.optimizers.SGD(0.03, weight_decay=1e-4))
    >>> model.fit(keras_ssl.data.with_index(x).shuffle(50000).batch(256), epochs=200)
    """

    needs_indices = True
    recipe_name = "pirl"
    needs_any_size = True

    def __init__(
        self,
        backbone,
        num_items,
        embedding_dim=None,
        num_negatives=None,
        temperature=None,
        jigsaw_weight=None,
        objective=None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        default = self.recipe.default
        embedding_dim = default("embedding_dim", embedding_dim)
        num_negatives = default("num_negatives", num_negatives)
        temperature = default("temperature", temperature)
        jigsaw_weight = default("jigsaw_weight", jigsaw_weight)
        objective = default("objective", objective)
        check_temperature(temperature)
        if objective not in ("nce", "info_nce"):
            raise ValueError(
                f"`objective` must be 'nce' or 'info_nce'. Received: objective={objective!r}"
            )
        if not 0.0 <= jigsaw_weight <= 1.0:
            raise ValueError(
                f"`jigsaw_weight` must be in [0, 1]. Received: jigsaw_weight={jigsaw_weight}"
            )
        if not isinstance(num_negatives, int) or num_negatives <= 0:
            raise ValueError(
                f"`num_negatives` must be a positive int. Received: {num_negatives!r}"
            )
        self.num_items = num_items
        self.embedding_dim = embedding_dim
        self.num_negatives = num_negatives
        self.temperature = float(temperature)
        self.jigsaw_weight = float(jigsaw_weight)
        self.objective = objective
        self.patch_encoder = self._build_patch_encoder()
        self.projector = self._linear(self.feature_dim, "projector")
        self.patch_projector = self._linear(self.feature_dim, "patch_projector")
        self.jigsaw_head = self._linear(
            self.jigsaw.num_patches * embedding_dim, "jigsaw_head"
        )
        self.memory_bank = layers.MemoryBank(num_items, embedding_dim, name="memory_bank")
        self.normalizer = distribute.add_state_variable(self, "nce_normalizer")
        self.built = True

    def _linear(self, input_dim, name):
        return keras.Sequential(
            [keras.Input((input_dim,)), keras.layers.Dense(self.embedding_dim)], name=name
        )

    @property
    def jigsaw(self):
        """The augmenter's `Jigsaw` layer (its second view)."""
        found = [
            layer
            for layer in self.augmenter.pipelines[-1]
            if isinstance(layer, augmentation.Jigsaw)
        ]
        if self.augmenter.num_views != 2 or not found:
            raise ValueError(
                "PIRL's augmenter must make 2 views, the second ending in an "
                "`augmentation.Jigsaw` layer."
            )
        return found[-1]

    def _build_patch_encoder(self):
        size = self.jigsaw.patch_size
        shape = (size, size, self.image_shape[-1])
        try:
            encoder = self._build_encoder(self.backbone, shape, self.preprocessing)
            encoder(ops.zeros((1, *shape)), training=False)
        except Exception as error:
            raise ValueError(
                f"PIRL runs the backbone on {size}x{size} jigsaw patches, which "
                f"this backbone does not take ({error}). {ANY_SIZE_HINT}"
            ) from error
        encoder.name = "patch_encoder"
        return encoder

    # ---------------------------------------------------------------- the step
    def make_views(self, x):
        """`(image_view, patches, index)`."""
        input_checks.check_dict_keys(x, _INDEX_KEYS, _NEEDS_INDEX)
        image, patches = self.augmenter(x["images"], training=True)
        return image, patches, self.ids_in_range(x, "index")

    def forward(self, views, training):
        image, patches, index = views
        features = self.encoder(image, training=training)
        f = l2_normalize(self.projector(features, training=training))
        num_patches, size = patches.shape[1], patches.shape[2]
        flat = ops.reshape(patches, (-1, size, size, patches.shape[-1]))
        patch_embeddings = self.patch_projector(
            self.patch_encoder(flat, training=training), training=training
        )
        concatenated = ops.reshape(patch_embeddings, (-1, num_patches * self.embedding_dim))
        g = l2_normalize(self.jigsaw_head(concatenated, training=training))
        return {
            "features": (features,),
            "image_embeddings": f,
            "jigsaw_embeddings": g,
            "index": index,
        }

    def compute_ssl_loss(self, outputs, training):
        f, g, index = outputs["image_embeddings"], outputs["jigsaw_embeddings"], outputs["index"]
        bank = self.memory_bank
        positives = bank.gather(index)
        negatives = bank.gather(bank.sample(self.num_negatives, seed=None if training else 0))
        if self.objective == "nce":
            estimate = distribute.all_mean(
                losses.nce_normalizer(f, positives, negatives, self.num_items, self.temperature)
            )
            normalizer = ops.convert_to_tensor(self.normalizer)
            normalizer = ops.where(normalizer > 0, normalizer, estimate)

            def term(x):
                return losses.pirl_nce_loss(
                    x, positives, negatives, self.num_items, normalizer, self.temperature
                )

        else:

            def term(x):
                return losses.info_nce_loss(x, positives, negatives, self.temperature)

        loss = self.jigsaw_weight * ops.mean(term(g)) + (1.0 - self.jigsaw_weight) * ops.mean(
            term(f)
        )
        if training:
            if self.objective == "nce":
                self.normalizer.assign(normalizer)
            bank.update(index, f)
        return loss

    def call(self, inputs, training=False):
        if training:
            return self.forward(self.make_views(inputs), training=True)
        if isinstance(inputs, dict):
            inputs = inputs["images"]
        return super().call(inputs, training=False)

    def id_inputs(self):
        fix = (
            "Index the images the model trains on from 0 (`keras_ssl.data.with_index`), "
            "and build PIRL with `num_items` at least their number."
        )
        what = "dataset indices below `num_items` (the memory bank's rows)"
        return (input_checks.IdInput("index", self.num_items, what, fix),)

    def check_inputs(self, x, y, batch_size, needs_loss):
        if not needs_loss:
            return super().check_inputs(x, y, batch_size, needs_loss)
        x, y = input_checks.unpack_inputs(x, y)
        input_checks.check_dict_keys(x, _INDEX_KEYS, _NEEDS_INDEX)
        input_checks.check_images(self, x["images"], "x['images']", raw=True)
        input_checks.check_ids(x["index"], "x['index']", ("B",), "dataset indices")
        input_checks.check_id_ranges(self, x)
        input_checks.check_labels(self, y, "y")

    def get_config(self):
        config = super().get_config()
        config.update(
            num_items=self.num_items,
            embedding_dim=self.embedding_dim,
            num_negatives=self.num_negatives,
            temperature=self.temperature,
            jigsaw_weight=self.jigsaw_weight,
            objective=self.objective,
        )
        return config
