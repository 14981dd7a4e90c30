"""CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural
Language Supervision", https://arxiv.org/abs/2103.00020)."""

import math
import os

import keras
import numpy as np
from keras import ops

from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.data.captions import CAPTION_TEMPLATES
from keras_ssl.io_utils import atomic_directory
from keras_ssl.methods import export
from keras_ssl.methods import input_checks
from keras_ssl.methods.base import SSLModel
from keras_ssl.ops_utils import l2_normalize

# docs/methods.md, CLIP: t starts at ln(1 / 0.07) and is clamped to [0, ln 100].
INITIAL_LOGIT_SCALE = math.log(1 / 0.07)
MAX_LOGIT_SCALE = math.log(100.0)
_PAIR_KEYS = ("images", "tokens")
_NEEDS_PAIRS = (
    "CLIP trains on dicts {'images': (B, H, W, C), 'tokens': int (B, L)} of matching pairs."
)


@keras.saving.register_keras_serializable(package="keras_ssl")
class CLIP(SSLModel):
    """CLIP: contrastive image-text pre-training with a learnable logit scale.

    `x` is a dict `{"images": (B, H, W, C) in [0, 255], "tokens": int (B, L)}`
    of matching pairs (token ids below the text encoder's vocabulary size:
    `fit` checks arrays before training, and the training step refuses a
    dataset's batch with an id out of range, changing no state, and stops
    `fit` with a `ValueError`; see `SSLModel.id_inputs`). Images go through
    the augmenter (one random square crop), `encoder` and a linear projection without bias; tokens through
    `text_encoder` and another linear projection; both are l2-normalized and
    `losses.clip_loss` scores every image against every caption of the
    (gathered) batch with logits `exp(t) I T^T`. The scalar `t`
    (`logit_scale`) is trainable, starts at `ln(1 / 0.07)` and is clamped to
    `[0, ln 100]` after each optimizer step by its constraint (the paper's
    clamp on the parameter). Exclude it from weight decay as the paper does:
    `optimizer.exclude_from_weight_decay(var_names=["logit_scale"])`.

    Defaults (`keras_ssl.recipes`) follow docs/methods.md, CLIP: linear projections only,
    `embedding_dim` 512 (ViT-B/32); augmentation a random square crop (area
    0.5-1) resized to the image size, CLIP's only augmentation.

    Args:
        image_encoder: the image backbone, a `keras.Model` from images to
            `(B, D)` (the `backbone` of `SSLModel`).
        text_encoder: a `keras.Model` from int token ids `(B, L)` to
            `(B, D_text)`, e.g. `backbones.text_transformer`.
        embedding_dim: width of the joint embedding space.
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones (`name`).

    Example:
    >>> model = keras_ssl.CLIP(
    ...     keras_ssl.backbones.resnet18((32, 32, 3), stem="cifar"),
    ...     keras_ssl.backbones.text_transformer(vocab, 16),
    ...     embedding_dim=256,
    ... )
    >>> model.compile(optimizer=keras.optimizers.AdamW(5e-4, weight_decay=0.2))
    >>> model.fit({"images": x, "tokens": tokens}, epochs=20, batch_size=256)
    >>> scores = model.encode_images(x) @ ops.transpose(model.encode_text(prompts))

    Zero-shot classification: `model.zero_shot_classifier(class_names,
    templates, tokenizer=tokenizer)` is a `keras.Model` from images to class
    logits. `export_encoder(path)` writes both towers with their projections
    (`path/image`: images -> embeddings, `path/text`: token ids ->
    embeddings); `load_clip_towers(path)` reloads them.
    """

    needs_tokens = True
    recipe_name = "clip"

    def __init__(self, image_encoder, text_encoder, embedding_dim=None, **kwargs):
        super().__init__(image_encoder, **kwargs)
        embedding_dim = self.recipe.default("embedding_dim", embedding_dim)
        if not isinstance(embedding_dim, int) or embedding_dim <= 0:
            raise ValueError(
                f"`embedding_dim` must be a positive int. Received: {embedding_dim!r}"
            )
        if not isinstance(text_encoder, keras.Model):
            raise ValueError(
                "`text_encoder` must be a keras.Model from token ids (B, L) to "
                f"features (B, D). Received: {type(text_encoder).__name__}"
            )
        if len(text_encoder.input_shape) != 2 or len(text_encoder.output_shape) != 2:
            raise ValueError(
                "`text_encoder` must map token ids (B, L) to features (B, D). "
                f"Received input_shape={text_encoder.input_shape}, "
                f"output_shape={text_encoder.output_shape}."
            )
        self.text_encoder = text_encoder
        self.embedding_dim = embedding_dim
        self.image_projection = keras.Sequential(
            [keras.Input((self.feature_dim,)), keras.layers.Dense(embedding_dim, use_bias=False)],
            name="image_projection",
        )
        self.text_projection = keras.Sequential(
            [
                keras.Input((text_encoder.output_shape[-1],)),
                keras.layers.Dense(embedding_dim, use_bias=False),
            ],
            name="text_projection",
        )
        self.logit_scale = self.add_weight(
            shape=(),
            dtype="float32",
            initializer=keras.initializers.Constant(INITIAL_LOGIT_SCALE),
            constraint=layers.ClipValue(0.0, MAX_LOGIT_SCALE),
            name="logit_scale",
        )
        self.built = True

    @property
    def image_encoder(self):
        """The image backbone (same object as `backbone`)."""
        return self.backbone

    # ------------------------------------------------------------ embeddings
    def encode_images(self, images, training=False):
        """Unit-norm joint-space embeddings `(B, embedding_dim)` of raw images."""
        features = self.encoder(ops.cast(images, "float32"), training=training)
        return l2_normalize(self.image_projection(features, training=training))

    def encode_text(self, tokens, training=False):
        """Unit-norm joint-space embeddings `(B, embedding_dim)` of token ids."""
        features = self.text_encoder(tokens, training=training)
        return l2_normalize(self.text_projection(features, training=training))

    def image_tower(self):
        """A functional `keras.Model` from raw images to unit-norm joint
        embeddings (`encode_images`), sharing this model's layers."""
        images = keras.Input(self.encoder.input_shape[1:], name="images")
        embeddings = self.image_projection(self.encoder(images))
        return keras.Model(images, _unit_norm(embeddings), name="image_tower")

    def text_tower(self):
        """A functional `keras.Model` from token ids to unit-norm joint
        embeddings (`encode_text`), sharing this model's layers."""
        tokens = keras.Input(
            self.text_encoder.input_shape[1:], dtype=self.text_encoder.inputs[0].dtype, name="tokens"
        )
        embeddings = self.text_projection(self.text_encoder(tokens))
        return keras.Model(tokens, _unit_norm(embeddings), name="text_tower")

    def zero_shot_classifier(self, class_names, templates=CAPTION_TEMPLATES, tokenizer=None):
        """A `keras.Model` from raw images to zero-shot class logits.

        Each class is the mean text embedding of its prompts, one per
        template, re-normalized (CLIP's prompt ensembling, Radford et al.
        2021, section 3.1.4); the logits are `exp(t)` times the cosine of the
        image embedding with each class. The class embeddings are fixed when
        the classifier is made.

        Args:
            class_names: sequence of class names.
            templates: format strings with one `{}` for the class name;
                default `data.CAPTION_TEMPLATES`.
            tokenizer: the callable from strings to token ids `(B, L)` the
                text encoder was trained with, e.g. the layer
                `data.caption_tokenizer` returned.

        Returns:
            A `keras.Model` from `(B, H, W, C)` images in [0, 255] to
            `(B, len(class_names))` logits.

        Example:
        >>> classifier = model.zero_shot_classifier(CIFAR10_CLASSES, tokenizer=tokenizer)
        >>> predictions = classifier.predict(x_test).argmax(axis=1)
        """
        weights = class_embeddings(self.encode_text, class_names, templates, tokenizer)
        images = keras.Input(self.encoder.input_shape[1:], name="images")
        classes = keras.layers.Dense(
            len(weights), use_bias=False, trainable=False, dtype="float32", name="class_prompts"
        )
        logits = classes(self.image_tower()(images))
        scale = float(np.exp(ops.convert_to_numpy(self.logit_scale)))
        classes.set_weights([scale * weights.T])
        return keras.Model(images, logits, name="zero_shot_classifier")

    def export_encoder(self, path, verbose=False):
        """Writes both towers with their projections as SavedModels:
        `path/image` (float32 images in [0, 255] -> `encode_images`) and
        `path/text` (int token ids -> `encode_text`); reload them with
        `load_clip_towers(path)` (or each with `keras_ssl.load_encoder`)."""
        with atomic_directory(path) as directory:
            for name, tower in (("image", self.image_tower()), ("text", self.text_tower())):
                export.export_encoder(
                    tower, os.path.join(directory, name), method="CLIP", verbose=verbose
                )

    # ---------------------------------------------------------------- the step
    def make_views(self, x):
        """`(image_view, tokens)`: one augmented view of the images."""
        input_checks.check_dict_keys(x, _PAIR_KEYS, _NEEDS_PAIRS)
        (view,) = self.augmenter(x["images"], training=True)
        return view, self.ids_in_range(x, "tokens")

    def forward(self, views, training):
        images, tokens = views
        features = self.encoder(images, training=training)
        image_embeddings = self.image_projection(features, training=training)
        text_features = self.text_encoder(tokens, training=training)
        return {
            "features": (features,),
            "image_embeddings": image_embeddings,
            "text_embeddings": self.text_projection(text_features, training=training),
        }

    def compute_ssl_loss(self, outputs, training):
        logit_scale = ops.exp(ops.cast(self.logit_scale, "float32"))
        return ops.mean(
            losses.clip_loss(
                outputs["image_embeddings"], outputs["text_embeddings"], logit_scale
            )
        )

    def call(self, inputs, training=False):
        if training:
            return self.forward(self.make_views(inputs), training=True)
        if isinstance(inputs, dict):
            inputs = inputs["images"]
        return self.encoder(inputs, training=False)

    # ------------------------------------------------------------- checking
    def id_inputs(self):
        size = self._vocabulary_size()
        if size is None:
            return ()
        fix = (
            "Tokenize with the vocabulary the text encoder was built for, or "
            "build it with a larger one (its Embedding's `input_dim`)."
        )
        what = "token ids below the text encoder's vocabulary size"
        return (input_checks.IdInput("tokens", size, what, fix),)

    def _vocabulary_size(self):
        """`input_dim` of the text encoder's first embedding layer, or None."""
        for layer in self.text_encoder._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.Embedding):
                return layer.input_dim
            if isinstance(getattr(layer, "vocabulary_size", None), int):
                return layer.vocabulary_size
        return None

    def check_inputs(self, x, y, batch_size, needs_loss):
        if not needs_loss:
            return super().check_inputs(x, y, batch_size, needs_loss)
        is_dataset = hasattr(x, "element_spec")
        x, y = input_checks.unpack_inputs(x, y)
        input_checks.check_dict_keys(x, _PAIR_KEYS, _NEEDS_PAIRS)
        batch = None if is_dataset else min(batch_size or 32, x["images"].shape[0])
        input_checks.check_images(self, x["images"], "x['images']", raw=True)
        tokens = x["tokens"]
        input_checks.check_ids(tokens, "x['tokens']", ("B", "L"), "token ids")
        input_checks.check_id_ranges(self, x)
        images_batch, tokens_batch = x["images"].shape[0], tokens.shape[0]
        if None not in (images_batch, tokens_batch) and images_batch != tokens_batch:
            raise ValueError(
                f"`x['images']` holds {images_batch} images but `x['tokens']` "
                f"{tokens_batch} captions; they must be pairs."
            )
        input_checks.check_batch(self, batch or images_batch, "x")
        input_checks.check_labels(self, y, "y")

    # ---------------------------------------------------------- serialization
    def get_config(self):
        config = super().get_config()
        config["image_encoder"] = config.pop("backbone")
        config.update(
            text_encoder=keras.saving.serialize_keras_object(self.text_encoder),
            embedding_dim=self.embedding_dim,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("image_encoder", "text_encoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return super().from_config(config)


def _unit_norm(embeddings):
    return keras.layers.UnitNormalization(dtype="float32")(embeddings)


def class_embeddings(encode_text, class_names, templates=CAPTION_TEMPLATES, tokenizer=None):
    """Zero-shot class embeddings: the mean unit-norm text embedding of each
    class's prompts, re-normalized (CLIP's prompt ensembling).

    Args:
        encode_text: a callable from token ids to unit-norm embeddings:
            `CLIP.encode_text`, or the text tower of `load_clip_towers`.
        class_names: sequence of class names.
        templates: format strings with one `{}` for the class name.
        tokenizer: the callable from strings to token ids the text encoder
            was trained with.

    Returns:
        float32 NumPy `(len(class_names), D)` unit-norm class embeddings.
    """
    if tokenizer is None:
        raise ValueError(
            "Pass `tokenizer=`, the callable from strings to token ids the text "
            "encoder was trained with (e.g. `keras_ssl.data.caption_tokenizer(captions)`)."
        )
    class_names = list(class_names)
    if not class_names or not all(isinstance(c, str) for c in class_names):
        raise ValueError(
            f"`class_names` must be a non-empty sequence of strings. Received: {class_names!r}"
        )
    if not templates or any("{}" not in t for t in templates):
        raise ValueError(
            "`templates` must be a non-empty sequence of strings with one `{}`. "
            f"Received: templates={templates!r}"
        )
    prompts = [template.format(name) for name in class_names for template in templates]
    tokens = np.asarray(tokenizer(prompts)).astype("int32")
    embeddings = np.asarray(encode_text(tokens), "float32")
    embeddings = embeddings.reshape(len(class_names), len(templates), -1).mean(axis=1)
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


def load_clip_towers(path):
    """`(image_tower, text_tower)` of a CLIP export (`CLIP.export_encoder`),
    each as `keras_ssl.load_encoder` returns it: images in [0, 255] -> joint
    embeddings, int token ids -> joint embeddings."""
    towers = tuple(os.path.join(path, name) for name in ("image", "text"))
    if not all(os.path.isdir(tower) for tower in towers):
        raise ValueError(
            f"No CLIP export at path={path!r}: expected the folders image/ and text/ "
            "that `CLIP.export_encoder` writes."
        )
    return tuple(export.load_encoder(tower) for tower in towers)
