"""A small causal Transformer text encoder, CLIP's text tower in miniature
(Radford et al. 2021, "Learning Transferable Visual Models From Natural
Language Supervision", https://arxiv.org/abs/2103.00020)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Sum of a token embedding and a learned position embedding.

    Args:
        vocabulary_size: number of token ids (0 is padding).
        sequence_length: number of positions.
        width: embedding width.

    Call arguments:
        tokens: int `(B, L)` token ids, `L <= sequence_length`.

    Returns:
        `(B, L, width)` embeddings.
    """

    def __init__(self, vocabulary_size, sequence_length, width, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.width = width
        self.tokens = keras.layers.Embedding(
            vocabulary_size,
            width,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="tokens",
        )
        self.positions = self.add_weight(
            shape=(sequence_length, width),
            initializer=keras.initializers.RandomNormal(stddev=0.01),
            name="positions",
        )

    def build(self, input_shape):
        self.tokens.build(input_shape)

    def call(self, tokens):
        length = ops.shape(tokens)[1]
        return self.tokens(tokens) + self.positions[:length]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.width,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            sequence_length=self.sequence_length,
            width=self.width,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ssl")
class LastTokenPooling(keras.layers.Layer):
    """Features of each sequence's last non-padding token (CLIP's EOS token).

    Call arguments:
        inputs: a list `[features, tokens]`, `(B, L, D)` and int `(B, L)`
            with padding id 0 at the end (as `TextVectorization` pads).

    Returns:
        `(B, D)`: `features[b, n_b - 1]`, `n_b` the number of non-padding
        tokens of row `b` (position 0 for an empty row).
    """

    def call(self, inputs):
        features, tokens = inputs
        lengths = ops.sum(ops.cast(ops.not_equal(tokens, 0), "int32"), axis=1)
        last = ops.maximum(lengths - 1, 0)
        return ops.take_along_axis(features, last[:, None, None], axis=1)[:, 0]

    def compute_output_shape(self, input_shape):
        features_shape, _ = input_shape
        return (features_shape[0], features_shape[-1])


def text_transformer(
    vocabulary_size,
    sequence_length,
    width=256,
    num_layers=4,
    num_heads=4,
    mlp_ratio=4,
    dropout=0.0,
    name="text_transformer",
):
    """Builds a causal pre-LayerNorm Transformer from token ids to a vector.

    CLIP's text encoder shape at a small size: token + learned position
    embeddings, `num_layers` blocks of `x + MHA(LN(x))` with a causal mask
    and `x + MLP(LN(x))` (GELU), a final LayerNorm, and the features of the
    last non-padding token (CLIP's end-of-text token) as the sentence vector.
    The paper's encoder has 12 layers, width 512, 8 heads, context 76
    (docs/methods.md, CLIP); the defaults here suit captions of a few words
    on a CPU. Token ids come from `keras.layers.TextVectorization` (padding
    0 at the end), e.g. `keras_ssl.data.caption_tokenizer`.

    Args:
        vocabulary_size: number of token ids, padding 0 included.
        sequence_length: longest token sequence.
        width: model width, divisible by `num_heads`.
        num_layers: Transformer blocks.
        num_heads: attention heads.
        mlp_ratio: hidden width of each block's MLP over `width`.
        dropout: dropout rate in attention and MLP.
        name: name of the returned model.

    Returns:
        A functional `keras.Model` from int `(B, sequence_length)` token ids to
        `(B, width)` features.

    Example:

    ```python
    encoder = keras_ssl.backbones.text_transformer(1000, 16, width=128, num_layers=2)
    features = encoder(tokens)  # tokens: int32 (B, 16) -> (B, 128)
    ```
    """
    for arg, value in (
        ("vocabulary_size", vocabulary_size),
        ("sequence_length", sequence_length),
        ("width", width),
        ("num_layers", num_layers),
        ("num_heads", num_heads),
    ):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{arg}` must be a positive int. Received: {arg}={value!r}")
    if width % num_heads:
        raise ValueError(
            f"`width` must be divisible by `num_heads`. Received: width={width}, "
            f"num_heads={num_heads}"
        )
    tokens = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = TokenAndPositionEmbedding(vocabulary_size, sequence_length, width, name="embedding")(
        tokens
    )
    for i in range(num_layers):
        h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"block{i}_ln1")(x)
        h = keras.layers.MultiHeadAttention(
            num_heads, width // num_heads, dropout=dropout, name=f"block{i}_attention"
        )(h, h, use_causal_mask=True)
        x = keras.layers.Add(name=f"block{i}_add1")([x, h])
        h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"block{i}_ln2")(x)
        h = keras.layers.Dense(mlp_ratio * width, activation="gelu", name=f"block{i}_fc1")(h)
        h = keras.layers.Dense(width, name=f"block{i}_fc2")(h)
        h = keras.layers.Dropout(dropout, name=f"block{i}_dropout")(h)
        x = keras.layers.Add(name=f"block{i}_add2")([x, h])
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_ln")(x)
    outputs = LastTokenPooling(name="last_token")([x, tokens])
    return keras.Model(tokens, outputs, name=name)
